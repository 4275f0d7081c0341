//! # tactful-datafusion
//!
//! tactful's exact scoring as [Apache DataFusion](https://datafusion.apache.org)
//! aggregate functions: `GROUP BY` the person, get the same interest scores,
//! gated segment memberships and refusal counts as the single-process
//! [`tactful::Engine`], however the rows are partitioned.
//!
//! ## Quick example
//! ```
//! use std::sync::Arc;
//! use datafusion::prelude::*;
//! use tactful::prelude::*;
//! use tactful_datafusion::TactfulFunctions;
//! use time::macros::datetime;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
//! let engine = Engine::new(taxonomy, DecayPolicy::default())
//!     .with_segments(vec![SegmentDef::new("hikers", Rule::interest_at_least("outdoor", 2.0))
//!         .for_purpose(Purpose::Personalization)])?;
//! let now = datetime!(2025-11-10 12:00 UTC);
//!
//! let ctx = SessionContext::new();
//! TactfulFunctions::new(Arc::new(engine), now).register(&ctx);
//! ctx.sql("CREATE TABLE facts (person VARCHAR, kind VARCHAR, interest VARCHAR, at BIGINT,
//!                              weight DOUBLE, detail VARCHAR, until BIGINT) AS VALUES
//!   ('anna', 'grant', NULL, 1762000000, NULL, 'personalization', NULL),
//!   ('anna', NULL, 'outdoor/hiking', 1762300000, 1.0, NULL, NULL),
//!   ('anna', NULL, 'outdoor/hiking', 1762400000, 1.0, NULL, NULL),
//!   ('anna', NULL, 'outdoor/hiking', 1762500000, 1.0, NULL, NULL),
//!   ('anna', NULL, 'outdoor/hikin', 1762500000, 1.0, NULL, NULL),
//!   ('ben',  NULL, 'outdoor/hiking', 1762500000, 1.0, NULL, NULL)").await?;
//!
//! let df = ctx.sql("SELECT person,
//!         tactful_segments(kind, interest, at, weight, detail, until) AS segments,
//!         tactful_refusals(kind, interest, at, weight, detail, until) AS refusals
//!     FROM facts GROUP BY person ORDER BY person").await?;
//! let batches = df.collect().await?;
//! let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
//! // anna consented and came back on three days; ben never consented.
//! assert!(text.contains("| anna   | [hikers] "), "{text}");
//! assert!(text.contains("| ben    | []       "));
//! // anna's misspelt interest is reported, not dropped; ben's event is refused for no consent.
//! assert!(text.contains("unreadable_rows: 1"));
//! assert!(text.contains("no_consent: 1"));
//! # Ok(())
//! # }
//! ```
//!
//! ## The facts row
//! Each function takes one row per fact, in one of two shapes:
//!
//! - events only: `f(interest, at, weight)`;
//! - every kind of fact: `f(kind, interest, at, weight, detail, until)`, so
//!   that an events table, a consent log and a suppression list can be
//!   `UNION ALL`ed and aggregated together, `GROUP BY` the person.
//!
//! | `kind` | `interest` | `at` | `weight` | `detail` | `until` |
//! |---|---|---|---|---|---|
//! | `event` or NULL | the interest (required) | when it happened | weight, NULL = 1 | `signal [gift] [source=S] [context=C]`, NULL = `view` | ignored |
//! | `grant` | ignored | when given | ignored | the purpose (`personalization`) | expiry, NULL = none |
//! | `withdraw` | ignored | when withdrawn | ignored | the purpose | ignored |
//! | `suppress` | the interest subtree, or NULL | since | ignored | `reason [all] [channel=C] [purpose=P]` | end, NULL = none |
//! | `erase` | the interest subtree, NULL = everything | when | ignored | ignored | ignored |
//!
//! Names in `detail` are the snake_case names the core uses in JSON
//! (`add_to_cart`, `partner`, `cross_site`, `bereavement`, `opt_out`,
//! `email`, `marketing`, ...). A suppression with a NULL interest covers
//! `all`, a `channel`, a `purpose`, or a channel and a purpose.
//!
//! - `interest`: a path of the engine's taxonomy as text (renamed paths
//!   resolve as in [`tactful::Taxonomy::resolve`]; each distinct path is
//!   looked up once, dictionary columns once per batch), or an integer key
//!   into the list given to [`TactfulFunctions::interest_keys`].
//! - `at`, `until`: unix seconds (any integer type) or a timestamp of any unit.
//! - `weight`: any number, a positive finite value.
//!
//! ## What the functions return
//! | function | type |
//! |---|---|
//! | `tactful_segments` | `List<Utf8>`: the names of the segments the person is a member of at `now`, through the one gate (consent, level, suppressions), as [`tactful::Engine::segment_names`] |
//! | `tactful_scores` | `List<Struct{interest: Utf8, score: Float64, events: UInt32, days: UInt32, established: Boolean}>`: each interest with usable events or established, in taxonomy order, as [`tactful::Engine::scores`] |
//! | `tactful_refusals` | `Struct` of `UInt64` counts, see below |
//! | `tactful_profile` | `Struct{segments, scores, refusals}`: all three from one aggregation |
//!
//! The refusal counts are: one field per kind of refused event, as the
//! finished profile counts them (`no_consent`, `level`, `suppressed`,
//! `stale`, `from_future`, `invalid`, `erased`, `sensitive`, `disliked`,
//! `dismissed`, `duplicate`, `limit`, and `other` for kinds the core may
//! add; an erasure of the whole profile also clears the counts before it),
//! `refused_rows` (every row finishing refused, as
//! [`Summary::refused_rows`](tactful::bulk::Summary::refused_rows): events,
//! and consent changes the ledger refuses, such as a withdrawal of
//! `service`) and `unreadable_rows`: rows that could not be turned into a fact (unknown
//! interest path or key, unknown kind or name in `detail`, a weight that is
//! not positive and finite, a NULL `at`, an instant out of range). Such rows
//! are counted, never dropped silently; with
//! [`TactfulFunctions::strict`] they fail the query instead, naming the
//! problem.
//!
//! ## Exact, however the rows are split
//! The accumulator keeps, per group, the person's facts as a
//! [`PartialProfile`](tactful::bulk::PartialProfile): not a running
//! floating-point sum, which would depend on how rows were split. Between
//! aggregation phases the state is one `LargeBinary` column (the engine's
//! encoding, which names the taxonomy, so bytes from another engine are an
//! error, never a wrong answer) and one `UInt64` column of unreadable rows.
//! Parts merge by union, and finishing replays the facts in time order with
//! the engine's own semantics, so every partitioning, including skipped
//! partial aggregation, gives the single-process answer.
//!
//! ## Memory
//! The accumulator reports its size from the parts' heap bytes, so a
//! DataFusion memory limit
//! ([`RuntimeEnvBuilder::with_memory_limit`](datafusion::execution::runtime_env::RuntimeEnvBuilder::with_memory_limit))
//! applies to it. Without one, DataFusion's memory is unbounded.
//!
//! ## Speed
//! Event rows, read from the input or from a merged state, are appended
//! to the log of their group's bucket (buckets of 1,024 consecutive
//! groups, about a hundred for 100k people: a sequential write per row
//! into a stream the caches hold). When DataFusion takes the state or the
//! answers, a bucket at a time, its rows are grouped by a counting sort
//! and each group is encoded or answered with its rows kept apart from
//! its partial profile (which holds only consent, suppressions and other
//! facts), then freed. Interest paths resolve
//! once per distinct value (once per batch for a dictionary column), integer
//! keys by index; instants are read as Unix nanoseconds, without calendar
//! arithmetic; batches whose `kind` and `detail` are absent or all NULL take
//! a fast path. Answers come from
//! [`Engine::summarizer`](tactful::Engine::summarizer), which computes scores,
//! segments and refusals without building each profile's event store when
//! the rows allow. `examples/df_bench.rs` times the whole query on the
//! shared benchmark workload (run it in release).
//!
//! ## Errors
//! | what | when |
//! |---|---|
//! | planning error | a function called with other than 3 or 6 arguments, or with a column type it cannot read |
//! | execution error | bytes from another engine in a merge, or an unreadable row under [`TactfulFunctions::strict`] |
//! | [`InterestKeysError`] | [`TactfulFunctions::interest_keys`] given a path the taxonomy lacks |
//!
//! Nothing here panics on input data.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::indexing_slicing, clippy::panic))]

