//! Privacy parameters as exact fixed-point numbers, and the mechanisms.

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::sample::{self, Rational, SamplerError};

/// Millionths in one epsilon.
const EPSILON_UNIT: u64 = 1_000_000;
/// Largest epsilon, in millionths (1000).
const EPSILON_MAX: u64 = 1_000 * EPSILON_UNIT;
/// Units of delta in 1.
const DELTA_UNIT: u64 = 1_000_000_000_000_000;
/// Largest delta, in units of 10^-15 (0.5).
const DELTA_MAX: u64 = DELTA_UNIT / 2;
/// Most cells one person may contribute to in one release.
pub(crate) const MAX_CONTRIBUTIONS: u32 = 1_024;
/// sigma^2 is rounded up to a multiple of 1 / `SIGMA_SQ_DEN`.
const SIGMA_SQ_DEN: u64 = 1_024;
/// Largest sigma^2 the Gaussian mechanism will use (2^40, sigma about 10^6).
const SIGMA_SQ_MAX: f64 = 1_099_511_627_776.0;

/// Why a privacy parameter or mechanism was refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ParameterError {
    /// Epsilon must be a finite number in \[0, 1000\] (it is kept in
    /// millionths).
    #[error("epsilon {0} is not a finite number in [0, 1000]")]
    Epsilon(f64),
    /// Delta must be a finite number in \[0, 0.5\] (it is kept in units of
    /// 10^-15); useful values are far below 1 / (number of people).
    #[error("delta {0} is not a finite number in [0, 0.5]")]
    Delta(f64),
    /// A mechanism with epsilon 0 would need infinite noise.
    #[error("a mechanism needs epsilon > 0")]
    ZeroEpsilon,
    /// The Gaussian mechanism needs delta > 0; use the Laplace mechanism for
    /// pure epsilon-DP.
    #[error("the Gaussian mechanism needs delta > 0")]
    ZeroDelta,
    /// One person may contribute to between 1 and 1024 cells of a release.
    #[error("{0} contributions per person: must be between 1 and 1024")]
    Contributions(u32),
    /// The noise these parameters call for is beyond the exact sampler's
    /// range (sigma^2 above 2^40). Raise epsilon or delta, or release fewer
    /// cells at once.
    #[error("noise for epsilon {epsilon}, delta {delta} and {contributions} contributions is beyond the sampler's range")]
    NoiseOutOfRange {
        /// The mechanism's epsilon.
        epsilon: Epsilon,
        /// The mechanism's delta.
        delta: Delta,
        /// Cells per person.
        contributions: u32,
    },
}

/// An amount of epsilon, kept exactly as a whole number of millionths in
/// \[0, 1000\]. Serialized as that whole number.
///
/// # Example
/// ```
/// use tactful::privacy::Epsilon;
/// let e = Epsilon::new(0.1)?;
/// assert_eq!(e.micros(), 100_000);
/// assert_eq!(e.to_string(), "0.1");
/// assert!(Epsilon::new(-1.0).is_err());
/// # Ok::<(), tactful::privacy::ParameterError>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u64", into = "u64")]
pub struct Epsilon(u64);

impl Epsilon {
    /// No privacy loss.
    pub const ZERO: Self = Self(0);

    /// `value` rounded to the nearest millionth. Mechanisms and budgets use
    /// the rounded value consistently, so rounding never hides spending.
    ///
    /// # Errors
    /// [`ParameterError::Epsilon`] unless `value` is finite and in
    /// \[0, 1000\].
    pub fn new(value: f64) -> Result<Self, ParameterError> {
        if !value.is_finite() || !(0.0..=1000.0).contains(&value) {
            return Err(ParameterError::Epsilon(value));
        }
        // In range, so the product is in [0, 1e9] and the cast is exact
        // after rounding.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let micros = (value * 1e6).round() as u64;
        Ok(Self(micros))
    }

    /// Exactly `micros` millionths.
    ///
    /// # Errors
    /// [`ParameterError::Epsilon`] above 1000 (10^9 millionths).
    pub fn from_micros(micros: u64) -> Result<Self, ParameterError> {
        if micros > EPSILON_MAX {
            #[allow(clippy::cast_precision_loss)]
            return Err(ParameterError::Epsilon(micros as f64 / 1e6));
        }
        Ok(Self(micros))
    }

    /// The amount in millionths.
    #[must_use]
    pub const fn micros(self) -> u64 {
        self.0
    }

