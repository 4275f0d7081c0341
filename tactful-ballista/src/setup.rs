//! What every process of a cluster must agree on: the engine (taxonomy,
//! policy, segments), the instant `now` and the functions' options, and the
//! tactful functions built from them.

use std::path::Path;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion::logical_expr::AggregateUDF;
use datafusion::prelude::{SessionConfig, SessionContext};
use tactful::config::EngineConfig;
use tactful::{Engine, Evidence, Level};
use tactful_datafusion::TactfulFunctions;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::Error;

/// The environment variable naming the engine configuration file (JSON, the
/// format of [`tactful::config::EngineConfig`]); flag `--engine-config`.
pub const ENGINE_CONFIG_ENV: &str = "TACTFUL_ENGINE_CONFIG";
/// The environment variable holding `now` as an RFC 3339 instant; flag `--now`.
pub const NOW_ENV: &str = "TACTFUL_NOW";
/// The environment variable naming a file of interest paths, one a line:
/// line `k` (from 0) is what integer key `k` in an `interest` column names;
/// flag `--interest-keys`. Optional.
pub const INTEREST_KEYS_ENV: &str = "TACTFUL_INTEREST_KEYS";
/// The environment variable holding the level every profile starts at
/// (`off`, `declared`, `first_party`, `full`); flag `--level`. Default
/// `first_party`.
pub const LEVEL_ENV: &str = "TACTFUL_LEVEL";
/// The environment variable holding the name recorded as the evidence of
/// consent rows (`Evidence::Import(name)`); flag `--evidence`. Default
/// `datafusion`.
pub const EVIDENCE_ENV: &str = "TACTFUL_EVIDENCE";
/// The environment variable saying whether an unreadable row fails the
/// query (`true`) or is counted (`false`, the default); flag `--strict`.
pub const STRICT_ENV: &str = "TACTFUL_STRICT";

/// The engine, the instant and the options the tactful functions answer
/// with, and the functions themselves.
///
/// The client, the scheduler and every executor must be given the same
/// settings: each process builds its own copy of the functions from them,
/// and Ballista ships only the functions' names. A partial profile built
/// under another engine is refused when merged (its bytes name the
/// taxonomy), never mixed in.
///
/// # Example
/// ```
/// use tactful::Level;
/// use tactful_ballista::Setup;
///
/// let json = r#"{"taxonomy": {"interests": [{"path": "c00/i000"}]}}"#;
/// let setup = Setup::from_json(json, "2023-11-14T22:13:20Z")?
///     .level(Level::FirstParty)
///     .interest_keys(["c00/i000", "c00"])?;
/// assert_eq!(setup.now().unix_timestamp(), 1_700_000_000);
/// let names: Vec<String> = setup.aggregate_functions().iter().map(|f| f.name().to_owned()).collect();
/// assert!(names.contains(&"tactful_profile".to_owned()));
/// # Ok::<(), tactful_ballista::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Setup {
    engine: Arc<Engine>,
    now: OffsetDateTime,
    functions: TactfulFunctions,
}

