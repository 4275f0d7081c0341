//! Bounds: every limit refuses with a typed error, before the input costs
//! memory or stack, and nothing already stored is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "tcf")]
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

/// A profile with four views of `a/x` at `t0 + 0..4 h`.
fn four_views(e: &Engine) -> Profile {
    let x = e.taxonomy().require("a/x").unwrap();
    let mut p = person();
    let t0 = datetime!(2026-01-02 0:00 UTC);
    for k in 0..4 {
        let at = t0 + Duration::hours(k);
        e.record(&mut p, Event::new(x, Signal::View, at), at)
            .unwrap();
    }
    p
}

#[test]
fn loading_a_profile_checks_size_counts_and_interests() {
    let e = engine(Limits::default());
    let mut p = four_views(&e);
    let now = datetime!(2026-01-03 0:00 UTC);
    let json = e.save_json(&p).unwrap();
    let bytes = e.save_binary(&p).unwrap();
    assert_eq!(e.load_profile(&json, now).unwrap(), p);
    assert_eq!(e.load_profile_binary(&bytes, now).unwrap(), p);

    let small = engine(Limits {
        max_profile_bytes: 100,
        ..Limits::default()
    });
    assert!(json.len() > 100);
    assert!(matches!(
        small.load_profile(&json, now),
        Err(ProfileError::TooLarge {
            limit: Limit::ProfileBytes,
            ..
        })
    ));
    let tight = engine(Limits {
        max_profile_bytes: bytes.len() - 1,
        ..Limits::default()
    });
    assert_eq!(
        tight.load_profile_binary(&bytes, now).unwrap_err(),
        ProfileError::TooLarge {
            limit: Limit::ProfileBytes,
            actual: bytes.len(),
            max: bytes.len() - 1
        }
    );
    let few = engine(Limits {
        max_events: 3,
        ..Limits::default()
    });
    let too_many = ProfileError::TooLarge {
        limit: Limit::Events,
        actual: 4,
        max: 3,
    };
    assert_eq!(few.load_profile(&json, now).unwrap_err(), too_many);
    assert_eq!(few.load_profile_binary(&bytes, now).unwrap_err(), too_many);

    // A second interest against a limit of one.
    let y = e.taxonomy().require("a/y").unwrap();
    let at = datetime!(2026-01-02 6:00 UTC);
    e.record(&mut p, Event::new(y, Signal::View, at), at)
        .unwrap();
    let one = engine(Limits {
        max_interests: 1,
        ..Limits::default()
    });
    let two = ProfileError::TooLarge {
        limit: Limit::Interests,
        actual: 2,
        max: 1,
    };
    assert_eq!(
        one.load_profile(&e.save_json(&p).unwrap(), now)
            .unwrap_err(),
        two
    );
    assert_eq!(
        one.load_profile_binary(&e.save_binary(&p).unwrap(), now)
            .unwrap_err(),
        two
    );

    // Errors name the field.
    let err = e
        .load_profile(
            r#"{"format": "tactful-profile", "version": 2, "id": "p", "level": "loud"}"#,
            now,
        )
        .unwrap_err();
    assert!(
        err.to_string().starts_with("level: unknown variant"),
        "{err}"
    );
}

