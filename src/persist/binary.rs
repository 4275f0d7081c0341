//! The compact binary form.
//!
//! ```text
//! header   "TCTF" | version u16 LE | flags u16 LE (0) | taxonomy fingerprint u64 LE
//! head     postcard (id, level, consent ledger, refusal counts)
//! lists    preferences, suppressions, tombstones: varint count, then postcard
//!          elements naming interests by path
//! paths    varint count, then varint length + UTF-8 bytes each
//! series   varint count; each: path index, class byte, event count, unit
//!          exponent e (instants are multiples of 10^e ns); if not empty: the
//!          first instant (zigzag varint, in units), a gap width w (0 to 8),
//!          the gaps to the next instants (w bytes LE each, in units); then
//!          one signal byte per event and a weight mode (0: all 1.0, 1: f64
//!          LE each)
//! inert    gifts and dismissals: varint count; each: path index, class
//!          byte (bit 7: gift), signal byte, gap to the previous instant
//!          (zigzag varint ns), weight mode and weight
//! trailer  CRC-32 (IEEE) LE of everything before it
//! ```
//!
//! Every count is checked against the engine's limits and against the
//! bytes left before anything is allocated for it.

use super::{Loader, WireParts, BINARY_MAGIC, FORMAT_VERSION};
use crate::consent::ConsentLedger;
use crate::event::{Signal, Weight};
use crate::level::Level;
use crate::limits::{Limit, Limits, ProfileError};
use crate::profile::{PathEvent, Profile, ProfileId, RefusalCounts};
use crate::store::class_of;
use crate::taxonomy::{InterestId, Taxonomy};

const HEADER: usize = 16;

#[derive(serde::Serialize)]
struct HeadOut<'a> {
    id: &'a ProfileId,
    level: Level,
    consent: &'a ConsentLedger,
    refusals: &'a RefusalCounts,
}

#[derive(serde::Deserialize)]
struct HeadIn {
    id: ProfileId,
    level: Level,
    consent: ConsentLedger,
    refusals: RefusalCounts,
}

pub(crate) fn signal_code(s: Signal) -> u8 {
    match s {
        Signal::View => 0,
        Signal::Search => 1,
        Signal::Click => 2,
        Signal::AddToCart => 3,
        Signal::Purchase => 4,
        Signal::Dismissal => 5,
    }
}

