//! What the store tells partners: suppression lists and feeds, built from
//! the suppression index without reading any profile.

use rusqlite::TransactionBehavior;
use time::OffsetDateTime;

use super::error::{OnPath, StoreError};
use super::feed::{self, Published};
use super::suppressions::{self, StoredExport};
use super::{retry, SqliteStore};
use crate::export::{ExportOptions, FeedChange, KeySecret, SuppressionFeed};
use crate::profile::ProfileId;

impl SqliteStore {
    /// The partner list of every suppression active at `now`, each person
    /// keyed by their profile id, as
    /// [`SuppressionList::from_profiles_with`](crate::export::SuppressionList::from_profiles_with)
    /// builds it from the stored profiles (minimized as `options` say), but
    /// read from the suppression index alone.
    ///
    /// # Errors
    /// SQLite errors. Unreadable suppression rows are reported in
    /// [`StoredExport::unreadable`], not as an error.
    pub fn suppression_list(
        &self,
        secret: &KeySecret,
        now: OffsetDateTime,
        options: ExportOptions,
    ) -> Result<StoredExport, StoreError> {
        self.suppression_list_with(secret, now, options, |id| id.0.clone())
    }

    /// As [`suppression_list`](Self::suppression_list), keying each person
    /// by `identifier(profile id)` (the e-mail address the partner holds,
    /// looked up elsewhere). Called once per person with an active
    /// suppression.
    ///
    /// # Errors
    /// As [`suppression_list`](Self::suppression_list).
    pub fn suppression_list_with(
        &self,
        secret: &KeySecret,
        now: OffsetDateTime,
        options: ExportOptions,
        mut identifier: impl FnMut(&ProfileId) -> String,
    ) -> Result<StoredExport, StoreError> {
        let (conn, engine, path) = (&self.conn, &*self.engine, self.path.as_path());
        retry(self.attempts(), path, || {
            suppressions::export(conn, engine, path, secret, now, options, &mut identifier)
        })
    }

    /// Updates the partner feed `name` (created at version 0 if new) with
    /// the suppression list at `now` (keyed by profile id, see
    /// [`suppression_list`](Self::suppression_list)), in one transaction.
    /// Returns its version afterwards.
    ///
    /// # Errors
    /// The first unreadable suppression row as [`StoreError::Profile`]:
    /// the feed is then left unchanged, since publishing without those
    /// suppressions would tell the partner they were lifted.
    /// [`StoreError::FeedState`] if the stored feed cannot be read; SQLite
    /// errors.
    pub fn publish_feed(
        &mut self,
        name: &str,
        secret: &KeySecret,
        now: OffsetDateTime,
        options: ExportOptions,
    ) -> Result<Published, StoreError> {
        self.publish_feed_with(name, secret, now, options, |id| id.0.clone())
    }

    /// As [`publish_feed`](Self::publish_feed), keying each person by
    /// `identifier(profile id)`.
    ///
    /// # Errors
    /// As [`publish_feed`](Self::publish_feed).
    pub fn publish_feed_with(
        &mut self,
        name: &str,
        secret: &KeySecret,
        now: OffsetDateTime,
        options: ExportOptions,
        mut identifier: impl FnMut(&ProfileId) -> String,
    ) -> Result<Published, StoreError> {
        let attempts = self.attempts();
        let (conn, engine, path) = (&mut self.conn, &*self.engine, self.path.as_path());
        retry(attempts, path, || {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .on(path)?;
            let StoredExport { export, unreadable } =
                suppressions::export(&tx, engine, path, secret, now, options, &mut identifier)?;
            if let Some(first) = unreadable.into_iter().next() {
                return Err(first);
            }
            let mut feed = feed::read(&tx, path, name)?;
            let version = feed.update(&export.list);
            feed::write(&tx, path, name, &feed)?;
            tx.commit().on(path)?;
            Ok(Published {
                version,
                problems: export.problems,
            })
        })
    }

    /// The partner feed `name` as stored (empty at version 0 if there is
    /// none): its snapshot, versions and changes.
    ///
    /// # Errors
    /// [`StoreError::FeedState`]; SQLite errors.
    pub fn feed(&self, name: &str) -> Result<SuppressionFeed, StoreError> {
        let path = self.path.as_path();
        retry(self.attempts(), path, || feed::read(&self.conn, path, name))
    }

    /// The changes of feed `name` after `version`: what a partner that
    /// applied `version` polls for.
    ///
    /// # Errors
    /// [`StoreError::Feed`] if the partner must re-sync from a snapshot
    /// (see [`FeedError`](crate::export::FeedError)); as [`feed`](Self::feed).
    pub fn changes_since(&self, name: &str, version: u64) -> Result<Vec<FeedChange>, StoreError> {
        self.feed(name)?
            .changes_since(version)
            .map_err(|source| StoreError::Feed {
                name: name.to_owned(),
                source,
            })
    }

    /// Drops the changes of feed `name` below `version` (see
    /// [`SuppressionFeed::compact_before`]); returns how many.
    ///
    /// # Errors
    /// As [`feed`](Self::feed).
    pub fn compact_feed(&mut self, name: &str, version: u64) -> Result<usize, StoreError> {
        let attempts = self.attempts();
        let (conn, path) = (&mut self.conn, self.path.as_path());
        retry(attempts, path, || {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .on(path)?;
            let mut feed = feed::read(&tx, path, name)?;
            let dropped = feed.compact_before(version);
            if dropped > 0 {
                feed::write(&tx, path, name, &feed)?;
            }
            tx.commit().on(path)?;
            Ok(dropped)
        })
    }
}
