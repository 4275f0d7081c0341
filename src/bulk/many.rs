//! Many people at once: rows grouped per person, people finished or
//! summarized on several threads.

use std::num::NonZeroUsize;

use time::OffsetDateTime;

use crate::engine::Engine;
use crate::event::{Event, Signal};
use crate::profile::{Profile, ProfileId};
use crate::taxonomy::InterestId;

use super::fast::{Scratch, Summary};
use super::partial::{EventRow, PartialProfile};
use super::replay::{Fact, Finished};
use super::rows::{EventRows, Rows};
use super::BulkError;

/// Row indices grouped by person (a counting sort: two passes, no
/// comparison): the rows of person `p` are `order[start[p]..start[p + 1]]`,
/// in their original order.
#[derive(Debug)]
struct Groups {
    start: Vec<usize>,
    order: Vec<u32>,
}

impl Groups {
    /// Prefix sums of the rows per person: person `p`'s rows go to
    /// `counts[p]..counts[p + 1]`.
    fn counts(
        people: usize,
        persons: impl Iterator<Item = u32>,
        what: &'static str,
    ) -> Result<Vec<usize>, BulkError> {
        let mut start = vec![0usize; people + 1];
        for (row, p) in persons.enumerate() {
            let slot = start
                .get_mut(p as usize + 1)
                .ok_or(BulkError::UnknownPerson {
                    what,
                    row,
                    person: p,
                    people,
                })?;
            *slot += 1;
        }
        let mut acc = 0;
        for c in start.iter_mut() {
            acc += *c;
            *c = acc;
        }
        Ok(start)
    }

    fn new(
        people: usize,
        persons: impl Iterator<Item = u32> + Clone,
        what: &'static str,
    ) -> Result<Self, BulkError> {
        let start = Self::counts(people, persons.clone(), what)?;
        let mut next = start.clone();
        let mut order = vec![0u32; start.last().copied().unwrap_or(0)];
        for (row, p) in persons.enumerate() {
            if let Some(at) = next.get_mut(p as usize) {
                if let Some(slot) = order.get_mut(*at) {
                    *slot = row as u32;
                }
                *at += 1;
            }
        }
        Ok(Self { start, order })
    }

