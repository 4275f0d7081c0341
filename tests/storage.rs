//! A stored profile means the same thing forever: interests are named by
//! path, a taxonomy change re-targets nothing, removed interests are kept as
//! orphans, renames migrate, 0.1 profiles load only with their taxonomy, and
//! hostile stored input is refused by limits checked before their cost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use proptest::prelude::*;
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-03-01 9:00 UTC);

fn engine(paths: &[&str]) -> Engine {
    let mut b = Taxonomy::builder();
    for p in paths {
        b = b.interest(p);
    }
    Engine::new(b.build().unwrap(), DecayPolicy::default())
}

fn person(id: &str) -> Profile {
    let mut p = Profile::new(id);
    p.set_level(Level::FirstParty);
    for purpose in [Purpose::Personalization, Purpose::Marketing] {
        p.consent_mut()
            .grant(
                purpose,
                T0 - Duration::days(30),
                None,
                Evidence::Ui("signup".into()),
            )
            .unwrap();
    }
    p
}

fn view(e: &Engine, p: &mut Profile, path: &str, at: OffsetDateTime) {
    let id = e.taxonomy().require(path).unwrap();
    e.record(p, Event::new(id, Signal::View, at), at).unwrap();
}

/// Both stored forms, loaded by `to`.
fn both(from: &Engine, to: &Engine, p: &Profile, now: OffsetDateTime) -> [Profile; 2] {
    let json = from.save_json(p).unwrap();
    let bin = from.save_binary(p).unwrap();
    [
        to.load_profile(&json, now).unwrap(),
        to.load_profile_binary(&bin, now).unwrap(),
    ]
}

fn about(e: &Engine, path: &str) -> MessageRequest {
    MessageRequest::new(Channel::Post, Purpose::Marketing)
        .about(Target::Interest(e.taxonomy().require(path).unwrap()))
}

/// The story from the issue: a bereavement on `baby`, saved, one unrelated
/// interest added to the config, loaded again.
#[test]
fn an_unrelated_config_edit_keeps_a_bereavement_on_baby() {
    let v1 = engine(&["baby/food", "outdoor/hiking"]);
    let mut anna = person("anna");
    for d in 0..3 {
        view(&v1, &mut anna, "outdoor/hiking", T0 + Duration::days(d));
    }
    let loss = T0 + Duration::days(5);
    let baby = v1.taxonomy().require("baby").unwrap();
    v1.suppress(
        &mut anna,
        Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, loss),
        loss,
    );
    // `apparel` sorts before `baby`: every position after it moves.
    let v2 = engine(&["apparel/shoes", "baby/food", "outdoor/hiking"]);
    let now = loss + Duration::days(210);
    for back in both(&v1, &v2, &anna, now) {
        assert!(back.orphans().is_empty());
        let report = v2.report(&back, now);
        assert_eq!(report.suppressions.len(), 1);
        assert_eq!(
            report.suppressions[0].raw_scope,
            Scope::Interest(v2.taxonomy().require("baby").unwrap())
        );
        assert!(
            report.suppressions[0].scope.contains("baby"),
            "{}",
            report.suppressions[0].scope
        );
        let mailing = v2.decide(&back, &about(&v2, "baby/food"), now);
        assert!(
            mailing.reasons().iter().any(|r| matches!(
                r,
                DenyReason::Suppressed {
                    reason: SuppressionReason::Bereavement,
                    ..
                }
            )),
            "{mailing:?}"
        );
        // The hiking views still score as hiking, and nothing as baby food.
        let at = loss; // within the max age of the views
        let (old, new) = (v1.scores(&anna, at), v2.scores(&back, at));
        let hiking = |e: &Engine, s: &Scores| {
            s.get(e.taxonomy().require("outdoor/hiking").unwrap())
                .unwrap()
                .score
        };
        assert!((hiking(&v1, &old) - hiking(&v2, &new)).abs() < 1e-9);
        assert!(hiking(&v2, &new) > 0.0);
        let food = v2.taxonomy().require("baby/food").unwrap();
        assert_eq!(new.get(food).unwrap().score, 0.0);
        assert_eq!(back.events().len(), 3);
        assert!(back
            .events()
            .iter()
            .all(|e| v2.taxonomy().path(e.interest()) == Some("outdoor/hiking")));
    }
}

