//! The profile of one person: level, consents, declared preferences,
//! suppressions, stored events, erasure tombstones and refusal counters.
//!
//! A profile is plain data. Its stored forms are written and read by the
//! engine ([`crate::Engine::save_binary`], [`crate::Engine::save_json`] and
//! their loaders), which name interests by path: an [`InterestId`] is a
//! position in one taxonomy and never leaves memory. Everything that needs
//! the taxonomy or the policy (recording, scoring, merging, erasing) goes
//! through [`crate::Engine`].
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use time::{macros::datetime, Duration};
//!
//! let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
//! let hiking = taxonomy.require("outdoor/hiking")?;
//! let now = datetime!(2026-11-01 9:00 UTC);
//!
//! let mut anna = Profile::new("anna");
//! assert_eq!((anna.level(), anna.stored_events()), (Level::Off, 0)); // nothing until she chooses
//! anna.like(hiking, now);
//! anna.dislike(hiking, now + Duration::hours(1)); // replaces the like
//! assert_eq!(anna.preferences().len(), 1);
//! assert_eq!(anna.preferences()[0].kind, PreferenceKind::Dislike);
//! assert!(anna.clear_preference(hiking, now + Duration::hours(2)).is_some());
//! assert_eq!(anna.preferences()[0].kind, PreferenceKind::Cleared); // kept as a record
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

mod orphans;

pub(crate) use orphans::{newest_per_scope, path_within, PathEvent, PathTombstone};
pub use orphans::{OrphanEvent, OrphanPreference, OrphanSuppression, OrphanTombstone, Orphans};

use crate::consent::{ConsentLedger, ConsentState, Purpose};
use crate::event::Event;
use crate::level::Level;
use crate::store::Store;
use crate::suppression::{Scope, Suppression, SuppressionReason};
use crate::taxonomy::InterestId;

/// The caller's identifier of a person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub String);

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ProfileId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for ProfileId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Like, dislike, or neither any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PreferenceKind {
    /// Establishes the interest subtree without observed evidence.
    Like,
    /// Blocks the interest subtree, whatever was observed.
    Dislike,
    /// No preference: a like or dislike the person took back at `at`
    /// ([`Profile::clear_preference`]). It counts for nothing but is kept,
    /// so that merging an older copy does not bring the old preference
    /// back.
    Cleared,
}

/// A preference the person declared about an interest subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Preference {
    /// The interest (covers its subtree).
    pub interest: InterestId,
    /// Like or dislike.
    pub kind: PreferenceKind,
    /// When it was declared.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
}

/// What an erasure covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasedScope {
    /// The whole profile.
    All,
    /// An interest subtree.
    Interest(InterestId),
}

/// A content-free record that data was erased: what subtree, and up to
/// which instant. No merge or late event can bring such data back.
///
/// The instant is the erasure's `now`, or later if the erasure removed data
/// dated after it (a clock ahead of the eraser's): then it lies past the
/// newest erased datum without being its instant (see
/// [`crate::Engine::erase_interest`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tombstone {
    /// The erased subtree or everything.
    pub scope: ErasedScope,
    /// Data of the scope from at or before this instant is gone for good:
    /// a merge removes it, recording refuses it as erased.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Only the signals (events) were purged, as by a bereavement
    /// suppression; declared likes and dislikes were kept. An erasure
    /// removes those too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signals_only: bool,
}

/// Why an event was refused (the counter key of [`RefusalCounts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefusalKind {
    /// A needed purpose was not granted.
    NoConsent,
    /// The personalization level does not admit the source or context.
    Level,
    /// An active suppression covers it.
    Suppressed,
    /// Older than its max age.
    Stale,
    /// From the future.
    FromFuture,
    /// Malformed (unknown interest).
    Invalid,
    /// Covered by an erasure.
    Erased,
    /// A special-category interest the policy does not allow to observe.
    Sensitive,
    /// The person dislikes the interest.
    Disliked,
    /// The person dismissed the interest after the event.
    Dismissed,
    /// The same event is already stored.
    Duplicate,
    /// A configured limit (events or interests per profile) is reached.
    Limit,
}

impl fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoConsent => "no consent",
            Self::Level => "level too low",
            Self::Suppressed => "suppressed",
            Self::Stale => "stale",
            Self::FromFuture => "from the future",
            Self::Invalid => "invalid",
            Self::Erased => "erased",
            Self::Sensitive => "sensitive",
            Self::Disliked => "disliked",
            Self::Dismissed => "dismissed",
            Self::Duplicate => "duplicate",
            Self::Limit => "limit reached",
        })
    }
}

