//! The decay policy: how much a signal counts, how fast it fades, how old
//! it may be, and how much evidence establishes an interest.
//!
//! An event of weight `w` recorded at `at` contributes
//! `w * 2^(-(now - at) / half_life)` to its interest (and every ancestor of
//! it) while `0 <= now - at <= max_age`, and nothing afterwards.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

use crate::event::{Event, Signal, Source};
use crate::json::JsonError;
use crate::quantity::{HalfLife, InvalidHalfLife, InvalidWeight, Weight};
use crate::taxonomy::{InterestId, Taxonomy};

/// Why a [`crate::decay::DecayPolicy`] was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The half-life is zero or negative.
    #[error("half-life must be positive, got {0}")]
    HalfLife(Duration),
    /// A maximum age is negative.
    #[error("{which} must not be negative, got {value}")]
    NegativeAge {
        /// Which setting (`max_age`, `partner_max_age`, `dismissal_cooldown`).
        which: &'static str,
        /// The rejected value.
        value: Duration,
    },
    /// The partner max age is longer than the general max age.
    #[error(
        "partner_max_age {partner} exceeds max_age {general}: partner data must not live longer"
    )]
    PartnerLongerThanMaxAge {
        /// The partner max age.
        partner: Duration,
        /// The general max age.
        general: Duration,
    },
    /// `min_events` is zero (one event would then not even be needed).
    #[error("min_events must be at least 1")]
    MinEvents,
    /// `min_days` is zero or larger than `min_events`.
    #[error("min_days must be between 1 and min_events ({min_events}), got {min_days}")]
    MinDays {
        /// The rejected value.
        min_days: u32,
        /// The configured `min_events`.
        min_events: u32,
    },
    /// A signal weight is invalid.
    #[error("signal weight for {signal}: {source}")]
    SignalWeight {
        /// The signal kind.
        signal: &'static str,
        /// The weight error.
        source: InvalidWeight,
    },
}

impl From<InvalidHalfLife> for PolicyError {
    fn from(e: InvalidHalfLife) -> Self {
        Self::HalfLife(e.0)
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
    pub(crate) half_life: HalfLife,
    pub(crate) max_age: Duration,
    pub(crate) partner_max_age: Duration,
    pub(crate) min_events: u32,
    pub(crate) min_days: u32,
    pub(crate) signal_weights: SignalWeights,
    pub(crate) dismissal_cooldown: Duration,
    pub(crate) allow_sensitive_observation: bool,
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
    /// [`JsonError::Syntax`] naming the bad field, with the
    /// [`PolicyError`] of an invalid setting as its message, or
    /// [`JsonError::TooLarge`].
    pub fn from_json(json: &str) -> Result<Self, JsonError> {
        crate::json::parse_json(json)
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
    /// events (the profile must also grant [`Purpose::SensitiveInterests`](crate::consent::Purpose::SensitiveInterests)).
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
    /// for profiles that granted [`Purpose::SensitiveInterests`](crate::consent::Purpose::SensitiveInterests).
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
