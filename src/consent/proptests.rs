//! Laws of the consent ledger against a reference that stores every signal
//! it is given (the ledger before it stored changes only): in time order
//! every answer is the same; in any order the present state is the same and
//! no data is more usable; merging keeps the join and only drops withdrawals
//! that block nothing.

use proptest::prelude::{prop_assert, prop_assert_eq, prop_oneof, proptest, Just, ProptestConfig};
use proptest::strategy::Strategy;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{Change, ConsentEntry, ConsentLedger, ConsentState, Evidence, Purpose};

const PURPOSES: [Purpose; 2] = [Purpose::Marketing, Purpose::Personalization];
/// Signals fall on whole hours of a small grid, so equal instants are common.
const HOURS: i64 = 12;

fn hour(h: i64) -> OffsetDateTime {
    datetime!(2026-01-01 0:00 UTC) + Duration::hours(h)
}

/// Every answer needs probes on the grid and between its points.
fn probes() -> Vec<OffsetDateTime> {
    (-1..=2 * HOURS + 2)
        .flat_map(|h| [hour(h), hour(h) + Duration::minutes(30)])
        .collect()
}

#[derive(Debug, Clone)]
struct Signal {
    purpose: Purpose,
    at: i64,
    /// `None`: a withdrawal; `Some(None)` a grant without expiry;
    /// `Some(Some(h))` a grant lapsing `h` hours after `at`.
    grant: Option<Option<i64>>,
}

fn signal() -> impl Strategy<Value = Signal> {
    (
        0..PURPOSES.len(),
        0..HOURS,
        prop_oneof![
            2 => Just(None),
            1 => Just(Some(None)),
            1 => (0i64..4).prop_map(|h| Some(Some(h))),
        ],
    )
        .prop_map(|(p, at, grant)| Signal {
            purpose: PURPOSES[p],
            at,
            grant,
        })
}

/// The ledger as it was: every signal stored as an entry.
#[derive(Debug, Default)]
struct Reference {
    entries: Vec<ConsentEntry>,
}

impl Reference {
    fn state(&self, p: Purpose, t: OffsetDateTime) -> ConsentState {
        let mut best: Option<&ConsentEntry> = None;
        for e in &self.entries {
            if e.purpose == p && e.at <= t && best.is_none_or(|b| e.at >= b.at) {
                best = Some(e);
            }
        }
        match best.map(|e| e.change) {
            None => ConsentState::NeverAsked,
            Some(Change::Withdraw) => ConsentState::Withdrawn,
            Some(Change::Grant { expires: Some(x) }) if x <= t => ConsentState::Expired,
            Some(Change::Grant { .. }) => ConsentState::Granted,
        }
    }

    fn usable(&self, p: Purpose, at: OffsetDateTime, now: OffsetDateTime) -> bool {
        self.state(p, at).is_granted()
            && self.state(p, now).is_granted()
            && !self
                .entries
                .iter()
                .any(|e| e.purpose == p && e.change == Change::Withdraw && at < e.at && e.at <= now)
    }
}

fn ui() -> Evidence {
    Evidence::Ui("law".into())
}

