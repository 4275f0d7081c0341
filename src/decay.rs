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
use crate::store::{
    context_of, diff_f64, from_nanos, oldest_usable, source_of, to_nanos, Prepared, Series, Store,
    Sum,
};
use crate::suppression::{Scope, Suppression};
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
    /// [`InvalidWeight`] for NaN, infinite, negative or too large (above 1e9) weights.
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
    purposes_of(taxonomy, event.interest(), event.source(), event.context())
}

pub(crate) fn purposes_of(
    taxonomy: &Taxonomy,
    interest: InterestId,
    source: Source,
    context: Context,
) -> Purposes {
    let mut p = Purposes::EMPTY.with(Purpose::Personalization);
    if source == Source::Partner {
        p = p.with(Purpose::PartnerData);
    }
    match context {
        Context::Location => p = p.with(Purpose::Location),
        Context::CrossSite => p = p.with(Purpose::CrossSite),
        Context::OnSite => {}
    }
    if taxonomy.sensitivity(interest).is_special() {
        p = p.with(Purpose::SensitiveInterests);
    }
    p
}

pub(crate) fn utc_day(t: OffsetDateTime) -> i64 {
    t.unix_timestamp().div_euclid(86_400)
}

/// What blocks a subtree or a purpose at a view's `now`; its
/// [`ExclusionReason`] (with the scope in words) is built only when asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Block<'a> {
    /// An active suppression, with the life event through which it reaches
    /// the subtree, if any.
    Suppressed(&'a Suppression, Option<&'a str>),
    /// A declared dislike.
    Disliked,
}

