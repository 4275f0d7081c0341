//! Error types: one small error per failure kind, plus the umbrella [`enum@Error`].
//!
//! Refusing an event is not an error of the library but an answer about the
//! data; it lives in [`crate::profile::Refusal`]. The types here are about
//! invalid input: configuration that cannot be built, values out of range.
//!
//! # Examples
//! The leaf errors convert into [`enum@Error`], so one `?` serves them all:
//! ```
//! use tactful::{Engine, Error, DecayPolicy, Event, Signal, Taxonomy, TaxonomyError};
//! use time::macros::datetime;
//!
//! fn build(path: &str) -> Result<Engine, Error> {
//!     let taxonomy = Taxonomy::builder().interest(path).build()?; // a TaxonomyError
//!     let food = taxonomy.require("baby/food")?;
//!     let heavy = Event::new(food, Signal::View, datetime!(2026-11-01 9:00 UTC)).with_weight(2.0)?; // an InvalidWeight
//!     assert_eq!(heavy.weight().get(), 2.0);
//!     Ok(Engine::new(taxonomy, DecayPolicy::default()))
//! }
//! assert!(build("baby/food").is_ok());
//! let err = build("baby//food").unwrap_err();
//! assert!(matches!(err, Error::Taxonomy(TaxonomyError::InvalidPath(_))));
//! assert!(err.to_string().starts_with(r#"invalid interest path "baby//food""#));
//! ```

use thiserror::Error;

pub use crate::audience::AudienceError;
pub use crate::json::JsonError;
pub use crate::policy::PolicyError;
pub use crate::quantity::{InvalidHalfLife, InvalidWeight};
pub use crate::segment::{SegmentError, SegmentErrors};
pub use crate::taxonomy::TaxonomyError;

/// The umbrella error of the crate.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`InvalidWeight`].
    #[error(transparent)]
    Weight(#[from] InvalidWeight),
    /// See [`TaxonomyError`].
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    /// See [`PolicyError`].
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// See [`SegmentErrors`].
    #[error(transparent)]
    Segments(#[from] SegmentErrors),
    /// See [`AudienceError`].
    #[error(transparent)]
    Audience(#[from] AudienceError),
    /// See [`crate::privacy::ReleaseError`].
    #[error(transparent)]
    Release(#[from] crate::privacy::ReleaseError),
    /// See [`crate::privacy::BudgetError`].
    #[error(transparent)]
    Budget(#[from] crate::privacy::BudgetError),
    /// See [`crate::privacy::ParameterError`].
    #[error(transparent)]
    PrivacyParameter(#[from] crate::privacy::ParameterError),
    /// See [`crate::consent::ConsentError`].
    #[error(transparent)]
    Consent(#[from] crate::consent::ConsentError),
    /// See [`crate::suppression::InvalidWindow`].
    #[error(transparent)]
    Window(#[from] crate::suppression::InvalidWindow),
    /// See [`crate::profile::Refusal`].
    #[error(transparent)]
    Refused(#[from] crate::profile::Refusal),
    /// See [`crate::config::ConfigError`].
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// See [`crate::limits::ProfileError`].
    #[error(transparent)]
    Profile(#[from] crate::limits::ProfileError),
    /// See [`crate::export::ExportError`].
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// See [`crate::consent::tcf::TcfError`].
    #[cfg(feature = "tcf")]
    #[error(transparent)]
    Tcf(#[from] crate::consent::tcf::TcfError),
}
