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

use crate::consent::{NanosGate, Purpose, Purposes, Steps};
use crate::decay::{self, Scores, Tally};
use crate::engine::Engine;
use crate::event::{Context, Signal, Source};
use crate::gate::{purposes_of, View};
use crate::level::Level;
use crate::policy::DecayPolicy;
use crate::profile::{PreferenceKind, Profile, RefusalCounts, RefusalKind};
use crate::store::{context_of, source_of, to_nanos};
use crate::suppression::Suppression;
use crate::taxonomy::{InterestId, Taxonomy};

use super::partial::{EventRow, PartialProfile};
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
    signal: Signal,
    row: u32,
}

impl StoreKey {
    fn of(r: &EventRow, row: u32) -> Self {
        Self {
            series: (u64::from(r.interest.0) << 8) | (u64::from(r.class) << 1) | u64::from(r.gift),
            at: r.at,
            weight: r.weight.get().to_bits(),
            signal: r.signal,
            row,
        }
    }

    fn same_event(&self, other: &Self) -> bool {
        (self.series, self.at, self.weight, self.signal)
            == (other.series, other.at, other.weight, other.signal)
    }
}

/// What one (interest, source and context) needs, computed once per run of
/// its events.
#[derive(Debug, Clone, Copy)]
struct SeriesFacts {
    interest: InterestId,
    source: Source,
    context: Context,
    known: bool,
    purposes: Purposes,
    max_age: i128,
    half_life: f64,
    blocked_now: bool,
}

/// A person's consent, suppressions, dislikes and level as integers, for
/// admitting events at their own instants and using them at `now`.
struct Person<'p> {
    profile: &'p Profile,
    level: Level,
    now: i64,
    /// Per purpose: granted at an instant (admission), built when first asked.
    granted: [Option<Steps>; Purpose::ALL.len()],
    /// Per purpose: usable now for data recorded at an instant.
    gate: NanosGate,
    /// Suppressions with their windows in ns.
    suppressions: Vec<(&'p Suppression, i64, i64)>,
    /// Dislikes: since (ns) and subtree.
    dislikes: Vec<(i64, InterestId)>,
}

impl<'p> Person<'p> {
    fn new(profile: &'p Profile, view: &View<'_>, now: i64) -> Option<Self> {
        let mut suppressions = Vec::with_capacity(profile.suppressions().len());
        for s in profile.suppressions() {
            let until = match s.ends() {
                Some(u) => to_nanos(u)?,
                None => i64::MAX,
            };
            suppressions.push((s, to_nanos(s.since())?, until));
        }
        let mut dislikes = Vec::new();
        for p in profile.preferences().iter().filter(|p| p.kind == PreferenceKind::Dislike) {
            dislikes.push((to_nanos(p.at)?, p.interest));
        }
        Some(Self {
            profile,
            level: profile.level(),
            now,
            granted: Default::default(),
            gate: view.gate.in_nanos()?,
            suppressions,
            dislikes,
        })
    }

    fn granted_at(&mut self, purpose: Purpose, at: i64) -> Option<bool> {
        let slot = self.granted.get_mut(purpose.index())?;
        if slot.is_none() {
            *slot = Some(self.profile.consent().granted_steps(purpose)?);
        }
        slot.as_ref().map(|s| s.granted(at))
    }

    /// `gate::admit` for an event at its own instant (or `now` if later),
    /// for a person whose events are independent: the refusal kind, if any.
    fn admit(&mut self, tax: &Taxonomy, policy: &DecayPolicy, f: &SeriesFacts, at: i64) -> Option<Result<(), RefusalKind>> {
        if !f.known {
            return Some(Err(RefusalKind::Invalid));
        }
        if at > self.now {
            return Some(Err(RefusalKind::FromFuture));
        }
        // Recorded at its own instant: age zero, never stale.
        if self.suppressions.iter().any(|&(s, since, until)| {
            since <= at
                && at < until
                && (s.covers_interest(tax, f.interest) || f.purposes.iter().any(|p| s.covers_purpose(p)))
        }) {
            return Some(Err(RefusalKind::Suppressed));
        }
        if !self.level.admits(f.source, f.context) {
            return Some(Err(RefusalKind::Level));
        }
        if f.purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation() {
            return Some(Err(RefusalKind::Sensitive));
        }
        for p in f.purposes.iter() {
            if !self.granted_at(p, at)? {
                return Some(Err(RefusalKind::NoConsent));
            }
        }
        if self.dislikes.iter().any(|&(since, root)| since <= at && tax.is_within(f.interest, root)) {
            return Some(Err(RefusalKind::Disliked));
        }
        Some(Ok(()))
    }

