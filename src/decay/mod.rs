//! Scores: the decayed sum of every usable event per interest and its
//! ancestors, and whether the evidence establishes the interest.
//!
//! An event of weight `w` recorded at `at` contributes
//! `w * 2^(-(now - at) / half_life)` to its interest (and every ancestor of
//! it) while `0 <= now - at <= max_age`, and nothing afterwards. What is
//! usable is the gate's answer (consent, level, suppressions, dislikes,
//! dismissals, gifts); this module only adds up. Two passes give the same
//! numbers: the reference pass over every stored event
//! ([`Engine::scores_by_scan`](crate::Engine::scores_by_scan)) and the
//! incremental one over aggregates kept at record time
//! ([`Engine::scores`](crate::Engine::scores)).
//!
//! # Examples
//! ```
//! use tactful::*;
//! use time::macros::datetime;
//! use time::Duration;
//!
//! let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
//! let hiking = taxonomy.id("outdoor/hiking").unwrap();
//! let policy = DecayPolicy::builder().half_life(Duration::days(7)).build()?;
//! let engine = Engine::new(taxonomy, policy);
//!
//! let t0 = datetime!(2026-11-01 9:00 UTC);
//! let mut p = Profile::new("c-1");
//! p.set_level(Level::FirstParty);
//! p.consent_mut().grant_for(Purpose::Personalization, t0, Duration::days(395), Evidence::Ui("banner".into()))?;
//! engine.record(&mut p, Event::new(hiking, Signal::View, t0), t0)?;
//!
//! // One half-life later the view counts half.
//! let scores = engine.scores(&p, t0 + Duration::days(7));
//! assert!((scores.get(hiking).unwrap().score - 0.5).abs() < 1e-9);
//! assert_eq!(scores, engine.scores_by_scan(&p, t0 + Duration::days(7)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod incremental;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::Purpose;
use crate::event::Event;
use crate::gate::View;
use crate::store::to_nanos;
use crate::taxonomy::InterestId;

pub use crate::gate::purposes_for;
pub use crate::policy::{DecayPolicy, DecayPolicyBuilder, PolicyError, SignalWeights};
pub use crate::quantity::{HalfLife, InvalidHalfLife};

use incremental::score_incremental;
pub(crate) use incremental::{after_insert, fingerprint, prepare, Params};

/// How an interest came to be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Establishment {
    /// From enough usable observed events on enough distinct days.
    Observed,
    /// The person declared a like (on this interest or an ancestor).
    DeclaredLike,
}

/// The score and evidence of one interest (over its whole subtree) at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InterestScore {
    /// Sum of decayed contributions of usable events in the subtree.
    pub score: f64,
    /// Usable events in the subtree.
    pub events: u32,
    /// Distinct UTC days of those events.
    pub days: u32,
    /// Whether and how the interest is established.
    pub established: Option<Establishment>,
}

/// Scores of every interest of a taxonomy for one profile at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    #[serde(with = "crate::serde_util::instant")]
    now: OffsetDateTime,
    scores: Vec<InterestScore>,
}

impl Scores {
    /// The instant the scores were computed for.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The score record of an interest.
    #[must_use]
    pub fn get(&self, interest: InterestId) -> Option<&InterestScore> {
        self.scores.get(interest.index())
    }

    /// The score of an interest (0 for unknown interests).
    #[must_use]
    pub fn score(&self, interest: InterestId) -> f64 {
        self.get(interest).map_or(0.0, |s| s.score)
    }

    /// Whether an interest is established.
    #[must_use]
    pub fn is_established(&self, interest: InterestId) -> bool {
        self.get(interest).is_some_and(|s| s.established.is_some())
    }

    /// All interests with a non-zero score or established, by id.
    pub fn iter(&self) -> impl Iterator<Item = (InterestId, &InterestScore)> + '_ {
        self.scores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.events > 0 || s.established.is_some())
            .map(|(i, s)| (InterestId(i as u32), s))
    }
}

