//! A Ballista scheduler whose sessions know the tactful functions.
//!
//! ```text
//! tactful-scheduler --engine-config engine.json --now 2023-11-14T22:13:20Z \
//!     [--interest-keys keys.txt] [--level first_party] [--evidence NAME] [--strict true] \
//!     [--bind 127.0.0.1:50050] [--min-ready-executors 1]
//! ```
//! `TACTFUL_ENGINE_CONFIG`, `TACTFUL_NOW`, `TACTFUL_INTEREST_KEYS`,
//! `TACTFUL_LEVEL`, `TACTFUL_EVIDENCE` and `TACTFUL_STRICT` stand in for the
//! settings flags, which must be the executors' and the clients'.
//! Prints `tactful-scheduler listening on ADDR` once the port is bound;
//! `GET /readyz` on that port answers 200 once enough executors joined.

use std::net::SocketAddr;
use std::process::ExitCode;

use ballista_core::error::BallistaError;
use tactful_ballista::cli::{Flags, SETUP_FLAGS};
use tactful_ballista::{Error, Scheduler, SchedulerOptions};

const FLAGS: &[&str] = &["bind", "min-ready-executors"];

const USAGE: &str = "usage: tactful-scheduler --engine-config PATH --now RFC3339 \
[--interest-keys PATH] [--level LEVEL] [--evidence NAME] [--strict BOOL] \
[--bind HOST:PORT] [--min-ready-executors N]";

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tactful-scheduler: {e}");
            if matches!(e, Error::Usage(_) | Error::Missing { .. }) {
                eprintln!("{USAGE}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let known: Vec<&str> = SETUP_FLAGS.iter().chain(FLAGS).copied().collect();
    let flags = Flags::parse(std::env::args().skip(1), &known)?;
    let setup = flags.setup()?;
    let defaults = SchedulerOptions::default();
    let options = defaults
        .address(flags.value_or("bind", SocketAddr::from(([127, 0, 0, 1], 50050)))?)
        .min_ready_executors(flags.value_or("min-ready-executors", 1)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BallistaError::from)?;
    runtime.block_on(async {
        let scheduler = Scheduler::bind(&setup, options).await?;
        println!("tactful-scheduler listening on {}", scheduler.local_addr()?);
        scheduler.serve().await
    })
}
