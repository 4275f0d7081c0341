//! # tactful
//!
//! Privacy-respecting segmentation: turn a person's events into interest
//! scores and segment memberships, but only the ones that person would find
//! helpful rather than creepy. Consent, decay-weighted freshness,
//! suppression (bereavement, opt-out, do-not-contact) and explanations are
//! built in, not bolted on.
//!
//! The crate is pure: no I/O, no global state, no clock reads. You own
//! storage ([`Engine::save_binary`] and [`Engine::save_json`] write a profile
//! in forms that name interests by path, see [`persist`]) and pass `now` in.
//!
//! ## Quick example
//! ```
//! use tactful::prelude::*;
//! use time::macros::datetime;
//! use time::Duration;
//!
//! let taxonomy = Taxonomy::builder().interest("baby/food").interest("baby/toys").build()?;
//! let (food, toys) = (taxonomy.id("baby/food").unwrap(), taxonomy.id("baby/toys").unwrap());
//! let engine = Engine::new(taxonomy, DecayPolicy::default())
//!     .with_segments(vec![SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0))])?;
//!
//! let t0 = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! anna.set_level(Level::FirstParty);
//! anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
//! // A segment is for a purpose (marketing unless it says otherwise).
//! anna.consent_mut().grant(Purpose::Marketing, t0, None, Evidence::Ui("signup".into()))?;
//!
//! // One gift purchase is not an interest of the buyer.
//! engine.record(&mut anna, Event::new(toys, Signal::Purchase, t0).with_gift(true), t0)?;
//! assert!(engine.segments(&anna, t0).is_empty());
//!
//! // Repeated own interest on several days is.
//! for d in 1..=3 {
//!     let at = t0 + Duration::days(d);
//!     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
//! }
//! let now = t0 + Duration::days(4);
//! assert_eq!(engine.segments(&anna, now)[0].segment, "young-parents");
//!
//! // After a reported loss: suppressed, signals purged, messages denied.
//! let baby = engine.taxonomy().id("baby").unwrap();
//! engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now), now);
//! assert!(engine.segments(&anna, now).is_empty());
//! let req = MessageRequest::new(Channel::Post, Purpose::Marketing).about(Target::Interest(food));
//! assert!(!engine.decide(&anna, &req, now).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Concepts
//! - [`Taxonomy`]: the interest tree; a node covers its subtree.
//! - [`Event`]: one signal (view, purchase, dismissal...) with source,
//!   context, gift flag and weight.
//! - [`ConsentLedger`]: append-only grants and withdrawals per [`Purpose`];
//!   a withdrawal is retroactive.
//! - [`Level`]: the person's personalization dial, `Off` to `Full`.
//! - [`Suppression`]: wins over every score, consent, segment, decision and
//!   partner feed: one gate answers "may this person be used or addressed
//!   for this purpose, on this channel, about these interests".
//! - [`LifeEvent`]: related subtrees (`baby`, `health/pregnancy`,
//!   `parenting`) that a bereavement on any of them covers as a whole.
//! - [`SegmentDef`]: a rule, the purpose members are addressed for and the
//!   channels they may be addressed on.
//! - [`DecayPolicy`]: half-life, max ages, minimum evidence, cooldowns.
//! - [`Engine`]: records, scores, segments, decides, builds audiences and
//!   transparency reports.
//! - [`privacy`]: audience sizes released to others with exact discrete
//!   noise (Laplace or Gaussian) against a per-consumer privacy budget, so
//!   differencing two audiences reveals no one
//!   ([`Engine::private_audience_size`], [`Engine::private_breakdown`]).
//! - [`batch`]: the raw decay kernel over event columns, for aggregate
//!   analytics and benchmarks only. It applies none of the rules above
//!   (consent, level, suppressions, gifts, minimum evidence): never use its
//!   numbers to target a person.
//!
//! ## Where to find things
//! - Configuration files: [`config::EngineConfig`] reads taxonomy, policy,
//!   segments, limits and the minimum audience from one JSON document,
//!   naming the field of any error.
//! - Consent from the outside world: [`consent::tcf`] decodes and encodes
//!   IAB TCF v2 TC strings (feature `tcf`, on by default);
//!   [`ConsentLedger::apply_gpc`] honours the Global Privacy Control signal.
//! - Partners: [`export`] writes suppression lists and ad exclusion lists
//!   under keyed pseudonyms, minimized (no special category, no time of
//!   day), with an incremental feed.
//! - Storage: [`Engine::save_binary`] / [`Engine::load_profile_binary`] and
//!   the JSON forms, see [`persist`].
//! - An embedded store: `sqlite::SqliteStore` keeps profiles in a SQLite
//!   file without lost updates, with erasure that reaches the disk and
//!   partner exports from an index (feature `sqlite`).
//! - Limits against hostile input: [`Limits`].
//!
//! ## Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tcf` | yes | [`consent::tcf`]: IAB TCF v2 TC strings, decoded and encoded without dependencies, applied to a ledger ([`ConsentLedger::apply_tcf_str`]) |
//! | `rayon` | no | `batch::RawDecayKernel::with_threads`: the raw kernel over several threads |
//! | `sqlite` | no | `sqlite::SqliteStore`: profiles in SQLite (bundled), transactions without lost updates, erasure that reaches the disk, partner lists from an index |
//!
//! The core needs none of them and does no I/O. On docs.rs every
//! feature-gated item carries a badge naming its feature.
//!
//! ## How the crate is built
//! Modules form layers; each uses only the layers below it (no import
//! cycle, no back-edge, no file over 800 lines and no function over 80;
//! checked in CI by `.ci/structure.py --layers`), from the bottom up:
//!
//! | layer | modules | what it owns |
//! |---|---|---|
//! | units | `json`, `quantity`, `reason` (private) | one JSON error shape, [`Weight`] and [`HalfLife`], the suppression reasons |
//! | vocabulary | [`taxonomy`] (with [`life_event`]), [`consent`] | interests, purposes, the consent ledger, TC strings |
//! | facts | [`event`], [`suppression`], [`level`], [`limits`], [`DecayPolicy`] | what happened, what must not be used, the dial, the bounds, the policy |
//! | state | [`profile`], then [`persist`] | one person's data, and its stored forms |
//! | the gate | `gate` (private) | admission (may this event be stored), usability (does it count now) and use (may this person be addressed or listed) |
//! | answers | [`decay`], [`explain`], [`segment`], [`decision`], [`report`], [`audience`], [`export`], [`privacy`], [`batch`] | scores, reasons, memberships, decisions, reports, partner files, private counts |
//! | gateway | [`engine`], then `sqlite` (feature `sqlite`), [`config`] and [`error`] | [`Engine`] delegates to the layers below; the profile store; configuration files; the umbrella error |
//!
//! The layer string for the check is
//! `serde_util,json,quantity,reason;taxonomy,consent;event,suppression;level,limits,policy,store;profile;gate,persist;decay;explain;segment;decision,report,audience,export;privacy,batch;engine;bulk,sqlite,config,error`.
//!
//! ## What returns an error, what can panic
//! Invalid configuration (taxonomy paths, policies, segment rules, weights,
//! consent windows) is rejected with a typed error when it is built. An
//! event that must not be stored is refused with a [`Refusal`] naming the
//! reason, and counted on the profile. Audiences below the minimum size are
//! an [`AudienceError`]. A private release beyond a consumer's budget, or
//! whose noisy count is below the minimum, is a
//! [`privacy::ReleaseError`]. Nothing in this crate panics on input data.

