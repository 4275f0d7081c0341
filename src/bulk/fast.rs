//! Summaries: a person's scores, segments and refusals at `now` from their
//! rows, without building the event store when nothing requires it.
//!
//! Finishing replays every row through the live operations. For the common
//! warehouse case — a person with no stored events yet, rows of events,
//! consent changes and suppressions — the outcome of each event depends
//! only on the consent changes and suppressions, never on the other events
//! (no dismissal, no erasure, no limit within reach): each is admitted by
//! the same gate [`Engine::record`] asks, at its own instant, against the
//! finished ledger and suppressions (entries dated later do not change a
//! state at an earlier instant), duplicates are found by sorting, and the
//! admitted events are scored by the same plain pass in the store's order.
//! A purging suppression (a bereavement) at instant `s` removes the
//! admitted events of its scope before `s`, and its tombstone refuses
//! those at `s` as erased (it is applied before the events of its
//! instant); later ones meet its window. Anything else takes the replay.

use time::OffsetDateTime;

use crate::consent::{AllSteps, NanosGate, Purpose, Purposes, Steps};
use crate::decay::{self, InterestScore, Scores, Tally};
use crate::engine::Engine;
use crate::event::Signal;
use crate::gate::{purposes_of, View};
use crate::level::Level;
use crate::policy::DecayPolicy;
use crate::profile::{PreferenceKind, Profile, RefusalCounts, RefusalKind};
use crate::store::{context_of, source_of, to_nanos};
use crate::suppression::Suppression;
use crate::taxonomy::{InterestId, Taxonomy};

use super::order::{sort_nearly_store_order, sort_store_order, store_key};
use super::partial::{EventRow, PartialProfile};
use super::replay::{cmp_facts, Fact, Finished};
use super::BulkError;

/// The scores of the interests with evidence or established, in id order:
/// what [`Scores::iter`] lists, without a slot for every interest of the
/// taxonomy (a bulk run keeps one per person).
///
/// # Examples
/// ```
/// use tactful::bulk::InterestScores;
/// use tactful::prelude::*;
/// use time::macros::datetime;
///
/// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
/// let food = engine.taxonomy().require("baby/food")?;
/// let scores = InterestScores::from(&engine.scores(&Profile::new("anna"), datetime!(2026-11-01 9:00 UTC)));
/// assert!(scores.is_empty());
/// assert_eq!(scores.score(food), 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InterestScores {
    entries: Vec<(InterestId, InterestScore)>,
}

impl InterestScores {
    /// The score record of an interest, if it has evidence or is established.
    #[must_use]
    pub fn get(&self, interest: InterestId) -> Option<&InterestScore> {
        self.entries
            .binary_search_by_key(&interest, |e| e.0)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|e| &e.1)
    }

    /// The score of an interest (0 without evidence).
    #[must_use]
    pub fn score(&self, interest: InterestId) -> f64 {
        self.get(interest).map_or(0.0, |s| s.score)
    }

    /// Whether an interest is established.
    #[must_use]
    pub fn is_established(&self, interest: InterestId) -> bool {
        self.get(interest).is_some_and(|s| s.established.is_some())
    }

    /// The interests with evidence or established, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (InterestId, &InterestScore)> + '_ {
        self.entries.iter().map(|e| (e.0, &e.1))
    }

    /// How many interests have evidence or are established.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no interest has evidence or is established.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl From<&Scores> for InterestScores {
    fn from(scores: &Scores) -> Self {
        Self {
            entries: scores.iter().map(|(i, s)| (i, *s)).collect(),
        }
    }
}

/// [`Engine::summarize`] for one person after another, reusing buffers.
/// Made by [`Engine::summarizer`].
#[derive(Debug)]
pub struct Summarizer<'e> {
    engine: &'e Engine,
    rows: Vec<EventRow>,
    scratch: Scratch,
}

impl Summarizer<'_> {
    /// As [`Engine::summarize`].
    ///
    /// # Errors
    /// As [`Engine::summarize`].
    pub fn summarize(
        &mut self,
        base: &Profile,
        partial: &PartialProfile,
        now: OffsetDateTime,
    ) -> Result<Summary, BulkError> {
        self.engine
            .summarize_in(base, partial, now, &mut self.rows, &mut self.scratch)
    }
}

