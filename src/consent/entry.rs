//! The vocabulary of the ledger: a change, the evidence for it, the entry
//! that records both, and the state of consent they add up to.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::Purpose;

/// Why we believe a consent change happened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// The person acted in our own interface (describe where).
    Ui(String),
    /// Imported from a consent string (for example an IAB TCF TC string).
    ///
    /// Shared, not copied: a [`ConsentLedger`](super::ConsentLedger) holds each distinct string
    /// once however many entries cite it, in memory and when serialized.
    /// Build one with `Evidence::ConsentString(raw.into())`.
    ConsentString(#[serde(with = "arc_str")] Arc<str>),
    /// The browser's Global Privacy Control signal (`Sec-GPC: 1`).
    GlobalPrivacyControl,
    /// Imported from another system (describe which).
    Import(String),
    /// Written by [`ConsentLedger::merge`](super::ConsentLedger::merge) or an erasure; the original
    /// evidence is named where known.
    System(String),
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ui(s) => write!(f, "ui: {s}"),
            Self::ConsentString(s) => write!(f, "consent string {s}"),
            Self::GlobalPrivacyControl => f.write_str("global privacy control"),
            Self::Import(s) => write!(f, "import: {s}"),
            Self::System(s) => write!(f, "system: {s}"),
        }
    }
}

/// Serde for a shared string: written and read as a plain string.
mod arc_str {
    use super::{Arc, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        String::deserialize(d).map(Arc::from)
    }
}

/// One change in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Consent given, optionally until an instant (exclusive).
    Grant {
        /// When the grant lapses; `None` for no expiry.
        #[serde(default, with = "crate::serde_util::instant::option")]
        expires: Option<OffsetDateTime>,
    },
    /// Consent withdrawn. Retroactive: events recorded before it never count
    /// again for this purpose, even after a later grant.
    Withdraw,
}

/// An entry of the [`ConsentLedger`](super::ConsentLedger).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConsentEntry {
    /// The purpose.
    pub purpose: Purpose,
    /// Grant or withdrawal.
    pub change: Change,
    /// When it happened.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Why we believe it.
    pub evidence: Evidence,
}

/// The state of consent for a purpose at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Consent is in force.
    Granted,
    /// Never asked: ask.
    NeverAsked,
    /// A grant lapsed: ask again.
    Expired,
    /// The person said no.
    Withdrawn,
}

impl ConsentState {
    /// Whether consent is in force.
    #[must_use]
    pub fn is_granted(self) -> bool {
        self == Self::Granted
    }

    /// Rank for "more restrictive wins": withdrawn > expired > never asked > granted.
    pub(super) fn restriction(self) -> u8 {
        match self {
            Self::Granted => 0,
            Self::NeverAsked => 1,
            Self::Expired => 2,
            Self::Withdrawn => 3,
        }
    }
}

impl fmt::Display for ConsentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Granted => "granted",
            Self::NeverAsked => "never asked",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        })
    }
}

impl ConsentState {
    pub(super) fn max_restrictive(self, other: ConsentState) -> ConsentState {
        if other.restriction() > self.restriction() {
            other
        } else {
            self
        }
    }
}

pub(super) fn entry_state(e: &ConsentEntry, t: OffsetDateTime) -> ConsentState {
    match e.change {
        Change::Withdraw => ConsentState::Withdrawn,
        Change::Grant { expires: Some(x) } if x <= t => ConsentState::Expired,
        Change::Grant { .. } => ConsentState::Granted,
    }
}
