//! The scheduler and executor processes of a Ballista cluster that knows the
//! tactful functions: what `tactful-scheduler` and `tactful-executor` run.
//!
//! Ballista sends a plan's aggregate functions by name. The scheduler looks
//! them up in the session its session builder makes
//! ([`SchedulerConfig::override_session_builder`]), an executor in its
//! function registry ([`ExecutorProcessConfig::override_function_registry`]);
//! both are filled from the same [`Setup`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::error::BallistaError;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::error::DataFusionError;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tokio::net::TcpListener;

use crate::{Error, Setup};

/// Where a scheduler listens and when it calls itself ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchedulerOptions {
    address: SocketAddr,
    min_ready_executors: usize,
}

impl Default for SchedulerOptions {
    /// `127.0.0.1:50050` (Ballista's port), ready with one executor.
    fn default() -> Self {
        Self {
            address: SocketAddr::from(([127, 0, 0, 1], 50050)),
            min_ready_executors: 1,
        }
    }
}

impl SchedulerOptions {
    /// The address to listen on; port 0 picks a free port
    /// ([`Scheduler::local_addr`] tells which).
    #[must_use]
    pub fn address(self, address: SocketAddr) -> Self {
        Self { address, ..self }
    }

    /// How many executors must be registered before `GET /readyz` on the
    /// scheduler's port answers 200.
    #[must_use]
    pub fn min_ready_executors(self, min_ready_executors: usize) -> Self {
        Self {
            min_ready_executors,
            ..self
        }
    }
}

/// A scheduler bound to its port, not yet serving.
pub struct Scheduler {
    listener: TcpListener,
    server: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Binds the port and builds a scheduler whose sessions know the
    /// tactful functions of `setup`.
    ///
    /// # Errors
    /// [`Error::Ballista`] when the port cannot be bound or the scheduler
    /// cannot be initialised.
    pub async fn bind(setup: &Setup, options: SchedulerOptions) -> Result<Self, Error> {
        let listener = TcpListener::bind(options.address)
            .await
            .map_err(BallistaError::from)?;
        let local = listener.local_addr().map_err(BallistaError::from)?;
        let setup = setup.clone();
        let mut config = SchedulerConfig::default()
            .with_hostname(local.ip().to_string())
            .with_port(local.port())
            .with_override_session_builder(Arc::new(move |config| {
                setup
                    .session_state(config)
                    .map_err(|e| DataFusionError::External(Box::new(e)))
            }));
        config.bind_host = local.ip().to_string();
        config.min_ready_executors = options.min_ready_executors;
        config.validate()?;
        let cluster = BallistaCluster::new_from_config(&config).await?;
        let server = create_scheduler(cluster, Arc::new(config)).await?;
        Ok(Self { listener, server })
    }

    /// The address the scheduler listens on.
    ///
    /// # Errors
    /// [`Error::Ballista`] when the operating system cannot tell.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr().map_err(BallistaError::from)?)
    }

    /// Serves gRPC (and `/healthz`, `/readyz`) until the process ends.
    ///
    /// # Errors
    /// [`Error::Ballista`] when serving fails.
    pub async fn serve(self) -> Result<(), Error> {
        Ok(start_grpc_service_with_listener(self.listener, self.server).await?)
    }
}

/// Where an executor listens, which scheduler it joins and how much it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutorOptions {
    host: String,
    flight_port: u16,
    grpc_port: u16,
    scheduler_host: String,
    scheduler_port: u16,
    concurrent_tasks: usize,
    work_dir: Option<PathBuf>,
}

impl Default for ExecutorOptions {
    /// Ballista's ports (Flight 50051, gRPC 50052) on `127.0.0.1`, the
    /// scheduler at `127.0.0.1:50050`, one task per core, a temporary work
    /// directory.
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            flight_port: 50051,
            grpc_port: 50052,
            scheduler_host: "127.0.0.1".to_owned(),
            scheduler_port: 50050,
            concurrent_tasks: 0,
            work_dir: None,
        }
    }
}

impl ExecutorOptions {
    /// The host the executor binds and advertises to the scheduler.
    #[must_use]
    pub fn host(self, host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            ..self
        }
    }

    /// The Arrow Flight port (shuffle and result data).
    #[must_use]
    pub fn flight_port(self, flight_port: u16) -> Self {
        Self {
            flight_port,
            ..self
        }
    }

    /// The gRPC port the scheduler pushes tasks to.
    #[must_use]
    pub fn grpc_port(self, grpc_port: u16) -> Self {
        Self { grpc_port, ..self }
    }

    /// The scheduler to join.
    #[must_use]
    pub fn scheduler(self, host: impl Into<String>, port: u16) -> Self {
        Self {
            scheduler_host: host.into(),
            scheduler_port: port,
            ..self
        }
    }

    /// How many tasks run at once; 0 means one per core.
    #[must_use]
    pub fn concurrent_tasks(self, concurrent_tasks: usize) -> Self {
        Self {
            concurrent_tasks,
            ..self
        }
    }

    /// Where shuffle files are written (a temporary directory by default).
    #[must_use]
    pub fn work_dir(self, work_dir: impl Into<PathBuf>) -> Self {
        Self {
            work_dir: Some(work_dir.into()),
            ..self
        }
    }

    /// Ballista's executor configuration for these options, with the tactful
    /// functions of `setup` in its function registry.
    #[must_use]
    pub fn to_config(&self, setup: &Setup) -> ExecutorProcessConfig {
        ExecutorProcessConfig {
            bind_host: self.host.clone(),
            external_host: Some(self.host.clone()),
            port: self.flight_port,
            grpc_port: self.grpc_port,
            scheduler_host: self.scheduler_host.clone(),
            scheduler_port: self.scheduler_port,
            vcores: self.concurrent_tasks,
            work_dir: self
                .work_dir
                .as_ref()
                .map(|d| d.to_string_lossy().into_owned()),
            override_function_registry: Some(Arc::new(setup.function_registry())),
            ..ExecutorProcessConfig::default()
        }
    }
}

/// Runs an executor that knows the tactful functions of `setup` until it is
/// stopped (SIGTERM, Ctrl-C, or the scheduler).
///
/// # Errors
/// [`Error::Ballista`] when the executor cannot reach the scheduler or bind
/// its ports.
pub async fn run_executor(setup: &Setup, options: &ExecutorOptions) -> Result<(), Error> {
    Ok(start_executor_process(Arc::new(options.to_config(setup))).await?)
}
