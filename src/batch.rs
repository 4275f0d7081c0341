//! The raw decay kernel over event columns: **not** the engine's scoring.
//!
//! # Warning: raw decayed sums, with none of the engine's rules
//!
//! [`RawDecayKernel`] (formerly `BatchScorer`) sums
//! `weight · 2^(-age / half_life)` over whatever rows it is handed. It knows
//! nothing about the people behind the profile ids and applies **none** of
//! the rules of [`Engine::record`](crate::Engine::record) and
//! [`Engine::scores`](crate::Engine::scores). It ignores:
//!
//! * consent, and its withdrawal (retroactive in the engine);
//! * the personalization [`Level`](crate::Level) (even `Level::Off`);
//! * suppressions, including do-not-contact and bereavement (and the purge
//!   of stored signals that a bereavement triggers);
//! * gifts, dismissals and declared dislikes;
//! * minimum evidence: the policy's `min_events` on `min_days` distinct days
//!   (this kernel's `min_count` counts rows, not days);
//! * erasure tombstones;
//! * special-category (sensitive interest) rules;
//! * per-interest half-lives and max ages, the shorter partner max age,
//!   signal weights and the taxonomy's subtrees (an interest is an opaque
//!   `u16` here).
//!
//! **Its numbers must never be used to target, segment or address a person**
//! (no messages, audiences or exports built from them). They are for
//! aggregate analytics and for benchmarking the decay kernel only. The exact
//! path is [`Engine::record`](crate::Engine::record) for every event, then
//! [`Engine::scores`](crate::Engine::scores),
//! [`Engine::segments`](crate::Engine::segments) and
//! [`Engine::decide`](crate::Engine::decide) per profile; an exact bulk path
//! does not exist yet.
//!
//! # What it computes
//!
//! For every `(profile, interest)` pair present in a column set of events, the
//! kernel computes
//!
//! ```text
//! score = Σ weight · 2^(-(now - ts) / half_life)   over events with 0 <= now - ts <= max_age
//! count = number of those events
//! ```
//!
//! and the totals `pairs` (pairs with `count >= 1`), `qualifying`
//! (`score >= min_score && count >= min_count`, a raw threshold, not the
//! engine's "established") and `sum_scores`.
//!
//! # How it is fast
//!
//! * The decay factor for an integer age is two table lookups
//!   (`hi[age >> 12] * lo[age & 4095]`), with the tables rebuilt only when the
//!   half-life or the maximum age change. Ages past the table fall back to
//!   `f64::exp2`.
//! * The full `(profile, interest)` space does not fit in cache, so events are
//!   radix-partitioned by profile (a counting-sort pass into reused buffers) and
//!   each partition is accumulated into a small, cache-resident table.
//! * All large buffers live in [`RawDecayKernel`] and are reused between calls.
//! * With the `rayon` cargo feature the passes run on a rayon thread pool
//!   (the global one, or a local one with a caller-chosen number of threads).
//!
//! # Example
//!
//! ```
//! use tactful::batch::{BatchParams, EventColumns, RawDecayKernel};
//!
//! // Aggregate analytics only: these are raw sums, see the warning above.
//! let now = 1_700_000_000;
//! let profiles = [1_u32, 1, 2];
//! let interests = [7_u16, 7, 3];
//! let ts = [now, now - 3_600, now + 10];
//! let weights = [2.0_f32, 1.5, 1.0];
//! let events = EventColumns::new(&profiles, &interests, &ts, &weights)?;
//! let params = BatchParams::builder().now(now).build()?;
//! let mut kernel = RawDecayKernel::new();
//! let result = kernel.score(&events, &params);
//! assert_eq!(result.pairs(), 1); // the event of profile 2 lies in the future
//! assert_eq!(result.qualifying(), 1);
//! let (profile, interest, score, count) = result.iter().next().ok_or("no pair")?;
//! assert_eq!((profile, interest, count), (1, 7, 2));
//! assert!((score - 3.4969).abs() < 1e-3); // 2 + 1.5 * 2^(-1 h / 14 days)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use thiserror::Error;

