//! The SQLite store against a real database file: schema and migrations,
//! read-modify-write, damaged rows, read-only files, a full quota, locks
//! held through every attempt, and partner lists and feeds built from the
//! suppression index alone.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use rusqlite::Connection;
use tactful::export::{ChangeKind, ExportOptions, Minimization, SuppressionList};
use tactful::sqlite::{SqliteStore, StoreError, StoreOptions, SCHEMA_VERSION};
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// A fresh directory for one test's database, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "tactful-sqlite-store-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("profiles.db")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const T0: OffsetDateTime = datetime!(2026-11-01 9:00 UTC);

fn taxonomy_with(extra: &[&str]) -> Taxonomy {
    let mut b = Taxonomy::builder()
        .interest("outdoor/hiking")
        .interest("outdoor/climbing")
        .interest("baby/food")
        .interest("health/fitness")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .life_event("new-baby", ["baby", "health/pregnancy"]);
    for p in extra {
        b = b.interest(p);
    }
    b.build().unwrap()
}

fn engine_with(extra: &[&str]) -> Arc<Engine> {
    Arc::new(Engine::new(taxonomy_with(extra), DecayPolicy::default()))
}

fn consenting(p: &mut Profile, at: OffsetDateTime) {
    p.set_level(Level::FirstParty);
    for purpose in [Purpose::Personalization, Purpose::Marketing] {
        p.consent_mut()
            .grant(purpose, at, None, Evidence::Ui("signup".into()))
            .unwrap();
    }
}

fn id_of(engine: &Engine, path: &str) -> InterestId {
    engine.taxonomy().require(path).unwrap()
}

