//! Exact samplers over integers and rationals, after Canonne, Kamath and
//! Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020),
//! algorithms 1 to 3.
//!
//! No floating point is used anywhere on the sampling path: every
//! probability is a ratio of integers, and every draw is a uniform integer
//! obtained from the caller's generator by rejection, so the output follows
//! the stated distribution exactly (given a uniform generator). Naive
//! floating-point Laplace sampling leaks through the low bits of its output
//! (Mironov, CCS 2012); these samplers have no low bits to leak.
//!
//! All arithmetic is checked. Parameters whose intermediate values could not
//! be represented are refused when the sampler starts
//! ([`SamplerError::OutOfRange`]); a draw whose value runs past what the
//! arithmetic can represent ends in [`SamplerError::Overflow`], with a
//! probability stated on each sampler (astronomically small for every
//! parameter the release API uses).

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A non-negative rational number `num / den` with `den > 0`, the exact
/// parameter type of the samplers.
///
/// # Example
/// ```
/// use tactful::privacy::sample::Rational;
/// let half = Rational::new(1, 2)?;
/// assert_eq!((half.num(), half.den()), (1, 2));
/// assert!(Rational::new(1, 0).is_err());
/// # Ok::<(), tactful::privacy::sample::SamplerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "(u64, u64)", into = "(u64, u64)")]
pub struct Rational {
    num: u64,
    den: u64,
}

impl Rational {
    /// `num / den`.
    ///
    /// # Errors
    /// [`SamplerError::ZeroDenominator`] if `den == 0`.
    pub fn new(num: u64, den: u64) -> Result<Self, SamplerError> {
        if den == 0 {
            return Err(SamplerError::ZeroDenominator { num });
        }
        Ok(Self { num, den })
    }

    /// The whole number `n`.
    #[must_use]
    pub const fn integer(n: u64) -> Self {
        Self { num: n, den: 1 }
    }

    /// The numerator.
    #[must_use]
    pub const fn num(&self) -> u64 {
        self.num
    }

    /// The denominator (never zero).
    #[must_use]
    pub const fn den(&self) -> u64 {
        self.den
    }

    /// The value as a float, for display and tests only.
    #[must_use]
    pub fn to_f64(&self) -> f64 {
        // Both conversions round to nearest; display only.
        #[allow(clippy::cast_precision_loss)]
        let v = self.num as f64 / self.den as f64;
        v
    }
}

impl TryFrom<(u64, u64)> for Rational {
    type Error = SamplerError;
    fn try_from((num, den): (u64, u64)) -> Result<Self, Self::Error> {
        Self::new(num, den)
    }
}

impl From<Rational> for (u64, u64) {
    fn from(r: Rational) -> Self {
        (r.num, r.den)
    }
}

impl std::fmt::Display for Rational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// Why a sampler could not run or could not finish.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SamplerError {
    /// A rational with a zero denominator. Give a positive denominator.
    #[error("rational {num}/0 has a zero denominator")]
    ZeroDenominator {
        /// The numerator given.
        num: u64,
    },
    /// A scale or variance of zero, or so large that the exact arithmetic
    /// cannot represent the sampler's intermediate values. Use a parameter
    /// in the range the sampler documents.
    #[error("sampler parameter {value} out of range: {why}")]
    OutOfRange {
        /// The parameter given.
        value: Rational,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A draw ran past what the checked arithmetic can represent (or past
    /// `i64`). Each sampler states how unlikely this is; retrying is safe.
    #[error("arithmetic overflow in the exact sampler")]
    Overflow,
}

/// A uniform integer in `0..n` (`n >= 1`), by rejection so that it is exact.
fn uniform_below<R: CryptoRng + ?Sized>(rng: &mut R, n: u128) -> u128 {
    if let Ok(n) = u64::try_from(n) {
        let n = n.max(1);
        // Draws below 2^64 mod n are rejected: the rest is a whole number of
        // copies of 0..n.
        let reject_below = (u64::MAX % n + 1) % n;
        loop {
            let x = rng.next_u64();
            if x >= reject_below {
                return u128::from(x % n);
            }
        }
    }
    let reject_below = (u128::MAX % n + 1) % n;
    loop {
        let x = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        if x >= reject_below {
            return x % n;
        }
    }
}

/// Bernoulli(`num / den`) for `num <= den`, `den >= 1`.
fn bernoulli<R: CryptoRng + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    uniform_below(rng, den) < num
}

