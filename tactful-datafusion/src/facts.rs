//! Reading fact rows: the functions' arguments, column by column, turned
//! into events, consent changes, suppressions and erasures, or into a reason
//! the row could not be read. Owns the argument shapes and their coercion.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, StringArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{plan_err, DataFusionError, Result};
use serde::de::value::{Error as ValueError, StrDeserializer};
use serde::de::IntoDeserializer;
use serde::Deserialize;
use tactful::consent::{Change, ConsentEntry};
use tactful::{
    Channel, Context, Event, Evidence, InterestId, Purpose, Scope, Signal, Source, Suppression,
    SuppressionReason, Taxonomy, Weight,
};
use time::OffsetDateTime;

use tactful::bulk::{ConsentChange, Erasure, EventRow};

/// Where each argument sits: the short form `(interest, at, weight)` holds
/// events only; the facts form `(kind, interest, at, weight, detail, until)`
/// holds every kind of row.
#[derive(Debug, Clone, Copy)]
struct Layout {
    kind: Option<usize>,
    interest: usize,
    at: usize,
    weight: usize,
    detail: Option<usize>,
    until: Option<usize>,
}

const SHORT: Layout = Layout {
    kind: None,
    interest: 0,
    at: 1,
    weight: 2,
    detail: None,
    until: None,
};

const FACTS: Layout = Layout {
    kind: Some(0),
    interest: 1,
    at: 2,
    weight: 3,
    detail: Some(4),
    until: Some(5),
};

fn layout(arity: usize) -> Result<Layout> {
    match arity {
        3 => Ok(SHORT),
        6 => Ok(FACTS),
        n => plan_err!(
            "tactful functions take (interest, at, weight) or \
             (kind, interest, at, weight, detail, until), not {n} arguments"
        ),
    }
}

/// The types the arguments are cast to before the accumulator sees them.
pub(crate) fn coerce(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let l = layout(types.len())?;
    let mut out = types.to_vec();
    for (i, t) in types.iter().enumerate() {
        let coerced = if Some(i) == l.kind || Some(i) == l.detail {
            text(t)
        } else if i == l.interest {
            if t.is_integer() {
                Some(DataType::Int64)
            } else {
                text(t)
            }
        } else if i == l.at || Some(i) == l.until {
            instant(t)
        } else {
            number(t)
        };
        match (coerced, out.get_mut(i)) {
            (Some(c), Some(slot)) => *slot = c,
            _ => return plan_err!("{name}: argument {} of type {t} is not supported", i + 1),
        }
    }
    Ok(out)
}

fn text(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(t.clone()),
        DataType::Null => Some(DataType::Utf8),
        DataType::Dictionary(_, v) if text(v).is_some() => Some(DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(DataType::Utf8),
        )),
        _ => None,
    }
}

fn instant(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Timestamp(_, _) => Some(t.clone()),
        DataType::Null => Some(DataType::Int64),
        t if t.is_integer() => Some(DataType::Int64),
        _ => None,
    }
}

fn number(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Null => Some(DataType::Float64),
        t if t.is_numeric() => Some(DataType::Float64),
        _ => None,
    }
}

/// One row read.
#[derive(Debug, Clone)]
pub(crate) enum Fact {
    /// An event whose instant fits Unix nanoseconds (years 1678 to 2261).
    Row(EventRow),
    /// An event outside those years: kept, and refused as invalid when
    /// finished, as the engine refuses it.
    Wide(Event),
    Consent(ConsentChange),
    Suppression(Suppression),
    Erasure(Erasure),
}

/// Why a row could not be read: the message names the column and value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unreadable(pub(crate) String);

