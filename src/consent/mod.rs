//! Purposes and the consent ledger.
//!
//! Consent is per [`Purpose`], timestamped, with [`Evidence`]. The ledger
//! answers [`ConsentLedger::state`] for any instant, and tells "never asked"
//! and "expired" (ask again) apart from "withdrawn" (the person said no).
//!
//! The ledger stores changes, not signals: a grant or withdrawal that
//! changes nothing when it arrives is not stored, so a consent string or a
//! Global Privacy Control signal repeated on every request never grows it.
//! Its length is bounded on every path ([`MAX_LEDGER_ENTRIES`],
//! [`MAX_STORED_ENTRIES`]), and each distinct consent string is held once.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

mod join;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod proptests;
mod stored;
#[cfg(feature = "tcf")]
pub mod tcf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// What personal data may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Purpose {
    /// Providing the service itself (order confirmations, an apology mail).
    /// Needs no consent and is not blocked by a marketing opt-out.
    Service,
    /// Audience measurement and statistics.
    Measurement,
    /// Building interest profiles and personalizing content.
    Personalization,
    /// Sending advertising and offers.
    Marketing,
    /// Using the person's physical location.
    Location,
    /// Using signals observed across other sites.
    CrossSite,
    /// Inferring special-category interests (health, pregnancy, religion...).
    SensitiveInterests,
    /// Receiving or sharing data with partners.
    PartnerData,
}

impl Purpose {
    /// Every purpose, in declaration order.
    pub const ALL: [Purpose; 8] = [
        Self::Service,
        Self::Measurement,
        Self::Personalization,
        Self::Marketing,
        Self::Location,
        Self::CrossSite,
        Self::SensitiveInterests,
        Self::PartnerData,
    ];

    /// Whether using data for this purpose needs the person's consent.
    /// Only [`Purpose::Service`] does not.
    #[must_use]
    pub fn needs_consent(self) -> bool {
        self != Self::Service
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The snake_case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Measurement => "measurement",
            Self::Personalization => "personalization",
            Self::Marketing => "marketing",
            Self::Location => "location",
            Self::CrossSite => "cross_site",
            Self::SensitiveInterests => "sensitive_interests",
            Self::PartnerData => "partner_data",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of purposes (a tiny bitset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Purposes(u16);

impl Purposes {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Adds a purpose.
    #[must_use]
    pub fn with(self, p: Purpose) -> Self {
        Self(self.0 | (1 << p.index()))
    }

    /// Whether the set contains `p`.
    #[must_use]
    pub fn contains(self, p: Purpose) -> bool {
        self.0 & (1 << p.index()) != 0
    }

    /// The purposes in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Purpose> {
        Purpose::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

/// Why we believe a consent change happened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// The person acted in our own interface (describe where).
    Ui(String),
    /// Imported from a consent string (for example an IAB TCF TC string).
    ///
    /// Shared, not copied: a [`ConsentLedger`] holds each distinct string
    /// once however many entries cite it, in memory and when serialized.
    /// Build one with `Evidence::ConsentString(raw.into())`.
    ConsentString(#[serde(with = "arc_str")] Arc<str>),
    /// The browser's Global Privacy Control signal (`Sec-GPC: 1`).
    GlobalPrivacyControl,
    /// Imported from another system (describe which).
    Import(String),
    /// Written by [`ConsentLedger::merge`] or an erasure; the original
    /// evidence is named where known.
    System(String),
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ui(s) => write!(f, "ui: {s}"),
            Self::ConsentString(s) => write!(f, "consent string {s}"),
            Self::GlobalPrivacyControl => f.write_str("global privacy control"),
            Self::Import(s) => write!(f, "import: {s}"),
            Self::System(s) => write!(f, "system: {s}"),
        }
    }
}

/// Serde for a shared string: written and read as a plain string.
mod arc_str {
    use super::{Arc, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        String::deserialize(d).map(Arc::from)
    }
}

/// One change in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Consent given, optionally until an instant (exclusive).
    Grant {
        /// When the grant lapses; `None` for no expiry.
        #[serde(default, with = "crate::serde_util::instant::option")]
        expires: Option<OffsetDateTime>,
    },
    /// Consent withdrawn. Retroactive: events recorded before it never count
    /// again for this purpose, even after a later grant.
    Withdraw,
}

/// An entry of the [`ConsentLedger`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConsentEntry {
    /// The purpose.
    pub purpose: Purpose,
    /// Grant or withdrawal.
    pub change: Change,
    /// When it happened.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Why we believe it.
    pub evidence: Evidence,
}

/// The state of consent for a purpose at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Consent is in force.
    Granted,
    /// Never asked: ask.
    NeverAsked,
    /// A grant lapsed: ask again.
    Expired,
    /// The person said no.
    Withdrawn,
}

impl ConsentState {
    /// Whether consent is in force.
    #[must_use]
    pub fn is_granted(self) -> bool {
        self == Self::Granted
    }

    /// Rank for "more restrictive wins": withdrawn > expired > never asked > granted.
    fn restriction(self) -> u8 {
        match self {
            Self::Granted => 0,
            Self::NeverAsked => 1,
            Self::Expired => 2,
            Self::Withdrawn => 3,
        }
    }
}

impl fmt::Display for ConsentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Granted => "granted",
            Self::NeverAsked => "never asked",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        })
    }
}

/// Purposes in [`Purpose::ALL`]: the size of per-purpose tables.
const PURPOSES: usize = Purpose::ALL.len();

/// From this many entries on, the ledger refuses a grant that would add one
/// ([`ConsentError::TooManyEntries`]); withdrawals are never refused.
///
/// Received in time order (every change at or after the latest one received
/// for its purpose), a ledger never holds more than this plus one entry per
/// purpose that needs consent (7): once full it takes no grant, and a
/// withdrawal is only stored where it changes the state, so each purpose
/// gains at most one more. [`MAX_STORED_ENTRIES`] bounds every path.
pub const MAX_LEDGER_ENTRIES: usize = 10_000;

/// The most entries a [`ConsentLedger`] ever holds, whatever the order of the
/// changes and after [`ConsentLedger::merge`]: what a loader of stored
/// profiles should accept (deserializing a longer ledger is an error).
///
/// Why it holds: grants are refused from [`MAX_LEDGER_ENTRIES`] on (a grant
/// received late may bring one repeated grant back with it), so at most
/// `MAX_LEDGER_ENTRIES + 1` grants are stored. A withdrawal is stored only
/// where it changes the state, and one dated just before another withdrawal
/// replaces it, so in time order each stored withdrawal of a purpose follows
/// a grant of it or starts its history. Changes received in any order
/// therefore stay within `2 * MAX_LEDGER_ENTRIES + 9`, and in time order
/// within `MAX_LEDGER_ENTRIES + 7` ([`MAX_LEDGER_ENTRIES`]). The merge of two
/// ledgers built by appends is no longer than both together, so two ledgers
/// filled in time order merge within this bound. Only ledgers that were
/// themselves rewritten by merges can need more; then the oldest history is
/// folded (see [`ConsentLedger::merge`]).
pub const MAX_STORED_ENTRIES: usize = 2 * MAX_LEDGER_ENTRIES + 2 * Purpose::ALL.len();

/// A consent change that cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The grant expires before it is given.
    #[error("grant for {purpose} at {at} expires earlier, at {expires}")]
    ExpiresBeforeGrant {
        /// The purpose.
        purpose: Purpose,
        /// When it was given.
        at: OffsetDateTime,
        /// The expiry.
        expires: OffsetDateTime,
    },
    /// [`Purpose::Service`] needs no consent and cannot be withdrawn here; use
    /// a suppression to stop service messages.
    #[error("the service purpose needs no consent; use a suppression instead")]
    ServiceNeedsNoConsent,
    /// The ledger already holds [`MAX_LEDGER_ENTRIES`] entries and the grant
    /// would add one. Nothing was recorded: the purpose keeps its state.
    /// Withdrawals are still recorded; [`ConsentLedger::merge`] may rewrite
    /// a ledger shorter.
    #[error("the consent ledger already holds {max} entries")]
    TooManyEntries {
        /// The limit, [`MAX_LEDGER_ENTRIES`].
        max: usize,
    },
}

