//! The borrowed, validated event columns a run reads.

use super::BatchError;

/// Borrowed, validated event columns: row `i` is one event.
#[derive(Debug, Clone, Copy)]
pub struct EventColumns<'a> {
    pub(super) profiles: &'a [u32],
    pub(super) interests: &'a [u16],
    pub(super) ts: &'a [i64],
    pub(super) weights: &'a [f32],
}

impl<'a> EventColumns<'a> {
    /// Checks the columns and wraps them.
    ///
    /// # Errors
    /// [`BatchError::ColumnLengthMismatch`] if the columns differ in length,
    /// [`BatchError::NonFiniteWeight`] or [`BatchError::NegativeWeight`] naming
    /// the first offending row.
    pub fn new(
        profiles: &'a [u32],
        interests: &'a [u16],
        ts: &'a [i64],
        weights: &'a [f32],
    ) -> Result<Self, BatchError> {
        let n = profiles.len();
        if interests.len() != n || ts.len() != n || weights.len() != n {
            return Err(BatchError::ColumnLengthMismatch {
                profiles: n,
                interests: interests.len(),
                ts: ts.len(),
                weights: weights.len(),
            });
        }
        // Fast vectorisable check first; locate the row only when it fails.
        let all_ok = weights
            .iter()
            .fold(true, |ok, &w| ok & (w.is_finite() & (w >= 0.0)));
        if !all_ok {
            for (row, &value) in weights.iter().enumerate() {
                if !value.is_finite() {
                    return Err(BatchError::NonFiniteWeight { row, value });
                }
                if value < 0.0 {
                    return Err(BatchError::NegativeWeight { row, value });
                }
            }
        }
        Ok(Self {
            profiles,
            interests,
            ts,
            weights,
        })
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// Profile column.
    pub fn profiles(&self) -> &'a [u32] {
        self.profiles
    }

    /// Interest column.
    pub fn interests(&self) -> &'a [u16] {
        self.interests
    }

    /// Timestamp column (unix seconds).
    pub fn ts(&self) -> &'a [i64] {
        self.ts
    }

    /// Weight column.
    pub fn weights(&self) -> &'a [f32] {
        self.weights
    }

    /// Rows `start..end` clamped to the columns (empty when out of range).
    pub(super) fn rows(&self, start: usize, end: usize) -> Self {
        let end = end.min(self.len());
        let start = start.min(end);
        Self {
            profiles: self.profiles.get(start..end).unwrap_or_default(),
            interests: self.interests.get(start..end).unwrap_or_default(),
            ts: self.ts.get(start..end).unwrap_or_default(),
            weights: self.weights.get(start..end).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    const NOW: i64 = super::super::BENCH_NOW;

    #[test]
    fn column_errors() {
        let err = EventColumns::new(&[1, 2], &[1], &[NOW, NOW], &[1.0, 1.0]).unwrap_err();
        assert_eq!(
            err,
            BatchError::ColumnLengthMismatch {
                profiles: 2,
                interests: 1,
                ts: 2,
                weights: 2
            }
        );
        let err =
            EventColumns::new(&[1, 2, 3], &[1; 3], &[NOW; 3], &[1.0, f32::NAN, -1.0]).unwrap_err();
        assert!(matches!(err, BatchError::NonFiniteWeight { row: 1, .. }));
        assert!(err.to_string().starts_with("weight at row 1 is not finite"));
        let err = EventColumns::new(&[1, 2], &[1; 2], &[NOW; 2], &[1.0, -0.5]).unwrap_err();
        assert_eq!(
            err,
            BatchError::NegativeWeight {
                row: 1,
                value: -0.5
            }
        );
        let err = EventColumns::new(&[1], &[1], &[NOW], &[f32::INFINITY]).unwrap_err();
        assert!(matches!(err, BatchError::NonFiniteWeight { row: 0, .. }));
        assert!(EventColumns::new(&[1], &[1], &[NOW], &[-0.0]).is_ok());
    }
}
