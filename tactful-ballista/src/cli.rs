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
    pub fn parse(args: impl IntoIterator<Item = String>, known: &[&str]) -> Result<Self, Error> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn both_spellings_and_the_last_value_win() {
        let f = Flags::parse(args(&["--port=1", "--port", "2"]), &["port"]).unwrap();
        assert_eq!(f.value_or("port", 0_u16).unwrap(), 2);
        assert_eq!(f.value_or("other", 7_u16).unwrap(), 7);
    }

    #[test]
    fn unknown_flags_missing_values_and_stray_arguments_are_refused() {
        let unknown = Flags::parse(args(&["--prot", "1"]), &["port"]).unwrap_err();
        assert_eq!(unknown.to_string(), "unknown flag --prot; known: --port");
        let missing = Flags::parse(args(&["--port"]), &["port"]).unwrap_err();
        assert_eq!(missing.to_string(), "--port needs a value");
        let stray = Flags::parse(args(&["port"]), &["port"]).unwrap_err();
        assert_eq!(stray.to_string(), "unexpected argument \"port\"");
        let bad = Flags::parse(args(&["--port", "x"]), &["port"]).unwrap();
        assert!(bad
            .value_or("port", 0_u16)
            .unwrap_err()
            .to_string()
            .starts_with("--port \"x\": invalid digit"));
    }

    #[test]
    fn a_missing_setting_names_its_flag_and_variable() {
        let setup = Setup::from_settings(|_, _| None).unwrap_err();
        assert_eq!(
            setup.to_string(),
            "the engine config is missing: pass --engine-config or set TACTFUL_ENGINE_CONFIG"
        );
    }

    #[test]
    fn settings_files_and_values_are_checked() {
        let dir = std::env::temp_dir().join(format!("tactful-ballista-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("engine.json");
        std::fs::write(
            &config,
            r#"{"taxonomy": {"interests": [{"path": "c00/i000"}]}}"#,
        )
        .unwrap();
        let keys = dir.join("keys.txt");
        std::fs::write(&keys, "c00/i000\n\n c00 \nc01\n").unwrap();
        let get = |level: &'static str| {
            let (config, keys) = (config.clone(), keys.clone());
            move |flag: &str, _: &str| match flag {
                "engine-config" => Some(config.display().to_string()),
                "now" => Some("2023-11-14T22:13:20Z".to_owned()),
                "interest-keys" => Some(keys.display().to_string()),
                "level" => Some(level.to_owned()),
                _ => None,
            }
        };
        let err = Setup::from_settings(get("first_party")).unwrap_err();
        assert!(
            matches!(&err, Error::InterestKeys(e) if e.key == 2 && e.path == "c01"),
            "{err}"
        );
        std::fs::write(&keys, "c00/i000\nc00\n").unwrap();
        assert!(Setup::from_settings(get("first_party")).is_ok());
        let err = Setup::from_settings(get("sometimes")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("level \"sometimes\": unknown variant"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