/// Why an event was refused, with the details. Its message is text for the
/// person: it never names an [`InterestId`] (the data still holds it).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RefusalReason {
    /// A needed purpose is not granted (at the event's instant or now).
    #[error("purpose {purpose} is {state}")]
    NoConsent {
        /// The purpose.
        purpose: Purpose,
        /// Its state.
        state: ConsentState,
    },
    /// The personalization level is too low for the source and context.
    #[error("needs level {required} for this source and context, the person chose {level}")]
    LevelTooLow {
        /// Needed level.
        required: Level,
        /// The profile's level.
        level: Level,
    },
    /// An active suppression covers the interest or a needed purpose. The
    /// message names the scope in words (an interest scope as `this
    /// interest`: a refusal is built without allocating, so it has no path).
    #[error("suppressed ({reason}) on {}", .scope.words())]
    Suppressed {
        /// Its scope.
        scope: Scope,
        /// Its reason.
        reason: SuppressionReason,
    },
    /// Older than its max age.
    #[error("{age} old, older than the max age of {max_age}")]
    Stale {
        /// Age at `now`.
        age: Duration,
        /// The max age that applies.
        max_age: Duration,
    },
    /// Later than `now`.
    #[error("{ahead} in the future")]
    FromFuture {
        /// How far ahead.
        ahead: Duration,
    },
    /// The interest is not in the engine's taxonomy.
    #[error("the interest is not in this engine's taxonomy")]
    UnknownInterest(InterestId),
    /// The instant is outside the supported years (1678 to 2261).
    #[error("instant {at} is outside the supported years 1678 to 2261")]
    OutOfRange {
        /// The instant.
        at: OffsetDateTime,
    },
    /// An erasure covers it.
    #[error("erased: data of this interest up to {until} was erased")]
    Erased {
        /// The tombstone instant.
        until: OffsetDateTime,
    },
    /// A special-category interest the policy does not allow to observe.
    #[error("special-category interest: only a declared like can establish it")]
    Sensitive,
    /// The person dislikes the interest.
    #[error("the person declared a dislike of this interest")]
    Disliked,
    /// Dismissed at or after the event, within the cooldown.
    #[error("the person dismissed this interest at {at}")]
    Dismissed {
        /// When.
        at: OffsetDateTime,
    },
    /// Already stored.
    #[error("already stored")]
    Duplicate,
    /// The profile holds as much as the engine's [`crate::Limits`] allow.
    #[error("{limit} of {max} reached")]
    LimitReached {
        /// Which limit.
        limit: crate::limits::Limit,
        /// Its value.
        max: usize,
    },
}

impl RefusalReason {
    /// The counter key.
    #[must_use]
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::NoConsent { .. } => RefusalKind::NoConsent,
            Self::LevelTooLow { .. } => RefusalKind::Level,
            Self::Suppressed { .. } => RefusalKind::Suppressed,
            Self::Stale { .. } => RefusalKind::Stale,
            Self::FromFuture { .. } => RefusalKind::FromFuture,
            Self::UnknownInterest(_) | Self::OutOfRange { .. } => RefusalKind::Invalid,
            Self::Erased { .. } => RefusalKind::Erased,
            Self::Sensitive => RefusalKind::Sensitive,
            Self::Disliked => RefusalKind::Disliked,
            Self::Dismissed { .. } => RefusalKind::Dismissed,
            Self::Duplicate => RefusalKind::Duplicate,
            Self::LimitReached { .. } => RefusalKind::Limit,
        }
    }
}

/// An event that was not stored, with the reason. The event is handed back.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("event refused: {reason}")]
#[non_exhaustive]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// The refused event.
    pub event: Event,
}

/// How many events were refused, per reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RefusalCounts(BTreeMap<RefusalKind, u64>);

impl RefusalCounts {
    /// Refusals of one kind.
    #[must_use]
    pub fn get(&self, kind: RefusalKind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    /// All refusals.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.values().fold(0, |a, b| a.saturating_add(*b))
    }

    /// Non-zero counters.
    pub fn iter(&self) -> impl Iterator<Item = (RefusalKind, u64)> + '_ {
        self.0.iter().map(|(k, v)| (*k, *v))
    }

    pub(crate) fn bump(&mut self, kind: RefusalKind) {
        let c = self.0.entry(kind).or_insert(0);
        *c = c.saturating_add(1);
    }

    /// Joined counters of two records: the larger per kind, so joining a copy
    /// with itself changes nothing (a lower bound for two distinct records).
    pub(crate) fn join(&mut self, other: &RefusalCounts) {
        for (k, v) in other.iter() {
            let c = self.0.entry(k).or_insert(0);
            *c = (*c).max(v);
        }
    }
}

