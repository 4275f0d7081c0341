//! The event log of the groups' rows: rows appended by bucket of
//! consecutive groups as they arrive, grouped per bucket when the groups are
//! taken.

use datafusion::common::{DataFusionError, Result};
use tactful::bulk::EventRow;

/// Groups per bucket of the event log (a power of two): a group's place in
/// its bucket fits a `Local`. A row is written to one of a bucket's two
/// streams (places and rows), so fewer buckets keep fewer streams open:
/// with 100k groups, 98 buckets of 1,024 groups write about 200 streams,
/// whose open cache lines and pages the first-level cache and the TLB hold,
/// where 391 buckets of 256 groups wrote about 800.
pub(crate) const BUCKET_SHIFT: u32 = 10;
pub(crate) const BUCKET_GROUPS: usize = 1 << BUCKET_SHIFT;

/// A group's place in its bucket.
pub(crate) type Local = u16;

/// Rows per chunk of a bucket's log: a full chunk (about 100 KB) is never
/// regrown and copied; the next row starts a new one.
const CHUNK_ROWS: usize = 4096;

/// Logged event rows of `BUCKET_GROUPS` consecutive groups, in arrival
/// order, each with the group's place in the bucket.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
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

    pub(crate) fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.heap_bytes() + std::mem::size_of::<Chunk>())
            .sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Each logged row with its group's place, in the order they came.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Local, EventRow)> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.local.iter().copied().zip(c.rows.iter().copied()))
    }

    pub(crate) fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.rows.len()).sum()
    }
}

/// Appends event rows of group `g` to its bucket's log, keeping `logged`
/// (the logs' heap bytes) current.
#[inline]
pub(crate) fn log(
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

/// Groups a bucket's logged rows by their place in the bucket, keeping
/// each group's rows in the order they came (a counting sort): the rows of
/// place `l` end up in `rows[starts[l]..starts[l + 1]]`.
pub(crate) fn group_rows(
    bucket: &Bucket,
    rows: &mut Vec<EventRow>,
    starts: &mut [usize; BUCKET_GROUPS + 1],
) {
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
pub(crate) fn group_out_of_range(g: usize, n: usize) -> DataFusionError {
    DataFusionError::Internal(format!("tactful: group index {g} of {n} groups"))
}
