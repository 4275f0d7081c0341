//! The public kernel: its strategies, threads and reused state, and the view
//! of a run's result.

use super::run::State;
use super::{BatchError, BatchParams, EventColumns};

/// Fewest events per worker thread worth the coordination cost.
#[cfg(all(feature = "rayon", not(test)))]
const MIN_EVENTS_PER_WORKER: usize = 1 << 15;
/// Tests use tiny inputs and still want to exercise several workers.
#[cfg(all(feature = "rayon", test))]
const MIN_EVENTS_PER_WORKER: usize = 1;

/// How the kernel groups events by pair. [`Strategy::Auto`] is the right
/// choice in practice; the others exist for comparison and testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Radix-partitioned when the profile range allows, sort otherwise.
    #[default]
    Auto,
    /// Radix-partition by profile, accumulate each partition in a
    /// cache-resident table (falls back to [`Strategy::Sort`] for profile
    /// ranges too large to partition densely).
    Partitioned,
    /// One dense table over the whole `(profile, interest)` space with plain
    /// random-access accumulation, single-threaded (falls back to
    /// [`Strategy::Sort`] when the space exceeds 2^26 cells).
    Direct,
    /// Sort `(pair key, contribution)` records and sum runs, single-threaded.
    Sort,
}

/// The raw decay kernel: decayed sums per `(profile, interest)` pair over
/// event columns, with **none** of the engine's rules.
///
/// # Warning: not the engine's scores
///
/// It ignores consent and its withdrawal, the personalization level,
/// suppressions (do-not-contact and bereavement included), gifts, dismissals,
/// declared dislikes, minimum evidence (events on distinct days), erasure
/// tombstones and special-category rules; every row it is handed counts (see
/// the [module docs](crate::batch) for the full list). **Never use its numbers to
/// target, segment or address a person**: they are for aggregate analytics
/// and for benchmarking the decay kernel only. The exact path is
/// [`Engine::record`](crate::Engine::record) and
/// [`Engine::scores`](crate::Engine::scores) per profile; an exact bulk path
/// does not exist yet.
///
/// # Reuse
///
/// Keep one around: its buffers (partitions, tables, output) are reused by
/// every call to [`RawDecayKernel::score`], so a warmed-up kernel allocates
/// nothing for inputs of a similar size.
#[derive(Debug, Default)]
pub struct RawDecayKernel {
    state: State,
    strategy: Strategy,
    #[cfg(feature = "rayon")]
    pool: Option<rayon::ThreadPool>,
}

impl RawDecayKernel {
    /// A kernel using the global rayon pool with the `rayon` feature (all
    /// cores by default), or the calling thread without it.
    pub fn new() -> Self {
        Self::default()
    }

    /// A kernel running on exactly `threads` threads (a local rayon pool with
    /// the `rayon` feature). Without the `rayon` feature the kernel always runs
    /// on the calling thread and `threads` is only checked.
    ///
    /// # Errors
    /// [`BatchError::ZeroThreads`] if `threads == 0`,
    /// [`BatchError::ThreadPool`] if the pool cannot be built.
    pub fn with_threads(threads: usize) -> Result<Self, BatchError> {
        if threads == 0 {
            return Err(BatchError::ZeroThreads);
        }
        #[cfg(feature = "rayon")]
        {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| BatchError::ThreadPool(e.to_string()))?;
            Ok(Self {
                pool: Some(pool),
                ..Self::default()
            })
        }
        #[cfg(not(feature = "rayon"))]
        {
            Ok(Self::default())
        }
    }

    /// Sets the grouping strategy (default [`Strategy::Auto`]).
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The grouping strategy in use.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Number of threads a call to [`RawDecayKernel::score`] may use.
    pub fn threads(&self) -> usize {
        #[cfg(feature = "rayon")]
        {
            self.pool
                .as_ref()
                .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
        }
        #[cfg(not(feature = "rayon"))]
        {
            1
        }
    }

    /// Sums `events` with `params`, every row counting (no consent, level,
    /// suppression or evidence rules); the result borrows the kernel's
    /// buffers.
    pub fn score(&mut self, events: &EventColumns<'_>, params: &BatchParams) -> BatchResult<'_> {
        let strategy = self.strategy;
        #[cfg(feature = "rayon")]
        {
            let workers = self
                .threads()
                .min(events.len() / MIN_EVENTS_PER_WORKER)
                .max(1);
            let state = &mut self.state;
            match &self.pool {
                Some(pool) => pool.install(|| state.run(events, params, workers, strategy)),
                None => state.run(events, params, workers, strategy),
            }
        }
        #[cfg(not(feature = "rayon"))]
        {
            self.state.run(events, params, 1, strategy);
        }
        BatchResult { state: &self.state }
    }
}