/// What [`ConsentLedger::apply_tcf`] did with a TC string.
#[cfg(feature = "tcf")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcfOutcome {
    /// The string's verdict for each purpose it maps to (`true`: allowed), in
    /// the order of [`tcf::TcString::purposes_for`].
    pub verdicts: Vec<(Purpose, bool)>,
    /// The purposes whose state it changed (each stored as an entry). Empty
    /// when the string agrees with the ledger.
    pub changed: Vec<Purpose>,
    /// The grants it could not record, with why; each of these purposes keeps
    /// its previous state. Refusals are always recorded.
    pub refused: Vec<(Purpose, ConsentError)>,
}

/// The history of consent changes of one person.
///
/// Changes are appended; the ledger stores a change only where it changes
/// something. A grant without expiry while one is in force and a
/// withdrawal of a purpose already withdrawn at that instant are not stored,
/// so a signal repeated on every page view never grows the ledger. Received
/// in time order, every answer is the one the full history of signals would
/// give; received in any order, so is the state from the latest change
/// received on, and no data is more usable (see [`ConsentLedger::grant`] and
/// [`ConsentLedger::withdraw`]). Grants are
/// capped at [`MAX_LEDGER_ENTRIES`], and no path makes a ledger longer than
/// [`MAX_STORED_ENTRIES`]. Consent strings used as evidence are held once
/// per distinct string, however many entries cite them
/// ([`Evidence::ConsentString`]).
///
/// # Example
/// ```
/// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
/// use time::macros::datetime;
///
/// let mut ledger = ConsentLedger::default();
/// let ui = Evidence::Ui("settings page".into());
/// ledger.grant(Purpose::Personalization, datetime!(2026-01-01 0:00 UTC), None, ui.clone())?;
/// ledger.withdraw(Purpose::Personalization, datetime!(2026-03-01 0:00 UTC), ui.clone())?;
/// // Saying no again changes nothing and stores nothing.
/// ledger.withdraw(Purpose::Personalization, datetime!(2026-03-05 0:00 UTC), ui)?;
/// assert_eq!(ledger.len(), 2);
///
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2025-12-31 0:00 UTC)), ConsentState::NeverAsked);
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2026-02-01 0:00 UTC)), ConsentState::Granted);
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2026-03-02 0:00 UTC)), ConsentState::Withdrawn);
/// # Ok::<(), tactful::ConsentError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentLedger {
    entries: Vec<ConsentEntry>,
    /// Per purpose (by [`Purpose::index`]), the latest grant and the latest
    /// withdrawal the ledger was told of, in the order received, whether
    /// they were stored as entries or not: a change dated before them must
    /// not outlast them (see [`ConsentLedger::grant`]).
    latest_received: [Vec<ConsentEntry>; PURPOSES],
    /// Per purpose, the index in `entries` of its latest entry (greatest
    /// `at`, the last appended among equal ones): the entry that decides
    /// every instant from its own on. Derived from `entries`.
    latest: [Option<usize>; PURPOSES],
}

impl ConsentLedger {
    /// Records a grant at `at`, lapsing at `expires` (exclusive) if given.
    ///
    /// A grant without expiry while one without expiry is in force (the
    /// purpose's latest entry, at or before `at`, and no later change was
    /// received) stores nothing: every answer of the ledger is the same with
    /// or without it. A grant with an expiry is stored even if it repeats
    /// the one in force (expiries are usually relative to the grant, so this
    /// is rare): were it not, a grant received later but dated before it
    /// could outlast that expiry. Grants are capped either way.
    ///
    /// A grant dated before a change received earlier (a late signal) is
    /// stored as given; it still ends where the latest grant and the latest
    /// withdrawal received begin: if one of them was not stored (it repeated
    /// the state then), it is stored now. So the state from the latest change
    /// received on is that of the full history of signals, and no data is
    /// more usable; answers about the past, between a repeated signal and an
    /// earlier one, may differ (never more usable for data).
    ///
    /// # Errors
    /// [`ConsentError::ExpiresBeforeGrant`] if `expires < at`;
    /// [`ConsentError::ServiceNeedsNoConsent`] for [`Purpose::Service`];
    /// [`ConsentError::TooManyEntries`] if the ledger holds
    /// [`MAX_LEDGER_ENTRIES`] entries and the grant would add one.
    ///
    /// # Example
    /// ```
    /// use tactful::{ConsentLedger, Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// let banner = Evidence::Ui("banner".into());
    /// ledger.grant(Purpose::Marketing, datetime!(2026-01-01 0:00 UTC), None, banner.clone())?;
    /// ledger.grant(Purpose::Marketing, datetime!(2026-01-02 0:00 UTC), None, banner)?;
    /// assert_eq!(ledger.len(), 1);
    /// # Ok::<(), tactful::ConsentError>(())
    /// ```
    pub fn grant(
        &mut self,
        purpose: Purpose,
        at: OffsetDateTime,
        expires: Option<OffsetDateTime>,
        evidence: Evidence,
    ) -> Result<&mut Self, ConsentError> {
        self.record_grant(purpose, at, expires, evidence)?;
        Ok(self)
    }

    /// Grants `purpose` at `at` for a span (the common "valid for 13
    /// months"): the grant expires at `at + valid_for`. A span reaching
    /// past the year 9999 never expires.
    ///
    /// # Errors
    /// [`ConsentError::ExpiresBeforeGrant`] for a zero or negative span; as
    /// [`grant`](Self::grant) otherwise.
    ///
    /// # Example
    /// ```
    /// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
    /// use time::macros::datetime;
    /// use time::Duration;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// let at = datetime!(2026-01-01 0:00 UTC);
    /// ledger.grant_for(Purpose::Marketing, at, Duration::days(395), Evidence::Ui("banner".into()))?;
    /// assert!(ledger.is_granted(Purpose::Marketing, at + Duration::days(394)));
    /// assert_eq!(ledger.state(Purpose::Marketing, at + Duration::days(395)), ConsentState::Expired);
    /// # Ok::<(), tactful::ConsentError>(())
    /// ```
    pub fn grant_for(
        &mut self,
        purpose: Purpose,
        at: OffsetDateTime,
        valid_for: Duration,
        evidence: Evidence,
    ) -> Result<&mut Self, ConsentError> {
        if !valid_for.is_positive() {
            return Err(ConsentError::ExpiresBeforeGrant {
                purpose,
                at,
                expires: at.saturating_add(valid_for),
            });
        }
        self.grant(purpose, at, at.checked_add(valid_for), evidence)
    }

    /// Records a withdrawal at `at`. Never refused for size: saying no must
    /// always work.
    ///
    /// A withdrawal of a purpose already withdrawn at `at` stores nothing.
    /// No answer changes: [`state`](Self::state) reads withdrawn from the
    /// earlier withdrawal on either way, and data recorded between the two
    /// was not granted when it was recorded, so [`usable`](Self::usable)
    /// refuses it either way. One answer does change:
    /// [`last_withdrawal`](Self::last_withdrawal) reports the stored one
    /// ([`latest_received`](Self::latest_received) keeps the latest). A
    /// withdrawal dated just before another one (nothing stored between)
    /// makes the later one redundant in the same way, and it is dropped. A
    /// late withdrawal is handled like a late grant (see
    /// [`grant`](Self::grant)).
    ///
    /// # Errors
    /// [`ConsentError::ServiceNeedsNoConsent`] for [`Purpose::Service`].
    pub fn withdraw(
        &mut self,
        purpose: Purpose,
        at: OffsetDateTime,
        evidence: Evidence,
    ) -> Result<&mut Self, ConsentError> {
        if purpose == Purpose::Service {
            return Err(ConsentError::ServiceNeedsNoConsent);
        }
        self.record_withdrawal(purpose, at, evidence);
        Ok(self)
    }