    /// The amount as a float (for display and for choosing parameters).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let v = self.0 as f64 / 1e6;
        v
    }
}

impl TryFrom<u64> for Epsilon {
    type Error = ParameterError;
    fn try_from(micros: u64) -> Result<Self, Self::Error> {
        Self::from_micros(micros)
    }
}

impl From<Epsilon> for u64 {
    fn from(e: Epsilon) -> Self {
        e.0
    }
}

/// `whole.fraction` with trailing zeros trimmed.
fn fixed(f: &mut std::fmt::Formatter<'_>, v: u64, unit: u64, digits: usize) -> std::fmt::Result {
    let (whole, frac) = (v / unit, v % unit);
    if frac == 0 {
        return write!(f, "{whole}");
    }
    let s = format!("{frac:0digits$}");
    write!(f, "{whole}.{}", s.trim_end_matches('0'))
}

impl std::fmt::Display for Epsilon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fixed(f, self.0, EPSILON_UNIT, 6)
    }
}

/// An amount of delta, kept exactly as a whole number of units of 10^-15 in
/// \[0, 0.5\]. Serialized as that whole number.
///
/// # Example
/// ```
/// use tactful::privacy::Delta;
/// let d = Delta::new(1e-9)?;
/// assert_eq!(d.units(), 1_000_000);
/// assert_eq!(d.to_string(), "0.000000001");
/// # Ok::<(), tactful::privacy::ParameterError>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u64", into = "u64")]
pub struct Delta(u64);

impl Delta {
    /// No delta: pure epsilon-DP.
    pub const ZERO: Self = Self(0);

    /// `value` rounded to the nearest 10^-15.
    ///
    /// # Errors
    /// [`ParameterError::Delta`] unless `value` is finite and in \[0, 0.5\].
    pub fn new(value: f64) -> Result<Self, ParameterError> {
        if !value.is_finite() || !(0.0..=0.5).contains(&value) {
            return Err(ParameterError::Delta(value));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let units = (value * 1e15).round() as u64;
        Ok(Self(units))
    }

    /// Exactly `units` times 10^-15.
    ///
    /// # Errors
    /// [`ParameterError::Delta`] above 0.5.
    pub fn from_units(units: u64) -> Result<Self, ParameterError> {
        if units > DELTA_MAX {
            #[allow(clippy::cast_precision_loss)]
            return Err(ParameterError::Delta(units as f64 / 1e15));
        }
        Ok(Self(units))
    }

    /// The amount in units of 10^-15.
    #[must_use]
    pub const fn units(self) -> u64 {
        self.0
    }

    /// The amount as a float.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let v = self.0 as f64 / 1e15;
        v
    }
}

impl TryFrom<u64> for Delta {
    type Error = ParameterError;
    fn try_from(units: u64) -> Result<Self, Self::Error> {
        Self::from_units(units)
    }
}

impl From<Delta> for u64 {
    fn from(d: Delta) -> Self {
        d.0
    }
}

impl std::fmt::Display for Delta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fixed(f, self.0, DELTA_UNIT, 15)
    }
}

/// The privacy loss of a release, or an amount of budget: epsilon and delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PrivacyLoss {
    /// Epsilon.
    pub epsilon: Epsilon,
    /// Delta (zero for pure epsilon-DP).
    pub delta: Delta,
}

/// Which noise a [`Mechanism`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MechanismKind {
    /// Discrete Laplace (two-sided geometric): pure epsilon-DP, noise with
    /// heavier tails.
    Laplace,
    /// Discrete Gaussian: (epsilon, delta)-DP, lighter tails, and noise that
    /// grows with `sqrt(k)` rather than `k` for a breakdown over `k` cells.
    Gaussian,
}

/// A noise mechanism with its privacy parameters: what one release costs.
///
/// Built by [`laplace`](Self::laplace) or [`gaussian`](Self::gaussian), so
/// a mechanism without noise cannot exist.
///
/// # Example
/// ```
/// use tactful::privacy::{Delta, Epsilon, Mechanism};
/// let lap = Mechanism::laplace(Epsilon::new(0.5)?)?;
/// assert_eq!(lap.noise_parameter(1)?.to_f64(), 2.0); // scale 1 / epsilon
/// let gauss = Mechanism::gaussian(Epsilon::new(1.0)?, Delta::new(1e-9)?)?;
/// assert!(gauss.standard_deviation(1)? > 5.0);
/// assert!(Mechanism::gaussian(Epsilon::new(1.0)?, Delta::ZERO).is_err());
/// # Ok::<(), tactful::privacy::ParameterError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MechanismRepr", into = "MechanismRepr")]
pub struct Mechanism {
    kind: MechanismKind,
    loss: PrivacyLoss,
}

