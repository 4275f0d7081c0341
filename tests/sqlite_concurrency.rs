//! No lost updates: writers on their own connections (threads, and
//! processes) record into overlapping profiles of one file; afterwards
//! every accepted event is stored exactly once and every refusal counted.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use tactful::sqlite::{SqliteStore, StoreOptions};
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const BASE: OffsetDateTime = datetime!(2026-11-01 0:00 UTC);
const PROFILES: usize = 4;
const PER_WRITER: usize = 40;
/// The child-process role of this test binary.
const CHILD_ENV: &str = "TACTFUL_SQLITE_CONCURRENCY_CHILD";

fn now() -> OffsetDateTime {
    BASE + Duration::days(1)
}

fn engine() -> Arc<Engine> {
    let taxonomy = Taxonomy::builder()
        .interest("outdoor/hiking")
        .interest("outdoor/climbing")
        .build()
        .unwrap();
    Arc::new(Engine::new(taxonomy, DecayPolicy::default()))
}

/// Generous waits: a loaded 2-core machine may keep a writer waiting long.
fn options() -> StoreOptions {
    StoreOptions::default()
        .busy_timeout(StdDuration::from_secs(30))
        .attempts(NonZeroU32::new(20).unwrap())
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tactful-sqlite-concurrency-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn setup(db: &Path, engine: &Arc<Engine>) {
    let mut store = SqliteStore::open_with(db, engine.clone(), options()).unwrap();
    let granted = BASE - Duration::days(1);
    for p in 0..PROFILES {
        store
            .update(format!("p{p}"), granted, |profile| {
                profile.set_level(Level::FirstParty);
                profile
                    .consent_mut()
                    .grant(
                        Purpose::Personalization,
                        granted,
                        None,
                        Evidence::Ui("signup".into()),
                    )
                    .map(drop)
            })
            .unwrap()
            .unwrap();
    }
}

/// What one writer saw: per profile, the instants of the accepted events
/// and the number of refusals.
#[derive(Debug, Default)]
struct Seen {
    accepted: BTreeMap<String, Vec<OffsetDateTime>>,
    refused: BTreeMap<String, u64>,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        for (k, v) in other.accepted {
            self.accepted.entry(k).or_default().extend(v);
        }
        for (k, n) in other.refused {
            *self.refused.entry(k).or_default() += n;
        }
    }
}

/// Writer `w` records its events on its own connection. Every fifth event
/// is dated after `now` and must be refused; the instants of all writers
/// differ, so no event is a duplicate of another.
fn write(
    db: &Path,
    engine: &Arc<Engine>,
    w: usize,
    mut report: impl FnMut(&str, bool, OffsetDateTime),
) {
    let mut store = SqliteStore::open_with(db, engine.clone(), options()).unwrap();
    let tax = engine.taxonomy();
    let interests = [
        tax.require("outdoor/hiking").unwrap(),
        tax.require("outdoor/climbing").unwrap(),
    ];
    for i in 0..PER_WRITER {
        let id = format!("p{}", (w + i) % PROFILES);
        let offset = i64::try_from(w * 1000 + i).unwrap();
        let at = if i % 5 == 4 {
            now() + Duration::minutes(offset)
        } else {
            BASE + Duration::seconds(offset)
        };
        let e = Event::new(interests[i % 2], Signal::View, at);
        let outcome = store.record(id.as_str(), e, now()).unwrap();
        report(&id, outcome.is_ok(), at);
    }
}

fn check(db: &Path, engine: &Arc<Engine>, seen: &Seen, writers: usize) {
    let store = SqliteStore::open_with(db, engine.clone(), options()).unwrap();
    store.integrity_check().unwrap();
    let mut total_accepted = 0;
    let mut total_refused = 0;
    for p in 0..PROFILES {
        let id = format!("p{p}");
        let profile = store.load(id.as_str(), now()).unwrap().unwrap();
        let mut stored: Vec<OffsetDateTime> = profile.events().iter().map(Event::at).collect();
        stored.sort();
        let mut accepted = seen.accepted.get(&id).cloned().unwrap_or_default();
        accepted.sort();
        // Exactly once: the stored instants are the accepted ones, no
        // more (a duplicate), no fewer (a lost update).
        assert_eq!(stored, accepted, "events of {id}");
        let refused = seen.refused.get(&id).copied().unwrap_or(0);
        assert_eq!(profile.refusals().total(), refused, "refusals of {id}");
        total_accepted += accepted.len();
        total_refused += refused;
    }
    assert_eq!(
        total_accepted + usize::try_from(total_refused).unwrap(),
        writers * PER_WRITER
    );
    assert_eq!(
        usize::try_from(total_refused).unwrap(),
        writers * PER_WRITER / 5
    );
}

#[test]
fn eight_threads_on_their_own_connections_lose_no_update() {
    let dir = dir("threads");
    let db = dir.join("profiles.db");
    let engine = engine();
    setup(&db, &engine);
    let writers = 8;
    let seen: Vec<Seen> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (db, engine) = (&db, &engine);
                s.spawn(move || {
                    let mut seen = Seen::default();
                    write(db, engine, w, |id, ok, at| {
                        if ok {
                            seen.accepted.entry(id.to_owned()).or_default().push(at);
                        } else {
                            *seen.refused.entry(id.to_owned()).or_default() += 1;
                        }
                    });
                    seen
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = Seen::default();
    for s in seen {
        all.merge(s);
    }
    check(&db, &engine, &all, writers);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child role: writer `w` on the database named in the environment,
/// one line per event on stdout (`@@ ok <profile> <unix ns>` or `@@
/// refused <profile> <unix ns>`; the harness may print before `@@` on the
/// same line).
#[test]
fn concurrency_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // Only a child spawned by the test below does anything.
    };
    let (w, db) = spec.split_once(':').unwrap();
    let w: usize = w.parse().unwrap();
    let engine = engine();
    write(Path::new(db), &engine, w, |id, ok, at| {
        println!(
            "@@ {} {id} {}",
            if ok { "ok" } else { "refused" },
            at.unix_timestamp_nanos()
        );
    });
}

#[test]
fn three_processes_on_one_file_lose_no_update() {
    let dir = dir("processes");
    let db = dir.join("profiles.db");
    let engine = engine();
    setup(&db, &engine);
    let exe = std::env::current_exe().unwrap();
    let writers = 3;
    let children: Vec<_> = (0..writers)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, format!("{w}:{}", db.display()))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut all = Seen::default();
    for mut child in children {
        let out = BufReader::new(child.stdout.take().unwrap());
        for line in out.lines() {
            let line = line.unwrap();
            let Some(at) = line.find("@@ ") else {
                continue; // the test harness's own lines
            };
            let parts: Vec<&str> = line[at + 3..].split_whitespace().collect();
            let (kind, id, ns) = match parts[..] {
                [kind @ ("ok" | "refused"), id, ns] => (kind, id, ns),
                _ => panic!("unexpected child output {line:?}"),
            };
            let at = OffsetDateTime::from_unix_timestamp_nanos(ns.parse().unwrap()).unwrap();
            if kind == "ok" {
                all.accepted.entry(id.to_owned()).or_default().push(at);
            } else {
                *all.refused.entry(id.to_owned()).or_default() += 1;
            }
        }
        assert!(child.wait().unwrap().success());
    }
    check(&db, &engine, &all, writers);
    let _ = std::fs::remove_dir_all(&dir);
}
