//! An embedded profile store on SQLite (feature `sqlite`): the default
//! storage a service can start with on a fresh machine, and the one place
//! where the fragile parts of storing profiles are done once.
//!
//! - **Schema**: created and migrated by the crate, with a schema version
//!   table; a file from a newer tactful is refused, not damaged. Profiles
//!   are stored in the compact binary form ([`Engine::save_binary`]),
//!   keyed by profile id, beside the taxonomy fingerprint they were
//!   written with, which is checked against the bytes on every load.
//! - **No lost updates**: [`SqliteStore::update`], [`SqliteStore::record`]
//!   and [`SqliteStore::transaction`] read, change and write in one
//!   transaction that takes the write lock first (`BEGIN IMMEDIATE`), so
//!   two servers recording into one profile serialize instead of
//!   overwriting each other: across threads, connections and processes on
//!   one file. A locked database is waited for (busy timeout), retried a
//!   bounded number of times, then reported as [`StoreError::Busy`].
//! - **Crash safety**: WAL mode; a commit that returned survives the
//!   process being killed at any moment (and with
//!   [`Synchronous::Full`], a power loss).
//! - **Erasure that reaches the disk**: `secure_delete` is on, so deleted
//!   content is overwritten with zeros, and every erasure
//!   ([`SqliteStore::erase_interest`], [`SqliteStore::erase_profile`],
//!   [`SqliteStore::delete_profile`]) checkpoints the write-ahead log into
//!   the database and truncates it after the commit: the erased bytes are
//!   in neither file. What the engine keeps on purpose stays: the
//!   suppressions, and the content-free tombstone (subtree path and
//!   instant) that stops a merge or a late event from bringing the data
//!   back.
//! - **Partners from the store**: each suppression is also a row of an
//!   indexed table, written in the same transaction as its profile, so
//!   [`SqliteStore::suppression_list`] and [`SqliteStore::publish_feed`]
//!   read those rows only, never the profiles.
//! - **Faults are typed**: a damaged row is a [`StoreError::Profile`]
//!   naming the profile (never a panic, never silently an empty profile);
//!   a read-only file, a full disk, a file from a newer version, each have
//!   their [`StoreError`], and nothing committed is lost.
//!
//! One [`SqliteStore`] is one connection: open one per thread (it is
//! `Send`, not `Sync`). They share the engine through an [`Arc`].
//!
//! # Examples
//! ```
//! use std::sync::Arc;
//! use tactful::sqlite::SqliteStore;
//! use tactful::*;
//! use time::macros::datetime;
//!
//! let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
//! let hiking = taxonomy.require("outdoor/hiking")?;
//! let engine = Arc::new(Engine::new(taxonomy, DecayPolicy::default()));
//! let path = std::env::temp_dir().join(format!("tactful-doc-{}.db", std::process::id()));
//! # let _ = std::fs::remove_file(&path);
//! let mut store = SqliteStore::open(&path, engine)?;
//!
//! let now = datetime!(2026-11-01 9:00 UTC);
//! store.update("anna", now, |anna| {
//!     anna.set_level(Level::FirstParty);
//!     anna.consent_mut().grant(Purpose::Personalization, now, None, Evidence::Ui("banner".into())).map(drop)
//! })??;
//! store.record("anna", Event::new(hiking, Signal::View, now), now)??;
//!
//! let anna = store.load("anna", now)?.expect("stored");
//! assert_eq!(anna.stored_events(), 1);
//!
//! // Erased in the file too, not only in the profile.
//! assert_eq!(store.erase_interest("anna", hiking, now)?, 1);
//! assert_eq!(store.load("anna", now)?.expect("stored").stored_events(), 0);
//! # drop(store);
//! # for suffix in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{suffix}", path.display())); }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod feed;
mod options;
mod partners;
mod schema;
mod suppressions;
mod tx;

pub use error::StoreError;
pub use feed::Published;
pub use options::{StoreOptions, Synchronous};
pub use suppressions::StoredExport;
pub use tx::Transaction;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use time::OffsetDateTime;

use crate::engine::Engine;
use crate::event::Event;
use crate::profile::{Profile, ProfileId, Refusal};
use crate::taxonomy::InterestId;
use error::OnPath;

/// The schema version this crate creates and reads.
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

