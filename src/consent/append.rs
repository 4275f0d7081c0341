//! How the ledger appends: a change is stored only where it changes
//! something, a late change is bounded by the latest ones received, and each
//! distinct consent string is held once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;

use super::{
    le, Change, ConsentEntry, ConsentError, ConsentLedger, Evidence, Purpose, MAX_LEDGER_ENTRIES,
    PURPOSES,
};

impl ConsentLedger {
    /// The grant path of [`grant`](Self::grant) and [`apply_tcf`](Self::apply_tcf):
    /// `Ok(true)` if an entry was stored, `Ok(false)` if the grant was
    /// already in force.
    pub(super) fn record_grant(
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
    pub(super) fn record_withdrawal(
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
    pub(super) fn receive(&mut self, e: &ConsentEntry) {
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
        if e.change == Change::Withdraw {
            let later = self
                .last_withdrawal_entry(e.purpose)
                .is_none_or(|w| !le(e.at, w.at));
            if let (true, Some(slot)) = (later, self.last_withdrawal.get_mut(e.purpose.index())) {
                *slot = Some(i);
            }
        }
        self.entries.push(e);
    }

    /// The purpose's latest entry: the one that decides from its instant on.
    pub(super) fn latest_entry(&self, purpose: Purpose) -> Option<&ConsentEntry> {
        self.latest
            .get(purpose.index())
            .copied()
            .flatten()
            .and_then(|i| self.entries.get(i))
    }

    /// The purpose's latest withdrawal.
    pub(super) fn last_withdrawal_entry(&self, purpose: Purpose) -> Option<&ConsentEntry> {
        self.last_withdrawal
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
        let mut withdrawal: [Option<usize>; PURPOSES] = [None; PURPOSES];
        for (i, e) in self.entries.iter().enumerate() {
            if let (Change::Withdraw, Some(slot)) =
                (e.change, withdrawal.get_mut(e.purpose.index()))
            {
                let later = slot
                    .and_then(|j| self.entries.get(j))
                    .is_none_or(|w| !le(e.at, w.at));
                if later {
                    *slot = Some(i);
                }
            }
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
        self.last_withdrawal = withdrawal;
    }

    /// Every evidence the ledger holds: the entries', then the latest
    /// changes received.
    pub(super) fn evidences(&self) -> impl Iterator<Item = &Evidence> {
        self.entries
            .iter()
            .chain(self.latest_received.iter().flatten())
            .map(|e| &e.evidence)
    }

    /// `evidence`, with a consent string replaced by the ledger's copy of an
    /// equal one if it holds one, so each distinct string is held once.
    pub(super) fn intern(&self, mut evidence: Evidence) -> Evidence {
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
}
