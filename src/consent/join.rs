//! Joining two ledgers of the same person ([`ConsentLedger::merge`]): per
//! purpose the more restrictive state wins at every instant, rewritten as the
//! shortest history with that state, plus the withdrawals that still decide
//! which data is usable.

use time::OffsetDateTime;

use super::{
    lookup, Change, ConsentEntry, ConsentLedger, ConsentState, Evidence, Point, Purpose,
    MAX_STORED_ENTRIES, PURPOSES,
};

impl ConsentLedger {
    /// Joins the ledger of another record of the same person: for every
    /// purpose, the more restrictive state of the two wins at every instant
    /// (withdrawn over expired over never asked over granted).
    ///
    /// The result is rewritten as the shortest history with that state at
    /// every instant, keeping the evidence of the entries that decided it,
    /// and the withdrawals of either side that still decide which data is
    /// usable: a withdrawal of a purpose that was not granted at any instant
    /// since the previous kept withdrawal blocks nothing that one does not
    /// already block, and is dropped. Every other withdrawal instant is kept,
    /// even where a re-grant at the same instant hides it from the state, so
    /// data from before a withdrawal never counts again. One approximation:
    /// where the joined state would return to "never asked" after a
    /// withdrawal (one record withdrew and later re-granted, the other was
    /// never asked), it reads as "expired" — both mean "ask".
    ///
    /// The joined history of two ledgers appended in time order is never
    /// longer than the two together, so it fits [`super::MAX_STORED_ENTRIES`].
    /// Only if it would not (ledgers that were themselves rewritten by
    /// merges) is the oldest history folded: returns the instant `f` before
    /// which every purpose then reads as never asked, so no data recorded
    /// before `f` can be used again (more restrictive, never less); every
    /// answer about `f` and later is unchanged. `None` when nothing was
    /// folded, the usual case.
    ///
    /// The latest changes received (see [`ConsentLedger::latest_received`])
    /// join too: per kind the later of the two, except a grant the joined
    /// history does not hold at its instant.
    ///
    /// # Example
    /// ```
    /// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let ui = Evidence::Ui("settings".into());
    /// let mut phone = ConsentLedger::default();
    /// phone.grant(Purpose::Marketing, datetime!(2026-01-01 0:00 UTC), None, ui.clone())?;
    /// let mut laptop = phone.clone();
    /// laptop.withdraw(Purpose::Marketing, datetime!(2026-02-01 0:00 UTC), ui)?;
    ///
    /// assert_eq!(phone.merge(&laptop), None);
    /// assert_eq!(phone.state(Purpose::Marketing, datetime!(2026-01-15 0:00 UTC)), ConsentState::Granted);
    /// assert_eq!(phone.state(Purpose::Marketing, datetime!(2026-03-01 0:00 UTC)), ConsentState::Withdrawn);
    /// # Ok::<(), tactful::ConsentError>(())
    /// ```
    pub fn merge(&mut self, other: &ConsentLedger) -> Option<OffsetDateTime> {
        let mut merged = Vec::new();
        for purpose in Purpose::ALL {
            merged.extend(join(self, other, purpose));
        }
        // Per purpose and kind, the later of the two latest received.
        for (mine, theirs) in self.latest_received.iter_mut().zip(&other.latest_received) {
            for t in theirs {
                let grant = matches!(t.change, Change::Grant { .. });
                match mine
                    .iter()
                    .position(|m| matches!(m.change, Change::Grant { .. }) == grant)
                {
                    Some(i) if mine.get(i).is_some_and(|m| m.at >= t.at) => {}
                    Some(i) => {
                        mine.remove(i);
                        mine.push(t.clone());
                    }
                    None => mine.push(t.clone()),
                }
            }
            mine.sort_by_key(|m| m.at);
        }
        self.entries = merged;
        self.intern_all();
        self.reindex();
        // A received grant the join overrode (the other record said less)
        // must not come back through a late change: keep only those the
        // joined history still grants at their instant. Withdrawals always
        // agree with a join where the more restrictive state wins.
        for (purpose, list) in Purpose::ALL.into_iter().zip(&mut self.latest_received) {
            let decisive = |at| {
                let mut best: Option<&ConsentEntry> = None;
                for e in self
                    .entries
                    .iter()
                    .filter(|e| e.purpose == purpose && e.at <= at)
                {
                    if best.is_none_or(|b| e.at >= b.at) {
                        best = Some(e);
                    }
                }
                best.map(|e| e.change)
            };
            list.retain(|r| r.change == Change::Withdraw || decisive(r.at) == Some(r.change));
        }
        self.fit()
    }
}

