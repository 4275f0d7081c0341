//! What can go wrong with the store, one variant per thing the caller can
//! act on.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;
use thiserror::Error;

use crate::export::FeedError;
use crate::limits::ProfileError;
use crate::profile::ProfileId;

/// Why a [`SqliteStore`](super::SqliteStore) call failed.
///
/// Nothing committed before the failing call is lost in any of these
/// cases: SQLite rolls the failed transaction back as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A stored profile cannot be read: its bytes are damaged (flipped
    /// bytes fail the checksum), it exceeds the engine's limits, or its
    /// row does not match its bytes. The row is left as it is, never
    /// replaced by an empty profile: restore it from a backup, or delete
    /// it with [`SqliteStore::delete_profile`](super::SqliteStore::delete_profile).
    #[error("stored profile {:?} cannot be read: {source}", .id.0)]
    Profile {
        /// The profile whose row is unreadable.
        id: ProfileId,
        /// What is wrong with it.
        source: ProfileError,
    },
    /// A profile could not be encoded for storage (it holds an interest
    /// handle the engine's taxonomy does not have). Nothing was written.
    #[error("profile {:?} cannot be stored: {source}", .id.0)]
    Encode {
        /// The profile.
        id: ProfileId,
        /// Why.
        source: ProfileError,
    },
    /// Other connections kept the database locked through the busy
    /// timeout on every one of `attempts` tries. Nothing was written; try
    /// again later, or raise [`StoreOptions::busy_timeout`](super::StoreOptions::busy_timeout)
    /// or [`StoreOptions::attempts`](super::StoreOptions::attempts).
    #[error("database {} stayed locked by other connections through {attempts} attempts", .path.display())]
    Busy {
        /// The database file.
        path: PathBuf,
        /// How many times the operation was tried.
        attempts: u32,
    },
    /// The database cannot be written: the store was opened read-only, or
    /// the file or its directory is not writable. Nothing was written.
    #[error("database {} is read-only: the write was refused", .path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// The disk (or the store's
    /// [`max_database_bytes`](super::StoreOptions::max_database_bytes)
    /// quota) is full. The transaction was rolled back; free space and
    /// try again.
    #[error("database {} is full: the transaction was rolled back", .path.display())]
    Full {
        /// The database file.
        path: PathBuf,
    },
    /// The file is not a SQLite database, or SQLite found it malformed.
    /// Restore it from a backup.
    #[error("database {} is damaged: {message}", .path.display())]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// SQLite's description.
        message: String,
    },
    /// The database was written by a newer version of tactful, whose
    /// schema this version does not know. Nothing was changed.
    #[error("database {} has schema version {found}, this tactful knows up to {supported}", .path.display())]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version in the file.
        found: i64,
        /// The newest schema version this crate writes.
        supported: i64,
    },
    /// A read-only store was opened on a file without the current schema
    /// (new, or written by an older tactful): open it writable once to
    /// create or migrate the schema.
    #[error("database {} has schema version {found}, not {expected}: open it writable once to migrate", .path.display())]
    SchemaOutdated {
        /// The database file.
        path: PathBuf,
        /// The schema version in the file (0: none).
        found: i64,
        /// The version this crate needs.
        expected: i64,
    },
    /// Readers kept the write-ahead log in use through every attempt, so
    /// it could not be checkpointed and truncated. A preceding erasure is
    /// committed, but the erased bytes remain in the log file until
    /// [`SqliteStore::checkpoint`](super::SqliteStore::checkpoint)
    /// succeeds: call it again when the readers are done.
    #[error("the write-ahead log of {} is still in use by readers: erased data stays in it until a checkpoint succeeds", .path.display())]
    CheckpointIncomplete {
        /// The database file.
        path: PathBuf,
    },
    /// A partner feed stored in the database cannot be read.
    #[error("stored feed {name:?} cannot be read: {message}")]
    FeedState {
        /// The feed's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A partner feed cannot answer (see [`FeedError`]).
    #[error("feed {name:?}: {source}")]
    Feed {
        /// The feed's name.
        name: String,
        /// Why.
        source: FeedError,
    },
    /// Any other SQLite failure (I/O errors among them).
    #[error("database {}: sqlite error {code}: {message}", .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's extended result code (0 if there is none).
        code: i32,
        /// SQLite's description.
        message: String,
    },
}

impl StoreError {
    /// Whether another connection holding a lock caused it, so that trying
    /// again may succeed.
    pub(super) fn is_busy(&self) -> bool {
        matches!(self, Self::Busy { .. })
    }

    /// The typed form of a SQLite error on the database at `path`.
    pub(super) fn sqlite(path: &Path, e: &rusqlite::Error) -> Self {
        let path = path.to_owned();
        let message = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Busy { path, attempts: 1 }
            }
            Some(ErrorCode::ReadOnly) => Self::ReadOnly { path },
            Some(ErrorCode::DiskFull) => Self::Full { path },
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                Self::Damaged { path, message }
            }
            _ => Self::Sqlite {
                path,
                code: e.sqlite_extended_error_code().unwrap_or(0),
                message,
            },
        }
    }
}

/// Converts SQLite errors on one database file into [`StoreError`]s.
pub(super) trait OnPath<T> {
    /// The result with its error typed for the database at `path`.
    fn on(self, path: &Path) -> Result<T, StoreError>;
}

impl<T> OnPath<T> for Result<T, rusqlite::Error> {
    fn on(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(path, &e))
    }
}
