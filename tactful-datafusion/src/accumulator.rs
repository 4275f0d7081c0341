//! The accumulators: one partial profile (the person's fact rows) per group,
//! shipped between aggregation phases as the engine's binary encoding and
//! merged by union, so any split of the rows gives the same answer.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, LargeBinaryArray, UInt64Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use tactful::bulk::{EventRow, PartialProfile};
use tactful::Engine;

use crate::facts::{Caches, Fact, Rows};
use crate::output::{self, Answers, Output};
use crate::Config;

/// The id every partial profile carries: the group key is the person, and
/// the functions never see it, so all parts share one id and merge.
pub(crate) const ID: &str = "";

/// The types of the state columns: the encoded partial profile, and the
/// count of rows that could not be read into facts.
pub(crate) fn state_types() -> [DataType; 2] {
    [DataType::LargeBinary, DataType::UInt64]
}

/// Groups per bucket of the event log (a power of two): a group's place in
/// its bucket fits a `Local`. A row is written to one of a bucket's two
/// streams (places and rows), so fewer buckets keep fewer streams open:
/// with 100k groups, 98 buckets of 1,024 groups write about 200 streams,
/// whose open cache lines and pages the first-level cache and the TLB hold,
/// where 391 buckets of 256 groups wrote about 800.
const BUCKET_SHIFT: u32 = 10;
const BUCKET_GROUPS: usize = 1 << BUCKET_SHIFT;

/// A group's place in its bucket.
type Local = u16;

/// Rows per chunk of a bucket's log: a full chunk (about 100 KB) is never
/// regrown and copied; the next row starts a new one.
const CHUNK_ROWS: usize = 4096;

/// Logged event rows of `BUCKET_GROUPS` consecutive groups, in arrival
/// order, each with the group's place in the bucket.
#[derive(Debug, Default)]
struct Bucket {
    chunks: Vec<Chunk>,
}

#[derive(Debug, Default)]
struct Chunk {
    local: Vec<Local>,
    rows: Vec<EventRow>,
}

impl Chunk {
    fn heap_bytes(&self) -> usize {
        self.local.capacity() + self.rows.capacity() * std::mem::size_of::<EventRow>()
    }
}

impl Bucket {
    /// Appends a row of the group at `local`; returns the heap bytes it
    /// took, and those held before, when they changed.
    #[inline]
    fn push(&mut self, local: Local, row: EventRow) -> Option<(usize, usize)> {
        if let Some(c) = self.chunks.last_mut() {
            if c.rows.len() < c.rows.capacity() && c.local.len() < c.local.capacity() {
                c.local.push(local);
                c.rows.push(row);
                return None;
            }
        }
        self.push_growing(local, row)
    }

    /// `push` when the last chunk is full: it grows (doubling, so that a
    /// bucket of few rows stays small) until it holds `CHUNK_ROWS`, and
    /// then the next row starts a new chunk of that size, never regrown.
    #[inline(never)]
    fn push_growing(&mut self, local: Local, row: EventRow) -> Option<(usize, usize)> {
        match self.chunks.last_mut() {
            Some(c) if c.rows.len() < CHUNK_ROWS => {
                let before = c.heap_bytes();
                let room = (c.rows.len() * 2).clamp(16, CHUNK_ROWS);
                c.local.reserve_exact(room - c.local.len());
                c.rows.reserve_exact(room - c.rows.len());
                c.local.push(local);
                c.rows.push(row);
                Some((before, c.heap_bytes()))
            }
            _ => {
                let mut c = Chunk::default();
                let room = if self.chunks.is_empty() {
                    16
                } else {
                    CHUNK_ROWS
                };
                c.local.reserve_exact(room);
                c.rows.reserve_exact(room);
                c.local.push(local);
                c.rows.push(row);
                let after = c.heap_bytes();
                self.chunks.push(c);
                Some((0, after + std::mem::size_of::<Chunk>()))
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.heap_bytes() + std::mem::size_of::<Chunk>())
            .sum()
    }

    fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.rows.len()).sum()
    }
}