#![forbid(unsafe_code)]
// Feature badges on docs.rs (nightly rustdoc there; ignored elsewhere).
#![cfg_attr(docsrs, feature(doc_cfg))]
// Panic freedom on input-derived data in library code (tests may index).
#![cfg_attr(not(test), warn(clippy::indexing_slicing, clippy::panic))]

mod gate;
mod json;
mod policy;
mod quantity;
mod reason;
mod serde_util;
mod store;

pub mod audience;
pub mod batch;
pub mod bulk;
pub mod config;
pub mod consent;
pub mod decay;
pub mod decision;
pub mod engine;
pub mod error;
pub mod event;
pub mod explain;
pub mod export;
pub mod level;
pub mod limits;
pub mod persist;
pub mod privacy;
pub mod profile;
pub mod report;
pub mod segment;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod suppression;
pub mod taxonomy;

pub use taxonomy::life_event;

pub use audience::Audience;
pub use consent::{
    Change, ConsentEntry, ConsentError, ConsentLedger, ConsentState, Evidence, Purpose,
};
pub use decay::{
    DecayPolicy, DecayPolicyBuilder, Establishment, HalfLife, InterestScore, Scores, SignalWeights,
};
pub use decision::{Decision, DenyReason, MessageRequest, Target};
pub use engine::{Engine, Merged};
pub use error::{
    AudienceError, Error, InvalidHalfLife, InvalidWeight, JsonError, PolicyError, SegmentError,
    SegmentErrors, TaxonomyError,
};
pub use event::{Context, Event, Signal, Source, Weight};
pub use explain::{
    ConsentBasis, EventContribution, Exclusion, ExclusionReason, Explanation, InterestEvidence,
};
pub use export::{
    Export, ExportError, ExportProblem, KeySecret, ProblemKind, SubjectKey, SuppressionFeed,
    SuppressionList,
};
pub use level::Level;
pub use life_event::LifeEvent;
pub use limits::{Limit, Limits, ProfileError};
pub use profile::{
    Orphans, Preference, PreferenceKind, Profile, ProfileId, Refusal, RefusalKind, RefusalReason,
    Tombstone,
};
pub use report::Report;
pub use segment::{Membership, Rule, SegmentDef};
#[allow(deprecated)]
pub use suppression::Reason;
pub use suppression::{Channel, Scope, Suppression, SuppressionReason};
pub use taxonomy::{InterestId, Sensitivity, SpecialCategory, Taxonomy, TaxonomyBuilder};

/// The types most programs need, without the umbrella [`enum@Error`]:
/// `use tactful::prelude::*;` then leaves `Error` free for
/// `std::error::Error` (`Box<dyn Error>`), which `use tactful::*` would
/// shadow.
///
/// # Examples
/// ```
/// use std::error::Error;
/// use tactful::prelude::*;
///
/// fn build() -> Result<Engine, Box<dyn Error>> {
///     let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
///     Ok(Engine::new(taxonomy, DecayPolicy::default()))
/// }
/// assert!(build().is_ok());
/// ```
pub mod prelude {
    pub use crate::{
        Channel, ConsentLedger, ConsentState, Context, DecayPolicy, Decision, DenyReason, Engine,
        Event, Evidence, Explanation, InterestId, Level, MessageRequest, Preference,
        PreferenceKind, Profile, ProfileId, Purpose, Refusal, RefusalReason, Rule, Scope,
        SegmentDef, Signal, Source, Suppression, SuppressionReason, Target, Taxonomy,
    };
}
