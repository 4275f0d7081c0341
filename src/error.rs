//! Error types: one small error per failure kind, plus the umbrella [`enum@Error`].
//!
//! Refusing an event is not an error of the library but an answer about the
//! data; it lives in [`crate::profile::Refusal`]. The types here are about
//! invalid input: configuration that cannot be built, values out of range.

use thiserror::Error;

/// A weight that is NaN, infinite, negative or above `Weight::MAX` (1e9).
///
/// Weights scale an event's contribution to an interest score. Pass a finite
/// number between 0 and 1e9.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("invalid weight {0}: must be finite, at least 0 and at most 1e9")]
pub struct InvalidWeight(pub f64);

/// Why a [`crate::taxonomy::Taxonomy`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TaxonomyError {
    /// An interest path is empty, has an empty segment (`"a//b"`) or a
    /// leading or trailing slash.
    #[error("invalid interest path {0:?}: segments must be non-empty and separated by single '/'")]
    InvalidPath(String),
    /// A path was given twice with conflicting settings.
    #[error("interest {0:?} is defined twice")]
    Duplicate(String),
    /// A setting (sensitivity, decay override) names a path that the builder
    /// does not contain.
    #[error("unknown interest path {0:?}")]
    UnknownPath(String),
    /// A per-interest decay override is invalid.
    #[error("invalid decay override for {path:?}: {reason}")]
    InvalidOverride {
        /// The interest path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A path is longer than [`crate::taxonomy::MAX_PATH_LEN`] bytes. The
    /// error holds the path's first 64 bytes. Shorten the interest's name
    /// or its ancestors' names.
    #[error("interest path {path:?} is {len} bytes long, more than the limit of {max}")]
    PathTooLong {
        /// The start of the path.
        path: String,
        /// Its length in bytes.
        len: usize,
        /// The limit, [`crate::taxonomy::MAX_PATH_LEN`].
        max: usize,
    },
    /// A path has more levels than [`crate::taxonomy::MAX_DEPTH`]. Flatten
    /// the taxonomy: no real interest tree is that deep.
    #[error("interest path {path:?} has {depth} levels, more than the limit of {max}")]
    TooDeep {
        /// The path.
        path: String,
        /// Its number of levels (`a/b/c` has 3).
        depth: usize,
        /// The limit, [`crate::taxonomy::MAX_DEPTH`].
        max: usize,
    },
    /// More interests than an [`crate::taxonomy::InterestId`] can address.
    #[error("too many interests: {0}, at most {max}", max = u32::MAX)]
    TooMany(usize),
    /// The JSON could not be read as a taxonomy.
    #[error("taxonomy json: {0}")]
    Json(String),
    /// A former name (`renamed_from`) is still a path of the taxonomy, so
    /// stored data naming it would be ambiguous. Remove the old name from
    /// `renamed_from`, or the interests still under it from the taxonomy.
    #[error("interest {path:?} is renamed from {old_path:?}, which is still an interest of the taxonomy")]
    RenamedFromCurrent {
        /// The current path declaring the former name.
        path: String,
        /// The former name.
        old_path: String,
    },
    /// Two interests declare the same former name; stored data naming it
    /// could not be resolved. Keep it on the interest that took over its
    /// meaning.
    #[error("former name {old_path:?} is claimed by both {first:?} and {second:?}")]
    RenameClaimedTwice {
        /// The former name.
        old_path: String,
        /// The first interest claiming it.
        first: String,
        /// The second interest claiming it.
        second: String,
    },
    /// A life event is declared twice, has no interests, or names an
    /// interest the taxonomy does not have.
    #[error("life event {name:?}: {problem}")]
    InvalidLifeEvent {
        /// The life event's name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Why a [`crate::decay::DecayPolicy`] was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The half-life is zero or negative.
    #[error("half-life must be positive, got {0}")]
    HalfLife(time::Duration),
    /// A maximum age is negative.
    #[error("{which} must not be negative, got {value}")]
    NegativeAge {
        /// Which setting (`max_age`, `partner_max_age`, `dismissal_cooldown`).
        which: &'static str,
        /// The rejected value.
        value: time::Duration,
    },
    /// The partner max age is longer than the general max age.
    #[error(
        "partner_max_age {partner} exceeds max_age {general}: partner data must not live longer"
    )]
    PartnerLongerThanMaxAge {
        /// The partner max age.
        partner: time::Duration,
        /// The general max age.
        general: time::Duration,
    },
    /// `min_events` is zero (one event would then not even be needed).
    #[error("min_events must be at least 1")]
    MinEvents,
    /// `min_days` is zero or larger than `min_events`.
    #[error("min_days must be between 1 and min_events ({min_events}), got {min_days}")]
    MinDays {
        /// The rejected value.
        min_days: u32,
        /// The configured `min_events`.
        min_events: u32,
    },
    /// A signal weight is invalid.
    #[error("signal weight for {signal}: {source}")]
    SignalWeight {
        /// The signal kind.
        signal: &'static str,
        /// The weight error.
        source: InvalidWeight,
    },
}