/// Per-group state shared by both accumulators.
///
/// Event rows (nearly every row, from the input or from merged states) are
/// appended to the log of their group's bucket (about a hundred buckets of
/// consecutive groups for 100k groups): a sequential write per row into
/// one of about two hundred streams, which the caches hold, where pushing
/// into each group's own list would touch a random one of a hundred
/// thousand places per row and grow its list again and again. When all
/// groups are taken, each bucket's rows are grouped by a counting sort and
/// its groups encoded or answered with their rows kept apart, and freed,
/// before the next bucket; its groups' working set stays in cache. When
/// only the first groups are taken (`EmitTo::First`), buckets are placed
/// into the partial profiles instead. Other facts go to the partial
/// profiles directly.
#[derive(Debug, Default)]
struct Groups {
    partials: Vec<PartialProfile>,
    unreadable: Vec<u64>,
    buckets: Vec<Bucket>,
    /// Heap bytes of the buckets.
    logged: usize,
    /// Heap bytes of each group at its last measurement, and their sum,
    /// so that `size()` costs nothing per group.
    measured: Vec<usize>,
    total: usize,
    /// Batch marks that find the groups a batch touched.
    marks: Vec<u32>,
    epoch: u32,
    touched: Vec<usize>,
    caches: Caches,
    /// Event rows of the state being merged, before they are logged.
    decoded: Vec<EventRow>,
}

impl Groups {
    fn resize(&mut self, n: usize) {
        if self.partials.len() < n {
            self.partials.resize_with(n, || PartialProfile::new(ID));
            self.unreadable.resize(n, 0);
            self.measured.resize(n, 0);
            self.marks.resize(n, 0);
        }
        let buckets = n.div_ceil(BUCKET_GROUPS);
        if self.buckets.len() < buckets {
            self.buckets.resize_with(buckets, Bucket::default);
        }
    }