/// Scores for `view`: the incremental path when the profile's aggregates
/// were prepared by an engine with `fingerprint` for an instant at or before
/// `now`, else the plain pass over the events. Both give the same result.
pub(crate) fn score(view: &View<'_>, fingerprint: u64) -> Scores {
    let prepared = view.profile.store().prepared;
    let fast = match (prepared, to_nanos(view.now)) {
        (Some(p), Some(now)) if p.fingerprint == fingerprint && now >= p.maintained_at => {
            Some((p, now))
        }
        _ => None,
    };
    let mut scores = match fast {
        Some((p, now)) => score_incremental(view, p, now),
        None => score_plain(view),
    };
    establish(view, &mut scores);
    Scores {
        now: view.now,
        scores,
    }
}

/// The reference: one pass over the stored events (sorted by instant), each
/// usable contribution added to its interest and every ancestor.
///
/// Nothing is allocated per event and ancestor: the (interest, day) pairs
/// are kept once per event, and an interest's distinct days are those of
/// the pairs in its subtree's id range.
pub(crate) fn score_plain(view: &View<'_>) -> Vec<InterestScore> {
    // Gifts and dismissals (kept aside) are never evidence: only the series.
    let events = view
        .profile
        .store()
        .series
        .iter()
        .flat_map(|s| (0..s.len()).filter_map(|i| s.event(i)));
    score_events(view, events)
}

/// The plain pass's running totals: each usable event's contribution added
/// to its interest and every ancestor, and its (interest, day) pair. Events
/// must come in the store's order (series by interest and class, each by
/// instant, weight, signal): the order fixes the floating-point sums, so
/// the same events in the same order give the same bits whether or not they
/// sit in a store.
#[derive(Debug)]
pub(crate) struct Tally {
    scores: Vec<InterestScore>,
    /// The distinct-day cap (the policy's `min_days`).
    cap: usize,
    /// Per interest, its first distinct days up to the cap, when the cap is
    /// at most [`DaySet::MAX`] (the usual policy): counted as events come.
    sets: Vec<DaySet>,
    /// (interest, day) of every usable event, for the distinct-day counts,
    /// when the cap is larger.
    days: Vec<(u32, i64)>,
    buf: Vec<i64>,
    /// Interests with events, once each (sorted when counted), noted
    /// without a branch on whether an event is its interest's first.
    touched: Gather<u32>,
    /// Whether the last settle visited every interest.
    dense: bool,
}

/// Up to [`DaySet::MAX`] distinct days: an interest's day count capped at
/// a small minimum needs no more.
#[derive(Debug, Clone, Copy, Default)]
struct DaySet {
    len: u8,
    days: [i64; DaySet::MAX],
}

impl DaySet {
    const MAX: usize = 4;

    /// Adds `day` unless it is there or `cap` days are.
    #[inline]
    fn insert(&mut self, day: i64, cap: usize) {
        let n = usize::from(self.len);
        if n >= cap {
            return;
        }
        // All four compared, those past `n` masked out: no loop to set up.
        let mut held = false;
        for (k, d) in self.days.iter().enumerate() {
            held |= k < n && *d == day;
        }
        if !held {
            if let Some(slot) = self.days.get_mut(n) {
                *slot = day;
                self.len += 1;
            }
        }
    }
}

/// Values gathered without a branch on which of them to keep: each is
/// written to the next slot and kept or not, so there is always one slot
/// more than can be kept. For choices that are coin tosses (which event is
/// an interest's first, which row is usable), where a branch would be
/// mispredicted half the time.
#[derive(Debug)]
pub(crate) struct Gather<T> {
    slots: Vec<T>,
    len: usize,
}

impl<T> Default for Gather<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Copy> Gather<T> {
    /// Empty, with room to keep `n` values (`blank` fills new slots).
    pub(crate) fn reset(&mut self, n: usize, blank: T) {
        self.len = 0;
        if self.slots.len() <= n {
            self.slots.resize(n + 1, blank);
        }
    }

