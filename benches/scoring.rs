//! Criterion benchmarks of the hot paths: scoring a profile, evaluating
//! segments, and recording an event.
//!
//! Each group benches the engine beside a naive baseline written here (the
//! obvious O(interests x events) loops over the public API), so the ratio is
//! visible in one run. Inputs are built once, outside the timed closures, and
//! the baselines are checked against the engine before anything is timed.
//!
//! Run with `cargo bench --bench scoring`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tactful::decay::purposes_for;
use tactful::{Engine, Event, InterestId, Profile, Rule, SegmentDef, Signal};
use time::{Duration, OffsetDateTime};

mod common;

use common::{fixture, Fixture, EVENTS, SEGMENTS};

/// Score, usable events and establishment of one interest, the obvious way:
/// rescan every stored event, asking the ledger about each one. (Dislikes and
/// dismissals are left out: the bench profile has none.)
#[derive(Debug, Clone, Copy, PartialEq)]
struct NaiveScore {
    score: f64,
    events: u32,
    established: bool,
}

fn naive_interest(
    engine: &Engine,
    profile: &Profile,
    stored: &[Event],
    root: InterestId,
    now: OffsetDateTime,
) -> NaiveScore {
    let tax = engine.taxonomy();
    let policy = engine.policy();
    let ledger = profile.consent();
    let mut score = 0.0;
    let mut events = 0;
    let mut days: Vec<i64> = Vec::new();
    for e in stored {
        if !tax.is_within(e.interest(), root) || e.is_gift() || e.is_dismissal() || e.at() > now {
            continue;
        }
        if !profile.level().admits(e.source(), e.context()) {
            continue;
        }
        let suppressed = profile
            .suppressions()
            .iter()
            .any(|s| s.is_active(now) && s.covers_interest(tax, e.interest()));
        if suppressed {
            continue;
        }
        let consented = purposes_for(tax, e).iter().all(|p| {
            ledger.state(p, e.at()).is_granted()
                && ledger.state(p, now).is_granted()
                && ledger.last_withdrawal(p, now).is_none_or(|w| w <= e.at())
        });
        if !consented {
            continue;
        }
        if now - e.at() > policy.max_age_for(tax, e.interest(), e.source()) {
            continue;
        }
        score += policy.contribution(tax, e, now);
        events += 1;
        let day = e.at().unix_timestamp().div_euclid(86_400);
        if !days.contains(&day) {
            days.push(day);
        }
    }
    let established = events >= policy.min_events()
        && days.len() as u32 >= policy.min_days()
        && !tax.sensitivity(root).is_special();
    NaiveScore {
        score,
        events,
        established,
    }
}

fn naive_scores(
    engine: &Engine,
    profile: &Profile,
    stored: &[Event],
    now: OffsetDateTime,
) -> Vec<NaiveScore> {
    engine
        .taxonomy()
        .iter()
        .map(|(id, _)| naive_interest(engine, profile, stored, id, now))
        .collect()
}

/// Membership the obvious way: every interest a rule mentions is rescored
/// from the raw events.
fn naive_rule(
    engine: &Engine,
    profile: &Profile,
    stored: &[Event],
    rule: &Rule,
    now: OffsetDateTime,
) -> bool {
    let tax = engine.taxonomy();
    match rule {
        Rule::All(rs) => rs
            .iter()
            .all(|r| naive_rule(engine, profile, stored, r, now)),
        Rule::Any(rs) => rs
            .iter()
            .any(|r| naive_rule(engine, profile, stored, r, now)),
        Rule::Not(r) => !naive_rule(engine, profile, stored, r, now),
        Rule::InterestAtLeast {
            interest,
            min_score,
        } => {
            let s = naive_interest(engine, profile, stored, tax.id(interest).unwrap(), now);
            s.established && s.score >= *min_score
        }
        Rule::Interest(interest) => {
            naive_interest(engine, profile, stored, tax.id(interest).unwrap(), now).established
        }
        other => unimplemented!("the bench segments do not use {other:?}"),
    }
}

fn naive_segments<'d>(
    engine: &Engine,
    profile: &Profile,
    stored: &[Event],
    defs: &'d [SegmentDef],
    now: OffsetDateTime,
) -> Vec<&'d str> {
    defs.iter()
        .filter(|d| naive_rule(engine, profile, stored, &d.rule, now))
        .map(|d| d.name.as_str())
        .collect()
}

/// The baselines must agree with the engine, or the comparison is meaningless.
fn check_baselines(f: &Fixture) {
    let fast = f.engine.scores(&f.profile, f.now);
    let slow = naive_scores(&f.engine, &f.profile, &f.stored, f.now);
    let scan = f.engine.scores_by_scan(&f.profile, f.now);
    for (i, (id, _)) in f.engine.taxonomy().iter().enumerate() {
        let a = fast.get(id).copied().unwrap_or_default();
        let b = slow[i];
        assert!((a.score - b.score).abs() <= 1e-9 * a.score.max(1.0), "{id}");
        assert_eq!(a.events, b.events, "{id}");
        assert_eq!(a.established.is_some(), b.established, "{id}");
        let c = scan.get(id).copied().unwrap_or_default();
        assert!((a.score - c.score).abs() <= 1e-9 * a.score.max(1.0), "{id}");
        assert_eq!((a.events, a.established), (c.events, c.established), "{id}");
    }
    let members: Vec<String> = f
        .engine
        .segments(&f.profile, f.now)
        .into_iter()
        .map(|m| m.segment)
        .collect();
    let naive = naive_segments(&f.engine, &f.profile, &f.stored, &f.defs, f.now);
    assert_eq!(members, naive);
    assert_eq!(f.engine.segment_names(&f.profile, f.now), naive);
    eprintln!(
        "fixture: {} stored events over {} interests, {} of {SEGMENTS} segments match",
        f.profile.stored_events(),
        f.engine.taxonomy().len(),
        members.len()
    );
    assert!(
        !members.is_empty() && members.len() < SEGMENTS,
        "the bench segments should partly match, got {}",
        members.len()
    );
}