    fn next_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
    }

    fn update(
        &mut self,
        config: &Config,
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        if u32::try_from(total_num_groups).is_err() {
            return Err(group_out_of_range(total_num_groups, total_num_groups));
        }
        self.next_epoch();
        let mut rows = Rows::new(values, &mut self.caches, config.vocabulary())?;
        let events_only = rows.events_only();
        for (row, &g) in group_indices.iter().enumerate() {
            if filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            if g >= total_num_groups {
                return Err(group_out_of_range(g, total_num_groups));
            }
            // The fast path: a plain event row, logged straight away.
            // Anything unusual in it (a null, an unknown key, a bad
            // weight) takes the general path, which reads it the same way
            // and says what is wrong.
            if events_only {
                if let Some(event) = rows.plain_event(row) {
                    log(
                        &mut self.buckets,
                        &mut self.logged,
                        g,
                        std::slice::from_ref(&event),
                        total_num_groups,
                    )?;
                    continue;
                }
            }
            let fact = rows.fact(row);
            if let Ok(Fact::Row(event)) = fact {
                log(
                    &mut self.buckets,
                    &mut self.logged,
                    g,
                    std::slice::from_ref(&event),
                    total_num_groups,
                )?;
                continue;
            }
            let (Some(partial), Some(unreadable), Some(mark)) = (
                self.partials.get_mut(g),
                self.unreadable.get_mut(g),
                self.marks.get_mut(g),
            ) else {
                return Err(group_out_of_range(g, total_num_groups));
            };
            match fact {
                Ok(fact) => push(partial, fact),
                Err(e) if config.strict => {
                    return Err(DataFusionError::Execution(format!(
                        "tactful: unreadable row: {}",
                        e.0
                    )))
                }
                Err(_) => *unreadable = unreadable.saturating_add(1),
            }
            if *mark != self.epoch {
                *mark = self.epoch;
                self.touched.push(g);
            }
        }
        self.remeasure();
        Ok(())
    }

    fn merge(
        &mut self,
        config: &Config,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.next_epoch();
        let (Some(bytes), Some(counts)) = (values.first(), values.get(1)) else {
            return Err(DataFusionError::Internal(format!(
                "tactful: {} state columns, expected 2",
                values.len()
            )));
        };
        let bytes = bytes
            .as_binary_opt::<i64>()
            .ok_or_else(|| bad_state(bytes))?;
        let counts = counts
            .as_primitive_opt::<UInt64Type>()
            .ok_or_else(|| bad_state(counts))?;
        for (row, &g) in group_indices.iter().enumerate() {
            let (Some(partial), Some(unreadable), Some(mark)) = (
                self.partials.get_mut(g),
                self.unreadable.get_mut(g),
                self.marks.get_mut(g),
            ) else {
                return Err(group_out_of_range(g, total_num_groups));
            };
            if bytes.is_valid(row) {
                self.decoded.clear();
                let rest = config
                    .engine
                    .decode_partial_rows(bytes.value(row), &mut self.decoded)
                    .map_err(|e| DataFusionError::Execution(format!("tactful: {e}")))?;
                // Another person's bytes are refused by the merge, even
                // when they hold event rows only.
                if !rest.is_empty() || rest.id() != partial.id() {
                    partial
                        .merge(rest)
                        .map_err(|e| DataFusionError::Execution(format!("tactful: {e}")))?;
                }
                log(
                    &mut self.buckets,
                    &mut self.logged,
                    g,
                    &self.decoded,
                    total_num_groups,
                )?;
            }
            if counts.is_valid(row) {
                *unreadable = unreadable.saturating_add(counts.value(row));
            }
            if *mark != self.epoch {
                *mark = self.epoch;
                self.touched.push(g);
            }
        }
        self.remeasure();
        Ok(())
    }

    fn remeasure(&mut self) {
        for g in self.touched.drain(..) {
            if let (Some(p), Some(m)) = (self.partials.get(g), self.measured.get_mut(g)) {
                let now = p.heap_bytes();
                self.total = self.total.saturating_sub(*m).saturating_add(now);
                *m = now;
            }
        }
    }

    /// Moves the logged event rows of bucket `b` into its groups' partial
    /// profiles, each reserved once, and frees the bucket.
    fn place_bucket(&mut self, b: usize) {
        let Some(bucket) = self.buckets.get_mut(b) else {
            return;
        };
        let bucket = std::mem::take(bucket);
        self.logged = self.logged.saturating_sub(bucket.heap_bytes());
        if bucket.chunks.is_empty() {
            return;
        }
        let first = b << BUCKET_SHIFT;
        let groups = self.partials.get_mut(first..).map_or(&mut [][..], |p| {
            let n = p.len().min(BUCKET_GROUPS);
            p.get_mut(..n).unwrap_or(&mut [])
        });
        let mut counts = [0usize; BUCKET_GROUPS];
        for c in &bucket.chunks {
            for &l in &c.local {
                if let Some(c) = counts.get_mut(usize::from(l)) {
                    *c += 1;
                }
            }
        }
        for (p, &c) in groups.iter_mut().zip(&counts) {
            if c > 0 {
                p.reserve_events(c);
            }
        }
        for c in &bucket.chunks {
            for (&l, &row) in c.local.iter().zip(&c.rows) {
                if let Some(p) = groups.get_mut(usize::from(l)) {
                    p.push_row(row);
                }
            }
        }
        for (p, m) in groups
            .iter()
            .zip(self.measured.get_mut(first..).unwrap_or(&mut []))
        {
            let now = p.heap_bytes();
            self.total = self.total.saturating_sub(*m).saturating_add(now);
            *m = now;
        }
    }

    /// Moves every logged event row into its group's partial profile.
    fn place(&mut self) {
        for b in 0..self.buckets.len() {
            self.place_bucket(b);
        }
    }

    /// The groups' partial profiles, every logged row placed.
    fn placed(&mut self) -> (&[PartialProfile], &[u64]) {
        self.place();
        (&self.partials, &self.unreadable)
    }

    fn take(&mut self, emit_to: EmitTo) -> (Vec<PartialProfile>, Vec<u64>) {
        self.place();
        let partials = emit_to.take_needed(&mut self.partials);
        let unreadable = emit_to.take_needed(&mut self.unreadable);
        let measured = emit_to.take_needed(&mut self.measured);
        drop(emit_to.take_needed(&mut self.marks));
        self.total = self.total.saturating_sub(measured.iter().sum::<usize>());
        (partials, unreadable)
    }

    /// Takes every group, calling `f` with each group's partial profile,
    /// its logged event rows (grouped, in the order they came) and its
    /// unreadable count, in group order. A bucket's rows are grouped just
    /// before its groups are given, and each group's facts are freed once
    /// `f` is done with them.
    fn take_all(
        &mut self,
        mut f: impl FnMut(&PartialProfile, &mut [EventRow], u64) -> Result<()>,
    ) -> Result<()> {
        let n = self.partials.len();
        let mut rows = Vec::new();
        let mut starts = [0usize; BUCKET_GROUPS + 1];
        let mut b = 0;
        while b << BUCKET_SHIFT < n {
            let bucket = self
                .buckets
                .get_mut(b)
                .map(std::mem::take)
                .unwrap_or_default();
            self.logged = self.logged.saturating_sub(bucket.heap_bytes());
            group_rows(&bucket, &mut rows, &mut starts);
            drop(bucket);
            let first = b << BUCKET_SHIFT;
            let last = (first + BUCKET_GROUPS).min(n);
            for g in first..last {
                let (Some(p), Some(&u)) = (self.partials.get_mut(g), self.unreadable.get(g)) else {
                    return Err(group_out_of_range(g, n));
                };
                let p = std::mem::replace(p, PartialProfile::new(ID));
                let l = g - first;
                let (a, z) = (starts.get(l).copied(), starts.get(l + 1).copied());
                let group = match (a, z) {
                    (Some(a), Some(z)) => rows.get_mut(a..z).unwrap_or(&mut []),
                    _ => &mut [],
                };
                f(&p, group, u)?;
            }
            b += 1;
        }
        self.partials = Vec::new();
        self.unreadable = Vec::new();
        self.measured = Vec::new();
        self.marks = Vec::new();
        self.buckets = Vec::new();
        self.decoded = Vec::new();
        self.total = 0;
        self.logged = 0;
        Ok(())
    }

    /// Event rows logged and not yet placed, and rows held by the groups'
    /// partial profiles.
    fn event_rows(&self) -> usize {
        self.buckets.iter().map(Bucket::len).sum::<usize>()
            + self
                .partials
                .iter()
                .map(PartialProfile::event_count)
                .sum::<usize>()
    }

    fn size(&self) -> usize {
        use std::mem::size_of;
        self.total
            + self.logged
            + self.buckets.capacity() * size_of::<Bucket>()
            + self.partials.capacity() * size_of::<PartialProfile>()
            + self.unreadable.capacity() * size_of::<u64>()
            + self.measured.capacity() * size_of::<usize>()
            + self.marks.capacity() * size_of::<u32>()
            + self.touched.capacity() * size_of::<usize>()
            + self.decoded.capacity() * size_of::<EventRow>()
            + self.caches.heap_bytes()
    }
}