/// A text column of any string encoding.
enum Texts<'a> {
    Utf8(&'a StringArray),
    Large(&'a datafusion::arrow::array::LargeStringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
    Dict(&'a DictionaryArray<Int32Type>, &'a StringArray),
    Null,
}

impl<'a> Texts<'a> {
    fn new(array: &'a ArrayRef) -> Result<Self> {
        Ok(match array.data_type() {
            DataType::Utf8 => Self::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Self::Large(array.as_string::<i64>()),
            DataType::Utf8View => Self::View(array.as_string_view()),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = array.as_dictionary::<Int32Type>();
                Self::Dict(d, d.values().as_string::<i32>())
            }
            DataType::Null => Self::Null,
            t => return Err(internal(format!("text column of type {t}"))),
        })
    }

    #[inline]
    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            Self::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            Self::Large(a) => a.is_valid(row).then(|| a.value(row)),
            Self::View(a) => a.is_valid(row).then(|| a.value(row)),
            Self::Dict(d, v) => {
                let k = d.keys();
                if !k.is_valid(row) {
                    return None;
                }
                let i = usize::try_from(k.value(row)).ok()?;
                (i < v.len() && v.is_valid(i)).then(|| v.value(i))
            }
            Self::Null => None,
        }
    }
}

/// An instant column: unix seconds or a timestamp of any unit, read as its
/// raw `i64` values and validity.
struct Instants<'a> {
    values: &'a [i64],
    nulls: Option<&'a NullBuffer>,
    /// Nanoseconds per unit; 0 for unix seconds (the fast path).
    scale: i128,
}

impl<'a> Instants<'a> {
    fn new(array: &'a ArrayRef) -> Result<Self> {
        let (values, scale): (&'a [i64], i128) = match array.data_type() {
            DataType::Int64 => (array.as_primitive::<Int64Type>().values(), 0),
            DataType::Timestamp(TimeUnit::Second, _) => {
                (array.as_primitive::<TimestampSecondType>().values(), 0)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => (
                array.as_primitive::<TimestampMillisecondType>().values(),
                1_000_000,
            ),
            DataType::Timestamp(TimeUnit::Microsecond, _) => (
                array.as_primitive::<TimestampMicrosecondType>().values(),
                1_000,
            ),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                (array.as_primitive::<TimestampNanosecondType>().values(), 1)
            }
            DataType::Null => (&[], 0),
            t => return Err(internal(format!("instant column of type {t}"))),
        };
        Ok(Self {
            values,
            nulls: array.nulls(),
            scale,
        })
    }

    /// The raw value of a row, `None` for a null.
    #[inline]
    fn raw(&self, row: usize) -> Option<i64> {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            return None;
        }
        self.values.get(row).copied()
    }

    /// Unix nanoseconds, when they fit an `i64` (the years 1678 to 2261).
    #[inline]
    fn nanos(&self, raw: i64) -> Option<i64> {
        match self.scale {
            0 => raw.checked_mul(1_000_000_000),
            1 => Some(raw),
            s => i64::try_from(i128::from(raw) * s).ok(),
        }
    }

    /// The instant of `raw`, `None` when out of range.
    fn instant(&self, raw: i64) -> Option<OffsetDateTime> {
        if self.scale == 0 {
            OffsetDateTime::from_unix_timestamp(raw).ok()
        } else {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(raw) * self.scale).ok()
        }
    }

    /// `Ok(None)` for a null, `Err(raw)` for an instant out of range.
    fn get(&self, row: usize) -> Result<Option<OffsetDateTime>, i64> {
        match self.raw(row) {
            None => Ok(None),
            Some(raw) => self.instant(raw).map(Some).ok_or(raw),
        }
    }
}

fn internal(what: String) -> DataFusionError {
    DataFusionError::Internal(format!("tactful: unexpected {what} after coercion"))
}

/// What a row is, from its `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Event,
    Grant,
    Withdraw,
    Suppress,
    Erase,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "event" => Self::Event,
            "grant" => Self::Grant,
            "withdraw" => Self::Withdraw,
            "suppress" => Self::Suppress,
            "erase" => Self::Erase,
            _ => return None,
        })
    }
}

/// The `detail` column of a row, parsed once per distinct value and kind.
#[derive(Debug, Clone, Copy)]
enum Detail {
    Event {
        signal: Signal,
        source: Source,
        context: Context,
        gift: bool,
    },
    Purpose(Purpose),
    Suppress {
        reason: SuppressionReason,
        channel: Option<Channel>,
        purpose: Option<Purpose>,
        all: bool,
    },
}

