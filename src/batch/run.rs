//! One run of the kernel over its reused buffers: the choice of strategy
//! and the partitioned, direct and sort passes.

use super::decay_table::{age_of, DecayTable};
use super::partition::{AccumBuf, Cell, Layout, ScatterBuf};
use super::{BatchParams, EventColumns, Strategy};

/// Largest number of profile partitions before the sort strategy is used.
pub(super) const MAX_PARTITIONS: usize = 1 << 20;
/// Largest dense table (cells, 16 bytes each) the direct strategy accepts.
pub(super) const MAX_DIRECT_CELLS: usize = 1 << 26;

/// Totals of the last run.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Totals {
    pub(super) events: usize,
    pub(super) pairs: usize,
    pub(super) qualifying: usize,
    pub(super) sum_scores: f64,
}

/// All reusable buffers.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) decay: DecayTable,
    pub(super) scatter: Vec<ScatterBuf>,
    pub(super) accum: Vec<AccumBuf>,
    pub(super) sort_buf: Vec<(u64, f64)>,
    pub(super) part_bounds: Vec<usize>,
    pub(super) active_accum: usize,
    pub(super) totals: Totals,
}

/// Runs `f(i, item)` for each item, in parallel with the `rayon` feature.
#[cfg(feature = "rayon")]
pub(super) fn for_each_indexed<T: Send, F: Fn(usize, &mut T) + Sync + Send>(items: &mut [T], f: F) {
    use rayon::prelude::*;
    items.par_iter_mut().enumerate().for_each(|(i, x)| f(i, x));
}

/// Runs `f(i, item)` for each item, in parallel with the `rayon` feature.
#[cfg(not(feature = "rayon"))]
pub(super) fn for_each_indexed<T, F: Fn(usize, &mut T)>(items: &mut [T], f: F) {
    items.iter_mut().enumerate().for_each(|(i, x)| f(i, x));
}

impl State {
    pub(super) fn run(
        &mut self,
        ev: &EventColumns<'_>,
        p: &BatchParams,
        threads: usize,
        strategy: Strategy,
    ) {
        let max_age = p.max_age_secs as u64;
        self.decay.ensure(p.half_life_secs, max_age);
        let n = ev.len();
        let workers = threads.max(1);
        if self.scatter.len() < workers {
            self.scatter.resize_with(workers, ScatterBuf::default);
        }
        if self.accum.len() < workers {
            self.accum.resize_with(workers, AccumBuf::default);
        }
        let chunk = n.div_ceil(workers).max(1);
        let scatter = self.scatter.get_mut(..workers).unwrap_or_default();
        for_each_indexed(scatter, |i, buf| {
            buf.find_max(&ev.rows(i * chunk, (i + 1) * chunk));
        });
        let max_profile = scatter.iter().map(|b| b.max_profile).max().unwrap_or(0);
        let max_interest = scatter.iter().map(|b| b.max_interest).max().unwrap_or(0);
        let layout = Layout::new(max_profile, max_interest);
        let dense_cells = layout.parts.saturating_mul(layout.cells);

        let use_sort = match strategy {
            Strategy::Sort => true,
            Strategy::Direct => dense_cells > MAX_DIRECT_CELLS,
            Strategy::Auto | Strategy::Partitioned => layout.parts > MAX_PARTITIONS,
        };
        if use_sort {
            self.run_sort(ev, p);
        } else if strategy == Strategy::Direct {
            self.run_direct(ev, p, &layout);
        } else {
            self.run_partitioned(ev, p, &layout, workers, chunk);
        }
        let active = self.accum.get(..self.active_accum).unwrap_or_default();
        self.totals = Totals {
            events: n,
            pairs: active.iter().map(|a| a.out.len()).sum(),
            qualifying: active.iter().map(|a| a.qualifying).sum(),
            sum_scores: active.iter().map(|a| a.sum).sum(),
        };
    }

