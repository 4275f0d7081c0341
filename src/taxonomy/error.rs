//! Why a taxonomy could not be built.

use thiserror::Error;

use crate::json::JsonError;

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
    Json(#[source] JsonError),
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
