//! Message decisions: may this message go out on this channel, for this
//! purpose, about this segment or interest?
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use time::macros::datetime;
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
//! let anna = Profile::new("anna"); // level Off, no consent given
//! let now = datetime!(2026-11-01 9:00 UTC);
//!
//! // A receipt is a service message: it needs no consent.
//! let receipt = MessageRequest::new(Channel::Email, Purpose::Service);
//! assert!(engine.decide(&anna, &receipt, now).is_allowed());
//! // A newsletter is marketing: denied, with every reason.
//! let newsletter = MessageRequest::new(Channel::Email, Purpose::Marketing);
//! let decision = engine.decide(&anna, &newsletter, now);
//! assert!(decision.reasons().contains(&DenyReason::NoConsent {
//!     purpose: Purpose::Marketing,
//!     state: ConsentState::NeverAsked,
//! }));
//! for reason in decision.reasons() {
//!     println!("{reason}"); // "consent for marketing is never asked", ...
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::{ConsentState, Purpose, Purposes};
use crate::decay;
use crate::explain::{self, Explanation};
use crate::gate::{visit_hits, Hit, Use, View};
use crate::level::Level;
use crate::segment::{self, Segment};
use crate::suppression::{Channel, Scope, SuppressionReason};
use crate::taxonomy::{InterestId, Taxonomy};

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
#[non_exhaustive]
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
        reason: SuppressionReason,
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

/// Whether a message may be sent: see [`Engine::decide`](crate::Engine::decide).
pub(crate) fn decide(
    view: &View<'_>,
    segments: &[Segment],
    fingerprint: u64,
    request: &MessageRequest,
) -> Decision {
    let mut deny = Vec::new();
    let seg = resolve(view.taxonomy, segments, &request.target, &mut deny);
    let about: &[InterestId] = match &request.target {
        Target::Interest(i) if view.taxonomy.contains(*i) => std::slice::from_ref(i),
        _ => &[],
    };
    let gate_use = match seg {
        Some(s) => s.use_on(request.channel, request.purpose),
        None => {
            // Anything targeted relies on personalization.
            let mut purposes = Purposes::EMPTY.with(request.purpose);
            if request.target != Target::Nobody {
                purposes = purposes.with(Purpose::Personalization);
            }
            Use {
                channel: request.channel,
                purposes,
                interests: about,
                positive: about,
            }
        }
    };
    deny.extend(blockers(view, &gate_use));
    let mut explanation = target_holds(view, seg, fingerprint, &request.target, &mut deny);
    if deny.is_empty() {
        explanation.add_consents(view, gate_use.purposes);
        Decision::Allow(explanation)
    } else {
        Decision::Deny(deny)
    }
}

/// The segment a request names, if the engine knows it; an unknown segment
/// or interest is a reason to deny.
fn resolve<'s>(
    tax: &Taxonomy,
    segments: &'s [Segment],
    target: &Target,
    deny: &mut Vec<DenyReason>,
) -> Option<&'s Segment> {
    match target {
        Target::Segment(name) => {
            let s = segments.iter().find(|s| &s.def.name == name);
            if s.is_none() {
                deny.push(DenyReason::UnknownSegment {
                    segment: name.clone(),
                });
            }
            s
        }
        Target::Interest(i) if !tax.contains(*i) => {
            deny.push(DenyReason::UnknownInterest { interest: *i });
            None
        }
        _ => None,
    }
}

/// The explanation of why the target holds (the interest established, the
/// person a member), or a reason to deny.
fn target_holds(
    view: &View<'_>,
    seg: Option<&Segment>,
    fingerprint: u64,
    target: &Target,
    deny: &mut Vec<DenyReason>,
) -> Explanation {
    let tax = view.taxonomy;
    // Scored only for a target that needs it (not for `Nobody`, an unknown
    // or blocked interest, or an unknown segment).
    match (target, seg) {
        (Target::Interest(i), _) if tax.contains(*i) && !view.is_blocked(*i) => {
            let scores = decay::score(view, fingerprint);
            let s = scores.get(*i).copied().unwrap_or_default();
            if s.established.is_none() {
                deny.push(DenyReason::NotEstablished {
                    interest: *i,
                    path: tax.path(*i).unwrap_or_default().to_owned(),
                });
            } else {
                return explain::interest(view, *i, s.score, s.established);
            }
        }
        (Target::Segment(name), Some(seg)) => {
            match segment::eval(view, &decay::score(view, fingerprint), &seg.rule) {
                Some(ex) => return ex,
                None => deny.push(DenyReason::NotMember {
                    segment: name.clone(),
                }),
            }
        }
        _ => {}
    }
    Explanation::default()
}

/// Every reason the use is refused at the view's `now`, in this order:
/// suppressions, consent, level, the person's own blocks. Empty: the use
/// is allowed.
fn blockers(view: &View<'_>, u: &Use<'_>) -> Vec<DenyReason> {
    let tax = view.taxonomy;
    let path = |i: InterestId| tax.path(i).unwrap_or_default().to_owned();
    let mut out = Vec::new();
    let _ = visit_hits(view, u, |hit| {
        out.push(match hit {
            Hit::Suppressed(s, life_event) => DenyReason::Suppressed {
                scope: s.scope(),
                about: s.scope().describe(tax),
                reason: s.reason(),
                until: s.ends(),
                life_event: life_event.map(str::to_owned),
            },
            Hit::NoConsent(purpose, state) => DenyReason::NoConsent { purpose, state },
            Hit::LevelOff(level) => DenyReason::LevelTooLow {
                required: Level::Declared,
                level,
            },
            Hit::Disliked(i) => DenyReason::Disliked {
                interest: i,
                path: path(i),
            },
            Hit::Dismissed(i, at) => DenyReason::Dismissed {
                interest: i,
                path: path(i),
                at,
            },
        });
        ControlFlow::Continue(())
    });
    out
}
