//! Bounds on everything that grows with input, so that hostile or runaway
//! input is refused with a typed error before it costs memory or stack.
//!
//! | limit | default | enforced by |
//! |---|---|---|
//! | `max_events` | 100,000 per profile | [`Engine::record`](crate::Engine::record) (refusal [`RefusalReason::LimitReached`](crate::RefusalReason::LimitReached)), [`Engine::load_profile`](crate::Engine::load_profile) |
//! | `max_interests` | 4,096 distinct interests with stored events per profile | the same |
//! | consent ledger | what the ledger itself may hold ([`MAX_STORED_ENTRIES`](crate::consent::MAX_STORED_ENTRIES); grants stop at [`MAX_LEDGER_ENTRIES`](crate::consent::MAX_LEDGER_ENTRIES)) | [`ConsentLedger`](crate::ConsentLedger) when appending, the loaders when reading |
//! | `max_profile_bytes` | 64 MiB | [`Engine::load_profile`](crate::Engine::load_profile) and [`Engine::load_profile_binary`](crate::Engine::load_profile_binary), before parsing |
//! | `max_rule_depth` | 32 | [`Engine::with_segments`](crate::Engine::with_segments) |
//! | `max_rule_nodes` | 100,000 over all segments | [`Engine::with_segments`](crate::Engine::with_segments) |
//! | config text | [`MAX_CONFIG_BYTES`](crate::config::MAX_CONFIG_BYTES) (4 MiB) | [`config::parse_json`](crate::config::parse_json), before parsing; JSON nesting is capped at 128 by `serde_json` |
//!
//! What an operation may create, loading accepts: `max_events` and
//! `max_interests` are enforced by [`Engine::record`](crate::Engine::record)
//! and [`Engine::merge`](crate::Engine::merge) alike (orphaned events
//! count too). Suppressions, tombstones and declared preferences have no
//! count limit: adding a suppression or erasing is never refused (it
//! protects the person), so loading must accept them; exact repeats are
//! coalesced, tombstones per scope, and their reading cost is linear and
//! bounded by `max_profile_bytes`.
//!
//! | other | bound | enforced by |
//! |---|---|---|
//! | taxonomy path length | [`MAX_PATH_LEN`](crate::taxonomy::MAX_PATH_LEN) (512 bytes) | [`TaxonomyBuilder::build`](crate::taxonomy::TaxonomyBuilder::build), [`Taxonomy::from_json`](crate::Taxonomy::from_json) and [`EngineConfig::from_json`](crate::config::EngineConfig::from_json) before building ([`TaxonomyError::PathTooLong`](crate::TaxonomyError::PathTooLong)) |
//! | taxonomy depth | [`MAX_DEPTH`](crate::taxonomy::MAX_DEPTH) (32 levels) | the same ([`TaxonomyError::TooDeep`](crate::TaxonomyError::TooDeep)); with both, a taxonomy's memory is linear in its configuration ([`Taxonomy::heap_bytes`](crate::Taxonomy::heap_bytes)) |
//! | TC string length | [`MAX_TC_STRING_LEN`](crate::consent::tcf::MAX_TC_STRING_LEN) (64 KiB) | [`TcString::decode`](crate::consent::tcf::TcString::decode) |
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use tactful::{Limit, Limits, ProfileError};
//! use time::{macros::datetime, Duration};
//!
//! let limits = Limits { max_events: 2, max_profile_bytes: 1024, ..Limits::default() };
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default())
//!     .with_limits(limits);
//! let food = engine.taxonomy().require("baby/food")?;
//! let now = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! anna.set_level(Level::FirstParty);
//! anna.consent_mut().grant(Purpose::Personalization, now - Duration::days(1), None, Evidence::Ui("signup".into()))?;
//! for h in 0..2 {
//!     engine.record(&mut anna, Event::new(food, Signal::View, now - Duration::hours(h)), now)?;
//! }
//! let third = engine.record(&mut anna, Event::new(food, Signal::View, now - Duration::hours(2)), now);
//! assert_eq!(third.unwrap_err().reason, RefusalReason::LimitReached { limit: Limit::Events, max: 2 });
//! // Oversized input is refused before it is parsed.
//! let huge = " ".repeat(2048);
//! assert!(matches!(engine.load_profile(&huge, now), Err(ProfileError::TooLarge { limit: Limit::ProfileBytes, .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Configurable bounds of an [`Engine`](crate::Engine).
///
/// # Example
/// ```
/// use tactful::{DecayPolicy, Engine, Limits, Taxonomy};
///
/// let limits = Limits { max_events: 10_000, ..Limits::default() };
/// let engine = Engine::new(Taxonomy::builder().interest("a").build()?, DecayPolicy::default())
///     .with_limits(limits);
/// assert_eq!(engine.limits().max_events, 10_000);
/// # Ok::<(), tactful::TaxonomyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Stored events per profile.
    pub max_events: usize,
    /// Distinct interests with stored events per profile.
    pub max_interests: usize,
    /// Size of a stored profile (JSON text or binary form).
    pub max_profile_bytes: usize,
    /// Nesting depth of a segment rule.
    pub max_rule_depth: usize,
    /// Rule nodes over all segments of an engine.
    pub max_rule_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_events: 100_000,
            max_interests: 4_096,
            max_profile_bytes: 64 << 20,
            max_rule_depth: 32,
            max_rule_nodes: 100_000,
        }
    }
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_events`].
    Events,
    /// [`Limits::max_interests`].
    Interests,
    /// The consent ledger's own bound (see [`crate::consent::MAX_LEDGER_ENTRIES`]).
    LedgerEntries,
    /// [`Limits::max_profile_bytes`].
    ProfileBytes,
    /// [`Limits::max_rule_depth`].
    RuleDepth,
    /// [`Limits::max_rule_nodes`].
    RuleNodes,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Events => "max_events",
            Self::Interests => "max_interests",
            Self::LedgerEntries => "the consent ledger's entry bound",
            Self::ProfileBytes => "max_profile_bytes",
            Self::RuleDepth => "max_rule_depth",
            Self::RuleNodes => "max_rule_nodes",
        })
    }
}

/// Why a stored profile was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The input exceeds a limit (checked before parsing for its size).
    #[error("profile exceeds {limit}: {actual} > {max}")]
    TooLarge {
        /// Which limit.
        limit: Limit,
        /// The value found.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// A 0.1 profile (no format version, interests named by position):
    /// load it with [`Engine::load_legacy_profile`](crate::Engine::load_legacy_profile)
    /// and the taxonomy it was written with.
    #[error("a tactful 0.1 profile without a format version: load it with Engine::load_legacy_profile and the taxonomy it was written with")]
    Legacy,
    /// A format version this crate does not read.
    #[error("stored profile format version {0} is not supported by this version of tactful")]
    UnsupportedVersion(u16),
    /// The binary form is damaged (checksum, truncation, bad counts).
    #[error("damaged binary profile: {0}")]
    Corrupt(String),
    /// A stored value breaks a rule of the model (a weight, a window, an instant).
    #[error("invalid stored profile: {0}")]
    Invalid(String),
    /// The profile could not be encoded.
    #[error("cannot encode the profile: {0}")]
    Encode(String),
    /// The JSON is malformed; `path` names the field.
    #[error("{path}: {message}")]
    Syntax {
        /// Where.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A 0.1 profile refers to an interest position its taxonomy does not
    /// have, or a profile being saved holds a handle (in a like, suppression
    /// or erasure) that the engine's taxonomy does not have.
    #[error("{field} refers to unknown interest {id}")]
    UnknownInterest {
        /// Which part (`events`, `preferences`, `suppressions`, `tombstones`).
        field: &'static str,
        /// The unknown handle.
        id: crate::taxonomy::InterestId,
    },
}
