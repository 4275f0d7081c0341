//! Queries on a decoded TC string and its mapping onto tactful purposes
//! (the table in the module documentation).

use std::str::FromStr;

use super::error::TcfError;
use super::model::{CoreSegment, Subject, TcString};
use super::restriction::RestrictionType;
use crate::consent::Purpose;

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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]
mod tests {
    use std::collections::BTreeSet;

    use time::macros::datetime;

    use crate::consent::tcf::testkit::*;
    use crate::consent::tcf::*;
    use crate::consent::Purpose;

    #[test]
    fn spec_example_maps_to_no_purposes() {
        let tc = TcString::decode(SPEC_FULL).unwrap();
        for subject in [Subject::Vendor(1), Subject::Vendor(404), Subject::Publisher] {
            assert!(tc.purposes_for(subject).iter().all(|(_, ok)| !ok));
        }
    }

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
}
