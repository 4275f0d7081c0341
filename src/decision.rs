//! Message decisions: may this message go out on this channel, for this
//! purpose, about this segment or interest?

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::{ConsentState, Purpose};
use crate::explain::Explanation;
use crate::level::Level;
use crate::suppression::{Channel, Reason, Scope};
use crate::taxonomy::InterestId;

/// What a message is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// Nothing personal (a newsletter to everyone, an order confirmation).
    Nobody,
    /// Members of a segment.
    Segment(String),
    /// People with an established interest.
    Interest(InterestId),
}

/// A message someone wants to send.
///
/// # Example
/// ```
/// use tactful::{Channel, MessageRequest, Purpose, Target};
/// let req = MessageRequest::new(Channel::Email, Purpose::Marketing).about(Target::Segment("young-parents".into()));
/// assert_eq!(req.purpose, Purpose::Marketing);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageRequest {
    /// The channel.
    pub channel: Channel,
    /// The purpose.
    pub purpose: Purpose,
    /// What it is about.
    pub target: Target,
}

impl MessageRequest {
    /// An untargeted message.
    #[must_use]
    pub fn new(channel: Channel, purpose: Purpose) -> Self {
        Self {
            channel,
            purpose,
            target: Target::Nobody,
        }
    }
    /// Sets what the message is about.
    #[must_use]
    pub fn about(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
}

/// One reason a message is denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DenyReason {
    /// An active suppression covers the channel, purpose or interest.
    Suppressed {
        /// Its scope.
        scope: Scope,
        /// Its scope in words, naming an interest by its path (see
        /// [`Scope::describe`]): `interest baby`, `channel email`.
        #[serde(default)]
        about: String,
        /// Its reason.
        reason: Reason,
        /// Its end, if any.
        #[serde(default, with = "crate::serde_util::instant::option")]
        until: Option<OffsetDateTime>,
        /// The life event through which it covers the message's interest,
        /// if it covers it only through one (see [`crate::life_event`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        life_event: Option<String>,
    },
    /// A needed purpose is not granted.
    NoConsent {
        /// The purpose.
        purpose: Purpose,
        /// Its state (never asked and expired mean "ask").
        state: ConsentState,
    },
    /// The person's level does not allow this message.
    LevelTooLow {
        /// Needed level.
        required: Level,
        /// The person's level.
        level: Level,
    },
    /// The targeted interest is not established.
    NotEstablished {
        /// The interest.
        interest: InterestId,
        /// Its path.
        #[serde(default)]
        path: String,
    },
    /// The person is not a member of the targeted segment.
    NotMember {
        /// The segment.
        segment: String,
    },
    /// The engine has no such segment.
    UnknownSegment {
        /// The name asked for.
        segment: String,
    },
    /// The engine's taxonomy has no such interest.
    UnknownInterest {
        /// The handle asked for.
        interest: InterestId,
    },
    /// The person dislikes the targeted interest.
    Disliked {
        /// The interest.
        interest: InterestId,
        /// Its path.
        #[serde(default)]
        path: String,
    },
    /// The person dismissed the targeted interest and the cooldown runs.
    Dismissed {
        /// The interest.
        interest: InterestId,
        /// Its path.
        #[serde(default)]
        path: String,
        /// When it was dismissed.
        #[serde(with = "crate::serde_util::instant")]
        at: OffsetDateTime,
    },
}

/// Text for the person: interests by their path, purposes, channels and
/// scopes in words, never an [`InterestId`].
impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Suppressed {
                about,
                reason,
                until,
                life_event,
                ..
            } => {
                write!(f, "suppressed ({reason}) on {about}")?;
                if let Some(e) = life_event {
                    write!(f, " and the whole life event {e}")?;
                }
                match until {
                    Some(u) => write!(f, " until {u}"),
                    None => f.write_str(" with no end"),
                }
            }
            Self::NoConsent { purpose, state } => write!(f, "consent for {purpose} is {state}"),
            Self::LevelTooLow { required, level } => {
                write!(f, "needs level {required}, the person chose {level}")
            }
            Self::NotEstablished { path, .. } => {
                write!(f, "interest {path} is not established")
            }
            Self::NotMember { segment } => write!(f, "not a member of {segment:?}"),
            Self::UnknownSegment { segment } => write!(f, "unknown segment {segment:?}"),
            Self::UnknownInterest { .. } => {
                f.write_str("about an interest this engine's taxonomy does not have")
            }
            Self::Disliked { path, .. } => write!(f, "the person dislikes interest {path}"),
            Self::Dismissed { path, at, .. } => {
                write!(f, "the person dismissed interest {path} at {at}")
            }
        }
    }
}

/// The answer of [`crate::Engine::decide`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The message may be sent; here is why.
    Allow(Explanation),
    /// The message must not be sent; every reason.
    Deny(Vec<DenyReason>),
}

impl Decision {
    /// Whether the message may be sent.
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow(_))
    }

    /// The reasons of a denial (empty when allowed).
    #[must_use]
    pub fn reasons(&self) -> &[DenyReason] {
        match self {
            Self::Allow(_) => &[],
            Self::Deny(r) => r,
        }
    }
}