/// A unit enum variant by its snake_case (serde) name, so every name the
/// core accepts in JSON is accepted here too, new ones included.
fn named<'de, T: Deserialize<'de>>(s: &'de str) -> Option<T> {
    let d: StrDeserializer<'de, ValueError> = s.into_deserializer();
    T::deserialize(d).ok()
}

fn parse_event_detail(s: &str) -> Result<Detail, String> {
    let (mut signal, mut source, mut context, mut gift) =
        (Signal::View, Source::default(), Context::default(), false);
    for token in s.split_whitespace() {
        match token.split_once('=') {
            Some(("source", v)) => source = named(v).ok_or(format!("unknown source `{v}`"))?,
            Some(("context", v)) => context = named(v).ok_or(format!("unknown context `{v}`"))?,
            Some((k, _)) => return Err(format!("unknown event detail `{k}`")),
            None if token == "gift" => gift = true,
            None => signal = named(token).ok_or(format!("unknown signal `{token}`"))?,
        }
    }
    Ok(Detail::Event {
        signal,
        source,
        context,
        gift,
    })
}

fn parse_purpose(s: &str) -> Result<Detail, String> {
    named(s.trim())
        .map(Detail::Purpose)
        .ok_or(format!("unknown purpose `{s}`"))
}

fn parse_suppress_detail(s: &str) -> Result<Detail, String> {
    let mut tokens = s.split_whitespace();
    let first = tokens.next().ok_or("a suppression needs a reason")?;
    let reason = named(first).ok_or(format!("unknown suppression reason `{first}`"))?;
    let (mut channel, mut purpose, mut all) = (None, None, false);
    for token in tokens {
        match token.split_once('=') {
            Some(("channel", v)) => {
                channel = Some(named(v).ok_or(format!("unknown channel `{v}`"))?)
            }
            Some(("purpose", v)) => {
                purpose = Some(named(v).ok_or(format!("unknown purpose `{v}`"))?)
            }
            None if token == "all" => all = true,
            _ => return Err(format!("unknown suppression detail `{token}`")),
        }
    }
    Ok(Detail::Suppress {
        reason,
        channel,
        purpose,
        all,
    })
}

type Parser = fn(&str) -> Result<Detail, String>;

/// Caches kept across batches: interest paths and details resolve once per
/// distinct value.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    paths: HashMap<Box<str>, Option<InterestId>>,
    details: [HashMap<Box<str>, Result<Detail, String>>; 3],
    /// The resolved values of the current batch's interest dictionary.
    dict: Vec<Option<InterestId>>,
}

impl Caches {
    fn path(&mut self, taxonomy: &Taxonomy, path: &str) -> Option<InterestId> {
        if let Some(id) = self.paths.get(path) {
            return *id;
        }
        let id = taxonomy.resolve(path);
        self.paths.insert(path.into(), id);
        id
    }

    fn detail(&mut self, kind: Kind, s: &str) -> Result<Detail, String> {
        let (slot, parse): (usize, Parser) = match kind {
            Kind::Event => (0, parse_event_detail),
            Kind::Grant | Kind::Withdraw => (1, parse_purpose),
            Kind::Suppress | Kind::Erase => (2, parse_suppress_detail),
        };
        let Some(map) = self.details.get_mut(slot) else {
            return parse(s);
        };
        if let Some(d) = map.get(s) {
            return d.clone();
        }
        let d = parse(s);
        map.insert(s.into(), d.clone());
        d
    }

    /// Bytes held by the caches.
    pub(crate) fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Box<str>, Result<Detail, String>)>() + 8;
        let paths: usize = self.paths.keys().map(|k| k.len() + entry).sum();
        let details: usize = self
            .details
            .iter()
            .flat_map(|m| m.keys())
            .map(|k| k.len() + entry)
            .sum();
        paths + details + self.dict.capacity() * std::mem::size_of::<Option<InterestId>>()
    }
}

