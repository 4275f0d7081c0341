//! Publisher restrictions: the model, and their decoding and encoding in
//! the core segment.

use serde::{Deserialize, Serialize};

use super::bits::{BitReader, BitWriter};
use super::encode::encode_range_entries;
use super::error::{invalid_model, TcfError};
use super::vendor::VendorRange;
use super::vendor::MAX_RANGE_ENTRIES;

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

    pub(super) const fn bits(self) -> u64 {
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

mod pr {
    pub(super) const NUM_PUB_RESTRICTIONS: &str = "publisher_restrictions.num_pub_restrictions";
    pub(super) const PURPOSE_ID: &str = "publisher_restrictions.purpose_id";
    pub(super) const RESTRICTION_TYPE: &str = "publisher_restrictions.restriction_type";
    pub(super) const NUM_ENTRIES: &str = "publisher_restrictions.num_entries";
    pub(super) const IS_A_RANGE: &str = "publisher_restrictions.is_a_range";
    pub(super) const START: &str = "publisher_restrictions.start_or_only_vendor_id";
    pub(super) const END: &str = "publisher_restrictions.end_vendor_id";
}

pub(super) fn decode_publisher_restrictions(
    r: &mut BitReader,
) -> Result<Vec<PublisherRestriction>, TcfError> {
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

pub(super) fn encode_publisher_restrictions(
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]
mod tests {
    use crate::consent::tcf::testkit::*;
    use crate::consent::tcf::*;

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
}