#[derive(Serialize, Deserialize)]
struct MechanismRepr {
    kind: MechanismKind,
    epsilon: Epsilon,
    #[serde(default)]
    delta: Delta,
}

impl TryFrom<MechanismRepr> for Mechanism {
    type Error = ParameterError;
    fn try_from(r: MechanismRepr) -> Result<Self, Self::Error> {
        match r.kind {
            MechanismKind::Laplace if r.delta == Delta::ZERO => Self::laplace(r.epsilon),
            MechanismKind::Laplace => Err(ParameterError::Delta(r.delta.to_f64())),
            MechanismKind::Gaussian => Self::gaussian(r.epsilon, r.delta),
        }
    }
}

impl From<Mechanism> for MechanismRepr {
    fn from(m: Mechanism) -> Self {
        Self {
            kind: m.kind,
            epsilon: m.loss.epsilon,
            delta: m.loss.delta,
        }
    }
}

impl Mechanism {
    /// The discrete Laplace mechanism: epsilon-DP, noise scale
    /// `k / epsilon` for `k` contributions per person.
    ///
    /// # Errors
    /// [`ParameterError::ZeroEpsilon`].
    pub fn laplace(epsilon: Epsilon) -> Result<Self, ParameterError> {
        if epsilon == Epsilon::ZERO {
            return Err(ParameterError::ZeroEpsilon);
        }
        Ok(Self {
            kind: MechanismKind::Laplace,
            loss: PrivacyLoss {
                epsilon,
                delta: Delta::ZERO,
            },
        })
    }

    /// The discrete Gaussian mechanism: (epsilon, delta)-DP, with sigma
    /// chosen as the [module docs](super) describe.
    ///
    /// # Errors
    /// [`ParameterError::ZeroEpsilon`], [`ParameterError::ZeroDelta`], or
    /// [`ParameterError::NoiseOutOfRange`] if even one contribution per
    /// person would need sigma^2 above 2^40.
    pub fn gaussian(epsilon: Epsilon, delta: Delta) -> Result<Self, ParameterError> {
        if epsilon == Epsilon::ZERO {
            return Err(ParameterError::ZeroEpsilon);
        }
        if delta == Delta::ZERO {
            return Err(ParameterError::ZeroDelta);
        }
        let m = Self {
            kind: MechanismKind::Gaussian,
            loss: PrivacyLoss { epsilon, delta },
        };
        m.noise_parameter(1)?;
        Ok(m)
    }

    /// Which noise.
    #[must_use]
    pub fn kind(&self) -> MechanismKind {
        self.kind
    }

    /// What one release costs (the whole release, however many cells).
    #[must_use]
    pub fn cost(&self) -> PrivacyLoss {
        self.loss
    }

    /// The exact noise parameter for a release where one person contributes
    /// 1 to at most `contributions` cells: the Laplace scale
    /// `contributions / epsilon`, or the Gaussian `sigma^2`
    /// (`contributions / (2 rho)` rounded up to a multiple of 1/1024).
    ///
    /// # Errors
    /// [`ParameterError::Contributions`] outside 1..=1024;
    /// [`ParameterError::NoiseOutOfRange`] for sigma^2 above 2^40.
    pub fn noise_parameter(&self, contributions: u32) -> Result<Rational, ParameterError> {
        if !(1..=MAX_CONTRIBUTIONS).contains(&contributions) {
            return Err(ParameterError::Contributions(contributions));
        }
        let out_of_range = ParameterError::NoiseOutOfRange {
            epsilon: self.loss.epsilon,
            delta: self.loss.delta,
            contributions,
        };
        match self.kind {
            MechanismKind::Laplace => {
                // k * 10^6 <= 1.1e9 and epsilon >= 1 millionth: both fit.
                Rational::new(
                    u64::from(contributions) * EPSILON_UNIT,
                    self.loss.epsilon.micros(),
                )
                .map_err(|_| out_of_range)
            }
            MechanismKind::Gaussian => {
                let eps = self.loss.epsilon.to_f64();
                let l = (1.0 / self.loss.delta.to_f64()).ln();
                // sqrt(l + eps) - sqrt(l), without cancellation.
                let sqrt_rho = eps / ((l + eps).sqrt() + l.sqrt());
                let sigma_sq = f64::from(contributions) / (2.0 * sqrt_rho * sqrt_rho);
                let scaled = (sigma_sq * (1.0 + 1e-9) * 1024.0).ceil();
                if !scaled.is_finite() || sigma_sq > SIGMA_SQ_MAX {
                    return Err(out_of_range);
                }
                // Below 2^50, so exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let num = scaled as u64;
                Rational::new(num.max(1), SIGMA_SQ_DEN).map_err(|_| out_of_range)
            }
        }
    }

