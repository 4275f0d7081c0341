//! Purposes and the append-only consent ledger.
//!
//! Consent is per [`Purpose`], timestamped, with [`Evidence`]. The ledger
//! answers [`ConsentLedger::state`] for any instant, and tells "never asked"
//! and "expired" (ask again) apart from "withdrawn" (the person said no).

use std::fmt;

#[cfg(feature = "tcf")]
pub mod tcf;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

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
    ConsentString(String),
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

/// The most entries a ledger holds; further changes are refused with
/// [`ConsentError::TooManyEntries`]. Merging may rewrite a ledger shorter.
pub const MAX_LEDGER_ENTRIES: usize = 10_000;

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
    /// The ledger already holds [`MAX_LEDGER_ENTRIES`] entries.
    #[error("the consent ledger already holds {max} entries")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
}

/// The append-only history of consent changes of one person.
///
/// # Example
/// ```
/// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
/// use time::macros::datetime;
///
/// let mut ledger = ConsentLedger::default();
/// let ui = Evidence::Ui("settings page".into());
/// ledger.grant(Purpose::Personalization, datetime!(2026-01-01 0:00 UTC), None, ui.clone())?;
/// ledger.withdraw(Purpose::Personalization, datetime!(2026-03-01 0:00 UTC), ui)?;
///
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2025-12-31 0:00 UTC)), ConsentState::NeverAsked);
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2026-02-01 0:00 UTC)), ConsentState::Granted);
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2026-03-02 0:00 UTC)), ConsentState::Withdrawn);
/// # Ok::<(), tactful::ConsentError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConsentLedger {
    entries: Vec<ConsentEntry>,
}

impl ConsentLedger {
    /// Records a grant at `at`, lapsing at `expires` (exclusive) if given.
    ///
    /// # Errors
    /// [`ConsentError::ExpiresBeforeGrant`] if `expires < at`;
    /// [`ConsentError::ServiceNeedsNoConsent`] for [`Purpose::Service`].
    pub fn grant(
        &mut self,
        purpose: Purpose,
        at: OffsetDateTime,
        expires: Option<OffsetDateTime>,
        evidence: Evidence,
    ) -> Result<&mut Self, ConsentError> {
        if purpose == Purpose::Service {
            return Err(ConsentError::ServiceNeedsNoConsent);
        }
        if self.entries.len() >= MAX_LEDGER_ENTRIES {
            return Err(ConsentError::TooManyEntries {
                max: MAX_LEDGER_ENTRIES,
            });
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
        self.entries.push(ConsentEntry {
            purpose,
            change: Change::Grant { expires },
            at,
            evidence,
        });
        Ok(self)
    }

    /// Records a withdrawal at `at`.
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
        // Withdrawing is never refused for size: saying no must always work.
        self.entries.push(ConsentEntry {
            purpose,
            change: Change::Withdraw,
            at,
            evidence,
        });
        Ok(self)
    }

    /// All entries in the order they were appended.
    #[must_use]
    pub fn entries(&self) -> &[ConsentEntry] {
        &self.entries
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ledger is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        let mut best: Option<&ConsentEntry> = None;
        for e in &self.entries {
            if e.purpose == purpose && e.at <= t && best.is_none_or(|b| e.at >= b.at) {
                best = Some(e);
            }
        }
        best
    }

    /// The latest withdrawal of `purpose` at or before `now`.
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
    /// with [`Evidence::GlobalPrivacyControl`] (unless already withdrawn).
    /// Returns the purposes it withdrew.
    ///
    /// # Example
    /// ```
    /// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// ledger.grant(Purpose::Marketing, datetime!(2026-01-01 0:00 UTC), None, Evidence::Ui("banner".into()))?;
    /// let now = datetime!(2026-06-01 0:00 UTC);
    /// assert_eq!(ledger.apply_gpc(now), vec![Purpose::PartnerData, Purpose::Marketing]);
    /// assert_eq!(ledger.state(Purpose::Marketing, now), ConsentState::Withdrawn);
    /// assert_eq!(ledger.decisive(Purpose::Marketing, now).unwrap().evidence, Evidence::GlobalPrivacyControl);
    /// # Ok::<(), tactful::ConsentError>(())
    /// ```
    pub fn apply_gpc(&mut self, now: OffsetDateTime) -> Vec<Purpose> {
        let mut withdrawn = Vec::new();
        for purpose in [Purpose::PartnerData, Purpose::Marketing] {
            if self.state(purpose, now) != ConsentState::Withdrawn {
                self.entries.push(ConsentEntry {
                    purpose,
                    change: Change::Withdraw,
                    at: now,
                    evidence: Evidence::GlobalPrivacyControl,
                });
                withdrawn.push(purpose);
            }
        }
        withdrawn
    }