    /// Empty, with the room it has.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Writes `value` to the next slot and keeps it if `keep`.
    #[inline]
    pub(crate) fn put(&mut self, value: T, keep: bool) {
        if let Some(slot) = self.slots.get_mut(self.len) {
            *slot = value;
        }
        self.len += usize::from(keep);
    }

    /// The kept values, in the order put (no more than the slots: keeping
    /// more than the room asked for would be the caller's bug).
    pub(crate) fn kept(&self) -> &[T] {
        self.slots.get(..self.len()).unwrap_or(&[])
    }

    /// The kept values, to reorder.
    pub(crate) fn kept_mut(&mut self) -> &mut [T] {
        let len = self.len();
        self.slots.get_mut(..len).unwrap_or(&mut [])
    }

    /// How many are kept (at most the slots).
    pub(crate) fn len(&self) -> usize {
        self.len.min(self.slots.len())
    }
}

impl Tally {
    pub(crate) fn new(tax: &crate::taxonomy::Taxonomy, policy: &DecayPolicy) -> Self {
        let cap = policy.min_days as usize;
        Self {
            scores: vec![InterestScore::default(); tax.len()],
            cap,
            sets: if cap <= DaySet::MAX {
                vec![DaySet::default(); tax.len()]
            } else {
                Vec::new()
            },
            days: Vec::new(),
            buf: Vec::new(),
            touched: {
                let mut t = Gather::default();
                // Each interest at most once between two emptyings.
                t.reset(tax.len(), 0);
                t
            },
            dense: false,
        }
    }

    /// Forgets everything added since the last [`drain`](Self::drain) (a
    /// profile abandoned half way).
    pub(crate) fn clear(&mut self) {
        for &i in self.touched.kept() {
            if let Some(s) = self.scores.get_mut(i as usize) {
                *s = InterestScore::default();
            }
            if let Some(d) = self.sets.get_mut(i as usize) {
                d.len = 0;
            }
        }
        self.touched.clear();
        self.days.clear();
    }

    /// Adds a usable event of a known interest: contribution `c`, UTC day
    /// `day`.
    #[inline]
    pub(crate) fn add(
        &mut self,
        tax: &crate::taxonomy::Taxonomy,
        interest: InterestId,
        c: f64,
        day: i64,
    ) {
        let small = !self.sets.is_empty();
        if !small {
            self.days.push((interest.0, day));
        }
        // The parent, the interest, then the further ancestors: each test
        // of a parent its own branch, predictable for a taxonomy of one
        // depth; and the parent's first event is noted before the
        // interest's (ids of a taxonomy built parents first then come in
        // order, and need no sorting).
        let parent = tax.parent(interest);
        if let Some(parent) = parent {
            self.add_one(parent, c, day, small);
        }
        self.add_one(interest, c, day, small);
        if let Some(parent) = parent {
            let mut node = tax.parent(parent);
            while let Some(id) = node {
                self.add_one(id, c, day, small);
                node = tax.parent(id);
            }
        }
    }

    /// [`add`](Self::add) for one interest of the event's path.
    #[inline(always)]
    fn add_one(&mut self, id: InterestId, c: f64, day: i64, small: bool) {
        if let Some(sc) = self.scores.get_mut(id.index()) {
            self.touched.put(id.0, sc.events == 0);
            sc.score += c;
            sc.events += 1;
        }
        if small {
            if let Some(d) = self.sets.get_mut(id.index()) {
                d.insert(day, self.cap);
            }
        }
    }