pub(crate) fn signal_of(code: u8) -> Option<Signal> {
    Some(match code {
        0 => Signal::View,
        1 => Signal::Search,
        2 => Signal::Click,
        3 => Signal::AddToCart,
        4 => Signal::Purchase,
        5 => Signal::Dismissal,
        _ => return None,
    })
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_postcard<T: serde::Serialize>(out: Vec<u8>, v: &T) -> Result<Vec<u8>, ProfileError> {
    postcard::to_extend(v, out).map_err(|e| ProfileError::Encode(e.to_string()))
}

/// The largest `e <= 9` such that every instant is a multiple of `10^e` ns.
fn unit_exponent(at: &[i64]) -> u8 {
    let mut e = 9u8;
    while e > 0 {
        let unit = 10i64.pow(u32::from(e));
        if at.iter().all(|&t| t % unit == 0) {
            break;
        }
        e -= 1;
    }
    e
}

fn put_weights(out: &mut Vec<u8>, w: &[f64]) {
    if w.iter().all(|&x| x.to_bits() == 1f64.to_bits()) {
        out.push(0);
    } else {
        out.push(1);
        for x in w {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// Interns paths into the path table.
#[derive(Default)]
struct Paths<'a> {
    list: Vec<&'a str>,
    index: std::collections::HashMap<&'a str, u64>,
}

impl<'a> Paths<'a> {
    fn of(&mut self, p: &'a str) -> u64 {
        *self.index.entry(p).or_insert_with(|| {
            self.list.push(p);
            (self.list.len() - 1) as u64
        })
    }
}

/// The profile in the binary form: one writer per section, in the order of
/// the format (see the module docs).
pub(crate) fn encode(tax: &Taxonomy, p: &Profile) -> Result<Vec<u8>, ProfileError> {
    let mut out = Vec::with_capacity(64 + 5 * p.stored_events());
    put_header(&mut out, tax);
    out = put_head(out, p)?;
    out = put_lists(out, &WireParts::of(tax, p)?)?;
    // The path table precedes the series and inert lists that index it, but
    // is only known once they are written: they go to `body` first.
    let mut paths = Paths::default();
    let mut body = Vec::with_capacity(5 * p.stored_events());
    let (orphan_series, orphan_inert) = orphan_columns(p);
    put_series_list(&mut body, &mut paths, tax, p, &orphan_series);
    put_inert_list(&mut body, &mut paths, tax, p, &orphan_inert);
    put_varint(&mut out, paths.list.len() as u64);
    for p in &paths.list {
        put_str(&mut out, p);
    }
    out.extend_from_slice(&body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Header: magic, version, flags and the taxonomy's fingerprint.
fn put_header(out: &mut Vec<u8>, tax: &Taxonomy) {
    out.extend_from_slice(&BINARY_MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&tax.fingerprint().to_le_bytes());
}

/// Head: id, level, consent ledger and refusal counts, in postcard.
fn put_head(out: Vec<u8>, p: &Profile) -> Result<Vec<u8>, ProfileError> {
    put_postcard(
        out,
        &HeadOut {
            id: p.id(),
            level: p.level(),
            consent: p.consent(),
            refusals: p.refusals(),
        },
    )
}

/// Lists: preferences, suppressions and tombstones, each a varint count and
/// postcard elements.
fn put_lists(mut out: Vec<u8>, parts: &WireParts) -> Result<Vec<u8>, ProfileError> {
    put_varint(&mut out, parts.preferences.len() as u64);
    for x in &parts.preferences {
        out = put_postcard(out, x)?;
    }
    put_varint(&mut out, parts.suppressions.len() as u64);
    for x in &parts.suppressions {
        out = put_postcard(out, x)?;
    }
    put_varint(&mut out, parts.tombstones.len() as u64);
    for x in &parts.tombstones {
        out = put_postcard(out, x)?;
    }
    Ok(out)
}

/// One evidence series of an orphaned path, as columns.
struct Cols<'a> {
    path: &'a str,
    class: u8,
    at: Vec<i64>,
    weight: Vec<f64>,
    signal: Vec<Signal>,
}

/// Orphaned events as the store would hold them: evidence grouped into
/// series by path and class (orphans are sorted by path first), gifts and
/// dismissals apart.
fn orphan_columns(p: &Profile) -> (Vec<Cols<'_>>, Vec<&PathEvent>) {
    let mut series: Vec<Cols<'_>> = Vec::new();
    let mut inert = Vec::new();
    for e in &p.orphans().events {
        if e.gift || e.signal == Signal::Dismissal {
            inert.push(e);
            continue;
        }
        match series.last_mut() {
            Some(c) if c.path == e.interest && c.class == e.class => {
                c.at.push(e.at);
                c.weight.push(e.weight.get());
                c.signal.push(e.signal);
            }
            _ => series.push(Cols {
                path: &e.interest,
                class: e.class,
                at: vec![e.at],
                weight: vec![e.weight.get()],
                signal: vec![e.signal],
            }),
        }
    }
    (series, inert)
}

/// Series: the store's evidence series, then the orphaned ones.
fn put_series_list<'a>(
    body: &mut Vec<u8>,
    paths: &mut Paths<'a>,
    tax: &'a Taxonomy,
    p: &'a Profile,
    orphans: &[Cols<'a>],
) {
    let store = p.store();
    put_varint(body, (store.series.len() + orphans.len()) as u64);
    for s in &store.series {
        let idx = paths.of(tax.path(s.interest).unwrap_or_default());
        put_series(body, idx, s.class, &s.at, &s.weight, &s.signal);
    }
    for c in orphans {
        let idx = paths.of(c.path);
        put_series(body, idx, c.class, &c.at, &c.weight, &c.signal);
    }
}

/// One series: path index, class, count, unit exponent, instants as the
/// first one and fixed-width gaps, signals, weights.
fn put_series(body: &mut Vec<u8>, idx: u64, class: u8, at: &[i64], w: &[f64], s: &[Signal]) {
    put_varint(body, idx);
    body.push(class);
    put_varint(body, at.len() as u64);
    let e = unit_exponent(at);
    body.push(e);
    let unit = 10i64.pow(u32::from(e));
    put_varint(body, zigzag(at.first().copied().unwrap_or(0) / unit));
    // Sorted, so every gap is non-negative (it may exceed i64): stored in
    // the fewest whole bytes that hold the largest.
    let gaps = at
        .iter()
        .zip(at.iter().skip(1))
        .map(|(&a, &b)| (b as u64).wrapping_sub(a as u64) / unit as u64);
    let width = gaps
        .clone()
        .map(|g| 8 - g.leading_zeros() as usize / 8)
        .max()
        .unwrap_or(0);
    body.push(width as u8);
    for g in gaps {
        body.extend(g.to_le_bytes().into_iter().take(width));
    }
    body.extend(s.iter().map(|&x| signal_code(x)));
    put_weights(body, w);
}

/// Inert: the store's gifts and dismissals, then the orphaned ones, each
/// instant as the gap to the one before.
fn put_inert_list<'a>(
    body: &mut Vec<u8>,
    paths: &mut Paths<'a>,
    tax: &'a Taxonomy,
    p: &'a Profile,
    orphans: &[&'a PathEvent],
) {
    let store = p.store();
    put_varint(body, (store.inert.len() + orphans.len()) as u64);
    let mut w = InertWriter { body, prev: 0 };
    for e in &store.inert {
        let idx = paths.of(tax.path(e.interest()).unwrap_or_default());
        let at = crate::store::to_nanos(e.at()).unwrap_or_default();
        let class = class_of(e.source(), e.context());
        let weight = e.weight().get();
        w.put(idx, class, e.is_gift(), e.signal(), at, weight);
    }
    for e in orphans {
        let idx = paths.of(&e.interest);
        w.put(idx, e.class, e.gift, e.signal, e.at, e.weight.get());
    }
}

/// Writes inert events, delta-coding each instant against the last.
struct InertWriter<'o> {
    body: &'o mut Vec<u8>,
    prev: i64,
}

impl InertWriter<'_> {
    fn put(&mut self, idx: u64, class: u8, gift: bool, signal: Signal, at: i64, weight: f64) {
        put_varint(self.body, idx);
        self.body.push(class | if gift { 0x80 } else { 0 });
        self.body.push(signal_code(signal));
        put_varint(self.body, zigzag(at.wrapping_sub(self.prev)));
        self.prev = at;
        put_weights(self.body, &[weight]);
    }
}

/// A bounds-checked reader: every read past the end is an error.
pub(crate) struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
}

pub(crate) fn corrupt(what: &str) -> ProfileError {
    ProfileError::Corrupt(what.to_owned())
}

impl<'b> Reader<'b> {
    pub(crate) fn new(buf: &'b [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, ProfileError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'b [u8], ProfileError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| corrupt("truncated"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| corrupt("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, ProfileError> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let mut v = 0u64;
        for (i, &b) in rest.iter().take(10).enumerate() {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i == 9 && b > 1 {
                    break;
                }
                self.pos += i + 1;
                return Ok(v);
            }
        }
        Err(corrupt("truncated or overlong varint"))
    }

    /// A count of items taking at least `min_bytes` each: never more than
    /// the bytes left could hold, so nothing is allocated for a lie.
    pub(crate) fn count(&mut self, min_bytes: usize) -> Result<usize, ProfileError> {
        let n = usize::try_from(self.varint()?).map_err(|_| corrupt("count"))?;
        if n.saturating_mul(min_bytes.max(1)) > self.left() {
            return Err(corrupt("count larger than the input"));
        }
        Ok(n)
    }

    pub(crate) fn postcard<T: serde::de::DeserializeOwned>(
        &mut self,
        what: &str,
    ) -> Result<T, ProfileError> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let (v, after) = postcard::take_from_bytes::<T>(rest)
            .map_err(|e| ProfileError::Corrupt(format!("{what}: {e}")))?;
        self.pos = self.buf.len() - after.len();
        Ok(v)
    }

    fn weights(&mut self, n: usize) -> Result<Vec<f64>, ProfileError> {
        match self.byte()? {
            0 => Ok(vec![1.0; n]),
            1 => {
                let raw = self.bytes(n.checked_mul(8).ok_or_else(|| corrupt("weights"))?)?;
                raw.chunks_exact(8)
                    .map(|c| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(c);
                        let w = f64::from_le_bytes(b);
                        Weight::new(w)
                            .map(Weight::get)
                            .map_err(|e| ProfileError::Invalid(e.to_string()))
                    })
                    .collect()
            }
            _ => Err(corrupt("weight mode")),
        }
    }
}

