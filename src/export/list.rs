//! The list of exported suppressions: built from profiles, searched by
//! the partner.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::entry::SuppressionEntry;
use super::feed::{ChangeKind, FeedChange};
use super::key::{KeySecret, SubjectKey};
use super::minimize::{self, ExportOptions};
use super::problem::{Export, ExportProblem, ProblemKind};
use crate::consent::Purpose;
use crate::profile::Profile;
use crate::suppression::Channel;
use crate::taxonomy::Taxonomy;

/// The suppressions to share with a partner: one [`SuppressionEntry`] per
/// suppression active at the export's `now`, without duplicates, sorted.
///
/// The operator builds it with [`from_profiles`](Self::from_profiles) and
/// writes it with [`to_jsonl`](Self::to_jsonl) or [`to_csv`](Self::to_csv);
/// the partner reads it back with [`from_jsonl`](Self::from_jsonl) or
/// [`from_csv`](Self::from_csv), derives the [`SubjectKey`] of each person it
/// is about to contact with the same [`KeySecret`], and asks
/// [`is_suppressed`](Self::is_suppressed).
///
/// In serde it is a sequence of entries (read back sorted and deduplicated).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "Vec<SuppressionEntry>", into = "Vec<SuppressionEntry>")]
pub struct SuppressionList {
    // Sorted and deduplicated.
    entries: Vec<SuppressionEntry>,
}

