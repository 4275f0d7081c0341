//! The privacy budget of one consumer of released counts.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::params::{Delta, Epsilon, PrivacyLoss};

/// Why a budget refused a release or could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The release would take the consumer past the epsilon or delta of the
    /// budget. Nothing was spent and no noise was drawn. Release less often,
    /// with less epsilon, or agree a new budget period with a fresh
    /// [`Budget`] (which is a policy decision: the old releases stay known).
    #[error("consumer {consumer:?}: a release costing epsilon {requested_epsilon} and delta {requested_delta} exceeds what is left (epsilon {remaining_epsilon}, delta {remaining_delta})")]
    Exhausted {
        /// The consumer.
        consumer: String,
        /// Epsilon the release would cost.
        requested_epsilon: Epsilon,
        /// Delta the release would cost.
        requested_delta: Delta,
        /// Epsilon left.
        remaining_epsilon: Epsilon,
        /// Delta left.
        remaining_delta: Delta,
    },
    /// A stored budget has spent more than its total (it was edited or is
    /// corrupt); it is refused rather than trusted.
    #[error("consumer {consumer:?}: stored budget has spent more than its total")]
    Overspent {
        /// The consumer.
        consumer: String,
    },
}

/// A consumer's privacy budget: the total epsilon and delta it may learn
/// about the people counted, and what its releases have spent so far.
///
/// Spending follows basic sequential composition (see the
/// [module docs](super)): epsilons add, deltas add, exactly, in integers.
/// [`spend`](Self::spend) refuses a release that would exceed either total,
/// and the release API calls it before drawing any noise. Persist the budget
/// (serde) together with the consumer's account, and load it before every
/// release: a budget that is reset or copied protects no one.
///
/// # Example
/// ```
/// use tactful::privacy::{Budget, Delta, Epsilon, PrivacyLoss};
/// let mut b = Budget::new("partner-a", Epsilon::new(1.0)?, Delta::new(1e-6)?);
/// let cost = PrivacyLoss { epsilon: Epsilon::new(0.25)?, delta: Delta::ZERO };
/// for _ in 0..4 {
///     b.spend(cost)?;
/// }
/// assert!(b.spend(cost).is_err());
/// assert_eq!(b.remaining().epsilon, Epsilon::ZERO);
/// let stored = serde_json::to_string(&b)?;
/// assert_eq!(serde_json::from_str::<Budget>(&stored)?, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BudgetRepr", into = "BudgetRepr")]
pub struct Budget {
    consumer: String,
    total: PrivacyLoss,
    spent: PrivacyLoss,
    releases: u64,
}

/// The stored form: field names say the units.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetRepr {
    consumer: String,
    /// Millionths of epsilon.
    epsilon_total_micros: Epsilon,
    /// Units of 10^-15.
    delta_total_units: Delta,
    epsilon_spent_micros: Epsilon,
    delta_spent_units: Delta,
    releases: u64,
}

impl TryFrom<BudgetRepr> for Budget {
    type Error = BudgetError;
    fn try_from(r: BudgetRepr) -> Result<Self, Self::Error> {
        if r.epsilon_spent_micros > r.epsilon_total_micros
            || r.delta_spent_units > r.delta_total_units
        {
            return Err(BudgetError::Overspent {
                consumer: r.consumer,
            });
        }
        Ok(Self {
            consumer: r.consumer,
            total: PrivacyLoss {
                epsilon: r.epsilon_total_micros,
                delta: r.delta_total_units,
            },
            spent: PrivacyLoss {
                epsilon: r.epsilon_spent_micros,
                delta: r.delta_spent_units,
            },
            releases: r.releases,
        })
    }
}

impl From<Budget> for BudgetRepr {
    fn from(b: Budget) -> Self {
        Self {
            consumer: b.consumer,
            epsilon_total_micros: b.total.epsilon,
            delta_total_units: b.total.delta,
            epsilon_spent_micros: b.spent.epsilon,
            delta_spent_units: b.spent.delta,
            releases: b.releases,
        }
    }
}

impl Budget {
    /// A fresh budget for `consumer` with totals `epsilon` and `delta`
    /// (use [`Delta::ZERO`] to allow only pure epsilon-DP releases).
    #[must_use]
    pub fn new(consumer: impl Into<String>, epsilon: Epsilon, delta: Delta) -> Self {
        Self {
            consumer: consumer.into(),
            total: PrivacyLoss { epsilon, delta },
            spent: PrivacyLoss::default(),
            releases: 0,
        }
    }

