//! Suppressions: "do not use / do not contact", which win over everything.
//!
//! # Examples
//! "No marketing e-mails" closes that one door and no other:
//! ```
//! use tactful::prelude::*;
//! use time::{macros::datetime, Duration};
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
//! let now = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! anna.set_level(Level::FirstParty);
//! anna.consent_mut().grant(Purpose::Marketing, now, None, Evidence::Ui("signup".into()))?;
//!
//! let scope = Scope::ChannelPurpose { channel: Channel::Email, purpose: Purpose::Marketing };
//! let for_a_month = Suppression::new(scope, SuppressionReason::OptOut, now).until(now + Duration::days(30))?;
//! engine.suppress(&mut anna, for_a_month, now);
//!
//! let mail = MessageRequest::new(Channel::Email, Purpose::Marketing);
//! assert!(!engine.decide(&anna, &mail, now).is_allowed());
//! assert!(engine.decide(&anna, &MessageRequest::new(Channel::Push, Purpose::Marketing), now).is_allowed());
//! assert!(engine.decide(&anna, &MessageRequest::new(Channel::Email, Purpose::Service), now).is_allowed());
//! // After the window, mail is open again.
//! assert!(engine.decide(&anna, &mail, now + Duration::days(31)).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use crate::consent::Purpose;
pub use crate::reason::SuppressionReason;

/// The 0.1 name of [`SuppressionReason`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `SuppressionReason`, beside `RefusalReason`, `DenyReason` and `ExclusionReason`"
)]
pub type Reason = SuppressionReason;
use crate::taxonomy::{InterestId, Taxonomy};

/// A channel a message can be sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// E-mail.
    Email,
    /// Text message.
    Sms,
    /// Push notification.
    Push,
    /// Postal mail, including product samples.
    Post,
    /// Telephone.
    Phone,
    /// Inside our own app or site.
    InApp,
    /// Paid advertising on other platforms.
    Ads,
}

impl Channel {
    /// Every channel, in declaration order.
    pub const ALL: [Channel; 7] = [
        Self::Email,
        Self::Sms,
        Self::Push,
        Self::Post,
        Self::Phone,
        Self::InApp,
        Self::Ads,
    ];
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
            Self::Post => "post",
            Self::Phone => "phone",
            Self::InApp => "in_app",
            Self::Ads => "ads",
        })
    }
}

/// What a suppression covers.
///
/// In JSON: `"all"`, `{"channel": "post"}`, `{"purpose": "marketing"}`,
/// `{"channel_purpose": {"channel": "email", "purpose": "marketing"}}` ("no
/// marketing e-mails"), or, in a stored profile, `{"interest": "baby"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Everything: no data is used and no message sent, service included.
    All,
    /// Every message on one channel.
    Channel(Channel),
    /// Every use for one purpose.
    Purpose(Purpose),
    /// An interest and its whole subtree: no signal is used, no message about it.
    Interest(InterestId),
    /// Messages on one channel for one purpose ("no marketing e-mails"):
    /// other channels for that purpose, and other purposes on that channel,
    /// stay open. Covers no stored data.
    ChannelPurpose {
        /// The channel.
        channel: Channel,
        /// The purpose.
        purpose: Purpose,
    },
}

/// A developer's view that names an interest by its in-memory handle
/// (`interest #3`). Text for the person uses [`Scope::describe`], which
/// names it by its path.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interest(i) => write!(f, "interest {i}"),
            other => other.words().fmt(f),
        }
    }
}

