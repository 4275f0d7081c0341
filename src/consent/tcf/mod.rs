//! Strict decoder and encoder for IAB TCF v2 TC strings.
//!
//! A TC string is a sequence of base64url segments joined by `.`. The
//! first segment is always the *core* segment (it starts with the 6-bit
//! `Version`, which must be `2`); every following segment starts with a
//! 3-bit `SegmentType`: `1` disclosed vendors, `2` allowed vendors (TCF
//! 2.0/2.1 only, still decoded), `3` publisher TC. Optional segments may
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
//! Base64url padding is optional (RFC 4648, sections 3.2 and 5), and some
//! CMPs write it: a segment may end in the `=` that complete its last group
//! of four characters (`xx==`, `xxx=`), and then holds whole bytes. Any
//! other `=` is a [`TcfError::InvalidPadding`] giving its position. The
//! encoder writes no padding.
//!
//! Created and LastUpdated are deciseconds since the Unix epoch in the
//! string; the model holds them as instants ([`CoreSegment::created`]) and
//! gives the exact stored values too ([`CoreSegment::created_deciseconds`],
//! [`CoreSegment::from_deciseconds`]).
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
//! [`Purpose`]: crate::consent::Purpose
//! [`Purpose::Personalization`]: crate::consent::Purpose::Personalization
//! [`Purpose::Marketing`]: crate::consent::Purpose::Marketing
//! [`Purpose::Measurement`]: crate::consent::Purpose::Measurement
//! [`Purpose::Location`]: crate::consent::Purpose::Location
//!
//! # Examples
//!
//! Decoding the specification's example string, and applying it to the
//! ledger of a person who had said yes to marketing on our own site:
//!
//! ```
//! use tactful::consent::tcf::{Subject, TcString};
//! use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let raw = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA";
//! let tc = TcString::decode(raw)?;
//! assert_eq!(tc.core.cmp_id, 880);
//! assert_eq!(tc.core.consent_language.as_str(), "EN");
//! assert!(tc.vendor_consent(4));
//! assert_eq!(tc.vendor_disclosed(100), Some(true));
//!
//! // No purpose consent was given, so nothing is allowed.
//! let verdicts = tc.purposes_for(Subject::Vendor(1));
//! assert!(verdicts.contains(&(Purpose::Marketing, false)));
//!
//! let mut ledger = ConsentLedger::default();
//! let signup = datetime!(2025-06-01 10:00 UTC);
//! ledger.grant(Purpose::Marketing, signup, None, Evidence::Ui("newsletter".into()))?;
//! let now = datetime!(2025-06-03 12:00 UTC);
//! let outcome = ledger.apply_tcf_str(raw, Subject::Vendor(1), now)?;
//! assert!(outcome.changed.contains(&Purpose::Marketing));
//! assert_eq!(ledger.state(Purpose::Marketing, now), ConsentState::Withdrawn);
//! assert_eq!(ledger.consent_strings(), [raw], "the string is the evidence");
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

mod bits; // base64url, the bit reader and writer
mod decode; // string -> model
mod encode; // model -> canonical string
mod error; // TcfError and its parts
mod model; // TcString, CoreSegment, PublisherTc, Alpha2, Subject
mod query; // what a decoded string says, and the purpose mapping
mod restriction; // publisher restrictions: model, decoding, encoding
mod timestamp; // Created and LastUpdated as stored deciseconds
mod vendor; // vendor sets and their encodings

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod proptests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod testkit;

pub use error::{PaddingProblem, TcfError, MAX_TC_STRING_LEN};
pub use model::{Alpha2, CoreSegment, PublisherTc, Subject, TcString};
pub use restriction::{PublisherRestriction, RestrictionType};
pub use vendor::{VendorEncoding, VendorRange, VendorSet};

/// `SegmentType` of the disclosed vendors segment.
const SEGMENT_DISCLOSED: u8 = 1;
/// `SegmentType` of the allowed vendors segment.
const SEGMENT_ALLOWED: u8 = 2;
/// `SegmentType` of the publisher TC segment.
const SEGMENT_PUBLISHER_TC: u8 = 3;