/// Seconds in a day.
pub const DAY_SECS: i64 = 86_400;
/// A fixed instant, 1 700 000 000 unix seconds (2023-11-14 22:13:20 UTC):
/// the `now` of the benchmark data set (`peers.py generate`) and of
/// [`BatchParams::default`].
///
/// It is **not** the current time and never becomes it: like the rest of the
/// crate, this module never reads the clock. Scoring real events with it
/// treats everything after that instant as lying in the future (left out)
/// and everything more than 56 days before it as older than the default max
/// age. Pass the instant you mean with [`BatchParamsBuilder::now`].
pub const BENCH_NOW: i64 = 1_700_000_000;
/// The former name of [`BENCH_NOW`], which read like a clock default.
#[deprecated(
    note = "renamed BENCH_NOW: a fixed instant in 2023, not the current time (tactful never reads the clock); pass your own `now`"
)]
pub const DEFAULT_NOW: i64 = BENCH_NOW;
/// Default half-life: 14 days, in seconds.
pub const DEFAULT_HALF_LIFE_SECS: f64 = (14 * DAY_SECS) as f64;
/// Default maximum age: 56 days, in seconds.
pub const DEFAULT_MAX_AGE_SECS: i64 = 56 * DAY_SECS;
/// Default minimum score for a pair to qualify.
pub const DEFAULT_MIN_SCORE: f64 = 3.0;
/// Default minimum event count for a pair to qualify.
pub const DEFAULT_MIN_COUNT: u32 = 2;

/// Number of low age bits resolved by the `lo` decay table.
const LO_BITS: u32 = 12;
/// Length of the `lo` decay table.
const LO_LEN: usize = 1 << LO_BITS;
/// Mask selecting the low age bits.
const LO_MASK: u64 = (LO_LEN as u64) - 1;
/// Longest `hi` decay table (ages up to 2^28 s, about 8.5 years, use tables).
const HI_MAX_LEN: usize = 1 << 16;
/// log2 of the number of cells of one partition table (2^16 cells of 16 bytes
/// fill a 1 MiB L2; measured best among 12..=18 on the 10M-event benchmark).
const PART_CELL_BITS: u32 = 16;
/// Largest number of profile partitions before the sort strategy is used.
const MAX_PARTITIONS: usize = 1 << 20;
/// Largest dense table (cells, 16 bytes each) the direct strategy accepts.
const MAX_DIRECT_CELLS: usize = 1 << 26;
/// Fewest events per worker thread worth the coordination cost.
#[cfg(all(feature = "rayon", not(test)))]
const MIN_EVENTS_PER_WORKER: usize = 1 << 15;
/// Tests use tiny inputs and still want to exercise several workers.
#[cfg(all(feature = "rayon", test))]
const MIN_EVENTS_PER_WORKER: usize = 1;

/// Errors reported by the raw decay kernel and its inputs.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The half-life is not a finite number of seconds greater than zero.
    #[error("half-life must be a finite number of seconds greater than zero, got {0}")]
    InvalidHalfLife(f64),
    /// The maximum age is negative.
    #[error("max age must be zero or more seconds, got {0}")]
    NegativeMaxAge(i64),
    /// The minimum score is NaN or infinite.
    #[error("min score must be finite, got {0}")]
    NonFiniteMinScore(f64),
    /// The event columns do not all have the same length.
    #[error(
        "event columns differ in length: profiles {profiles}, interests {interests}, ts {ts}, weights {weights}"
    )]
    ColumnLengthMismatch {
        /// Length of the profile column.
        profiles: usize,
        /// Length of the interest column.
        interests: usize,
        /// Length of the timestamp column.
        ts: usize,
        /// Length of the weight column.
        weights: usize,
    },
    /// A weight is NaN or infinite.
    #[error("weight at row {row} is not finite ({value})")]
    NonFiniteWeight {
        /// Zero-based row of the offending event.
        row: usize,
        /// The offending weight.
        value: f32,
    },
    /// A weight is negative.
    #[error("weight at row {row} is negative ({value})")]
    NegativeWeight {
        /// Zero-based row of the offending event.
        row: usize,
        /// The offending weight.
        value: f32,
    },
    /// A thread count of zero was requested.
    #[error("thread count must be at least 1")]
    ZeroThreads,
    /// The rayon thread pool could not be built.
    #[error("could not build the thread pool: {0}")]
    ThreadPool(String),
}

/// Validated scoring parameters.
///
/// Build with [`BatchParams::builder`], [`BatchParams::new`] or use
/// [`BatchParams::default`] (now = [`BENCH_NOW`], half-life 14 days, max age
/// 56 days, min score 3.0, min count 2).
///
/// The default `now` is the fixed instant [`BENCH_NOW`] (2023-11-14), not
/// the current time: set [`BatchParamsBuilder::now`] for real data.
/// `min_score` and `min_count` are a raw threshold on the kernel's sums and
/// row counts, not the engine's minimum evidence (events on distinct days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchParams {
    now: i64,
    half_life_secs: f64,
    max_age_secs: i64,
    min_score: f64,
    min_count: u32,
}

