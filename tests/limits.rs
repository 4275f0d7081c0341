//! Bounds: every limit refuses with a typed error, before the input costs
//! memory or stack, and nothing already stored is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tactful::consent::tcf::{TcString, TcfError, MAX_TC_STRING_LEN};
use tactful::consent::MAX_LEDGER_ENTRIES;
use tactful::*;
use time::macros::datetime;
use time::Duration;

fn engine(limits: Limits) -> Engine {
    let taxonomy = Taxonomy::builder()
        .interest("a/x")
        .interest("a/y")
        .interest("b")
        .build()
        .unwrap();
    Engine::new(taxonomy, DecayPolicy::default()).with_limits(limits)
}

fn person() -> Profile {
    let mut p = Profile::new("p");
    p.set_level(Level::FirstParty);
    p.consent_mut()
        .grant(
            Purpose::Personalization,
            datetime!(2026-01-01 0:00 UTC),
            None,
            Evidence::Ui("t".into()),
        )
        .unwrap();
    p
}

#[test]
fn events_and_interests_per_profile_are_bounded() {
    let e = engine(Limits {
        max_events: 5,
        max_interests: 2,
        ..Limits::default()
    });
    let tax = e.taxonomy();
    let (x, y, b) = (
        tax.require("a/x").unwrap(),
        tax.require("a/y").unwrap(),
        tax.require("b").unwrap(),
    );
    let mut p = person();
    let t0 = datetime!(2026-01-02 0:00 UTC);
    for k in 0..3 {
        let at = t0 + Duration::hours(k);
        e.record(&mut p, Event::new(x, Signal::View, at), at)
            .unwrap();
    }
    e.record(&mut p, Event::new(y, Signal::View, t0), t0)
        .unwrap();
    // A third interest is refused, a known one still fits.
    let err = e
        .record(&mut p, Event::new(b, Signal::View, t0), t0)
        .unwrap_err();
    assert_eq!(
        err.reason,
        RefusalReason::LimitReached {
            limit: Limit::Interests,
            max: 2
        }
    );
    e.record(&mut p, Event::new(y, Signal::Click, t0), t0)
        .unwrap();
    let err = e
        .record(&mut p, Event::new(x, Signal::Click, t0), t0)
        .unwrap_err();
    assert_eq!(
        err.reason,
        RefusalReason::LimitReached {
            limit: Limit::Events,
            max: 5
        }
    );
    assert_eq!(p.stored_events(), 5);
    assert_eq!(p.refusals().get(RefusalKind::Limit), 2);
}

#[test]
fn loading_a_profile_checks_size_counts_and_interests() {
    let e = engine(Limits::default());
    let x = e.taxonomy().require("a/x").unwrap();
    let mut p = person();
    let t0 = datetime!(2026-01-02 0:00 UTC);
    for k in 0..4 {
        let at = t0 + Duration::hours(k);
        e.record(&mut p, Event::new(x, Signal::View, at), at)
            .unwrap();
    }
    let json = serde_json::to_string(&p).unwrap();
    let now = t0 + Duration::days(1);
    let back = e.load_profile(&json, now).unwrap();
    assert_eq!(back, p);

    let small = engine(Limits {
        max_profile_bytes: 100,
        ..Limits::default()
    });
    assert!(matches!(
        small.load_profile(&json, now),
        Err(ProfileError::TooLarge {
            limit: Limit::ProfileBytes,
            ..
        })
    ));
    let few = engine(Limits {
        max_events: 3,
        ..Limits::default()
    });
    assert_eq!(
        few.load_profile(&json, now).unwrap_err(),
        ProfileError::TooLarge {
            limit: Limit::Events,
            actual: 4,
            max: 3
        }
    );
    let tiny = Engine::new(
        Taxonomy::builder().interest("a").build().unwrap(),
        DecayPolicy::default(),
    );
    assert!(matches!(
        tiny.load_profile(&json, now),
        Err(ProfileError::UnknownInterest {
            field: "events",
            ..
        })
    ));
    let err = e
        .load_profile(r#"{"id": "p", "level": "loud"}"#, now)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("level: unknown variant"),
        "{err}"
    );
}

#[test]
fn tc_strings_beyond_the_limit_are_refused_before_decoding() {
    let long = "C".repeat(MAX_TC_STRING_LEN + 1);
    assert_eq!(
        TcString::decode(&long),
        Err(TcfError::TooLong {
            len: MAX_TC_STRING_LEN + 1,
            max: MAX_TC_STRING_LEN
        })
    );
}

#[test]
fn the_ledger_refuses_grants_beyond_its_size_but_never_a_withdrawal() {
    let mut l = ConsentLedger::default();
    let t = datetime!(2026-01-01 0:00 UTC);
    for k in 0..MAX_LEDGER_ENTRIES {
        // Each with its own expiry: a grant equal to the one in force is not stored.
        l.grant(
            Purpose::Marketing,
            t + Duration::seconds(k as i64),
            Some(t + Duration::days(1) + Duration::seconds(k as i64)),
            Evidence::Ui("t".into()),
        )
        .unwrap();
    }
    assert_eq!(
        l.grant(Purpose::Marketing, t, None, Evidence::Ui("t".into()))
            .unwrap_err(),
        ConsentError::TooManyEntries {
            max: MAX_LEDGER_ENTRIES
        }
    );
    let later = t + Duration::days(365);
    l.withdraw(Purpose::Marketing, later, Evidence::Ui("t".into()))
        .unwrap();
    assert_eq!(l.state(Purpose::Marketing, later), ConsentState::Withdrawn);
}

#[test]
fn rule_size_and_depth_are_bounded() {
    let e = engine(Limits {
        max_rule_nodes: 10,
        max_rule_depth: 3,
        ..Limits::default()
    });
    let wide = Rule::any((0..20).map(|_| Rule::interest("a")));
    let err = e
        .clone()
        .with_segments(vec![SegmentDef::new("wide", wide)])
        .unwrap_err();
    assert!(matches!(
        err.0[0],
        SegmentError::TooManyRules { nodes: 21, max: 10 }
    ));
    let deep = Rule::negate(Rule::negate(Rule::negate(Rule::interest("a"))));
    let err = e
        .with_segments(vec![SegmentDef::new("deep", deep)])
        .unwrap_err();
    assert!(matches!(err.0[0], SegmentError::TooDeep { max: 3, .. }));
}

#[test]
fn weights_are_bounded_so_scores_stay_finite() {
    assert!(Weight::new(Weight::MAX).is_ok());
    assert_eq!(Weight::new(1e10), Err(InvalidWeight(1e10)));
    assert!(Weight::new(f64::MAX).is_err());
}
