//! Decoding: a TC string, segment by segment, into the model.

use super::bits::BitReader;
use super::error::{TcfError, MAX_TC_STRING_LEN};
use super::model::{CoreSegment, PublisherTc, TcString};
use super::restriction::decode_publisher_restrictions;
use super::vendor::{canonicalize, VendorEncoding, VendorRange, VendorSet};
use super::{SEGMENT_ALLOWED, SEGMENT_DISCLOSED, SEGMENT_PUBLISHER_TC};

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

impl TcString {
    /// Decodes a TC string strictly.
    ///
    /// Trailing zero bits in a segment are accepted as padding, and so are
    /// `=` that complete a segment's last group of four characters;
    /// anything else that does not follow the specification is an error.
    ///
    /// # Errors
    /// A [`TcfError`] naming what is wrong and where: the character
    /// position for text that is not base64url
    /// ([`TcfError::InvalidCharacter`], [`TcfError::InvalidPadding`]), the
    /// field and bit offset for bits that do not follow the specification.
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::{PaddingProblem, TcString, TcfError};
    ///
    /// let plain = TcString::decode(
    ///     "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA",
    /// )?;
    /// // The same consent from a CMP that writes whole bytes and pads them.
    /// let padded = TcString::decode(
    ///     "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygA==.YAAAAAAAAAA=",
    /// )?;
    /// assert_eq!(padded, plain);
    ///
    /// // `=` after a whole group pads nothing.
    /// let e = TcString::decode("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA==").unwrap_err();
    /// assert!(matches!(
    ///     e,
    ///     TcfError::InvalidPadding { position: 44, problem: PaddingProblem::Incomplete { .. }, .. }
    /// ));
    /// # Ok::<(), TcfError>(())
    /// ```
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]
mod tests {
    use time::macros::datetime;

    use crate::consent::tcf::testkit::*;
    use crate::consent::tcf::*;

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

    // -- (5) errors ----------------------------------------------------------

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
        // Standard base64 characters are not base64url.
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

    // -- base64url padding ---------------------------------------------------

    fn padding(s: &str) -> (usize, usize, PaddingProblem) {
        match err(s) {
            TcfError::InvalidPadding {
                segment,
                position,
                problem,
            } => (segment, position, problem),
            other => panic!("expected invalid padding for {s:?}, got {other:?}"),
        }
    }

    #[test]
    fn padding_that_completes_a_group_is_accepted() {
        let plain = TcString::decode(SPEC_FULL).unwrap();
        let padded = TcString::decode(SPEC_FULL_PADDED).unwrap();
        assert_eq!(padded, plain);
        // `xx==` and `xxx=`; the encoder writes no padding.
        let ends: Vec<&str> = SPEC_FULL_PADDED
            .split('.')
            .map(|s| &s[s.len() - 3..])
            .collect();
        assert_eq!(ends, ["AAA", "A==", "AA="]);
        assert_eq!(padded.encode().unwrap(), SPEC_FULL);
        let two = SPEC_FULL_PADDED.rsplit_once('.').unwrap().0;
        assert_eq!(
            TcString::decode(two).unwrap(),
            TcString::decode(SPEC_TWO_SEGMENTS).unwrap()
        );

        // Every segment of the hand-built string, packed into bytes and padded.
        let segments = hand_built_segments();
        let padded: Vec<String> = segments.iter().map(Bits::b64_padded).collect();
        assert!(padded.iter().any(|s| s.ends_with("==")));
        assert!(padded
            .iter()
            .any(|s| s.ends_with('=') && !s.ends_with("==")));
        let tc = TcString::decode(&padded.join(".")).unwrap();
        assert_eq!(tc, TcString::decode(&hand_built()).unwrap());
        assert!(!tc.encode().unwrap().contains('='));
    }

    #[test]
    fn a_padded_segment_holds_whole_bytes() {
        // Publisher TC with 4 custom purposes: 65 bits, 11 characters.
        let ptc = Bits::default()
            .push(3, 3)
            .flags(24, &[])
            .flags(24, &[])
            .push(4, 6)
            .flags(4, &[])
            .flags(4, &[]);
        assert_eq!(ptc.len(), 65);
        let unpadded = ptc.b64();
        assert_eq!(unpadded.len(), 11);
        assert!(TcString::decode(&format!("{SPEC_CORE}.{unpadded}")).is_ok());
        // Padded, the 11 characters hold 8 bytes: 64 bits, one short of the
        // last flag field (bits 61 to 64).
        assert_eq!(
            err(&format!("{SPEC_CORE}.{unpadded}=")),
            TcfError::Truncated {
                field: "publisher_tc.custom_purposes_li_transparency",
                offset: 61
            }
        );
        // The fill bits after the last byte must be zero.
        assert_eq!(
            err(&format!("{SPEC_CORE}.YAAAAAAAAAB=")),
            TcfError::TrailingBits {
                field: "publisher_tc.padding",
                offset: 65
            }
        );
    }

    #[test]
    fn misplaced_padding_is_rejected_with_position() {
        // After a whole group: nothing to pad.
        assert_eq!(
            padding(&format!("{SPEC_CORE}==")),
            (0, 44, PaddingProblem::Incomplete { data: 44, count: 2 })
        );
        assert_eq!(
            err(&format!("{SPEC_CORE}=")).to_string(),
            "invalid padding at position 44 in segment 0: \
             1 '=' after 44 characters do not complete a group of 4"
        );
        // One `=` where two are needed, three where two are.
        assert_eq!(
            padding(&format!("{SPEC_CORE}.IDKQA4AAgAKAGQAygA=")),
            (1, 63, PaddingProblem::Incomplete { data: 18, count: 1 })
        );
        assert_eq!(
            padding(&format!("{SPEC_CORE}.IDKQA4AAgAKAGQAygA===")),
            (1, 63, PaddingProblem::TooLong { count: 3 })
        );
        assert_eq!(
            err("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPA====").to_string(),
            "invalid padding at position 40 in segment 0: 4 '=' where at most 2 can pad"
        );
        // In the middle of a segment, at a group boundary or inside a group.
        assert_eq!(
            padding("CQSb=4AQSbk4"),
            (0, 4, PaddingProblem::FollowedByData { character: '4' })
        );
        assert_eq!(
            padding(&format!("{SPEC_CORE}.IDKQA=AAgAKAGQAygAAA")),
            (1, 50, PaddingProblem::FollowedByData { character: 'A' })
        );
        assert_eq!(
            err("CQ=*").to_string(),
            "invalid padding at position 2 in segment 0: '=' followed by '*'"
        );
        // A segment of padding only.
        assert_eq!(padding("=="), (0, 0, PaddingProblem::NoData));
        assert_eq!(
            padding(&format!("{SPEC_CORE}.==.YAAAAAAAAAAA")),
            (1, 45, PaddingProblem::NoData)
        );
        assert_eq!(
            err(&format!("{SPEC_CORE}.=")).to_string(),
            "invalid padding at position 45 in segment 1: a segment of '=' only"
        );
        // A bad character before the padding is reported first.
        assert!(matches!(
            err("CQ*b=="),
            TcfError::InvalidCharacter {
                position: 2,
                character: '*',
                ..
            }
        ));
    }
}