impl Default for BatchParams {
    fn default() -> Self {
        Self {
            now: BENCH_NOW,
            half_life_secs: DEFAULT_HALF_LIFE_SECS,
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            min_score: DEFAULT_MIN_SCORE,
            min_count: DEFAULT_MIN_COUNT,
        }
    }
}

impl BatchParams {
    /// Validates and builds parameters.
    ///
    /// # Errors
    /// [`BatchError::InvalidHalfLife`] unless `half_life_secs` is finite and
    /// greater than zero, [`BatchError::NegativeMaxAge`] if `max_age_secs < 0`,
    /// [`BatchError::NonFiniteMinScore`] if `min_score` is NaN or infinite.
    pub fn new(
        now: i64,
        half_life_secs: f64,
        max_age_secs: i64,
        min_score: f64,
        min_count: u32,
    ) -> Result<Self, BatchError> {
        if !(half_life_secs.is_finite() && half_life_secs > 0.0) {
            return Err(BatchError::InvalidHalfLife(half_life_secs));
        }
        if max_age_secs < 0 {
            return Err(BatchError::NegativeMaxAge(max_age_secs));
        }
        if !min_score.is_finite() {
            return Err(BatchError::NonFiniteMinScore(min_score));
        }
        Ok(Self {
            now,
            half_life_secs,
            max_age_secs,
            min_score,
            min_count,
        })
    }

    /// Starts a builder holding the default parameters, `now` included: the
    /// fixed instant [`BENCH_NOW`], not the current time.
    pub fn builder() -> BatchParamsBuilder {
        BatchParamsBuilder {
            raw: Self::default(),
        }
    }

    /// Reference time, unix seconds.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Half-life of the decay, seconds.
    pub fn half_life_secs(&self) -> f64 {
        self.half_life_secs
    }

    /// Largest age (seconds) of an event that still counts.
    pub fn max_age_secs(&self) -> i64 {
        self.max_age_secs
    }

    /// Minimum score for a pair to qualify.
    pub fn min_score(&self) -> f64 {
        self.min_score
    }

    /// Minimum event count for a pair to qualify.
    pub fn min_count(&self) -> u32 {
        self.min_count
    }
}

/// Builder for [`BatchParams`]; values are checked by [`BatchParamsBuilder::build`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchParamsBuilder {
    raw: BatchParams,
}

impl BatchParamsBuilder {
    /// Sets the reference time (unix seconds).
    pub fn now(mut self, now: i64) -> Self {
        self.raw.now = now;
        self
    }

    /// Sets the half-life in seconds.
    pub fn half_life_secs(mut self, secs: f64) -> Self {
        self.raw.half_life_secs = secs;
        self
    }

    /// Sets the half-life in days.
    pub fn half_life_days(mut self, days: f64) -> Self {
        self.raw.half_life_secs = days * DAY_SECS as f64;
        self
    }

    /// Sets the maximum age in seconds.
    pub fn max_age_secs(mut self, secs: i64) -> Self {
        self.raw.max_age_secs = secs;
        self
    }

    /// Sets the maximum age in whole days (saturating on overflow).
    pub fn max_age_days(mut self, days: i64) -> Self {
        self.raw.max_age_secs = days.saturating_mul(DAY_SECS);
        self
    }

    /// Sets the minimum score for a pair to qualify.
    pub fn min_score(mut self, min_score: f64) -> Self {
        self.raw.min_score = min_score;
        self
    }

    /// Sets the minimum event count for a pair to qualify.
    pub fn min_count(mut self, min_count: u32) -> Self {
        self.raw.min_count = min_count;
        self
    }

    /// Validates the values, see [`BatchParams::new`].
    ///
    /// # Errors
    /// The errors of [`BatchParams::new`].
    pub fn build(self) -> Result<BatchParams, BatchError> {
        let r = self.raw;
        BatchParams::new(
            r.now,
            r.half_life_secs,
            r.max_age_secs,
            r.min_score,
            r.min_count,
        )
    }
}

/// Borrowed, validated event columns: row `i` is one event.
#[derive(Debug, Clone, Copy)]
pub struct EventColumns<'a> {
    profiles: &'a [u32],
    interests: &'a [u16],
    ts: &'a [i64],
    weights: &'a [f32],
}

