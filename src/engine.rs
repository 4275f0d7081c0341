//! The [`Engine`]: taxonomy, policy and segments, and every operation on a
//! profile that needs them.

use time::{Duration, OffsetDateTime};

use crate::audience::{Audience, AudienceError, DEFAULT_MIN_AUDIENCE};
use crate::consent::Purpose;
use crate::decay::{self, DecayPolicy, Scores};
use crate::decision::{self, Decision, MessageRequest, Target};
use crate::event::Event;
use crate::explain::{self, Explanation};
use crate::gate;
use crate::gate::View;
use crate::level::Level;
use crate::limits::{Limit, Limits, ProfileError};
use crate::persist;
use crate::privacy::{
    self, Breakdown, Budget, Mechanism, NoisyCount, PrivateRelease, ReleaseError,
};
use crate::profile::{ErasedScope, Profile, Refusal, RefusalReason, Tombstone};
use crate::report::{self, Report};
use crate::segment::{self, Membership, Segment, SegmentDef, SegmentErrors};
use crate::store::to_nanos;
use crate::suppression::{Scope, Suppression};
use crate::taxonomy::{InterestId, Taxonomy};

/// Taxonomy, decay policy and segment definitions: everything that is the
/// same for every profile. Immutable, `Send + Sync`; share it with `Arc`.
///
/// # Example
/// ```
/// use tactful::*;
/// use time::macros::datetime;
/// use time::Duration;
///
/// let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
/// let hiking = taxonomy.id("outdoor/hiking").unwrap();
/// let engine = Engine::new(taxonomy, DecayPolicy::default())
///     .with_segments(vec![
///         // Recommendations in the app: a personalization segment.
///         SegmentDef::new("hikers", Rule::interest_at_least("outdoor", 2.0))
///             .for_purpose(Purpose::Personalization),
///     ])?;
///
/// let start = datetime!(2026-11-01 9:00 UTC);
/// let mut p = Profile::new("c-1");
/// p.set_level(Level::FirstParty);
/// p.consent_mut().grant(Purpose::Personalization, start, None, Evidence::Ui("banner".into()))?;
/// for day in 0..3 {
///     engine.record(&mut p, Event::new(hiking, Signal::View, start + Duration::days(day)), start + Duration::days(day))?;
/// }
/// let now = start + Duration::days(3);
/// let members = engine.segments(&p, now);
/// assert_eq!(members[0].segment, "hikers");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    taxonomy: Taxonomy,
    policy: DecayPolicy,
    /// What profiles' incremental aggregates are valid for.
    fingerprint: u64,
    limits: Limits,
    segments: Vec<Segment>,
    min_audience: usize,
}

impl Engine {
    /// An engine without segments and the default minimum audience (50).
    #[must_use]
    pub fn new(taxonomy: Taxonomy, policy: DecayPolicy) -> Self {
        let fingerprint = decay::fingerprint(&taxonomy, &policy);
        Self {
            taxonomy,
            policy,
            fingerprint,
            limits: Limits::default(),
            segments: Vec::new(),
            min_audience: DEFAULT_MIN_AUDIENCE,
        }
    }

    /// Adds segment definitions, compiled against the taxonomy.
    ///
    /// # Errors
    /// Every problem at once: unknown interest paths, invalid minimum
    /// scores, duplicate names (also against segments already added), too
    /// deep or empty rules.
    pub fn with_segments(mut self, defs: Vec<SegmentDef>) -> Result<Self, SegmentErrors> {
        let mut all: Vec<SegmentDef> = self.segments.iter().map(|s| s.def.clone()).collect();
        all.extend(defs);
        self.segments =
            segment::compile(&self.taxonomy, all, &self.limits).map_err(SegmentErrors)?;
        Ok(self)
    }

    /// Adds segment definitions from a JSON array of `{"name": ..., "rule": ...}`.
    ///
    /// # Errors
    /// As [`with_segments`](Self::with_segments), or the JSON error.
    pub fn with_segments_json(self, json: &str) -> Result<Self, SegmentErrors> {
        let defs: Vec<SegmentDef> = crate::json::parse_json(json)
            .map_err(|e| SegmentErrors(vec![crate::segment::SegmentError::Json(e)]))?;
        self.with_segments(defs)
    }

