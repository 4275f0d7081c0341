//! Test helpers shared by the unit tests of the TC string modules: the
//! specification's example strings and an independent bit-string builder.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::TcString;
use super::TcfError;

/// Example from the "TC String Format" section of the specification.
pub(super) const SPEC_FULL: &str =
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA";
/// [`SPEC_FULL`] as a CMP that packs each segment into whole bytes and pads
/// its base64url writes it: the same consent.
pub(super) const SPEC_FULL_PADDED: &str =
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygA==.YAAAAAAAAAA=";
/// Example from the URL macro section of the specification.
pub(super) const SPEC_TWO_SEGMENTS: &str =
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA";
pub(super) const SPEC_CORE: &str = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA";

/// Independent bit-string builder used to hand-craft test strings.
#[derive(Default, Clone)]
pub(super) struct Bits(String);

impl Bits {
    pub(super) fn push(mut self, value: u64, width: usize) -> Self {
        assert!(width == 64 || value < (1u64 << width), "{value} in {width}");
        self.0.push_str(&format!("{value:0width$b}"));
        self
    }

    pub(super) fn flag(self, on: bool) -> Self {
        self.push(u64::from(on), 1)
    }

    /// Sets the given 1-based ids in a `width`-bit flag field.
    pub(super) fn flags(self, width: usize, ids: &[usize]) -> Self {
        let mut s = self;
        for i in 1..=width {
            s = s.flag(ids.contains(&i));
        }
        s
    }

    pub(super) fn letters(self, code: &str) -> Self {
        let mut s = self;
        for b in code.bytes() {
            s = s.push(u64::from(b - b'A'), 6);
        }
        s
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Standard base64url with padding of the bits as whole bytes (the last
    /// byte zero-filled), as a CMP that packs bytes and pads writes them.
    pub(super) fn b64_padded(&self) -> String {
        let mut bytes = self.clone();
        while !bytes.len().is_multiple_of(8) {
            bytes = bytes.flag(false);
        }
        let mut text = bytes.b64();
        while !text.len().is_multiple_of(4) {
            text.push('=');
        }
        text
    }

    pub(super) fn b64(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

pub(super) fn ts(deciseconds: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(deciseconds) * 100_000_000).unwrap()
}

/// Core fields up to and including PublisherCC (213 bits).
pub(super) fn core_header() -> Bits {
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

pub(super) fn hand_built() -> String {
    hand_built_segments()
        .iter()
        .map(Bits::b64)
        .collect::<Vec<_>>()
        .join(".")
}

/// The segments of [`hand_built`], as bits.
pub(super) fn hand_built_segments() -> [Bits; 4] {
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
}

pub(super) fn set(ids: &[u8]) -> BTreeSet<u8> {
    ids.iter().copied().collect()
}

pub(super) fn err(s: &str) -> TcfError {
    TcString::decode(s).unwrap_err()
}
