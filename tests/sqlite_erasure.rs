//! Erasure that reaches the disk: profiles written with distinctive byte
//! patterns (ids, consent evidence, interest paths, event weights,
//! suppression instants); one interest erased, one profile erased, one
//! deleted; then the database file and its `-wal`, `-journal` and `-shm`
//! files are scanned byte by byte. The erased patterns are in none of
//! them; the kept profile's patterns still are (so the scan cannot pass
//! by finding nothing).
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tactful::sqlite::SqliteStore;
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-01 9:00 UTC);

/// One profile's story and the byte patterns it leaves in the file.
struct Person {
    id: &'static str,
    evidence: &'static str,
    /// Interest path (only this person's) and a weight for its events.
    interests: [(&'static str, f64); 2],
    /// A suppression (as a channel scope) from this instant, written in the
    /// suppression index as RFC 3339 text.
    suppressed_since: OffsetDateTime,
}

const ERASED: Person = Person {
    id: "erase-me-7Q4ZW",
    evidence: "consent-banner-A-91c3e7f2",
    interests: [
        ("pets/axolotl", 1.234_567_891_234_5),
        ("outdoor/hiking", 1.876_543_219_876_5),
    ],
    suppressed_since: datetime!(2026-10-17 04:37:11 UTC),
};
const KEPT: Person = Person {
    id: "keep-me-X2V9P",
    evidence: "consent-banner-B-55f0aa3c",
    interests: [
        ("pets/quokka", 1.428_571_428_571_4),
        ("outdoor/hiking", 1.737_373_737_373_7),
    ],
    suppressed_since: datetime!(2026-10-19 22:14:53 UTC),
};
const DELETED: Person = Person {
    id: "delete-me-K8R1M",
    evidence: "consent-banner-C-d00d11e5",
    interests: [
        ("pets/ferret", 1.616_161_616_161_6),
        ("outdoor/hiking", 1.262_626_262_626_2),
    ],
    suppressed_since: datetime!(2026-10-23 13:52:07 UTC),
};

fn engine() -> Arc<Engine> {
    let mut b = Taxonomy::builder();
    for p in [&ERASED, &KEPT, &DELETED] {
        for (path, _) in p.interests {
            b = b.interest(path);
        }
    }
    Arc::new(Engine::new(b.build().unwrap(), DecayPolicy::default()))
}

fn weight_bytes(w: f64) -> Vec<u8> {
    w.to_le_bytes().to_vec()
}

fn instant_text(t: OffsetDateTime) -> Vec<u8> {
    // The seconds-precision prefix of RFC 3339, whatever follows it.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
    .into_bytes()
}

/// The database file and the files SQLite keeps beside it.
fn files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-journal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .collect()
}

/// In which of the files `pattern` occurs.
fn found_in(db: &Path, pattern: &[u8]) -> Vec<PathBuf> {
    files(db)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|bytes| bytes.windows(pattern.len()).any(|w| w == pattern))
                .unwrap_or(false)
        })
        .collect()
}

fn assert_found(db: &Path, what: &str, pattern: &[u8]) {
    assert!(
        !found_in(db, pattern).is_empty(),
        "{what} should still be on disk"
    );
}

fn assert_gone(db: &Path, what: &str, pattern: &[u8]) {
    let found = found_in(db, pattern);
    assert!(found.is_empty(), "{what} is still on disk in {found:?}");
}

fn write(store: &mut SqliteStore, engine: &Engine, p: &Person) {
    let granted = T0 - Duration::days(20);
    store
        .update(p.id, granted, |profile| {
            profile.set_level(Level::FirstParty);
            profile
                .consent_mut()
                .grant(
                    Purpose::Personalization,
                    granted,
                    None,
                    Evidence::Ui(p.evidence.into()),
                )
                .map(drop)
        })
        .unwrap()
        .unwrap();
    // Many small commits: old versions of the row pass through the log and
    // the free pages.
    for (k, (path, w)) in p.interests.iter().enumerate() {
        let interest = engine.taxonomy().require(path).unwrap();
        for h in 0..12 {
            let at = T0 - Duration::hours(i64::try_from(k * 100 + h + 1).unwrap());
            let e = Event::new(interest, Signal::View, at)
                .with_weight(*w)
                .unwrap();
            store.record(p.id, e, T0).unwrap().unwrap();
        }
    }
    let s = Suppression::new(
        Scope::Channel(Channel::Phone),
        SuppressionReason::DoNotContact,
        p.suppressed_since,
    );
    store
        .update(p.id, T0, |profile| {
            engine.suppress(profile, s, T0);
        })
        .unwrap();
}