/// Bernoulli(exp(-`num / den`)) for `num <= den` (CKS 2020, algorithm 1,
/// the case gamma in \[0, 1\]).
fn bernoulli_exp_le1<R: CryptoRng + ?Sized>(
    rng: &mut R,
    num: u128,
    den: u128,
) -> Result<bool, SamplerError> {
    let mut k: u128 = 1;
    loop {
        let d = den.checked_mul(k).ok_or(SamplerError::Overflow)?;
        if !bernoulli(rng, num, d) {
            return Ok(k % 2 == 1);
        }
        k = k.checked_add(1).ok_or(SamplerError::Overflow)?;
    }
}

/// Bernoulli(exp(-1)).
fn bernoulli_exp_minus_one<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<bool, SamplerError> {
    bernoulli_exp_le1(rng, 1, 1)
}

/// Bernoulli(exp(-(`whole` + `num / den`))) where `whole` is given as a
/// 256-bit number `(hi, lo)` and `num < den` (CKS 2020, algorithm 1: one
/// Bernoulli(exp(-1)) per whole unit, then the fraction).
fn bernoulli_exp_parts<R: CryptoRng + ?Sized>(
    rng: &mut R,
    whole: (u128, u128),
    num: u128,
    den: u128,
) -> Result<bool, SamplerError> {
    let (mut hi, mut lo) = whole;
    while hi != 0 || lo != 0 {
        if !bernoulli_exp_minus_one(rng)? {
            return Ok(false);
        }
        if lo == 0 {
            hi -= 1;
            lo = u128::MAX;
        } else {
            lo -= 1;
        }
    }
    bernoulli_exp_le1(rng, num, den)
}

/// Bernoulli(exp(-`num / den`)) for any `num`, `den >= 1`.
fn bernoulli_exp<R: CryptoRng + ?Sized>(
    rng: &mut R,
    num: u128,
    den: u128,
) -> Result<bool, SamplerError> {
    bernoulli_exp_parts(rng, (0, num / den), num % den, den)
}

/// Exactly Bernoulli(exp(-gamma)) for a rational `gamma >= 0`.
///
/// Expected cost: a few uniform draws (at most about `1 + e` Bernoulli
/// trials per unit of gamma, stopping at the first failure). Never returns
/// [`SamplerError::Overflow`] for gamma below 2^64.
///
/// # Errors
/// [`SamplerError::Overflow`] only with a probability below exp(-2^64).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use tactful::privacy::sample::{bernoulli_exp_neg, Rational};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let heads = (0..1000)
///     .filter(|_| bernoulli_exp_neg(Rational::new(1, 2).unwrap(), &mut rng).unwrap())
///     .count();
/// // exp(-1/2) = 0.607
/// assert!((550..670).contains(&heads));
/// ```
pub fn bernoulli_exp_neg<R: CryptoRng + ?Sized>(
    gamma: Rational,
    rng: &mut R,
) -> Result<bool, SamplerError> {
    bernoulli_exp(rng, u128::from(gamma.num), u128::from(gamma.den))
}

/// Exactly Bernoulli(`p`) for a rational `p` in \[0, 1\].
///
/// # Errors
/// [`SamplerError::OutOfRange`] if `p > 1`.
pub fn bernoulli_rational<R: CryptoRng + ?Sized>(
    p: Rational,
    rng: &mut R,
) -> Result<bool, SamplerError> {
    if p.num > p.den {
        return Err(SamplerError::OutOfRange {
            value: p,
            why: "a probability is at most 1",
        });
    }
    Ok(bernoulli(rng, u128::from(p.num), u128::from(p.den)))
}

/// Magnitude and sign of a discrete Laplace draw with scale `t / s`
/// (CKS 2020, algorithm 2).
fn laplace_parts<R: CryptoRng + ?Sized>(
    rng: &mut R,
    t: u128,
    s: u128,
) -> Result<(u128, bool), SamplerError> {
    loop {
        let u = uniform_below(rng, t);
        if !bernoulli_exp_le1(rng, u, t)? {
            continue;
        }
        let mut v: u128 = 0;
        while bernoulli_exp_minus_one(rng)? {
            v = v.checked_add(1).ok_or(SamplerError::Overflow)?;
        }
        let x = t
            .checked_mul(v)
            .and_then(|tv| tv.checked_add(u))
            .ok_or(SamplerError::Overflow)?;
        let y = x / s;
        let negative = bernoulli(rng, 1, 2);
        if negative && y == 0 {
            continue;
        }
        return Ok((y, negative));
    }
}

fn signed(magnitude: u128, negative: bool) -> Result<i64, SamplerError> {
    let m = i64::try_from(magnitude).map_err(|_| SamplerError::Overflow)?;
    Ok(if negative { -m } else { m })
}