    fn rows(&self, person: usize) -> &[u32] {
        match (self.start.get(person), self.start.get(person + 1)) {
            (Some(&a), Some(&b)) => self.order.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Event rows grouped by person in their compact form: one sequential pass
/// over the columns scatters each row to its person's slot, so that each
/// person's rows are read from one place afterwards. With several threads,
/// each groups a contiguous share of the rows (a person's rows are then the
/// shares' slices, in row order).
#[derive(Debug)]
struct EventGroups {
    parts: Vec<EventPart>,
}

#[derive(Debug)]
struct EventPart {
    /// Person `p`'s rows are `rows[start[p]..start[p + 1]]`.
    start: Vec<usize>,
    rows: Vec<EventRow>,
    /// Rows with instants outside i64 nanoseconds, by person.
    wide: Vec<(u32, Event)>,
}

impl EventPart {
    fn new(
        people: usize,
        events: &EventRows<'_>,
        range: std::ops::Range<usize>,
    ) -> Result<Self, BulkError> {
        let persons = events.persons().get(range.clone()).unwrap_or(&[]);
        let mut start = vec![0usize; people + 1];
        for (i, &p) in persons.iter().enumerate() {
            let slot = start
                .get_mut(p as usize + 1)
                .ok_or(BulkError::UnknownPerson {
                    what: "event",
                    row: range.start + i,
                    person: p,
                    people,
                })?;
            *slot += 1;
        }
        let mut acc = 0;
        for c in start.iter_mut() {
            acc += *c;
            *c = acc;
        }
        let mut next = start.clone();
        let mut rows = vec![EventRow::new(InterestId(0), Signal::View, 0); persons.len()];
        let mut wide = Vec::new();
        for (i, &p) in persons.iter().enumerate() {
            match events.row(range.start + i)? {
                Ok(r) => {
                    let at = next.get_mut(p as usize).ok_or(BulkError::WorkerPanicked)?;
                    if let Some(slot) = rows.get_mut(*at) {
                        *slot = r;
                    }
                    *at += 1;
                }
                Err(e) => wide.push((p, e)),
            }
        }
        // Wide rows left their slots empty: close the gaps person by person.
        if !wide.is_empty() {
            let mut packed = Vec::with_capacity(rows.len() - wide.len());
            let mut new_start = vec![0usize; people + 1];
            for ((&a, &b), end) in start.iter().zip(&next).zip(new_start.iter_mut().skip(1)) {
                packed.extend_from_slice(rows.get(a..b).unwrap_or(&[]));
                *end = packed.len();
            }
            rows = packed;
            start = new_start;
            wide.sort_by_key(|w| w.0);
        }
        Ok(Self { start, rows, wide })
    }

    fn rows(&self, person: usize) -> &[EventRow] {
        match (self.start.get(person), self.start.get(person + 1)) {
            (Some(&a), Some(&b)) => self.rows.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn wide(&self, person: usize) -> impl Iterator<Item = Event> + '_ {
        let p = person as u32;
        let lo = self.wide.partition_point(|w| w.0 < p);
        self.wide
            .get(lo..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |w| w.0 == p)
            .map(|w| w.1)
    }
}

impl EventGroups {
    fn new(
        people: usize,
        events: &EventRows<'_>,
        threads: NonZeroUsize,
    ) -> Result<Self, BulkError> {
        let n = events.len();
        // Below this, one thread groups faster than two start.
        let parts = if n < 1 << 12 { 1 } else { threads.get().min(n) };
        if parts <= 1 {
            return Ok(Self {
                parts: vec![EventPart::new(people, events, 0..n)?],
            });
        }
        let per = n.div_ceil(parts);
        let built: Vec<Result<EventPart, BulkError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..parts)
                .map(|t| {
                    let range = (t * per).min(n)..((t + 1) * per).min(n);
                    s.spawn(move || EventPart::new(people, events, range))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(BulkError::WorkerPanicked)))
                .collect()
        });
        Ok(Self {
            parts: built.into_iter().collect::<Result<_, _>>()?,
        })
    }

    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.rows.len() + p.wide.len()).sum()
    }

    fn count(&self, person: usize) -> usize {
        self.parts.iter().map(|p| p.rows(person).len()).sum()
    }

    fn rows(&self, person: usize) -> impl Iterator<Item = &[EventRow]> + '_ {
        self.parts.iter().map(move |p| p.rows(person))
    }

    fn wide(&self, person: usize) -> impl Iterator<Item = Event> + '_ {
        self.parts.iter().flat_map(move |p| p.wide(person))
    }
}

/// Every kind of row grouped by person.
#[derive(Debug)]
struct Grouped<'a> {
    rows: Rows<'a>,
    events: EventGroups,
    consents: Groups,
    suppressions: Groups,
    erasures: Groups,
}

impl<'a> Grouped<'a> {
    fn new(rows: Rows<'a>, people: usize, threads: NonZeroUsize) -> Result<Self, BulkError> {
        if u32::try_from(rows.events.len()).is_err() {
            return Err(BulkError::TooManyRows {
                rows: rows.events.len(),
            });
        }
        Ok(Self {
            rows,
            events: EventGroups::new(people, &rows.events, threads)?,
            consents: Groups::new(people, rows.consents.iter().map(|r| r.0), "consent change")?,
            suppressions: Groups::new(
                people,
                rows.suppressions.iter().map(|r| r.0),
                "suppression",
            )?,
            erasures: Groups::new(people, rows.erasures.iter().map(|r| r.0), "erasure")?,
        })
    }

    /// The event rows of one person into `buf` (and `wide`).
    fn fill_rows(
        &self,
        person: usize,
        buf: &mut Vec<EventRow>,
        wide: &mut Vec<Event>,
    ) -> Result<(), BulkError> {
        buf.clear();
        for part in self.events.rows(person) {
            buf.extend_from_slice(part);
        }
        wide.clear();
        wide.extend(self.events.wide(person));
        Ok(())
    }

