//! Audiences: the profiles a message may reach, refused when so small that
//! they could single out a person.

use serde::{Deserialize, Serialize};

use crate::profile::ProfileId;

/// The default minimum audience size.
pub const DEFAULT_MIN_AUDIENCE: usize = 50;

/// The members of an audience, and how many profiles were left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
