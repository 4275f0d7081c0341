//! The incremental feed: versioned changes between successive exports.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::entry::SuppressionEntry;
use super::list::SuppressionList;

/// Whether an entry appeared or disappeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The entry is new: honor it.
    Added,
    /// The entry is gone (it ended, or the suppression was lifted).
    Removed,
}

/// One change of a [`SuppressionFeed`], with the version it was assigned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeedChange {
    /// The feed version of this change, unique and increasing.
    pub version: u64,
    /// Added or removed.
    pub kind: ChangeKind,
    /// The entry.
    pub entry: SuppressionEntry,
}

/// Why [`SuppressionFeed::changes_since`] cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FeedError {
    /// Changes after `since` were dropped by
    /// [`SuppressionFeed::compact_before`]. Answering with the rest would
    /// silently lose suppressions; the partner must re-sync from
    /// [`SuppressionFeed::snapshot`] and continue from its version.
    #[error("changes after version {since} were compacted; oldest available start is version {oldest}, re-sync from a snapshot")]
    Compacted {
        /// The requested version.
        since: u64,
        /// The smallest version `changes_since` accepts.
        oldest: u64,
    },
    /// The requested version is newer than the feed: the partner talks to
    /// another feed, or the feed was restored from an older copy. Re-sync
    /// from [`SuppressionFeed::snapshot`].
    #[error(
        "version {since} is ahead of the feed's current version {current}, re-sync from a snapshot"
    )]
    Ahead {
        /// The requested version.
        since: u64,
        /// The feed's current version.
        current: u64,
    },
}

/// A publisher's versioned history of its [`SuppressionList`] exports, so
/// partners can poll for what changed instead of re-reading everything.
///
/// Each [`update`](Self::update) compares a new export with the previous
/// one and records every entry that appeared ([`ChangeKind::Added`]) or
/// disappeared ([`ChangeKind::Removed`]), each under the next version
/// number. An entry whose `until` changed is a removal of the old entry
/// and an addition of the new one. A partner remembers the last version
/// it applied and asks [`changes_since`](Self::changes_since) for the
/// rest, then applies them with [`SuppressionList::apply`].
///
/// Serializable with serde so the publisher can store it between exports.
///
/// The feed carries exactly the entries of the lists it is given: feed it
/// lists from [`SuppressionList::from_profiles`] (or
/// [`from_profiles_with`](SuppressionList::from_profiles_with)) and it
/// carries only minimized entries, special categories coarsened and
/// windows in whole UTC days. Whole days also keep the feed quiet: a
/// nightly export at a different hour changes no entry.
///
/// # Memory
/// The feed holds the current entries plus one [`FeedChange`] per change
/// since the last compaction, so it grows with every update that changes
/// something (expired suppressions produce removals too). Once every
/// partner has polled past version `v`, call
/// [`compact_before(v + 1)`](Self::compact_before) to drop the older
/// changes; partners still behind then get [`FeedError::Compacted`] and
/// re-sync from [`snapshot`](Self::snapshot).
///
/// # Example
/// ```
/// use tactful::export::{ExportScope, SubjectKey, SuppressionEntry, SuppressionFeed, SuppressionList};
/// use time::macros::datetime;
///
/// let entry = SuppressionEntry::new(SubjectKey::from_bytes([1; 32]), ExportScope::All, datetime!(2026-03-01 0:00 UTC), None)?;
/// let mut feed = SuppressionFeed::new();
/// let v1 = feed.update(&[entry.clone()].into_iter().collect());
/// assert_eq!(v1, 1);
///
/// // The partner polls from 0 and mirrors the list.
/// let mut mirror = SuppressionList::new();
/// mirror.apply(&feed.changes_since(0)?);
///
/// let v2 = feed.update(&SuppressionList::new()); // the suppression was lifted
/// assert_eq!(v2, 2);
/// mirror.apply(&feed.changes_since(v1)?);
/// assert!(mirror.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "FeedRepr", into = "FeedRepr")]
pub struct SuppressionFeed {
    current: SuppressionList,
    version: u64,
    /// Changes with a version at or below this were dropped.
    compacted_through: u64,
    /// Versions strictly increasing, all above `compacted_through`.
    changes: Vec<FeedChange>,
}