    /// The consent changes, suppressions and erasures of one person.
    fn other_facts(&self, person: usize) -> Vec<Fact<'a>> {
        let mut f = Vec::new();
        f.extend(
            self.consents
                .rows(person)
                .iter()
                .filter_map(|&r| self.rows.consents.get(r as usize))
                .map(|r| Fact::Consent(&r.1)),
        );
        f.extend(
            self.suppressions
                .rows(person)
                .iter()
                .filter_map(|&r| self.rows.suppressions.get(r as usize))
                .map(|r| Fact::Suppression(&r.1)),
        );
        f.extend(
            self.erasures
                .rows(person)
                .iter()
                .filter_map(|&r| self.rows.erasures.get(r as usize))
                .map(|r| Fact::Erasure(&r.1)),
        );
        f
    }

    /// The rows of one person.
    fn partial(&self, person: usize, id: &ProfileId) -> Result<PartialProfile, BulkError> {
        let mut p = PartialProfile::new(id.clone());
        for part in self.events.rows(person) {
            p.rows.extend_from_slice(part);
        }
        p.wide.extend(self.events.wide(person));
        let pick = |g: &Groups| {
            g.rows(person)
                .iter()
                .map(|&r| r as usize)
                .collect::<Vec<_>>()
        };
        p.consents.extend(
            pick(&self.consents)
                .into_iter()
                .filter_map(|r| self.rows.consents.get(r))
                .map(|r| r.1.clone()),
        );
        p.suppressions.extend(
            pick(&self.suppressions)
                .into_iter()
                .filter_map(|r| self.rows.suppressions.get(r))
                .map(|r| r.1),
        );
        p.erasures.extend(
            pick(&self.erasures)
                .into_iter()
                .filter_map(|r| self.rows.erasures.get(r))
                .map(|r| r.1),
        );
        Ok(p)
    }
}

/// Splits `0..people` into at most `threads` ranges of about equal work.
fn chunks(g: &Grouped<'_>, people: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let total = g.events.len() + people;
    let per = total.div_ceil(threads.max(1)).max(1);
    let mut out = Vec::with_capacity(threads);
    let mut from = 0;
    let mut work = 0;
    for p in 0..people {
        work += g.events.count(p) + 1;
        if work >= per {
            out.push(from..p + 1);
            from = p + 1;
            work = 0;
        }
    }
    if from < people {
        out.push(from..people);
    }
    out
}

/// Runs `f` for every person on up to `threads` threads, each with its own
/// `state` (reused buffers); results in person order.
fn run<T: Send, S>(
    g: &Grouped<'_>,
    people: usize,
    threads: NonZeroUsize,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize) -> Result<T, BulkError> + Sync,
) -> Result<Vec<T>, BulkError> {
    let ranges = chunks(g, people, threads.get());
    let (state, f) = (&state, &f);
    let one = move |r: std::ops::Range<usize>| {
        let mut s = state();
        r.map(|i| f(&mut s, i))
            .collect::<Result<Vec<T>, BulkError>>()
    };
    if ranges.len() <= 1 {
        return one(0..people);
    }
    let parts: Vec<Result<Vec<T>, BulkError>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|r| s.spawn(move || one(r)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(BulkError::WorkerPanicked)))
            .collect()
    });
    let mut out = Vec::with_capacity(people);
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

impl Engine {
    /// Groups `rows` into the partial profiles of the people `ids` (row
    /// person `i` is `ids[i]`), in the order of `ids`.
    ///
    /// # Errors
    /// [`BulkError::UnknownPerson`] for a row of a person index past `ids`,
    /// [`BulkError::InvalidRow`] for an event row with an instant out of
    /// range or an invalid weight.
    pub fn partials(
        &self,
        ids: &[ProfileId],
        rows: Rows<'_>,
    ) -> Result<Vec<PartialProfile>, BulkError> {
        let g = Grouped::new(rows, ids.len(), NonZeroUsize::MIN)?;
        ids.iter()
            .enumerate()
            .map(|(i, id)| g.partial(i, id))
            .collect()
    }

