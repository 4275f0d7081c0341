//! The errors of the raw decay kernel and its inputs.

use thiserror::Error;

/// Errors reported by the raw decay kernel and its inputs.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The half-life is not a finite number of seconds greater than zero.
    #[error("half-life must be a finite number of seconds greater than zero, got {0}")]
    InvalidHalfLife(f64),
    /// The maximum age is negative.
    #[error("max age must be zero or more seconds, got {0}")]
    NegativeMaxAge(i64),
    /// The minimum score is NaN or infinite.
    #[error("min score must be finite, got {0}")]
    NonFiniteMinScore(f64),
    /// The event columns do not all have the same length.
    #[error(
        "event columns differ in length: profiles {profiles}, interests {interests}, ts {ts}, weights {weights}"
    )]
    ColumnLengthMismatch {
        /// Length of the profile column.
        profiles: usize,
        /// Length of the interest column.
        interests: usize,
        /// Length of the timestamp column.
        ts: usize,
        /// Length of the weight column.
        weights: usize,
    },
    /// A weight is NaN or infinite.
    #[error("weight at row {row} is not finite ({value})")]
    NonFiniteWeight {
        /// Zero-based row of the offending event.
        row: usize,
        /// The offending weight.
        value: f32,
    },
    /// A weight is negative.
    #[error("weight at row {row} is negative ({value})")]
    NegativeWeight {
        /// Zero-based row of the offending event.
        row: usize,
        /// The offending weight.
        value: f32,
    },
    /// A thread count of zero was requested.
    #[error("thread count must be at least 1")]
    ZeroThreads,
    /// The rayon thread pool could not be built.
    #[error("could not build the thread pool: {0}")]
    ThreadPool(String),
}
