//! How a store opens its database: by-value builder with defaults fit for
//! a service.

use std::num::NonZeroU32;
use std::time::Duration;

/// When SQLite waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// `synchronous = NORMAL`: in WAL mode a commit survives the process
    /// being killed at any moment; the last commits before a power loss or
    /// kernel crash may be rolled back (never half-applied). The default,
    /// and what SQLite recommends with WAL.
    #[default]
    Normal,
    /// `synchronous = FULL`: every commit is on the disk before it returns,
    /// power loss included. Slower: one fsync per commit.
    Full,
}

impl Synchronous {
    pub(super) fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

/// How [`SqliteStore::open_with`](super::SqliteStore::open_with) opens the
/// database.
///
/// # Example
/// ```
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// use tactful::sqlite::{StoreOptions, Synchronous};
///
/// let options = StoreOptions::default()
///     .busy_timeout(Duration::from_secs(2))
///     .attempts(NonZeroU32::new(4).unwrap())
///     .synchronous(Synchronous::Full);
/// assert_eq!(options.get_attempts().get(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreOptions {
    busy_timeout: Duration,
    attempts: NonZeroU32,
    synchronous: Synchronous,
    read_only: bool,
    max_database_bytes: Option<u64>,
}

impl Default for StoreOptions {
    /// Busy timeout 5 s, 8 attempts, `synchronous = NORMAL`, writable, no
    /// size quota.
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            attempts: NonZeroU32::new(8).unwrap_or(NonZeroU32::MIN),
            synchronous: Synchronous::Normal,
            read_only: false,
            max_database_bytes: None,
        }
    }
}

impl StoreOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long one attempt waits for other connections' locks (SQLite's
    /// busy timeout) before it counts as failed.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many times a transaction is tried while the database stays
    /// locked, before [`StoreError::Busy`](super::StoreError::Busy).
    #[must_use]
    pub fn attempts(mut self, attempts: NonZeroU32) -> Self {
        self.attempts = attempts;
        self
    }

    /// When commits wait for the disk.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Opens the file read-only (SQLite's `SQLITE_OPEN_READ_ONLY`): every
    /// write is refused with [`StoreError::ReadOnly`](super::StoreError::ReadOnly).
    /// The file must exist with the current schema. Unlike file
    /// permissions, this holds for root too.
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// A quota: the database file may not grow beyond about this many bytes
    /// (SQLite's `max_page_count`, rounded down to whole pages). A
    /// transaction that would need more fails with
    /// [`StoreError::Full`](super::StoreError::Full), as on a full disk.
    #[must_use]
    pub fn max_database_bytes(mut self, bytes: u64) -> Self {
        self.max_database_bytes = Some(bytes);
        self
    }

    /// The busy timeout.
    #[must_use]
    pub fn get_busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// The number of attempts.
    #[must_use]
    pub fn get_attempts(&self) -> NonZeroU32 {
        self.attempts
    }

    /// The synchronous mode.
    #[must_use]
    pub fn get_synchronous(&self) -> Synchronous {
        self.synchronous
    }

    /// Whether the store is opened read-only.
    #[must_use]
    pub fn get_read_only(&self) -> bool {
        self.read_only
    }

    /// The size quota, if any.
    #[must_use]
    pub fn get_max_database_bytes(&self) -> Option<u64> {
        self.max_database_bytes
    }
}
