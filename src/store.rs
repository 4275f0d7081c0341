//! Event storage of a profile and its incremental decayed aggregates.
//!
//! Events are kept in one *series* per (interest, source, context), in time
//! order, as three flat columns (instant in Unix nanoseconds, own weight,
//! signal): 17 bytes per retained event. Gifts and dismissals, which never
//! count as evidence, are kept aside.
//!
//! Each series carries a forward-decayed sum against a landmark `L`:
//! `sum = Σ w·2^((t − L)/h)` over its events from `head` on, so the decayed
//! score at `now` is `sum · 2^(−(now − L)/h)`: O(1) to update when an event
//! is recorded, O(1) to read. `head` skips events that can never count again
//! at any later read (past their max age, or recorded before a consent
//! withdrawal); reads subtract the few events that expired since. The sums
//! depend on the engine's half-lives and signal weights, so they carry the
//! engine's fingerprint; a profile read back from storage (no sums yet) or
//! used with another engine is scored by the plain pass over its events
//! until an engine operation prepares it.

use std::cmp::Ordering;

use crate::event::{Context, Event, Signal, Source, Weight};
use crate::taxonomy::InterestId;

pub(crate) fn class_of(source: Source, context: Context) -> u8 {
    let s = match source {
        Source::FirstParty => 0,
        Source::Declared => 1,
        Source::Partner => 2,
    };
    let c = match context {
        Context::OnSite => 0,
        Context::Location => 1,
        Context::CrossSite => 2,
    };
    s * 3 + c
}

pub(crate) fn source_of(class: u8) -> Source {
    match class / 3 {
        0 => Source::FirstParty,
        1 => Source::Declared,
        _ => Source::Partner,
    }
}

pub(crate) fn context_of(class: u8) -> Context {
    match class % 3 {
        0 => Context::OnSite,
        1 => Context::Location,
        _ => Context::CrossSite,
    }
}

pub(crate) use crate::quantity::{from_nanos, to_nanos};

/// The oldest instant (Unix ns) whose data is within `max_age` (not
/// negative: policies and taxonomies refuse one) of `now_ns`: exact, also
/// for a max age past i64 nanoseconds, and `i64::MIN` when every instant
/// is.
pub(crate) fn oldest_usable(now_ns: i64, max_age: time::Duration) -> i64 {
    i64::try_from(i128::from(now_ns) - max_age.whole_nanoseconds()).unwrap_or(i64::MIN)
}

/// `a − b` in nanoseconds as `f64`, exact in `i64` where it fits.
pub(crate) fn diff_f64(a: i64, b: i64) -> f64 {
    match a.checked_sub(b) {
        Some(d) => d as f64,
        None => (i128::from(a) - i128::from(b)) as f64,
    }
}

/// A running sum with Neumaier compensation: adding and later subtracting
/// the same terms leaves no drift worth speaking of.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }

    pub(crate) fn get(self) -> f64 {
        self.s + self.c
    }
}

/// The events of one (interest, source, context), sorted by instant.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) interest: InterestId,
    pub(crate) class: u8,
    pub(crate) at: Vec<i64>,
    pub(crate) weight: Vec<f64>,
    pub(crate) signal: Vec<Signal>,
    /// Events before `head` never count again for reads at or after the
    /// store's `maintained_at`.
    pub(crate) head: usize,
    /// Forward-decayed sum of the events from `head` on.
    pub(crate) sum: Sum,
}