/// View of the last run, borrowed from the [`RawDecayKernel`]: raw sums,
/// never a person's scores (see the warning there).
#[derive(Debug, Clone, Copy)]
pub struct BatchResult<'s> {
    state: &'s State,
}

impl<'s> BatchResult<'s> {
    /// Number of input events.
    pub fn events(&self) -> usize {
        self.state.totals.events
    }

    /// Number of pairs with at least one counting event.
    pub fn pairs(&self) -> usize {
        self.state.totals.pairs
    }

    /// Number of pairs with `score >= min_score && count >= min_count`: a raw
    /// threshold on rows, not the engine's minimum evidence.
    pub fn qualifying(&self) -> usize {
        self.state.totals.qualifying
    }

    /// Sum of all pair scores.
    pub fn sum_scores(&self) -> f64 {
        self.state.totals.sum_scores
    }

    /// Non-empty pairs as `(profile, interest, score, count)`.
    ///
    /// With [`Strategy::Auto`] and [`Strategy::Partitioned`] the pairs come in
    /// ascending blocks of profiles (a block is one cache-sized partition)
    /// and, inside a block, in the order of each pair's first counting event.
    /// That order and every pair's score (bit for bit) do not depend on the
    /// thread count. [`Strategy::Direct`] and [`Strategy::Sort`] yield
    /// ascending `(profile, interest)` order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u16, f64, u32)> + 's {
        self.state
            .accum
            .get(..self.state.active_accum)
            .unwrap_or_default()
            .iter()
            .flat_map(|a| a.out.iter())
            .map(|o| (o.profile, o.interest, o.score, o.count))
    }
}

impl<'s> IntoIterator for BatchResult<'s> {
    type Item = (u32, u16, f64, u32);
    type IntoIter = Box<dyn Iterator<Item = (u32, u16, f64, u32)> + 's>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;
    use proptest::prelude::{
        prop_assert, prop_assert_eq, prop_oneof, proptest, Just, ProptestConfig, TestCaseError,
    };
    use proptest::strategy::Strategy as _;
    use std::collections::BTreeMap;

    type PairMap = BTreeMap<(u32, u16), (f64, u32)>;

    /// Straightforward reference: one `exp2` per event, a BTreeMap per pair.
    fn naive(ev: &EventColumns<'_>, p: &BatchParams) -> PairMap {
        let mut map = PairMap::new();
        for i in 0..ev.len() {
            let age = i128::from(p.now()) - i128::from(ev.ts()[i]);
            if age >= 0 && age <= i128::from(p.max_age_secs()) {
                let f = (-(age as f64) / p.half_life_secs()).exp2();
                let slot = map
                    .entry((ev.profiles()[i], ev.interests()[i]))
                    .or_insert((0.0, 0));
                slot.0 += f64::from(ev.weights()[i]) * f;
                slot.1 += 1;
            }
        }
        map
    }