/// Data of a removed interest is kept, written back, exported, and used
/// again when a taxonomy has the path.
#[test]
fn a_removed_interest_is_kept_as_orphans_and_comes_back() {
    let v1 = engine(&["garden/roses", "outdoor/hiking"]);
    let mut p = person("p");
    for d in 0..3 {
        view(&v1, &mut p, "garden/roses", T0 + Duration::days(d));
        view(&v1, &mut p, "outdoor/hiking", T0 + Duration::days(d));
    }
    let garden = v1.taxonomy().require("garden").unwrap();
    let at = T0 + Duration::days(4);
    v1.suppress(
        &mut p,
        Suppression::new(Scope::Interest(garden), SuppressionReason::OptOut, at),
        at,
    );
    p.like(v1.taxonomy().require("garden/roses").unwrap(), at);

    let v2 = engine(&["outdoor/hiking"]);
    let now = at + Duration::days(1);
    for back in both(&v1, &v2, &p, now) {
        let o = back.orphans();
        assert_eq!(o.paths(), ["garden", "garden/roses"]);
        assert_eq!(o.events().len(), 3);
        assert_eq!(o.suppressions().len(), 1);
        assert_eq!(o.preferences().len(), 1);
        let report = v2.report(&back, now);
        assert_eq!(
            report.orphaned,
            [("garden".to_owned(), 1), ("garden/roses".to_owned(), 4)]
        );
        assert!(
            report.to_string().contains("garden/roses: 4 record(s)"),
            "{report}"
        );
        // Still in force toward partners: exported. The taxonomy cannot
        // tell whether `garden` was a special category, so by default it
        // leaves as a suppression of everything; by path only when kept.
        let secret = KeySecret::new(b"a secret shared with the partner").unwrap();
        let export =
            SuppressionList::from_profiles(v2.taxonomy(), [(&back, "p@example.org")], &secret, now);
        assert!(export.problems.is_empty(), "{:?}", export.problems);
        let jsonl = export.list.to_jsonl();
        assert!(jsonl.contains("\"scope\":\"all\""), "{jsonl}");
        assert!(!jsonl.contains("garden"), "{jsonl}");
        let kept = SuppressionList::from_profiles_with(
            v2.taxonomy(),
            [(&back, "p@example.org")],
            &secret,
            now,
            tactful::export::Minimization::Keep.into(),
        );
        assert!(kept.list.to_jsonl().contains("garden"), "{jsonl}");
        // Written back by the new engine, read by the old one: nothing lost.
        for again in both(&v2, &v1, &back, now) {
            assert!(again.orphans().is_empty());
            assert_eq!(again, p);
            let want = v1.decide(&p, &about(&v1, "garden/roses"), now);
            assert_eq!(v1.decide(&again, &about(&v1, "garden/roses"), now), want);
        }
    }
}

#[test]
fn erasing_everything_reaches_orphaned_events_too() {
    let v1 = engine(&["garden/roses", "outdoor/hiking"]);
    let mut p = person("p");
    view(&v1, &mut p, "garden/roses", T0);
    let v2 = engine(&["outdoor/hiking"]);
    let now = T0 + Duration::days(1);
    let [mut back, _] = both(&v1, &v2, &p, now);
    assert_eq!(back.orphans().events().len(), 1);
    v2.erase_profile(&mut back, now);
    assert!(back.orphans().events().len() == 0);
    let [again, _] = both(&v2, &v1, &back, now);
    assert!(again.events().is_empty());
}

