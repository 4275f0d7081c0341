//! The facts of one person, as rows: events, consent changes, suppressions
//! and erasures. Not verdicts: whether an event counts depends on consent and
//! suppressions that may arrive in another part, so a part keeps every row
//! and the verdicts are reached once, when the parts are finished together.

use time::OffsetDateTime;

use crate::consent::{Change, ConsentEntry, Evidence, Purpose};
use crate::event::Event;
use crate::profile::{ErasedScope, ProfileId};
use crate::suppression::Suppression;
use crate::taxonomy::InterestId;

use super::BulkError;

/// A consent change given as a row: [`ConsentEntry`] under its bulk name.
pub type ConsentChange = ConsentEntry;

/// Grant or withdrawal: [`Change`] under its bulk name.
pub type ConsentAction = Change;

impl ConsentEntry {
    /// A grant of `purpose` at `at`, lapsing at `expires` if given.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::ConsentChange;
    /// use tactful::{Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let c = ConsentChange::grant(Purpose::Marketing, datetime!(2026-01-01 0:00 UTC), None, Evidence::Import("crm".into()));
    /// assert_eq!(c.purpose, Purpose::Marketing);
    /// ```
    #[must_use]
    pub fn grant(
        purpose: Purpose,
        at: OffsetDateTime,
        expires: Option<OffsetDateTime>,
        evidence: Evidence,
    ) -> Self {
        Self {
            purpose,
            change: Change::Grant { expires },
            at,
            evidence,
        }
    }

    /// A withdrawal of `purpose` at `at`.
    #[must_use]
    pub fn withdraw(purpose: Purpose, at: OffsetDateTime, evidence: Evidence) -> Self {
        Self {
            purpose,
            change: Change::Withdraw,
            at,
            evidence,
        }
    }
}

/// An erasure given as a row: [`Engine::erase_interest`](crate::Engine::erase_interest)
/// (an interest subtree) or [`Engine::erase_profile`](crate::Engine::erase_profile)
/// (everything) at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Erasure {
    scope: ErasedScope,
    at: OffsetDateTime,
}

impl Erasure {
    /// Erasure of an interest subtree at `at`.
    #[must_use]
    pub fn interest(interest: InterestId, at: OffsetDateTime) -> Self {
        Self {
            scope: ErasedScope::Interest(interest),
            at,
        }
    }

    /// Erasure of the whole profile at `at`.
    #[must_use]
    pub fn profile(at: OffsetDateTime) -> Self {
        Self {
            scope: ErasedScope::All,
            at,
        }
    }

    /// What is erased.
    #[must_use]
    pub fn scope(&self) -> ErasedScope {
        self.scope
    }

    /// When.
    #[must_use]
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }
}

/// The rows of one person seen by one part of a job (a partition, a
/// machine, a day of the warehouse): events, consent changes, suppressions
/// and erasures, in any order.
///
/// Parts merge by union ([`merge`](Self::merge)), in any grouping and
/// order, and [`Engine::finish`](crate::Engine::finish) gives the profile
/// that the rows would have built had each been recorded at its own instant:
/// the same profile whichever way the rows were split. That is what makes
/// partitioned and distributed scoring exact.
///
/// # Examples
/// ```
/// use tactful::bulk::{ConsentChange, PartialProfile};
/// use tactful::prelude::*;
/// use time::{macros::datetime, Duration};
///
/// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
/// let food = engine.taxonomy().require("baby/food")?;
/// let t0 = datetime!(2026-11-01 9:00 UTC);
///
/// // Two machines each saw some of anna's rows: the consent is on one, the events on both.
/// let mut a = PartialProfile::new("anna");
/// a.push_consent(ConsentChange::grant(Purpose::Personalization, t0, None, Evidence::Import("crm".into())));
/// a.push_event(Event::new(food, Signal::View, t0 + Duration::days(1)));
/// let mut b = PartialProfile::new("anna");
/// b.push_event(Event::new(food, Signal::View, t0 + Duration::days(2)));
/// b.push_event(Event::new(food, Signal::View, t0 + Duration::days(3)));
/// a.merge(b)?;
///
/// let mut base = Profile::new("anna");
/// base.set_level(Level::FirstParty);
/// let now = t0 + Duration::days(4);
/// let done = engine.finish(base, &a, now)?;
/// assert!(done.refused.is_empty());
/// assert!(engine.scores(&done.profile, now).is_established(food));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PartialProfile {
    pub(crate) id: ProfileId,
    pub(crate) events: Vec<Event>,
    pub(crate) consents: Vec<ConsentEntry>,
    pub(crate) suppressions: Vec<Suppression>,
    pub(crate) erasures: Vec<Erasure>,
}