    /// The distinct-day counts, capped at the policy's minimum.
    fn count_days(&mut self, view: &View<'_>) {
        if !self.sets.is_empty() {
            // Counted as the events came; each touched set is emptied.
            sort_nearly_sorted(self.touched.kept_mut());
            for &i in self.touched.kept() {
                if let (Some(sc), Some(d)) = (
                    self.scores.get_mut(i as usize),
                    self.sets.get_mut(i as usize),
                ) {
                    sc.days = u32::from(d.len);
                    d.len = 0;
                }
            }
            return;
        }
        let tax = view.taxonomy;
        let days = &mut self.days;
        // Events in store order give sorted pairs when each interest has
        // one class of events: no sort needed then.
        if !days.is_sorted() {
            days.sort_unstable();
        }
        days.dedup();
        // Depth-first ids: a subtree's pairs are one slice of the sorted pairs.
        let cap = view.policy.min_days as usize;
        let buf = &mut self.buf;
        // Ids ascend, so each subtree's first pair is found by walking on.
        sort_nearly_sorted(self.touched.kept_mut());
        let mut lo = 0;
        for &i in self.touched.kept() {
            let Some(sc) = self.scores.get_mut(i as usize) else {
                continue;
            };
            let id = InterestId(i);
            while days.get(lo).is_some_and(|d| d.0 < id.0) {
                lo += 1;
            }
            let rest = days.get(lo..).unwrap_or(&[]);
            let end = tax.subtree_end(id);
            let own = rest.iter().take_while(|d| d.0 == id.0).count();
            sc.days = if end == id.0 + 1 || rest.get(own).is_none_or(|d| d.0 >= end) {
                // One interest: its days are already distinct.
                own.min(cap) as u32
            } else {
                let hi = rest.partition_point(|d| d.0 < end);
                distinct_days(rest.get(..hi).unwrap_or(&[]), cap, buf)
            };
        }
    }

    fn into_scores(mut self, view: &View<'_>) -> Vec<InterestScore> {
        self.count_days(view);
        self.scores
    }

    /// Counts days and establishes, in place, for reuse: the dense scores
    /// as [`finish`](Self::finish) would give them. Without declared likes
    /// only interests with events can be established (when at least one
    /// event is required), so only those are visited. Read them, then
    /// [`drain`](Self::drain) before the next profile.
    pub(crate) fn settle(&mut self, view: &View<'_>) -> Scores {
        self.count_days(view);
        let e = Establisher::new(view);
        let dense = e.likes || view.policy.min_events == 0;
        self.dense = dense;
        if dense {
            for (i, s) in self.scores.iter_mut().enumerate() {
                e.establish(view, InterestId(i as u32), s);
            }
        } else {
            for &i in self.touched.kept() {
                if let Some(s) = self.scores.get_mut(i as usize) {
                    e.establish(view, InterestId(i), s);
                }
            }
        }
        Scores {
            now: view.now,
            scores: std::mem::take(&mut self.scores),
        }
    }

    /// Takes back the scores of [`settle`](Self::settle): the interests
    /// with evidence or established go to `out` in id order, and the tally
    /// is empty again.
    pub(crate) fn drain(
        &mut self,
        mut settled: Scores,
        out: &mut Vec<(InterestId, InterestScore)>,
    ) {
        if self.dense {
            for (i, s) in settled.scores.iter_mut().enumerate() {
                if s.events > 0 || s.established.is_some() {
                    out.push((InterestId(i as u32), *s));
                }
                *s = InterestScore::default();
            }
        } else {
            // Sorted by `count_days`; every touched interest has events.
            out.reserve(self.touched.len());
            for &i in self.touched.kept() {
                if let Some(s) = settled.scores.get_mut(i as usize) {
                    // Taken, not copied then reset: the copy went through
                    // the stack in two overlapping loads, which stalled.
                    out.push((InterestId(i), std::mem::take(s)));
                }
            }
        }
        self.scores = settled.scores;
        self.days.clear();
        self.touched.clear();
    }
}

/// Sorts `ids`, which in store order are nearly sorted (each ancestor right
/// after the first of its descendants with events): an insertion sort, linear
/// then, unless it finds the list far from sorted.
fn sort_nearly_sorted(ids: &mut [u32]) {
    let mut moves = 0usize;
    for i in 1..ids.len() {
        let mut j = i;
        while j > 0 && ids.get(j) < ids.get(j - 1) {
            ids.swap(j, j - 1);
            j -= 1;
            moves += 1;
        }
        if moves > 4 * ids.len() {
            ids.sort_unstable();
            return;
        }
    }
}