/// Appends event rows of group `g` to its bucket's log, keeping `logged`
/// (the logs' heap bytes) current.
#[inline]
fn log(
    buckets: &mut [Bucket],
    logged: &mut usize,
    g: usize,
    events: &[EventRow],
    groups: usize,
) -> Result<()> {
    let Some(bucket) = buckets.get_mut(g >> BUCKET_SHIFT) else {
        return Err(group_out_of_range(g, groups));
    };
    // The mask keeps the place below `BUCKET_GROUPS`, a `Local`.
    let local = (g & (BUCKET_GROUPS - 1)) as Local;
    for &event in events {
        if let Some((before, after)) = bucket.push(local, event) {
            *logged = logged.saturating_sub(before).saturating_add(after);
        }
    }
    Ok(())
}

fn push(partial: &mut PartialProfile, fact: Fact) {
    match fact {
        Fact::Row(r) => partial.push_row(r),
        Fact::Wide(e) => partial.push_event(e),
        Fact::Consent(c) => partial.push_consent(c),
        Fact::Suppression(s) => partial.push_suppression(s),
        Fact::Erasure(e) => partial.push_erasure(e),
    }
}

/// Groups a bucket's logged rows by their place in the bucket, keeping
/// each group's rows in the order they came (a counting sort): the rows of
/// place `l` end up in `rows[starts[l]..starts[l + 1]]`.
fn group_rows(bucket: &Bucket, rows: &mut Vec<EventRow>, starts: &mut [usize; BUCKET_GROUPS + 1]) {
    starts.fill(0);
    for c in &bucket.chunks {
        for &l in &c.local {
            if let Some(s) = starts.get_mut(usize::from(l) + 1) {
                *s += 1;
            }
        }
    }
    let mut acc = 0;
    for s in starts.iter_mut() {
        acc += *s;
        *s = acc;
    }
    rows.clear();
    let Some(&fill) = bucket.chunks.first().and_then(|c| c.rows.first()) else {
        return;
    };
    rows.resize(acc, fill);
    let mut next = *starts;
    for c in &bucket.chunks {
        for (&l, &row) in c.local.iter().zip(&c.rows) {
            if let Some(at) = next.get_mut(usize::from(l)) {
                if let Some(slot) = rows.get_mut(*at) {
                    *slot = row;
                }
                *at += 1;
            }
        }
    }
}