#[test]
fn a_declared_rename_migrates_the_data() {
    let v1 = engine(&["baby/food"]);
    let mut p = person("p");
    for d in 0..3 {
        view(&v1, &mut p, "baby/food", T0 + Duration::days(d));
    }
    let baby = v1.taxonomy().require("baby").unwrap();
    let at = T0 + Duration::days(3);
    v1.suppress(
        &mut p,
        Suppression::new(Scope::Interest(baby), SuppressionReason::DoNotContact, at),
        at,
    );
    let tax = Taxonomy::from_json(
        r#"{"interests": [{"path": "family/baby/food"}, {"path": "family/baby", "renamed_from": ["baby"]}]}"#,
    )
    .unwrap();
    let v2 = Engine::new(tax, DecayPolicy::default());
    for back in both(&v1, &v2, &p, at) {
        assert!(back.orphans().is_empty());
        assert_eq!(
            back.suppressions()[0].scope(),
            Scope::Interest(v2.taxonomy().require("family/baby").unwrap())
        );
        assert!(back
            .events()
            .iter()
            .all(|e| v2.taxonomy().path(e.interest()) == Some("family/baby/food")));
        assert!(!v2
            .decide(&back, &about(&v2, "family/baby/food"), at)
            .is_allowed());
    }
}

#[test]
fn legacy_profiles_load_only_with_their_taxonomy() {
    // 0.1 wrote positions: in {baby, baby/food, outdoor, outdoor/hiking}
    // position 3 is outdoor/hiking and 0 is baby.
    let old = Taxonomy::builder()
        .interest("baby/food")
        .interest("outdoor/hiking")
        .build()
        .unwrap();
    assert_eq!(
        old.path(old.require("outdoor/hiking").unwrap()),
        Some("outdoor/hiking")
    );
    let legacy = r#"{"id":"anna","level":"first_party","consent":[],
        "suppressions":[{"scope":{"interest":0},"reason":"bereavement","since":"2026-03-05T09:00:00Z"}],
        "events":[{"interest":3,"signal":"view","at":"2026-03-01T09:00:00Z"}],
        "tombstones":[],"refusals":{}}"#;
    let now = datetime!(2026-03-06 0:00 UTC);
    let v2 = engine(&["apparel/shoes", "baby/food", "outdoor/hiking"]);
    assert_eq!(
        v2.load_profile(legacy, now).unwrap_err(),
        ProfileError::Legacy
    );
    let p = v2.load_legacy_profile(legacy, &old, now).unwrap();
    assert_eq!(
        v2.taxonomy().path(p.events()[0].interest()),
        Some("outdoor/hiking")
    );
    assert_eq!(
        p.suppressions()[0].scope(),
        Scope::Interest(v2.taxonomy().require("baby").unwrap())
    );
    // A position the old taxonomy does not have is an error, not a guess.
    let bad = legacy.replace(r#""interest":3"#, r#""interest":42"#);
    assert!(matches!(
        v2.load_legacy_profile(&bad, &old, now),
        Err(ProfileError::UnknownInterest {
            field: "events",
            ..
        })
    ));
}

#[test]
fn instants_anywhere_in_the_range_round_trip() {
    let e = engine(&["a/b"]);
    let mut p = person("p");
    let a = e.taxonomy().require("a").unwrap();
    for (since, until) in [
        (datetime!(9999-12-31 22:00 -05:00), None),
        (
            datetime!(-9999-01-01 0:00 +23:59:59),
            Some(datetime!(-9999-01-02 0:00:01 -00:00:01)),
        ),
        (datetime!(2026-01-01 0:00:00.000000001 +01:30), None),
    ] {
        let mut s = Suppression::new(Scope::Interest(a), SuppressionReason::Other, since);
        if let Some(u) = until {
            s = s.until(u).unwrap();
        }
        e.suppress(&mut p, s, T0);
    }
    p.dislike(a, datetime!(-9999-01-01 0:00 -23:59:59));
    p.consent_mut()
        .grant(
            Purpose::Location,
            datetime!(9999-12-31 23:59:59.999999999 -23:00),
            None,
            Evidence::Import("x".into()),
        )
        .unwrap();
    for back in both(&e, &e, &p, T0) {
        assert_eq!(back, p);
        assert_eq!(e.report(&back, T0), e.report(&p, T0));
    }
}