impl<'a> EventColumns<'a> {
    /// Checks the columns and wraps them.
    ///
    /// # Errors
    /// [`BatchError::ColumnLengthMismatch`] if the columns differ in length,
    /// [`BatchError::NonFiniteWeight`] or [`BatchError::NegativeWeight`] naming
    /// the first offending row.
    pub fn new(
        profiles: &'a [u32],
        interests: &'a [u16],
        ts: &'a [i64],
        weights: &'a [f32],
    ) -> Result<Self, BatchError> {
        let n = profiles.len();
        if interests.len() != n || ts.len() != n || weights.len() != n {
            return Err(BatchError::ColumnLengthMismatch {
                profiles: n,
                interests: interests.len(),
                ts: ts.len(),
                weights: weights.len(),
            });
        }
        // Fast vectorisable check first; locate the row only when it fails.
        let all_ok = weights
            .iter()
            .fold(true, |ok, &w| ok & (w.is_finite() & (w >= 0.0)));
        if !all_ok {
            for (row, &value) in weights.iter().enumerate() {
                if !value.is_finite() {
                    return Err(BatchError::NonFiniteWeight { row, value });
                }
                if value < 0.0 {
                    return Err(BatchError::NegativeWeight { row, value });
                }
            }
        }
        Ok(Self {
            profiles,
            interests,
            ts,
            weights,
        })
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// Profile column.
    pub fn profiles(&self) -> &'a [u32] {
        self.profiles
    }

    /// Interest column.
    pub fn interests(&self) -> &'a [u16] {
        self.interests
    }

    /// Timestamp column (unix seconds).
    pub fn ts(&self) -> &'a [i64] {
        self.ts
    }

    /// Weight column.
    pub fn weights(&self) -> &'a [f32] {
        self.weights
    }

    /// Rows `start..end` clamped to the columns (empty when out of range).
    fn rows(&self, start: usize, end: usize) -> Self {
        let end = end.min(self.len());
        let start = start.min(end);
        Self {
            profiles: self.profiles.get(start..end).unwrap_or_default(),
            interests: self.interests.get(start..end).unwrap_or_default(),
            ts: self.ts.get(start..end).unwrap_or_default(),
            weights: self.weights.get(start..end).unwrap_or_default(),
        }
    }
}

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

/// One accumulated event ready for a partition table.
#[derive(Debug, Clone, Copy, Default)]
struct Rec {
    value: f64,
    cell: u32,
}

/// One accumulator cell.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    sum: f64,
    count: u32,
}

/// One output pair.
#[derive(Debug, Clone, Copy, Default)]
struct PairScore {
    score: f64,
    profile: u32,
    count: u32,
    interest: u16,
}

/// Decay lookup tables: `2^(-age/h) ≈ hi[age >> 12] * lo[age & 4095]`.
#[derive(Debug)]
struct DecayTable {
    key: Option<(u64, u64)>,
    half_life: f64,
    hi: Vec<f64>,
    lo: Box<[f64; LO_LEN]>,
}

impl Default for DecayTable {
    fn default() -> Self {
        Self {
            key: None,
            half_life: 1.0,
            hi: Vec::new(),
            lo: Box::new([0.0; LO_LEN]),
        }
    }
}

impl DecayTable {
    /// Rebuilds the tables if `half_life` or `max_age` changed.
    fn ensure(&mut self, half_life: f64, max_age: u64) {
        let key = (half_life.to_bits(), max_age);
        if self.key == Some(key) {
            return;
        }
        self.half_life = half_life;
        for (i, slot) in self.lo.iter_mut().enumerate() {
            *slot = exact_decay(i as u64, half_life);
        }
        let hi_len = usize::try_from(max_age >> LO_BITS)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(HI_MAX_LEN);
        self.hi.clear();
        self.hi
            .extend((0..hi_len as u64).map(|j| exact_decay(j << LO_BITS, half_life)));
        self.key = Some(key);
    }

    /// `2^(-age/half_life)` for `age` in `[0, max_age]`.
    #[inline(always)]
    fn factor(&self, age: u64) -> f64 {
        let lo = self
            .lo
            .get((age & LO_MASK) as usize)
            .copied()
            .unwrap_or(0.0);
        let hi_index = usize::try_from(age >> LO_BITS).unwrap_or(usize::MAX);
        match self.hi.get(hi_index) {
            Some(&hi) => hi * lo,
            None => exact_decay(age, self.half_life),
        }
    }
}

/// `2^(-age/half_life)` computed directly.
#[inline]
fn exact_decay(age: u64, half_life: f64) -> f64 {
    (-(age as f64) / half_life).exp2()
}