mod accumulator;
mod facts;
mod log;
mod output;
mod state;
mod udaf;

use std::sync::Arc;

use datafusion::logical_expr::AggregateUDF;
use datafusion::prelude::SessionContext;
use tactful::{Engine, Evidence, InterestId, Level};
use time::OffsetDateTime;

use crate::output::Output;
use crate::udaf::TactfulUdaf;

/// The id every partial profile carries: the group key is the person, and
/// the functions never see it, so all parts share one id and merge.
pub(crate) const ID: &str = "";

/// The configuration the functions share.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) engine: Arc<Engine>,
    pub(crate) now: OffsetDateTime,
    pub(crate) level: Level,
    pub(crate) keys: Vec<InterestId>,
    pub(crate) evidence: Evidence,
    pub(crate) strict: bool,
}

impl Config {
    pub(crate) fn vocabulary(&self) -> facts::Vocabulary<'_> {
        facts::Vocabulary {
            taxonomy: self.engine.taxonomy(),
            keys: &self.keys,
            evidence: &self.evidence,
        }
    }
}

/// A path given to [`TactfulFunctions::interest_keys`] that the engine's
/// taxonomy does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestKeysError {
    /// The key (position in the list) of the path.
    pub key: usize,
    /// The path.
    pub path: String,
}

