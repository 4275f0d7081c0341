//! Summaries: a person's scores, segments and refusals at `now` from their
//! rows, without building the event store when nothing requires it.
//!
//! Finishing replays every row through the live operations. For the common
//! warehouse case — a person with no stored events yet, rows of events,
//! consent changes and suppressions that do not purge — the outcome of each
//! event depends only on the consent changes and suppressions, never on the
//! other events (no dismissal, no erasure, no limit within reach): each is
//! admitted by the same gate [`Engine::record`] asks, at its own instant,
//! against the finished ledger and suppressions (entries dated later do not
//! change a state at an earlier instant), duplicates are found by sorting,
//! and the admitted events are scored by the same plain pass in the store's
//! order. Anything else takes the replay.

use time::OffsetDateTime;

use crate::decay::{self, Scores};
use crate::engine::Engine;
use crate::event::Event;
use crate::gate;
use crate::profile::{Profile, RefusalCounts, RefusalReason};
use crate::store::{class_of, to_nanos};

use super::partial::PartialProfile;
use super::replay::{cmp_facts, Fact, Finished};
use super::BulkError;

/// What a person's rows come to at `now`: scores, segment memberships and
/// refusals, as [`Engine::summarize`] computes them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// Every interest's score, equal to
    /// [`Engine::scores_by_scan`] of the finished profile (bit for bit).
    pub scores: Scores,
    /// The segments the person is a member of (the one gate applied), in
    /// the engine's order, from these scores.
    pub segments: Vec<String>,
    /// Refused events by kind, as counted on the finished profile (the
    /// base's earlier counts included).
    pub refusals: RefusalCounts,
    /// Rows refused by this finishing, of every kind: events, consent
    /// changes, suppressions and erasures.
    pub refused_rows: usize,
}

/// The store order of an event (series by interest and class, gifts kept
/// aside, then instant, weight, signal): duplicates are neighbours and the
/// admitted events come out in the order the plain pass sums them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct StoreKey {
    series: u64,
    at: i64,
    weight: u64,
    signal: crate::event::Signal,
    row: u32,
}

impl StoreKey {
    fn of(e: &Event, row: u32) -> Self {
        let series = (u64::from(e.interest().0) << 8)
            | (u64::from(class_of(e.source(), e.context())) << 1)
            | u64::from(e.is_gift());
        Self {
            series,
            // Out-of-range instants are refused before any duplicate check.
            at: to_nanos(e.at()).unwrap_or(i64::MIN),
            weight: e.weight().get().to_bits(),
            signal: e.signal(),
            row,
        }
    }

    fn same_event(&self, other: &Self) -> bool {
        (self.series, self.at, self.weight, self.signal)
            == (other.series, other.at, other.weight, other.signal)
    }
}

