//! Event rows grouped by person in two cache-friendly passes.
//!
//! Scattering ten million rows straight to a hundred thousand people writes
//! to a hundred thousand places at once: nearly every write misses the
//! cache and the address translation buffer. Here the rows go first to a
//! few hundred buckets of consecutive people (a few hundred write streams,
//! which the caches hold), and each bucket, small enough to stay in cache,
//! is then sorted by person just before its people are worked on.
//!
//! The scatter writes every row once and the sort reads it back, so a
//! row's size is most of the grouping's memory traffic: when every row of
//! a call allows it (instants within 2^32 units of the column's earliest,
//! weights that are exactly `f32`), rows travel in 16 bytes instead of 24.

use std::num::NonZeroUsize;
use std::ops::Range;

use crate::event::{Event, Signal, Weight};
use crate::taxonomy::InterestId;

use super::partial::EventRow;
use super::rows::EventRows;
use super::BulkError;

/// About this many rows per bucket (up to twice as many, as people per
/// bucket are a power of two): a bucket, its copy sorted by interest and
/// its rows sorted by person (16 or 24 bytes a row each) fit a core's
/// second-level cache. Under cachegrind with a 1 MiB second-level cache,
/// 1 << 14 missed it a third more often than this.
const ROWS_PER_BUCKET: usize = 1 << 13;

/// At most this many buckets: more write streams than the caches hold.
const MAX_BUCKETS: usize = 2048;

/// Below this many rows one thread groups faster than two start.
const PARALLEL_ROWS: usize = 1 << 12;

/// A row and its person's place in the bucket, in 24 bytes (a row and a
/// person index would take 32): the scatter writes every row once, so its
/// size is most of the grouping's memory traffic. The form for any row;
/// [`Narrow`] is the form for the usual ones.
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
            flags: flags_of(&r),
        }
    }
}

/// A row's class, shifted left by one, and whether it is a gift: the
/// `flags` of both forms.
fn flags_of(r: &EventRow) -> u8 {
    (r.class << 1) | u8::from(r.gift)
}

/// A row and its person's place in the bucket in 16 bytes, for a call
/// whose rows all fit (see [`Instants`]).
#[derive(Debug, Clone, Copy)]
struct Narrow {
    /// The instant in the column's unit, after the call's earliest.
    after: u32,
    /// The weight, exactly.
    weight: f32,
    interest: InterestId,
    local: u16,
    signal: Signal,
    flags: u8,
}

/// How a [`Narrow`] row's instant is held: `(earliest + after) × scale`
/// Unix nanoseconds, `earliest` being the call's earliest instant in the
/// column's unit and `scale` the nanoseconds per unit.
#[derive(Debug, Clone, Copy, Default)]
struct Instants {
    earliest: i64,
    scale: i64,
}

/// A bucket's row in one of its two forms.
trait Packed: Copy {
    /// The person's place in the bucket.
    fn local(&self) -> u16;
    /// The interest.
    fn interest(&self) -> InterestId;
    /// The row.
    fn row(self, instants: Instants) -> EventRow;
}

impl Packed for Tagged {
    fn local(&self) -> u16 {
        self.local
    }

    fn interest(&self) -> InterestId {
        self.interest
    }