#[cold]
fn group_out_of_range(g: usize, n: usize) -> DataFusionError {
    DataFusionError::Internal(format!("tactful: group index {g} of {n} groups"))
}

#[cold]
fn bad_state(a: &ArrayRef) -> DataFusionError {
    DataFusionError::Internal(format!("tactful: state column of type {}", a.data_type()))
}

/// State columns built one group after another: the engine's encoding of
/// each group's partial profile (fingerprinted, so another engine's bytes
/// are refused on merge) and the unreadable counts.
struct State {
    values: Vec<u8>,
    offsets: Vec<i64>,
    counts: Vec<u64>,
}

/// Bytes the engine's encoding takes per event row, and about how many per
/// group besides (header, id, counts, a few consent changes): the values
/// are reserved once, not regrown and copied as they fill.
const ROW_BYTES: usize = 23;
const GROUP_BYTES: usize = 64;

impl State {
    /// For `groups` groups holding `rows` event rows in all.
    fn new(groups: usize, rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(groups + 1);
        offsets.push(0);
        Self {
            values: Vec::with_capacity(
                rows.saturating_mul(ROW_BYTES)
                    .saturating_add(groups.saturating_mul(GROUP_BYTES)),
            ),
            offsets,
            counts: Vec::with_capacity(groups),
        }
    }

    fn push(&mut self, engine: &Engine, partial: &PartialProfile, unreadable: u64) -> Result<()> {
        self.push_with_rows(engine, partial, &[], unreadable)
    }

    /// As `push`, for `partial` with the event `rows` kept apart from it.
    fn push_with_rows(
        &mut self,
        engine: &Engine,
        partial: &PartialProfile,
        rows: &[EventRow],
        unreadable: u64,
    ) -> Result<()> {
        engine.encode_partial_with_rows(partial, rows, &mut self.values);
        self.offsets.push(offset(self.values.len())?);
        self.counts.push(unreadable);
        Ok(())
    }

    fn finish(self) -> Result<Vec<ArrayRef>> {
        let bytes = LargeBinaryArray::try_new(
            OffsetBuffer::new(self.offsets.into()),
            self.values.into(),
            None,
        )?;
        let counts = UInt64Array::from(self.counts);
        Ok(vec![Arc::new(bytes), Arc::new(counts)])
    }
}

/// The state columns of `partials` and their `unreadable` counts.
fn encode_state(
    config: &Config,
    partials: &[PartialProfile],
    unreadable: &[u64],
) -> Result<Vec<ArrayRef>> {
    let rows = partials.iter().map(PartialProfile::event_count).sum();
    let mut state = State::new(partials.len(), rows);
    for (g, p) in partials.iter().enumerate() {
        state.push(&config.engine, p, unreadable.get(g).copied().unwrap_or(0))?;
    }
    state.finish()
}

fn offset(len: usize) -> Result<i64> {
    i64::try_from(len)
        .map_err(|_| DataFusionError::Execution("tactful: state larger than i64".to_owned()))
}

/// The vectorized accumulator DataFusion uses for `GROUP BY`.
#[derive(Debug)]
pub(crate) struct ProfilesAccumulator {
    config: Arc<Config>,
    output: Output,
    groups: Groups,
}