impl Engine {
    /// Scores, segments and refusals at `now` of the profile that
    /// [`finish`](Self::finish) would build from `base` and `partial`:
    /// equal to the finished profile's
    /// [`scores_by_scan`](Self::scores_by_scan), its segments over those
    /// scores, and its refusal counts, computed without building the event
    /// store when `base` holds no events and the rows hold no erasure, no
    /// dismissal and no purging suppression (the usual bulk case), and by
    /// finishing otherwise.
    ///
    /// # Errors
    /// [`BulkError::IdMismatch`] if `base` is another person's profile.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{ConsentChange, PartialProfile};
    /// use tactful::prelude::*;
    /// use time::{macros::datetime, Duration};
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default())
    ///     .with_segments(vec![SegmentDef::new("parents", Rule::interest("baby")).for_purpose(Purpose::Personalization)])?;
    /// let food = engine.taxonomy().require("baby/food")?;
    /// let t0 = datetime!(2026-11-01 9:00 UTC);
    /// let mut rows = PartialProfile::new("anna");
    /// rows.push_consent(ConsentChange::grant(Purpose::Personalization, t0, None, Evidence::Import("crm".into())));
    /// for d in 1..4 {
    ///     rows.push_event(Event::new(food, Signal::View, t0 + Duration::days(d)));
    /// }
    /// let mut base = Profile::new("anna");
    /// base.set_level(Level::FirstParty);
    /// let now = t0 + Duration::days(5);
    /// let summary = engine.summarize(&base, &rows, now)?;
    /// assert_eq!(summary.segments, ["parents"]);
    /// // The same as finishing and asking the profile.
    /// let done = engine.finish(base, &rows, now)?;
    /// assert_eq!(summary.scores, engine.scores_by_scan(&done.profile, now));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn summarize(
        &self,
        base: &Profile,
        partial: &PartialProfile,
        now: OffsetDateTime,
    ) -> Result<Summary, BulkError> {
        if base.id() != partial.id() {
            return Err(BulkError::IdMismatch {
                expected: base.id().clone(),
                found: partial.id().clone(),
            });
        }
        if let Some(s) = self.summarize_fast(base, partial, now) {
            return Ok(s);
        }
        let done = self.finish(base.clone(), partial, now)?;
        Ok(self.summary_of(&done, now))
    }

    /// The summary of a finished profile.
    pub(crate) fn summary_of(&self, done: &Finished, now: OffsetDateTime) -> Summary {
        let view = self.view(&done.profile, now);
        let scores = decay::score(&view, 0);
        let segments = self
            .segment_names_with(&view, &scores)
            .into_iter()
            .map(str::to_owned)
            .collect();
        Summary {
            scores,
            segments,
            refusals: done.profile.refusals().clone(),
            refused_rows: done.refused.len(),
        }
    }

    /// Whether no event's outcome can depend on another event or on the
    /// base's stored data: then events are admitted independently.
    fn events_are_independent(&self, base: &Profile, partial: &PartialProfile) -> bool {
        base.stored_events() == 0
            && base.tombstones().is_empty()
            && base.orphans().is_empty()
            && partial.erasures.is_empty()
            && partial.suppressions.iter().all(|s| !s.purges())
            && partial.events.len() <= self.limits().max_events
            && partial.events.iter().all(|e| !e.is_dismissal())
    }

    fn summarize_fast(
        &self,
        base: &Profile,
        partial: &PartialProfile,
        now: OffsetDateTime,
    ) -> Option<Summary> {
        if !self.events_are_independent(base, partial) {
            return None;
        }
        let mut keys: Vec<StoreKey> = Vec::with_capacity(partial.events.len());
        for (row, e) in partial.events.iter().enumerate() {
            keys.push(StoreKey::of(e, u32::try_from(row).ok()?));
        }
        keys.sort_unstable();
        // The interest limit is out of reach if the rows name few enough.
        let series_interests = keys
            .iter()
            .filter(|k| k.series & 1 == 0)
            .map(|k| k.series >> 8)
            .fold((0usize, None), |(n, last), i| {
                (n + usize::from(last != Some(i)), Some(i))
            })
            .0;
        if series_interests > self.limits().max_interests {
            return None;
        }

        let mut profile = base.clone();
        let mut refused_rows = 0;
        let mut facts: Vec<Fact<'_>> = partial
            .consents
            .iter()
            .map(Fact::Consent)
            .chain(partial.suppressions.iter().map(Fact::Suppression))
            .collect();
        facts.sort_by(cmp_facts);
        for f in facts {
            refused_rows += usize::from(self.apply(&mut profile, f, now).is_some());
        }

        let mut admitted: Vec<Event> = Vec::with_capacity(keys.len());
        let mut last: Option<StoreKey> = None;
        for k in &keys {
            let e = partial.events.get(k.row as usize)?;
            let at = if e.at() > now { now } else { e.at() };
            let verdict = match gate::admit(
                self.taxonomy(),
                self.policy(),
                self.limits(),
                &profile,
                e,
                at,
            ) {
                Ok(_) if last.is_some_and(|l| l.same_event(k)) => Err(RefusalReason::Duplicate),
                Ok(_) => Ok(()),
                Err(r) => Err(r),
            };
            match verdict {
                Ok(()) => {
                    last = Some(*k);
                    if !e.is_gift() {
                        admitted.push(*e);
                    }
                }
                Err(reason) => {
                    refused_rows += 1;
                    profile.refusals_mut().bump(reason.kind());
                }
            }
        }
        let view = self.view(&profile, now);
        let scores = decay::scores_from_events(&view, admitted.into_iter());
        let segments = self
            .segment_names_with(&view, &scores)
            .into_iter()
            .map(str::to_owned)
            .collect();
        Some(Summary {
            scores,
            segments,
            refusals: profile.refusals().clone(),
            refused_rows,
        })
    }
}
