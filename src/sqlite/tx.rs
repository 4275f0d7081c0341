//! One write transaction: profiles read, changed through the engine and
//! written back, with their suppression rows, before one commit.

use std::collections::btree_map::{BTreeMap, Entry};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use super::error::{OnPath, StoreError};
use crate::engine::Engine;
use crate::event::Event;
use crate::persist::BINARY_MAGIC;
use crate::profile::{OrphanSuppression, Profile, ProfileId, Refusal};
use crate::suppression::Suppression;
use crate::taxonomy::InterestId;

/// The suppressions of a profile as last written: the suppression rows are
/// rewritten only when these change.
#[derive(Debug, Clone, PartialEq, Default)]
struct Suppressions {
    known: Vec<Suppression>,
    orphaned: Vec<OrphanSuppression>,
}

impl Suppressions {
    fn of(p: &Profile) -> Self {
        Self {
            known: p.suppressions().to_vec(),
            orphaned: p.orphans().suppressions().to_vec(),
        }
    }
}

#[derive(Debug)]
struct Open {
    profile: Profile,
    /// The suppressions its rows hold.
    written: Suppressions,
}

/// A write transaction of a [`SqliteStore`](super::SqliteStore), given to
/// the closure of [`SqliteStore::transaction`](super::SqliteStore::transaction).
///
/// Profiles are read once, changed in memory and written back when the
/// closure returns `Ok`, all in one SQLite transaction that holds the
/// write lock from its start (`BEGIN IMMEDIATE`): no other writer can read
/// a profile between this read and this write, so no update is lost.
#[derive(Debug)]
pub struct Transaction<'s> {
    conn: &'s Connection,
    engine: &'s Engine,
    path: &'s Path,
    now: OffsetDateTime,
    open: BTreeMap<ProfileId, Open>,
    erased: bool,
}

impl<'s> Transaction<'s> {
    pub(super) fn new(
        conn: &'s Connection,
        engine: &'s Engine,
        path: &'s Path,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            conn,
            engine,
            path,
            now,
            open: BTreeMap::new(),
            erased: false,
        }
    }

    /// The instant the transaction works at.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The profile `id`, read from the database (or a new, empty one if
    /// there is none), to change through the engine. It is written back
    /// at commit.
    ///
    /// # Errors
    /// [`StoreError::Profile`] if the stored row cannot be read (it is
    /// never replaced by an empty profile); SQLite errors.
    pub fn profile(&mut self, id: impl Into<ProfileId>) -> Result<&mut Profile, StoreError> {
        match self.open.entry(id.into()) {
            Entry::Occupied(open) => Ok(&mut open.into_mut().profile),
            Entry::Vacant(slot) => {
                let open = match read(self.conn, self.engine, self.path, slot.key(), self.now)? {
                    Some(profile) => Open {
                        written: Suppressions::of(&profile),
                        profile,
                    },
                    None => Open {
                        profile: Profile::new(slot.key().clone()),
                        written: Suppressions::default(),
                    },
                };
                Ok(&mut slot.insert(open).profile)
            }
        }
    }

    /// The profile `id` if the database has it (see
    /// [`profile`](Self::profile)); `None` creates nothing.
    ///
    /// # Errors
    /// As [`profile`](Self::profile).
    pub fn existing(
        &mut self,
        id: impl Into<ProfileId>,
    ) -> Result<Option<&mut Profile>, StoreError> {
        let id = id.into();
        if !self.open.contains_key(&id) && !exists(self.conn, self.path, &id)? {
            return Ok(None);
        }
        self.profile(id).map(Some)
    }

    /// Records an event in profile `id` through [`Engine::record`]: stored,
    /// or refused with the reason and the refusal counted on the profile
    /// (both are written at commit).
    ///
    /// # Errors
    /// As [`profile`](Self::profile). A refusal is the inner `Err`.
    pub fn record(
        &mut self,
        id: impl Into<ProfileId>,
        event: Event,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let (engine, now) = (self.engine, self.now);
        let profile = self.profile(id)?;
        Ok(engine.record(profile, event, now))
    }

    /// Erases an interest subtree of profile `id` through
    /// [`Engine::erase_interest`]; returns the number of erased events (0
    /// if there is no such profile). After the commit the store
    /// checkpoints and truncates the write-ahead log, so that the erased
    /// bytes are gone from the files.
    ///
    /// # Errors
    /// As [`profile`](Self::profile).
    pub fn erase_interest(
        &mut self,
        id: impl Into<ProfileId>,
        interest: InterestId,
    ) -> Result<usize, StoreError> {
        let (engine, now) = (self.engine, self.now);
        let Some(profile) = self.existing(id)? else {
            return Ok(0);
        };
        let erased = engine.erase_interest(profile, interest, now);
        self.erased = true;
        Ok(erased)
    }

    /// Erases profile `id` through [`Engine::erase_profile`]: events,
    /// preferences, consent history and counters go; its suppressions and
    /// the erasure's tombstone stay (they protect the person, and keep
    /// being exported). `false` if there is no such profile. The log is
    /// checkpointed after the commit as for
    /// [`erase_interest`](Self::erase_interest).
    ///
    /// # Errors
    /// As [`profile`](Self::profile).
    pub fn erase_profile(&mut self, id: impl Into<ProfileId>) -> Result<bool, StoreError> {
        let (engine, now) = (self.engine, self.now);
        let Some(profile) = self.existing(id)? else {
            return Ok(false);
        };
        engine.erase_profile(profile, now);
        self.erased = true;
        Ok(true)
    }

    /// Deletes profile `id` and its suppression rows: nothing of it stays
    /// in the database, not even its id, and the next
    /// [`publish_feed`](super::SqliteStore::publish_feed) tells partners
    /// that its suppressions were removed. Prefer
    /// [`erase_profile`](Self::erase_profile), which keeps the person
    /// protected, unless the person must vanish entirely. `false` if there
    /// was no such profile (a damaged row is deleted too).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delete_profile(&mut self, id: impl Into<ProfileId>) -> Result<bool, StoreError> {
        let id = id.into();
        let was_open = self.open.remove(&id).is_some();
        let rows = self
            .conn
            .prepare_cached("DELETE FROM profiles WHERE id = ?1")
            .and_then(|mut s| s.execute([&id.0]))
            .on(self.path)?;
        self.conn
            .prepare_cached("DELETE FROM suppressions WHERE profile_id = ?1")
            .and_then(|mut s| s.execute([&id.0]))
            .on(self.path)?;
        self.erased = true;
        Ok(rows > 0 || was_open)
    }

    /// Writes every profile the transaction opened; returns whether
    /// anything was erased (the caller checkpoints after the commit).
    pub(super) fn finish(self) -> Result<bool, StoreError> {
        for open in self.open.values() {
            write(
                self.conn,
                self.engine,
                self.path,
                &open.profile,
                Some(&open.written),
            )?;
        }
        Ok(self.erased)
    }
}