    /// Sets the limits (see [`Limits`]). Set them before adding segments:
    /// rule depth and size are checked when segments are added.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Writes a profile as JSON: readable, versioned, naming interests by
    /// path, with the fingerprint of this engine's taxonomy. For
    /// transparency and export; [`save_binary`](Self::save_binary) is the
    /// compact form for storage. Read it back with
    /// [`load_profile`](Self::load_profile).
    ///
    /// # Errors
    /// [`ProfileError::Encode`] if the JSON writer fails (it does not for
    /// any profile this crate builds).
    ///
    /// # Example
    /// ```
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let mut anna = Profile::new("anna");
    /// let baby = engine.taxonomy().require("baby")?;
    /// engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), Reason::Bereavement, now), now);
    ///
    /// let json = engine.save_json(&anna)?;
    /// assert!(json.contains(r#""interest":"baby""#)); // a path, not a position
    ///
    /// // A later config adds interests: the suppression still names `baby`.
    /// let next = Engine::new(
    ///     Taxonomy::builder().interest("apparel/shoes").interest("baby/food").build()?,
    ///     DecayPolicy::default(),
    /// );
    /// let back = next.load_profile(&json, now)?;
    /// assert_eq!(back.suppressions()[0].scope(), Scope::Interest(next.taxonomy().require("baby")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_json(&self, profile: &Profile) -> Result<String, ProfileError> {
        persist::encode_json(&self.taxonomy, profile)
    }

    /// Writes a profile in the compact binary form: versioned, naming
    /// interests by path, with the taxonomy fingerprint and a CRC-32.
    /// About 4 to 6 bytes per stored event. Read it back with
    /// [`load_profile_binary`](Self::load_profile_binary).
    ///
    /// # Errors
    /// [`ProfileError::Encode`] if encoding fails (it does not for any
    /// profile this crate builds).
    ///
    /// # Example
    /// ```
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let engine = Engine::new(Taxonomy::builder().interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// let hiking = engine.taxonomy().require("outdoor/hiking")?;
    /// let mut p = Profile::new("c-1");
    /// p.set_level(Level::FirstParty);
    /// p.consent_mut().grant(Purpose::Personalization, now, None, Evidence::Ui("banner".into()))?;
    /// engine.record(&mut p, Event::new(hiking, Signal::View, now), now)?;
    ///
    /// let bytes = engine.save_binary(&p)?;
    /// let back = engine.load_profile_binary(&bytes, now)?;
    /// assert_eq!(back, p);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_binary(&self, profile: &Profile) -> Result<Vec<u8>, ProfileError> {
        persist::encode_binary(&self.taxonomy, profile)
    }

    /// Reads a profile written by [`save_json`](Self::save_json), by any
    /// engine whose taxonomy may differ from this one: interests are
    /// resolved by path (and declared renames); data of paths this taxonomy
    /// lacks is kept as [`Profile::orphans`], never re-targeted or dropped.
    /// Limits are checked while reading, before their cost is paid (the size
    /// before parsing, the event count before each event is stored), and
    /// reading costs O(n log n) in the events, in any order. Prepares the
    /// aggregates for reads at `now` or later.
    ///
    /// # Errors
    /// A [`ProfileError`] naming the limit or the field;
    /// [`ProfileError::Legacy`] for a 0.1 profile (see
    /// [`load_legacy_profile`](Self::load_legacy_profile)).
    pub fn load_profile(&self, json: &str, now: OffsetDateTime) -> Result<Profile, ProfileError> {
        self.within_bytes(json.len())?;
        let mut profile = persist::decode_json(&self.taxonomy, &self.limits, json)?;
        self.prepare(&mut profile, now);
        Ok(profile)
    }

    /// Reads a profile written by [`save_binary`](Self::save_binary); as
    /// [`load_profile`](Self::load_profile) otherwise. The checksum is
    /// verified and every count is checked against the limits and the bytes
    /// left before anything is allocated for it. The incremental aggregates
    /// are rebuilt from the events (nothing derived is stored, so scores
    /// always agree with the events, whatever the bytes held).
    ///
    /// # Errors
    /// A [`ProfileError`]: [`ProfileError::Corrupt`] for damaged input.
    pub fn load_profile_binary(
        &self,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<Profile, ProfileError> {
        self.within_bytes(bytes.len())?;
        let mut profile = persist::decode_binary(&self.taxonomy, &self.limits, bytes)?;
        self.prepare(&mut profile, now);
        Ok(profile)
    }

    /// Reads a profile written by tactful 0.1 (unversioned JSON naming
    /// interests by position) together with `written_with`, the taxonomy it
    /// was written with: its positions become paths, which are then resolved
    /// against this engine's taxonomy like any stored profile. Never guessed:
    /// without the old taxonomy, a 0.1 profile cannot be read. Save the
    /// result with [`save_json`](Self::save_json) or
    /// [`save_binary`](Self::save_binary) to migrate it.
    ///
    /// # Errors
    /// A [`ProfileError`]; [`ProfileError::UnknownInterest`] for a position
    /// `written_with` does not have.
    pub fn load_legacy_profile(
        &self,
        json: &str,
        written_with: &Taxonomy,
        now: OffsetDateTime,
    ) -> Result<Profile, ProfileError> {
        let mut profile =
            persist::decode_legacy_json(&self.taxonomy, written_with, &self.limits, json)?;
        self.prepare(&mut profile, now);
        Ok(profile)
    }

    fn within_bytes(&self, actual: usize) -> Result<(), ProfileError> {
        let max = self.limits.max_profile_bytes;
        if actual > max {
            return Err(ProfileError::TooLarge {
                limit: Limit::ProfileBytes,
                actual,
                max,
            });
        }
        Ok(())
    }

    /// Sets the minimum audience size (at least 1).
    #[must_use]
    pub fn with_min_audience(mut self, min: std::num::NonZeroUsize) -> Self {
        self.min_audience = min.get();
        self
    }

    /// The taxonomy.
    #[must_use]
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &DecayPolicy {
        &self.policy
    }
    /// The segment definitions.
    pub fn segment_defs(&self) -> impl Iterator<Item = &SegmentDef> + '_ {
        self.segments.iter().map(|s| &s.def)
    }
    /// The minimum audience size.
    #[must_use]
    pub fn min_audience(&self) -> usize {
        self.min_audience
    }

    fn params(&self) -> decay::Params<'_> {
        decay::Params {
            taxonomy: &self.taxonomy,
            policy: &self.policy,
            fingerprint: self.fingerprint,
        }
    }

    fn view<'a>(&'a self, profile: &'a Profile, now: OffsetDateTime) -> View<'a> {
        View::new(&self.taxonomy, &self.policy, profile, now)
    }

    /// Stores an event in the profile, or refuses it with the reason (and
    /// counts the refusal on the profile). Nothing is dropped silently.
    ///
    /// Checks, in order: unknown interest, from the future, erased, covered
    /// by an active suppression, stale, level, special category, consent
    /// (granted at the event's instant and now, no withdrawal in between),
    /// declared dislike, later dismissal, duplicate. A dismissal is only
    /// checked for the first three and staleness (older than the cooldown):
    /// it can only lower or block. Gifts are stored but never count.
    ///
    /// # Errors
    /// A [`Refusal`] carrying the reason and the event.
    pub fn record(
        &self,
        profile: &mut Profile,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let refused = match gate::admit(
            &self.taxonomy,
            &self.policy,
            &self.limits,
            profile,
            &event,
            now,
        ) {
            Ok(c) => {
                let (store, ledger) = profile.store_and_ledger();
                match store.insert_new_at(event, c.at_ns) {
                    Ok(Some(at)) => {
                        decay::after_insert(
                            store,
                            at,
                            self.params(),
                            ledger,
                            now,
                            (c.cutoff, c.now_ns),
                        );
                        return Ok(());
                    }
                    Ok(None) => return Ok(()),
                    Err(()) => RefusalReason::Duplicate,
                }
            }
            Err(reason) => reason,
        };
        profile.refusals_mut().bump(refused.kind());
        Err(Refusal {
            reason: refused,
            event,
        })
    }

    /// Adds a suppression. A bereavement on an interest subtree (or on
    /// everything) also purges every signal stored there, and in the
    /// subtrees of every life event it extends to, whatever its instant
    /// (also one dated after `now`, by a clock ahead of this one), and
    /// leaves a signals-only tombstone per subtree, so that no merge or late
    /// event brings them back. The tombstone's instant is `now`, or past the
    /// newest purged signal if that is later: see
    /// [`erase_interest`](Self::erase_interest) for what that means for
    /// later events. Returns the number of purged events.
    pub fn suppress(
        &self,
        profile: &mut Profile,
        suppression: Suppression,
        now: OffsetDateTime,
    ) -> usize {
        let purged = if suppression.purges() {
            let scopes: Vec<ErasedScope> = match suppression.scope() {
                // Its subtree and those of the life events it extends to.
                Scope::Interest(_) => suppression
                    .covered_roots(&self.taxonomy)
                    .into_iter()
                    .map(|(root, _)| ErasedScope::Interest(root))
                    .collect(),
                _ => vec![ErasedScope::All],
            };
            let purged = scopes
                .into_iter()
                .map(|scope| self.forget(profile, scope, true, now, None, None))
                .sum();
            self.prepare(profile, now);
            purged
        } else {
            0
        };
        add_suppression(profile.suppressions_mut(), suppression);
        purged
    }

    /// Removes every stored datum of `scope` (only the signals if
    /// `signals_only`), whatever its instant, and records the erasure as a
    /// tombstone covering `now`, `also` (instants of other erased data) and
    /// the instants of the removed data (see [`erased_through`]), and
    /// later than `after` if given: a copy that held any of them loses it
    /// again on merge, and a late delivery of one is refused as erased.
    /// Returns the number of removed events. The caller prepares the
    /// aggregates once afterwards (a purge may forget several subtrees).
    fn forget(
        &self,
        profile: &mut Profile,
        scope: ErasedScope,
        signals_only: bool,
        now: OffsetDateTime,
        also: Option<OffsetDateTime>,
        after: Option<OffsetDateTime>,
    ) -> usize {
        let tax = &self.taxonomy;
        let inside = |interest: InterestId| match scope {
            ErasedScope::All => true,
            ErasedScope::Interest(root) => tax.is_within(interest, root),
        };
        let mut newest = also;
        let removed = profile.store_mut().remove(|e| {
            let gone = inside(e.interest());
            if gone {
                newest = newest.max(Some(e.at()));
            }
            gone
        });
        if !signals_only {
            profile.preferences_mut().retain(|p| {
                let gone = inside(p.interest);
                if gone {
                    newest = newest.max(Some(p.at));
                }
                !gone
            });
        }
        let root = match scope {
            ErasedScope::All => None,
            ErasedScope::Interest(i) => Some(tax.path(i).unwrap_or_default().to_owned()),
        };
        let (orphaned, orphans_newest) = profile.orphans_mut().purge(root.as_deref(), signals_only);
        newest = newest.max(orphans_newest);
        let tomb = Tombstone {
            scope,
            at: match after.and_then(|a| a.checked_add(Duration::nanoseconds(1))) {
                Some(a) => erased_through(now, newest).max(a),
                None => erased_through(now, newest),
            },
            signals_only,
        };
        let tombs = profile.tombstones_mut();
        // An erasure an existing tombstone already covers leaves no new one.
        let covered = tombs.iter().any(|t| {
            tomb.at <= t.at
                && subsumes(tax, &t.scope, &tomb.scope)
                && (tomb.signals_only || !t.signals_only)
        });
        if !covered {
            // A newer tombstone of the same or a wider scope subsumes older ones.
            tombs.retain(|t| {
                !(t.at <= tomb.at
                    && subsumes(tax, &tomb.scope, &t.scope)
                    && (t.signals_only || !tomb.signals_only))
            });
            tombs.push(tomb);
        }
        removed + orphaned
    }

    /// Computes the profile's incremental aggregates for this engine at
    /// `now`, so that reads at `now` or later cost O(interests) instead of a
    /// pass over the events. Recording does this by itself; call it after
    /// reading a profile back from storage if you will score it many times.
    pub fn prepare(&self, profile: &mut Profile, now: OffsetDateTime) {
        let (store, ledger) = profile.store_and_ledger();
        decay::prepare(store, self.params(), ledger, now);
    }

    /// Erases an interest subtree: its events, likes and dislikes, whatever
    /// their instant (also those dated after `now`, by a clock ahead of
    /// this one, and orphaned data of paths in the subtree). A content-free
    /// tombstone (subtree and instant) remains so that no merge or late
    /// event brings the data back. Suppressions are kept: they protect the
    /// person. Returns the number of erased events.
    ///
    /// The tombstone's instant is `now` or, if an erased datum is dated
    /// later, past the newest erased instant, so that a merge with any copy
    /// holding erased data (a backup, another server's copy, at any clock
    /// skew, in either direction) removes it again. It is then `now` plus
    /// the smallest power of two nanoseconds beyond that datum: the saved
    /// tombstone does not give the erased instant away. In that subtree,
    /// data dated at or before the tombstone's instant is erased for good:
    /// an event is refused as [`RefusalReason::Erased`], and a like or
    /// dislike declared at such an instant is removed by the next merge.
    /// So a datum dated ahead of `now` holds new data of the subtree back
    /// until at most twice as far ahead of `now` as it was.
    pub fn erase_interest(
        &self,
        profile: &mut Profile,
        interest: InterestId,
        now: OffsetDateTime,
    ) -> usize {
        let erased = self.forget(
            profile,
            ErasedScope::Interest(interest),
            false,
            now,
            None,
            None,
        );
        self.prepare(profile, now);
        erased
    }

    /// Erases the whole profile: events, preferences, orphaned data,
    /// refusal counters and the consent history, whatever their instants
    /// (the history is replaced by a withdrawal of every purpose at `now`,
    /// so no older copy can bring a grant back); the level drops to `Off`.
    /// Suppressions are kept: they protect the person.
    ///
    /// As for [`erase_interest`](Self::erase_interest), the tombstone's
    /// instant is `now` or past the newest instant of any erased datum,
    /// consent changes included, and after every earlier whole-profile
    /// tombstone: a merge with any copy from before the erasure, in either
    /// direction, drops its events, preferences, consent history and
    /// counters, and events dated at or before that instant are refused as
    /// [`RefusalReason::Erased`]. Consent given again after the erasure is
    /// kept by this profile, but a merge drops the other copy's consent
    /// changes dated at or before that instant.
    pub fn erase_profile(&self, profile: &mut Profile, now: OffsetDateTime) {
        let consent = profile.consent().newest_instant();
        // Newer than every earlier wipe this profile knows of, so that a
        // merge can tell which copy saw the latest (see `merge`): a copy
        // of the consent given again since an earlier wipe must lose it.
        let wiped = last_wipe(profile);
        self.forget(profile, ErasedScope::All, false, now, consent, wiped);
        profile.store_mut().clear();
        profile.preferences_mut().clear();
        profile.orphans_mut().clear_data();
        *profile.refusals_mut() = Default::default();
        profile.consent_mut().reset_withdrawn(now);
        profile.set_level(Level::Off);
        self.prepare(profile, now);
    }

    /// Forgets what no read at `now` or later can use: events past their max
    /// age, dismissals past their cooldown, suppressions that have ended.
    /// Never changes a score at `now` or later. Returns the number of
    /// removed events.
    pub fn compact(&self, profile: &mut Profile, now: OffsetDateTime) -> usize {
        let tax = &self.taxonomy;
        let policy = &self.policy;
        let removed = profile.store_mut().remove(|e| {
            let age = now - e.at();
            if e.is_dismissal() {
                age >= policy.dismissal_cooldown()
            } else {
                age > policy.max_age_for(tax, e.interest(), e.source())
            }
        });
        profile
            .suppressions_mut()
            .retain(|s| s.ends().is_none_or(|u| u > now));
        profile
            .orphans_mut()
            .suppressions
            .retain(|s| s.until.is_none_or(|u| u > now));
        profile.store_mut().shrink_to_fit();
        self.prepare(profile, now);
        removed
    }

    /// Joins another record of the same person into `profile` (identity
    /// stitching, a restored backup, a re-import): events unite without
    /// duplicates; suppressions, preferences, tombstones and orphaned data
    /// unite; per purpose the more restrictive consent wins at every
    /// instant; the lower level wins. Data covered by a tombstone of either
    /// side stays gone, so an older copy never resurrects erased data or a
    /// withdrawn consent: a tombstone covers every datum its erasure removed,
    /// whatever its instant (see [`erase_interest`](Self::erase_interest)),
    /// so a copy from before an erasure, merged in either direction, brings
    /// none of it back, and after a whole-profile erasure the consent history
    /// and refusal counters of the copy that has not seen it are dropped up
    /// to the tombstone's instant. The id of `profile` is kept.
    ///
    /// The result keeps the engine's limits, so it can always be stored and
    /// loaded again: if the union holds more than `max_events` events (or
    /// events of more than `max_interests` interests), the oldest events
    /// give way, and [`Merged::dropped_events`] says how many. Costs
    /// O(n log n) in the events and linear in the tombstones.
    pub fn merge(&self, profile: &mut Profile, other: &Profile) -> Merged {
        let tax = &self.taxonomy;
        // The latest whole-profile erasure either side knows of: what the
        // other side holds from before it (consent history, counters) is gone.
        let (mine, theirs) = (last_wipe(profile), last_wipe(other));
        let erased_at = mine.max(theirs);
        let mut other_consent = other.consent().clone();
        let mut other_refusals = other.refusals().clone();
        if let Some(t) = erased_at {
            if mine != erased_at {
                profile.consent_mut().forget_through(t);
                *profile.refusals_mut() = Default::default();
            }
            if theirs != erased_at {
                other_consent.forget_through(t);
                other_refusals = Default::default();
            }
        }
        union_into(profile.tombstones_mut(), other.tombstones());
        let tombs = std::mem::take(profile.tombstones_mut());
        *profile.tombstones_mut() =
            crate::profile::newest_per_scope(tombs, |t| t.scope, |t| (t.at, t.signals_only));
        let tombs = TombIndex::new(profile.tombstones());
        let mut series = std::mem::take(&mut profile.store_mut().series);
        series.extend(other.store().series.iter().cloned());
        let mut inert = std::mem::take(&mut profile.store_mut().inert);
        inert.extend(other.store().inert.iter().copied());
        *profile.store_mut() = crate::store::Store::from_parts(series, inert);
        profile
            .store_mut()
            .remove(|e| tombs.covers(tax, e.interest(), e.at(), true));
        union_into(profile.suppressions_mut(), other.suppressions());
        union_into(profile.preferences_mut(), other.preferences());
        profile
            .preferences_mut()
            .retain(|p| !tombs.covers(tax, p.interest, p.at, false));
        // Orphans: unite, then let every tombstone (by path) apply.
        profile.orphans_mut().join(other.orphans());
        let known: Vec<(Option<String>, OffsetDateTime, bool)> = profile
            .tombstones()
            .iter()
            .map(|t| match t.scope {
                ErasedScope::All => (None, t.at, t.signals_only),
                ErasedScope::Interest(i) => (tax.path(i).map(str::to_owned), t.at, t.signals_only),
            })
            .collect();
        for (root, at, signals_only) in &known {
            profile
                .orphans_mut()
                .erase(root.as_deref(), *at, *signals_only);
        }
        profile.orphans_mut().apply_own_tombstones();
        profile.consent_mut().merge(&other_consent);
        profile.set_level(profile.level().min(other.level()));
        profile.refusals_mut().join(&other_refusals);
        let dropped_events = self.trim_to_limits(profile);
        // Events were joined without the aggregates: prepare them again.
        profile.store_mut().prepared = None;
        Merged { dropped_events }
    }

    /// Drops the oldest events until the profile is within `max_events` and
    /// `max_interests`; returns how many were dropped.
    fn trim_to_limits(&self, profile: &mut Profile) -> usize {
        let l = &self.limits;
        let mut dropped = 0;
        let total = profile.stored_events() + profile.orphans().events.len();
        if total > l.max_events {
            let mut instants: Vec<i64> = profile
                .store()
                .series
                .iter()
                .flat_map(|s| s.at.iter().copied())
                .chain(
                    profile
                        .store()
                        .inert
                        .iter()
                        .filter_map(|e| to_nanos(e.at())),
                )
                .chain(profile.orphans().events.iter().map(|e| e.at))
                .collect();
            let excess = total - l.max_events;
            let (_, &mut cut, _) = instants.select_nth_unstable(excess - 1);
            // Everything at or before the excess-th oldest instant gives way.
            dropped += profile
                .store_mut()
                .remove(|e| to_nanos(e.at()).is_none_or(|a| a <= cut));
            let orphans = profile.orphans_mut();
            let before = orphans.events.len();
            orphans.events.retain(|e| e.at > cut);
            dropped += before - orphans.events.len();
        }
        let interests = profile.store().interests() + gate::orphan_interests(profile);
        if interests > l.max_interests {
            // The interests whose newest evidence is oldest give way.
            let mut newest: Vec<(i64, InterestId)> = Vec::new();
            for s in &profile.store().series {
                let last = s.at.last().copied().unwrap_or(i64::MIN);
                match newest.last_mut() {
                    Some((t, i)) if *i == s.interest => *t = (*t).max(last),
                    _ => newest.push((last, s.interest)),
                }
            }
            newest.sort_unstable();
            let excess = interests - l.max_interests;
            let gone: std::collections::HashSet<InterestId> =
                newest.iter().take(excess).map(|(_, i)| *i).collect();
            dropped += profile
                .store_mut()
                .remove(|e| !e.is_gift() && !e.is_dismissal() && gone.contains(&e.interest()));
        }
        dropped
    }

    /// Scores every interest of the taxonomy for `profile` at `now`.
    #[must_use]
    pub fn scores(&self, profile: &Profile, now: OffsetDateTime) -> Scores {
        decay::score(&self.view(profile, now), self.fingerprint)
    }

    /// Explains one interest at `now`: its usable events and their
    /// contributions, the consents that allowed them, and every stored event
    /// left out with the reason.
    #[must_use]
    pub fn explain(
        &self,
        profile: &Profile,
        interest: InterestId,
        now: OffsetDateTime,
    ) -> Explanation {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        let s = scores.get(interest).copied().unwrap_or_default();
        let mut ex = explain::interest(&view, interest, s.score, s.established);
        if s.established.is_none() {
            ex.excluded
                .extend(segment::shortfall_of(&view, &scores, interest));
        }
        ex
    }

    /// The scores computed by one plain pass over the stored events,
    /// ignoring the incremental aggregates: the reference that
    /// [`scores`](Self::scores) agrees with (scores within 1e-9 relative,
    /// evidence exactly). Slower; for audits and tests.
    #[must_use]
    pub fn scores_by_scan(&self, profile: &Profile, now: OffsetDateTime) -> Scores {
        decay::score(&self.view(profile, now), 0)
    }

    /// The names of the segments `profile` is a member of at `now`, without
    /// explanations: the cheap question for serving. Same members as
    /// [`segments`](Self::segments).
    #[must_use]
    pub fn segment_names(&self, profile: &Profile, now: OffsetDateTime) -> Vec<&str> {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.segments
            .iter()
            .filter(|seg| self.gate_open(&view, seg) && segment::holds(&view, &scores, &seg.rule))
            .map(|seg| seg.def.name.as_str())
            .collect()
    }

    /// The segments `profile` is a member of at `now`, each with its
    /// explanation: those whose rule holds and for which the one gate lets
    /// the person be addressed for the segment's purpose on at least one of
    /// its channels (see [`SegmentDef`] and [`decide`](Self::decide)).
    #[must_use]
    pub fn segments(&self, profile: &Profile, now: OffsetDateTime) -> Vec<Membership> {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.memberships(&view, &scores)
    }

    /// Whether the gate lets the person be addressed for the segment's
    /// purpose on at least one of its channels.
    fn gate_open(&self, view: &View<'_>, seg: &Segment) -> bool {
        seg.channels
            .iter()
            .any(|&c| gate::is_open(view, &seg.use_on(c, seg.def.purpose)))
    }

    fn memberships(&self, view: &View<'_>, scores: &Scores) -> Vec<Membership> {
        self.segments
            .iter()
            .filter(|seg| self.gate_open(view, seg))
            .filter_map(|seg| {
                segment::eval(view, scores, &seg.rule).map(|explanation| Membership {
                    segment: seg.def.name.clone(),
                    explanation,
                })
            })
            .collect()
    }

    /// Whether a message may be sent to `profile` at `now`: `Allow` with the
    /// explanation, or `Deny` with every reason.
    ///
    /// Asks the one gate that segment memberships ask too: suppression
    /// always wins (everything, the channel, the purpose, the channel and
    /// purpose together, or an interest the message relies on, or its life
    /// event); every purpose relied on must be granted (the message's, and
    /// for a segment its purpose and what its rule relies on; anything
    /// targeted relies on personalization); at level `Off` only service
    /// messages go out; the person's dislikes and dismissals of an interest
    /// the message needs block it. Service messages need no consent and
    /// are not blocked by a marketing opt-out. Then the target must hold:
    /// the interest established, or the person a member of the segment.
    #[must_use]
    pub fn decide(
        &self,
        profile: &Profile,
        request: &MessageRequest,
        now: OffsetDateTime,
    ) -> Decision {
        decision::decide(
            &self.view(profile, now),
            &self.segments,
            self.fingerprint,
            request,
        )
    }

    /// The profiles a message may be sent to at `now`: those for which
    /// [`decide`](Self::decide) allows it.
    ///
    /// # Errors
    /// [`AudienceError::TooSmall`] if fewer than the minimum audience are
    /// allowed (so no audience can single out a person);
    /// [`AudienceError::NoTarget`] for an untargeted request;
    /// [`AudienceError::UnknownSegment`].
    pub fn audience<'p>(
        &self,
        profiles: impl IntoIterator<Item = &'p Profile>,
        request: &MessageRequest,
        now: OffsetDateTime,
    ) -> Result<Audience, AudienceError> {
        self.check_target(request)?;
        let mut members = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut left_out = 0;
        for p in profiles {
            // Count people, not records: duplicates of one person must not
            // make an audience look larger than it is.
            if !seen.insert(p.id()) {
                continue;
            }
            if self.decide(p, request, now).is_allowed() {
                members.push(p.id().clone());
            } else {
                left_out += 1;
            }
        }
        if members.len() < self.min_audience {
            return Err(AudienceError::TooSmall {
                size: members.len(),
                min: self.min_audience,
            });
        }
        Ok(Audience { members, left_out })
    }

    /// Refuses requests that no audience can be built for.
    fn check_target(&self, request: &MessageRequest) -> Result<(), AudienceError> {
        match &request.target {
            Target::Nobody => Err(AudienceError::NoTarget),
            Target::Segment(name) if !self.segments.iter().any(|s| &s.def.name == name) => {
                Err(AudienceError::UnknownSegment(name.clone()))
            }
            _ => Ok(()),
        }
    }

    /// The size of the [`audience`](Self::audience) of `request` at `now`,
    /// released to a consumer with differential privacy: the number of
    /// distinct people (by [`ProfileId`](crate::ProfileId)) that
    /// [`decide`](Self::decide) allows, plus exact noise from `mechanism`,
    /// charged to the consumer's `budget`. The minimum audience is applied
    /// to the noisy value. See [`privacy`] for the
    /// guarantee and its conditions.
    ///
    /// # Errors
    /// [`ReleaseError::Audience`] for an untargeted request or an unknown
    /// segment and [`ReleaseError::Budget`] when the budget does not cover
    /// the release (both before anything is spent);
    /// [`ReleaseError::BelowThreshold`] when the noisy count is below the
    /// minimum audience (budget spent).
    ///
    /// # Example
    /// ```
    /// use rand::SeedableRng;
    /// use tactful::privacy::{Budget, Delta, Epsilon, Mechanism, ReleaseError};
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let engine = Engine::new(taxonomy, DecayPolicy::default())
    ///     .with_segments(vec![SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0))])?;
    /// let profiles: Vec<Profile> = Vec::new(); // nobody
    /// let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
    ///     .about(Target::Segment("young-parents".into()));
    /// let mut budget = Budget::new("partner-a", Epsilon::new(1.0)?, Delta::ZERO);
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1); // production: the OS generator
    /// let now = datetime!(2026-12-01 9:00 UTC);
    /// let mech = Mechanism::laplace(Epsilon::new(0.5)?)?;
    /// let size = engine.private_audience_size(&profiles, &req, now, mech, &mut budget, &mut rng);
    /// // Zero people plus noise stays far below the minimum of 50.
    /// assert_eq!(size, Err(ReleaseError::BelowThreshold { min: 50 }));
    /// assert_eq!(budget.remaining().epsilon, Epsilon::new(0.5)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn private_audience_size<'p, R: rand::CryptoRng + ?Sized>(
        &self,
        profiles: impl IntoIterator<Item = &'p Profile>,
        request: &MessageRequest,
        now: OffsetDateTime,
        mechanism: Mechanism,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<NoisyCount, ReleaseError> {
        self.check_target(request)?;
        let release = self.private_release(mechanism);
        release.check(1, budget)?;
        let exact = privacy::count_people(profiles, std::slice::from_ref(request), |p, r| {
            self.decide(p, r, now).is_allowed()
        });
        release.count(exact.first().copied().unwrap_or(0), budget, rng)
    }

    /// Audience sizes for several requests (segment x channel, or one
    /// interest per cell for a histogram of established interests),
    /// released together with differential privacy as one release. Each
    /// person counts at most once per cell; since one person may be in
    /// every cell, the noise is scaled to `requests.len()` contributions
    /// (L1 sensitivity `k`, L2 `sqrt(k)`): keep the set small. Cells whose
    /// noisy count is below the minimum audience are withheld.
    ///
    /// # Errors
    /// As [`private_audience_size`](Self::private_audience_size), plus
    /// [`ReleaseError::NoCells`] and [`ReleaseError::Parameter`] for more
    /// than 1024 requests; withheld cells are not errors.
    #[allow(clippy::too_many_arguments)]
    pub fn private_breakdown<'p, R: rand::CryptoRng + ?Sized>(
        &self,
        profiles: impl IntoIterator<Item = &'p Profile>,
        requests: &[MessageRequest],
        now: OffsetDateTime,
        mechanism: Mechanism,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<Breakdown<MessageRequest>, ReleaseError> {
        if requests.is_empty() {
            return Err(ReleaseError::NoCells);
        }
        for r in requests {
            self.check_target(r)?;
        }
        let k = u32::try_from(requests.len()).unwrap_or(u32::MAX);
        let release = self.private_release(mechanism);
        release.check(k, budget)?;
        let exact = privacy::count_people(profiles, requests, |p, r| {
            self.decide(p, r, now).is_allowed()
        });
        release.breakdown(
            requests.iter().cloned().zip(exact).collect(),
            k,
            budget,
            rng,
        )
    }

    /// A release with this engine's minimum audience.
    fn private_release(&self, mechanism: Mechanism) -> PrivateRelease {
        PrivateRelease::new(
            mechanism,
            u64::try_from(self.min_audience).unwrap_or(u64::MAX),
        )
    }

    /// The transparency report of one profile at `now`.
    #[must_use]
    pub fn report(&self, profile: &Profile, now: OffsetDateTime) -> Report {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        let tax = &self.taxonomy;
        let mut ids: Vec<InterestId> = profile
            .events()
            .iter()
            .filter(|e| !e.is_dismissal())
            .map(|e| e.interest())
            .collect();
        ids.extend(
            scores
                .iter()
                .filter(|(_, s)| s.established.is_some())
                .map(|(i, _)| i),
        );
        ids.retain(|i| tax.contains(*i));
        ids.sort();
        ids.dedup();
        Report {
            profile: profile.id().clone(),
            at: now,
            level: profile.level(),
            consents: Purpose::ALL
                .into_iter()
                .filter(|p| p.needs_consent())
                .map(|p| report::consent_line(profile.consent(), p, now))
                .collect(),
            interests: ids
                .into_iter()
                .map(|i| report::interest_line(&view, &scores, i))
                .collect(),
            preferences: report::preference_lines(&view),
            suppressions: profile
                .suppressions()
                .iter()
                .map(|s| report::suppression_line(tax, s, now))
                .collect(),
            segments: self.memberships(&view, &scores),
            refusals: profile.refusals().clone(),
            erasures: profile
                .tombstones()
                .iter()
                .map(|t| report::erasure_line(tax, t))
                .collect(),
            stored_events: profile.stored_events(),
            orphaned: orphan_lines(profile.orphans()),
        }
    }
}