/// An interest the loading engine's taxonomy lacks is neither refused nor
/// re-targeted nor dropped: its events are kept as orphans, by path, and
/// written back, so the original engine reads the original profile again.
#[test]
fn an_interest_the_taxonomy_lacks_is_kept_as_orphans_and_written_back() {
    let e = engine(Limits::default());
    let p = four_views(&e);
    let now = datetime!(2026-01-03 0:00 UTC);
    let tiny = Engine::new(
        Taxonomy::builder().interest("a").build().unwrap(),
        DecayPolicy::default(),
    );
    let t0 = datetime!(2026-01-02 0:00 UTC);
    let stored = [
        ("json", e.save_json(&p).unwrap().into_bytes()),
        ("binary", e.save_binary(&p).unwrap()),
    ];
    for (form, data) in stored {
        let back = match form {
            "json" => tiny.load_profile(std::str::from_utf8(&data).unwrap(), now),
            _ => tiny.load_profile_binary(&data, now),
        }
        .unwrap();
        assert_eq!(back.stored_events(), 0, "{form}: nothing re-targeted");
        assert_eq!(back.orphans().paths(), ["a/x"], "{form}");
        let orphaned: Vec<_> = back.orphans().events().collect();
        assert_eq!(orphaned.len(), 4, "{form}");
        for (k, o) in orphaned.iter().enumerate() {
            assert_eq!(o.interest, "a/x");
            assert_eq!(o.signal, Signal::View);
            assert_eq!(o.at, t0 + Duration::hours(k as i64));
            assert_eq!((o.source, o.context), (Source::FirstParty, Context::OnSite));
            assert!(!o.gift);
            assert_eq!(o.weight, Weight::ONE);
        }
        // Nothing of the orphan counts for the ancestor `a` the tiny taxonomy has.
        let a = tiny.taxonomy().require("a").unwrap();
        assert_eq!(tiny.scores(&back, now).score(a), 0.0, "{form}");

        let again = tiny.load_profile(&tiny.save_json(&back).unwrap(), now);
        assert_eq!(again.unwrap(), back, "{form}: orphans round-trip");
        assert_eq!(
            e.load_profile(&tiny.save_json(&back).unwrap(), now)
                .unwrap(),
            p,
            "{form}: JSON written back by the tiny engine"
        );
        assert_eq!(
            e.load_profile_binary(&tiny.save_binary(&back).unwrap(), now)
                .unwrap(),
            p,
            "{form}: binary written back by the tiny engine"
        );
    }
}

/// Suppressions, tombstones and declared preferences have no count limit:
/// adding them is never refused (they protect the person), so loading takes
/// as many as were written, far beyond the 1,024 that 0.1 refused.
#[test]
fn protective_data_loads_in_any_number() {
    let e = engine(Limits::default());
    let tax = e.taxonomy();
    let ids = [
        tax.require("a").unwrap(),
        tax.require("a/x").unwrap(),
        tax.require("a/y").unwrap(),
        tax.require("b").unwrap(),
    ];
    let mut p = person();
    let t0 = datetime!(2026-01-02 0:00 UTC);
    for k in 0..3_000i64 {
        let since = t0 + Duration::minutes(k);
        let scope = match k % 3 {
            0 => Scope::Channel(Channel::Email),
            1 => Scope::Purpose(Purpose::Marketing),
            _ => Scope::Interest(ids[(k % 4) as usize]),
        };
        let s = Suppression::new(scope, SuppressionReason::OptOut, since)
            .until(since + Duration::hours(1))
            .unwrap();
        e.suppress(&mut p, s, since);
    }
    assert_eq!(p.suppressions().len(), 3_000);
    for (k, id) in ids.iter().enumerate() {
        p.like(*id, t0 + Duration::days(k as i64));
    }
    e.erase_interest(&mut p, ids[3], t0);
    e.erase_interest(&mut p, ids[1], t0 + Duration::days(1));
    let now = t0 + Duration::days(10);
    let json = e.save_json(&p).unwrap();
    assert_eq!(e.load_profile(&json, now).unwrap(), p);
    let bytes = e.save_binary(&p).unwrap();
    assert_eq!(e.load_profile_binary(&bytes, now).unwrap(), p);
}

#[test]
#[cfg(feature = "tcf")]
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