/// Exactly the discrete Laplace distribution (two-sided geometric) with the
/// given `scale` (> 0): `P[x] = (1 - a) / (1 + a) * a^|x|` with
/// `a = exp(-1 / scale)`, for every integer `x`.
///
/// Adding it to a count that one person changes by at most `k` gives
/// `k / scale`-differential privacy.
///
/// # Errors
/// [`SamplerError::OutOfRange`] for a zero scale;
/// [`SamplerError::Overflow`] only if the draw exceeds `i64` in magnitude,
/// which for a scale below 2^32 has probability below exp(-2^31).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use tactful::privacy::sample::{discrete_laplace, Rational};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let noise = discrete_laplace(Rational::new(2, 1)?, &mut rng)?; // epsilon 1/2
/// assert!(noise.abs() < 200);
/// # Ok::<(), tactful::privacy::sample::SamplerError>(())
/// ```
pub fn discrete_laplace<R: CryptoRng + ?Sized>(
    scale: Rational,
    rng: &mut R,
) -> Result<i64, SamplerError> {
    if scale.num == 0 {
        return Err(SamplerError::OutOfRange {
            value: scale,
            why: "the scale must be positive",
        });
    }
    let (m, neg) = laplace_parts(rng, u128::from(scale.num), u128::from(scale.den))?;
    signed(m, neg)
}

/// The full 256-bit product of two `u128`, as `(hi, lo)`.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Middle column: carries are collected explicitly.
    let mid = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let lo = (p00 & MASK) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `(hi, lo) / d` for `d >= 1`: the 256-bit quotient and the remainder, by
/// binary long division.
fn div_wide(hi: u128, lo: u128, d: u128) -> ((u128, u128), u128) {
    let (mut qhi, mut qlo, mut rem) = (0u128, 0u128, 0u128);
    for i in (0..256u32).rev() {
        let bit = if i >= 128 {
            (hi >> (i - 128)) & 1
        } else {
            (lo >> i) & 1
        };
        let carry = rem >> 127;
        rem = (rem << 1) | bit;
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            if i >= 128 {
                qhi |= 1 << (i - 128);
            } else {
                qlo |= 1 << i;
            }
        }
    }
    ((qhi, qlo), rem)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A validated discrete Gaussian: `sigma^2 = a / b` in lowest terms,
/// `t = floor(sigma) + 1` and the denominator `2 a b t^2` of the rejection
/// exponent.
#[derive(Debug, Clone, Copy)]
struct Gaussian {
    a: u128,
    b: u128,
    t: u128,
    den: u128,
}

impl Gaussian {
    fn new(sigma_sq: Rational) -> Result<Self, SamplerError> {
        let out = |why| SamplerError::OutOfRange {
            value: sigma_sq,
            why,
        };
        if sigma_sq.num == 0 {
            return Err(out("the variance must be positive"));
        }
        let (a, b) = (u128::from(sigma_sq.num), u128::from(sigma_sq.den));
        let g = gcd(a, b).max(1);
        let (a, b) = (a / g, b / g);
        // floor(sqrt(a/b)) = floor(sqrt(floor(a/b))).
        let t = (a / b).isqrt() + 1;
        let den = t
            .checked_mul(t)
            .and_then(|tt| tt.checked_mul(a))
            .and_then(|x| x.checked_mul(b))
            .and_then(|x| x.checked_mul(2))
            .ok_or(out(
                "2 * num * den * (floor(sigma) + 1)^2 must be below 2^128",
            ))?;
        Ok(Self { a, b, t, den })
    }

    fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Result<i64, SamplerError> {
        loop {
            let (y, negative) = laplace_parts(rng, self.t, 1)?;
            // Accept with probability exp(-(|y| - sigma^2/t)^2 / (2 sigma^2))
            // = exp(-(|y| b t - a)^2 / (2 a b t^2)).
            let x = y
                .checked_mul(self.b)
                .and_then(|v| v.checked_mul(self.t))
                .ok_or(SamplerError::Overflow)?
                .abs_diff(self.a);
            let (hi, lo) = mul_wide(x, x);
            let (whole, rem) = div_wide(hi, lo, self.den);
            if bernoulli_exp_parts(rng, whole, rem, self.den)? {
                return signed(y, negative);
            }
        }
    }
}