/// What [`Engine::merge`] had to give way to keep the engine's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Merged {
    /// The oldest events dropped because the union held more than
    /// `max_events` events or events of more than `max_interests` interests.
    pub dropped_events: usize,
}

/// Appends the items of `other` that `v` does not hold, in order: O(n + m).
fn union_into<T: Clone + Eq + std::hash::Hash>(v: &mut Vec<T>, other: &[T]) {
    let mut seen: std::collections::HashSet<T> = v.iter().cloned().collect();
    for x in other {
        if seen.insert(x.clone()) {
            v.push(x.clone());
        }
    }
}

/// Orphaned paths and their record counts, for the report.
fn orphan_lines(o: &crate::profile::Orphans) -> Vec<(String, usize)> {
    let mut lines: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let paths = o
        .events()
        .map(|e| e.interest)
        .chain(o.preferences().iter().map(|p| p.interest.as_str()))
        .chain(o.suppressions().iter().map(|s| s.interest.as_str()))
        .chain(o.tombstones().map(|t| t.interest));
    for p in paths {
        *lines.entry(p).or_insert(0) += 1;
    }
    lines.into_iter().map(|(p, n)| (p.to_owned(), n)).collect()
}

/// Distinct paths of orphaned evidence (they count toward `max_interests`).

/// Tombstones indexed by scope: "is this datum erased" in O(depth).
struct TombIndex {
    /// The latest erasure of everything: (signals and preferences, signals only).
    all: (Option<OffsetDateTime>, Option<OffsetDateTime>),
    by_root:
        std::collections::HashMap<InterestId, (Option<OffsetDateTime>, Option<OffsetDateTime>)>,
}