impl SuppressionFeed {
    /// An empty feed at version 0.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the changes from the previous list to `list` and returns
    /// the current version afterwards (unchanged if nothing changed).
    /// Removals get their versions before additions; within each, entries
    /// are in list order.
    pub fn update(&mut self, list: &SuppressionList) -> u64 {
        let removed: Vec<SuppressionEntry> = self
            .current
            .iter()
            .filter(|e| list.entries().binary_search(e).is_err())
            .cloned()
            .collect();
        let added: Vec<SuppressionEntry> = list
            .iter()
            .filter(|e| self.current.entries().binary_search(e).is_err())
            .cloned()
            .collect();
        for (kind, entries) in [(ChangeKind::Removed, removed), (ChangeKind::Added, added)] {
            for entry in entries {
                self.version += 1;
                self.changes.push(FeedChange {
                    version: self.version,
                    kind,
                    entry,
                });
            }
        }
        self.current = list.clone();
        self.version
    }

    /// The version of the latest change (0 before the first).
    #[must_use]
    pub fn current_version(&self) -> u64 {
        self.version
    }

    /// The smallest version [`changes_since`](Self::changes_since) accepts.
    #[must_use]
    pub fn oldest_version(&self) -> u64 {
        self.compacted_through
    }

    /// The changes with a version above `version`, oldest first. Pass 0
    /// (on a feed never compacted) for everything, or the last version the
    /// partner applied.
    ///
    /// # Errors
    /// [`FeedError::Compacted`] if changes after `version` were dropped,
    /// [`FeedError::Ahead`] if `version` is above the current version.
    pub fn changes_since(&self, version: u64) -> Result<Vec<FeedChange>, FeedError> {
        if version > self.version {
            return Err(FeedError::Ahead {
                since: version,
                current: self.version,
            });
        }
        if version < self.compacted_through {
            return Err(FeedError::Compacted {
                since: version,
                oldest: self.compacted_through,
            });
        }
        let from = self.changes.partition_point(|c| c.version <= version);
        Ok(self.changes.get(from..).unwrap_or_default().to_vec())
    }

    /// The current entries and the version they reflect: what a partner
    /// loads to start, or to re-sync after [`FeedError`].
    #[must_use]
    pub fn snapshot(&self) -> (&SuppressionList, u64) {
        (&self.current, self.version)
    }

    /// Drops the changes with a version below `version` (clamped to the
    /// current version plus one); returns how many were dropped. Afterwards
    /// [`changes_since`](Self::changes_since) accepts versions from
    /// `version - 1` on.
    pub fn compact_before(&mut self, version: u64) -> usize {
        let through = version.saturating_sub(1).min(self.version);
        if through <= self.compacted_through {
            return 0;
        }
        self.compacted_through = through;
        let keep_from = self.changes.partition_point(|c| c.version <= through);
        self.changes.drain(..keep_from).count()
    }

    /// Number of changes held (what [`compact_before`](Self::compact_before)
    /// can free).
    #[must_use]
    pub fn retained_changes(&self) -> usize {
        self.changes.len()
    }
}

/// Storage form, checked on the way in.
#[derive(Serialize, Deserialize)]
struct FeedRepr {
    version: u64,
    compacted_through: u64,
    current: SuppressionList,
    changes: Vec<FeedChange>,
}

/// A stored feed whose versions do not add up.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("inconsistent suppression feed: {0}")]
struct InvalidFeed(String);