/// The number of distinct days among `pairs`, counted up to `cap`.
fn distinct_days(pairs: &[(u32, i64)], cap: usize, buf: &mut Vec<i64>) -> u32 {
    if cap <= 8 {
        // Stop at the cap: small, and most subtrees reach it quickly.
        buf.clear();
        for d in pairs {
            if buf.len() >= cap {
                break;
            }
            if !buf.contains(&d.1) {
                buf.push(d.1);
            }
        }
        return buf.len() as u32;
    }
    buf.clear();
    buf.extend(pairs.iter().map(|d| d.1));
    buf.sort_unstable();
    buf.dedup();
    buf.len().min(cap) as u32
}

fn score_events(view: &View<'_>, events: impl Iterator<Item = Event>) -> Vec<InterestScore> {
    let tax = view.taxonomy;
    let mut tally = Tally::new(tax, view.policy);
    for e in events {
        let Ok(c) = view.check(&e) else { continue };
        if !tax.contains(e.interest()) {
            continue;
        }
        tally.add(tax, e.interest(), c, utc_day(e.at()));
    }
    tally.into_scores(view)
}

/// What establishing an interest needs to know about the whole profile.
struct Establisher {
    sensitive_ok: bool,
    /// Whether any declared like could establish something.
    likes: bool,
}

impl Establisher {
    fn new(view: &View<'_>) -> Self {
        let sensitive_ok = view.policy.allow_sensitive_observation
            && view
                .profile
                .consent()
                .is_granted(Purpose::SensitiveInterests, view.now);
        let likes = view
            .profile
            .preferences()
            .iter()
            .any(|p| p.kind == crate::profile::PreferenceKind::Like)
            && view.likes_usable();
        Self {
            sensitive_ok,
            likes,
        }
    }

    fn establish(&self, view: &View<'_>, id: InterestId, s: &mut InterestScore) {
        let policy = view.policy;
        let observed = s.events >= policy.min_events
            && s.days >= policy.min_days
            && (self.sensitive_ok || !view.taxonomy.sensitivity(id).is_special())
            && !view.is_blocked(id);
        s.established = if observed {
            Some(Establishment::Observed)
        } else if self.likes && view.like_for(id).is_some() {
            Some(Establishment::DeclaredLike)
        } else {
            None
        };
    }
}

fn establish(view: &View<'_>, scores: &mut [InterestScore]) {
    let e = Establisher::new(view);
    for (i, s) in scores.iter_mut().enumerate() {
        e.establish(view, InterestId(i as u32), s);
    }
}

