//! Rows of many people as columns, the shape a warehouse hands over.

use time::OffsetDateTime;

use crate::event::{Context, Event, Signal, Source, Weight};
use crate::suppression::Suppression;
use crate::taxonomy::InterestId;

use super::partial::{ConsentChange, Erasure, EventRow};
use super::BulkError;

/// The unit of an instant column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimeUnit {
    /// Unix seconds.
    #[default]
    Seconds,
    /// Unix milliseconds.
    Millis,
    /// Unix microseconds.
    Micros,
    /// Unix nanoseconds.
    Nanos,
}

impl TimeUnit {
    /// The instant as Unix nanoseconds, if it fits an `i64`.
    /// Nanoseconds per unit.
    fn scale(self) -> i64 {
        match self {
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Millis => 1_000_000,
            TimeUnit::Micros => 1_000,
            TimeUnit::Nanos => 1,
        }
    }

    fn instant(self, v: i64) -> Option<OffsetDateTime> {
        let nanos = match self {
            TimeUnit::Seconds => i128::from(v) * 1_000_000_000,
            TimeUnit::Millis => i128::from(v) * 1_000_000,
            TimeUnit::Micros => i128::from(v) * 1_000,
            TimeUnit::Nanos => i128::from(v),
        };
        OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    }
}

/// A weight column, in either float width: an `f32` weight is widened to
/// `f64` exactly when its row is read, so no `f64` copy is needed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum WeightColumn<'a> {
    /// `f64` weights (an Arrow `Float64`).
    F64(&'a [f64]),
    /// `f32` weights (an Arrow `Float32`).
    F32(&'a [f32]),
}

impl WeightColumn<'_> {
    fn len(self) -> usize {
        match self {
            WeightColumn::F64(w) => w.len(),
            WeightColumn::F32(w) => w.len(),
        }
    }

    fn get(self, row: usize) -> Option<f64> {
        match self {
            WeightColumn::F64(w) => w.get(row).copied(),
            WeightColumn::F32(w) => w.get(row).copied().map(f64::from),
        }
    }
}

/// An interest column: the ids themselves, or dictionary-encoded (an Arrow
/// `Dictionary(UInt16, _)` column, say), where row `i`'s interest is
/// `dictionary[keys[i]]`. A key is looked up when its row is read, so no
/// column of ids needs to be built; a key past the dictionary is an
/// [`BulkError::InvalidRow`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum InterestColumn<'a> {
    /// One id per row.
    Ids(&'a [InterestId]),
    /// One key per row into a dictionary of ids.
    Keys {
        /// The key of each row.
        keys: &'a [u16],
        /// The id of each key.
        dictionary: &'a [InterestId],
    },
}

impl InterestColumn<'_> {
    fn len(self) -> usize {
        match self {
            InterestColumn::Ids(i) => i.len(),
            InterestColumn::Keys { keys, .. } => keys.len(),
        }
    }

    /// Row `row`'s interest: `Err` with the problem for a key past the
    /// dictionary, `Ok(None)` past the end.
    fn get(self, row: usize) -> Result<Option<InterestId>, String> {
        match self {
            InterestColumn::Ids(i) => Ok(i.get(row).copied()),
            InterestColumn::Keys { keys, dictionary } => match keys.get(row) {
                None => Ok(None),
                Some(&k) => lookup(dictionary, k).map(Some),
            },
        }
    }
}

/// A dictionary's id for `key`, or the problem.
#[inline]
fn lookup(dictionary: &[InterestId], key: u16) -> Result<InterestId, String> {
    dictionary.get(usize::from(key)).copied().ok_or_else(|| {
        format!(
            "interest key {key} past the dictionary of {} interests",
            dictionary.len()
        )
    })
}

/// Event rows of many people as borrowed columns: row `i` is an event of
/// person `person[i]` (an index into the people of the call), about
/// `interest[i]`, at `at[i]`, of weight `weight[i]` (`f64`, or `f32` with
/// [`new_f32`](Self::new_f32)). Signal, source, context
/// and gift columns are optional (view, first party, on site, not a gift).
/// Rows may come in any order.
///
/// # Examples
/// ```
/// use tactful::bulk::{EventRows, TimeUnit};
/// use tactful::prelude::*;
///
/// let taxonomy = Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?;
/// let (food, hiking) = (taxonomy.require("baby/food")?, taxonomy.require("outdoor/hiking")?);
/// let person = [0, 1, 0];
/// let interest = [food, hiking, food];
/// let at = [1_700_000_000, 1_700_000_100, 1_700_086_400];
/// let weight = [1.0, 2.0, 0.5];
/// let rows = EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &weight)?
///     .with_signals(&[Signal::View, Signal::Purchase, Signal::Click])?;
/// assert_eq!(rows.len(), 3);
/// assert_eq!(rows.event(1)?.signal(), Signal::Purchase);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EventRows<'a> {
    person: &'a [u32],
    interest: InterestColumn<'a>,
    at: &'a [i64],
    unit: TimeUnit,
    weight: WeightColumn<'a>,
    signal: Option<&'a [Signal]>,
    source: Option<&'a [Source]>,
    context: Option<&'a [Context]>,
    gift: Option<&'a [bool]>,
}

