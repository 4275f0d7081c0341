//! The database schema, its version table and its migrations, and the
//! connection settings every store applies.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::error::{OnPath, StoreError};
use super::options::StoreOptions;

/// The schema version this crate writes.
pub(super) const SCHEMA_VERSION: i64 = 1;

/// The steps from each version to the next: `MIGRATIONS[v]` takes a
/// database from version `v` to `v + 1`. Appended to, never edited.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: profiles in the compact form, the suppression index, feeds.
    "CREATE TABLE profiles (
         id TEXT NOT NULL PRIMARY KEY,
         taxonomy INTEGER NOT NULL,
         data BLOB NOT NULL
     );
     CREATE INDEX profiles_taxonomy ON profiles (taxonomy);
     CREATE TABLE suppressions (
         profile_id TEXT NOT NULL,
         seq INTEGER NOT NULL,
         since_s INTEGER NOT NULL,
         until_s INTEGER,
         wire TEXT NOT NULL,
         PRIMARY KEY (profile_id, seq)
     ) WITHOUT ROWID;
     CREATE INDEX suppressions_until ON suppressions (until_s);
     CREATE TABLE feeds (
         name TEXT NOT NULL PRIMARY KEY,
         state TEXT NOT NULL
     );",
];

/// Applies the per-connection settings: busy timeout, WAL, synchronous,
/// secure delete, quota.
pub(super) fn configure(
    conn: &Connection,
    path: &Path,
    options: &StoreOptions,
) -> Result<(), StoreError> {
    conn.busy_timeout(options.get_busy_timeout()).on(path)?;
    if options.get_read_only() {
        return Ok(());
    }
    // Deleted content is overwritten with zeros, in pages and in the free
    // list: an erased profile does not linger in the file's free space.
    conn.pragma_update(None, "secure_delete", "ON").on(path)?;
    // Readers never block the writer and a commit appends to one file.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .on(path)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Sqlite {
            path: path.to_owned(),
            code: 0,
            message: format!("journal mode {mode:?} instead of \"wal\""),
        });
    }
    conn.pragma_update(None, "synchronous", options.get_synchronous().pragma())
        .on(path)?;
    if let Some(bytes) = options.get_max_database_bytes() {
        let page: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .on(path)?;
        let pages = bytes / u64::try_from(page.max(1)).unwrap_or(1);
        let pages = i64::try_from(pages.max(1)).unwrap_or(i64::MAX);
        conn.pragma_update(None, "max_page_count", pages).on(path)?;
    }
    Ok(())
}

/// The schema version recorded in the database (0 for a new file).
pub(super) fn version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tactful_schema'",
            [],
            |r| r.get(0),
        )
        .optional()
        .on(path)?;
    if exists.is_none() {
        return Ok(0);
    }
    conn.query_row("SELECT version FROM tactful_schema", [], |r| r.get(0))
        .optional()
        .on(path)
        .map(|v| v.unwrap_or(0))
}

/// Creates or migrates the schema in one transaction (a concurrent opener
/// waits, then finds it done).
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .on(path)?;
    let found = version(&tx, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return tx.commit().on(path);
    }
    if found == 0 {
        tx.execute_batch("CREATE TABLE tactful_schema (version INTEGER NOT NULL)")
            .on(path)?;
    }
    let from = usize::try_from(found).unwrap_or(0);
    for step in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(step).on(path)?;
    }
    tx.execute("DELETE FROM tactful_schema", []).on(path)?;
    tx.execute(
        "INSERT INTO tactful_schema (version) VALUES (?1)",
        [SCHEMA_VERSION],
    )
    .on(path)?;
    tx.commit().on(path)
}

/// Checks that a read-only database has the current schema.
pub(super) fn expect_current(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let found = version(conn, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        return Err(StoreError::SchemaOutdated {
            path: path.to_owned(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_one_migration_per_version() {
        assert_eq!(i64::try_from(MIGRATIONS.len()), Ok(SCHEMA_VERSION));
    }
}
