//! Strict decoder and encoder for IAB TCF v2 TC strings.
//!
//! A TC string is a sequence of base64url (no padding) segments joined by
//! `.`. The first segment is always the *core* segment (it starts with the
//! 6-bit `Version`, which must be `2`); every following segment starts with
//! a 3-bit `SegmentType`: `1` disclosed vendors, `2` allowed vendors
//! (TCF 2.0/2.1 only, still decoded), `3` publisher TC. Optional segments may
//! appear in any order, but at most once each.
//!
//! The decoder is strict: every malformed input is reported as a
//! [`TcfError`] that names the field and the bit offset (relative to the start
//! of the segment) where the problem was detected, and it never panics. Field
//! names of the core segment are bare (`cmp_id`,
//! `vendor_consents.max_vendor_id`); fields of the other segments are
//! prefixed with the segment name (`disclosed_vendors.num_entries`,
//! `publisher_tc.num_custom_purposes`).
//!
//! [`TcString::encode`] produces the canonical string for a model, such that
//! `TcString::decode(&tc.encode()?)? == tc` for every model that encodes,
//! and every decoded model encodes. Encoding fails only for values the format
//! cannot hold (a 12-bit field above 4095, a timestamp with sub-decisecond
//! precision, ...), reported as [`TcfError::InvalidModel`]. The encoding used
//! by each vendor section (bit field or ranges) is part of the model
//! ([`VendorSet::encoding`]), so a string decoded from a CMP re-encodes to the
//! same choice. Segments are zero-padded to a multiple of 24 bits, like the
//! example strings of the specification, which therefore re-encode byte for
//! byte.
//!
//! # Mapping onto tactful purposes
//!
//! [`TcString::purposes_for`] derives a verdict for four [`Purpose`]s. A TCF
//! purpose *counts* for a subject when:
//!
//! * for [`Subject::Vendor`]: the core `PurposesConsent` bit is set, the
//!   vendor's `VendorConsents` bit is set, and no publisher restriction of
//!   type 0 (not allowed) or type 2 (require legitimate interest) for that
//!   purpose covers the vendor (type 1, require consent, is compatible with
//!   consent);
//! * for [`Subject::Publisher`]: the publisher TC segment's
//!   `PubPurposesConsent` bit is set, or, when that segment is absent, the
//!   core `PurposesConsent` bit.
//!
//! Only consent counts. Legitimate-interest signals are never used: TCF 2.2
//! made purposes 3 to 6 consent-only, purpose 1 is consent-only by policy,
//! and for 7 to 9 this module conservatively ignores them as well.
//!
//! | tactful purpose            | requires                                      |
//! |----------------------------|-----------------------------------------------|
//! | [`Purpose::Personalization`] | TCF purposes 1, 5 and 6                     |
//! | [`Purpose::Marketing`]       | TCF purposes 1, 3 and 4                     |
//! | [`Purpose::Measurement`]     | TCF purposes 1, 7, 8 and 9                  |
//! | [`Purpose::Location`]        | TCF purpose 1 and special feature 1 opt-in (plus the vendor consent bit for a vendor) |
//!
//! Purpose 1 (store and/or access information on a device) gates everything:
//! if it does not count, every verdict is `false`. `PurposeOneTreatment` is
//! not taken as a substitute for purpose 1 consent. The other tactful purposes
//! have no TCF counterpart and are not returned.
//!
//! # Example
//!
//! ```
//! use tactful::Purpose;
//! use tactful::consent::tcf::{Subject, TcString, TcfError};
//!
//! # fn main() -> Result<(), TcfError> {
//! let tc = TcString::decode(
//!     "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA",
//! )?;
//! assert_eq!(tc.core.cmp_id, 880);
//! assert_eq!(tc.core.consent_language.as_str(), "EN");
//! assert!(tc.vendor_consent(4));
//! assert_eq!(tc.vendor_disclosed(100), Some(true));
//!
//! // No purpose consent was given, so nothing is allowed.
//! let verdicts = tc.purposes_for(Subject::Vendor(1));
//! assert!(verdicts.contains(&(Purpose::Marketing, false)));
//!
//! // Models round-trip through the encoder.
//! assert_eq!(TcString::decode(&tc.encode()?)?, tc);
//! # Ok(())
//! # }
//! ```
//!
//! Building a string the way a CMP would:
//!
//! ```
//! use tactful::Purpose;
//! use tactful::consent::tcf::{CoreSegment, Subject, TcString, TcfError, VendorSet};
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), TcfError> {
//! let mut core = CoreSegment::new(datetime!(2025-06-03 14:22 UTC));
//! core.cmp_id = 880;
//! core.purposes_consent = [1, 3, 4, 5, 6].into_iter().collect();
//! core.vendor_consents = VendorSet::from_ids([1, 8, 755])?;
//! let mut tc = TcString::new(core);
//! tc.disclosed_vendors = Some(VendorSet::from_ids([1, 2, 8, 755])?);
//!
//! let decoded = TcString::decode(&tc.encode()?)?;
//! assert_eq!(decoded, tc);
//! assert_eq!(
//!     decoded.purposes_for(Subject::Vendor(8)),
//!     [
//!         (Purpose::Personalization, true),
//!         (Purpose::Marketing, true),
//!         (Purpose::Measurement, false),
//!         (Purpose::Location, false),
//!     ]
//! );
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::Purpose;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Error returned when decoding or encoding a TC string fails.
///
/// The longest TC string decoded (64 KiB). Real strings are a few hundred
/// bytes to a few KiB; anything longer is refused before decoding.
pub const MAX_TC_STRING_LEN: usize = 64 * 1024;

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

fn invalid_model(field: &'static str, reason: impl Into<String>) -> TcfError {
    TcfError::InvalidModel {
        field,
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------

/// A decoded TC string: the core segment plus the optional segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcString {
    /// The core segment (always present).
    pub core: CoreSegment,
    /// Disclosed vendors segment (type 1); mandatory since TCF 2.3 but
    /// accepted as absent for older strings.
    pub disclosed_vendors: Option<VendorSet>,
    /// Allowed vendors segment (type 2), from TCF 2.0/2.1.
    pub allowed_vendors: Option<VendorSet>,
    /// Publisher transparency and consent segment (type 3).
    pub publisher_tc: Option<PublisherTc>,
}

/// The core segment of a TC string.
///
/// Purpose, special feature and custom purpose sets hold 1-based ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreSegment {
    /// Encoding format version; always 2 (6 bits).
    pub version: u8,
    /// Creation time (36 bits of deciseconds since the Unix epoch).
    pub created: OffsetDateTime,
    /// Last update time (36 bits of deciseconds since the Unix epoch).
    pub last_updated: OffsetDateTime,
    /// Id of the CMP that last updated the string (12 bits).
    pub cmp_id: u16,
    /// Version of that CMP (12 bits).
    pub cmp_version: u16,
    /// CMP screen on which consent was given (6 bits).
    pub consent_screen: u8,
    /// ISO 639-1 language of the CMP UI.
    pub consent_language: Alpha2,
    /// Global vendor list version used (12 bits).
    pub vendor_list_version: u16,
    /// TCF policy version (6 bits); any value is accepted.
    pub tcf_policy_version: u8,
    /// Whether the string is service specific (policy requires `true`, but
    /// `false` is decoded too).
    pub is_service_specific: bool,
    /// Whether the CMP used non-standard texts.
    pub use_non_standard_texts: bool,
    /// Special features opted in (ids `1..=12`).
    pub special_feature_optins: BTreeSet<u8>,
    /// Purposes consented to (ids `1..=24`).
    pub purposes_consent: BTreeSet<u8>,
    /// Purposes with legitimate interest transparency established
    /// (ids `1..=24`).
    pub purposes_li_transparency: BTreeSet<u8>,
    /// Whether purpose 1 received special treatment (was not disclosed).
    pub purpose_one_treatment: bool,
    /// ISO 3166-1 alpha-2 country of the publisher.
    pub publisher_cc: Alpha2,
    /// Vendors with consent.
    pub vendor_consents: VendorSet,
    /// Vendors with legitimate interest established.
    pub vendor_legitimate_interests: VendorSet,
    /// Publisher restrictions, in string order.
    pub publisher_restrictions: Vec<PublisherRestriction>,
}

impl CoreSegment {
    /// TCF policy version introduced by TCF 2.2.
    pub const POLICY_VERSION_2_2: u8 = 4;

    /// A core segment with no consents, as a CMP would start one.
    ///
    /// `created` and `last_updated` are set to the start of the UTC day of
    /// `now`, as the specification requires ("What happened to Created and
    /// LastUpdated?"). The language is `EN`, the country `AA`, the policy
    /// version [`Self::POLICY_VERSION_2_2`] and the string service specific.
    pub fn new(now: OffsetDateTime) -> Self {
        let start_of_day = now.unix_timestamp().div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY;
        // Cannot fail for a representable `now`; keeping `now` would only make
        // `encode` report it, never panic.
        let day = OffsetDateTime::from_unix_timestamp(start_of_day).unwrap_or(now);
        CoreSegment {
            version: 2,
            created: day,
            last_updated: day,
            cmp_id: 0,
            cmp_version: 0,
            consent_screen: 0,
            consent_language: Alpha2([b'E', b'N']),
            vendor_list_version: 0,
            tcf_policy_version: Self::POLICY_VERSION_2_2,
            is_service_specific: true,
            use_non_standard_texts: false,
            special_feature_optins: BTreeSet::new(),
            purposes_consent: BTreeSet::new(),
            purposes_li_transparency: BTreeSet::new(),
            purpose_one_treatment: false,
            publisher_cc: Alpha2([b'A', b'A']),
            vendor_consents: VendorSet::new(VendorEncoding::Bitfield),
            vendor_legitimate_interests: VendorSet::new(VendorEncoding::Bitfield),
            publisher_restrictions: Vec::new(),
        }
    }
}

/// Two ASCII letters, stored upper case (a language or country code).
///
/// Each letter is encoded in 6 bits, `A` = 0 to `Z` = 25.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alpha2([u8; 2]);

impl Alpha2 {
    /// Parses two ASCII letters of either case.
    pub fn new(code: &str) -> Result<Self, TcfError> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Alpha2([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(invalid_model(
                "alpha2",
                format!("{code:?} is not two ascii letters"),
            )),
        }
    }

    /// The code as an upper-case string slice.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    fn letter_values(self) -> [u64; 2] {
        let [a, b] = self.0;
        [
            u64::from(a.saturating_sub(b'A')),
            u64::from(b.saturating_sub(b'A')),
        ]
    }
}

impl fmt::Display for Alpha2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alpha2 {
    type Err = TcfError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alpha2::new(s)
    }
}

impl TryFrom<String> for Alpha2 {
    type Error = TcfError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Alpha2::new(&value)
    }
}

impl From<Alpha2> for String {
    fn from(value: Alpha2) -> Self {
        value.as_str().to_owned()
    }
}

/// How a vendor section is encoded in the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorEncoding {
    /// One bit per vendor id from 1 to `max_vendor_id`.
    Bitfield,
    /// A list of single ids and inclusive id ranges.
    Range,
}

/// An inclusive range of vendor ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VendorRange {
    /// First vendor id.
    pub start: u16,
    /// Last vendor id (equal to `start` for a single id).
    pub end: u16,
}

impl VendorRange {
    /// A range holding one vendor id.
    pub const fn single(id: u16) -> Self {
        VendorRange { start: id, end: id }
    }

    /// Whether `id` lies in the range.
    pub const fn contains(&self, id: u16) -> bool {
        self.start <= id && id <= self.end
    }
}

/// A set of vendor ids together with its encoding parameters.
///
/// Invariants (kept by every constructor, mutator and by deserialization):
/// ids lie in `1..=max_vendor_id` and are stored as sorted, disjoint,
/// non-adjacent ranges, so equal sets compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VendorSetRepr", into = "VendorSetRepr")]
pub struct VendorSet {
    max_vendor_id: u16,
    encoding: VendorEncoding,
    ranges: Vec<VendorRange>,
}

#[derive(Serialize, Deserialize)]
struct VendorSetRepr {
    max_vendor_id: u16,
    encoding: VendorEncoding,
    ranges: Vec<VendorRange>,
}

impl TryFrom<VendorSetRepr> for VendorSet {
    type Error = TcfError;

