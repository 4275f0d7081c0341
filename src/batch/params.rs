//! The validated parameters of a run: the instant, half-life, maximum age
//! and the raw qualifying threshold.

use super::{
    BatchError, BENCH_NOW, DAY_SECS, DEFAULT_HALF_LIFE_SECS, DEFAULT_MAX_AGE_SECS,
    DEFAULT_MIN_COUNT, DEFAULT_MIN_SCORE,
};

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
}