    fn row(self, _: Instants) -> EventRow {
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

impl Narrow {
    /// Row `r` of person `local`, its instant `after` units after the
    /// call's earliest.
    fn new(local: u16, after: u32, r: EventRow) -> Self {
        Self {
            after,
            weight: r.weight.get() as f32,
            interest: r.interest,
            local,
            signal: r.signal,
            flags: flags_of(&r),
        }
    }
}

impl Packed for Narrow {
    fn local(&self) -> u16 {
        self.local
    }

    fn interest(&self) -> InterestId {
        self.interest
    }

    fn row(self, instants: Instants) -> EventRow {
        // The row's own instant in nanoseconds fitted an i64 when it was
        // packed, so neither operation overflows.
        let raw = instants.earliest.saturating_add(i64::from(self.after));
        EventRow {
            at: raw.saturating_mul(instants.scale),
            weight: Weight::from_held_f32(self.weight),
            interest: self.interest,
            signal: self.signal,
            class: self.flags >> 1,
            gift: self.flags & 1 == 1,
        }
    }
}

/// Every part's buckets of rows, in one of the two forms.
#[derive(Debug)]
enum Parts {
    Wide(Vec<Vec<Vec<Tagged>>>),
    Narrow(Vec<Vec<Vec<Narrow>>>, Instants),
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
    parts: Parts,
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
        // wide rows taken aside, the instants' span and the weights'
        // widths seen.
        let counted = on_threads(ranges.clone(), |range| {
            count(people, shift, buckets, events, range)
        })?;
        let narrow = Span::all(counted.iter().map(|c| c.span));
        let (counts, wide): (Vec<_>, Vec<_>) =
            counted.into_iter().map(|c| (c.counts, c.wide)).unzip();
        // Scattering: each part fills its own buckets, sized by the counts
        // (so nothing is written twice), and keeps the row order.
        let work: Vec<_> = ranges.into_iter().zip(counts).collect();
        let parts = match narrow {
            Some(instants) => Parts::Narrow(
                on_threads(work, |(range, counts)| {
                    scatter(shift, events, range, &counts, |local, raw, r| {
                        // Within 2^32 of the earliest (`Span::all` checked),
                        // so the wrapped difference is the exact one.
                        let after = raw.wrapping_sub(instants.earliest) as u32;
                        Narrow::new(local, after, r)
                    })
                })?,
                instants,
            ),
            None => Parts::Wide(on_threads(work, |(range, counts)| {
                scatter(shift, events, range, &counts, |local, _, r| {
                    Tagged::new(local, r)
                })
            })?),
        };
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

/// What counting a part of the rows found.
struct Counted {
    /// Rows per bucket.
    counts: Vec<usize>,
    /// The rows too wide for the compact form.
    wide: Vec<Wide>,
    span: Span,
}

/// The earliest and latest instant (in the column's unit) of a part's
/// compact rows, and whether all their weights are exactly `f32`.
#[derive(Debug, Clone, Copy)]
struct Span {
    earliest: i64,
    latest: i64,
    f32_weights: bool,
    scale: i64,
}

impl Span {
    /// How the rows of all parts can travel in the narrow form, if they
    /// all can.
    fn all(spans: impl Iterator<Item = Span>) -> Option<Instants> {
        let mut earliest = i64::MAX;
        let mut latest = i64::MIN;
        let mut scale = 1;
        for s in spans {
            if !s.f32_weights {
                return None;
            }
            earliest = earliest.min(s.earliest);
            latest = latest.max(s.latest);
            scale = s.scale;
        }
        let width = i128::from(latest) - i128::from(earliest);
        (earliest <= latest && width <= i128::from(u32::MAX))
            .then_some(Instants { earliest, scale })
    }
}

/// Rows per bucket of `range`, checking every person index, the rows of
/// `range` too wide for the compact form, and their span.
fn count(
    people: usize,
    shift: u32,
    buckets: usize,
    events: &EventRows<'_>,
    range: Range<usize>,
) -> Result<Counted, BulkError> {
    let persons = events.persons().get(range.clone()).unwrap_or(&[]);
    let raw = events.raw_instants(range.clone());
    let scale = events.nanos_per_unit();
    let mut counts = vec![0usize; buckets];
    let mut wide = Vec::new();
    let (mut earliest, mut latest) = (i64::MAX, i64::MIN);
    for (i, (&p, &at)) in persons.iter().zip(raw).enumerate() {
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
        if at.checked_mul(scale).is_some() {
            *bucket += 1;
            earliest = earliest.min(at);
            latest = latest.max(at);
        } else {
            wide.push((p, events.event(row)?));
        }
    }
    let span = Span {
        earliest,
        latest,
        f32_weights: events.weights_fit_f32(range),
        scale,
    };
    Ok(Counted { counts, wide, span })
}

/// The compact rows of `range` in buckets of `counts[b]` rows each, each
/// row packed by `pack(place in its bucket, instant as given, row)`.
fn scatter<T>(
    shift: u32,
    events: &EventRows<'_>,
    range: Range<usize>,
    counts: &[usize],
    pack: impl Fn(u16, i64, EventRow) -> T,
) -> Result<Vec<Vec<T>>, BulkError> {
    let mut out: Vec<Vec<T>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    let mask = (1usize << shift) - 1;
    events.for_each_compact(range, |p, raw, r| {
        let p = p as usize;
        if let Some(bucket) = out.get_mut(p >> shift) {
            // `mask` < 2^16: buckets hold at most `MAX_PER_BUCKET` people.
            bucket.push(pack((p & mask) as u16, raw, r));
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
    order: Order,
    /// The bucket's rows sorted by interest key, in the buckets' form.
    by_key: Vec<Tagged>,
    by_key_narrow: Vec<Narrow>,
}

/// A bucket's rows by person: person `first + q`'s rows are
/// `rows[start[q]..start[q + 1]]`.
#[derive(Debug, Default)]
struct Order {
    start: Vec<usize>,
    rows: Vec<EventRow>,
    /// Rows per interest key, then each key's cursor.
    keys: Vec<usize>,
}

impl Sorted {
    /// Sorts bucket `b` of `buckets` by person. With `interests` > 0 each
    /// person's rows come sorted by interest id (ids from `interests` on
    /// counted as one), each interest's rows in row order: a counting sort
    /// by interest, then a stable one by person. With 0, each person's rows
    /// are in row order.
    pub(super) fn fill(&mut self, buckets: &Buckets, b: usize, interests: usize) {
        let people = buckets.people_of(b);
        self.first = people.start;
        let interests = interests.min(MAX_INTEREST_KEYS);
        match &buckets.parts {
            Parts::Wide(parts) => {
                let bucket = parts
                    .iter()
                    .map(|p| p.get(b).map_or(&[][..], Vec::as_slice));
                let instants = Instants::default();
                self.order
                    .sort(bucket, &mut self.by_key, people.len(), interests, instants);
            }
            Parts::Narrow(parts, instants) => {
                let bucket = parts
                    .iter()
                    .map(|p| p.get(b).map_or(&[][..], Vec::as_slice));
                let by_key = &mut self.by_key_narrow;
                self.order
                    .sort(bucket, by_key, people.len(), interests, *instants);
            }
        }
    }

    /// The rows of `person` (in the filled bucket), to reorder at will.
    pub(super) fn rows_mut(&mut self, person: usize) -> &mut [EventRow] {
        let q = person.wrapping_sub(self.first);
        let order = &mut self.order;
        match (order.start.get(q), order.start.get(q + 1)) {
            (Some(&lo), Some(&hi)) => order.rows.get_mut(lo..hi).unwrap_or(&mut []),
            _ => &mut [],
        }
    }
}

impl Order {
    /// Sorts a bucket of `people` people, its parts' rows in `bucket` (a
    /// loop over each part's slice is leaner than one chained iterator),
    /// as [`Sorted::fill`] says; `by_key` is a reused buffer.
    fn sort<'r, T: Packed + 'r>(
        &mut self,
        bucket: impl Iterator<Item = &'r [T]> + Clone,
        by_key: &mut Vec<T>,
        people: usize,
        interests: usize,
        instants: Instants,
    ) {
        self.start.clear();
        self.start.resize(people + 1, 0);
        self.keys.clear();
        if interests > 0 {
            self.keys.resize(interests + 1, 0);
        }
        let key = |r: &T| r.interest().index().min(interests);
        for part in bucket.clone() {
            for r in part {
                if let Some(c) = self.start.get_mut(usize::from(r.local()) + 1) {
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
            for part in bucket {
                self.place(part, instants);
            }
        } else {
            // Each key's first slot, then its cursor.
            let mut acc = 0;
            for c in &mut self.keys {
                let n = *c;
                *c = acc;
                acc += n;
            }
            by_key.clear();
            if let Some(&first) = bucket.clone().flatten().next() {
                by_key.resize(acc, first);
            }
            for &r in bucket.flatten() {
                if let Some(at) = self.keys.get_mut(key(&r)) {
                    if let Some(slot) = by_key.get_mut(*at) {
                        *slot = r;
                    }
                    *at += 1;
                }
            }
            self.place(by_key, instants);
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
    fn place<T: Packed>(&mut self, rows: &[T], instants: Instants) {
        for &r in rows {
            if let Some(at) = self.start.get_mut(usize::from(r.local())) {
                if let Some(slot) = self.rows.get_mut(*at) {
                    *slot = r.row(instants);
                }
                *at += 1;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn span(earliest: i64, latest: i64, f32_weights: bool) -> Span {
        Span {
            earliest,
            latest,
            f32_weights,
            scale: 1_000,
        }
    }

    /// Rows take the narrow form only when every part's weights are exact
    /// in `f32` and all instants lie within 2^32 units of the earliest;
    /// an empty part (no compact row) does not count, no rows at all take
    /// the wide form.
    #[test]
    fn the_narrow_form_only_when_every_row_fits() {
        let empty = span(i64::MAX, i64::MIN, true);
        let fits = |spans: &[Span]| Span::all(spans.iter().copied());
        let max = i64::from(u32::MAX);
        let one = fits(&[span(-5, -5 + max, true), empty]).unwrap();
        assert_eq!((one.earliest, one.scale), (-5, 1_000));
        assert!(fits(&[span(-5, -4 + max, true)]).is_none());
        assert!(fits(&[span(0, 10, true), span(max + 1, max + 1, true)]).is_none());
        assert!(fits(&[span(0, 10, true), span(3, 4, false)]).is_none());
        assert!(fits(&[span(i64::MIN, i64::MAX, true)]).is_none());
        assert!(fits(&[empty, empty]).is_none());
        assert!(fits(&[]).is_none());
    }

    /// A narrow row gives back the row it was made from.
    #[test]
    fn a_narrow_row_is_the_row() {
        let instants = Instants {
            earliest: 1_700_000_000,
            scale: 1_000_000_000,
        };
        let r = EventRow::new(InterestId(7), Signal::Click, 1_700_000_123 * 1_000_000_000)
            .with_weight(Weight::new(0.75).unwrap_or_default())
            .with_gift(true);
        let n = Narrow::new(9, 123, r);
        assert_eq!(n.row(instants), r);
        assert_eq!(n.local(), 9);
        assert_eq!(std::mem::size_of::<Narrow>(), 16);
        assert_eq!(Tagged::new(9, r).row(instants), r);
    }
}
