//! Data of interests the engine's taxonomy does not have (any more).
//!
//! A stored profile names interests by path. When it is loaded against a
//! taxonomy that lacks a path (the interest was removed from the config),
//! the data naming it is neither re-targeted nor dropped: it is kept here,
//! written back on every save, reported, and used again as soon as a
//! taxonomy has the path (or declares it with `renamed_from`). Suppressions
//! kept here stay in force: they are exported to partners (coarsened by
//! default, since the taxonomy cannot tell whether the path was a special
//! category; see [`crate::export::Minimization`]).

use serde::Serialize;
use time::OffsetDateTime;

use crate::event::{Context, Signal, Source, Weight};
use crate::profile::PreferenceKind;
use crate::suppression::SuppressionReason;

/// Whether `path` is `root` or lies in its subtree, by path alone
/// (`baby/food` is within `baby`; `baby-x` is not).
#[must_use]
pub(crate) fn path_within(path: &str, root: &str) -> bool {
    match path.strip_prefix(root) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// A stored event whose interest is named by path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OrphanEvent<'a> {
    /// The interest path.
    pub interest: &'a str,
    /// The signal kind.
    pub signal: Signal,
    /// When it happened.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Where it came from.
    pub source: Source,
    /// In which context it was observed.
    pub context: Context,
    /// Whether it was a gift.
    pub gift: bool,
    /// Its own weight.
    pub weight: Weight,
}

/// One event of an orphaned interest (owned form).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PathEvent {
    pub(crate) interest: String,
    pub(crate) signal: Signal,
    /// Unix nanoseconds (stored events fit `i64`).
    pub(crate) at: i64,
    pub(crate) class: u8,
    pub(crate) gift: bool,
    pub(crate) weight: Weight,
}

impl PathEvent {
    fn key(&self) -> (&str, i64, u8, u8, bool, u64) {
        (
            &self.interest,
            self.at,
            self.class,
            self.signal as u8,
            self.gift,
            self.weight.get().to_bits(),
        )
    }
}

/// A declared like or dislike of an orphaned interest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct OrphanPreference {
    /// The interest path.
    pub interest: String,
    /// Like or dislike.
    pub kind: PreferenceKind,
    /// When it was declared.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
}

/// A suppression of an orphaned interest subtree. It stays in force: it is
/// exported (as everything by default, by path only with
/// [`Minimization::Keep`](crate::export::Minimization::Keep)) and applies
/// again when a taxonomy has the path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct OrphanSuppression {
    /// The interest path (covers its subtree).
    pub interest: String,
    /// Why it exists.
    pub reason: SuppressionReason,
    /// Start.
    #[serde(with = "crate::serde_util::instant")]
    pub since: OffsetDateTime,
    /// End (exclusive), if any.
    #[serde(with = "crate::serde_util::instant::option")]
    pub until: Option<OffsetDateTime>,
}

impl OrphanSuppression {
    /// Whether it is active at `now`: `since <= now < until`.
    #[must_use]
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.since <= now && self.until.is_none_or(|u| now < u)
    }
}

/// An erasure tombstone of an orphaned interest subtree. It stays in force:
/// no merge or reload brings the erased data back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct OrphanTombstone<'a> {
    /// The interest path.
    pub interest: &'a str,
    /// Data at or before this instant is gone for good.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Only signals were purged (a bereavement), preferences were kept.
    pub signals_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PathTombstone {
    pub(crate) interest: String,
    pub(crate) at: OffsetDateTime,
    pub(crate) signals_only: bool,
}

/// Everything a profile keeps of interests its engine's taxonomy does not
/// have. Empty unless the profile was loaded against a taxonomy without some
/// of its paths. See [`crate::Profile::orphans`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Orphans {
    pub(crate) events: Vec<PathEvent>,
    pub(crate) preferences: Vec<OrphanPreference>,
    pub(crate) suppressions: Vec<OrphanSuppression>,
    pub(crate) tombstones: Vec<PathTombstone>,
}

