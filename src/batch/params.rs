//! The validated parameters of a run: the instant, half-life, maximum age
//! and the raw qualifying threshold.

use time::{Duration, OffsetDateTime};

use crate::HalfLife;

use super::{
    BatchError, BENCH_NOW, DAY_SECS, DEFAULT_HALF_LIFE_SECS, DEFAULT_MAX_AGE_SECS,
    DEFAULT_MIN_COUNT, DEFAULT_MIN_SCORE,
};

/// Validated scoring parameters.
///
/// For real data, start with [`BatchParams::at`] and your instant, and give
/// the half-life and maximum age as the crate's types
/// ([`HalfLife`], [`time::Duration`]):
///
/// ```
/// use tactful::batch::BatchParams;
/// use tactful::HalfLife;
/// use time::{macros::datetime, Duration};
///
/// let params = BatchParams::at(datetime!(2026-03-01 12:00 UTC))
///     .half_life(HalfLife::new(Duration::days(7))?)
///     .max_age(Duration::days(28))
///     .build()?;
/// assert_eq!(params.now(), datetime!(2026-03-01 12:00 UTC).unix_timestamp());
/// assert_eq!(params.half_life_secs(), 7.0 * 86_400.0);
/// assert_eq!(params.max_age(), Duration::days(28));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The raw forms in unix seconds ([`BatchParams::new`],
/// [`BatchParams::builder`] with [`BatchParamsBuilder::now`],
/// [`half_life_secs`](BatchParamsBuilder::half_life_secs),
/// [`max_age_secs`](BatchParamsBuilder::max_age_secs)) stay for the benchmark
/// and for callers whose data are already columns of unix seconds, like
/// [`EventColumns`](super::EventColumns). [`BatchParams::default`] and
/// [`BatchParams::builder`] start from now = [`BENCH_NOW`], half-life 14
/// days, max age 56 days, min score 3.0, min count 2: that `now` is a fixed
/// instant (2023-11-14), not the current time.
/// `min_score` and `min_count` are a raw threshold on the kernel's sums and
/// row counts, not the engine's minimum evidence (events on distinct days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchParams {
    pub(super) now: i64,
    pub(super) half_life_secs: f64,
    pub(super) max_age_secs: i64,
    pub(super) min_score: f64,
    pub(super) min_count: u32,
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

    /// Starts a builder with the default parameters and the reference
    /// instant `now` (whole unix seconds, rounded down): the way in for real
    /// data, with no fixed instant to forget to replace.
    pub fn at(now: OffsetDateTime) -> BatchParamsBuilder {
        Self::builder().at(now)
    }

    /// Starts a builder holding the default parameters, `now` included: the
    /// fixed instant [`BENCH_NOW`], not the current time (see
    /// [`BatchParams::at`] for real data).
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

    /// Largest age of an event that still counts.
    pub fn max_age(&self) -> Duration {
        Duration::seconds(self.max_age_secs)
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
    /// Sets the reference time (unix seconds, as in the event columns);
    /// [`at`](Self::at) takes an [`OffsetDateTime`].
    pub fn now(mut self, now: i64) -> Self {
        self.raw.now = now;
        self
    }

    /// Sets the reference instant, in whole unix seconds rounded down (the
    /// kernel's instants are whole seconds).
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.raw.now = now.unix_timestamp();
        self
    }

    /// Sets the half-life; a [`HalfLife`] is always valid (positive).
    pub fn half_life(mut self, half_life: HalfLife) -> Self {
        self.raw.half_life_secs = half_life.get().as_seconds_f64();
        self
    }

    /// Sets the half-life in seconds ([`half_life`](Self::half_life) takes a
    /// [`HalfLife`]).
    pub fn half_life_secs(mut self, secs: f64) -> Self {
        self.raw.half_life_secs = secs;
        self
    }

    /// Sets the half-life in days.
    pub fn half_life_days(mut self, days: f64) -> Self {
        self.raw.half_life_secs = days * DAY_SECS as f64;
        self
    }

    /// Sets the maximum age, rounded down to whole seconds: ages are whole
    /// seconds, so exactly the events no older than `max_age` count. A
    /// negative duration makes [`build`](Self::build) fail with
    /// [`BatchError::NegativeMaxAge`].
    pub fn max_age(mut self, max_age: Duration) -> Self {
        let whole = max_age.whole_seconds();
        // `whole_seconds` truncates toward zero; a negative fraction rounds
        // down to the next negative second, so -0.5 s is refused, not 0.
        let below = max_age.subsec_nanoseconds() < 0;
        self.raw.max_age_secs = whole.saturating_sub(i64::from(below));
        self
    }

    /// Sets the maximum age in seconds ([`max_age`](Self::max_age) takes a
    /// [`Duration`]).
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::batch::RawDecayKernel;

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
    fn typed_setters_equal_the_raw_ones() {
        use time::macros::datetime;
        let now = datetime!(2026-03-01 12:00:00.75 UTC);
        let typed = BatchParams::at(now)
            .half_life(HalfLife::new(Duration::hours(36)).unwrap())
            .max_age(Duration::days(10) + Duration::milliseconds(999))
            .min_score(1.0)
            .build()
            .unwrap();
        let raw = BatchParams::builder()
            .now(1_772_366_400)
            .half_life_secs(36.0 * 3600.0)
            .max_age_secs(10 * 86_400)
            .min_score(1.0)
            .build()
            .unwrap();
        assert_eq!(typed, raw);
        assert_eq!(typed.max_age(), Duration::days(10));
        // Before 1970 too, the instant rounds down.
        let early = BatchParams::at(datetime!(1969-12-31 23:59:59.5 UTC))
            .build()
            .unwrap();
        assert_eq!(early.now(), -1);
        // The policy's own half-life goes in as is.
        let policy = crate::DecayPolicy::default();
        let p = BatchParams::at(now)
            .half_life(policy.half_life())
            .build()
            .unwrap();
        assert_eq!(
            p.half_life_secs(),
            policy.half_life().get().as_seconds_f64()
        );
    }

    #[test]
    fn a_negative_max_age_is_refused_even_below_a_second() {
        let b = BatchParams::at(time::macros::datetime!(2026-03-01 0:00 UTC));
        assert_eq!(
            b.max_age(Duration::milliseconds(-500)).build(),
            Err(BatchError::NegativeMaxAge(-1))
        );
        assert_eq!(
            b.max_age(Duration::seconds(-3)).build(),
            Err(BatchError::NegativeMaxAge(-3))
        );
        assert_eq!(b.max_age(Duration::ZERO).build().unwrap().max_age_secs(), 0);
        assert_eq!(
            b.max_age(Duration::MAX).build().unwrap().max_age_secs(),
            i64::MAX
        );
        assert_eq!(
            b.max_age(Duration::MIN).build(),
            Err(BatchError::NegativeMaxAge(i64::MIN))
        );
    }
}
