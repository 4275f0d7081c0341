//! What the functions return: the Arrow types of scores, segments and
//! refusals, and finishing each group's facts at `now` into them.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, ListArray, StringBuilder, StructArray,
    UInt32Builder, UInt64Builder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{DataFusionError, Result};
use tactful::{Profile, RefusalKind};

use tactful::bulk::{EventRow, PartialProfile, Summarizer};

use crate::{Config, ID};

/// Which answer a function gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Output {
    Scores,
    Segments,
    Refusals,
    Profile,
}

impl Output {
    pub(crate) const ALL: [Output; 4] = [
        Output::Scores,
        Output::Segments,
        Output::Refusals,
        Output::Profile,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Scores => "tactful_scores",
            Self::Segments => "tactful_segments",
            Self::Refusals => "tactful_refusals",
            Self::Profile => "tactful_profile",
        }
    }

    pub(crate) fn data_type(self) -> DataType {
        match self {
            Self::Scores => DataType::List(scores_item()),
            Self::Segments => DataType::List(segments_item()),
            Self::Refusals => DataType::Struct(refusal_fields()),
            Self::Profile => DataType::Struct(profile_fields()),
        }
    }

    fn needs_scores(self) -> bool {
        matches!(self, Self::Scores | Self::Profile)
    }

    fn needs_segments(self) -> bool {
        matches!(self, Self::Segments | Self::Profile)
    }

    fn needs_refusals(self) -> bool {
        matches!(self, Self::Refusals | Self::Profile)
    }
}

fn segments_item() -> FieldRef {
    Arc::new(Field::new_list_field(DataType::Utf8, false))
}

fn score_fields() -> Fields {
    Fields::from(vec![
        Field::new("interest", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("events", DataType::UInt32, false),
        Field::new("days", DataType::UInt32, false),
        Field::new("established", DataType::Boolean, false),
    ])
}

fn scores_item() -> FieldRef {
    Arc::new(Field::new_list_field(
        DataType::Struct(score_fields()),
        false,
    ))
}

/// The refusal counters, in output order: one per kind of refused event
/// (named as `RefusalKind` serializes), `other` for kinds added to the core
/// later, then every row finishing refused, and rows that could not be read.
pub(crate) const REFUSAL_FIELDS: [&str; 15] = [
    "no_consent",
    "level",
    "suppressed",
    "stale",
    "from_future",
    "invalid",
    "erased",
    "sensitive",
    "disliked",
    "dismissed",
    "duplicate",
    "limit",
    "other",
    "refused_rows",
    "unreadable_rows",
];

const OTHER: usize = 12;
const REFUSED_ROWS: usize = 13;
const UNREADABLE: usize = 14;

fn kind_index(kind: RefusalKind) -> usize {
    match kind {
        RefusalKind::NoConsent => 0,
        RefusalKind::Level => 1,
        RefusalKind::Suppressed => 2,
        RefusalKind::Stale => 3,
        RefusalKind::FromFuture => 4,
        RefusalKind::Invalid => 5,
        RefusalKind::Erased => 6,
        RefusalKind::Sensitive => 7,
        RefusalKind::Disliked => 8,
        RefusalKind::Dismissed => 9,
        RefusalKind::Duplicate => 10,
        RefusalKind::Limit => 11,
        _ => OTHER,
    }
}

fn refusal_fields() -> Fields {
    REFUSAL_FIELDS
        .iter()
        .map(|n| Field::new(*n, DataType::UInt64, false))
        .collect()
}

fn profile_fields() -> Fields {
    Fields::from(vec![
        Field::new("segments", Output::Segments.data_type(), false),
        Field::new("scores", Output::Scores.data_type(), false),
        Field::new("refusals", Output::Refusals.data_type(), false),
    ])
}

/// Builders for every column an output may need.
struct Columns {
    segment_offsets: Vec<i32>,
    segment_names: StringBuilder,
    score_offsets: Vec<i32>,
    interest: StringBuilder,
    score: Float64Builder,
    events: UInt32Builder,
    days: UInt32Builder,
    established: BooleanBuilder,
    refusals: Vec<UInt64Builder>,
}

impl Columns {
    fn new(groups: usize) -> Self {
        Self {
            segment_offsets: vec![0],
            segment_names: StringBuilder::new(),
            score_offsets: vec![0],
            interest: StringBuilder::new(),
            score: Float64Builder::new(),
            events: UInt32Builder::new(),
            days: UInt32Builder::new(),
            established: BooleanBuilder::new(),
            refusals: REFUSAL_FIELDS
                .iter()
                .map(|_| UInt64Builder::with_capacity(groups))
                .collect(),
        }
    }

    fn segments(&mut self) -> Result<ArrayRef> {
        let offsets = std::mem::take(&mut self.segment_offsets);
        Ok(Arc::new(ListArray::try_new(
            segments_item(),
            OffsetBuffer::new(offsets.into()),
            Arc::new(self.segment_names.finish()),
            None,
        )?))
    }

    fn scores(&mut self) -> Result<ArrayRef> {
        let offsets = std::mem::take(&mut self.score_offsets);
        let values = StructArray::try_new(
            score_fields(),
            vec![
                Arc::new(self.interest.finish()),
                Arc::new(self.score.finish()),
                Arc::new(self.events.finish()),
                Arc::new(self.days.finish()),
                Arc::new(self.established.finish()),
            ],
            None,
        )?;
        Ok(Arc::new(ListArray::try_new(
            scores_item(),
            OffsetBuffer::new(offsets.into()),
            Arc::new(values),
            None,
        )?))
    }

    fn refusals(&mut self) -> Result<ArrayRef> {
        let columns: Vec<ArrayRef> = self
            .refusals
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        Ok(Arc::new(StructArray::try_new(
            refusal_fields(),
            columns,
            None,
        )?))
    }
}

fn offset(len: usize) -> Result<i32> {
    i32::try_from(len).map_err(|_| {
        DataFusionError::Execution("tactful: output list larger than i32 offsets".to_owned())
    })
}

/// Every group's answer, built one group after another: each group's facts
/// are summarized at `now` (what finishing them would give, without
/// building each profile's store when the rows allow) as they come, so the
/// caller can drop a group's rows once it is answered.
pub(crate) struct Answers<'c> {
    config: &'c Config,
    output: Output,
    base: Profile,
    cols: Columns,
    counts: [u64; REFUSAL_FIELDS.len()],
    // One summarizer for every group: its buffers are reused.
    summarizer: Summarizer<'c>,
}