/// Gives both the same signals; `distinct` gives every grant its own expiry,
/// so that no grant repeats the one in force.
fn apply(signals: &[Signal], distinct: bool) -> (ConsentLedger, Reference) {
    let mut ledger = ConsentLedger::default();
    let mut reference = Reference::default();
    for (k, s) in signals.iter().enumerate() {
        let at = hour(s.at);
        let change = match s.grant {
            None => {
                ledger.withdraw(s.purpose, at, ui()).unwrap();
                Change::Withdraw
            }
            Some(lapse) => {
                let mut expires = lapse.map(|h| at + Duration::hours(h));
                if distinct {
                    let own = Duration::hours(HOURS + 1) + Duration::seconds(k as i64);
                    expires = Some(expires.unwrap_or(at) + own);
                }
                ledger.grant(s.purpose, at, expires, ui()).unwrap();
                Change::Grant { expires }
            }
        };
        reference.entries.push(ConsentEntry {
            purpose: s.purpose,
            change,
            at,
            evidence: ui(),
        });
    }
    (ledger, reference)
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    /// Signals in time order: storing changes only changes no answer of
    /// `state` or `usable`, at any instant.
    #[test]
    fn in_time_order_every_answer_is_that_of_the_full_history(
        mut signals in proptest::collection::vec(signal(), 0..24),
    ) {
        signals.sort_by_key(|s| s.at);
        let (ledger, reference) = apply(&signals, false);
        prop_assert!(ledger.len() <= reference.entries.len());
        let probes = probes();
        for p in PURPOSES {
            for &t in &probes {
                prop_assert_eq!(ledger.state(p, t), reference.state(p, t), "{} at {}", p, t);
                for &now in probes.iter().filter(|&&now| now >= t) {
                    prop_assert_eq!(
                        ledger.usable(p, t, now), reference.usable(p, t, now),
                        "{} recorded at {}, used at {}", p, t, now
                    );
                }
            }
        }
    }

    /// Recording's shortcut (`scan_fast`, from the kept indexes of the
    /// latest entry and the latest withdrawal) answers exactly as the scan
    /// of every entry, after signals in any order, merges and erasures.
    #[test]
    fn the_recording_shortcut_is_the_scan(
        signals in proptest::collection::vec(signal(), 0..24),
        others in proptest::collection::vec(signal(), 0..8),
        forget in proptest::option::of(0i64..48),
    ) {
        let (mut ledger, _) = apply(&signals, false);
        let (other, _) = apply(&others, true);
        ledger.merge(&other);
        if let Some(h) = forget {
            ledger.forget_through(hour(h));
        }
        let probes = probes();
        for p in PURPOSES {
            for &at in &probes {
                for &now in probes.iter().filter(|&&now| now >= at) {
                    prop_assert_eq!(
                        ledger.scan_fast(p, at, now), ledger.scan(p, at, now),
                        "{} recorded at {}, used at {}", p, at, now
                    );
                }
            }
        }
    }

    /// Signals in any order (late ones included): from the latest signal on,
    /// the state is that of the full history (the latest grant and
    /// withdrawal received are re-stored when a late change would otherwise
    /// outlast them), and data is never more usable. It is exactly as usable
    /// when no grant repeated the one in force: a repeated grant that is not
    /// the latest one is not remembered, so data recorded between it and
    /// the next stored grant may read as not granted when recorded.
    #[test]
    fn in_any_order_the_present_state_is_that_of_the_full_history(
        signals in proptest::collection::vec(signal(), 0..32),
        distinct in proptest::bool::ANY,
    ) {
        let (ledger, reference) = apply(&signals, distinct);
        let latest = signals.iter().map(|s| hour(s.at)).max().unwrap_or_else(|| hour(0));
        let probes = probes();
        for p in PURPOSES {
            // The bound behind `MAX_STORED_ENTRIES`: a stored withdrawal
            // follows a grant or starts the history.
            let count = |w: bool| {
                ledger.entries().iter().filter(|e| e.purpose == p && (e.change == Change::Withdraw) == w).count()
            };
            prop_assert!(count(true) <= count(false) + 1, "{} withdrawals, {} grants of {}", count(true), count(false), p);
            for &now in probes.iter().filter(|&&now| now >= latest) {
                prop_assert_eq!(ledger.state(p, now), reference.state(p, now), "{} at {}", p, now);
                for &at in &probes {
                    let (got, want) = (ledger.usable(p, at, now), reference.usable(p, at, now));
                    prop_assert!(!got || want, "{} recorded at {}, used at {}: usable only after coalescing", p, at, now);
                    if distinct {
                        prop_assert_eq!(got, want, "{} recorded at {}, used at {}", p, at, now);
                    }
                }
            }
        }
    }

    /// The join: the more restrictive state at every instant ("expired" may
    /// stand for "never asked"), usable exactly where both sides agree, and
    /// no longer than both sides together.
    #[test]
    fn merge_is_the_join_and_no_longer_than_both(
        a in proptest::collection::vec(signal(), 0..16),
        b in proptest::collection::vec(signal(), 0..16),
    ) {
        let (a, _) = apply(&a, false);
        let (b, _) = apply(&b, false);
        let mut joined = a.clone();
        prop_assert_eq!(joined.merge(&b), None);
        prop_assert!(joined.len() <= a.len() + b.len(), "{} > {} + {}", joined.len(), a.len(), b.len());
        let mut other_way = b.clone();
        other_way.merge(&a);
        let probes = probes();
        for p in PURPOSES {
            for &t in &probes {
                let (sa, sb) = (a.state(p, t), b.state(p, t));
                let want = if sb.restriction() > sa.restriction() { sb } else { sa };
                for j in [&joined, &other_way] {
                    let got = j.state(p, t);
                    prop_assert!(
                        got == want || (want == ConsentState::NeverAsked && got == ConsentState::Expired),
                        "{} at {}: {:?}, want {:?} ({:?} and {:?})", p, t, got, want, sa, sb
                    );
                }
                for &now in probes.iter().filter(|&&now| now >= t) {
                    let want = a.usable(p, t, now) && b.usable(p, t, now);
                    prop_assert_eq!(joined.usable(p, t, now), want, "{} recorded at {}, used at {}", p, t, now);
                    prop_assert_eq!(other_way.usable(p, t, now), want);
                }
            }
        }
    }

    /// Serde is the identity, in JSON and in a non-self-describing format,
    /// and merging is idempotent.
    #[test]
    fn round_trips_and_merge_with_itself(signals in proptest::collection::vec(signal(), 0..24)) {
        let (ledger, _) = apply(&signals, false);
        let json = serde_json::to_string(&ledger).unwrap();
        prop_assert_eq!(&serde_json::from_str::<ConsentLedger>(&json).unwrap(), &ledger);
        let mut twice = ledger.clone();
        twice.merge(&ledger);
        let probes = probes();
        for p in PURPOSES {
            for &t in &probes {
                prop_assert_eq!(twice.state(p, t), ledger.state(p, t));
            }
        }
    }
}