impl Setup {
    /// A setup from an engine already built, with the functions' defaults
    /// (see [`TactfulFunctions::new`]).
    #[must_use]
    pub fn new(engine: Engine, now: OffsetDateTime) -> Self {
        let engine = Arc::new(engine);
        Self {
            functions: TactfulFunctions::new(Arc::clone(&engine), now),
            engine,
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
    /// [`Error::Read`] when the file cannot be read, otherwise as
    /// [`Setup::from_json`].
    pub fn from_file(engine_config: impl AsRef<Path>, now: &str) -> Result<Self, Error> {
        Self::from_json(&read(engine_config.as_ref())?, now)
    }

    /// A setup from the environment: [`ENGINE_CONFIG_ENV`] and [`NOW_ENV`],
    /// and where set [`INTEREST_KEYS_ENV`], [`LEVEL_ENV`], [`EVIDENCE_ENV`]
    /// and [`STRICT_ENV`].
    ///
    /// # Errors
    /// [`Error::Missing`] when a required variable is not set, [`Error::Usage`]
    /// when a value does not parse, otherwise as [`Setup::from_file`] and
    /// [`Setup::interest_keys_file`].
    pub fn from_env() -> Result<Self, Error> {
        Self::from_settings(|_, env| std::env::var(env).ok())
    }

    /// Reads each setting from `get(flag, env)`, as the binaries and
    /// [`Setup::from_env`] do.
    pub(crate) fn from_settings(
        get: impl Fn(&'static str, &'static str) -> Option<String>,
    ) -> Result<Self, Error> {
        let required =
            |setting, flag, env| get(flag, env).ok_or(Error::Missing { setting, flag, env });
        let path = required("the engine config", "engine-config", ENGINE_CONFIG_ENV)?;
        let now = required("now", "now", NOW_ENV)?;
        let mut setup = Self::from_file(path, &now)?;
        if let Some(keys) = get("interest-keys", INTEREST_KEYS_ENV) {
            setup = setup.interest_keys_file(keys)?;
        }
        if let Some(level) = get("level", LEVEL_ENV) {
            let level: Level = serde_json::from_value(serde_json::Value::String(level.clone()))
                .map_err(|e| Error::Usage(format!("level {level:?}: {e}")))?;
            setup = setup.level(level);
        }
        if let Some(name) = get("evidence", EVIDENCE_ENV) {
            setup = setup.evidence(Evidence::Import(name));
        }
        if let Some(strict) = get("strict", STRICT_ENV) {
            let strict = strict
                .parse()
                .map_err(|e| Error::Usage(format!("strict {strict:?}: {e}")))?;
            setup = setup.strict(strict);
        }
        Ok(setup)
    }

    /// The level every profile starts at (default [`Level::FirstParty`]).
    #[must_use]
    pub fn level(self, level: Level) -> Self {
        self.map(|f| f.level(level))
    }

    /// The evidence recorded with consent rows (default
    /// `Evidence::Import("datafusion")`).
    #[must_use]
    pub fn evidence(self, evidence: Evidence) -> Self {
        self.map(|f| f.evidence(evidence))
    }

    /// Whether an unreadable row fails the query (default: counted).
    #[must_use]
    pub fn strict(self, strict: bool) -> Self {
        self.map(|f| f.strict(strict))
    }

    /// Integer interest keys: key `k` names the `k`-th path.
    ///
    /// # Errors
    /// [`Error::InterestKeys`] naming the first path the taxonomy lacks.
    pub fn interest_keys<I, S>(self, paths: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let functions = self.functions.interest_keys(paths)?;
        Ok(Self { functions, ..self })
    }

    /// Integer interest keys from a file of paths, one a line (blank lines
    /// and surrounding spaces ignored).
    ///
    /// # Errors
    /// [`Error::Read`] when the file cannot be read, otherwise as
    /// [`Setup::interest_keys`].
    pub fn interest_keys_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let text = read(path.as_ref())?;
        self.interest_keys(text.lines().map(str::trim).filter(|l| !l.is_empty()))
    }

    fn map(self, f: impl FnOnce(TactfulFunctions) -> TactfulFunctions) -> Self {
        Self {
            functions: f(self.functions),
            ..self
        }
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

    /// The tactful functions (tactful-datafusion's), as configured.
    #[must_use]
    pub fn functions(&self) -> &TactfulFunctions {
        &self.functions
    }

    /// The tactful aggregate functions, ready for a function registry.
    #[must_use]
    pub fn aggregate_functions(&self) -> Vec<Arc<AggregateUDF>> {
        self.functions.udafs().into_iter().map(Arc::new).collect()
    }

    /// Registers the tactful functions on a context.
    pub fn register(&self, ctx: &SessionContext) {
        self.functions.register(ctx);
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

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse_now(value: &str) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|source| Error::Now {
        value: value.to_owned(),
        source,
    })
}
