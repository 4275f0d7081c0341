//! Life events: groups of related interest subtrees that one event in a
//! person's life touches together (a pregnancy touches `baby`,
//! `health/pregnancy` and `parenting`).
//!
//! A bereavement suppression on any interest of a group covers the whole
//! group: after a pregnancy loss, nothing about baby, pregnancy or
//! parenting may be used, listed or sent, whichever subtree the operator
//! suppressed. Other suppression reasons cover the group only where the
//! life event opts them in. Declare life events with
//! [`TaxonomyBuilder::life_event`](crate::TaxonomyBuilder::life_event) or in
//! the taxonomy's JSON:
//!
//! ```
//! use tactful::{SuppressionReason, Taxonomy};
//!
//! let taxonomy = Taxonomy::from_json(r#"{
//!     "interests": [{"path": "baby/food"}, {"path": "health/pregnancy"}, {"path": "parenting"}],
//!     "life_events": [{"name": "pregnancy", "interests": ["baby", "health/pregnancy", "parenting"]}]
//! }"#)?;
//! let pregnancy = &taxonomy.life_events()[0];
//! assert_eq!(pregnancy.name(), "pregnancy");
//! assert!(pregnancy.covers_reason(SuppressionReason::Bereavement));
//! assert!(!pregnancy.covers_reason(SuppressionReason::OptOut));
//! # Ok::<(), tactful::TaxonomyError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::reason::SuppressionReason;
use crate::taxonomy::{InterestId, Taxonomy};

/// A named group of interest subtrees that a suppression of one of them
/// extends to, for the reasons the group covers (bereavement always).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifeEvent {
    pub(crate) name: String,
    /// The subtrees' roots, sorted, without one inside another.
    pub(crate) roots: Vec<InterestId>,
    /// Reasons besides bereavement that cover the whole group, sorted.
    pub(crate) also: Vec<SuppressionReason>,
}

impl LifeEvent {
    /// The name, as declared (`pregnancy`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The roots of the subtrees it groups, in taxonomy order.
    #[must_use]
    pub fn roots(&self) -> &[InterestId] {
        &self.roots
    }

    /// Whether a suppression with this reason on one of its subtrees
    /// covers all of them: always for [`SuppressionReason::Bereavement`], for other
    /// reasons where the declaration opts them in.
    #[must_use]
    pub fn covers_reason(&self, reason: SuppressionReason) -> bool {
        reason == SuppressionReason::Bereavement || self.also.contains(&reason)
    }

    /// The reasons besides bereavement that cover the whole group.
    #[must_use]
    pub fn also_for(&self) -> &[SuppressionReason] {
        &self.also
    }

    /// Whether the subtree of `root` shares an interest with the group
    /// (`root` is within one of its subtrees, or contains one).
    #[must_use]
    pub fn touches(&self, taxonomy: &Taxonomy, root: InterestId) -> bool {
        self.roots
            .iter()
            .any(|&g| taxonomy.is_within(root, g) || taxonomy.is_within(g, root))
    }

    /// Whether `interest` is within one of its subtrees.
    #[must_use]
    pub fn contains(&self, taxonomy: &Taxonomy, interest: InterestId) -> bool {
        self.roots.iter().any(|&g| taxonomy.is_within(interest, g))
    }
}

/// A life event as written in a taxonomy's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LifeEventConfig {
    pub(crate) name: String,
    pub(crate) interests: Vec<String>,
    /// Reasons besides bereavement that cover the whole group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) also_for: Vec<SuppressionReason>,
}
