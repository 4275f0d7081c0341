//! The one error type of this crate: what went wrong while setting up the
//! tactful functions or a Ballista process.

use std::path::PathBuf;

use ballista_core::error::BallistaError;
use datafusion::error::DataFusionError;
use thiserror::Error;

/// Why a context, a scheduler or an executor was not started.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A settings file (the engine configuration, the interest keys) could
    /// not be read: check the path given with the flag or variable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The engine configuration is not valid; the message names the field.
    #[error("engine config: {0}")]
    Config(#[from] tactful::config::ConfigError),
    /// An interest key names a path the engine's taxonomy does not have:
    /// the keys file and the engine configuration disagree.
    #[error(transparent)]
    InterestKeys(#[from] tactful_datafusion::InterestKeysError),
    /// `now` is not an RFC 3339 instant such as `2023-11-14T22:13:20Z`.
    #[error("now {value:?} is not an RFC 3339 instant: {source}")]
    Now {
        /// The text that was given.
        value: String,
        /// What the parser said.
        #[source]
        source: time::error::Parse,
    },
    /// A required setting was given neither as a flag nor in the environment.
    #[error("{setting} is missing: pass --{flag} or set {env}")]
    Missing {
        /// What the setting is.
        setting: &'static str,
        /// The command-line flag that sets it (without `--`).
        flag: &'static str,
        /// The environment variable that sets it.
        env: &'static str,
    },
    /// A command-line argument was not understood; the message says which.
    #[error("{0}")]
    Usage(String),
    /// DataFusion refused the registration or the session.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// Ballista failed to start or to serve.
    #[error(transparent)]
    Ballista(#[from] BallistaError),
}
