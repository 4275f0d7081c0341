//! Event rows grouped by person in two cache-friendly passes.
//!
//! Scattering ten million rows straight to a hundred thousand people writes
//! to a hundred thousand places at once: nearly every write misses the
//! cache and the address translation buffer. Here the rows go first to a
//! few hundred buckets of consecutive people (a few hundred write streams,
//! which the caches hold), and each bucket, small enough to stay in cache,
//! is then sorted by person just before its people are worked on.

use std::num::NonZeroUsize;
use std::ops::Range;

use crate::event::{Event, Signal, Weight};
use crate::taxonomy::InterestId;

use super::partial::EventRow;
use super::rows::EventRows;
use super::BulkError;

/// About this many rows per bucket (up to twice as many, as people per
/// bucket are a power of two): a bucket, its copy sorted by interest and
/// its rows sorted by person (24 bytes a row each) fit a core's
/// second-level cache. Under cachegrind with a 1 MiB second-level cache,
/// 1 << 14 missed it a third more often than this.
const ROWS_PER_BUCKET: usize = 1 << 13;

/// At most this many buckets: more write streams than the caches hold.
const MAX_BUCKETS: usize = 2048;

/// Below this many rows one thread groups faster than two start.
const PARALLEL_ROWS: usize = 1 << 12;

/// A row and its person's place in the bucket, in 24 bytes (a row and a
/// person index would take 32): the scatter writes every row once, so its
/// size is most of the grouping's memory traffic.
#[derive(Debug, Clone, Copy)]
struct Tagged {
    at: i64,
    weight: Weight,
    interest: InterestId,
    /// The person's index within the bucket (buckets hold at most 2^16).
    local: u16,
    signal: Signal,
    /// The row's class, shifted left by one, and whether it is a gift.
    flags: u8,
}

impl Tagged {
    fn new(local: u16, r: EventRow) -> Self {
        Self {
            at: r.at,
            weight: r.weight,
            interest: r.interest,
            local,
            signal: r.signal,
            flags: (r.class << 1) | u8::from(r.gift),
        }
    }

    fn row(self) -> EventRow {
        EventRow {
            at: self.at,
            weight: self.weight,
            interest: self.interest,
            signal: self.signal,
            class: self.flags >> 1,
            gift: self.flags & 1 == 1,
        }
    }
}

/// The most people in a bucket: a person's place in it fits a `u16`.
const MAX_PER_BUCKET: usize = 1 << 16;

/// An event too wide for the compact form and the index of its person.
type Wide = (u32, Event);

/// Event rows in buckets of consecutive people, each bucket in row order.
#[derive(Debug)]
pub(super) struct Buckets {
    people: usize,
    /// People per bucket, a power of two: bucket `b` holds people
    /// `b << shift..(b + 1) << shift`.
    shift: u32,
    buckets: usize,
    /// Bucket `b`'s rows are `parts[0][b]`, then `parts[1][b]`, and so on:
    /// each part of the rows, in row order, scattered by its own thread.
    parts: Vec<Vec<Vec<Tagged>>>,
    /// Rows whose instant does not fit i64 nanoseconds, by person, each
    /// person's in row order.
    wide: Vec<Wide>,
}

/// Runs `f` on every range on its own thread (on this one if there is only
/// one), results in range order.
pub(super) fn on_threads<T: Send, R: Send>(
    work: Vec<R>,
    f: impl Fn(R) -> Result<T, BulkError> + Sync,
) -> Result<Vec<T>, BulkError> {
    if work.len() <= 1 {
        return work.into_iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = work.into_iter().map(|w| s.spawn(move || f(w))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(BulkError::WorkerPanicked)))
            .collect()
    })
}

