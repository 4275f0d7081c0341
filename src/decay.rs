//! The decay policy and the hot scoring loop.
//!
//! An event of weight `w` recorded at `at` contributes
//! `w * 2^(-(now - at) / half_life)` to its interest (and every ancestor of
//! it) while `0 <= now - at <= max_age`, and nothing afterwards.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::consent::{ConsentGate, ConsentState, Purpose, Purposes};
use crate::error::{InvalidWeight, PolicyError};
use crate::event::{Context, Event, Signal, Source, Weight};
use crate::explain::ExclusionReason;
use crate::level::Level;
use crate::profile::{PreferenceKind, Profile};
use crate::suppression::Scope;
use crate::taxonomy::{InterestId, Taxonomy};

/// A positive half-life.
///
/// # Example
/// ```
/// use tactful::HalfLife;
/// use time::Duration;
/// assert!(HalfLife::new(Duration::days(14)).is_ok());
/// assert!(HalfLife::new(Duration::ZERO).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "SerdeDuration", into = "SerdeDuration")]
pub struct HalfLife(Duration);

impl HalfLife {
    /// A half-life; rejects zero and negative durations.
    ///
    /// # Errors
    /// [`PolicyError::HalfLife`] for a zero or negative duration.
    pub fn new(d: Duration) -> Result<Self, PolicyError> {
        if d.is_positive() {
            Ok(Self(d))
        } else {
            Err(PolicyError::HalfLife(d))
        }
    }

    /// The duration.
    #[must_use]
    pub fn get(self) -> Duration {
        self.0
    }

