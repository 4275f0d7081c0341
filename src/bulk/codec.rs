//! The binary form of a [`PartialProfile`]: what a query engine ships
//! between its partial and final aggregation (a `Binary` state column).
//!
//! ```text
//! "TPP" 1            magic and version
//! u64 LE             taxonomy fingerprint (interests are the engine's ids)
//! varint + bytes     profile id
//! varint n, n × 23   events: interest u32, Unix nanoseconds i64, weight f64
//!                    (all LE), signal, class (source × 3 + context), gift (0/1)
//! varint n, n × 27   events with instants outside i64 nanoseconds: the same
//!                    with seconds i64 and nanoseconds u32 for the instant
//! varint n, n × (varint + postcard)   consent changes
//! varint n, n × (varint + postcard)   suppressions
//! varint n, n × (kind u8 [+ u32], i64, u32)   erasures (0: profile, 1: interest)
//! ```
//!
//! Every count is checked against the bytes left before anything is
//! allocated for it, so a forged count costs nothing.

use time::OffsetDateTime;

use crate::consent::ConsentEntry;
use crate::engine::Engine;
use crate::event::{Event, Signal, Weight};
use crate::limits::ProfileError;
use crate::persist::binary::{corrupt, put_str, put_varint, signal_code, signal_of, Reader};
use crate::profile::{ErasedScope, ProfileId};
use crate::store::class_of;
use crate::suppression::Suppression;
use crate::taxonomy::InterestId;

use super::partial::{Erasure, EventRow, PartialProfile};
use super::BulkError;

const MAGIC: &[u8; 4] = b"TPP\x01";
const ROW_BYTES: usize = 23;
const WIDE_BYTES: usize = 27;
const ERASURE_MIN_BYTES: usize = 13;

fn put_instant(out: &mut Vec<u8>, t: OffsetDateTime) {
    out.extend_from_slice(&t.unix_timestamp().to_le_bytes());
    out.extend_from_slice(&t.nanosecond().to_le_bytes());
}

fn read_instant(r: &mut Reader<'_>) -> Result<OffsetDateTime, ProfileError> {
    let b = r.bytes(12)?;
    let (s, n) = b.split_at(8);
    let secs = i64::from_le_bytes(s.try_into().map_err(|_| corrupt("instant"))?);
    let nanos = u32::from_le_bytes(n.try_into().map_err(|_| corrupt("instant"))?);
    if nanos >= 1_000_000_000 {
        return Err(corrupt("instant: nanoseconds out of range"));
    }
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.replace_nanosecond(nanos).ok())
        .ok_or_else(|| corrupt("instant out of range"))
}

fn put_postcard_framed<T: serde::Serialize>(out: &mut Vec<u8>, v: &T) {
    // Serializing these types into memory cannot fail: no map with
    // non-string keys, no unsupported type.
    let bytes = postcard::to_allocvec(v).unwrap_or_default();
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(&bytes);
}

fn read_postcard_framed<T: serde::de::DeserializeOwned>(
    r: &mut Reader<'_>,
    what: &str,
) -> Result<T, ProfileError> {
    let n = r.count(1)?;
    let bytes = r.bytes(n)?;
    let mut inner = Reader::new(bytes);
    inner.postcard(what)
}

