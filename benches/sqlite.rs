//! Criterion benchmarks of the SQLite store (feature `sqlite`) on the bench
//! profile (1,000 events), in WAL mode with `synchronous = NORMAL`, beside
//! the in-memory work it wraps so the ratio is visible in one run:
//!
//! - record one event through the store (load, record, store, commit),
//!   beside the in-memory `Engine::record`;
//! - 100 records per transaction (throughput per event);
//! - load plus decide per request, beside decide on a loaded profile and
//!   decoding the same bytes without SQLite.
//!
//! The profile is put back to its 1,000 events every 100 records, outside
//! the timed part, so every timed record works on a profile of 1,000 to
//! 1,100 events.
//!
//! Run with `cargo bench --features sqlite --bench sqlite`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use common::{fixture, EVENTS};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tactful::sqlite::SqliteStore;
use tactful::{Channel, Event, InterestId, MessageRequest, Purpose, Signal, Target};
use time::{Duration, OffsetDateTime};

const ID: &str = "bench";
/// Records between two resets of the profile.
const RESET_EVERY: u64 = 100;

struct Db(PathBuf);

impl Db {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tactful-bench-sqlite-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `k`-th event after a reset: a new instant just before `now`.
fn event(interest: InterestId, now: OffsetDateTime, k: u64) -> Event {
    let ms = i64::try_from(k % RESET_EVERY + 1).unwrap();
    Event::new(interest, Signal::View, now - Duration::milliseconds(ms))
}

fn record(c: &mut Criterion) {
    let f = fixture();
    let (profile, now, leaf) = (f.profile.clone(), f.now, f.leaves[3]);
    let engine = Arc::new(f.engine);
    let db = Db::new();
    let mut store = SqliteStore::open(db.0.join("bench.db"), engine.clone()).unwrap();
    store.save(&profile).unwrap();
    assert_eq!(store.load(ID, now).unwrap().unwrap(), profile);

    let mut g = c.benchmark_group("sqlite_record");
    g.throughput(Throughput::Elements(1));
    g.bench_function("in_memory_record", |b| {
        b.iter_batched_ref(
            || profile.clone(),
            |p| engine.record(p, event(leaf, now, 0), now).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("store_record", |b| {
        b.iter_custom(|iters| {
            let mut timed = StdDuration::ZERO;
            for k in 0..iters {
                if k % RESET_EVERY == 0 {
                    store.save(&profile).unwrap();
                }
                let e = event(leaf, now, k);
                let start = Instant::now();
                store.record(ID, e, now).unwrap().unwrap();
                timed += start.elapsed();
            }
            timed
        })
    });
    g.throughput(Throughput::Elements(RESET_EVERY));
    g.bench_function("store_100_records_per_transaction", |b| {
        b.iter_custom(|iters| {
            let mut timed = StdDuration::ZERO;
            for _ in 0..iters {
                store.save(&profile).unwrap();
                let start = Instant::now();
                store
                    .transaction(now, |tx| {
                        for k in 0..RESET_EVERY {
                            tx.record(ID, event(leaf, now, k))?.unwrap();
                        }
                        Ok(())
                    })
                    .unwrap();
                timed += start.elapsed();
            }
            timed
        })
    });
    g.finish();
}

fn load_decide(c: &mut Criterion) {
    let f = fixture();
    let (profile, now) = (f.profile.clone(), f.now);
    let request = MessageRequest::new(Channel::Email, Purpose::Marketing)
        .about(Target::Interest(f.leaves[3]));
    let engine = Arc::new(f.engine);
    let bytes = engine.save_binary(&profile).unwrap();
    let db = Db::new();
    let mut store = SqliteStore::open(db.0.join("bench.db"), engine.clone()).unwrap();
    store.save(&profile).unwrap();

    let mut g = c.benchmark_group("sqlite_load_decide");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decide_loaded", |b| {
        b.iter(|| black_box(engine.decide(black_box(&profile), &request, now)))
    });
    g.bench_function("decode_binary_decide", |b| {
        b.iter(|| {
            let p = engine.load_profile_binary(black_box(&bytes), now).unwrap();
            black_box(engine.decide(&p, &request, now))
        })
    });
    g.bench_function("store_load_decide", |b| {
        b.iter(|| {
            let p = store.load(ID, now).unwrap().unwrap();
            black_box(engine.decide(&p, &request, now))
        })
    });
    g.finish();
    eprintln!(
        "bench profile: {EVENTS} events, {} bytes stored",
        bytes.len()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(StdDuration::from_secs(3));
    targets = record, load_decide
}
criterion_main!(benches);
