//! The command-line flags of `tactful-scheduler` and `tactful-executor`:
//! `--name value` or `--name=value`, with the engine configuration and `now`
//! also read from the environment.

use std::str::FromStr;

#[allow(unused_imports)] // named in the docs
use crate::setup::{
    ENGINE_CONFIG_ENV, EVIDENCE_ENV, INTEREST_KEYS_ENV, LEVEL_ENV, NOW_ENV, STRICT_ENV,
};
use crate::{Error, Setup};

/// Parsed `--name value` flags.
///
/// # Example
/// ```
/// use tactful_ballista::cli::Flags;
///
/// let args = ["--port", "50060", "--now=2023-11-14T22:13:20Z"].map(String::from);
/// let flags = Flags::parse(args, &["port", "now"])?;
/// assert_eq!(flags.value_or("port", 50050_u16)?, 50060);
/// assert_eq!(flags.get("now"), Some("2023-11-14T22:13:20Z"));
/// # Ok::<(), tactful_ballista::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    values: Vec<(String, String)>,
}

impl Flags {
    /// Parses `args` (without the program name), accepting only the flags in
    /// `known` (names without the leading `--`).
    ///
    /// # Errors
    /// [`Error::Usage`] for an unknown flag, a flag without a value, or a
    /// stray argument.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        known: &[&str],
    ) -> Result<Self, Error> {
        let mut values = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(Error::Usage(format!("unexpected argument {arg:?}")));
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| Error::Usage(format!("--{flag} needs a value")))?;
                    (flag.to_owned(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(Error::Usage(format!(
                    "unknown flag --{name}; known: --{}",
                    known.join(", --")
                )));
            }
            values.push((name, value));
        }
        Ok(Self { values })
    }

    /// The last value given for `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` parsed, or `default` when it was not given.
    ///
    /// # Errors
    /// [`Error::Usage`] when the value does not parse.
    pub fn value_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, Error>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| Error::Usage(format!("--{name} {v:?}: {e}"))),
        }
    }

    /// The setup from the flags, each falling back to its environment
    /// variable: `--engine-config PATH` ([`ENGINE_CONFIG_ENV`]) and
    /// `--now RFC3339` ([`NOW_ENV`]), required; `--interest-keys PATH`
    /// ([`INTEREST_KEYS_ENV`]), `--level` ([`LEVEL_ENV`]), `--evidence`
    /// ([`EVIDENCE_ENV`]) and `--strict` ([`STRICT_ENV`]), optional.
    ///
    /// # Errors
    /// [`Error::Missing`] when a required setting is given nowhere,
    /// otherwise as [`Setup::from_env`].
    pub fn setup(&self) -> Result<Setup, Error> {
        Setup::from_settings(|flag, env| {
            self.get(flag)
                .map(ToOwned::to_owned)
                .or_else(|| std::env::var(env).ok())
        })
    }
}

/// The flags of [`Flags::setup`], for a binary's list of known flags.
pub const SETUP_FLAGS: &[&str] = &[
    "engine-config",
    "now",
    "interest-keys",
    "level",
    "evidence",
    "strict",
];