/// What a person's rows come to at `now`: scores, segment memberships and
/// refusals, as [`Engine::summarize`] computes them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// The scores of the interests with evidence or established: those of
    /// [`Engine::scores_by_scan`] on the finished profile, bit for bit.
    pub scores: InterestScores,
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

/// Nanoseconds in a UTC day.
const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// A person's event rows for [`Engine::summarize_rows`], which puts them in
/// store order: in any order, or nearly in it (sorted by interest).
pub(crate) enum Sorting<'r> {
    /// In any order.
    Any(&'r mut [EventRow]),
    /// Sorted by interest, each interest's rows in any order.
    Nearly(&'r mut [EventRow]),
}

/// A sort into store order, with its reused buffers.
type SortFn = fn(&mut [EventRow], &mut Vec<u128>, &mut Vec<EventRow>, &mut [u32]);

/// What one (interest, source and context) needs, computed once per run of
/// its events.
#[derive(Debug, Clone, Copy)]
struct SeriesFacts {
    interest: InterestId,
    known: bool,
    purposes: Purposes,
    /// The level its source and context need.
    required: Level,
    /// Refused as sensitive by the policy, whoever the person is.
    sensitive: bool,
    max_age: i128,
    half_life: f64,
    blocked_now: bool,
}

/// A set of purposes of a person: granted at an instant (admission) and
/// usable now for data recorded at an instant, as steps and, when each is
/// one closed interval, as that interval.
struct Combo {
    purposes: Purposes,
    admit: AllSteps,
    usable: AllSteps,
    spans: [Option<(i64, i64)>; 2],
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
    /// Per set of purposes met so far: all granted at an instant
    /// (admission) and all usable now for data recorded at an instant.
    combos: Vec<Combo>,
    /// The set of purposes last asked for and its index in `combos`.
    last_combo: Option<(Purposes, usize)>,
    /// Suppressions with their windows in ns.
    suppressions: Vec<(&'p Suppression, i64, i64)>,
    /// The windows of the suppressions that cover the current series.
    windows: Vec<(i64, i64)>,
    /// The purging suppressions applied (bereavements on an interest or on
    /// everything) and their instants in ns: each purges the events of its
    /// scope recorded before it and leaves a tombstone at its instant.
    purges: Vec<(Suppression, i64)>,
    /// The instants of the purges that cover the current series.
    purged_at: Vec<i64>,
    /// Dislikes: since (ns) and subtree.
    dislikes: Vec<(i64, InterestId)>,
}

/// What one series (interest, source and context) comes to for a person,
/// worked out once for all its events: each event then needs only its
/// instant compared.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// Refused whatever the instant, after the checks that depend on it
    /// (the future, suppressions): the level or a sensitive interest.
    fixed: Option<RefusalKind>,
    /// Some suppression covers the series (its windows are in
    /// [`Person::windows`]).
    suppressible: bool,
    /// Refused as disliked from this instant on.
    disliked_from: i64,
    /// Admitted events before this instant are purged later (a purge
    /// covers the series); `i64::MIN` if none does. A purge's own instant
    /// refuses the events of that instant as erased (its tombstone).
    purged_before: i64,
    /// Usable now at all (the level admits it, nothing blocks it).
    usable: bool,
    /// The index of the series' purposes in [`Person::combos`].
    combo: usize,
    /// The instants at which those purposes are granted (admission) and
    /// usable now (use), as closed intervals when they are one.
    spans: [Option<(i64, i64)>; 2],
}

impl<'p> Person<'p> {
    fn new(
        profile: &'p Profile,
        view: &View<'_>,
        now: i64,
        purges: Vec<(Suppression, i64)>,
    ) -> Option<Self> {
        let mut suppressions = Vec::with_capacity(profile.suppressions().len());
        for s in profile.suppressions() {
            let until = match s.ends() {
                Some(u) => to_nanos(u)?,
                None => i64::MAX,
            };
            suppressions.push((s, to_nanos(s.since())?, until));
        }
        let mut dislikes = Vec::new();
        for p in profile
            .preferences()
            .iter()
            .filter(|p| p.kind == PreferenceKind::Dislike)
        {
            dislikes.push((to_nanos(p.at)?, p.interest));
        }
        Some(Self {
            profile,
            level: profile.level(),
            now,
            granted: Default::default(),
            gate: view.gate.in_nanos()?,
            combos: Vec::new(),
            last_combo: None,
            suppressions,
            windows: Vec::new(),
            purges,
            purged_at: Vec::new(),
            dislikes,
        })
    }

    /// The index in `combos` of a set of purposes, built when first met.
    fn combo(&mut self, purposes: Purposes) -> Option<usize> {
        if let Some(i) = self.combos.iter().position(|c| c.purposes == purposes) {
            return Some(i);
        }
        for p in purposes.iter() {
            let slot = self.granted.get_mut(p.index())?;
            if slot.is_none() {
                *slot = Some(self.profile.consent().granted_steps(p)?);
            }
        }
        let steps: Vec<&Steps> = purposes
            .iter()
            .filter_map(|p| self.granted.get(p.index()).and_then(Option::as_ref))
            .collect();
        let admit = AllSteps::granted_all(&steps);
        let usable = self.gate.all_of(purposes);
        let spans = [admit.interval(), usable.interval()];
        self.combos.push(Combo {
            purposes,
            admit,
            usable,
            spans,
        });
        Some(self.combos.len() - 1)
    }

    /// `gate::admit` and `View::check` for a series, as far as they do not
    /// depend on the instant; fills `windows`.
    fn run(&mut self, tax: &Taxonomy, f: &SeriesFacts) -> Option<Run> {
        self.windows.clear();
        self.purged_at.clear();
        if !f.known {
            // Refused as invalid before anything is asked.
            return Some(Run {
                fixed: Some(RefusalKind::Invalid),
                suppressible: false,
                disliked_from: i64::MAX,
                purged_before: i64::MIN,
                spans: [None; 2],
                usable: false,
                combo: usize::MAX,
            });
        }
        for &(s, since, until) in &self.suppressions {
            if s.covers_interest(tax, f.interest) || f.purposes.iter().any(|p| s.covers_purpose(p))
            {
                self.windows.push((since, until));
            }
        }
        for (s, at) in &self.purges {
            // A purge's scope (its subtree and the life events it extends
            // to) is what it covers.
            if s.covers_interest(tax, f.interest) {
                self.purged_at.push(*at);
            }
        }
        // `Level::admits`, with the level the series needs worked out once.
        let level = self.level >= f.required;
        let fixed = if !level {
            Some(RefusalKind::Level)
        } else if f.sensitive {
            Some(RefusalKind::Sensitive)
        } else {
            None
        };
        let disliked_from = self
            .dislikes
            .iter()
            .filter(|&&(_, root)| tax.is_within(f.interest, root))
            .map(|d| d.0)
            .min()
            .unwrap_or(i64::MAX);
        // Consecutive series mostly need the same purposes.
        let combo = match self.last_combo {
            Some((p, i)) if p == f.purposes => i,
            _ => {
                let i = self.combo(f.purposes)?;
                self.last_combo = Some((f.purposes, i));
                i
            }
        };
        Some(Run {
            fixed,
            suppressible: !self.windows.is_empty(),
            disliked_from,
            purged_before: self.purged_at.iter().copied().max().unwrap_or(i64::MIN),
            usable: level && !f.blocked_now,
            combo,
            spans: self.combos.get(combo).map_or([None; 2], |c| c.spans),
        })
    }

    /// `gate::admit` for an event of a known interest at its own instant
    /// (or `now` if later), for a person whose events are independent.
    #[inline]
    fn admit(&self, run: &Run, at: i64) -> Result<(), RefusalKind> {
        if at > self.now {
            return Err(RefusalKind::FromFuture);
        }
        // The tombstone of a purge at this very instant (applied first).
        if self.purged_at.contains(&at) {
            return Err(RefusalKind::Erased);
        }
        // Recorded at its own instant: age zero, never stale.
        if run.suppressible
            && self
                .windows
                .iter()
                .any(|&(since, until)| since <= at && at < until)
        {
            return Err(RefusalKind::Suppressed);
        }
        if let Some(kind) = run.fixed {
            return Err(kind);
        }
        let granted = match run.spans[0] {
            Some((lo, hi)) => lo <= at && at <= hi,
            None => self
                .combos
                .get(run.combo)
                .is_some_and(|c| c.admit.allows(at)),
        };
        if !granted {
            return Err(RefusalKind::NoConsent);
        }
        if at >= run.disliked_from {
            return Err(RefusalKind::Disliked);
        }
        Ok(())
    }

    /// `View::check` at `now` for an admitted, non-gift event: its
    /// contribution if usable.
    #[inline]
    fn usable(
        &self,
        policy: &DecayPolicy,
        f: &SeriesFacts,
        run: &Run,
        r: &EventRow,
    ) -> Option<f64> {
        // Both fit i64 nanoseconds; their difference may not.
        let age = match self.now.checked_sub(r.at) {
            Some(a) => i128::from(a),
            None => i128::from(self.now) - i128::from(r.at),
        };
        if age < 0 || age > f.max_age || !run.usable {
            return None;
        }
        let usable = match run.spans[1] {
            Some((lo, hi)) => lo <= r.at && r.at <= hi,
            None => self
                .combos
                .get(run.combo)
                .is_some_and(|c| c.usable.allows(r.at)),
        };
        if !usable {
            return None;
        }
        // As `time::Duration::as_seconds_f64` of the age, bit for bit.
        let secs = match i64::try_from(age) {
            Ok(a) => (a / 1_000_000_000) as f64 + (a % 1_000_000_000) as f64 / 1_000_000_000.0,
            Err(_) => (age / 1_000_000_000) as f64 + (age % 1_000_000_000) as f64 / 1_000_000_000.0,
        };
        let w = policy.signal_weights().get(r.signal) * r.weight.get();
        Some(w * (-(secs / f.half_life)).exp2())
    }
}

/// What an (interest, source and context) needs whoever the person is.
fn static_facts(tax: &Taxonomy, policy: &DecayPolicy, r: &EventRow) -> SeriesFacts {
    let (source, context) = (source_of(r.class), context_of(r.class));
    let known = tax.contains(r.interest);
    let purposes = purposes_of(tax, r.interest, source, context);
    let sensitive =
        purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation();
    SeriesFacts {
        interest: r.interest,
        known,
        purposes,
        required: Level::required_for(source, context),
        sensitive,
        max_age: policy
            .max_age_for(tax, r.interest, source)
            .whole_nanoseconds(),
        half_life: policy.half_life_for(tax, r.interest).seconds(),
        blocked_now: !known || sensitive,
    }
}

/// A thread's reusable state: the running totals and the static facts of
/// every (interest, source and context) seen so far.
#[derive(Debug)]
pub(crate) struct Scratch {
    pub(crate) tally: Tally,
    keys: Vec<u128>,
    sorted: Vec<EventRow>,
    /// One counter per interest (empty for taxonomies over 1,024).
    counts: Vec<u32>,
    /// By `interest × 9 + class`, for taxonomies small enough to hold one
    /// slot each (about a million slots); otherwise computed each time.
    facts: Vec<Option<SeriesFacts>>,
}

impl Scratch {
    /// Without the facts cache: for one profile.
    fn small(tax: &Taxonomy, policy: &DecayPolicy) -> Self {
        Self {
            tally: Tally::new(tax, policy),
            keys: Vec::new(),
            sorted: Vec::new(),
            counts: if tax.len() <= 1024 {
                vec![0; tax.len()]
            } else {
                Vec::new()
            },
            facts: Vec::new(),
        }
    }

    pub(crate) fn new(tax: &Taxonomy, policy: &DecayPolicy) -> Self {
        let slots = tax.len().saturating_mul(9);
        Self {
            tally: Tally::new(tax, policy),
            keys: Vec::new(),
            sorted: Vec::new(),
            counts: if tax.len() <= 1024 {
                vec![0; tax.len()]
            } else {
                Vec::new()
            },
            facts: if slots <= 1 << 20 {
                vec![None; slots]
            } else {
                Vec::new()
            },
        }
    }

    fn facts(
        &mut self,
        tax: &Taxonomy,
        policy: &DecayPolicy,
        view: &View<'_>,
        r: &EventRow,
    ) -> SeriesFacts {
        let slot = r
            .interest
            .index()
            .saturating_mul(9)
            .saturating_add(usize::from(r.class));
        let mut f = match self.facts.get_mut(slot) {
            Some(Some(f)) => *f,
            Some(empty) => *empty.insert(static_facts(tax, policy, r)),
            None => static_facts(tax, policy, r),
        };
        if view.blocks_anything() && !f.blocked_now {
            f.blocked_now = view.is_blocked(r.interest)
                || f.purposes.iter().any(|p| view.is_purpose_blocked(p));
        }
        f
    }
}

impl Engine {
    /// Scores, segments and refusals at `now` of the profile that
    /// [`finish`](Self::finish) would build from `base` and `partial`:
    /// equal to the finished profile's
    /// [`scores_by_scan`](Self::scores_by_scan), its segments over those
    /// scores, and its refusal counts, computed without building the event
    /// store when `base` holds no events and the rows hold no erasure and
    /// no dismissal (the usual bulk case), and by finishing otherwise.
    ///
    /// # Errors
    /// [`BulkError::IdMismatch`] if `base` is another person's profile.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{ConsentChange, InterestScores, PartialProfile};
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
    /// assert_eq!(summary.scores, InterestScores::from(&engine.scores_by_scan(&done.profile, now)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn summarize(
        &self,
        base: &Profile,
        partial: &PartialProfile,
        now: OffsetDateTime,
    ) -> Result<Summary, BulkError> {
        let mut rows = Vec::new();
        self.summarize_in(
            base,
            partial,
            now,
            &mut rows,
            &mut Scratch::small(self.taxonomy(), self.policy()),
        )
    }

    /// A [`Summarizer`]: [`summarize`](Self::summarize) for one person after
    /// another, reusing its buffers (what a query engine's final aggregation
    /// wants).
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::PartialProfile;
    /// use tactful::prelude::*;
    /// use time::macros::datetime;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let mut summarizer = engine.summarizer();
    /// for id in ["anna", "ben"] {
    ///     let s = summarizer.summarize(&Profile::new(id), &PartialProfile::new(id), datetime!(2026-11-01 9:00 UTC))?;
    ///     assert!(s.scores.is_empty());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn summarizer(&self) -> Summarizer<'_> {
        Summarizer {
            engine: self,
            rows: Vec::new(),
            scratch: Scratch::new(self.taxonomy(), self.policy()),
        }
    }

    fn summarize_in(
        &self,
        base: &Profile,
        partial: &PartialProfile,
        now: OffsetDateTime,
        rows: &mut Vec<EventRow>,
        scratch: &mut Scratch,
    ) -> Result<Summary, BulkError> {
        if base.id() != partial.id() {
            return Err(BulkError::IdMismatch {
                expected: base.id().clone(),
                found: partial.id().clone(),
            });
        }
        rows.clear();
        rows.extend_from_slice(&partial.rows);
        let others = partial.other_facts();
        let rows = Sorting::Any(rows);
        if let Some(s) = self.summarize_rows(base, rows, &partial.wide, others, now, scratch) {
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
            scores: InterestScores::from(&scores),
            segments,
            refusals: done.profile.refusals().clone(),
            refused_rows: done.refused.len(),
        }
    }

    /// Whether no event's outcome can depend on another event or on the
    /// base's stored data: no stored events, tombstones or orphans, no
    /// erasure, no dismissal, no instant outside i64 nanoseconds, and the
    /// event limit out of reach. (A purge removes events by their instant
    /// alone; see the module docs.)
    fn independent(
        &self,
        base: &Profile,
        rows: &[EventRow],
        wide: &[crate::event::Event],
        others: &[Fact<'_>],
    ) -> bool {
        base.stored_events() == 0
            && base.tombstones().is_empty()
            && base.orphans().is_empty()
            && wide.is_empty()
            && rows.len() <= self.limits().max_events
            && others
                .iter()
                .all(|f| matches!(f, Fact::Consent(_) | Fact::Suppression(_)))
            && rows.iter().all(|r| r.signal != Signal::Dismissal)
    }

    /// Admits each row (in store order) as recording it at its instant
    /// would, counting refusals, and adds the usable ones to the tally.
    /// Returns the number of refused rows.
    fn tally_rows(
        &self,
        rows: &[EventRow],
        view: &View<'_>,
        person: &mut Person<'_>,
        refusals: &mut RefusalCounts,
        scratch: &mut Scratch,
    ) -> Option<usize> {
        let (tax, policy) = (self.taxonomy(), self.policy());
        let mut refused = 0;
        let mut series: Option<(u64, SeriesFacts, Run)> = None;
        let mut last: Option<(u64, i64, u64, Signal)> = None;
        for r in rows {
            let key = store_key(r);
            let (f, run) = match series {
                Some((k, f, run)) if k == key.0 => (f, run),
                _ => {
                    let f = scratch.facts(tax, policy, view, r);
                    let run = person.run(tax, &f)?;
                    series = Some((key.0, f, run));
                    (f, run)
                }
            };
            let verdict = if f.known {
                person.admit(&run, r.at)
            } else {
                Err(RefusalKind::Invalid)
            };
            match verdict {
                Ok(()) if last == Some(key) => {
                    refused += 1;
                    refusals.bump(RefusalKind::Duplicate);
                }
                Ok(()) => {
                    last = Some(key);
                    // Purged later, by a purge after it: not refused, gone.
                    if !r.gift && r.at >= run.purged_before {
                        if let Some(c) = person.usable(policy, &f, &run, r) {
                            // The UTC day: floor(floor(ns / 1e9) / 86,400)
                            // is floor(ns / 86,400e9).
                            let day = r.at.div_euclid(NANOS_PER_DAY);
                            scratch.tally.add(tax, r.interest, c, day);
                        }
                    }
                }
                Err(kind) => {
                    refused += 1;
                    refusals.bump(kind);
                }
            }
        }
        Some(refused)
    }

    /// The summary of one person's rows when no event's outcome can depend
    /// on another event or on the base's stored data (see the module docs);
    /// `None` otherwise, for the caller to finish. `rows` are reordered.
    pub(crate) fn summarize_rows(
        &self,
        base: &Profile,
        rows: Sorting<'_>,
        wide: &[crate::event::Event],
        mut others: Vec<Fact<'_>>,
        now: OffsetDateTime,
        scratch: &mut Scratch,
    ) -> Option<Summary> {
        let (rows, sort): (&mut [EventRow], SortFn) = match rows {
            Sorting::Any(r) => (r, sort_store_order),
            Sorting::Nearly(r) => (r, sort_nearly_store_order),
        };
        if !self.independent(base, rows, wide, &others) {
            return None;
        }
        let now_ns = to_nanos(now)?;
        sort(
            rows,
            &mut scratch.keys,
            &mut scratch.sorted,
            &mut scratch.counts,
        );
        // The interest limit is out of reach if the rows name few enough.
        let mut interests = 0usize;
        let mut last_interest = None;
        for r in rows.iter().filter(|r| !r.gift) {
            interests += usize::from(last_interest != Some(r.interest));
            last_interest = Some(r.interest);
        }
        if interests > self.limits().max_interests {
            return None;
        }

        let mut profile = base.clone();
        let mut refused_rows = 0;
        others.sort_by(cmp_facts);
        let mut purges = Vec::new();
        for f in others {
            let refused = self.apply(&mut profile, f, now).is_some();
            refused_rows += usize::from(refused);
            if let (false, Fact::Suppression(s)) = (refused, f) {
                if s.purges() {
                    purges.push((*s, to_nanos(s.since())?));
                }
            }
        }
        let mut refusals = profile.refusals().clone();
        let view = self.view(&profile, now);
        let mut person = Person::new(&profile, &view, now_ns, purges)?;
        scratch.tally.clear();
        refused_rows += self.tally_rows(rows, &view, &mut person, &mut refusals, scratch)?;
        let tally = &mut scratch.tally;
        let settled = tally.settle(&view);
        let segments = self
            .segment_names_with(&view, &settled)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut entries = Vec::new();
        tally.drain(settled, &mut entries);
        Some(Summary {
            scores: InterestScores { entries },
            segments,
            refusals,
            refused_rows,
        })
    }
}
