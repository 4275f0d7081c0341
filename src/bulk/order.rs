//! The store's order of a person's event rows: series by interest and
//! class (gifts aside), then instant, weight and signal. Duplicates become
//! neighbours, and the admitted rows come out in the order the plain
//! scoring pass sums them, so the sums match it bit for bit.

use crate::event::Signal;
use crate::taxonomy::InterestId;

use super::partial::EventRow;

/// The store order of an event (series by interest and class, gifts kept
/// aside, then instant, weight, signal): duplicates are neighbours and the
/// admitted events come out in the order the plain pass sums them.
pub(super) fn store_key(r: &EventRow) -> (u64, i64, u64, Signal) {
    (
        (u64::from(r.interest.0) << 8) | (u64::from(r.class) << 1) | u64::from(r.gift),
        r.at,
        r.weight.get().to_bits(),
        r.signal,
    )
}

/// Puts `rows` in store order ([`store_key`]) by sorting one `u128` per row
/// — series (37 bits), instant (64 bits, sign flipped), row index (24 bits)
/// — then ordering the rare rows of one series at one instant by weight and
/// signal. `keys` and `tmp` are reused buffers.
pub(super) fn sort_store_order(
    rows: &mut [EventRow],
    keys: &mut Vec<u128>,
    tmp: &mut Vec<EventRow>,
    counts: &mut [u32],
) {
    if counting_sort(rows, tmp, counts) {
        return;
    }
    if rows.len() >= 1 << 24 {
        rows.sort_unstable_by_key(store_key);
        return;
    }
    keys.clear();
    keys.extend(rows.iter().enumerate().map(|(i, r)| {
        let series = store_key(r).0;
        let at = (r.at as u64) ^ (1 << 63);
        (u128::from(series) << 88) | (u128::from(at) << 24) | i as u128
    }));
    keys.sort_unstable();
    tmp.clear();
    tmp.extend(
        keys.iter()
            .filter_map(|&k| rows.get((k & 0xFF_FFFF) as usize))
            .copied(),
    );
    let mut i = 0;
    while i < keys.len() {
        let head = keys.get(i).map(|k| k >> 24);
        let mut j = i + 1;
        while j < keys.len() && keys.get(j).map(|k| k >> 24) == head {
            j += 1;
        }
        if j - i > 1 {
            if let Some(run) = tmp.get_mut(i..j) {
                run.sort_unstable_by_key(store_key);
            }
        }
        i = j;
    }
    rows.copy_from_slice(tmp);
}

/// Store order by a counting sort on the interest (one bucket per interest
/// of a taxonomy of at most 1,024) and an insertion sort inside each
/// interest's few rows: linear for the usual person. `false` (rows
/// untouched) when the taxonomy is larger or a bucket holds many rows.
fn counting_sort(rows: &mut [EventRow], tmp: &mut Vec<EventRow>, counts: &mut [u32]) -> bool {
    let buckets = counts.len();
    if buckets == 0 || buckets > 1024 || rows.len() < 8 || rows.len() >= u32::MAX as usize {
        return false;
    }
    if rows.iter().any(|r| r.interest.index() >= buckets) {
        return false;
    }
    for r in rows.iter() {
        if let Some(c) = counts.get_mut(r.interest.index()) {
            *c += 1;
        }
    }
    let mut sum = 0u32;
    let mut widest = 0u32;
    for c in counts.iter_mut() {
        let n = *c;
        widest = widest.max(n);
        *c = sum;
        sum += n;
    }
    tmp.clear();
    tmp.resize(rows.len(), EventRow::new(InterestId(0), Signal::View, 0));
    for r in rows.iter() {
        if let Some(c) = counts.get_mut(r.interest.index()) {
            if let Some(slot) = tmp.get_mut(*c as usize) {
                *slot = *r;
            }
            *c += 1;
        }
    }
    counts.iter_mut().for_each(|c| *c = 0);
    if widest > 32 {
        // Many rows of one interest: a comparison sort does better.
        tmp.sort_by_key(store_key);
    } else {
        // Each interest's rows: an insertion sort on the rest of the key.
        let mut i = 0;
        while i < tmp.len() {
            let interest = tmp.get(i).map(|r| r.interest);
            let mut j = i + 1;
            while j < tmp.len() && tmp.get(j).map(|r| r.interest) == interest {
                j += 1;
            }
            if let Some(run) = tmp.get_mut(i..j) {
                insertion_sort(run);
            }
            i = j;
        }
    }
    rows.copy_from_slice(tmp);
    true
}

fn insertion_sort(run: &mut [EventRow]) {
    for i in 1..run.len() {
        let mut j = i;
        while j > 0 && run.get(j).map(store_key) < run.get(j - 1).map(store_key) {
            run.swap(j, j - 1);
            j -= 1;
        }
    }
}
