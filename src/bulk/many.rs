//! Many people at once: rows grouped per person, people finished or
//! summarized on several threads.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use crate::engine::Engine;
use crate::profile::{Profile, ProfileId};

use super::buckets::{on_threads, Buckets, Sorted};
use super::fast::{Scratch, Sorting, Summary};
use super::partial::{EventRow, PartialProfile};
use super::replay::{Fact, Finished};
use super::rows::Rows;
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
            let Some(slot) = start.get_mut(p as usize + 1) else {
                return Err(BulkError::UnknownPerson {
                    what,
                    row,
                    person: p,
                    people,
                });
            };
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

/// Every kind of row grouped by person.
#[derive(Debug)]
struct Grouped<'a> {
    rows: Rows<'a>,
    events: Buckets,
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
            events: Buckets::new(people, &rows.events, threads)?,
            consents: Groups::new(people, rows.consents.iter().map(|r| r.0), "consent change")?,
            suppressions: Groups::new(
                people,
                rows.suppressions.iter().map(|r| r.0),
                "suppression",
            )?,
            erasures: Groups::new(people, rows.erasures.iter().map(|r| r.0), "erasure")?,
        })
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

    /// The rows of one person, whose event rows are `rows`.
    fn partial(&self, person: usize, id: &ProfileId, rows: &[EventRow]) -> PartialProfile {
        let mut p = PartialProfile::new(id.clone());
        p.rows.extend_from_slice(rows);
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
        p
    }
}

/// Runs `f` for every person (with their event rows, to reorder at will) on
/// up to `threads` threads, each with its own `state` (reused buffers);
/// results in person order. Each person's rows come in row order, or with
/// `interests` > 0 sorted by interest (see [`Sorted::fill`]).
///
/// Threads take the next bucket when done with one, so a thread given the
/// costlier people (those who need the full replay, say) does not hold the
/// others up at the end. The answer, and the error, are those of one
/// thread: on an error in bucket `b` no thread takes a bucket after `b`,
/// every bucket before it is finished, and the error of the first bucket
/// that failed is returned.
fn run<T: Send, S>(
    g: &Grouped<'_>,
    threads: NonZeroUsize,
    interests: usize,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize, &mut [EventRow]) -> Result<T, BulkError> + Sync,
) -> Result<Vec<T>, BulkError> {
    let buckets = g.events.buckets();
    let next = AtomicUsize::new(0);
    // The first bucket that failed (`usize::MAX` while none has).
    let failed = AtomicUsize::new(usize::MAX);
    let (state, f, next, failed) = (&state, &f, &next, &failed);
    let one = move |_: usize| {
        let (mut s, mut sorted) = (state(), Sorted::default());
        let mut done: Vec<(usize, Result<Vec<T>, BulkError>)> = Vec::new();
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            if b >= buckets || b > failed.load(Ordering::Relaxed) {
                break;
            }
            sorted.fill(&g.events, b, interests);
            let answer: Result<Vec<T>, BulkError> = g
                .events
                .people_of(b)
                .map(|i| f(&mut s, i, sorted.rows_mut(i)))
                .collect();
            let stop = answer.is_err();
            done.push((b, answer));
            if stop {
                failed.fetch_min(b, Ordering::Relaxed);
                break;
            }
        }
        Ok(done)
    };
    let workers = threads.get().min(buckets).max(1);
    let mut done: Vec<(usize, Result<Vec<T>, BulkError>)> =
        on_threads((0..workers).collect(), one)?
            .into_iter()
            .flatten()
            .collect();
    done.sort_unstable_by_key(|d| d.0);
    let mut out = Vec::with_capacity(g.events.people());
    for (_, part) in done {
        out.append(&mut part?);
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
    /// range, an invalid weight or an interest key past its dictionary.
    pub fn partials(
        &self,
        ids: &[ProfileId],
        rows: Rows<'_>,
    ) -> Result<Vec<PartialProfile>, BulkError> {
        let g = Grouped::new(rows, ids.len(), NonZeroUsize::MIN)?;
        run(
            &g,
            NonZeroUsize::MIN,
            0,
            || (),
            |(), i, events| {
                let id = ids.get(i).ok_or(BulkError::WorkerPanicked)?;
                Ok(g.partial(i, id, events))
            },
        )
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
        let state = || (Vec::new(), Scratch::new(self.taxonomy(), self.policy()));
        // Each person's rows sorted by interest: nearly the store order.
        let interests = self.taxonomy().len();
        run(
            &g,
            threads,
            interests,
            state,
            |(wide, scratch), i, events| {
                let base = bases.get(i).ok_or(BulkError::WorkerPanicked)?;
                wide.clear();
                wide.extend(g.events.wide(i));
                let others = g.other_facts(i);
                let rows = Sorting::Nearly(events);
                if let Some(s) = self.summarize_rows(base, rows, wide, others, now, scratch) {
                    return Ok(s);
                }
                let partial = g.partial(i, base.id(), events);
                let done = self.finish(base.clone(), &partial, now)?;
                Ok(self.summary_of(&done, now))
            },
        )
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
        let slots: Vec<std::sync::Mutex<Option<Profile>>> = bases
            .into_iter()
            .map(|b| std::sync::Mutex::new(Some(b)))
            .collect();
        run(
            &g,
            threads,
            0,
            || (),
            |(), i, events| {
                let base = slots
                    .get(i)
                    .and_then(|m| m.lock().ok().and_then(|mut b| b.take()))
                    .ok_or(BulkError::WorkerPanicked)?;
                let partial = g.partial(i, base.id(), events);
                self.finish(base, &partial, now)
            },
        )
    }
}
