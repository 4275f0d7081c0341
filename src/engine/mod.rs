//! The [`Engine`]: taxonomy, policy and segments, and every operation on a
//! profile that needs them.
//!
//! # Examples
//! One engine serves every profile, on any thread:
//! ```
//! use std::sync::Arc;
//! use tactful::prelude::*;
//! use time::macros::datetime;
//!
//! let engine = Arc::new(Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default()));
//! let food = engine.taxonomy().require("baby/food")?;
//! let now = datetime!(2026-11-01 9:00 UTC);
//! let worker = std::thread::spawn({
//!     let engine = Arc::clone(&engine);
//!     move || -> Result<usize, tactful::Error> {
//!         let mut anna = Profile::new("anna");
//!         anna.set_level(Level::FirstParty);
//!         anna.consent_mut().grant(Purpose::Personalization, now, None, Evidence::Ui("signup".into()))?;
//!         engine.record(&mut anna, Event::new(food, Signal::View, now), now)?;
//!         Ok(anna.stored_events())
//!     }
//! });
//! assert_eq!(worker.join().map_err(|_| "worker panicked")??, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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

mod audiences;
mod lifecycle;
mod storage;

pub use lifecycle::Merged;

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
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let engine = Engine::new(taxonomy, DecayPolicy::default());
    /// assert_eq!(engine.min_audience(), 50);
    /// assert_eq!(engine.segment_defs().count(), 0);
    /// assert!(engine.taxonomy().id("baby").is_some()); // a path's parents are interests too
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let engine = Engine::new(taxonomy, DecayPolicy::default())
    ///     .with_segments(vec![SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0))])?;
    /// assert_eq!(engine.segment_defs().count(), 1);
    ///
    /// // Every problem at once: an unknown path and a name already taken.
    /// let errors = engine
    ///     .with_segments(vec![
    ///         SegmentDef::new("hikers", Rule::interest("outdoor/hiking")),
    ///         SegmentDef::new("young-parents", Rule::interest("baby")),
    ///     ])
    ///     .unwrap_err();
    /// assert_eq!(errors.0.len(), 2);
    /// assert!(errors.to_string().contains(r#"unknown interest path "outdoor/hiking""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    /// use tactful::{JsonError, SegmentError};
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let ok = engine.clone().with_segments_json(
    ///     r#"[{"name": "young-parents", "rule": {"interest_at_least": {"interest": "baby", "min_score": 2.0}}}]"#,
    /// )?;
    /// assert_eq!(ok.segment_defs().next().map(|d| d.purpose), Some(Purpose::Marketing));
    ///
    /// // A malformed value is reported with the path of its field.
    /// let err = engine
    ///     .with_segments_json(r#"[{"name": "young-parents", "rule": {"interest_at_least": {"interest": "baby", "min_score": "high"}}}]"#)
    ///     .unwrap_err();
    /// let SegmentError::Json(JsonError::Syntax { path, .. }) = &err.0[0] else { panic!("{err}") };
    /// assert_eq!(path, "[0].rule.interest_at_least.min_score");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_segments_json(self, json: &str) -> Result<Self, SegmentErrors> {
        let defs: Vec<SegmentDef> = crate::json::parse_json(json)
            .map_err(|e| SegmentErrors(vec![crate::segment::SegmentError::Json(e)]))?;
        self.with_segments(defs)
    }

    /// Sets the limits (see [`Limits`]). Set them before adding segments:
    /// rule depth and size are checked when segments are added.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    /// use tactful::Limits;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default())
    ///     .with_limits(Limits { max_rule_depth: 2, ..Limits::default() });
    /// // Rules are checked against the limits when segments are added.
    /// let deep = Rule::negate(Rule::negate(Rule::negate(Rule::interest("baby"))));
    /// let errors = engine.with_segments(vec![SegmentDef::new("deep", deep)]).unwrap_err();
    /// assert!(errors.to_string().contains("deeper than 2 levels"), "{errors}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// assert_eq!(engine.limits().max_events, 100_000);
    /// assert_eq!(engine.limits().max_rule_depth, 32);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sets the minimum audience size (at least 1).
    ///
    /// # Examples
    /// ```
    /// use std::num::NonZeroUsize;
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default())
    ///     .with_min_audience(NonZeroUsize::new(500).ok_or("zero")?);
    /// assert_eq!(engine.min_audience(), 500);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_min_audience(mut self, min: std::num::NonZeroUsize) -> Self {
        self.min_audience = min.get();
        self
    }

    /// The taxonomy.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let (baby, food) = (engine.taxonomy().require("baby")?, engine.taxonomy().require("baby/food")?);
    /// assert!(engine.taxonomy().is_within(food, baby));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
    /// The policy.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    /// use time::Duration;
    ///
    /// let policy = DecayPolicy::builder().min_events(5).build()?;
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, policy);
    /// assert_eq!(engine.policy().min_events(), 5);
    /// assert_eq!(engine.policy().max_age(), Duration::days(56)); // the default
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn policy(&self) -> &DecayPolicy {
        &self.policy
    }
    /// The segment definitions.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default())
    ///     .with_segments(vec![
    ///         SegmentDef::new("young-parents", Rule::interest("baby")),
    ///         SegmentDef::new("hikers", Rule::interest("outdoor/hiking")).for_purpose(Purpose::Personalization),
    ///     ])?;
    /// let names: Vec<&str> = engine.segment_defs().map(|d| d.name.as_str()).collect();
    /// assert_eq!(names, ["young-parents", "hikers"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segment_defs(&self) -> impl Iterator<Item = &SegmentDef> + '_ {
        self.segments.iter().map(|s| &s.def)
    }
    /// The minimum audience size.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// assert_eq!(engine.min_audience(), 50); // see `with_min_audience`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    pub(crate) fn view<'a>(&'a self, profile: &'a Profile, now: OffsetDateTime) -> View<'a> {
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
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    /// use tactful::RefusalKind;
    /// use time::macros::datetime;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let food = engine.taxonomy().require("baby/food")?;
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let mut anna = Profile::new("anna");
    /// anna.set_level(Level::FirstParty);
    ///
    /// // Without consent to personalization the event is refused, and counted.
    /// let refusal = engine.record(&mut anna, Event::new(food, Signal::View, now), now).unwrap_err();
    /// assert!(matches!(refusal.reason, RefusalReason::NoConsent { purpose: Purpose::Personalization, .. }));
    /// assert_eq!(anna.refusals().get(RefusalKind::NoConsent), 1);
    ///
    /// anna.consent_mut().grant(Purpose::Personalization, now, None, Evidence::Ui("signup".into()))?;
    /// engine.record(&mut anna, refusal.event, now)?; // the refused event is handed back
    /// assert_eq!(anna.stored_events(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// Scores every interest of the taxonomy for `profile` at `now`.
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
    /// // Three views of baby food on three days.
    /// for day in 0..3 {
    ///     let at = t0 + Duration::days(day);
    ///     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// }
    /// let scores = engine.scores(&anna, t0 + Duration::days(3));
    /// assert!(scores.is_established(food));
    /// assert!(scores.is_established(engine.taxonomy().require("baby")?)); // a node covers its subtree
    /// // Each view weighs 1, halved every 14 days.
    /// assert!((2.5..3.0).contains(&scores.score(food)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn scores(&self, profile: &Profile, now: OffsetDateTime) -> Scores {
        decay::score(&self.view(profile, now), self.fingerprint)
    }

    /// Explains one interest at `now`: its usable events and their
    /// contributions, the consents that allowed them, and every stored event
    /// left out with the reason.
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
    /// use tactful::ExclusionReason;
    ///
    /// let gift = t0 + Duration::hours(1);
    /// engine.record(&mut anna, Event::new(food, Signal::Purchase, gift).with_gift(true), gift)?;
    /// let why = engine.explain(&anna, food, now);
    /// assert_eq!(why.interests[0].events.len(), 3); // the three views count
    /// assert_eq!(why.consents[0].purpose, Purpose::Personalization); // under this consent
    /// assert_eq!(why.excluded[0].reason, ExclusionReason::Gift); // the gift does not
    /// println!("{why}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// let (fast, scan) = (engine.scores(&anna, now), engine.scores_by_scan(&anna, now));
    /// assert!((fast.score(food) - scan.score(food)).abs() <= 1e-9 * scan.score(food));
    /// assert_eq!(fast.is_established(food), scan.is_established(food));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn scores_by_scan(&self, profile: &Profile, now: OffsetDateTime) -> Scores {
        decay::score(&self.view(profile, now), 0)
    }

    /// The names of the segments `profile` is a member of at `now`, without
    /// explanations: the cheap question for serving. Same members as
    /// [`segments`](Self::segments).
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
    /// assert!(engine.segment_names(&anna, t0).is_empty());
    /// for day in 0..3 {
    ///     let at = t0 + Duration::days(day);
    ///     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// }
    /// assert_eq!(engine.segment_names(&anna, t0 + Duration::days(3)), ["young-parents"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn segment_names(&self, profile: &Profile, now: OffsetDateTime) -> Vec<&str> {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.segment_names_with(&view, &scores)
    }

    /// The names of the segments whose rule holds over `scores` and whose
    /// gate is open in `view`.
    pub(crate) fn segment_names_with(&self, view: &View<'_>, scores: &Scores) -> Vec<&str> {
        let mut names = Vec::with_capacity(self.segments.len());
        names.extend(
            self.segments
                .iter()
                // The rule first: it is cheap, and most people are in few segments.
                .filter(|seg| segment::holds(view, scores, &seg.rule) && self.gate_open(view, seg))
                .map(|seg| seg.def.name.as_str()),
        );
        names
    }

    /// The segments `profile` is a member of at `now`, each with its
    /// explanation: those whose rule holds and for which the one gate lets
    /// the person be addressed for the segment's purpose on at least one of
    /// its channels (see [`SegmentDef`] and [`decide`](Self::decide)).
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
    /// let members = engine.segments(&anna, now);
    /// assert_eq!(members[0].segment, "young-parents");
    /// // Why: the evidence under `baby`, and the consent that allowed it.
    /// assert_eq!(members[0].explanation.interests[0].path, "baby");
    /// assert_eq!(members[0].explanation.consents[0].purpose, Purpose::Personalization);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// let offer = MessageRequest::new(Channel::Email, Purpose::Marketing).about(Target::Interest(food));
    /// // Marketing was never asked for: denied, with every reason.
    /// let decision = engine.decide(&anna, &offer, now);
    /// assert_eq!(decision.reasons()[0].to_string(), "consent for marketing is never asked");
    ///
    /// anna.consent_mut().grant(Purpose::Marketing, now, None, Evidence::Ui("settings".into()))?;
    /// assert!(engine.decide(&anna, &offer, now).is_allowed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// The transparency report of one profile at `now`.
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
    /// let report = engine.report(&anna, now);
    /// assert_eq!(report.stored_events, 3);
    /// let text = report.to_string(); // for the person
    /// assert!(text.starts_with("What we know about anna (as of 2026-11-04)"));
    /// assert!(text.contains("Stored events: 3"));
    /// println!("{text}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