impl TombIndex {
    fn new(tombs: &[Tombstone]) -> Self {
        let mut idx = Self {
            all: (None, None),
            by_root: std::collections::HashMap::new(),
        };
        for t in tombs {
            let slot = match t.scope {
                ErasedScope::All => &mut idx.all,
                ErasedScope::Interest(i) => idx.by_root.entry(i).or_insert((None, None)),
            };
            let s = if t.signals_only {
                &mut slot.1
            } else {
                &mut slot.0
            };
            *s = (*s).max(Some(t.at));
        }
        idx
    }

    /// Whether a datum of `interest` at `at` is erased; `signal` data is
    /// also covered by signals-only tombstones, preferences are not.
    fn covers(
        &self,
        tax: &Taxonomy,
        interest: InterestId,
        at: OffsetDateTime,
        signal: bool,
    ) -> bool {
        let hit = |(full, signals): (Option<OffsetDateTime>, Option<OffsetDateTime>)| {
            full.is_some_and(|t| at <= t) || (signal && signals.is_some_and(|t| at <= t))
        };
        if hit(self.all) {
            return true;
        }
        std::iter::once(interest)
            .chain(tax.ancestors(interest))
            .any(|i| self.by_root.get(&i).is_some_and(|s| hit(*s)))
    }
}

