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

use crate::decay::{self, Gather, InterestScore, Scores, Tally};
use crate::engine::Engine;
use crate::event::Signal;
use crate::gate::View;
use crate::policy::DecayPolicy;
use crate::profile::{Profile, RefusalCounts, RefusalKind};
use crate::store::to_nanos;
use crate::taxonomy::{InterestId, Taxonomy};

use super::order::{order_interest, same_series, sort_store_order};
use super::partial::{EventRow, PartialProfile};
use super::person::{static_facts, Person, Run, SeriesFacts};
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
        self.engine.summarize_in(
            base,
            partial,
            &mut [],
            now,
            &mut self.rows,
            &mut self.scratch,
        )
    }

    /// [`summarize`](Self::summarize) of `partial` with `rows` added to its
    /// event rows, without building that partial: for a caller that keeps a
    /// group's event rows apart from its other facts, as a query engine's
    /// accumulator does. `rows` may come in any order, and are reordered
    /// (rows sorted by interest are put in the store's order fastest).
    ///
    /// # Errors
    /// As [`Engine::summarize`].
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{EventRow, PartialProfile};
    /// use tactful::prelude::*;
    /// use time::macros::datetime;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let food = engine.taxonomy().require("baby/food")?;
    /// let at = datetime!(2026-11-01 9:00 UTC);
    /// let mut rows = vec![EventRow::new(food, Signal::View, at.unix_timestamp_nanos() as i64)];
    /// let mut base = Profile::new("anna");
    /// base.set_level(Level::FirstParty);
    /// let now = at + time::Duration::days(1);
    ///
    /// let mut summarizer = engine.summarizer();
    /// let apart = summarizer.summarize_with_rows(&base, &PartialProfile::new("anna"), &mut rows, now)?;
    /// let mut whole = PartialProfile::new("anna");
    /// whole.push_row(rows[0]);
    /// assert_eq!(apart, engine.summarize(&base, &whole, now)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn summarize_with_rows(
        &mut self,
        base: &Profile,
        partial: &PartialProfile,
        rows: &mut [EventRow],
        now: OffsetDateTime,
    ) -> Result<Summary, BulkError> {
        self.engine
            .summarize_in(base, partial, rows, now, &mut self.rows, &mut self.scratch)
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

/// Counts a refused row: rare, and kept out of line so that the loop over
/// rows stays small in the instruction cache (a map insertion inlined is
/// not).
#[cold]
#[inline(never)]
fn refuse(refusals: &mut RefusalCounts, kind: RefusalKind) {
    refusals.bump(kind);
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

/// A thread's reusable state: the running totals and the static facts of
/// every (interest, source and context) seen so far.
#[derive(Debug)]
pub(crate) struct Scratch {
    pub(crate) tally: Tally,
    /// A person's usable events in store order.
    hits: Gather<Hit>,
    keys: Vec<u128>,
    sorted: Vec<EventRow>,
    /// One counter per interest (empty for taxonomies over 1,024).
    counts: Vec<u32>,
    facts: FactsCache,
}

impl Scratch {
    /// Without the facts cache: for one profile.
    fn small(tax: &Taxonomy, policy: &DecayPolicy) -> Self {
        Self {
            tally: Tally::new(tax, policy),
            hits: Gather::default(),
            keys: Vec::new(),
            sorted: Vec::new(),
            counts: if tax.len() <= 1024 {
                vec![0; tax.len()]
            } else {
                Vec::new()
            },
            facts: FactsCache::new(0),
        }
    }

    pub(crate) fn new(tax: &Taxonomy, policy: &DecayPolicy) -> Self {
        let slots = tax.len().saturating_mul(9);
        Self {
            tally: Tally::new(tax, policy),
            hits: Gather::default(),
            keys: Vec::new(),
            sorted: Vec::new(),
            counts: if tax.len() <= 1024 {
                vec![0; tax.len()]
            } else {
                Vec::new()
            },
            facts: FactsCache::new(if slots <= 1 << 20 { tax.len() } else { 0 }),
        }
    }
}

/// An admitted event that is usable now: what its contribution needs.
#[derive(Debug, Clone, Copy)]
struct Hit {
    at: i64,
    /// Its weight at age zero: signal weight times own weight.
    weight: f64,
    half_life: f64,
    interest: InterestId,
}

impl Hit {
    /// What fills unused slots.
    const BLANK: Self = Self {
        at: 0,
        weight: 0.0,
        half_life: 1.0,
        interest: InterestId(0),
    };

    #[inline]
    fn new(policy: &DecayPolicy, f: &SeriesFacts, r: &EventRow) -> Self {
        Self {
            at: r.at,
            weight: policy.signal_weights().get(r.signal) * r.weight.get(),
            half_life: f.half_life,
            interest: r.interest,
        }
    }

    /// Its contribution at `now` (ns), at or after its instant.
    #[inline]
    fn contribution(&self, now: i64) -> f64 {
        // At or before now: the difference, wrapped, is the age.
        let age = now.wrapping_sub(self.at) as u64;
        // As `time::Duration::as_seconds_f64` of the age, bit for bit.
        let secs = (age / 1_000_000_000) as f64 + (age % 1_000_000_000) as f64 / 1_000_000_000.0;
        self.weight * (-(secs / self.half_life)).exp2()
    }
}

/// The static facts of every (interest, source and context) met so far.
#[derive(Debug)]
struct FactsCache {
    /// By `class × interests + interest`, for taxonomies small enough to
    /// hold one slot each (about a million slots); otherwise computed each
    /// time into `one`.
    slots: Vec<Option<SeriesFacts>>,
    /// The taxonomy's interests (0 without slots).
    interests: usize,
    one: Option<SeriesFacts>,
    /// The instant (ns) the cached facts are for.
    now: i64,
}

impl FactsCache {
    /// With slots for `interests` interests (none for 0).
    fn new(interests: usize) -> Self {
        Self {
            slots: vec![None; interests.saturating_mul(9)],
            interests,
            one: None,
            now: i64::MIN,
        }
    }

    /// Keeps the facts of `now` (ns), forgetting those of another instant.
    fn at(&mut self, now: i64) {
        if self.now != now {
            self.slots.fill(None);
            self.now = now;
        }
    }

    /// The static facts of `r`'s series (at the instant of [`at`](Self::at)).
    fn get(&mut self, tax: &Taxonomy, policy: &DecayPolicy, r: &EventRow) -> &SeriesFacts {
        // Class-major: the usual class's slots are contiguous, and a
        // person's series come by interest, so their lookups sweep them.
        // An unknown interest has no slot (it would take another class's).
        let slot = if r.interest.index() < self.interests {
            usize::from(r.class) * self.interests + r.interest.index()
        } else {
            usize::MAX
        };
        let now = self.now;
        match self.slots.get_mut(slot) {
            Some(Some(f)) => f,
            Some(empty) => empty.insert(static_facts(tax, policy, r, now)),
            None => self.one.insert(static_facts(tax, policy, r, now)),
        }
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
            &mut [],
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

    /// The summary of `partial` with the event rows `extra` added to its
    /// own (none for a plain `summarize`); `buf` holds both when both have
    /// rows.
    fn summarize_in(
        &self,
        base: &Profile,
        partial: &PartialProfile,
        extra: &mut [EventRow],
        now: OffsetDateTime,
        buf: &mut Vec<EventRow>,
        scratch: &mut Scratch,
    ) -> Result<Summary, BulkError> {
        if base.id() != partial.id() {
            return Err(BulkError::IdMismatch {
                expected: base.id().clone(),
                found: partial.id().clone(),
            });
        }
        let apart = !extra.is_empty();
        let rows: &mut [EventRow] = if partial.rows.is_empty() {
            extra
        } else {
            buf.clear();
            buf.extend_from_slice(&partial.rows);
            buf.extend_from_slice(extra);
            buf
        };
        let by_interest = rows.windows(2).all(|w| match w {
            [a, b] => a.interest <= b.interest,
            _ => true,
        });
        let sorting = if by_interest {
            Sorting::Nearly(rows)
        } else {
            Sorting::Any(rows)
        };
        let others = partial.other_facts();
        if let Some(s) = self.summarize_rows(base, sorting, &partial.wide, others, now, scratch) {
            return Ok(s);
        }
        // Rare (stored events, erasures, dismissals, limits within reach):
        // finish the whole partial.
        let done = if apart {
            let mut whole = partial.clone();
            whole.rows.clear();
            whole.rows.extend_from_slice(rows);
            self.finish(base.clone(), &whole, now)?
        } else {
            self.finish(base.clone(), partial, now)?
        };
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
    /// erasure, no instant outside i64 nanoseconds, and the event limit out
    /// of reach (dismissals and the interest limit are looked for as the
    /// rows are tallied). A purge removes events by their instant alone;
    /// see the module docs.
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
    }

    /// Admits each row of one series (in store order) as recording it at its
    /// instant would, counting refusals, and puts the usable ones in `hits`.
    /// Returns the number of refused rows, or `None` at a dismissal (which
    /// changes what the events after it come to: the caller finishes).
    // Inlined into its one caller: left to itself the compiler kept a
    // call per series (most are one row), 4% more instructions in all.
    #[inline(always)]
    fn tally_series(
        &self,
        person: &Person<'_>,
        f: &SeriesFacts,
        run: &Run,
        series: &[EventRow],
        hits: &mut Gather<Hit>,
        refusals: &mut RefusalCounts,
    ) -> Option<usize> {
        let policy = self.policy();
        let mut refused = 0;
        // The last admitted row's instant, weight and signal: an equal row is
        // a duplicate (neighbours in store order).
        let mut last: Option<(i64, u64, Signal)> = None;
        // Usable there, if the run says so exactly; else asked row by row.
        let (lo, hi) = Person::use_span(f, run);
        for r in series {
            if r.signal == Signal::Dismissal {
                return None;
            }
            let verdict = if f.known {
                person.admit(run, r.at)
            } else {
                Err(RefusalKind::Invalid)
            };
            match verdict {
                Ok(()) => {
                    let this = Some((r.at, r.weight.get().to_bits(), r.signal));
                    if last == this {
                        refused += 1;
                        refuse(refusals, RefusalKind::Duplicate);
                        continue;
                    }
                    last = this;
                    if r.gift {
                        continue;
                    }
                    // Kept or not without a branch: whether an admitted row
                    // is usable (not too old, mostly) is a coin toss.
                    let hit = Hit::new(policy, f, r);
                    let usable = (lo <= r.at) & (r.at <= hi);
                    hits.put(hit, usable);
                    // Purged later, by a purge after it: not refused, gone.
                    if !usable
                        && !run.use_exact
                        && r.at >= run.purged_before
                        && person.usable(f, run, r)
                    {
                        hits.put(hit, true);
                    }
                }
                Err(kind) => {
                    refused += 1;
                    refuse(refusals, kind);
                }
            }
        }
        Some(refused)
    }

    /// Admits each row (sorted by interest, and put in store order here)
    /// as recording it at its instant would, counting refusals, and puts
    /// the usable ones in the scratch's hits.
    /// Returns the number of refused rows, or `None` if the rows turn out
    /// not to be independent after all: a dismissal among them, or more
    /// interests than the limit (the caller then finishes the profile).
    fn tally_rows(
        &self,
        rows: &mut [EventRow],
        view: &View<'_>,
        person: &mut Person<'_>,
        refusals: &mut RefusalCounts,
        scratch: &mut Scratch,
    ) -> Option<usize> {
        let (tax, policy) = (self.taxonomy(), self.policy());
        let Scratch {
            hits, facts: cache, ..
        } = scratch;
        // Each row is kept once at most.
        hits.reset(rows.len(), Hit::BLANK);
        let mut refused = 0;
        // Interests of the rows other than gifts (rows in store order
        // come by interest): the interest limit is out of reach while
        // they are few enough.
        let (mut interests, mut last_interest) = (0usize, None);
        let max_interests = self.limits().max_interests;
        // Known interests are all a profile can store events of: with no
        // more of them than the limit, it is out of reach.
        let counting = max_interests < tax.len();
        let blocks = view.blocks_anything();
        // A plain person's series of one shape come to one run: the last
        // run worked out and its shape.
        let plain = person.plain();
        let (mut run, mut shape) = (None, None);
        // One interest at a time, put in store order; in it, one series
        // (class, gift) at a time, worked out once.
        for group in rows.chunk_by_mut(|a, b| a.interest == b.interest) {
            if group.len() > 1 {
                order_interest(group);
            }
            for series in group.chunk_by(same_series) {
                let first = series.first()?;
                if counting && !first.gift && last_interest != Some(first.interest) {
                    last_interest = Some(first.interest);
                    interests += 1;
                    if interests > max_interests {
                        return None;
                    }
                }
                let f = cache.get(tax, policy, first);
                let blocked = f.blocked_now
                    || (blocks
                        && (view.is_blocked(first.interest)
                            || f.purposes.iter().any(|p| view.is_purpose_blocked(p))));
                let s = f.shape(blocked);
                if !(plain && shape == Some(s)) {
                    run = Some(person.run(tax, f, blocked)?);
                    shape = Some(s);
                }
                let run = run.as_ref()?;
                refused += self.tally_series(person, f, run, series, hits, refusals)?;
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
        let (rows, sorted) = match rows {
            Sorting::Any(r) => (r, false),
            Sorting::Nearly(r) => (r, true),
        };
        if !self.independent(base, rows, wide, &others) {
            return None;
        }
        let now_ns = to_nanos(now)?;
        // Sorted by interest, each interest's rows are put in store order
        // as they are tallied.
        if !sorted {
            sort_store_order(
                rows,
                &mut scratch.keys,
                &mut scratch.sorted,
                &mut scratch.counts,
            );
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
        scratch.facts.at(now_ns);
        refused_rows += self.tally_rows(rows, &view, &mut person, &mut refusals, scratch)?;
        let tally = &mut scratch.tally;
        for h in scratch.hits.kept() {
            let c = h.contribution(now_ns);
            // The UTC day: floor(floor(ns / 1e9) / 86,400) is
            // floor(ns / 86,400e9).
            tally.add(
                self.taxonomy(),
                h.interest,
                c,
                h.at.div_euclid(NANOS_PER_DAY),
            );
        }
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