    /// Who the budget belongs to.
    #[must_use]
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The totals.
    #[must_use]
    pub fn total(&self) -> PrivacyLoss {
        self.total
    }

    /// What has been spent.
    #[must_use]
    pub fn spent(&self) -> PrivacyLoss {
        self.spent
    }

    /// What is left.
    #[must_use]
    pub fn remaining(&self) -> PrivacyLoss {
        // Spent never exceeds total (checked on spend and on load).
        PrivacyLoss {
            epsilon: Epsilon::from_micros(
                self.total
                    .epsilon
                    .micros()
                    .saturating_sub(self.spent.epsilon.micros()),
            )
            .unwrap_or_default(),
            delta: Delta::from_units(
                self.total
                    .delta
                    .units()
                    .saturating_sub(self.spent.delta.units()),
            )
            .unwrap_or_default(),
        }
    }

    /// How many releases have been charged.
    #[must_use]
    pub fn releases(&self) -> u64 {
        self.releases
    }

    /// Whether a release costing `cost` fits in what is left.
    #[must_use]
    pub fn can_afford(&self, cost: PrivacyLoss) -> bool {
        let left = self.remaining();
        cost.epsilon <= left.epsilon && cost.delta <= left.delta
    }

    /// Charges `cost` to the budget, or refuses it and changes nothing.
    /// A release exactly using up what is left is allowed.
    ///
    /// # Errors
    /// [`BudgetError::Exhausted`] if either epsilon or delta would pass its
    /// total.
    pub fn spend(&mut self, cost: PrivacyLoss) -> Result<(), BudgetError> {
        if !self.can_afford(cost) {
            let left = self.remaining();
            return Err(BudgetError::Exhausted {
                consumer: self.consumer.clone(),
                requested_epsilon: cost.epsilon,
                requested_delta: cost.delta,
                remaining_epsilon: left.epsilon,
                remaining_delta: left.delta,
            });
        }
        // Within the totals, which are in range: the sums are too.
        self.spent = PrivacyLoss {
            epsilon: Epsilon::from_micros(self.spent.epsilon.micros() + cost.epsilon.micros())
                .unwrap_or(self.total.epsilon),
            delta: Delta::from_units(self.spent.delta.units() + cost.delta.units())
                .unwrap_or(self.total.delta),
        };
        self.releases = self.releases.saturating_add(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn eps(v: f64) -> Epsilon {
        Epsilon::new(v).unwrap()
    }

    #[test]
    fn tenths_add_up_exactly_to_the_total() {
        // 0.1 is not a binary float: ten of them in f64 give 0.9999999999999999,
        // which would allow an eleventh release. Millionths do not.
        let mut b = Budget::new("c", eps(1.0), Delta::ZERO);
        let cost = PrivacyLoss {
            epsilon: eps(0.1),
            delta: Delta::ZERO,
        };
        for _ in 0..10 {
            b.spend(cost).unwrap();
        }
        assert_eq!(b.spent().epsilon, eps(1.0));
        let before = b.clone();
        assert!(matches!(b.spend(cost), Err(BudgetError::Exhausted { .. })));
        assert_eq!(b, before, "a refused release changes nothing");
        assert_eq!(b.releases(), 10);
    }

    #[test]
    fn delta_is_a_separate_limit() {
        let mut b = Budget::new("c", eps(10.0), Delta::new(1e-6).unwrap());
        let gauss = PrivacyLoss {
            epsilon: eps(0.1),
            delta: Delta::new(6e-7).unwrap(),
        };
        b.spend(gauss).unwrap();
        let err = b.spend(gauss).unwrap_err();
        assert!(err.to_string().contains("delta 0.0000004"), "{err}");
        let pure = Budget::new("p", eps(10.0), Delta::ZERO);
        assert!(!pure.can_afford(gauss));
    }

    #[test]
    fn a_stored_budget_that_overspent_is_refused() {
        let json = r#"{"consumer":"c","epsilon_total_micros":1000000,"delta_total_units":0,
            "epsilon_spent_micros":1000001,"delta_spent_units":0,"releases":3}"#;
        let err = serde_json::from_str::<Budget>(json).unwrap_err();
        assert!(
            err.to_string().contains("spent more than its total"),
            "{err}"
        );
    }
}
