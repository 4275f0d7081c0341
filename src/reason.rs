//! Why a suppression exists. A leaf module: the taxonomy's life events name
//! the reasons that cover them, and suppressions carry one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a suppression exists. Never exported to partners: a bereavement is
/// itself sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuppressionReason {
    /// A death or loss (a reported pregnancy loss). On an interest subtree it
    /// also purges the signals already stored there.
    Bereavement,
    /// The person opted out.
    OptOut,
    /// Do not contact.
    DoNotContact,
    /// The person complained.
    Complaint,
    /// A legal requirement.
    Legal,
    /// Anything else.
    Other,
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bereavement => "bereavement",
            Self::OptOut => "opt-out",
            Self::DoNotContact => "do-not-contact",
            Self::Complaint => "complaint",
            Self::Legal => "legal",
            Self::Other => "other",
        })
    }
}