impl Buckets {
    /// Groups `events` of `people` people on up to `threads` threads.
    ///
    /// # Errors
    /// The same whatever the threads: first the first row (in row order)
    /// with a person index past `people` ([`BulkError::UnknownPerson`]) or
    /// an instant out of range ([`BulkError::InvalidRow`]); then the first
    /// row with an invalid weight or an interest key past its dictionary.
    pub(super) fn new(
        people: usize,
        events: &EventRows<'_>,
        threads: NonZeroUsize,
    ) -> Result<Self, BulkError> {
        let n = events.len();
        let wanted = (n / ROWS_PER_BUCKET).clamp(1, MAX_BUCKETS);
        // A power of two, so that a row's bucket is a shift, not a division.
        let per = people
            .div_ceil(wanted)
            .max(1)
            .next_power_of_two()
            .min(MAX_PER_BUCKET);
        let shift = per.trailing_zeros();
        let buckets = people.div_ceil(per);
        let parts = if n < PARALLEL_ROWS {
            1
        } else {
            threads.get().min(n)
        };
        let share = n.div_ceil(parts).max(1);
        let ranges: Vec<Range<usize>> = (0..parts)
            .map(|t| (t * share).min(n)..((t + 1) * share).min(n))
            .collect();

        // Counting: rows per bucket and part; every person checked, the
        // wide rows taken aside.
        let counted = on_threads(ranges.clone(), |range| {
            count(people, shift, buckets, events, range)
        })?;
        // Scattering: each part fills its own buckets, sized by the counts
        // (so nothing is written twice), and keeps the row order.
        let (counts, wide): (Vec<_>, Vec<_>) = counted.into_iter().unzip();
        let parts = on_threads(
            ranges.into_iter().zip(counts).collect(),
            |(range, counts)| scatter(shift, events, range, &counts),
        )?;
        let mut wide: Vec<Wide> = wide.into_iter().flatten().collect();
        wide.sort_by_key(|w| w.0);
        Ok(Self {
            people,
            shift,
            buckets,
            parts,
            wide,
        })
    }

    /// The number of buckets.
    pub(super) fn buckets(&self) -> usize {
        self.buckets
    }

    /// The people of bucket `b`.
    pub(super) fn people_of(&self, b: usize) -> Range<usize> {
        let lo = b.checked_shl(self.shift).unwrap_or(usize::MAX);
        let hi = (b + 1).checked_shl(self.shift).unwrap_or(usize::MAX);
        lo.min(self.people)..hi.min(self.people)
    }

    /// The rows of bucket `b`, in row order: one slice per part (a loop
    /// over each slice is leaner than one chained iterator).
    fn bucket(&self, b: usize) -> impl Iterator<Item = &[Tagged]> + Clone + '_ {
        self.parts
            .iter()
            .map(move |p| p.get(b).map_or(&[][..], Vec::as_slice))
    }

    /// The number of people.
    pub(super) fn people(&self) -> usize {
        self.people
    }

    /// The wide rows of person `person`, in row order.
    pub(super) fn wide(&self, person: usize) -> impl Iterator<Item = Event> + '_ {
        let p = u32::try_from(person).unwrap_or(u32::MAX);
        let lo = self.wide.partition_point(|w| w.0 < p);
        self.wide
            .get(lo..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |w| w.0 == p)
            .map(|w| w.1)
    }
}

/// Rows per bucket of `range`, checking every person index, and the rows of
/// `range` too wide for the compact form.
fn count(
    people: usize,
    shift: u32,
    buckets: usize,
    events: &EventRows<'_>,
    range: Range<usize>,
) -> Result<(Vec<usize>, Vec<Wide>), BulkError> {
    let persons = events.persons().get(range.clone()).unwrap_or(&[]);
    let mut counts = vec![0usize; buckets];
    let mut wide = Vec::new();
    for (i, (&p, fits)) in persons
        .iter()
        .zip(events.fitting(range.clone()))
        .enumerate()
    {
        let row = range.start + i;
        // A `let else`, not `ok_or`: the error is built only when needed
        // (building and dropping it for every row showed in profiles).
        let Some(bucket) = counts
            .get_mut((p as usize) >> shift)
            .filter(|_| (p as usize) < people)
        else {
            return Err(BulkError::UnknownPerson {
                what: "event",
                row,
                person: p,
                people,
            });
        };
        if fits {
            *bucket += 1;
        } else {
            wide.push((p, events.event(row)?));
        }
    }
    Ok((counts, wide))
}