    /// Records a change given as an entry (its purpose, grant or
    /// withdrawal, instant and evidence) exactly as [`grant`](Self::grant)
    /// or [`withdraw`](Self::withdraw) would. Returns whether an entry was
    /// stored (`false`: it repeated the state in force).
    ///
    /// Replaying a history entry by entry (an import, a ledger written by
    /// tactful 0.1 as a bare array of entries) yields a bounded ledger with
    /// the same answers when the history is in time order; grants past the
    /// cap come back as errors, and those purposes keep their previous state.
    ///
    /// # Errors
    /// As [`grant`](Self::grant) for a grant, as [`withdraw`](Self::withdraw)
    /// for a withdrawal.
    ///
    /// # Example
    /// ```
    /// use tactful::{Change, ConsentEntry, ConsentLedger, Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let old: Vec<ConsentEntry> = serde_json::from_str(r#"[
    ///   {"purpose": "marketing", "change": {"grant": {"expires": null}},
    ///    "at": "2026-01-01T00:00:00Z", "evidence": {"consent_string": "CQSbk4AQ"}},
    ///   {"purpose": "marketing", "change": {"grant": {"expires": null}},
    ///    "at": "2026-01-02T00:00:00Z", "evidence": {"consent_string": "CQSbk4AQ"}}
    /// ]"#)?;
    /// let mut ledger = ConsentLedger::default();
    /// let stored: Vec<bool> = old
    ///     .into_iter()
    ///     .map(|e| ledger.record(e))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(stored, [true, false]);
    /// assert!(ledger.is_granted(Purpose::Marketing, datetime!(2026-01-03 0:00 UTC)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record(&mut self, entry: ConsentEntry) -> Result<bool, ConsentError> {
        let ConsentEntry {
            purpose,
            change,
            at,
            evidence,
        } = entry;
        match change {
            Change::Grant { expires } => self.record_grant(purpose, at, expires, evidence),
            Change::Withdraw if purpose == Purpose::Service => {
                Err(ConsentError::ServiceNeedsNoConsent)
            }
            Change::Withdraw => Ok(self.record_withdrawal(purpose, at, evidence)),
        }
    }

    /// All stored entries, in the order they were appended.
    #[must_use]
    pub fn entries(&self) -> &[ConsentEntry] {
        &self.entries
    }

    /// Number of stored entries (at most [`MAX_STORED_ENTRIES`]).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ledger is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The distinct consent strings the entries cite as evidence, each once,
    /// in the order of first use. There are never more than entries.
    #[must_use]
    pub fn consent_strings(&self) -> Vec<&str> {
        let mut seen: Vec<&Arc<str>> = Vec::new();
        for e in self.evidences() {
            if let Evidence::ConsentString(s) = e {
                if !seen.iter().any(|k| Arc::ptr_eq(k, s) || ***k == **s) {
                    seen.push(s);
                }
            }
        }
        seen.into_iter().map(|s| &**s).collect()
    }

    /// The latest grant and the latest withdrawal of `purpose` the ledger was
    /// told of, in the order received, whether they were stored as entries or
    /// not (a repeated signal is not stored, but its instant and evidence are
    /// kept here).
    #[must_use]
    pub fn latest_received(&self, purpose: Purpose) -> &[ConsentEntry] {
        self.latest_received
            .get(purpose.index())
            .map_or(&[], Vec::as_slice)
    }

    /// The state of `purpose` at `t`. [`Purpose::Service`] is always granted.
    ///
    /// The latest entry at or before `t` decides (for equal instants, the one
    /// appended last); a grant whose expiry is at or before `t` reads as
    /// [`ConsentState::Expired`].
    #[must_use]
    pub fn state(&self, purpose: Purpose, t: OffsetDateTime) -> ConsentState {
        if purpose == Purpose::Service {
            return ConsentState::Granted;
        }
        match self.decisive(purpose, t) {
            None => ConsentState::NeverAsked,
            Some(e) => entry_state(e, t),
        }
    }

    /// Whether `purpose` is granted at `t`.
    #[must_use]
    pub fn is_granted(&self, purpose: Purpose, t: OffsetDateTime) -> bool {
        self.state(purpose, t).is_granted()
    }

    /// The entry that decides the state of `purpose` at `t`, if any.
    #[must_use]
    pub fn decisive(&self, purpose: Purpose, t: OffsetDateTime) -> Option<&ConsentEntry> {
        // The common question is about now, at or after the latest entry.
        if let Some(l) = self.latest_entry(purpose) {
            if le(l.at, t) {
                return Some(l);
            }
        }
        let mut best: Option<&ConsentEntry> = None;
        for e in &self.entries {
            if e.purpose == purpose && le(e.at, t) && best.is_none_or(|b| le(b.at, e.at)) {
                best = Some(e);
            }
        }
        best
    }

    /// The latest stored withdrawal of `purpose` at or before `now`. A
    /// withdrawal repeated while the purpose was withdrawn is not stored, so
    /// this is the instant the current refusal began; see
    /// [`latest_received`](Self::latest_received) for the latest one
    /// received.
    #[must_use]
    pub fn last_withdrawal(&self, purpose: Purpose, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.entries
            .iter()
            .filter(|e| e.purpose == purpose && e.change == Change::Withdraw && e.at <= now)
            .map(|e| e.at)
            .max()
    }

    /// Whether data recorded at `at` may be used for `purpose` at `now`:
    /// granted at `at`, granted at `now`, and no withdrawal in `(at, now]`.
    #[must_use]
    pub fn usable(&self, purpose: Purpose, at: OffsetDateTime, now: OffsetDateTime) -> bool {
        if purpose == Purpose::Service {
            return true;
        }
        let (then, current, withdrawn) = self.scan(purpose, at, now);
        current.is_granted() && then.is_granted() && withdrawn.is_none_or(|w| w <= at)
    }

    /// In one pass: the state at `at`, the state at `now`, and the last
    /// withdrawal at or before `now`.
    pub(crate) fn scan(
        &self,
        purpose: Purpose,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> (ConsentState, ConsentState, Option<OffsetDateTime>) {
        let mut then: Option<&ConsentEntry> = None;
        let mut current: Option<&ConsentEntry> = None;
        let mut withdrawn: Option<OffsetDateTime> = None;
        for e in self.entries.iter().filter(|e| e.purpose == purpose) {
            if le(e.at, now) {
                if current.is_none_or(|b| le(b.at, e.at)) {
                    current = Some(e);
                }
                if e.change == Change::Withdraw && withdrawn.is_none_or(|w| !le(e.at, w)) {
                    withdrawn = Some(e.at);
                }
            }
            if le(e.at, at) && then.is_none_or(|b| le(b.at, e.at)) {
                then = Some(e);
            }
        }
        let state =
            |d: Option<&ConsentEntry>, t| d.map_or(ConsentState::NeverAsked, |e| entry_state(e, t));
        (state(then, at), state(current, now), withdrawn)
    }

    /// Applies the browser's Global Privacy Control signal (`Sec-GPC: 1`)
    /// at `now`: withdraws [`Purpose::PartnerData`] and [`Purpose::Marketing`]
    /// with [`Evidence::GlobalPrivacyControl`] where the person gave them
    /// (granted or expired at `now`). Returns the purposes it withdrew.
    ///
    /// A purpose never asked stays never asked: no data can have been used
    /// for it, and the person was not asked, so a report must not say they
    /// said no. The signal is still noted as received (see
    /// [`latest_received`](Self::latest_received)): a grant that arrives
    /// late, dated before it, ends where the signal began. A purpose already
    /// withdrawn stores nothing either, so the signal on every request
    /// stores nothing after the first.
    ///
    /// # Example
    /// ```
    /// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// ledger.grant(Purpose::Marketing, datetime!(2026-01-01 0:00 UTC), None, Evidence::Ui("banner".into()))?;
    /// let now = datetime!(2026-06-01 0:00 UTC);
    /// assert_eq!(ledger.apply_gpc(now), vec![Purpose::Marketing]);
    /// assert_eq!(ledger.state(Purpose::Marketing, now), ConsentState::Withdrawn);
    /// assert_eq!(ledger.decisive(Purpose::Marketing, now).unwrap().evidence, Evidence::GlobalPrivacyControl);
    /// // Partner data was never asked for: it is not reported as withdrawn.
    /// assert_eq!(ledger.state(Purpose::PartnerData, now), ConsentState::NeverAsked);
    /// // The next request carries the signal again: nothing changes.
    /// assert!(ledger.apply_gpc(now + time::Duration::seconds(1)).is_empty());
    /// assert_eq!(ledger.len(), 2);
    /// # Ok::<(), tactful::ConsentError>(())
    /// ```
    pub fn apply_gpc(&mut self, now: OffsetDateTime) -> Vec<Purpose> {
        [Purpose::PartnerData, Purpose::Marketing]
            .into_iter()
            .filter(|&p| {
                if self.state(p, now) == ConsentState::NeverAsked {
                    self.receive(&ConsentEntry {
                        purpose: p,
                        change: Change::Withdraw,
                        at: now,
                        evidence: Evidence::GlobalPrivacyControl,
                    });
                    return false;
                }
                self.record_withdrawal(p, now, Evidence::GlobalPrivacyControl)
            })
            .collect()
    }

    /// Applies an IAB TCF v2 consent string at `now` for `subject` (a vendor
    /// id or the publisher), with the raw string as evidence: each purpose the
    /// string allows (see the mapping table in [`tcf`]) is granted, each it
    /// refuses is withdrawn, where the ledger's state at `now` differs. A
    /// string that agrees with the ledger stores nothing; the raw string is
    /// held once however many entries cite it.
    ///
    /// Grants can be refused (the ledger is full, [`ConsentError::TooManyEntries`]);
    /// they are reported in [`TcfOutcome::refused`], never dropped silently.
    ///
    /// # Errors
    /// [`tcf::TcfError`] if `raw` is not a valid TC string; the ledger is
    /// then unchanged.
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::{CoreSegment, Subject, TcString, VendorSet};
    /// use tactful::{ConsentLedger, Purpose};
    /// use time::macros::datetime;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let now = datetime!(2026-06-01 12:00 UTC);
    /// let mut core = CoreSegment::new(now);
    /// core.purposes_consent = [1, 5, 6].into_iter().collect();
    /// core.vendor_consents = VendorSet::from_ids([755])?;
    /// let tc = TcString::new(core);
    /// let raw = tc.encode()?;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// let first = ledger.apply_tcf_str(&raw, Subject::Vendor(755), now)?;
    /// assert_eq!(first.changed, [Purpose::Personalization, Purpose::Marketing, Purpose::Measurement, Purpose::Location]);
    /// assert!(ledger.is_granted(Purpose::Personalization, now));
    ///
    /// // The CMP sends the same string with every page view: nothing is stored.
    /// let again = ledger.apply_tcf_str(&raw, Subject::Vendor(755), now + time::Duration::minutes(1))?;
    /// // An invalid string is a typed error and changes nothing.
    /// assert!(ledger.apply_tcf_str("not a tc string", Subject::Vendor(755), now).is_err());
    /// assert!(again.changed.is_empty() && again.refused.is_empty());
    /// assert_eq!(ledger.len(), 4);
    /// assert_eq!(ledger.consent_strings(), [raw.as_str()]);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tcf")]
    pub fn apply_tcf_str(
        &mut self,
        raw: &str,
        subject: tcf::Subject,
        now: OffsetDateTime,
    ) -> Result<TcfOutcome, tcf::TcfError> {
        let tc = tcf::TcString::decode(raw)?;
        Ok(self.apply_tcf(&tc, raw, subject, now))
    }

    /// Applies an IAB TCF v2 consent string already decoded; `raw` must be
    /// the text it was decoded from (it is kept as the evidence). Prefer
    /// [`apply_tcf_str`](Self::apply_tcf_str), which decodes it and so
    /// cannot be given a mismatched pair.
    #[cfg(feature = "tcf")]
    pub fn apply_tcf(
        &mut self,
        tc: &tcf::TcString,
        raw: &str,
        subject: tcf::Subject,
        now: OffsetDateTime,
    ) -> TcfOutcome {
        let verdicts = tc.purposes_for(subject);
        let evidence = self.intern(Evidence::ConsentString(Arc::from(raw)));
        let mut changed = Vec::new();
        let mut refused = Vec::new();
        for &(purpose, allowed) in &verdicts {
            let stored = if allowed {
                // A grant in force (with whatever expiry) already agrees.
                if self.state(purpose, now).is_granted() {
                    continue;
                }
                match self.record_grant(purpose, now, None, evidence.clone()) {
                    Ok(stored) => stored,
                    Err(e) => {
                        refused.push((purpose, e));
                        continue;
                    }
                }
            } else {
                self.record_withdrawal(purpose, now, evidence.clone())
            };
            if stored {
                changed.push(purpose);
            }
        }
        TcfOutcome {
            verdicts,
            changed,
            refused,
        }
    }

    /// The piecewise-constant history of one purpose: `(from, state)` points,
    /// sorted, each state holding until the next point.
    pub(crate) fn timeline(&self, purpose: Purpose) -> Vec<Point> {
        let mut idx: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries.get(i).is_some_and(|e| e.purpose == purpose))
            .collect();
        idx.sort_by_key(|&i| self.entries.get(i).map(|e| e.at));
        let mut out: Vec<Point> = Vec::new();
        let mut pending_expiry: Option<(OffsetDateTime, usize)> = None;
        for &i in &idx {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            if let Some((exp, j)) = pending_expiry.take() {
                if exp < e.at {
                    push_point(&mut out, exp, ConsentState::Expired, j);
                }
            }
            push_point(&mut out, e.at, entry_state(e, e.at), i);
            if let Change::Grant { expires: Some(exp) } = e.change {
                if exp > e.at {
                    pending_expiry = Some((exp, i));
                }
            }
        }
        if let Some((exp, j)) = pending_expiry {
            push_point(&mut out, exp, ConsentState::Expired, j);
        }
        out
    }

    /// The newest instant of any entry stored or change received: what a
    /// whole-profile erasure must cover so that no copy holding any of
    /// them brings it back.
    pub(crate) fn newest_instant(&self) -> Option<OffsetDateTime> {
        self.entries
            .iter()
            .chain(self.latest_received.iter().flatten())
            .map(|e| e.at)
            .max()
    }

    /// Drops every entry at or before `t` (a whole-profile erasure at `t`
    /// met a copy from before it).
    pub(crate) fn forget_through(&mut self, t: OffsetDateTime) {
        self.entries.retain(|e| e.at > t);
        for list in &mut self.latest_received {
            list.retain(|e| e.at > t);
        }
        self.reindex();
    }

    /// Replaces the whole history by a withdrawal of every purpose at `at`
    /// (used by erasure: nothing of the old history remains, and no merge
    /// with an older copy can bring a grant back).
    pub(crate) fn reset_withdrawn(&mut self, at: OffsetDateTime) {
        let erasure = |purpose| ConsentEntry {
            purpose,
            change: Change::Withdraw,
            at,
            evidence: Evidence::System("erasure".into()),
        };
        self.entries = Purpose::ALL
            .into_iter()
            .filter(|p| p.needs_consent())
            .map(erasure)
            .collect();
        for (purpose, list) in Purpose::ALL.into_iter().zip(&mut self.latest_received) {
            list.clear();
            if purpose.needs_consent() {
                list.push(erasure(purpose));
            }
        }
        self.reindex();
    }

    // -----------------------------------------------------------------------
    // Appending
    // -----------------------------------------------------------------------

    /// The grant path of [`grant`](Self::grant) and [`apply_tcf`](Self::apply_tcf):
    /// `Ok(true)` if an entry was stored, `Ok(false)` if the grant was
    /// already in force.
    fn record_grant(
        &mut self,
        purpose: Purpose,
        at: OffsetDateTime,
        expires: Option<OffsetDateTime>,
        evidence: Evidence,
    ) -> Result<bool, ConsentError> {
        if purpose == Purpose::Service {
            return Err(ConsentError::ServiceNeedsNoConsent);
        }
        if let Some(e) = expires {
            if e < at {
                return Err(ConsentError::ExpiresBeforeGrant {
                    purpose,
                    at,
                    expires: e,
                });
            }
        }
        let entry = ConsentEntry {
            purpose,
            change: Change::Grant { expires },
            at,
            evidence: self.intern(evidence),
        };
        let late = self.received_after(purpose, at);
        // Equal to the latest entry and not earlier than anything received:
        // it decides exactly what that entry decides, from an instant that
        // entry already covers. Only without expiry: a repeated expiry that
        // is not stored could not end a grant received late, dated before it.
        if !late
            && expires.is_none()
            && self
                .latest_entry(purpose)
                .is_some_and(|l| l.change == entry.change && le(l.at, at))
        {
            self.receive(&entry);
            return Ok(false);
        }
        if self.entries.len() >= MAX_LEDGER_ENTRIES {
            return Err(ConsentError::TooManyEntries {
                max: MAX_LEDGER_ENTRIES,
            });
        }
        self.receive(&entry);
        self.push(entry);
        if late {
            self.reassert(purpose, at, true);
        }
        Ok(true)
    }

    /// The withdrawal path (never refused): `true` if an entry was stored,
    /// `false` if the purpose was already withdrawn at `at`.
    fn record_withdrawal(
        &mut self,
        purpose: Purpose,
        at: OffsetDateTime,
        evidence: Evidence,
    ) -> bool {
        let entry = ConsentEntry {
            purpose,
            change: Change::Withdraw,
            at,
            evidence: self.intern(evidence),
        };
        let late = self.received_after(purpose, at);
        self.receive(&entry);
        if self
            .decisive(purpose, at)
            .is_some_and(|d| d.change == Change::Withdraw)
        {
            return false;
        }
        self.store_withdrawal(entry, None);
        if late {
            self.reassert(purpose, at, false);
        }
        true
    }

    /// Whether the ledger was told of a change of `purpose` dated after `at`.
    fn received_after(&self, purpose: Purpose, at: OffsetDateTime) -> bool {
        self.latest_received(purpose).iter().any(|r| !le(r.at, at))
    }

    /// Notes `e` as the latest change of its kind received for its purpose,
    /// unless one of that kind dated later was received.
    fn receive(&mut self, e: &ConsentEntry) {
        let grant = matches!(e.change, Change::Grant { .. });
        let Some(list) = self.latest_received.get_mut(e.purpose.index()) else {
            return;
        };
        let same_kind = list
            .iter()
            .position(|r| matches!(r.change, Change::Grant { .. }) == grant);
        if let Some(i) = same_kind {
            if list.get(i).is_some_and(|r| !le(r.at, e.at)) {
                return;
            }
            list.remove(i);
        }
        list.push(e.clone());
    }

    /// After a change of `purpose` dated `at` was stored although a later
    /// one had been received: the latest grant and withdrawal received must
    /// still say what they said from their instant on. A received change that
    /// was not stored (it repeated the one in force) may no longer be
    /// repeated by the stored history; it is stored now. A grant stored this
    /// way is exempt from the cap only when `grant_pays` (it comes with an
    /// accepted grant); otherwise it is left out at the cap, which leaves the
    /// history more restrictive, never less.
    fn reassert(&mut self, purpose: Purpose, at: OffsetDateTime, grant_pays: bool) {
        let mut received: Vec<ConsentEntry> = self.latest_received(purpose).to_vec();
        // In time order, and in the order received at equal instants.
        received.sort_by_key(|r| r.at);
        let mut restored: Vec<OffsetDateTime> = Vec::new();
        for r in received.into_iter().filter(|r| at < r.at) {
            let decides = self.decisive(purpose, r.at).map(|d| (d.change, d.at));
            let at_r = r.at;
            match decides {
                Some((change, _)) if change == r.change => continue,
                // A change stored at that very instant (not just now) arrived
                // after `r` and decides it; a withdrawal still blocks the
                // data before it.
                Some((_, t)) if t == r.at && !restored.contains(&t) => {
                    // Needed only where something else was stored just
                    // before: after a withdrawal it blocks nothing more.
                    let cut = self.entries.iter().any(|e| {
                        e.purpose == purpose && e.at == r.at && e.change == Change::Withdraw
                    });
                    let after_withdrawal = self
                        .entries
                        .iter()
                        .filter(|e| e.purpose == purpose && e.at < r.at)
                        .reduce(|best, e| if le(best.at, e.at) { e } else { best })
                        .is_some_and(|e| e.change == Change::Withdraw);
                    if r.change == Change::Withdraw && !cut && !after_withdrawal {
                        let before = self
                            .entries
                            .iter()
                            .position(|e| e.purpose == purpose && e.at == r.at);
                        self.store_withdrawal(r, before);
                    }
                }
                _ if r.change == Change::Withdraw => self.store_withdrawal(r, None),
                _ => {
                    if grant_pays || self.entries.len() < MAX_LEDGER_ENTRIES {
                        self.push(r);
                    }
                }
            }
            restored.push(at_r);
        }
    }

    /// Stores a withdrawal that changes the state: appended, or inserted at
    /// index `before` (ahead of entries at the same instant).
    fn store_withdrawal(&mut self, entry: ConsentEntry, before: Option<usize>) {
        let (purpose, at) = (entry.purpose, entry.at);
        let in_order = self.latest_entry(purpose).is_none_or(|l| le(l.at, at));
        match before {
            Some(i) if i < self.entries.len() => {
                self.entries.insert(i, entry);
                self.reindex();
            }
            _ => self.push(entry),
        }
        if !in_order {
            // A withdrawal stored right after this one (nothing between)
            // now repeats it: drop it, as if it had arrived second.
            if let Some(next) = self.successor(purpose, at) {
                if self
                    .entries
                    .get(next)
                    .is_some_and(|e| e.change == Change::Withdraw)
                {
                    self.entries.remove(next);
                    self.reindex();
                }
            }
        }
        self.fit();
    }

    /// Appends `e`, sharing its consent string with the entries that cite an
    /// equal one.
    fn push(&mut self, mut e: ConsentEntry) {
        e.evidence = self.intern(e.evidence);
        let i = self.entries.len();
        let newest = self.latest_entry(e.purpose).is_none_or(|l| le(l.at, e.at));
        if let (true, Some(slot)) = (newest, self.latest.get_mut(e.purpose.index())) {
            *slot = Some(i);
        }
        self.entries.push(e);
    }

    /// The purpose's latest entry: the one that decides from its instant on.
    fn latest_entry(&self, purpose: Purpose) -> Option<&ConsentEntry> {
        self.latest
            .get(purpose.index())
            .copied()
            .flatten()
            .and_then(|i| self.entries.get(i))
    }

    /// The index of the entry of `purpose` that follows instant `at` in time
    /// order: the earliest after `at`, the first appended among equals.
    fn successor(&self, purpose: Purpose, at: OffsetDateTime) -> Option<usize> {
        let mut best: Option<(usize, OffsetDateTime)> = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.purpose == purpose && !le(e.at, at) && best.is_none_or(|(_, b)| e.at < b) {
                best = Some((i, e.at));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Recomputes the per-purpose latest entries after entries were removed
    /// or replaced.
    pub(super) fn reindex(&mut self) {
        let mut latest: [Option<usize>; PURPOSES] = [None; PURPOSES];
        for (i, e) in self.entries.iter().enumerate() {
            if let Some(slot) = latest.get_mut(e.purpose.index()) {
                let newer = slot
                    .and_then(|j| self.entries.get(j))
                    .is_none_or(|l| le(l.at, e.at));
                if newer {
                    *slot = Some(i);
                }
            }
        }
        self.latest = latest;
    }

    /// Every evidence the ledger holds: the entries', then the latest
    /// changes received.
    fn evidences(&self) -> impl Iterator<Item = &Evidence> {
        self.entries
            .iter()
            .chain(self.latest_received.iter().flatten())
            .map(|e| &e.evidence)
    }

    /// `evidence`, with a consent string replaced by the ledger's copy of an
    /// equal one if it holds one, so each distinct string is held once.
    fn intern(&self, mut evidence: Evidence) -> Evidence {
        if let Evidence::ConsentString(s) = &mut evidence {
            // Newest first: a repeated string is usually a recent one.
            let mut last: Option<&Arc<str>> = None;
            let known = self
                .entries
                .iter()
                .rev()
                .chain(self.latest_received.iter().flatten())
                .filter_map(|e| match &e.evidence {
                    Evidence::ConsentString(k) => Some(k),
                    _ => None,
                })
                .find(|k| {
                    let skip = last.is_some_and(|l| Arc::ptr_eq(l, k));
                    last = Some(k);
                    !skip && (Arc::ptr_eq(k, s) || ***k == **s)
                });
            if let Some(k) = known {
                *s = Arc::clone(k);
            }
        }
        evidence
    }

    /// Shares every consent string among the entries that cite equal ones
    /// (after entries came from another ledger).
    pub(super) fn intern_all(&mut self) {
        // Keyed by address, holding the original so no address is reused
        // while the table lives.
        let mut by_address: HashMap<usize, (Arc<str>, Arc<str>)> = HashMap::new();
        let mut by_text: HashSet<Arc<str>> = HashSet::new();
        let evidences = self
            .entries
            .iter_mut()
            .chain(self.latest_received.iter_mut().flatten())
            .map(|e| &mut e.evidence);
        for evidence in evidences {
            if let Evidence::ConsentString(s) = evidence {
                let address = Arc::as_ptr(s).cast::<u8>() as usize;
                let shared = match by_address.get(&address) {
                    Some((_, shared)) => Arc::clone(shared),
                    None => {
                        let shared = match by_text.get(&**s) {
                            Some(k) => Arc::clone(k),
                            None => {
                                by_text.insert(Arc::clone(s));
                                Arc::clone(s)
                            }
                        };
                        by_address.insert(address, (Arc::clone(s), Arc::clone(&shared)));
                        shared
                    }
                };
                *s = shared;
            }
        }
    }

    /// Keeps the ledger within [`MAX_STORED_ENTRIES`]. Never acts on a ledger
    /// built by appends alone or by one merge of two such ledgers (see
    /// [`MAX_STORED_ENTRIES`]); beyond that, folds the oldest history: the
    /// entries up to an instant `f` are replaced by one entry per purpose at
    /// `f` restating its state there. Every answer about instants at or
    /// after `f` is unchanged; before `f` every purpose reads as never asked,
    /// so no data recorded before `f` can be used again (more restrictive,
    /// never less). Returns `f`.
    pub(super) fn fit(&mut self) -> Option<OffsetDateTime> {
        let excess = self.entries.len().checked_sub(MAX_STORED_ENTRIES)?;
        if excess == 0 {
            return None;
        }
        let mut instants: Vec<OffsetDateTime> = self.entries.iter().map(|e| e.at).collect();
        instants.sort_unstable();
        // Dropping the `excess + PURPOSES` oldest entries (at least) leaves
        // room for one restating entry per purpose.
        let f = *instants.get(excess + PURPOSES - 1).or(instants.last())?;
        let restated: Vec<ConsentEntry> = Purpose::ALL
            .into_iter()
            .filter_map(|purpose| {
                let d = self.decisive(purpose, f)?;
                let change = match d.change {
                    Change::Grant { expires: Some(x) } if x <= f => {
                        Change::Grant { expires: Some(f) }
                    }
                    c => c,
                };
                Some(ConsentEntry {
                    purpose,
                    change,
                    at: f,
                    evidence: d.evidence.clone(),
                })
            })
            .collect();
        self.entries.retain(|e| e.at > f);
        self.entries.splice(0..0, restated);
        self.reindex();
        Some(f)
    }
}

impl ConsentState {
    fn max_restrictive(self, other: ConsentState) -> ConsentState {
        if other.restriction() > self.restriction() {
            other
        } else {
            self
        }
    }
}

/// `a <= b`, cheaply when both carry the same offset (the common case: all
/// UTC), where comparing `OffsetDateTime`s would normalise both first.
fn le(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    if a.offset() == b.offset() {
        (a.date(), a.time()) <= (b.date(), b.time())
    } else {
        a <= b
    }
}

fn entry_state(e: &ConsentEntry, t: OffsetDateTime) -> ConsentState {
    match e.change {
        Change::Withdraw => ConsentState::Withdrawn,
        Change::Grant { expires: Some(x) } if x <= t => ConsentState::Expired,
        Change::Grant { .. } => ConsentState::Granted,
    }
}

fn push_point(out: &mut Vec<Point>, t: OffsetDateTime, s: ConsentState, i: usize) {
    match out.last_mut() {
        Some(last) if last.0 == t => *last = (t, s, i),
        _ => out.push((t, s, i)),
    }
}

fn lookup(tl: &[Point], t: OffsetDateTime) -> Option<(ConsentState, usize)> {
    let n = tl.partition_point(|p| p.0 <= t);
    n.checked_sub(1).and_then(|i| tl.get(i)).map(|p| (p.1, p.2))
}

/// A point of a purpose's timeline: from this instant, this state, decided
/// by the entry at this index.
pub(crate) type Point = (OffsetDateTime, ConsentState, usize);

/// Per-purpose usability of data at a fixed `now`, precomputed once so the
/// scoring loop answers "may an event recorded at `at` be used" by a binary
/// search instead of a ledger scan.
#[derive(Debug, Clone)]
pub(crate) struct ConsentGate {
    gates: [Option<PurposeGate>; Purpose::ALL.len()],
}

#[derive(Debug, Clone)]
struct PurposeGate {
    /// Data must be recorded at or after the last withdrawal.
    not_before: Option<OffsetDateTime>,
    /// Timeline of the purpose, to ask "granted at `at`".
    timeline: Vec<Point>,
}

impl ConsentGate {
    pub(crate) fn new(ledger: &ConsentLedger, now: OffsetDateTime) -> Self {
        let gates = Purpose::ALL.map(|p| {
            if !p.needs_consent() {
                return Some(PurposeGate {
                    not_before: None,
                    timeline: Vec::new(),
                });
            }
            if !ledger.is_granted(p, now) {
                return None;
            }
            Some(PurposeGate {
                not_before: ledger.last_withdrawal(p, now),
                timeline: ledger.timeline(p),
            })
        });
        Self { gates }
    }

    /// Whether data recorded at `at` may be used for `purpose` now.
    pub(crate) fn allows(&self, purpose: Purpose, at: OffsetDateTime) -> bool {
        if !purpose.needs_consent() {
            return true;
        }
        let Some(Some(g)) = self.gates.get(purpose.index()) else {
            return false;
        };
        g.not_before.is_none_or(|w| w <= at)
            && lookup(&g.timeline, at).is_some_and(|(s, _)| s.is_granted())
    }

    /// For a purpose granted now: the last withdrawal and the timeline.
    pub(crate) fn parts(&self, purpose: Purpose) -> Option<(Option<OffsetDateTime>, &[Point])> {
        match self.gates.get(purpose.index()) {
            Some(Some(g)) => Some((g.not_before, &g.timeline)),
            _ => None,
        }
    }

    /// The first purpose of `purposes` that blocks data recorded at `at`.
    pub(crate) fn first_blocking(&self, purposes: Purposes, at: OffsetDateTime) -> Option<Purpose> {
        purposes.iter().find(|p| !self.allows(*p, at))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ui() -> Evidence {
        Evidence::Ui("test".into())
    }

    #[test]
    fn four_states_are_distinct() {
        let mut l = ConsentLedger::default();
        let p = Purpose::Marketing;
        l.grant(
            p,
            datetime!(2026-01-01 0:00 UTC),
            Some(datetime!(2026-02-01 0:00 UTC)),
            ui(),
        )
        .unwrap();
        l.grant(p, datetime!(2026-03-01 0:00 UTC), None, ui())
            .unwrap();
        l.withdraw(p, datetime!(2026-04-01 0:00 UTC), ui()).unwrap();
        assert_eq!(
            l.state(p, datetime!(2025-01-01 0:00 UTC)),
            ConsentState::NeverAsked
        );
        assert_eq!(
            l.state(p, datetime!(2026-01-15 0:00 UTC)),
            ConsentState::Granted
        );
        assert_eq!(
            l.state(p, datetime!(2026-02-01 0:00 UTC)),
            ConsentState::Expired
        );
        assert_eq!(
            l.state(p, datetime!(2026-03-15 0:00 UTC)),
            ConsentState::Granted
        );
        assert_eq!(
            l.state(p, datetime!(2026-04-01 0:00 UTC)),
            ConsentState::Withdrawn
        );
        assert_eq!(
            l.state(Purpose::Service, datetime!(2026-04-01 0:00 UTC)),
            ConsentState::Granted
        );
    }

    #[test]
    fn rejects_nonsense() {
        let mut l = ConsentLedger::default();
        assert!(l
            .grant(
                Purpose::Marketing,
                datetime!(2026-02-01 0:00 UTC),
                Some(datetime!(2026-01-01 0:00 UTC)),
                ui()
            )
            .is_err());
        assert_eq!(
            l.withdraw(Purpose::Service, datetime!(2026-02-01 0:00 UTC), ui())
                .unwrap_err(),
            ConsentError::ServiceNeedsNoConsent
        );
        assert!(l.is_empty());
    }

    #[test]
    fn withdrawal_is_retroactive_and_forever() {
        let mut l = ConsentLedger::default();
        let p = Purpose::Personalization;
        l.grant(p, datetime!(2026-01-01 0:00 UTC), None, ui())
            .unwrap();
        l.withdraw(p, datetime!(2026-02-01 0:00 UTC), ui()).unwrap();
        l.grant(p, datetime!(2026-03-01 0:00 UTC), None, ui())
            .unwrap();
        let now = datetime!(2026-04-01 0:00 UTC);
        assert!(!l.usable(p, datetime!(2026-01-15 0:00 UTC), now));
        assert!(l.usable(p, datetime!(2026-03-15 0:00 UTC), now));
        let gate = ConsentGate::new(&l, now);
        assert!(!gate.allows(p, datetime!(2026-01-15 0:00 UTC)));
        assert!(!gate.allows(p, datetime!(2026-02-15 0:00 UTC)));
        assert!(gate.allows(p, datetime!(2026-03-15 0:00 UTC)));
    }

    #[test]
    fn merge_keeps_the_more_restrictive_state_everywhere() {
        let p = Purpose::Marketing;
        let mut old = ConsentLedger::default();
        old.grant(p, datetime!(2026-01-01 0:00 UTC), None, ui())
            .unwrap();
        let mut new = old.clone();
        new.withdraw(p, datetime!(2026-02-01 0:00 UTC), ui())
            .unwrap();
        let mut m = old.clone();
        m.merge(&new);
        let mut m2 = new.clone();
        m2.merge(&old);
        for day in 0..120 {
            let t = datetime!(2025-12-01 0:00 UTC) + time::Duration::days(day);
            let want = if new.state(p, t).restriction() >= old.state(p, t).restriction() {
                new.state(p, t)
            } else {
                old.state(p, t)
            };
            assert_eq!(m.state(p, t), want, "{t}");
            assert_eq!(m2.state(p, t), want, "{t}");
        }
    }

    fn hour(h: i64) -> OffsetDateTime {
        datetime!(2026-01-01 0:00 UTC) + time::Duration::hours(h)
    }

    #[test]
    fn gpc_withdraws_only_what_was_given_and_a_late_grant_still_ends_at_it() {
        let mut l = ConsentLedger::default();
        l.grant(Purpose::Marketing, hour(0), Some(hour(2)), ui())
            .unwrap();
        // Marketing expired (given, so withdrawn); partner data never asked.
        assert_eq!(l.apply_gpc(hour(3)), [Purpose::Marketing]);
        assert_eq!(
            l.state(Purpose::Marketing, hour(4)),
            ConsentState::Withdrawn
        );
        assert_eq!(
            l.state(Purpose::PartnerData, hour(4)),
            ConsentState::NeverAsked
        );
        assert_eq!(l.len(), 2);
        // A partner-data grant dated before the signal arrives late: the
        // signal still ends it.
        l.grant(Purpose::PartnerData, hour(1), None, ui()).unwrap();
        assert!(l.is_granted(Purpose::PartnerData, hour(2)));
        assert_eq!(
            l.state(Purpose::PartnerData, hour(4)),
            ConsentState::Withdrawn
        );
        assert_eq!(
            l.decisive(Purpose::PartnerData, hour(4)).unwrap().evidence,
            Evidence::GlobalPrivacyControl
        );
        // A grant after the signal is the person's later choice.
        let mut l = ConsentLedger::default();
        assert!(l.apply_gpc(hour(1)).is_empty());
        assert!(l.is_empty());
        l.grant(Purpose::PartnerData, hour(2), None, ui()).unwrap();
        assert!(l.is_granted(Purpose::PartnerData, hour(3)));
    }

    #[test]
    fn a_repeated_signal_stores_nothing_but_is_remembered() {
        let p = Purpose::Marketing;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.grant(p, hour(1), None, ui()).unwrap();
        l.withdraw(p, hour(2), ui()).unwrap();
        l.withdraw(p, hour(3), Evidence::GlobalPrivacyControl)
            .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l.last_withdrawal(p, hour(9)), Some(hour(2)));
        let received: Vec<(Change, OffsetDateTime)> = l
            .latest_received(p)
            .iter()
            .map(|e| (e.change, e.at))
            .collect();
        assert_eq!(
            received,
            [
                (Change::Grant { expires: None }, hour(1)),
                (Change::Withdraw, hour(3))
            ]
        );
        // A grant with an expiry is stored even when it repeats the one in
        // force; grants stay capped either way.
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), Some(hour(9)), ui()).unwrap();
        l.grant(p, hour(1), Some(hour(9)), ui()).unwrap();
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn a_late_grant_ends_at_the_repeated_withdrawal_it_would_outlast() {
        let p = Purpose::Personalization;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.withdraw(p, hour(5), ui()).unwrap();
        l.withdraw(p, hour(8), Evidence::Import("crm".into()))
            .unwrap();
        assert_eq!(l.len(), 2);
        // Another device's consent from 6:00 arrives late.
        l.grant(p, hour(6), None, ui()).unwrap();
        assert_eq!(l.state(p, hour(7)), ConsentState::Granted);
        assert_eq!(l.state(p, hour(8)), ConsentState::Withdrawn);
        assert!(!l.usable(p, hour(7), hour(9)));
        let restored = l.decisive(p, hour(8)).unwrap();
        assert_eq!(
            (restored.at, &restored.evidence),
            (hour(8), &Evidence::Import("crm".into()))
        );
    }

    #[test]
    fn a_late_withdrawal_drops_the_one_it_now_repeats() {
        let p = Purpose::Marketing;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.withdraw(p, hour(10), ui()).unwrap();
        l.withdraw(p, hour(5), ui()).unwrap();
        let kept: Vec<OffsetDateTime> = l.entries().iter().map(|e| e.at).collect();
        assert_eq!(kept, [hour(0), hour(5)]);
        assert_eq!(l.state(p, hour(7)), ConsentState::Withdrawn);
        assert_eq!(l.state(p, hour(11)), ConsentState::Withdrawn);
        // A late withdrawal where the purpose was withdrawn stores nothing.
        l.withdraw(p, hour(6), ui()).unwrap();
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn equal_consent_strings_are_held_once() {
        let mut l = ConsentLedger::default();
        let text = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA";
        l.grant(
            Purpose::Marketing,
            hour(0),
            None,
            Evidence::ConsentString(text.into()),
        )
        .unwrap();
        l.withdraw(
            Purpose::Location,
            hour(1),
            Evidence::ConsentString(String::from(text).into()),
        )
        .unwrap();
        let arcs: Vec<&Arc<str>> = l
            .entries()
            .iter()
            .filter_map(|e| match &e.evidence {
                Evidence::ConsentString(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(Arc::ptr_eq(arcs[0], arcs[1]));
        assert_eq!(l.consent_strings(), [text]);
    }

    #[test]
    fn erasure_forgets_what_was_received() {
        let p = Purpose::Marketing;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.grant(p, hour(3), None, ui()).unwrap();
        l.reset_withdrawn(hour(4));
        assert_eq!(l.latest_received(p).len(), 1);
        assert_eq!(l.latest_received(p)[0].change, Change::Withdraw);
        assert!(l.latest_received(Purpose::Service).is_empty());

        // A copy from before an erasure forgets its history, received
        // signals included: a late change cannot bring an old grant back.
        let mut copy = ConsentLedger::default();
        copy.grant(p, hour(0), None, ui()).unwrap();
        copy.grant(p, hour(3), None, ui()).unwrap();
        copy.forget_through(hour(4));
        copy.withdraw(p, hour(1), ui()).unwrap();
        assert!(!copy.is_granted(p, hour(5)));
    }

    #[test]
    fn fitting_folds_the_oldest_history_and_keeps_every_later_answer() {
        let p = Purpose::Marketing;
        let second = |k: i64| hour(0) + time::Duration::seconds(k);
        // Longer than any path can make it (as only entries written here can
        // be): alternating grants, lapsing grants and withdrawals.
        let mut long = ConsentLedger::default();
        for k in 0..(MAX_STORED_ENTRIES + 50) as i64 {
            let change = match k % 3 {
                0 => Change::Grant { expires: None },
                1 => Change::Grant {
                    expires: Some(second(k) + time::Duration::milliseconds(400)),
                },
                _ => Change::Withdraw,
            };
            long.entries.push(ConsentEntry {
                purpose: p,
                change,
                at: second(k),
                evidence: ui(),
            });
        }
        long.reindex();
        let mut fitted = long.clone();
        let f = fitted.fit().unwrap();
        assert!(fitted.len() <= MAX_STORED_ENTRIES);
        assert_eq!(fitted.fit(), None);
        let probes: Vec<OffsetDateTime> = (0..(MAX_STORED_ENTRIES + 60) as i64)
            .step_by(97)
            .flat_map(|k| [second(k), second(k) + time::Duration::milliseconds(500)])
            .chain([f, f + time::Duration::milliseconds(500)])
            .collect();
        for &t in &probes {
            if t >= f {
                assert_eq!(fitted.state(p, t), long.state(p, t), "{t}");
                assert_eq!(
                    fitted.usable(p, t, t + time::Duration::seconds(1)),
                    long.usable(p, t, t + time::Duration::seconds(1))
                );
            } else {
                assert!(!fitted.is_granted(p, t), "{t} before {f}");
            }
        }
    }

    #[test]
    fn stored_received_changes_are_checked() {
        let read = |received: &str| {
            serde_json::from_str::<ConsentLedger>(&format!(
                r#"{{"consent_strings":[],"entries":[],"latest_received":[{received}]}}"#
            ))
        };
        let w = |purpose: &str| {
            format!(
                r#"{{"purpose":"{purpose}","change":"withdraw","at":"2026-01-01T00:00:00Z","evidence":"global_privacy_control"}}"#
            )
        };
        assert!(read(&w("marketing")).is_ok());
        let twice = read(&format!("{},{}", w("marketing"), w("marketing")))
            .unwrap_err()
            .to_string();
        assert!(
            twice.contains("latest_received[1]: a second latest withdrawal of marketing"),
            "{twice}"
        );
        let service = read(&w("service")).unwrap_err().to_string();
        assert!(service.contains("service needs no consent"), "{service}");
    }

    #[test]
    fn replaying_a_grown_history_keeps_it_bounded_with_the_same_present() {
        // As 0.1 stored it: two consent strings alternated, every change an
        // entry with its own copy of the string, past the cap.
        let yes: Arc<str> = Arc::from("CQ-yes".repeat(100));
        let no: Arc<str> = Arc::from("CQ-no".repeat(100));
        let purposes = [Purpose::Personalization, Purpose::Marketing];
        let mut old = Vec::new();
        for k in 0..8_000i64 {
            let (change, text) = if k % 2 == 0 {
                (Change::Grant { expires: None }, &yes)
            } else {
                (Change::Withdraw, &no)
            };
            for purpose in purposes {
                old.push(ConsentEntry {
                    purpose,
                    change,
                    at: hour(k),
                    evidence: Evidence::ConsentString(Arc::from(&**text)),
                });
            }
        }
        let mut ledger = ConsentLedger::default();
        let mut refused = 0;
        for e in old {
            if let Err(e) = ledger.record(e) {
                assert_eq!(
                    e,
                    ConsentError::TooManyEntries {
                        max: MAX_LEDGER_ENTRIES
                    }
                );
                refused += 1;
            }
        }
        assert!(ledger.len() <= MAX_LEDGER_ENTRIES + 7, "{}", ledger.len());
        assert!(refused > 0);
        assert_eq!(ledger.consent_strings().len(), 2);
        for purpose in purposes {
            assert_eq!(ledger.state(purpose, hour(8_000)), ConsentState::Withdrawn);
            assert!(ledger.is_granted(purpose, hour(2)));
        }
        assert_eq!(
            ledger.record(ConsentEntry {
                purpose: Purpose::Service,
                change: Change::Withdraw,
                at: hour(0),
                evidence: ui(),
            }),
            Err(ConsentError::ServiceNeedsNoConsent)
        );
    }
}
