//! The [`Engine`]: taxonomy, policy and segments, and every operation on a
//! profile that needs them.

use time::{Duration, OffsetDateTime};

use crate::audience::{Audience, DEFAULT_MIN_AUDIENCE};
use crate::consent::Purpose;
use crate::decay::{self, purposes_for, DecayPolicy, Scores, View};
use crate::decision::{Decision, DenyReason, MessageRequest, Target};
use crate::error::{AudienceError, SegmentErrors};
use crate::event::Event;
use crate::explain::{self, Explanation};
use crate::level::Level;
use crate::limits::{Limit, Limits, ProfileError};
use crate::profile::{ErasedScope, Profile, Refusal, RefusalReason, Tombstone};
use crate::report::{self, Report};
use crate::segment::{self, Membership, Segment, SegmentDef};
use crate::store::to_nanos;
use crate::suppression::{Scope, Suppression};
use crate::taxonomy::{InterestId, Taxonomy};

/// What recording learned while checking an event.
#[derive(Debug, Clone, Copy)]
struct Checked {
    /// Before this instant (Unix ns) the event's series never counts again.
    cutoff: i64,
    at_ns: i64,
    now_ns: i64,
}

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
///     .with_segments(vec![SegmentDef::new("hikers", Rule::interest_at_least("outdoor", 2.0))])?;
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
        let defs: Vec<SegmentDef> = crate::config::parse_json(json)
            .map_err(|e| SegmentErrors(vec![crate::error::SegmentError::Json(e.to_string())]))?;
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

    /// Reads a profile stored as JSON (the serde form of [`Profile`]),
    /// refusing input beyond the engine's [`Limits`] (its size before it is
    /// parsed) and references to interests the taxonomy does not have, and
    /// prepares its aggregates for reads at `now` or later.
    ///
    /// # Errors
    /// A [`ProfileError`] naming the limit, the field or the unknown interest.
    pub fn load_profile(&self, json: &str, now: OffsetDateTime) -> Result<Profile, ProfileError> {
        let l = &self.limits;
        let too_large = |limit, actual: usize, max: usize| {
            if actual > max {
                Err(ProfileError::TooLarge { limit, actual, max })
            } else {
                Ok(())
            }
        };
        too_large(Limit::ProfileBytes, json.len(), l.max_profile_bytes)?;
        let de = &mut serde_json::Deserializer::from_str(json);
        let mut profile: Profile =
            serde_path_to_error::deserialize(de).map_err(|e| ProfileError::Syntax {
                path: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        too_large(Limit::Events, profile.stored_events(), l.max_events)?;
        too_large(
            Limit::Interests,
            profile.store().interests(),
            l.max_interests,
        )?;
        too_large(
            Limit::LedgerEntries,
            profile.consent().len(),
            l.max_ledger_entries,
        )?;
        too_large(
            Limit::Suppressions,
            profile.suppressions().len(),
            l.max_suppressions,
        )?;
        too_large(
            Limit::Preferences,
            profile.preferences().len(),
            l.max_preferences,
        )?;
        let tax = &self.taxonomy;
        let unknown = |field, id: InterestId| {
            if tax.contains(id) {
                Ok(())
            } else {
                Err(ProfileError::UnknownInterest { field, id })
            }
        };
        for s in &profile.store().series {
            unknown("events", s.interest)?;
        }
        for e in &profile.store().inert {
            unknown("events", e.interest())?;
        }
        for p in profile.preferences() {
            unknown("preferences", p.interest)?;
        }
        for s in profile.suppressions() {
            if let Scope::Interest(i) = s.scope() {
                unknown("suppressions", i)?;
            }
        }
        for t in profile.tombstones() {
            if let ErasedScope::Interest(i) = t.scope {
                unknown("tombstones", i)?;
            }
        }
        self.prepare(&mut profile, now);
        Ok(profile)
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
        let refused = match self.check(profile, &event, now).and_then(|c| {
            self.within_limits(profile, &event)?;
            Ok(c)
        }) {
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

    fn within_limits(&self, profile: &Profile, e: &Event) -> Result<(), RefusalReason> {
        let store = profile.store();
        let l = &self.limits;
        if store.len() >= l.max_events {
            return Err(RefusalReason::LimitReached {
                limit: Limit::Events,
                max: l.max_events,
            });
        }
        // The series count bounds the interest count: only near the limit
        // is it worth looking closer.
        if !e.is_gift()
            && !e.is_dismissal()
            && store.series.len() >= l.max_interests
            && !store.has_interest(e.interest())
            && store.interests() >= l.max_interests
        {
            return Err(RefusalReason::LimitReached {
                limit: Limit::Interests,
                max: l.max_interests,
            });
        }
        Ok(())
    }

    /// Why an event must be refused, or, for evidence, the instant (Unix ns)
    /// before which its series' events can never count again (max age, last
    /// withdrawal of a needed purpose): the aggregates move their head there.
    fn check(
        &self,
        profile: &Profile,
        e: &Event,
        now: OffsetDateTime,
    ) -> Result<Checked, RefusalReason> {
        let tax = &self.taxonomy;
        if !tax.contains(e.interest()) {
            return Err(RefusalReason::UnknownInterest(e.interest()));
        }
        let (Some(at_ns), Some(now_ns)) = (to_nanos(e.at()), to_nanos(now)) else {
            let at = if to_nanos(e.at()).is_none() {
                e.at()
            } else {
                now
            };
            return Err(RefusalReason::OutOfRange { at });
        };
        // Both fit in i64 nanoseconds, so their difference fits in i128 and,
        // within ±292 years, in i64: compare in integers on the hot path.
        let age_ns = i128::from(now_ns) - i128::from(at_ns);
        let age = || Duration::nanoseconds_i128(age_ns);
        if age_ns < 0 {
            return Err(RefusalReason::FromFuture { ahead: -age() });
        }
        if let Some(t) = profile
            .tombstones()
            .iter()
            .find(|t| covers(tax, t, e.interest()) && e.at() <= t.at)
        {
            return Err(RefusalReason::Erased { until: t.at });
        }
        if e.is_dismissal() {
            let cooldown = self.policy.dismissal_cooldown();
            if age_ns >= cooldown.whole_nanoseconds() {
                return Err(RefusalReason::Stale {
                    age: age(),
                    max_age: cooldown,
                });
            }
            return Ok(Checked {
                cutoff: i64::MIN,
                at_ns,
                now_ns,
            });
        }
        let purposes = purposes_for(tax, e);
        for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
            if s.covers_interest(tax, e.interest()) || purposes.iter().any(|p| s.covers_purpose(p))
            {
                return Err(RefusalReason::Suppressed {
                    scope: s.scope(),
                    reason: s.reason(),
                });
            }
        }
        let max_age = self.policy.max_age_for(tax, e.interest(), e.source());
        if age_ns > max_age.whole_nanoseconds() {
            return Err(RefusalReason::Stale {
                age: age(),
                max_age,
            });
        }
        let level = profile.level();
        if !level.admits(e.source(), e.context()) {
            return Err(RefusalReason::LevelTooLow {
                required: Level::required_for(e.source(), e.context()),
                level,
            });
        }
        if purposes.contains(Purpose::SensitiveInterests)
            && !self.policy.allow_sensitive_observation()
        {
            return Err(RefusalReason::Sensitive);
        }
        let ledger = profile.consent();
        let mut cutoff = crate::store::oldest_usable(now_ns, max_age);
        for p in purposes.iter() {
            let (then, current, withdrawn) = ledger.scan(p, e.at(), now);
            let usable =
                current.is_granted() && then.is_granted() && withdrawn.is_none_or(|w| w <= e.at());
            if !usable {
                let state = match (current.is_granted(), then.is_granted()) {
                    (false, _) => current,
                    (true, false) => then,
                    // Granted then and now, withdrawn in between: retroactive.
                    (true, true) => crate::consent::ConsentState::Withdrawn,
                };
                return Err(RefusalReason::NoConsent { purpose: p, state });
            }
            if let Some(w) = withdrawn.and_then(to_nanos) {
                cutoff = cutoff.max(w);
            }
        }
        // Without building a view: recording must not allocate.
        if profile.preferences().iter().any(|p| {
            p.kind == crate::profile::PreferenceKind::Dislike
                && p.at <= now
                && tax.is_within(e.interest(), p.interest)
        }) {
            return Err(RefusalReason::Disliked);
        }
        let cooldown = self.policy.dismissal_cooldown();
        if let Some(d) = profile.store().inert.iter().find(|d| {
            d.is_dismissal()
                && e.at() <= d.at()
                && d.at() <= now
                && now < d.at().saturating_add(cooldown)
                && tax.is_within(e.interest(), d.interest())
        }) {
            return Err(RefusalReason::Dismissed { at: d.at() });
        }
        Ok(Checked {
            cutoff,
            at_ns,
            now_ns,
        })
    }

    /// Adds a suppression. A bereavement on an interest subtree (or on
    /// everything) also purges the signals stored there and leaves a
    /// tombstone, so that no merge or late event brings them back. Returns
    /// the number of purged events.
    pub fn suppress(
        &self,
        profile: &mut Profile,
        suppression: Suppression,
        now: OffsetDateTime,
    ) -> usize {
        let purged = if suppression.purges() {
            let scope = match suppression.scope() {
                Scope::Interest(i) => ErasedScope::Interest(i),
                _ => ErasedScope::All,
            };
            self.forget(
                profile,
                Tombstone {
                    scope,
                    at: now,
                    signals_only: true,
                },
            )
        } else {
            0
        };
        if !profile.suppressions().contains(&suppression) {
            profile.suppressions_mut().push(suppression);
        }
        purged
    }

    /// Removes stored data covered by a tombstone and records it.
    fn forget(&self, profile: &mut Profile, tomb: Tombstone) -> usize {
        let preferences = !tomb.signals_only;
        let tax = &self.taxonomy;
        let removed = profile
            .store_mut()
            .remove(|e| covers(tax, &tomb, e.interest()) && e.at() <= tomb.at);
        if preferences {
            profile
                .preferences_mut()
                .retain(|p| !(covers(tax, &tomb, p.interest) && p.at <= tomb.at));
        }
        let tombs = profile.tombstones_mut();
        // A newer tombstone of the same or a wider scope subsumes older ones.
        tombs.retain(|t| {
            !(t.at <= tomb.at
                && subsumes(tax, &tomb.scope, &t.scope)
                && (t.signals_only || !tomb.signals_only))
        });
        tombs.push(tomb);
        self.prepare(profile, tomb.at);
        removed
    }

    /// Computes the profile's incremental aggregates for this engine at
    /// `now`, so that reads at `now` or later cost O(interests) instead of a
    /// pass over the events. Recording does this by itself; call it after
    /// reading a profile back from storage if you will score it many times.
    pub fn prepare(&self, profile: &mut Profile, now: OffsetDateTime) {
        let (store, ledger) = profile.store_and_ledger();
        decay::prepare(store, self.params(), ledger, now);
    }

    /// Erases an interest subtree: its events, likes and dislikes. A
    /// content-free tombstone (subtree and instant) remains so that no merge
    /// or late event brings the data back. Suppressions are kept: they
    /// protect the person. Returns the number of erased events.
    pub fn erase_interest(
        &self,
        profile: &mut Profile,
        interest: InterestId,
        now: OffsetDateTime,
    ) -> usize {
        self.forget(
            profile,
            Tombstone {
                scope: ErasedScope::Interest(interest),
                at: now,
                signals_only: false,
            },
        )
    }

    /// Erases the whole profile: events, preferences, refusal counters and
    /// the consent history (replaced by a withdrawal of every purpose at
    /// `now`, so no older copy can bring a grant back); the level drops to
    /// `Off`. Suppressions are kept: they protect the person.
    pub fn erase_profile(&self, profile: &mut Profile, now: OffsetDateTime) {
        self.forget(
            profile,
            Tombstone {
                scope: ErasedScope::All,
                at: now,
                signals_only: false,
            },
        );
        profile.store_mut().clear();
        profile.preferences_mut().clear();
        *profile.refusals_mut() = Default::default();
        profile.consent_mut().reset_withdrawn(now);
        profile.set_level(Level::Off);
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
        profile.store_mut().shrink_to_fit();
        self.prepare(profile, now);
        removed
    }

    /// Joins another record of the same person into `profile` (identity
    /// stitching, a restored backup, a re-import): events unite without
    /// duplicates; suppressions, preferences and tombstones unite; per
    /// purpose the more restrictive consent wins at every instant; the
    /// lower level wins. Data covered by a tombstone of either side stays
    /// gone, so an older copy never resurrects erased data or a withdrawn
    /// consent. The id of `profile` is kept.
    pub fn merge(&self, profile: &mut Profile, other: &Profile) {
        let tax = &self.taxonomy;
        // The latest whole-profile erasure either side knows of: what the
        // other side holds from before it (consent history, counters) is gone.
        let wiped = |p: &Profile| {
            p.tombstones()
                .iter()
                .filter(|t| t.scope == ErasedScope::All && !t.signals_only)
                .map(|t| t.at)
                .max()
        };
        let (mine, theirs) = (wiped(profile), wiped(other));
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
        for t in other.tombstones() {
            if !profile.tombstones().contains(t) {
                profile.tombstones_mut().push(*t);
            }
        }
        let tombs: Vec<Tombstone> = profile.tombstones().to_vec();
        let gone = |i: InterestId, at: OffsetDateTime| {
            tombs.iter().any(|t| covers(tax, t, i) && at <= t.at)
        };
        for e in other.events() {
            if !gone(e.interest(), e.at()) && !profile.store().contains(&e) {
                profile.store_mut().insert(e);
            }
        }
        profile.store_mut().remove(|e| gone(e.interest(), e.at()));
        for s in other.suppressions() {
            if !profile.suppressions().contains(s) {
                profile.suppressions_mut().push(*s);
            }
        }
        for p in other.preferences() {
            if !profile.preferences().contains(p) {
                profile.preferences_mut().push(*p);
            }
        }
        profile.preferences_mut().retain(|p| {
            !tombs
                .iter()
                .any(|t| !t.signals_only && covers(tax, t, p.interest) && p.at <= t.at)
        });
        profile.consent_mut().merge(&other_consent);
        // Events were joined without the aggregates: prepare them again.
        profile.store_mut().prepared = None;
        profile.set_level(profile.level().min(other.level()));
        profile.refusals_mut().join(&other_refusals);
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
        if profile.level() == Level::Off {
            return Vec::new();
        }
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.segments
            .iter()
            .filter(|seg| segment::holds(&view, &scores, &seg.rule))
            .map(|seg| seg.def.name.as_str())
            .collect()
    }

    /// The segments `profile` is a member of at `now`, each with its explanation.
    #[must_use]
    pub fn segments(&self, profile: &Profile, now: OffsetDateTime) -> Vec<Membership> {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.memberships(&view, &scores)
    }

    fn memberships(&self, view: &View<'_>, scores: &Scores) -> Vec<Membership> {
        if view.profile.level() == Level::Off {
            return Vec::new();
        }
        self.segments
            .iter()
            .filter_map(|seg| {
                segment::eval(view, scores, &seg.rule).map(|explanation| Membership {
                    segment: seg.def.name.clone(),
                    explanation,
                })
            })
            .collect()
    }

    /// Whether a message may be sent to `profile` at `now`: `Allow` with the
    /// explanation, or `Deny` with every reason. Suppression always wins;
    /// service messages need no consent and are not blocked by a marketing
    /// opt-out; anything targeted needs personalization consent and a level
    /// above `Off`.
    #[must_use]
    pub fn decide(
        &self,
        profile: &Profile,
        request: &MessageRequest,
        now: OffsetDateTime,
    ) -> Decision {
        let view = self.view(profile, now);
        let mut deny = Vec::new();
        let tax = &self.taxonomy;
        let targeted = request.target != Target::Nobody;
        let seg = match &request.target {
            Target::Segment(name) => {
                let s = self.segments.iter().find(|s| &s.def.name == name);
                if s.is_none() {
                    deny.push(DenyReason::UnknownSegment {
                        segment: name.clone(),
                    });
                }
                s
            }
            _ => None,
        };
        let target_interests: Vec<InterestId> = match &request.target {
            Target::Nobody => Vec::new(),
            Target::Interest(i) => {
                if !tax.contains(*i) {
                    deny.push(DenyReason::UnknownInterest { interest: *i });
                }
                vec![*i]
            }
            Target::Segment(_) => seg.map(|s| s.positive.clone()).unwrap_or_default(),
        };
        for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
            let hit = s.covers_channel(request.channel)
                || s.covers_purpose(request.purpose)
                || (targeted && s.covers_purpose(Purpose::Personalization))
                || target_interests.iter().any(|i| match s.scope() {
                    Scope::Interest(root) => tax.is_within(*i, root) || tax.is_within(root, *i),
                    _ => false,
                });
            if hit {
                deny.push(DenyReason::Suppressed {
                    scope: s.scope(),
                    reason: s.reason(),
                    until: s.ends(),
                });
            }
        }
        let mut needed = vec![request.purpose];
        if targeted && request.purpose != Purpose::Personalization {
            needed.push(Purpose::Personalization);
        }
        for p in needed {
            let state = profile.consent().state(p, now);
            if !state.is_granted() {
                deny.push(DenyReason::NoConsent { purpose: p, state });
            }
        }
        let level = profile.level();
        if (targeted || request.purpose != Purpose::Service) && level == Level::Off {
            deny.push(DenyReason::LevelTooLow {
                required: Level::Declared,
                level,
            });
        }
        let scores = decay::score(&view, self.fingerprint);
        let mut explanation = Explanation::default();
        match &request.target {
            Target::Nobody => {}
            Target::Interest(i) if tax.contains(*i) => match view.interest_block(*i) {
                Some(explain::ExclusionReason::Disliked) => {
                    deny.push(DenyReason::Disliked { interest: *i })
                }
                Some(explain::ExclusionReason::Dismissed { at }) => {
                    deny.push(DenyReason::Dismissed { interest: *i, at });
                }
                Some(explain::ExclusionReason::Suppressed { .. }) => {
                    // Already denied as suppressed; "not established" would be noise.
                }
                _ => {
                    let s = scores.get(*i).copied().unwrap_or_default();
                    if s.established.is_none() {
                        deny.push(DenyReason::NotEstablished { interest: *i });
                    } else {
                        explanation = explain::interest(&view, *i, s.score, s.established);
                    }
                }
            },
            Target::Interest(_) => {}
            Target::Segment(name) => {
                if let Some(seg) = seg {
                    // Name the person's own blocks on what the segment needs.
                    for i in &seg.positive {
                        match view.interest_block(*i) {
                            Some(explain::ExclusionReason::Disliked) => {
                                deny.push(DenyReason::Disliked { interest: *i });
                            }
                            Some(explain::ExclusionReason::Dismissed { at }) => {
                                deny.push(DenyReason::Dismissed { interest: *i, at });
                            }
                            _ => {}
                        }
                    }
                    match segment::eval(&view, &scores, &seg.rule) {
                        Some(ex) if level > Level::Off => explanation = ex,
                        _ => deny.push(DenyReason::NotMember {
                            segment: name.clone(),
                        }),
                    }
                }
            }
        }
        if deny.is_empty() {
            explanation.add_consents(&view, crate::consent::Purposes::EMPTY.with(request.purpose));
            Decision::Allow(explanation)
        } else {
            Decision::Deny(deny)
        }
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
        match &request.target {
            Target::Nobody => return Err(AudienceError::NoTarget),
            Target::Segment(name) if !self.segments.iter().any(|s| &s.def.name == name) => {
                return Err(AudienceError::UnknownSegment(name.clone()));
            }
            _ => {}
        }
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
            erasures: profile.tombstones().to_vec(),
            stored_events: profile.stored_events(),
        }
    }
}

fn covers(tax: &Taxonomy, t: &Tombstone, interest: InterestId) -> bool {
    match t.scope {
        ErasedScope::All => true,
        ErasedScope::Interest(root) => tax.is_within(interest, root),
    }
}

fn subsumes(tax: &Taxonomy, wide: &ErasedScope, narrow: &ErasedScope) -> bool {
    match (wide, narrow) {
        (ErasedScope::All, _) => true,
        (ErasedScope::Interest(_), ErasedScope::All) => false,
        (ErasedScope::Interest(w), ErasedScope::Interest(n)) => tax.is_within(*n, *w),
    }
}
