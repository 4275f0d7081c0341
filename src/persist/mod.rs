//! The stored forms of a [`Profile`]: JSON for transparency and export, and
//! a compact binary form for storage. Both are versioned, both name
//! interests by **path** (never by [`InterestId`], which is a position in
//! one taxonomy), and both record the fingerprint of the taxonomy they were
//! written with.
//!
//! Loading against a changed taxonomy:
//! - added interests change nothing;
//! - data of a removed interest is kept as [`Orphans`]:
//!   never re-targeted, never dropped, written back on every save, used
//!   again when a taxonomy has the path; an orphaned suppression or
//!   tombstone stays in force and keeps being exported;
//! - a rename declared with `renamed_from` migrates the data.
//!
//! Limits are checked while reading, before the cost of what they bound is
//! paid; loading costs O(n log n) in the events, in any order.
//!
//! The forms are written and read through the [`Engine`](crate::Engine):
//! [`save_json`](crate::Engine::save_json) and
//! [`load_profile`](crate::Engine::load_profile),
//! [`save_binary`](crate::Engine::save_binary) and
//! [`load_profile_binary`](crate::Engine::load_profile_binary), and
//! [`load_legacy_profile`](crate::Engine::load_legacy_profile) for 0.1's.
//!
//! # Examples
//!
//! A profile saved in both forms loads back equal from each:
//!
//! ```
//! use tactful::persist::{BINARY_MAGIC, FORMAT_NAME};
//! use tactful::*;
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-11-01 9:00 UTC);
//! let engine = Engine::new(
//!     Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?,
//!     DecayPolicy::default(),
//! );
//! let hiking = engine.taxonomy().require("outdoor/hiking")?;
//! let baby = engine.taxonomy().require("baby")?;
//! let mut p = Profile::new("c-1");
//! p.set_level(Level::FirstParty);
//! p.consent_mut().grant(Purpose::Personalization, now, None, Evidence::Ui("banner".into()))?;
//! engine.record(&mut p, Event::new(hiking, Signal::View, now), now)?;
//! engine.suppress(&mut p, Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now), now);
//!
//! let json = engine.save_json(&p)?;
//! assert!(json.contains(FORMAT_NAME) && json.contains("outdoor/hiking"));
//! let bytes = engine.save_binary(&p)?;
//! assert_eq!(bytes[..4], BINARY_MAGIC);
//!
//! assert_eq!(engine.load_profile(&json, now)?, p);
//! assert_eq!(engine.load_profile_binary(&bytes, now)?, p);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod binary;
mod json;
mod legacy;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::{ConsentLedger, Purpose};
use crate::event::{Event, Signal, Weight};
use crate::level::Level;
use crate::limits::{Limit, Limits, ProfileError};
use crate::profile::{
    ErasedScope, OrphanPreference, OrphanSuppression, Orphans, PathEvent, PathTombstone,
    Preference, PreferenceKind, Profile, ProfileId, RefusalCounts, Tombstone,
};
use crate::store::{context_of, source_of, to_nanos, Series, Store};
use crate::suppression::{Channel, Scope, Suppression, SuppressionReason};
use crate::taxonomy::{InterestId, Taxonomy};

pub(crate) use binary::{decode as decode_binary, encode as encode_binary};
pub(crate) use json::{decode as decode_json, encode as encode_json};
pub(crate) use legacy::decode as decode_legacy_json;

/// The version of the stored forms this crate writes (JSON `"version"`, the
/// binary header). 0.1 wrote unversioned JSON with numeric interest ids.
pub const FORMAT_VERSION: u16 = 2;

/// The `"format"` value of a stored profile's JSON.
pub const FORMAT_NAME: &str = "tactful-profile";

/// The first four bytes of the binary form.
pub const BINARY_MAGIC: [u8; 4] = *b"TCTF";

