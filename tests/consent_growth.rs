//! The consent ledger's growth is bounded on every path: the stories behind
//! the bounds in `consent::{MAX_LEDGER_ENTRIES, MAX_STORED_ENTRIES}`.
//!
//! Found on 0.1: a CMP that alternated two 43.7 KB TC strings 2,000 times
//! left 16,000 entries, each with its own copy of the raw string (1.37 GB
//! resident). Here the same story runs 10,000 times, and every other path
//! (repeated signals, withdrawals past the cap, merges) is held to the bound.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use tactful::consent::tcf::{CoreSegment, Subject, TcString, VendorEncoding, VendorSet};
use tactful::consent::{TcfOutcome, MAX_LEDGER_ENTRIES, MAX_STORED_ENTRIES};
use tactful::{Change, ConsentError, ConsentLedger, ConsentState, Evidence, Purpose};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const OUR_VENDOR: u16 = 755;
/// Purposes that need consent: the most a full ledger grows by in time order.
const CONSENT_PURPOSES: usize = 7;

fn t0() -> OffsetDateTime {
    datetime!(2026-06-01 12:00 UTC)
}

fn ui(where_: &str) -> Evidence {
    Evidence::Ui(where_.into())
}

/// A TC string as large as the one in the report (about 45 KB): vendor
/// consents and legitimate interests each as 4,095 two-id ranges (the most
/// a section holds, 33 bits each): ids `4k + 3` and `4k + 4`.
fn big_tc_string(purposes: &[u8]) -> (TcString, String) {
    let vendors = || {
        let mut set =
            VendorSet::from_ids((0..4_095u16).flat_map(|k| [4 * k + 3, 4 * k + 4])).unwrap();
        set.set_encoding(VendorEncoding::Range);
        set
    };
    let mut core = CoreSegment::new(t0());
    core.cmp_id = 880;
    core.purposes_consent = purposes.iter().copied().collect();
    core.vendor_consents = vendors();
    core.vendor_legitimate_interests = vendors();
    let tc = TcString::new(core);
    let raw = tc.encode().unwrap();
    assert!(tc.vendor_consent(OUR_VENDOR));
    (tc, raw)
}

/// Allows personalization, marketing and measurement for our vendor.
fn yes() -> (TcString, String) {
    big_tc_string(&[1, 3, 4, 5, 6, 7, 8, 9])
}

/// Refuses them (only storage access, purpose 1).
fn no() -> (TcString, String) {
    big_tc_string(&[1])
}

/// Serialized size, the figure the bounds below are stated in.
fn json_len(ledger: &ConsentLedger) -> usize {
    serde_json::to_string(ledger).unwrap().len()
}

/// The largest JSON a stored entry takes here: a purpose name, a change
/// without expiry, a whole-second instant and a one-digit string index
/// (`{"purpose":"personalization","change":{"grant":{"expires":null}},
/// "at":"2026-06-01T12:00:00Z","evidence":{"consent_string":0}},` is 125).
const JSON_PER_ENTRY: usize = 140;