/// The instant of the latest whole-profile erasure a profile knows of.
fn last_wipe(p: &Profile) -> Option<OffsetDateTime> {
    p.tombstones()
        .iter()
        .filter(|t| t.scope == ErasedScope::All && !t.signals_only)
        .map(|t| t.at)
        .max()
}

/// The instant of a tombstone of an erasure at `now` whose newest erased
/// datum is dated `newest`: `now`, or, for a datum dated later (by a clock
/// ahead of this one), `now` plus the smallest power of two nanoseconds
/// beyond it. So the tombstone covers every erased datum, holds new data of
/// its scope back at most twice as far ahead of `now` as that datum was,
/// and is not the erased datum's instant: the saved profile keeps none.
fn erased_through(now: OffsetDateTime, newest: Option<OffsetDateTime>) -> OffsetDateTime {
    let Some(newest) = newest.filter(|n| *n > now) else {
        return now;
    };
    let gap = (newest - now).whole_nanoseconds();
    // Instants are within 20,000 years of each other: the gap is below 2^70.
    let step = 1i128.checked_shl(128 - gap.leading_zeros()).unwrap_or(0);
    let (secs, nanos) = (step / 1_000_000_000, step % 1_000_000_000);
    match (i64::try_from(secs), i32::try_from(nanos)) {
        (Ok(secs), Ok(nanos)) if step > gap => now
            .checked_add(Duration::new(secs, nanos))
            .unwrap_or(newest),
        _ => newest,
    }
}

fn add_suppression(list: &mut Vec<Suppression>, s: Suppression) {
    if !list.contains(&s) {
        list.push(s);
    }
}

fn subsumes(tax: &Taxonomy, wide: &ErasedScope, narrow: &ErasedScope) -> bool {
    match (wide, narrow) {
        (ErasedScope::All, _) => true,
        (ErasedScope::Interest(_), ErasedScope::All) => false,
        (ErasedScope::Interest(w), ErasedScope::Interest(n)) => tax.is_within(*n, *w),
    }
}