/// Reads the binary form: one reader per section, in the order of the
/// format (see the module docs); each list's count is checked against the
/// limits and the bytes left before the list is read.
pub(crate) fn decode(
    tax: &Taxonomy,
    limits: &Limits,
    bytes: &[u8],
) -> Result<Profile, ProfileError> {
    let (body, fingerprint) = check_frame(limits, bytes)?;
    let mut r = Reader {
        buf: body,
        pos: HEADER,
    };
    let mut l = Loader::new(tax, limits);
    read_head(&mut r, &mut l)?;
    read_lists(&mut r, &mut l)?;
    let paths = read_paths(&mut r)?;
    let table = PathTable::resolve(tax, paths, fingerprint == tax.fingerprint());
    l.distinct_paths(table.paths.len());
    for _ in 0..r.count(4)? {
        read_series(&mut r, &mut l, &table)?;
    }
    read_inert_list(&mut r, &mut l, &table)?;
    if r.left() != 0 {
        return Err(corrupt("trailing bytes"));
    }
    l.finish()
}

/// The size limit, header and trailer, checked before anything is parsed:
/// the bytes before the checksum and the taxonomy fingerprint of the header.
fn check_frame<'b>(limits: &Limits, bytes: &'b [u8]) -> Result<(&'b [u8], u64), ProfileError> {
    if bytes.len() > limits.max_profile_bytes {
        return Err(ProfileError::TooLarge {
            limit: Limit::ProfileBytes,
            actual: bytes.len(),
            max: limits.max_profile_bytes,
        });
    }
    if bytes.len() < HEADER + 4 || bytes.get(..4) != Some(&BINARY_MAGIC[..]) {
        return Err(corrupt("not a tactful binary profile"));
    }
    let le = |r: std::ops::Range<usize>| -> u64 {
        bytes
            .get(r)
            .unwrap_or(&[])
            .iter()
            .rev()
            .fold(0, |a, &b| a << 8 | u64::from(b))
    };
    let version = le(4..6) as u16;
    if version != FORMAT_VERSION {
        return Err(ProfileError::UnsupportedVersion(version));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = crc.iter().rev().fold(0u32, |a, &b| a << 8 | u32::from(b));
    if crc32fast::hash(body) != stored {
        return Err(corrupt("checksum mismatch"));
    }
    Ok((body, le(8..16)))
}

/// Head: id, level, consent ledger and refusal counts.
fn read_head(r: &mut Reader<'_>, l: &mut Loader<'_>) -> Result<(), ProfileError> {
    let head: HeadIn = r.postcard("head")?;
    l.id = Some(head.id);
    l.level = head.level;
    l.consent = head.consent;
    l.refusals = head.refusals;
    Ok(())
}

/// Lists: preferences, suppressions and tombstones.
fn read_lists(r: &mut Reader<'_>, l: &mut Loader<'_>) -> Result<(), ProfileError> {
    for _ in 0..r.count(1)? {
        l.preference(r.postcard("preference")?);
    }
    for _ in 0..r.count(1)? {
        l.suppression(r.postcard("suppression")?)?;
    }
    for _ in 0..r.count(1)? {
        l.tombstone(r.postcard("tombstone")?);
    }
    Ok(())
}

/// Paths: the table the series and inert lists index.
fn read_paths<'b>(r: &mut Reader<'b>) -> Result<Vec<&'b str>, ProfileError> {
    let n_paths = r.count(1)?;
    let mut paths = Vec::with_capacity(n_paths);
    for _ in 0..n_paths {
        let n = r.count(1)?;
        let s = std::str::from_utf8(r.bytes(n)?).map_err(|_| corrupt("path is not UTF-8"))?;
        paths.push(s);
    }
    Ok(paths)
}

