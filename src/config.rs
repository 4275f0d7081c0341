//! Loading a whole engine configuration (taxonomy, decay policy, segments)
//! from JSON, with errors that name the path of the bad field and semantic
//! problems reported all at once.
//!
//! ```
//! use tactful::config::EngineConfig;
//!
//! let json = r#"{
//!   "taxonomy": {"interests": [{"path": "baby/food"}, {"path": "outdoor/hiking"}]},
//!   "policy": {"half_life": "7d", "max_age": "28d", "partner_max_age": "14d"},
//!   "segments": [
//!     {"name": "young-parents", "rule": {"interest_at_least": {"interest": "baby", "min_score": 2.0}}},
//!     {"name": "hikers", "rule": {"all": [{"interest": "outdoor/hiking"}, {"not": {"dislikes": "outdoor"}}]}}
//!   ],
//!   "min_audience": 100
//! }"#;
//! let engine = EngineConfig::from_json(json)?.into_engine()?;
//! assert_eq!(engine.min_audience(), 100);
//!
//! let bad = r#"{"taxonomy": {"interests": []}, "segments": [{"name": "x", "rule": {"all": [{"interest": "a"}, {"interest_at_least": {"interest": "b", "min_score": "high"}}]}}]}"#;
//! let err = EngineConfig::from_json(bad).unwrap_err().to_string();
//! assert!(err.starts_with("segments[0].rule.all[1].interest_at_least.min_score: invalid type: string \"high\", expected f64"), "{err}");
//! # Ok::<(), tactful::config::ConfigError>(())
//! ```

use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::decay::DecayPolicy;
use crate::engine::Engine;
use crate::limits::Limits;
use crate::segment::SegmentDef;
use crate::segment::SegmentError;
use crate::taxonomy::{Taxonomy, TaxonomyConfig, TaxonomyError};

pub use crate::json::{parse_json, JsonError, MAX_JSON_BYTES as MAX_CONFIG_BYTES};

/// Why a configuration was not loaded.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is too large, not JSON, or not of the expected shape;
    /// the error names the field.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The taxonomy is invalid: a bad, too long
    /// ([`MAX_PATH_LEN`](crate::taxonomy::MAX_PATH_LEN)) or too deep
    /// ([`MAX_DEPTH`](crate::taxonomy::MAX_DEPTH)) path, a duplicate, an
    /// invalid override or rename. Checked before the taxonomy is built.
    #[error("taxonomy: {0}")]
    Taxonomy(#[source] TaxonomyError),
    /// The configuration parsed but is inconsistent; every problem at once.
    #[error("{} problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<SegmentError>),
}

/// A whole engine configuration as stored in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// The interest tree.
    pub taxonomy: Taxonomy,
    /// The decay policy (defaults where fields are missing).
    #[serde(default)]
    pub policy: DecayPolicy,
    /// Segment definitions.
    #[serde(default)]
    pub segments: Vec<SegmentDef>,
    /// Minimum audience size (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_audience: Option<NonZeroUsize>,
    /// Limits (defaults where fields are missing).
    #[serde(default)]
    pub limits: Limits,
}

/// What [`EngineConfig::from_json`] reads: the taxonomy not yet built, so
/// that its errors stay typed ([`ConfigError::Taxonomy`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredConfig {
    taxonomy: TaxonomyConfig,
    #[serde(default)]
    policy: DecayPolicy,
    #[serde(default)]
    segments: Vec<SegmentDef>,
    #[serde(default)]
    min_audience: Option<NonZeroUsize>,
    #[serde(default)]
    limits: Limits,
}

