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
//! sums     1 and the engine fingerprint, landmark and maintenance instant of
//!          the incremental aggregates, the number of series, then per
//!          evidence series its head
//!          (varint) and compensated sum (two f64 LE); or 0 when there are none
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
use crate::profile::{Profile, ProfileId, RefusalCounts};
use crate::store::class_of;
use crate::taxonomy::Taxonomy;

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

fn signal_code(s: Signal) -> u8 {
    match s {
        Signal::View => 0,
        Signal::Search => 1,
        Signal::Click => 2,
        Signal::AddToCart => 3,
        Signal::Purchase => 4,
        Signal::Dismissal => 5,
    }
}

fn signal_of(code: u8) -> Option<Signal> {
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

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
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

fn put_str(out: &mut Vec<u8>, s: &str) {
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

/// The profile in the binary form.
pub(crate) fn encode(tax: &Taxonomy, p: &Profile) -> Result<Vec<u8>, ProfileError> {
    let store = p.store();
    let orphans = p.orphans();
    let mut out = Vec::with_capacity(64 + 5 * p.stored_events());
    out.extend_from_slice(&BINARY_MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&tax.fingerprint().to_le_bytes());
    out = put_postcard(
        out,
        &HeadOut {
            id: p.id(),
            level: p.level(),
            consent: p.consent(),
            refusals: p.refusals(),
        },
    )?;
    let parts = WireParts::of(tax, p)?;
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

    // Evidence series: the store's, then orphaned evidence grouped by path
    // and class (orphans are sorted by path first).
    let mut paths = Paths {
        list: Vec::new(),
        index: std::collections::HashMap::new(),
    };
    struct Cols<'a> {
        path: &'a str,
        class: u8,
        at: Vec<i64>,
        weight: Vec<f64>,
        signal: Vec<Signal>,
    }
    let mut orphan_series: Vec<Cols<'_>> = Vec::new();
    let mut orphan_inert = Vec::new();
    for e in &orphans.events {
        if e.gift || e.signal == Signal::Dismissal {
            orphan_inert.push(e);
            continue;
        }
        match orphan_series.last_mut() {
            Some(c) if c.path == e.interest && c.class == e.class => {
                c.at.push(e.at);
                c.weight.push(e.weight.get());
                c.signal.push(e.signal);
            }
            _ => orphan_series.push(Cols {
                path: &e.interest,
                class: e.class,
                at: vec![e.at],
                weight: vec![e.weight.get()],
                signal: vec![e.signal],
            }),
        }
    }
    let mut body = Vec::with_capacity(5 * p.stored_events());
    put_varint(&mut body, (store.series.len() + orphan_series.len()) as u64);
    let series = |body: &mut Vec<u8>, idx: u64, class: u8, at: &[i64], w: &[f64], s: &[Signal]| {
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
    };
    for s in &store.series {
        let idx = paths.of(tax.path(s.interest).unwrap_or_default());
        series(&mut body, idx, s.class, &s.at, &s.weight, &s.signal);
    }
    for c in &orphan_series {
        let idx = paths.of(c.path);
        series(&mut body, idx, c.class, &c.at, &c.weight, &c.signal);
    }
    put_varint(&mut body, (store.inert.len() + orphan_inert.len()) as u64);
    let mut prev = 0i64;
    let mut inert =
        |body: &mut Vec<u8>, idx: u64, class: u8, gift: bool, sg: Signal, at: i64, w: f64| {
            put_varint(body, idx);
            body.push(class | if gift { 0x80 } else { 0 });
            body.push(signal_code(sg));
            put_varint(body, zigzag(at.wrapping_sub(prev)));
            prev = at;
            put_weights(body, &[w]);
        };
    for e in &store.inert {
        let idx = paths.of(tax.path(e.interest()).unwrap_or_default());
        let at = crate::store::to_nanos(e.at()).unwrap_or_default();
        let class = class_of(e.source(), e.context());
        inert(
            &mut body,
            idx,
            class,
            e.is_gift(),
            e.signal(),
            at,
            e.weight().get(),
        );
    }
    for e in orphan_inert {
        let idx = paths.of(&e.interest);
        inert(
            &mut body,
            idx,
            e.class,
            e.gift,
            e.signal,
            e.at,
            e.weight.get(),
        );
    }
    put_varint(&mut out, paths.list.len() as u64);
    for p in &paths.list {
        put_str(&mut out, p);
    }
    out.extend_from_slice(&body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// A bounds-checked reader: every read past the end is an error.
struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
}

fn corrupt(what: &str) -> ProfileError {
    ProfileError::Corrupt(what.to_owned())
}

impl<'b> Reader<'b> {
    fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn byte(&mut self) -> Result<u8, ProfileError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize) -> Result<&'b [u8], ProfileError> {
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
    fn varint(&mut self) -> Result<u64, ProfileError> {
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
    fn count(&mut self, min_bytes: usize) -> Result<usize, ProfileError> {
        let n = usize::try_from(self.varint()?).map_err(|_| corrupt("count"))?;
        if n.saturating_mul(min_bytes.max(1)) > self.left() {
            return Err(corrupt("count larger than the input"));
        }
        Ok(n)
    }

    fn postcard<T: serde::de::DeserializeOwned>(&mut self, what: &str) -> Result<T, ProfileError> {
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

/// Reads the binary form.
pub(crate) fn decode(
    tax: &Taxonomy,
    limits: &Limits,
    bytes: &[u8],
) -> Result<Profile, ProfileError> {
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
    let mut r = Reader {
        buf: body,
        pos: HEADER,
    };
    let mut l = Loader::new(tax, limits);
    let head: HeadIn = r.postcard("head")?;
    l.id = Some(head.id);
    l.level = head.level;
    l.consent = head.consent;
    l.refusals = head.refusals;
    for _ in 0..r.count(1)? {
        l.preference(r.postcard("preference")?);
    }
    for _ in 0..r.count(1)? {
        l.suppression(r.postcard("suppression")?)?;
    }
    for _ in 0..r.count(1)? {
        l.tombstone(r.postcard("tombstone")?);
    }
    let n_paths = r.count(1)?;
    let mut paths = Vec::with_capacity(n_paths);
    for _ in 0..n_paths {
        let n = r.count(1)?;
        let s = std::str::from_utf8(r.bytes(n)?).map_err(|_| corrupt("path is not UTF-8"))?;
        paths.push(s);
    }
    // Each stored path is resolved once, however many events name it.
    // A writer with this taxonomy lists paths in handle order: look a few
    // handles ahead of the last one first (an exact path is what `resolve`
    // returns first too), then resolve.
    let same_taxonomy = le(8..16) == tax.fingerprint();
    let mut next = 0usize;
    let resolved: Vec<Option<crate::taxonomy::InterestId>> = paths
        .iter()
        .map(|p| {
            let near = if same_taxonomy {
                (next..tax.len().min(next + 8))
                    .find(|&i| tax.path(crate::taxonomy::InterestId::from_index(i)) == Some(*p))
            } else {
                None
            };
            match near {
                Some(i) => {
                    next = i + 1;
                    Some(crate::taxonomy::InterestId::from_index(i))
                }
                None => tax.resolve(p),
            }
        })
        .collect();
    l.distinct_paths(paths.len());
    let path = |i: u64| -> Result<(&str, Option<crate::taxonomy::InterestId>), ProfileError> {
        let i = usize::try_from(i).map_err(|_| corrupt("path index"))?;
        match (paths.get(i), resolved.get(i)) {
            (Some(p), Some(id)) => Ok((*p, *id)),
            _ => Err(corrupt("path index")),
        }
    };
    for _ in 0..r.count(4)? {
        let (p, id) = path(r.varint()?)?;
        let class = r.byte()?;
        if class >= 9 {
            return Err(corrupt("class"));
        }
        // Each event takes at least two bytes (gap and signal).
        let n = r.count(2)?;
        l.count_events(n)?;
        let e = r.byte()?;
        if e > 9 {
            return Err(corrupt("unit"));
        }
        let unit = 10u64.pow(u32::from(e));
        let range = || corrupt("instant out of range");
        let mut at = Vec::with_capacity(n);
        if n > 0 {
            let first = unzigzag(r.varint()?)
                .checked_mul(unit as i64)
                .ok_or_else(range)?;
            let width = usize::from(r.byte()?);
            if width > 8 {
                return Err(corrupt("gap width"));
            }
            let raw = r.bytes((n - 1).checked_mul(width).ok_or_else(range)?)?;
            at.push(first);
            let mut prev = first;
            let mut overflow = false;
            let step = |prev: i64, gap: u64| {
                gap.checked_mul(unit)
                    .and_then(|g| prev.checked_add_unsigned(g))
            };
            if width == 0 {
                at.resize(n, first);
            } else {
                for chunk in raw.chunks_exact(width) {
                    let gap = chunk.iter().rev().fold(0u64, |g, &b| g << 8 | u64::from(b));
                    match step(prev, gap) {
                        Some(t) => {
                            at.push(t);
                            prev = t;
                        }
                        None => {
                            overflow = true;
                            break;
                        }
                    }
                }
            }
            if overflow {
                return Err(range());
            }
        }
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
    }
    let n = r.count(4)?;
    l.count_events(n)?;
    let mut prev = 0i64;
    for _ in 0..n {
        let (p, id) = path(r.varint()?)?;
        let flags = r.byte()?;
        let (class, gift) = (flags & 0x7f, flags & 0x80 != 0);
        if class >= 9 {
            return Err(corrupt("class"));
        }
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
    if r.left() != 0 {
        return Err(corrupt("trailing bytes"));
    }
    l.finish()
}
