//! Purposes and the consent ledger.
//!
//! Consent is per [`Purpose`], timestamped, with [`Evidence`]. The ledger
//! answers [`ConsentLedger::state`] for any instant, and tells "never asked"
//! and "expired" (ask again) apart from "withdrawn" (the person said no).
//!
//! The ledger stores changes, not signals: a grant or withdrawal that
//! changes nothing when it arrives is not stored, so a consent string or a
//! Global Privacy Control signal repeated on every request never grows it.
//! Its length is bounded on every path ([`MAX_LEDGER_ENTRIES`],
//! [`MAX_STORED_ENTRIES`]), and each distinct consent string is held once.
//!
//! # Examples
//!
//! ```
//! use tactful::consent::{ConsentError, ConsentLedger, ConsentState, Evidence, Purpose};
//! use time::macros::datetime;
//! use time::Duration;
//!
//! let mut ledger = ConsentLedger::default();
//! let banner = Evidence::Ui("cookie banner".into());
//! let jan = datetime!(2026-01-10 9:00 UTC);
//! ledger.grant(Purpose::Marketing, jan, None, banner.clone())?;
//! assert_eq!(ledger.state(Purpose::Marketing, jan), ConsentState::Granted);
//! // Never asked is not no: ask.
//! assert_eq!(ledger.state(Purpose::Location, jan), ConsentState::NeverAsked);
//!
//! // A grant for a span reads as expired (ask again) once it lapses.
//! ledger.grant_for(Purpose::Measurement, jan, Duration::days(30), banner)?;
//! let mar = datetime!(2026-03-01 0:00 UTC);
//! assert_eq!(ledger.state(Purpose::Measurement, mar), ConsentState::Expired);
//!
//! // Saying no; saying it again stores nothing.
//! ledger.withdraw(Purpose::Marketing, mar, Evidence::Ui("settings".into()))?;
//! ledger.withdraw(Purpose::Marketing, mar + Duration::days(1), Evidence::GlobalPrivacyControl)?;
//! assert_eq!(ledger.state(Purpose::Marketing, mar), ConsentState::Withdrawn);
//! assert_eq!(ledger.len(), 3);
//!
//! // A withdrawal is retroactive: after a new grant, what was recorded
//! // before the withdrawal stays unusable.
//! let may = datetime!(2026-05-01 0:00 UTC);
//! ledger.grant(Purpose::Marketing, may, None, Evidence::Ui("checkout".into()))?;
//! assert!(ledger.is_granted(Purpose::Marketing, may));
//! assert!(!ledger.usable(Purpose::Marketing, jan, may));
//! assert!(ledger.usable(Purpose::Marketing, may, may));
//! # Ok::<(), ConsentError>(())
//! ```

// The ledger type, its bounds and its error are here; its behaviour is
// split by concern.
mod append; // storing a change only where it changes something
mod entry; // change, evidence, entry, state: the vocabulary
mod join; // merging two ledgers, folding the oldest history
mod ledger; // the public answers (state, usable, ...) and erasure hooks
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod proptests;
mod purpose; // what data may be used for
mod signals; // Global Privacy Control and TCF strings applied
mod stored; // the serialized form
#[cfg(feature = "tcf")]
pub mod tcf;
mod timeline; // a purpose's history as states over time; the scoring gate

use thiserror::Error;
use time::OffsetDateTime;

pub use entry::{Change, ConsentEntry, ConsentState, Evidence};
pub use purpose::{Purpose, Purposes};
#[cfg(feature = "tcf")]
pub use signals::TcfOutcome;
use timeline::lookup;
pub(crate) use timeline::{AllSteps, ConsentGate, NanosGate, Point, Steps};

/// Purposes in [`Purpose::ALL`]: the size of per-purpose tables.
const PURPOSES: usize = Purpose::ALL.len();

