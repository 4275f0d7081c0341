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
    (series_key(r), r.at, r.weight.get().to_bits(), r.signal)
}

/// The series of an event, the first part of its [`store_key`]: interest,
/// class and whether it is a gift (below 2^40).
#[inline]
pub(super) fn series_key(r: &EventRow) -> u64 {
    (u64::from(r.interest.0) << 8) | (u64::from(r.class) << 1) | u64::from(r.gift)
}

/// Whether two events are of one series (equal [`series_key`]s), field by
/// field.
#[inline]
pub(super) fn same_series(a: &EventRow, b: &EventRow) -> bool {
    a.interest == b.interest && a.class == b.class && a.gift == b.gift
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

/// Puts the rows of one interest in store order: an insertion sort for
/// the usual few, a full sort for many (an insertion sort's worst case is
/// quadratic).
pub(super) fn order_interest(rows: &mut [EventRow]) {
    if rows.len() <= 32 {
        insertion_sort(rows);
    } else {
        // Rows of equal keys are equal in every field: no order to keep.
        rows.sort_unstable_by_key(store_key);
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::event::{Context, Source, Weight};
    use proptest::prelude::*;

    fn row(
        (interest, signal, at, source, gift, weight): (u32, usize, i64, bool, bool, u8),
    ) -> EventRow {
        EventRow::new(InterestId(interest), Signal::ALL[signal], at)
            .with_weight(Weight::new(f64::from(weight)).unwrap())
            .with_source(if source {
                Source::Partner
            } else {
                Source::FirstParty
            })
            .with_context(Context::OnSite)
            .with_gift(gift)
    }

    proptest! {
        /// Rows sorted by interest only, each interest's put in order, or
        /// rows in any order, sorted, end in the same store order as the
        /// full sort gives.
        #[test]
        fn nearly_sorted_rows_end_in_store_order(
            raw in prop::collection::vec(
                (0u32..12, 0..Signal::ALL.len(), 0i64..6, any::<bool>(), prop::bool::weighted(0.2), 0u8..3),
                0..200,
            ),
            by_interest: bool,
        ) {
            let mut rows: Vec<EventRow> = raw.into_iter().map(row).collect();
            if by_interest {
                rows.sort_by_key(|r| r.interest);
            }
            let mut want = rows.clone();
            want.sort_by_key(store_key);
            if by_interest {
                for group in rows.chunk_by_mut(|a, b| a.interest == b.interest) {
                    order_interest(group);
                }
            } else {
                let (mut keys, mut tmp, mut counts) = (Vec::new(), Vec::new(), vec![0u32; 12]);
                sort_store_order(&mut rows, &mut keys, &mut tmp, &mut counts);
            }
            prop_assert_eq!(rows, want);
        }
    }
}
