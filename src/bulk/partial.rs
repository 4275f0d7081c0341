//! The facts of one person, as rows: events, consent changes, suppressions
//! and erasures. Not verdicts: whether an event counts depends on consent and
//! suppressions that may arrive in another part, so a part keeps every row
//! and the verdicts are reached once, when the parts are finished together.

use time::OffsetDateTime;

use crate::consent::{Change, ConsentEntry, Evidence, Purpose};
use crate::event::{Context, Event, Signal, Source, Weight};
use crate::profile::{ErasedScope, ProfileId};
use crate::store::{class_of, context_of, from_nanos, source_of, to_nanos};
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

/// An event row in its compact form, its instant in Unix nanoseconds: what
/// a query engine builds from its columns without calendar arithmetic.
/// Converts to and from [`Event`] (for instants between the years 1678 and
/// 2261, which fit).
///
/// # Examples
/// ```
/// use tactful::bulk::EventRow;
/// use tactful::prelude::*;
/// use time::macros::datetime;
///
/// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
/// let food = taxonomy.require("baby/food")?;
/// let row = EventRow::new(food, Signal::Purchase, 1_700_000_000_000_000_000).with_gift(true);
/// let event = row.event();
/// assert_eq!(event.at(), datetime!(2023-11-14 22:13:20 UTC));
/// assert_eq!(EventRow::from_event(&event), Some(row));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRow {
    pub(crate) at: i64,
    pub(crate) weight: Weight,
    pub(crate) interest: InterestId,
    pub(crate) signal: Signal,
    pub(crate) class: u8,
    pub(crate) gift: bool,
}

impl EventRow {
    /// A first-party, on-site event of weight 1 at `at_unix_nanos`.
    #[must_use]
    pub fn new(interest: InterestId, signal: Signal, at_unix_nanos: i64) -> Self {
        Self {
            at: at_unix_nanos,
            weight: Weight::ONE,
            interest,
            signal,
            class: class_of(Source::FirstParty, Context::OnSite),
            gift: false,
        }
    }

    /// Sets the weight.
    #[must_use]
    pub fn with_weight(mut self, weight: Weight) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the source.
    #[must_use]
    pub fn with_source(mut self, source: Source) -> Self {
        self.class = class_of(source, context_of(self.class));
        self
    }

    /// Sets the context.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.class = class_of(source_of(self.class), context);
        self
    }

    /// Marks the event as made for someone else.
    #[must_use]
    pub fn with_gift(mut self, gift: bool) -> Self {
        self.gift = gift;
        self
    }

    /// The instant, Unix nanoseconds.
    #[must_use]
    pub fn at_unix_nanos(&self) -> i64 {
        self.at
    }

    /// The interest.
    #[must_use]
    pub fn interest(&self) -> InterestId {
        self.interest
    }

    /// As an [`Event`].
    #[must_use]
    pub fn event(&self) -> Event {
        self.event_at(from_nanos(self.at))
    }

    /// As an [`Event`] at `at`.
    pub(crate) fn event_at(&self, at: OffsetDateTime) -> Event {
        Event::new(self.interest, self.signal, at)
            .with_source(source_of(self.class))
            .with_context(context_of(self.class))
            .with_gift(self.gift)
            .with_valid_weight(self.weight)
    }

    /// The row of an event whose instant fits Unix nanoseconds in an `i64`.
    #[must_use]
    pub fn from_event(e: &Event) -> Option<Self> {
        Some(Self {
            at: to_nanos(e.at())?,
            weight: e.weight(),
            interest: e.interest(),
            signal: e.signal(),
            class: class_of(e.source(), e.context()),
            gift: e.is_gift(),
        })
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
    /// Events whose instants fit Unix nanoseconds.
    pub(crate) rows: Vec<EventRow>,
    /// The others (refused as out of range when finished).
    pub(crate) wide: Vec<Event>,
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
            rows: Vec::new(),
            wide: Vec::new(),
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
        match EventRow::from_event(&event) {
            Some(row) => self.rows.push(row),
            None => self.wide.push(event),
        }
    }

    /// Adds an event row in its compact form.
    pub fn push_row(&mut self, row: EventRow) {
        self.rows.push(row);
    }

    /// Reserves room for `additional` more event rows.
    pub fn reserve_events(&mut self, additional: usize) {
        self.rows.reserve(additional);
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

    /// The event rows, in the order they were added (those with instants
    /// outside the years 1678 to 2261 last).
    pub fn events(&self) -> impl Iterator<Item = Event> + '_ {
        self.rows.iter().map(EventRow::event).chain(self.wide.iter().copied())
    }

    /// The number of event rows.
    #[must_use]
    pub fn event_count(&self) -> usize {
        self.rows.len() + self.wide.len()
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
        self.rows.extend(other.rows);
        self.wide.extend(other.wide);
        self.consents.extend(other.consents);
        self.suppressions.extend(other.suppressions);
        self.erasures.extend(other.erasures);
        Ok(())
    }

    /// The number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.event_count() + self.consents.len() + self.suppressions.len() + self.erasures.len()
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
            + self.rows.capacity() * size_of::<EventRow>()
            + self.wide.capacity() * size_of::<Event>()
            + self.consents.capacity() * size_of::<ConsentEntry>()
            + evidence
            + self.suppressions.capacity() * size_of::<Suppression>()
            + self.erasures.capacity() * size_of::<Erasure>()
    }
}