/// Why an event is not usable: a block held by the view, or a reason built
/// for the event.
enum Why<'v> {
    Block(Block<'v>),
    Other(ExclusionReason),
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
    pub(crate) blocks: Vec<(u32, u32, Block<'a>)>,
    /// Active dismissals: subtree range and instant.
    pub(crate) dismissals: Vec<(u32, u32, OffsetDateTime)>,
    suppressed_purposes: Vec<(Purpose, &'a Suppression)>,
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
            match s.scope() {
                Scope::All => blocks.push((0, u32::MAX, Block::Suppressed(s, None))),
                Scope::Interest(_) => {
                    // Its own subtree and those of the life events it extends to.
                    for (root, event) in s.covered_roots(taxonomy) {
                        let end = taxonomy.subtree_end(root);
                        blocks.push((root.0, end, Block::Suppressed(s, event)));
                    }
                }
                Scope::Purpose(p) => suppressed_purposes.push((p, s)),
                // Channel scopes block messages, not data.
                _ => {}
            }
        }
        for p in profile.preferences() {
            if p.kind == PreferenceKind::Dislike && p.at <= now {
                blocks.push((
                    p.interest.0,
                    taxonomy.subtree_end(p.interest),
                    Block::Disliked,
                ));
            }
        }
        let cooldown = policy.dismissal_cooldown;
        let dismissals = profile
            .store()
            .inert
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

    /// Whether `interest` as a whole is blocked now (suppression, dislike,
    /// active dismissal): [`interest_block`](Self::interest_block) without
    /// building the reason.
    pub(crate) fn is_blocked(&self, interest: InterestId) -> bool {
        let i = interest.0;
        self.blocks.iter().any(|b| b.0 <= i && i < b.1)
            || self.dismissals.iter().any(|d| d.0 <= i && i < d.1)
    }

    /// Whether `purpose` is blocked now by a purpose suppression.
    pub(crate) fn is_purpose_blocked(&self, purpose: Purpose) -> bool {
        self.suppressed_purposes.iter().any(|p| p.0 == purpose)
    }

    /// The person's own block of `interest` now: `Some(None)` for a
    /// declared dislike, `Some(Some(at))` for a running dismissal, `None`
    /// if nothing of theirs blocks it or a suppression does (a suppression
    /// is reported as such, see [`interest_block`](Self::interest_block)).
    pub(crate) fn own_block(&self, interest: InterestId) -> Option<Option<OffsetDateTime>> {
        let i = interest.0;
        match self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            Some((_, _, Block::Disliked)) => Some(None),
            Some((_, _, Block::Suppressed(..))) => None,
            None => self
                .dismissals
                .iter()
                .find(|d| d.0 <= i && i < d.1)
                .map(|d| Some(d.2)),
        }
    }

    /// The reason of a block, with the suppression's scope in words.
    fn reason(&self, block: Block<'_>) -> ExclusionReason {
        match block {
            Block::Suppressed(s, life_event) => ExclusionReason::Suppressed {
                scope: s.scope(),
                about: s.scope().describe(self.taxonomy),
                reason: s.reason(),
                life_event: life_event.map(str::to_owned),
            },
            Block::Disliked => ExclusionReason::Disliked,
        }
    }

    /// Why `interest` as a whole is blocked now (suppression, dislike,
    /// active dismissal), if it is.
    pub(crate) fn interest_block(&self, interest: InterestId) -> Option<ExclusionReason> {
        let i = interest.0;
        if let Some(b) = self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            return Some(self.reason(b.2));
        }
        self.dismissals
            .iter()
            .find(|d| d.0 <= i && i < d.1)
            .map(|d| ExclusionReason::Dismissed { at: d.2 })
    }

    /// `Ok(contribution)` if the event is usable now, else why not.
    pub(crate) fn classify(&self, e: &Event) -> Result<f64, ExclusionReason> {
        self.check(e).map_err(|why| match why {
            Why::Block(b) => self.reason(b),
            Why::Other(r) => r,
        })
    }

    /// [`classify`](Self::classify) without building the reason of a block
    /// (the scoring pass asks for every event and needs no reason).
    fn check(&self, e: &Event) -> Result<f64, Why<'_>> {
        let now = self.now;
        let age = now - e.at();
        if age.is_negative() {
            return Err(Why::Other(ExclusionReason::NotYet));
        }
        if e.is_dismissal() {
            return Err(Why::Other(ExclusionReason::DismissalIsNotEvidence));
        }
        if e.is_gift() {
            return Err(Why::Other(ExclusionReason::Gift));
        }
        let max_age = self
            .policy
            .max_age_for(self.taxonomy, e.interest(), e.source());
        if age > max_age {
            return Err(Why::Other(ExclusionReason::TooOld { max_age }));
        }
        let i = e.interest().0;
        if let Some(b) = self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            return Err(Why::Block(b.2));
        }
        if let Some(d) = self
            .dismissals
            .iter()
            .find(|d| d.0 <= i && i < d.1 && e.at() <= d.2)
        {
            return Err(Why::Other(ExclusionReason::Dismissed { at: d.2 }));
        }
        let level = self.profile.level();
        if !level.admits(e.source(), e.context()) {
            return Err(Why::Other(ExclusionReason::LevelTooLow {
                required: Level::required_for(e.source(), e.context()),
                level,
            }));
        }
        let purposes = purposes_for(self.taxonomy, e);
        if purposes.contains(Purpose::SensitiveInterests)
            && !self.policy.allow_sensitive_observation
        {
            return Err(Why::Other(ExclusionReason::SensitiveNotObservable));
        }
        for p in purposes.iter() {
            if let Some(&(_, s)) = self.suppressed_purposes.iter().find(|b| b.0 == p) {
                return Err(Why::Block(Block::Suppressed(s, None)));
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
            return Err(Why::Other(ExclusionReason::NoConsent { purpose: p, state }));
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
            && !self.is_purpose_blocked(Purpose::Personalization)
    }

    /// The declared like that establishes `interest`, if any.
    pub(crate) fn like_for(&self, interest: InterestId) -> Option<OffsetDateTime> {
        if !self.likes_usable() || self.is_blocked(interest) {
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
                    || (self.taxonomy.is_within(p.interest, interest)
                        && !self.is_blocked(p.interest))
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
    #[serde(with = "crate::serde_util::instant")]
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

/// Scores for `view`: the incremental path when the profile's aggregates
/// were prepared by an engine with `fingerprint` for an instant at or before
/// `now`, else the plain pass over the events. Both give the same result.
pub(crate) fn score(view: &View<'_>, fingerprint: u64) -> Scores {
    let prepared = view.profile.store().prepared;
    let fast = match (prepared, to_nanos(view.now)) {
        (Some(p), Some(now)) if p.fingerprint == fingerprint && now >= p.maintained_at => {
            Some((p, now))
        }
        _ => None,
    };
    let mut scores = match fast {
        Some((p, now)) => score_incremental(view, p, now),
        None => score_plain(view),
    };
    establish(view, &mut scores);
    Scores {
        now: view.now,
        scores,
    }
}

/// The reference: one pass over the stored events (sorted by instant), each
/// usable contribution added to its interest and every ancestor.
///
/// Nothing is allocated per event and ancestor: the (interest, day) pairs
/// are kept once per event, and an interest's distinct days are those of
/// the pairs in its subtree's id range.
pub(crate) fn score_plain(view: &View<'_>) -> Vec<InterestScore> {
    let tax = view.taxonomy;
    let mut scores = vec![InterestScore::default(); tax.len()];
    // (interest, day) of every usable event, for the distinct-day counts.
    let mut days: Vec<(u32, i64)> = Vec::new();
    // Gifts and dismissals (kept aside) are never evidence: only the series.
    for s in &view.profile.store().series {
        for e in (0..s.len()).filter_map(|i| s.event(i)) {
            let Ok(c) = view.check(&e) else { continue };
            if !tax.contains(e.interest()) {
                continue;
            }
            days.push((e.interest().0, utc_day(e.at())));
            let mut node = Some(e.interest());
            while let Some(id) = node {
                if let Some(sc) = scores.get_mut(id.index()) {
                    sc.score += c;
                    sc.events += 1;
                }
                node = tax.parent(id);
            }
        }
    }
    days.sort_unstable();
    days.dedup();
    // Depth-first ids: a subtree's pairs are one slice of the sorted pairs.
    let cap = view.policy.min_days as usize;
    let mut buf: Vec<i64> = Vec::new();
    for (i, sc) in scores.iter_mut().enumerate() {
        if sc.events == 0 {
            continue;
        }
        let id = InterestId(i as u32);
        let lo = days.partition_point(|d| d.0 < id.0);
        let hi = days.partition_point(|d| d.0 < tax.subtree_end(id));
        buf.clear();
        buf.extend(days.get(lo..hi).unwrap_or(&[]).iter().map(|d| d.1));
        buf.sort_unstable();
        buf.dedup();
        sc.days = buf.len().min(cap) as u32;
    }
    scores
}

fn establish(view: &View<'_>, scores: &mut [InterestScore]) {
    let policy = view.policy;
    let tax = view.taxonomy;
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
            && !view.is_blocked(id);
        s.established = if observed {
            Some(Establishment::Observed)
        } else if view.like_for(id).is_some() {
            Some(Establishment::DeclaredLike)
        } else {
            None
        };
    }
}

/// When data recorded at an instant may be used for a purpose at `now`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Window {
    /// Not at all (not granted now, or suppressed).
    Never,
    /// Data recorded at or after this instant (Unix ns), none before.
    Since(i64),
    /// A more involved history (a lapsed grant renewed without withdrawal):
    /// ask per event.
    PerEvent,
}

fn windows(view: &View<'_>) -> [Window; Purpose::ALL.len()] {
    let now = view.now;
    Purpose::ALL.map(|p| {
        if !p.needs_consent() {
            return Window::Since(i64::MIN);
        }
        if view.is_purpose_blocked(p) {
            return Window::Never;
        }
        // The gate holds the timeline of every purpose granted now.
        let Some((withdrawn, timeline)) = view.gate.parts(p) else {
            return Window::Never;
        };
        let upto = timeline.partition_point(|x| x.0 <= now);
        let points = timeline.get(..upto).unwrap_or(&[]);
        // Start of the granted run that reaches `now`, and never before the
        // last withdrawal (a re-grant at the same instant hides it in the timeline).
        let run = points
            .iter()
            .rposition(|x| !x.1.is_granted())
            .map_or(0, |i| i + 1);
        let Some(run_start) = points.get(run).map(|x| x.0) else {
            return Window::Never;
        };
        let start = withdrawn.map_or(run_start, |w| w.max(run_start));
        // Anything granted earlier but after the last withdrawal still counts.
        let earlier_grant = points.get(..run).is_some_and(|xs| {
            xs.iter()
                .any(|x| x.1.is_granted() && withdrawn.is_none_or(|w| x.0 >= w))
        });
        match (earlier_grant, to_nanos(start)) {
            (false, Some(s)) => Window::Since(s),
            (false, None) if start < OffsetDateTime::UNIX_EPOCH => Window::Since(i64::MIN),
            _ => Window::PerEvent,
        }
    })
}

/// Latest active dismissal covering `interest`, Unix ns.
fn dismissed_until(view: &View<'_>, interest: InterestId) -> Option<i64> {
    let i = interest.0;
    view.dismissals
        .iter()
        .filter(|d| d.0 <= i && i < d.1)
        .filter_map(|d| to_nanos(d.2))
        .max()
}

fn h_nanos(view: &View<'_>, interest: InterestId) -> f64 {
    view.policy
        .half_life_for(view.taxonomy, interest)
        .get()
        .whole_nanoseconds() as f64
}

fn nanos_f64(d: Duration) -> f64 {
    d.whole_nanoseconds() as f64
}

/// Largest forward-decay exponent (in half-lives) a sum may carry before
/// the landmark moves: 2^600 is far from overflow and leaves decay factors
/// far from underflow.
pub(crate) const MAX_EXPONENT: f64 = 600.0;

fn score_incremental(view: &View<'_>, prepared: Prepared, now: i64) -> Vec<InterestScore> {
    let tax = view.taxonomy;
    let policy = view.policy;
    let store = view.profile.store();
    let level = view.profile.level();
    let wins = windows(view);
    let cap = policy.min_days as usize;
    let mut scores = vec![InterestScore::default(); tax.len()];
    // Most recent distinct usable days per series (up to `cap`), flat.
    let mut days: Vec<(usize, i64)> = Vec::new();
    for (si, s) in store.series.iter().enumerate() {
        let interest = s.interest;
        if view
            .blocks
            .iter()
            .any(|b| b.0 <= interest.0 && interest.0 < b.1)
        {
            continue;
        }
        let (source, context) = (source_of(s.class), context_of(s.class));
        if !level.admits(source, context) {
            continue;
        }
        let purposes = purposes_of(tax, interest, source, context);
        if purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation {
            continue;
        }
        let mut since = i64::MIN;
        let mut per_event = false;
        let mut never = false;
        for p in purposes.iter() {
            match wins.get(p.index()).copied().unwrap_or(Window::Never) {
                Window::Never => never = true,
                Window::Since(a) => since = since.max(a),
                Window::PerEvent => per_event = true,
            }
        }
        if never {
            continue;
        }
        let max_age = policy.max_age_for(tax, interest, source);
        let oldest = oldest_usable(now, max_age);
        let end = s.first_after(now);
        let k = s.first_at_or_after(s.head, oldest);
        let mut start = k.max(s.first_at_or_after(k, since));
        if let Some(d) = dismissed_until(view, interest) {
            start = start.max(s.first_after(d));
        }
        if start >= end {
            continue;
        }
        let h = h_nanos(view, interest);
        let decay_exp = diff_f64(now, prepared.landmark) / h;
        let sw = &policy.signal_weights;
        let mut value = 0.0;
        let mut count = 0u32;
        if start == k && end == s.len() && !per_event && decay_exp <= MAX_EXPONENT {
            let mut sum = s.sum;
            for i in s.head..k {
                if let (Some(&at), Some(&w), Some(&sg)) =
                    (s.at.get(i), s.weight.get(i), s.signal.get(i))
                {
                    sum.add(-forward(sw.get(sg) * w, at, prepared.landmark, h));
                }
            }
            value = sum.get() * (-decay_exp).exp2();
            count = (end - start) as u32;
        } else {
            for i in start..end {
                let (Some(&at), Some(&w), Some(&sg)) =
                    (s.at.get(i), s.weight.get(i), s.signal.get(i))
                else {
                    continue;
                };
                if per_event {
                    let t = from_nanos(at);
                    if purposes.iter().any(|p| !view.gate.allows(p, t)) {
                        continue;
                    }
                    // Days of this rare path are taken here, in the same pass.
                    let day = at.div_euclid(86_400_000_000_000);
                    if days.last() != Some(&(si, day)) {
                        days.push((si, day));
                    }
                }
                let age = diff_f64(now, at);
                value += sw.get(sg) * w * (-(age / h)).exp2();
                count += 1;
            }
        }
        if count == 0 {
            continue;
        }
        // Most recent distinct days of the usable events, newest first
        // (the per-event path took its days above).
        let mut found = if per_event { cap } else { 0 };
        let mut last_day = None;
        for i in (start..end).rev() {
            if found >= cap {
                break;
            }
            let Some(&at) = s.at.get(i) else { continue };
            let day = at.div_euclid(86_400_000_000_000);
            if last_day != Some(day) {
                last_day = Some(day);
                days.push((si, day));
                found += 1;
            }
        }
        let mut node = Some(interest);
        while let Some(id) = node {
            if let Some(sc) = scores.get_mut(id.index()) {
                sc.score += value;
                sc.events += count;
            }
            node = tax.parent(id);
        }
    }
    // Distinct days per interest over its subtree's series, counted up to
    // `cap`: the union of each series' `cap` most recent days decides it.
    if !days.is_empty() {
        let mut buf: Vec<i64> = Vec::new();
        for (i, sc) in scores.iter_mut().enumerate() {
            if sc.events == 0 {
                continue;
            }
            let id = InterestId(i as u32);
            let (lo, hi) = (id.0, tax.subtree_end(id));
            let first = store.series.partition_point(|s| s.interest.0 < lo);
            let last = store.series.partition_point(|s| s.interest.0 < hi);
            buf.clear();
            buf.extend(
                days.iter()
                    .filter(|(si, _)| (first..last).contains(si))
                    .map(|(_, d)| *d),
            );
            buf.sort_unstable();
            buf.dedup();
            sc.days = buf.len().min(cap) as u32;
        }
    }
    scores
}

/// `w · 2^((at − landmark)/h)`.
pub(crate) fn forward(w: f64, at: i64, landmark: i64, h: f64) -> f64 {
    w * (diff_f64(at, landmark) / h).exp2()
}

/// A fingerprint of everything the aggregates depend on: half-lives, max
/// ages and signal weights.
pub(crate) fn fingerprint(taxonomy: &Taxonomy, policy: &DecayPolicy) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    policy.half_life.0.hash(&mut h);
    policy.max_age.hash(&mut h);
    policy.partner_max_age.hash(&mut h);
    for s in Signal::ALL {
        policy.signal_weights.get(s).to_bits().hash(&mut h);
    }
    for (id, _) in taxonomy.iter() {
        taxonomy.half_life(id).map(HalfLife::get).hash(&mut h);
        taxonomy.max_age(id).hash(&mut h);
    }
    h.finish().max(1)
}

