//! Times the random-access limit: 10M random `f64` additions into a
//! `Vec<f64>` the size of the (profile, interest) space (100k x 256 cells),
//! best of 3, and prints one JSON line.

// Indices are generated below `cells` right here; plain indexing is the point
// of this baseline.
#![allow(clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::Instant;

fn main() {
    const UPDATES: usize = 10_000_000;
    let cells = 100_000_usize * 256;
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let idx: Vec<u32> = (0..UPDATES)
        .map(|_| (next() % cells as u64) as u32)
        .collect();
    let vals: Vec<f64> = (0..UPDATES)
        .map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64)
        .collect();
    let mut table = vec![0.0_f64; cells];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t0 = Instant::now();
        for (&i, &v) in idx.iter().zip(&vals) {
            table[i as usize] += v;
        }
        black_box(&table);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "{{\"bench\": \"random_access_limit\", \"updates\": {UPDATES}, \"cells\": {cells}, \"best_s\": {best:.4}, \"updates_per_s\": {}}}",
        (UPDATES as f64 / best).round() as u64
    );
}
