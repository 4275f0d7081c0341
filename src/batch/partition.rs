//! The radix partitioning by profile: scatter of events into per-partition
//! records, and their accumulation in cache-resident tables.

use super::decay_table::{age_of, DecayTable};
use super::{BatchParams, EventColumns};

/// log2 of the number of cells of one partition table (2^16 cells of 16 bytes
/// fill a 1 MiB L2; measured best among 12..=18 on the 10M-event benchmark).
pub(super) const PART_CELL_BITS: u32 = 16;

/// One accumulated event ready for a partition table.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rec {
    pub(super) value: f64,
    pub(super) cell: u32,
}

/// One accumulator cell.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cell {
    pub(super) sum: f64,
    pub(super) count: u32,
}

/// One output pair.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PairScore {
    pub(super) score: f64,
    pub(super) profile: u32,
    pub(super) count: u32,
    pub(super) interest: u16,
}

/// Geometry of the profile partitioning.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Layout {
    /// Profile bits resolved inside a partition.
    pub(super) shift: u32,
    /// Bits of the interest field in a cell index.
    pub(super) wbits: u32,
    /// Number of partitions.
    pub(super) parts: usize,
    /// Cells per partition table.
    pub(super) cells: usize,
}

impl Layout {
    pub(super) fn new(max_profile: u32, max_interest: u16) -> Self {
        let wbits = u16::BITS - max_interest.leading_zeros();
        let shift = PART_CELL_BITS.saturating_sub(wbits);
        let parts = usize::try_from(max_profile >> shift)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        Self {
            shift,
            wbits,
            parts,
            cells: 1_usize << (shift + wbits),
        }
    }

    #[inline(always)]
    pub(super) fn partition(&self, profile: u32) -> usize {
        (profile >> self.shift) as usize
    }

    #[inline(always)]
    pub(super) fn cell(&self, profile: u32, interest: u16) -> u32 {
        ((profile & ((1 << self.shift) - 1)) << self.wbits) | u32::from(interest)
    }
}

/// Per-worker scatter state for one chunk of events.
#[derive(Debug, Default)]
pub(super) struct ScatterBuf {
    pub(super) max_profile: u32,
    pub(super) max_interest: u16,
    /// Events that count, per partition.
    pub(super) counts: Vec<usize>,
    /// Start of each partition in `recs` (each partition has one slack slot).
    pub(super) starts: Vec<usize>,
    pub(super) cursor: Vec<usize>,
    pub(super) recs: Vec<Rec>,
}

impl ScatterBuf {
    pub(super) fn find_max(&mut self, ev: &EventColumns<'_>) {
        self.max_profile = ev.profiles.iter().copied().max().unwrap_or(0);
        self.max_interest = ev.interests.iter().copied().max().unwrap_or(0);
    }

    /// Counting sort of the counting events of `ev` into `recs` by partition.
    pub(super) fn scatter(
        &mut self,
        ev: &EventColumns<'_>,
        p: &BatchParams,
        decay: &DecayTable,
        layout: &Layout,
    ) {
        let max_age = p.max_age_secs as u64;
        let now = p.now;
        self.counts.clear();
        self.counts.resize(layout.parts, 0);
        for (&prof, &t) in ev.profiles.iter().zip(ev.ts) {
            let (_, valid) = age_of(now, t, max_age);
            if let Some(c) = self.counts.get_mut(layout.partition(prof)) {
                *c += usize::from(valid);
            }
        }
        self.starts.clear();
        let mut next = 0_usize;
        self.starts.extend(self.counts.iter().map(|&c| {
            let start = next;
            next += c + 1; // one slack slot absorbs the branch-free write of a skipped event
            start
        }));
        if self.recs.len() < next {
            self.recs.resize(next, Rec::default());
        }
        self.cursor.clear();
        self.cursor.extend_from_slice(&self.starts);
        for (((&prof, &int), &t), &w) in ev
            .profiles
            .iter()
            .zip(ev.interests)
            .zip(ev.ts)
            .zip(ev.weights)
        {
            let (age, valid) = age_of(now, t, max_age);
            let rec = Rec {
                value: f64::from(w) * decay.factor(age),
                cell: layout.cell(prof, int),
            };
            if let Some(c) = self.cursor.get_mut(layout.partition(prof)) {
                // Written unconditionally; a skipped event's record lands on a
                // slot that a later event of the partition overwrites, or on
                // the partition's slack slot.
                if let Some(slot) = self.recs.get_mut(*c) {
                    *slot = rec;
                }
                *c += usize::from(valid);
            }
        }
    }

    /// Records of partition `part`.
    pub(super) fn partition(&self, part: usize) -> &[Rec] {
        match (self.starts.get(part), self.counts.get(part)) {
            (Some(&s), Some(&c)) => self.recs.get(s..s + c).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// Per-worker accumulation state and output.
#[derive(Debug, Default)]
pub(super) struct AccumBuf {
    pub(super) cells: Vec<Cell>,
    pub(super) out: Vec<PairScore>,
    pub(super) sum: f64,
    pub(super) qualifying: usize,
}

impl AccumBuf {
    pub(super) fn reset_output(&mut self) {
        self.out.clear();
        self.sum = 0.0;
        self.qualifying = 0;
    }

    /// Makes `cells` at least `n` long; cells are kept zeroed between uses.
    pub(super) fn ensure_cells(&mut self, n: usize) {
        if self.cells.len() < n {
            self.cells.resize(n, Cell::default());
        }
    }

    #[inline(always)]
    pub(super) fn emit(&mut self, p: &BatchParams, profile: u32, interest: u16, cell: Cell) {
        self.sum += cell.sum;
        self.qualifying += usize::from(cell.sum >= p.min_score && cell.count >= p.min_count);
        self.out.push(PairScore {
            score: cell.sum,
            profile,
            count: cell.count,
            interest,
        });
    }

    /// Accumulates partitions `parts` from all scatter buffers.
    pub(super) fn accumulate(
        &mut self,
        parts: std::ops::Range<usize>,
        scatter: &[ScatterBuf],
        p: &BatchParams,
        layout: &Layout,
    ) {
        self.reset_output();
        self.ensure_cells(layout.cells);
        let wmask = (1_u32 << layout.wbits) - 1;
        for part in parts {
            let mut n = 0_usize;
            for buf in scatter {
                let recs = buf.partition(part);
                n += recs.len();
                for r in recs {
                    if let Some(c) = self.cells.get_mut(r.cell as usize) {
                        c.sum += r.value;
                        c.count += 1;
                    }
                }
            }
            if n == 0 {
                continue;
            }
            // `part < layout.parts <= (u32::MAX >> shift) + 1`, so this fits.
            let base = (part as u32) << layout.shift;
            // Emit each touched cell once, at its first record, and re-zero it.
            let mut cells = std::mem::take(&mut self.cells);
            for buf in scatter {
                for r in buf.partition(part) {
                    if let Some(c) = cells.get_mut(r.cell as usize) {
                        if c.count != 0 {
                            let profile = base | (r.cell >> layout.wbits);
                            self.emit(p, profile, (r.cell & wmask) as u16, *c);
                            *c = Cell::default();
                        }
                    }
                }
            }
            self.cells = cells;
        }
    }
}