    pub(crate) fn seconds(self) -> f64 {
        self.0.as_seconds_f64()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SerdeDuration(#[serde(with = "crate::serde_util::duration")] Duration);

impl TryFrom<SerdeDuration> for HalfLife {
    type Error = PolicyError;
    fn try_from(d: SerdeDuration) -> Result<Self, Self::Error> {
        Self::new(d.0)
    }
}
impl From<HalfLife> for SerdeDuration {
    fn from(h: HalfLife) -> Self {
        SerdeDuration(h.0)
    }
}

/// How much each signal kind counts. Dismissals always count zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalWeights {
    /// A view (default 1).
    pub view: Weight,
    /// A search (default 1.5).
    pub search: Weight,
    /// A click (default 1.5).
    pub click: Weight,
    /// Add to cart (default 3).
    pub add_to_cart: Weight,
    /// A purchase (default 5).
    pub purchase: Weight,
}

impl Default for SignalWeights {
    fn default() -> Self {
        Self {
            view: Weight::ONE,
            search: w(1.5),
            click: w(1.5),
            add_to_cart: w(3.0),
            purchase: w(5.0),
        }
    }
}

fn w(x: f64) -> Weight {
    Weight::new(x).unwrap_or(Weight::ONE)
}

impl SignalWeights {
    /// The weight of a signal kind.
    #[must_use]
    pub fn get(&self, signal: Signal) -> f64 {
        match signal {
            Signal::View => self.view.get(),
            Signal::Search => self.search.get(),
            Signal::Click => self.click.get(),
            Signal::AddToCart => self.add_to_cart.get(),
            Signal::Purchase => self.purchase.get(),
            Signal::Dismissal => 0.0,
        }
    }
}

/// Freshness and evidence rules. Build with [`DecayPolicy::builder`]; every
/// policy that exists is valid.
///
/// | setting | default |
/// |---|---|
/// | `half_life` | 14 days |
/// | `max_age` | 56 days |
/// | `partner_max_age` | 21 days |
/// | `min_events` / `min_days` | 3 events on 2 distinct (UTC) days |
/// | `dismissal_cooldown` | 90 days |
/// | `allow_sensitive_observation` | false |
///
/// # Example
/// ```
/// use tactful::DecayPolicy;
/// use time::Duration;
///
/// let policy = DecayPolicy::builder()
///     .half_life(Duration::days(7))
///     .max_age(Duration::days(28))
///     .partner_max_age(Duration::days(14))
///     .min_events(3)
///     .build()?;
/// assert_eq!(policy.half_life().get(), Duration::days(7));
///
/// assert!(DecayPolicy::builder().half_life(Duration::ZERO).build().is_err());
/// # Ok::<(), tactful::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DecayPolicyBuilder", into = "DecayPolicyBuilder")]
pub struct DecayPolicy {
    half_life: HalfLife,
    max_age: Duration,
    partner_max_age: Duration,
    min_events: u32,
    min_days: u32,
    signal_weights: SignalWeights,
    dismissal_cooldown: Duration,
    allow_sensitive_observation: bool,
}

impl Default for DecayPolicy {
    fn default() -> Self {
        Self {
            half_life: HalfLife(Duration::days(14)),
            max_age: Duration::days(56),
            partner_max_age: Duration::days(21),
            min_events: 3,
            min_days: 2,
            signal_weights: SignalWeights::default(),
            dismissal_cooldown: Duration::days(90),
            allow_sensitive_observation: false,
        }
    }
}

impl DecayPolicy {
    /// A builder starting from the defaults.
    #[must_use]
    pub fn builder() -> DecayPolicyBuilder {
        DecayPolicy::default().into()
    }

    /// Reads a policy from JSON, e.g. `{"half_life": "14d", "max_age": "56d"}`;
    /// missing fields take their defaults.
    ///
    /// # Errors
    /// [`crate::config::ConfigError::Syntax`] naming the bad field, or the
    /// [`PolicyError`] of an invalid setting as its message.
    pub fn from_json(json: &str) -> Result<Self, crate::config::ConfigError> {
        crate::config::parse_json(json)
    }

    /// The default half-life.
    #[must_use]
    pub fn half_life(&self) -> HalfLife {
        self.half_life
    }
    /// The max age of first-party and declared data.
    #[must_use]
    pub fn max_age(&self) -> Duration {
        self.max_age
    }
    /// The max age of partner data.
    #[must_use]
    pub fn partner_max_age(&self) -> Duration {
        self.partner_max_age
    }
    /// Minimum usable events to establish an interest.
    #[must_use]
    pub fn min_events(&self) -> u32 {
        self.min_events
    }
    /// Minimum distinct UTC days those events fall on.
    #[must_use]
    pub fn min_days(&self) -> u32 {
        self.min_days
    }
    /// Signal weights.
    #[must_use]
    pub fn signal_weights(&self) -> &SignalWeights {
        &self.signal_weights
    }
    /// How long a dismissal blocks its subtree.
    #[must_use]
    pub fn dismissal_cooldown(&self) -> Duration {
        self.dismissal_cooldown
    }
    /// Whether special-category interests may be established from observed
    /// events (the profile must also grant [`Purpose::SensitiveInterests`]).
    #[must_use]
    pub fn allow_sensitive_observation(&self) -> bool {
        self.allow_sensitive_observation
    }

    /// Half-life for an interest (taxonomy override or default).
    #[must_use]
    pub fn half_life_for(&self, taxonomy: &Taxonomy, interest: InterestId) -> HalfLife {
        taxonomy.half_life(interest).unwrap_or(self.half_life)
    }

    /// The max age of an event of `interest` from `source`: the interest's
    /// override or the policy's, and for partner data the shorter of that
    /// and `partner_max_age`.
    #[must_use]
    pub fn max_age_for(
        &self,
        taxonomy: &Taxonomy,
        interest: InterestId,
        source: Source,
    ) -> Duration {
        let general = taxonomy.max_age(interest).unwrap_or(self.max_age);
        match source {
            Source::Partner => general.min(self.partner_max_age),
            Source::FirstParty | Source::Declared => general,
        }
    }

    /// The weight of an event at age zero: signal weight times own weight.
    #[must_use]
    pub fn weight_of(&self, event: &Event) -> f64 {
        self.signal_weights.get(event.signal()) * event.weight().get()
    }

    /// An event's contribution at `now`: `weight * 2^(-age / half_life)` if
    /// `0 <= age <= max_age`, else 0.
    #[must_use]
    pub fn contribution(&self, taxonomy: &Taxonomy, event: &Event, now: OffsetDateTime) -> f64 {
        let age = now - event.at();
        if age.is_negative() || age > self.max_age_for(taxonomy, event.interest(), event.source()) {
            return 0.0;
        }
        decayed(
            self.weight_of(event),
            age,
            self.half_life_for(taxonomy, event.interest()),
        )
    }
}

pub(crate) fn decayed(weight: f64, age: Duration, half_life: HalfLife) -> f64 {
    weight * (-(age.as_seconds_f64() / half_life.seconds())).exp2()
}

/// Builder for [`DecayPolicy`]; also its serialized form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecayPolicyBuilder {
    #[serde(with = "crate::serde_util::duration")]
    half_life: Duration,
    #[serde(with = "crate::serde_util::duration")]
    max_age: Duration,
    #[serde(with = "crate::serde_util::duration")]
    partner_max_age: Duration,
    min_events: u32,
    min_days: u32,
    signal_weights: SignalWeights,
    #[serde(with = "crate::serde_util::duration")]
    dismissal_cooldown: Duration,
    allow_sensitive_observation: bool,
}

impl Default for DecayPolicyBuilder {
    fn default() -> Self {
        DecayPolicy::default().into()
    }
}

impl From<DecayPolicy> for DecayPolicyBuilder {
    fn from(p: DecayPolicy) -> Self {
        Self {
            half_life: p.half_life.0,
            max_age: p.max_age,
            partner_max_age: p.partner_max_age,
            min_events: p.min_events,
            min_days: p.min_days,
            signal_weights: p.signal_weights,
            dismissal_cooldown: p.dismissal_cooldown,
            allow_sensitive_observation: p.allow_sensitive_observation,
        }
    }
}

impl TryFrom<DecayPolicyBuilder> for DecayPolicy {
    type Error = PolicyError;
    fn try_from(b: DecayPolicyBuilder) -> Result<Self, Self::Error> {
        b.build()
    }
}

impl DecayPolicyBuilder {
    /// Default half-life (must be positive).
    #[must_use]
    pub fn half_life(mut self, d: Duration) -> Self {
        self.half_life = d;
        self
    }
    /// Max age of first-party and declared data (must not be negative).
    #[must_use]
    pub fn max_age(mut self, d: Duration) -> Self {
        self.max_age = d;
        self
    }
    /// Max age of partner data (must not exceed `max_age`).
    #[must_use]
    pub fn partner_max_age(mut self, d: Duration) -> Self {
        self.partner_max_age = d;
        self
    }
    /// Minimum usable events to establish an interest (at least 1).
    #[must_use]
    pub fn min_events(mut self, n: u32) -> Self {
        self.min_events = n;
        self
    }
    /// Minimum distinct UTC days (between 1 and `min_events`).
    #[must_use]
    pub fn min_days(mut self, n: u32) -> Self {
        self.min_days = n;
        self
    }
    /// Weight of one signal kind. Setting [`Signal::Dismissal`] is ignored:
    /// a dismissal is never evidence.
    ///
    /// # Errors
    /// [`InvalidWeight`] for NaN, infinite or negative weights.
    pub fn signal_weight(mut self, signal: Signal, weight: f64) -> Result<Self, InvalidWeight> {
        let w = Weight::new(weight)?;
        let sw = &mut self.signal_weights;
        match signal {
            Signal::View => sw.view = w,
            Signal::Search => sw.search = w,
            Signal::Click => sw.click = w,
            Signal::AddToCart => sw.add_to_cart = w,
            Signal::Purchase => sw.purchase = w,
            Signal::Dismissal => {}
        }
        Ok(self)
    }
    /// How long a dismissal blocks its subtree (must not be negative).
    #[must_use]
    pub fn dismissal_cooldown(mut self, d: Duration) -> Self {
        self.dismissal_cooldown = d;
        self
    }
    /// Allow establishing special-category interests from observed events
    /// for profiles that granted [`Purpose::SensitiveInterests`].
    #[must_use]
    pub fn allow_sensitive_observation(mut self, allow: bool) -> Self {
        self.allow_sensitive_observation = allow;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// A [`PolicyError`] naming the first invalid setting.
    pub fn build(self) -> Result<DecayPolicy, PolicyError> {
        let half_life = HalfLife::new(self.half_life)?;
        for (which, value) in [
            ("max_age", self.max_age),
            ("partner_max_age", self.partner_max_age),
            ("dismissal_cooldown", self.dismissal_cooldown),
        ] {
            if value.is_negative() {
                return Err(PolicyError::NegativeAge { which, value });
            }
        }
        if self.partner_max_age > self.max_age {
            return Err(PolicyError::PartnerLongerThanMaxAge {
                partner: self.partner_max_age,
                general: self.max_age,
            });
        }
        if self.min_events == 0 {
            return Err(PolicyError::MinEvents);
        }
        if self.min_days == 0 || self.min_days > self.min_events {
            return Err(PolicyError::MinDays {
                min_days: self.min_days,
                min_events: self.min_events,
            });
        }
        Ok(DecayPolicy {
            half_life,
            max_age: self.max_age,
            partner_max_age: self.partner_max_age,
            min_events: self.min_events,
            min_days: self.min_days,
            signal_weights: self.signal_weights,
            dismissal_cooldown: self.dismissal_cooldown,
            allow_sensitive_observation: self.allow_sensitive_observation,
        })
    }
}

/// The purposes an event needs: personalization always, plus partner data,
/// location, cross-site and sensitive interests where they apply.
#[must_use]
pub fn purposes_for(taxonomy: &Taxonomy, event: &Event) -> Purposes {
    let mut p = Purposes::EMPTY.with(Purpose::Personalization);
    if event.source() == Source::Partner {
        p = p.with(Purpose::PartnerData);
    }
    match event.context() {
        Context::Location => p = p.with(Purpose::Location),
        Context::CrossSite => p = p.with(Purpose::CrossSite),
        Context::OnSite => {}
    }
    if taxonomy.sensitivity(event.interest()).is_special() {
        p = p.with(Purpose::SensitiveInterests);
    }
    p
}

pub(crate) fn utc_day(t: OffsetDateTime) -> i64 {
    t.unix_timestamp().div_euclid(86_400)
}

/// Everything about a profile at one `now` that decides whether a stored
/// event is usable, computed once per read.
#[derive(Debug)]
pub(crate) struct View<'a> {
    pub(crate) taxonomy: &'a Taxonomy,
    pub(crate) policy: &'a DecayPolicy,
    pub(crate) profile: &'a Profile,
    pub(crate) now: OffsetDateTime,
    pub(crate) gate: ConsentGate,
    /// Subtree ranges blocked by active suppressions and dislikes.
    blocks: Vec<(u32, u32, ExclusionReason)>,
    /// Active dismissals: subtree range and instant.
    dismissals: Vec<(u32, u32, OffsetDateTime)>,
    suppressed_purposes: Vec<(Purpose, ExclusionReason)>,
}

impl<'a> View<'a> {
    pub(crate) fn new(
        taxonomy: &'a Taxonomy,
        policy: &'a DecayPolicy,
        profile: &'a Profile,
        now: OffsetDateTime,
    ) -> Self {
        let mut blocks = Vec::new();
        let mut suppressed_purposes = Vec::new();
        for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
            let why = ExclusionReason::Suppressed {
                scope: s.scope(),
                reason: s.reason(),
            };
            match s.scope() {
                Scope::All => blocks.push((0, u32::MAX, why)),
                Scope::Interest(root) => blocks.push((root.0, taxonomy.subtree_end(root), why)),
                Scope::Purpose(p) => suppressed_purposes.push((p, why)),
                Scope::Channel(_) => {}
            }
        }
        for p in profile.preferences() {
            if p.kind == PreferenceKind::Dislike && p.at <= now {
                blocks.push((
                    p.interest.0,
                    taxonomy.subtree_end(p.interest),
                    ExclusionReason::Disliked,
                ));
            }
        }
        let cooldown = policy.dismissal_cooldown;
        let dismissals = profile
            .events()
            .iter()
            .filter(|e| e.is_dismissal() && e.at() <= now && now < e.at().saturating_add(cooldown))
            .map(|e| (e.interest().0, taxonomy.subtree_end(e.interest()), e.at()))
            .collect();
        Self {
            taxonomy,
            policy,
            profile,
            now,
            gate: ConsentGate::new(profile.consent(), now),
            blocks,
            dismissals,
            suppressed_purposes,
        }
    }