impl Scope {
    /// The scope in words, as shown to the person: `everything`, `channel
    /// email`, `purpose marketing`, `marketing on channel email`, or
    /// `interest baby` (the interest by its path in `taxonomy`; one the
    /// taxonomy does not have reads `an interest this taxonomy does not
    /// have`). Never an [`InterestId`].
    ///
    /// # Example
    /// ```
    /// use tactful::{Channel, Purpose, Scope, Taxonomy};
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let baby = taxonomy.id("baby").unwrap();
    /// assert_eq!(Scope::Interest(baby).describe(&taxonomy), "interest baby");
    /// let no_marketing_mail = Scope::ChannelPurpose { channel: Channel::Email, purpose: Purpose::Marketing };
    /// assert_eq!(no_marketing_mail.describe(&taxonomy), "marketing on channel email");
    /// assert_eq!(Scope::All.describe(&taxonomy), "everything");
    /// # Ok::<(), tactful::TaxonomyError>(())
    /// ```
    #[must_use]
    pub fn describe(&self, taxonomy: &Taxonomy) -> String {
        match self {
            Self::Interest(i) => match taxonomy.path(*i) {
                Some(path) => format!("interest {path}"),
                None => "an interest this taxonomy does not have".to_owned(),
            },
            other => other.words().to_string(),
        }
    }

    /// The scope in words without the taxonomy and without allocating: as
    /// [`describe`](Self::describe), but an interest reads `this interest`
    /// (for messages about one interest, like a refused event's).
    pub(crate) fn words(self) -> ScopeWords {
        ScopeWords(self)
    }
}

/// [`Scope::words`]: displays a scope in words, an interest as `this interest`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScopeWords(Scope);

impl fmt::Display for ScopeWords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Scope::All => f.write_str("everything"),
            Scope::Channel(c) => write!(f, "channel {c}"),
            Scope::Purpose(p) => write!(f, "purpose {p}"),
            Scope::Interest(_) => f.write_str("this interest"),
            Scope::ChannelPurpose { channel, purpose } => {
                write!(f, "{purpose} on channel {channel}")
            }
        }
    }
}

/// A suppression whose window is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("suppression until {until} is not after its start {since}")]
#[non_exhaustive]
pub struct InvalidWindow {
    /// Start.
    pub since: OffsetDateTime,
    /// End.
    pub until: OffsetDateTime,
}

/// A rule that something must not be used or sent, active iff
/// `since <= now < until`.
///
/// # Example
/// ```
/// use tactful::{SuppressionReason, Scope, Suppression, Taxonomy};
/// use time::macros::datetime;
///
/// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
/// let baby = taxonomy.id("baby").unwrap();
/// let s = Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, datetime!(2026-03-01 0:00 UTC));
/// assert!(s.is_active(datetime!(2026-10-01 0:00 UTC)));
/// assert!(s.covers_interest(&taxonomy, taxonomy.id("baby/food").unwrap()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "SuppressionRepr")]
pub struct Suppression {
    scope: Scope,
    reason: SuppressionReason,
    #[serde(with = "crate::serde_util::instant")]
    since: OffsetDateTime,
    #[serde(default, with = "crate::serde_util::instant::option")]
    until: Option<OffsetDateTime>,
}

/// The stored form, checked on the way in like [`Suppression::until`].
#[derive(Deserialize)]
struct SuppressionRepr {
    scope: Scope,
    reason: SuppressionReason,
    #[serde(with = "crate::serde_util::instant")]
    since: OffsetDateTime,
    #[serde(default, with = "crate::serde_util::instant::option")]
    until: Option<OffsetDateTime>,
}

impl TryFrom<SuppressionRepr> for Suppression {
    type Error = InvalidWindow;

    fn try_from(r: SuppressionRepr) -> Result<Self, Self::Error> {
        let s = Suppression::new(r.scope, r.reason, r.since);
        match r.until {
            Some(u) => s.until(u),
            None => Ok(s),
        }
    }
}

impl Suppression {
    /// An open-ended suppression starting at `since`.
    #[must_use]
    pub fn new(scope: Scope, reason: SuppressionReason, since: OffsetDateTime) -> Self {
        Self {
            scope,
            reason,
            since,
            until: None,
        }
    }

    /// Ends the suppression at `until` (exclusive).
    ///
    /// # Errors
    /// [`InvalidWindow`] if `until <= since`.
    pub fn until(mut self, until: OffsetDateTime) -> Result<Self, InvalidWindow> {
        if until <= self.since {
            return Err(InvalidWindow {
                since: self.since,
                until,
            });
        }
        self.until = Some(until);
        Ok(self)
    }