/// Why a segment definition could not be compiled against a taxonomy.
///
/// `at` names the place in the definitions, e.g.
/// `segments[3].rule.all[1].interest_at_least.min_score`.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// A rule names an interest path the taxonomy does not have.
    #[error("{at}: unknown interest path {path:?} in segment {segment:?}")]
    UnknownInterest {
        /// The segment name.
        segment: String,
        /// The unknown path.
        path: String,
        /// Where.
        at: String,
    },
    /// A minimum score is NaN, infinite or negative.
    #[error("{at}: min_score {value} must be finite and at least 0 (segment {segment:?})")]
    InvalidMinScore {
        /// The segment name.
        segment: String,
        /// The rejected value.
        value: f64,
        /// Where.
        at: String,
    },
    /// Two segments share a name.
    #[error("segment {0:?} is defined twice")]
    Duplicate(String),
    /// A rule nests deeper than the supported limit. (Rules cannot refer to
    /// other segments, so they cannot be cyclic; depth is the only risk.)
    #[error("{at}: rule nests deeper than {max} levels (segment {segment:?})")]
    TooDeep {
        /// The segment name.
        segment: String,
        /// The limit.
        max: usize,
        /// Where.
        at: String,
    },
    /// The rules of all segments together have more nodes than allowed.
    #[error("segment rules have {nodes} nodes, more than the limit of {max}")]
    TooManyRules {
        /// Nodes found.
        nodes: usize,
        /// The limit.
        max: usize,
    },
    /// An `All` or `Any` without children.
    #[error("{at}: empty {which} rule (segment {segment:?})")]
    Empty {
        /// The segment name.
        segment: String,
        /// `all` or `any`.
        which: &'static str,
        /// Where.
        at: String,
    },
    /// The JSON could not be read as segment definitions.
    #[error("segments json: {0}")]
    Json(String),
}

/// Every problem found in a set of segment definitions, reported at once.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{} problem(s) in segment definitions: {}", .0.len(), join(.0))]
pub struct SegmentErrors(pub Vec<SegmentError>);

fn join(errors: &[SegmentError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why an audience was not built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AudienceError {
    /// Fewer members than `min_audience`: the audience could single out a
    /// person. Widen the segment or wait for more members.
    #[error("audience of {size} is below the minimum of {min}: it could single out a person")]
    TooSmall {
        /// Members found.
        size: usize,
        /// The configured minimum.
        min: usize,
    },
    /// The request names a segment the engine does not know.
    #[error("unknown segment {0:?}")]
    UnknownSegment(String),
    /// An audience needs a segment or interest target.
    #[error("an audience needs a segment or interest target")]
    NoTarget,
}

/// The umbrella error of the crate.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`InvalidWeight`].
    #[error(transparent)]
    Weight(#[from] InvalidWeight),
    /// See [`TaxonomyError`].
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    /// See [`PolicyError`].
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// See [`SegmentErrors`].
    #[error(transparent)]
    Segments(#[from] SegmentErrors),
    /// See [`AudienceError`].
    #[error(transparent)]
    Audience(#[from] AudienceError),
    /// See [`crate::privacy::ReleaseError`].
    #[error(transparent)]
    Release(#[from] crate::privacy::ReleaseError),
    /// See [`crate::privacy::BudgetError`].
    #[error(transparent)]
    Budget(#[from] crate::privacy::BudgetError),
    /// See [`crate::privacy::ParameterError`].
    #[error(transparent)]
    PrivacyParameter(#[from] crate::privacy::ParameterError),
    /// See [`crate::consent::ConsentError`].
    #[error(transparent)]
    Consent(#[from] crate::consent::ConsentError),
    /// See [`crate::suppression::InvalidWindow`].
    #[error(transparent)]
    Window(#[from] crate::suppression::InvalidWindow),
    /// See [`crate::profile::Refusal`].
    #[error(transparent)]
    Refused(#[from] crate::profile::Refusal),
    /// See [`crate::config::ConfigError`].
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// See [`crate::limits::ProfileError`].
    #[error(transparent)]
    Profile(#[from] crate::limits::ProfileError),
    /// See [`crate::export::ExportError`].
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// See [`crate::consent::tcf::TcfError`].
    #[cfg(feature = "tcf")]
    #[error(transparent)]
    Tcf(#[from] crate::consent::tcf::TcfError),
}