/// A stretch of the joined state: from `from` (until the next one), `state`,
/// decided by an entry with this evidence.
#[derive(Debug, Clone)]
struct Segment {
    from: OffsetDateTime,
    state: ConsentState,
    evidence: Evidence,
}

/// The joined history of `purpose`, as entries in time order.
fn join(a: &ConsentLedger, b: &ConsentLedger, purpose: Purpose) -> Vec<ConsentEntry> {
    let segments = joined_segments(a, &a.timeline(purpose), b, &b.timeline(purpose));
    let cuts = essential_cuts(&segments, withdrawals(a, b, purpose));
    rebuild(purpose, &segments, cuts)
}

/// The joined state as segments, each differing from the one before (the
/// first from "never asked").
fn joined_segments(
    a: &ConsentLedger,
    ta: &[Point],
    b: &ConsentLedger,
    tb: &[Point],
) -> Vec<Segment> {
    let mut points: Vec<OffsetDateTime> = ta.iter().chain(tb).map(|p| p.0).collect();
    points.sort();
    points.dedup();
    let evidence = |l: &ConsentLedger, i: usize| l.entries.get(i).map(|e| e.evidence.clone());
    let mut segments: Vec<Segment> = Vec::new();
    for t in points {
        let (state, ev) = match (lookup(ta, t), lookup(tb, t)) {
            (Some((s1, i)), Some((s2, j))) => {
                if s2.restriction() > s1.restriction() {
                    (s2, evidence(b, j))
                } else {
                    (s1, evidence(a, i))
                }
            }
            (Some((s, i)), None) => (s.max_restrictive(ConsentState::NeverAsked), evidence(a, i)),
            (None, Some((s, j))) => (s.max_restrictive(ConsentState::NeverAsked), evidence(b, j)),
            (None, None) => (ConsentState::NeverAsked, None),
        };
        // "Never asked" after the history began reads as "expired" (both
        // mean "ask"): an entry cannot say "never asked".
        let state = match state {
            ConsentState::NeverAsked if !segments.is_empty() => ConsentState::Expired,
            s => s,
        };
        let prev = segments
            .last()
            .map_or(ConsentState::NeverAsked, |s| s.state);
        if state != prev {
            segments.push(Segment {
                from: t,
                state,
                evidence: ev.unwrap_or_else(|| Evidence::System("merge".into())),
            });
        }
    }
    segments
}

/// Every withdrawal instant of either side, sorted, each once (with the
/// evidence of `a` where both withdrew at the same instant).
fn withdrawals(
    a: &ConsentLedger,
    b: &ConsentLedger,
    purpose: Purpose,
) -> Vec<(OffsetDateTime, Evidence)> {
    let mut out: Vec<(OffsetDateTime, Evidence)> = a
        .entries
        .iter()
        .chain(&b.entries)
        .filter(|e| e.purpose == purpose && e.change == Change::Withdraw)
        .map(|e| (e.at, e.evidence.clone()))
        .collect();
    out.sort_by_key(|w| w.0);
    out.dedup_by_key(|w| w.0);
    out
}

