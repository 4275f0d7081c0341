//! Audiences: the profiles a message may reach, refused when so small that
//! they could single out a person.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::profile::ProfileId;

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

/// The default minimum audience size.
pub const DEFAULT_MIN_AUDIENCE: usize = 50;

/// The members of an audience, and how many profiles were left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Audience {
    /// Profiles the message may be sent to.
    pub members: Vec<ProfileId>,
    /// Profiles considered but denied (not members, suppressed, no consent...).
    pub left_out: usize,
}

impl Audience {
    /// Number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }
    /// Whether there are no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}