#[test]
fn limits_are_checked_before_their_cost_is_paid() {
    let small = engine(&["a/b"]).with_limits(Limits {
        max_events: 1_000,
        ..Limits::default()
    });
    let big = engine(&["a/b"]);
    let mut p = person("p");
    let b = big.taxonomy().require("a/b").unwrap();
    let start = T0 - Duration::days(20);
    for k in 0..5_000 {
        let at = start + Duration::minutes(k);
        big.record(&mut p, Event::new(b, Signal::View, at), at)
            .unwrap();
    }
    let now = start + Duration::days(5);
    let json = big.save_json(&p).unwrap();
    // Descending order: refused at the first event past the limit.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["events"].as_array_mut().unwrap().reverse();
    let descending = serde_json::to_string(&v).unwrap();
    for text in [&json, &descending] {
        assert_eq!(
            small.load_profile(text, now).unwrap_err(),
            ProfileError::TooLarge {
                limit: Limit::Events,
                actual: 1_001,
                max: 1_000
            }
        );
    }
    assert!(matches!(
        small.load_profile_binary(&big.save_binary(&p).unwrap(), now),
        Err(ProfileError::TooLarge {
            limit: Limit::Events,
            ..
        })
    ));
    // In any order the same profile loads.
    assert_eq!(big.load_profile(&descending, now).unwrap(), p);
    let mut rng = 12345u64;
    let events = v["events"].as_array_mut().unwrap();
    for i in (1..events.len()).rev() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        events.swap(i, (rng % (i as u64 + 1)) as usize);
    }
    assert_eq!(
        big.load_profile(&serde_json::to_string(&v).unwrap(), now)
            .unwrap(),
        p
    );
}

#[test]
fn merge_keeps_the_limits_and_says_what_gave_way() {
    let e = engine(&["a/b"]).with_limits(Limits {
        max_events: 1_000,
        ..Limits::default()
    });
    let b = e.taxonomy().require("a/b").unwrap();
    let (mut x, mut y) = (person("p"), person("p"));
    for k in 0..700 {
        let at = T0 + Duration::minutes(2 * k);
        e.record(&mut x, Event::new(b, Signal::View, at), at)
            .unwrap();
        let at = at + Duration::minutes(1);
        e.record(&mut y, Event::new(b, Signal::View, at), at)
            .unwrap();
    }
    let merged = e.merge(&mut x, &y);
    assert_eq!(merged.dropped_events, 400);
    assert_eq!(x.stored_events(), 1_000);
    // The oldest gave way.
    assert_eq!(x.events()[0].at(), T0 + Duration::minutes(400));
    let now = T0 + Duration::days(2);
    for back in both(&e, &e, &x, now) {
        assert_eq!(back, x);
    }
}

#[test]
fn damaged_binary_profiles_are_refused_never_misread() {
    let e = engine(&["a/b", "c"]);
    let mut p = person("p");
    for d in 0..3 {
        view(&e, &mut p, "a/b", T0 + Duration::days(d));
    }
    let bin = e.save_binary(&p).unwrap();
    for i in 0..bin.len() {
        let mut bad = bin.clone();
        bad[i] ^= 0x24;
        assert!(e.load_profile_binary(&bad, T0).is_err(), "flip at {i}");
    }
    for n in 0..bin.len() {
        assert!(
            e.load_profile_binary(&bin[..n], T0).is_err(),
            "truncated to {n}"
        );
    }
    let mut json_as_bin = e.save_json(&p).unwrap().into_bytes();
    json_as_bin.truncate(64);
    assert!(matches!(
        e.load_profile_binary(&json_as_bin, T0),
        Err(ProfileError::Corrupt(_))
    ));
}

