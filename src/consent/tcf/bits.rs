//! Base64url and the big-endian bit reader and writer the segments are
//! made of.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::error::{invalid_model, PaddingProblem, TcfError};
use super::model::Alpha2;
use super::timestamp::{datetime_of, deciseconds_of, TIMESTAMP_BITS};

pub(super) fn sextet_of(c: char) -> Option<u8> {
    let v = match c {
        'A'..='Z' => c as u32 - 'A' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 26,
        '0'..='9' => c as u32 - '0' as u32 + 52,
        '-' => 62,
        '_' => 63,
        _ => return None,
    };
    u8::try_from(v).ok()
}

pub(super) fn char_of(sextet: u8) -> char {
    char::from(match sextet & 0x3F {
        s @ 0..=25 => b'A' + s,
        s @ 26..=51 => b'a' + (s - 26),
        s @ 52..=61 => b'0' + (s - 52),
        62 => b'-',
        _ => b'_',
    })
}

/// Reads big-endian bit fields from a base64url segment.
pub(super) struct BitReader {
    sextets: Vec<u8>,
    /// Bits fields may be read from: all of them, or with `=` padding only
    /// the whole bytes (the fill bits after them must be zero, like other
    /// trailing bits).
    data_bits: usize,
    pub(super) pos: usize,
}

impl BitReader {
    /// Decodes the characters of one segment; `start` is the character
    /// position of the segment in the whole input (for error messages).
    ///
    /// Padding is optional (RFC 4648, section 3.2): the `=` that complete
    /// the last group of four characters are accepted, any other `=` is
    /// [`TcfError::InvalidPadding`]. A padded segment holds whole bytes.
    pub(super) fn new(segment_text: &str, segment: usize, start: usize) -> Result<Self, TcfError> {
        let first_pad = segment_text.find('=').unwrap_or(segment_text.len());
        let (data, padding) = segment_text.split_at(first_pad);
        let sextets = data
            .chars()
            .enumerate()
            .map(|(i, c)| {
                sextet_of(c).ok_or(TcfError::InvalidCharacter {
                    segment,
                    position: start + i,
                    character: c,
                })
            })
            .collect::<Result<Vec<u8>, TcfError>>()?;
        // Every character before the first `=` is one sextet.
        check_padding(sextets.len(), padding, segment, start + sextets.len())?;
        let len_bits = sextets.len() * 6;
        let data_bits = if padding.is_empty() {
            len_bits
        } else {
            len_bits / 8 * 8
        };
        Ok(BitReader {
            sextets,
            data_bits,
            pos: 0,
        })
    }

    fn len_bits(&self) -> usize {
        self.sextets.len() * 6
    }

    fn remaining(&self) -> usize {
        self.data_bits.saturating_sub(self.pos)
    }

    fn bit_at(&self, index: usize) -> bool {
        self.sextets
            .get(index / 6)
            .is_some_and(|s| (s >> (5 - index % 6)) & 1 == 1)
    }

    /// Fails unless `bits` more bits are available.
    pub(super) fn ensure(&self, bits: usize, field: &'static str) -> Result<(), TcfError> {
        if self.remaining() < bits {
            Err(TcfError::Truncated {
                field,
                offset: self.pos,
            })
        } else {
            Ok(())
        }
    }

    /// Reads `bits` (at most 64) bits as an unsigned integer.
    pub(super) fn read(&mut self, bits: u32, field: &'static str) -> Result<u64, TcfError> {
        debug_assert!(bits <= 64);
        self.ensure(bits as usize, field)?;
        let mut value = 0u64;
        for _ in 0..bits {
            value = (value << 1) | u64::from(self.bit_at(self.pos));
            self.pos += 1;
        }
        Ok(value)
    }

    pub(super) fn read_bool(&mut self, field: &'static str) -> Result<bool, TcfError> {
        Ok(self.read(1, field)? == 1)
    }

    pub(super) fn read_u8(&mut self, bits: u32, field: &'static str) -> Result<u8, TcfError> {
        debug_assert!(bits <= 8);
        let offset = self.pos;
        let value = self.read(bits, field)?;
        u8::try_from(value).map_err(|_| TcfError::InvalidValue {
            field,
            offset,
            value,
        })
    }

    pub(super) fn read_u16(&mut self, bits: u32, field: &'static str) -> Result<u16, TcfError> {
        debug_assert!(bits <= 16);
        let offset = self.pos;
        let value = self.read(bits, field)?;
        u16::try_from(value).map_err(|_| TcfError::InvalidValue {
            field,
            offset,
            value,
        })
    }

    /// Reads a `bits`-wide flag field into a set of 1-based ids.
    pub(super) fn read_flags(
        &mut self,
        bits: u8,
        field: &'static str,
    ) -> Result<BTreeSet<u8>, TcfError> {
        self.ensure(usize::from(bits), field)?;
        let mut set = BTreeSet::new();
        for id in 1..=bits {
            if self.read_bool(field)? {
                set.insert(id);
            }
        }
        Ok(set)
    }