impl Engine {
    /// Appends the binary form of `partial` to `out`: the state a query
    /// engine ships between partial and final aggregation. Interests are
    /// written as this engine's ids under its taxonomy's fingerprint, so only
    /// an engine with the same taxonomy reads them back
    /// ([`decode_partial`](Self::decode_partial)).
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::PartialProfile;
    /// use tactful::prelude::*;
    /// use time::macros::datetime;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let mut p = PartialProfile::new("anna");
    /// p.push_event(Event::new(engine.taxonomy().require("baby/food")?, Signal::View, datetime!(2026-11-01 9:00 UTC)));
    /// let mut bytes = Vec::new();
    /// engine.encode_partial(&p, &mut bytes);
    /// assert_eq!(engine.decode_partial(&bytes)?, p);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_partial(&self, partial: &PartialProfile, out: &mut Vec<u8>) {
        self.encode_partial_with_rows(partial, &[], out);
    }

    /// Appends the binary form of `partial` with `rows` added to its event
    /// rows (after its own, as [`PartialProfile::push_row`] would add them)
    /// to `out`, without building that partial: for a caller that keeps a
    /// group's event rows apart from its other facts, as a query engine's
    /// accumulator does. [`decode_partial_rows`](Self::decode_partial_rows)
    /// splits them again.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{EventRow, PartialProfile};
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let food = engine.taxonomy().require("baby/food")?;
    /// let rows = [EventRow::new(food, Signal::View, 1_790_000_000_000_000_000)];
    /// let mut bytes = Vec::new();
    /// engine.encode_partial_with_rows(&PartialProfile::new("anna"), &rows, &mut bytes);
    ///
    /// let mut whole = PartialProfile::new("anna");
    /// whole.push_row(rows[0]);
    /// assert_eq!(engine.decode_partial(&bytes)?, whole);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_partial_with_rows(
        &self,
        partial: &PartialProfile,
        rows: &[EventRow],
        out: &mut Vec<u8>,
    ) {
        let n = partial.rows.len() + rows.len();
        out.reserve(32 + partial.id.0.len() + n * ROW_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.taxonomy().fingerprint().to_le_bytes());
        put_str(out, &partial.id.0);
        put_varint(out, n as u64);
        for r in partial.rows.iter().chain(rows) {
            let mut b = [0u8; ROW_BYTES];
            b[..4].copy_from_slice(&r.interest.0.to_le_bytes());
            b[4..12].copy_from_slice(&r.at.to_le_bytes());
            b[12..20].copy_from_slice(&r.weight.get().to_le_bytes());
            b[20] = signal_code(r.signal);
            b[21] = r.class;
            b[22] = u8::from(r.gift);
            out.extend_from_slice(&b);
        }
        put_varint(out, partial.wide.len() as u64);
        for e in &partial.wide {
            out.extend_from_slice(&e.interest().0.to_le_bytes());
            put_instant(out, e.at());
            out.extend_from_slice(&e.weight().get().to_le_bytes());
            out.push(signal_code(e.signal()));
            out.push(class_of(e.source(), e.context()));
            out.push(u8::from(e.is_gift()));
        }
        put_varint(out, partial.consents.len() as u64);
        for c in &partial.consents {
            put_postcard_framed(out, c);
        }
        put_varint(out, partial.suppressions.len() as u64);
        for s in &partial.suppressions {
            put_postcard_framed(out, s);
        }
        put_varint(out, partial.erasures.len() as u64);
        for e in &partial.erasures {
            match e.scope() {
                ErasedScope::All => out.push(0),
                ErasedScope::Interest(i) => {
                    out.push(1);
                    out.extend_from_slice(&i.0.to_le_bytes());
                }
            }
            put_instant(out, e.at());
        }
    }

    /// Reads a [`PartialProfile`] written by
    /// [`encode_partial`](Self::encode_partial). Every partial this engine
    /// encodes, it decodes to an equal one.
    ///
    /// # Errors
    /// [`BulkError::OtherTaxonomy`] for bytes written under another taxonomy
    /// (its ids would mean other interests); [`BulkError::Decode`] for
    /// anything malformed or truncated, or trailing bytes.
    pub fn decode_partial(&self, bytes: &[u8]) -> Result<PartialProfile, BulkError> {
        let mut rows = Vec::new();
        let mut p = self.decode_partial_rows(bytes, &mut rows)?;
        p.rows = rows;
        Ok(p)
    }

    /// [`decode_partial`](Self::decode_partial) with the partial's compact
    /// event rows appended to `rows` rather than held by the returned
    /// partial, which keeps every other row: for a caller that keeps a
    /// group's event rows apart from its other facts. Merging the returned
    /// partial with one holding the appended rows gives what
    /// `decode_partial` gives.
    ///
    /// # Errors
    /// As [`decode_partial`](Self::decode_partial); `rows` is left as it
    /// was then.
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::PartialProfile;
    /// use tactful::prelude::*;
    /// use time::macros::datetime;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let mut p = PartialProfile::new("anna");
    /// p.push_event(Event::new(engine.taxonomy().require("baby/food")?, Signal::View, datetime!(2026-11-01 9:00 UTC)));
    /// let mut bytes = Vec::new();
    /// engine.encode_partial(&p, &mut bytes);
    ///
    /// let mut rows = Vec::new();
    /// let rest = engine.decode_partial_rows(&bytes, &mut rows)?;
    /// assert_eq!((rows.len(), rest.event_count()), (1, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode_partial_rows(
        &self,
        bytes: &[u8],
        rows: &mut Vec<EventRow>,
    ) -> Result<PartialProfile, BulkError> {
        let mut r = Reader::new(bytes);
        self.read_header(&mut r)?;
        let start = rows.len();
        read_body(&mut r, rows).map_err(|e| {
            rows.truncate(start);
            BulkError::Decode(e)
        })
    }
}

