//! Noisy counts and breakdowns from exact counts of people.

use std::collections::HashSet;

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::budget::{Budget, BudgetError};
use super::params::{Mechanism, ParameterError, PrivacyLoss};
use super::sample::SamplerError;
use crate::audience::AudienceError;
use crate::profile::Profile;

/// Why nothing was released.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ReleaseError {
    /// The consumer's budget does not cover the release; nothing was spent
    /// and no noise was drawn.
    #[error(transparent)]
    Budget(#[from] BudgetError),
    /// The *noisy* count was below the minimum audience, so it is withheld.
    /// The decision depends only on the noisy value and says nothing exact
    /// about the true count. The budget was spent.
    #[error("noisy count below the minimum audience of {min}: nothing released")]
    BelowThreshold {
        /// The minimum audience.
        min: u64,
    },
    /// The mechanism cannot serve this release (too many cells, or noise
    /// beyond the sampler's range); nothing was spent.
    #[error(transparent)]
    Parameter(#[from] ParameterError),
    /// The exact sampler could not finish (astronomically unlikely). The
    /// budget was spent: retrying costs another release.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// The request has no target or names an unknown segment; nothing was
    /// spent.
    #[error(transparent)]
    Audience(#[from] AudienceError),
    /// A breakdown needs at least one cell.
    #[error("a breakdown needs at least one cell")]
    NoCells,
}

/// A released audience size: the exact count of people plus noise, at
/// least the minimum audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NoisyCount {
    /// The noisy count.
    pub value: u64,
    /// The mechanism that produced it (its standard deviation is public:
    /// [`Mechanism::standard_deviation`]).
    pub mechanism: Mechanism,
    /// What the release cost the consumer.
    pub cost: PrivacyLoss,
}

/// One cell of a [`Breakdown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cell<K> {
    /// What the cell counts.
    pub key: K,
    /// The noisy count, or `None` when the noisy count was below the
    /// minimum audience and is withheld.
    pub count: Option<u64>,
}

/// Noisy counts for a small set of keys, released together as one release.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Breakdown<K> {
    /// The cells, in the order of the keys given.
    pub cells: Vec<Cell<K>>,
    /// The mechanism that produced them.
    pub mechanism: Mechanism,
    /// How many cells one person could contribute to (the sensitivity the
    /// noise was scaled to).
    pub contributions: u32,
    /// What the whole breakdown cost the consumer.
    pub cost: PrivacyLoss,
}

/// Releases counts of people with noise from a [`Mechanism`], charging a
/// [`Budget`] and applying the minimum audience to the noisy value.
///
/// The engine's [`private_audience_size`](crate::Engine::private_audience_size)
/// and [`private_breakdown`](crate::Engine::private_breakdown) count people
/// with the one gate and call this; call it yourself only with counts of
/// distinct people (see the contribution bounding in the
/// [module docs](super)).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use tactful::privacy::{Budget, Delta, Epsilon, Mechanism, PrivateRelease};
/// let mut budget = Budget::new("dashboard", Epsilon::new(2.0)?, Delta::new(1e-6)?);
/// let mech = Mechanism::gaussian(Epsilon::new(0.5)?, Delta::new(1e-7)?)?;
/// let release = PrivateRelease::new(mech, 50);
/// let mut rng = rand::rngs::StdRng::seed_from_u64(9);
/// // Each person is in at most one of the three channels' counts here.
/// let b = release.breakdown(vec![("email", 4_000), ("post", 900), ("app", 3)], 1, &mut budget, &mut rng)?;
/// assert!(b.cells[0].count.is_some());
/// assert_eq!(b.cells[2].count, None); // withheld: far below 50 after noise
/// assert_eq!(budget.spent().epsilon, Epsilon::new(0.5)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PrivateRelease {
    mechanism: Mechanism,
    min_audience: u64,
}

impl PrivateRelease {
    /// Releases with `mechanism`, withholding noisy counts below
    /// `min_audience`.
    #[must_use]
    pub fn new(mechanism: Mechanism, min_audience: u64) -> Self {
        Self {
            mechanism,
            min_audience,
        }
    }

    /// The mechanism.
    #[must_use]
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The minimum audience, applied to noisy counts.
    #[must_use]
    pub fn min_audience(&self) -> u64 {
        self.min_audience
    }

    /// Checks, without spending, that a release with `contributions` cells
    /// per person is possible and fits in `budget`.
    ///
    /// # Errors
    /// [`ReleaseError::Parameter`] or [`ReleaseError::Budget`].
    pub fn check(&self, contributions: u32, budget: &Budget) -> Result<(), ReleaseError> {
        self.mechanism.noise_parameter(contributions)?;
        // Reports the shortfall without changing the caller's budget.
        budget.clone().spend(self.mechanism.cost())?;
        Ok(())
    }