impl Orphans {
    /// Whether nothing is orphaned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.preferences.is_empty()
            && self.suppressions.is_empty()
            && self.tombstones.is_empty()
    }

    /// Orphaned events, sorted by path and instant.
    pub fn events(&self) -> impl ExactSizeIterator<Item = OrphanEvent<'_>> + '_ {
        self.events.iter().map(|e| OrphanEvent {
            interest: &e.interest,
            signal: e.signal,
            at: crate::store::from_nanos(e.at),
            source: crate::store::source_of(e.class),
            context: crate::store::context_of(e.class),
            gift: e.gift,
            weight: e.weight,
        })
    }

    /// Orphaned declared preferences.
    #[must_use]
    pub fn preferences(&self) -> &[OrphanPreference] {
        &self.preferences
    }

    /// Orphaned suppressions (still in force and exported).
    #[must_use]
    pub fn suppressions(&self) -> &[OrphanSuppression] {
        &self.suppressions
    }

    /// Orphaned erasure tombstones (still in force).
    pub fn tombstones(&self) -> impl ExactSizeIterator<Item = OrphanTombstone<'_>> + '_ {
        self.tombstones.iter().map(|t| OrphanTombstone {
            interest: &t.interest,
            at: t.at,
            signals_only: t.signals_only,
        })
    }

    /// The distinct orphaned paths, sorted.
    #[must_use]
    pub fn paths(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .events
            .iter()
            .map(|e| e.interest.as_str())
            .chain(self.preferences.iter().map(|p| p.interest.as_str()))
            .chain(self.suppressions.iter().map(|s| s.interest.as_str()))
            .chain(self.tombstones.iter().map(|t| t.interest.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Number of orphaned records of every kind.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len() + self.preferences.len() + self.suppressions.len() + self.tombstones.len()
    }

    /// Sorts and removes exact duplicates (after loading or merging).
    pub(crate) fn normalize(&mut self) {
        self.events.sort_by(|a, b| a.key().cmp(&b.key()));
        self.events.dedup_by(|a, b| a.key() == b.key());
        self.preferences
            .sort_by(|a, b| (&a.interest, a.at, a.kind).cmp(&(&b.interest, b.at, b.kind)));
        self.preferences.dedup();
        self.suppressions.sort_by(|a, b| {
            (&a.interest, a.since, a.until, a.reason).cmp(&(
                &b.interest,
                b.since,
                b.until,
                b.reason,
            ))
        });
        self.suppressions.dedup();
        // A newer tombstone on the same path subsumes an older one of the same
        // or a narrower kind (as for tombstones of known interests).
        let tombs = std::mem::take(&mut self.tombstones);
        self.tombstones =
            newest_per_scope(tombs, |t| t.interest.clone(), |t| (t.at, t.signals_only));
    }

    /// Joins another profile's orphans.
    pub(crate) fn join(&mut self, other: &Orphans) {
        self.events.extend(other.events.iter().cloned());
        self.preferences.extend(other.preferences.iter().cloned());
        self.suppressions.extend(other.suppressions.iter().cloned());
        self.tombstones.extend(other.tombstones.iter().cloned());
        self.normalize();
    }

    /// Applies a tombstone of the subtree at `root` (`None`: everything) up
    /// to `at`: orphaned events (and, unless `signals_only`, preferences)
    /// inside it from at or before `at` are removed (a merge brought in a
    /// copy's data). Returns the number of removed events.
    pub(crate) fn erase(
        &mut self,
        root: Option<&str>,
        at: OffsetDateTime,
        signals_only: bool,
    ) -> usize {
        let inside = |p: &str| root.is_none_or(|r| path_within(p, r));
        let before = self.events.len();
        self.events
            .retain(|e| !(inside(&e.interest) && crate::store::from_nanos(e.at) <= at));
        if !signals_only {
            self.preferences
                .retain(|p| !(inside(&p.interest) && p.at <= at));
        }
        before - self.events.len()
    }

    /// Removes every orphaned event (and, unless `signals_only`, preference)
    /// in the subtree at `root` (`None`: everything), whatever its instant:
    /// an erasure. Returns the number of removed events and the newest
    /// instant of anything removed.
    pub(crate) fn purge(
        &mut self,
        root: Option<&str>,
        signals_only: bool,
    ) -> (usize, Option<OffsetDateTime>) {
        let inside = |p: &str| root.is_none_or(|r| path_within(p, r));
        let mut newest: Option<OffsetDateTime> = None;
        let before = self.events.len();
        self.events.retain(|e| {
            let gone = inside(&e.interest);
            if gone {
                newest = newest.max(Some(crate::store::from_nanos(e.at)));
            }
            !gone
        });
        if !signals_only {
            self.preferences.retain(|p| {
                let gone = inside(&p.interest);
                if gone {
                    newest = newest.max(Some(p.at));
                }
                !gone
            });
        }
        (before - self.events.len(), newest)
    }

    /// Removes data that a tombstone (own or known) covers: used after a
    /// merge brought in data from an older copy.
    pub(crate) fn apply_own_tombstones(&mut self) {
        let tombs = self.tombstones.clone();
        for t in &tombs {
            self.erase(Some(&t.interest), t.at, t.signals_only);
        }
    }

    pub(crate) fn clear_data(&mut self) {
        self.events.clear();
        self.preferences.clear();
    }
}

/// Keeps, per scope, the newest full erasure and the newest signals-only
/// purge if it is newer than that erasure: every other tombstone of the
/// scope is subsumed (it erases nothing they do not). Survivors keep their
/// order. O(n) expected.
pub(crate) fn newest_per_scope<T, K: Eq + std::hash::Hash>(
    tombs: Vec<T>,
    scope: impl Fn(&T) -> K,
    at_kind: impl Fn(&T) -> (OffsetDateTime, bool),
) -> Vec<T> {
    use std::collections::HashMap;
    // Per scope: the index of the newest full and of the newest signals-only.
    let mut best: HashMap<K, (Option<usize>, Option<usize>)> = HashMap::new();
    for (i, t) in tombs.iter().enumerate() {
        let (at, signals_only) = at_kind(t);
        let slot = best.entry(scope(t)).or_insert((None, None));
        let cur = if signals_only {
            &mut slot.1
        } else {
            &mut slot.0
        };
        if cur.is_none_or(|c| tombs.get(c).is_none_or(|x| at_kind(x).0 < at)) {
            *cur = Some(i);
        }
    }
    let mut keep = vec![false; tombs.len()];
    for (full, signals) in best.into_values() {
        let full_at = full.and_then(|f| tombs.get(f)).map(|t| at_kind(t).0);
        if let Some(f) = full {
            if let Some(k) = keep.get_mut(f) {
                *k = true;
            }
        }
        if let Some(s) = signals {
            let newer = tombs
                .get(s)
                .is_some_and(|t| full_at.is_none_or(|f| at_kind(t).0 > f));
            if let (true, Some(k)) = (newer, keep.get_mut(s)) {
                *k = true;
            }
        }
    }
    tombs
        .into_iter()
        .zip(keep)
        .filter_map(|(t, k)| k.then_some(t))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn path_within_respects_segments() {
        assert!(path_within("baby", "baby"));
        assert!(path_within("baby/food", "baby"));
        assert!(!path_within("baby-x", "baby"));
        assert!(!path_within("bab", "baby"));
        assert!(!path_within("baby", "baby/food"));
    }
}