#[test]
fn alternating_two_large_tc_strings_ten_thousand_times_stays_within_the_bounds() {
    let (tc_yes, raw_yes) = yes();
    let (tc_no, raw_no) = no();
    let string_len = raw_yes.len().max(raw_no.len());
    assert!(string_len > 43_000, "the strings are {string_len} bytes");

    let mut ledger = ConsentLedger::default();
    let mut refused = 0;
    let started = Instant::now();
    let mut now = t0();
    for _ in 0..10_000 {
        for (tc, raw) in [(&tc_yes, &raw_yes), (&tc_no, &raw_no)] {
            now += Duration::minutes(1);
            let TcfOutcome {
                verdicts,
                changed,
                refused: not_applied,
                ..
            } = ledger.apply_tcf(tc, raw, Subject::Vendor(OUR_VENDOR), now);
            // Nothing is lost silently: a verdict either agrees with the
            // ledger, changed it, or is reported as refused.
            for (purpose, allowed) in verdicts {
                let state = ledger.state(purpose, now);
                let reported = not_applied.iter().any(|(p, _)| *p == purpose);
                assert!(
                    state.is_granted() == allowed || reported,
                    "{purpose} is {state} at {now}, the string says {allowed}"
                );
                assert!(!(changed.contains(&purpose) && reported));
            }
            for (_, e) in &not_applied {
                assert_eq!(
                    *e,
                    ConsentError::TooManyEntries {
                        max: MAX_LEDGER_ENTRIES
                    }
                );
            }
            refused += not_applied.len();
        }
    }
    let elapsed = started.elapsed();

    let entries = ledger.len();
    let bytes = json_len(&ledger);
    eprintln!(
        "20,000 applications of two {string_len}-byte TC strings: {entries} entries, \
         {bytes} JSON bytes, {} distinct strings, {refused} grants refused, {elapsed:?}",
        ledger.consent_strings().len()
    );
    // In time order: the grant cap plus one withdrawal per purpose.
    assert!(
        entries <= MAX_LEDGER_ENTRIES + CONSENT_PURPOSES,
        "{entries}"
    );
    assert!(refused > 0, "the cap was reached and reported");
    // Each string is held once, however many entries cite it.
    assert_eq!(ledger.consent_strings().len(), 2);
    // The stored size: both strings once, plus a small cost per entry.
    let bound = 2 * string_len + entries * JSON_PER_ENTRY + 200;
    assert!(bytes <= bound, "{bytes} JSON bytes, bound {bound}");
    // 0.1 stored one copy per entry: 10,000 entries would be ~440 MB.
    assert!(bytes < 2_000_000, "{bytes}");
    // Once full, the refusals still hold: saying no always works.
    assert_eq!(
        ledger.state(Purpose::Marketing, now),
        ConsentState::Withdrawn
    );
}

#[test]
fn reapplying_the_same_string_stores_nothing() {
    let (tc, raw) = yes();
    let mut ledger = ConsentLedger::default();
    let first = ledger.apply_tcf(&tc, &raw, Subject::Vendor(OUR_VENDOR), t0());
    assert_eq!(
        first.changed,
        [
            Purpose::Personalization,
            Purpose::Marketing,
            Purpose::Measurement,
            Purpose::Location
        ]
    );
    let stored = ledger.len();
    let bytes = json_len(&ledger);
    for minutes in 1..=1_000 {
        // A fresh copy of the same text each page view, as a server gets it.
        let again = raw.clone();
        let outcome = ledger.apply_tcf(
            &tc,
            &again,
            Subject::Vendor(OUR_VENDOR),
            t0() + Duration::minutes(minutes),
        );
        assert!(outcome.changed.is_empty(), "{outcome:?}");
        assert!(outcome.refused.is_empty(), "{outcome:?}");
    }
    assert_eq!(ledger.len(), stored);
    assert_eq!(json_len(&ledger), bytes);
    assert_eq!(ledger.consent_strings(), [raw.as_str()]);
}

#[test]
fn global_privacy_control_on_every_request_stores_one_withdrawal_each() {
    let mut ledger = ConsentLedger::default();
    ledger
        .grant(Purpose::Marketing, t0(), None, ui("banner"))
        .unwrap();
    let first = ledger.apply_gpc(t0() + Duration::hours(1));
    // Partner data was never asked for: it stays never asked.
    assert_eq!(first, [Purpose::Marketing]);
    assert_eq!(ledger.len(), 2);
    let second = ledger.apply_gpc(t0() + Duration::hours(2));
    assert!(second.is_empty());
    assert_eq!(ledger.len(), 2);
    for minutes in 0..500 {
        ledger.apply_gpc(t0() + Duration::hours(3) + Duration::minutes(minutes));
    }
    assert_eq!(ledger.len(), 2);
    assert_eq!(
        ledger.state(Purpose::PartnerData, t0() + Duration::hours(9)),
        ConsentState::NeverAsked
    );
    // The latest signal received is still known, with its evidence.
    let latest = ledger.latest_received(Purpose::Marketing);
    assert!(latest.iter().any(|e| e.change == Change::Withdraw
        && e.at == t0() + Duration::hours(3) + Duration::minutes(499)
        && e.evidence == Evidence::GlobalPrivacyControl));
}