impl Series {
    /// An empty series of `interest` and source-context `class`.
    pub(crate) fn new(interest: InterestId, class: u8) -> Self {
        Self {
            interest,
            class,
            at: Vec::new(),
            weight: Vec::new(),
            signal: Vec::new(),
            head: 0,
            sum: Sum::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }

    pub(crate) fn event(&self, i: usize) -> Option<Event> {
        let at = *self.at.get(i)?;
        let signal = *self.signal.get(i)?;
        let weight = Weight::new(*self.weight.get(i)?).ok()?;
        Some(
            Event::new(self.interest, signal, from_nanos(at))
                .with_source(source_of(self.class))
                .with_context(context_of(self.class))
                .with_valid_weight(weight),
        )
    }

    /// First index `>= from` whose instant is `>= t`.
    pub(crate) fn first_at_or_after(&self, from: usize, t: i64) -> usize {
        let rest = self.at.get(from..).unwrap_or(&[]);
        from + rest.partition_point(|&a| a < t)
    }

    /// First index whose instant is `> t`.
    pub(crate) fn first_after(&self, t: i64) -> usize {
        self.at.partition_point(|&a| a <= t)
    }

    /// The canonical order key of event `i`: instant, then weight bits,
    /// then signal, so equal inputs give equal columns however they arrived.
    fn key(&self, i: usize) -> Option<(i64, u64, Signal)> {
        Some((
            *self.at.get(i)?,
            self.weight.get(i)?.to_bits(),
            *self.signal.get(i)?,
        ))
    }

    /// The position of `(at, weight, signal)` in canonical order: `Ok` if an
    /// identical event is stored.
    fn search(&self, at: i64, weight: f64, signal: Signal) -> Result<usize, usize> {
        let probe = (at, weight.to_bits(), signal);
        // Streaming events arrive after everything stored: nothing to search.
        match self.key(self.len().wrapping_sub(1)) {
            None => return Err(0),
            Some(last) if probe > last => return Err(self.len()),
            _ => {}
        }
        let lo = self.first_at_or_after(0, at);
        let hi = self.first_after(at);
        let mut i = lo;
        let mut n = hi - lo;
        // Binary search inside the run of equal instants.
        while n > 0 {
            let half = n / 2;
            let mid = i + half;
            match self.key(mid) {
                Some(k) if k < probe => {
                    i = mid + 1;
                    n -= half + 1;
                }
                Some(k) if k == probe => return Ok(mid),
                _ => n = half,
            }
        }
        Err(i)
    }

    fn insert(&mut self, pos: usize, at: i64, weight: f64, signal: Signal) {
        if pos >= self.at.len() {
            self.at.push(at);
            self.weight.push(weight);
            self.signal.push(signal);
        } else {
            self.at.insert(pos, at);
            self.weight.insert(pos, weight);
            self.signal.insert(pos, signal);
        }
    }

    /// Puts the columns in canonical order and drops exact duplicates:
    /// O(n) when they already are, O(n log n) otherwise.
    fn normalize(&mut self) {
        let n = self.len();
        if self.weight.len() != n || self.signal.len() != n {
            let m = n.min(self.weight.len()).min(self.signal.len());
            self.at.truncate(m);
            self.weight.truncate(m);
            self.signal.truncate(m);
        }
        // Instants strictly increasing settle it; equal instants need the
        // whole key.
        let strictly = self
            .at
            .iter()
            .zip(self.at.iter().skip(1))
            .all(|(a, b)| a < b);
        let sorted = strictly || {
            let keys = || {
                self.at
                    .iter()
                    .zip(&self.weight)
                    .zip(&self.signal)
                    .map(|((&a, &w), &s)| (a, w.to_bits(), s))
            };
            keys().zip(keys().skip(1)).all(|(a, b)| a < b)
        };
        if sorted {
            return;
        }
        let mut rows: Vec<(i64, u64, Signal)> =
            (0..self.len()).filter_map(|i| self.key(i)).collect();
        rows.sort_unstable();
        rows.dedup();
        self.at = rows.iter().map(|r| r.0).collect();
        self.weight = rows.iter().map(|r| f64::from_bits(r.1)).collect();
        self.signal = rows.iter().map(|r| r.2).collect();
    }

    fn retain(&mut self, mut keep: impl FnMut(i64) -> bool) -> usize {
        let before = self.len();
        let mut w = 0;
        for r in 0..before {
            let (Some(&a), Some(&wt), Some(&sg)) =
                (self.at.get(r), self.weight.get(r), self.signal.get(r))
            else {
                continue;
            };
            if keep(a) {
                if let (Some(x), Some(y), Some(z)) = (
                    self.at.get_mut(w),
                    self.weight.get_mut(w),
                    self.signal.get_mut(w),
                ) {
                    *x = a;
                    *y = wt;
                    *z = sg;
                }
                w += 1;
            }
        }
        self.at.truncate(w);
        self.weight.truncate(w);
        self.signal.truncate(w);
        before - w
    }
}

/// What the sums of a store were computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// The engine parameters (half-lives, max ages, signal weights).
    pub(crate) fingerprint: u64,
    /// The landmark, Unix nanoseconds.
    pub(crate) landmark: i64,
    /// Heads are valid for reads at or after this instant.
    pub(crate) maintained_at: i64,
}