impl<'a> EventRows<'a> {
    /// The required columns.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if their lengths differ.
    pub fn new(
        person: &'a [u32],
        interest: &'a [InterestId],
        at: &'a [i64],
        unit: TimeUnit,
        weight: &'a [f64],
    ) -> Result<Self, BulkError> {
        Self::from_columns(
            person,
            InterestColumn::Ids(interest),
            at,
            unit,
            WeightColumn::F64(weight),
        )
    }

    /// As [`new`](Self::new), with an `f32` weight column (an Arrow
    /// `Float32`, say): each weight is widened to `f64` exactly, row by row,
    /// so no `f64` copy of the column is needed.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if the lengths differ.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{EventRows, TimeUnit};
    /// use tactful::prelude::*;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let food = taxonomy.require("baby/food")?;
    /// let (person, interest, at) = ([0, 0], [food, food], [1_700_000_000, 1_700_000_060]);
    /// let weight = [0.5f32, 2.0];
    /// let rows = EventRows::new_f32(&person, &interest, &at, TimeUnit::Seconds, &weight)?;
    /// assert_eq!(rows.event(1)?.weight().get(), 2.0);
    /// // A weight is checked when its row is read, as with `new`.
    /// let nan = [f32::NAN, 1.0];
    /// let bad = EventRows::new_f32(&person, &interest, &at, TimeUnit::Seconds, &nan)?;
    /// assert!(bad.event(0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new_f32(
        person: &'a [u32],
        interest: &'a [InterestId],
        at: &'a [i64],
        unit: TimeUnit,
        weight: &'a [f32],
    ) -> Result<Self, BulkError> {
        Self::from_columns(
            person,
            InterestColumn::Ids(interest),
            at,
            unit,
            WeightColumn::F32(weight),
        )
    }

    /// The required columns in any of their forms: interests as ids or
    /// dictionary-encoded, weights in either float width. Nothing is
    /// copied; keys and weights are checked when their rows are read.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if the lengths differ.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{EventRows, InterestColumn, TimeUnit, WeightColumn};
    /// use tactful::prelude::*;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?;
    /// let dictionary = [taxonomy.require("baby/food")?, taxonomy.require("outdoor/hiking")?];
    /// let (person, keys, at) = ([0, 1, 0], [0u16, 1, 1], [1_700_000_000, 1_700_000_060, 1_700_000_120]);
    /// let weight = [1.0f32, 0.5, 2.0];
    /// let rows = EventRows::from_columns(
    ///     &person,
    ///     InterestColumn::Keys { keys: &keys, dictionary: &dictionary },
    ///     &at,
    ///     TimeUnit::Seconds,
    ///     WeightColumn::F32(&weight),
    /// )?;
    /// assert_eq!(rows.event(2)?.interest(), dictionary[1]);
    /// // A key past the dictionary is refused when its row is read.
    /// let bad = [0u16, 2, 1];
    /// let rows = EventRows::from_columns(
    ///     &person,
    ///     InterestColumn::Keys { keys: &bad, dictionary: &dictionary },
    ///     &at,
    ///     TimeUnit::Seconds,
    ///     WeightColumn::F32(&weight),
    /// )?;
    /// assert!(rows.event(1).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_columns(
        person: &'a [u32],
        interest: InterestColumn<'a>,
        at: &'a [i64],
        unit: TimeUnit,
        weight: WeightColumn<'a>,
    ) -> Result<Self, BulkError> {
        let rows = Self {
            person,
            interest,
            at,
            unit,
            weight,
            signal: None,
            source: None,
            context: None,
            gift: None,
        };
        rows.same_length("interest", interest.len())?;
        rows.same_length("at", at.len())?;
        rows.same_length("weight", weight.len())?;
        Ok(rows)
    }

    /// No rows.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            person: &[],
            interest: InterestColumn::Ids(&[]),
            at: &[],
            unit: TimeUnit::Seconds,
            weight: WeightColumn::F64(&[]),
            signal: None,
            source: None,
            context: None,
            gift: None,
        }
    }

    fn same_length(&self, column: &'static str, len: usize) -> Result<(), BulkError> {
        if len == self.person.len() {
            Ok(())
        } else {
            Err(BulkError::Columns {
                column,
                len,
                rows: self.person.len(),
            })
        }
    }

    /// A signal column.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if its length differs.
    pub fn with_signals(mut self, signal: &'a [Signal]) -> Result<Self, BulkError> {
        self.same_length("signal", signal.len())?;
        self.signal = Some(signal);
        Ok(self)
    }

    /// A source column.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if its length differs.
    pub fn with_sources(mut self, source: &'a [Source]) -> Result<Self, BulkError> {
        self.same_length("source", source.len())?;
        self.source = Some(source);
        Ok(self)
    }

    /// A context column.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if its length differs.
    pub fn with_contexts(mut self, context: &'a [Context]) -> Result<Self, BulkError> {
        self.same_length("context", context.len())?;
        self.context = Some(context);
        Ok(self)
    }

    /// A gift column.
    ///
    /// # Errors
    /// [`BulkError::Columns`] if its length differs.
    pub fn with_gifts(mut self, gift: &'a [bool]) -> Result<Self, BulkError> {
        self.same_length("gift", gift.len())?;
        self.gift = Some(gift);
        Ok(self)
    }

    /// The number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.person.len()
    }

    /// Whether there is no row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.person.is_empty()
    }

    /// The person column.
    #[must_use]
    pub fn persons(&self) -> &'a [u32] {
        self.person
    }

    /// The instants of `range` as given (in the column's unit).
    pub(crate) fn raw_instants(&self, range: std::ops::Range<usize>) -> &'a [i64] {
        self.at.get(range).unwrap_or(&[])
    }

    /// Nanoseconds per unit of the instant column.
    pub(crate) fn nanos_per_unit(&self) -> i64 {
        self.unit.scale()
    }

    /// Whether every weight of `range` is exactly an `f32` (or not a
    /// weight at all, which the rows' reading refuses later).
    pub(crate) fn weights_fit_f32(&self, range: std::ops::Range<usize>) -> bool {
        match self.weight {
            WeightColumn::F32(_) => true,
            WeightColumn::F64(w) => w
                .get(range)
                .unwrap_or(&[])
                .iter()
                .all(|&x| f64::from(x as f32) == x),
        }
    }

    /// Calls `f(person, instant as given, row)` with the compact form of every row of
    /// `range` whose instant fits Unix nanoseconds in an `i64` (the others
    /// are [`event`](Self::event)'s), in row order: what [`row`](Self::row)
    /// gives, a column at a time.
    ///
    /// # Errors
    /// [`BulkError::InvalidRow`] for the first row with an invalid weight
    /// or an interest key past its dictionary (or a range past the end).
    pub(crate) fn for_each_compact(
        &self,
        range: std::ops::Range<usize>,
        f: impl FnMut(u32, i64, EventRow),
    ) -> Result<(), BulkError> {
        // One loop per column form, each with its form known.
        let ids = |i: &InterestId| Ok(*i);
        let keyed = |d: &'a [InterestId]| move |k: &u16| lookup(d, *k);
        match (self.interest, self.weight) {
            (InterestColumn::Ids(i), WeightColumn::F64(w)) => self.compact(range, i, ids, w, f),
            (InterestColumn::Ids(i), WeightColumn::F32(w)) => self.compact(range, i, ids, w, f),
            (InterestColumn::Keys { keys, dictionary }, WeightColumn::F64(w)) => {
                self.compact(range, keys, keyed(dictionary), w, f)
            }
            (InterestColumn::Keys { keys, dictionary }, WeightColumn::F32(w)) => {
                self.compact(range, keys, keyed(dictionary), w, f)
            }
        }
    }

    fn compact<K, W: Copy + Into<f64>>(
        &self,
        range: std::ops::Range<usize>,
        interest: &[K],
        id: impl Fn(&K) -> Result<InterestId, String>,
        weight: &[W],
        mut f: impl FnMut(u32, i64, EventRow),
    ) -> Result<(), BulkError> {
        let scale = self.unit.scale();
        let (Some(person), Some(interest), Some(at), Some(weight)) = (
            self.person.get(range.clone()),
            interest.get(range.clone()),
            self.at.get(range.clone()),
            weight.get(range.clone()),
        ) else {
            return Err(BulkError::InvalidRow {
                row: range.end,
                problem: format!("no rows {range:?} in {} rows", self.len()),
            });
        };
        let column = |c: Option<&'a [_]>| c.and_then(|c| c.get(range.clone()));
        let (signal, source, context, gift) = (
            column(self.signal),
            self.source.and_then(|c| c.get(range.clone())),
            self.context.and_then(|c| c.get(range.clone())),
            self.gift.and_then(|c| c.get(range.clone())),
        );
        let rows = person.iter().zip(interest).zip(at).zip(weight);
        if signal.is_none() && source.is_none() && context.is_none() && gift.is_none() {
            // The usual columns only: one loop without the optional ones.
            for (k, (((&p, i), &raw), &w)) in rows.enumerate() {
                let Some(at) = raw.checked_mul(scale) else {
                    continue;
                };
                let row = range.start + k;
                let i = id(i).map_err(|problem| BulkError::InvalidRow { row, problem })?;
                let weight = Weight::new(w.into()).map_err(|e| BulkError::InvalidRow {
                    row,
                    problem: e.to_string(),
                })?;
                f(
                    p,
                    raw,
                    EventRow::new(i, Signal::View, at).with_weight(weight),
                );
            }
            return Ok(());
        }
        for (k, (((&p, i), &raw), &w)) in rows.enumerate() {
            let Some(at) = raw.checked_mul(scale) else {
                continue;
            };
            // The key first, then the weight, as `event` checks them.
            let i = id(i).map_err(|problem| BulkError::InvalidRow {
                row: range.start + k,
                problem,
            })?;
            let weight = Weight::new(w.into()).map_err(|e| BulkError::InvalidRow {
                row: range.start + k,
                problem: e.to_string(),
            })?;
            let s = signal.and_then(|c| c.get(k)).copied();
            let mut r = EventRow::new(i, s.unwrap_or(Signal::View), at).with_weight(weight);
            if let Some(&s) = source.and_then(|c| c.get(k)) {
                r = r.with_source(s);
            }
            if let Some(&c) = context.and_then(|c| c.get(k)) {
                r = r.with_context(c);
            }
            if let Some(&g) = gift.and_then(|c| c.get(k)) {
                r = r.with_gift(g);
            }
            f(p, raw, r);
        }
        Ok(())
    }

    /// Row `row` as an event.
    ///
    /// # Errors
    /// [`BulkError::InvalidRow`] for an instant out of range, an invalid
    /// weight (negative, NaN, infinite), an interest key past its
    /// dictionary, or a row past the end.
    pub fn event(&self, row: usize) -> Result<Event, BulkError> {
        let invalid = |problem: String| BulkError::InvalidRow { row, problem };
        let (Some(interest), Some(&at), Some(w)) = (
            self.interest.get(row).map_err(invalid)?,
            self.at.get(row),
            self.weight.get(row),
        ) else {
            return Err(invalid(format!("no row {row} in {} rows", self.len())));
        };
        let at = self
            .unit
            .instant(at)
            .ok_or_else(|| invalid(format!("instant {at} ({:?}) out of range", self.unit)))?;
        let weight = Weight::new(w).map_err(|e| invalid(e.to_string()))?;
        let pick = |col: Option<&[Signal]>| col.and_then(|c| c.get(row).copied());
        let mut e = Event::new(interest, pick(self.signal).unwrap_or(Signal::View), at)
            .with_valid_weight(weight);
        if let Some(&s) = self.source.and_then(|c| c.get(row)) {
            e = e.with_source(s);
        }
        if let Some(&c) = self.context.and_then(|c| c.get(row)) {
            e = e.with_context(c);
        }
        if let Some(&g) = self.gift.and_then(|c| c.get(row)) {
            e = e.with_gift(g);
        }
        Ok(e)
    }
}

/// The rows of a bulk call: event columns, and consent changes,
/// suppressions and erasures each with the index of their person.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    /// Event rows.
    pub events: EventRows<'a>,
    /// Consent change rows.
    pub consents: &'a [(u32, ConsentChange)],
    /// Suppression rows.
    pub suppressions: &'a [(u32, Suppression)],
    /// Erasure rows.
    pub erasures: &'a [(u32, Erasure)],
}

impl<'a> Rows<'a> {
    /// Event rows only.
    #[must_use]
    pub fn events(events: EventRows<'a>) -> Self {
        Self {
            events,
            consents: &[],
            suppressions: &[],
            erasures: &[],
        }
    }
}
