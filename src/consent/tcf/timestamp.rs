//! Created and LastUpdated as the specification stores them: deciseconds
//! since the Unix epoch in 36 bits, read and written exactly, and their
//! conversion to and from `OffsetDateTime`.

use time::OffsetDateTime;

use super::error::{invalid_model, TcfError};
use super::model::CoreSegment;

/// Width of the Created and LastUpdated fields.
pub(super) const TIMESTAMP_BITS: u32 = 36;
const NANOS_PER_DECISECOND: i128 = 100_000_000;

impl CoreSegment {
    /// The largest Created or LastUpdated value a TC string can hold:
    /// 2^36 - 1 deciseconds after the Unix epoch (in the year 2187).
    pub const MAX_DECISECONDS: u64 = (1 << TIMESTAMP_BITS) - 1;

    /// A core segment like [`CoreSegment::new`] builds, with Created and
    /// LastUpdated set to exactly these values (deciseconds since the Unix
    /// epoch, as the string stores them), for callers that keep the raw
    /// values rather than instants.
    ///
    /// # Errors
    /// [`TcfError::InvalidModel`] naming `created` or `last_updated` for a
    /// value above [`Self::MAX_DECISECONDS`].
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::{CoreSegment, TcString, TcfError};
    ///
    /// let core = CoreSegment::from_deciseconds(17_489_000_017, 17_489_000_123)?;
    /// let tc = TcString::decode(&TcString::new(core).encode()?)?;
    /// assert_eq!(tc.core.created_deciseconds()?, 17_489_000_017);
    /// assert_eq!(tc.core.last_updated_deciseconds()?, 17_489_000_123);
    /// # Ok::<(), TcfError>(())
    /// ```
    pub fn from_deciseconds(created: u64, last_updated: u64) -> Result<Self, TcfError> {
        let mut core = CoreSegment::new(OffsetDateTime::UNIX_EPOCH);
        core.set_created_deciseconds(created)?
            .set_last_updated_deciseconds(last_updated)?;
        Ok(core)
    }

    /// Created as the string stores it: deciseconds since the Unix epoch.
    ///
    /// # Errors
    /// [`TcfError::InvalidModel`] naming `created` if it cannot be written
    /// (before 1970, after [`Self::MAX_DECISECONDS`], or not a whole number
    /// of deciseconds); never for a decoded string.
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::{TcString, TcfError};
    ///
    /// let tc = TcString::decode("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA")?;
    /// // 2025-06-03 00:00 UTC.
    /// assert_eq!(tc.core.created_deciseconds()?, 17_489_088_000);
    /// assert_eq!(tc.core.created.unix_timestamp(), 1_748_908_800);
    /// # Ok::<(), TcfError>(())
    /// ```
    pub fn created_deciseconds(&self) -> Result<u64, TcfError> {
        deciseconds_of(self.created, "created")
    }

    /// LastUpdated as the string stores it: deciseconds since the Unix
    /// epoch.
    ///
    /// # Errors
    /// As [`created_deciseconds`](Self::created_deciseconds), naming
    /// `last_updated`.
    pub fn last_updated_deciseconds(&self) -> Result<u64, TcfError> {
        deciseconds_of(self.last_updated, "last_updated")
    }

    /// Sets Created to exactly `deciseconds` after the Unix epoch.
    ///
    /// # Errors
    /// [`TcfError::InvalidModel`] naming `created` above
    /// [`Self::MAX_DECISECONDS`]; nothing is changed then.
    pub fn set_created_deciseconds(&mut self, deciseconds: u64) -> Result<&mut Self, TcfError> {
        self.created = datetime_of(deciseconds, "created")?;
        Ok(self)
    }

    /// Sets LastUpdated to exactly `deciseconds` after the Unix epoch.
    ///
    /// # Errors
    /// [`TcfError::InvalidModel`] naming `last_updated` above
    /// [`Self::MAX_DECISECONDS`]; nothing is changed then.
    pub fn set_last_updated_deciseconds(
        &mut self,
        deciseconds: u64,
    ) -> Result<&mut Self, TcfError> {
        self.last_updated = datetime_of(deciseconds, "last_updated")?;
        Ok(self)
    }
}

/// The instant `deciseconds` after the Unix epoch, if it fits the field.
pub(super) fn datetime_of(
    deciseconds: u64,
    field: &'static str,
) -> Result<OffsetDateTime, TcfError> {
    if deciseconds > CoreSegment::MAX_DECISECONDS {
        return Err(invalid_model(
            field,
            format!("{deciseconds} does not fit in {TIMESTAMP_BITS} bits"),
        ));
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(deciseconds) * NANOS_PER_DECISECOND)
        .map_err(|e| invalid_model(field, format!("{deciseconds} deciseconds: {e}")))
}