/// Whether the database has a row for `id`.
fn exists(conn: &Connection, path: &Path, id: &ProfileId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM profiles WHERE id = ?1")
        .and_then(|mut s| s.query_row([&id.0], |_| Ok(())).optional())
        .on(path)
        .map(|r| r.is_some())
}

/// The fingerprint as SQLite stores it (the same 64 bits, signed).
pub(super) fn fingerprint_column(engine: &Engine) -> i64 {
    i64::from_le_bytes(engine.taxonomy().fingerprint().to_le_bytes())
}

/// Reads and decodes the profile `id`, or `None` if there is no row.
pub(super) fn read(
    conn: &Connection,
    engine: &Engine,
    path: &Path,
    id: &ProfileId,
    now: OffsetDateTime,
) -> Result<Option<Profile>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT taxonomy, data FROM profiles WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([&id.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .on(path)?;
    let Some((taxonomy, data)) = row else {
        return Ok(None);
    };
    decode(engine, id, taxonomy, &data, now).map(Some)
}

/// Decodes a row's bytes: the header's taxonomy fingerprint must be the
/// row's, the bytes must load, and the profile must be the row's.
pub(super) fn decode(
    engine: &Engine,
    id: &ProfileId,
    taxonomy: i64,
    data: &[u8],
    now: OffsetDateTime,
) -> Result<Profile, StoreError> {
    let damaged = |message: String| StoreError::Profile {
        id: id.clone(),
        source: crate::limits::ProfileError::Corrupt(message),
    };
    // The header: magic, version, flags, then the fingerprint (see
    // `persist::binary`). The checksum covers the bytes, the column is
    // checked against them.
    let header = data
        .get(..16)
        .filter(|h| h.starts_with(&BINARY_MAGIC))
        .ok_or_else(|| damaged("the row does not hold a binary profile".into()))?;
    let mut fp = [0u8; 8];
    fp.copy_from_slice(header.get(8..16).unwrap_or(&[0; 8]));
    if i64::from_le_bytes(fp) != taxonomy {
        return Err(damaged(format!(
            "the row says taxonomy {:016x}, its bytes {:016x}",
            u64::from_le_bytes(taxonomy.to_le_bytes()),
            u64::from_le_bytes(fp)
        )));
    }
    let profile = engine
        .load_profile_binary(data, now)
        .map_err(|source| StoreError::Profile {
            id: id.clone(),
            source,
        })?;
    if profile.id() != id {
        return Err(damaged(format!(
            "the row of {:?} holds profile {:?}",
            id.0,
            profile.id().0
        )));
    }
    Ok(profile)
}

/// Writes a profile's row, and its suppression rows unless they hold
/// `written` and the profile's suppressions still are those.
fn write(
    conn: &Connection,
    engine: &Engine,
    path: &Path,
    p: &Profile,
    written: Option<&Suppressions>,
) -> Result<(), StoreError> {
    let bytes = engine.save_binary(p).map_err(|source| StoreError::Encode {
        id: p.id().clone(),
        source,
    })?;
    conn.prepare_cached(
        "INSERT INTO profiles (id, taxonomy, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET taxonomy = excluded.taxonomy, data = excluded.data",
    )
    .and_then(|mut s| s.execute(params![&p.id().0, fingerprint_column(engine), bytes]))
    .on(path)?;
    if written != Some(&Suppressions::of(p)) {
        super::suppressions::write_rows(conn, engine, path, p)?;
    }
    Ok(())
}

/// Writes one profile as it is, replacing the stored one and its
/// suppression rows.
pub(super) fn overwrite(
    conn: &Connection,
    engine: &Engine,
    path: &Path,
    profile: &Profile,
) -> Result<(), StoreError> {
    write(conn, engine, path, profile, None)
}