/// Everything known about one person.
///
/// Create with [`Profile::new`], set the level and consents, then record
/// events through [`crate::Engine::record`].
///
/// # Example
/// ```
/// use tactful::{Evidence, Level, Profile, Purpose};
/// use time::macros::datetime;
///
/// let mut p = Profile::new("customer-42");
/// assert_eq!(p.level(), Level::Off); // nothing until the person chooses
/// p.set_level(Level::FirstParty);
/// p.consent_mut().grant(Purpose::Personalization, datetime!(2026-11-01 9:00 UTC), None, Evidence::Ui("signup".into()))?;
/// # Ok::<(), tactful::ConsentError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Profile {
    id: ProfileId,
    level: Level,
    consent: ConsentLedger,
    preferences: Vec<Preference>,
    suppressions: Vec<Suppression>,
    store: Store,
    tombstones: Vec<Tombstone>,
    refusals: RefusalCounts,
    /// Data of interests the engine's taxonomy does not have.
    orphans: Orphans,
}

/// Two profiles are equal when they hold the same data: declared
/// preferences, suppressions and tombstones compare as sets (their order
/// carries no meaning), everything else exactly.
impl PartialEq for Profile {
    fn eq(&self, other: &Self) -> bool {
        fn same<T: Clone, K: Ord>(a: &[T], b: &[T], key: impl Fn(&T) -> K) -> bool {
            let sorted = |v: &[T]| {
                let mut k: Vec<K> = v.iter().map(&key).collect();
                k.sort();
                k
            };
            a.len() == b.len() && sorted(a) == sorted(b)
        }
        let tomb = |t: &Tombstone| {
            let scope = match t.scope {
                ErasedScope::All => None,
                ErasedScope::Interest(i) => Some(i),
            };
            (scope, t.at, t.signals_only)
        };
        self.id == other.id
            && self.level == other.level
            && self.consent == other.consent
            && same(&self.preferences, &other.preferences, |p| {
                (p.interest, p.kind, p.at)
            })
            && same(&self.suppressions, &other.suppressions, |s| {
                (s.scope(), s.reason(), s.since(), s.ends())
            })
            && self.store == other.store
            && same(&self.tombstones, &other.tombstones, tomb)
            && self.refusals == other.refusals
            && self.orphans == other.orphans
    }
}

impl Profile {
    /// An empty profile at level [`Level::Off`] with no consents.
    pub fn new(id: impl Into<ProfileId>) -> Self {
        Self {
            id: id.into(),
            level: Level::Off,
            consent: ConsentLedger::default(),
            preferences: Vec::new(),
            suppressions: Vec::new(),
            store: Store::default(),
            tombstones: Vec::new(),
            refusals: RefusalCounts::default(),
            orphans: Orphans::default(),
        }
    }

    /// Everything this profile keeps of interests its engine's taxonomy does
    /// not have: data loaded from storage that names removed paths. Kept,
    /// written back on every save and used again when a taxonomy has the
    /// path; its suppressions stay in force and are exported.
    #[must_use]
    pub fn orphans(&self) -> &Orphans {
        &self.orphans
    }

    pub(crate) fn orphans_mut(&mut self) -> &mut Orphans {
        &mut self.orphans
    }