/// Index before which a series' events never count again at `now` or later:
/// past their max age, or recorded before a withdrawal of a purpose they need
/// (`withdrawn[p]`: the last withdrawal of purpose `p` at or before `now`).
fn cutoff(
    s: &Series,
    taxonomy: &Taxonomy,
    policy: &DecayPolicy,
    withdrawn: &[Option<i64>],
    now_ns: i64,
) -> usize {
    let (source, context) = (source_of(s.class), context_of(s.class));
    let max_age = policy.max_age_for(taxonomy, s.interest, source);
    let oldest = oldest_usable(now_ns, max_age);
    let withdrawn = purposes_of(taxonomy, s.interest, source, context)
        .iter()
        .filter_map(|p| withdrawn.get(p.index()).copied().flatten())
        .max()
        .unwrap_or(i64::MIN);
    s.first_at_or_after(0, oldest.max(withdrawn))
}

/// Computes every series' head and sum afresh, with the landmark at `now`.
/// What the aggregates are computed with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params<'a> {
    pub(crate) taxonomy: &'a Taxonomy,
    pub(crate) policy: &'a DecayPolicy,
    pub(crate) fingerprint: u64,
}

pub(crate) fn prepare(
    store: &mut Store,
    params: Params<'_>,
    ledger: &crate::consent::ConsentLedger,
    now: OffsetDateTime,
) {
    let Params {
        taxonomy,
        policy,
        fingerprint,
    } = params;
    let Some(now_ns) = to_nanos(now) else {
        store.prepared = None;
        return;
    };
    let landmark = now_ns;
    // The last withdrawal of each purpose, once for all series.
    let withdrawn: Vec<Option<i64>> = Purpose::ALL
        .iter()
        .map(|p| ledger.last_withdrawal(*p, now).and_then(to_nanos))
        .collect();
    let sw = &policy.signal_weights;
    for s in &mut store.series {
        let h = nanos_f64(policy.half_life_for(taxonomy, s.interest).get());
        s.head = cutoff(s, taxonomy, policy, &withdrawn, now_ns);
        let mut sum = Sum::default();
        let from = s.head;
        let cols =
            s.at.get(from..)
                .unwrap_or(&[])
                .iter()
                .zip(s.weight.get(from..).unwrap_or(&[]))
                .zip(s.signal.get(from..).unwrap_or(&[]));
        for ((&at, &w), &sg) in cols {
            sum.add(forward(sw.get(sg) * w, at, landmark, h));
        }
        s.sum = sum;
    }
    store.prepared = Some(Prepared {
        fingerprint,
        landmark,
        maintained_at: now_ns,
    });
}