    fn try_from(repr: VendorSetRepr) -> Result<Self, Self::Error> {
        let mut set = VendorSet::new(repr.encoding);
        set.max_vendor_id = repr.max_vendor_id;
        for range in repr.ranges {
            if range.end > repr.max_vendor_id {
                return Err(invalid_model(
                    "vendor_set.ranges",
                    format!(
                        "vendor id {} exceeds max_vendor_id {}",
                        range.end, repr.max_vendor_id
                    ),
                ));
            }
            set.insert_range(range)?;
        }
        Ok(set)
    }
}

impl From<VendorSet> for VendorSetRepr {
    fn from(set: VendorSet) -> Self {
        VendorSetRepr {
            max_vendor_id: set.max_vendor_id,
            encoding: set.encoding,
            ranges: set.ranges,
        }
    }
}

/// Largest number of entries a 12-bit `NumEntries` field can announce.
const MAX_RANGE_ENTRIES: usize = 0xFFF;

impl VendorSet {
    /// An empty set with `max_vendor_id` 0.
    pub const fn new(encoding: VendorEncoding) -> Self {
        VendorSet {
            max_vendor_id: 0,
            encoding,
            ranges: Vec::new(),
        }
    }

    /// A set of the given ids, with `max_vendor_id` equal to the largest id
    /// and the encoding chosen by [`Self::optimal_encoding`].
    ///
    /// Fails if an id is 0.
    pub fn from_ids(ids: impl IntoIterator<Item = u16>) -> Result<Self, TcfError> {
        let mut set = VendorSet::new(VendorEncoding::Bitfield);
        for id in ids {
            set.insert(id)?;
        }
        set.encoding = set.optimal_encoding();
        Ok(set)
    }

    /// The `MaxVendorId` written for this set.
    pub const fn max_vendor_id(&self) -> u16 {
        self.max_vendor_id
    }

    /// Sets `MaxVendorId`; fails if it is below the largest id in the set.
    pub fn set_max_vendor_id(&mut self, max_vendor_id: u16) -> Result<(), TcfError> {
        match self.ranges.last() {
            Some(last) if last.end > max_vendor_id => Err(invalid_model(
                "vendor_set.max_vendor_id",
                format!(
                    "{max_vendor_id} is below the largest vendor id {}",
                    last.end
                ),
            )),
            _ => {
                self.max_vendor_id = max_vendor_id;
                Ok(())
            }
        }
    }

    /// The encoding used when the set is written.
    pub const fn encoding(&self) -> VendorEncoding {
        self.encoding
    }

    /// Changes the encoding used when the set is written.
    pub fn set_encoding(&mut self, encoding: VendorEncoding) {
        self.encoding = encoding;
    }

    /// The encoding giving the shorter output (bit field on a tie, or when
    /// the set needs more range entries than a string can hold).
    pub fn optimal_encoding(&self) -> VendorEncoding {
        if self.ranges.len() > MAX_RANGE_ENTRIES {
            return VendorEncoding::Bitfield;
        }
        let range_bits: usize = 12
            + self
                .ranges
                .iter()
                .map(|r| if r.start == r.end { 17 } else { 33 })
                .sum::<usize>();
        if range_bits < usize::from(self.max_vendor_id) {
            VendorEncoding::Range
        } else {
            VendorEncoding::Bitfield
        }
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u16) -> bool {
        let idx = self.ranges.partition_point(|r| r.end < id);
        self.ranges.get(idx).is_some_and(|r| r.start <= id)
    }

    /// Adds a vendor id, raising `max_vendor_id` if needed. Returns whether
    /// the id was new; fails for id 0.
    pub fn insert(&mut self, id: u16) -> Result<bool, TcfError> {
        if self.contains(id) {
            return Ok(false);
        }
        self.insert_range(VendorRange::single(id))?;
        Ok(true)
    }

    /// Adds an inclusive range of vendor ids, raising `max_vendor_id` if
    /// needed. Fails if the range starts at 0 or ends before it starts.
    pub fn insert_range(&mut self, range: VendorRange) -> Result<(), TcfError> {
        if range.start == 0 {
            return Err(invalid_model(
                "vendor_set.ranges",
                "vendor id 0 is not valid",
            ));
        }
        if range.start > range.end {
            return Err(invalid_model(
                "vendor_set.ranges",
                format!("range start {} greater than end {}", range.start, range.end),
            ));
        }
        self.max_vendor_id = self.max_vendor_id.max(range.end);
        // Ranges in `lo..hi` overlap or touch the new one; `lo <= hi` because
        // the stored ranges are sorted, disjoint and non-adjacent.
        let lo = self
            .ranges
            .partition_point(|r| r.end.saturating_add(1) < range.start);
        let hi = self
            .ranges
            .partition_point(|r| r.start <= range.end.saturating_add(1));
        let mut merged = range;
        if let Some(touching) = self.ranges.get(lo..hi) {
            if let (Some(first), Some(last)) = (touching.first(), touching.last()) {
                merged.start = merged.start.min(first.start);
                merged.end = merged.end.max(last.end);
            }
            self.ranges.splice(lo..hi, [merged]);
        } else {
            self.ranges.push(range);
            self.ranges = canonicalize(std::mem::take(&mut self.ranges));
        }
        Ok(())
    }

    /// The ids as sorted, disjoint, non-adjacent inclusive ranges.
    pub fn ranges(&self) -> &[VendorRange] {
        &self.ranges
    }

    /// Iterates over the ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.ranges.iter().flat_map(|r| r.start..=r.end)
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.ranges
            .iter()
            .map(|r| usize::from(r.end - r.start) + 1)
            .sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// Sorts ranges and merges overlapping or adjacent ones. Callers guarantee
/// `start <= end` for each range.
fn canonicalize(mut ranges: Vec<VendorRange>) -> Vec<VendorRange> {
    ranges.sort_unstable();
    let mut out: Vec<VendorRange> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(1) => {
                last.end = last.end.max(range.end);
            }
            _ => out.push(range),
        }
    }
    out
}

/// Publisher restriction type (2 bits; value 3 is undefined and rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictionType {
    /// 0: purpose flatly not allowed by the publisher.
    NotAllowed,
    /// 1: require consent (for flexible legitimate-interest purposes).
    RequireConsent,
    /// 2: require legitimate interest (for flexible consent purposes).
    RequireLegitimateInterest,
}

impl RestrictionType {
    /// The value the TCF specification gives this type (0, 1 or 2).
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::RestrictionType;
    /// assert_eq!(RestrictionType::RequireConsent.spec_value(), 1);
    /// assert_eq!(RestrictionType::from_spec_value(2), Some(RestrictionType::RequireLegitimateInterest));
    /// assert_eq!(RestrictionType::from_spec_value(3), None);
    /// ```
    #[must_use]
    pub const fn spec_value(self) -> u8 {
        self.bits() as u8
    }

    /// The type of a specification value; `None` for 3 (undefined) and above.
    #[must_use]
    pub const fn from_spec_value(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::NotAllowed),
            1 => Some(Self::RequireConsent),
            2 => Some(Self::RequireLegitimateInterest),
            _ => None,
        }
    }

    const fn bits(self) -> u64 {
        match self {
            RestrictionType::NotAllowed => 0,
            RestrictionType::RequireConsent => 1,
            RestrictionType::RequireLegitimateInterest => 2,
        }
    }
}

/// One publisher restriction entry: a purpose, a restriction type and the
/// vendors it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherRestriction {
    /// Restricted purpose id (6 bits).
    pub purpose_id: u8,
    /// Kind of restriction.
    pub restriction_type: RestrictionType,
    /// Restricted vendors, as written in the string. Ranges may cover gaps
    /// in the vendor list; each must satisfy `1 <= start <= end`, and there
    /// may be at most 4095 of them.
    pub vendors: Vec<VendorRange>,
}

impl PublisherRestriction {
    /// Whether the restriction covers `vendor_id`.
    pub fn covers(&self, vendor_id: u16) -> bool {
        self.vendors.iter().any(|r| r.contains(vendor_id))
    }

    /// The vendor ids it covers, each once, in ascending order (the ranges
    /// as written may overlap).
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::{PublisherRestriction, RestrictionType, VendorRange};
    /// let r = PublisherRestriction {
    ///     purpose_id: 2,
    ///     restriction_type: RestrictionType::NotAllowed,
    ///     vendors: vec![
    ///         VendorRange { start: 5, end: 7 },
    ///         VendorRange { start: 6, end: 8 },
    ///         VendorRange::single(1),
    ///     ],
    /// };
    /// assert_eq!(r.vendor_ids().collect::<Vec<_>>(), [1, 5, 6, 7, 8]);
    /// ```
    pub fn vendor_ids(&self) -> impl Iterator<Item = u16> + '_ {
        let mut ranges: Vec<VendorRange> = self.vendors.clone();
        ranges.sort_unstable();
        let mut next: u32 = 0;
        ranges.into_iter().flat_map(move |r| {
            let start = u32::from(r.start).max(next);
            let end = u32::from(r.end);
            next = next.max(end + 1);
            (start..=end).filter_map(|v| u16::try_from(v).ok())
        })
    }
}

/// Publisher transparency and consent segment (type 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherTc {
    /// Purposes the user consented to for the publisher (ids `1..=24`).
    pub purposes_consent: BTreeSet<u8>,
    /// Purposes with legitimate interest transparency for the publisher
    /// (ids `1..=24`).
    pub purposes_li_transparency: BTreeSet<u8>,
    /// Number of custom purposes (6 bits).
    pub num_custom_purposes: u8,
    /// Custom purposes consented to (ids `1..=num_custom_purposes`).
    pub custom_purposes_consent: BTreeSet<u8>,
    /// Custom purposes with legitimate interest transparency
    /// (ids `1..=num_custom_purposes`).
    pub custom_purposes_li_transparency: BTreeSet<u8>,
}

/// Whose processing [`TcString::purposes_for`] evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subject {
    /// A vendor of the global vendor list, by id.
    Vendor(u16),
    /// The publisher itself.
    Publisher,
}

// ---------------------------------------------------------------------------
// Queries and purpose mapping
// ---------------------------------------------------------------------------

impl TcString {
    /// A TC string with only a core segment.
    pub fn new(core: CoreSegment) -> Self {
        TcString {
            core,
            disclosed_vendors: None,
            allowed_vendors: None,
            publisher_tc: None,
        }
    }

    /// Whether the vendor's consent bit is set.
    pub fn vendor_consent(&self, vendor_id: u16) -> bool {
        self.core.vendor_consents.contains(vendor_id)
    }

    /// Whether the vendor's legitimate interest bit is set.
    pub fn vendor_legitimate_interest(&self, vendor_id: u16) -> bool {
        self.core.vendor_legitimate_interests.contains(vendor_id)
    }

    /// Whether the vendor was disclosed; `None` without that segment.
    pub fn vendor_disclosed(&self, vendor_id: u16) -> Option<bool> {
        self.disclosed_vendors
            .as_ref()
            .map(|set| set.contains(vendor_id))
    }

    /// Whether the vendor is allowed; `None` without that segment.
    pub fn vendor_allowed(&self, vendor_id: u16) -> Option<bool> {
        self.allowed_vendors
            .as_ref()
            .map(|set| set.contains(vendor_id))
    }

    /// Whether the user consented to TCF purpose `purpose` (1-based).
    pub fn purpose_consent(&self, purpose: u8) -> bool {
        self.core.purposes_consent.contains(&purpose)
    }

    /// Whether legitimate interest transparency is established for
    /// `purpose` (1-based).
    pub fn purpose_li_transparency(&self, purpose: u8) -> bool {
        self.core.purposes_li_transparency.contains(&purpose)
    }

    /// Whether the user opted in to special feature `n` (1-based).
    pub fn special_feature_optin(&self, n: u8) -> bool {
        self.core.special_feature_optins.contains(&n)
    }

    /// Publisher consent for purpose `n`; `false` without a publisher TC
    /// segment.
    pub fn publisher_purpose_consent(&self, n: u8) -> bool {
        self.publisher_tc
            .as_ref()
            .is_some_and(|p| p.purposes_consent.contains(&n))
    }

    /// Publisher legitimate interest transparency for purpose `n`; `false`
    /// without a publisher TC segment.
    pub fn publisher_purpose_li_transparency(&self, n: u8) -> bool {
        self.publisher_tc
            .as_ref()
            .is_some_and(|p| p.purposes_li_transparency.contains(&n))
    }