    /// The standard deviation of the noise for `contributions` cells per
    /// person, for confidence intervals (public: it depends only on the
    /// parameters). For the Gaussian it is the upper bound `sigma`.
    ///
    /// # Errors
    /// As [`noise_parameter`](Self::noise_parameter).
    pub fn standard_deviation(&self, contributions: u32) -> Result<f64, ParameterError> {
        let p = self.noise_parameter(contributions)?.to_f64();
        Ok(match self.kind {
            MechanismKind::Laplace => {
                let a = (-1.0 / p).exp();
                (2.0 * a).sqrt() / (1.0 - a)
            }
            MechanismKind::Gaussian => p.sqrt(),
        })
    }

    /// One exact noise draw for `contributions` cells per person.
    pub(crate) fn sample<R: CryptoRng + ?Sized>(
        &self,
        param: Rational,
        rng: &mut R,
    ) -> Result<i64, SamplerError> {
        match self.kind {
            MechanismKind::Laplace => sample::discrete_laplace(param, rng),
            MechanismKind::Gaussian => sample::discrete_gaussian(param, rng),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn epsilon_and_delta_are_exact_and_bounded() {
        assert_eq!(Epsilon::new(0.1).unwrap().micros(), 100_000);
        assert_eq!(Epsilon::new(1000.0).unwrap().micros(), 1_000_000_000);
        assert!(Epsilon::new(1000.1).is_err());
        assert!(Epsilon::new(f64::NAN).is_err());
        assert!(Epsilon::from_micros(1_000_000_001).is_err());
        assert_eq!(Epsilon::new(1.25).unwrap().to_string(), "1.25");
        assert_eq!(Epsilon::new(2.0).unwrap().to_string(), "2");
        assert_eq!(Delta::new(1e-15).unwrap().units(), 1);
        assert!(Delta::new(0.6).is_err());
        assert!(Delta::from_units(DELTA_MAX + 1).is_err());
        assert_eq!(Delta::new(0.25).unwrap().to_string(), "0.25");
    }

    #[test]
    fn gaussian_sigma_matches_the_zcdp_conversion() {
        let eps = 1.0;
        let delta = 1e-6;
        let m =
            Mechanism::gaussian(Epsilon::new(eps).unwrap(), Delta::new(delta).unwrap()).unwrap();
        let sigma_sq = m.noise_parameter(1).unwrap().to_f64();
        let rho = 1.0 / (2.0 * sigma_sq);
        let l = (1.0_f64 / delta).ln();
        // The chosen sigma spends at most epsilon, and not much less.
        let spent = rho + 2.0 * (rho * l).sqrt();
        assert!(spent <= eps && spent > eps * 0.999, "{spent}");
        // k contributions: sigma^2 grows linearly in k (L2 sensitivity sqrt k).
        let four = m.noise_parameter(4).unwrap().to_f64();
        assert!((four / sigma_sq - 4.0).abs() < 1e-3);
        // Too small an epsilon is refused, not a panic.
        let tiny =
            Mechanism::gaussian(Epsilon::from_micros(1).unwrap(), Delta::new(1e-12).unwrap());
        assert!(matches!(tiny, Err(ParameterError::NoiseOutOfRange { .. })));
        assert!(m.noise_parameter(0).is_err());
        assert!(m.noise_parameter(MAX_CONTRIBUTIONS + 1).is_err());
    }

    #[test]
    fn mechanisms_round_trip_through_serde_and_reject_invalid_ones() {
        let m = Mechanism::gaussian(Epsilon::new(0.5).unwrap(), Delta::new(1e-9).unwrap()).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"gaussian","epsilon":500000,"delta":1000000}"#
        );
        assert_eq!(serde_json::from_str::<Mechanism>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Mechanism>(r#"{"kind":"laplace","epsilon":0}"#).is_err());
        assert!(serde_json::from_str::<Mechanism>(r#"{"kind":"gaussian","epsilon":5}"#).is_err());
    }
}
