//! Encoding: the model as a canonical TC string.

use super::bits::BitWriter;
use super::error::{invalid_model, TcfError};
use super::model::{CoreSegment, PublisherTc, TcString};
use super::restriction::encode_publisher_restrictions;
use super::vendor::{VendorEncoding, VendorRange, VendorSet, MAX_RANGE_ENTRIES};
use super::{SEGMENT_ALLOWED, SEGMENT_DISCLOSED, SEGMENT_PUBLISHER_TC};

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
        let segments: Vec<String> = self
            .segment_bits()?
            .into_iter()
            .map(BitWriter::into_base64)
            .collect();
        Ok(segments.join("."))
    }

    /// The bits of each segment the string has, in the order written.
    pub(super) fn segment_bits(&self) -> Result<Vec<BitWriter>, TcfError> {
        let mut segments = vec![encode_core(&self.core)?];
        if let Some(set) = &self.disclosed_vendors {
            let mut w = BitWriter::default();
            w.write(u64::from(SEGMENT_DISCLOSED), 3);
            encode_vendor_set(&mut w, set, "disclosed_vendors")?;
            segments.push(w);
        }
        if let Some(set) = &self.allowed_vendors {
            let mut w = BitWriter::default();
            w.write(u64::from(SEGMENT_ALLOWED), 3);
            encode_vendor_set(&mut w, set, "allowed_vendors")?;
            segments.push(w);
        }
        if let Some(ptc) = &self.publisher_tc {
            segments.push(encode_publisher_tc(ptc)?);
        }
        Ok(segments)
    }
}

fn encode_core(core: &CoreSegment) -> Result<BitWriter, TcfError> {
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
    Ok(w)
}

pub(super) fn encode_range_entries(
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

fn encode_publisher_tc(ptc: &PublisherTc) -> Result<BitWriter, TcfError> {
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
    Ok(w)
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
}
