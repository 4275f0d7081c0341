//! What every process of a cluster must agree on: the engine (taxonomy,
//! policy, segments) and the instant `now`, and the tactful functions built
//! from them.

use std::path::Path;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion::logical_expr::AggregateUDF;
use datafusion::prelude::{SessionConfig, SessionContext};
use tactful::config::EngineConfig;
use tactful::Engine;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::Error;

/// The environment variable naming the engine configuration file (JSON, the
/// format of [`tactful::config::EngineConfig`]).
pub const ENGINE_CONFIG_ENV: &str = "TACTFUL_ENGINE_CONFIG";
/// The environment variable holding `now` as an RFC 3339 instant.
pub const NOW_ENV: &str = "TACTFUL_NOW";

/// The engine and the instant the tactful functions answer for.
///
/// The client, the scheduler and every executor must be given the same
/// configuration file and the same `now`: each process builds its own copy of
/// the functions from them, and Ballista ships only the functions' names.
///
/// # Example
/// ```
/// use tactful_ballista::Setup;
///
/// let json = r#"{"taxonomy": {"interests": [{"path": "c00/i000"}]}}"#;
/// let setup = Setup::from_json(json, "2023-11-14T22:13:20Z")?;
/// assert_eq!(setup.now().unix_timestamp(), 1_700_000_000);
/// # Ok::<(), tactful_ballista::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Setup {
    engine: Arc<Engine>,
    now: OffsetDateTime,
}

impl Setup {
    /// A setup from an engine already built.
    #[must_use]
    pub fn new(engine: Engine, now: OffsetDateTime) -> Self {
        Self {
            engine: Arc::new(engine),
            now,
        }
    }

    /// A setup from the text of an engine configuration and `now` in RFC 3339.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid (the message names
    /// the field), [`Error::Now`] when `now` is not RFC 3339.
    pub fn from_json(engine_config_json: &str, now: &str) -> Result<Self, Error> {
        let engine = EngineConfig::from_json(engine_config_json)?.into_engine()?;
        Ok(Self::new(engine, parse_now(now)?))
    }

    /// A setup from an engine configuration file and `now` in RFC 3339.
    ///
    /// # Errors
    /// [`Error::ReadConfig`] when the file cannot be read, otherwise as
    /// [`Setup::from_json`].
    pub fn from_file(engine_config: impl AsRef<Path>, now: &str) -> Result<Self, Error> {
        let path = engine_config.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&json, now)
    }

    /// A setup from the files named by [`ENGINE_CONFIG_ENV`] and [`NOW_ENV`].
    ///
    /// # Errors
    /// [`Error::Missing`] when a variable is not set, otherwise as
    /// [`Setup::from_file`].
    pub fn from_env() -> Result<Self, Error> {
        let path = std::env::var_os(ENGINE_CONFIG_ENV).ok_or(Error::Missing {
            setting: "the engine config",
            flag: "--engine-config",
            env: ENGINE_CONFIG_ENV,
        })?;
        let now = std::env::var(NOW_ENV).map_err(|_| Error::Missing {
            setting: "now",
            flag: "--now",
            env: NOW_ENV,
        })?;
        Self::from_file(path, &now)
    }

    /// The engine.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The instant the functions answer for.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The tactful aggregate functions for this engine and `now`.
    #[must_use]
    pub fn aggregate_functions(&self) -> Vec<Arc<AggregateUDF>> {
        vec![Arc::new(crate::stub::stub_count())]
    }

    /// Registers the tactful functions on a context.
    pub fn register(&self, ctx: &SessionContext) {
        for f in self.aggregate_functions() {
            ctx.register_udaf(f.as_ref().clone());
        }
    }

    /// Registers the tactful functions on a session state.
    ///
    /// # Errors
    /// [`Error::DataFusion`] when DataFusion refuses a registration.
    pub fn register_on_state(&self, state: &mut SessionState) -> Result<(), Error> {
        for f in self.aggregate_functions() {
            state.register_udaf(f)?;
        }
        Ok(())
    }

    /// Ballista's default session state for `config`, with the tactful
    /// functions: what the scheduler plans with.
    ///
    /// # Errors
    /// [`Error::DataFusion`] when the state cannot be built.
    pub fn session_state(&self, config: SessionConfig) -> Result<SessionState, Error> {
        let mut state = default_session_builder(config)?;
        self.register_on_state(&mut state)?;
        Ok(state)
    }

    /// Ballista's built-in functions and the tactful ones: what an executor
    /// decodes its tasks with.
    #[must_use]
    pub fn function_registry(&self) -> BallistaFunctionRegistry {
        let mut registry = BallistaFunctionRegistry::default();
        for f in self.aggregate_functions() {
            registry.aggregate_functions.insert(f.name().to_owned(), f);
        }
        registry
    }
}

fn parse_now(value: &str) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|source| Error::Now {
        value: value.to_owned(),
        source,
    })
}
