//! The raw decay kernel over event columns: **not** the engine's scoring.
//!
//! # Warning: raw decayed sums, with none of the engine's rules
//!
//! [`RawDecayKernel`] (formerly `BatchScorer`) sums
//! `weight · 2^(-age / half_life)` over whatever rows it is handed. It knows
//! nothing about the people behind the profile ids and applies **none** of
//! the rules of [`Engine::record`](crate::Engine::record) and
//! [`Engine::scores`](crate::Engine::scores). It ignores:
//!
//! * consent, and its withdrawal (retroactive in the engine);
//! * the personalization [`Level`](crate::Level) (even `Level::Off`);
//! * suppressions, including do-not-contact and bereavement (and the purge
//!   of stored signals that a bereavement triggers);
//! * gifts, dismissals and declared dislikes;
//! * minimum evidence: the policy's `min_events` on `min_days` distinct days
//!   (this kernel's `min_count` counts rows, not days);
//! * erasure tombstones;
//! * special-category (sensitive interest) rules;
//! * per-interest half-lives and max ages, the shorter partner max age,
//!   signal weights and the taxonomy's subtrees (an interest is an opaque
//!   `u16` here).
//!
//! **Its numbers must never be used to target, segment or address a person**
//! (no messages, audiences or exports built from them). They are for
//! aggregate analytics and for benchmarking the decay kernel only. The exact
//! path is [`Engine::record`](crate::Engine::record) for every event, then
//! [`Engine::scores`](crate::Engine::scores),
//! [`Engine::segments`](crate::Engine::segments) and
//! [`Engine::decide`](crate::Engine::decide) per profile; an exact bulk path
//! does not exist yet.
//!
//! # What it computes
//!
//! For every `(profile, interest)` pair present in a column set of events, the
//! kernel computes
//!
//! ```text
//! score = Σ weight · 2^(-(now - ts) / half_life)   over events with 0 <= now - ts <= max_age
//! count = number of those events
//! ```
//!
//! and the totals `pairs` (pairs with `count >= 1`), `qualifying`
//! (`score >= min_score && count >= min_count`, a raw threshold, not the
//! engine's "established") and `sum_scores`.
//!
//! # How it is fast
//!
//! * The decay factor for an integer age is two table lookups
//!   (`hi[age >> 12] * lo[age & 4095]`), with the tables rebuilt only when the
//!   half-life or the maximum age change. Ages past the table fall back to
//!   `f64::exp2`.
//! * The full `(profile, interest)` space does not fit in cache, so events are
//!   radix-partitioned by profile (a counting-sort pass into reused buffers) and
//!   each partition is accumulated into a small, cache-resident table.
//! * All large buffers live in [`RawDecayKernel`] and are reused between calls.
//! * With the `rayon` cargo feature the passes run on a rayon thread pool
//!   (the global one, or a local one with a caller-chosen number of threads).
//!
//! # Examples
//!
//! Columns of unix seconds, scored at one instant with the default
//! half-life (14 days) and maximum age (56 days):
//!
//! ```
//! use tactful::batch::{BatchParams, EventColumns, RawDecayKernel};
//!
//! // Aggregate analytics only: these are raw sums, see the warning above.
//! let now = 1_700_000_000;
//! let profiles = [1_u32, 1, 2];
//! let interests = [7_u16, 7, 3];
//! let ts = [now, now - 3_600, now + 10];
//! let weights = [2.0_f32, 1.5, 1.0];
//! let events = EventColumns::new(&profiles, &interests, &ts, &weights)?;
//! let params = BatchParams::builder().now(now).build()?;
//! let mut kernel = RawDecayKernel::new();
//! let result = kernel.score(&events, &params);
//! assert_eq!(result.pairs(), 1); // the event of profile 2 lies in the future
//! assert_eq!(result.qualifying(), 1);
//! let (profile, interest, score, count) = result.iter().next().ok_or("no pair")?;
//! assert_eq!((profile, interest, count), (1, 7, 2));
//! assert!((score - 3.4969).abs() < 1e-3); // 2 + 1.5 * 2^(-1 h / 14 days)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The instant, half-life and maximum age as the crate's types (the raw
//! seconds setters stay for the benchmark and for columnar callers):
//!
//! ```
//! use tactful::batch::{BatchParams, EventColumns, RawDecayKernel};
//! use tactful::HalfLife;
//! use time::{macros::datetime, Duration};
//!
//! let now = datetime!(2026-03-01 12:00 UTC);
//! let ts = [now, now - Duration::days(7), now - Duration::days(40)].map(|t| t.unix_timestamp());
//! let events = EventColumns::new(&[5, 5, 5], &[1, 1, 1], &ts, &[1.0, 1.0, 1.0])?;
//! let params = BatchParams::at(now)
//!     .half_life(HalfLife::new(Duration::days(7))?)
//!     .max_age(Duration::days(30)) // the event 40 days back does not count
//!     .min_score(1.0)
//!     .build()?;
//! let mut kernel = RawDecayKernel::new();
//! let result = kernel.score(&events, &params);
//! let (_, _, score, count) = result.iter().next().ok_or("no pair")?;
//! assert_eq!(count, 2);
//! assert!((score - 1.5).abs() < 1e-12); // 1 + 2^(-7 days / 7 days)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// Seconds in a day.
pub const DAY_SECS: i64 = 86_400;
/// A fixed instant, 1 700 000 000 unix seconds (2023-11-14 22:13:20 UTC):
/// the `now` of the benchmark data set (`peers.py generate`) and of
/// [`BatchParams::default`].
///
/// It is **not** the current time and never becomes it: like the rest of the
/// crate, this module never reads the clock. Scoring real events with it
/// treats everything after that instant as lying in the future (left out)
/// and everything more than 56 days before it as older than the default max
/// age. Pass the instant you mean with [`BatchParams::at`] (or, in unix
/// seconds, [`BatchParamsBuilder::now`]).
pub const BENCH_NOW: i64 = 1_700_000_000;
/// The former name of [`BENCH_NOW`], which read like a clock default.
#[deprecated(
    note = "renamed BENCH_NOW: a fixed instant in 2023, not the current time (tactful never reads the clock); pass your own `now`"
)]
pub const DEFAULT_NOW: i64 = BENCH_NOW;
/// Default half-life: 14 days, in seconds.
pub const DEFAULT_HALF_LIFE_SECS: f64 = (14 * DAY_SECS) as f64;
/// Default maximum age: 56 days, in seconds.
pub const DEFAULT_MAX_AGE_SECS: i64 = 56 * DAY_SECS;
/// Default minimum score for a pair to qualify.
pub const DEFAULT_MIN_SCORE: f64 = 3.0;
/// Default minimum event count for a pair to qualify.
pub const DEFAULT_MIN_COUNT: u32 = 2;

mod columns;
mod decay_table;
mod error;
mod kernel;
mod params;
mod partition;
mod run;

pub use columns::EventColumns;
pub use error::BatchError;
pub use kernel::{BatchResult, RawDecayKernel, Strategy};
pub use params::{BatchParams, BatchParamsBuilder};

/// The former name of [`RawDecayKernel`].
///
/// It read like the batch form of the engine's scoring, which it is not: see
/// the warning on [`RawDecayKernel`].
#[deprecated(
    note = "renamed RawDecayKernel: raw decayed sums that ignore consent, level, suppressions, gifts and minimum evidence; never use them to target a person (see the warning in `tactful::batch`); Engine::record / Engine::scores are the exact path"
)]
pub type BatchScorer = RawDecayKernel;