impl<'c> Answers<'c> {
    /// Answers for about `groups` groups.
    pub(crate) fn new(config: &'c Config, output: Output, groups: usize) -> Self {
        let mut base = Profile::new(ID);
        base.set_level(config.level);
        Self {
            config,
            output,
            base,
            cols: Columns::new(groups),
            counts: [0; REFUSAL_FIELDS.len()],
            summarizer: config.engine.summarizer(),
        }
    }

    /// Answers the next group, whose facts are `partial`, with `unreadable`
    /// rows that could not be read.
    pub(crate) fn push(&mut self, partial: &PartialProfile, unreadable: u64) -> Result<()> {
        self.push_with_rows(partial, &mut [], unreadable)
    }

    /// Answers the next group, whose facts are `partial` and the event
    /// `rows` kept apart from it (reordered), with `unreadable` rows that
    /// could not be read.
    pub(crate) fn push_with_rows(
        &mut self,
        partial: &PartialProfile,
        rows: &mut [EventRow],
        unreadable: u64,
    ) -> Result<()> {
        let taxonomy = self.config.engine.taxonomy();
        let summary = self
            .summarizer
            .summarize_with_rows(&self.base, partial, rows, self.config.now)
            .map_err(|e| DataFusionError::Execution(format!("tactful: {e}")))?;
        let (cols, counts) = (&mut self.cols, &mut self.counts);
        if self.output.needs_segments() {
            for name in &summary.segments {
                cols.segment_names.append_value(name);
            }
            cols.segment_offsets.push(offset(cols.segment_names.len())?);
        }
        if self.output.needs_scores() {
            for (id, s) in summary.scores.iter() {
                cols.interest
                    .append_value(taxonomy.path(id).unwrap_or_default());
                cols.score.append_value(s.score);
                cols.events.append_value(s.events);
                cols.days.append_value(s.days);
                cols.established.append_value(s.established.is_some());
            }
            cols.score_offsets.push(offset(cols.score.len())?);
        }
        if self.output.needs_refusals() {
            counts.fill(0);
            for (kind, n) in summary.refusals.iter() {
                if let Some(c) = counts.get_mut(kind_index(kind)) {
                    *c = c.saturating_add(n);
                }
            }
            if let Some(c) = counts.get_mut(REFUSED_ROWS) {
                *c = u64::try_from(summary.refused_rows).unwrap_or(u64::MAX);
            }
            if let Some(c) = counts.get_mut(UNREADABLE) {
                *c = unreadable;
            }
            for (b, c) in cols.refusals.iter_mut().zip(*counts) {
                b.append_value(c);
            }
        }
        Ok(())
    }

    /// The output column, one row per group pushed.
    pub(crate) fn finish(mut self) -> Result<ArrayRef> {
        let cols = &mut self.cols;
        match self.output {
            Output::Scores => cols.scores(),
            Output::Segments => cols.segments(),
            Output::Refusals => cols.refusals(),
            Output::Profile => {
                let columns = vec![cols.segments()?, cols.scores()?, cols.refusals()?];
                Ok(Arc::new(StructArray::try_new(
                    profile_fields(),
                    columns,
                    None,
                )?))
            }
        }
    }
}

/// Every group's answer: group `g`'s facts are `partials[g]`, with
/// `unreadable[g]` rows that could not be read.
pub(crate) fn evaluate(
    config: &Config,
    output: Output,
    partials: &[PartialProfile],
    unreadable: &[u64],
) -> Result<ArrayRef> {
    let mut answers = Answers::new(config, output, partials.len());
    for (g, partial) in partials.iter().enumerate() {
        answers.push(partial, unreadable.get(g).copied().unwrap_or(0))?;
    }
    answers.finish()
}