    pub(super) fn read_timestamp(
        &mut self,
        field: &'static str,
    ) -> Result<OffsetDateTime, TcfError> {
        let offset = self.pos;
        let deciseconds = self.read(TIMESTAMP_BITS, field)?;
        datetime_of(deciseconds, field).map_err(|_| TcfError::InvalidValue {
            field,
            offset,
            value: deciseconds,
        })
    }

    pub(super) fn read_alpha2(&mut self, field: &'static str) -> Result<Alpha2, TcfError> {
        let mut letters = [0u8; 2];
        for letter in &mut letters {
            let offset = self.pos;
            let value = self.read_u8(6, field)?;
            if value > 25 {
                return Err(TcfError::InvalidValue {
                    field,
                    offset,
                    value: u64::from(value),
                });
            }
            *letter = b'A' + value;
        }
        Ok(Alpha2(letters))
    }

    /// Checks that every bit left in the segment is zero padding.
    pub(super) fn finish(self, field: &'static str) -> Result<(), TcfError> {
        match (self.pos..self.len_bits()).find(|&i| self.bit_at(i)) {
            Some(offset) => Err(TcfError::TrailingBits { field, offset }),
            None => Ok(()),
        }
    }
}

pub(super) const SECONDS_PER_DAY: i64 = 86_400;

/// Checks the `=` after the `data` base64url characters of a segment;
/// `position` is that of the first `=` in the whole input.
fn check_padding(
    data: usize,
    padding: &str,
    segment: usize,
    position: usize,
) -> Result<(), TcfError> {
    if padding.is_empty() {
        return Ok(());
    }
    let count = padding.len();
    let problem = if let Some(character) = padding.chars().find(|&c| c != '=') {
        PaddingProblem::FollowedByData { character }
    } else if data == 0 {
        PaddingProblem::NoData
    } else if count > 2 {
        PaddingProblem::TooLong { count }
    } else if !(data + count).is_multiple_of(4) {
        PaddingProblem::Incomplete { data, count }
    } else {
        return Ok(());
    };
    Err(TcfError::InvalidPadding {
        segment,
        position,
        problem,
    })
}

/// Writes big-endian bit fields and renders them as base64url.
#[derive(Default)]
pub(super) struct BitWriter {
    pub(super) sextets: Vec<u8>,
    len: usize,
}

impl BitWriter {
    pub(super) fn push_bit(&mut self, bit: bool) {
        if self.len.is_multiple_of(6) {
            self.sextets.push(0);
        }
        if bit {
            let shift = 5 - self.len % 6;
            if let Some(last) = self.sextets.last_mut() {
                *last |= 1 << shift;
            }
        }
        self.len += 1;
    }

    /// Writes the low `bits` bits of `value`; the caller has checked that
    /// `value` fits.
    pub(super) fn write(&mut self, value: u64, bits: u32) {
        for i in (0..bits).rev() {
            self.push_bit((value >> i) & 1 == 1);
        }
    }

    /// Writes `value` after checking it fits in `bits` bits.
    pub(super) fn write_checked(
        &mut self,
        value: u64,
        bits: u32,
        field: &'static str,
    ) -> Result<(), TcfError> {
        if bits < 64 && value >> bits != 0 {
            return Err(invalid_model(
                field,
                format!("{value} does not fit in {bits} bits"),
            ));
        }
        self.write(value, bits);
        Ok(())
    }

    pub(super) fn write_bool(&mut self, value: bool) {
        self.push_bit(value);
    }

    pub(super) fn write_flags(
        &mut self,
        set: &BTreeSet<u8>,
        bits: u8,
        field: &'static str,
    ) -> Result<(), TcfError> {
        if let Some(bad) = set.iter().find(|&&id| id == 0 || id > bits) {
            return Err(invalid_model(field, format!("id {bad} outside 1..={bits}")));
        }
        for id in 1..=bits {
            self.push_bit(set.contains(&id));
        }
        Ok(())
    }

    pub(super) fn write_timestamp(
        &mut self,
        at: OffsetDateTime,
        field: &'static str,
    ) -> Result<(), TcfError> {
        let deciseconds = deciseconds_of(at, field)?;
        self.write_checked(deciseconds, TIMESTAMP_BITS, field)
    }

    pub(super) fn write_alpha2(&mut self, code: Alpha2) {
        for value in code.letter_values() {
            self.write(value, 6);
        }
    }

    /// Packs the bits into whole bytes and renders them as base64url with
    /// `=` padding, the way some CMPs write segments (tests only: the
    /// encoder writes [`Self::into_base64`]).
    #[cfg(test)]
    pub(super) fn into_padded_base64(mut self) -> String {
        while !self.len.is_multiple_of(8) {
            self.push_bit(false);
        }
        let mut text: String = self.sextets.into_iter().map(char_of).collect();
        while !text.len().is_multiple_of(4) {
            text.push('=');
        }
        text
    }

    /// Pads with zeros to a multiple of 24 bits and renders base64url.
    pub(super) fn into_base64(mut self) -> String {
        while !self.len.is_multiple_of(24) {
            self.push_bit(false);
        }
        self.sextets.into_iter().map(char_of).collect()
    }
}
