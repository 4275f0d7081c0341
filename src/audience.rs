//! Audiences: the profiles a message may reach, refused when so small that
//! they could single out a person.
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use tactful::AudienceError;
//! use time::macros::datetime;
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default())
//!     .with_segments(vec![SegmentDef::new("young-parents", Rule::interest("baby"))])?;
//! let people = [Profile::new("anna"), Profile::new("ben")];
//! let now = datetime!(2026-11-01 9:00 UTC);
//!
//! // A newsletter to everyone is not an audience: it needs a target.
//! let newsletter = MessageRequest::new(Channel::Email, Purpose::Marketing);
//! assert_eq!(engine.audience(&people, &newsletter, now), Err(AudienceError::NoTarget));
//! // Too few members could single out a person.
//! let parents = newsletter.about(Target::Segment("young-parents".into()));
//! let err = engine.audience(&people, &parents, now).unwrap_err();
//! assert_eq!(err.to_string(), "audience of 0 is below the minimum of 50: it could single out a person");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