pub(crate) fn utc_day(t: OffsetDateTime) -> i64 {
    t.unix_timestamp().div_euclid(86_400)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod fast_path {
    //! The incremental path against the plain pass, over random histories.
    use super::*;
    use crate::consent::Evidence;
    use crate::engine::Engine;
    use crate::event::{Context, Event, Signal, Source};
    use crate::level::Level;
    use crate::profile::Profile;
    use crate::suppression::Scope;
    use crate::suppression::{Suppression, SuppressionReason};
    use crate::taxonomy::SpecialCategory;
    use crate::taxonomy::Taxonomy;
    use proptest::prelude::*;
    use time::macros::datetime;
    use time::Duration;

    #[derive(Debug, Clone)]
    enum Op {
        Record {
            interest: usize,
            signal: usize,
            source: usize,
            context: usize,
            gift: bool,
            weight: f64,
            lag_min: i64,
        },
        Advance {
            minutes: i64,
        },
        Grant {
            purpose: usize,
            expires_h: Option<i64>,
        },
        Withdraw {
            purpose: usize,
        },
        Suppress {
            interest: Option<usize>,
            purpose: usize,
            until_h: Option<i64>,
        },
        Like {
            interest: usize,
        },
        Dislike {
            interest: usize,
        },
        Level {
            level: usize,
        },
        Compact,
        Score {
            back_min: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..9usize, 0..6usize, 0..3usize, 0..3usize, prop::bool::weighted(0.1), 0.0..4.0f64, 0..(30 * 24 * 60i64))
                .prop_map(|(interest, signal, source, context, gift, weight, lag_min)| Op::Record { interest, signal, source, context, gift, weight, lag_min }),
            3 => (0..(5 * 24 * 60i64)).prop_map(|minutes| Op::Advance { minutes }),
            2 => (0..8usize, prop::option::weighted(0.3, 1..(40 * 24i64))).prop_map(|(purpose, expires_h)| Op::Grant { purpose, expires_h }),
            1 => (0..8usize).prop_map(|purpose| Op::Withdraw { purpose }),
            1 => (prop::option::weighted(0.7, 0..9usize), 0..8usize, prop::option::of(1..(20 * 24i64)))
                .prop_map(|(interest, purpose, until_h)| Op::Suppress { interest, purpose, until_h }),
            1 => (0..9usize).prop_map(|interest| Op::Like { interest }),
            1 => (0..9usize).prop_map(|interest| Op::Dislike { interest }),
            1 => (0..4usize).prop_map(|level| Op::Level { level }),
            1 => Just(Op::Compact),
            3 => (0..(3 * 24 * 60i64)).prop_map(|back_min| Op::Score { back_min }),
        ]
    }

    fn engine(allow_sensitive: bool) -> Engine {
        let taxonomy = Taxonomy::builder()
            .interest("a/x")
            .interest("a/y/z")
            .interest("b")
            .sensitive("h/p", SpecialCategory::Health)
            .half_life("a/y", Duration::days(3))
            .max_age("b", Duration::days(10))
            .build()
            .unwrap();
        let policy = DecayPolicy::builder()
            .allow_sensitive_observation(allow_sensitive)
            .dismissal_cooldown(Duration::days(4))
            .build()
            .unwrap();
        Engine::new(taxonomy, policy)
    }

    fn check(engine: &Engine, profile: &Profile, now: OffsetDateTime, fast_runs: &mut u32) {
        let view = View::new(engine.taxonomy(), engine.policy(), profile, now);
        let fp = fingerprint(engine.taxonomy(), engine.policy());
        let prepared = profile.store().prepared;
        let is_fast = prepared.is_some_and(|p| {
            p.fingerprint == fp && to_nanos(now).is_some_and(|n| n >= p.maintained_at)
        });
        *fast_runs += u32::from(is_fast);
        let got = score(&view, fp);
        let mut want = score_plain(&view);
        establish(&view, &mut want);
        for (i, w) in want.iter().enumerate() {
            let g = got.get(InterestId(i as u32)).unwrap();
            let tol = 1e-9 * w.score.abs().max(1e-12);
            assert!(
                (g.score - w.score).abs() <= tol,
                "interest {i} at {now}: fast {} plain {}",
                g.score,
                w.score
            );
            assert_eq!(
                (g.events, g.days, g.established),
                (w.events, w.days, w.established),
                "interest {i} at {now}"
            );
        }
    }

    proptest! {
        // PROPTEST_CASES overrides, for long runs.
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
        ))]
        #[test]
        fn fast_path_equals_plain_pass(ops in prop::collection::vec(op(), 1..120), allow_sensitive: bool) {
            let engine = engine(allow_sensitive);
            let tax = engine.taxonomy().clone();
            let ids: Vec<InterestId> = tax.iter().map(|(id, _)| id).collect();
            let mut clock = datetime!(2026-01-01 0:00 UTC);
            let mut p = Profile::new("p");
            p.set_level(Level::FirstParty);
            p.consent_mut().grant(Purpose::Personalization, clock, None, Evidence::Ui("t".into())).unwrap();
            engine.prepare(&mut p, clock);
            let mut fast_runs = 0;
            for op in ops {
                match op {
                    Op::Record { interest, signal, source, context, gift, weight, lag_min } => {
                        let at = clock - Duration::minutes(lag_min);
                        let e = Event::new(ids[interest % ids.len()], Signal::ALL[signal], at)
                            .with_source([Source::FirstParty, Source::Declared, Source::Partner][source])
                            .with_context([Context::OnSite, Context::Location, Context::CrossSite][context])
                            .with_gift(gift)
                            .with_weight(weight)
                            .unwrap();
                        let _ = engine.record(&mut p, e, clock);
                    }
                    Op::Advance { minutes } => clock += Duration::minutes(minutes),
                    Op::Grant { purpose, expires_h } => {
                        let purpose = Purpose::ALL[purpose];
                        let _ = p.consent_mut().grant(purpose, clock, expires_h.map(|h| clock + Duration::hours(h)), Evidence::Ui("t".into()));
                    }
                    Op::Withdraw { purpose } => {
                        let _ = p.consent_mut().withdraw(Purpose::ALL[purpose], clock, Evidence::Ui("t".into()));
                    }
                    Op::Suppress { interest, purpose, until_h } => {
                        let scope = match interest {
                            Some(i) => Scope::Interest(ids[i % ids.len()]),
                            None => Scope::Purpose(Purpose::ALL[purpose]),
                        };
                        let mut s = Suppression::new(scope, SuppressionReason::OptOut, clock);
                        if let Some(h) = until_h {
                            s = s.until(clock + Duration::hours(h)).unwrap();
                        }
                        engine.suppress(&mut p, s, clock);
                    }
                    Op::Like { interest } => p.like(ids[interest % ids.len()], clock),
                    Op::Dislike { interest } => p.dislike(ids[interest % ids.len()], clock),
                    Op::Level { level } => p.set_level([Level::Off, Level::Declared, Level::FirstParty, Level::Full][level]),
                    Op::Compact => { engine.compact(&mut p, clock); }
                    Op::Score { back_min } => {
                        check(&engine, &p, clock, &mut fast_runs);
                        check(&engine, &p, clock - Duration::minutes(back_min), &mut fast_runs);
                    }
                }
            }
            check(&engine, &p, clock, &mut fast_runs);
            check(&engine, &p, clock + Duration::days(20), &mut fast_runs);
            prop_assert!(fast_runs > 0, "the fast path never ran");
        }
    }
    /// Distinct days capped at the minimum: counted as events come (a cap
    /// up to four) or from the pairs (a larger cap), the same counts, for
    /// a leaf and for its ancestor.
    #[test]
    fn distinct_days_are_counted_alike_for_small_and_large_caps() {
        let taxonomy = Taxonomy::builder()
            .interest("a/x")
            .interest("a/y")
            .build()
            .unwrap();
        let (x, y, a) = (
            taxonomy.require("a/x").unwrap(),
            taxonomy.require("a/y").unwrap(),
            taxonomy.require("a").unwrap(),
        );
        let now = time::macros::datetime!(2026-11-01 0:00 UTC);
        let profile = Profile::new("anna");
        // x on days 1, 1, 2, 3 and y on days 3, 4, 4: four days under a.
        let events = [(x, 1), (x, 1), (x, 2), (x, 3), (y, 3), (y, 4), (y, 4)];
        for (cap, want) in [
            (1u32, [1, 1, 1]),
            (2, [2, 2, 2]),
            (4, [3, 2, 4]),
            (6, [3, 2, 4]),
        ] {
            let policy = DecayPolicy::builder()
                .min_events(6)
                .min_days(cap)
                .build()
                .unwrap();
            let view = View::new(&taxonomy, &policy, &profile, now);
            let mut tally = Tally::new(&taxonomy, &policy);
            for &(i, day) in &events {
                tally.add(&taxonomy, i, 1.0, day);
            }
            let scores = tally.settle(&view);
            let got = [x, y, a].map(|i| scores.get(i).map_or(0, |s| s.days));
            assert_eq!(got, want, "cap {cap}");
            let mut out = Vec::new();
            tally.drain(scores, &mut out);
            // Drained: the next person starts from nothing.
            tally.add(&taxonomy, x, 1.0, 9);
            let again = tally.settle(&view);
            assert_eq!(
                again.get(x).map(|s| (s.events, s.days)),
                Some((1, 1)),
                "cap {cap}"
            );
            assert_eq!(again.get(y).map(|s| s.days), Some(0), "cap {cap}");
        }
    }
}