/// A ledger holding `MAX_LEDGER_ENTRIES` grants of marketing, each with its
/// own expiry (so none repeats the one in force), one second apart.
fn full_of_grants() -> (ConsentLedger, OffsetDateTime) {
    let mut ledger = ConsentLedger::default();
    let mut at = t0();
    for k in 0..MAX_LEDGER_ENTRIES {
        at = t0() + Duration::seconds(k as i64);
        ledger
            .grant(
                Purpose::Marketing,
                at,
                Some(at + Duration::days(30)),
                ui("settings"),
            )
            .unwrap();
    }
    assert_eq!(ledger.len(), MAX_LEDGER_ENTRIES);
    (ledger, at)
}

#[test]
fn a_grant_at_the_cap_is_refused_with_the_typed_error_and_changes_nothing() {
    let (mut ledger, last) = full_of_grants();
    let before = ledger.clone();
    let later = last + Duration::hours(1);
    let err = ledger
        .grant(Purpose::Personalization, later, None, ui("settings"))
        .unwrap_err();
    assert_eq!(
        err,
        ConsentError::TooManyEntries {
            max: MAX_LEDGER_ENTRIES
        }
    );
    assert_eq!(
        err.to_string(),
        "the consent ledger already holds 10000 entries"
    );
    assert_eq!(ledger, before);
    assert_eq!(
        ledger.state(Purpose::Personalization, later),
        ConsentState::NeverAsked
    );

    // A TC string's grants are refused the same way, and reported.
    let (tc, raw) = yes();
    let outcome = ledger.apply_tcf(&tc, &raw, Subject::Vendor(OUR_VENDOR), later);
    let refused: Vec<Purpose> = outcome.refused.iter().map(|(p, _)| *p).collect();
    assert_eq!(refused, [Purpose::Personalization, Purpose::Measurement]);
    // Marketing is granted already (with an expiry): nothing to apply.
    assert!(outcome.changed.contains(&Purpose::Location), "{outcome:?}");
}

#[test]
fn withdrawals_past_the_cap_are_never_refused_and_stay_within_the_bound() {
    let (mut ledger, last) = full_of_grants();
    // In time order: every purpose, many times, from several sources.
    let mut at = last;
    for k in 0..10_000 {
        at += Duration::seconds(1);
        let purpose = Purpose::ALL[1 + k % CONSENT_PURPOSES];
        ledger.withdraw(purpose, at, ui("settings")).unwrap();
        ledger.apply_gpc(at);
        assert_eq!(ledger.state(purpose, at), ConsentState::Withdrawn);
    }
    assert!(
        ledger.len() <= MAX_LEDGER_ENTRIES + CONSENT_PURPOSES,
        "{}",
        ledger.len()
    );
    // Late withdrawals (dated between earlier grants) still count, each
    // where it changes the state; the ledger stays within its bound.
    for k in (0..MAX_LEDGER_ENTRIES as i64).step_by(4) {
        let between = t0() + Duration::seconds(k) + Duration::milliseconds(500);
        ledger
            .withdraw(Purpose::Marketing, between, ui("support call"))
            .unwrap();
        assert_eq!(
            ledger.state(Purpose::Marketing, between),
            ConsentState::Withdrawn
        );
    }
    assert!(ledger.len() <= MAX_STORED_ENTRIES, "{}", ledger.len());
    // Repeating them stores nothing more.
    let len = ledger.len();
    for k in (0..2_000).step_by(4) {
        let between = t0() + Duration::seconds(k) + Duration::milliseconds(700);
        ledger
            .withdraw(Purpose::Marketing, between, ui("support call"))
            .unwrap();
    }
    assert_eq!(ledger.len(), len);
}