/// The stored paths and what each resolves to in the loading taxonomy.
struct PathTable<'b> {
    paths: Vec<&'b str>,
    resolved: Vec<Option<InterestId>>,
}

impl<'b> PathTable<'b> {
    /// Resolves each stored path once, however many events name it.
    fn resolve(tax: &Taxonomy, paths: Vec<&'b str>, same_taxonomy: bool) -> Self {
        // A writer with this taxonomy lists paths in handle order: look a few
        // handles ahead of the last one first (an exact path is what
        // `resolve` returns first too), then resolve.
        let mut next = 0usize;
        let resolved = paths
            .iter()
            .map(|p| {
                let near = if same_taxonomy {
                    (next..tax.len().min(next + 8))
                        .find(|&i| tax.path(InterestId::from_index(i)) == Some(*p))
                } else {
                    None
                };
                match near {
                    Some(i) => {
                        next = i + 1;
                        Some(InterestId::from_index(i))
                    }
                    None => tax.resolve(p),
                }
            })
            .collect();
        Self { paths, resolved }
    }

    /// The path at a stored index and its interest, if the taxonomy has it.
    fn get(&self, i: u64) -> Result<(&'b str, Option<InterestId>), ProfileError> {
        let i = usize::try_from(i).map_err(|_| corrupt("path index"))?;
        match (self.paths.get(i), self.resolved.get(i)) {
            (Some(p), Some(id)) => Ok((*p, *id)),
            _ => Err(corrupt("path index")),
        }
    }
}