/// Age of an event and whether it counts (`0 <= now - ts <= max_age`);
/// the returned age is 0 for events that do not count.
#[inline(always)]
fn age_of(now: i64, ts: i64, max_age: u64) -> (u64, bool) {
    let (age, overflow) = now.overflowing_sub(ts);
    // An overflowing difference is either below i64::MIN or above i64::MAX,
    // so it is outside [0, max_age] either way. Negative ages wrap to huge
    // unsigned values and fail the comparison.
    let valid = !overflow & ((age as u64) <= max_age);
    (if valid { age as u64 } else { 0 }, valid)
}

/// Geometry of the profile partitioning.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    /// Profile bits resolved inside a partition.
    shift: u32,
    /// Bits of the interest field in a cell index.
    wbits: u32,
    /// Number of partitions.
    parts: usize,
    /// Cells per partition table.
    cells: usize,
}

impl Layout {
    fn new(max_profile: u32, max_interest: u16) -> Self {
        let wbits = u16::BITS - max_interest.leading_zeros();
        let shift = PART_CELL_BITS.saturating_sub(wbits);
        let parts = usize::try_from(max_profile >> shift)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        Self {
            shift,
            wbits,
            parts,
            cells: 1_usize << (shift + wbits),
        }
    }

    #[inline(always)]
    fn partition(&self, profile: u32) -> usize {
        (profile >> self.shift) as usize
    }

    #[inline(always)]
    fn cell(&self, profile: u32, interest: u16) -> u32 {
        ((profile & ((1 << self.shift) - 1)) << self.wbits) | u32::from(interest)
    }
}

/// Per-worker scatter state for one chunk of events.
#[derive(Debug, Default)]
struct ScatterBuf {
    max_profile: u32,
    max_interest: u16,
    /// Events that count, per partition.
    counts: Vec<usize>,
    /// Start of each partition in `recs` (each partition has one slack slot).
    starts: Vec<usize>,
    cursor: Vec<usize>,
    recs: Vec<Rec>,
}

impl ScatterBuf {
    fn find_max(&mut self, ev: &EventColumns<'_>) {
        self.max_profile = ev.profiles.iter().copied().max().unwrap_or(0);
        self.max_interest = ev.interests.iter().copied().max().unwrap_or(0);
    }

    /// Counting sort of the counting events of `ev` into `recs` by partition.
    fn scatter(
        &mut self,
        ev: &EventColumns<'_>,
        p: &BatchParams,
        decay: &DecayTable,
        layout: &Layout,
    ) {
        let max_age = p.max_age_secs as u64;
        let now = p.now;
        self.counts.clear();
        self.counts.resize(layout.parts, 0);
        for (&prof, &t) in ev.profiles.iter().zip(ev.ts) {
            let (_, valid) = age_of(now, t, max_age);
            if let Some(c) = self.counts.get_mut(layout.partition(prof)) {
                *c += usize::from(valid);
            }
        }
        self.starts.clear();
        let mut next = 0_usize;
        self.starts.extend(self.counts.iter().map(|&c| {
            let start = next;
            next += c + 1; // one slack slot absorbs the branch-free write of a skipped event
            start
        }));
        if self.recs.len() < next {
            self.recs.resize(next, Rec::default());
        }
        self.cursor.clear();
        self.cursor.extend_from_slice(&self.starts);
        for (((&prof, &int), &t), &w) in ev
            .profiles
            .iter()
            .zip(ev.interests)
            .zip(ev.ts)
            .zip(ev.weights)
        {
            let (age, valid) = age_of(now, t, max_age);
            let rec = Rec {
                value: f64::from(w) * decay.factor(age),
                cell: layout.cell(prof, int),
            };
            if let Some(c) = self.cursor.get_mut(layout.partition(prof)) {
                // Written unconditionally; a skipped event's record lands on a
                // slot that a later event of the partition overwrites, or on
                // the partition's slack slot.
                if let Some(slot) = self.recs.get_mut(*c) {
                    *slot = rec;
                }
                *c += usize::from(valid);
            }
        }
    }