    /// Consent for custom purpose `n`; `false` without a publisher TC
    /// segment.
    pub fn custom_purpose_consent(&self, n: u8) -> bool {
        self.publisher_tc
            .as_ref()
            .is_some_and(|p| p.custom_purposes_consent.contains(&n))
    }

    /// Legitimate interest transparency for custom purpose `n`; `false`
    /// without a publisher TC segment.
    pub fn custom_purpose_li_transparency(&self, n: u8) -> bool {
        self.publisher_tc
            .as_ref()
            .is_some_and(|p| p.custom_purposes_li_transparency.contains(&n))
    }

    /// Restriction types the publisher set for `purpose` that cover
    /// `vendor_id`, in string order.
    pub fn restrictions_for(
        &self,
        purpose: u8,
        vendor_id: u16,
    ) -> impl Iterator<Item = RestrictionType> + '_ {
        self.core
            .publisher_restrictions
            .iter()
            .filter(move |r| r.purpose_id == purpose && r.covers(vendor_id))
            .map(|r| r.restriction_type)
    }

    /// Whether consent for `purpose` counts for `vendor_id`: the purpose
    /// and vendor consent bits are set and no publisher restriction of type
    /// "not allowed" or "require legitimate interest" covers the vendor.
    pub fn vendor_purpose_consent(&self, vendor_id: u16, purpose: u8) -> bool {
        self.purpose_consent(purpose)
            && self.vendor_consent(vendor_id)
            && self
                .restrictions_for(purpose, vendor_id)
                .all(|t| t == RestrictionType::RequireConsent)
    }

    /// Whether consent for `purpose` counts for the publisher: the publisher
    /// TC consent bit when that segment is present, else the core bit.
    pub fn publisher_consent_counts(&self, purpose: u8) -> bool {
        match &self.publisher_tc {
            Some(p) => p.purposes_consent.contains(&purpose),
            None => self.purpose_consent(purpose),
        }
    }

    /// Verdicts for [`Purpose::Personalization`], [`Purpose::Marketing`],
    /// [`Purpose::Measurement`] and [`Purpose::Location`], in that order,
    /// following the table in the module documentation.
    pub fn purposes_for(&self, subject: Subject) -> Vec<(Purpose, bool)> {
        let counts = |purpose: u8| match subject {
            Subject::Vendor(id) => self.vendor_purpose_consent(id, purpose),
            Subject::Publisher => self.publisher_consent_counts(purpose),
        };
        let storage = counts(1);
        let all = |purposes: &[u8]| storage && purposes.iter().all(|&p| counts(p));
        let location = storage
            && self.special_feature_optin(1)
            && match subject {
                Subject::Vendor(id) => self.vendor_consent(id),
                Subject::Publisher => true,
            };
        vec![
            (Purpose::Personalization, all(&[5, 6])),
            (Purpose::Marketing, all(&[3, 4])),
            (Purpose::Measurement, all(&[7, 8, 9])),
            (Purpose::Location, location),
        ]
    }
}

impl FromStr for TcString {
    type Err = TcfError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TcString::decode(s)
    }
}

// ---------------------------------------------------------------------------
// Base64url and bit reader / writer
// ---------------------------------------------------------------------------

