//! Many people at once: rows grouped per person, people finished or
//! summarized on several threads.

use std::num::NonZeroUsize;

use time::OffsetDateTime;

use crate::engine::Engine;
use crate::profile::{Profile, ProfileId};

use super::fast::Summary;
use super::partial::PartialProfile;
use super::replay::Finished;
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
    fn new(
        people: usize,
        persons: impl Iterator<Item = u32> + Clone,
        what: &'static str,
    ) -> Result<Self, BulkError> {
        let mut start = vec![0usize; people + 1];
        for (row, p) in persons.clone().enumerate() {
            let slot = start
                .get_mut(p as usize + 1)
                .ok_or(BulkError::UnknownPerson { what, row, person: p, people })?;
            *slot += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut next = start.clone();
        let mut order = vec![0u32; start[people]];
        for (row, p) in persons.enumerate() {
            let at = &mut next[p as usize];
            order[*at] = row as u32;
            *at += 1;
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
    events: Groups,
    consents: Groups,
    suppressions: Groups,
    erasures: Groups,
}

impl<'a> Grouped<'a> {
    fn new(rows: Rows<'a>, people: usize) -> Result<Self, BulkError> {
        if u32::try_from(rows.events.len()).is_err() {
            return Err(BulkError::TooManyRows { rows: rows.events.len() });
        }
        Ok(Self {
            rows,
            events: Groups::new(people, rows.events.persons().iter().copied(), "event")?,
            consents: Groups::new(people, rows.consents.iter().map(|r| r.0), "consent change")?,
            suppressions: Groups::new(people, rows.suppressions.iter().map(|r| r.0), "suppression")?,
            erasures: Groups::new(people, rows.erasures.iter().map(|r| r.0), "erasure")?,
        })
    }

    /// The rows of one person.
    fn partial(&self, person: usize, id: &ProfileId) -> Result<PartialProfile, BulkError> {
        let mut p = PartialProfile::new(id.clone());
        let ev = self.events.rows(person);
        p.rows.reserve_exact(ev.len());
        for &row in ev {
            match self.rows.events.row(row as usize)? {
                Ok(r) => p.rows.push(r),
                Err(e) => p.wide.push(e),
            }
        }
        let pick = |g: &Groups| g.rows(person).iter().map(|&r| r as usize).collect::<Vec<_>>();
        p.consents.extend(pick(&self.consents).into_iter().filter_map(|r| self.rows.consents.get(r)).map(|r| r.1.clone()));
        p.suppressions.extend(pick(&self.suppressions).into_iter().filter_map(|r| self.rows.suppressions.get(r)).map(|r| r.1));
        p.erasures.extend(pick(&self.erasures).into_iter().filter_map(|r| self.rows.erasures.get(r)).map(|r| r.1));
        Ok(p)
    }
}

/// Splits `0..people` into at most `threads` ranges of about equal work.
fn chunks(g: &Grouped<'_>, people: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let total = g.events.order.len() + people;
    let per = total.div_ceil(threads.max(1)).max(1);
    let mut out = Vec::with_capacity(threads);
    let mut from = 0;
    let mut work = 0;
    for p in 0..people {
        work += g.events.rows(p).len() + 1;
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

/// Runs `f` for every person on up to `threads` threads; results in person
/// order.
fn run<T: Send>(
    g: &Grouped<'_>,
    people: usize,
    threads: NonZeroUsize,
    f: impl Fn(usize) -> Result<T, BulkError> + Sync,
) -> Result<Vec<T>, BulkError> {
    let ranges = chunks(g, people, threads.get());
    if ranges.len() <= 1 {
        return (0..people).map(&f).collect();
    }
    let f = &f;
    let parts: Vec<Result<Vec<T>, BulkError>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|r| s.spawn(move || r.map(f).collect::<Result<Vec<T>, BulkError>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(BulkError::WorkerPanicked)))
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
    pub fn partials(&self, ids: &[ProfileId], rows: Rows<'_>) -> Result<Vec<PartialProfile>, BulkError> {
        let g = Grouped::new(rows, ids.len())?;
        ids.iter().enumerate().map(|(i, id)| g.partial(i, id)).collect()
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
        let g = Grouped::new(rows, bases.len())?;
        run(&g, bases.len(), threads, |i| {
            let base = bases.get(i).ok_or(BulkError::WorkerPanicked)?;
            let partial = g.partial(i, base.id())?;
            self.summarize(base, &partial, now)
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
        let g = Grouped::new(rows, bases.len())?;
        let people = bases.len();
        let slots: Vec<std::sync::Mutex<Option<Profile>>> =
            bases.into_iter().map(|b| std::sync::Mutex::new(Some(b))).collect();
        run(&g, people, threads, |i| {
            let base = slots
                .get(i)
                .and_then(|m| m.lock().ok().and_then(|mut b| b.take()))
                .ok_or(BulkError::WorkerPanicked)?;
            let partial = g.partial(i, base.id())?;
            self.finish(base, &partial, now)
        })
    }
}
