//! Units with their invariants: a [`Weight`] is finite and non-negative, a
//! [`HalfLife`] is positive. A leaf module: the taxonomy, events and the
//! decay policy all build on it, so that an invalid quantity cannot exist
//! anywhere above.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// A weight that is NaN, infinite, negative or above `Weight::MAX` (1e9).
///
/// Weights scale an event's contribution to an interest score. Pass a finite
/// number between 0 and 1e9.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("invalid weight {0}: must be finite, at least 0 and at most 1e9")]
pub struct InvalidWeight(pub f64);

/// A half-life that is zero or negative.
///
/// A half-life says after how long an event counts half. Pass a positive
/// duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("half-life must be positive, got {0}")]
pub struct InvalidHalfLife(pub Duration);

/// A finite, non-negative weight.
///
/// # Example
/// ```
/// use tactful::Weight;
/// assert_eq!(Weight::new(2.5)?.get(), 2.5);
/// assert!(Weight::new(f64::NAN).is_err());
/// assert!(Weight::new(-1.0).is_err());
/// # Ok::<(), tactful::InvalidWeight>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Weight(f64);

impl Weight {
    /// Weight 1.
    pub const ONE: Self = Self(1.0);
    /// Weight 0.
    pub const ZERO: Self = Self(0.0);

    /// The largest weight: sums of many events stay finite.
    pub const MAX: f64 = 1e9;

    /// A weight; rejects NaN, infinities, negative numbers and values above
    /// [`Weight::MAX`].
    ///
    /// # Errors
    /// [`InvalidWeight`] for NaN, infinite, negative or too large values.
    pub fn new(w: f64) -> Result<Self, InvalidWeight> {
        if w.is_finite() && (0.0..=Self::MAX).contains(&w) {
            // Normalise -0.0 so equal weights serialize equally.
            Ok(Self(w + 0.0))
        } else {
            Err(InvalidWeight(w))
        }
    }

    /// The value.
    #[must_use]
    pub fn get(self) -> f64 {
        self.0
    }

    /// The weight whose value is `w`, where `w` is a valid weight's value
    /// held as an `f32` (exactly): a compact row's, never an input's.
    pub(crate) fn from_held_f32(w: f32) -> Self {
        debug_assert!(Self::new(f64::from(w)).is_ok());
        Self(f64::from(w))
    }
}

impl Default for Weight {
    fn default() -> Self {
        Self::ONE
    }
}

impl TryFrom<f64> for Weight {
    type Error = InvalidWeight;
    fn try_from(w: f64) -> Result<Self, Self::Error> {
        Self::new(w)
    }
}

impl From<Weight> for f64 {
    fn from(w: Weight) -> f64 {
        w.0
    }
}

/// A positive half-life.
///
/// # Example
/// ```
/// use tactful::HalfLife;
/// use time::Duration;
/// assert!(HalfLife::new(Duration::days(14)).is_ok());
/// assert!(HalfLife::new(Duration::ZERO).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "SerdeDuration", into = "SerdeDuration")]
pub struct HalfLife(pub(crate) Duration);

impl HalfLife {
    /// A half-life; rejects zero and negative durations.
    ///
    /// # Errors
    /// [`InvalidHalfLife`] for a zero or negative duration.
    pub fn new(d: Duration) -> Result<Self, InvalidHalfLife> {
        if d.is_positive() {
            Ok(Self(d))
        } else {
            Err(InvalidHalfLife(d))
        }
    }

    /// The duration.
    #[must_use]
    pub fn get(self) -> Duration {
        self.0
    }

    pub(crate) fn seconds(self) -> f64 {
        self.0.as_seconds_f64()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SerdeDuration(#[serde(with = "crate::serde_util::duration")] Duration);

impl TryFrom<SerdeDuration> for HalfLife {
    type Error = InvalidHalfLife;
    fn try_from(d: SerdeDuration) -> Result<Self, Self::Error> {
        Self::new(d.0)
    }
}
impl From<HalfLife> for SerdeDuration {
    fn from(h: HalfLife) -> Self {
        SerdeDuration(h.0)
    }
}

/// Unix nanoseconds of an instant, if it fits an `i64` (years 1678 to 2261).
pub(crate) fn to_nanos(t: OffsetDateTime) -> Option<i64> {
    i64::try_from(t.unix_timestamp_nanos()).ok()
}

pub(crate) fn from_nanos(n: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