/// The compact rows of `range` in buckets of `counts[b]` rows each.
fn scatter(
    shift: u32,
    events: &EventRows<'_>,
    range: Range<usize>,
    counts: &[usize],
) -> Result<Vec<Vec<Tagged>>, BulkError> {
    let mut out: Vec<Vec<Tagged>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    let mask = (1usize << shift) - 1;
    events.for_each_compact(range, |p, r| {
        let p = p as usize;
        if let Some(bucket) = out.get_mut(p >> shift) {
            // `mask` < 2^16: buckets hold at most `MAX_PER_BUCKET` people.
            bucket.push(Tagged::new((p & mask) as u16, r));
        }
    })?;
    Ok(out)
}

/// The most interest keys [`Sorted::fill`] sorts by (a counter each).
pub(super) const MAX_INTEREST_KEYS: usize = 1 << 16;

/// One bucket's rows sorted by person, in buffers reused from bucket to
/// bucket.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    first: usize,
    /// Person `first + q`'s rows are `rows[start[q]..start[q + 1]]`.
    start: Vec<usize>,
    rows: Vec<EventRow>,
    /// Rows per interest key, then each key's cursor.
    keys: Vec<usize>,
    /// The bucket's rows sorted by interest key.
    by_key: Vec<Tagged>,
}

impl Sorted {
    /// Sorts bucket `b` of `buckets` by person. With `interests` > 0 each
    /// person's rows come sorted by interest id (ids from `interests` on
    /// counted as one), each interest's rows in row order: a counting sort
    /// by interest, then a stable one by person. With 0, each person's rows
    /// are in row order.
    pub(super) fn fill(&mut self, buckets: &Buckets, b: usize, interests: usize) {
        let people = buckets.people_of(b);
        let rows = buckets.bucket(b);
        let interests = interests.min(MAX_INTEREST_KEYS);
        self.first = people.start;
        self.start.clear();
        self.start.resize(people.len() + 1, 0);
        self.keys.clear();
        if interests > 0 {
            self.keys.resize(interests + 1, 0);
        }
        let key = |r: &Tagged| r.interest.index().min(interests);
        for part in rows.clone() {
            for r in part {
                if let Some(c) = self.start.get_mut(usize::from(r.local) + 1) {
                    *c += 1;
                }
            }
            if interests > 0 {
                for r in part {
                    if let Some(c) = self.keys.get_mut(key(r)) {
                        *c += 1;
                    }
                }
            }
        }
        let mut acc = 0;
        for c in &mut self.start {
            acc += *c;
            *c = acc;
        }
        self.rows.clear();
        self.rows
            .resize(acc, EventRow::new(InterestId(0), Signal::View, 0));
        if interests == 0 {
            for part in rows {
                self.place(part);
            }
        } else {
            // Each key's first slot, then its cursor.
            let mut acc = 0;
            for c in &mut self.keys {
                let n = *c;
                *c = acc;
                acc += n;
            }
            let mut by_key = std::mem::take(&mut self.by_key);
            by_key.clear();
            by_key.resize(
                acc,
                Tagged::new(0, EventRow::new(InterestId(0), Signal::View, 0)),
            );
            for &r in rows.flatten() {
                if let Some(at) = self.keys.get_mut(key(&r)) {
                    if let Some(slot) = by_key.get_mut(*at) {
                        *slot = r;
                    }
                    *at += 1;
                }
            }
            self.place(&by_key);
            self.by_key = by_key;
        }
        // `start[q]` served as person `q`'s cursor and ended at
        // `start[q + 1]`: one shift puts the starts back.
        self.start.rotate_right(1);
        if let Some(s) = self.start.first_mut() {
            *s = 0;
        }
    }

    /// Places `rows` (counted into `start`) by person, each person's in
    /// the order given, moving each person's cursor `start[q]` on.
    fn place(&mut self, rows: &[Tagged]) {
        for r in rows {
            if let Some(at) = self.start.get_mut(usize::from(r.local)) {
                if let Some(slot) = self.rows.get_mut(*at) {
                    *slot = r.row();
                }
                *at += 1;
            }
        }
    }

    /// The rows of `person` (in the filled bucket), to reorder at will.
    pub(super) fn rows_mut(&mut self, person: usize) -> &mut [EventRow] {
        let q = person.wrapping_sub(self.first);
        match (self.start.get(q), self.start.get(q + 1)) {
            (Some(&lo), Some(&hi)) => self.rows.get_mut(lo..hi).unwrap_or(&mut []),
            _ => &mut [],
        }
    }
}