impl std::fmt::Display for InterestKeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interest key {} names `{}`, which the taxonomy does not have",
            self.key, self.path
        )
    }
}

impl std::error::Error for InterestKeysError {}

/// The tactful aggregate functions for one engine at one instant `now`.
///
/// Built by value ([`level`](Self::level), [`interest_keys`](Self::interest_keys),
/// [`evidence`](Self::evidence), [`strict`](Self::strict)), then registered
/// on a [`SessionContext`] ([`register`](Self::register)) or handed out as
/// [`AggregateUDF`]s ([`udafs`](Self::udafs)) for any function registry.
/// `now` is fixed when the functions are built, as everywhere in tactful:
/// register again to answer for another instant.
///
/// # Example
/// ```
/// use std::sync::Arc;
/// use tactful::prelude::*;
/// use tactful_datafusion::TactfulFunctions;
/// use time::macros::datetime;
///
/// let taxonomy = Taxonomy::builder().interest("c00/i000").interest("c00/i001").build()?;
/// let engine = Arc::new(Engine::new(taxonomy, DecayPolicy::default()));
/// // Integer interest keys 0 and 1 name these paths; people without a level start at FirstParty.
/// let functions = TactfulFunctions::new(engine, datetime!(2023-11-14 22:13:20 UTC))
///     .level(Level::FirstParty)
///     .interest_keys(["c00/i000", "c00/i001"])?;
/// let names: Vec<String> = functions.udafs().iter().map(|f| f.name().to_owned()).collect();
/// assert_eq!(names, ["tactful_scores", "tactful_segments", "tactful_refusals", "tactful_profile"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TactfulFunctions {
    config: Arc<Config>,
}

impl TactfulFunctions {
    /// The functions of `engine`, answering at `now`. Every person starts
    /// at [`Level::FirstParty`], interests are named by path, consent rows
    /// carry `Evidence::Import("datafusion")`, and unreadable rows are
    /// counted.
    #[must_use]
    pub fn new(engine: Arc<Engine>, now: OffsetDateTime) -> Self {
        Self {
            config: Arc::new(Config {
                engine,
                now,
                level: Level::FirstParty,
                keys: Vec::new(),
                evidence: Evidence::Import("datafusion".to_owned()),
                strict: false,
            }),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// The personalization level every person's profile starts at.
    #[must_use]
    pub fn level(self, level: Level) -> Self {
        self.with(|c| c.level = level)
    }

    /// Integer interest keys: key `k` in an integer `interest` column names
    /// the `k`-th path of `paths`. A key outside the list is an unreadable
    /// row.
    ///
    /// # Errors
    /// [`InterestKeysError`] naming the first path the taxonomy lacks.
    pub fn interest_keys<I, S>(self, paths: I) -> Result<Self, InterestKeysError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let taxonomy = self.config.engine.taxonomy();
        let keys = paths
            .into_iter()
            .enumerate()
            .map(|(key, p)| {
                taxonomy
                    .resolve(p.as_ref())
                    .ok_or_else(|| InterestKeysError {
                        key,
                        path: p.as_ref().to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.with(|c| c.keys = keys))
    }

    /// The evidence recorded with consent changes read from rows.
    #[must_use]
    pub fn evidence(self, evidence: Evidence) -> Self {
        self.with(|c| c.evidence = evidence)
    }

    /// Whether an unreadable row fails the query (`true`) or is counted in
    /// `unreadable_rows` (`false`, the default).
    #[must_use]
    pub fn strict(self, strict: bool) -> Self {
        self.with(|c| c.strict = strict)
    }

    fn udaf(&self, output: Output) -> AggregateUDF {
        AggregateUDF::from(TactfulUdaf::new(Arc::clone(&self.config), output))
    }

    /// `tactful_scores`: each person's interest scores.
    #[must_use]
    pub fn scores(&self) -> AggregateUDF {
        self.udaf(Output::Scores)
    }

    /// `tactful_segments`: each person's gated segment memberships.
    #[must_use]
    pub fn segments(&self) -> AggregateUDF {
        self.udaf(Output::Segments)
    }

    /// `tactful_refusals`: each person's refused and unreadable rows, counted.
    #[must_use]
    pub fn refusals(&self) -> AggregateUDF {
        self.udaf(Output::Refusals)
    }

    /// `tactful_profile`: segments, scores and refusals from one aggregation.
    #[must_use]
    pub fn profile(&self) -> AggregateUDF {
        self.udaf(Output::Profile)
    }

    /// All four functions.
    #[must_use]
    pub fn udafs(&self) -> Vec<AggregateUDF> {
        Output::ALL.iter().map(|o| self.udaf(*o)).collect()
    }

    /// Registers all four functions on `ctx`, replacing earlier ones of the
    /// same names.
    pub fn register(&self, ctx: &SessionContext) {
        for f in self.udafs() {
            ctx.register_udaf(f);
        }
    }
}