/// A suppression's scope, naming interests by path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireScope {
    All,
    Channel(Channel),
    Purpose(Purpose),
    Interest(String),
    /// Appended in 0.2: postcard numbers variants, so it must stay last.
    ChannelPurpose {
        channel: Channel,
        purpose: Purpose,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireSuppression {
    scope: WireScope,
    reason: SuppressionReason,
    #[serde(with = "crate::serde_util::instant")]
    since: OffsetDateTime,
    #[serde(default, with = "crate::serde_util::instant::option")]
    until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WirePreference {
    interest: String,
    kind: PreferenceKind,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireErased {
    All,
    Interest(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireTombstone {
    scope: WireErased,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
    #[serde(default)]
    signals_only: bool,
}

/// The path of an interest of `tax`, or the typed error naming the part of
/// the profile that holds a handle the taxonomy does not have (a like,
/// suppression or erasure given an id from another taxonomy): such a profile
/// is refused when written, never stored under a path that means nothing.
fn path_of(tax: &Taxonomy, field: &'static str, id: InterestId) -> Result<String, ProfileError> {
    tax.path(id)
        .map(str::to_owned)
        .ok_or(ProfileError::UnknownInterest { field, id })
}

/// The interest-naming parts of a profile in their stored form: known
/// interests first (in the profile's order), then orphans.
pub(crate) struct WireParts {
    preferences: Vec<WirePreference>,
    suppressions: Vec<WireSuppression>,
    tombstones: Vec<WireTombstone>,
}

impl WireParts {
    pub(crate) fn of(tax: &Taxonomy, p: &Profile) -> Result<Self, ProfileError> {
        let o = p.orphans();
        let mut preferences = Vec::with_capacity(p.preferences().len());
        for x in p.preferences() {
            preferences.push(WirePreference {
                interest: path_of(tax, "preferences", x.interest)?,
                kind: x.kind,
                at: x.at,
            });
        }
        preferences.extend(o.preferences.iter().map(|x| WirePreference {
            interest: x.interest.clone(),
            kind: x.kind,
            at: x.at,
        }));
        let mut suppressions = Vec::with_capacity(p.suppressions().len());
        for s in p.suppressions() {
            suppressions.push(WireSuppression {
                scope: match s.scope() {
                    Scope::All => WireScope::All,
                    Scope::Channel(c) => WireScope::Channel(c),
                    Scope::Purpose(x) => WireScope::Purpose(x),
                    Scope::Interest(i) => WireScope::Interest(path_of(tax, "suppressions", i)?),
                    Scope::ChannelPurpose { channel, purpose } => {
                        WireScope::ChannelPurpose { channel, purpose }
                    }
                },
                reason: s.reason(),
                since: s.since(),
                until: s.ends(),
            });
        }
        suppressions.extend(o.suppressions.iter().map(|s| WireSuppression {
            scope: WireScope::Interest(s.interest.clone()),
            reason: s.reason,
            since: s.since,
            until: s.until,
        }));
        let mut tombstones = Vec::with_capacity(p.tombstones().len());
        for t in p.tombstones() {
            tombstones.push(WireTombstone {
                scope: match t.scope {
                    ErasedScope::All => WireErased::All,
                    ErasedScope::Interest(i) => {
                        WireErased::Interest(path_of(tax, "tombstones", i)?)
                    }
                },
                at: t.at,
                signals_only: t.signals_only,
            });
        }
        tombstones.extend(o.tombstones.iter().map(|t| WireTombstone {
            scope: WireErased::Interest(t.interest.clone()),
            at: t.at,
            signals_only: t.signals_only,
        }));
        Ok(Self {
            preferences,
            suppressions,
            tombstones,
        })
    }
}

/// FNV-1a: a fast hasher for the loader's maps, whose keys are the
/// taxonomy's paths and handles only (never chosen by the input), so
/// SipHash's flood resistance buys nothing there.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;
type FastSet<K> = HashSet<K, std::hash::BuildHasherDefault<Fnv>>;

/// Collects a profile's parts while reading, checking every limit before
/// the cost it bounds is paid.
pub(crate) struct Loader<'a> {
    tax: &'a Taxonomy,
    limits: &'a Limits,
    resolved: FastMap<Box<str>, Option<InterestId>>,
    series: Vec<Series>,
    series_of: FastMap<(InterestId, u8), usize>,
    interests: FastSet<InterestId>,
    inert: Vec<Event>,
    orphans: Orphans,
    events: usize,
    /// The input names at most `max_interests` distinct paths.
    few_paths: bool,
    /// A typed error found inside a serde callback, returned instead of the
    /// format's own error.
    pub(crate) failure: Option<ProfileError>,
    pub(crate) id: Option<ProfileId>,
    pub(crate) level: Level,
    pub(crate) consent: ConsentLedger,
    preferences: Vec<Preference>,
    suppressions: Vec<Suppression>,
    tombstones: Vec<Tombstone>,
    pub(crate) refusals: RefusalCounts,
}

impl<'a> Loader<'a> {
    pub(crate) fn new(tax: &'a Taxonomy, limits: &'a Limits) -> Self {
        Self {
            tax,
            limits,
            resolved: FastMap::default(),
            series: Vec::new(),
            series_of: FastMap::default(),
            interests: FastSet::default(),
            inert: Vec::new(),
            orphans: Orphans::default(),
            events: 0,
            few_paths: false,
            failure: None,
            id: None,
            level: Level::Off,
            consent: ConsentLedger::default(),
            preferences: Vec::new(),
            suppressions: Vec::new(),
            tombstones: Vec::new(),
            refusals: RefusalCounts::default(),
        }
    }

    /// Records a typed error and returns its message for the format's error.
    pub(crate) fn fail(&mut self, e: ProfileError) -> String {
        let msg = e.to_string();
        self.failure.get_or_insert(e);
        msg
    }

    fn resolve(&mut self, path: &str) -> Option<InterestId> {
        if let Some(r) = self.resolved.get(path) {
            return *r;
        }
        let r = self.tax.resolve(path);
        // Only paths of the taxonomy are cached: the map's keys are the
        // operator's, never chosen by the input (orphaned paths are not).
        if r.is_some() {
            self.resolved.insert(path.into(), r);
        }
        r
    }

    /// Counts `n` more events against the limit before they are read.
    pub(crate) fn count_events(&mut self, n: usize) -> Result<(), ProfileError> {
        let total = self.events.saturating_add(n);
        let max = self.limits.max_events;
        if total > max {
            return Err(ProfileError::TooLarge {
                limit: Limit::Events,
                actual: total,
                max,
            });
        }
        self.events = total;
        Ok(())
    }

    /// Counts a distinct interest with evidence against `max_interests`
    /// before its series is stored.
    fn count_interest(&mut self, id: InterestId) -> Result<(), ProfileError> {
        if self.interests.insert(id) && self.interests.len() > self.limits.max_interests {
            return Err(ProfileError::TooLarge {
                limit: Limit::Interests,
                actual: self.interests.len(),
                max: self.limits.max_interests,
            });
        }
        Ok(())
    }

    fn series_index(&mut self, id: InterestId, class: u8) -> Result<usize, ProfileError> {
        if let Some(&i) = self.series_of.get(&(id, class)) {
            return Ok(i);
        }
        self.count_interest(id)?;
        self.series.push(Series::new(id, class));
        self.series_of.insert((id, class), self.series.len() - 1);
        Ok(self.series.len() - 1)
    }

    /// One event, already counted with [`count_events`](Self::count_events).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn event(
        &mut self,
        path: &str,
        signal: Signal,
        at: i64,
        class: u8,
        gift: bool,
        weight: Weight,
    ) -> Result<(), ProfileError> {
        let id = self.resolve(path);
        self.event_of(path, id, signal, at, class, gift, weight)
    }

    /// As [`event`](Self::event), with the path already resolved to `id`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn event_of(
        &mut self,
        path: &str,
        id: Option<InterestId>,
        signal: Signal,
        at: i64,
        class: u8,
        gift: bool,
        weight: Weight,
    ) -> Result<(), ProfileError> {
        let Some(id) = id else {
            self.orphans.events.push(PathEvent {
                interest: path.to_owned(),
                signal,
                at,
                class,
                gift,
                weight,
            });
            return Ok(());
        };
        if gift || signal == Signal::Dismissal {
            let e = Event::new(id, signal, crate::store::from_nanos(at))
                .with_source(source_of(class))
                .with_context(context_of(class))
                .with_gift(gift)
                .with_valid_weight(weight);
            self.inert.push(e);
            return Ok(());
        }
        let si = self.series_index(id, class)?;
        if let Some(s) = self.series.get_mut(si) {
            s.at.push(at);
            s.weight.push(weight.get());
            s.signal.push(signal);
        }
        Ok(())
    }

    /// Tells the loader how many distinct paths the input names: when they
    /// cannot exceed `max_interests`, distinct interests need no counting.
    pub(crate) fn distinct_paths(&mut self, n: usize) {
        self.few_paths = n <= self.limits.max_interests;
    }

    /// A whole evidence series of one path (resolved to `id`) and class,
    /// already counted, with weights the caller checked.
    pub(crate) fn series(
        &mut self,
        path: &str,
        id: Option<InterestId>,
        class: u8,
        at: Vec<i64>,
        weight: Vec<f64>,
        signal: Vec<Signal>,
    ) -> Result<(), ProfileError> {
        let Some(id) = id else {
            for ((at, w), signal) in at.into_iter().zip(weight).zip(signal) {
                self.orphans.events.push(PathEvent {
                    interest: path.to_owned(),
                    signal,
                    at,
                    class,
                    gift: false,
                    weight: Weight::new(w).unwrap_or(Weight::ONE),
                });
            }
            return Ok(());
        };
        if !self.few_paths {
            self.count_interest(id)?;
        }
        // Series of one key are joined by `Store::from_parts`.
        self.series.push(Series {
            interest: id,
            class,
            at,
            weight,
            signal,
            ..Series::new(id, class)
        });
        Ok(())
    }

    pub(crate) fn preference(&mut self, w: WirePreference) {
        match self.resolve(&w.interest) {
            Some(interest) => self.preferences.push(Preference {
                interest,
                kind: w.kind,
                at: w.at,
            }),
            None => self.orphans.preferences.push(OrphanPreference {
                interest: w.interest,
                kind: w.kind,
                at: w.at,
            }),
        }
    }

    pub(crate) fn suppression(&mut self, w: WireSuppression) -> Result<(), ProfileError> {
        let scope = match w.scope {
            WireScope::All => Scope::All,
            WireScope::Channel(c) => Scope::Channel(c),
            WireScope::Purpose(p) => Scope::Purpose(p),
            WireScope::ChannelPurpose { channel, purpose } => {
                Scope::ChannelPurpose { channel, purpose }
            }
            WireScope::Interest(path) => match self.resolve(&path) {
                Some(i) => Scope::Interest(i),
                None => {
                    if w.until.is_some_and(|u| u <= w.since) {
                        return Err(invalid(format!(
                            "suppression of {path} ends before it starts"
                        )));
                    }
                    self.orphans.suppressions.push(OrphanSuppression {
                        interest: path,
                        reason: w.reason,
                        since: w.since,
                        until: w.until,
                    });
                    return Ok(());
                }
            },
        };
        let s = Suppression::new(scope, w.reason, w.since);
        let s = match w.until {
            Some(u) => s.until(u).map_err(|e| invalid(e.to_string()))?,
            None => s,
        };
        self.suppressions.push(s);
        Ok(())
    }

    pub(crate) fn tombstone(&mut self, w: WireTombstone) {
        let scope = match w.scope {
            WireErased::All => ErasedScope::All,
            WireErased::Interest(path) => match self.resolve(&path) {
                Some(i) => ErasedScope::Interest(i),
                None => {
                    self.orphans.tombstones.push(PathTombstone {
                        interest: path,
                        at: w.at,
                        signals_only: w.signals_only,
                    });
                    return;
                }
            },
        };
        self.tombstones.push(Tombstone {
            scope,
            at: w.at,
            signals_only: w.signals_only,
        });
    }

    /// The profile, with its stored events in canonical order.
    pub(crate) fn finish(mut self) -> Result<Profile, ProfileError> {
        let Some(id) = self.id.take() else {
            return Err(ProfileError::Syntax {
                path: ".".into(),
                message: "missing field `id`".into(),
            });
        };
        let max = crate::consent::MAX_STORED_ENTRIES;
        if self.consent.len() > max {
            return Err(ProfileError::TooLarge {
                limit: Limit::LedgerEntries,
                actual: self.consent.len(),
                max,
            });
        }
        dedup_keep_first(&mut self.preferences);
        dedup_keep_first(&mut self.suppressions);
        // Only the newest tombstones of each scope erase anything.
        self.tombstones = crate::profile::newest_per_scope(
            std::mem::take(&mut self.tombstones),
            |t| t.scope,
            |t| (t.at, t.signals_only),
        );
        self.orphans.normalize();
        let store = Store::from_parts(self.series, self.inert);
        Ok(Profile::from_parts(
            id,
            self.level,
            self.consent,
            self.preferences,
            self.suppressions,
            store,
            self.tombstones,
            self.refusals,
            self.orphans,
        ))
    }
}

fn invalid(message: String) -> ProfileError {
    ProfileError::Invalid(message)
}

/// Drops exact repeats, keeping the first of each: O(n) expected.
fn dedup_keep_first<T: Eq + std::hash::Hash + Clone>(v: &mut Vec<T>) {
    if v.len() < 2 {
        return;
    }
    let mut seen = HashSet::with_capacity(v.len());
    v.retain(|x| seen.insert(x.clone()));
}

/// The 16 hex digits of a taxonomy fingerprint, as the JSON form writes it.
pub(crate) fn fingerprint_hex(tax: &Taxonomy) -> String {
    format!("{:016x}", tax.fingerprint())
}

/// Unix nanoseconds of an event instant, or the typed error.
pub(crate) fn event_nanos(at: OffsetDateTime) -> Result<i64, ProfileError> {
    to_nanos(at).ok_or_else(|| {
        invalid(format!(
            "event at {at} is outside the supported years 1678 to 2261"
        ))
    })
}
