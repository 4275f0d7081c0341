//! The state columns: each group's partial profile in the engine's binary
//! encoding, and its count of unreadable rows.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, LargeBinaryArray, UInt64Array};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use tactful::bulk::{EventRow, PartialProfile};
use tactful::Engine;

use crate::Config;

/// The types of the state columns: the encoded partial profile, and the
/// count of rows that could not be read into facts.
pub(crate) fn state_types() -> [DataType; 2] {
    [DataType::LargeBinary, DataType::UInt64]
}

/// State columns built one group after another: the engine's encoding of
/// each group's partial profile (fingerprinted, so another engine's bytes
/// are refused on merge) and the unreadable counts.
pub(crate) struct State {
    values: Vec<u8>,
    offsets: Vec<i64>,
    counts: Vec<u64>,
}

/// Bytes the engine's encoding takes per event row, and about how many per
/// group besides (header, id, counts, a few consent changes): the values
/// are reserved once, not regrown and copied as they fill.
pub(crate) const ROW_BYTES: usize = 23;
const GROUP_BYTES: usize = 64;

impl State {
    /// For `groups` groups holding `rows` event rows in all.
    pub(crate) fn new(groups: usize, rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(groups + 1);
        offsets.push(0);
        Self {
            values: Vec::with_capacity(
                rows.saturating_mul(ROW_BYTES)
                    .saturating_add(groups.saturating_mul(GROUP_BYTES)),
            ),
            offsets,
            counts: Vec::with_capacity(groups),
        }
    }

    pub(crate) fn push(
        &mut self,
        engine: &Engine,
        partial: &PartialProfile,
        unreadable: u64,
    ) -> Result<()> {
        self.push_with_rows(engine, partial, &[], unreadable)
    }

    /// As `push`, for `partial` with the event `rows` kept apart from it.
    pub(crate) fn push_with_rows(
        &mut self,
        engine: &Engine,
        partial: &PartialProfile,
        rows: &[EventRow],
        unreadable: u64,
    ) -> Result<()> {
        engine.encode_partial_with_rows(partial, rows, &mut self.values);
        self.offsets.push(offset(self.values.len())?);
        self.counts.push(unreadable);
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<Vec<ArrayRef>> {
        let bytes = LargeBinaryArray::try_new(
            OffsetBuffer::new(self.offsets.into()),
            self.values.into(),
            None,
        )?;
        let counts = UInt64Array::from(self.counts);
        Ok(vec![Arc::new(bytes), Arc::new(counts)])
    }
}

/// The state columns of `partials` and their `unreadable` counts.
pub(crate) fn encode_state(
    config: &Config,
    partials: &[PartialProfile],
    unreadable: &[u64],
) -> Result<Vec<ArrayRef>> {
    let rows = partials.iter().map(PartialProfile::event_count).sum();
    let mut state = State::new(partials.len(), rows);
    for (g, p) in partials.iter().enumerate() {
        state.push(&config.engine, p, unreadable.get(g).copied().unwrap_or(0))?;
    }
    state.finish()
}

pub(crate) fn offset(len: usize) -> Result<i64> {
    i64::try_from(len)
        .map_err(|_| DataFusionError::Execution("tactful: state larger than i64".to_owned()))
}