/// Withdrawing is never refused, so a ledger may hold more than
/// `MAX_LEDGER_ENTRIES` plus one withdrawal per purpose (here: a full
/// ledger, then the person says no to marketing nine more times). What the
/// ledger accepted, loading must accept: the profile is written, so it must
/// read back.
#[test]
fn a_ledger_grown_by_withdrawals_loads_back() {
    let e = engine(Limits::default());
    let mut p = Profile::new("p");
    let t = datetime!(2026-01-01 0:00 UTC);
    let ui = || Evidence::Ui("t".into());
    let others: Vec<Purpose> = Purpose::ALL
        .into_iter()
        .filter(|x| x.needs_consent() && *x != Purpose::Marketing)
        .collect();
    for x in &others {
        p.consent_mut().grant(*x, t, None, ui()).unwrap();
    }
    // Alternate until grants are refused: every entry changes the state.
    let mut k = 0i64;
    loop {
        let at = t + Duration::seconds(2 * k + 1);
        match p.consent_mut().grant(Purpose::Marketing, at, None, ui()) {
            Ok(_) => {}
            Err(ConsentError::TooManyEntries { .. }) => break,
            Err(other) => panic!("{other}"),
        }
        p.consent_mut()
            .withdraw(Purpose::Marketing, at + Duration::milliseconds(500), ui())
            .unwrap();
        k += 1;
    }
    // Saying no is never refused, even at the cap.
    let later = t + Duration::days(365);
    for x in &others {
        p.consent_mut().withdraw(*x, later, ui()).unwrap();
    }
    assert!(
        p.consent().len() > MAX_LEDGER_ENTRIES,
        "{}",
        p.consent().len()
    );
    assert!(p.consent().len() <= tactful::consent::MAX_STORED_ENTRIES);
    let now = later + Duration::days(1);
    // (Compared without `assert_eq!`: the debug output would be 10,000 entries long.)
    let json = e.save_json(&p).unwrap();
    match e.load_profile(&json, now) {
        Ok(back) => assert!(back == p, "JSON round trip differs"),
        Err(err) => panic!("JSON written by save_json refused: {err}"),
    }
    let bytes = e.save_binary(&p).unwrap();
    match e.load_profile_binary(&bytes, now) {
        Ok(back) => assert!(back == p, "binary round trip differs"),
        Err(err) => panic!("bytes written by save_binary refused: {err}"),
    }
}

/// Found by the law `a_removed_subtree_is_kept_as_orphans_and_given_back`:
/// the smaller engine writes known preferences first and orphaned ones
/// after, so a profile whose first preference was orphaned reads back with
/// its preferences in another order. They are a set: the profile is the
/// same.
#[test]
fn orphaned_preferences_come_back_as_the_same_set() {
    let e = engine(Limits::default());
    let (b, x) = (
        e.taxonomy().require("b").unwrap(),
        e.taxonomy().require("a/x").unwrap(),
    );
    let t = datetime!(2026-01-02 0:00 UTC);
    let mut p = person();
    p.dislike(b, t);
    p.like(x, t);
    let without_b = Engine::new(
        Taxonomy::builder()
            .interest("a/x")
            .interest("a/y")
            .build()
            .unwrap(),
        DecayPolicy::default(),
    );
    let back = without_b
        .load_profile(&e.save_json(&p).unwrap(), t)
        .unwrap();
    assert_eq!(back.orphans().paths(), ["b"]);
    let again = e
        .load_profile(&without_b.save_json(&back).unwrap(), t)
        .unwrap();
    assert_eq!(again, p);
}

/// Found by the fuzz target `profile_ops` (the inputs in
/// `fuzz/artifacts/profile_ops/` now fail this way): `Profile::like`,
/// `dislike`, `Engine::suppress` and `Engine::erase_interest` take any
/// `InterestId`, also one the engine's taxonomy does not have (here: an id
/// of a larger taxonomy). Such a preference is saved under the empty path
/// `""`, and loading turns it into an orphan named `""`: the round trip
/// silently changes the profile. Saving must refuse it with a typed error,
/// or the round trip must give the same profile.
#[test]
fn an_interest_id_the_taxonomy_lacks_is_not_saved_under_an_empty_path() {
    let e = engine(Limits::default());
    let larger = Taxonomy::builder()
        .interest("a/x")
        .interest("a/y")
        .interest("b")
        .interest("c/z")
        .build()
        .unwrap();
    let foreign = larger.require("c/z").unwrap();
    assert!(!e.taxonomy().contains(foreign));
    let t = datetime!(2026-01-02 0:00 UTC);
    let mut p = person();
    p.dislike(foreign, t);
    match e.save_json(&p) {
        Err(err) => assert!(!err.to_string().is_empty()),
        Ok(json) => {
            assert!(!json.contains(r#""interest":"""#), "{json}");
            assert_eq!(e.load_profile(&json, t).unwrap(), p);
        }
    }
    match e.save_binary(&p) {
        Err(err) => assert!(!err.to_string().is_empty()),
        Ok(bytes) => assert_eq!(e.load_profile_binary(&bytes, t).unwrap(), p),
    }
}