fn bench_score_profile(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("score_profile");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function("engine", |b| {
        b.iter(|| black_box(f.engine.scores(black_box(&f.profile), f.now)))
    });
    // The plain pass over the 1,000 events that the incremental path replaces.
    g.bench_function("one_pass", |b| {
        b.iter(|| black_box(f.engine.scores_by_scan(black_box(&f.profile), f.now)))
    });
    g.bench_function("naive", |b| {
        b.iter(|| {
            black_box(naive_scores(
                &f.engine,
                black_box(&f.profile),
                &f.stored,
                f.now,
            ))
        })
    });
    g.finish();
}

fn bench_segments(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("segments");
    g.throughput(Throughput::Elements(SEGMENTS as u64));
    g.bench_function("engine", |b| {
        b.iter(|| black_box(f.engine.segment_names(black_box(&f.profile), f.now)))
    });
    g.bench_function("engine_with_explanations", |b| {
        b.iter(|| black_box(f.engine.segments(black_box(&f.profile), f.now)))
    });
    // Scoring the profile once by scanning its events, then the rules.
    g.bench_function("one_pass", |b| {
        b.iter(|| black_box(f.engine.scores_by_scan(black_box(&f.profile), f.now)))
    });
    g.bench_function("naive", |b| {
        b.iter(|| {
            black_box(naive_segments(
                &f.engine,
                black_box(&f.profile),
                &f.stored,
                &f.defs,
                f.now,
            ))
        })
    });
    g.finish();
}

fn bench_record(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(1));
    let stored = Event::new(f.leaves[7], Signal::View, f.now);
    // Load, record, store: the profile comes fresh from storage (a clone made
    // outside the timing, its event vector exactly full, so the insert
    // reallocates) and takes one event.
    g.bench_function("stored_into_loaded_profile", |b| {
        b.iter_batched(
            || f.profile.clone(),
            |mut p| {
                f.engine.record(&mut p, stored, f.now).unwrap();
                p
            },
            BatchSize::SmallInput,
        )
    });
    // A profile kept in memory takes a stream of events with increasing
    // instants. Every chunk starts again from the 1,000-event profile (cloned
    // and its events built outside the timing); a chunk of 1,000 lets the
    // columns' growth amortize as it does in a long-lived profile.
    g.bench_function("stored_streaming", |b| {
        b.iter_custom(|iters| {
            const CHUNK: u64 = 1_000;
            let mut total = StdDuration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = CHUNK.min(iters - done);
                let mut p = f.profile.clone();
                let stream: Vec<(Event, OffsetDateTime)> = (0..n)
                    .map(|k| {
                        let at = f.now + Duration::seconds(k as i64 + 1);
                        (
                            Event::new(f.leaves[(k % 40) as usize], Signal::View, at),
                            at,
                        )
                    })
                    .collect();
                let start = Instant::now();
                for (e, at) in stream {
                    f.engine.record(&mut p, black_box(e), at).unwrap();
                }
                total += start.elapsed();
                black_box(&p);
                done += n;
            }
            total
        })
    });
    // Baseline: what storing costs without checks or aggregates, a sorted
    // `Vec<Event>` taking the same stream (the naive store).
    g.bench_function("naive_vec_insert", |b| {
        b.iter_custom(|iters| {
            const CHUNK: u64 = 1_000;
            let mut total = StdDuration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = CHUNK.min(iters - done);
                let mut events = f.stored.clone();
                let stream: Vec<Event> = (0..n)
                    .map(|k| {
                        let at = f.now + Duration::seconds(k as i64 + 1);
                        Event::new(f.leaves[(k % 40) as usize], Signal::View, at)
                    })
                    .collect();
                let start = Instant::now();
                for e in stream {
                    let e = black_box(e);
                    let pos = events.partition_point(|x| x.at() <= e.at());
                    events.insert(pos, e);
                }
                total += start.elapsed();
                black_box(&events);
                done += n;
            }
            total
        })
    });
    // Refused at the level check: nothing is inserted, a counter is bumped.
    let partner = stored.with_source(tactful::Source::Partner);
    g.bench_function("refused", |b| {
        b.iter_batched(
            || f.profile.clone(),
            |mut p| {
                f.engine.record(&mut p, partner, f.now).unwrap_err();
                p
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    check_baselines(&f);
    bench_score_profile(c, &f);
    bench_segments(c, &f);
    bench_record(c, &f);
}

criterion_group! {
    name = scoring;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(4));
    targets = benches
}
criterion_main!(scoring);