/// How interests are named in the input.
enum Interests<'a> {
    Paths(Texts<'a>),
    /// Dictionary-encoded paths: keys into `Caches::dict`.
    DictKeys(&'a datafusion::arrow::array::Int32Array),
    /// Integer keys into the configured list of paths.
    Keys(&'a [i64], Option<&'a NullBuffer>),
}

/// What the reader needs from the functions' configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vocabulary<'a> {
    pub(crate) taxonomy: &'a Taxonomy,
    pub(crate) keys: &'a [InterestId],
    pub(crate) evidence: &'a Evidence,
}

/// The columns of one batch, ready to be read row by row.
pub(crate) struct Rows<'a> {
    /// Whether `kind` and `detail` are absent or all null: every row is a
    /// plain event.
    plain: bool,
    kind: Option<Texts<'a>>,
    interest: Interests<'a>,
    at: Instants<'a>,
    weights: &'a [f64],
    weight_nulls: Option<&'a NullBuffer>,
    detail: Option<Texts<'a>>,
    until: Option<Instants<'a>>,
    caches: &'a mut Caches,
    vocabulary: Vocabulary<'a>,
}

impl<'a> Rows<'a> {
    /// Views `values` (the coerced arguments) for reading.
    pub(crate) fn new(
        values: &'a [ArrayRef],
        caches: &'a mut Caches,
        vocabulary: Vocabulary<'a>,
    ) -> Result<Self> {
        let l = layout(values.len())?;
        let col = |i: usize| {
            values
                .get(i)
                .ok_or_else(|| internal(format!("argument count {}", values.len())))
        };
        let interest_col = col(l.interest)?;
        let interest = match interest_col.data_type() {
            DataType::Int64 => {
                let a = interest_col.as_primitive::<Int64Type>();
                Interests::Keys(a.values(), a.nulls())
            }
            DataType::Dictionary(_, _) => {
                let wrong = || {
                    internal(format!(
                        "interest column of type {}",
                        interest_col.data_type()
                    ))
                };
                let d = interest_col
                    .as_dictionary_opt::<Int32Type>()
                    .ok_or_else(wrong)?;
                let v = d.values().as_string_opt::<i32>().ok_or_else(wrong)?;
                caches.dict.clear();
                for i in 0..v.len() {
                    let id = if v.is_valid(i) {
                        caches.path(vocabulary.taxonomy, v.value(i))
                    } else {
                        None
                    };
                    caches.dict.push(id);
                }
                Interests::DictKeys(d.keys())
            }
            _ => Interests::Paths(Texts::new(interest_col)?),
        };
        let weight_col = col(l.weight)?;
        let (weights, weight_nulls): (&[f64], _) = match weight_col.data_type() {
            DataType::Float64 => {
                let a = weight_col.as_primitive::<Float64Type>();
                (a.values(), a.nulls())
            }
            DataType::Null => (&[], None),
            t => return Err(internal(format!("weight column of type {t}"))),
        };
        let all_null = |i: Option<usize>| {
            i.and_then(|i| values.get(i))
                .is_none_or(|a| a.logical_null_count() == a.len())
        };
        Ok(Self {
            plain: all_null(l.kind) && all_null(l.detail),
            kind: l.kind.map(col).transpose()?.map(Texts::new).transpose()?,
            interest,
            at: Instants::new(col(l.at)?)?,
            weights,
            weight_nulls,
            detail: l.detail.map(col).transpose()?.map(Texts::new).transpose()?,
            until: l
                .until
                .map(col)
                .transpose()?
                .map(Instants::new)
                .transpose()?,
            caches,
            vocabulary,
        })
    }

