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

/// Whether a purpose is granted at each instant, as steps over Unix
/// nanoseconds: from `at[i]` on, `granted[i]`; before the first step,
/// `before`. For the bulk path, which compares integers, not dates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Steps {
    at: Vec<i64>,
    granted: Vec<bool>,
    before: bool,
}

impl Steps {
    /// Whether the purpose is granted at `t` (Unix ns).
    #[inline]
    pub(crate) fn granted(&self, t: i64) -> bool {
        match self.at.partition_point(|&a| a <= t).checked_sub(1) {
            None => self.before,
            Some(i) => self.granted.get(i).copied().unwrap_or(false),
        }
    }
}

impl ConsentLedger {
    /// [`is_granted`](ConsentLedger::is_granted) of `purpose` at every
    /// instant, as steps: the state only changes at an entry's instant or a
    /// grant's expiry, so it is sampled there. `None` if one of those
    /// instants does not fit Unix nanoseconds in an `i64`.
    pub(crate) fn granted_steps(&self, purpose: Purpose) -> Option<Steps> {
        if !purpose.needs_consent() {
            return Some(Steps {
                before: true,
                ..Steps::default()
            });
        }
        let mut at: Vec<i64> = Vec::new();
        for e in self.entries.iter().filter(|e| e.purpose == purpose) {
            at.push(crate::quantity::to_nanos(e.at)?);
            if let Change::Grant { expires: Some(x) } = e.change {
                at.push(crate::quantity::to_nanos(x)?);
            }
        }
        at.sort_unstable();
        at.dedup();
        let state = |t: i64| self.is_granted(purpose, crate::quantity::from_nanos(t));
        let before = at.first().is_some_and(|&t| t > i64::MIN && state(t - 1));
        let granted = at.iter().map(|&t| state(t)).collect();
        Some(Steps {
            at,
            granted,
            before,
        })
    }
}

/// [`ConsentGate`] with its instants in Unix nanoseconds.
#[derive(Debug, Clone)]
pub(crate) struct NanosGate {
    /// Per purpose granted now: the last withdrawal and the timeline.
    gates: [Option<(Option<i64>, Steps)>; Purpose::ALL.len()],
}

impl ConsentGate {
    /// The same gate over Unix nanoseconds; `None` if an instant does not
    /// fit an `i64`.
    pub(crate) fn in_nanos(&self) -> Option<NanosGate> {
        let mut gates: [Option<(Option<i64>, Steps)>; Purpose::ALL.len()] = Default::default();
        for (slot, g) in gates.iter_mut().zip(&self.gates) {
            let Some(g) = g else { continue };
            let not_before = match g.not_before {
                Some(w) => Some(crate::quantity::to_nanos(w)?),
                None => None,
            };
            let mut steps = Steps::default();
            for p in &g.timeline {
                steps.at.push(crate::quantity::to_nanos(p.0)?);
                steps.granted.push(p.1.is_granted());
            }
            *slot = Some((not_before, steps));
        }
        Some(NanosGate { gates })
    }
}

/// Whether every purpose of a set allows, as one step function over Unix
/// nanoseconds: the bulk path asks it once per event instead of once per
/// purpose.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllSteps {
    /// Nothing is allowed at any instant.
    never: bool,
    /// Nothing is allowed before this instant.
    from: i64,
    steps: Steps,
}

impl AllSteps {
    /// Whether every purpose allows at `t` (Unix ns).
    #[inline]
    pub(crate) fn allows(&self, t: i64) -> bool {
        !self.never && self.from <= t && self.steps.granted(t)
    }

    /// Granted at `t` for every one of `steps`.
    pub(crate) fn granted_all(steps: &[&Steps]) -> Self {
        Self {
            never: false,
            from: i64::MIN,
            steps: Steps::all(steps),
        }
    }
}

impl Steps {
    /// Granted exactly where every one of `steps` is: each keeps its state
    /// between two of all their instants.
    fn all(steps: &[&Steps]) -> Steps {
        let mut at: Vec<i64> = steps.iter().flat_map(|s| s.at.iter().copied()).collect();
        at.sort_unstable();
        at.dedup();
        let granted = at
            .iter()
            .map(|&t| steps.iter().all(|s| s.granted(t)))
            .collect();
        Steps {
            at,
            granted,
            before: steps.iter().all(|s| s.before),
        }
    }
}

impl NanosGate {
    /// [`allows`](Self::allows) for every purpose of `purposes` at once.
    pub(crate) fn all_of(&self, purposes: Purposes) -> AllSteps {
        let mut from = i64::MIN;
        let mut steps = Vec::new();
        for p in purposes.iter().filter(|p| p.needs_consent()) {
            let Some(Some((not_before, s))) = self.gates.get(p.index()) else {
                return AllSteps {
                    never: true,
                    ..AllSteps::default()
                };
            };
            from = from.max(not_before.unwrap_or(i64::MIN));
            steps.push(s);
        }
        AllSteps {
            never: false,
            from,
            steps: Steps::all(&steps),
        }
    }
}
