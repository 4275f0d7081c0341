//! Property tests: every model that encodes decodes to itself, vendor sets
//! behave like plain sets, and no input makes the decoder panic.

use std::collections::BTreeSet;

use proptest::prelude::*;
use time::macros::datetime;
use time::OffsetDateTime;

use super::bits::{char_of, BitWriter};
use super::testkit::{ts, SPEC_FULL};
use super::*;

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
        prop_assert!(!encoded.contains('='), "the encoder writes no padding");
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
    fn stored_deciseconds_round_trip_exactly(
        created in 0..=CoreSegment::MAX_DECISECONDS,
        last_updated in 0..=CoreSegment::MAX_DECISECONDS,
    ) {
        let core = CoreSegment::from_deciseconds(created, last_updated).unwrap();
        let encoded = TcString::new(core).encode().unwrap();
        let decoded = TcString::decode(&encoded).unwrap();
        prop_assert_eq!(decoded.core.created_deciseconds().unwrap(), created);
        prop_assert_eq!(decoded.core.last_updated_deciseconds().unwrap(), last_updated);
        prop_assert_eq!(decoded.encode().unwrap(), encoded);
    }

    #[test]
    fn byte_packed_padded_strings_decode_to_the_same_model(tc in tc_string()) {
        // Each segment as a CMP that packs whole bytes and pads would write it.
        let padded: Vec<String> = tc
            .segment_bits()
            .unwrap()
            .into_iter()
            .map(BitWriter::into_padded_base64)
            .collect();
        let padded = padded.join(".");
        prop_assert_eq!(&TcString::decode(&padded).unwrap(), &tc);
        prop_assert_eq!(TcString::decode(&padded).unwrap().encode().unwrap(), tc.encode().unwrap());
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
