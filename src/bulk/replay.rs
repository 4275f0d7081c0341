//! Finishing: the facts replayed in time order, each at its own instant,
//! with exactly the semantics of the engine's operations.

use std::cmp::Ordering;

use time::OffsetDateTime;

use crate::consent::{Change, ConsentEntry, ConsentError, Evidence};
use crate::engine::Engine;
use crate::event::Event;
use crate::profile::{ErasedScope, Profile, Refusal};
use crate::store::class_of;
use crate::suppression::{Scope, Suppression};
use crate::taxonomy::InterestId;

use super::partial::{ConsentChange, Erasure, PartialProfile};
use super::BulkError;

/// A finished profile and every row it refused.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Finished {
    /// The profile the rows built (on the base given), with its aggregates
    /// prepared for reads at `now`.
    pub profile: Profile,
    /// Every refused row, in the order the rows were replayed. Refused events
    /// are also counted on the profile (see [`Profile::refusals`]), as
    /// [`Engine::record`] counts them.
    pub refused: Vec<Refused>,
}

/// A row that finishing refused, with the reason.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Refused {
    /// An event [`Engine::record`] refused.
    Event(Refusal),
    /// A consent change the ledger refused.
    Consent {
        /// The change.
        change: ConsentChange,
        /// Why.
        error: ConsentError,
    },
    /// A suppression of an interest the taxonomy does not know.
    Suppression {
        /// The suppression.
        suppression: Suppression,
        /// The unknown interest.
        interest: InterestId,
    },
    /// An erasure of an interest the taxonomy does not know.
    Erasure {
        /// The erasure.
        erasure: Erasure,
        /// The unknown interest.
        interest: InterestId,
    },
}

/// One row, borrowed from a part.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fact<'a> {
    Consent(&'a ConsentEntry),
    Suppression(&'a Suppression),
    Erasure(&'a Erasure),
    Event(Event),
}

impl Fact<'_> {
    fn at(&self) -> OffsetDateTime {
        match self {
            Fact::Consent(c) => c.at,
            Fact::Suppression(s) => s.since(),
            Fact::Erasure(e) => e.at(),
            Fact::Event(e) => e.at(),
        }
    }

    /// At one instant: consent changes, then suppressions, then erasures,
    /// then events.
    fn rank(&self) -> u8 {
        match self {
            Fact::Consent(_) => 0,
            Fact::Suppression(_) => 1,
            Fact::Erasure(_) => 2,
            Fact::Event(_) => 3,
        }
    }
}

fn evidence_key(e: &Evidence) -> (u8, &str) {
    match e {
        Evidence::Ui(s) => (0, s),
        Evidence::ConsentString(s) => (1, s),
        Evidence::GlobalPrivacyControl => (2, ""),
        Evidence::Import(s) => (3, s),
        Evidence::System(s) => (4, s),
    }
}

fn change_key(c: Change) -> (u8, Option<OffsetDateTime>) {
    match c {
        Change::Grant { expires } => (0, expires),
        Change::Withdraw => (1, None),
    }
}

fn erased_key(s: ErasedScope) -> (u8, u32) {
    match s {
        ErasedScope::All => (0, 0),
        ErasedScope::Interest(i) => (1, i.0),
    }
}

/// The content of an event as a total order.
pub(crate) fn event_key(e: &Event) -> (u32, u8, crate::event::Signal, bool, u64) {
    (
        e.interest().0,
        class_of(e.source(), e.context()),
        e.signal(),
        e.is_gift(),
        e.weight().get().to_bits(),
    )
}

/// The canonical order of rows: by instant, then kind, then content. Equal
/// rows are interchangeable, so the order is total on what matters.
pub(crate) fn cmp_facts(a: &Fact<'_>, b: &Fact<'_>) -> Ordering {
    a.at()
        .cmp(&b.at())
        .then(a.rank().cmp(&b.rank()))
        .then_with(|| match (a, b) {
            (Fact::Consent(x), Fact::Consent(y)) => (x.purpose, change_key(x.change))
                .cmp(&(y.purpose, change_key(y.change)))
                .then_with(|| evidence_key(&x.evidence).cmp(&evidence_key(&y.evidence))),
            (Fact::Suppression(x), Fact::Suppression(y)) => {
                (x.scope(), x.reason(), x.ends()).cmp(&(y.scope(), y.reason(), y.ends()))
            }
            (Fact::Erasure(x), Fact::Erasure(y)) => {
                erased_key(x.scope()).cmp(&erased_key(y.scope()))
            }
            (Fact::Event(x), Fact::Event(y)) => event_key(x).cmp(&event_key(y)),
            _ => Ordering::Equal,
        })
}

/// Every row of a part, in canonical order.
pub(crate) fn sorted_facts(p: &PartialProfile) -> Vec<Fact<'_>> {
    let mut facts: Vec<Fact<'_>> = Vec::with_capacity(p.len());
    facts.extend(p.consents.iter().map(Fact::Consent));
    facts.extend(p.suppressions.iter().map(Fact::Suppression));
    facts.extend(p.erasures.iter().map(Fact::Erasure));
    facts.extend(p.events().map(Fact::Event));
    facts.sort_by(cmp_facts);
    facts
}