#[test]
fn tombstones_coalesce_on_load_so_merges_stay_linear() {
    let e = engine(&["a/b", "c"]);
    let empty = e.save_json(&Profile::new("t")).unwrap();
    let list: Vec<String> = (0..20_000)
        .map(|k| {
            let at = (T0 + Duration::seconds(k))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let path = ["a", "a/b", "c"][k as usize % 3];
            format!(
                r#"{{"scope":{{"interest":"{path}"}},"at":"{at}","signals_only":{}}}"#,
                k % 2 == 0
            )
        })
        .collect();
    let json = empty.replace(
        "\"tombstones\":[]",
        &format!("\"tombstones\":[{}]", list.join(",")),
    );
    let p = e.load_profile(&json, T0).unwrap();
    // Per scope at most the newest erasure and a newer signal purge.
    assert!(p.tombstones().len() <= 6, "{}", p.tombstones().len());
    let mut q = p.clone();
    let _ = e.merge(&mut q, &p);
    assert_eq!(q.tombstones().len(), p.tombstones().len());
}

// ---------------------------------------------------------------------------
// Random taxonomy edits
// ---------------------------------------------------------------------------

const BASE: [&str; 8] = [
    "baby/food",
    "baby/toys",
    "garden/roses",
    "garden/tools",
    "outdoor/hiking",
    "outdoor/running",
    "sport/ball",
    "sport/swim",
];

#[derive(Debug, Clone)]
enum Op {
    View(usize, i64),
    Suppress(usize, i64),
    Like(usize, i64),
    Dislike(usize, i64),
    Erase(usize, i64),
}

fn op() -> impl Strategy<Value = Op> {
    let leaf = 0..BASE.len();
    let day = 0i64..20;
    prop_oneof![
        6 => (leaf.clone(), day.clone()).prop_map(|(l, d)| Op::View(l, d)),
        1 => (leaf.clone(), day.clone()).prop_map(|(l, d)| Op::Suppress(l, d)),
        1 => (leaf.clone(), day.clone()).prop_map(|(l, d)| Op::Like(l, d)),
        1 => (leaf.clone(), day.clone()).prop_map(|(l, d)| Op::Dislike(l, d)),
        1 => (leaf, day).prop_map(|(l, d)| Op::Erase(l, d)),
    ]
}

/// An edit of the base taxonomy: which leaves are removed, which are
/// renamed (with `renamed_from`), which new interests are added.
#[derive(Debug, Clone)]
struct Edit {
    removed: Vec<bool>,
    renamed: Vec<bool>,
    added: Vec<String>,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        proptest::collection::vec(proptest::bool::weighted(0.25), BASE.len()),
        proptest::collection::vec(proptest::bool::weighted(0.25), BASE.len()),
        proptest::collection::vec("[a-z]{1,6}(/[a-z]{1,6})?", 0..4),
    )
        .prop_map(|(removed, renamed, added)| Edit {
            removed,
            renamed,
            added,
        })
}

fn new_name(leaf: &str) -> String {
    format!("{leaf}-v2")
}

impl Edit {
    fn taxonomy(&self) -> Taxonomy {
        let mut b = Taxonomy::builder();
        for (k, leaf) in BASE.iter().enumerate() {
            if self.removed[k] {
                continue;
            }
            b = if self.renamed[k] {
                b.renamed_from(&new_name(leaf), leaf)
            } else {
                b.interest(leaf)
            };
        }
        for a in &self.added {
            if !BASE.iter().any(|l| {
                a == l || l.starts_with(&format!("{a}/")) || a.starts_with(&format!("{l}/"))
            }) {
                b = b.interest(a);
            }
        }
        b.build().unwrap()
    }