    pub(super) fn run_partitioned(
        &mut self,
        ev: &EventColumns<'_>,
        p: &BatchParams,
        layout: &Layout,
        workers: usize,
        chunk: usize,
    ) {
        let decay = &self.decay;
        let scatter = self.scatter.get_mut(..workers).unwrap_or_default();
        for_each_indexed(scatter, |i, buf| {
            buf.scatter(&ev.rows(i * chunk, (i + 1) * chunk), p, decay, layout);
        });
        let scatter: &[ScatterBuf] = scatter;

        // Split the partitions into `workers` contiguous ranges of similar load.
        let total: usize = scatter.iter().flat_map(|b| b.counts.iter()).sum();
        let per_worker = total.div_ceil(workers).max(1);
        self.part_bounds.clear();
        self.part_bounds.push(0);
        let mut acc = 0_usize;
        for part in 0..layout.parts {
            acc += scatter
                .iter()
                .map(|b| b.counts.get(part).copied().unwrap_or(0))
                .sum::<usize>();
            if acc >= per_worker * self.part_bounds.len() && self.part_bounds.len() < workers {
                self.part_bounds.push(part + 1);
            }
        }
        while self.part_bounds.len() <= workers {
            self.part_bounds.push(layout.parts);
        }
        let bounds = &self.part_bounds;
        let accum = self.accum.get_mut(..workers).unwrap_or_default();
        for_each_indexed(accum, |i, acc| {
            let start = bounds.get(i).copied().unwrap_or(0);
            let end = bounds.get(i + 1).copied().unwrap_or(start);
            acc.accumulate(start..end, scatter, p, layout);
        });
        self.active_accum = workers;
    }

    pub(super) fn run_direct(&mut self, ev: &EventColumns<'_>, p: &BatchParams, layout: &Layout) {
        let max_age = p.max_age_secs as u64;
        self.active_accum = 1;
        let Some(acc) = self.accum.first_mut() else {
            return;
        };
        acc.reset_output();
        let wbits = u16::BITS
            - ev.interests
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
                .leading_zeros();
        let cells = layout.parts.saturating_mul(layout.cells);
        acc.ensure_cells(cells);
        let mut table = std::mem::take(&mut acc.cells);
        for (((&prof, &int), &t), &w) in ev
            .profiles
            .iter()
            .zip(ev.interests)
            .zip(ev.ts)
            .zip(ev.weights)
        {
            let (age, valid) = age_of(p.now, t, max_age);
            if valid {
                let idx = ((prof as usize) << wbits) | usize::from(int);
                if let Some(c) = table.get_mut(idx) {
                    c.sum += f64::from(w) * self.decay.factor(age);
                    c.count += 1;
                }
            }
        }
        let wmask = (1_usize << wbits) - 1;
        for (i, c) in table.iter_mut().take(cells).enumerate() {
            if c.count != 0 {
                // `i < cells <= 2^26`, so the profile fits in u32 and the
                // masked interest in u16.
                acc.emit(p, (i >> wbits) as u32, (i & wmask) as u16, *c);
                *c = Cell::default();
            }
        }
        acc.cells = table;
    }

    pub(super) fn run_sort(&mut self, ev: &EventColumns<'_>, p: &BatchParams) {
        let max_age = p.max_age_secs as u64;
        self.active_accum = 1;
        let Some(acc) = self.accum.first_mut() else {
            return;
        };
        acc.reset_output();
        let buf = &mut self.sort_buf;
        buf.clear();
        for (((&prof, &int), &t), &w) in ev
            .profiles
            .iter()
            .zip(ev.interests)
            .zip(ev.ts)
            .zip(ev.weights)
        {
            let (age, valid) = age_of(p.now, t, max_age);
            if valid {
                let key = (u64::from(prof) << 16) | u64::from(int);
                buf.push((key, f64::from(w) * self.decay.factor(age)));
            }
        }
        buf.sort_unstable_by_key(|r| r.0);
        let mut iter = buf.iter();
        let Some(&(mut key, first)) = iter.next() else {
            return;
        };
        let mut cell = Cell {
            sum: first,
            count: 1,
        };
        for &(k, v) in iter {
            if k == key {
                cell.sum += v;
                cell.count += 1;
            } else {
                acc.emit(p, (key >> 16) as u32, key as u16, cell);
                key = k;
                cell = Cell { sum: v, count: 1 };
            }
        }
        acc.emit(p, (key >> 16) as u32, key as u16, cell);
    }
}