    /// The interest of a row: `Ok(None)` when the column is null.
    #[inline]
    fn interest(&mut self, row: usize) -> Result<Option<InterestId>, Unreadable> {
        match &self.interest {
            Interests::Keys(values, nulls) => {
                if nulls.is_some_and(|n| n.is_null(row)) {
                    return Ok(None);
                }
                let k = values.get(row).copied().unwrap_or(-1);
                usize::try_from(k)
                    .ok()
                    .and_then(|k| self.vocabulary.keys.get(k))
                    .copied()
                    .map(Some)
                    .ok_or_else(|| {
                        Unreadable(format!(
                            "interest key {k} is not in the {} configured interest keys",
                            self.vocabulary.keys.len()
                        ))
                    })
            }
            Interests::DictKeys(keys) => {
                if !keys.is_valid(row) {
                    return Ok(None);
                }
                let k = keys.value(row);
                match usize::try_from(k)
                    .ok()
                    .and_then(|k| self.caches.dict.get(k))
                {
                    Some(Some(id)) => Ok(Some(*id)),
                    _ => Err(self.unknown_path_in_dict(row)),
                }
            }
            Interests::Paths(texts) => match texts.get(row) {
                None => Ok(None),
                Some(path) => match self.caches.path(self.vocabulary.taxonomy, path) {
                    Some(id) => Ok(Some(id)),
                    None => Err(Unreadable(format!("unknown interest path `{path}`"))),
                },
            },
        }
    }

    #[cold]
    fn unknown_path_in_dict(&self, _row: usize) -> Unreadable {
        Unreadable("unknown interest path in a dictionary column".to_owned())
    }

    /// Whether every row of the batch is a plain event (no kind, no detail).
    pub(crate) fn events_only(&self) -> bool {
        self.plain
    }

    /// A plain event row (view, first party, on site) read without any
    /// check beyond what it needs; `None` for anything else, which
    /// [`fact`](Self::fact) reads and reports.
    #[inline]
    pub(crate) fn plain_event(&mut self, row: usize) -> Option<EventRow> {
        let nanos = self.at.nanos(self.at.raw(row)?)?;
        let interest = match &self.interest {
            Interests::Keys(values, nulls) => {
                if nulls.is_some_and(|n| n.is_null(row)) {
                    return None;
                }
                let k = usize::try_from(*values.get(row)?).ok()?;
                *self.vocabulary.keys.get(k)?
            }
            _ => self.interest(row).ok()??,
        };
        let event = EventRow::new(interest, Signal::View, nanos);
        if self.weight_nulls.is_some_and(|n| n.is_null(row)) {
            return Some(event);
        }
        match self.weights.get(row) {
            None => Some(event),
            Some(&w) => Weight::new(w).ok().map(|w| event.with_weight(w)),
        }
    }

    /// Reads one row.
    #[inline]
    pub(crate) fn fact(&mut self, row: usize) -> Result<Fact, Unreadable> {
        let kind = match self.kind.as_ref().and_then(|k| k.get(row)) {
            None => Kind::Event,
            Some(s) => Kind::parse(s).ok_or_else(|| {
                Unreadable(format!(
                    "unknown kind `{s}` (event, grant, withdraw, suppress or erase)"
                ))
            })?,
        };
        let Some(raw) = self.at.raw(row) else {
            return Err(Unreadable("`at` is null".to_owned()));
        };
        if kind == Kind::Event {
            if let Some(nanos) = self.at.nanos(raw) {
                return self.event(row, nanos).map(Fact::Row);
            }
        }
        let Some(at) = self.at.instant(raw) else {
            return Err(Unreadable(format!("`at` {raw} is out of range")));
        };
        if kind == Kind::Event {
            return self
                .event(row, 0)
                .map(|r| Fact::Wide(r.event_at_instant(at)));
        }
        let detail = self.detail(kind, row)?;
        match (kind, detail) {
            (Kind::Grant, Some(Detail::Purpose(p))) => {
                let expires = self.until(row)?;
                Ok(Fact::Consent(ConsentEntry {
                    purpose: p,
                    change: Change::Grant { expires },
                    at,
                    evidence: self.vocabulary.evidence.clone(),
                }))
            }
            (Kind::Withdraw, Some(Detail::Purpose(p))) => Ok(Fact::Consent(ConsentEntry {
                purpose: p,
                change: Change::Withdraw,
                at,
                evidence: self.vocabulary.evidence.clone(),
            })),
            (Kind::Suppress, Some(d)) => self.suppression(row, at, d),
            (Kind::Erase, _) => Ok(Fact::Erasure(match self.interest(row)? {
                Some(i) => Erasure::interest(i, at),
                None => Erasure::profile(at),
            })),
            (_, _) => Err(Unreadable(format!(
                "a {} row needs `detail` (its purpose or reason)",
                kind_name(kind)
            ))),
        }
    }