/// The state of the segments at `t`.
fn state_at(segments: &[Segment], t: OffsetDateTime) -> ConsentState {
    let n = segments.partition_point(|s| s.from <= t);
    n.checked_sub(1)
        .and_then(|i| segments.get(i))
        .map_or(ConsentState::NeverAsked, |s| s.state)
}

/// The withdrawals that still block data: those with a granted instant
/// since the previous one kept. A withdrawal after a stretch with no granted
/// instant blocks only data that was not granted when recorded, or that the
/// previous kept withdrawal already blocks.
fn essential_cuts(
    segments: &[Segment],
    withdrawals: Vec<(OffsetDateTime, Evidence)>,
) -> Vec<(OffsetDateTime, Evidence)> {
    let mut kept = Vec::new();
    let mut next = 0;
    let mut granted_since = false;
    for (c, evidence) in withdrawals {
        while let Some(s) = segments.get(next).filter(|s| s.from < c) {
            granted_since |= s.state.is_granted();
            next += 1;
        }
        if granted_since {
            kept.push((c, evidence));
            granted_since = state_at(segments, c).is_granted();
        }
    }
    kept
}

/// Entries with the state of `segments` and a withdrawal at each of `cuts`.
fn rebuild(
    purpose: Purpose,
    segments: &[Segment],
    cuts: Vec<(OffsetDateTime, Evidence)>,
) -> Vec<ConsentEntry> {
    let entry = |change, at, evidence: &Evidence| ConsentEntry {
        purpose,
        change,
        at,
        evidence: evidence.clone(),
    };
    // One entry per segment, a grant carrying the expiry that ends it.
    let mut base: Vec<ConsentEntry> = Vec::with_capacity(segments.len());
    let mut k = 0;
    while let Some(s) = segments.get(k) {
        let change = match s.state {
            ConsentState::Withdrawn => Change::Withdraw,
            ConsentState::Granted => match segments.get(k + 1) {
                Some(
                    n @ Segment {
                        state: ConsentState::Expired,
                        ..
                    },
                ) => {
                    k += 1;
                    Change::Grant {
                        expires: Some(n.from),
                    }
                }
                _ => Change::Grant { expires: None },
            },
            // Reached without a grant just before: a grant lapsed at once.
            ConsentState::Expired | ConsentState::NeverAsked => Change::Grant {
                expires: Some(s.from),
            },
        };
        base.push(entry(change, s.from, &s.evidence));
        k += 1;
    }
    let mut out: Vec<ConsentEntry> = Vec::with_capacity(base.len() + 2 * cuts.len());
    let mut base = base.into_iter().peekable();
    for (c, evidence) in cuts {
        while let Some(e) = base.next_if(|e| e.at < c) {
            out.push(e);
        }
        match base.peek() {
            // The state changes at the cut: the withdrawal goes first, the
            // change (appended later at the same instant) decides.
            Some(e) if e.at == c => {
                if e.change != Change::Withdraw {
                    out.push(entry(Change::Withdraw, c, &evidence));
                }
            }
            // Inside a stretch: withdraw, then restate what holds.
            _ => {
                let Some(held) = out.last().cloned() else {
                    continue;
                };
                let change = match held.change {
                    Change::Withdraw => continue,
                    Change::Grant { expires: Some(x) } if x <= c => {
                        Change::Grant { expires: Some(c) }
                    }
                    grant => grant,
                };
                out.push(entry(Change::Withdraw, c, &evidence));
                out.push(entry(change, c, &held.evidence));
            }
        }
    }
    out.extend(base);
    out
}

impl ConsentLedger {
    /// Keeps the ledger within [`MAX_STORED_ENTRIES`](super::MAX_STORED_ENTRIES). Never acts on a ledger
    /// built by appends alone or by one merge of two such ledgers (see
    /// [`MAX_STORED_ENTRIES`](super::MAX_STORED_ENTRIES)); beyond that, folds the oldest history: the
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