    /// Why `interest` as a whole is blocked now (suppression, dislike,
    /// active dismissal), if it is.
    pub(crate) fn interest_block(&self, interest: InterestId) -> Option<ExclusionReason> {
        let i = interest.0;
        if let Some(b) = self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            return Some(b.2.clone());
        }
        self.dismissals
            .iter()
            .find(|d| d.0 <= i && i < d.1)
            .map(|d| ExclusionReason::Dismissed { at: d.2 })
    }

    /// Whether `purpose` is blocked now by a purpose suppression.
    pub(crate) fn purpose_block(&self, purpose: Purpose) -> Option<ExclusionReason> {
        self.suppressed_purposes
            .iter()
            .find(|p| p.0 == purpose)
            .map(|p| p.1.clone())
    }

    /// `Ok(contribution)` if the event is usable now, else why not.
    pub(crate) fn classify(&self, e: &Event) -> Result<f64, ExclusionReason> {
        let now = self.now;
        let age = now - e.at();
        if age.is_negative() {
            return Err(ExclusionReason::NotYet);
        }
        if e.is_dismissal() {
            return Err(ExclusionReason::DismissalIsNotEvidence);
        }
        if e.is_gift() {
            return Err(ExclusionReason::Gift);
        }
        let max_age = self
            .policy
            .max_age_for(self.taxonomy, e.interest(), e.source());
        if age > max_age {
            return Err(ExclusionReason::TooOld { max_age });
        }
        let i = e.interest().0;
        if let Some(b) = self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            return Err(b.2.clone());
        }
        if let Some(d) = self
            .dismissals
            .iter()
            .find(|d| d.0 <= i && i < d.1 && e.at() <= d.2)
        {
            return Err(ExclusionReason::Dismissed { at: d.2 });
        }
        let level = self.profile.level();
        if !level.admits(e.source(), e.context()) {
            return Err(ExclusionReason::LevelTooLow {
                required: Level::required_for(e.source(), e.context()),
                level,
            });
        }
        let purposes = purposes_for(self.taxonomy, e);
        if purposes.contains(Purpose::SensitiveInterests)
            && !self.policy.allow_sensitive_observation
        {
            return Err(ExclusionReason::SensitiveNotObservable);
        }
        for p in purposes.iter() {
            if let Some(why) = self.purpose_block(p) {
                return Err(why);
            }
        }
        if let Some(p) = self.gate.first_blocking(purposes, e.at()) {
            let ledger = self.profile.consent();
            let state_now = ledger.state(p, now);
            let state = if state_now.is_granted() {
                ledger.state(p, e.at())
            } else {
                state_now
            };
            // Granted then and now, but withdrawn in between: retroactive.
            let state = if state.is_granted() {
                ConsentState::Withdrawn
            } else {
                state
            };
            return Err(ExclusionReason::NoConsent { purpose: p, state });
        }
        Ok(decayed(
            self.policy.weight_of(e),
            age,
            self.policy.half_life_for(self.taxonomy, e.interest()),
        ))
    }

    /// Whether declared likes may be used now: level at least `Declared`,
    /// personalization granted and not suppressed.
    pub(crate) fn likes_usable(&self) -> bool {
        self.profile.level() >= Level::Declared
            && self
                .profile
                .consent()
                .is_granted(Purpose::Personalization, self.now)
            && self.purpose_block(Purpose::Personalization).is_none()
    }

    /// The declared like that establishes `interest`, if any.
    pub(crate) fn like_for(&self, interest: InterestId) -> Option<OffsetDateTime> {
        if !self.likes_usable() || self.interest_block(interest).is_some() {
            return None;
        }
        self.profile
            .preferences()
            .iter()
            .filter(|p| p.kind == PreferenceKind::Like && p.at <= self.now)
            // A like covers its subtree, and liking `baby/food` is also an
            // interest in `baby` (as observed `baby/food` events count there).
            .find(|p| {
                self.taxonomy.is_within(interest, p.interest)
                    || self.taxonomy.is_within(p.interest, interest)
            })
            .map(|p| p.at)
    }
}

