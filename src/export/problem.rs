//! What a batch export returns: the list of everyone whose record is fine,
//! and beside it the problems of the records that are not.

use std::fmt;

use thiserror::Error;

use super::entry::EntryError;
use super::scope::ExportScope;
use crate::profile::{Profile, ProfileId};
use crate::taxonomy::InterestId;

/// The result of exporting many profiles: the `list` of everything that
/// could be exported, and the `problems` of the records that could not.
///
/// One odd record never stops a batch: a neighbour's empty address must
/// not drop a bereavement from the partner's list. Each problem names the
/// profile and what is wrong; everything else about that profile is still
/// in `list` (a profile with one suppression the taxonomy cannot name
/// still has its other suppressions exported). Log or fix the problems;
/// ignoring them silently leaves those people unprotected.
///
/// Returned by [`SuppressionList::from_profiles`](super::SuppressionList::from_profiles)
/// and [`AdExclusionList::from_profiles`](super::AdExclusionList::from_profiles).
///
/// # Example
/// ```
/// use tactful::export::{Export, KeySecret, ProblemKind, SuppressionList};
/// use tactful::*;
/// use time::macros::datetime;
///
/// let engine = Engine::new(Taxonomy::builder().interest("baby").build()?, DecayPolicy::default());
/// let now = datetime!(2026-11-01 9:00 UTC);
/// let mut anna = Profile::new("anna");
/// let mut ben = Profile::new("ben");
/// for p in [&mut anna, &mut ben] {
///     engine.suppress(p, Suppression::new(Scope::Channel(Channel::Post), SuppressionReason::OptOut, now), now);
/// }
///
/// let secret = KeySecret::new([42u8; 32])?;
/// let people = [(&anna, "anna@example.org"), (&ben, " ")];
/// let Export { list, problems } = SuppressionList::from_profiles(engine.taxonomy(), people, &secret, now);
/// assert_eq!(list.len(), 1, "anna is exported");
/// assert_eq!(problems.len(), 1, "ben's address is missing");
/// assert_eq!(problems[0].profile, ProfileId("ben".into()));
/// assert_eq!(problems[0].kind, ProblemKind::EmptyIdentifier);
/// assert_eq!(problems[0].to_string(), "item 2, profile \"ben\": empty identifier, nothing of the profile is exported");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use = "the problems name people whose suppressions were not exported"]
pub struct Export<L> {
    /// Everything that could be exported.
    pub list: L,
    /// What could not be exported, in input order; within one item, its
    /// suppressions' problems in the profile's order, then the
    /// identifier's.
    pub problems: Vec<ExportProblem>,
}

impl<L> Export<L> {
    /// Whether every record was exported in full (there are no problems).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Something in one profile's record that kept (part of) it out of an
/// export; the rest of the batch was exported.
///
/// It names the profile and what is wrong, never the reason of a
/// suppression (that stays as private in a log as in the export).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("item {position}, profile {:?}: {kind}", .profile.0)]
#[non_exhaustive]
pub struct ExportProblem {
    /// 1-based position of the item in the input, which tells apart two
    /// items of the same profile.
    pub position: usize,
    /// The profile.
    pub profile: ProfileId,
    /// What is wrong.
    #[source]
    pub kind: ProblemKind,
}

impl ExportProblem {
    /// A problem of the item at 1-based `position`.
    pub(super) fn new(position: usize, profile: &Profile, kind: ProblemKind) -> Self {
        Self {
            position,
            profile: profile.id().clone(),
            kind,
        }
    }
}

/// What is wrong with a record in an [`ExportProblem`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The identifier paired with the profile is empty after trimming, and
    /// the profile has something to export: every such person would share
    /// one key (or one hash), so nothing of the profile is exported. Pass
    /// the person's e-mail address or customer id.
    #[error("empty identifier, nothing of the profile is exported")]
    EmptyIdentifier,
    /// An active suppression names an interest handle that the taxonomy
    /// does not know (the profile was recorded with another taxonomy); that
    /// suppression is left out, the profile's others are exported. Export
    /// with the taxonomy the profile was recorded with.
    #[error(
        "suppression of interest {interest} not exported: the taxonomy does not know the interest"
    )]
    UnknownInterest {
        /// The unknown handle.
        interest: InterestId,
    },
    /// An active suppression cannot be written as an entry, in practice
    /// because an instant lies outside the years 0 to 9999 in UTC
    /// ([`EntryError::OutOfRange`]); that suppression is left out, the
    /// profile's others are exported.
    #[error("suppression of {} not exported: {error}", ScopeName(.scope))]
    InvalidEntry {
        /// What the suppression would have been exported as (after
        /// [minimization](super::Minimization)).
        scope: ExportScope,
        /// Why it cannot be an entry.
        #[source]
        error: EntryError,
    },
}

/// `all`, `channel post`, `interest baby/food`: a scope in a message.
struct ScopeName<'a>(&'a ExportScope);

impl fmt::Display for ScopeName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.0.target();
        if target.is_empty() {
            f.write_str(self.0.kind())
        } else {
            write!(f, "{} {target}", self.0.kind())
        }
    }
}