    /// [`summarize`](Self::summarize) for many people: `bases[i]` is person
    /// `i`'s stored profile (or a new one with their level), `rows` the
    /// rows of everyone in any order. Runs on up to `threads` threads;
    /// the answer is the same for any number.
    ///
    /// # Errors
    /// As [`partials`](Self::partials).
    ///
    /// # Examples
    /// ```
    /// use std::num::NonZeroUsize;
    /// use tactful::bulk::{ConsentChange, EventRows, Rows, TimeUnit};
    /// use tactful::prelude::*;
    /// use tactful::RefusalKind;
    /// use time::macros::datetime;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let food = engine.taxonomy().require("baby/food")?;
    /// let people: Vec<Profile> = ["anna", "ben"].into_iter().map(|id| {
    ///     let mut p = Profile::new(id);
    ///     p.set_level(Level::FirstParty);
    ///     p
    /// }).collect();
    /// let t0 = datetime!(2023-11-01 0:00 UTC);
    /// // Only anna consented; ben's events are refused, and counted.
    /// let consents = [(0, ConsentChange::grant(Purpose::Personalization, t0, None, Evidence::Import("crm".into())))];
    /// let person = [0, 1, 0, 0, 1];
    /// let interest = [food; 5];
    /// let day = 86_400;
    /// let t = t0.unix_timestamp();
    /// let at = [t + day, t + day, t + 2 * day, t + 3 * day, t + 4 * day];
    /// let weight = [1.0; 5];
    /// let rows = Rows { consents: &consents, ..Rows::events(EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &weight)?) };
    /// let two = NonZeroUsize::new(2).unwrap();
    /// let summaries = engine.summarize_all(&people, rows, t0 + time::Duration::days(5), two)?;
    /// assert!(summaries[0].scores.is_established(food));
    /// assert_eq!(summaries[1].refusals.get(RefusalKind::NoConsent), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn summarize_all(
        &self,
        bases: &[Profile],
        rows: Rows<'_>,
        now: OffsetDateTime,
        threads: NonZeroUsize,
    ) -> Result<Vec<Summary>, BulkError> {
        let g = Grouped::new(rows, bases.len(), threads)?;
        let state = || (Vec::new(), Vec::new(), Scratch::new(self.taxonomy()));
        run(&g, bases.len(), threads, state, |(buf, wide, tally), i| {
            let base = bases.get(i).ok_or(BulkError::WorkerPanicked)?;
            g.fill_rows(i, buf, wide)?;
            if let Some(s) = self.summarize_rows(base, buf, wide, g.other_facts(i), now, tally) {
                return Ok(s);
            }
            let partial = g.partial(i, base.id())?;
            let done = self.finish(base.clone(), &partial, now)?;
            Ok(self.summary_of(&done, now))
        })
    }

    /// [`finish`](Self::finish) for many people, as
    /// [`summarize_all`](Self::summarize_all) takes them: the finished
    /// profiles in the order of `bases`.
    ///
    /// # Errors
    /// As [`partials`](Self::partials).
    pub fn finish_all(
        &self,
        bases: Vec<Profile>,
        rows: Rows<'_>,
        now: OffsetDateTime,
        threads: NonZeroUsize,
    ) -> Result<Vec<Finished>, BulkError> {
        let g = Grouped::new(rows, bases.len(), threads)?;
        let people = bases.len();
        let slots: Vec<std::sync::Mutex<Option<Profile>>> = bases
            .into_iter()
            .map(|b| std::sync::Mutex::new(Some(b)))
            .collect();
        run(
            &g,
            people,
            threads,
            || (),
            |(), i| {
                let base = slots
                    .get(i)
                    .and_then(|m| m.lock().ok().and_then(|mut b| b.take()))
                    .ok_or(BulkError::WorkerPanicked)?;
                let partial = g.partial(i, base.id())?;
                self.finish(base, &partial, now)
            },
        )
    }
}