    /// `View::check` at `now` for an admitted, non-gift event: its
    /// contribution if usable.
    fn usable(&self, policy: &DecayPolicy, f: &SeriesFacts, r: &EventRow) -> Option<f64> {
        let age = i128::from(self.now) - i128::from(r.at);
        if age < 0 || age > f.max_age || f.blocked_now || !self.level.admits(f.source, f.context) {
            return None;
        }
        if f.purposes.iter().any(|p| !self.gate.allows(p, r.at)) {
            return None;
        }
        // As `time::Duration::as_seconds_f64` of the age, bit for bit.
        let secs = (age / 1_000_000_000) as f64 + (age % 1_000_000_000) as f64 / 1_000_000_000.0;
        let w = policy.signal_weights().get(r.signal) * r.weight.get();
        Some(w * (-(secs / f.half_life)).exp2())
    }
}

fn series_facts(tax: &Taxonomy, policy: &DecayPolicy, view: &View<'_>, r: &EventRow) -> SeriesFacts {
    let (source, context) = (source_of(r.class), context_of(r.class));
    let known = tax.contains(r.interest);
    let purposes = purposes_of(tax, r.interest, source, context);
    SeriesFacts {
        interest: r.interest,
        source,
        context,
        known,
        purposes,
        max_age: policy.max_age_for(tax, r.interest, source).whole_nanoseconds(),
        half_life: policy.half_life_for(tax, r.interest).seconds(),
        blocked_now: !known
            || view.is_blocked(r.interest)
            || purposes.iter().any(|p| view.is_purpose_blocked(p))
            || (purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation()),
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
            && partial.wide.is_empty()
            && partial.erasures.is_empty()
            && partial.suppressions.iter().all(|s| !s.purges())
            && partial.rows.len() <= self.limits().max_events
            && partial.rows.iter().all(|r| r.signal != Signal::Dismissal)
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
        let now_ns = to_nanos(now)?;
        let mut keys: Vec<StoreKey> = Vec::with_capacity(partial.rows.len());
        for (row, r) in partial.rows.iter().enumerate() {
            keys.push(StoreKey::of(r, u32::try_from(row).ok()?));
        }
        keys.sort_unstable();
        // The interest limit is out of reach if the rows name few enough.
        let mut interests = 0usize;
        let mut last_interest = None;
        for k in keys.iter().filter(|k| k.series & 1 == 0) {
            let i = k.series >> 8;
            interests += usize::from(last_interest != Some(i));
            last_interest = Some(i);
        }
        if interests > self.limits().max_interests {
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

        let (tax, policy) = (self.taxonomy(), self.policy());
        let mut refusals = profile.refusals().clone();
        let view = self.view(&profile, now);
        let mut person = Person::new(&profile, &view, now_ns)?;
        let mut tally = Tally::new(tax);
        let mut facts: Option<(u64, SeriesFacts)> = None;
        let mut last: Option<StoreKey> = None;
        for k in &keys {
            let r = partial.rows.get(k.row as usize)?;
            let f = match facts {
                Some((series, f)) if series == k.series => f,
                _ => {
                    let f = series_facts(tax, policy, &view, r);
                    facts = Some((k.series, f));
                    f
                }
            };
            match person.admit(tax, policy, &f, r.at)? {
                Ok(()) if last.is_some_and(|l| l.same_event(k)) => {
                    refused_rows += 1;
                    refusals.bump(RefusalKind::Duplicate);
                }
                Ok(()) => {
                    last = Some(*k);
                    if !r.gift {
                        if let Some(c) = person.usable(policy, &f, r) {
                            tally.add(tax, r.interest, c, r.at.div_euclid(1_000_000_000).div_euclid(86_400));
                        }
                    }
                }
                Err(kind) => {
                    refused_rows += 1;
                    refusals.bump(kind);
                }
            }
        }
        let scores = tally.finish(&view);
        let segments = self
            .segment_names_with(&view, &scores)
            .into_iter()
            .map(str::to_owned)
            .collect();
        Some(Summary {
            scores,
            segments,
            refusals,
            refused_rows,
        })
    }
}
