//! Client contexts: a standalone cluster in this process, or a connection to
//! a remote scheduler, each with the tactful functions registered.

use std::num::NonZeroUsize;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::{Error, Setup};

/// How a standalone cluster is sized.
///
/// # Example
/// ```
/// use std::num::NonZeroUsize;
/// use tactful_ballista::StandaloneOptions;
///
/// let two = NonZeroUsize::new(2).unwrap_or(NonZeroUsize::MIN);
/// let options = StandaloneOptions::default().parallelism(two).target_partitions(two);
/// assert_eq!(options.get_parallelism(), two);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StandaloneOptions {
    parallelism: NonZeroUsize,
    target_partitions: NonZeroUsize,
}

impl Default for StandaloneOptions {
    /// As many task slots and partitions as the machine has cores.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        Self {
            parallelism: cores,
            target_partitions: cores,
        }
    }
}

impl StandaloneOptions {
    /// How many tasks the in-process executor runs at once.
    #[must_use]
    pub fn parallelism(self, parallelism: NonZeroUsize) -> Self {
        Self {
            parallelism,
            ..self
        }
    }

    /// How many partitions each stage is split into.
    #[must_use]
    pub fn target_partitions(self, target_partitions: NonZeroUsize) -> Self {
        Self {
            target_partitions,
            ..self
        }
    }

    /// How many tasks the in-process executor runs at once.
    #[must_use]
    pub fn get_parallelism(&self) -> NonZeroUsize {
        self.parallelism
    }

    /// How many partitions each stage is split into.
    #[must_use]
    pub fn get_target_partitions(&self) -> NonZeroUsize {
        self.target_partitions
    }
}

/// Starts a Ballista scheduler and executor in this process and returns a
/// context that runs its queries on them, with the tactful functions known
/// to all three.
///
/// The functions are registered on the state the scheduler and executor are
/// built from, and again on the returned context: Ballista's
/// `upgrade_for_ballista` resets the client's aggregate functions to the
/// built-ins.
///
/// Ballista ships plans, not data: register tables as files
/// (`register_csv`, `register_parquet`), not as memory tables.
///
/// # Errors
/// [`Error::DataFusion`] when Ballista cannot start the cluster.
///
/// # Example
/// ```no_run
/// use tactful_ballista::{standalone_context, Setup, StandaloneOptions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let setup = Setup::from_file("engine.json", "2023-11-14T22:13:20Z")?;
/// let ctx = standalone_context(&setup, StandaloneOptions::default()).await?;
/// ctx.register_csv("facts", "facts.csv", Default::default()).await?;
/// ctx.sql("SELECT count(*) FROM facts").await?.show().await?;
/// # Ok(())
/// # }
/// ```
pub async fn standalone_context(
    setup: &Setup,
    options: StandaloneOptions,
) -> Result<SessionContext, Error> {
    let config = SessionConfig::new_with_ballista()
        .with_target_partitions(options.target_partitions.get())
        .with_ballista_standalone_parallelism(options.parallelism.get());
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build();
    setup.register_on_state(&mut state)?;
    let ctx = SessionContext::standalone_with_state(state).await?;
    setup.register(&ctx);
    Ok(ctx)
}

/// A context that runs its queries on a remote Ballista scheduler
/// (`df://host:port`) whose scheduler and executors were started with
/// `tactful-scheduler` and `tactful-executor` and the same [`Setup`].
///
/// # Errors
/// [`Error::DataFusion`] when the URL is invalid. The scheduler is first
/// contacted when a query runs.
///
/// # Example
/// ```no_run
/// use tactful_ballista::{remote_context, Setup};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let setup = Setup::from_file("engine.json", "2023-11-14T22:13:20Z")?;
/// let ctx = remote_context("df://127.0.0.1:50050", &setup).await?;
/// # Ok(())
/// # }
/// ```
pub async fn remote_context(url: &str, setup: &Setup) -> Result<SessionContext, Error> {
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(SessionConfig::new_with_ballista())
        .build();
    setup.register_on_state(&mut state)?;
    let ctx = SessionContext::remote_with_state(url, state).await?;
    setup.register(&ctx);
    Ok(ctx)
}
