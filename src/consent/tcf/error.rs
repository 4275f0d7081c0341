//! Errors of the TC string decoder and encoder.

use std::fmt;

/// The longest TC string decoded (64 KiB). Real strings are a few hundred
/// bytes to a few KiB; anything longer is refused before decoding.
pub const MAX_TC_STRING_LEN: usize = 64 * 1024;

/// Error returned when decoding or encoding a TC string fails.
///
/// Bit offsets are relative to the start of the segment named by the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TcfError {
    /// The input string is empty.
    #[error("empty tc string")]
    Empty,
    /// The input is longer than [`MAX_TC_STRING_LEN`]; refused before decoding.
    #[error("tc string of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A segment between two dots (or at either end) is empty.
    #[error("segment {segment} is empty")]
    EmptySegment {
        /// Zero-based index of the segment.
        segment: usize,
    },
    /// A character outside the base64url alphabet was found.
    #[error(
        "invalid base64url character {character:?} at position {position} in segment {segment}"
    )]
    InvalidCharacter {
        /// Zero-based index of the segment.
        segment: usize,
        /// Zero-based character position in the whole input.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// An `=` that is not base64url padding. Padding is optional; where a
    /// segment has it, it must end the segment and complete its last group
    /// of four characters (`xx==`, `xxx=`). Remove the `=`, or pad to a
    /// whole group.
    #[error("invalid padding at position {position} in segment {segment}: {problem}")]
    InvalidPadding {
        /// Zero-based index of the segment.
        segment: usize,
        /// Zero-based character position of the segment's first `=` in the
        /// whole input.
        position: usize,
        /// What is wrong with it.
        problem: PaddingProblem,
    },
    /// The segment ended before the field could be read completely.
    #[error("truncated at bit {offset} while reading {field}")]
    Truncated {
        /// Field being read.
        field: &'static str,
        /// Bit offset where the field starts.
        offset: usize,
    },
    /// The core segment has a version other than 2.
    #[error("unsupported version {version} at bit {offset} while reading {field}")]
    UnsupportedVersion {
        /// The version found.
        version: u8,
        /// Field being read (`version`).
        field: &'static str,
        /// Bit offset of the field.
        offset: usize,
    },
    /// A non-core segment has a segment type this decoder does not know.
    #[error(
        "unknown segment type {segment_type} in segment {segment} at bit 0 while reading segment_type"
    )]
    UnknownSegmentType {
        /// The segment type found.
        segment_type: u8,
        /// Zero-based index of the segment.
        segment: usize,
    },
    /// A segment other than the first one claims to be a core segment.
    #[error("second core segment in segment {segment} at bit 0 while reading segment_type")]
    DuplicateCoreSegment {
        /// Zero-based index of the segment.
        segment: usize,
    },
    /// An optional segment appears more than once.
    #[error("duplicate {name} segment in segment {segment} at bit 0 while reading segment_type")]
    DuplicateSegment {
        /// Name of the segment kind (`disclosed_vendors`, ...).
        name: &'static str,
        /// Zero-based index of the repeated segment.
        segment: usize,
    },
    /// A vendor id in a range entry lies outside `1..=max`.
    #[error("vendor id {value} outside 1..={max} at bit {offset} while reading {field}")]
    VendorIdOutOfRange {
        /// Field being read.
        field: &'static str,
        /// Bit offset of the field.
        offset: usize,
        /// The vendor id found.
        value: u16,
        /// The largest allowed vendor id.
        max: u16,
    },
    /// A range entry ends before it starts.
    #[error("range start {start} greater than end {end} at bit {offset} while reading {field}")]
    InvertedRange {
        /// Field being read (the end vendor id).
        field: &'static str,
        /// Bit offset of the field.
        offset: usize,
        /// Start vendor id of the entry.
        start: u16,
        /// End vendor id of the entry.
        end: u16,
    },
    /// A field holds a value the specification does not define.
    #[error("invalid value {value} at bit {offset} while reading {field}")]
    InvalidValue {
        /// Field being read.
        field: &'static str,
        /// Bit offset of the field.
        offset: usize,
        /// The value found.
        value: u64,
    },
    /// Bits after the last field of a segment are not all zero.
    #[error("non-zero trailing bit at bit {offset} while reading {field}")]
    TrailingBits {
        /// Padding of the segment (`padding`, `disclosed_vendors.padding`, ...).
        field: &'static str,
        /// Bit offset of the first non-zero padding bit.
        offset: usize,
    },
    /// A model value cannot be represented in a TC string.
    #[error("invalid {field}: {reason}")]
    InvalidModel {
        /// Model field holding the value.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why `=` in a TC string is not valid padding ([`TcfError::InvalidPadding`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PaddingProblem {
    /// Something other than `=` follows the first `=` of the segment:
    /// padding may only end a segment.
    FollowedByData {
        /// The first character after the `=` that is not one.
        character: char,
    },
    /// The segment is nothing but `=`.
    NoData,
    /// More than two `=`: base64 never needs more.
    TooLong {
        /// How many `=` there are.
        count: usize,
    },
    /// The `=` do not complete the last group of four characters (padding
    /// after a whole group, or one `=` where two are needed).
    Incomplete {
        /// Base64url characters before the padding.
        data: usize,
        /// How many `=` follow them.
        count: usize,
    },
}

impl fmt::Display for PaddingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FollowedByData { character } => write!(f, "'=' followed by {character:?}"),
            Self::NoData => f.write_str("a segment of '=' only"),
            Self::TooLong { count } => write!(f, "{count} '=' where at most 2 can pad"),
            Self::Incomplete { data, count } => write!(
                f,
                "{count} '=' after {data} characters do not complete a group of 4"
            ),
        }
    }
}

pub(super) fn invalid_model(field: &'static str, reason: impl Into<String>) -> TcfError {
    TcfError::InvalidModel {
        field,
        reason: reason.into(),
    }
}
