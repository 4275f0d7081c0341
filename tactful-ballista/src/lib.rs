//! # tactful-ballista
//!
//! tactful's exact scoring on [Apache Ballista](https://datafusion.apache.org/ballista/):
//! the aggregate functions of [`tactful_datafusion`] (`tactful_profile`,
//! `tactful_segments`, `tactful_scores`, `tactful_refusals`) run by a
//! distributed scheduler and its executors, with the same answers as the
//! single-process [`tactful::Engine`].
//!
//! Two ways to run:
//! - **standalone**: [`standalone_context`] starts a scheduler and an
//!   executor inside this process;
//! - **cluster**: the binaries `tactful-scheduler` and `tactful-executor`
//!   (Ballista's own, with the tactful functions made known to them), and a
//!   client from [`remote_context`].
//!
//! ## Quick example
//! ```no_run
//! use tactful_ballista::{standalone_context, Setup, StandaloneOptions};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let setup = Setup::from_file("engine.json", "2023-11-14T22:13:20Z")?;
//! let ctx = standalone_context(&setup, StandaloneOptions::default()).await?;
//! // Ballista ships plans, not data: tables are files every executor can read.
//! ctx.register_csv("facts", "facts/", Default::default()).await?;
//! ctx.sql(
//!     "SELECT person, tactful_profile(kind, interest, at, weight, detail, until) AS p
//!      FROM facts GROUP BY person",
//! )
//! .await?
//! .show()
//! .await?;
//! # Ok(())
//! # }
//! ```
//! The rows are tactful-datafusion's *facts* (events, consent grants and
//! withdrawals, suppressions, erasures, one row each, see its crate docs);
//! `engine.json` is an [`EngineConfig`](tactful::config::EngineConfig)
//! (taxonomy, decay policy, segments).
//!
//! ## Concepts
//! **Every process builds the functions itself.** Ballista sends a plan's
//! aggregate functions by name; each process looks the name up in its own
//! registry. So the client, the scheduler and every executor are given the
//! same [`Setup`]: the engine configuration file, `now`, and the functions'
//! options. A partial profile encoded by an executor with another taxonomy
//! is refused when merged (its bytes name the engine), never mixed in; a
//! different `now` or policy is not detected, so start a cluster from one
//! settings file.
//!
//! | setting | flag | environment | default |
//! |---|---|---|---|
//! | engine configuration (JSON file) | `--engine-config PATH` | [`TACTFUL_ENGINE_CONFIG`](ENGINE_CONFIG_ENV) | required |
//! | the instant answers are for (RFC 3339) | `--now 2023-11-14T22:13:20Z` | [`TACTFUL_NOW`](NOW_ENV) | required |
//! | integer interest keys (file, one path a line) | `--interest-keys PATH` | [`TACTFUL_INTEREST_KEYS`](INTEREST_KEYS_ENV) | paths as text only |
//! | level every profile starts at | `--level first_party` | [`TACTFUL_LEVEL`](LEVEL_ENV) | `first_party` |
//! | evidence of consent rows | `--evidence warehouse` | [`TACTFUL_EVIDENCE`](EVIDENCE_ENV) | `datafusion` |
//! | unreadable rows fail the query | `--strict true` | [`TACTFUL_STRICT`](STRICT_ENV) | `false` (counted) |
//!
//! **How the functions reach Ballista** (Ballista 55):
//! - the scheduler plans with the session its session builder makes
//!   (`SchedulerConfig::override_session_builder`): Ballista's default
//!   state plus the tactful functions ([`Setup::session_state`]);
//! - an executor decodes its tasks with its function registry
//!   (`ExecutorProcessConfig::override_function_registry`): Ballista's
//!   built-ins plus the tactful functions ([`Setup::function_registry`]);
//! - a client registers them on the state it hands to Ballista *and* on the
//!   context Ballista returns, because Ballista's `upgrade_for_ballista`
//!   resets the client's aggregate functions to the built-ins.
//!
//! Why not `SessionContext::standalone()` then `register_udaf`: the
//! in-process scheduler is then built from Ballista's default state, which
//! lacks the functions; decoding the plan falls back to the logical codec,
//! and the default one refuses with `This feature is not implemented:
//! LogicalExtensionCodec is not provided for aggregate function
//! tactful_profile` (datafusion-proto 55.2, `logical_plan/mod.rs`,
//! `try_decode_udaf`). [`standalone_context`] builds the cluster from a
//! state that has them.
//!
//! ## Cookbook: a cluster on one machine
//! ```text
//! cargo build --release -p tactful-ballista --bins
//! export TACTFUL_ENGINE_CONFIG=engine.json TACTFUL_NOW=2023-11-14T22:13:20Z
//! target/release/tactful-scheduler --bind 127.0.0.1:50050 --min-ready-executors 2 &
//! target/release/tactful-executor --flight-port 50051 --grpc-port 50052 \
//!     --scheduler-port 50050 --work-dir /tmp/executor-1 &
//! target/release/tactful-executor --flight-port 50061 --grpc-port 50062 \
//!     --scheduler-port 50050 --work-dir /tmp/executor-2 &
//! curl http://127.0.0.1:50050/readyz     # 200 "ready: 2 executors registered"
//! ```
//! `RUST_LOG=info` prints Ballista's log to stderr. Then, from Rust:
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let setup = tactful_ballista::Setup::from_env()?;
//! let ctx = tactful_ballista::remote_context("df://127.0.0.1:50050", &setup).await?;
//! ctx.register_csv("facts", "/data/facts/", Default::default()).await?;
//! let batches = ctx
//!     .sql("SELECT person, tactful_segments(kind, interest, at, weight, detail, until) AS segments
//!           FROM facts GROUP BY person")
//!     .await?
//!     .collect()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//! The files must be at the same path for the client, the scheduler and
//! every executor (a shared disk, or an object store Ballista can read).
//!
//! ## Errors
//! | what | when |
//! |---|---|
//! | [`Error::Read`], [`Error::Config`], [`Error::Now`], [`Error::InterestKeys`] | building a [`Setup`]: a missing file, an invalid configuration (naming the field), a `now` not in RFC 3339, an interest key the taxonomy lacks |
//! | [`Error::Missing`], [`Error::Usage`] | a binary's settings: a required one given nowhere, a flag not understood |
//! | [`Error::DataFusion`], [`Error::Ballista`] | starting a context, a scheduler or an executor |
//!
//! Query errors (an unreadable row under `--strict true`, bytes from another
//! engine) come back from `collect` as DataFusion errors naming the problem.
//! Nothing here panics.

mod cluster;
mod context;
mod error;
mod setup;

pub mod cli;

pub use cluster::{run_executor, ExecutorOptions, Scheduler, SchedulerOptions};
pub use context::{remote_context, standalone_context, StandaloneOptions};
pub use error::Error;
pub use setup::{
    Setup, ENGINE_CONFIG_ENV, EVIDENCE_ENV, INTEREST_KEYS_ENV, LEVEL_ENV, NOW_ENV, STRICT_ENV,
};

#[cfg(test)]
mod meta {
    use super::*;

    fn shareable<T: Send + Sync + std::fmt::Debug + Clone>() {}
    fn sendable<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_and_debug() {
        shareable::<Setup>();
        shareable::<StandaloneOptions>();
        shareable::<SchedulerOptions>();
        shareable::<ExecutorOptions>();
        shareable::<cli::Flags>();
        sendable::<Error>();
        sendable::<Scheduler>();
    }
}