impl EngineConfig {
    /// Parses a configuration.
    ///
    /// # Errors
    /// [`ConfigError::Json`] (too large, or naming the bad field),
    /// or [`ConfigError::Taxonomy`] (checked after the syntax).
    ///
    /// # Example
    /// ```
    /// use tactful::config::{ConfigError, EngineConfig};
    /// use tactful::TaxonomyError;
    ///
    /// let deep = vec!["x"; 40].join("/");
    /// let json = format!(r#"{{"taxonomy": {{"interests": [{{"path": "{deep}"}}]}}}}"#);
    /// assert!(matches!(
    ///     EngineConfig::from_json(&json),
    ///     Err(ConfigError::Taxonomy(TaxonomyError::TooDeep { depth: 40, max: 32, .. }))
    /// ));
    /// ```
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        let StoredConfig {
            taxonomy,
            policy,
            segments,
            min_audience,
            limits,
        } = parse_json(json)?;
        Ok(Self {
            taxonomy: Taxonomy::try_from(taxonomy).map_err(ConfigError::Taxonomy)?,
            policy,
            segments,
            min_audience,
            limits,
        })
    }

    /// Builds the engine, checking the segments against the taxonomy.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] with every problem: unknown interest paths,
    /// invalid minimum scores, duplicate names, empty or too deep rules.
    pub fn into_engine(self) -> Result<Engine, ConfigError> {
        let mut engine = Engine::new(self.taxonomy, self.policy)
            .with_limits(self.limits)
            .with_segments(self.segments)
            .map_err(|e| ConfigError::Invalid(e.0))?;
        if let Some(min) = self.min_audience {
            engine = engine.with_min_audience(min);
        }
        Ok(engine)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn semantic_problems_are_reported_all_at_once_with_their_place() {
        let json = r#"{
          "taxonomy": {"interests": [{"path": "a/b"}]},
          "segments": [
            {"name": "one", "rule": {"any": [{"interest": "nope"}, {"interest_at_least": {"interest": "a", "min_score": -1}}]}},
            {"name": "two", "rule": {"all": []}},
            {"name": "one", "rule": {"interest": "a"}}
          ]
        }"#;
        let ConfigError::Invalid(errors) = EngineConfig::from_json(json)
            .unwrap()
            .into_engine()
            .unwrap_err()
        else {
            panic!("expected Invalid");
        };
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 4, "{text:#?}");
        assert!(
            text[0].starts_with("segments[0].rule.any[0].interest: unknown interest path \"nope\""),
            "{}",
            text[0]
        );
        assert!(
            text[1]
                .starts_with("segments[0].rule.any[1].interest_at_least.min_score: min_score -1"),
            "{}",
            text[1]
        );
        assert!(
            text[2].starts_with("segments[1].rule: empty all rule"),
            "{}",
            text[2]
        );
        assert_eq!(text[3], "segment \"one\" is defined twice");
    }

    #[test]
    fn syntax_errors_name_the_field() {
        let err = EngineConfig::from_json(
            r#"{"taxonomy": {"interests": [{"path": "a"}]}, "policy": {"half_life": "soon"}}"#,
        )
        .unwrap_err();
        let ConfigError::Json(JsonError::Syntax { path, message }) = err else {
            panic!("{err}")
        };
        assert_eq!(path, "policy.half_life");
        assert!(message.contains("soon"), "{message}");

        let err = EngineConfig::from_json(r#"{"taxonomy": {"interests": [{"path": "a//b"}]}}"#)
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::Taxonomy(TaxonomyError::InvalidPath("a//b".into()))
        );
        assert!(
            err.to_string()
                .starts_with("taxonomy: invalid interest path"),
            "{err}"
        );

        let err = EngineConfig::from_json(
            r#"{"taxonomy": {"interests": []}, "policy": {"half_life": "0d"}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("policy: half-life must be positive"),
            "{err}"
        );
    }

    #[test]
    fn deep_rules_are_refused_without_exhausting_the_stack() {
        let mut rule = String::from(r#"{"interest": "a"}"#);
        for _ in 0..40 {
            rule = format!(r#"{{"not": {rule}}}"#);
        }
        let json = format!(
            r#"{{"taxonomy": {{"interests": [{{"path": "a"}}]}}, "segments": [{{"name": "deep", "rule": {rule}}}]}}"#
        );
        let err = EngineConfig::from_json(&json)
            .unwrap()
            .into_engine()
            .unwrap_err();
        assert!(err.to_string().contains("deeper than 32"), "{err}");

        let mut rule = String::from(r#"{"interest": "a"}"#);
        for _ in 0..10_000 {
            rule = format!(r#"{{"not": {rule}}}"#);
        }
        let json = format!(
            r#"{{"taxonomy": {{"interests": []}}, "segments": [{{"name": "deep", "rule": {rule}}}]}}"#
        );
        assert!(matches!(
            EngineConfig::from_json(&json),
            Err(ConfigError::Json(JsonError::Syntax { .. }))
        ));
    }

    #[test]
    fn too_large_is_refused_before_parsing() {
        let json = " ".repeat(MAX_CONFIG_BYTES + 1);
        assert_eq!(
            EngineConfig::from_json(&json).unwrap_err(),
            ConfigError::Json(JsonError::TooLarge {
                size: MAX_CONFIG_BYTES + 1,
                max: MAX_CONFIG_BYTES
            })
        );
    }
}