/// How an interest came to be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Establishment {
    /// From enough usable observed events on enough distinct days.
    Observed,
    /// The person declared a like (on this interest or an ancestor).
    DeclaredLike,
}

/// The score and evidence of one interest (over its whole subtree) at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct InterestScore {
    /// Sum of decayed contributions of usable events in the subtree.
    pub score: f64,
    /// Usable events in the subtree.
    pub events: u32,
    /// Distinct UTC days of those events.
    pub days: u32,
    /// Whether and how the interest is established.
    pub established: Option<Establishment>,
}

/// Scores of every interest of a taxonomy for one profile at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    #[serde(with = "time::serde::rfc3339")]
    now: OffsetDateTime,
    scores: Vec<InterestScore>,
}

impl Scores {
    /// The instant the scores were computed for.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The score record of an interest.
    #[must_use]
    pub fn get(&self, interest: InterestId) -> Option<&InterestScore> {
        self.scores.get(interest.index())
    }

    /// The score of an interest (0 for unknown interests).
    #[must_use]
    pub fn score(&self, interest: InterestId) -> f64 {
        self.get(interest).map_or(0.0, |s| s.score)
    }

    /// Whether an interest is established.
    #[must_use]
    pub fn is_established(&self, interest: InterestId) -> bool {
        self.get(interest).is_some_and(|s| s.established.is_some())
    }