    /// Records of partition `part`.
    fn partition(&self, part: usize) -> &[Rec] {
        match (self.starts.get(part), self.counts.get(part)) {
            (Some(&s), Some(&c)) => self.recs.get(s..s + c).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// Per-worker accumulation state and output.
#[derive(Debug, Default)]
struct AccumBuf {
    cells: Vec<Cell>,
    out: Vec<PairScore>,
    sum: f64,
    qualifying: usize,
}

impl AccumBuf {
    fn reset_output(&mut self) {
        self.out.clear();
        self.sum = 0.0;
        self.qualifying = 0;
    }

    /// Makes `cells` at least `n` long; cells are kept zeroed between uses.
    fn ensure_cells(&mut self, n: usize) {
        if self.cells.len() < n {
            self.cells.resize(n, Cell::default());
        }
    }

    #[inline(always)]
    fn emit(&mut self, p: &BatchParams, profile: u32, interest: u16, cell: Cell) {
        self.sum += cell.sum;
        self.qualifying += usize::from(cell.sum >= p.min_score && cell.count >= p.min_count);
        self.out.push(PairScore {
            score: cell.sum,
            profile,
            count: cell.count,
            interest,
        });
    }

    /// Accumulates partitions `parts` from all scatter buffers.
    fn accumulate(
        &mut self,
        parts: std::ops::Range<usize>,
        scatter: &[ScatterBuf],
        p: &BatchParams,
        layout: &Layout,
    ) {
        self.reset_output();
        self.ensure_cells(layout.cells);
        let wmask = (1_u32 << layout.wbits) - 1;
        for part in parts {
            let mut n = 0_usize;
            for buf in scatter {
                let recs = buf.partition(part);
                n += recs.len();
                for r in recs {
                    if let Some(c) = self.cells.get_mut(r.cell as usize) {
                        c.sum += r.value;
                        c.count += 1;
                    }
                }
            }
            if n == 0 {
                continue;
            }
            // `part < layout.parts <= (u32::MAX >> shift) + 1`, so this fits.
            let base = (part as u32) << layout.shift;
            // Emit each touched cell once, at its first record, and re-zero it.
            let mut cells = std::mem::take(&mut self.cells);
            for buf in scatter {
                for r in buf.partition(part) {
                    if let Some(c) = cells.get_mut(r.cell as usize) {
                        if c.count != 0 {
                            let profile = base | (r.cell >> layout.wbits);
                            self.emit(p, profile, (r.cell & wmask) as u16, *c);
                            *c = Cell::default();
                        }
                    }
                }
            }
            self.cells = cells;
        }
    }
}

/// Totals of the last run.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    events: usize,
    pairs: usize,
    qualifying: usize,
    sum_scores: f64,
}

/// All reusable buffers.
#[derive(Debug, Default)]
struct State {
    decay: DecayTable,
    scatter: Vec<ScatterBuf>,
    accum: Vec<AccumBuf>,
    sort_buf: Vec<(u64, f64)>,
    part_bounds: Vec<usize>,
    active_accum: usize,
    totals: Totals,
}

/// Runs `f(i, item)` for each item, in parallel with the `rayon` feature.
#[cfg(feature = "rayon")]
fn for_each_indexed<T: Send, F: Fn(usize, &mut T) + Sync + Send>(items: &mut [T], f: F) {
    use rayon::prelude::*;
    items.par_iter_mut().enumerate().for_each(|(i, x)| f(i, x));
}

/// Runs `f(i, item)` for each item, in parallel with the `rayon` feature.
#[cfg(not(feature = "rayon"))]
fn for_each_indexed<T, F: Fn(usize, &mut T)>(items: &mut [T], f: F) {
    items.iter_mut().enumerate().for_each(|(i, x)| f(i, x));
}

impl State {
    fn run(&mut self, ev: &EventColumns<'_>, p: &BatchParams, threads: usize, strategy: Strategy) {
        let max_age = p.max_age_secs as u64;
        self.decay.ensure(p.half_life_secs, max_age);
        let n = ev.len();
        let workers = threads.max(1);
        if self.scatter.len() < workers {
            self.scatter.resize_with(workers, ScatterBuf::default);
        }
        if self.accum.len() < workers {
            self.accum.resize_with(workers, AccumBuf::default);
        }
        let chunk = n.div_ceil(workers).max(1);
        let scatter = self.scatter.get_mut(..workers).unwrap_or_default();
        for_each_indexed(scatter, |i, buf| {
            buf.find_max(&ev.rows(i * chunk, (i + 1) * chunk));
        });
        let max_profile = scatter.iter().map(|b| b.max_profile).max().unwrap_or(0);
        let max_interest = scatter.iter().map(|b| b.max_interest).max().unwrap_or(0);
        let layout = Layout::new(max_profile, max_interest);
        let dense_cells = layout.parts.saturating_mul(layout.cells);

        let use_sort = match strategy {
            Strategy::Sort => true,
            Strategy::Direct => dense_cells > MAX_DIRECT_CELLS,
            Strategy::Auto | Strategy::Partitioned => layout.parts > MAX_PARTITIONS,
        };
        if use_sort {
            self.run_sort(ev, p);
        } else if strategy == Strategy::Direct {
            self.run_direct(ev, p, &layout);
        } else {
            self.run_partitioned(ev, p, &layout, workers, chunk);
        }
        let active = self.accum.get(..self.active_accum).unwrap_or_default();
        self.totals = Totals {
            events: n,
            pairs: active.iter().map(|a| a.out.len()).sum(),
            qualifying: active.iter().map(|a| a.qualifying).sum(),
            sum_scores: active.iter().map(|a| a.sum).sum(),
        };
    }

    fn run_partitioned(
        &mut self,
        ev: &EventColumns<'_>,
        p: &BatchParams,
        layout: &Layout,
        workers: usize,
        chunk: usize,
    ) {
        let decay = &self.decay;
        let scatter = self.scatter.get_mut(..workers).unwrap_or_default();
        for_each_indexed(scatter, |i, buf| {
            buf.scatter(&ev.rows(i * chunk, (i + 1) * chunk), p, decay, layout);
        });
        let scatter: &[ScatterBuf] = scatter;

        // Split the partitions into `workers` contiguous ranges of similar load.
        let total: usize = scatter.iter().flat_map(|b| b.counts.iter()).sum();
        let per_worker = total.div_ceil(workers).max(1);
        self.part_bounds.clear();
        self.part_bounds.push(0);
        let mut acc = 0_usize;
        for part in 0..layout.parts {
            acc += scatter
                .iter()
                .map(|b| b.counts.get(part).copied().unwrap_or(0))
                .sum::<usize>();
            if acc >= per_worker * self.part_bounds.len() && self.part_bounds.len() < workers {
                self.part_bounds.push(part + 1);
            }
        }
        while self.part_bounds.len() <= workers {
            self.part_bounds.push(layout.parts);
        }
        let bounds = &self.part_bounds;
        let accum = self.accum.get_mut(..workers).unwrap_or_default();
        for_each_indexed(accum, |i, acc| {
            let start = bounds.get(i).copied().unwrap_or(0);
            let end = bounds.get(i + 1).copied().unwrap_or(start);
            acc.accumulate(start..end, scatter, p, layout);
        });
        self.active_accum = workers;
    }

    fn run_direct(&mut self, ev: &EventColumns<'_>, p: &BatchParams, layout: &Layout) {
        let max_age = p.max_age_secs as u64;
        self.active_accum = 1;
        let Some(acc) = self.accum.first_mut() else {
            return;
        };
        acc.reset_output();
        let wbits = u16::BITS
            - ev.interests
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
                .leading_zeros();
        let cells = layout.parts.saturating_mul(layout.cells);
        acc.ensure_cells(cells);
        let mut table = std::mem::take(&mut acc.cells);
        for (((&prof, &int), &t), &w) in ev
            .profiles
            .iter()
            .zip(ev.interests)
            .zip(ev.ts)
            .zip(ev.weights)
        {
            let (age, valid) = age_of(p.now, t, max_age);
            if valid {
                let idx = ((prof as usize) << wbits) | usize::from(int);
                if let Some(c) = table.get_mut(idx) {
                    c.sum += f64::from(w) * self.decay.factor(age);
                    c.count += 1;
                }
            }
        }
        let wmask = (1_usize << wbits) - 1;
        for (i, c) in table.iter_mut().take(cells).enumerate() {
            if c.count != 0 {
                // `i < cells <= 2^26`, so the profile fits in u32 and the
                // masked interest in u16.
                acc.emit(p, (i >> wbits) as u32, (i & wmask) as u16, *c);
                *c = Cell::default();
            }
        }
        acc.cells = table;
    }

    fn run_sort(&mut self, ev: &EventColumns<'_>, p: &BatchParams) {
        let max_age = p.max_age_secs as u64;
        self.active_accum = 1;
        let Some(acc) = self.accum.first_mut() else {
            return;
        };
        acc.reset_output();
        let buf = &mut self.sort_buf;
        buf.clear();
        for (((&prof, &int), &t), &w) in ev
            .profiles
            .iter()
            .zip(ev.interests)
            .zip(ev.ts)
            .zip(ev.weights)
        {
            let (age, valid) = age_of(p.now, t, max_age);
            if valid {
                let key = (u64::from(prof) << 16) | u64::from(int);
                buf.push((key, f64::from(w) * self.decay.factor(age)));
            }
        }
        buf.sort_unstable_by_key(|r| r.0);
        let mut iter = buf.iter();
        let Some(&(mut key, first)) = iter.next() else {
            return;
        };
        let mut cell = Cell {
            sum: first,
            count: 1,
        };
        for &(k, v) in iter {
            if k == key {
                cell.sum += v;
                cell.count += 1;
            } else {
                acc.emit(p, (key >> 16) as u32, key as u16, cell);
                key = k;
                cell = Cell { sum: v, count: 1 };
            }
        }
        acc.emit(p, (key >> 16) as u32, key as u16, cell);
    }
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
/// the [module docs](self) for the full list). **Never use its numbers to
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

/// The former name of [`RawDecayKernel`].
///
/// It read like the batch form of the engine's scoring, which it is not: see
/// the warning on [`RawDecayKernel`].
#[deprecated(
    note = "renamed RawDecayKernel: raw decayed sums that ignore consent, level, suppressions, gifts and minimum evidence; never use them to target a person (see the warning in `tactful::batch`); Engine::record / Engine::scores are the exact path"
)]
pub type BatchScorer = RawDecayKernel;

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