impl SuppressionList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Exports the suppressions of `profiles` active at `now`, minimized
    /// with the default [`ExportOptions`]: the list of everyone whose
    /// record is fine, and beside it the problems of the records that are
    /// not. One odd record never fails the batch.
    ///
    /// The same as [`from_profiles_with`](Self::from_profiles_with) with
    /// `ExportOptions::default()`: a suppression of an interest in a
    /// special category (or of an orphaned interest) is exported as a
    /// suppression of everything ([`ExportScope::All`](super::ExportScope::All)), and every window
    /// is widened to whole UTC days. See there for everything else.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{KeySecret, SubjectKey, SuppressionList};
    /// use tactful::{Channel, Profile, Purpose, SuppressionReason, Scope, Suppression, Taxonomy};
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let t = datetime!(2026-03-01 0:00 UTC);
    /// let mut anna = Profile::new("anna");
    /// let s = Suppression::new(Scope::Channel(Channel::Phone), SuppressionReason::DoNotContact, t);
    /// # // Profiles are changed through the engine; tests use it directly.
    /// # let engine = tactful::Engine::new(taxonomy.clone(), tactful::DecayPolicy::default());
    /// engine.suppress(&mut anna, s, t);
    ///
    /// let secret = KeySecret::new([42u8; 32])?;
    /// let export = SuppressionList::from_profiles(&taxonomy, [(&anna, "anna@example.org")], &secret, t);
    /// for problem in &export.problems {
    ///     eprintln!("not exported: {problem}");
    /// }
    /// assert!(export.is_complete());
    /// let list = export.list;
    /// let key = SubjectKey::derive(&secret, "ANNA@example.org");
    /// assert!(list.contains(&key));
    /// assert!(list.is_suppressed(&key, Channel::Phone, Purpose::Service, None, t));
    /// assert!(!list.is_suppressed(&key, Channel::Email, Purpose::Service, None, t));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_profiles<'p, 'i>(
        taxonomy: &Taxonomy,
        profiles: impl IntoIterator<Item = (&'p Profile, &'i str)>,
        secret: &KeySecret,
        now: OffsetDateTime,
    ) -> Export<Self> {
        Self::from_profiles_with(taxonomy, profiles, secret, now, ExportOptions::default())
    }

    /// Exports the suppressions of `profiles` active at `now`, minimized
    /// as `options` say: the list of everyone whose record is fine, and
    /// beside it the problems of the records that are not. One odd record
    /// never fails the batch.
    ///
    /// Each item pairs a profile with the identifier the partner also holds
    /// (the e-mail address, a customer id), which is [`normalize`]d and
    /// keyed with `secret`. Suppressions that have ended or not yet begun
    /// at `now` are left out; the reason of a suppression is never
    /// exported.
    ///
    /// # Minimization
    /// The partner can identify the person, so an exported entry must not
    /// tell it what the suppression protects:
    /// - a suppression of an interest in a special category
    ///   ([`Taxonomy::sensitivity`] is special, declared or inherited from
    ///   an ancestor), or of an orphaned interest the taxonomy cannot
    ///   classify, is exported as [`ExportOptions::get_minimization`] says:
    ///   by default as [`ExportScope::All`](super::ExportScope::All); see [`Minimization`] for the
    ///   alternatives. Ordinary interests, channels and purposes are
    ///   exported as they are;
    /// - by default every window is widened to whole UTC days
    ///   ([`ExportOptions::round_to_days`]): `since` rounded down, `until`
    ///   rounded up, never shortened.
    ///
    /// Identical entries (the same person suppressed twice for the same
    /// scope and window, for different reasons, or two special-category
    /// suppressions both exported as `All` from the same day) appear once.
    ///
    /// # Problems
    /// Reported in [`Export::problems`], each naming the item's position
    /// and profile; everything else is exported:
    /// - [`ProblemKind::UnknownInterest`]: an active suppression names an
    ///   interest that `taxonomy` does not know. That suppression is left
    ///   out, the profile's others are exported.
    /// - [`ProblemKind::InvalidEntry`]: an active suppression has an
    ///   instant outside the years 0 to 9999 ([`EntryError::OutOfRange`](super::EntryError::OutOfRange)).
    ///   That suppression is left out, the profile's others are exported.
    /// - [`ProblemKind::EmptyIdentifier`]: the identifier is empty after
    ///   trimming and the profile has at least one suppression to export.
    ///   Nothing of the profile is exported (it would share its key with
    ///   everyone else without one); its suppressions are still checked,
    ///   so all of a record's problems come in one run.
    ///
    /// A profile without an active suppression is never keyed, so its
    /// identifier may be empty.
    ///
    /// [`normalize`]: super::normalize
    /// [`Minimization`]: super::Minimization
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportOptions, ExportScope, KeySecret, Minimization, SuppressionList};
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder()
    ///     .interest("health/fitness")
    ///     .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
    ///     .build()?;
    /// let engine = Engine::new(taxonomy, DecayPolicy::default());
    /// let told = datetime!(2026-03-14 16:20 UTC);
    /// let mut anna = Profile::new("anna");
    /// let pregnancy = engine.taxonomy().require("health/pregnancy")?;
    /// engine.suppress(&mut anna, Suppression::new(Scope::Interest(pregnancy), SuppressionReason::Bereavement, told), told);
    /// let secret = KeySecret::new([42u8; 32])?;
    /// let people = [(&anna, "anna@example.org")];
    /// let now = datetime!(2026-10-01 2:00 UTC);
    ///
    /// // The default: everything, from the start of that day.
    /// let list = SuppressionList::from_profiles(engine.taxonomy(), people, &secret, now).list;
    /// assert_eq!(list.entries()[0].scope(), &ExportScope::All);
    /// assert_eq!(list.entries()[0].since(), datetime!(2026-03-14 0:00 UTC));
    ///
    /// // The nearest ordinary ancestor names `health`, not the pregnancy.
    /// let options = ExportOptions::default().minimization(Minimization::NearestOrdinaryAncestor);
    /// let list = SuppressionList::from_profiles_with(engine.taxonomy(), people, &secret, now, options).list;
    /// assert_eq!(list.entries()[0].scope(), &ExportScope::Interest("health".into()));
    /// assert!(!list.to_jsonl().contains("pregnancy"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_profiles_with<'p, 'i>(
        taxonomy: &Taxonomy,
        profiles: impl IntoIterator<Item = (&'p Profile, &'i str)>,
        secret: &KeySecret,
        now: OffsetDateTime,
        options: ExportOptions,
    ) -> Export<Self> {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (position, (profile, identifier)) in (1..).zip(profiles) {
            let blank = identifier.trim().is_empty();
            let mut key = None;
            let mut unkeyed = false;
            for minimized in minimize::active(profile, taxonomy, now, options) {
                let scopes = match minimized.scopes {
                    Ok(scopes) => scopes,
                    Err(kind) => {
                        problems.push(ExportProblem::new(position, profile, kind));
                        continue;
                    }
                };
                for scope in scopes {
                    let (since, until) =
                        match SuppressionEntry::check(&scope, minimized.since, minimized.until) {
                            Ok(window) => window,
                            Err(error) => {
                                let kind = ProblemKind::InvalidEntry { scope, error };
                                problems.push(ExportProblem::new(position, profile, kind));
                                continue;
                            }
                        };
                    if blank {
                        unkeyed = true;
                        continue;
                    }
                    // Keyed once per item, and only if something is exported.
                    let subject =
                        *key.get_or_insert_with(|| SubjectKey::derive(secret, identifier));
                    entries.push(SuppressionEntry {
                        subject,
                        scope,
                        since,
                        until,
                    });
                }
            }
            if unkeyed {
                problems.push(ExportProblem::new(
                    position,
                    profile,
                    ProblemKind::EmptyIdentifier,
                ));
            }
        }
        Export {
            list: Self::from(entries),
            problems,
        }
    }

    /// Adds an entry; `false` if it was already present.
    pub fn insert(&mut self, entry: SuppressionEntry) -> bool {
        match self.entries.binary_search(&entry) {
            Ok(_) => false,
            Err(at) => {
                self.entries.insert(at, entry);
                true
            }
        }
    }

    /// Removes an entry; `false` if it was not present.
    pub fn remove(&mut self, entry: &SuppressionEntry) -> bool {
        match self.entries.binary_search(entry) {
            Ok(at) => {
                self.entries.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Applies the changes of a [`SuppressionFeed`](super::SuppressionFeed)
    /// in order: the partner's side of polling.
    pub fn apply<'c>(&mut self, changes: impl IntoIterator<Item = &'c FeedChange>) {
        for c in changes {
            match c.kind {
                ChangeKind::Added => {
                    self.insert(c.entry.clone());
                }
                ChangeKind::Removed => {
                    self.remove(&c.entry);
                }
            }
        }
    }

    /// Drops the entries that have ended by `now` (`until <= now`); returns
    /// how many. Entries that have not yet begun are kept.
    pub fn remove_ended(&mut self, now: OffsetDateTime) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| e.until.is_none_or(|u| now < u));
        before - self.entries.len()
    }

    /// Whether the list has any entry, active or not, for `subject`.
    #[must_use]
    pub fn contains(&self, subject: &SubjectKey) -> bool {
        !self.entries_for(subject).is_empty()
    }

    /// The entries of one subject.
    #[must_use]
    pub fn entries_for(&self, subject: &SubjectKey) -> &[SuppressionEntry] {
        let start = self.entries.partition_point(|e| e.subject < *subject);
        let len = self
            .entries
            .get(start..)
            .map_or(0, |rest| rest.partition_point(|e| e.subject == *subject));
        self.entries.get(start..start + len).unwrap_or(&[])
    }

    /// Whether a message to `subject` on `channel` for `purpose`, about
    /// `interest_path` if it is about an interest, must not be sent at
    /// `now`: some entry of the subject is active at `now` and
    /// [covers](super::ExportScope::covers) it.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportScope, KeySecret, SubjectKey, SuppressionEntry, SuppressionList};
    /// use tactful::{Channel, Purpose};
    /// use time::macros::datetime;
    ///
    /// let key = SubjectKey::derive(&KeySecret::new([1u8; 16])?, "anna@example.org");
    /// let since = datetime!(2026-03-01 0:00 UTC);
    /// let mut list = SuppressionList::new();
    /// list.insert(SuppressionEntry::new(key, ExportScope::Interest("baby".into()), since, None)?);
    ///
    /// let now = datetime!(2026-10-01 0:00 UTC);
    /// assert!(list.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("baby/food"), now));
    /// assert!(!list.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("babyx"), now));
    /// assert!(!list.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("garden"), now));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_suppressed(
        &self,
        subject: &SubjectKey,
        channel: Channel,
        purpose: Purpose,
        interest_path: Option<&str>,
        now: OffsetDateTime,
    ) -> bool {
        self.entries_for(subject)
            .iter()
            .any(|e| e.is_active(now) && e.scope.covers(channel, purpose, interest_path))
    }

    /// All entries, sorted by subject, scope and window.
    #[must_use]
    pub fn entries(&self) -> &[SuppressionEntry] {
        &self.entries
    }

    /// Iterates over the entries.
    pub fn iter(&self) -> std::slice::Iter<'_, SuppressionEntry> {
        self.entries.iter()
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl From<Vec<SuppressionEntry>> for SuppressionList {
    fn from(mut entries: Vec<SuppressionEntry>) -> Self {
        entries.sort_unstable();
        entries.dedup();
        Self { entries }
    }
}

