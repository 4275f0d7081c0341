//! Audience sizes released with differential privacy, against a budget.
//!
//! [`Engine::audience`](crate::Engine::audience) refuses audiences below the
//! minimum size, but an exact count leaks by differencing whatever the
//! minimum: the sizes of `young-parents` and of `young-parents AND NOT
//! outdoor/hiking` differ by exactly the people in both, so two queries
//! reveal whether one person hikes. This module releases sizes with noise
//! from an exact discrete mechanism and charges every release to a
//! per-consumer [`Budget`], so that no sequence of releases within the budget
//! reveals much about any one person.
//!
//! # The pieces
//! - [`Mechanism`]: the discrete Laplace mechanism (pure epsilon-DP) or the
//!   discrete Gaussian mechanism ((epsilon, delta)-DP), with [`Epsilon`] and
//!   [`Delta`] as exact fixed-point amounts.
//! - [`sample`]: the exact samplers of Canonne, Kamath and Steinke (2020),
//!   integers and rationals only, randomness from the caller's
//!   [`rand::CryptoRng`].
//! - [`Budget`]: a consumer's total privacy loss and what is spent, serde
//!   persistable; a release beyond it is refused with a [`BudgetError`].
//! - [`PrivateRelease`]: a noisy count or breakdown from exact counts, the
//!   minimum applied to the noisy value. The engine entry points are
//!   [`Engine::private_audience_size`](crate::Engine::private_audience_size)
//!   and [`Engine::private_breakdown`](crate::Engine::private_breakdown).
//!
//! # Guarantees and their conditions
//! - **Contribution bounding.** The engine counts people, not records:
//!   profiles are deduplicated by [`ProfileId`](crate::ProfileId), and each
//!   person adds at most 1 to a count. A size therefore has sensitivity 1.
//!   A breakdown over `k` cells counts each person at most once per cell, so
//!   one person changes at most `k` cells by 1: L1 sensitivity `k`, L2
//!   sensitivity `sqrt(k)`; the noise of every cell is scaled to that (the
//!   whole breakdown is one release costing the mechanism's epsilon and
//!   delta). Keep `k` small: noise grows linearly (Laplace) or with
//!   `sqrt(k)` (Gaussian). If you call [`PrivateRelease::count`] yourself,
//!   the count you pass must have the same property.
//! - **Noise.** Laplace: `P[noise = x]` proportional to
//!   `exp(-epsilon |x| / k)`, which is epsilon-DP for L1 sensitivity `k`.
//!   Gaussian: `sigma^2 = k / (2 rho)` where
//!   `rho = (sqrt(ln(1/delta) + epsilon) - sqrt(ln(1/delta)))^2` is the
//!   largest zero-concentrated-DP parameter whose standard conversion
//!   `rho + 2 sqrt(rho ln(1/delta))` (Bun and Steinke 2016, proposition 1.3)
//!   is at most epsilon; the discrete Gaussian with that variance is
//!   `rho`-zCDP (CKS 2020, theorem 4), hence (epsilon, delta)-DP for any
//!   epsilon, not only below 1. Floats are used only to *choose* sigma^2,
//!   which is then rounded *up* to a multiple of 1/1024 with a relative
//!   margin of 10^-9 (more noise, never less); the sampling itself is exact.
//! - **The minimum audience on the noisy value.** A release is refused with
//!   [`ReleaseError::BelowThreshold`] when the *noisy* count is below the
//!   minimum. The decision is a function of the noisy value only, so it is
//!   covered by the same guarantee (post-processing) and the refusal carries
//!   no exact information. The budget is spent whether or not the value is
//!   released.
//! - **Composition.** Basic sequential composition: releases with
//!   `(e1, d1), ..., (en, dn)` about the same people are together
//!   `(e1 + ... + en, d1 + ... + dn)`-DP. A [`Budget`] adds up exactly that
//!   (in integers: millionths of epsilon, 10^-15 units of delta, so rounding
//!   can never let a consumer overspend) and refuses a release that would
//!   pass its totals *before* any noise is drawn. Tighter accounting (zCDP or
//!   Renyi composition for Gaussian releases) would allow more releases for
//!   the same guarantee; basic composition is never wrong.
//! - **Randomness.** Every function takes `&mut R` with
//!   `R: rand::CryptoRng + ?Sized`. In production pass the operating
//!   system's generator (`rand::rngs::SysRng` wrapped in
//!   `rand::rand_core::UnwrapErr`) or `rand::rng()`; a predictable generator
//!   lets whoever knows its seed subtract the noise. Tests use a seeded
//!   `rand::rngs::StdRng`.
//!
//! # Example
//! ```
//! use rand::SeedableRng;
//! use tactful::privacy::{Budget, Delta, Epsilon, Mechanism, PrivateRelease, ReleaseError};
//!
//! let mut budget = Budget::new("partner-a", Epsilon::new(1.0)?, Delta::ZERO);
//! let release = PrivateRelease::new(Mechanism::laplace(Epsilon::new(0.5)?)?, 50);
//! let mut rng = rand::rngs::StdRng::seed_from_u64(42); // production: the OS generator
//!
//! let size = release.count(1_000, &mut budget, &mut rng)?;
//! assert!((900..1_100).contains(&size.value));
//! release.count(1_000, &mut budget, &mut rng)?;
//! // The third release would pass the total of 1.0.
//! assert!(matches!(release.count(1_000, &mut budget, &mut rng), Err(ReleaseError::Budget(_))));
//! assert_eq!(budget.releases(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod budget;
mod params;
mod release;
pub mod sample;

pub use budget::{Budget, BudgetError};
pub use params::{Delta, Epsilon, Mechanism, MechanismKind, ParameterError, PrivacyLoss};
pub(crate) use release::count_people;
pub use release::{Breakdown, Cell, NoisyCount, PrivateRelease, ReleaseError};
pub use sample::{Rational, SamplerError};