    /// Builds a profile from its parts (the loader's way in).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        id: ProfileId,
        level: Level,
        consent: ConsentLedger,
        preferences: Vec<Preference>,
        suppressions: Vec<Suppression>,
        store: Store,
        tombstones: Vec<Tombstone>,
        refusals: RefusalCounts,
        orphans: Orphans,
    ) -> Self {
        Self {
            id,
            level,
            consent,
            preferences,
            suppressions,
            store,
            tombstones,
            refusals,
            orphans,
        }
    }

    /// The id.
    #[must_use]
    pub fn id(&self) -> &ProfileId {
        &self.id
    }
    /// The personalization level.
    #[must_use]
    pub fn level(&self) -> Level {
        self.level
    }
    /// Sets the personalization level (takes effect on every read at once:
    /// stored events the new level does not admit stop counting).
    pub fn set_level(&mut self, level: Level) {
        self.level = level;
    }
    /// The consent ledger.
    #[must_use]
    pub fn consent(&self) -> &ConsentLedger {
        &self.consent
    }
    /// The consent ledger, to grant or withdraw.
    pub fn consent_mut(&mut self) -> &mut ConsentLedger {
        &mut self.consent
    }
    /// Declared likes and dislikes.
    #[must_use]
    pub fn preferences(&self) -> &[Preference] {
        &self.preferences
    }
    /// Declares a like of an interest subtree at `at` (replacing a like or
    /// dislike of exactly that interest). If the one it replaces is dated
    /// later (a clock ahead of this one), the later instant is kept: the
    /// replaced preference's instant must stay covered by any erasure, or
    /// merging an older copy would bring the replaced preference back.
    pub fn like(&mut self, interest: InterestId, at: OffsetDateTime) {
        self.declare(Preference {
            interest,
            kind: PreferenceKind::Like,
            at,
        });
    }
    /// Declares a dislike of an interest subtree at `at` (replacing a like
    /// or dislike of exactly that interest; the later of the two instants
    /// is kept, as for [`like`](Self::like)).
    pub fn dislike(&mut self, interest: InterestId, at: OffsetDateTime) {
        self.declare(Preference {
            interest,
            kind: PreferenceKind::Dislike,
            at,
        });
    }
    /// Takes back the like or dislike of exactly `interest` at `at`, and
    /// returns it (`None` if there was none; the record is kept all the
    /// same, as a statement that holds against any copy). A
    /// [`PreferenceKind::Cleared`] record replaces it (the later of the two
    /// instants is kept, as for [`like`](Self::like)), so that a merge with
    /// an older copy still holding the like does not bring it back: per
    /// interest, the newest statement wins.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
    /// let hiking = taxonomy.id("outdoor/hiking").unwrap();
    /// let engine = Engine::new(taxonomy, DecayPolicy::default());
    /// let mut phone = Profile::new("anna");
    /// phone.like(hiking, datetime!(2026-03-01 9:00 UTC));
    /// let laptop = phone.clone(); // a copy taken before she changed her mind
    ///
    /// let gone = phone.clear_preference(hiking, datetime!(2026-03-02 9:00 UTC));
    /// assert_eq!(gone.map(|p| p.kind), Some(PreferenceKind::Like));
    /// engine.merge(&mut phone, &laptop);
    /// assert_eq!(phone.preferences()[0].kind, PreferenceKind::Cleared);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear_preference(
        &mut self,
        interest: InterestId,
        at: OffsetDateTime,
    ) -> Option<Preference> {
        let stated = self
            .preferences
            .iter()
            .find(|p| p.interest == interest && p.kind != PreferenceKind::Cleared)
            .copied();
        self.declare(Preference {
            interest,
            kind: PreferenceKind::Cleared,
            at,
        });
        stated
    }
    fn declare(&mut self, mut p: Preference) {
        if let Some(old) = self.preferences.iter().find(|q| q.interest == p.interest) {
            p.at = p.at.max(old.at);
        }
        self.preferences.retain(|q| q.interest != p.interest);
        self.preferences.push(p);
    }
    /// Suppressions, active or not.
    #[must_use]
    pub fn suppressions(&self) -> &[Suppression] {
        &self.suppressions
    }
    /// Stored events, sorted by instant (instants in UTC). This builds a
    /// list from the profile's compact storage; see
    /// [`stored_events`](Self::stored_events) for the count alone.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.store.events()
    }

    /// Number of stored events.
    #[must_use]
    pub fn stored_events(&self) -> usize {
        self.store.len()
    }
    /// Approximate heap bytes the profile holds: its stored events (about
    /// 17 bytes each plus spare capacity), consent entries, preferences,
    /// suppressions and tombstones. Allocator overhead and evidence strings
    /// are not counted. [`crate::Engine::compact`] gives spare capacity back.
    #[must_use]
    pub fn approx_heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.store.heap_bytes()
            + self.consent.len() * size_of::<crate::consent::ConsentEntry>()
            + self.preferences.capacity() * size_of::<Preference>()
            + self.suppressions.capacity() * size_of::<Suppression>()
            + self.tombstones.capacity() * size_of::<Tombstone>()
    }

    /// Erasure tombstones.
    #[must_use]
    pub fn tombstones(&self) -> &[Tombstone] {
        &self.tombstones
    }
    /// Refused events per reason.
    #[must_use]
    pub fn refusals(&self) -> &RefusalCounts {
        &self.refusals
    }

    pub(crate) fn refusals_mut(&mut self) -> &mut RefusalCounts {
        &mut self.refusals
    }
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }
    pub(crate) fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }
    /// The store and the ledger at once (the aggregates need both).
    pub(crate) fn store_and_ledger(&mut self) -> (&mut Store, &ConsentLedger) {
        (&mut self.store, &self.consent)
    }
    pub(crate) fn preferences_mut(&mut self) -> &mut Vec<Preference> {
        &mut self.preferences
    }
    pub(crate) fn suppressions_mut(&mut self) -> &mut Vec<Suppression> {
        &mut self.suppressions
    }
    pub(crate) fn tombstones_mut(&mut self) -> &mut Vec<Tombstone> {
        &mut self.tombstones
    }
}