    /// What it covers.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }
    /// Why it exists.
    #[must_use]
    pub fn reason(&self) -> SuppressionReason {
        self.reason
    }
    /// Start (inclusive).
    #[must_use]
    pub fn since(&self) -> OffsetDateTime {
        self.since
    }
    /// End (exclusive), if any.
    #[must_use]
    pub fn ends(&self) -> Option<OffsetDateTime> {
        self.until
    }

    /// Whether it is in force at `now`.
    #[must_use]
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.since <= now && self.until.is_none_or(|u| now < u)
    }

    /// Whether it covers data or messages about `interest`: scope `All`, an
    /// interest scope whose subtree contains it, or one that extends to a
    /// life event containing it (see [`crate::life_event`]).
    #[must_use]
    pub fn covers_interest(&self, taxonomy: &Taxonomy, interest: InterestId) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Interest(root) => {
                taxonomy.is_within(interest, root)
                    || taxonomy
                        .life_events_for(root, self.reason)
                        .any(|e| e.contains(taxonomy, interest))
            }
            Scope::Channel(_) | Scope::Purpose(_) | Scope::ChannelPurpose { .. } => false,
        }
    }

    /// The roots of the interest subtrees it covers, each with the life
    /// event it reaches them through (`None` for its own subtree): empty
    /// unless the scope is an interest.
    #[must_use]
    pub fn covered_roots<'t>(&self, taxonomy: &'t Taxonomy) -> Vec<(InterestId, Option<&'t str>)> {
        let Scope::Interest(root) = self.scope else {
            return Vec::new();
        };
        let mut roots = vec![(root, None)];
        for e in taxonomy.life_events_for(root, self.reason) {
            for &g in e.roots() {
                if !roots.iter().any(|&(r, _)| taxonomy.is_within(g, r)) {
                    roots.push((g, Some(e.name())));
                }
            }
        }
        roots
    }

    /// Whether it covers a use for `purpose` (scope `All` or that purpose).
    #[must_use]
    pub fn covers_purpose(&self, purpose: Purpose) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Purpose(p) => p == purpose,
            Scope::Channel(_) | Scope::Interest(_) | Scope::ChannelPurpose { .. } => false,
        }
    }

    /// Whether it covers a message on `channel` for `purpose`: scope `All`,
    /// the channel, the purpose, or that channel and purpose together.
    #[must_use]
    pub fn covers_message(&self, channel: Channel, purpose: Purpose) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Channel(c) => c == channel,
            Scope::Purpose(p) => p == purpose,
            Scope::ChannelPurpose {
                channel: c,
                purpose: p,
            } => c == channel && p == purpose,
            Scope::Interest(_) => false,
        }
    }

    /// Whether it covers messages on `channel`.
    #[must_use]
    pub fn covers_channel(&self, channel: Channel) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Channel(c) => c == channel,
            Scope::Purpose(_) | Scope::Interest(_) | Scope::ChannelPurpose { .. } => false,
        }
    }

    /// Whether adding it purges stored signals: a bereavement on an interest
    /// subtree (that subtree's signals) or on everything (all signals).
    #[must_use]
    pub fn purges(&self) -> bool {
        self.reason == SuppressionReason::Bereavement
            && matches!(self.scope, Scope::Interest(_) | Scope::All)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_empty_window_is_refused_when_built_and_when_read() {
        let since = datetime!(2026-03-01 0:00 UTC);
        let s = Suppression::new(Scope::All, SuppressionReason::OptOut, since);
        assert!(s.until(since).is_err());
        let json = r#"{"scope":"all","reason":"opt_out","since":"2026-03-01T00:00:00Z","until":"2026-02-01T00:00:00Z"}"#;
        let err = serde_json::from_str::<Suppression>(json).unwrap_err();
        assert!(err.to_string().contains("is not after its start"), "{err}");
        let ok = s.until(datetime!(2026-04-01 0:00 UTC)).unwrap();
        let back: Suppression = serde_json::from_str(&serde_json::to_string(&ok).unwrap()).unwrap();
        assert_eq!(back, ok);
    }
}