/// From this many entries on, the ledger refuses a grant that would add one
/// ([`ConsentError::TooManyEntries`]); withdrawals are never refused.
///
/// Received in time order (every change at or after the latest one received
/// for its purpose), a ledger never holds more than this plus one entry per
/// purpose that needs consent (7): once full it takes no grant, and a
/// withdrawal is only stored where it changes the state, so each purpose
/// gains at most one more. [`MAX_STORED_ENTRIES`] bounds every path.
pub const MAX_LEDGER_ENTRIES: usize = 10_000;

/// The most entries a [`ConsentLedger`] ever holds, whatever the order of the
/// changes and after [`ConsentLedger::merge`]: what a loader of stored
/// profiles should accept (deserializing a longer ledger is an error).
///
/// Why it holds: grants are refused from [`MAX_LEDGER_ENTRIES`] on (a grant
/// received late may bring one repeated grant back with it), so at most
/// `MAX_LEDGER_ENTRIES + 1` grants are stored. A withdrawal is stored only
/// where it changes the state, and one dated just before another withdrawal
/// replaces it, so in time order each stored withdrawal of a purpose follows
/// a grant of it or starts its history. Changes received in any order
/// therefore stay within `2 * MAX_LEDGER_ENTRIES + 9`, and in time order
/// within `MAX_LEDGER_ENTRIES + 7` ([`MAX_LEDGER_ENTRIES`]). The merge of two
/// ledgers built by appends is no longer than both together, so two ledgers
/// filled in time order merge within this bound. Only ledgers that were
/// themselves rewritten by merges can need more; then the oldest history is
/// folded (see [`ConsentLedger::merge`]).
pub const MAX_STORED_ENTRIES: usize = 2 * MAX_LEDGER_ENTRIES + 2 * Purpose::ALL.len();

/// A consent change that cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The grant expires before it is given.
    #[error("grant for {purpose} at {at} expires earlier, at {expires}")]
    ExpiresBeforeGrant {
        /// The purpose.
        purpose: Purpose,
        /// When it was given.
        at: OffsetDateTime,
        /// The expiry.
        expires: OffsetDateTime,
    },
    /// [`Purpose::Service`] needs no consent and cannot be withdrawn here; use
    /// a suppression to stop service messages.
    #[error("the service purpose needs no consent; use a suppression instead")]
    ServiceNeedsNoConsent,
    /// The ledger already holds [`MAX_LEDGER_ENTRIES`] entries and the grant
    /// would add one. Nothing was recorded: the purpose keeps its state.
    /// Withdrawals are still recorded; [`ConsentLedger::merge`] may rewrite
    /// a ledger shorter.
    #[error("the consent ledger already holds {max} entries")]
    TooManyEntries {
        /// The limit, [`MAX_LEDGER_ENTRIES`].
        max: usize,
    },
}

/// The history of consent changes of one person.
///
/// Changes are appended; the ledger stores a change only where it changes
/// something. A grant without expiry while one is in force and a
/// withdrawal of a purpose already withdrawn at that instant are not stored,
/// so a signal repeated on every page view never grows the ledger. Received
/// in time order, every answer is the one the full history of signals would
/// give; received in any order, so is the state from the latest change
/// received on, and no data is more usable (see [`ConsentLedger::grant`] and
/// [`ConsentLedger::withdraw`]). Grants are
/// capped at [`MAX_LEDGER_ENTRIES`], and no path makes a ledger longer than
/// [`MAX_STORED_ENTRIES`]. Consent strings used as evidence are held once
/// per distinct string, however many entries cite them
/// ([`Evidence::ConsentString`]).
///
/// # Example
/// ```
/// use tactful::{ConsentLedger, ConsentState, Evidence, Purpose};
/// use time::macros::datetime;
///
/// let mut ledger = ConsentLedger::default();
/// let ui = Evidence::Ui("settings page".into());
/// ledger.grant(Purpose::Personalization, datetime!(2026-01-01 0:00 UTC), None, ui.clone())?;
/// ledger.withdraw(Purpose::Personalization, datetime!(2026-03-01 0:00 UTC), ui.clone())?;
/// // Saying no again changes nothing and stores nothing.
/// ledger.withdraw(Purpose::Personalization, datetime!(2026-03-05 0:00 UTC), ui)?;
/// assert_eq!(ledger.len(), 2);
///
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2025-12-31 0:00 UTC)), ConsentState::NeverAsked);
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2026-02-01 0:00 UTC)), ConsentState::Granted);
/// assert_eq!(ledger.state(Purpose::Personalization, datetime!(2026-03-02 0:00 UTC)), ConsentState::Withdrawn);
/// # Ok::<(), tactful::ConsentError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentLedger {
    entries: Vec<ConsentEntry>,
    /// Per purpose (by [`Purpose::index`]), the latest grant and the latest
    /// withdrawal the ledger was told of, in the order received, whether
    /// they were stored as entries or not: a change dated before them must
    /// not outlast them (see [`ConsentLedger::grant`]).
    latest_received: [Vec<ConsentEntry>; PURPOSES],
    /// Per purpose, the index in `entries` of its latest entry (greatest
    /// `at`, the last appended among equal ones): the entry that decides
    /// every instant from its own on. Derived from `entries`.
    latest: [Option<usize>; PURPOSES],
    /// Per purpose, the index in `entries` of its latest withdrawal
    /// (greatest `at`). Derived from `entries`, beside `latest`, so that
    /// recording an event need not scan the ledger.
    last_withdrawal: [Option<usize>; PURPOSES],
}