    /// All interests with a non-zero score or established, by id.
    pub fn iter(&self) -> impl Iterator<Item = (InterestId, &InterestScore)> + '_ {
        self.scores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.events > 0 || s.established.is_some())
            .map(|(i, s)| (InterestId(i as u32), s))
    }
}

/// The hot loop: one pass over the stored events (sorted by instant), each
/// usable contribution added to its interest and every ancestor.
pub(crate) fn score(view: &View<'_>) -> Scores {
    let tax = view.taxonomy;
    let n = tax.len();
    let mut scores = vec![InterestScore::default(); n];
    let mut last_day = vec![i64::MIN; n];
    for e in view.profile.events() {
        let Ok(c) = view.classify(e) else { continue };
        let day = utc_day(e.at());
        let mut node = Some(e.interest());
        while let Some(id) = node {
            if let (Some(s), Some(ld)) = (scores.get_mut(id.index()), last_day.get_mut(id.index()))
            {
                s.score += c;
                s.events += 1;
                // Events are sorted by instant, so days arrive in order.
                if *ld != day {
                    *ld = day;
                    s.days += 1;
                }
            }
            node = tax.parent(id);
        }
    }
    let policy = view.policy;
    let sensitive_ok = policy.allow_sensitive_observation
        && view
            .profile
            .consent()
            .is_granted(Purpose::SensitiveInterests, view.now);
    for (i, s) in scores.iter_mut().enumerate() {
        let id = InterestId(i as u32);
        let observed = s.events >= policy.min_events
            && s.days >= policy.min_days
            && (sensitive_ok || !tax.sensitivity(id).is_special())
            && view.interest_block(id).is_none();
        s.established = if observed {
            Some(Establishment::Observed)
        } else if view.like_for(id).is_some() {
            Some(Establishment::DeclaredLike)
        } else {
            None
        };
    }
    Scores {
        now: view.now,
        scores,
    }
}
