//! Criterion benchmarks of the stored forms: saving and loading the bench
//! profile as JSON and in the binary form beside scoring it (the ratio the
//! targets are stated in), loading 100,000 events in ascending, descending
//! and random order, and hostile inputs that must be refused or loaded
//! within a bounded time.
//!
//! Run with `cargo bench --bench storage`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::Duration as StdDuration;

use common::{fixture, Rng, EVENTS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tactful::{
    DecayPolicy, Engine, Event, Evidence, Level, Limit, Profile, ProfileError, Purpose, Signal,
    Taxonomy,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn bench_bench_profile(c: &mut Criterion) {
    let f = fixture();
    let json = f.engine.save_json(&f.profile).unwrap();
    let bin = f.engine.save_binary(&f.profile).unwrap();
    assert_eq!(f.engine.load_profile(&json, f.now).unwrap(), f.profile);
    assert_eq!(
        f.engine.load_profile_binary(&bin, f.now).unwrap(),
        f.profile
    );
    eprintln!(
        "bench profile: {EVENTS} events; JSON {} bytes ({:.1} B/event), binary {} bytes ({:.1} B/event)",
        json.len(),
        json.len() as f64 / EVENTS as f64,
        bin.len(),
        bin.len() as f64 / EVENTS as f64,
    );
    let mut g = c.benchmark_group("store_profile");
    g.throughput(Throughput::Elements(EVENTS as u64));
    // The work a service does with a loaded profile: the ratios' baseline.
    g.bench_function("scores", |b| {
        b.iter(|| black_box(f.engine.scores(black_box(&f.profile), f.now)))
    });
    g.bench_function("save_binary", |b| {
        b.iter(|| black_box(f.engine.save_binary(black_box(&f.profile)).unwrap()))
    });
    g.bench_function("load_binary", |b| {
        b.iter(|| {
            black_box(
                f.engine
                    .load_profile_binary(black_box(&bin), f.now)
                    .unwrap(),
            )
        })
    });
    g.bench_function("save_json", |b| {
        b.iter(|| black_box(f.engine.save_json(black_box(&f.profile)).unwrap()))
    });
    g.bench_function("load_json", |b| {
        b.iter(|| black_box(f.engine.load_profile(black_box(&json), f.now).unwrap()))
    });
    g.finish();
}

/// An engine over 40 leaves and a profile with `n` events on them, one
/// every `step` seconds from `start`, every fiftieth a gift if `gifts`.
fn big(n: usize, gifts: bool) -> (Engine, Profile, OffsetDateTime) {
    let mut b = Taxonomy::builder();
    for t in 0..10 {
        for c in 0..4 {
            b = b.interest(&format!("topic{t:02}/sub{c}"));
        }
    }
    let engine = Engine::new(b.build().unwrap(), DecayPolicy::default());
    let leaves: Vec<_> = engine
        .taxonomy()
        .iter()
        .filter(|(_, p)| p.contains('/'))
        .map(|(i, _)| i)
        .collect();
    let start = datetime!(2026-09-01 0:00 UTC);
    let mut p = Profile::new("big");
    p.set_level(Level::FirstParty);
    p.consent_mut()
        .grant(
            Purpose::Personalization,
            start - Duration::days(1),
            None,
            Evidence::Ui("bench".into()),
        )
        .unwrap();
    let mut rng = Rng(7);
    let step = (180 * 86_400) / n as i64;
    for k in 0..n {
        let at = start + Duration::seconds(k as i64 * step.max(1));
        let leaf = leaves[rng.below(leaves.len() as u64) as usize];
        let e = Event::new(leaf, Signal::View, at).with_gift(gifts || rng.below(50) == 0);
        engine.record(&mut p, e, at).unwrap();
    }
    let now = start + Duration::days(181);
    (engine, p, now)
}

/// The JSON of `json` with its events in another order.
fn reorder(json: &str, order: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    let events = v["events"].as_array_mut().unwrap();
    match order {
        "ascending" => {}
        "descending" => events.reverse(),
        _ => {
            let mut rng = Rng(11);
            for i in (1..events.len()).rev() {
                events.swap(i, rng.below(i as u64 + 1) as usize);
            }
        }
    }
    serde_json::to_string(&v).unwrap()
}

fn bench_load_orders(c: &mut Criterion) {
    const N: usize = 100_000;
    let (engine, p, now) = big(N, false);
    let json = engine.save_json(&p).unwrap();
    let mut g = c.benchmark_group("load_100k");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for order in ["ascending", "descending", "random"] {
        let text = reorder(&json, order);
        assert_eq!(engine.load_profile(&text, now).unwrap(), p);
        g.bench_function(format!("json_{order}"), |b| {
            b.iter(|| black_box(engine.load_profile(black_box(&text), now).unwrap()))
        });
    }
    let bin = engine.save_binary(&p).unwrap();
    g.bench_function("binary", |b| {
        b.iter(|| black_box(engine.load_profile_binary(black_box(&bin), now).unwrap()))
    });
    let (gift_engine, gifts, gnow) = big(N, true);
    let text = reorder(&gift_engine.save_json(&gifts).unwrap(), "descending");
    g.bench_function("json_gifts_descending", |b| {
        b.iter(|| black_box(gift_engine.load_profile(black_box(&text), gnow).unwrap()))
    });
    g.finish();
}

/// Hostile inputs just under the 64 MiB limit: refused (or loaded) within
/// a bounded time, the cost of a limit never paid past it.
fn bench_hostile(c: &mut Criterion) {
    let (engine, p, now) = big(1_000, false);
    let json = engine.save_json(&p).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let one = serde_json::to_string(&v["events"][0]).unwrap();
    // As many events as fit in 61 MiB, in descending order: far past
    // `max_events`, under the size limit.
    let n_events = (61 << 20) / (one.len() + 1);
    let mut events = Vec::with_capacity(n_events);
    let start = datetime!(2026-09-01 0:00 UTC);
    for k in (0..n_events as i64).rev() {
        let at = (start + Duration::seconds(k))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        events.push(one.replace(&v["events"][0]["at"].as_str().unwrap().to_string(), &at));
    }
    let head = json.split("\"events\":").next().unwrap();
    let hostile = format!("{head}\"events\":[{}]}}", events.join(","));
    drop(events);
    assert!(hostile.len() < 64 << 20, "{}", hostile.len());
    eprintln!(
        "hostile descending input: {} bytes, {n_events} events",
        hostile.len()
    );
    assert!(matches!(
        engine.load_profile(&hostile, now),
        Err(ProfileError::TooLarge {
            limit: Limit::Events,
            ..
        })
    ));
    let mut g = c.benchmark_group("hostile_64mib");
    g.sample_size(10);
    g.bench_function("json_61mib_descending_refused", |b| {
        b.iter(|| black_box(engine.load_profile(black_box(&hostile), now).is_err()))
    });
    // Protective data has no count limit (adding it is never refused): a
    // 64 MiB profile of suppressions loads within the bound.
    let one = r#"{"scope":{"interest":"topic03/sub1"},"reason":"opt_out","since":"2026-09-01T00:00:00Z","until":null}"#;
    let n = (60 << 20) / (one.len() + 1);
    let list: Vec<String> = (0..n)
        .map(|k| {
            one.replace(
                "2026-09-01T00:00:00Z",
                &(start + Duration::seconds(k as i64))
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap(),
            )
        })
        .collect();
    let empty = engine.save_json(&Profile::new("s")).unwrap();
    let suppressions = empty.replace(
        "\"suppressions\":[]",
        &format!("\"suppressions\":[{}]", list.join(",")),
    );
    drop(list);
    assert!(suppressions.len() < 64 << 20);
    eprintln!(
        "suppressions input: {} bytes, {n} suppressions",
        suppressions.len()
    );
    g.bench_function("json_64mib_suppressions_loaded", |b| {
        b.iter(|| black_box(engine.load_profile(black_box(&suppressions), now).unwrap()))
    });
    drop(suppressions);
    // A damaged binary profile of the same size: refused by its checksum.
    let mut bin = engine.save_binary(&p).unwrap();
    bin.resize(hostile.len(), 0x5a);
    g.bench_function("binary_64mib_damaged_refused", |b| {
        b.iter(|| black_box(engine.load_profile_binary(black_box(&bin), now).is_err()))
    });
    drop(hostile);
    // Loading and merging two stored profiles with 60,000 tombstones each
    // (hand-written: the engine coalesces what it writes).
    let paths: Vec<&str> = engine.taxonomy().iter().map(|(_, p)| p).collect();
    let tombs = |offset: usize| -> String {
        let list: Vec<String> = (0..60_000usize)
            .map(|k| {
                let at = (start + Duration::seconds(k as i64))
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap();
                let path = paths[(k + offset) % paths.len()];
                format!(
                    r#"{{"scope":{{"interest":"{path}"}},"at":"{at}","signals_only":{}}}"#,
                    k % 3 == 0
                )
            })
            .collect();
        let empty = engine.save_json(&Profile::new("t")).unwrap();
        empty.replace(
            "\"tombstones\":[]",
            &format!("\"tombstones\":[{}]", list.join(",")),
        )
    };
    let (ta, tb) = (tombs(0), tombs(7));
    g.bench_function("load_and_merge_60k_tombstones_each", |b| {
        b.iter(|| {
            let mut x = engine.load_profile(black_box(&ta), now).unwrap();
            let y = engine.load_profile(black_box(&tb), now).unwrap();
            black_box(engine.merge(&mut x, &y))
        })
    });
    g.finish();
}

criterion_group! {
    name = storage;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(4));
    targets = bench_bench_profile, bench_load_orders, bench_hostile
}
criterion_main!(storage);