/// `a <= b`, cheaply when both carry the same offset (the common case: all
/// UTC), where comparing `OffsetDateTime`s would normalise both first.
fn le(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    if a.offset() == b.offset() {
        (a.date(), a.time()) <= (b.date(), b.time())
    } else {
        a <= b
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use time::macros::datetime;

    fn ui() -> Evidence {
        Evidence::Ui("test".into())
    }

    #[test]
    fn four_states_are_distinct() {
        let mut l = ConsentLedger::default();
        let p = Purpose::Marketing;
        l.grant(
            p,
            datetime!(2026-01-01 0:00 UTC),
            Some(datetime!(2026-02-01 0:00 UTC)),
            ui(),
        )
        .unwrap();
        l.grant(p, datetime!(2026-03-01 0:00 UTC), None, ui())
            .unwrap();
        l.withdraw(p, datetime!(2026-04-01 0:00 UTC), ui()).unwrap();
        assert_eq!(
            l.state(p, datetime!(2025-01-01 0:00 UTC)),
            ConsentState::NeverAsked
        );
        assert_eq!(
            l.state(p, datetime!(2026-01-15 0:00 UTC)),
            ConsentState::Granted
        );
        assert_eq!(
            l.state(p, datetime!(2026-02-01 0:00 UTC)),
            ConsentState::Expired
        );
        assert_eq!(
            l.state(p, datetime!(2026-03-15 0:00 UTC)),
            ConsentState::Granted
        );
        assert_eq!(
            l.state(p, datetime!(2026-04-01 0:00 UTC)),
            ConsentState::Withdrawn
        );
        assert_eq!(
            l.state(Purpose::Service, datetime!(2026-04-01 0:00 UTC)),
            ConsentState::Granted
        );
    }

    #[test]
    fn rejects_nonsense() {
        let mut l = ConsentLedger::default();
        assert!(l
            .grant(
                Purpose::Marketing,
                datetime!(2026-02-01 0:00 UTC),
                Some(datetime!(2026-01-01 0:00 UTC)),
                ui()
            )
            .is_err());
        assert_eq!(
            l.withdraw(Purpose::Service, datetime!(2026-02-01 0:00 UTC), ui())
                .unwrap_err(),
            ConsentError::ServiceNeedsNoConsent
        );
        assert!(l.is_empty());
    }

    #[test]
    fn withdrawal_is_retroactive_and_forever() {
        let mut l = ConsentLedger::default();
        let p = Purpose::Personalization;
        l.grant(p, datetime!(2026-01-01 0:00 UTC), None, ui())
            .unwrap();
        l.withdraw(p, datetime!(2026-02-01 0:00 UTC), ui()).unwrap();
        l.grant(p, datetime!(2026-03-01 0:00 UTC), None, ui())
            .unwrap();
        let now = datetime!(2026-04-01 0:00 UTC);
        assert!(!l.usable(p, datetime!(2026-01-15 0:00 UTC), now));
        assert!(l.usable(p, datetime!(2026-03-15 0:00 UTC), now));
        let gate = ConsentGate::new(&l, now);
        assert!(!gate.allows(p, datetime!(2026-01-15 0:00 UTC)));
        assert!(!gate.allows(p, datetime!(2026-02-15 0:00 UTC)));
        assert!(gate.allows(p, datetime!(2026-03-15 0:00 UTC)));
    }

    #[test]
    fn merge_keeps_the_more_restrictive_state_everywhere() {
        let p = Purpose::Marketing;
        let mut old = ConsentLedger::default();
        old.grant(p, datetime!(2026-01-01 0:00 UTC), None, ui())
            .unwrap();
        let mut new = old.clone();
        new.withdraw(p, datetime!(2026-02-01 0:00 UTC), ui())
            .unwrap();
        let mut m = old.clone();
        m.merge(&new);
        let mut m2 = new.clone();
        m2.merge(&old);
        for day in 0..120 {
            let t = datetime!(2025-12-01 0:00 UTC) + time::Duration::days(day);
            let want = if new.state(p, t).restriction() >= old.state(p, t).restriction() {
                new.state(p, t)
            } else {
                old.state(p, t)
            };
            assert_eq!(m.state(p, t), want, "{t}");
            assert_eq!(m2.state(p, t), want, "{t}");
        }
    }

    fn hour(h: i64) -> OffsetDateTime {
        datetime!(2026-01-01 0:00 UTC) + time::Duration::hours(h)
    }

    #[test]
    fn gpc_withdraws_only_what_was_given_and_a_late_grant_still_ends_at_it() {
        let mut l = ConsentLedger::default();
        l.grant(Purpose::Marketing, hour(0), Some(hour(2)), ui())
            .unwrap();
        // Marketing expired (given, so withdrawn); partner data never asked.
        assert_eq!(l.apply_gpc(hour(3)), [Purpose::Marketing]);
        assert_eq!(
            l.state(Purpose::Marketing, hour(4)),
            ConsentState::Withdrawn
        );
        assert_eq!(
            l.state(Purpose::PartnerData, hour(4)),
            ConsentState::NeverAsked
        );
        assert_eq!(l.len(), 2);
        // A partner-data grant dated before the signal arrives late: the
        // signal still ends it.
        l.grant(Purpose::PartnerData, hour(1), None, ui()).unwrap();
        assert!(l.is_granted(Purpose::PartnerData, hour(2)));
        assert_eq!(
            l.state(Purpose::PartnerData, hour(4)),
            ConsentState::Withdrawn
        );
        assert_eq!(
            l.decisive(Purpose::PartnerData, hour(4)).unwrap().evidence,
            Evidence::GlobalPrivacyControl
        );
        // A grant after the signal is the person's later choice.
        let mut l = ConsentLedger::default();
        assert!(l.apply_gpc(hour(1)).is_empty());
        assert!(l.is_empty());
        l.grant(Purpose::PartnerData, hour(2), None, ui()).unwrap();
        assert!(l.is_granted(Purpose::PartnerData, hour(3)));
    }

    #[test]
    fn a_repeated_signal_stores_nothing_but_is_remembered() {
        let p = Purpose::Marketing;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.grant(p, hour(1), None, ui()).unwrap();
        l.withdraw(p, hour(2), ui()).unwrap();
        l.withdraw(p, hour(3), Evidence::GlobalPrivacyControl)
            .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l.last_withdrawal(p, hour(9)), Some(hour(2)));
        let received: Vec<(Change, OffsetDateTime)> = l
            .latest_received(p)
            .iter()
            .map(|e| (e.change, e.at))
            .collect();
        assert_eq!(
            received,
            [
                (Change::Grant { expires: None }, hour(1)),
                (Change::Withdraw, hour(3))
            ]
        );
        // A grant with an expiry is stored even when it repeats the one in
        // force; grants stay capped either way.
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), Some(hour(9)), ui()).unwrap();
        l.grant(p, hour(1), Some(hour(9)), ui()).unwrap();
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn a_late_grant_ends_at_the_repeated_withdrawal_it_would_outlast() {
        let p = Purpose::Personalization;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.withdraw(p, hour(5), ui()).unwrap();
        l.withdraw(p, hour(8), Evidence::Import("crm".into()))
            .unwrap();
        assert_eq!(l.len(), 2);
        // Another device's consent from 6:00 arrives late.
        l.grant(p, hour(6), None, ui()).unwrap();
        assert_eq!(l.state(p, hour(7)), ConsentState::Granted);
        assert_eq!(l.state(p, hour(8)), ConsentState::Withdrawn);
        assert!(!l.usable(p, hour(7), hour(9)));
        let restored = l.decisive(p, hour(8)).unwrap();
        assert_eq!(
            (restored.at, &restored.evidence),
            (hour(8), &Evidence::Import("crm".into()))
        );
    }

    #[test]
    fn a_late_withdrawal_drops_the_one_it_now_repeats() {
        let p = Purpose::Marketing;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.withdraw(p, hour(10), ui()).unwrap();
        l.withdraw(p, hour(5), ui()).unwrap();
        let kept: Vec<OffsetDateTime> = l.entries().iter().map(|e| e.at).collect();
        assert_eq!(kept, [hour(0), hour(5)]);
        assert_eq!(l.state(p, hour(7)), ConsentState::Withdrawn);
        assert_eq!(l.state(p, hour(11)), ConsentState::Withdrawn);
        // A late withdrawal where the purpose was withdrawn stores nothing.
        l.withdraw(p, hour(6), ui()).unwrap();
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn equal_consent_strings_are_held_once() {
        let mut l = ConsentLedger::default();
        let text = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA";
        l.grant(
            Purpose::Marketing,
            hour(0),
            None,
            Evidence::ConsentString(text.into()),
        )
        .unwrap();
        l.withdraw(
            Purpose::Location,
            hour(1),
            Evidence::ConsentString(String::from(text).into()),
        )
        .unwrap();
        let arcs: Vec<&Arc<str>> = l
            .entries()
            .iter()
            .filter_map(|e| match &e.evidence {
                Evidence::ConsentString(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(Arc::ptr_eq(arcs[0], arcs[1]));
        assert_eq!(l.consent_strings(), [text]);
    }

    #[test]
    fn erasure_forgets_what_was_received() {
        let p = Purpose::Marketing;
        let mut l = ConsentLedger::default();
        l.grant(p, hour(0), None, ui()).unwrap();
        l.grant(p, hour(3), None, ui()).unwrap();
        l.reset_withdrawn(hour(4));
        assert_eq!(l.latest_received(p).len(), 1);
        assert_eq!(l.latest_received(p)[0].change, Change::Withdraw);
        assert!(l.latest_received(Purpose::Service).is_empty());

        // A copy from before an erasure forgets its history, received
        // signals included: a late change cannot bring an old grant back.
        let mut copy = ConsentLedger::default();
        copy.grant(p, hour(0), None, ui()).unwrap();
        copy.grant(p, hour(3), None, ui()).unwrap();
        copy.forget_through(hour(4));
        copy.withdraw(p, hour(1), ui()).unwrap();
        assert!(!copy.is_granted(p, hour(5)));
    }

    #[test]
    fn fitting_folds_the_oldest_history_and_keeps_every_later_answer() {
        let p = Purpose::Marketing;
        let second = |k: i64| hour(0) + time::Duration::seconds(k);
        // Longer than any path can make it (as only entries written here can
        // be): alternating grants, lapsing grants and withdrawals.
        let mut long = ConsentLedger::default();
        for k in 0..(MAX_STORED_ENTRIES + 50) as i64 {
            let change = match k % 3 {
                0 => Change::Grant { expires: None },
                1 => Change::Grant {
                    expires: Some(second(k) + time::Duration::milliseconds(400)),
                },
                _ => Change::Withdraw,
            };
            long.entries.push(ConsentEntry {
                purpose: p,
                change,
                at: second(k),
                evidence: ui(),
            });
        }
        long.reindex();
        let mut fitted = long.clone();
        let f = fitted.fit().unwrap();
        assert!(fitted.len() <= MAX_STORED_ENTRIES);
        assert_eq!(fitted.fit(), None);
        let probes: Vec<OffsetDateTime> = (0..(MAX_STORED_ENTRIES + 60) as i64)
            .step_by(97)
            .flat_map(|k| [second(k), second(k) + time::Duration::milliseconds(500)])
            .chain([f, f + time::Duration::milliseconds(500)])
            .collect();
        for &t in &probes {
            if t >= f {
                assert_eq!(fitted.state(p, t), long.state(p, t), "{t}");
                assert_eq!(
                    fitted.usable(p, t, t + time::Duration::seconds(1)),
                    long.usable(p, t, t + time::Duration::seconds(1))
                );
            } else {
                assert!(!fitted.is_granted(p, t), "{t} before {f}");
            }
        }
    }

    #[test]
    fn stored_received_changes_are_checked() {
        let read = |received: &str| {
            serde_json::from_str::<ConsentLedger>(&format!(
                r#"{{"consent_strings":[],"entries":[],"latest_received":[{received}]}}"#
            ))
        };
        let w = |purpose: &str| {
            format!(
                r#"{{"purpose":"{purpose}","change":"withdraw","at":"2026-01-01T00:00:00Z","evidence":"global_privacy_control"}}"#
            )
        };
        assert!(read(&w("marketing")).is_ok());
        let twice = read(&format!("{},{}", w("marketing"), w("marketing")))
            .unwrap_err()
            .to_string();
        assert!(
            twice.contains("latest_received[1]: a second latest withdrawal of marketing"),
            "{twice}"
        );
        let service = read(&w("service")).unwrap_err().to_string();
        assert!(service.contains("service needs no consent"), "{service}");
    }

    #[test]
    fn replaying_a_grown_history_keeps_it_bounded_with_the_same_present() {
        // As 0.1 stored it: two consent strings alternated, every change an
        // entry with its own copy of the string, past the cap.
        let yes: Arc<str> = Arc::from("CQ-yes".repeat(100));
        let no: Arc<str> = Arc::from("CQ-no".repeat(100));
        let purposes = [Purpose::Personalization, Purpose::Marketing];
        let mut old = Vec::new();
        for k in 0..8_000i64 {
            let (change, text) = if k % 2 == 0 {
                (Change::Grant { expires: None }, &yes)
            } else {
                (Change::Withdraw, &no)
            };
            for purpose in purposes {
                old.push(ConsentEntry {
                    purpose,
                    change,
                    at: hour(k),
                    evidence: Evidence::ConsentString(Arc::from(&**text)),
                });
            }
        }
        let mut ledger = ConsentLedger::default();
        let mut refused = 0;
        for e in old {
            if let Err(e) = ledger.record(e) {
                assert_eq!(
                    e,
                    ConsentError::TooManyEntries {
                        max: MAX_LEDGER_ENTRIES
                    }
                );
                refused += 1;
            }
        }
        assert!(ledger.len() <= MAX_LEDGER_ENTRIES + 7, "{}", ledger.len());
        assert!(refused > 0);
        assert_eq!(ledger.consent_strings().len(), 2);
        for purpose in purposes {
            assert_eq!(ledger.state(purpose, hour(8_000)), ConsentState::Withdrawn);
            assert!(ledger.is_granted(purpose, hour(2)));
        }
        assert_eq!(
            ledger.record(ConsentEntry {
                purpose: Purpose::Service,
                change: Change::Withdraw,
                at: hour(0),
                evidence: ui(),
            }),
            Err(ConsentError::ServiceNeedsNoConsent)
        );
    }
}
