//! Partner feeds kept in the database: each a [`SuppressionFeed`] under a
//! name, updated from the suppression index in one transaction.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::error::{OnPath, StoreError};
use crate::export::{ExportProblem, SuppressionFeed};

/// What [`SqliteStore::publish_feed`](super::SqliteStore::publish_feed)
/// did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the problems name people whose suppressions were not exported"]
pub struct Published {
    /// The feed's version afterwards (unchanged if nothing changed).
    pub version: u64,
    /// The records that could not be exported (see
    /// [`Export::problems`](crate::export::Export::problems)).
    pub problems: Vec<ExportProblem>,
}

/// The feed stored under `name`, or a new one.
pub(super) fn read(
    conn: &Connection,
    path: &Path,
    name: &str,
) -> Result<SuppressionFeed, StoreError> {
    let state: Option<String> = conn
        .prepare_cached("SELECT state FROM feeds WHERE name = ?1")
        .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
        .on(path)?;
    match state {
        None => Ok(SuppressionFeed::new()),
        Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::FeedState {
            name: name.to_owned(),
            message: e.to_string(),
        }),
    }
}

/// Stores `feed` under `name`.
pub(super) fn write(
    conn: &Connection,
    path: &Path,
    name: &str,
    feed: &SuppressionFeed,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(feed).map_err(|e| StoreError::FeedState {
        name: name.to_owned(),
        message: e.to_string(),
    })?;
    conn.prepare_cached(
        "INSERT INTO feeds (name, state) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state",
    )
    .and_then(|mut s| s.execute([name, json.as_str()]))
    .on(path)
    .map(drop)
}
