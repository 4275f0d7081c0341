//! Criterion benches for `tactful::bulk`, the exact bulk path: the same
//! 1M events (100 per person, 10,000 people, ages uniform in 0..120 days,
//! shaped like `peers.py generate`) with the workload's consent log and
//! suppressions (`examples/common/workload.rs`), scored
//!
//! - `exact/T`: `Engine::summarize_all` on T threads: scores, segments and
//!   refusals equal to recording every event;
//! - `raw_kernel/T`: the raw decay kernel (`batch::RawDecayKernel`), which
//!   applies none of the rules (its sums, for the ratio);
//! - `record_each/1`: today's alternative to the bulk path: group, then
//!   `Engine::record` every event at its instant and `Engine::scores`.
//!
//! The 10M-event comparison with Polars, DuckDB and NumPy runs through the
//! `bulk_score` and `batch_score` examples on the file of `peers.py
//! generate` (see the README).

// Bench code, not library code: inputs are generated in range right here,
// and a bad setup should abort the bench loudly.
#![allow(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tactful::batch::{BatchParams, EventColumns, RawDecayKernel, DAY_SECS};
use tactful::bulk::{EventRows, Rows, TimeUnit};
use tactful::prelude::*;

#[path = "../examples/common/workload.rs"]
#[allow(dead_code)]
mod workload;

const PEOPLE: u32 = 10_000;
const EVENTS: usize = 1_000_000;

struct Events {
    person: Vec<u32>,
    key: Vec<u16>,
    ts: Vec<i64>,
    weight: Vec<f32>,
}

fn events() -> Events {
    let mut rng = SmallRng::seed_from_u64(42);
    let mut e = Events {
        person: vec![],
        key: vec![],
        ts: vec![],
        weight: vec![],
    };
    for _ in 0..EVENTS {
        e.person.push(rng.random_range(0..PEOPLE));
        e.key.push(rng.random_range(0..256u16));
        e.ts.push(workload::NOW - rng.random_range(0..120 * DAY_SECS));
        e.weight.push(rng.random_range(0.5_f32..2.0));
    }
    e
}

fn bulk(c: &mut Criterion) {
    let e = events();
    let engine = workload::engine().unwrap();
    let ids = workload::interests(&engine).unwrap();
    let people = workload::people(PEOPLE);
    let consents = workload::consents(PEOPLE);
    let suppressions = workload::suppressions(&engine, PEOPLE).unwrap();
    let now = workload::now();

    let mut group = c.benchmark_group("bulk_1m");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(EVENTS as u64));
    for threads in [1, 2] {
        let t = NonZeroUsize::new(threads).unwrap();
        group.bench_function(BenchmarkId::new("exact", threads), |b| {
            b.iter(|| {
                // Timed as the example times it: the columns become rows.
                let interest: Vec<InterestId> =
                    e.key.iter().map(|&k| ids[usize::from(k)]).collect();
                let weight: Vec<f64> = e.weight.iter().map(|&w| f64::from(w)).collect();
                let events =
                    EventRows::new(&e.person, &interest, &e.ts, TimeUnit::Seconds, &weight)
                        .unwrap();
                let rows = Rows {
                    consents: &consents,
                    suppressions: &suppressions,
                    ..Rows::events(events)
                };
                black_box(engine.summarize_all(&people, rows, now, t).unwrap().len())
            })
        });
    }
    let params = BatchParams::builder()
        .now(workload::NOW)
        .half_life_days(14.0)
        .max_age_secs(56 * DAY_SECS)
        .build()
        .unwrap();
    let cols = EventColumns::new(&e.person, &e.key, &e.ts, &e.weight).unwrap();
    let mut threads = vec![1];
    if cfg!(feature = "rayon") {
        threads.push(2);
    }
    for t in threads {
        let mut kernel = RawDecayKernel::with_threads(t).unwrap();
        group.bench_function(BenchmarkId::new("raw_kernel", t), |b| {
            b.iter(|| black_box(kernel.score(black_box(&cols), &params).sum_scores()))
        });
    }
    group.bench_function(BenchmarkId::new("record_each", 1), |b| {
        b.iter(|| {
            let mut order: Vec<usize> = (0..EVENTS).collect();
            order.sort_unstable_by_key(|&i| (e.person[i], e.ts[i]));
            let mut profiles = people.clone();
            for (p, c) in &consents {
                profiles[*p as usize].consent_mut().record(c.clone()).ok();
            }
            for (p, s) in &suppressions {
                engine.suppress(&mut profiles[*p as usize], *s, s.since());
            }
            for i in order {
                let at = time::OffsetDateTime::from_unix_timestamp(e.ts[i]).unwrap();
                let ev = Event::new(ids[usize::from(e.key[i])], Signal::View, at)
                    .with_weight(f64::from(e.weight[i]))
                    .unwrap();
                let _ = engine.record(&mut profiles[e.person[i] as usize], ev, at);
            }
            black_box(
                profiles
                    .iter()
                    .map(|p| engine.scores(p, now).score(ids[0]))
                    .sum::<f64>(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bulk);
criterion_main!(benches);
