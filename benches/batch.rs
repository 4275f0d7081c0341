//! Criterion benches for `tactful::batch`, the raw decay kernel (raw decayed
//! sums that apply none of the engine's consent, level, suppression or
//! evidence rules; see the warning in its docs).
//!
//! Groups: `batch_1m` and `batch_10m` (tactful strategies against a naive
//! `HashMap` baseline on 100k profiles x 256 interests, ages uniform in
//! 0..120 days, weights uniform in 0.5..2.0) and `random_access_limit`
//! (10M random `f64` additions into a 25.6M-cell `Vec<f64>`).

// Bench code, not library code: inputs are generated in range right here, the
// baselines are meant to be the plain indexing loops, and a bad setup should
// abort the bench loudly.
#![allow(clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tactful::batch::{BatchParams, EventColumns, RawDecayKernel, Strategy, BENCH_NOW, DAY_SECS};

const PROFILES: u32 = 100_000;
const INTERESTS: u16 = 256;

/// Deterministic event columns shaped like `peers.py generate`.
struct Events {
    profiles: Vec<u32>,
    interests: Vec<u16>,
    ts: Vec<i64>,
    weights: Vec<f32>,
}

fn events(n: usize, seed: u64) -> Events {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut e = Events {
        profiles: Vec::with_capacity(n),
        interests: Vec::with_capacity(n),
        ts: Vec::with_capacity(n),
        weights: Vec::with_capacity(n),
    };
    for _ in 0..n {
        e.profiles.push(rng.random_range(0..PROFILES));
        e.interests.push(rng.random_range(0..INTERESTS));
        e.ts.push(BENCH_NOW - rng.random_range(0..120 * DAY_SECS));
        e.weights.push(rng.random_range(0.5_f32..2.0));
    }
    e
}

/// The obvious implementation: a `HashMap` keyed by pair, `exp2` per event.
fn naive(e: &Events, p: &BatchParams) -> (f64, usize, usize) {
    let mut map: HashMap<(u32, u16), (f64, u32)> = HashMap::new();
    for i in 0..e.profiles.len() {
        let age = p.now() - e.ts[i];
        if (0..=p.max_age_secs()).contains(&age) {
            let v = f64::from(e.weights[i]) * (-(age as f64) / p.half_life_secs()).exp2();
            let slot = map.entry((e.profiles[i], e.interests[i])).or_default();
            slot.0 += v;
            slot.1 += 1;
        }
    }
    let q = map
        .values()
        .filter(|(s, c)| *s >= p.min_score() && *c >= p.min_count())
        .count();
    (map.values().map(|v| v.0).sum(), map.len(), q)
}

fn bench_scoring(c: &mut Criterion, name: &str, n: usize) {
    let e = events(n, 42);
    let params = BatchParams::default();
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(if n > 1_000_000 { 8 } else { 3 }));
    group.throughput(Throughput::Elements(n as u64));
    let cols = match EventColumns::new(&e.profiles, &e.interests, &e.ts, &e.weights) {
        Ok(c) => c,
        Err(err) => panic!("bench input invalid: {err}"),
    };
    let mut thread_counts = vec![1];
    if cfg!(feature = "rayon") {
        thread_counts.push(2);
    }
    for &threads in &thread_counts {
        let mut kernel = match RawDecayKernel::with_threads(threads) {
            Ok(k) => k,
            Err(err) => panic!("no kernel: {err}"),
        };
        group.bench_function(BenchmarkId::new("tactful_partitioned", threads), |b| {
            b.iter(|| black_box(kernel.score(black_box(&cols), &params).sum_scores()))
        });
    }
    for (label, strategy) in [
        ("tactful_direct", Strategy::Direct),
        ("tactful_sort", Strategy::Sort),
    ] {
        let mut kernel = RawDecayKernel::new().with_strategy(strategy);
        group.bench_function(BenchmarkId::new(label, 1), |b| {
            b.iter(|| black_box(kernel.score(black_box(&cols), &params).sum_scores()))
        });
    }
    group.bench_function(BenchmarkId::new("naive_hashmap", 1), |b| {
        b.iter(|| black_box(naive(black_box(&e), &params)))
    });
    group.finish();
}

fn batch_1m(c: &mut Criterion) {
    bench_scoring(c, "batch_1m", 1_000_000);
}

fn batch_10m(c: &mut Criterion) {
    bench_scoring(c, "batch_10m", 10_000_000);
}

/// Upper bound for any scatter-accumulate: 10M random `+=` into a table the
/// size of the (profile, interest) space.
fn random_access_limit(c: &mut Criterion) {
    const UPDATES: usize = 10_000_000;
    let cells = PROFILES as usize * INTERESTS as usize;
    let mut rng = SmallRng::seed_from_u64(7);
    let idx: Vec<u32> = (0..UPDATES)
        .map(|_| rng.random_range(0..cells as u32))
        .collect();
    let vals: Vec<f64> = (0..UPDATES).map(|_| rng.random_range(0.0..1.0)).collect();
    let mut table = vec![0.0_f64; cells];
    let mut group = c.benchmark_group("random_access_limit");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(UPDATES as u64));
    group.bench_function("vec_f64_25.6m_cells_10m_updates", |b| {
        b.iter(|| {
            for (&i, &v) in idx.iter().zip(&vals) {
                table[i as usize] += v;
            }
            black_box(&table);
        })
    });
    group.finish();
}

criterion_group!(benches, batch_1m, batch_10m, random_access_limit);
criterion_main!(benches);
