//! Many profiles at once, exactly: the rows of a warehouse (events, consent
//! changes, suppressions, erasures) turned into the profiles, scores and
//! segments that recording them one by one would give.
//!
//! A [`PartialProfile`] holds one person's rows as facts, not verdicts:
//! whether an event counts depends on consent and suppressions that may sit
//! in another part of the data, so parts built on different partitions or
//! machines [`merge`](PartialProfile::merge) by union, and
//! [`Engine::finish`](crate::Engine::finish) replays the merged rows in time
//! order, each at its own instant, with exactly the semantics of
//! [`record`](crate::Engine::record), the consent ledger,
//! [`suppress`](crate::Engine::suppress) and the erasures. However the rows
//! were split and in whatever order the parts were merged, the finished
//! profile is the same: the merge law, checked by a property test.
//! [`Engine::encode_partial`](crate::Engine::encode_partial) gives the
//! compact binary form a query engine ships between partial and final
//! aggregation (see the `tactful-datafusion` crate).
//!
//! # Examples
//! ```
//! use tactful::bulk::{ConsentChange, PartialProfile};
//! use tactful::prelude::*;
//! use time::{macros::datetime, Duration};
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
//! let food = engine.taxonomy().require("baby/food")?;
//! let t0 = datetime!(2026-11-01 9:00 UTC);
//! let grant = ConsentChange::grant(Purpose::Personalization, t0, None, Evidence::Import("crm".into()));
//! let views: Vec<Event> = (1..4).map(|d| Event::new(food, Signal::View, t0 + Duration::days(d))).collect();
//!
//! // Two partitions, each with some of the rows; the state crosses the wire as bytes.
//! let mut left = PartialProfile::new("anna");
//! left.push_event(views[2]);
//! left.push_consent(grant);
//! let mut right = PartialProfile::new("anna");
//! right.push_event(views[0]);
//! right.push_event(views[1]);
//! let mut wire = Vec::new();
//! engine.encode_partial(&right, &mut wire);
//! left.merge(engine.decode_partial(&wire)?)?;
//!
//! let mut base = Profile::new("anna");
//! base.set_level(Level::FirstParty);
//! let now = t0 + Duration::days(5);
//! let done = engine.finish(base, &left, now)?;
//! assert_eq!(done.profile.stored_events(), 3);
//! assert!(engine.scores(&done.profile, now).is_established(food));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod buckets;
mod codec;
mod fast;
mod many;
mod order;
mod partial;
mod person;
mod replay;
mod rows;

use thiserror::Error;

use crate::limits::ProfileError;
use crate::profile::ProfileId;

pub use fast::{InterestScores, Summarizer, Summary};
pub use partial::{ConsentAction, ConsentChange, Erasure, EventRow, PartialProfile};
pub use replay::{Finished, Refused};
pub use rows::{EventRows, InterestColumn, Rows, TimeUnit, WeightColumn};

/// Why rows could not be merged, read or finished.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum BulkError {
    /// Rows of two different people.
    #[error("rows of profile {found} cannot join those of profile {expected}")]
    IdMismatch {
        /// The profile the rows were joining.
        expected: ProfileId,
        /// The profile they belong to.
        found: ProfileId,
    },
    /// A partial profile written under another taxonomy.
    #[error(
        "partial profile written under taxonomy {found:#018x}, this engine's is {expected:#018x}"
    )]
    OtherTaxonomy {
        /// This engine's taxonomy fingerprint.
        expected: u64,
        /// The one in the bytes.
        found: u64,
    },
    /// Malformed bytes.
    #[error("unreadable partial profile: {0}")]
    Decode(ProfileError),
    /// Columns of different lengths.
    #[error("column {column} has {len} rows, the person column {rows}")]
    Columns {
        /// The column.
        column: &'static str,
        /// Its length.
        len: usize,
        /// The person column's length.
        rows: usize,
    },
    /// A row that cannot be an event.
    #[error("event row {row}: {problem}")]
    InvalidRow {
        /// The row.
        row: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// A row of a person the call was not given.
    #[error("{what} row {row} names person {person}, but {people} people were given")]
    UnknownPerson {
        /// The kind of row.
        what: &'static str,
        /// The row.
        row: usize,
        /// Its person index.
        person: u32,
        /// How many people the call was given.
        people: usize,
    },
    /// More event rows than one call takes (2^32 - 1).
    #[error("{rows} event rows in one call; at most 4294967295")]
    TooManyRows {
        /// How many were given.
        rows: usize,
    },
    /// A worker thread panicked (a bug: please report it).
    #[error("a bulk worker thread panicked")]
    WorkerPanicked,
}
