//! The suppression index: one row per stored suppression, written in the
//! same transaction as its profile, from which partner exports and feeds
//! are built without reading any profile.
//!
//! A row holds the suppression in the stored JSON form (interest by path,
//! reason, window), exactly as [`Engine::save_json`] writes it, plus its
//! window in whole seconds for the index. An export reads the rows active
//! at `now`, reads each profile's rows back as a profile that holds only
//! those suppressions (through [`Engine::load_profile`], so orphaned
//! paths and renames follow the same rules as a full load), and hands
//! them to the export module: the list is the one
//! [`SuppressionList::from_profiles_with`] builds from the full profiles.

use std::path::Path;

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::error::{OnPath, StoreError};
use crate::engine::Engine;
use crate::export::{Export, ExportOptions, KeySecret, SuppressionList};
use crate::limits::ProfileError;
use crate::persist::{FORMAT_NAME, FORMAT_VERSION};
use crate::profile::{Profile, ProfileId};

/// A partner export built from the store: the list and the problems of
/// [`SuppressionList::from_profiles_with`], and the profiles whose
/// suppression rows could not be read (their suppressions are missing
/// from the list: repair them before sharing it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the problems and unreadable rows name people whose suppressions were not exported"]
pub struct StoredExport {
    /// The list and the records that could not be exported.
    pub export: Export<SuppressionList>,
    /// One [`StoreError::Profile`] per profile whose rows are unreadable.
    pub unreadable: Vec<StoreError>,
}

impl StoredExport {
    /// Whether every suppression was exported.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.export.is_complete() && self.unreadable.is_empty()
    }
}

/// Rewrites the suppression rows of `p`.
pub(super) fn write_rows(
    conn: &Connection,
    engine: &Engine,
    path: &Path,
    p: &Profile,
) -> Result<(), StoreError> {
    let id = &p.id().0;
    conn.prepare_cached("DELETE FROM suppressions WHERE profile_id = ?1")
        .and_then(|mut s| s.execute([id]))
        .on(path)?;
    let windows: Vec<(OffsetDateTime, Option<OffsetDateTime>)> = p
        .suppressions()
        .iter()
        .map(|s| (s.since(), s.ends()))
        .chain(
            p.orphans()
                .suppressions()
                .iter()
                .map(|s| (s.since, s.until)),
        )
        .collect();
    if windows.is_empty() {
        return Ok(());
    }
    let wire = wire_suppressions(engine, p)?;
    if wire.len() != windows.len() {
        return Err(StoreError::Encode {
            id: p.id().clone(),
            source: ProfileError::Encode(format!(
                "{} suppressions written as {}",
                windows.len(),
                wire.len()
            )),
        });
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO suppressions (profile_id, seq, since_s, until_s, wire)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .on(path)?;
    for (seq, (w, (since, until))) in (0i64..).zip(wire.iter().zip(windows)) {
        let until = until.map(OffsetDateTime::unix_timestamp);
        insert
            .execute(params![id, seq, since.unix_timestamp(), until, w])
            .on(path)?;
    }
    Ok(())
}

/// The stored JSON form of each suppression of `p`, known ones first,
/// then orphaned ones, as the engine writes them.
fn wire_suppressions(engine: &Engine, p: &Profile) -> Result<Vec<String>, StoreError> {
    let encode = |message: String| StoreError::Encode {
        id: p.id().clone(),
        source: ProfileError::Encode(message),
    };
    let json = engine.save_json(p).map_err(|source| StoreError::Encode {
        id: p.id().clone(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| encode(e.to_string()))?;
    let list = value
        .get("suppressions")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| encode("the stored form has no suppressions list".into()))?;
    Ok(list.iter().map(serde_json::Value::to_string).collect())
}

/// The profiles with a suppression possibly active at `now`, each holding
/// only its suppressions, and the errors of those whose rows cannot be
/// read.
pub(super) fn suppressed_profiles(
    conn: &Connection,
    engine: &Engine,
    path: &Path,
    now: OffsetDateTime,
) -> Result<(Vec<Profile>, Vec<StoreError>), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT profile_id, wire FROM suppressions
             WHERE since_s <= ?1 AND (until_s IS NULL OR until_s >= ?1)
             ORDER BY profile_id, seq",
        )
        .on(path)?;
    let mut rows = stmt.query([now.unix_timestamp()]).on(path)?;
    let mut profiles = Vec::new();
    let mut unreadable = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut flush = |group: Option<(String, Vec<String>)>| {
        if let Some((id, wires)) = group {
            match load(engine, &id, &wires, now) {
                Ok(p) => profiles.push(p),
                Err(e) => unreadable.push(e),
            }
        }
    };
    while let Some(row) = rows.next().on(path)? {
        let id: String = row.get(0).on(path)?;
        let wire: String = row.get(1).on(path)?;
        match &mut current {
            Some((cur, wires)) if *cur == id => wires.push(wire),
            _ => flush(current.replace((id, vec![wire]))),
        }
    }
    flush(current);
    Ok((profiles, unreadable))
}

/// A profile holding only the given stored suppressions.
fn load(
    engine: &Engine,
    id: &str,
    wires: &[String],
    now: OffsetDateTime,
) -> Result<Profile, StoreError> {
    let fail = |source: ProfileError| StoreError::Profile {
        id: ProfileId(id.to_owned()),
        source,
    };
    let quoted =
        serde_json::to_string(id).map_err(|e| fail(ProfileError::Encode(e.to_string())))?;
    let format = serde_json::to_string(FORMAT_NAME)
        .map_err(|e| fail(ProfileError::Encode(e.to_string())))?;
    let doc = format!(
        "{{\"format\":{format},\"version\":{FORMAT_VERSION},\"id\":{quoted},\"suppressions\":[{}]}}",
        wires.join(",")
    );
    engine.load_profile(&doc, now).map_err(fail)
}

/// The partner list of the suppressions active at `now`, keyed by
/// `identifier` of each profile id.
pub(super) fn export(
    conn: &Connection,
    engine: &Engine,
    path: &Path,
    secret: &KeySecret,
    now: OffsetDateTime,
    options: ExportOptions,
    identifier: &mut dyn FnMut(&ProfileId) -> String,
) -> Result<StoredExport, StoreError> {
    let (profiles, unreadable) = suppressed_profiles(conn, engine, path, now)?;
    let identifiers: Vec<String> = profiles.iter().map(|p| identifier(p.id())).collect();
    let export = SuppressionList::from_profiles_with(
        engine.taxonomy(),
        profiles.iter().zip(identifiers.iter().map(String::as_str)),
        secret,
        now,
        options,
    );
    Ok(StoredExport { export, unreadable })
}