impl TryFrom<FeedRepr> for SuppressionFeed {
    type Error = InvalidFeed;
    fn try_from(r: FeedRepr) -> Result<Self, Self::Error> {
        if r.compacted_through > r.version {
            return Err(InvalidFeed(format!(
                "compacted through {} beyond version {}",
                r.compacted_through, r.version
            )));
        }
        let mut last = r.compacted_through;
        for c in &r.changes {
            if c.version <= last || c.version > r.version {
                return Err(InvalidFeed(format!(
                    "change version {} out of order (after {last}, current {})",
                    c.version, r.version
                )));
            }
            last = c.version;
        }
        Ok(Self {
            current: r.current,
            version: r.version,
            compacted_through: r.compacted_through,
            changes: r.changes,
        })
    }
}

impl From<SuppressionFeed> for FeedRepr {
    fn from(f: SuppressionFeed) -> Self {
        Self {
            version: f.version,
            compacted_through: f.compacted_through,
            current: f.current,
            changes: f.changes,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::export::{ExportScope, SubjectKey};
    use time::macros::datetime;

    fn entry(b: u8) -> SuppressionEntry {
        SuppressionEntry::new(
            SubjectKey::from_bytes([b; 32]),
            ExportScope::All,
            datetime!(2026-03-01 0:00 UTC),
            None,
        )
        .unwrap()
    }

    fn list(bs: &[u8]) -> SuppressionList {
        bs.iter().map(|b| entry(*b)).collect()
    }

    #[test]
    fn versions_increase_per_change() {
        let mut feed = SuppressionFeed::new();
        assert_eq!(feed.current_version(), 0);
        assert_eq!(feed.update(&list(&[1, 2])), 2);
        assert_eq!(feed.update(&list(&[1, 2])), 2, "no change, no version");
        assert_eq!(feed.update(&list(&[2, 3])), 4);
        let changes = feed.changes_since(2).unwrap();
        assert_eq!(
            changes
                .iter()
                .map(|c| (c.version, c.kind))
                .collect::<Vec<_>>(),
            [(3, ChangeKind::Removed), (4, ChangeKind::Added)]
        );
        assert_eq!(changes[0].entry, entry(1));
        assert!(feed.changes_since(4).unwrap().is_empty());
        assert_eq!(
            feed.changes_since(5),
            Err(FeedError::Ahead {
                since: 5,
                current: 4
            })
        );
    }

    #[test]
    fn compaction_refuses_stale_pollers() {
        let mut feed = SuppressionFeed::new();
        feed.update(&list(&[1, 2]));
        feed.update(&list(&[2, 3]));
        assert_eq!(feed.compact_before(3), 2);
        assert_eq!(feed.oldest_version(), 2);
        assert_eq!(feed.retained_changes(), 2);
        assert_eq!(
            feed.changes_since(1),
            Err(FeedError::Compacted {
                since: 1,
                oldest: 2
            })
        );
        assert_eq!(feed.changes_since(2).unwrap().len(), 2);
        assert_eq!(feed.compact_before(1), 0, "never un-compacts");
        assert_eq!(feed.compact_before(u64::MAX), 2);
        assert_eq!(feed.oldest_version(), 4);
        assert!(feed.changes_since(4).unwrap().is_empty());
        let (snapshot, version) = feed.snapshot();
        assert_eq!((snapshot, version), (&list(&[2, 3]), 4));
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut feed = SuppressionFeed::new();
        feed.update(&list(&[1, 2]));
        feed.update(&list(&[2]));
        feed.compact_before(2);
        let json = serde_json::to_string(&feed).unwrap();
        assert_eq!(
            serde_json::from_str::<SuppressionFeed>(&json).unwrap(),
            feed
        );
        let broken = json.replace("\"version\":3,\"compacted", "\"version\":1,\"compacted");
        assert_ne!(broken, json);
        let err = serde_json::from_str::<SuppressionFeed>(&broken).unwrap_err();
        assert!(
            err.to_string().contains("inconsistent suppression feed"),
            "{err}"
        );
    }
}
