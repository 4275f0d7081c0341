//! A profile's lifecycle: suppressions and the purge they imply, erasure
//! with tombstones, compaction, merging two copies, and the limits a merge
//! keeps.

use super::*;

impl Engine {
    /// Adds a suppression. A bereavement on an interest subtree (or on
    /// everything) also purges every signal stored there, and in the
    /// subtrees of every life event it extends to, whatever its instant
    /// (also one dated after `now`, by a clock ahead of this one), and
    /// leaves a signals-only tombstone per subtree, so that no merge or late
    /// event brings them back. The tombstone's instant is `now`, or past the
    /// newest purged signal if that is later: see
    /// [`erase_interest`](Self::erase_interest) for what that means for
    /// later events. Returns the number of purged events.
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default())
    /// #     .with_segments(vec![SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0))
    /// #         .for_purpose(Purpose::Personalization)])?;
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// assert_eq!(engine.segment_names(&anna, now), ["young-parents"]);
    /// // A reported loss: the three stored signals of `baby` are purged.
    /// let baby = engine.taxonomy().require("baby")?;
    /// let loss = Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now);
    /// assert_eq!(engine.suppress(&mut anna, loss, now), 3);
    /// assert_eq!(anna.stored_events(), 0);
    /// assert!(engine.segments(&anna, now).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// let later = now + Duration::days(7);
    /// let before = engine.scores(&anna, later); // one pass over the events
    /// engine.prepare(&mut anna, later); // reads at `later` or after are now O(interests)
    /// let after = engine.scores(&anna, later);
    /// assert!((after.score(food) - before.score(food)).abs() <= 1e-9 * before.score(food));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// assert_eq!(engine.erase_interest(&mut anna, food, now), 3);
    /// assert_eq!(anna.stored_events(), 0);
    ///
    /// // A late delivery of an event from before the erasure is refused as erased.
    /// let late = Event::new(food, Signal::View, now - Duration::hours(1));
    /// let refusal = engine.record(&mut anna, late, now + Duration::minutes(5)).unwrap_err();
    /// assert!(matches!(refusal.reason, RefusalReason::Erased { .. }));
    /// // New events are stored again.
    /// let next = now + Duration::minutes(10);
    /// engine.record(&mut anna, Event::new(food, Signal::View, next), next)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// let no_post = Suppression::new(Scope::Channel(Channel::Post), SuppressionReason::DoNotContact, now);
    /// engine.suppress(&mut anna, no_post, now);
    ///
    /// engine.erase_profile(&mut anna, now);
    /// assert_eq!((anna.stored_events(), anna.level()), (0, Level::Off));
    /// assert_eq!(anna.consent().state(Purpose::Personalization, now), ConsentState::Withdrawn);
    /// assert_eq!(anna.suppressions().len(), 1); // it protects her: kept
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// let recent = t0 + Duration::days(40);
    /// engine.record(&mut anna, Event::new(food, Signal::View, recent), recent)?;
    ///
    /// // At day 60 the first three views are past the default max age of 56 days.
    /// let later = t0 + Duration::days(60);
    /// let before = engine.scores(&anna, later).score(food);
    /// assert_eq!(engine.compact(&mut anna, later), 3);
    /// assert_eq!(anna.stored_events(), 1);
    /// assert!((engine.scores(&anna, later).score(food) - before).abs() <= 1e-9 * before);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # let hiking = engine.taxonomy().require("outdoor/hiking")?;
    /// // Two copies of one person, each with an event the other lacks.
    /// let mut phone = anna.clone();
    /// let mut laptop = anna;
    /// engine.record(&mut phone, Event::new(food, Signal::View, t0), t0)?;
    /// engine.record(&mut laptop, Event::new(hiking, Signal::View, t0), t0)?;
    ///
    /// let merged = engine.merge(&mut phone, &laptop);
    /// assert_eq!(merged.dropped_events, 0);
    /// engine.merge(&mut laptop, &phone);
    /// assert_eq!(phone.stored_events(), 2);
    /// assert_eq!(phone, laptop); // the copies converge
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
        // Per interest the newest statement wins (the greater kind on a
        // tie), whichever copy holds it: a cleared or changed preference is
        // not brought back by an older copy.
        let mut newest = std::collections::HashMap::new();
        for p in profile.preferences() {
            let n = newest.entry(p.interest).or_insert((p.at, p.kind));
            *n = (*n).max((p.at, p.kind));
        }
        profile
            .preferences_mut()
            .retain(|p| newest.get(&p.interest).is_none_or(|n| (p.at, p.kind) >= *n));
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