    const NOW: i64 = BENCH_NOW;

    #[test]
    fn defaults_match_the_spec() {
        let p = BatchParams::default();
        assert_eq!(p.now(), 1_700_000_000);
        assert_eq!(p.half_life_secs(), 14.0 * 86_400.0);
        assert_eq!(p.max_age_secs(), 56 * 86_400);
        assert_eq!(p.min_score(), 3.0);
        assert_eq!(p.min_count(), 2);
        assert_eq!(BatchParams::builder().build().unwrap(), p);
    }

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
    fn column_errors() {
        let err = EventColumns::new(&[1, 2], &[1], &[NOW, NOW], &[1.0, 1.0]).unwrap_err();
        assert_eq!(
            err,
            BatchError::ColumnLengthMismatch {
                profiles: 2,
                interests: 1,
                ts: 2,
                weights: 2
            }
        );
        let err =
            EventColumns::new(&[1, 2, 3], &[1; 3], &[NOW; 3], &[1.0, f32::NAN, -1.0]).unwrap_err();
        assert!(matches!(err, BatchError::NonFiniteWeight { row: 1, .. }));
        assert!(err.to_string().starts_with("weight at row 1 is not finite"));
        let err = EventColumns::new(&[1, 2], &[1; 2], &[NOW; 2], &[1.0, -0.5]).unwrap_err();
        assert_eq!(
            err,
            BatchError::NegativeWeight {
                row: 1,
                value: -0.5
            }
        );
        let err = EventColumns::new(&[1], &[1], &[NOW], &[f32::INFINITY]).unwrap_err();
        assert!(matches!(err, BatchError::NonFiniteWeight { row: 0, .. }));
        assert!(EventColumns::new(&[1], &[1], &[NOW], &[-0.0]).is_ok());
    }

