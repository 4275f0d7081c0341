//! A Ballista scheduler whose sessions know the tactful functions.
//!
//! ```text
//! tactful-scheduler --engine-config engine.json --now 2023-11-14T22:13:20Z \
//!     [--bind 127.0.0.1:50050] [--min-ready-executors 1]
//! ```
//! `TACTFUL_ENGINE_CONFIG` and `TACTFUL_NOW` stand in for the first two flags.
//! Prints `tactful-scheduler listening on ADDR` once the port is bound;
//! `GET /readyz` on that port answers 200 once enough executors joined.

use std::net::SocketAddr;
use std::process::ExitCode;

use ballista_core::error::BallistaError;
use tactful_ballista::cli::{Flags, SETUP_FLAGS};
use tactful_ballista::{Error, Scheduler, SchedulerOptions};

const FLAGS: &[&str] = &["bind", "min-ready-executors"];

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tactful-scheduler: {e}");
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