    /// Releases `exact`, a count of distinct people, with noise.
    ///
    /// # Errors
    /// [`ReleaseError::Budget`] before anything is spent or drawn;
    /// [`ReleaseError::BelowThreshold`] if the noisy count is below the
    /// minimum audience (budget spent); [`ReleaseError::Sampler`] (budget
    /// spent, astronomically unlikely).
    pub fn count<R: CryptoRng + ?Sized>(
        &self,
        exact: u64,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<NoisyCount, ReleaseError> {
        let noisy = self.noisy(&[exact], 1, budget, rng)?;
        match noisy.first().copied().flatten() {
            Some(value) => Ok(NoisyCount {
                value,
                mechanism: self.mechanism,
                cost: self.mechanism.cost(),
            }),
            None => Err(ReleaseError::BelowThreshold {
                min: self.min_audience,
            }),
        }
    }

    /// Releases exact counts of distinct people per key, as one release
    /// whose noise is scaled to `contributions`: the most cells one person
    /// is counted in (1 for disjoint cells such as a histogram over a
    /// partition; the number of cells when a person may be in all of them).
    /// Cells whose noisy count is below the minimum are withheld.
    ///
    /// # Errors
    /// [`ReleaseError::NoCells`]; [`ReleaseError::Parameter`] for
    /// `contributions` outside 1..=1024; otherwise as
    /// [`count`](Self::count), except that withheld cells are not errors.
    pub fn breakdown<K, R: CryptoRng + ?Sized>(
        &self,
        cells: Vec<(K, u64)>,
        contributions: u32,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<Breakdown<K>, ReleaseError> {
        if cells.is_empty() {
            return Err(ReleaseError::NoCells);
        }
        let exact: Vec<u64> = cells.iter().map(|(_, n)| *n).collect();
        let noisy = self.noisy(&exact, contributions, budget, rng)?;
        Ok(Breakdown {
            cells: cells
                .into_iter()
                .zip(noisy)
                .map(|((key, _), count)| Cell { key, count })
                .collect(),
            mechanism: self.mechanism,
            contributions,
            cost: self.mechanism.cost(),
        })
    }

    /// Validates, spends, then draws one noise per count and applies the
    /// minimum to the noisy values.
    fn noisy<R: CryptoRng + ?Sized>(
        &self,
        exact: &[u64],
        contributions: u32,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<Vec<Option<u64>>, ReleaseError> {
        let param = self.mechanism.noise_parameter(contributions)?;
        budget.spend(self.mechanism.cost())?;
        let min = i128::from(self.min_audience);
        exact
            .iter()
            .map(|&n| {
                let v = i128::from(n) + i128::from(self.mechanism.sample(param, rng)?);
                if v < min {
                    // With a minimum of 0, negative values clamp to 0
                    // (post-processing); otherwise they are withheld.
                    return Ok((min == 0).then_some(0));
                }
                u64::try_from(v)
                    .map(Some)
                    .map_err(|_| ReleaseError::Sampler(SamplerError::Overflow))
            })
            .collect()
    }
}

/// Counts distinct people per cell: each profile id counts once (the first
/// record of a person decides, as in [`Engine::audience`](crate::Engine::audience)),
/// and a person adds at most 1 to each cell for which `allowed` holds.
pub(crate) fn count_people<'p, K>(
    profiles: impl IntoIterator<Item = &'p Profile>,
    cells: &[K],
    mut allowed: impl FnMut(&Profile, &K) -> bool,
) -> Vec<u64> {
    let mut counts = vec![0u64; cells.len()];
    let mut seen = HashSet::new();
    for p in profiles {
        if !seen.insert(p.id()) {
            continue;
        }
        for (count, cell) in counts.iter_mut().zip(cells) {
            if allowed(p, cell) {
                *count += 1;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::privacy::{Delta, Epsilon};
    use rand::SeedableRng;

    fn laplace(eps: f64) -> Mechanism {
        Mechanism::laplace(Epsilon::new(eps).unwrap()).unwrap()
    }

    #[test]
    fn the_budget_is_checked_before_any_noise_is_drawn() {
        let release = PrivateRelease::new(laplace(0.6), 10);
        let mut budget = Budget::new("c", Epsilon::new(1.0).unwrap(), Delta::ZERO);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        release.count(100, &mut budget, &mut rng).unwrap();
        let mut untouched = rand::rngs::StdRng::seed_from_u64(99);
        let mut rng_copy = rand::rngs::StdRng::seed_from_u64(99);
        let err = release.count(100, &mut budget, &mut untouched).unwrap_err();
        assert!(matches!(
            err,
            ReleaseError::Budget(BudgetError::Exhausted { .. })
        ));
        assert!(matches!(
            release.check(1, &budget),
            Err(ReleaseError::Budget(_))
        ));
        // The generator was not used: it is where the copy is.
        use rand::Rng;
        assert_eq!(untouched.next_u64(), rng_copy.next_u64());
        assert_eq!(budget.releases(), 1);
    }

    #[test]
    fn a_withheld_count_still_spends_the_budget() {
        let release = PrivateRelease::new(laplace(1.0), 1_000);
        let mut budget = Budget::new("c", Epsilon::new(5.0).unwrap(), Delta::ZERO);
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        assert_eq!(
            release.count(3, &mut budget, &mut rng),
            Err(ReleaseError::BelowThreshold { min: 1_000 })
        );
        assert_eq!(budget.spent().epsilon, Epsilon::new(1.0).unwrap());
    }

    #[test]
    fn breakdowns_need_cells_and_a_sensible_sensitivity() {
        let release = PrivateRelease::new(laplace(1.0), 1);
        let mut budget = Budget::new("c", Epsilon::new(5.0).unwrap(), Delta::ZERO);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let none: Vec<((), u64)> = Vec::new();
        assert_eq!(
            release.breakdown(none, 1, &mut budget, &mut rng),
            Err(ReleaseError::NoCells)
        );
        assert!(matches!(
            release.breakdown(vec![((), 5)], 0, &mut budget, &mut rng),
            Err(ReleaseError::Parameter(ParameterError::Contributions(0)))
        ));
        assert_eq!(budget.releases(), 0, "refused before spending");
    }

    #[test]
    fn a_minimum_of_zero_clamps_instead_of_withholding() {
        let release = PrivateRelease::new(laplace(0.1), 0);
        let mut budget = Budget::new("c", Epsilon::new(100.0).unwrap(), Delta::ZERO);
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        for _ in 0..200 {
            release.count(0, &mut budget, &mut rng).unwrap();
        }
    }
}