/// Keeps the aggregates after an event was inserted at `pos` of series `si`:
/// O(1) in the common case (the event is added to the sum and the series'
/// head moves past what expired since).
pub(crate) fn after_insert(
    store: &mut Store,
    (si, pos): (usize, usize),
    params: Params<'_>,
    ledger: &crate::consent::ConsentLedger,
    now: OffsetDateTime,
    (cutoff_ns, now_ns): (i64, i64),
) {
    let Params {
        taxonomy,
        policy,
        fingerprint,
    } = params;
    let Some(p) = store.prepared else {
        return prepare(store, params, ledger, now);
    };
    let Some(s) = store.series.get_mut(si) else {
        return;
    };
    let h = nanos_f64(policy.half_life_for(taxonomy, s.interest).get());
    let exp = |at: i64| diff_f64(at, p.landmark) / h;
    if p.fingerprint != fingerprint || exp(now_ns) > MAX_EXPONENT || exp(now_ns) < -MAX_EXPONENT {
        return prepare(store, params, ledger, now);
    }
    let sw = &policy.signal_weights;
    if pos >= s.head {
        if let (Some(&at), Some(&w), Some(&sg)) =
            (s.at.get(pos), s.weight.get(pos), s.signal.get(pos))
        {
            s.sum.add(forward(sw.get(sg) * w, at, p.landmark, h));
        }
    }
    // `cutoff_ns` came from the record's own checks (max age, withdrawals).
    let new_head = s.first_at_or_after(s.head, cutoff_ns);
    for i in s.head..new_head {
        if let (Some(&at), Some(&w), Some(&sg)) = (s.at.get(i), s.weight.get(i), s.signal.get(i)) {
            s.sum.add(-forward(sw.get(sg) * w, at, p.landmark, h));
        }
    }
    if new_head >= s.len() {
        // Nothing left: start from an exact zero.
        s.sum = Sum::default();
    }
    s.head = new_head;
    store.prepared = Some(Prepared {
        maintained_at: p.maintained_at.max(now_ns),
        ..p
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod fast_path {
    //! The incremental path against the plain pass, over random histories.
    use super::*;
    use crate::consent::Evidence;
    use crate::engine::Engine;
    use crate::suppression::{Reason, Suppression};
    use crate::taxonomy::SpecialCategory;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[derive(Debug, Clone)]
    enum Op {
        Record {
            interest: usize,
            signal: usize,
            source: usize,
            context: usize,
            gift: bool,
            weight: f64,
            lag_min: i64,
        },
        Advance {
            minutes: i64,
        },
        Grant {
            purpose: usize,
            expires_h: Option<i64>,
        },
        Withdraw {
            purpose: usize,
        },
        Suppress {
            interest: Option<usize>,
            purpose: usize,
            until_h: Option<i64>,
        },
        Like {
            interest: usize,
        },
        Dislike {
            interest: usize,
        },
        Level {
            level: usize,
        },
        Compact,
        Score {
            back_min: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..9usize, 0..6usize, 0..3usize, 0..3usize, prop::bool::weighted(0.1), 0.0..4.0f64, 0..(30 * 24 * 60i64))
                .prop_map(|(interest, signal, source, context, gift, weight, lag_min)| Op::Record { interest, signal, source, context, gift, weight, lag_min }),
            3 => (0..(5 * 24 * 60i64)).prop_map(|minutes| Op::Advance { minutes }),
            2 => (0..8usize, prop::option::weighted(0.3, 1..(40 * 24i64))).prop_map(|(purpose, expires_h)| Op::Grant { purpose, expires_h }),
            1 => (0..8usize).prop_map(|purpose| Op::Withdraw { purpose }),
            1 => (prop::option::weighted(0.7, 0..9usize), 0..8usize, prop::option::of(1..(20 * 24i64)))
                .prop_map(|(interest, purpose, until_h)| Op::Suppress { interest, purpose, until_h }),
            1 => (0..9usize).prop_map(|interest| Op::Like { interest }),
            1 => (0..9usize).prop_map(|interest| Op::Dislike { interest }),
            1 => (0..4usize).prop_map(|level| Op::Level { level }),
            1 => Just(Op::Compact),
            3 => (0..(3 * 24 * 60i64)).prop_map(|back_min| Op::Score { back_min }),
        ]
    }

    fn engine(allow_sensitive: bool) -> Engine {
        let taxonomy = Taxonomy::builder()
            .interest("a/x")
            .interest("a/y/z")
            .interest("b")
            .sensitive("h/p", SpecialCategory::Health)
            .half_life("a/y", Duration::days(3))
            .max_age("b", Duration::days(10))
            .build()
            .unwrap();
        let policy = DecayPolicy::builder()
            .allow_sensitive_observation(allow_sensitive)
            .dismissal_cooldown(Duration::days(4))
            .build()
            .unwrap();
        Engine::new(taxonomy, policy)
    }

    fn check(engine: &Engine, profile: &Profile, now: OffsetDateTime, fast_runs: &mut u32) {
        let view = View::new(engine.taxonomy(), engine.policy(), profile, now);
        let fp = fingerprint(engine.taxonomy(), engine.policy());
        let prepared = profile.store().prepared;
        let is_fast = prepared.is_some_and(|p| {
            p.fingerprint == fp && to_nanos(now).is_some_and(|n| n >= p.maintained_at)
        });
        *fast_runs += u32::from(is_fast);
        let got = score(&view, fp);
        let mut want = score_plain(&view);
        establish(&view, &mut want);
        for (i, w) in want.iter().enumerate() {
            let g = got.get(InterestId(i as u32)).unwrap();
            let tol = 1e-9 * w.score.abs().max(1e-12);
            assert!(
                (g.score - w.score).abs() <= tol,
                "interest {i} at {now}: fast {} plain {}",
                g.score,
                w.score
            );
            assert_eq!(
                (g.events, g.days, g.established),
                (w.events, w.days, w.established),
                "interest {i} at {now}"
            );
        }
    }

    proptest! {
        // PROPTEST_CASES overrides, for long runs.
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
        ))]
        #[test]
        fn fast_path_equals_plain_pass(ops in prop::collection::vec(op(), 1..120), allow_sensitive: bool) {
            let engine = engine(allow_sensitive);
            let tax = engine.taxonomy().clone();
            let ids: Vec<InterestId> = tax.iter().map(|(id, _)| id).collect();
            let mut clock = datetime!(2026-01-01 0:00 UTC);
            let mut p = Profile::new("p");
            p.set_level(Level::FirstParty);
            p.consent_mut().grant(Purpose::Personalization, clock, None, Evidence::Ui("t".into())).unwrap();
            engine.prepare(&mut p, clock);
            let mut fast_runs = 0;
            for op in ops {
                match op {
                    Op::Record { interest, signal, source, context, gift, weight, lag_min } => {
                        let at = clock - Duration::minutes(lag_min);
                        let e = Event::new(ids[interest % ids.len()], Signal::ALL[signal], at)
                            .with_source([Source::FirstParty, Source::Declared, Source::Partner][source])
                            .with_context([Context::OnSite, Context::Location, Context::CrossSite][context])
                            .with_gift(gift)
                            .with_weight(weight)
                            .unwrap();
                        let _ = engine.record(&mut p, e, clock);
                    }
                    Op::Advance { minutes } => clock += Duration::minutes(minutes),
                    Op::Grant { purpose, expires_h } => {
                        let purpose = Purpose::ALL[purpose];
                        let _ = p.consent_mut().grant(purpose, clock, expires_h.map(|h| clock + Duration::hours(h)), Evidence::Ui("t".into()));
                    }
                    Op::Withdraw { purpose } => {
                        let _ = p.consent_mut().withdraw(Purpose::ALL[purpose], clock, Evidence::Ui("t".into()));
                    }
                    Op::Suppress { interest, purpose, until_h } => {
                        let scope = match interest {
                            Some(i) => Scope::Interest(ids[i % ids.len()]),
                            None => Scope::Purpose(Purpose::ALL[purpose]),
                        };
                        let mut s = Suppression::new(scope, Reason::OptOut, clock);
                        if let Some(h) = until_h {
                            s = s.until(clock + Duration::hours(h)).unwrap();
                        }
                        engine.suppress(&mut p, s, clock);
                    }
                    Op::Like { interest } => p.like(ids[interest % ids.len()], clock),
                    Op::Dislike { interest } => p.dislike(ids[interest % ids.len()], clock),
                    Op::Level { level } => p.set_level([Level::Off, Level::Declared, Level::FirstParty, Level::Full][level]),
                    Op::Compact => { engine.compact(&mut p, clock); }
                    Op::Score { back_min } => {
                        check(&engine, &p, clock, &mut fast_runs);
                        check(&engine, &p, clock - Duration::minutes(back_min), &mut fast_runs);
                    }
                }
            }
            check(&engine, &p, clock, &mut fast_runs);
            check(&engine, &p, clock + Duration::days(20), &mut fast_runs);
            prop_assert!(fast_runs > 0, "the fast path never ran");
        }
    }
}