impl Engine {
    /// Checks that `bytes` begin as a partial profile this engine encoded:
    /// the format's mark and this engine's taxonomy fingerprint. The rest is
    /// checked when the bytes are decoded. For a caller that keeps encoded
    /// partials and decodes them later (a query engine's final aggregation
    /// reads each group's partials only when it answers): bytes of another
    /// format or taxonomy are refused as they arrive.
    ///
    /// # Errors
    /// As [`decode_partial`](Self::decode_partial), for the header alone:
    /// [`BulkError::OtherTaxonomy`] or [`BulkError::Decode`].
    ///
    /// # Examples
    /// ```
    /// use tactful::bulk::{BulkError, PartialProfile};
    /// use tactful::prelude::*;
    ///
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let mut bytes = Vec::new();
    /// engine.encode_partial(&PartialProfile::new("anna"), &mut bytes);
    /// engine.check_partial_header(&bytes)?;
    ///
    /// let other = Engine::new(Taxonomy::builder().interest("garden/tools").build()?, DecayPolicy::default());
    /// assert!(matches!(other.check_partial_header(&bytes), Err(BulkError::OtherTaxonomy { .. })));
    /// assert!(matches!(engine.check_partial_header(b"TPP"), Err(BulkError::Decode(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_partial_header(&self, bytes: &[u8]) -> Result<(), BulkError> {
        self.read_header(&mut Reader::new(bytes))
    }

    fn read_header(&self, r: &mut Reader<'_>) -> Result<(), BulkError> {
        if r.bytes(4).ok() != Some(&MAGIC[..]) {
            return Err(BulkError::Decode(corrupt("not a tactful partial profile")));
        }
        let fp = r.bytes(8).map_err(BulkError::Decode)?;
        let found = u64::from_le_bytes(
            fp.try_into()
                .map_err(|_| BulkError::Decode(corrupt("fingerprint")))?,
        );
        let expected = self.taxonomy().fingerprint();
        if found != expected {
            return Err(BulkError::OtherTaxonomy { expected, found });
        }
        Ok(())
    }
}