impl From<SuppressionList> for Vec<SuppressionEntry> {
    fn from(list: SuppressionList) -> Self {
        list.entries
    }
}

impl FromIterator<SuppressionEntry> for SuppressionList {
    fn from_iter<I: IntoIterator<Item = SuppressionEntry>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl Extend<SuppressionEntry> for SuppressionList {
    fn extend<I: IntoIterator<Item = SuppressionEntry>>(&mut self, iter: I) {
        let mut all = std::mem::take(&mut self.entries);
        all.extend(iter);
        *self = Self::from(all);
    }
}

impl<'a> IntoIterator for &'a SuppressionList {
    type Item = &'a SuppressionEntry;
    type IntoIter = std::slice::Iter<'a, SuppressionEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for SuppressionList {
    type Item = SuppressionEntry;
    type IntoIter = std::vec::IntoIter<SuppressionEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::export::ExportScope;
    use time::macros::datetime;

    fn key(b: u8) -> SubjectKey {
        SubjectKey::from_bytes([b; 32])
    }

    #[test]
    fn list_is_sorted_deduplicated_and_searchable() {
        let t = datetime!(2026-03-01 0:00 UTC);
        let e = |b, scope| SuppressionEntry::new(key(b), scope, t, None).unwrap();
        let list: SuppressionList = [
            e(3, ExportScope::All),
            e(1, ExportScope::Channel(Channel::Sms)),
            e(3, ExportScope::All),
            e(1, ExportScope::Channel(Channel::Post)),
        ]
        .into_iter()
        .collect();
        assert_eq!(list.len(), 3);
        assert_eq!(list.entries_for(&key(1)).len(), 2);
        assert_eq!(list.entries_for(&key(3)).len(), 1);
        assert!(list.entries_for(&key(2)).is_empty());
        assert!(!list.contains(&key(0)) && !list.contains(&key(4)));
        assert!(list.is_suppressed(&key(1), Channel::Post, Purpose::Service, None, t));
        assert!(!list.is_suppressed(&key(1), Channel::Email, Purpose::Service, None, t));
        assert!(!list.is_suppressed(
            &key(3),
            Channel::Email,
            Purpose::Service,
            None,
            t - time::Duration::SECOND
        ));
    }
}
