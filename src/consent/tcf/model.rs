//! The decoded model: a TC string, its core segment and the publisher TC
//! segment, the two-letter codes they hold and the subject a verdict is for.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::bits::SECONDS_PER_DAY;
use super::error::{invalid_model, TcfError};
use super::restriction::PublisherRestriction;
use super::vendor::{VendorEncoding, VendorSet};

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
pub struct Alpha2(pub(super) [u8; 2]);

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

    pub(super) fn letter_values(self) -> [u64; 2] {
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]
mod tests {
    use super::*;
    use crate::consent::tcf::testkit::*;
    use crate::consent::tcf::VendorRange;

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
}