impl ProfilesAccumulator {
    pub(crate) fn new(config: Arc<Config>, output: Output) -> Self {
        Self {
            config,
            output,
            groups: Groups::default(),
        }
    }
}

impl GroupsAccumulator for ProfilesAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.update(
            &self.config,
            values,
            group_indices,
            opt_filter,
            total_num_groups,
        )
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        if let EmitTo::First(_) = emit_to {
            let (partials, unreadable) = self.groups.take(emit_to);
            return output::evaluate(&self.config, self.output, &partials, &unreadable);
        }
        let mut answers = Answers::new(&self.config, self.output, self.groups.partials.len());
        self.groups
            .take_all(|p, rows, u| answers.push_with_rows(p, rows, u))?;
        answers.finish()
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        if let EmitTo::First(_) = emit_to {
            let (partials, unreadable) = self.groups.take(emit_to);
            return encode_state(&self.config, &partials, &unreadable);
        }
        let mut state = State::new(self.groups.partials.len(), self.groups.event_rows());
        let engine = &self.config.engine;
        self.groups
            .take_all(|p, rows, u| state.push_with_rows(engine, p, rows, u))?;
        state.finish()
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups
            .merge(&self.config, values, group_indices, total_num_groups)
    }

    /// Each row its own group: a partial profile of one fact (null when the
    /// row is filtered out or unreadable, then counted in the second column).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let n = values.first().map_or(0, |v| v.len());
        let mut caches = Caches::default();
        let mut rows = Rows::new(values, &mut caches, self.config.vocabulary())?;
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0i64);
        let mut valid = Vec::with_capacity(n);
        let mut counts = Vec::with_capacity(n);
        let mut one = PartialProfile::new(ID);
        for row in 0..n {
            let fact = if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                None
            } else {
                Some(rows.fact(row))
            };
            match fact {
                Some(Ok(fact)) => {
                    push(&mut one, fact);
                    self.config.engine.encode_partial(&one, &mut bytes);
                    one = PartialProfile::new(ID);
                    valid.push(true);
                    counts.push(0);
                }
                Some(Err(e)) if self.config.strict => {
                    return Err(DataFusionError::Execution(format!(
                        "tactful: unreadable row: {}",
                        e.0
                    )))
                }
                Some(Err(_)) => {
                    valid.push(false);
                    counts.push(1);
                }
                None => {
                    valid.push(false);
                    counts.push(0);
                }
            }
            offsets.push(offset(bytes.len())?);
        }
        let bytes = LargeBinaryArray::new(
            OffsetBuffer::new(offsets.into()),
            bytes.into(),
            Some(NullBuffer::from(valid)),
        );
        Ok(vec![Arc::new(bytes), Arc::new(UInt64Array::from(counts))])
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.groups.size()
    }
}

/// The one-group accumulator DataFusion needs beside the vectorized one
/// (without `GROUP BY`, or in window frames). Evaluating does not consume
/// the state.
#[derive(Debug)]
pub(crate) struct ProfileAccumulator {
    config: Arc<Config>,
    output: Output,
    groups: Groups,
    zeros: Vec<usize>,
}

impl ProfileAccumulator {
    pub(crate) fn new(config: Arc<Config>, output: Output) -> Self {
        let mut groups = Groups::default();
        groups.resize(1);
        Self {
            config,
            output,
            groups,
            zeros: Vec::new(),
        }
    }

    fn zeros(&mut self, n: usize) -> Vec<usize> {
        let mut z = std::mem::take(&mut self.zeros);
        z.clear();
        z.resize(n, 0);
        z
    }
}

impl Accumulator for ProfileAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let z = self.zeros(values.first().map_or(0, |v| v.len()));
        let done = self.groups.update(&self.config, values, &z, None, 1);
        self.zeros = z;
        done
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let (partials, unreadable) = self.groups.placed();
        let a = output::evaluate(&self.config, self.output, partials, unreadable)?;
        ScalarValue::try_from_array(&a, 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.groups.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (partials, unreadable) = self.groups.placed();
        encode_state(&self.config, partials, unreadable)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let z = self.zeros(states.first().map_or(0, |v| v.len()));
        let done = self.groups.merge(&self.config, states, &z, 1);
        self.zeros = z;
        done
    }
}