impl Engine {
    /// Finishes the rows of a person on `base` (their stored profile, or a
    /// new one carrying their level): the profile those rows build when each
    /// is applied at its own instant, in time order, exactly as the live
    /// operations do it — [`record`](Self::record) an event at its instant,
    /// [`ConsentLedger::record`](crate::ConsentLedger::record) a consent
    /// change, [`suppress`](Self::suppress) a suppression at its start,
    /// [`erase_interest`](Self::erase_interest) or
    /// [`erase_profile`](Self::erase_profile) an erasure at its instant. An
    /// event dated after `now` is refused as from the future, as recording
    /// it at `now` would be; other rows dated after `now` are kept
    /// (scheduled). At one instant, consent changes come first, then
    /// suppressions, erasures and events.
    ///
    /// The rows' order and how they were split into parts do not matter:
    /// that is the merge law of [`PartialProfile`]. Aggregates are prepared
    /// for reads at `now`.
    ///
    /// # Errors
    /// [`BulkError::IdMismatch`] if `base` is another person's profile.
    /// Refused rows are not errors: they are listed in
    /// [`Finished::refused`].
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{ConsentChange, PartialProfile, Refused};
    /// use tactful::prelude::*;
    /// use time::{macros::datetime, Duration};
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let food = engine.taxonomy().require("baby/food")?;
    /// let t0 = datetime!(2026-11-01 9:00 UTC);
    /// let mut rows = PartialProfile::new("anna");
    /// // The event comes first in the input, the grant an hour before it in time: order of rows does not matter.
    /// rows.push_event(Event::new(food, Signal::View, t0 + Duration::hours(1)));
    /// rows.push_consent(ConsentChange::grant(Purpose::Personalization, t0, None, Evidence::Import("crm".into())));
    /// // Before the grant: refused, and reported.
    /// rows.push_event(Event::new(food, Signal::View, t0 - Duration::hours(1)));
    ///
    /// let mut base = Profile::new("anna");
    /// base.set_level(Level::FirstParty);
    /// let done = engine.finish(base, &rows, t0 + Duration::days(1))?;
    /// assert_eq!(done.profile.stored_events(), 1);
    /// assert!(matches!(&done.refused[..], [Refused::Event(r)] if matches!(r.reason, RefusalReason::NoConsent { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(
        &self,
        base: Profile,
        partial: &PartialProfile,
        now: OffsetDateTime,
    ) -> Result<Finished, BulkError> {
        if base.id() != partial.id() {
            return Err(BulkError::IdMismatch {
                expected: base.id().clone(),
                found: partial.id().clone(),
            });
        }
        let mut profile = base;
        let mut refused = Vec::new();
        for fact in sorted_facts(partial) {
            if let Some(r) = self.apply(&mut profile, fact, now) {
                refused.push(r);
            }
        }
        self.prepare(&mut profile, now);
        Ok(Finished { profile, refused })
    }

    /// Applies one row at its own instant; the refusal, if any.
    pub(crate) fn apply(
        &self,
        profile: &mut Profile,
        fact: Fact<'_>,
        now: OffsetDateTime,
    ) -> Option<Refused> {
        let tax = self.taxonomy();
        match fact {
            Fact::Consent(c) => {
                profile
                    .consent_mut()
                    .record(c.clone())
                    .err()
                    .map(|error| Refused::Consent {
                        change: c.clone(),
                        error,
                    })
            }
            Fact::Suppression(s) => match s.scope() {
                Scope::Interest(i) if !tax.contains(i) => Some(Refused::Suppression {
                    suppression: *s,
                    interest: i,
                }),
                _ => {
                    self.suppress(profile, *s, s.since());
                    None
                }
            },
            Fact::Erasure(e) => match e.scope() {
                ErasedScope::Interest(i) if !tax.contains(i) => Some(Refused::Erasure {
                    erasure: *e,
                    interest: i,
                }),
                ErasedScope::Interest(i) => {
                    self.erase_interest(profile, i, e.at());
                    None
                }
                ErasedScope::All => {
                    self.erase_profile(profile, e.at());
                    None
                }
            },
            Fact::Event(e) => {
                let at = if e.at() > now { now } else { e.at() };
                self.record(profile, e, at).err().map(Refused::Event)
            }
        }
    }
}