/// A class byte: source and context, nine combinations.
fn check_class(class: u8) -> Result<u8, ProfileError> {
    if class >= 9 {
        return Err(corrupt("class"));
    }
    Ok(class)
}

/// One series; its events are counted against the limit before any is read.
fn read_series(
    r: &mut Reader<'_>,
    l: &mut Loader<'_>,
    table: &PathTable<'_>,
) -> Result<(), ProfileError> {
    let (p, id) = table.get(r.varint()?)?;
    let class = check_class(r.byte()?)?;
    // Each event takes at least two bytes (gap and signal).
    let n = r.count(2)?;
    l.count_events(n)?;
    let at = read_instants(r, n)?;
    let mut signal = Vec::with_capacity(n);
    let mut evidence = true;
    for &c in r.bytes(n)? {
        let s = signal_of(c).ok_or_else(|| corrupt("signal"))?;
        evidence &= s != Signal::Dismissal;
        signal.push(s);
    }
    let weight = r.weights(n)?;
    if evidence {
        l.series(p, id, class, at, weight, signal)?;
    } else {
        // Not evidence: take the per-event way, which files it as inert.
        for ((t, w), s) in at.into_iter().zip(weight).zip(signal) {
            let w = Weight::new(w).map_err(|e| ProfileError::Invalid(e.to_string()))?;
            l.event_of(p, id, s, t, class, false, w)?;
        }
    }
    Ok(())
}

/// The `n` instants of a series: unit exponent, then (if any) the first
/// instant and the fixed-width gaps, every step checked for overflow.
fn read_instants(r: &mut Reader<'_>, n: usize) -> Result<Vec<i64>, ProfileError> {
    let e = r.byte()?;
    if e > 9 {
        return Err(corrupt("unit"));
    }
    let unit = 10u64.pow(u32::from(e));
    let range = || corrupt("instant out of range");
    let mut at = Vec::with_capacity(n);
    if n == 0 {
        return Ok(at);
    }
    let first = unzigzag(r.varint()?)
        .checked_mul(unit as i64)
        .ok_or_else(range)?;
    let width = usize::from(r.byte()?);
    if width > 8 {
        return Err(corrupt("gap width"));
    }
    let raw = r.bytes((n - 1).checked_mul(width).ok_or_else(range)?)?;
    at.push(first);
    if width == 0 {
        at.resize(n, first);
        return Ok(at);
    }
    let mut prev = first;
    for chunk in raw.chunks_exact(width) {
        let gap = chunk.iter().rev().fold(0u64, |g, &b| g << 8 | u64::from(b));
        prev = gap
            .checked_mul(unit)
            .and_then(|g| prev.checked_add_unsigned(g))
            .ok_or_else(range)?;
        at.push(prev);
    }
    Ok(at)
}

/// Inert: gifts and dismissals, counted against the limit before any is
/// read.
fn read_inert_list(
    r: &mut Reader<'_>,
    l: &mut Loader<'_>,
    table: &PathTable<'_>,
) -> Result<(), ProfileError> {
    let n = r.count(4)?;
    l.count_events(n)?;
    let mut prev = 0i64;
    for _ in 0..n {
        let (p, id) = table.get(r.varint()?)?;
        let flags = r.byte()?;
        let (class, gift) = (check_class(flags & 0x7f)?, flags & 0x80 != 0);
        let signal = signal_of(r.byte()?).ok_or_else(|| corrupt("signal"))?;
        let at = prev.wrapping_add(unzigzag(r.varint()?));
        prev = at;
        let w = r.weights(1)?;
        let w = Weight::new(w.first().copied().unwrap_or(1.0))
            .map_err(|e| ProfileError::Invalid(e.to_string()))?;
        if !gift && signal != Signal::Dismissal {
            return Err(corrupt("evidence in the inert list"));
        }
        l.event_of(p, id, signal, at, class, gift, w)?;
    }
    Ok(())
}
