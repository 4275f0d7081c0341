//! tactful on Apache Ballista (work in progress on branch df).

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
