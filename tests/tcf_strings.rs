//! TC strings as they arrive from the outside world: CMPs that pad their
//! base64url and CMPs that do not, strings damaged on the way, and consent
//! stores that keep the raw Created and LastUpdated values of a string.

#![cfg(feature = "tcf")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tactful::consent::tcf::{CoreSegment, PaddingProblem, Subject, TcString, TcfError, VendorSet};
use tactful::{ConsentLedger, ConsentState, Purpose};
use time::macros::datetime;
use time::Duration;

/// The full example of the "TC String Format" section of the specification.
const SPEC: &str = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA";
/// The same string from a CMP that packs each segment into whole bytes and
/// pads the base64url (the core is 33 bytes: a whole group, no padding).
const SPEC_PADDED: &str =
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygA==.YAAAAAAAAAA=";

const OUR_VENDOR: u16 = 755;

/// What a CMP stores after the person accepted purposes 1, 3, 4, 5 and 6 for
/// vendors 8 and 755 (and disclosed vendors 1, 8 and 755).
fn accepted(now: time::OffsetDateTime) -> TcString {
    let mut core = CoreSegment::new(now);
    core.cmp_id = 880;
    core.purposes_consent = [1, 3, 4, 5, 6].into_iter().collect();
    core.special_feature_optins = [1].into_iter().collect();
    core.vendor_consents = VendorSet::from_ids([8, OUR_VENDOR]).unwrap();
    let mut tc = TcString::new(core);
    tc.disclosed_vendors = Some(VendorSet::from_ids([1, 8, OUR_VENDOR]).unwrap());
    tc
}

#[test]
fn a_padded_spec_example_means_the_same_consent() {
    let padded = TcString::decode(SPEC_PADDED).unwrap();
    assert_eq!(padded, TcString::decode(SPEC).unwrap());
    assert_eq!(padded.core.cmp_id, 880);
    assert_eq!(padded.vendor_disclosed(404), Some(true));
    // We answer without padding, byte for byte the specification's string.
    assert_eq!(padded.encode().unwrap(), SPEC);
}

#[test]
fn the_same_consent_padded_by_one_cmp_and_not_by_another_stores_nothing_new() {
    let now = datetime!(2026-06-01 12:00 UTC);
    let raw = accepted(now).encode().unwrap();
    assert!(!raw.contains('='), "the encoder writes no padding");
    // The disclosed vendors segment from a CMP that packs whole bytes and
    // pads: three single ids, range encoded, are 3 + 16 + 1 + 12 + 3 * 17 =
    // 83 bits, 11 bytes, 15 characters and one `=` (we write 16 characters,
    // 96 bits).
    let (core, disclosed) = raw.split_once('.').unwrap();
    assert_eq!(disclosed.len(), 16);
    assert_eq!(&disclosed[15..], "A", "only zero fill is dropped");
    let padded_raw = format!("{core}.{}=", &disclosed[..15]);
    assert_eq!(
        TcString::decode(&padded_raw).unwrap(),
        TcString::decode(&raw).unwrap()
    );

    let mut ledger = ConsentLedger::default();
    let first = ledger
        .apply_tcf_str(&padded_raw, Subject::Vendor(OUR_VENDOR), now)
        .unwrap();
    assert!(first.changed.contains(&Purpose::Marketing));
    assert!(ledger.is_granted(Purpose::Personalization, now));
    let stored = ledger.len();
    let again = ledger
        .apply_tcf_str(&raw, Subject::Vendor(OUR_VENDOR), now + Duration::hours(1))
        .unwrap();
    assert_eq!(again.verdicts, first.verdicts);
    assert!(again.changed.is_empty());
    assert_eq!(ledger.len(), stored);
}

#[test]
fn a_string_damaged_in_transit_is_refused_where_it_broke() {
    let now = datetime!(2026-06-01 12:00 UTC);
    let mut ledger = ConsentLedger::default();
    // A `=` that slipped into the middle of the disclosed vendors segment,
    // a doubled padding, an empty segment of padding, padding after a
    // whole group.
    let cases = [
        (
            "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQ=4AAgAKAGQAygAAA",
            1,
            49,
            PaddingProblem::FollowedByData { character: '4' },
        ),
        (
            "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygA====",
            1,
            63,
            PaddingProblem::TooLong { count: 4 },
        ),
        (
            "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.==",
            1,
            45,
            PaddingProblem::NoData,
        ),
        (
            "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA=",
            0,
            44,
            PaddingProblem::Incomplete { data: 44, count: 1 },
        ),
    ];
    for (raw, segment, position, problem) in cases {
        let e = ledger
            .apply_tcf_str(raw, Subject::Vendor(OUR_VENDOR), now)
            .unwrap_err();
        assert_eq!(
            e,
            TcfError::InvalidPadding {
                segment,
                position,
                problem
            },
            "{raw}"
        );
        assert!(e.to_string().contains(&format!("at position {position}")));
    }
    assert!(ledger.is_empty());
    assert_eq!(
        ledger.state(Purpose::Marketing, now),
        ConsentState::NeverAsked
    );
}

#[test]
fn a_store_that_keeps_raw_deciseconds_rebuilds_the_string_byte_for_byte() {
    // A CMP that stamps the exact instant (not the start of the day) and a
    // consent store that keeps what the string holds: raw deciseconds.
    let mut core = CoreSegment::new(datetime!(2026-06-01 00:00 UTC));
    core.created = datetime!(2026-06-01 09:15:42.7 UTC);
    core.last_updated = datetime!(2026-06-03 18:01:00.1 UTC);
    core.cmp_id = 880;
    core.purposes_consent = [1, 5, 6].into_iter().collect();
    core.vendor_consents = VendorSet::from_ids([OUR_VENDOR]).unwrap();
    let raw = TcString::new(core).encode().unwrap();

    let decoded = TcString::decode(&raw).unwrap();
    let created = decoded.core.created_deciseconds().unwrap();
    let last_updated = decoded.core.last_updated_deciseconds().unwrap();
    assert_eq!(created, 17_803_053_427);
    assert_eq!(last_updated, 17_805_096_601);
    assert_eq!(
        decoded.encode().unwrap(),
        raw,
        "decode then encode is exact"
    );

    // Later, from the stored numbers alone.
    let mut rebuilt = CoreSegment::from_deciseconds(created, last_updated).unwrap();
    rebuilt.cmp_id = 880;
    rebuilt.purposes_consent = [1, 5, 6].into_iter().collect();
    rebuilt.vendor_consents = VendorSet::from_ids([OUR_VENDOR]).unwrap();
    assert_eq!(TcString::new(rebuilt).encode().unwrap(), raw);

    // A value the 36-bit field cannot hold is refused, not wrapped.
    assert!(matches!(
        CoreSegment::from_deciseconds(CoreSegment::MAX_DECISECONDS + 1, last_updated),
        Err(TcfError::InvalidModel {
            field: "created",
            ..
        })
    ));
}

#[test]
fn the_tcf_types_are_debug_clone_send_sync() {
    fn check<T: std::fmt::Debug + Clone + Send + Sync + PartialEq>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    check::<TcString>();
    check::<CoreSegment>();
    check::<VendorSet>();
    check::<TcfError>();
    check::<PaddingProblem>();
    error::<TcfError>();
}