#[test]
fn erased_bytes_are_in_no_file_while_kept_bytes_still_are() {
    let dir = std::env::temp_dir().join(format!("tactful-sqlite-erasure-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("profiles.db");
    let engine = engine();
    let mut store = SqliteStore::open(&db, engine.clone()).unwrap();
    for p in [&ERASED, &KEPT, &DELETED] {
        write(&mut store, &engine, p);
    }
    // Every pattern is on disk before the erasure: the scan finds bytes.
    store.checkpoint().unwrap();
    for p in [&ERASED, &KEPT, &DELETED] {
        assert_found(&db, p.id, p.id.as_bytes());
        assert_found(&db, p.evidence, p.evidence.as_bytes());
        for (path, w) in p.interests {
            assert_found(&db, path, path.as_bytes());
            assert_found(&db, &format!("weight {w}"), &weight_bytes(w));
        }
        assert_found(
            &db,
            "suppression instant",
            &instant_text(p.suppressed_since),
        );
    }

    let now = T0 + Duration::hours(1);
    // 1. One interest of a profile: its events go, the rest stays.
    let axolotl = engine.taxonomy().require("pets/axolotl").unwrap();
    assert_eq!(store.erase_interest(ERASED.id, axolotl, now).unwrap(), 12);
    assert_gone(
        &db,
        "the erased interest's weights",
        &weight_bytes(ERASED.interests[0].1),
    );
    assert_found(
        &db,
        "the profile's other weights",
        &weight_bytes(ERASED.interests[1].1),
    );

    // 2. The whole profile: events, consent evidence; its suppression and
    // id stay (they protect the person).
    assert!(store.erase_profile(ERASED.id, now).unwrap());
    assert_eq!(
        store.load(ERASED.id, now).unwrap().unwrap().stored_events(),
        0
    );

    // 3. Deleted entirely: not even the id or the suppression remains.
    assert!(store.delete_profile(DELETED.id).unwrap());

    let check = |db: &Path| {
        for (path, w) in ERASED.interests {
            assert_gone(
                db,
                &format!("erased weight {w} of {path}"),
                &weight_bytes(w),
            );
        }
        assert_gone(db, "erased consent evidence", ERASED.evidence.as_bytes());
        assert_gone(db, "deleted id", DELETED.id.as_bytes());
        assert_gone(db, "deleted consent evidence", DELETED.evidence.as_bytes());
        assert_gone(
            db,
            "deleted interest path",
            DELETED.interests[0].0.as_bytes(),
        );
        for (_, w) in DELETED.interests {
            assert_gone(db, "deleted weight", &weight_bytes(w));
        }
        assert_gone(
            db,
            "deleted suppression instant",
            &instant_text(DELETED.suppressed_since),
        );

        assert_found(db, "kept id", KEPT.id.as_bytes());
        assert_found(db, "kept consent evidence", KEPT.evidence.as_bytes());
        assert_found(db, "kept interest path", KEPT.interests[0].0.as_bytes());
        for (_, w) in KEPT.interests {
            assert_found(db, "kept weight", &weight_bytes(w));
        }
        assert_found(
            db,
            "kept suppression instant",
            &instant_text(KEPT.suppressed_since),
        );
        assert_found(
            db,
            "erased profile's suppression",
            &instant_text(ERASED.suppressed_since),
        );
    };
    // While the store is open: the log was checkpointed and truncated.
    check(&db);
    assert_eq!(
        std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len()),
        0
    );
    drop(store);
    // And after closing.
    check(&db);

    // The kept profile is intact.
    let store = SqliteStore::open(&db, engine).unwrap();
    store.integrity_check().unwrap();
    assert_eq!(
        store.load(KEPT.id, now).unwrap().unwrap().stored_events(),
        24
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_erasure_behind_a_reader_is_committed_and_says_the_log_still_holds_it() {
    use std::num::NonZeroU32;
    use std::time::Duration as StdDuration;
    use tactful::sqlite::{StoreError, StoreOptions};

    let dir = std::env::temp_dir().join(format!(
        "tactful-sqlite-erasure-reader-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("profiles.db");
    let engine = engine();
    let options = StoreOptions::default()
        .busy_timeout(StdDuration::from_millis(20))
        .attempts(NonZeroU32::new(2).unwrap());
    let mut store = SqliteStore::open_with(&db, engine.clone(), options).unwrap();
    write(&mut store, &engine, &ERASED);
    write(&mut store, &engine, &KEPT);

    // Another connection reads an older snapshot and keeps it open.
    let reader = rusqlite::Connection::open(&db).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM profiles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);

    let now = T0 + Duration::hours(1);
    let err = store.erase_profile(ERASED.id, now).unwrap_err();
    assert!(
        matches!(err, StoreError::CheckpointIncomplete { .. }),
        "{err:?}"
    );
    // The erasure is committed all the same.
    assert_eq!(
        store.load(ERASED.id, now).unwrap().unwrap().stored_events(),
        0
    );

    // As the error says: the bytes are still in the files.
    assert_found(
        &db,
        "erased evidence behind the reader",
        ERASED.evidence.as_bytes(),
    );

    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    store.checkpoint().unwrap();
    assert_gone(&db, "erased consent evidence", ERASED.evidence.as_bytes());
    assert_found(&db, "kept consent evidence", KEPT.evidence.as_bytes());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
