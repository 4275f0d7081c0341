//! A Ballista executor that knows the tactful functions.
//!
//! ```text
//! tactful-executor --engine-config engine.json --now 2023-11-14T22:13:20Z \
//!     [--interest-keys keys.txt] [--level first_party] [--evidence NAME] [--strict true] \
//!     [--host 127.0.0.1] [--flight-port 50051] [--grpc-port 50052] \
//!     [--scheduler-host 127.0.0.1] [--scheduler-port 50050] \
//!     [--concurrent-tasks 0] [--work-dir DIR]
//! ```
//! `TACTFUL_ENGINE_CONFIG`, `TACTFUL_NOW`, `TACTFUL_INTEREST_KEYS`,
//! `TACTFUL_LEVEL`, `TACTFUL_EVIDENCE` and `TACTFUL_STRICT` stand in for the
//! settings flags, which must be the scheduler's and the clients'.
//! `RUST_LOG=info` prints Ballista's log to stderr.

use std::process::ExitCode;

use ballista_core::error::BallistaError;
use tactful_ballista::cli::{Flags, SETUP_FLAGS};
use tactful_ballista::{run_executor, Error, ExecutorOptions};

const FLAGS: &[&str] = &[
    "host",
    "flight-port",
    "grpc-port",
    "scheduler-host",
    "scheduler-port",
    "concurrent-tasks",
    "work-dir",
];

const USAGE: &str = "usage: tactful-executor --engine-config PATH --now RFC3339 \
[--interest-keys PATH] [--level LEVEL] [--evidence NAME] [--strict BOOL] \
[--host HOST] [--flight-port PORT] [--grpc-port PORT] [--scheduler-host HOST] \
[--scheduler-port PORT] [--concurrent-tasks N] [--work-dir DIR]";

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tactful-executor: {e}");
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
    let mut options = ExecutorOptions::default()
        .host(flags.value_or("host", "127.0.0.1".to_owned())?)
        .flight_port(flags.value_or("flight-port", 50051)?)
        .grpc_port(flags.value_or("grpc-port", 50052)?)
        .scheduler(
            flags.value_or("scheduler-host", "127.0.0.1".to_owned())?,
            flags.value_or("scheduler-port", 50050)?,
        )
        .concurrent_tasks(flags.value_or("concurrent-tasks", 0)?);
    if let Some(dir) = flags.get("work-dir") {
        options = options.work_dir(dir);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BallistaError::from)?;
    println!("tactful-executor starting: {options:?}");
    runtime.block_on(run_executor(&setup, &options))
}