    /// Applies an IAB TCF v2 consent string at `now` for `subject` (a vendor
    /// id or the publisher), with the raw string as evidence: each purpose the
    /// string allows (see the mapping table in [`tcf`]) is granted, each it
    /// refuses is withdrawn, where the ledger's state differs. Returns the
    /// verdict per mapped purpose.
    #[cfg(feature = "tcf")]
    pub fn apply_tcf(
        &mut self,
        tc: &tcf::TcString,
        raw: &str,
        subject: tcf::Subject,
        now: OffsetDateTime,
    ) -> Vec<(Purpose, bool)> {
        let verdicts = tc.purposes_for(subject);
        for &(purpose, allowed) in &verdicts {
            let state = self.state(purpose, now);
            let change = match (allowed, state) {
                (true, ConsentState::Granted) | (false, ConsentState::Withdrawn) => continue,
                (true, _) => Change::Grant { expires: None },
                (false, _) => Change::Withdraw,
            };
            self.entries.push(ConsentEntry {
                purpose,
                change,
                at: now,
                evidence: Evidence::ConsentString(raw.to_owned()),
            });
        }
        verdicts
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

    /// Joins the ledger of another record of the same person: for every
    /// purpose, the more restrictive state of the two wins at every instant
    /// (withdrawn over expired over never asked over granted).
    ///
    /// The result is rewritten as the shortest history with that state at
    /// every instant, keeping the evidence of the entries that decided it.
    /// One approximation: where the joined state would return to "never
    /// asked" after a withdrawal (one record withdrew and later re-granted,
    /// the other was never asked), it reads as "expired" — both mean "ask".
    pub fn merge(&mut self, other: &ConsentLedger) {
        let mut merged = Vec::new();
        for purpose in Purpose::ALL {
            let a = self.timeline(purpose);
            let b = other.timeline(purpose);
            if a.is_empty() && b.is_empty() {
                continue;
            }
            let mut points: Vec<OffsetDateTime> = a.iter().chain(&b).map(|p| p.0).collect();
            points.sort();
            points.dedup();
            // (from, state, evidence) segments of the joined state.
            let mut segs: Vec<(OffsetDateTime, ConsentState, Evidence)> = Vec::new();
            for t in points {
                let sa = lookup(&a, t);
                let sb = lookup(&b, t);
                let (state, ev) = match (sa, sb) {
                    (Some((s1, i)), Some((s2, j))) => {
                        if s2.restriction() > s1.restriction() {
                            (s2, other.entries.get(j).map(|e| e.evidence.clone()))
                        } else {
                            (s1, self.entries.get(i).map(|e| e.evidence.clone()))
                        }
                    }
                    (Some((s, i)), None) => (
                        s.max_restrictive(ConsentState::NeverAsked),
                        self.entries.get(i).map(|e| e.evidence.clone()),
                    ),
                    (None, Some((s, j))) => (
                        s.max_restrictive(ConsentState::NeverAsked),
                        other.entries.get(j).map(|e| e.evidence.clone()),
                    ),
                    (None, None) => (ConsentState::NeverAsked, None),
                };
                let prev = segs.last().map_or(ConsentState::NeverAsked, |s| s.1);
                if state != prev {
                    let ev = ev.unwrap_or_else(|| Evidence::System("merge".into()));
                    segs.push((t, state, ev));
                }
            }
            let mut own: Vec<ConsentEntry> = Vec::new();
            let mut k = 0;
            while let Some((t, state, ev)) = segs.get(k).cloned() {
                let next = segs.get(k + 1);
                let change = match state {
                    ConsentState::Withdrawn => Change::Withdraw,
                    ConsentState::Granted => match next {
                        Some((t2, ConsentState::Expired, _)) => {
                            k += 1;
                            Change::Grant { expires: Some(*t2) }
                        }
                        _ => Change::Grant { expires: None },
                    },
                    // Reached without a preceding grant: a grant lapsed at once.
                    ConsentState::Expired | ConsentState::NeverAsked => {
                        Change::Grant { expires: Some(t) }
                    }
                };
                own.push(ConsentEntry {
                    purpose,
                    change,
                    at: t,
                    evidence: ev,
                });
                k += 1;
            }
            // Keep every withdrawal instant of either side, even where a
            // re-grant at the same instant hides it from the state: data
            // from before a withdrawal must never count again.
            let mut withdrawals: Vec<(OffsetDateTime, Evidence)> = self
                .entries
                .iter()
                .chain(&other.entries)
                .filter(|e| e.purpose == purpose && e.change == Change::Withdraw)
                .map(|e| (e.at, e.evidence.clone()))
                .collect();
            withdrawals.sort_by_key(|w| w.0);
            withdrawals.dedup_by_key(|w| w.0);
            for (w, evidence) in withdrawals {
                if own
                    .iter()
                    .any(|e| e.at == w && e.change == Change::Withdraw)
                {
                    continue;
                }
                let state = ConsentLedger {
                    entries: own.clone(),
                }
                .decisive(purpose, w)
                .cloned();
                let pos = own.partition_point(|e| e.at < w);
                own.insert(
                    pos,
                    ConsentEntry {
                        purpose,
                        change: Change::Withdraw,
                        at: w,
                        evidence,
                    },
                );
                // Restate what held at that instant, after the withdrawal.
                let restate = match state {
                    Some(d) if d.change != Change::Withdraw => Some(ConsentEntry { at: w, ..d }),
                    Some(_) => None,
                    None => Some(ConsentEntry {
                        purpose,
                        change: Change::Grant { expires: Some(w) },
                        at: w,
                        evidence: Evidence::System("merge".into()),
                    }),
                };
                if let Some(r) = restate {
                    let after = own.partition_point(|e| e.at <= w);
                    own.insert(after, r);
                }
            }
            merged.extend(own);
        }
        self.entries = merged;
    }

    /// Drops every entry at or before `t` (a whole-profile erasure at `t`
    /// met a copy from before it).
    pub(crate) fn forget_through(&mut self, t: OffsetDateTime) {
        self.entries.retain(|e| e.at > t);
    }

    /// Replaces the whole history by a withdrawal of every purpose at `at`
    /// (used by erasure: nothing of the old history remains, and no merge
    /// with an older copy can bring a grant back).
    pub(crate) fn reset_withdrawn(&mut self, at: OffsetDateTime) {
        self.entries = Purpose::ALL
            .into_iter()
            .filter(|p| p.needs_consent())
            .map(|purpose| ConsentEntry {
                purpose,
                change: Change::Withdraw,
                at,
                evidence: Evidence::System("erasure".into()),
            })
            .collect();
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
}