/// Profiles in a SQLite database file: one connection, with the engine
/// that reads, changes and writes them. See the [module docs](self).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    engine: Arc<Engine>,
    path: PathBuf,
    options: StoreOptions,
}

/// Runs `f` until it succeeds, fails otherwise than by a lock, or has been
/// tried `attempts` times; a lock held through every attempt is
/// [`StoreError::Busy`] with the count.
fn retry<T>(
    attempts: u32,
    path: &Path,
    mut f: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut tried = 0;
    loop {
        tried += 1;
        match f() {
            Err(e) if e.is_busy() && tried < attempts => {
                // SQLite's busy timeout already waited; this only spaces
                // out the attempts that fail at once (a busy recovery).
                std::thread::sleep(Duration::from_millis(1 << tried.min(6)));
            }
            Err(e) if e.is_busy() => {
                return Err(StoreError::Busy {
                    path: path.to_owned(),
                    attempts: tried,
                })
            }
            other => return other,
        }
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` with the default
    /// [`StoreOptions`], creating or migrating the schema.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] for a file from a newer tactful,
    /// [`StoreError::Damaged`] for a file that is not a SQLite database,
    /// [`StoreError::Busy`], [`StoreError::ReadOnly`] and other SQLite
    /// errors.
    pub fn open(path: impl AsRef<Path>, engine: Arc<Engine>) -> Result<Self, StoreError> {
        Self::open_with(path, engine, StoreOptions::default())
    }

    /// Opens the database at `path` as `options` say. A writable store
    /// creates the file and the schema if needed and migrates an older
    /// schema; a read-only store needs the current schema.
    ///
    /// # Errors
    /// As [`open`](Self::open); [`StoreError::SchemaOutdated`] for a
    /// read-only store on a file without the current schema.
    pub fn open_with(
        path: impl AsRef<Path>,
        engine: Arc<Engine>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        // A plain file path: no URI interpretation of a name that starts
        // with `file:`.
        let base = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let flags = if options.get_read_only() {
            base | OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            base | OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let mut conn = Connection::open_with_flags(&path, flags).on(&path)?;
        let attempts = options.get_attempts().get();
        retry(attempts, &path, || {
            schema::configure(&conn, &path, &options)
        })?;
        if options.get_read_only() {
            retry(attempts, &path, || schema::expect_current(&conn, &path))?;
        } else {
            retry(attempts, &path, || schema::migrate(&mut conn, &path))?;
        }
        Ok(Self {
            conn,
            engine,
            path,
            options,
        })
    }

    /// The engine.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options the store was opened with.
    #[must_use]
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    fn attempts(&self) -> u32 {
        self.options.get_attempts().get()
    }

    /// The profile `id` as stored, prepared for reads at `now`; `None` if
    /// there is none.
    ///
    /// # Errors
    /// [`StoreError::Profile`] naming the profile if its row cannot be
    /// read (damaged bytes, over the engine's limits, a row that does not
    /// match its bytes); SQLite errors.
    pub fn load(
        &self,
        id: impl Into<ProfileId>,
        now: OffsetDateTime,
    ) -> Result<Option<Profile>, StoreError> {
        let id = id.into();
        retry(self.attempts(), &self.path, || {
            tx::read(&self.conn, &self.engine, &self.path, &id, now)
        })
    }

    /// Runs `f` in one write transaction at `now` and commits what it
    /// changed: every profile it opened is written back, with its
    /// suppression rows, or nothing is (if `f` or a write fails).
    ///
    /// `f` may run more than once: when the database stays locked, the
    /// transaction is rolled back and tried again from the start with
    /// fresh copies of the profiles, so keep side effects outside it.
    /// After a commit that erased anything, the write-ahead log is
    /// checkpointed and truncated ([`checkpoint`](Self::checkpoint)).
    ///
    /// # Errors
    /// What `f` returns; [`StoreError::Busy`] after the configured attempts;
    /// [`StoreError::Profile`] for an unreadable row; [`StoreError::Encode`];
    /// [`StoreError::ReadOnly`], [`StoreError::Full`]; and
    /// [`StoreError::CheckpointIncomplete`] after an erasure that was
    /// committed while readers kept the log in use.
    pub fn transaction<T>(
        &mut self,
        now: OffsetDateTime,
        mut f: impl FnMut(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let attempts = self.attempts();
        let (conn, engine, path) = (&mut self.conn, &*self.engine, self.path.as_path());
        let (value, erased) = retry(attempts, path, || {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .on(path)?;
            let mut t = Transaction::new(&tx, engine, path, now);
            let value = f(&mut t)?;
            let erased = t.finish()?;
            tx.commit().on(path)?;
            Ok((value, erased))
        })?;
        if erased {
            self.checkpoint()?;
        }
        Ok(value)
    }

    /// Reads profile `id` (a new, empty one if there is none), lets `f`
    /// change it, and writes it back, in one transaction: no other writer
    /// can change the profile in between, so no update is lost. `f` may run
    /// more than once (see [`transaction`](Self::transaction)).
    ///
    /// # Errors
    /// As [`transaction`](Self::transaction).
    pub fn update<T>(
        &mut self,
        id: impl Into<ProfileId>,
        now: OffsetDateTime,
        mut f: impl FnMut(&mut Profile) -> T,
    ) -> Result<T, StoreError> {
        let id = id.into();
        self.transaction(now, |tx| tx.profile(id.clone()).map(&mut f))
    }

    /// Records an event in profile `id` through [`Engine::record`] in one
    /// transaction: load, record, store, commit. A refusal is the inner
    /// `Err`; it is counted on the stored profile too.
    ///
    /// # Errors
    /// As [`transaction`](Self::transaction).
    pub fn record(
        &mut self,
        id: impl Into<ProfileId>,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let id = id.into();
        self.transaction(now, |tx| tx.record(id.clone(), event))
    }

    /// Stores `profile` as it is, replacing the stored one whatever it
    /// was (an import, a restore). To change a stored profile use
    /// [`update`](Self::update), which loses no concurrent update.
    ///
    /// # Errors
    /// [`StoreError::Encode`]; SQLite errors.
    pub fn save(&mut self, profile: &Profile) -> Result<(), StoreError> {
        let attempts = self.attempts();
        let (conn, engine, path) = (&mut self.conn, &*self.engine, self.path.as_path());
        retry(attempts, path, || {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .on(path)?;
            tx::overwrite(&tx, engine, path, profile)?;
            tx.commit().on(path)
        })
    }

    /// Erases an interest subtree of profile `id` ([`Engine::erase_interest`]),
    /// then checkpoints and truncates the log; returns the number of
    /// erased events (0 if there is no such profile).
    ///
    /// # Errors
    /// As [`transaction`](Self::transaction).
    pub fn erase_interest(
        &mut self,
        id: impl Into<ProfileId>,
        interest: InterestId,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let id = id.into();
        self.transaction(now, |tx| tx.erase_interest(id.clone(), interest))
    }

    /// Erases profile `id` ([`Engine::erase_profile`]: its suppressions and
    /// tombstone stay), then checkpoints and truncates the log; `false` if
    /// there is no such profile.
    ///
    /// # Errors
    /// As [`transaction`](Self::transaction).
    pub fn erase_profile(
        &mut self,
        id: impl Into<ProfileId>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id = id.into();
        self.transaction(now, |tx| tx.erase_profile(id.clone()))
    }

    /// Deletes profile `id` and its suppression rows entirely (see
    /// [`Transaction::delete_profile`]), then checkpoints and truncates the
    /// log; `false` if there was no such profile.
    ///
    /// # Errors
    /// As [`transaction`](Self::transaction).
    pub fn delete_profile(&mut self, id: impl Into<ProfileId>) -> Result<bool, StoreError> {
        let id = id.into();
        self.transaction(OffsetDateTime::UNIX_EPOCH, |tx| {
            tx.delete_profile(id.clone())
        })
    }

    /// Copies the write-ahead log into the database and truncates it to
    /// zero bytes (`wal_checkpoint(TRUNCATE)`), so that no older version
    /// of any page remains outside the database file. The erasing calls do
    /// this by themselves.
    ///
    /// # Errors
    /// [`StoreError::CheckpointIncomplete`] if readers keep the log in use
    /// through every attempt; SQLite errors.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        let path = self.path.as_path();
        let conn = &self.conn;
        retry(self.attempts(), path, || {
            let busy: i64 = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                .on(path)?;
            if busy == 0 {
                Ok(())
            } else {
                Err(StoreError::Busy {
                    path: path.to_owned(),
                    attempts: 1,
                })
            }
        })
        .map_err(|e| match e {
            StoreError::Busy { path, .. } => StoreError::CheckpointIncomplete { path },
            other => other,
        })
    }

    /// The ids of every stored profile, sorted.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn ids(&self) -> Result<Vec<ProfileId>, StoreError> {
        self.query_ids("SELECT id FROM profiles ORDER BY id", &[])
    }

    /// The ids of the profiles last written with another taxonomy than the
    /// engine's (by fingerprint), sorted. They load as any stored profile
    /// does (interests by path; data of removed paths kept as orphans);
    /// writing one back (any [`update`](Self::update)) records the current
    /// taxonomy.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn ids_with_other_taxonomy(&self) -> Result<Vec<ProfileId>, StoreError> {
        let fp = tx::fingerprint_column(&self.engine);
        self.query_ids(
            "SELECT id FROM profiles WHERE taxonomy != ?1 ORDER BY id",
            &[&fp],
        )
    }

    fn query_ids(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ProfileId>, StoreError> {
        let path = self.path.as_path();
        retry(self.attempts(), path, || {
            let mut stmt = self.conn.prepare_cached(sql).on(path)?;
            let ids = stmt
                .query_map(params, |r| r.get::<_, String>(0).map(ProfileId))
                .on(path)?;
            ids.collect::<Result<Vec<_>, _>>().on(path)
        })
    }

    /// Runs SQLite's `PRAGMA integrity_check` over the whole file.
    ///
    /// # Errors
    /// [`StoreError::Damaged`] with SQLite's findings; SQLite errors.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let path = self.path.as_path();
        let findings: Vec<String> = retry(self.attempts(), path, || {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check").on(path)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).on(path)?;
            rows.collect::<Result<Vec<_>, _>>().on(path)
        })?;
        if findings == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Damaged {
                path: path.to_owned(),
                message: findings.join("; "),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> StoreError {
        StoreError::Busy {
            path: PathBuf::from("x.db"),
            attempts: 1,
        }
    }

    #[test]
    fn a_lock_is_tried_again_up_to_the_bound_then_counted() {
        let mut calls = 0;
        let r: Result<(), _> = retry(3, Path::new("x.db"), || {
            calls += 1;
            Err(busy())
        });
        assert_eq!(calls, 3);
        assert_eq!(
            r,
            Err(StoreError::Busy {
                path: PathBuf::from("x.db"),
                attempts: 3
            })
        );
    }

    #[test]
    fn a_passing_lock_is_waited_for_and_other_errors_are_not_retried() {
        let mut calls = 0;
        let r = retry(5, Path::new("x.db"), || {
            calls += 1;
            if calls < 3 {
                Err(busy())
            } else {
                Ok(calls)
            }
        });
        assert_eq!(r, Ok(3));

        let mut calls = 0;
        let r: Result<(), _> = retry(5, Path::new("x.db"), || {
            calls += 1;
            Err(StoreError::Full {
                path: PathBuf::from("x.db"),
            })
        });
        assert_eq!(calls, 1);
        assert!(matches!(r, Err(StoreError::Full { .. })));
    }

    #[test]
    fn sqlite_codes_become_the_variants_a_caller_acts_on() {
        let of = |code| {
            let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
            StoreError::sqlite(Path::new("p.db"), &e)
        };
        assert!(of(rusqlite::ffi::SQLITE_BUSY).is_busy());
        assert!(of(rusqlite::ffi::SQLITE_LOCKED).is_busy());
        assert!(matches!(
            of(rusqlite::ffi::SQLITE_READONLY),
            StoreError::ReadOnly { .. }
        ));
        assert!(matches!(
            of(rusqlite::ffi::SQLITE_FULL),
            StoreError::Full { .. }
        ));
        assert!(matches!(
            of(rusqlite::ffi::SQLITE_NOTADB),
            StoreError::Damaged { .. }
        ));
        let other = of(rusqlite::ffi::SQLITE_IOERR);
        assert!(
            matches!(other, StoreError::Sqlite { code, .. } if code == rusqlite::ffi::SQLITE_IOERR)
        );
        // Messages are lowercase and name the file.
        for e in [
            of(rusqlite::ffi::SQLITE_READONLY),
            of(rusqlite::ffi::SQLITE_FULL),
            other,
        ] {
            let msg = e.to_string();
            assert!(msg.starts_with("database p.db"), "{msg}");
        }
    }
}
