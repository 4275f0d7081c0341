//! The purposes personal data may be used for, and sets of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What personal data may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Purpose {
    /// Providing the service itself (order confirmations, an apology mail).
    /// Needs no consent and is not blocked by a marketing opt-out.
    Service,
    /// Audience measurement and statistics.
    Measurement,
    /// Building interest profiles and personalizing content.
    Personalization,
    /// Sending advertising and offers.
    Marketing,
    /// Using the person's physical location.
    Location,
    /// Using signals observed across other sites.
    CrossSite,
    /// Inferring special-category interests (health, pregnancy, religion...).
    SensitiveInterests,
    /// Receiving or sharing data with partners.
    PartnerData,
}

impl Purpose {
    /// Every purpose, in declaration order.
    pub const ALL: [Purpose; 8] = [
        Self::Service,
        Self::Measurement,
        Self::Personalization,
        Self::Marketing,
        Self::Location,
        Self::CrossSite,
        Self::SensitiveInterests,
        Self::PartnerData,
    ];

    /// Whether using data for this purpose needs the person's consent.
    /// Only [`Purpose::Service`] does not.
    #[must_use]
    pub fn needs_consent(self) -> bool {
        self != Self::Service
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The snake_case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Measurement => "measurement",
            Self::Personalization => "personalization",
            Self::Marketing => "marketing",
            Self::Location => "location",
            Self::CrossSite => "cross_site",
            Self::SensitiveInterests => "sensitive_interests",
            Self::PartnerData => "partner_data",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of purposes (a tiny bitset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Purposes(u16);

impl Purposes {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Adds a purpose.
    #[must_use]
    pub fn with(self, p: Purpose) -> Self {
        Self(self.0 | (1 << p.index()))
    }

    /// Whether the set contains `p`.
    #[must_use]
    pub fn contains(self, p: Purpose) -> bool {
        self.0 & (1 << p.index()) != 0
    }

    /// The set as bits, purpose `p` at bit `p.index()`.
    pub(crate) fn bits(self) -> u16 {
        self.0
    }

    /// The purposes in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Purpose> {
        Purpose::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}
