//! Events: one observed or declared signal about an interest at an instant.
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use time::macros::datetime;
//!
//! let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
//! let hiking = taxonomy.require("outdoor/hiking")?;
//! let at = datetime!(2026-11-01 9:00 UTC);
//!
//! // A partner's cross-site signal, weighted down.
//! let seen = Event::new(hiking, Signal::AddToCart, at)
//!     .with_source(Source::Partner)
//!     .with_context(Context::CrossSite)
//!     .with_weight(0.5)?;
//! assert_eq!((seen.source(), seen.weight().get()), (Source::Partner, 0.5));
//! // Weights are finite and positive: anything else is an error, not a panic.
//! assert!(Event::new(hiking, Signal::View, at).with_weight(f64::NAN).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::quantity::{InvalidWeight, Weight};
use crate::taxonomy::InterestId;

/// What the person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Signal {
    /// Looked at a page or item.
    View,
    /// Searched for it.
    Search,
    /// Clicked a recommendation, link or ad.
    Click,
    /// Put an item into the cart.
    AddToCart,
    /// Bought it (see [`Event::with_gift`] for purchases for someone else).
    Purchase,
    /// Said "not interested" / "not relevant". Only ever lowers or blocks:
    /// it blocks the interest's subtree for the policy's dismissal cooldown
    /// and is never evidence of any interest.
    Dismissal,
}

impl Signal {
    /// All signals, in declaration order.
    pub const ALL: [Signal; 6] = [
        Self::View,
        Self::Search,
        Self::Click,
        Self::AddToCart,
        Self::Purchase,
        Self::Dismissal,
    ];

    /// The snake_case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Search => "search",
            Self::Click => "click",
            Self::AddToCart => "add_to_cart",
            Self::Purchase => "purchase",
            Self::Dismissal => "dismissal",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an event comes from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// Observed by the operator itself.
    #[default]
    FirstParty,
    /// Told by the person (a survey, a preference centre).
    Declared,
    /// Received from a partner (second or third party). Goes stale fast.
    Partner,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FirstParty => "first-party",
            Self::Declared => "declared",
            Self::Partner => "partner",
        })
    }
}

/// In which context the event was observed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Context {
    /// On the operator's own site or app.
    #[default]
    OnSite,
    /// Derived from the person's physical location (walking past a store).
    Location,
    /// Observed across other sites (browsing history elsewhere).
    CrossSite,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OnSite => "on-site",
            Self::Location => "location",
            Self::CrossSite => "cross-site",
        })
    }
}

/// One signal about one interest at one instant.
///
/// Built with [`Event::new`] and by-value setters; the defaults are a
/// first-party, on-site, non-gift event of weight 1.
///
/// # Example
/// ```
/// use tactful::{Event, Signal, Source, Taxonomy};
/// use time::macros::datetime;
///
/// let taxonomy = Taxonomy::builder().interest("baby/toys").build()?;
/// let toys = taxonomy.id("baby/toys").unwrap();
/// let gift = Event::new(toys, Signal::Purchase, datetime!(2026-11-02 10:00 UTC))
///     .with_gift(true)
///     .with_weight(2.0)?;
/// assert!(gift.is_gift());
/// assert_eq!(gift.source(), Source::FirstParty);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    interest: InterestId,
    signal: Signal,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
    #[serde(default)]
    source: Source,
    #[serde(default)]
    context: Context,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    gift: bool,
    #[serde(default)]
    weight: Weight,
}

impl Event {
    /// A first-party, on-site event of weight 1.
    #[must_use]
    pub fn new(interest: InterestId, signal: Signal, at: OffsetDateTime) -> Self {
        Self {
            interest,
            signal,
            at,
            source: Source::FirstParty,
            context: Context::OnSite,
            gift: false,
            weight: Weight::ONE,
        }
    }

    /// Sets the source.
    #[must_use]
    pub fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// Sets the context.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Marks a purchase (or any event) as made for someone else: it never
    /// counts toward the buyer's own interests.
    #[must_use]
    pub fn with_gift(mut self, gift: bool) -> Self {
        self.gift = gift;
        self
    }

    /// Sets the event's own weight (multiplied with the signal's weight).
    ///
    /// # Errors
    /// [`InvalidWeight`] for NaN, infinite, negative or too large (above 1e9) weights.
    pub fn with_weight(mut self, weight: f64) -> Result<Self, InvalidWeight> {
        self.weight = Weight::new(weight)?;
        Ok(self)
    }

    /// Sets an already validated weight.
    #[must_use]
    pub fn with_valid_weight(mut self, weight: Weight) -> Self {
        self.weight = weight;
        self
    }

    /// The interest.
    #[must_use]
    pub fn interest(&self) -> InterestId {
        self.interest
    }
    /// The signal kind.
    #[must_use]
    pub fn signal(&self) -> Signal {
        self.signal
    }
    /// When it happened.
    #[must_use]
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }
    /// Where it came from.
    #[must_use]
    pub fn source(&self) -> Source {
        self.source
    }
    /// In which context it was observed.
    #[must_use]
    pub fn context(&self) -> Context {
        self.context
    }
    /// Whether it was a gift.
    #[must_use]
    pub fn is_gift(&self) -> bool {
        self.gift
    }
    /// The event's own weight.
    #[must_use]
    pub fn weight(&self) -> Weight {
        self.weight
    }
    /// Whether this is a dismissal.
    #[must_use]
    pub fn is_dismissal(&self) -> bool {
        self.signal == Signal::Dismissal
    }
}
