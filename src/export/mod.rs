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
//!   channel, a purpose, a channel for a purpose or an interest path),
//!   `since` and `until`. The [`SuppressionReason`](crate::SuppressionReason) is **never**
//!   exported, in no type and no format: "bereavement" is itself sensitive.
//! - [`ExportOptions`] and [`Minimization`]: what an entry may reveal. By
//!   default a suppression of a special-category interest leaves as a
//!   suppression of everything, and windows as whole UTC days.
//! - [`SubjectKey`]: HMAC-SHA256 of the normalized identifier (e-mail
//!   address or customer id) under a caller-supplied [`KeySecret`] shared
//!   with the partner out of band. The partner derives the key from its own
//!   copy of the identifier and asks [`SuppressionList::is_suppressed`]; a
//!   party without the secret can neither test an address list against the
//!   export nor link it to other exports made with other secrets.
//! - Formats: JSON Lines ([`SuppressionList::to_jsonl`]) and CSV
//!   ([`SuppressionList::to_csv`]), both read back losslessly, within
//!   [`ReadLimits`] for files from outside.
//! - [`SuppressionFeed`]: versioned added/removed changes so partners can
//!   poll instead of re-downloading everything.
//! - [`AdExclusionList`]: the unkeyed format ad platforms require.
//! - [`Export`]: what a batch export returns, the list and the
//!   [`ExportProblem`]s of the records that could not be exported.
//!
//! ## One odd record never fails a batch
//! [`SuppressionList::from_profiles`] and [`AdExclusionList::from_profiles`]
//! export everyone whose record is fine and report the rest beside the
//! list: an operator exporting a million people must not export nobody's
//! bereavement because a neighbour's address is empty. Each
//! [`ExportProblem`] names the item's position, the profile and the
//! [`ProblemKind`]; a profile with one suppression the taxonomy cannot
//! name still has its other suppressions exported. Only a mistake in the
//! call itself, such as an unknown interest path to target, is an
//! [`ExportError`] for the whole call.
//!
//! ## Minimization: the partner can identify the person
//! A partner that holds the secret derives the key of every customer it
//! has, so an entry `interest health/pregnancy, since
//! 2026-03-14T16:20:00Z` tells it that this customer was pregnant and
//! when she called. Every exporter therefore reads a profile through one
//! rule, applied before any format is written (JSON Lines, CSV, serde, the
//! [`SuppressionFeed`] built from the lists, the [`AdExclusionList`]):
//!
//! - a suppression of an interest in a special category
//!   ([`Taxonomy::sensitivity`](crate::Taxonomy::sensitivity) is special:
//!   declared so, or inherited from a special ancestor), or of an orphaned
//!   interest that the taxonomy cannot classify, is exported coarsened: by
//!   default as [`ExportScope::All`] ([`Minimization::WholeProfile`]), or
//!   as its nearest ordinary ancestor
//!   ([`Minimization::NearestOrdinaryAncestor`]); only
//!   [`Minimization::Keep`], for partners bound by contract, names it;
//! - windows are widened to whole UTC days: `since` rounded down, `until`
//!   rounded up ([`ExportOptions::round_to_days`]).
//!
//! Both only ever widen what the partner suppresses. Suppressions of
//! ordinary interests, channels and purposes keep their scope. Entries
//! that become equal (two special suppressions from the same day, both
//! `All`) are exported once. Pass options to
//! [`SuppressionList::from_profiles_with`] and
//! [`AdExclusionList::from_profiles_with`]; `from_profiles` uses the
//! defaults.
//!
//! ## Normalization
//! An identifier is [`normalize`]d before it is keyed or hashed: surrounding
//! whitespace is trimmed ([`str::trim`]), the text is brought into Unicode
//! Normalization Form C, lowercased with Unicode rules
//! ([`str::to_lowercase`]) and brought into NFC again. E-mail addresses and
//! customer ids alike, in full (the local part of an address too): so
//! ` Anna@Example.org ` and `anna@example.org` give the same key, and so do
//! `José` typed composed and decomposed. Nothing else is changed: no
//! compatibility folding, no Punycode, no provider-specific rewriting (dots
//! in Gmail addresses, `+tags`); do it before calling if both sides agree
//! on it.
//!
//! ## The ad-platform format is weaker
//! Customer-match uploads ([`AdExclusionList`]) use a bare SHA-256 of the
//! normalized e-mail address because the platforms require exactly that.
//! A bare hash is not a pseudonym: anyone holding the file and a list of
//! addresses can hash the addresses and test membership, and identical
//! files from different senders link up. Use it only where a platform
//! demands it; share suppressions with partners in the keyed form.
//!
//! ## Reading a partner file
//! A partner reads files that come from outside, so the readers check as
//! they go: [`SuppressionList::from_csv`] and
//! [`SuppressionList::from_jsonl`] within the default [`ReadLimits`],
//! [`SuppressionList::from_csv_with`] and
//! [`SuppressionList::from_jsonl_with`] from bytes within limits of your
//! own. The input's size is checked before anything is parsed, the number
//! of rows before each row is converted, each field's length before it
//! is kept; past a limit the read stops with
//! [`ExportError::LimitExceeded`] naming the limit, the line and the
//! field. CSV is split by the `csv` crate and then checked strictly
//! against RFC 4180 (a stray or unclosed quote is an error, not a guess);
//! text that is not UTF-8 is refused naming the line and column.
//!
//! # Examples
//! The operator writes the suppression list of a profile under a key
//! agreed with the partner; the partner reads it back, within limits, and
//! asks about the people it is about to contact.
//! ```
//! use tactful::export::{Export, ReadLimits};
//! use tactful::*;
//! use time::macros::datetime;
//!
//! let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
//! let now = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! let baby = taxonomy.require("baby")?;
//! let engine = Engine::new(taxonomy, DecayPolicy::default());
//! engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now), now);
//!
//! // Operator: export with the secret agreed with the partner.
//! let secret = KeySecret::new(b"shared-with-partner-out-of-band")?;
//! let Export { list, problems } =
//!     SuppressionList::from_profiles(engine.taxonomy(), [(&anna, "Anna@Example.org")], &secret, now);
//! for problem in &problems {
//!     eprintln!("not exported: {problem}"); // log them, fix the records
//! }
//! assert!(problems.is_empty());
//! let jsonl = list.to_jsonl();
//! let csv = list.to_csv();
//! assert!(!jsonl.contains("bereavement") && !csv.contains("bereavement"));
//!
//! // Partner: read the file as bytes, within limits fit for its size.
//! let limits = ReadLimits::default().max_bytes(1 << 20).max_rows(10_000);
//! let received = SuppressionList::from_jsonl_with(jsonl.as_bytes(), limits)?;
//! assert_eq!(SuppressionList::from_csv_with(csv.as_bytes(), limits)?, received);
//!
//! // It derives the key from its own copy of the address, and checks.
//! let key = SubjectKey::derive(&secret, " anna@example.org");
//! assert!(received.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("baby/food"), now));
//! let ben = SubjectKey::derive(&secret, "ben@example.org");
//! assert!(!received.is_suppressed(&ben, Channel::Post, Purpose::Marketing, Some("baby/food"), now));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ad;
mod csv;
mod entry;
mod feed;
mod jsonl;
mod key;
mod limits;
mod list;
mod minimize;
mod problem;
mod scope;

