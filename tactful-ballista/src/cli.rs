//! The command-line flags of `tactful-scheduler` and `tactful-executor`:
//! `--name value` or `--name=value`, with the engine configuration and `now`
//! also read from the environment.

use std::str::FromStr;

use crate::setup::{ENGINE_CONFIG_ENV, NOW_ENV};
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

    /// The setup from `--engine-config PATH` and `--now RFC3339`, each
    /// falling back to [`ENGINE_CONFIG_ENV`] and [`NOW_ENV`].
    ///
    /// # Errors
    /// [`Error::Missing`] when a setting is given nowhere, otherwise as
    /// [`Setup::from_file`].
    pub fn setup(&self) -> Result<Setup, Error> {
        let path = match self.get("engine-config") {
            Some(p) => p.into(),
            None => std::env::var_os(ENGINE_CONFIG_ENV).ok_or(Error::Missing {
                setting: "the engine config",
                flag: "--engine-config",
                env: ENGINE_CONFIG_ENV,
            })?,
        };
        let now = match self.get("now") {
            Some(n) => n.to_owned(),
            None => std::env::var(NOW_ENV).map_err(|_| Error::Missing {
                setting: "now",
                flag: "--now",
                env: NOW_ENV,
            })?,
        };
        Setup::from_file(path, &now)
    }
}
