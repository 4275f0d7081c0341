//! The personalization level dial, chosen by the person.
//!
//! # Examples
//! The level applies to every read at once, and lowering it deletes nothing:
//! ```
//! use tactful::prelude::*;
//! use time::{macros::datetime, Duration};
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
//! let food = engine.taxonomy().require("baby/food")?;
//! let t0 = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! anna.set_level(Level::FirstParty);
//! anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
//! for day in 0..3 {
//!     let at = t0 + Duration::days(day);
//!     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
//! }
//! let now = t0 + Duration::days(3);
//! assert!(engine.scores(&anna, now).is_established(food));
//! anna.set_level(Level::Declared); // observed events stop counting
//! assert!(!engine.scores(&anna, now).is_established(food));
//! anna.set_level(Level::FirstParty); // and count again
//! assert!(engine.scores(&anna, now).is_established(food));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::event::{Context, Source};

/// How much personalization the person allows, from nothing to everything.
///
/// Levels are ordered: `Off < Declared < FirstParty < Full`.
///
/// | level | admits |
/// |---|---|
/// | `Off` | nothing: only service messages are sent |
/// | `Declared` | what the person told us (declared likes, declared-source events) |
/// | `FirstParty` | plus on-site events we observed ourselves |
/// | `Full` | plus partner data, location and cross-site signals |
///
/// # Example
/// ```
/// use tactful::{Level, Source, Context};
/// assert!(Level::FirstParty.admits(Source::FirstParty, Context::OnSite));
/// assert!(!Level::FirstParty.admits(Source::Partner, Context::OnSite));
/// assert!(!Level::FirstParty.admits(Source::FirstParty, Context::Location));
/// assert_eq!(Level::required_for(Source::FirstParty, Context::Location), Level::Full);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// No personalization; service messages only. The default: a person
    /// who never chose gets no personalization.
    #[default]
    Off,
    /// Only what the person declared.
    Declared,
    /// Plus first-party observation on our own site or app.
    FirstParty,
    /// Plus partner data, location and cross-site signals.
    Full,
}

impl Level {
    /// The lowest level that admits events of this source and context.
    #[must_use]
    pub fn required_for(source: Source, context: Context) -> Level {
        let by_source = match source {
            Source::Declared => Level::Declared,
            Source::FirstParty => Level::FirstParty,
            Source::Partner => Level::Full,
        };
        let by_context = match context {
            Context::OnSite => Level::Off,
            Context::Location | Context::CrossSite => Level::Full,
        };
        by_source.max(by_context)
    }

    /// Whether this level admits events of this source and context.
    #[must_use]
    pub fn admits(self, source: Source, context: Context) -> bool {
        self >= Self::required_for(source, context)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Off => "off",
            Self::Declared => "declared",
            Self::FirstParty => "first-party",
            Self::Full => "full",
        })
    }
}
