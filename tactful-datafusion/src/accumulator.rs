//! The accumulators: one partial profile (the person's fact rows) per group,
//! shipped between aggregation phases as the engine's binary encoding and
//! merged by union, so any split of the rows gives the same answer.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, LargeBinaryArray, UInt64Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use tactful::bulk::{EventRow, PartialProfile};
use tactful::Engine;

use crate::facts::{Caches, Fact, Rows};
use crate::log::{group_out_of_range, group_rows, log, Bucket, BUCKET_GROUPS, BUCKET_SHIFT};
use crate::output::{self, Answers, Output};
use crate::state::{encode_state, offset, State, ROW_BYTES};
use crate::{Config, ID};

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
    /// Merged state columns, kept as they came: each value is decoded
    /// straight into its group's rows when the groups are taken, not
    /// decoded, logged and grouped again as it arrives.
    held: Vec<LargeBinaryArray>,
    /// The values of `held` not yet read, with their groups.
    pending: Vec<Pending>,
    /// Memory of the arrays in `held`, each buffer counted once.
    held_bytes: usize,
    /// The values buffers counted in `held_bytes`, by address (they stay
    /// alive while held).
    held_buffers: HashSet<usize>,
    /// Event rows read from held values.
    decoded: Vec<EventRow>,
}

/// A merged state value not yet read: row `row` of `held[array]`, for
/// group `group`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    group: u32,
    array: u32,
    row: u32,
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
        let array = u32::try_from(self.held.len()).map_err(|_| too_many_states())?;
        let mut kept = false;
        for (row, &g) in group_indices.iter().enumerate() {
            let (Some(unreadable), Some(mark)) =
                (self.unreadable.get_mut(g), self.marks.get_mut(g))
            else {
                return Err(group_out_of_range(g, total_num_groups));
            };
            if bytes.is_valid(row) {
                // Another format or taxonomy is refused now; the rest of
                // the value is checked when it is read.
                config
                    .engine
                    .check_partial_header(bytes.value(row))
                    .map_err(|e| DataFusionError::Execution(format!("tactful: {e}")))?;
                let (Ok(group), Ok(at)) = (u32::try_from(g), u32::try_from(row)) else {
                    return Err(group_out_of_range(g, total_num_groups));
                };
                self.pending.push(Pending {
                    group,
                    array,
                    row: at,
                });
                kept = true;
            }
            if counts.is_valid(row) {
                *unreadable = unreadable.saturating_add(counts.value(row));
            }
            if *mark != self.epoch {
                *mark = self.epoch;
                self.touched.push(g);
            }
        }
        if kept {
            // Slices of one array (DataFusion hands a large state over in
            // batches) share its buffers: counted once.
            if self.held_buffers.insert(bytes.values().as_ptr() as usize) {
                self.held_bytes = self
                    .held_bytes
                    .saturating_add(bytes.get_array_memory_size());
            }
            self.held.push(bytes.clone());
        }
        self.remeasure();
        Ok(())
    }

    /// Reads the held value `p` into `partial` (its other facts) and
    /// `rows` (its event rows, appended).
    fn read_pending(
        held: &[LargeBinaryArray],
        engine: &Engine,
        p: Pending,
        partial: &mut PartialProfile,
        rows: &mut Vec<EventRow>,
    ) -> Result<()> {
        let Some(bytes) = held.get(p.array as usize) else {
            return Err(DataFusionError::Internal(format!(
                "tactful: held state {} of {}",
                p.array,
                held.len()
            )));
        };
        let rest = engine
            .decode_partial_rows(bytes.value(p.row as usize), rows)
            .map_err(|e| DataFusionError::Execution(format!("tactful: {e}")))?;
        // Another person's bytes are refused by the merge, even when they
        // hold event rows only.
        if !rest.is_empty() || rest.id() != partial.id() {
            partial
                .merge(rest)
                .map_err(|e| DataFusionError::Execution(format!("tactful: {e}")))?;
        }
        Ok(())
    }

    /// Reads every held value into its group's partial profile.
    fn place_held(&mut self, engine: &Engine) -> Result<()> {
        for p in std::mem::take(&mut self.pending) {
            let g = p.group as usize;
            let n = self.partials.len();
            let partial = self
                .partials
                .get_mut(g)
                .ok_or_else(|| group_out_of_range(g, n))?;
            self.decoded.clear();
            Self::read_pending(&self.held, engine, p, partial, &mut self.decoded)?;
            partial.reserve_events(self.decoded.len());
            for &r in &self.decoded {
                partial.push_row(r);
            }
            self.touched.push(g);
        }
        self.remeasure();
        self.held = Vec::new();
        self.held_bytes = 0;
        self.held_buffers = HashSet::new();
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
        if bucket.is_empty() {
            return;
        }
        let first = b << BUCKET_SHIFT;
        let groups = self.partials.get_mut(first..).map_or(&mut [][..], |p| {
            let n = p.len().min(BUCKET_GROUPS);
            p.get_mut(..n).unwrap_or(&mut [])
        });
        let mut counts = [0usize; BUCKET_GROUPS];
        for (l, _) in bucket.entries() {
            if let Some(c) = counts.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        for (p, &c) in groups.iter_mut().zip(&counts) {
            if c > 0 {
                p.reserve_events(c);
            }
        }
        for (l, row) in bucket.entries() {
            if let Some(p) = groups.get_mut(usize::from(l)) {
                p.push_row(row);
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

    /// Moves every logged event row and held state value into its group's
    /// partial profile.
    fn place(&mut self, engine: &Engine) -> Result<()> {
        for b in 0..self.buckets.len() {
            self.place_bucket(b);
        }
        self.place_held(engine)
    }

    /// The groups' partial profiles, every logged row and held value placed.
    fn placed(&mut self, engine: &Engine) -> Result<(&[PartialProfile], &[u64])> {
        self.place(engine)?;
        Ok((&self.partials, &self.unreadable))
    }

    fn take(
        &mut self,
        engine: &Engine,
        emit_to: EmitTo,
    ) -> Result<(Vec<PartialProfile>, Vec<u64>)> {
        self.place(engine)?;
        let partials = emit_to.take_needed(&mut self.partials);
        let unreadable = emit_to.take_needed(&mut self.unreadable);
        let measured = emit_to.take_needed(&mut self.measured);
        drop(emit_to.take_needed(&mut self.marks));
        self.total = self.total.saturating_sub(measured.iter().sum::<usize>());
        Ok((partials, unreadable))
    }

    /// Takes every group, calling `f` with each group's partial profile,
    /// its logged event rows (grouped, in the order they came) and its
    /// unreadable count, in group order. A bucket's rows are grouped just
    /// before its groups are given, and each group's facts are freed once
    /// `f` is done with them.
    fn take_all(
        &mut self,
        engine: &Engine,
        mut f: impl FnMut(&PartialProfile, &mut [EventRow], u64) -> Result<()>,
    ) -> Result<()> {
        let n = self.partials.len();
        // Held values in group order, each group's in the order they came
        // (a stable sort); `rest` is what later groups have left.
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|p| p.group);
        let mut rest = &pending[..];
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        self.held_buffers = HashSet::new();
        let mut joined = Vec::new();
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
                let mut p = std::mem::replace(p, PartialProfile::new(ID));
                let l = g - first;
                let (a, z) = (starts.get(l).copied(), starts.get(l + 1).copied());
                let group = match (a, z) {
                    (Some(a), Some(z)) => rows.get_mut(a..z).unwrap_or(&mut []),
                    _ => &mut [],
                };
                let k = rest.partition_point(|h| h.group as usize == g);
                let (mine, later) = rest.split_at(k);
                rest = later;
                if mine.is_empty() {
                    f(&p, group, u)?;
                } else {
                    // Held values are read straight after the logged rows.
                    joined.clear();
                    joined.extend_from_slice(group);
                    for &h in mine {
                        Self::read_pending(&held, engine, h, &mut p, &mut joined)?;
                    }
                    f(&p, &mut joined, u)?;
                }
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
        // About how many rows the held values carry (the estimate only
        // sizes a buffer).
        let held: usize = self
            .held
            .iter()
            .map(|a| {
                // The slice's own bytes, not its whole buffer's.
                let o = a.value_offsets();
                let span = o.last().copied().unwrap_or(0) - o.first().copied().unwrap_or(0);
                usize::try_from(span).unwrap_or(0) / ROW_BYTES
            })
            .sum();
        held + self.buckets.iter().map(Bucket::len).sum::<usize>()
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
            + self.held_bytes
            + self.held.capacity() * size_of::<LargeBinaryArray>()
            + self.pending.capacity() * size_of::<Pending>()
            + self.held_buffers.capacity() * size_of::<usize>()
            + self.caches.heap_bytes()
    }
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

#[cold]
fn too_many_states() -> DataFusionError {
    DataFusionError::Execution(
        "tactful: more than 2^32 state batches in one aggregation".to_owned(),
    )
}

#[cold]
fn bad_state(a: &ArrayRef) -> DataFusionError {
    DataFusionError::Internal(format!("tactful: state column of type {}", a.data_type()))
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
            let (partials, unreadable) = self.groups.take(&self.config.engine, emit_to)?;
            return output::evaluate(&self.config, self.output, &partials, &unreadable);
        }
        let mut answers = Answers::new(&self.config, self.output, self.groups.partials.len());
        self.groups.take_all(&self.config.engine, |p, rows, u| {
            answers.push_with_rows(p, rows, u)
        })?;
        answers.finish()
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        if let EmitTo::First(_) = emit_to {
            let (partials, unreadable) = self.groups.take(&self.config.engine, emit_to)?;
            return encode_state(&self.config, &partials, &unreadable);
        }
        let mut state = State::new(self.groups.partials.len(), self.groups.event_rows());
        let engine = &self.config.engine;
        self.groups.take_all(engine, |p, rows, u| {
            state.push_with_rows(engine, p, rows, u)
        })?;
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
        let (partials, unreadable) = self.groups.placed(&self.config.engine)?;
        let a = output::evaluate(&self.config, self.output, partials, unreadable)?;
        ScalarValue::try_from_array(&a, 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.groups.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (partials, unreadable) = self.groups.placed(&self.config.engine)?;
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
