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

    /// The instants it allows as one closed interval `(lo, hi)`: `t` is
    /// allowed exactly when `lo <= t && t <= hi` (never when `lo > hi`).
    /// `None` when they are not one interval (a grant, a withdrawal, then
    /// a grant again), for the caller to ask [`allows`](Self::allows).
    pub(crate) fn interval(&self) -> Option<(i64, i64)> {
        const EMPTY: (i64, i64) = (i64::MAX, i64::MIN);
        if self.never {
            return Some(EMPTY);
        }
        let s = &self.steps;
        if !s.at.is_sorted() {
            return None;
        }
        let mut found = Interval::default();
        // Before the first instant, then from each instant to the next.
        match s.at.first() {
            None => found.add(i64::MIN, i64::MAX, s.before)?,
            Some(&first) => {
                if let Some(hi) = first.checked_sub(1) {
                    found.add(i64::MIN, hi, s.before)?;
                }
            }
        }
        for (i, &t) in s.at.iter().enumerate() {
            let hi = match s.at.get(i + 1) {
                None => i64::MAX,
                // The next instant is the same: only the last of equal
                // instants counts.
                Some(&next) if next <= t => continue,
                Some(&next) => next - 1,
            };
            found.add(t, hi, s.granted.get(i).copied().unwrap_or(false))?;
        }
        Some(match found.0 {
            None => EMPTY,
            Some((lo, hi)) => (lo.max(self.from), hi),
        })
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

/// The granted instants met so far, in ascending pieces, as one closed
/// interval while they are one.
#[derive(Default)]
struct Interval(Option<(i64, i64)>);

impl Interval {
    /// Adds the piece `lo..=hi` (granted or not); `None` once the granted
    /// instants are no longer one interval.
    fn add(&mut self, lo: i64, hi: i64, granted: bool) -> Option<()> {
        if !granted || lo > hi {
            return Some(());
        }
        self.0 = match self.0 {
            None => Some((lo, hi)),
            Some((a, b)) if b.checked_add(1) == Some(lo) => Some((a, hi)),
            Some(_) => return None,
        };
        Some(())
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Where `interval` gives an interval, it allows exactly the
        /// instants `allows` does: checked at every instant where the
        /// answer may change, its neighbours, and the ends of time.
        #[test]
        fn an_interval_allows_what_the_steps_allow(
            raw in prop::collection::vec((-4i64..4, any::<bool>()), 0..6),
            edge in prop::sample::select(vec![0i64, i64::MIN, i64::MAX]),
            before: bool,
            from in prop_oneof![Just(i64::MIN), -5i64..5],
            never in prop::bool::weighted(0.1),
        ) {
            let mut raw = raw;
            raw.sort_by_key(|r| r.0);
            // Instants near zero, the first or the last pushed to an end of
            // time.
            let n = raw.len();
            let at: Vec<i64> = raw
                .iter()
                .enumerate()
                .map(|(i, r)| match edge {
                    i64::MIN if i == 0 => edge,
                    i64::MAX if i + 1 == n => edge,
                    _ => r.0,
                })
                .collect();
            let granted = raw.iter().map(|r| r.1).collect();
            let all = AllSteps { never, from, steps: Steps { at: at.clone(), granted, before } };
            let mut probes = vec![i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX, from];
            for &t in at.iter().chain([from].iter()) {
                probes.extend([t.saturating_sub(1), t, t.saturating_add(1)]);
            }
            if let Some((lo, hi)) = all.interval() {
                for t in probes {
                    prop_assert_eq!(lo <= t && t <= hi, all.allows(t), "t = {}, interval {:?}", t, (lo, hi));
                }
            } else {
                // Not one interval: granted, refused, then granted again.
                probes.sort_unstable();
                let g: Vec<bool> = probes.iter().map(|&t| all.steps.granted(t)).collect();
                let first = g.iter().position(|&x| x);
                let last = g.iter().rposition(|&x| x);
                let gap = first.zip(last).is_some_and(|(a, b)| g[a..b].contains(&false));
                prop_assert!(gap, "no interval for {:?}", g);
            }
        }
    }
}
