//! The ledger's public answers and its plain appends: grant, withdraw,
//! record, the state at an instant and whether data may be used; and the
//! erasure hooks the engine calls.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::entry::entry_state;
use super::{
    le, Change, ConsentEntry, ConsentError, ConsentLedger, ConsentState, Evidence, Purpose,
};

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
    /// [`MAX_LEDGER_ENTRIES`](super::MAX_LEDGER_ENTRIES) entries and the grant would add one.
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

    /// Number of stored entries (at most [`MAX_STORED_ENTRIES`](super::MAX_STORED_ENTRIES)).
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

    /// [`scan`](Self::scan) without scanning when the purpose's latest
    /// entry is at or before `at`: it then decides the state at `at` and at
    /// `now`, and every withdrawal is at or before it, so the last one is
    /// the purpose's latest withdrawal (both kept as indexes). Recording an
    /// event usually takes this way.
    pub(crate) fn scan_fast(
        &self,
        purpose: Purpose,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> (ConsentState, ConsentState, Option<OffsetDateTime>) {
        match self.latest_entry(purpose) {
            Some(l) if le(l.at, at) && le(at, now) => (
                entry_state(l, at),
                entry_state(l, now),
                self.last_withdrawal_entry(purpose).map(|w| w.at),
            ),
            _ => self.scan(purpose, at, now),
        }
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
}