fn sextet_of(c: char) -> Option<u8> {
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

fn char_of(sextet: u8) -> char {
    char::from(match sextet & 0x3F {
        s @ 0..=25 => b'A' + s,
        s @ 26..=51 => b'a' + (s - 26),
        s @ 52..=61 => b'0' + (s - 52),
        62 => b'-',
        _ => b'_',
    })
}

/// Reads big-endian bit fields from a base64url segment.
struct BitReader {
    sextets: Vec<u8>,
    pos: usize,
}

impl BitReader {
    /// Decodes the characters of one segment; `start` is the character
    /// position of the segment in the whole input (for error messages).
    fn new(segment_text: &str, segment: usize, start: usize) -> Result<Self, TcfError> {
        let sextets = segment_text
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
        Ok(BitReader { sextets, pos: 0 })
    }

    fn len_bits(&self) -> usize {
        self.sextets.len() * 6
    }

    fn remaining(&self) -> usize {
        self.len_bits().saturating_sub(self.pos)
    }

    fn bit_at(&self, index: usize) -> bool {
        self.sextets
            .get(index / 6)
            .is_some_and(|s| (s >> (5 - index % 6)) & 1 == 1)
    }

    /// Fails unless `bits` more bits are available.
    fn ensure(&self, bits: usize, field: &'static str) -> Result<(), TcfError> {
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
    fn read(&mut self, bits: u32, field: &'static str) -> Result<u64, TcfError> {
        debug_assert!(bits <= 64);
        self.ensure(bits as usize, field)?;
        let mut value = 0u64;
        for _ in 0..bits {
            value = (value << 1) | u64::from(self.bit_at(self.pos));
            self.pos += 1;
        }
        Ok(value)
    }

    fn read_bool(&mut self, field: &'static str) -> Result<bool, TcfError> {
        Ok(self.read(1, field)? == 1)
    }

    fn read_u8(&mut self, bits: u32, field: &'static str) -> Result<u8, TcfError> {
        debug_assert!(bits <= 8);
        let offset = self.pos;
        let value = self.read(bits, field)?;
        u8::try_from(value).map_err(|_| TcfError::InvalidValue {
            field,
            offset,
            value,
        })
    }

    fn read_u16(&mut self, bits: u32, field: &'static str) -> Result<u16, TcfError> {
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
    fn read_flags(&mut self, bits: u8, field: &'static str) -> Result<BTreeSet<u8>, TcfError> {
        self.ensure(usize::from(bits), field)?;
        let mut set = BTreeSet::new();
        for id in 1..=bits {
            if self.read_bool(field)? {
                set.insert(id);
            }
        }
        Ok(set)
    }

    fn read_timestamp(&mut self, field: &'static str) -> Result<OffsetDateTime, TcfError> {
        let offset = self.pos;
        let deciseconds = self.read(36, field)?;
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(deciseconds) * NANOS_PER_DECISECOND)
            .map_err(|_| TcfError::InvalidValue {
                field,
                offset,
                value: deciseconds,
            })
    }

    fn read_alpha2(&mut self, field: &'static str) -> Result<Alpha2, TcfError> {
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
    fn finish(self, field: &'static str) -> Result<(), TcfError> {
        match (self.pos..self.len_bits()).find(|&i| self.bit_at(i)) {
            Some(offset) => Err(TcfError::TrailingBits { field, offset }),
            None => Ok(()),
        }
    }
}

const NANOS_PER_DECISECOND: i128 = 100_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Writes big-endian bit fields and renders them as base64url.
#[derive(Default)]
struct BitWriter {
    sextets: Vec<u8>,
    len: usize,
}

impl BitWriter {
    fn push_bit(&mut self, bit: bool) {
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
    fn write(&mut self, value: u64, bits: u32) {
        for i in (0..bits).rev() {
            self.push_bit((value >> i) & 1 == 1);
        }
    }

    /// Writes `value` after checking it fits in `bits` bits.
    fn write_checked(
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

    fn write_bool(&mut self, value: bool) {
        self.push_bit(value);
    }

    fn write_flags(
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

    fn write_timestamp(&mut self, at: OffsetDateTime, field: &'static str) -> Result<(), TcfError> {
        let nanos = at.unix_timestamp_nanos();
        if nanos % NANOS_PER_DECISECOND != 0 {
            return Err(invalid_model(field, "not a whole number of deciseconds"));
        }
        let deciseconds = u64::try_from(nanos / NANOS_PER_DECISECOND)
            .map_err(|_| invalid_model(field, "before the unix epoch"))?;
        self.write_checked(deciseconds, 36, field)
    }

    fn write_alpha2(&mut self, code: Alpha2) {
        for value in code.letter_values() {
            self.write(value, 6);
        }
    }

    /// Pads with zeros to a multiple of 24 bits and renders base64url.
    fn into_base64(mut self) -> String {
        while !self.len.is_multiple_of(24) {
            self.push_bit(false);
        }
        self.sextets.into_iter().map(char_of).collect()
    }
}

// ---------------------------------------------------------------------------
// Field names
// ---------------------------------------------------------------------------

/// Field names of one vendor section, for error messages.
struct SectionNames {
    max_vendor_id: &'static str,
    is_range_encoding: &'static str,
    bitfield: &'static str,
    num_entries: &'static str,
    is_a_range: &'static str,
    start_or_only_vendor_id: &'static str,
    end_vendor_id: &'static str,
}

macro_rules! section_names {
    ($prefix:literal) => {
        SectionNames {
            max_vendor_id: concat!($prefix, ".max_vendor_id"),
            is_range_encoding: concat!($prefix, ".is_range_encoding"),
            bitfield: concat!($prefix, ".bitfield"),
            num_entries: concat!($prefix, ".num_entries"),
            is_a_range: concat!($prefix, ".is_a_range"),
            start_or_only_vendor_id: concat!($prefix, ".start_or_only_vendor_id"),
            end_vendor_id: concat!($prefix, ".end_vendor_id"),
        }
    };
}

const VENDOR_CONSENTS: SectionNames = section_names!("vendor_consents");
const VENDOR_LI: SectionNames = section_names!("vendor_legitimate_interests");
const DISCLOSED: SectionNames = section_names!("disclosed_vendors");
const ALLOWED: SectionNames = section_names!("allowed_vendors");

mod pr {
    pub(super) const NUM_PUB_RESTRICTIONS: &str = "publisher_restrictions.num_pub_restrictions";
    pub(super) const PURPOSE_ID: &str = "publisher_restrictions.purpose_id";
    pub(super) const RESTRICTION_TYPE: &str = "publisher_restrictions.restriction_type";
    pub(super) const NUM_ENTRIES: &str = "publisher_restrictions.num_entries";
    pub(super) const IS_A_RANGE: &str = "publisher_restrictions.is_a_range";
    pub(super) const START: &str = "publisher_restrictions.start_or_only_vendor_id";
    pub(super) const END: &str = "publisher_restrictions.end_vendor_id";
}

const SEGMENT_DISCLOSED: u8 = 1;
const SEGMENT_ALLOWED: u8 = 2;
const SEGMENT_PUBLISHER_TC: u8 = 3;

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

impl TcString {
    /// Decodes a TC string strictly.
    ///
    /// Trailing zero bits in a segment are accepted as padding; anything
    /// else that does not follow the specification is an error.
    pub fn decode(input: &str) -> Result<TcString, TcfError> {
        if input.is_empty() {
            return Err(TcfError::Empty);
        }
        if input.len() > MAX_TC_STRING_LEN {
            return Err(TcfError::TooLong {
                len: input.len(),
                max: MAX_TC_STRING_LEN,
            });
        }
        let mut core = None;
        let mut disclosed_vendors = None;
        let mut allowed_vendors = None;
        let mut publisher_tc = None;
        let mut position = 0usize;
        for (segment, text) in input.split('.').enumerate() {
            if text.is_empty() {
                return Err(TcfError::EmptySegment { segment });
            }
            let mut reader = BitReader::new(text, segment, position)?;
            position += text.chars().count() + 1;
            if segment == 0 {
                core = Some(decode_core(&mut reader)?);
                reader.finish("padding")?;
                continue;
            }
            // A non-empty segment has at least 6 bits.
            match reader.read_u8(3, "segment_type")? {
                0 => return Err(TcfError::DuplicateCoreSegment { segment }),
                SEGMENT_DISCLOSED => {
                    check_unseen(&disclosed_vendors, "disclosed_vendors", segment)?;
                    disclosed_vendors = Some(decode_vendor_set(&mut reader, &DISCLOSED)?);
                    reader.finish("disclosed_vendors.padding")?;
                }
                SEGMENT_ALLOWED => {
                    check_unseen(&allowed_vendors, "allowed_vendors", segment)?;
                    allowed_vendors = Some(decode_vendor_set(&mut reader, &ALLOWED)?);
                    reader.finish("allowed_vendors.padding")?;
                }
                SEGMENT_PUBLISHER_TC => {
                    check_unseen(&publisher_tc, "publisher_tc", segment)?;
                    publisher_tc = Some(decode_publisher_tc(&mut reader)?);
                    reader.finish("publisher_tc.padding")?;
                }
                segment_type => {
                    return Err(TcfError::UnknownSegmentType {
                        segment_type,
                        segment,
                    });
                }
            }
        }
        let core = core.ok_or(TcfError::Empty)?;
        Ok(TcString {
            core,
            disclosed_vendors,
            allowed_vendors,
            publisher_tc,
        })
    }
}

fn check_unseen<T>(slot: &Option<T>, name: &'static str, segment: usize) -> Result<(), TcfError> {
    match slot {
        Some(_) => Err(TcfError::DuplicateSegment { name, segment }),
        None => Ok(()),
    }
}

fn decode_core(r: &mut BitReader) -> Result<CoreSegment, TcfError> {
    let version = r.read_u8(6, "version")?;
    if version != 2 {
        return Err(TcfError::UnsupportedVersion {
            version,
            field: "version",
            offset: 0,
        });
    }
    Ok(CoreSegment {
        version,
        created: r.read_timestamp("created")?,
        last_updated: r.read_timestamp("last_updated")?,
        cmp_id: r.read_u16(12, "cmp_id")?,
        cmp_version: r.read_u16(12, "cmp_version")?,
        consent_screen: r.read_u8(6, "consent_screen")?,
        consent_language: r.read_alpha2("consent_language")?,
        vendor_list_version: r.read_u16(12, "vendor_list_version")?,
        tcf_policy_version: r.read_u8(6, "tcf_policy_version")?,
        is_service_specific: r.read_bool("is_service_specific")?,
        use_non_standard_texts: r.read_bool("use_non_standard_texts")?,
        special_feature_optins: r.read_flags(12, "special_feature_optins")?,
        purposes_consent: r.read_flags(24, "purposes_consent")?,
        purposes_li_transparency: r.read_flags(24, "purposes_li_transparency")?,
        purpose_one_treatment: r.read_bool("purpose_one_treatment")?,
        publisher_cc: r.read_alpha2("publisher_cc")?,
        vendor_consents: decode_vendor_set(r, &VENDOR_CONSENTS)?,
        vendor_legitimate_interests: decode_vendor_set(r, &VENDOR_LI)?,
        publisher_restrictions: decode_publisher_restrictions(r)?,
    })
}

fn decode_vendor_set(r: &mut BitReader, names: &SectionNames) -> Result<VendorSet, TcfError> {
    let max_vendor_id = r.read_u16(16, names.max_vendor_id)?;
    if !r.read_bool(names.is_range_encoding)? {
        // The whole bit field must be present before any work is done.
        r.ensure(usize::from(max_vendor_id), names.bitfield)?;
        let mut ranges = Vec::new();
        let mut run_start: Option<u16> = None;
        for id in 1..=max_vendor_id {
            match (r.read_bool(names.bitfield)?, run_start) {
                (true, None) => run_start = Some(id),
                (false, Some(start)) => {
                    ranges.push(VendorRange { start, end: id - 1 });
                    run_start = None;
                }
                _ => {}
            }
        }
        if let Some(start) = run_start {
            ranges.push(VendorRange {
                start,
                end: max_vendor_id,
            });
        }
        return Ok(VendorSet {
            max_vendor_id,
            encoding: VendorEncoding::Bitfield,
            ranges,
        });
    }
    let num_entries = r.read_u16(12, names.num_entries)?;
    // Each entry consumes at least 17 input bits, so the work done here is
    // bounded by the input length; ranges are merged, never expanded.
    let mut ranges = Vec::new();
    for _ in 0..num_entries {
        let is_a_range = r.read_bool(names.is_a_range)?;
        let start_offset = r.pos;
        let start = r.read_u16(16, names.start_or_only_vendor_id)?;
        if start == 0 || start > max_vendor_id {
            return Err(TcfError::VendorIdOutOfRange {
                field: names.start_or_only_vendor_id,
                offset: start_offset,
                value: start,
                max: max_vendor_id,
            });
        }
        let end = if is_a_range {
            let end_offset = r.pos;
            let end = r.read_u16(16, names.end_vendor_id)?;
            if end > max_vendor_id {
                return Err(TcfError::VendorIdOutOfRange {
                    field: names.end_vendor_id,
                    offset: end_offset,
                    value: end,
                    max: max_vendor_id,
                });
            }
            if end < start {
                return Err(TcfError::InvertedRange {
                    field: names.end_vendor_id,
                    offset: end_offset,
                    start,
                    end,
                });
            }
            end
        } else {
            start
        };
        ranges.push(VendorRange { start, end });
    }
    Ok(VendorSet {
        max_vendor_id,
        encoding: VendorEncoding::Range,
        ranges: canonicalize(ranges),
    })
}

fn decode_publisher_restrictions(r: &mut BitReader) -> Result<Vec<PublisherRestriction>, TcfError> {
    let count = r.read_u16(12, pr::NUM_PUB_RESTRICTIONS)?;
    let mut restrictions = Vec::new();
    for _ in 0..count {
        let purpose_id = r.read_u8(6, pr::PURPOSE_ID)?;
        let type_offset = r.pos;
        let restriction_type = match r.read(2, pr::RESTRICTION_TYPE)? {
            0 => RestrictionType::NotAllowed,
            1 => RestrictionType::RequireConsent,
            2 => RestrictionType::RequireLegitimateInterest,
            value => {
                return Err(TcfError::InvalidValue {
                    field: pr::RESTRICTION_TYPE,
                    offset: type_offset,
                    value,
                });
            }
        };
        let num_entries = r.read_u16(12, pr::NUM_ENTRIES)?;
        let mut vendors = Vec::new();
        for _ in 0..num_entries {
            let is_a_range = r.read_bool(pr::IS_A_RANGE)?;
            let start_offset = r.pos;
            let start = r.read_u16(16, pr::START)?;
            if start == 0 {
                return Err(TcfError::VendorIdOutOfRange {
                    field: pr::START,
                    offset: start_offset,
                    value: start,
                    max: u16::MAX,
                });
            }
            let end = if is_a_range {
                let end_offset = r.pos;
                let end = r.read_u16(16, pr::END)?;
                if end < start {
                    return Err(TcfError::InvertedRange {
                        field: pr::END,
                        offset: end_offset,
                        start,
                        end,
                    });
                }
                end
            } else {
                start
            };
            vendors.push(VendorRange { start, end });
        }
        restrictions.push(PublisherRestriction {
            purpose_id,
            restriction_type,
            vendors,
        });
    }
    Ok(restrictions)
}

fn decode_publisher_tc(r: &mut BitReader) -> Result<PublisherTc, TcfError> {
    let purposes_consent = r.read_flags(24, "publisher_tc.purposes_consent")?;
    let purposes_li_transparency = r.read_flags(24, "publisher_tc.purposes_li_transparency")?;
    let num_custom_purposes = r.read_u8(6, "publisher_tc.num_custom_purposes")?;
    let custom_purposes_consent =
        r.read_flags(num_custom_purposes, "publisher_tc.custom_purposes_consent")?;
    let custom_purposes_li_transparency = r.read_flags(
        num_custom_purposes,
        "publisher_tc.custom_purposes_li_transparency",
    )?;
    Ok(PublisherTc {
        purposes_consent,
        purposes_li_transparency,
        num_custom_purposes,
        custom_purposes_consent,
        custom_purposes_li_transparency,
    })
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

impl TcString {
    /// Encodes the model as a TC string: the core segment, then the
    /// disclosed vendors, allowed vendors and publisher TC segments that are
    /// present, each zero-padded to a multiple of 24 bits.
    ///
    /// Fails with [`TcfError::InvalidModel`] when a value does not fit the
    /// format: a version other than 2, a number wider than its field, a
    /// timestamp before 1970, after 2187 or with sub-decisecond precision,
    /// an id outside its flag field, a range-encoded vendor set or a
    /// restriction needing more than 4095 entries, more than 4095
    /// restrictions, or an invalid restriction range.
    pub fn encode(&self) -> Result<String, TcfError> {
        let mut segments = vec![encode_core(&self.core)?];
        if let Some(set) = &self.disclosed_vendors {
            let mut w = BitWriter::default();
            w.write(u64::from(SEGMENT_DISCLOSED), 3);
            encode_vendor_set(&mut w, set, "disclosed_vendors")?;
            segments.push(w.into_base64());
        }
        if let Some(set) = &self.allowed_vendors {
            let mut w = BitWriter::default();
            w.write(u64::from(SEGMENT_ALLOWED), 3);
            encode_vendor_set(&mut w, set, "allowed_vendors")?;
            segments.push(w.into_base64());
        }
        if let Some(ptc) = &self.publisher_tc {
            segments.push(encode_publisher_tc(ptc)?);
        }
        Ok(segments.join("."))
    }
}

fn encode_core(core: &CoreSegment) -> Result<String, TcfError> {
    if core.version != 2 {
        return Err(invalid_model(
            "version",
            format!("version {} is not supported", core.version),
        ));
    }
    let mut w = BitWriter::default();
    w.write(u64::from(core.version), 6);
    w.write_timestamp(core.created, "created")?;
    w.write_timestamp(core.last_updated, "last_updated")?;
    w.write_checked(u64::from(core.cmp_id), 12, "cmp_id")?;
    w.write_checked(u64::from(core.cmp_version), 12, "cmp_version")?;
    w.write_checked(u64::from(core.consent_screen), 6, "consent_screen")?;
    w.write_alpha2(core.consent_language);
    w.write_checked(
        u64::from(core.vendor_list_version),
        12,
        "vendor_list_version",
    )?;
    w.write_checked(u64::from(core.tcf_policy_version), 6, "tcf_policy_version")?;
    w.write_bool(core.is_service_specific);
    w.write_bool(core.use_non_standard_texts);
    w.write_flags(&core.special_feature_optins, 12, "special_feature_optins")?;
    w.write_flags(&core.purposes_consent, 24, "purposes_consent")?;
    w.write_flags(
        &core.purposes_li_transparency,
        24,
        "purposes_li_transparency",
    )?;
    w.write_bool(core.purpose_one_treatment);
    w.write_alpha2(core.publisher_cc);
    encode_vendor_set(&mut w, &core.vendor_consents, "vendor_consents")?;
    encode_vendor_set(
        &mut w,
        &core.vendor_legitimate_interests,
        "vendor_legitimate_interests",
    )?;
    encode_publisher_restrictions(&mut w, &core.publisher_restrictions)?;
    Ok(w.into_base64())
}

fn encode_range_entries(
    w: &mut BitWriter,
    ranges: &[VendorRange],
    field: &'static str,
) -> Result<(), TcfError> {
    if ranges.len() > MAX_RANGE_ENTRIES {
        return Err(invalid_model(
            field,
            format!("{} range entries exceed the maximum of 4095", ranges.len()),
        ));
    }
    w.write(ranges.len() as u64, 12);
    for range in ranges {
        if range.start == 0 || range.start > range.end {
            return Err(invalid_model(
                field,
                format!("invalid vendor range {}..={}", range.start, range.end),
            ));
        }
        let is_a_range = range.start != range.end;
        w.write_bool(is_a_range);
        w.write(u64::from(range.start), 16);
        if is_a_range {
            w.write(u64::from(range.end), 16);
        }
    }
    Ok(())
}

fn encode_vendor_set(
    w: &mut BitWriter,
    set: &VendorSet,
    field: &'static str,
) -> Result<(), TcfError> {
    w.write(u64::from(set.max_vendor_id), 16);
    match set.encoding {
        VendorEncoding::Bitfield => {
            w.write_bool(false);
            let mut next = 1u32;
            for range in &set.ranges {
                for _ in next..u32::from(range.start) {
                    w.push_bit(false);
                }
                for _ in range.start..=range.end {
                    w.push_bit(true);
                }
                next = u32::from(range.end) + 1;
            }
            for _ in next..=u32::from(set.max_vendor_id) {
                w.push_bit(false);
            }
            Ok(())
        }
        VendorEncoding::Range => {
            w.write_bool(true);
            encode_range_entries(w, &set.ranges, field)
        }
    }
}

fn encode_publisher_restrictions(
    w: &mut BitWriter,
    restrictions: &[PublisherRestriction],
) -> Result<(), TcfError> {
    if restrictions.len() > MAX_RANGE_ENTRIES {
        return Err(invalid_model(
            "publisher_restrictions",
            format!(
                "{} restrictions exceed the maximum of 4095",
                restrictions.len()
            ),
        ));
    }
    w.write(restrictions.len() as u64, 12);
    for restriction in restrictions {
        w.write_checked(
            u64::from(restriction.purpose_id),
            6,
            "publisher_restrictions.purpose_id",
        )?;
        w.write(restriction.restriction_type.bits(), 2);
        encode_range_entries(w, &restriction.vendors, "publisher_restrictions.vendors")?;
    }
    Ok(())
}

fn encode_publisher_tc(ptc: &PublisherTc) -> Result<String, TcfError> {
    let mut w = BitWriter::default();
    w.write(u64::from(SEGMENT_PUBLISHER_TC), 3);
    w.write_flags(&ptc.purposes_consent, 24, "publisher_tc.purposes_consent")?;
    w.write_flags(
        &ptc.purposes_li_transparency,
        24,
        "publisher_tc.purposes_li_transparency",
    )?;
    w.write_checked(
        u64::from(ptc.num_custom_purposes),
        6,
        "publisher_tc.num_custom_purposes",
    )?;
    w.write_flags(
        &ptc.custom_purposes_consent,
        ptc.num_custom_purposes,
        "publisher_tc.custom_purposes_consent",
    )?;
    w.write_flags(
        &ptc.custom_purposes_li_transparency,
        ptc.num_custom_purposes,
        "publisher_tc.custom_purposes_li_transparency",
    )?;
    Ok(w.into_base64())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    /// Example from the "TC String Format" section of the specification.
    const SPEC_FULL: &str =
        "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA";
    /// Example from the URL macro section of the specification.
    const SPEC_TWO_SEGMENTS: &str =
        "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA";
    const SPEC_CORE: &str = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA";

    /// Independent bit-string builder used to hand-craft test strings.
    #[derive(Default, Clone)]
    struct Bits(String);

    impl Bits {
        fn push(mut self, value: u64, width: usize) -> Self {
            assert!(width == 64 || value < (1u64 << width), "{value} in {width}");
            self.0.push_str(&format!("{value:0width$b}"));
            self
        }

        fn flag(self, on: bool) -> Self {
            self.push(u64::from(on), 1)
        }

        /// Sets the given 1-based ids in a `width`-bit flag field.
        fn flags(self, width: usize, ids: &[usize]) -> Self {
            let mut s = self;
            for i in 1..=width {
                s = s.flag(ids.contains(&i));
            }
            s
        }

        fn letters(self, code: &str) -> Self {
            let mut s = self;
            for b in code.bytes() {
                s = s.push(u64::from(b - b'A'), 6);
            }
            s
        }

        fn len(&self) -> usize {
            self.0.len()
        }

        fn b64(&self) -> String {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut bits = self.0.clone();
            while !bits.len().is_multiple_of(6) {
                bits.push('0');
            }
            bits.as_bytes()
                .chunks(6)
                .map(|c| {
                    let v = usize::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap();
                    ALPHABET[v] as char
                })
                .collect()
        }
    }

    fn ts(deciseconds: u64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(deciseconds) * 100_000_000).unwrap()
    }

    /// Core fields up to and including PublisherCC (213 bits).
    fn core_header() -> Bits {
        Bits::default()
            .push(2, 6) // version
            .push(15_000_000_001, 36) // created
            .push(15_000_000_123, 36) // last_updated
            .push(300, 12) // cmp_id
            .push(7, 12) // cmp_version
            .push(5, 6) // consent_screen
            .letters("FR")
            .push(123, 12) // vendor_list_version
            .push(4, 6) // tcf_policy_version
            .flag(true) // is_service_specific
            .flag(true) // use_non_standard_texts
            .flags(12, &[1, 12])
            .flags(24, &[1, 3, 24])
            .flags(24, &[2, 7])
            .flag(true) // purpose_one_treatment
            .letters("DE")
    }

    fn hand_built() -> String {
        let core = core_header()
            // vendor consents: bit field, max 10, vendors 2, 3, 10
            .push(10, 16)
            .flag(false)
            .flags(10, &[2, 3, 10])
            // vendor LI: range, max 300, entries: 5, 100-200
            .push(300, 16)
            .flag(true)
            .push(2, 12)
            .flag(false)
            .push(5, 16)
            .flag(true)
            .push(100, 16)
            .push(200, 16)
            // two publisher restrictions
            .push(2, 12)
            .push(2, 6)
            .push(1, 2)
            .push(2, 12)
            .flag(true)
            .push(1, 16)
            .push(3, 16)
            .flag(false)
            .push(9, 16)
            .push(7, 6)
            .push(0, 2)
            .push(0, 12);
        assert_eq!(core_header().len(), 213);
        let disclosed = Bits::default()
            .push(1, 3)
            .push(6, 16)
            .flag(false)
            .flags(6, &[1, 6]);
        let allowed = Bits::default()
            .push(2, 3)
            .push(40, 16)
            .flag(true)
            .push(1, 12)
            .flag(true)
            .push(30, 16)
            .push(40, 16);
        let publisher = Bits::default()
            .push(3, 3)
            .flags(24, &[1, 2])
            .flags(24, &[7])
            .push(3, 6)
            .flags(3, &[1, 3])
            .flags(3, &[2]);
        [core, disclosed, allowed, publisher]
            .iter()
            .map(Bits::b64)
            .collect::<Vec<_>>()
            .join(".")
    }

    fn set(ids: &[u8]) -> BTreeSet<u8> {
        ids.iter().copied().collect()
    }

    // -- (1) hand-built strings ---------------------------------------------

    #[test]
    fn hand_built_string_decodes_every_field() {
        let tc = TcString::decode(&hand_built()).unwrap();
        let c = &tc.core;
        assert_eq!(c.version, 2);
        assert_eq!(c.created, ts(15_000_000_001));
        assert_eq!(c.created, datetime!(2017-07-14 02:40:00.1 UTC));
        assert_eq!(c.last_updated, ts(15_000_000_123));
        assert_eq!(c.cmp_id, 300);
        assert_eq!(c.cmp_version, 7);
        assert_eq!(c.consent_screen, 5);
        assert_eq!(c.consent_language.as_str(), "FR");
        assert_eq!(c.vendor_list_version, 123);
        assert_eq!(c.tcf_policy_version, 4);
        assert!(c.is_service_specific);
        assert!(c.use_non_standard_texts);
        assert_eq!(c.special_feature_optins, set(&[1, 12]));
        assert_eq!(c.purposes_consent, set(&[1, 3, 24]));
        assert_eq!(c.purposes_li_transparency, set(&[2, 7]));
        assert!(c.purpose_one_treatment);
        assert_eq!(c.publisher_cc.as_str(), "DE");

        assert_eq!(c.vendor_consents.encoding(), VendorEncoding::Bitfield);
        assert_eq!(c.vendor_consents.max_vendor_id(), 10);
        assert_eq!(c.vendor_consents.iter().collect::<Vec<_>>(), [2, 3, 10]);
        assert_eq!(
            c.vendor_legitimate_interests.encoding(),
            VendorEncoding::Range
        );
        assert_eq!(c.vendor_legitimate_interests.max_vendor_id(), 300);
        assert_eq!(
            c.vendor_legitimate_interests.ranges(),
            [
                VendorRange::single(5),
                VendorRange {
                    start: 100,
                    end: 200
                }
            ]
        );
        assert_eq!(
            c.publisher_restrictions,
            [
                PublisherRestriction {
                    purpose_id: 2,
                    restriction_type: RestrictionType::RequireConsent,
                    vendors: vec![VendorRange { start: 1, end: 3 }, VendorRange::single(9)],
                },
                PublisherRestriction {
                    purpose_id: 7,
                    restriction_type: RestrictionType::NotAllowed,
                    vendors: vec![],
                },
            ]
        );

        let disclosed = tc.disclosed_vendors.as_ref().unwrap();
        assert_eq!(disclosed.encoding(), VendorEncoding::Bitfield);
        assert_eq!(disclosed.max_vendor_id(), 6);
        assert_eq!(disclosed.iter().collect::<Vec<_>>(), [1, 6]);
        let allowed = tc.allowed_vendors.as_ref().unwrap();
        assert_eq!(allowed.encoding(), VendorEncoding::Range);
        assert_eq!(allowed.max_vendor_id(), 40);
        assert_eq!(allowed.len(), 11);
        let p = tc.publisher_tc.as_ref().unwrap();
        assert_eq!(p.purposes_consent, set(&[1, 2]));
        assert_eq!(p.purposes_li_transparency, set(&[7]));
        assert_eq!(p.num_custom_purposes, 3);
        assert_eq!(p.custom_purposes_consent, set(&[1, 3]));
        assert_eq!(p.custom_purposes_li_transparency, set(&[2]));

        // Queries.
        assert!(tc.vendor_consent(2) && tc.vendor_consent(10) && !tc.vendor_consent(4));
        assert!(!tc.vendor_consent(0) && !tc.vendor_consent(11));
        assert!(tc.vendor_legitimate_interest(150) && !tc.vendor_legitimate_interest(201));
        assert!(tc.purpose_consent(24) && !tc.purpose_consent(2) && !tc.purpose_consent(0));
        assert!(tc.purpose_li_transparency(7));
        assert!(tc.special_feature_optin(12) && !tc.special_feature_optin(2));
        assert!(tc.publisher_purpose_consent(2) && !tc.publisher_purpose_consent(3));
        assert!(tc.publisher_purpose_li_transparency(7));
        assert!(tc.custom_purpose_consent(3) && !tc.custom_purpose_consent(2));
        assert!(tc.custom_purpose_li_transparency(2));
        assert_eq!(tc.vendor_disclosed(6), Some(true));
        assert_eq!(tc.vendor_disclosed(5), Some(false));
        assert_eq!(tc.vendor_allowed(35), Some(true));
        assert_eq!(
            tc.restrictions_for(2, 3).collect::<Vec<_>>(),
            [RestrictionType::RequireConsent]
        );
        assert_eq!(tc.restrictions_for(2, 4).count(), 0);

        // The encoder reproduces the same model.
        assert_eq!(TcString::decode(&tc.encode().unwrap()).unwrap(), tc);
    }

    #[test]
    fn optional_segments_in_any_order() {
        let s = hand_built();
        let parts: Vec<&str> = s.split('.').collect();
        let reordered = [parts[0], parts[3], parts[1], parts[2]].join(".");
        assert_eq!(
            TcString::decode(&reordered).unwrap(),
            TcString::decode(&s).unwrap()
        );
    }

    #[test]
    fn encoder_output_matches_independent_bit_layout() {
        let mut core = CoreSegment::new(datetime!(2024-03-05 17:45:12.345 UTC));
        core.cmp_id = 300;
        core.purposes_consent = set(&[1, 2]);
        core.vendor_consents = VendorSet::from_ids([3]).unwrap();
        let tc = TcString::new(core);
        let day = datetime!(2024-03-05 00:00 UTC).unix_timestamp() as u64 * 10;
        let expected = Bits::default()
            .push(2, 6)
            .push(day, 36)
            .push(day, 36)
            .push(300, 12)
            .push(0, 12)
            .push(0, 6)
            .letters("EN")
            .push(0, 12)
            .push(4, 6)
            .flag(true)
            .flag(false)
            .flags(12, &[])
            .flags(24, &[1, 2])
            .flags(24, &[])
            .flag(false)
            .letters("AA")
            .push(3, 16)
            .flag(false)
            .flags(3, &[3])
            .push(0, 16)
            .flag(false)
            .push(0, 12);
        let mut expected = expected.b64();
        while expected.len() % 4 != 0 {
            expected.push('A');
        }
        assert_eq!(tc.encode().unwrap(), expected);
    }

    #[test]
    fn non_canonical_ranges_decode_to_canonical_sets() {
        // Overlapping, unordered and single-id "ranges" are accepted.
        let core = core_header()
            .push(20, 16)
            .flag(true)
            .push(4, 12)
            .flag(true)
            .push(10, 16)
            .push(12, 16)
            .flag(true)
            .push(4, 16)
            .push(4, 16)
            .flag(false)
            .push(5, 16)
            .flag(true)
            .push(11, 16)
            .push(20, 16)
            .push(0, 16)
            .flag(false)
            .push(0, 12);
        let tc = TcString::decode(&core.b64()).unwrap();
        assert_eq!(
            tc.core.vendor_consents.ranges(),
            [
                VendorRange { start: 4, end: 5 },
                VendorRange { start: 10, end: 20 }
            ]
        );
        assert_eq!(TcString::decode(&tc.encode().unwrap()).unwrap(), tc);
    }

    #[test]
    fn huge_bitfield_needs_its_bits_before_allocating() {
        let s = core_header()
            .push(u64::from(u16::MAX), 16)
            .flag(false)
            .b64();
        assert_eq!(
            TcString::decode(&s).unwrap_err(),
            TcfError::Truncated {
                field: "vendor_consents.bitfield",
                offset: 230
            }
        );
        // Full-width bit field and range of all ids decode.
        let all = core_header()
            .push(u64::from(u16::MAX), 16)
            .flag(true)
            .push(1, 12)
            .flag(true)
            .push(1, 16)
            .push(u64::from(u16::MAX), 16)
            .push(u64::from(u16::MAX), 16)
            .flag(false)
            .flags(usize::from(u16::MAX), &[65_535])
            .push(0, 12);
        let tc = TcString::decode(&all.b64()).unwrap();
        assert_eq!(tc.core.vendor_consents.len(), 65_535);
        assert!(tc.vendor_legitimate_interest(65_535) && !tc.vendor_legitimate_interest(1));
        assert_eq!(TcString::decode(&tc.encode().unwrap()).unwrap(), tc);
    }

    // -- (2) specification examples ------------------------------------------

    fn check_spec_core(tc: &TcString) {
        let c = &tc.core;
        assert_eq!(c.version, 2);
        // "Created and LastUpdated ... have the same value corresponding to
        // the day-level timestamp".
        assert_eq!(c.created, datetime!(2025-06-03 00:00 UTC));
        assert_eq!(c.created, c.last_updated);
        assert_eq!(c.cmp_id, 880);
        assert_eq!(c.cmp_version, 0);
        assert_eq!(c.consent_screen, 0);
        assert_eq!(c.consent_language.as_str(), "EN");
        assert_eq!(c.vendor_list_version, 48);
        assert_eq!(c.tcf_policy_version, 2);
        assert!(c.is_service_specific);
        assert!(!c.use_non_standard_texts);
        assert!(c.special_feature_optins.is_empty());
        assert!(c.purposes_consent.is_empty());
        assert!(c.purposes_li_transparency.is_empty());
        assert!(!c.purpose_one_treatment);
        assert_eq!(c.publisher_cc.as_str(), "DE");
        assert_eq!(c.vendor_consents.encoding(), VendorEncoding::Bitfield);
        assert_eq!(c.vendor_consents.max_vendor_id(), 4);
        assert_eq!(c.vendor_consents.iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(c.vendor_legitimate_interests.max_vendor_id(), 0);
        assert!(c.vendor_legitimate_interests.is_empty());
        assert!(c.publisher_restrictions.is_empty());
        // The disclosed vendors segment is range encoded: 1-5, 100, 404.
        let d = tc.disclosed_vendors.as_ref().unwrap();
        assert_eq!(d.encoding(), VendorEncoding::Range);
        assert_eq!(d.max_vendor_id(), 404);
        assert_eq!(
            d.ranges(),
            [
                VendorRange { start: 1, end: 5 },
                VendorRange::single(100),
                VendorRange::single(404)
            ]
        );
        assert!(tc.allowed_vendors.is_none());
    }

    #[test]
    fn spec_example_with_publisher_tc() {
        let tc = TcString::decode(SPEC_FULL).unwrap();
        check_spec_core(&tc);
        let p = tc.publisher_tc.as_ref().unwrap();
        assert!(p.purposes_consent.is_empty() && p.purposes_li_transparency.is_empty());
        assert_eq!(p.num_custom_purposes, 0);
        // The reference encoder pads to 24 bits like ours: byte-identical.
        assert_eq!(tc.encode().unwrap(), SPEC_FULL);
    }

    #[test]
    fn spec_example_without_publisher_tc() {
        let tc = TcString::decode(SPEC_TWO_SEGMENTS).unwrap();
        check_spec_core(&tc);
        assert!(tc.publisher_tc.is_none());
        assert_eq!(tc.encode().unwrap(), SPEC_TWO_SEGMENTS);
        let core_only = TcString::decode(SPEC_CORE).unwrap();
        assert!(core_only.disclosed_vendors.is_none());
        assert_eq!(core_only.core, tc.core);
    }

    #[test]
    fn spec_example_maps_to_no_purposes() {
        let tc = TcString::decode(SPEC_FULL).unwrap();
        for subject in [Subject::Vendor(1), Subject::Vendor(404), Subject::Publisher] {
            assert!(tc.purposes_for(subject).iter().all(|(_, ok)| !ok));
        }
    }

    #[test]
    fn spec_restriction_range_may_cover_gaps() {
        // "to encode a restriction for vendors [12, 15, 18, 24] ... a range
        // entry of 12-24 is permitted".
        let s = core_header()
            .push(0, 16)
            .flag(false)
            .push(0, 16)
            .flag(false)
            .push(1, 12)
            .push(2, 6)
            .push(0, 2)
            .push(1, 12)
            .flag(true)
            .push(12, 16)
            .push(24, 16)
            .b64();
        let tc = TcString::decode(&s).unwrap();
        let r = &tc.core.publisher_restrictions[0];
        assert_eq!(r.purpose_id, 2);
        assert_eq!(r.restriction_type, RestrictionType::NotAllowed);
        assert_eq!(r.vendors, [VendorRange { start: 12, end: 24 }]);
        assert!(r.covers(13) && r.covers(24) && !r.covers(25));
        // Restriction ids are not bounded by a max vendor id.
        assert_eq!(TcString::decode(&tc.encode().unwrap()).unwrap(), tc);
    }

    // -- (5) errors ----------------------------------------------------------

    fn err(s: &str) -> TcfError {
        TcString::decode(s).unwrap_err()
    }

    #[test]
    fn truncated_core_names_field_and_offset() {
        let e = err(&SPEC_CORE[..36]);
        assert_eq!(
            e,
            TcfError::Truncated {
                field: "vendor_consents.max_vendor_id",
                offset: 213
            }
        );
        assert_eq!(
            e.to_string(),
            "truncated at bit 213 while reading vendor_consents.max_vendor_id"
        );
        assert_eq!(
            err("CQSbk4AQ").to_string(),
            "truncated at bit 42 while reading last_updated"
        );
        assert_eq!(
            err("C").to_string(),
            "truncated at bit 6 while reading created"
        );
        assert_eq!(
            err(&format!("{SPEC_CORE}.IDKQ")).to_string(),
            "truncated at bit 20 while reading disclosed_vendors.num_entries"
        );
    }

    #[test]
    fn bad_base64_is_rejected_with_position() {
        let e = err("CQSb*4AQ");
        assert_eq!(
            e,
            TcfError::InvalidCharacter {
                segment: 0,
                position: 4,
                character: '*'
            }
        );
        assert_eq!(
            e.to_string(),
            "invalid base64url character '*' at position 4 in segment 0"
        );
        // Standard base64 characters and padding are not base64url.
        assert!(matches!(
            err(&format!("{SPEC_CORE}==")),
            TcfError::InvalidCharacter {
                character: '=',
                position: 44,
                ..
            }
        ));
        assert!(matches!(
            err("CQSb+4AQ"),
            TcfError::InvalidCharacter { character: '+', .. }
        ));
        assert!(matches!(
            err(&format!("{SPEC_CORE}.ID/Q")),
            TcfError::InvalidCharacter {
                segment: 1,
                position: 47,
                character: '/'
            }
        ));
        assert!(matches!(
            err("CQSbé"),
            TcfError::InvalidCharacter {
                character: 'é', ..
            }
        ));
    }

    #[test]
    fn version_one_is_unsupported() {
        // A TCF v1.1 consent string.
        let e = err("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA");
        assert_eq!(
            e,
            TcfError::UnsupportedVersion {
                version: 1,
                field: "version",
                offset: 0
            }
        );
        assert_eq!(
            e.to_string(),
            "unsupported version 1 at bit 0 while reading version"
        );
        // A segment that is not a core segment cannot come first either.
        assert!(matches!(
            err("IDKQA4AAgAKAGQAygAAA"),
            TcfError::UnsupportedVersion { version: 8, .. }
        ));
    }

    #[test]
    fn unknown_segment_type_seven() {
        let e = err(&format!("{SPEC_CORE}.4AAA"));
        assert_eq!(
            e,
            TcfError::UnknownSegmentType {
                segment_type: 7,
                segment: 1
            }
        );
        assert_eq!(
            e.to_string(),
            "unknown segment type 7 in segment 1 at bit 0 while reading segment_type"
        );
        for t in 4..=6u64 {
            let seg = Bits::default().push(t, 3).b64();
            assert!(matches!(
                err(&format!("{SPEC_CORE}.{seg}")),
                TcfError::UnknownSegmentType { .. }
            ));
        }
    }

    #[test]
    fn range_entries_outside_max_are_rejected() {
        // Disclosed vendors: max 10, single entry 11.
        let seg = Bits::default()
            .push(1, 3)
            .push(10, 16)
            .flag(true)
            .push(1, 12)
            .flag(false)
            .push(11, 16)
            .b64();
        let e = err(&format!("{SPEC_CORE}.{seg}"));
        assert_eq!(
            e,
            TcfError::VendorIdOutOfRange {
                field: "disclosed_vendors.start_or_only_vendor_id",
                offset: 33,
                value: 11,
                max: 10
            }
        );
        assert_eq!(
            e.to_string(),
            "vendor id 11 outside 1..=10 at bit 33 while reading disclosed_vendors.start_or_only_vendor_id"
        );
        // Vendor id 0.
        let zero = core_header()
            .push(10, 16)
            .flag(true)
            .push(1, 12)
            .flag(false)
            .push(0, 16)
            .b64();
        assert!(matches!(
            err(&zero),
            TcfError::VendorIdOutOfRange {
                field: "vendor_consents.start_or_only_vendor_id",
                offset: 243,
                value: 0,
                max: 10
            }
        ));
        // End beyond max.
        let end = core_header()
            .push(10, 16)
            .flag(true)
            .push(1, 12)
            .flag(true)
            .push(2, 16)
            .push(12, 16)
            .b64();
        assert!(matches!(
            err(&end),
            TcfError::VendorIdOutOfRange {
                field: "vendor_consents.end_vendor_id",
                offset: 259,
                value: 12,
                max: 10
            }
        ));
        // Start greater than end.
        let inverted = core_header()
            .push(10, 16)
            .flag(true)
            .push(1, 12)
            .flag(true)
            .push(7, 16)
            .push(3, 16)
            .b64();
        let e = err(&inverted);
        assert_eq!(
            e.to_string(),
            "range start 7 greater than end 3 at bit 259 while reading vendor_consents.end_vendor_id"
        );
        // Inverted range and vendor 0 in a publisher restriction.
        let base = core_header()
            .push(0, 16)
            .flag(false)
            .push(0, 16)
            .flag(false)
            .push(1, 12)
            .push(1, 6)
            .push(0, 2)
            .push(1, 12)
            .flag(true);
        assert!(matches!(
            err(&base.clone().push(9, 16).push(8, 16).b64()),
            TcfError::InvertedRange {
                field: "publisher_restrictions.end_vendor_id",
                start: 9,
                end: 8,
                ..
            }
        ));
        assert!(matches!(
            err(&base.push(0, 16).push(8, 16).b64()),
            TcfError::VendorIdOutOfRange {
                field: "publisher_restrictions.start_or_only_vendor_id",
                value: 0,
                ..
            }
        ));
    }

    #[test]
    fn segment_structure_errors() {
        assert_eq!(err(""), TcfError::Empty);
        assert_eq!(
            err(&format!("{SPEC_CORE}.")),
            TcfError::EmptySegment { segment: 1 }
        );
        assert_eq!(
            err(".IDKQA4AAgAKAGQAygAAA"),
            TcfError::EmptySegment { segment: 0 }
        );
        let e = err(&format!("{SPEC_CORE}.{SPEC_CORE}"));
        assert_eq!(e, TcfError::DuplicateCoreSegment { segment: 1 });
        assert_eq!(
            e.to_string(),
            "second core segment in segment 1 at bit 0 while reading segment_type"
        );
        let e = err(&format!("{SPEC_TWO_SEGMENTS}.IDKQA4AAgAKAGQAygAAA"));
        assert_eq!(
            e,
            TcfError::DuplicateSegment {
                name: "disclosed_vendors",
                segment: 2
            }
        );
        assert!(matches!(
            err(&format!("{SPEC_FULL}.YAAAAAAAAAAA")),
            TcfError::DuplicateSegment {
                name: "publisher_tc",
                segment: 3
            }
        ));
    }

    #[test]
    fn invalid_values_and_trailing_bits() {
        // Non-zero padding after the core segment.
        let mut s = SPEC_CORE.to_owned();
        s.pop();
        s.push('B');
        let e = err(&s);
        assert_eq!(
            e,
            TcfError::TrailingBits {
                field: "padding",
                offset: 263
            }
        );
        assert_eq!(
            e.to_string(),
            "non-zero trailing bit at bit 263 while reading padding"
        );
        // Restriction type 3 is undefined.
        let r3 = core_header()
            .push(0, 16)
            .flag(false)
            .push(0, 16)
            .flag(false)
            .push(1, 12)
            .push(1, 6)
            .push(3, 2)
            .push(0, 12)
            .b64();
        assert_eq!(
            err(&r3),
            TcfError::InvalidValue {
                field: "publisher_restrictions.restriction_type",
                offset: 265,
                value: 3
            }
        );
        // Letter values above 25.
        let letters = Bits::default()
            .push(2, 6)
            .push(0, 36)
            .push(0, 36)
            .push(0, 12)
            .push(0, 12)
            .push(0, 6)
            .push(4, 6)
            .push(26, 6)
            .b64();
        assert_eq!(
            err(&letters).to_string(),
            "invalid value 26 at bit 114 while reading consent_language"
        );
    }

    #[test]
    fn lenient_fields_decode() {
        // IsServiceSpecific = 0 and any policy version parse.
        let s = Bits::default()
            .push(2, 6)
            .push(1, 36)
            .push(1, 36)
            .push(1, 12)
            .push(1, 12)
            .push(0, 6)
            .letters("EN")
            .push(1, 12)
            .push(63, 6)
            .flag(false)
            .flag(false)
            .flags(12, &[])
            .flags(24, &[])
            .flags(24, &[])
            .flag(false)
            .letters("ZZ")
            .push(0, 16)
            .flag(false)
            .push(0, 16)
            .flag(true)
            .push(0, 12)
            .push(0, 12)
            .b64();
        let tc = TcString::decode(&s).unwrap();
        assert!(!tc.core.is_service_specific);
        assert_eq!(tc.core.tcf_policy_version, 63);
        assert_eq!(
            tc.core.vendor_legitimate_interests.encoding(),
            VendorEncoding::Range
        );
        assert_eq!(TcString::decode(&tc.encode().unwrap()).unwrap(), tc);
        assert_eq!(s.parse::<TcString>().unwrap(), tc);
    }

    #[test]
    fn encode_rejects_unrepresentable_models() {
        let base = TcString::decode(SPEC_FULL).unwrap();
        let check = |f: &dyn Fn(&mut TcString), field: &str| {
            let mut tc = base.clone();
            f(&mut tc);
            match tc.encode() {
                Err(TcfError::InvalidModel { field: got, .. }) => assert_eq!(got, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        };
        check(&|tc| tc.core.version = 1, "version");
        check(&|tc| tc.core.cmp_id = 4096, "cmp_id");
        check(&|tc| tc.core.cmp_version = 5000, "cmp_version");
        check(&|tc| tc.core.consent_screen = 64, "consent_screen");
        check(
            &|tc| tc.core.vendor_list_version = 4096,
            "vendor_list_version",
        );
        check(&|tc| tc.core.tcf_policy_version = 64, "tcf_policy_version");
        check(
            &|tc| tc.core.created = datetime!(2025-06-03 00:00:00.05 UTC),
            "created",
        );
        check(
            &|tc| tc.core.last_updated = datetime!(1969-12-31 23:59 UTC),
            "last_updated",
        );
        check(
            &|tc| tc.core.created = datetime!(2200-01-01 00:00 UTC),
            "created",
        );
        check(
            &|tc| {
                tc.core.purposes_consent.insert(25);
            },
            "purposes_consent",
        );
        check(
            &|tc| {
                tc.core.special_feature_optins.insert(0);
            },
            "special_feature_optins",
        );
        check(
            &|tc| {
                tc.core.special_feature_optins.insert(13);
            },
            "special_feature_optins",
        );
        check(
            &|tc| {
                tc.core.publisher_restrictions.push(PublisherRestriction {
                    purpose_id: 64,
                    restriction_type: RestrictionType::NotAllowed,
                    vendors: vec![],
                });
            },
            "publisher_restrictions.purpose_id",
        );
        check(
            &|tc| {
                tc.core.publisher_restrictions.push(PublisherRestriction {
                    purpose_id: 1,
                    restriction_type: RestrictionType::NotAllowed,
                    vendors: vec![VendorRange { start: 5, end: 4 }],
                });
            },
            "publisher_restrictions.vendors",
        );
        check(
            &|tc| {
                tc.core.publisher_restrictions.push(PublisherRestriction {
                    purpose_id: 1,
                    restriction_type: RestrictionType::NotAllowed,
                    vendors: vec![VendorRange::single(0)],
                });
            },
            "publisher_restrictions.vendors",
        );
        check(
            &|tc| {
                let p = tc.publisher_tc.as_mut().unwrap();
                p.num_custom_purposes = 2;
                p.custom_purposes_consent.insert(3);
            },
            "publisher_tc.custom_purposes_consent",
        );
        check(
            &|tc| tc.publisher_tc.as_mut().unwrap().num_custom_purposes = 64,
            "publisher_tc.num_custom_purposes",
        );
        check(
            &|tc| {
                // 4096 separate runs cannot be range encoded.
                let mut set = VendorSet::from_ids((1..=4096).map(|i| i * 2)).unwrap();
                set.set_encoding(VendorEncoding::Range);
                tc.disclosed_vendors = Some(set);
            },
            "disclosed_vendors",
        );
    }

    // -- vendor set API ------------------------------------------------------

    #[test]
    fn vendor_set_api() {
        let mut set = VendorSet::from_ids([1, 8, 755]).unwrap();
        assert_eq!(set.max_vendor_id(), 755);
        assert_eq!(set.encoding(), VendorEncoding::Range);
        assert_eq!(set.len(), 3);
        assert!(set.contains(8) && !set.contains(9) && !set.contains(0));
        assert_eq!(set.insert(9), Ok(true));
        assert_eq!(set.insert(9), Ok(false));
        assert_eq!(
            set.ranges(),
            [
                VendorRange::single(1),
                VendorRange { start: 8, end: 9 },
                VendorRange::single(755)
            ]
        );
        assert!(set.insert(0).is_err());
        assert!(set.insert_range(VendorRange { start: 3, end: 2 }).is_err());
        assert!(set.set_max_vendor_id(754).is_err());
        assert!(set.set_max_vendor_id(800).is_ok());
        set.insert_range(VendorRange { start: 2, end: 7 }).unwrap();
        assert_eq!(
            set.ranges(),
            [VendorRange { start: 1, end: 9 }, VendorRange::single(755)]
        );
        assert_eq!(set.iter().count(), 10);
        assert_eq!(
            VendorSet::from_ids(1..=20).unwrap().encoding(),
            VendorEncoding::Bitfield
        );
        assert!(VendorSet::from_ids([0]).is_err());
        assert!(VendorSet::new(VendorEncoding::Range).is_empty());
    }

    #[test]
    fn serde_round_trip_keeps_invariants() {
        let tc = TcString::decode(&hand_built()).unwrap();
        let json = serde_json::to_string(&tc).unwrap();
        assert_eq!(serde_json::from_str::<TcString>(&json).unwrap(), tc);
        let bad_set = r#"{"max_vendor_id":5,"encoding":"range","ranges":[{"start":3,"end":9}]}"#;
        assert!(serde_json::from_str::<VendorSet>(bad_set).is_err());
        let zero = r#"{"max_vendor_id":5,"encoding":"bitfield","ranges":[{"start":0,"end":1}]}"#;
        assert!(serde_json::from_str::<VendorSet>(zero).is_err());
        let merged = r#"{"max_vendor_id":9,"encoding":"bitfield","ranges":[{"start":4,"end":5},{"start":1,"end":3}]}"#;
        assert_eq!(
            serde_json::from_str::<VendorSet>(merged).unwrap().ranges(),
            [VendorRange { start: 1, end: 5 }]
        );
        assert!(serde_json::from_str::<Alpha2>("\"e1\"").is_err());
        assert_eq!(
            serde_json::from_str::<Alpha2>("\"fr\"").unwrap().as_str(),
            "FR"
        );
    }

    #[test]
    fn alpha2_parsing() {
        assert_eq!(Alpha2::new("de").unwrap().to_string(), "DE");
        assert_eq!("En".parse::<Alpha2>().unwrap().as_str(), "EN");
        for bad in ["", "E", "ENG", "E1", "É"] {
            assert!(Alpha2::new(bad).is_err(), "{bad}");
        }
    }

    // -- purpose mapping -----------------------------------------------------

    /// What a CMP would store after the user accepted purposes 1, 3, 4, 5 and
    /// 6, special feature 1 and vendors 1, 8 and 755, with restrictions:
    /// purpose 3 not allowed for vendor 8, purpose 5 requires LI for 755.
    fn cmp_model() -> TcString {
        let mut core = CoreSegment::new(datetime!(2025-06-03 14:22:07 UTC));
        core.cmp_id = 880;
        core.cmp_version = 3;
        core.consent_screen = 1;
        core.consent_language = Alpha2::new("fr").unwrap();
        core.publisher_cc = Alpha2::new("FR").unwrap();
        core.vendor_list_version = 120;
        core.purposes_consent = set(&[1, 3, 4, 5, 6]);
        // LI transparency for measurement purposes, never used for mapping.
        core.purposes_li_transparency = set(&[2, 7, 8, 9]);
        core.special_feature_optins = set(&[1]);
        core.vendor_consents = VendorSet::from_ids([1, 8, 755]).unwrap();
        core.vendor_legitimate_interests = VendorSet::from_ids([1, 2, 8, 755]).unwrap();
        core.publisher_restrictions = vec![
            PublisherRestriction {
                purpose_id: 3,
                restriction_type: RestrictionType::NotAllowed,
                vendors: vec![VendorRange::single(8)],
            },
            PublisherRestriction {
                purpose_id: 5,
                restriction_type: RestrictionType::RequireLegitimateInterest,
                vendors: vec![VendorRange {
                    start: 700,
                    end: 800,
                }],
            },
            PublisherRestriction {
                purpose_id: 4,
                restriction_type: RestrictionType::RequireConsent,
                vendors: vec![VendorRange {
                    start: 1,
                    end: 1000,
                }],
            },
        ];
        let mut tc = TcString::new(core);
        tc.disclosed_vendors = Some(VendorSet::from_ids([1, 2, 8, 755]).unwrap());
        tc
    }

    fn verdicts(tc: &TcString, subject: Subject) -> [bool; 4] {
        let v = tc.purposes_for(subject);
        let order: Vec<Purpose> = v.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            order,
            [
                Purpose::Personalization,
                Purpose::Marketing,
                Purpose::Measurement,
                Purpose::Location
            ]
        );
        [v[0].1, v[1].1, v[2].1, v[3].1]
    }

    #[test]
    fn cmp_like_round_trip_and_mapping() {
        let model = cmp_model();
        let encoded = model.encode().unwrap();
        let tc = TcString::decode(&encoded).unwrap();
        assert_eq!(tc, model);
        assert_eq!(tc.core.created, datetime!(2025-06-03 00:00 UTC));
        assert!(tc.vendor_consent(755) && !tc.vendor_consent(754));

        // [personalization, marketing, measurement, location]
        assert_eq!(verdicts(&tc, Subject::Vendor(1)), [true, true, false, true]);
        // Purpose 3 flatly not allowed for vendor 8.
        assert_eq!(
            verdicts(&tc, Subject::Vendor(8)),
            [true, false, false, true]
        );
        // Purpose 5 requires legitimate interest for 755: consent does not count.
        assert_eq!(
            verdicts(&tc, Subject::Vendor(755)),
            [false, true, false, true]
        );
        // Vendor 2 has only legitimate interest: nothing.
        assert_eq!(verdicts(&tc, Subject::Vendor(2)), [false; 4]);
        assert_eq!(verdicts(&tc, Subject::Vendor(0)), [false; 4]);
        // Publisher falls back to the core purposes.
        assert_eq!(verdicts(&tc, Subject::Publisher), [true, true, false, true]);

        // With a publisher TC segment its consents are used instead.
        let mut with_pub = tc.clone();
        with_pub.publisher_tc = Some(PublisherTc {
            purposes_consent: set(&[1, 7, 8, 9]),
            purposes_li_transparency: set(&[2]),
            num_custom_purposes: 2,
            custom_purposes_consent: set(&[2]),
            custom_purposes_li_transparency: BTreeSet::new(),
        });
        let with_pub = TcString::decode(&with_pub.encode().unwrap()).unwrap();
        assert_eq!(
            verdicts(&with_pub, Subject::Publisher),
            [false, false, true, true]
        );
        assert_eq!(
            verdicts(&with_pub, Subject::Vendor(1)),
            [true, true, false, true]
        );
    }

    #[test]
    fn purpose_one_gates_everything() {
        let mut tc = cmp_model();
        tc.core.purposes_consent = set(&[3, 4, 5, 6, 7, 8, 9]);
        for subject in [Subject::Vendor(1), Subject::Publisher] {
            assert_eq!(verdicts(&tc, subject), [false; 4]);
        }
        // A "not allowed" restriction on purpose 1 blocks the vendor entirely.
        let mut tc = cmp_model();
        tc.core.purposes_consent = (1..=24).collect();
        tc.core.publisher_restrictions = vec![PublisherRestriction {
            purpose_id: 1,
            restriction_type: RestrictionType::NotAllowed,
            vendors: vec![VendorRange::single(1)],
        }];
        assert_eq!(verdicts(&tc, Subject::Vendor(1)), [false; 4]);
        assert_eq!(verdicts(&tc, Subject::Vendor(8)), [true; 4]);
        // Restrictions never apply to the publisher.
        assert_eq!(verdicts(&tc, Subject::Publisher), [true; 4]);
    }

    #[test]
    fn legitimate_interest_never_counts() {
        let mut tc = cmp_model();
        tc.core.purposes_consent = set(&[1]);
        tc.core.purposes_li_transparency = (1..=24).collect();
        tc.core.special_feature_optins.clear();
        tc.publisher_tc = Some(PublisherTc {
            purposes_consent: set(&[1]),
            purposes_li_transparency: (1..=24).collect(),
            num_custom_purposes: 0,
            custom_purposes_consent: BTreeSet::new(),
            custom_purposes_li_transparency: BTreeSet::new(),
        });
        for subject in [Subject::Vendor(1), Subject::Vendor(2), Subject::Publisher] {
            assert_eq!(verdicts(&tc, subject), [false; 4]);
        }
        // Purpose 1 by legitimate interest alone does not count either.
        tc.core.purposes_consent = (2..=24).collect();
        tc.core.special_feature_optins = set(&[1]);
        assert_eq!(verdicts(&tc, Subject::Vendor(1)), [false; 4]);
    }

    // -- (3) and (4) property tests ------------------------------------------

    fn timestamp() -> impl Strategy<Value = OffsetDateTime> {
        (0u64..(1 << 36)).prop_map(ts)
    }

    fn flags(max: u8) -> impl Strategy<Value = BTreeSet<u8>> {
        proptest::collection::btree_set(1..=max, 0..=usize::from(max))
    }

    fn alpha2() -> impl Strategy<Value = Alpha2> {
        (0u8..26, 0u8..26).prop_map(|(a, b)| Alpha2([b'A' + a, b'A' + b]))
    }

    fn vendor_set() -> impl Strategy<Value = VendorSet> {
        let small = (
            proptest::collection::vec((1u16..700, 0u16..30), 0..25),
            0u16..300,
        );
        let large = (
            proptest::collection::vec((60_000u16..=u16::MAX, 0u16..2000), 0..6),
            0u16..2000,
        );
        (prop_oneof![4 => small, 1 => large], any::<bool>()).prop_map(
            |((ranges, extra), range_encoded)| {
                let encoding = if range_encoded {
                    VendorEncoding::Range
                } else {
                    VendorEncoding::Bitfield
                };
                let mut set = VendorSet::new(encoding);
                for (start, len) in ranges {
                    set.insert_range(VendorRange {
                        start,
                        end: start.saturating_add(len),
                    })
                    .unwrap();
                }
                let max = set.max_vendor_id().saturating_add(extra);
                set.set_max_vendor_id(max).unwrap();
                set
            },
        )
    }

    fn restriction() -> impl Strategy<Value = PublisherRestriction> {
        (
            0u8..64,
            prop_oneof![
                Just(RestrictionType::NotAllowed),
                Just(RestrictionType::RequireConsent),
                Just(RestrictionType::RequireLegitimateInterest),
            ],
            proptest::collection::vec((1u16..=u16::MAX, 0u16..100), 0..6),
        )
            .prop_map(
                |(purpose_id, restriction_type, ranges)| PublisherRestriction {
                    purpose_id,
                    restriction_type,
                    vendors: ranges
                        .into_iter()
                        .map(|(start, len)| VendorRange {
                            start,
                            end: start.saturating_add(len),
                        })
                        .collect(),
                },
            )
    }

    fn publisher_tc() -> impl Strategy<Value = PublisherTc> {
        (flags(24), flags(24), 0u8..64)
            .prop_flat_map(|(consent, li, n)| {
                let bits = proptest::collection::vec(any::<bool>(), usize::from(n));
                (Just(consent), Just(li), Just(n), bits.clone(), bits)
            })
            .prop_map(|(purposes_consent, purposes_li_transparency, n, c, l)| {
                let ids = |v: Vec<bool>| {
                    (1..=n)
                        .zip(v)
                        .filter_map(|(i, on)| on.then_some(i))
                        .collect()
                };
                PublisherTc {
                    purposes_consent,
                    purposes_li_transparency,
                    num_custom_purposes: n,
                    custom_purposes_consent: ids(c),
                    custom_purposes_li_transparency: ids(l),
                }
            })
    }

    prop_compose! {
        fn core_segment()(
            times in (timestamp(), timestamp()),
            cmp in (0u16..4096, 0u16..4096, 0u8..64),
            codes in (alpha2(), alpha2()),
            versions in (0u16..4096, 0u8..64),
            bools in (any::<bool>(), any::<bool>(), any::<bool>()),
            purpose_flags in (flags(12), flags(24), flags(24)),
            vendors in (vendor_set(), vendor_set()),
            publisher_restrictions in proptest::collection::vec(restriction(), 0..4),
        ) -> CoreSegment {
            CoreSegment {
                version: 2,
                created: times.0,
                last_updated: times.1,
                cmp_id: cmp.0,
                cmp_version: cmp.1,
                consent_screen: cmp.2,
                consent_language: codes.0,
                vendor_list_version: versions.0,
                tcf_policy_version: versions.1,
                is_service_specific: bools.0,
                use_non_standard_texts: bools.1,
                special_feature_optins: purpose_flags.0,
                purposes_consent: purpose_flags.1,
                purposes_li_transparency: purpose_flags.2,
                purpose_one_treatment: bools.2,
                publisher_cc: codes.1,
                vendor_consents: vendors.0,
                vendor_legitimate_interests: vendors.1,
                publisher_restrictions,
            }
        }
    }

    prop_compose! {
        fn tc_string()(
            core in core_segment(),
            disclosed_vendors in proptest::option::of(vendor_set()),
            allowed_vendors in proptest::option::of(vendor_set()),
            publisher_tc in proptest::option::of(publisher_tc()),
        ) -> TcString {
            TcString { core, disclosed_vendors, allowed_vendors, publisher_tc }
        }
    }

    /// Standard base64url (no padding) of arbitrary bytes.
    fn b64_bytes(bytes: &[u8]) -> String {
        let mut w = BitWriter::default();
        for &b in bytes {
            w.write(u64::from(b), 8);
        }
        w.sextets.into_iter().map(char_of).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn decode_encode_round_trip(tc in tc_string()) {
            let encoded = tc.encode().unwrap();
            prop_assert_eq!(encoded.split('.').count(), 1
                + usize::from(tc.disclosed_vendors.is_some())
                + usize::from(tc.allowed_vendors.is_some())
                + usize::from(tc.publisher_tc.is_some()));
            let decoded = TcString::decode(&encoded).unwrap();
            prop_assert_eq!(&decoded, &tc);
            // Canonical strings re-encode identically.
            prop_assert_eq!(decoded.encode().unwrap(), encoded);
        }

        #[test]
        fn vendor_set_matches_a_plain_set(
            ranges in proptest::collection::vec((1u16..=u16::MAX, 0u16..50), 0..40),
        ) {
            let mut set = VendorSet::new(VendorEncoding::Range);
            let mut model = BTreeSet::new();
            for (start, len) in ranges {
                let end = start.saturating_add(len);
                set.insert_range(VendorRange { start, end }).unwrap();
                model.extend(start..=end);
            }
            prop_assert_eq!(set.iter().collect::<BTreeSet<_>>(), model.clone());
            prop_assert_eq!(set.len(), model.len());
            for pair in set.ranges().windows(2) {
                prop_assert!(pair[0].end.saturating_add(1) < pair[1].start);
            }
            for id in [0u16, 1, 2, 100, 65_534, 65_535] {
                prop_assert_eq!(set.contains(id), model.contains(&id));
            }
        }

        #[test]
        fn optimal_encoding_round_trips(ids in proptest::collection::btree_set(1u16..3000, 0..200)) {
            let set = VendorSet::from_ids(ids.iter().copied()).unwrap();
            prop_assert_eq!(set.iter().collect::<BTreeSet<_>>(), ids);
            let mut core = CoreSegment::new(datetime!(2025-01-01 00:00 UTC));
            core.vendor_consents = set;
            let tc = TcString::new(core);
            prop_assert_eq!(TcString::decode(&tc.encode().unwrap()).unwrap(), tc);
        }

        #[test]
        fn decode_never_panics_on_arbitrary_strings(s in "\\PC{0,120}") {
            let _ = TcString::decode(&s);
        }

        #[test]
        fn decode_never_panics_on_base64url_alphabet(
            s in "[A-Za-z0-9_-]{1,200}(\\.[A-Za-z0-9_-]{0,60}){0,5}",
        ) {
            let _ = TcString::decode(&s);
        }

        #[test]
        fn decode_never_panics_on_random_bytes(
            core in proptest::collection::vec(any::<u8>(), 0..120),
            rest in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..4),
        ) {
            // Force version 2 so that random data reaches the deeper fields.
            let mut core = core;
            if let Some(first) = core.first_mut() {
                *first = (*first & 0b11) | 0b0000_1000;
            }
            let mut parts = vec![b64_bytes(&core)];
            parts.extend(rest.iter().map(|bytes| b64_bytes(bytes)));
            let _ = TcString::decode(&parts.join("."));
        }

        #[test]
        fn decode_never_panics_on_truncations_and_mutations(
            tc in tc_string(),
            cut in any::<proptest::sample::Index>(),
            at in any::<proptest::sample::Index>(),
            replacement in "[A-Za-z0-9_.=+/-]",
        ) {
            let encoded = tc.encode().unwrap();
            let chars: Vec<char> = encoded.chars().collect();
            let truncated: String = chars[..cut.index(chars.len() + 1)].iter().collect();
            let _ = TcString::decode(&truncated);
            let mut mutated = chars.clone();
            mutated[at.index(chars.len())] = replacement.chars().next().unwrap();
            let mutated: String = mutated.into_iter().collect();
            if let Ok(decoded) = TcString::decode(&mutated) {
                // Anything that decodes must re-encode and decode to itself.
                prop_assert_eq!(TcString::decode(&decoded.encode().unwrap()).unwrap(), decoded);
            }
        }

        #[test]
        fn every_truncation_of_spec_example_is_an_error_or_valid(cut in 0usize..=SPEC_FULL.len()) {
            let _ = TcString::decode(&SPEC_FULL[..cut]);
        }
    }
}