impl PartialProfile {
    /// No rows yet, for the person `id`.
    #[must_use]
    pub fn new(id: impl Into<ProfileId>) -> Self {
        Self {
            id: id.into(),
            events: Vec::new(),
            consents: Vec::new(),
            suppressions: Vec::new(),
            erasures: Vec::new(),
        }
    }

    /// Whose rows these are.
    #[must_use]
    pub fn id(&self) -> &ProfileId {
        &self.id
    }

    /// Adds an event row.
    pub fn push_event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Adds a consent change row.
    pub fn push_consent(&mut self, change: ConsentChange) {
        self.consents.push(change);
    }

    /// Adds a suppression row.
    pub fn push_suppression(&mut self, suppression: Suppression) {
        self.suppressions.push(suppression);
    }

    /// Adds an erasure row.
    pub fn push_erasure(&mut self, erasure: Erasure) {
        self.erasures.push(erasure);
    }

    /// The event rows, in the order they were added.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The consent change rows, in the order they were added.
    #[must_use]
    pub fn consents(&self) -> &[ConsentChange] {
        &self.consents
    }

    /// The suppression rows, in the order they were added.
    #[must_use]
    pub fn suppressions(&self) -> &[Suppression] {
        &self.suppressions
    }

    /// The erasure rows, in the order they were added.
    #[must_use]
    pub fn erasures(&self) -> &[Erasure] {
        &self.erasures
    }

    /// Adds every row of `other`, a part of the same person's rows.
    ///
    /// Rows are facts, so merging is a union of rows (a row present in both
    /// parts is kept twice, as it was given twice): merging parts in any
    /// grouping and order, then finishing, gives what finishing all rows at
    /// once gives.
    ///
    /// # Errors
    /// [`BulkError::IdMismatch`] if `other` belongs to another person;
    /// nothing is added then.
    pub fn merge(&mut self, other: PartialProfile) -> Result<(), BulkError> {
        if other.id != self.id {
            return Err(BulkError::IdMismatch {
                expected: self.id.clone(),
                found: other.id,
            });
        }
        if self.is_empty() {
            *self = other;
            return Ok(());
        }
        self.events.extend(other.events);
        self.consents.extend(other.consents);
        self.suppressions.extend(other.suppressions);
        self.erasures.extend(other.erasures);
        Ok(())
    }

    /// The number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len() + self.consents.len() + self.suppressions.len() + self.erasures.len()
    }

    /// Whether there is no row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held on the heap (capacity, not length: what an aggregation
    /// framework must account for to spill in time).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let evidence: usize = self
            .consents
            .iter()
            .map(|c| match &c.evidence {
                Evidence::Ui(s) | Evidence::Import(s) | Evidence::System(s) => s.capacity(),
                Evidence::ConsentString(s) => s.len(),
                _ => 0,
            })
            .sum();
        self.id.0.capacity()
            + self.events.capacity() * size_of::<Event>()
            + self.consents.capacity() * size_of::<ConsentEntry>()
            + evidence
            + self.suppressions.capacity() * size_of::<Suppression>()
            + self.erasures.capacity() * size_of::<Erasure>()
    }
}