fn read_body(r: &mut Reader<'_>, rows: &mut Vec<EventRow>) -> Result<PartialProfile, ProfileError> {
    let n = r.count(1)?;
    let id = std::str::from_utf8(r.bytes(n)?)
        .map_err(|_| corrupt("profile id is not UTF-8"))?
        .to_owned();
    let mut p = PartialProfile::new(ProfileId(id));
    let n = r.count(ROW_BYTES)?;
    rows.reserve(n);
    for b in r.bytes(n * ROW_BYTES)?.chunks_exact(ROW_BYTES) {
        let b: &[u8; ROW_BYTES] = b.try_into().map_err(|_| corrupt("truncated"))?;
        rows.push(read_row(b)?);
    }
    let n = r.count(WIDE_BYTES)?;
    p.wide.reserve_exact(n);
    for _ in 0..n {
        p.wide.push(read_event(r)?);
    }
    let n = r.count(2)?;
    p.consents.reserve_exact(n);
    for _ in 0..n {
        p.consents
            .push(read_postcard_framed::<ConsentEntry>(r, "consent change")?);
    }
    let n = r.count(2)?;
    p.suppressions.reserve_exact(n);
    for _ in 0..n {
        p.suppressions
            .push(read_postcard_framed::<Suppression>(r, "suppression")?);
    }
    let n = r.count(ERASURE_MIN_BYTES)?;
    p.erasures.reserve_exact(n);
    for _ in 0..n {
        let scope = match r.byte()? {
            0 => ErasedScope::All,
            1 => ErasedScope::Interest(InterestId(read_u32(r)?)),
            _ => return Err(corrupt("erasure kind")),
        };
        let at = read_instant(r)?;
        p.erasures.push(match scope {
            ErasedScope::All => Erasure::profile(at),
            ErasedScope::Interest(i) => Erasure::interest(i, at),
        });
    }
    if r.left() != 0 {
        return Err(corrupt("trailing bytes after the partial profile"));
    }
    Ok(p)
}

fn read_u32(r: &mut Reader<'_>) -> Result<u32, ProfileError> {
    let b = r.bytes(4)?;
    Ok(u32::from_le_bytes(
        b.try_into().map_err(|_| corrupt("u32"))?,
    ))
}

fn read_tail(r: &mut Reader<'_>) -> Result<(Weight, Signal, u8, bool), ProfileError> {
    let w = r.bytes(8)?.try_into().map_err(|_| corrupt("weight"))?;
    tail_of(w, r.byte()?, r.byte()?, r.byte()?)
}

/// An event's weight, signal, source-and-context class and flags from
/// their bytes, each checked.
fn tail_of(
    weight: [u8; 8],
    signal: u8,
    class: u8,
    flags: u8,
) -> Result<(Weight, Signal, u8, bool), ProfileError> {
    let weight = Weight::new(f64::from_le_bytes(weight))
        .map_err(|e| ProfileError::Invalid(e.to_string()))?;
    let signal = signal_of(signal).ok_or_else(|| corrupt("signal"))?;
    if class > 8 {
        return Err(corrupt("source and context"));
    }
    let gift = match flags {
        0 => false,
        1 => true,
        _ => return Err(corrupt("event flags")),
    };
    Ok((weight, signal, class, gift))
}

/// One event row from its `ROW_BYTES` bytes (fixed places, so no bounds
/// check per field).
fn read_row(b: &[u8; ROW_BYTES]) -> Result<EventRow, ProfileError> {
    let [i0, i1, i2, i3, t0, t1, t2, t3, t4, t5, t6, t7, w0, w1, w2, w3, w4, w5, w6, w7, signal, class, flags] =
        *b;
    let (weight, signal, class, gift) =
        tail_of([w0, w1, w2, w3, w4, w5, w6, w7], signal, class, flags)?;
    Ok(EventRow {
        at: i64::from_le_bytes([t0, t1, t2, t3, t4, t5, t6, t7]),
        weight,
        interest: InterestId(u32::from_le_bytes([i0, i1, i2, i3])),
        signal,
        class,
        gift,
    })
}

fn read_event(r: &mut Reader<'_>) -> Result<Event, ProfileError> {
    let interest = InterestId(read_u32(r)?);
    let at = read_instant(r)?;
    let (weight, signal, class, gift) = read_tail(r)?;
    Ok(EventRow {
        at: 0,
        weight,
        interest,
        signal,
        class,
        gift,
    }
    .event_at(at))
}