    #[test]
    fn param_errors() {
        let b = BatchParams::builder();
        assert!(matches!(
            b.half_life_secs(0.0).build(),
            Err(BatchError::InvalidHalfLife(_))
        ));
        assert!(matches!(
            b.half_life_secs(f64::NAN).build(),
            Err(BatchError::InvalidHalfLife(_))
        ));
        assert!(matches!(
            b.half_life_secs(f64::INFINITY).build(),
            Err(BatchError::InvalidHalfLife(_))
        ));
        assert_eq!(
            b.max_age_secs(-1).build(),
            Err(BatchError::NegativeMaxAge(-1))
        );
        assert!(matches!(
            b.min_score(f64::NAN).build(),
            Err(BatchError::NonFiniteMinScore(_))
        ));
        assert!(b
            .max_age_secs(0)
            .min_score(-1.0)
            .min_count(0)
            .build()
            .is_ok());
        assert_eq!(
            RawDecayKernel::with_threads(0).unwrap_err(),
            BatchError::ZeroThreads
        );
        for e in [
            BatchError::InvalidHalfLife(0.0),
            BatchError::NegativeMaxAge(-1),
            BatchError::NonFiniteMinScore(f64::NAN),
            BatchError::ZeroThreads,
        ] {
            // The prose is lowercase; the offending value is shown as is.
            let msg = e.to_string();
            let prose = msg.split(", got").next().unwrap_or_default();
            assert_eq!(prose, prose.to_lowercase(), "{msg}");
        }
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

    #[test]
    fn decay_table_matches_exp2() {
        let mut t = DecayTable::default();
        let h = 14.0 * 86_400.0;
        t.ensure(h, 56 * 86_400);
        for age in (0..56 * 86_400).step_by(997) {
            let exact = exact_decay(age, h);
            assert!(
                (t.factor(age) - exact).abs() <= 4.0 * f64::EPSILON * exact,
                "{age}"
            );
        }
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