pub use ad::AdExclusionList;
pub use entry::{EntryError, SuppressionEntry};
pub use feed::{ChangeKind, FeedChange, FeedError, SuppressionFeed};
pub use key::{normalize, InvalidSubjectKey, KeySecret, SecretTooShort, SubjectKey};
pub use limits::{ListFormat, ReadLimit, ReadLimits};
pub use list::SuppressionList;
pub use minimize::{ExportOptions, Minimization};
pub use problem::{Export, ExportProblem, ProblemKind};
pub use scope::ExportScope;

use thiserror::Error;

/// Why a whole call failed: reading a list, or an export whose arguments
/// are wrong.
///
/// A problem with one profile's record never fails a batch export; it is
/// an [`ExportProblem`] beside the exported list in [`Export`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// An interest path that the taxonomy does not contain (a typo would
    /// otherwise silently exclude nobody).
    #[error("unknown interest path {0:?}")]
    UnknownInterestPath(String),
    /// An e-mail address given to [`AdExclusionList::from_emails`] is empty
    /// after trimming.
    #[error("e-mail address number {position} is empty")]
    EmptyEmail {
        /// 1-based position in the input.
        position: usize,
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
    /// A list being read exceeds one of its [`ReadLimits`]; reading
    /// stopped there, before the rest was paid for.
    #[error("{format} {}exceeds {limit} of {max}: {actual}", limits::location(*.line, *.column))]
    LimitExceeded {
        /// The format being read.
        format: ListFormat,
        /// Which limit.
        limit: ReadLimit,
        /// 1-based line of the record where it was hit; `None` for
        /// [`ReadLimit::Bytes`], checked on the whole input before reading.
        line: Option<usize>,
        /// For [`ReadLimit::FieldBytes`], the field's 1-based column
        /// (1 = `subject` ... 5 = `until`, in both formats).
        column: Option<usize>,
        /// The input's bytes, the number of the first row past the limit,
        /// or the field's bytes.
        actual: usize,
        /// The limit.
        max: usize,
    },
}
