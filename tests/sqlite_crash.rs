//! Crash safety: a child process records in a loop and acknowledges each
//! commit on stdout; the parent kills it with SIGKILL at a random moment,
//! reopens the file and finds it intact, with every acknowledged record.
//!
//! The moment is drawn from a seed printed at the start (run with
//! `--nocapture` to see it); set `TACTFUL_CRASH_SEED` to replay it.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroU32;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use tactful::sqlite::{SqliteStore, StoreOptions};
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const BASE: OffsetDateTime = datetime!(2026-11-01 0:00 UTC);
const CHILD_ENV: &str = "TACTFUL_SQLITE_CRASH_CHILD";
const PROFILES: u64 = 3;
/// Events per round at most (the child stops by itself after them).
const ROUND: u64 = 100_000;
/// Every this many iterations the child records into two profiles in one
/// transaction: after the crash both are stored or neither.
const PAIR_EVERY: u64 = 7;

fn now() -> OffsetDateTime {
    BASE + Duration::days(5)
}

fn engine() -> Arc<Engine> {
    let taxonomy = Taxonomy::builder()
        .interest("outdoor/hiking")
        .build()
        .unwrap();
    Arc::new(Engine::new(taxonomy, DecayPolicy::default()))
}

fn options() -> StoreOptions {
    StoreOptions::default()
        .busy_timeout(StdDuration::from_secs(30))
        .attempts(NonZeroU32::new(10).unwrap())
}

fn instant(i: u64) -> OffsetDateTime {
    BASE + Duration::seconds(i64::try_from(i).unwrap())
}

fn profile_of(i: u64) -> String {
    format!("p{}", i % PROFILES)
}

/// The second profile of a paired iteration.
fn partner_of(i: u64) -> String {
    format!("p{}", (i + 1) % PROFILES)
}

/// The child role: records from iteration `start` on, printing `@@ <i>`
/// after each commit has returned.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // Only a child spawned by the test below does anything.
    };
    let (start, db) = spec.split_once(':').unwrap();
    let start: u64 = start.parse().unwrap();
    let engine = engine();
    let hiking = engine.taxonomy().require("outdoor/hiking").unwrap();
    let mut store = SqliteStore::open_with(db, engine, options()).unwrap();
    let granted = BASE - Duration::days(1);
    for p in 0..PROFILES {
        store
            .update(format!("p{p}"), granted, |profile| {
                if profile.level() == Level::Off {
                    profile.set_level(Level::FirstParty);
                    profile
                        .consent_mut()
                        .grant(
                            Purpose::Personalization,
                            granted,
                            None,
                            Evidence::Ui("t".into()),
                        )
                        .unwrap();
                }
            })
            .unwrap();
    }
    let mut out = std::io::stdout().lock();
    for i in start..start + ROUND {
        let e = Event::new(hiking, Signal::View, instant(i));
        if i % PAIR_EVERY == 0 {
            store
                .transaction(now(), |tx| {
                    tx.record(profile_of(i), e)?.unwrap();
                    tx.record(partner_of(i), e)?.unwrap();
                    Ok(())
                })
                .unwrap();
        } else {
            store.record(profile_of(i), e, now()).unwrap().unwrap();
        }
        // Only now is the record acknowledged.
        writeln!(out, "@@ {i}").unwrap();
        out.flush().unwrap();
    }
}

/// xorshift64*: the test's own generator, so the seed replays exactly.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Runs one child from iteration `start`, kills it `delay_ms` after its
/// first acknowledgement, and returns the acknowledged iterations.
fn run_and_kill(db: &Path, start: u64, delay_ms: u64) -> Vec<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{start}:{}", db.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness may print before `@@` on the same line.
            if let Some(at) = line.find("@@ ") {
                if let Ok(i) = line[at + 3..].trim().parse::<u64>() {
                    if acked.is_empty() {
                        let _ = tx.send(());
                    }
                    acked.push(i);
                }
            }
        }
        acked
    });
    // A loaded machine may take long to start the child: no deadline on
    // the first acknowledgement beyond a generous one.
    rx.recv_timeout(StdDuration::from_secs(300))
        .expect("the child acknowledges a first record");
    std::thread::sleep(StdDuration::from_millis(delay_ms));
    // `Child::kill` sends SIGKILL on Unix: no destructor, no flush, no
    // close of the database runs in the child.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    reader.join().unwrap()
}

#[test]
fn a_killed_writer_leaves_an_intact_file_with_every_acknowledged_record() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let seed = std::env::var("TACTFUL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| {
                    u64::try_from(d.as_nanos() % u128::from(u64::MAX)).unwrap_or(1)
                })
        })
        | 1;
    println!("crash seed {seed} (replay with TACTFUL_CRASH_SEED={seed})");
    let mut rng = seed;

    let dir = std::env::temp_dir().join(format!("tactful-sqlite-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("profiles.db");
    let engine = engine();

    let mut all_acked = Vec::new();
    for round in 0..4u64 {
        let delay = 5 + next(&mut rng) % 400;
        let acked = run_and_kill(&db, round * ROUND, delay);
        println!(
            "round {round}: killed {delay} ms after the first ack, {} acked",
            acked.len()
        );
        assert!(!acked.is_empty());
        all_acked.extend(acked);

        // Reopen: intact, and every acknowledged record is there.
        let store = SqliteStore::open_with(&db, engine.clone(), options()).unwrap();
        store.integrity_check().unwrap();
        let stored: Vec<Vec<OffsetDateTime>> = (0..PROFILES)
            .map(|p| {
                let profile = store.load(format!("p{p}"), now()).unwrap().unwrap();
                let mut at: Vec<OffsetDateTime> = profile.events().iter().map(Event::at).collect();
                at.sort();
                at
            })
            .collect();
        let has = |id: &str, i: u64| {
            let p: usize = id[1..].parse().unwrap();
            stored[p].binary_search(&instant(i)).is_ok()
        };
        for &i in &all_acked {
            assert!(has(&profile_of(i), i), "acknowledged record {i} is missing");
            if i % PAIR_EVERY == 0 {
                assert!(
                    has(&partner_of(i), i),
                    "acknowledged pair {i} is half stored"
                );
            }
        }
        // Atomic: a paired transaction is stored whole or not at all, the
        // one that was cut off included.
        let last = all_acked.iter().max().copied().unwrap_or(0);
        for i in (round * ROUND..=last + 1).filter(|i| i % PAIR_EVERY == 0) {
            assert_eq!(
                has(&profile_of(i), i),
                has(&partner_of(i), i),
                "pair {i} is half stored"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