/// Exactly the discrete Gaussian distribution with variance parameter
/// `sigma_sq` (> 0): `P[x]` proportional to `exp(-x^2 / (2 sigma_sq))` for
/// every integer `x` (CKS 2020, algorithm 3).
///
/// Adding it to a count vector whose L2 sensitivity is `d` gives
/// `d^2 / (2 sigma_sq)`-zero-concentrated differential privacy (CKS 2020,
/// theorem 4), which [`Mechanism::gaussian`](super::Mechanism::gaussian)
/// converts to (epsilon, delta).
///
/// Parameter range: `2 * num * den * (floor(sigma) + 1)^2 < 2^128` after
/// reducing the fraction (true whenever `num` and `den` are below 2^40).
///
/// # Errors
/// [`SamplerError::OutOfRange`] for a zero variance or one outside the
/// range above; [`SamplerError::Overflow`] only if a candidate exceeds
/// 2^128 / (den * (floor(sigma) + 1)) in magnitude, with a probability below
/// exp(-2^40) in that range.
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use tactful::privacy::sample::{discrete_gaussian, Rational};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let noise = discrete_gaussian(Rational::new(9, 4)?, &mut rng)?; // sigma 1.5
/// assert!(noise.abs() < 30);
/// # Ok::<(), tactful::privacy::sample::SamplerError>(())
/// ```
pub fn discrete_gaussian<R: CryptoRng + ?Sized>(
    sigma_sq: Rational,
    rng: &mut R,
) -> Result<i64, SamplerError> {
    Gaussian::new(sigma_sq)?.sample(rng)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::{Rng, RngExt, SeedableRng};

    #[test]
    fn wide_multiplication_and_division_agree_with_narrow_ones() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for _ in 0..2000 {
            let a = u128::from(rng.next_u64()) << rng.random_range(0..64u32);
            let b = u128::from(rng.next_u64()) >> rng.random_range(0..64u32);
            let (hi, lo) = mul_wide(a, b);
            if let Some(p) = a.checked_mul(b) {
                assert_eq!((hi, lo), (0, p));
            }
            let d = u128::from(rng.next_u64()).max(1) << rng.random_range(0..64u32);
            let ((qhi, qlo), rem) = div_wide(hi, lo, d);
            assert!(rem < d);
            // q * d + rem == (hi, lo)
            let (h1, l1) = mul_wide(qlo, d);
            let (h2, l2) = mul_wide(qhi, d);
            let (l, c) = l1.overflowing_add(rem);
            assert_eq!(l, lo);
            assert_eq!(h1 + u128::from(c) + l2, hi);
            assert_eq!(h2, 0);
        }
        assert_eq!(mul_wide(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        let ((qhi, qlo), rem) = div_wide(u128::MAX - 1, 1, u128::MAX);
        assert_eq!((qhi, qlo, rem), (0, u128::MAX, 0));
    }

    #[test]
    fn uniform_below_covers_its_range_evenly() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[uniform_below(&mut rng, 3) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        let big = (1u128 << 100) + 7;
        for _ in 0..100 {
            assert!(uniform_below(&mut rng, big) < big);
        }
        assert_eq!(uniform_below(&mut rng, 1), 0);
    }

    #[test]
    fn bernoulli_exp_has_the_right_mean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let n = 100_000u32;
        for (num, den) in [(0u64, 1u64), (1, 2), (1, 1), (5, 2), (7, 3)] {
            let gamma = Rational::new(num, den).unwrap();
            let hits = (0..n)
                .filter(|_| bernoulli_exp_neg(gamma, &mut rng).unwrap())
                .count();
            let p = (-gamma.to_f64()).exp();
            let mean = f64::from(hits as u32) / f64::from(n);
            let se = (p * (1.0 - p) / f64::from(n)).sqrt();
            assert!(
                (mean - p).abs() <= 4.0 * se + 1e-12,
                "gamma {gamma}: {mean} vs {p}"
            );
        }
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let zero = Rational::integer(0);
        assert!(matches!(
            discrete_laplace(zero, &mut rng),
            Err(SamplerError::OutOfRange { .. })
        ));
        assert!(matches!(
            discrete_gaussian(zero, &mut rng),
            Err(SamplerError::OutOfRange { .. })
        ));
        assert!(matches!(
            discrete_gaussian(Rational::new(u64::MAX, u64::MAX - 2).unwrap(), &mut rng),
            Err(SamplerError::OutOfRange { .. })
        ));
        assert!(bernoulli_rational(Rational::new(3, 2).unwrap(), &mut rng).is_err());
        assert_eq!(
            Rational::new(1, 0),
            Err(SamplerError::ZeroDenominator { num: 1 })
        );
        // Large but representable parameters work.
        assert!(discrete_laplace(Rational::new(u64::MAX, 1).unwrap(), &mut rng).is_ok());
        assert!(discrete_gaussian(Rational::new(1 << 40, 1).unwrap(), &mut rng).is_ok());
        assert!(discrete_gaussian(Rational::new(1, 1 << 40).unwrap(), &mut rng).is_ok());
    }
}
