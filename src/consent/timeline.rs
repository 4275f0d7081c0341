//! A purpose's history as a timeline of states, with the instants grants
//! expire, and the gate built from it that the scorer asks per event.

use time::OffsetDateTime;

use super::entry::entry_state;
use super::{Change, ConsentLedger, ConsentState, Purpose, Purposes};

impl ConsentLedger {
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
}

fn push_point(out: &mut Vec<Point>, t: OffsetDateTime, s: ConsentState, i: usize) {
    match out.last_mut() {
        Some(last) if last.0 == t => *last = (t, s, i),
        _ => out.push((t, s, i)),
    }
}

pub(super) fn lookup(tl: &[Point], t: OffsetDateTime) -> Option<(ConsentState, usize)> {
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