/// The more restrictive of two states ("expired" may stand for "never
/// asked": both mean ask, as `merge` documents).
fn joined(a: ConsentState, b: ConsentState) -> ConsentState {
    let rank = |s: ConsentState| match s {
        ConsentState::Granted => 0,
        ConsentState::NeverAsked => 1,
        ConsentState::Expired => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn agrees(got: ConsentState, want: ConsentState) -> bool {
    got == want || (want == ConsentState::NeverAsked && got == ConsentState::Expired)
}

/// A ledger filled in time order until grants are refused: grants with and
/// without expiry and withdrawals of two purposes, `phase` seconds into
/// each minute, then a withdrawal of every purpose.
fn full_in_time_order(phase: i64, seed: u64) -> ConsentLedger {
    let mut ledger = ConsentLedger::default();
    let mut x = seed;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        x >> 33
    };
    let mut minute = 0;
    loop {
        minute += 1;
        let at = t0() + Duration::minutes(minute) + Duration::seconds(phase);
        let purpose = [Purpose::Marketing, Purpose::Personalization][(next() % 2) as usize];
        let result = match next() % 3 {
            0 => ledger.withdraw(purpose, at, ui("settings")).map(|_| ()),
            1 => ledger.grant(purpose, at, None, ui("banner")).map(|_| ()),
            _ => {
                let lapse = Duration::seconds(30 + (next() % 120) as i64);
                ledger
                    .grant(purpose, at, Some(at + lapse), ui("banner"))
                    .map(|_| ())
            }
        };
        if result.is_err() {
            break;
        }
    }
    let end = t0() + Duration::minutes(minute + 1);
    for purpose in Purpose::ALL.into_iter().filter(|p| p.needs_consent()) {
        ledger.withdraw(purpose, end, ui("settings")).unwrap();
    }
    assert!(ledger.len() >= MAX_LEDGER_ENTRIES);
    assert!(ledger.len() <= MAX_LEDGER_ENTRIES + CONSENT_PURPOSES);
    ledger
}

/// Instants around every entry of both ledgers, thinned to about `n`.
fn sample_instants(a: &ConsentLedger, b: &ConsentLedger, n: usize) -> Vec<OffsetDateTime> {
    let mut all: Vec<OffsetDateTime> = a
        .entries()
        .iter()
        .chain(b.entries())
        .flat_map(|e| {
            let mut v = vec![
                e.at - Duration::nanoseconds(1),
                e.at,
                e.at + Duration::seconds(1),
            ];
            if let Change::Grant { expires: Some(x) } = e.change {
                v.extend([x - Duration::nanoseconds(1), x]);
            }
            v
        })
        .collect();
    all.sort();
    all.dedup();
    let step = (all.len() / n).max(1);
    all.into_iter().step_by(step).collect()
}

#[test]
fn merging_two_full_ledgers_stays_within_the_bound_with_the_same_answers() {
    let a = full_in_time_order(0, 1);
    let b = full_in_time_order(20, 2);
    let mut merged = a.clone();
    let started = Instant::now();
    let folded = merged.merge(&b);
    eprintln!(
        "merge of {} and {} entries: {} entries in {:?}",
        a.len(),
        b.len(),
        merged.len(),
        started.elapsed()
    );
    assert_eq!(folded, None);
    assert!(merged.len() <= MAX_STORED_ENTRIES, "{}", merged.len());
    assert!(merged.len() <= a.len() + b.len());

    let samples = sample_instants(&a, &b, 500);
    for purpose in [Purpose::Marketing, Purpose::Personalization] {
        for &t in &samples {
            let want = joined(a.state(purpose, t), b.state(purpose, t));
            let got = merged.state(purpose, t);
            assert!(agrees(got, want), "{purpose} at {t}: {got}, want {want}");
        }
        // Data usable after the merge exactly where both records allow it.
        for pair in samples.windows(12).step_by(5) {
            let (at, now) = (pair[0], pair[11]);
            assert_eq!(
                merged.usable(purpose, at, now),
                a.usable(purpose, at, now) && b.usable(purpose, at, now),
                "{purpose} recorded at {at}, used at {now}"
            );
        }
    }
    // Merging again changes nothing.
    let mut again = merged.clone();
    again.merge(&b);
    assert_eq!(again.len(), merged.len());
}

/// A ledger as stored after earlier merges, holding `MAX_STORED_ENTRIES`
/// grants of marketing, each lapsing: granted for 90 of every 120 seconds,
/// starting `phase` seconds in. Built through JSON, as a loader reads it.
fn stored_at_the_limit(phase: i64) -> ConsentLedger {
    let entries: Vec<String> = (0..MAX_STORED_ENTRIES as i64)
        .map(|k| {
            let at = t0() + Duration::seconds(120 * k + phase);
            let expires = at + Duration::seconds(90);
            format!(
                r#"{{"purpose":"marketing","change":{{"grant":{{"expires":"{}"}}}},"at":"{}","evidence":{{"import":"crm"}}}}"#,
                rfc(expires),
                rfc(at)
            )
        })
        .collect();
    let json = format!(
        r#"{{"consent_strings":[],"entries":[{}],"latest_received":[]}}"#,
        entries.join(",")
    );
    serde_json::from_str(&json).unwrap()
}

fn rfc(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn merging_two_ledgers_already_at_the_limit_folds_only_the_oldest_history() {
    // Interleaved so that the join has a granted stretch per grant of
    // either side: twice what either holds.
    let a = stored_at_the_limit(0);
    let b = stored_at_the_limit(60);
    let mut merged = a.clone();
    let f = merged.merge(&b).expect("the join does not fit: folded");
    assert!(merged.len() <= MAX_STORED_ENTRIES, "{}", merged.len());
    let samples = sample_instants(&a, &b, 600);
    assert!(samples.iter().any(|&t| t < f) && samples.iter().any(|&t| t >= f));
    let p = Purpose::Marketing;
    for &t in &samples {
        let want = joined(a.state(p, t), b.state(p, t));
        let got = merged.state(p, t);
        if t >= f {
            // Every answer from the fold on is the join's.
            assert!(
                agrees(got, want),
                "at {t} (fold at {f}): {got}, want {want}"
            );
        } else {
            // Before it, nothing reads as granted: more restrictive only.
            assert!(!got.is_granted(), "at {t} before the fold at {f}: {got}");
        }
    }
    for pair in samples.windows(8).step_by(5) {
        let (at, now) = (pair[0], pair[7]);
        let want = a.usable(p, at, now) && b.usable(p, at, now);
        let got = merged.usable(p, at, now);
        if at >= f {
            assert_eq!(got, want, "recorded at {at}, used at {now}");
        } else {
            assert!(!got, "recorded at {at} before the fold at {f}");
        }
    }
}

#[test]
fn the_ledger_round_trips_through_json_and_postcard() {
    let (tc_yes, raw_yes) = yes();
    let (tc_no, raw_no) = no();
    let mut ledger = ConsentLedger::default();
    let mut now = t0();
    for k in 0..50 {
        now += Duration::minutes(7);
        let (tc, raw) = if k % 2 == 0 {
            (&tc_yes, &raw_yes)
        } else {
            (&tc_no, &raw_no)
        };
        ledger.apply_tcf(tc, raw, Subject::Vendor(OUR_VENDOR), now);
        ledger.apply_gpc(now + Duration::seconds(1));
        ledger
            .grant(
                Purpose::Location,
                now + Duration::seconds(2),
                Some(now + Duration::days(1)),
                ui("map"),
            )
            .unwrap();
    }
    ledger
        .withdraw(
            Purpose::CrossSite,
            now,
            Evidence::Import("crm \"q\"".into()),
        )
        .unwrap();

    let json = serde_json::to_string(&ledger).unwrap();
    let from_json: ConsentLedger = serde_json::from_str(&json).unwrap();
    assert_eq!(from_json, ledger);
    assert_eq!(serde_json::to_string(&from_json).unwrap(), json);
    // Each string once in the stored form.
    assert_eq!(json.matches(raw_yes.as_str()).count(), 1);
    assert_eq!(json.matches(raw_no.as_str()).count(), 1);

    let bytes = postcard::to_allocvec(&ledger).unwrap();
    let from_postcard: ConsentLedger = postcard::from_bytes(&bytes).unwrap_or_else(|e| {
        panic!("{e}: instants (serde_util::instant) must be readable from binary formats")
    });
    assert_eq!(from_postcard, ledger);
    assert_eq!(from_postcard, from_json);
    assert_eq!(from_postcard.consent_strings().len(), 2);
}

#[test]
fn a_stored_ledger_is_checked_when_read() {
    let entry = |index: u32| {
        format!(
            r#"{{"purpose":"marketing","change":"withdraw","at":"2026-06-01T12:00:00Z","evidence":{{"consent_string":{index}}}}}"#
        )
    };
    let ledger = |strings: &str, entries: &str| {
        format!(r#"{{"consent_strings":[{strings}],"entries":[{entries}],"latest_received":[]}}"#)
    };
    let err = |json: String| {
        serde_json::from_str::<ConsentLedger>(&json)
            .unwrap_err()
            .to_string()
    };
    assert!(serde_json::from_str::<ConsentLedger>(&ledger(r#""CP""#, &entry(0))).is_ok());
    let out_of_range = err(ledger(r#""CP""#, &entry(1)));
    assert!(
        out_of_range.contains("entries[0].evidence: consent string 1 out of range (1 strings)"),
        "{out_of_range}"
    );
    let unused = err(ledger(r#""CP","CQ""#, &entry(0)));
    assert!(
        unused.contains("consent_strings[1] is cited by no entry"),
        "{unused}"
    );
    let repeated = err(ledger(
        r#""CP","CP""#,
        &format!("{},{}", entry(0), entry(1)),
    ));
    assert!(
        repeated.contains("consent_strings[1] repeats consent_strings[0]"),
        "{repeated}"
    );
    let too_long = err(ledger(
        r#""CP""#,
        &vec![entry(0); MAX_STORED_ENTRIES + 1].join(","),
    ));
    assert!(
        too_long.contains("at most 20016 can be stored"),
        "{too_long}"
    );

    // The same check in a binary format: an error, not a panic.
    let bytes = postcard::to_allocvec(&StoredMirror {
        consent_strings: vec!["CP".into()],
        entries: vec![EntryMirror {
            purpose: Purpose::Marketing,
            change: Change::Withdraw,
            at: "2026-06-01T12:00:00Z".into(),
            evidence: EvidenceMirror::ConsentString(7),
        }],
        latest_received: vec![],
    })
    .unwrap();
    // Postcard keeps no message: a custom error is the ledger's own check.
    let e = postcard::from_bytes::<ConsentLedger>(&bytes).unwrap_err();
    assert_eq!(
        e,
        postcard::Error::SerdeDeCustom,
        "{e} (instants must be readable from binary formats)"
    );
}

/// The stored form of a ledger, written by hand to break it.
#[derive(serde::Serialize)]
struct StoredMirror {
    consent_strings: Vec<String>,
    entries: Vec<EntryMirror>,
    latest_received: Vec<EntryMirror>,
}

#[derive(serde::Serialize)]
struct EntryMirror {
    purpose: Purpose,
    change: Change,
    /// Instants are written as RFC 3339 text.
    at: String,
    evidence: EvidenceMirror,
}

#[derive(serde::Serialize)]
#[allow(dead_code)]
enum EvidenceMirror {
    Ui(String),
    ConsentString(u32),
}

#[test]
fn the_new_public_types_are_thread_safe_values() {
    fn assert_traits<T: Send + Sync + std::fmt::Debug + Clone + PartialEq>() {}
    assert_traits::<TcfOutcome>();
    assert_traits::<ConsentLedger>();
    assert_traits::<Evidence>();
}