    /// Relative 1e-9, with an absolute floor for scores that underflow to
    /// subnormals, where no relative bound is meaningful.
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-290
    }

    fn kernels() -> Vec<RawDecayKernel> {
        let mut v = Vec::new();
        for strategy in [
            Strategy::Auto,
            Strategy::Partitioned,
            Strategy::Direct,
            Strategy::Sort,
        ] {
            for threads in [1, 3] {
                v.push(
                    RawDecayKernel::with_threads(threads)
                        .unwrap()
                        .with_strategy(strategy),
                );
            }
        }
        v
    }

    /// Checks every kernel configuration against the reference.
    fn check(ev: &EventColumns<'_>, p: &BatchParams) -> Result<(), TestCaseError> {
        let expected = naive(ev, p);
        let exp_sum: f64 = expected.values().map(|v| v.0).sum();
        let exp_q = expected
            .values()
            .filter(|(s, c)| *s >= p.min_score() && *c >= p.min_count())
            .count();
        let borderline = expected
            .values()
            .any(|(s, _)| close(*s, p.min_score()) && *s != p.min_score());
        for mut kernel in kernels() {
            let label = format!("{:?}/{}", kernel.strategy(), kernel.threads());
            let r = kernel.score(ev, p);
            prop_assert_eq!(r.events(), ev.len());
            prop_assert_eq!(r.pairs(), expected.len(), "{}", label);
            let mut got = PairMap::new();
            let mut own_q = 0;
            for (prof, int, score, count) in r.iter() {
                prop_assert!(count >= 1);
                own_q += usize::from(score >= p.min_score() && count >= p.min_count());
                prop_assert!(
                    got.insert((prof, int), (score, count)).is_none(),
                    "duplicate pair"
                );
            }
            prop_assert_eq!(got.len(), expected.len(), "{}", label);
            for (k, (s, c)) in &expected {
                let (gs, gc) = got[k];
                prop_assert_eq!(gc, *c, "count of {:?} ({})", k, label);
                prop_assert!(
                    close(gs, *s),
                    "score of {:?}: {} vs {} ({})",
                    k,
                    gs,
                    s,
                    label
                );
            }
            prop_assert!(
                close(r.sum_scores(), exp_sum),
                "{} vs {} ({})",
                r.sum_scores(),
                exp_sum,
                label
            );
            prop_assert_eq!(r.qualifying(), own_q, "{}", label);
            if !borderline {
                prop_assert_eq!(r.qualifying(), exp_q, "{}", label);
            }
        }
        Ok(())
    }

    fn run_check(
        profiles: &[u32],
        interests: &[u16],
        ts: &[i64],
        weights: &[f32],
        p: &BatchParams,
    ) {
        let ev = EventColumns::new(profiles, interests, ts, weights).unwrap();
        check(&ev, p).unwrap();
    }

    const NOW: i64 = super::super::BENCH_NOW;

    #[test]
    fn edge_ages() {
        let p = BatchParams::builder()
            .max_age_secs(1000)
            .half_life_secs(500.0)
            .min_score(1.0)
            .min_count(1)
            .build()
            .unwrap();
        // ts == now (factor 1), age == max_age (factor 1/4), age == max_age + 1
        // (excluded), ts > now (excluded), overflowing differences (excluded).
        let ts = [NOW, NOW - 1000, NOW - 1001, NOW + 1, i64::MIN, i64::MAX];
        let profiles = [1, 2, 3, 4, 5, 6];
        let interests = [0; 6];
        let weights = [2.0; 6];
        run_check(&profiles, &interests, &ts, &weights, &p);
        let ev = EventColumns::new(&profiles, &interests, &ts, &weights).unwrap();
        let mut kernel = RawDecayKernel::new();
        let r = kernel.score(&ev, &p);
        let got: Vec<_> = r.iter().collect();
        assert_eq!(got, vec![(1, 0, 2.0, 1), (2, 0, 0.5, 1)]);
        assert_eq!(r.pairs(), 2);
        assert_eq!(r.qualifying(), 1);
        assert_eq!(r.sum_scores(), 2.5);
    }

    #[test]
    fn overflowing_age_with_negative_now() {
        let p = BatchParams::builder()
            .now(-5_000_000_000_000_000_000)
            .max_age_secs(i64::MAX)
            .build()
            .unwrap();
        // now - i64::MAX underflows: the event lies in the future, excluded.
        let ts = [i64::MAX, i64::MIN, -5_000_000_000_000_000_000];
        run_check(&[1, 2, 3], &[1, 1, 1], &ts, &[1.0; 3], &p);
        let ev = EventColumns::new(&[1, 2, 3], &[1, 1, 1], &ts, &[1.0; 3]).unwrap();
        assert_eq!(RawDecayKernel::new().score(&ev, &p).pairs(), 2);
    }

    #[test]
    fn empty_input() {
        let p = BatchParams::default();
        run_check(&[], &[], &[], &[], &p);
        let ev = EventColumns::new(&[], &[], &[], &[]).unwrap();
        assert!(ev.is_empty());
        let mut s = RawDecayKernel::new();
        let r = s.score(&ev, &p);
        assert_eq!(
            (r.events(), r.pairs(), r.qualifying(), r.sum_scores()),
            (0, 0, 0, 0.0)
        );
        assert_eq!(r.iter().count(), 0);
    }

    #[test]
    fn one_profile() {
        let n = 500;
        let profiles = vec![42; n];
        let interests: Vec<u16> = (0..n).map(|i| (i % 7) as u16).collect();
        let ts: Vec<i64> = (0..n).map(|i| NOW - (i as i64) * 20_000).collect();
        let weights: Vec<f32> = (0..n).map(|i| 0.5 + (i % 4) as f32).collect();
        run_check(
            &profiles,
            &interests,
            &ts,
            &weights,
            &BatchParams::default(),
        );
    }

    #[test]
    fn extreme_ids_and_long_ages() {
        // u32::MAX profiles force the sort fallback; u16::MAX interests make
        // the interest field 16 bits wide; ages past the table use exp2.
        let p = BatchParams::builder()
            .max_age_secs(i64::MAX)
            .half_life_secs(1e9)
            .build()
            .unwrap();
        let profiles = [u32::MAX, 0, u32::MAX, 7];
        let interests = [u16::MAX, 0, u16::MAX, 3];
        let ts = [NOW, NOW - (1 << 40), NOW - (1 << 29), 0];
        run_check(&profiles, &interests, &ts, &[1.0, 2.0, 3.0, 4.0], &p);
    }

    #[test]
    fn buffers_are_reused() {
        let n = 20_000;
        let profiles: Vec<u32> = (0..n).map(|i| (i * 7919 % 3000) as u32).collect();
        let interests: Vec<u16> = (0..n).map(|i| (i * 31 % 256) as u16).collect();
        let ts: Vec<i64> = (0..n).map(|i| NOW - (i as i64 * 613 % 6_000_000)).collect();
        let weights = vec![1.25_f32; n];
        let ev = EventColumns::new(&profiles, &interests, &ts, &weights).unwrap();
        let p = BatchParams::default();
        let mut kernel = RawDecayKernel::with_threads(2).unwrap();
        let first = kernel.score(&ev, &p).sum_scores();
        let ptrs = |s: &RawDecayKernel| {
            (
                s.state.scatter[0].recs.as_ptr(),
                s.state.accum[0].cells.as_ptr(),
                s.state.accum[0].out.as_ptr(),
                s.state.decay.hi.as_ptr(),
            )
        };
        let before = ptrs(&kernel);
        // A smaller input in between must not shrink anything either.
        let small = ev.rows(0, 100);
        let _ = kernel.score(&small, &p).pairs();
        let again = kernel.score(&ev, &p).sum_scores();
        assert_eq!(first.to_bits(), again.to_bits());
        assert_eq!(before, ptrs(&kernel));
    }

    #[test]
    fn scores_do_not_depend_on_thread_count() {
        let n = 5_000;
        let profiles: Vec<u32> = (0..n).map(|i| (i * 7919 % 700) as u32).collect();
        let interests: Vec<u16> = (0..n).map(|i| (i % 3) as u16).collect();
        let ts: Vec<i64> = (0..n)
            .map(|i| NOW - (i as i64 * 1013 % 5_000_000))
            .collect();
        let weights: Vec<f32> = (0..n).map(|i| 0.5 + (i % 5) as f32 * 0.3).collect();
        let ev = EventColumns::new(&profiles, &interests, &ts, &weights).unwrap();
        let p = BatchParams::default();
        let mut one = RawDecayKernel::with_threads(1).unwrap();
        let mut two = RawDecayKernel::with_threads(2).unwrap();
        let a: Vec<_> = one
            .score(&ev, &p)
            .iter()
            .map(|t| (t.0, t.1, t.2.to_bits(), t.3))
            .collect();
        let b: Vec<_> = two
            .score(&ev, &p)
            .iter()
            .map(|t| (t.0, t.1, t.2.to_bits(), t.3))
            .collect();
        assert_eq!(a, b);
    }

    fn events_strategy(
    ) -> impl proptest::strategy::Strategy<Value = (Vec<u32>, Vec<u16>, Vec<i64>, Vec<f32>, BatchParams)>
    {
        (
            0_usize..400,
            prop_oneof![Just(1_u32), 1_u32..5_000, Just(u32::MAX)],
            prop_oneof![Just(0_u16), 1_u16..300, Just(u16::MAX)],
            0_i64..2_000_000,
            1.0_f64..3_000_000.0,
            0.0_f64..8.0,
            0_u32..4,
        )
            .prop_flat_map(
                |(n, pmax, imax, max_age, half_life, min_score, min_count)| {
                    let params = BatchParams::builder()
                        .max_age_secs(max_age)
                        .half_life_secs(half_life)
                        .min_score(min_score)
                        .min_count(min_count)
                        .build()
                        .unwrap();
                    let age_hi = max_age + max_age / 4 + 2;
                    (
                        proptest::collection::vec(0..=pmax, n),
                        proptest::collection::vec(0..=imax, n),
                        proptest::collection::vec(
                            prop_oneof![
                                (-50_i64..age_hi).prop_map(|a| NOW - a),
                                Just(NOW),
                                Just(NOW - max_age),
                                Just(NOW - max_age - 1),
                            ],
                            n,
                        ),
                        proptest::collection::vec(0.0_f32..10.0, n),
                        Just(params),
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn matches_naive_reference((profiles, interests, ts, weights, params) in events_strategy()) {
            let ev = EventColumns::new(&profiles, &interests, &ts, &weights).unwrap();
            check(&ev, &params)?;
        }

        #[test]
        fn few_pairs_many_events(
            events in proptest::collection::vec((0_u32..4, 0_u16..3, 0_i64..5_000_000, 0.0_f32..3.0), 0..3000)
        ) {
            let profiles: Vec<u32> = events.iter().map(|e| e.0).collect();
            let interests: Vec<u16> = events.iter().map(|e| e.1).collect();
            let ts: Vec<i64> = events.iter().map(|e| NOW - e.2).collect();
            let weights: Vec<f32> = events.iter().map(|e| e.3).collect();
            let ev = EventColumns::new(&profiles, &interests, &ts, &weights).unwrap();
            check(&ev, &BatchParams::default())?;
        }
    }
}