/// `at` in deciseconds since the Unix epoch, if the field can hold it.
pub(super) fn deciseconds_of(at: OffsetDateTime, field: &'static str) -> Result<u64, TcfError> {
    let nanos = at.unix_timestamp_nanos();
    if nanos % NANOS_PER_DECISECOND != 0 {
        return Err(invalid_model(
            field,
            format!("{at} is not a whole number of deciseconds"),
        ));
    }
    let deciseconds = u64::try_from(nanos / NANOS_PER_DECISECOND)
        .map_err(|_| invalid_model(field, format!("{at} is before the unix epoch")))?;
    if deciseconds > CoreSegment::MAX_DECISECONDS {
        return Err(invalid_model(
            field,
            format!("{deciseconds} does not fit in {TIMESTAMP_BITS} bits"),
        ));
    }
    Ok(deciseconds)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use time::macros::datetime;

    use crate::consent::tcf::testkit::*;
    use crate::consent::tcf::*;

    /// Created 2025-06-03 14:22:07.3 UTC, last updated 0.9 s later.
    const CREATED: u64 = 17_489_605_273;
    const LAST_UPDATED: u64 = 17_489_605_282;

    /// A core segment with the two timestamps, as independent bits, in the
    /// canonical form (zero-padded to whole groups of four characters).
    fn raw_core(created: u64, last_updated: u64) -> String {
        let mut s = Bits::default()
            .push(2, 6)
            .push(created, 36)
            .push(last_updated, 36)
            .push(880, 12)
            .push(3, 12)
            .push(1, 6)
            .letters("EN")
            .push(48, 12)
            .push(4, 6)
            .flag(true)
            .flag(false)
            .flags(12, &[])
            .flags(24, &[1])
            .flags(24, &[])
            .flag(false)
            .letters("DE")
            .push(0, 16)
            .flag(false)
            .push(0, 16)
            .flag(false)
            .push(0, 12)
            .b64();
        while !s.len().is_multiple_of(4) {
            s.push('A');
        }
        s
    }

    #[test]
    fn the_stored_values_are_read_exactly() {
        let tc = TcString::decode(&hand_built()).unwrap();
        assert_eq!(tc.core.created_deciseconds().unwrap(), 15_000_000_001);
        assert_eq!(tc.core.last_updated_deciseconds().unwrap(), 15_000_000_123);
        let spec = TcString::decode(SPEC_FULL).unwrap();
        assert_eq!(
            spec.core.created_deciseconds().unwrap(),
            datetime!(2025-06-03 00:00 UTC).unix_timestamp() as u64 * 10
        );
    }

    #[test]
    fn decode_then_encode_is_byte_exact() {
        for (created, last_updated) in [
            (CREATED, LAST_UPDATED),
            (0, 1),
            (1, CoreSegment::MAX_DECISECONDS),
            (CoreSegment::MAX_DECISECONDS, CoreSegment::MAX_DECISECONDS),
        ] {
            let raw = raw_core(created, last_updated);
            let tc = TcString::decode(&raw).unwrap();
            assert_eq!(tc.core.created_deciseconds().unwrap(), created);
            assert_eq!(tc.core.last_updated_deciseconds().unwrap(), last_updated);
            assert_eq!(tc.encode().unwrap(), raw);
        }
    }

    #[test]
    fn built_from_stored_values_encodes_them_exactly() {
        let mut core = CoreSegment::from_deciseconds(CREATED, LAST_UPDATED).unwrap();
        core.cmp_id = 880;
        core.cmp_version = 3;
        core.consent_screen = 1;
        core.vendor_list_version = 48;
        core.purposes_consent = [1].into_iter().collect();
        core.publisher_cc = Alpha2::new("DE").unwrap();
        assert_eq!(
            core.created,
            datetime!(2025-06-03 14:22:07.3 UTC),
            "the instant accessors agree"
        );
        assert_eq!(
            TcString::new(core).encode().unwrap(),
            raw_core(CREATED, LAST_UPDATED)
        );
    }

    #[test]
    fn values_the_field_cannot_hold_are_refused() {
        let max = CoreSegment::MAX_DECISECONDS;
        assert_eq!(max, (1 << 36) - 1);
        let field = |e: TcfError| match e {
            TcfError::InvalidModel { field, reason } => (field, reason),
            other => panic!("expected an invalid model, got {other:?}"),
        };
        assert_eq!(
            field(CoreSegment::from_deciseconds(max + 1, 0).unwrap_err()),
            ("created", "68719476736 does not fit in 36 bits".to_owned())
        );
        assert_eq!(
            field(CoreSegment::from_deciseconds(0, u64::MAX).unwrap_err()).0,
            "last_updated"
        );
        let mut core = CoreSegment::from_deciseconds(CREATED, LAST_UPDATED).unwrap();
        assert!(core.set_created_deciseconds(max + 1).is_err());
        assert_eq!(core.created_deciseconds().unwrap(), CREATED, "unchanged");

        // Instants the string cannot hold have no stored value.
        core.created = datetime!(2025-06-03 00:00:00.05 UTC);
        assert_eq!(field(core.created_deciseconds().unwrap_err()).0, "created");
        core.last_updated = datetime!(1969-12-31 23:59 UTC);
        let (name, reason) = field(core.last_updated_deciseconds().unwrap_err());
        assert_eq!(name, "last_updated");
        assert!(reason.contains("before the unix epoch"), "{reason}");
        core.last_updated = datetime!(2200-01-01 00:00 UTC);
        assert!(core.last_updated_deciseconds().is_err());
    }
}
