//! Consent signals from the outside world: the Global Privacy Control
//! header and IAB TCF v2 consent strings, applied to a ledger.

#[cfg(feature = "tcf")]
use std::sync::Arc;

use time::OffsetDateTime;

#[cfg(feature = "tcf")]
use super::{tcf, ConsentError};
use super::{Change, ConsentEntry, ConsentLedger, ConsentState, Evidence, Purpose};

/// What [`ConsentLedger::apply_tcf`] did with a TC string.
#[cfg(feature = "tcf")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcfOutcome {
    /// The string's verdict for each purpose it maps to (`true`: allowed), in
    /// the order of [`tcf::TcString::purposes_for`].
    pub verdicts: Vec<(Purpose, bool)>,
    /// The purposes whose state it changed (each stored as an entry). Empty
    /// when the string agrees with the ledger.
    pub changed: Vec<Purpose>,
    /// The grants it could not record, with why; each of these purposes keeps
    /// its previous state. Refusals are always recorded.
    pub refused: Vec<(Purpose, ConsentError)>,
}

impl ConsentLedger {
    /// Applies the browser's Global Privacy Control signal (`Sec-GPC: 1`)
    /// at `now`: withdraws [`Purpose::PartnerData`] and [`Purpose::Marketing`]
    /// with [`Evidence::GlobalPrivacyControl`] where the person gave them
    /// (granted or expired at `now`). Returns the purposes it withdrew.
    ///
    /// A purpose never asked stays never asked: no data can have been used
    /// for it, and the person was not asked, so a report must not say they
    /// said no. The signal is still noted as received (see
    /// [`latest_received`](Self::latest_received)): a grant that arrives
    /// late, dated before it, ends where the signal began. A purpose already
    /// withdrawn stores nothing either, so the signal on every request
    /// stores nothing after the first.
    ///
    /// # Example
    /// ```
    /// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
    /// use time::macros::datetime;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// ledger.grant(Purpose::Marketing, datetime!(2026-01-01 0:00 UTC), None, Evidence::Ui("banner".into()))?;
    /// let now = datetime!(2026-06-01 0:00 UTC);
    /// assert_eq!(ledger.apply_gpc(now), vec![Purpose::Marketing]);
    /// assert_eq!(ledger.state(Purpose::Marketing, now), ConsentState::Withdrawn);
    /// assert_eq!(ledger.decisive(Purpose::Marketing, now).unwrap().evidence, Evidence::GlobalPrivacyControl);
    /// // Partner data was never asked for: it is not reported as withdrawn.
    /// assert_eq!(ledger.state(Purpose::PartnerData, now), ConsentState::NeverAsked);
    /// // The next request carries the signal again: nothing changes.
    /// assert!(ledger.apply_gpc(now + time::Duration::seconds(1)).is_empty());
    /// assert_eq!(ledger.len(), 2);
    /// # Ok::<(), tactful::ConsentError>(())
    /// ```
    pub fn apply_gpc(&mut self, now: OffsetDateTime) -> Vec<Purpose> {
        [Purpose::PartnerData, Purpose::Marketing]
            .into_iter()
            .filter(|&p| {
                if self.state(p, now) == ConsentState::NeverAsked {
                    self.receive(&ConsentEntry {
                        purpose: p,
                        change: Change::Withdraw,
                        at: now,
                        evidence: Evidence::GlobalPrivacyControl,
                    });
                    return false;
                }
                self.record_withdrawal(p, now, Evidence::GlobalPrivacyControl)
            })
            .collect()
    }

    /// Applies an IAB TCF v2 consent string at `now` for `subject` (a vendor
    /// id or the publisher), with the raw string as evidence: each purpose the
    /// string allows (see the mapping table in [`tcf`]) is granted, each it
    /// refuses is withdrawn, where the ledger's state at `now` differs. A
    /// string that agrees with the ledger stores nothing; the raw string is
    /// held once however many entries cite it.
    ///
    /// Grants can be refused (the ledger is full, [`ConsentError::TooManyEntries`]);
    /// they are reported in [`TcfOutcome::refused`], never dropped silently.
    ///
    /// # Errors
    /// [`tcf::TcfError`] if `raw` is not a valid TC string; the ledger is
    /// then unchanged.
    ///
    /// # Example
    /// ```
    /// use tactful::consent::tcf::{CoreSegment, Subject, TcString, VendorSet};
    /// use tactful::{ConsentLedger, Purpose};
    /// use time::macros::datetime;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let now = datetime!(2026-06-01 12:00 UTC);
    /// let mut core = CoreSegment::new(now);
    /// core.purposes_consent = [1, 5, 6].into_iter().collect();
    /// core.vendor_consents = VendorSet::from_ids([755])?;
    /// let tc = TcString::new(core);
    /// let raw = tc.encode()?;
    ///
    /// let mut ledger = ConsentLedger::default();
    /// let first = ledger.apply_tcf_str(&raw, Subject::Vendor(755), now)?;
    /// assert_eq!(first.changed, [Purpose::Personalization, Purpose::Marketing, Purpose::Measurement, Purpose::Location]);
    /// assert!(ledger.is_granted(Purpose::Personalization, now));
    ///
    /// // The CMP sends the same string with every page view: nothing is stored.
    /// let again = ledger.apply_tcf_str(&raw, Subject::Vendor(755), now + time::Duration::minutes(1))?;
    /// // An invalid string is a typed error and changes nothing.
    /// assert!(ledger.apply_tcf_str("not a tc string", Subject::Vendor(755), now).is_err());
    /// assert!(again.changed.is_empty() && again.refused.is_empty());
    /// assert_eq!(ledger.len(), 4);
    /// assert_eq!(ledger.consent_strings(), [raw.as_str()]);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tcf")]
    pub fn apply_tcf_str(
        &mut self,
        raw: &str,
        subject: tcf::Subject,
        now: OffsetDateTime,
    ) -> Result<TcfOutcome, tcf::TcfError> {
        let tc = tcf::TcString::decode(raw)?;
        Ok(self.apply_tcf(&tc, raw, subject, now))
    }

    /// Applies an IAB TCF v2 consent string already decoded; `raw` must be
    /// the text it was decoded from (it is kept as the evidence). Prefer
    /// [`apply_tcf_str`](Self::apply_tcf_str), which decodes it and so
    /// cannot be given a mismatched pair.
    #[cfg(feature = "tcf")]
    pub fn apply_tcf(
        &mut self,
        tc: &tcf::TcString,
        raw: &str,
        subject: tcf::Subject,
        now: OffsetDateTime,
    ) -> TcfOutcome {
        let verdicts = tc.purposes_for(subject);
        let evidence = self.intern(Evidence::ConsentString(Arc::from(raw)));
        let mut changed = Vec::new();
        let mut refused = Vec::new();
        for &(purpose, allowed) in &verdicts {
            let stored = if allowed {
                // A grant in force (with whatever expiry) already agrees.
                if self.state(purpose, now).is_granted() {
                    continue;
                }
                match self.record_grant(purpose, now, None, evidence.clone()) {
                    Ok(stored) => stored,
                    Err(e) => {
                        refused.push((purpose, e));
                        continue;
                    }
                }
            } else {
                self.record_withdrawal(purpose, now, evidence.clone())
            };
            if stored {
                changed.push(purpose);
            }
        }
        TcfOutcome {
            verdicts,
            changed,
            refused,
        }
    }
}