#[test]
fn the_schema_is_created_once_and_a_newer_one_is_refused() {
    let dir = Dir::new("schema");
    let engine = engine_with(&[]);
    drop(SqliteStore::open(dir.db(), engine.clone()).unwrap());
    // Opening again migrates nothing and keeps one version row.
    drop(SqliteStore::open(dir.db(), engine.clone()).unwrap());
    let raw = Connection::open(dir.db()).unwrap();
    let versions: Vec<i64> = raw
        .prepare("SELECT version FROM tactful_schema")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, [SCHEMA_VERSION]);

    raw.execute("UPDATE tactful_schema SET version = 99", [])
        .unwrap();
    drop(raw);
    match SqliteStore::open(dir.db(), engine.clone()) {
        Err(StoreError::SchemaTooNew {
            found, supported, ..
        }) => assert_eq!((found, supported), (99, SCHEMA_VERSION)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let read_only = StoreOptions::default().read_only(true);
    assert!(matches!(
        SqliteStore::open_with(dir.db(), engine, read_only),
        Err(StoreError::SchemaTooNew { found: 99, .. })
    ));
}

#[test]
fn a_file_that_is_not_a_database_is_a_typed_error() {
    let dir = Dir::new("notadb");
    std::fs::write(dir.db(), vec![0x5a; 8192]).unwrap();
    let err = SqliteStore::open(dir.db(), engine_with(&[])).unwrap_err();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    assert!(err.to_string().contains("profiles.db"), "{err}");
}

#[test]
fn updates_store_what_the_engine_did_in_memory() {
    let dir = Dir::new("roundtrip");
    let engine = engine_with(&[]);
    let mut store = SqliteStore::open(dir.db(), engine.clone()).unwrap();
    let hiking = id_of(&engine, "outdoor/hiking");

    // The same story in memory and through the store.
    let mut reference = Profile::new("anna");
    consenting(&mut reference, T0);
    store.update("anna", T0, |p| consenting(p, T0)).unwrap();
    for d in 0..5 {
        let at = T0 + Duration::hours(d);
        let e = Event::new(hiking, Signal::View, at);
        let mem = engine.record(&mut reference, e, at);
        let stored = store.record("anna", e, at).unwrap();
        assert_eq!(mem.is_ok(), stored.is_ok());
    }
    // A refusal is returned and counted on the stored profile.
    let ahead = Event::new(hiking, Signal::View, T0 + Duration::days(9));
    let now = T0 + Duration::hours(5);
    assert!(store.record("anna", ahead, now).unwrap().is_err());
    assert!(engine.record(&mut reference, ahead, now).is_err());

    let back = store.load("anna", now).unwrap().unwrap();
    assert_eq!(back, reference);
    assert_eq!(back.refusals().total(), 1);
    assert_eq!(store.load("nobody", now).unwrap(), None);
    assert_eq!(store.ids().unwrap(), [ProfileId::from("anna")]);

    // Several profiles in one transaction, committed together.
    store
        .transaction(now, |tx| {
            for id in ["bo", "cy"] {
                consenting(tx.profile(id)?, now);
                tx.record(id, Event::new(hiking, Signal::Click, now))?
                    .unwrap();
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(store.ids().unwrap().len(), 3);
    // An error inside the closure rolls everything back.
    let failed: Result<(), StoreError> = store.transaction(now, |tx| {
        tx.profile("dee")?;
        Err(StoreError::ReadOnly {
            path: PathBuf::from("stand-in"),
        })
    });
    assert!(failed.is_err());
    assert_eq!(store.load("dee", now).unwrap(), None);
}

/// Flips one byte in the middle of a stored profile through a raw
/// connection.
fn flip_byte(db: &Path, id: &str) -> Vec<u8> {
    let raw = Connection::open(db).unwrap();
    let mut data: Vec<u8> = raw
        .query_row("SELECT data FROM profiles WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0x40;
    raw.execute(
        "UPDATE profiles SET data = ?1 WHERE id = ?2",
        rusqlite::params![data, id],
    )
    .unwrap();
    data
}

#[test]
fn a_damaged_row_is_reported_with_its_id_and_never_replaced() {
    let dir = Dir::new("corrupt");
    let engine = engine_with(&[]);
    let mut store = SqliteStore::open(dir.db(), engine.clone()).unwrap();
    let hiking = id_of(&engine, "outdoor/hiking");
    for id in ["anna", "bob"] {
        store.update(id, T0, |p| consenting(p, T0)).unwrap();
        for h in 0..20 {
            let at = T0 + Duration::hours(h);
            store
                .record(id, Event::new(hiking, Signal::View, at), at)
                .unwrap()
                .unwrap();
        }
    }
    let now = T0 + Duration::days(1);
    let damaged = flip_byte(&dir.db(), "bob");

    let err = store.load("bob", now).unwrap_err();
    match &err {
        StoreError::Profile { id, source } => {
            assert_eq!(id.0, "bob");
            assert!(matches!(source, ProfileError::Corrupt(_)), "{source:?}");
        }
        other => panic!("expected StoreError::Profile, got {other:?}"),
    }
    assert!(err.to_string().contains("\"bob\""), "{err}");
    // Neither an update nor a record replaces it with an empty profile.
    let e = Event::new(hiking, Signal::View, now);
    assert!(matches!(
        store.record("bob", e, now),
        Err(StoreError::Profile { .. })
    ));
    assert!(matches!(
        store.update("bob", now, |p| p.set_level(Level::Off)),
        Err(StoreError::Profile { .. })
    ));
    let raw = Connection::open(dir.db()).unwrap();
    let still: Vec<u8> = raw
        .query_row("SELECT data FROM profiles WHERE id = 'bob'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(still, damaged);
    // The neighbour is untouched.
    assert_eq!(
        store.load("anna", now).unwrap().unwrap().stored_events(),
        20
    );

    // A row whose fingerprint column disagrees with its bytes.
    raw.execute("UPDATE profiles SET taxonomy = 7 WHERE id = 'anna'", [])
        .unwrap();
    let err = store.load("anna", now).unwrap_err();
    assert!(
        matches!(&err, StoreError::Profile { id, .. } if id.0 == "anna"),
        "{err:?}"
    );
    assert!(err.to_string().contains("taxonomy"), "{err}");

    // A row holding another profile's bytes.
    let bytes: Vec<u8> = {
        let mut p = Profile::new("carl");
        consenting(&mut p, T0);
        engine.save_binary(&p).unwrap()
    };
    let fp = i64::from_le_bytes(engine.taxonomy().fingerprint().to_le_bytes());
    raw.execute(
        "UPDATE profiles SET data = ?1, taxonomy = ?2 WHERE id = 'anna'",
        rusqlite::params![bytes, fp],
    )
    .unwrap();
    let err = store.load("anna", now).unwrap_err();
    assert!(err.to_string().contains("carl"), "{err}");

    // Deleting a damaged row is how an operator gets rid of it.
    assert!(store.delete_profile("bob").unwrap());
    assert_eq!(store.load("bob", now).unwrap(), None);
}

#[test]
fn a_read_only_file_refuses_writes_with_a_typed_error_and_loses_nothing() {
    let dir = Dir::new("readonly");
    let engine = engine_with(&[]);
    let hiking = id_of(&engine, "outdoor/hiking");
    let committed = {
        let mut store = SqliteStore::open(dir.db(), engine.clone()).unwrap();
        store.update("anna", T0, |p| consenting(p, T0)).unwrap();
        store
            .record("anna", Event::new(hiking, Signal::View, T0), T0)
            .unwrap()
            .unwrap();
        store.load("anna", T0).unwrap().unwrap()
    };
    // SQLITE_OPEN_READ_ONLY rather than file permissions: tests may run as
    // root, for whom chmod does not stop writes.
    let options = StoreOptions::default().read_only(true);
    let mut ro = SqliteStore::open_with(dir.db(), engine.clone(), options).unwrap();
    assert_eq!(ro.load("anna", T0).unwrap().unwrap(), committed);
    let later = T0 + Duration::hours(1);
    let err = ro
        .record("anna", Event::new(hiking, Signal::View, later), later)
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert!(matches!(
        ro.update("new", later, |p| consenting(p, later)),
        Err(StoreError::ReadOnly { .. })
    ));
    assert!(matches!(
        ro.erase_interest("anna", hiking, later),
        Err(StoreError::ReadOnly { .. })
    ));
    drop(ro);
    let store = SqliteStore::open(dir.db(), engine).unwrap();
    assert_eq!(store.load("anna", T0).unwrap().unwrap(), committed);
    assert_eq!(store.load("new", T0).unwrap(), None);
    store.integrity_check().unwrap();
}

#[test]
fn a_full_database_rolls_back_and_keeps_every_commit() {
    let dir = Dir::new("full");
    let engine = engine_with(&[]);
    let hiking = id_of(&engine, "outdoor/hiking");
    let options = StoreOptions::default().max_database_bytes(96 * 1024);
    let mut store = SqliteStore::open_with(dir.db(), engine.clone(), options).unwrap();
    let mut committed: Vec<Profile> = Vec::new();
    let mut full = None;
    // Each profile gets 600 events with weights that do not compress:
    // some kilobytes each, until the quota is reached.
    for n in 0..200 {
        let id = format!("p{n:03}");
        let result = store.update(id.as_str(), T0, |p| {
            consenting(p, T0 - Duration::days(1));
            for i in 0..600 {
                let at = T0 - Duration::minutes(i + 1);
                let w = 1.0 + f64::from(u32::try_from(i * 7 + n).unwrap()) / 997.0;
                let e = Event::new(hiking, Signal::View, at).with_weight(w).unwrap();
                engine.record(p, e, T0).unwrap();
            }
            p.clone()
        });
        match result {
            Ok(p) => committed.push(p),
            Err(e) => {
                full = Some((id, e));
                break;
            }
        }
    }
    let (failed, err) = full.expect("the quota is reached");
    assert!(matches!(err, StoreError::Full { .. }), "{err:?}");
    assert!(committed.len() >= 2, "{} profiles fit", committed.len());
    assert_eq!(store.load(failed.as_str(), T0).unwrap(), None);
    for p in &committed {
        assert_eq!(&store.load(p.id().clone(), T0).unwrap().unwrap(), p);
    }
    store.integrity_check().unwrap();
}

#[test]
fn a_lock_held_through_every_attempt_is_a_typed_busy_error() {
    let dir = Dir::new("busy");
    let engine = engine_with(&[]);
    let options = StoreOptions::default()
        .busy_timeout(StdDuration::from_millis(20))
        .attempts(NonZeroU32::new(3).unwrap());
    let mut store = SqliteStore::open_with(dir.db(), engine, options).unwrap();
    store.update("anna", T0, |p| consenting(p, T0)).unwrap();

    let mut other = Connection::open(dir.db()).unwrap();
    let holder = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let err = store
        .update("anna", T0, |p| p.set_level(Level::Full))
        .unwrap_err();
    match &err {
        StoreError::Busy { attempts, .. } => assert_eq!(*attempts, 3),
        other => panic!("expected Busy, got {other:?}"),
    }
    assert!(err.to_string().contains("3 attempts"), "{err}");
    // Reads are not blocked by a writer in WAL mode.
    assert_eq!(
        store.load("anna", T0).unwrap().unwrap().level(),
        Level::FirstParty
    );
    holder.rollback().unwrap();
    store
        .update("anna", T0, |p| p.set_level(Level::Full))
        .unwrap();
    assert_eq!(
        store.load("anna", T0).unwrap().unwrap().level(),
        Level::Full
    );
}

/// Profiles with every kind of suppression, written through the store.
fn suppressed_population(store: &mut SqliteStore, engine: &Engine) {
    let baby = id_of(engine, "baby");
    let pregnancy = id_of(engine, "health/pregnancy");
    let hiking = id_of(engine, "outdoor/hiking");
    let day = Duration::days(1);
    let plans: Vec<(&str, Vec<Suppression>)> = vec![
        (
            "anna",
            vec![Suppression::new(
                Scope::Interest(baby),
                SuppressionReason::Bereavement,
                T0,
            )],
        ),
        (
            "bea",
            vec![
                Suppression::new(
                    Scope::Interest(pregnancy),
                    SuppressionReason::Bereavement,
                    T0 + day,
                ),
                Suppression::new(
                    Scope::Channel(Channel::Phone),
                    SuppressionReason::DoNotContact,
                    T0,
                ),
            ],
        ),
        (
            "cem",
            vec![Suppression::new(
                Scope::Purpose(Purpose::Marketing),
                SuppressionReason::OptOut,
                T0,
            )
            .until(T0 + Duration::days(10))
            .unwrap()],
        ),
        (
            "dan",
            vec![Suppression::new(
                Scope::Interest(hiking),
                SuppressionReason::Complaint,
                T0 + Duration::days(20),
            )],
        ),
        (
            "eve",
            vec![Suppression::new(
                Scope::ChannelPurpose {
                    channel: Channel::Email,
                    purpose: Purpose::Marketing,
                },
                SuppressionReason::OptOut,
                T0 + Duration::hours(3),
            )],
        ),
        ("fay", vec![]),
    ];
    for (id, suppressions) in plans {
        store
            .update(id, T0, |p| {
                consenting(p, T0);
                for s in &suppressions {
                    engine.suppress(p, *s, s.since());
                }
            })
            .unwrap();
    }
}

fn list_from_profiles(
    store: &SqliteStore,
    secret: &KeySecret,
    now: OffsetDateTime,
    options: ExportOptions,
) -> SuppressionList {
    let profiles: Vec<Profile> = store
        .ids()
        .unwrap()
        .into_iter()
        .map(|id| store.load(id, now).unwrap().unwrap())
        .collect();
    let export = SuppressionList::from_profiles_with(
        store.engine().taxonomy(),
        profiles.iter().map(|p| (p, p.id().0.as_str())),
        secret,
        now,
        options,
    );
    assert!(export.is_complete(), "{:?}", export.problems);
    export.list
}

#[test]
fn the_partner_list_from_the_index_equals_the_list_from_every_profile() {
    let dir = Dir::new("list");
    // Written with a taxonomy that has `pets/axolotl`, read with one that
    // lacks it: that suppression is orphaned and still exported.
    let before = engine_with(&["pets/axolotl"]);
    let mut store = SqliteStore::open(dir.db(), before.clone()).unwrap();
    suppressed_population(&mut store, &before);
    let axolotl = id_of(&before, "pets/axolotl");
    store
        .update("gus", T0, |p| {
            before.suppress(
                p,
                Suppression::new(Scope::Interest(axolotl), SuppressionReason::OptOut, T0),
                T0,
            );
        })
        .unwrap();
    drop(store);

    let engine = engine_with(&[]);
    let mut store = SqliteStore::open(dir.db(), engine.clone()).unwrap();
    assert_eq!(store.ids().unwrap().len(), 7);
    // Every row was written with the other taxonomy.
    assert_eq!(store.ids_with_other_taxonomy().unwrap().len(), 7);
    store.update("fay", T0, |_| ()).unwrap();
    assert_eq!(store.ids_with_other_taxonomy().unwrap().len(), 6);

    let secret = KeySecret::new([9u8; 32]).unwrap();
    let options = [
        ExportOptions::default(),
        ExportOptions::default().minimization(Minimization::Keep),
        ExportOptions::default()
            .minimization(Minimization::NearestOrdinaryAncestor)
            .round_to_days(false),
    ];
    let instants = [
        T0 - Duration::days(1),
        T0 + Duration::hours(1),
        T0 + Duration::days(5),
        T0 + Duration::days(15),
        T0 + Duration::days(30),
    ];
    let mut sizes = Vec::new();
    for now in instants {
        for opts in options {
            let from_index = store.suppression_list(&secret, now, opts).unwrap();
            assert!(from_index.is_complete(), "{from_index:?}");
            let expected = list_from_profiles(&store, &secret, now, opts);
            assert_eq!(from_index.export.list, expected, "at {now} with {opts:?}");
            sizes.push(expected.len());
        }
    }
    // Not vacuous: nothing before T0, something after, and it changes.
    assert_eq!(sizes[0], 0);
    assert!(sizes.iter().any(|&n| n >= 5), "{sizes:?}");

    // The orphaned suppression is exported: as everything by default, by
    // its path when kept.
    let now = T0 + Duration::hours(1);
    let kept = store
        .suppression_list(
            &secret,
            now,
            ExportOptions::default().minimization(Minimization::Keep),
        )
        .unwrap();
    assert!(kept.export.list.to_jsonl().contains("pets/axolotl"));
    assert!(!store
        .suppression_list(&secret, now, ExportOptions::default())
        .unwrap()
        .export
        .list
        .to_jsonl()
        .contains("axolotl"));

    // A suppression added later reaches the index in the same transaction.
    let baby = id_of(&engine, "baby");
    store
        .update("fay", now, |p| {
            engine.suppress(
                p,
                Suppression::new(Scope::Interest(baby), SuppressionReason::OptOut, now),
                now,
            );
        })
        .unwrap();
    let later = now + Duration::hours(1);
    assert_eq!(
        store
            .suppression_list(&secret, later, ExportOptions::default())
            .unwrap()
            .export
            .list,
        list_from_profiles(&store, &secret, later, ExportOptions::default())
    );
}

#[test]
fn a_damaged_suppression_row_is_reported_and_stops_the_feed() {
    let dir = Dir::new("badrow");
    let engine = engine_with(&[]);
    let mut store = SqliteStore::open(dir.db(), engine.clone()).unwrap();
    suppressed_population(&mut store, &engine);
    let secret = KeySecret::new([3u8; 32]).unwrap();
    let now = T0 + Duration::days(2);
    let v1 = store
        .publish_feed("partner", &secret, now, ExportOptions::default())
        .unwrap()
        .version;
    assert!(v1 > 0);

    let raw = Connection::open(dir.db()).unwrap();
    raw.execute(
        "UPDATE suppressions SET wire = '{\"scope\":\"nonsense\"}' WHERE profile_id = 'bea' AND seq = 0",
        [],
    )
    .unwrap();
    let export = store
        .suppression_list(&secret, now, ExportOptions::default())
        .unwrap();
    assert!(!export.is_complete());
    assert!(matches!(
        &export.unreadable[..],
        [StoreError::Profile { id, .. }] if id.0 == "bea"
    ));
    // Publishing without bea's suppressions would tell the partner they
    // were lifted: refused, feed unchanged.
    let err = store
        .publish_feed("partner", &secret, now, ExportOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Profile { id, .. } if id.0 == "bea"),
        "{err:?}"
    );
    assert_eq!(store.feed("partner").unwrap().current_version(), v1);
}

#[test]
fn the_feed_from_the_store_brings_a_partner_mirror_up_to_date() {
    let dir = Dir::new("feed");
    let engine = engine_with(&[]);
    let mut store = SqliteStore::open(dir.db(), engine.clone()).unwrap();
    suppressed_population(&mut store, &engine);
    let secret = KeySecret::new([5u8; 32]).unwrap();
    let options = ExportOptions::default();

    let mut mirror = SuppressionList::new();
    let mut seen = 0;
    let mut poll = |store: &SqliteStore, mirror: &mut SuppressionList| {
        let changes = store.changes_since("partner", seen).unwrap();
        mirror.apply(&changes);
        seen = store.feed("partner").unwrap().current_version();
        changes.len()
    };

    let now = T0 + Duration::days(2);
    assert!(store
        .publish_feed("partner", &secret, now, options)
        .unwrap()
        .problems
        .is_empty());
    assert!(poll(&store, &mut mirror) > 0);
    assert_eq!(mirror, list_from_profiles(&store, &secret, now, options));

    // Nothing changed: no new version.
    let v = store.feed("partner").unwrap().current_version();
    assert_eq!(
        store
            .publish_feed("partner", &secret, now, options)
            .unwrap()
            .version,
        v
    );

    // cem's opt-out ends, dan's complaint starts, anna is deleted.
    let later = T0 + Duration::days(25);
    assert!(store.delete_profile("anna").unwrap());
    let published = store
        .publish_feed("partner", &secret, later, options)
        .unwrap();
    assert!(published.version > v);
    let changes = store.changes_since("partner", v).unwrap();
    assert!(changes.iter().any(|c| c.kind == ChangeKind::Removed));
    assert!(changes.iter().any(|c| c.kind == ChangeKind::Added));
    poll(&store, &mut mirror);
    assert_eq!(mirror, list_from_profiles(&store, &secret, later, options));

    // Compaction: a partner behind it gets a typed error and re-syncs.
    let current = store.feed("partner").unwrap().current_version();
    assert!(store.compact_feed("partner", current).unwrap() > 0);
    assert!(matches!(
        store.changes_since("partner", 0),
        Err(StoreError::Feed { .. })
    ));
}

#[test]
fn the_store_moves_between_threads_and_its_errors_are_plain_values() {
    fn send<T: Send>() {}
    fn value<T: std::fmt::Debug + Clone + PartialEq + Send + Sync + std::error::Error + 'static>() {
    }
    send::<SqliteStore>();
    value::<StoreError>();
    fn options<T: std::fmt::Debug + Clone + Copy + PartialEq + Send + Sync + Default>() {}
    options::<StoreOptions>();
}
