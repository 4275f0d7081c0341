//! Suppression export: tell partners whom not to contact, and about what,
//! without telling them who the person is or why.
//!
//! A suppression only protects a person if everyone who could contact them
//! honors it: the missing feedback loop of the baby-food samples sent seven
//! months after a reported pregnancy loss. This module owns the shared form
//! of a suppression:
//!
//! - [`SuppressionList`]: one [`SuppressionEntry`] per suppression active at
//!   `now`, with a pseudonymous [`SubjectKey`], the [`ExportScope`] (all, a
//!   channel, a purpose or an interest path), `since` and `until`. The
//!   [`Reason`](crate::Reason) is **never** exported, in no type and no
//!   format: "bereavement" is itself sensitive.
//! - [`SubjectKey`]: HMAC-SHA256 of the normalized identifier (e-mail
//!   address or customer id) under a caller-supplied [`KeySecret`] shared
//!   with the partner out of band. The partner derives the key from its own
//!   copy of the identifier and asks [`SuppressionList::is_suppressed`]; a
//!   party without the secret can neither test an address list against the
//!   export nor link it to other exports made with other secrets.
//! - Formats: JSON Lines ([`SuppressionList::to_jsonl`]) and CSV
//!   ([`SuppressionList::to_csv`]), both read back losslessly.
//! - [`SuppressionFeed`]: versioned added/removed changes so partners can
//!   poll instead of re-downloading everything.
//! - [`AdExclusionList`]: the unkeyed format ad platforms require.
//!
//! ## Normalization
//! An identifier is normalized by trimming surrounding whitespace
//! ([`str::trim`]) and lowercasing it with Unicode rules
//! ([`str::to_lowercase`]), for e-mail addresses and customer ids alike, so
//! ` Anna@Example.org ` and `anna@example.org` give the same key. Nothing
//! else is changed: no Unicode normalization form is applied and no
//! provider-specific rewriting (dots in Gmail addresses, `+tags`) is done;
//! do it before calling if both sides agree on it.
//!
//! ## The ad-platform format is weaker
//! Customer-match uploads ([`AdExclusionList`]) use a bare SHA-256 of the
//! normalized e-mail address because the platforms require exactly that.
//! A bare hash is not a pseudonym: anyone holding the file and a list of
//! addresses can hash the addresses and test membership, and identical
//! files from different senders link up. Use it only where a platform
//! demands it; share suppressions with partners in the keyed form.
//!
//! ## Example
//! ```
//! use tactful::*;
//! use time::macros::datetime;
//!
//! let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
//! let now = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! let baby = taxonomy.require("baby")?;
//! let engine = Engine::new(taxonomy, DecayPolicy::default());
//! engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), Reason::Bereavement, now), now);
//!
//! // Operator: export with the secret agreed with the partner.
//! let secret = KeySecret::new(b"shared-with-partner-out-of-band")?;
//! let list = SuppressionList::from_profiles(engine.taxonomy(), [(&anna, "Anna@Example.org")], &secret, now)?;
//! let jsonl = list.to_jsonl();
//! assert!(!jsonl.contains("bereavement"));
//!
//! // Partner: import, derive the key from its own copy of the address, check.
//! let received = SuppressionList::from_jsonl(&jsonl)?;
//! let key = SubjectKey::derive(&secret, " anna@example.org");
//! assert!(received.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("baby/food"), now));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ad;
mod csv;
mod feed;
mod key;
mod list;

pub use ad::AdExclusionList;
pub use feed::{ChangeKind, FeedChange, FeedError, SuppressionFeed};
pub use key::{normalize, InvalidSubjectKey, KeySecret, SecretTooShort, SubjectKey};
pub use list::{EntryError, ExportScope, SuppressionEntry, SuppressionList};

use crate::profile::ProfileId;
use crate::taxonomy::InterestId;
use thiserror::Error;

/// Why a suppression list could not be built, read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A profile has an interest suppression whose handle the taxonomy does
    /// not know (the profile was built with another taxonomy). Export with
    /// the taxonomy the profile was recorded with.
    #[error("profile {:?} suppresses interest {interest}, which the taxonomy does not know", .profile.0)]
    UnknownInterest {
        /// The profile.
        profile: ProfileId,
        /// The unknown handle.
        interest: InterestId,
    },
    /// An interest path that the taxonomy does not contain (a typo would
    /// otherwise silently exclude nobody).
    #[error("unknown interest path {0:?}")]
    UnknownInterestPath(String),
    /// The identifier to key is empty after trimming: every such person
    /// would share one key. Pass the person's e-mail address or customer id.
    #[error("profile {:?} has an empty identifier", .profile.0)]
    EmptyIdentifier {
        /// The profile.
        profile: ProfileId,
    },
    /// An e-mail address given to [`AdExclusionList::from_emails`] is empty
    /// after trimming.
    #[error("e-mail address number {position} is empty")]
    EmptyEmail {
        /// 1-based position in the input.
        position: usize,
    },
    /// A suppression cannot be written as an entry, in practice because an
    /// instant lies outside the years 0 to 9999 ([`EntryError::OutOfRange`]).
    #[error("profile {:?}: {error}", .profile.0)]
    InvalidEntry {
        /// The profile.
        profile: ProfileId,
        /// What is wrong.
        #[source]
        error: EntryError,
    },
    /// A JSON Lines record could not be read.
    #[error("jsonl line {line}, column {column}: {message}")]
    Jsonl {
        /// 1-based line number.
        line: usize,
        /// 1-based column (byte offset within the line) where reading
        /// failed.
        column: usize,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// A CSV record could not be read.
    #[error("csv line {line}, column {column}: {message}")]
    Csv {
        /// 1-based line number where the record (or the broken quote) starts.
        line: usize,
        /// 1-based column number (1 = `subject` ... 5 = `until`).
        column: usize,
        /// What is wrong, with the offending value.
        message: String,
    },
}