    /// The leaf's path after the edit, if it was kept.
    fn path(&self, k: usize) -> Option<String> {
        (!self.removed[k]).then(|| {
            if self.renamed[k] {
                new_name(BASE[k])
            } else {
                BASE[k].to_owned()
            }
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Save with one taxonomy, edit it (add, remove, rename with
    /// `renamed_from`), load: every decision about a kept leaf is unchanged,
    /// nothing is re-targeted, and removed data is kept as orphans that come
    /// back unchanged when the old taxonomy loads the re-saved profile.
    #[test]
    fn decisions_about_kept_interests_survive_taxonomy_edits(
        ops in proptest::collection::vec(op(), 1..40),
        edit in edit(),
        binary in any::<bool>(),
    ) {
        let v1 = engine(&BASE);
        let mut p = person("p");
        let id = |e: &Engine, k: usize| e.taxonomy().require(BASE[k]).unwrap();
        for o in &ops {
            match *o {
                Op::View(k, d) => {
                    let at = T0 + Duration::days(d);
                    let _ = v1.record(&mut p, Event::new(id(&v1, k), Signal::View, at), at);
                }
                Op::Suppress(k, d) => {
                    let at = T0 + Duration::days(d);
                    v1.suppress(&mut p, Suppression::new(Scope::Interest(id(&v1, k)), SuppressionReason::OptOut, at), at);
                }
                Op::Like(k, d) => p.like(id(&v1, k), T0 + Duration::days(d)),
                Op::Dislike(k, d) => p.dislike(id(&v1, k), T0 + Duration::days(d)),
                Op::Erase(k, d) => {
                    let _ = v1.erase_interest(&mut p, id(&v1, k), T0 + Duration::days(d));
                }
            }
        }
        let now = T0 + Duration::days(21);
        let v2 = Engine::new(edit.taxonomy(), DecayPolicy::default());
        let back = if binary {
            v2.load_profile_binary(&v1.save_binary(&p).unwrap(), now).unwrap()
        } else {
            v2.load_profile(&v1.save_json(&p).unwrap(), now).unwrap()
        };
        for k in 0..BASE.len() {
            let Some(path) = edit.path(k) else { continue };
            let req = |e: &Engine, path: &str| MessageRequest::new(Channel::Email, Purpose::Marketing)
                .about(Target::Interest(e.taxonomy().require(path).unwrap()));
            let (a, b) = (v1.decide(&p, &req(&v1, BASE[k]), now), v2.decide(&back, &req(&v2, &path), now));
            prop_assert_eq!(a.is_allowed(), b.is_allowed(), "{} -> {}: {:?} vs {:?}", BASE[k], path, a, b);
            prop_assert_eq!(a.reasons().len(), b.reasons().len(), "{:?} vs {:?}", a, b);
            let (sa, sb) = (v1.scores(&p, now), v2.scores(&back, now));
            let x = sa.get(id(&v1, k)).unwrap();
            let y = sb.get(v2.taxonomy().require(&path).unwrap()).unwrap();
            prop_assert!((x.score - y.score).abs() <= 1e-9 * x.score.max(1.0));
            prop_assert_eq!(x.established.is_some(), y.established.is_some());
        }
        // Removed leaves' data is kept, by its old path, never re-targeted.
        let removed: Vec<&str> = (0..BASE.len()).filter(|&k| edit.removed[k]).map(|k| BASE[k]).collect();
        for e in back.events() {
            let path = v2.taxonomy().path(e.interest()).unwrap();
            prop_assert!(!removed.contains(&path));
        }
        for o in back.orphans().events() {
            prop_assert!(removed.contains(&o.interest), "{}", o.interest);
        }
        let kept_events = back.events().len() + back.orphans().events().len();
        prop_assert_eq!(kept_events, p.events().len());
        // Without renames, the old taxonomy gets everything back.
        if !edit.renamed.iter().any(|r| *r) {
            let again = v1.load_profile(&v2.save_json(&back).unwrap(), now).unwrap();
            prop_assert_eq!(&again, &p);
            let again = v1.load_profile_binary(&v2.save_binary(&back).unwrap(), now).unwrap();
            prop_assert_eq!(&again, &p);
        }
    }
}

/// A profile that uses every part of the binary form: consent grants and a
/// withdrawal, a grant with an expiry, refusal counts, likes and dislikes,
/// every suppression scope with and without an end, tombstones, evidence of
/// several classes with whole-second, millisecond and nanosecond instants,
/// weights other than 1, gifts and dismissals, and orphans of each kind
/// (data of an interest the saving taxonomy no longer has).
fn rich_profile() -> (Engine, Profile) {
    let v1 = engine(&["baby/food", "garden/roses", "outdoor/hiking", "travel/city"]);
    let tax = v1.taxonomy();
    let id = |path: &str| tax.require(path).unwrap();
    let mut p = Profile::new("rich-7");
    p.set_level(Level::Full);
    for purpose in [
        Purpose::Personalization,
        Purpose::Marketing,
        Purpose::Location,
        Purpose::CrossSite,
        Purpose::PartnerData,
    ] {
        let until = (purpose == Purpose::Location).then(|| T0 + Duration::days(400));
        p.consent_mut()
            .grant(
                purpose,
                T0 - Duration::days(30),
                until,
                Evidence::Ui("signup".into()),
            )
            .unwrap();
    }
    p.consent_mut()
        .withdraw(
            Purpose::Measurement,
            T0 - Duration::days(29),
            Evidence::Ui("settings".into()),
        )
        .unwrap();
    // A tombstone from before any event: it erases nothing but is stored.
    v1.erase_interest(&mut p, id("travel/city"), T0 - Duration::days(40));
    let now = T0 + Duration::days(20);
    let rec = |p: &mut Profile, e: Event| {
        let _ = v1.record(p, e, now);
    };
    for d in 0..4 {
        let at = T0 + Duration::days(d);
        rec(&mut p, Event::new(id("outdoor/hiking"), Signal::View, at));
        rec(
            &mut p,
            Event::new(
                id("garden/roses"),
                Signal::Click,
                at + Duration::milliseconds(250),
            )
            .with_weight(1.5)
            .unwrap(),
        );
        rec(
            &mut p,
            Event::new(
                id("travel/city"),
                Signal::Search,
                at + Duration::nanoseconds(7),
            )
            .with_source(Source::Partner)
            .with_context(Context::CrossSite),
        );
    }
    rec(
        &mut p,
        Event::new(id("travel/city"), Signal::AddToCart, T0 + Duration::days(9))
            .with_context(Context::Location),
    );
    rec(
        &mut p,
        Event::new(
            id("garden/roses"),
            Signal::Purchase,
            T0 + Duration::days(10),
        )
        .with_gift(true),
    );
    rec(
        &mut p,
        Event::new(
            id("outdoor/hiking"),
            Signal::Dismissal,
            T0 + Duration::days(11),
        ),
    );
    // Refused: from the future and older than the max age.
    rec(
        &mut p,
        Event::new(id("outdoor/hiking"), Signal::View, now + Duration::days(3)),
    );
    rec(
        &mut p,
        Event::new(id("outdoor/hiking"), Signal::View, T0 - Duration::days(300)),
    );
    p.like(id("garden/roses"), T0 + Duration::days(1));
    p.dislike(id("travel"), T0 + Duration::days(2));
    p.like(id("baby/food"), T0 + Duration::days(3));
    let s = |scope, reason, days| Suppression::new(scope, reason, T0 + Duration::days(days));
    for sup in [
        s(
            Scope::Interest(id("baby")),
            SuppressionReason::Bereavement,
            12,
        ),
        s(Scope::Channel(Channel::Post), SuppressionReason::OptOut, 13),
        s(
            Scope::Purpose(Purpose::Marketing),
            SuppressionReason::Complaint,
            14,
        )
        .until(T0 + Duration::days(60))
        .unwrap(),
        s(
            Scope::ChannelPurpose {
                channel: Channel::Email,
                purpose: Purpose::Marketing,
            },
            SuppressionReason::Legal,
            15,
        ),
        s(
            Scope::Interest(id("travel/city")),
            SuppressionReason::DoNotContact,
            16,
        )
        .until(T0 + Duration::days(90))
        .unwrap(),
    ] {
        v1.suppress(&mut p, sup, now);
    }
    v1.erase_interest(&mut p, id("baby"), T0 + Duration::days(17));
    rec(
        &mut p,
        Event::new(id("outdoor/hiking"), Signal::Click, T0 + Duration::days(18))
            .with_weight(0.25)
            .unwrap(),
    );
    // Saved with v1, loaded by v2 without `travel`: its data are orphans,
    // written back by v2 after the known interests.
    let v2 = engine(&["baby/food", "garden/roses", "outdoor/hiking"]);
    let p = v2
        .load_profile_binary(&v1.save_binary(&p).unwrap(), now)
        .unwrap();
    assert!(!p.orphans().is_empty());
    (v2, p)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The binary form of [`rich_profile`], byte for byte, as written on
/// 2026-12-02 (format version 2). A stored profile means the same thing
/// forever, and a refactoring of the writer must not change a byte.
const RICH_PROFILE_BINARY: &str = concat!(
    "54435446020000002d325b91438e97ac06726963682d37030006020000a0cce3970d000000067369676e7570",
    "030000a0cce3970d000000067369676e7570040001a0e09abb0d0000a0cce3970d000000067369676e757005",
    "0000a0cce3970d000000067369676e7570070000a0cce3970d000000067369676e75700101a092ee970d0000",
    "000873657474696e6773060101a092ee970d0000000873657474696e6773020000a0cce3970d000000067369",
    "676e7570030000a0cce3970d000000067369676e7570040001a0e09abb0d0000a0cce3970d00000006736967",
    "6e7570050000a0cce3970d000000067369676e7570070000a0cce3970d000000067369676e75700203010401",
    "020c67617264656e2f726f73657300a0c6aa9a0d00000674726176656c01a08cb59a0d000005030462616279",
    "00a0c89e9b0d000000010301a08ea99b0d000000020303a0d4b39b0d000001a0e8989f0d000004000304a09a",
    "be9b0d000000030b74726176656c2f6369747902a0e0c89b0d000001a09cd5a10d000003010462616279a0f8",
    "f29b0d000001010462616279a0a6d39b0d000000010b74726176656c2f63697479a090fa960d000000030c67",
    "617264656e2f726f7365730e6f7574646f6f722f68696b696e670b74726176656c2f636974790400000407b2",
    "9980c1a80a0300d68300d68300d6830202020201000000000000f83f000000000000f83f000000000000f83f",
    "000000000000f83f01000509a080a09a0d0380510180510180510180c613000000000201000000000000f03f",
    "000000000000f03f000000000000f03f000000000000f03f000000000000d03f020804008e80e59ae481d698",
    "310600004f91944e00004f91944e00004f91944e010101010002010109a0f6fe9a0d00030002008004808095",
    "ec99f5de9b31000100058080f89492a52700f709aa51",
);

/// Known answer: the bytes of a rich profile do not change, and they load
/// back to the same profile.
#[test]
fn the_binary_form_of_a_rich_profile_is_pinned() {
    let (e, p) = rich_profile();
    let bin = e.save_binary(&p).unwrap();
    assert_eq!(hex(&bin), RICH_PROFILE_BINARY);
    let now = T0 + Duration::days(20);
    let back = e.load_profile_binary(&bin, now).unwrap();
    assert_eq!(back, p);
    assert_eq!(hex(&e.save_binary(&back).unwrap()), RICH_PROFILE_BINARY);
}