/// All stored events of a profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    /// Sorted by (interest, class).
    pub(crate) series: Vec<Series>,
    /// Gifts and dismissals, sorted by instant: stored, never evidence.
    pub(crate) inert: Vec<Event>,
    /// Stored events in all (kept so the limit check is O(1)).
    count: usize,
    /// Dismissals among `inert` (recording checks them only if there are
    /// any: `inert` is mostly gifts).
    dismissals: usize,
    pub(crate) prepared: Option<Prepared>,
}

impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        self.inert == other.inert
            && self.series.len() == other.series.len()
            && self.series.iter().zip(&other.series).all(|(a, b)| {
                a.interest == b.interest
                    && a.class == b.class
                    && a.at == b.at
                    && a.signal == b.signal
                    && a.weight
                        .iter()
                        .map(|w| w.to_bits())
                        .eq(b.weight.iter().map(|w| w.to_bits()))
            })
    }
}

/// The canonical order of gifts and dismissals: instant first.
fn inert_cmp(a: &Event, b: &Event) -> Ordering {
    let key = |e: &Event| {
        (
            e.at(),
            e.interest(),
            class_of(e.source(), e.context()),
            e.signal(),
            e.is_gift(),
            e.weight().get().to_bits(),
        )
    };
    key(a).cmp(&key(b))
}

fn is_inert(e: &Event) -> bool {
    e.is_gift() || e.is_dismissal()
}

impl Store {
    /// Whether any dismissal is stored.
    pub(crate) fn has_dismissals(&self) -> bool {
        self.dismissals > 0
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Whether some series of `interest` exists.
    pub(crate) fn has_interest(&self, interest: InterestId) -> bool {
        let i = self.series.partition_point(|s| s.interest < interest);
        self.series.get(i).is_some_and(|s| s.interest == interest)
    }

    /// Distinct interests with stored evidence.
    pub(crate) fn interests(&self) -> usize {
        let mut n = 0;
        let mut last = None;
        for s in &self.series {
            if last != Some(s.interest) {
                n += 1;
                last = Some(s.interest);
            }
        }
        n
    }

    fn key_cmp(s: &Series, interest: InterestId, class: u8) -> Ordering {
        (s.interest, s.class).cmp(&(interest, class))
    }

    pub(crate) fn series_index(&self, interest: InterestId, class: u8) -> Result<usize, usize> {
        self.series
            .binary_search_by(|s| Self::key_cmp(s, interest, class))
    }

    /// The series of a subtree given as the id range `start..end`.
    pub(crate) fn series_in(&self, start: u32, end: u32) -> &[Series] {
        let lo = self.series.partition_point(|s| s.interest.0 < start);
        let hi = self.series.partition_point(|s| s.interest.0 < end);
        self.series.get(lo..hi).unwrap_or(&[])
    }

    /// Inserts an event with its instant in Unix ns unless an identical one
    /// is stored (`Err(())`); returns the series index and position for
    /// evidence events (`None` for gifts and dismissals).
    pub(crate) fn insert_new_at(
        &mut self,
        e: Event,
        at: i64,
    ) -> Result<Option<(usize, usize)>, ()> {
        if is_inert(&e) {
            let pos = match self.inert.binary_search_by(|x| inert_cmp(x, &e)) {
                Ok(_) => return Err(()),
                Err(pos) => pos,
            };
            self.inert.insert(pos, e);
            self.count += 1;
            self.dismissals += usize::from(e.is_dismissal());
            return Ok(None);
        }
        let class = class_of(e.source(), e.context());
        let si = match self.series_index(e.interest(), class) {
            Ok(i) => i,
            Err(i) => {
                self.series.insert(i, Series::new(e.interest(), class));
                i
            }
        };
        let Some(s) = self.series.get_mut(si) else {
            return Ok(None);
        };
        let (weight, signal) = (e.weight().get(), e.signal());
        let pos = match s.search(at, weight, signal) {
            Ok(_) => return Err(()),
            Err(pos) => pos,
        };
        s.insert(pos, at, weight, signal);
        self.count += 1;
        if pos < s.head {
            // A late event before the head: it can never count (it would
            // have been skipped too), keep the head on the same events.
            s.head += 1;
        }
        Ok(Some((si, pos)))
    }

    /// Builds a store from series and inert events in any order, with
    /// duplicates: O(n log n) (O(n) when already in canonical order).
    /// Series of the same key are joined.
    pub(crate) fn from_parts(mut series: Vec<Series>, mut inert: Vec<Event>) -> Self {
        if !series.is_sorted_by_key(|s| (s.interest, s.class)) {
            series.sort_by_key(|s| (s.interest, s.class));
        }
        let mut joined: Vec<Series> = Vec::with_capacity(series.len());
        for mut s in series {
            s.head = 0;
            s.sum = Sum::default();
            match joined.last_mut() {
                Some(last) if last.interest == s.interest && last.class == s.class => {
                    last.at.append(&mut s.at);
                    last.weight.append(&mut s.weight);
                    last.signal.append(&mut s.signal);
                }
                _ => joined.push(s),
            }
        }
        for s in &mut joined {
            s.normalize();
        }
        joined.retain(|s| s.len() > 0);
        if !inert.is_sorted_by(|a, b| inert_cmp(a, b) == Ordering::Less) {
            inert.sort_unstable_by(inert_cmp);
            inert.dedup_by(|a, b| inert_cmp(a, b) == Ordering::Equal);
        }
        let count = joined.iter().map(Series::len).sum::<usize>() + inert.len();
        let dismissals = inert.iter().filter(|e| e.is_dismissal()).count();
        Self {
            series: joined,
            inert,
            count,
            dismissals,
            prepared: None,
        }
    }

    /// Every stored event, sorted by instant.
    pub(crate) fn events(&self) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::with_capacity(self.len());
        for s in &self.series {
            out.extend((0..s.len()).filter_map(|i| s.event(i)));
        }
        out.extend(self.inert.iter().copied());
        out.sort_by_key(Event::at);
        out
    }