    /// The event of a row, at `nanos`.
    #[inline]
    fn event(&mut self, row: usize, nanos: i64) -> Result<EventRow, Unreadable> {
        let Some(interest) = self.interest(row)? else {
            return Err(Unreadable("an event needs an interest".to_owned()));
        };
        let mut event = EventRow::new(interest, Signal::View, nanos);
        if let Some(Detail::Event {
            signal,
            source,
            context,
            gift,
        }) = self.detail(Kind::Event, row)?
        {
            event = EventRow::new(interest, signal, nanos)
                .with_source(source)
                .with_context(context)
                .with_gift(gift);
        }
        if self.weight_nulls.is_some_and(|n| n.is_null(row)) {
            return Ok(event);
        }
        match self.weights.get(row) {
            None => Ok(event),
            Some(&w) => Weight::new(w)
                .map(|w| event.with_weight(w))
                .map_err(|e| Unreadable(format!("`weight`: {e}"))),
        }
    }

    fn detail(&mut self, kind: Kind, row: usize) -> Result<Option<Detail>, Unreadable> {
        match self.detail.as_ref().and_then(|d| d.get(row)) {
            None => Ok(None),
            Some(s) => self.caches.detail(kind, s).map(Some).map_err(Unreadable),
        }
    }

    fn until(&self, row: usize) -> Result<Option<OffsetDateTime>, Unreadable> {
        match &self.until {
            None => Ok(None),
            Some(u) => u
                .get(row)
                .map_err(|raw| Unreadable(format!("`until` {raw} is out of range"))),
        }
    }

    fn suppression(
        &mut self,
        row: usize,
        since: OffsetDateTime,
        detail: Detail,
    ) -> Result<Fact, Unreadable> {
        let Detail::Suppress {
            reason,
            channel,
            purpose,
            all,
        } = detail
        else {
            return Err(Unreadable("a suppress row needs a reason".to_owned()));
        };
        let scope = match (self.interest(row)?, channel, purpose, all) {
            (Some(i), None, None, false) => Scope::Interest(i),
            (None, Some(channel), Some(purpose), false) => {
                Scope::ChannelPurpose { channel, purpose }
            }
            (None, Some(c), None, false) => Scope::Channel(c),
            (None, None, Some(p), false) => Scope::Purpose(p),
            (None, None, None, true) => Scope::All,
            _ => {
                return Err(Unreadable(
                    "a suppression covers one of: an interest, `all`, a channel, a purpose, \
                     or a channel and a purpose"
                        .to_owned(),
                ))
            }
        };
        let s = Suppression::new(scope, reason, since);
        let s = match self.until(row)? {
            None => s,
            Some(until) => s
                .until(until)
                .map_err(|e| Unreadable(format!("`until`: {e}")))?,
        };
        Ok(Fact::Suppression(s))
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Event => "event",
        Kind::Grant => "grant",
        Kind::Withdraw => "withdraw",
        Kind::Suppress => "suppress",
        Kind::Erase => "erase",
    }
}

/// An event row at an instant outside the years Unix nanoseconds hold.
trait AtInstant {
    fn event_at_instant(&self, at: OffsetDateTime) -> Event;
}

impl AtInstant for EventRow {
    fn event_at_instant(&self, at: OffsetDateTime) -> Event {
        let e = self.event();
        Event::new(e.interest(), e.signal(), at)
            .with_source(e.source())
            .with_context(e.context())
            .with_gift(e.is_gift())
            .with_valid_weight(e.weight())
    }
}