    /// Removes events for which `drop` holds; returns how many. The sums
    /// must be prepared again afterwards.
    pub(crate) fn remove(&mut self, mut drop: impl FnMut(&Event) -> bool) -> usize {
        let mut removed = 0;
        for s in &mut self.series {
            let (interest, class) = (s.interest, s.class);
            let probe = |at: i64| {
                Event::new(interest, Signal::View, from_nanos(at))
                    .with_source(source_of(class))
                    .with_context(context_of(class))
            };
            // Only interest, instant, source and context decide removal.
            removed += s.retain(|at| !drop(&probe(at)));
        }
        self.series.retain(|s| s.len() > 0);
        let before = self.inert.len();
        self.inert.retain(|e| !drop(e));
        removed += before - self.inert.len();
        self.dismissals = self.inert.iter().filter(|e| e.is_dismissal()).count();
        self.count = self.count.saturating_sub(removed);
        self.prepared = None;
        removed
    }

    /// Heap bytes held by the stored events (capacity, not length).
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let series: usize = self
            .series
            .iter()
            .map(|s| {
                s.at.capacity() * size_of::<i64>()
                    + s.weight.capacity() * size_of::<f64>()
                    + s.signal.capacity() * size_of::<Signal>()
            })
            .sum();
        series
            + self.series.capacity() * size_of::<Series>()
            + self.inert.capacity() * size_of::<Event>()
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        for s in &mut self.series {
            s.at.shrink_to_fit();
            s.weight.shrink_to_fit();
            s.signal.shrink_to_fit();
        }
        self.series.shrink_to_fit();
        self.inert.shrink_to_fit();
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self) {
        self.series.clear();
        self.inert.clear();
        self.count = 0;
        self.dismissals = 0;
        self.prepared = None;
    }
}

#[cfg(test)]
mod tests {
    use super::oldest_usable;
    use time::Duration;

    /// Exact for a max age past i64 nanoseconds (it once clamped the max
    /// age first, and came out 0.78e18 ns late here), and clamped to the
    /// earliest i64 instant when every instant is usable.
    #[test]
    fn the_oldest_usable_instant_is_exact() {
        let now = 5_000_000_000_000_000_000;
        let long = Duration::seconds(10_000_000_000); // 1e19 ns
        assert_eq!(oldest_usable(now, long), -5_000_000_000_000_000_000);
        assert_eq!(
            oldest_usable(now, Duration::days(1)),
            now - 86_400_000_000_000
        );
        assert_eq!(oldest_usable(-now, long), i64::MIN);
        assert_eq!(oldest_usable(now, Duration::ZERO), now);
    }
}
