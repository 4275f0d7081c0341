//! Suppression export scenarios: the bereavement story end to end (operator
//! exports, partner imports and refuses to send), keys, windows, formats,
//! the incremental feed, the ad-platform format, batches with odd records
//! (everyone else is still exported, the odd parts are reported), and
//! round-trip and batch laws.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use tactful::export::{
    AdExclusionList, ChangeKind, EntryError, Export, ExportError, ExportOptions, ExportProblem,
    ExportScope, FeedChange, FeedError, KeySecret, ListFormat, Minimization, ProblemKind,
    ReadLimit, ReadLimits, SubjectKey, SuppressionEntry, SuppressionFeed, SuppressionList,
};
use tactful::{
    Channel, DecayPolicy, Engine, InterestId, Profile, ProfileId, Purpose, Scope, SpecialCategory,
    Suppression, SuppressionReason, Taxonomy,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const OPERATOR_SECRET: &[u8] = b"agreed with the partner, out of band";

fn engine() -> Engine {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .interest("babyx")
        .interest("garden/tools")
        .build()
        .unwrap();
    Engine::new(taxonomy, DecayPolicy::default())
}

fn secret() -> KeySecret {
    KeySecret::new(OPERATOR_SECRET).unwrap()
}

fn interest(engine: &Engine, path: &str) -> Scope {
    Scope::Interest(engine.taxonomy().require(path).unwrap())
}

/// The list of an export that must have no problems.
fn complete<L>(export: Export<L>) -> L {
    assert!(export.is_complete(), "problems: {:?}", export.problems);
    export.list
}

/// Problems as `(position, profile id, kind)`, to compare in one assert.
fn problems(export_problems: &[ExportProblem]) -> Vec<(usize, &str, &ProblemKind)> {
    export_problems
        .iter()
        .map(|p| (p.position, p.profile.0.as_str(), &p.kind))
        .collect()
}

/// Every way a reason could be spelled in an output.
const REASON_WORDS: [&str; 9] = [
    "reason",
    "bereavement",
    "opt-out",
    "opt_out",
    "do-not-contact",
    "do_not_contact",
    "complaint",
    "legal",
    "other",
];

fn assert_no_reason(what: &str, output: &str) {
    let lower = output.to_lowercase();
    for word in REASON_WORDS {
        assert!(!lower.contains(word), "{what} contains {word:?}:\n{output}");
    }
}

#[test]
fn a_bereavement_reaches_the_partner_who_then_refuses_the_baby_food_samples() {
    let engine = engine();
    let reported = datetime!(2026-03-14 10:00 UTC);
    let mut anna = Profile::new("customer-4711");
    engine.suppress(
        &mut anna,
        Suppression::new(
            interest(&engine, "baby"),
            SuppressionReason::Bereavement,
            reported,
        ),
        reported,
    );
    let ben = Profile::new("customer-4712");

    // Operator: the nightly export, seven months later.
    let now = datetime!(2026-10-14 02:00 UTC);
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        [
            (&anna, "Anna.Schmidt@example.org"),
            (&ben, "ben@example.org"),
        ],
        &secret(),
        now,
    ));
    assert_eq!(list.len(), 1, "only anna has a suppression");
    let jsonl = list.to_jsonl();
    assert_no_reason("jsonl", &jsonl);
    assert!(!jsonl.contains("anna"), "no clear-text identifier: {jsonl}");

    // Partner: imports the file and, before posting samples, derives the
    // key from its own copy of the address (other casing and whitespace).
    let received = SuppressionList::from_jsonl(&jsonl).unwrap();
    let partner_secret = KeySecret::new(OPERATOR_SECRET).unwrap();
    let key = SubjectKey::derive(&partner_secret, "  anna.schmidt@EXAMPLE.org\n");
    let samples_by_post =
        |path| received.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some(path), now);
    assert!(samples_by_post("baby/food"), "no baby-food samples");
    assert!(samples_by_post("baby"), "nothing about babies at all");
    assert!(
        !samples_by_post("babyx"),
        "a sibling path with the same prefix is not covered"
    );
    assert!(!samples_by_post("garden/tools"), "other interests are fine");
    // The receiving side sees scope and window, nothing more: `baby` is
    // an ordinary interest here, so it is named; the window starts at the
    // beginning of the day she told us, not at the hour.
    let entry = received.entries_for(&key).first().unwrap();
    assert_eq!(entry.scope(), &ExportScope::Interest("baby".into()));
    assert_eq!(entry.since(), datetime!(2026-03-14 0:00 UTC));
    assert!(entry.since() <= reported);
    assert_eq!(entry.until(), None);

    // Ben is not on the list, and anna's key under another secret is not either.
    let ben_key = SubjectKey::derive(&partner_secret, "ben@example.org");
    assert!(!received.contains(&ben_key));
    let other_secret = KeySecret::new(b"some other partner's secret").unwrap();
    let wrong = SubjectKey::derive(&other_secret, "anna.schmidt@example.org");
    assert!(!received.contains(&wrong));
    assert!(!received.is_suppressed(
        &wrong,
        Channel::Post,
        Purpose::Marketing,
        Some("baby/food"),
        now
    ));
}

#[test]
fn only_suppressions_active_at_now_are_exported() {
    let engine = engine();
    let now = datetime!(2026-10-01 0:00 UTC);
    let mut p = Profile::new("p");
    let ended = Suppression::new(
        Scope::Channel(Channel::Sms),
        SuppressionReason::OptOut,
        now - Duration::days(30),
    )
    .until(now)
    .unwrap();
    let future = Suppression::new(
        Scope::Channel(Channel::Push),
        SuppressionReason::OptOut,
        now + Duration::SECOND,
    );
    let running = Suppression::new(
        Scope::Channel(Channel::Email),
        SuppressionReason::OptOut,
        now,
    )
    .until(now + Duration::days(30))
    .unwrap();
    for s in [ended, future, running] {
        engine.suppress(&mut p, s, now - Duration::days(60));
    }
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&p, "p@example.org")],
        &secret(),
        now,
    ));
    let scopes: Vec<_> = list.iter().map(|e| e.scope().clone()).collect();
    assert_eq!(scopes, [ExportScope::Channel(Channel::Email)]);
    assert_eq!(list.entries()[0].until(), Some(now + Duration::days(30)));

    // The partner honors the window too.
    let key = SubjectKey::derive(&secret(), "p@example.org");
    assert!(list.is_suppressed(&key, Channel::Email, Purpose::Marketing, None, now));
    assert!(!list.is_suppressed(
        &key,
        Channel::Email,
        Purpose::Marketing,
        None,
        now + Duration::days(30)
    ));
    assert!(!list.is_suppressed(
        &key,
        Channel::Email,
        Purpose::Marketing,
        None,
        now - Duration::SECOND
    ));
}

fn every_reason() -> [SuppressionReason; 6] {
    [
        SuppressionReason::Bereavement,
        SuppressionReason::OptOut,
        SuppressionReason::DoNotContact,
        SuppressionReason::Complaint,
        SuppressionReason::Legal,
        SuppressionReason::Other,
    ]
}

#[test]
fn no_format_ever_contains_a_reason() {
    let engine = engine();
    let since = datetime!(2026-03-14 10:00 UTC);
    let now = since + Duration::days(200);
    let mut profiles = Vec::new();
    for (i, reason) in every_reason().into_iter().enumerate() {
        let mut p = Profile::new(format!("customer-{i}").as_str());
        let scopes = [
            interest(&engine, "baby"),
            Scope::All,
            Scope::Channel(Channel::Post),
            Scope::Purpose(Purpose::Marketing),
        ];
        for scope in scopes {
            engine.suppress(&mut p, Suppression::new(scope, reason, since), since);
        }
        profiles.push((p, format!("c{i}@example.org")));
    }
    let people: Vec<_> = profiles.iter().map(|(p, e)| (p, e.as_str())).collect();
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        people.iter().copied(),
        &secret(),
        now,
    ));
    assert_eq!(list.len(), 6 * 4);
    let mut feed = SuppressionFeed::new();
    feed.update(&list);
    let ads = complete(
        AdExclusionList::from_profiles(
            engine.taxonomy(),
            people.iter().copied(),
            Purpose::Marketing,
            Some("baby/food"),
            now,
        )
        .unwrap(),
    );
    assert_eq!(ads.len(), 6);

    assert_no_reason("jsonl", &list.to_jsonl());
    assert_no_reason("csv", &list.to_csv());
    assert_no_reason("serde json", &serde_json::to_string(&list).unwrap());
    assert_no_reason("feed", &serde_json::to_string(&feed).unwrap());
    assert_no_reason(
        "feed changes",
        &serde_json::to_string(&feed.changes_since(0).unwrap()).unwrap(),
    );
    assert_no_reason("ad upload", &ads.to_upload());
    assert_no_reason("debug", &format!("{list:?} {feed:?} {ads:?}"));
}

#[test]
fn the_same_suppression_for_two_reasons_is_one_entry() {
    let engine = engine();
    let since = datetime!(2026-03-14 10:00 UTC);
    let mut p = Profile::new("p");
    engine.suppress(
        &mut p,
        Suppression::new(
            Scope::Channel(Channel::Phone),
            SuppressionReason::Complaint,
            since,
        ),
        since,
    );
    engine.suppress(
        &mut p,
        Suppression::new(
            Scope::Channel(Channel::Phone),
            SuppressionReason::DoNotContact,
            since,
        ),
        since,
    );
    // The same person under two profile records (not yet merged).
    let q = p.clone();
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&p, "P@x.org"), (&q, "p@x.org ")],
        &secret(),
        since,
    ));
    assert_eq!(list.len(), 1);
}

#[test]
fn export_problems_and_errors_are_typed() {
    let engine = engine();
    let since = datetime!(2026-03-14 10:00 UTC);
    let mut p = Profile::new("customer-1");
    let garden_tools = interest(&engine, "garden/tools");
    engine.suppress(
        &mut p,
        Suppression::new(garden_tools, SuppressionReason::OptOut, since),
        since,
    );
    let Scope::Interest(garden_tools) = garden_tools else {
        unreachable!()
    };

    // Exported with a taxonomy that does not know the interest.
    let small = Taxonomy::builder().interest("baby").build().unwrap();
    let export = SuppressionList::from_profiles(&small, [(&p, "a@b.org")], &secret(), since);
    assert!(export.list.is_empty());
    assert_eq!(
        problems(&export.problems),
        [(
            1,
            "customer-1",
            &ProblemKind::UnknownInterest {
                interest: garden_tools
            }
        )]
    );
    assert_eq!(
        export.problems[0].to_string(),
        format!("item 1, profile \"customer-1\": suppression of interest {garden_tools} not exported: the taxonomy does not know the interest")
    );

    let export = SuppressionList::from_profiles(engine.taxonomy(), [(&p, " \t")], &secret(), since);
    assert!(export.list.is_empty());
    assert_eq!(
        export.problems[0].to_string(),
        "item 1, profile \"customer-1\": empty identifier, nothing of the profile is exported"
    );
    // An empty identifier without an active suppression is never keyed.
    let q = Profile::new("customer-2");
    let export = SuppressionList::from_profiles(engine.taxonomy(), [(&q, "")], &secret(), since);
    assert!(export.is_complete() && export.list.is_empty());

    // Secrets.
    assert_eq!(KeySecret::new(b"short").unwrap_err().len, 5);
    assert_eq!(
        format!("{:?}", secret()),
        format!("KeySecret {{ len: {}, .. }}", OPERATOR_SECRET.len())
    );
    assert!(!format!("{:?}", secret()).contains("agreed"));

    // An out-of-range instant is a problem of that suppression.
    let mut r = Profile::new("customer-3");
    let ancient = datetime!(0000-01-01 0:00 +01:00);
    engine.suppress(
        &mut r,
        Suppression::new(Scope::All, SuppressionReason::Legal, ancient),
        since,
    );
    let export =
        SuppressionList::from_profiles(engine.taxonomy(), [(&r, "r@x.org")], &secret(), since);
    assert!(export.list.is_empty());
    assert_eq!(
        problems(&export.problems),
        [(
            1,
            "customer-3",
            &ProblemKind::InvalidEntry {
                scope: ExportScope::All,
                error: EntryError::OutOfRange(ancient)
            }
        )]
    );
    assert!(
        export.problems[0].to_string().starts_with(
            "item 1, profile \"customer-3\": suppression of all not exported: instant "
        ),
        "{}",
        export.problems[0]
    );

    // An unknown campaign path is the caller's mistake: the whole call fails.
    let err = AdExclusionList::from_profiles(
        engine.taxonomy(),
        [(&p, "a@b.org")],
        Purpose::Marketing,
        Some("bbay"),
        since,
    )
    .unwrap_err();
    assert_eq!(err, ExportError::UnknownInterestPath("bbay".into()));
}

// ---- Minimization: what a partner may learn ---------------------------------

/// A shop that declares pregnancy (and so everything under it) and
/// religion special categories; `health` itself and the rest are ordinary.
fn sensitive_engine() -> Engine {
    let taxonomy = Taxonomy::builder()
        .interest("health/fitness")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .interest("health/pregnancy/loss")
        .sensitive("religion", SpecialCategory::Religion)
        .interest("religion/holidays")
        .interest("baby/food")
        .interest("garden/tools")
        .build()
        .unwrap();
    Engine::new(taxonomy, DecayPolicy::default())
}

/// When Anna told the shop about her loss: an hour that must not leave.
const TOLD: OffsetDateTime = datetime!(2026-03-14 16:20 UTC);
/// The nightly export, months later.
const NIGHTLY: OffsetDateTime = datetime!(2026-10-14 02:00 UTC);

/// Anna with a bereavement suppression of `path`, since [`TOLD`].
fn bereaved(engine: &Engine, path: &str) -> Profile {
    let mut anna = Profile::new("anna");
    engine.suppress(
        &mut anna,
        Suppression::new(interest(engine, path), SuppressionReason::Bereavement, TOLD),
        TOLD,
    );
    anna
}

/// The scopes exported for `profile` with `options`.
fn exported_scopes(engine: &Engine, profile: &Profile, options: ExportOptions) -> Vec<ExportScope> {
    let list = complete(SuppressionList::from_profiles_with(
        engine.taxonomy(),
        [(profile, "anna@example.org")],
        &secret(),
        NIGHTLY,
        options,
    ));
    list.iter().map(|e| e.scope().clone()).collect()
}

/// Whom of `profile` an ads campaign about `path` excludes, with `options`.
fn ad_excludes(engine: &Engine, profile: &Profile, path: &str, options: ExportOptions) -> bool {
    let ads = complete(
        AdExclusionList::from_profiles_with(
            engine.taxonomy(),
            [(profile, "anna@example.org")],
            Purpose::Marketing,
            Some(path),
            NIGHTLY,
            options,
        )
        .unwrap(),
    );
    ads.contains_email("anna@example.org")
}

/// Every `hh:mm` (with optional `:ss`) time of day written in `text`.
fn times_of_day(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(4))
        .filter(|&i| {
            b[i].is_ascii_digit()
                && b[i + 1].is_ascii_digit()
                && b[i + 2] == b':'
                && b[i + 3].is_ascii_digit()
                && b[i + 4].is_ascii_digit()
                && (i < 3 || b[i - 1] != b':')
        })
        .map(|i| &text[i..i + 5])
        .collect()
}

#[test]
fn a_sensitive_suppression_leaves_no_trace_of_its_category_or_hour_in_any_format() {
    let engine = sensitive_engine();
    let mut anna = bereaved(&engine, "health/pregnancy");
    // A second one, ending at a time of day too.
    engine.suppress(
        &mut anna,
        Suppression::new(
            interest(&engine, "religion"),
            SuppressionReason::Bereavement,
            TOLD,
        )
        .until(datetime!(2026-12-01 09:45 UTC))
        .unwrap(),
        TOLD,
    );
    let people = [(&anna, "anna@example.org")];
    let export = SuppressionList::from_profiles(engine.taxonomy(), people, &secret(), NIGHTLY);
    let list = complete(export);
    let mut feed = SuppressionFeed::new();
    feed.update(&list);
    let ads = |path| {
        complete(
            AdExclusionList::from_profiles(
                engine.taxonomy(),
                people,
                Purpose::Marketing,
                Some(path),
                NIGHTLY,
            )
            .unwrap(),
        )
    };
    let outputs = [
        ("jsonl", list.to_jsonl()),
        ("csv", list.to_csv()),
        ("serde json", serde_json::to_string(&list).unwrap()),
        ("feed", serde_json::to_string(&feed).unwrap()),
        (
            "feed changes",
            serde_json::to_string(&feed.changes_since(0).unwrap()).unwrap(),
        ),
        ("ad upload", ads("health/pregnancy").to_upload()),
    ];
    for (what, output) in &outputs {
        for word in ["health", "pregnancy", "religion", "loss"] {
            assert!(
                !output.contains(word),
                "{what} contains {word:?}:\n{output}"
            );
        }
        assert!(!output.contains("16:20"), "{what}:\n{output}");
        for time in times_of_day(output) {
            assert_eq!(time, "00:00", "{what} holds a time of day:\n{output}");
        }
        assert_no_reason(what, output);
    }
    assert!(
        list.to_jsonl().contains("T00:00:00Z"),
        "instants are written"
    );

    // What the partner sees: everything suppressed, from the start of the
    // day she told us; the religion one until the end of its last day.
    let windows: Vec<_> = list
        .iter()
        .map(|e| (e.scope().clone(), e.since(), e.until()))
        .collect();
    assert_eq!(
        windows,
        [
            (ExportScope::All, datetime!(2026-03-14 0:00 UTC), None),
            (
                ExportScope::All,
                datetime!(2026-03-14 0:00 UTC),
                Some(datetime!(2026-12-02 0:00 UTC))
            ),
        ]
    );
    // The ad list of a pregnancy campaign is the garden campaign's.
    assert_eq!(ads("health/pregnancy"), ads("garden/tools"));
    assert_eq!(ads("garden/tools").len(), 1);
}

#[test]
fn by_default_a_special_category_is_exported_as_the_whole_profile() {
    let engine = sensitive_engine();
    let options = ExportOptions::default();
    assert_eq!(options, ExportOptions::new());
    assert_eq!(options.get_minimization(), Minimization::WholeProfile);
    assert!(options.get_round_to_days());
    for path in [
        "health/pregnancy",
        "health/pregnancy/loss",
        "religion",
        "religion/holidays",
    ] {
        let anna = bereaved(&engine, path);
        assert_eq!(
            exported_scopes(&engine, &anna, options),
            [ExportScope::All],
            "{path}"
        );
        // `from_profiles` is `from_profiles_with` the defaults.
        let plain = SuppressionList::from_profiles(
            engine.taxonomy(),
            [(&anna, "anna@example.org")],
            &secret(),
            NIGHTLY,
        );
        assert_eq!(
            exported_scopes(&engine, &anna, options),
            plain
                .list
                .iter()
                .map(|e| e.scope().clone())
                .collect::<Vec<_>>()
        );
        // The partner suppresses more, never less.
        for campaign in ["health/pregnancy", "health/fitness", "garden/tools", "baby"] {
            assert!(
                ad_excludes(&engine, &anna, campaign, options),
                "{path} {campaign}"
            );
        }
    }
}

#[test]
fn nearest_ordinary_ancestor_names_the_ordinary_parent_and_nothing_below_it() {
    let engine = sensitive_engine();
    let options = ExportOptions::default().minimization(Minimization::NearestOrdinaryAncestor);
    for (path, expected) in [
        ("health/pregnancy", ExportScope::Interest("health".into())),
        (
            "health/pregnancy/loss",
            ExportScope::Interest("health".into()),
        ),
        // No ordinary ancestor: everything.
        ("religion", ExportScope::All),
        ("religion/holidays", ExportScope::All),
    ] {
        let anna = bereaved(&engine, path);
        assert_eq!(
            exported_scopes(&engine, &anna, options),
            std::slice::from_ref(&expected),
            "{path}"
        );
        let jsonl = complete(SuppressionList::from_profiles_with(
            engine.taxonomy(),
            [(&anna, "anna@example.org")],
            &secret(),
            NIGHTLY,
            options,
        ))
        .to_jsonl();
        for word in ["pregnancy", "loss", "religion", "holidays", "16:20"] {
            assert!(!jsonl.contains(word), "{jsonl}");
        }
        // The ancestor's subtree covers the special interest and its
        // siblings; everything covers everything.
        let health = expected == ExportScope::Interest("health".into());
        assert!(ad_excludes(&engine, &anna, "health/pregnancy", options));
        assert!(ad_excludes(&engine, &anna, "health/fitness", options));
        assert_eq!(
            ad_excludes(&engine, &anna, "garden/tools", options),
            !health
        );
    }
}

#[test]
fn keep_reveals_the_category_to_a_partner_bound_by_contract() {
    let engine = sensitive_engine();
    let keep = ExportOptions::from(Minimization::Keep);
    assert!(
        keep.get_round_to_days(),
        "keep names the path, windows still whole days"
    );
    let anna = bereaved(&engine, "health/pregnancy");
    assert_eq!(
        exported_scopes(&engine, &anna, keep),
        [ExportScope::Interest("health/pregnancy".into())]
    );
    assert!(ad_excludes(&engine, &anna, "health/pregnancy/loss", keep));
    assert!(!ad_excludes(&engine, &anna, "health/fitness", keep));
    assert!(!ad_excludes(&engine, &anna, "garden/tools", keep));

    // Without rounding too: exactly what the profile holds.
    let exact = keep.round_to_days(false);
    let list = complete(SuppressionList::from_profiles_with(
        engine.taxonomy(),
        [(&anna, "anna@example.org")],
        &secret(),
        NIGHTLY,
        exact,
    ));
    assert_eq!(list.entries()[0].since(), TOLD);
    assert!(list
        .to_jsonl()
        .contains("\"target\":\"health/pregnancy\",\"since\":\"2026-03-14T16:20:00Z\""));
}

#[test]
fn a_suppression_of_an_ordinary_interest_is_still_exported_by_its_path() {
    let engine = sensitive_engine();
    for minimization in [
        Minimization::WholeProfile,
        Minimization::NearestOrdinaryAncestor,
        Minimization::Keep,
    ] {
        let options = ExportOptions::from(minimization);
        for path in ["baby", "baby/food", "health", "health/fitness"] {
            let anna = bereaved(&engine, path);
            assert_eq!(
                exported_scopes(&engine, &anna, options),
                [ExportScope::Interest(path.into())],
                "{path} {minimization:?}"
            );
            assert!(!ad_excludes(&engine, &anna, "garden/tools", options));
        }
    }
}

#[test]
fn orphaned_suppressions_are_coarsened_like_special_ones_unless_kept() {
    // Recorded with a taxonomy that had `health/pregnancy/loss` and
    // `grief` (ordinary there), exported with one that has neither.
    let old = Engine::new(
        Taxonomy::builder()
            .interest("health/pregnancy/loss")
            .interest("grief")
            .interest("garden")
            .build()
            .unwrap(),
        DecayPolicy::default(),
    );
    let mut anna = Profile::new("anna");
    for path in ["health/pregnancy/loss", "grief"] {
        old.suppress(
            &mut anna,
            Suppression::new(interest(&old, path), SuppressionReason::Bereavement, TOLD),
            TOLD,
        );
    }
    let engine = sensitive_engine();
    let json = old.save_json(&anna).unwrap();
    let anna = engine.load_profile(&json, NIGHTLY).unwrap();
    assert_eq!(anna.orphans().suppressions().len(), 1, "grief is orphaned");
    assert!(
        anna.suppressions().len() == 1,
        "health/pregnancy/loss is known here"
    );
    let sorted = |options| {
        let mut scopes = exported_scopes(&engine, &anna, options);
        scopes.sort();
        scopes
    };
    assert_eq!(
        sorted(ExportOptions::default()),
        [ExportScope::All],
        "both coarsened to everything, one entry"
    );
    assert_eq!(
        sorted(Minimization::NearestOrdinaryAncestor.into()),
        [ExportScope::All, ExportScope::Interest("health".into())]
    );
    assert_eq!(
        sorted(Minimization::Keep.into()),
        [
            ExportScope::Interest("grief".into()),
            ExportScope::Interest("health/pregnancy/loss".into())
        ]
    );

    // An orphan below an ordinary interest the taxonomy still has.
    let old = Engine::new(
        Taxonomy::builder()
            .interest("garden/roses")
            .build()
            .unwrap(),
        DecayPolicy::default(),
    );
    let mut ben = Profile::new("ben");
    old.suppress(
        &mut ben,
        Suppression::new(
            interest(&old, "garden/roses"),
            SuppressionReason::Complaint,
            TOLD,
        ),
        TOLD,
    );
    let ben = engine
        .load_profile(&old.save_json(&ben).unwrap(), NIGHTLY)
        .unwrap();
    assert_eq!(ben.orphans().paths(), ["garden/roses"]);
    assert_eq!(
        exported_scopes(&engine, &ben, ExportOptions::default()),
        [ExportScope::All]
    );
    assert_eq!(
        exported_scopes(&engine, &ben, Minimization::NearestOrdinaryAncestor.into()),
        [ExportScope::Interest("garden".into())]
    );
    assert_eq!(
        exported_scopes(&engine, &ben, Minimization::Keep.into()),
        [ExportScope::Interest("garden/roses".into())]
    );
}

#[test]
fn special_suppressions_coarsened_alike_are_one_entry() {
    let engine = sensitive_engine();
    let mut anna = bereaved(&engine, "health/pregnancy");
    // Later the same day, two more special ones, and the whole profile.
    let later = TOLD + Duration::hours(2);
    for scope in [
        interest(&engine, "religion"),
        interest(&engine, "health/pregnancy/loss"),
        Scope::All,
    ] {
        engine.suppress(
            &mut anna,
            Suppression::new(scope, SuppressionReason::Other, later),
            later,
        );
    }
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&anna, "anna@example.org")],
        &secret(),
        NIGHTLY,
    ));
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list.entries()[0].scope(), &ExportScope::All);
    assert_eq!(list.entries()[0].since(), datetime!(2026-03-14 0:00 UTC));
}

#[test]
fn rounding_to_days_can_be_turned_off() {
    let engine = sensitive_engine();
    let mut p = Profile::new("p");
    let since = datetime!(2026-03-14 16:20:30.5 +02:00);
    engine.suppress(
        &mut p,
        Suppression::new(
            Scope::Channel(Channel::Sms),
            SuppressionReason::OptOut,
            since,
        )
        .until(datetime!(2026-11-01 09:45 UTC))
        .unwrap(),
        since,
    );
    let export = |options: ExportOptions| {
        let list = complete(SuppressionList::from_profiles_with(
            engine.taxonomy(),
            [(&p, "p@example.org")],
            &secret(),
            NIGHTLY,
            options,
        ));
        let e = &list.entries()[0];
        (e.since(), e.until())
    };
    assert_eq!(
        export(ExportOptions::default()),
        (
            datetime!(2026-03-14 0:00 UTC),
            Some(datetime!(2026-11-02 0:00 UTC))
        )
    );
    assert_eq!(
        export(ExportOptions::default().round_to_days(false)),
        (since, Some(datetime!(2026-11-01 09:45 UTC)))
    );
}

#[test]
fn export_options_serde_and_traits() {
    fn traits<T: std::fmt::Debug + Clone + Copy + Send + Sync + Default + Eq + std::hash::Hash>() {}
    traits::<ExportOptions>();
    traits::<Minimization>();
    let options = ExportOptions::default().minimization(Minimization::NearestOrdinaryAncestor);
    let json = serde_json::to_string(&options).unwrap();
    assert_eq!(
        json,
        r#"{"minimization":"nearest_ordinary_ancestor","round_to_days":true}"#
    );
    assert_eq!(
        serde_json::from_str::<ExportOptions>(&json).unwrap(),
        options
    );
    assert_eq!(
        serde_json::from_str::<ExportOptions>("{}").unwrap(),
        ExportOptions::default()
    );
    assert!(serde_json::from_str::<ExportOptions>(r#"{"minimisation":"keep"}"#).is_err());
}

fn all_channels() -> Vec<Channel> {
    vec![
        Channel::Email,
        Channel::Sms,
        Channel::Push,
        Channel::Post,
        Channel::Phone,
        Channel::InApp,
        Channel::Ads,
    ]
}

/// Any scope of a suppression in [`sensitive_engine`]'s taxonomy, special
/// interests included.
fn arb_sensitive_scope() -> impl Strategy<Value = Scope> {
    let engine = sensitive_engine();
    let interests: Vec<Scope> = engine
        .taxonomy()
        .iter()
        .map(|(id, _)| Scope::Interest(id))
        .collect();
    prop_oneof![
        1 => Just(Scope::All),
        1 => prop::sample::select(all_channels()).prop_map(Scope::Channel),
        1 => prop::sample::select(Purpose::ALL.to_vec()).prop_map(Scope::Purpose),
        1 => (
            prop::sample::select(all_channels()),
            prop::sample::select(Purpose::ALL.to_vec())
        )
            .prop_map(|(channel, purpose)| Scope::ChannelPurpose { channel, purpose }),
        4 => prop::sample::select(interests),
    ]
}

proptest! {
    /// Rounding widens a window to whole UTC days and never shortens it:
    /// the exported `since` is at or before ours (less than a day), the
    /// exported `until` at or after ours (less than a day, or open-ended
    /// past the last writable day), both at UTC midnight.
    #[test]
    fn rounding_to_days_never_shortens_a_window(
        since in arb_instant(),
        len in prop::option::of(1i64..400 * 86_400_000_000_000),
    ) {
        let until = len.map(|ns| since + Duration::nanoseconds(ns));
        prop_assume!(until.is_none_or(|u| u <= datetime!(9999-12-31 23:59:59.999_999_999 UTC)));
        let engine = sensitive_engine();
        let mut p = Profile::new("p");
        let s = Suppression::new(Scope::Channel(Channel::Sms), SuppressionReason::OptOut, since);
        let s = match until {
            Some(u) => s.until(u).unwrap(),
            None => s,
        };
        engine.suppress(&mut p, s, since);
        let window = |options: ExportOptions| {
            let list = complete(SuppressionList::from_profiles_with(
                engine.taxonomy(), [(&p, "p@example.org")], &secret(), since, options,
            ));
            let e = list.entries()[0].clone();
            (e.since(), e.until())
        };
        let (exact_since, exact_until) = window(ExportOptions::default().round_to_days(false));
        prop_assert_eq!((exact_since, exact_until), (since, until));
        let (since_r, until_r) = window(ExportOptions::default());
        prop_assert!(since_r <= since);
        prop_assert!(since - since_r < Duration::DAY);
        prop_assert_eq!(since_r.time(), time::Time::MIDNIGHT);
        match (until, until_r) {
            (None, r) => prop_assert_eq!(r, None),
            (Some(u), Some(r)) => {
                prop_assert!(r >= u);
                prop_assert!(r - u < Duration::DAY);
                prop_assert_eq!(r.time(), time::Time::MIDNIGHT);
            }
            (Some(u), None) => {
                // Open-ended only where the next midnight is past year 9999.
                prop_assert_eq!(u.to_offset(time::UtcOffset::UTC).date(), datetime!(9999-12-31 0:00 UTC).date());
            }
        }
    }

    /// Whatever the options, the minimized export suppresses every message
    /// the exact export (every path named, every instant to the
    /// nanosecond) suppresses: minimization only ever widens protection.
    #[test]
    fn minimization_never_narrows_what_the_partner_suppresses(
        suppressions in prop::collection::vec(
            (arb_sensitive_scope(), -72i64..2, prop::option::of(1i64..200)),
            1..5,
        ),
        queries in prop::collection::vec(
            (
                prop::sample::select(all_channels()),
                prop::sample::select(Purpose::ALL.to_vec()),
                prop::option::of(prop::sample::select(vec![
                    "health", "health/fitness", "health/pregnancy", "health/pregnancy/loss",
                    "religion", "religion/holidays", "baby", "baby/food", "garden/tools", "babyx",
                ])),
                -100i64..300,
            ),
            1..40,
        ),
        minimization in prop::sample::select(vec![
            Minimization::WholeProfile,
            Minimization::NearestOrdinaryAncestor,
            Minimization::Keep,
        ]),
        round in any::<bool>(),
    ) {
        let engine = sensitive_engine();
        let now = datetime!(2026-10-01 13:37:42 UTC);
        let mut p = Profile::new("p");
        for (i, (scope, since, len)) in suppressions.iter().enumerate() {
            // Hours and odd minutes, so rounding has something to do.
            let since = now + Duration::hours(*since) + Duration::minutes(7 * i as i64);
            let s = Suppression::new(*scope, SuppressionReason::Bereavement, since);
            let s = match len {
                Some(len) => s.until(since + Duration::hours(*len)).unwrap(),
                None => s,
            };
            engine.suppress(&mut p, s, now);
        }
        let export = |options| {
            complete(SuppressionList::from_profiles_with(
                engine.taxonomy(), [(&p, "p@example.org")], &secret(), now, options,
            ))
        };
        let exact = export(ExportOptions::from(Minimization::Keep).round_to_days(false));
        let options = ExportOptions::from(minimization).round_to_days(round);
        let minimized = export(options);
        let key = SubjectKey::derive(&secret(), "p@example.org");
        for (channel, purpose, path, at) in queries {
            let at = now + Duration::hours(at);
            if exact.is_suppressed(&key, channel, purpose, path, at) {
                prop_assert!(
                    minimized.is_suppressed(&key, channel, purpose, path, at),
                    "{:?} {:?} {:?} at {} with {:?}:\nexact {:?}\nminimized {:?}",
                    channel, purpose, path, at, options, exact, minimized
                );
            }
        }
        // The ad list of any campaign excludes at least whom the exact
        // list would.
        for campaign in [None, Some("health/pregnancy"), Some("garden/tools")] {
            let ads = |options| {
                complete(AdExclusionList::from_profiles_with(
                    engine.taxonomy(), [(&p, "p@example.org")], Purpose::Marketing, campaign, now, options,
                ).unwrap())
            };
            let keep = ads(ExportOptions::from(Minimization::Keep));
            prop_assert!(keep.is_empty() || ads(options) == keep);
        }
        // And no special path is ever named unless kept.
        if minimization != Minimization::Keep {
            let jsonl = minimized.to_jsonl();
            prop_assert!(!jsonl.contains("pregnancy") && !jsonl.contains("religion"), "{}", jsonl);
        }
    }
}

// ---- The scope of one channel for one purpose -------------------------------

#[test]
fn a_channel_purpose_suppression_round_trips_through_every_format() {
    let scope = ExportScope::ChannelPurpose(Channel::Email, Purpose::Marketing);
    assert_eq!(scope.kind(), "channel_purpose");
    assert_eq!(scope.target(), "email/marketing");
    assert_eq!(
        ExportScope::from_parts("channel_purpose", "email/marketing").unwrap(),
        scope
    );
    for c in [Channel::Email, Channel::InApp, Channel::Ads] {
        for p in Purpose::ALL {
            let s = ExportScope::ChannelPurpose(c, p);
            assert_eq!(ExportScope::from_parts(s.kind(), &s.target()).unwrap(), s);
        }
    }
    for (target, err) in [
        (
            "",
            EntryError::MissingTarget {
                scope: "channel_purpose",
            },
        ),
        ("fax/marketing", EntryError::UnknownChannel("fax".into())),
        ("email/ads", EntryError::UnknownPurpose("ads".into())),
        (
            "email/marketing/x",
            EntryError::UnknownPurpose("marketing/x".into()),
        ),
    ] {
        assert_eq!(
            ExportScope::from_parts("channel_purpose", target),
            Err(err),
            "{target}"
        );
    }
    assert!(ExportScope::from_parts("channel_purpose", "email").is_err());

    // Covers exactly that channel for that purpose, about anything.
    assert!(scope.covers(Channel::Email, Purpose::Marketing, None));
    assert!(scope.covers(Channel::Email, Purpose::Marketing, Some("baby/food")));
    assert!(!scope.covers(Channel::Email, Purpose::Service, None));
    assert!(!scope.covers(Channel::Post, Purpose::Marketing, None));

    // From a profile through JSON Lines, CSV and serde.
    let engine = engine();
    let mut p = Profile::new("p");
    let since = datetime!(2026-03-01 0:00 UTC);
    engine.suppress(
        &mut p,
        Suppression::new(
            Scope::ChannelPurpose {
                channel: Channel::Email,
                purpose: Purpose::Marketing,
            },
            SuppressionReason::OptOut,
            since,
        ),
        since,
    );
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&p, "p@example.org")],
        &secret(),
        since,
    ));
    assert_eq!(list.entries()[0].scope(), &scope);
    let jsonl = list.to_jsonl();
    assert!(
        jsonl.contains("\"scope\":\"channel_purpose\",\"target\":\"email/marketing\""),
        "{jsonl}"
    );
    assert_eq!(SuppressionList::from_jsonl(&jsonl).unwrap(), list);
    let csv = list.to_csv();
    assert!(
        csv.contains(",channel_purpose,email/marketing,2026-03-01T00:00:00Z,\n"),
        "{csv}"
    );
    assert_eq!(SuppressionList::from_csv(&csv).unwrap(), list);
    let json = serde_json::to_string(&list).unwrap();
    assert_eq!(
        serde_json::from_str::<SuppressionList>(&json).unwrap(),
        list
    );

    // The partner honors it, and so does an ads campaign (not e-mail).
    let key = SubjectKey::derive(&secret(), "p@example.org");
    assert!(list.is_suppressed(&key, Channel::Email, Purpose::Marketing, None, since));
    assert!(!list.is_suppressed(&key, Channel::Email, Purpose::Service, None, since));
    let ads = complete(
        AdExclusionList::from_profiles(
            engine.taxonomy(),
            [(&p, "p@example.org")],
            Purpose::Marketing,
            None,
            since,
        )
        .unwrap(),
    );
    assert!(ads.is_empty());
}

// ---- Identifier normalization ----------------------------------------------

/// `José.Müller@Example.com ` as the operator's web form stored it
/// (composed, NFC) and as the partner's system holds it (decomposed, NFD).
const JOSE_NFC: &str = "Jos\u{e9}.M\u{fc}ller@Example.com ";
const JOSE_NFD: &str = "Jose\u{301}.Mu\u{308}ller@Example.com ";

#[test]
fn composed_and_decomposed_spellings_of_one_address_give_one_key() {
    assert_ne!(JOSE_NFC.as_bytes(), JOSE_NFD.as_bytes());
    let s = secret();
    let key = SubjectKey::derive(&s, JOSE_NFC);
    for spelling in [
        JOSE_NFD,
        "jos\u{e9}.m\u{fc}ller@example.com",
        "\tJOSE\u{301}.MU\u{308}LLER@EXAMPLE.COM\n",
    ] {
        assert_eq!(SubjectKey::derive(&s, spelling), key, "{spelling:?}");
    }
    assert_eq!(
        tactful::export::normalize(JOSE_NFD),
        tactful::export::normalize(JOSE_NFC)
    );
    // The ad platforms' bare hash uses the same rule.
    assert_eq!(
        AdExclusionList::hash_email(JOSE_NFD),
        AdExclusionList::hash_email(JOSE_NFC)
    );

    // End to end: the operator exports under one spelling, the partner
    // checks under the other.
    let engine = engine();
    let now = datetime!(2026-10-14 02:00 UTC);
    let mut jose = Profile::new("jose");
    engine.suppress(
        &mut jose,
        Suppression::new(
            Scope::Channel(Channel::Post),
            SuppressionReason::OptOut,
            now,
        ),
        now,
    );
    let list = complete(SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&jose, JOSE_NFC)],
        &s,
        now,
    ));
    let partner = SubjectKey::derive(&KeySecret::new(OPERATOR_SECRET).unwrap(), JOSE_NFD);
    assert!(list.is_suppressed(&partner, Channel::Post, Purpose::Marketing, None, now));
}

#[test]
fn different_addresses_give_different_keys() {
    let s = secret();
    let keys: BTreeSet<SubjectKey> = [
        JOSE_NFC,
        "jose.muller@example.com",           // no accents: another address
        "jos\u{e9}.m\u{fc}ller@example.org", // another domain
        "jos\u{e9}m\u{fc}ller@example.com",  // no dot
        "jos\u{e9}.m\u{fc}ller+news@example.com",
        "stra\u{df}e@example.com",
        "strasse@example.com", // no case folding: ß is not ss
    ]
    .iter()
    .map(|id| SubjectKey::derive(&s, id))
    .collect();
    assert_eq!(keys.len(), 7);
}

#[test]
fn a_known_subject_key_pins_the_normalization_rule() {
    // Computed independently (Python: hmac.new(secret,
    // unicodedata.normalize("NFC", "josé.müller@example.com").encode(),
    // sha256)), so the rule cannot drift without this test noticing; a
    // partner implementing the rule elsewhere can check against it.
    let expected = "343bd0458d75740d4ba1754e0b2d27bcac42ea46d8ddea61ffcb2e0c31dd36e2";
    assert_eq!(
        tactful::export::normalize(JOSE_NFD).as_bytes(),
        b"jos\xc3\xa9.m\xc3\xbcller@example.com"
    );
    for spelling in [JOSE_NFC, JOSE_NFD] {
        assert_eq!(
            SubjectKey::derive(&secret(), spelling).to_string(),
            expected
        );
    }
    assert_eq!(
        AdExclusionList::hash_email(JOSE_NFD),
        "a0a6a838ed72d983c50a2f4c3ea16638a600459a70cef053d49e7e12fbed0cb2"
    );
}

/// Anna's bereavement, Ben without an address, and Carl recorded with a
/// bigger taxonomy and an instant from before year 0.
struct OddBatch {
    engine: Engine,
    /// The taxonomy of the export: it lacks `garden` and `garden/tools`.
    small: Taxonomy,
    garden_tools: InterestId,
    ancient: OffsetDateTime,
    now: OffsetDateTime,
    anna: Profile,
    ben: Profile,
    carl: Profile,
}

fn odd_batch() -> OddBatch {
    let engine = engine();
    let small = Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .interest("babyx")
        .build()
        .unwrap();
    let since = datetime!(2026-03-14 10:00 UTC);
    let now = since + Duration::days(200);
    let garden_tools = engine.taxonomy().require("garden/tools").unwrap();
    assert_eq!(small.path(garden_tools), None, "the export cannot name it");
    assert_eq!(
        small.require("baby").unwrap(),
        engine.taxonomy().require("baby").unwrap(),
        "but it names baby as the profiles do"
    );
    let ancient = datetime!(0000-01-01 0:00 +01:00);
    let suppressed = |name: &str, suppressions: Vec<Suppression>| {
        let mut p = Profile::new(name);
        for s in suppressions {
            engine.suppress(&mut p, s, since);
        }
        p
    };
    let anna = suppressed(
        "anna",
        vec![
            Suppression::new(
                interest(&engine, "baby"),
                SuppressionReason::Bereavement,
                since,
            ),
            Suppression::new(
                Scope::Channel(Channel::Post),
                SuppressionReason::OptOut,
                since,
            ),
        ],
    );
    let ben = suppressed(
        "ben",
        vec![Suppression::new(
            Scope::Channel(Channel::Ads),
            SuppressionReason::OptOut,
            since,
        )],
    );
    let carl = suppressed(
        "carl",
        vec![
            Suppression::new(
                Scope::Interest(garden_tools),
                SuppressionReason::Complaint,
                since,
            ),
            Suppression::new(Scope::All, SuppressionReason::Legal, ancient),
            Suppression::new(
                Scope::Purpose(Purpose::Marketing),
                SuppressionReason::Bereavement,
                since,
            ),
        ],
    );
    OddBatch {
        engine,
        small,
        garden_tools,
        ancient,
        now,
        anna,
        ben,
        carl,
    }
}

#[test]
fn one_odd_record_does_not_keep_the_others_suppressions_from_the_partner() {
    let b = odd_batch();
    let export = SuppressionList::from_profiles(
        &b.small,
        [
            (&b.anna, "anna@example.org"),
            (&b.ben, "  "),
            (&b.carl, "carl@example.org"),
        ],
        &secret(),
        b.now,
    );

    // Everything that can be exported is, Carl's good suppression included.
    let anna = SubjectKey::derive(&secret(), "anna@example.org");
    let carl = SubjectKey::derive(&secret(), "carl@example.org");
    let exported: Vec<_> = export
        .list
        .iter()
        .map(|e| (*e.subject(), e.scope().clone()))
        .collect();
    let mut expected = vec![
        (anna, ExportScope::Interest("baby".into())),
        (anna, ExportScope::Channel(Channel::Post)),
        (carl, ExportScope::Purpose(Purpose::Marketing)),
    ];
    expected.sort();
    assert_eq!(exported, expected);
    let received = SuppressionList::from_jsonl(&export.list.to_jsonl()).unwrap();
    assert!(received.is_suppressed(
        &anna,
        Channel::Post,
        Purpose::Marketing,
        Some("baby/food"),
        b.now
    ));
    assert!(received.is_suppressed(&carl, Channel::Email, Purpose::Marketing, None, b.now));

    // Exactly the odd parts are reported, with the right profiles.
    assert_eq!(
        problems(&export.problems),
        [
            (2, "ben", &ProblemKind::EmptyIdentifier),
            (
                3,
                "carl",
                &ProblemKind::UnknownInterest {
                    interest: b.garden_tools
                }
            ),
            (
                3,
                "carl",
                &ProblemKind::InvalidEntry {
                    scope: ExportScope::All,
                    error: EntryError::OutOfRange(b.ancient)
                }
            ),
        ]
    );
    assert_eq!(export.problems[0].profile, ProfileId("ben".into()));
    assert!(!export.is_complete());
    // A problem report goes to logs: it names no reason either.
    assert_no_reason(
        "problems",
        &format!("{:?} {}", export.problems, {
            let shown: Vec<String> = export.problems.iter().map(ToString::to_string).collect();
            shown.join("\n")
        }),
    );
    assert_no_reason("jsonl", &export.list.to_jsonl());
}

#[test]
fn one_odd_record_does_not_keep_the_others_out_of_the_ad_exclusions() {
    let b = odd_batch();
    let people = [
        (&b.anna, "anna@example.org"),
        (&b.ben, ""),
        (&b.carl, "carl@example.org"),
    ];
    let export = AdExclusionList::from_profiles(
        &b.small,
        people,
        Purpose::Marketing,
        Some("baby/food"),
        b.now,
    )
    .unwrap();
    // Anna for her loss; Carl for his marketing opt-out (and for the
    // suppression of everything: an ad list holds no instants, so its
    // year does not matter here).
    let mut expected = vec![
        AdExclusionList::hash_email("anna@example.org"),
        AdExclusionList::hash_email("carl@example.org"),
    ];
    expected.sort();
    assert_eq!(export.list.hashes().collect::<Vec<_>>(), expected);
    assert_eq!(
        problems(&export.problems),
        [
            (2, "ben", &ProblemKind::EmptyIdentifier),
            (
                3,
                "carl",
                &ProblemKind::UnknownInterest {
                    interest: b.garden_tools
                }
            ),
        ]
    );

    // Ben is only a problem where he is to be excluded: his opt-out is of
    // ads, so for service ads too. Nobody without a suppression is.
    let nobody = Profile::new("dora");
    let export = AdExclusionList::from_profiles(
        b.engine.taxonomy(),
        [(&nobody, ""), (&b.ben, "")],
        Purpose::Service,
        None,
        b.now,
    )
    .unwrap();
    assert!(export.list.is_empty());
    assert_eq!(
        problems(&export.problems),
        [(2, "ben", &ProblemKind::EmptyIdentifier)]
    );
    assert_no_reason("ad problems", &format!("{:?}", export.problems));
}

#[test]
fn the_ad_platform_format_is_a_bare_hash_per_line() {
    let list =
        AdExclusionList::from_emails(["  Anna@Example.org", "anna@example.org", "ben@example.org"])
            .unwrap();
    assert_eq!(list.len(), 2);
    let upload = list.to_upload();
    for line in upload.lines() {
        assert_eq!(line.len(), 64);
        assert!(line
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    // Anyone with a candidate address can test it: that is why it is weaker.
    assert!(upload.contains(&AdExclusionList::hash_email("ANNA@example.org")));
    assert_eq!(
        AdExclusionList::hash_email("test@example.com"),
        "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
    );
    assert_eq!(
        AdExclusionList::from_emails(["a@b.org", " "]).unwrap_err(),
        ExportError::EmptyEmail { position: 2 }
    );

    // Which suppressions exclude from an ads campaign.
    let engine = engine();
    let since = datetime!(2026-03-14 10:00 UTC);
    let mut people = Vec::new();
    for (name, scope) in [
        ("all", Scope::All),
        ("ads", Scope::Channel(Channel::Ads)),
        ("post", Scope::Channel(Channel::Post)),
        ("marketing", Scope::Purpose(Purpose::Marketing)),
        ("personalization", Scope::Purpose(Purpose::Personalization)),
        ("baby", interest(&engine, "baby")),
        ("garden", interest(&engine, "garden")),
    ] {
        let mut p = Profile::new(name);
        engine.suppress(
            &mut p,
            Suppression::new(scope, SuppressionReason::OptOut, since),
            since,
        );
        people.push((p, format!("{name}@example.org")));
    }
    let excluded = |interest_path| {
        let ads = complete(
            AdExclusionList::from_profiles(
                engine.taxonomy(),
                people.iter().map(|(p, e)| (p, e.as_str())),
                Purpose::Marketing,
                interest_path,
                since,
            )
            .unwrap(),
        );
        people
            .iter()
            .filter(|(_, e)| ads.contains_email(e))
            .map(|(p, _)| p.id().0.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        excluded(Some("baby/food")),
        ["all", "ads", "marketing", "personalization", "baby"]
    );
    assert_eq!(excluded(None), ["all", "ads", "marketing"]);
}

#[test]
fn jsonl_and_csv_errors_name_the_line() {
    let subject = "ab".repeat(32);
    let ok = format!(
        "{{\"subject\":\"{subject}\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"}}"
    );
    let input = format!(
        "{ok}\n{}\n",
        ok.replace("\"all\"", "\"interest\",\"target\":\"baby//food\"")
    );
    let err = SuppressionList::from_jsonl(&input).unwrap_err();
    assert!(matches!(err, ExportError::Jsonl { line: 2, .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("invalid interest path \"baby//food\""),
        "{err}"
    );
    let err = SuppressionList::from_jsonl("{\"subject\":1}").unwrap_err();
    assert!(
        err.to_string().starts_with("jsonl line 1, column "),
        "{err}"
    );

    let csv = format!(
        "subject,scope,target,since,until\n{subject},all,,2026-03-01T00:00:00Z,\n{subject},purpose,ads,2026-03-01T00:00:00Z,\n"
    );
    let err = SuppressionList::from_csv(&csv).unwrap_err();
    assert_eq!(
        err.to_string(),
        "csv line 3, column 3: unknown purpose \"ads\""
    );
    let err = SuppressionList::from_csv("subject;scope;target;since;until\n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("csv line 1, column 1: expected header field \"subject\""),
        "{err}"
    );
}

// ---- The partner reads files from outside ---------------------------------

/// Everyone in [`sensitive_engine`]'s shop with a suppression of every
/// kind, exported with `options`.
fn exported_with(options: ExportOptions) -> SuppressionList {
    let engine = sensitive_engine();
    let anna = bereaved(&engine, "health/pregnancy/loss");
    let mut ben = bereaved(&engine, "religion/holidays");
    let until = TOLD + Duration::days(40);
    for scope in [
        interest(&engine, "garden/tools"),
        Scope::Channel(Channel::Sms),
        Scope::Purpose(Purpose::PartnerData),
        Scope::ChannelPurpose {
            channel: Channel::Email,
            purpose: Purpose::Marketing,
        },
        Scope::All,
    ] {
        let s = Suppression::new(scope, SuppressionReason::DoNotContact, TOLD)
            .until(until)
            .unwrap();
        engine.suppress(&mut ben, s, TOLD);
    }
    complete(SuppressionList::from_profiles_with(
        engine.taxonomy(),
        [(&anna, "anna@example.org"), (&ben, "ben@example.org")],
        &secret(),
        TOLD + Duration::days(1),
        options,
    ))
}

fn every_option() -> Vec<ExportOptions> {
    let mut all = Vec::new();
    for m in [
        Minimization::WholeProfile,
        Minimization::NearestOrdinaryAncestor,
        Minimization::Keep,
    ] {
        for round in [true, false] {
            all.push(
                ExportOptions::default()
                    .minimization(m)
                    .round_to_days(round),
            );
        }
    }
    all
}

/// The limits a file needs exactly: its size, its entries, its longest
/// field (the subject's 64 hex digits at least).
fn exact_limits(text: &str, list: &SuppressionList) -> ReadLimits {
    let longest = list
        .iter()
        .map(|e| e.scope().target().len())
        .chain([64, 30])
        .max()
        .unwrap();
    ReadLimits::default()
        .max_bytes(text.len())
        .max_rows(list.len())
        .max_field_bytes(longest)
}

#[test]
fn what_the_operator_writes_the_partner_reads_for_every_option_within_exact_limits() {
    type Read = fn(&str, ReadLimits) -> Result<SuppressionList, ExportError>;
    type Write = fn(&SuppressionList) -> String;
    let formats: [(ListFormat, Write, Read); 2] = [
        (ListFormat::Csv, SuppressionList::to_csv, |t, l| {
            SuppressionList::from_csv_with(t, l)
        }),
        (ListFormat::Jsonl, SuppressionList::to_jsonl, |t, l| {
            SuppressionList::from_jsonl_with(t, l)
        }),
    ];
    for options in every_option() {
        let list = exported_with(options);
        assert!(list.len() >= 4, "{options:?}: {list:?}");
        for (format, write, read) in formats {
            let text = write(&list);
            let exact = exact_limits(&text, &list);
            assert_eq!(read(&text, exact).unwrap(), list, "{format} {options:?}");
            // One less of any limit is refused, naming that limit.
            let tighter = [
                (exact.max_bytes(text.len() - 1), ReadLimit::Bytes),
                (exact.max_rows(list.len() - 1), ReadLimit::Rows),
                (
                    exact.max_field_bytes(exact.get_max_field_bytes() - 1),
                    ReadLimit::FieldBytes,
                ),
            ];
            for (limits, which) in tighter {
                match read(&text, limits) {
                    Err(ExportError::LimitExceeded {
                        format: f, limit, ..
                    }) => {
                        assert_eq!((f, limit), (format, which), "{options:?}");
                    }
                    other => panic!("{format} {options:?} {which}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_partner_refuses_a_broken_or_oversized_file_with_a_typed_error() {
    let s = "ab".repeat(32);
    let header = "subject,scope,target,since,until\n";
    let row = format!("{s},all,,2026-03-01T00:00:00Z,\n");
    let small = ReadLimits::default()
        .max_bytes(4096)
        .max_rows(2)
        .max_field_bytes(100);
    let csv = |text: &[u8]| {
        SuppressionList::from_csv_with(text, small)
            .unwrap_err()
            .to_string()
    };
    let mut not_utf8 = format!("{header}{s},interest,x").into_bytes();
    not_utf8.extend_from_slice(b"\xfe,2026-03-01T00:00:00Z,\n");
    let cases: [(Vec<u8>, &str); 8] = [
        (
            format!("{header}{}", row.repeat(3)).into(),
            "csv line 4: exceeds max_rows of 2: 3",
        ),
        (
            format!(
                "{header}{s},interest,{},2026-03-01T00:00:00Z,\n",
                "p".repeat(101)
            )
            .into(),
            "csv line 2, column 3 (target): exceeds max_field_bytes of 100: 101",
        ),
        (
            format!("{header}{}", row.repeat(100)).into(),
            "csv input exceeds max_bytes of 4096: 9233",
        ),
        (
            format!("{header}{s},all,,2026-03-01T00:00:00Z\n").into(),
            "csv line 2, column 5: missing field \"until\"",
        ),
        (
            format!("{header}{s},\"all\"l,,2026-03-01T00:00:00Z,\n").into(),
            "csv line 2, column 2: unexpected 'l' after closing quote",
        ),
        (
            format!("{header}{s},all,\"\n").into(),
            "csv line 2, column 3: unterminated quoted field",
        ),
        (
            format!("{header}{s},all,a\"b,2026-03-01T00:00:00Z,\n").into(),
            "csv line 2, column 3: quote inside unquoted field \"a\"",
        ),
        (not_utf8, "csv line 2, column 3: field is not utf-8"),
    ];
    for (text, expected) in cases {
        let message = csv(&text);
        assert!(message.starts_with(expected), "{message}");
    }

    let rec =
        format!("{{\"subject\":\"{s}\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"}}\n");
    let jsonl = |text: &[u8]| {
        SuppressionList::from_jsonl_with(text, small)
            .unwrap_err()
            .to_string()
    };
    let mut not_utf8 = rec.clone().into_bytes();
    not_utf8.extend_from_slice(b"{\"subject\":\"\xc0\"}\n");
    let cases: [(Vec<u8>, &str); 5] = [
        (
            rec.repeat(3).into(),
            "jsonl line 3: exceeds max_rows of 2: 3",
        ),
        (
            rec.replace(
                "\"all\"",
                &format!("\"interest\",\"target\":\"{}\"", "p".repeat(101)),
            )
            .into(),
            "jsonl line 1, column 3 (target): exceeds max_field_bytes of 100: 101",
        ),
        (
            rec.repeat(100).into(),
            "jsonl input exceeds max_bytes of 4096: 12400",
        ),
        (
            format!("{rec}{{\"subject\":\"{s}\",\"scope\":\"all\"}}\n").into(),
            "jsonl line 2, column ",
        ),
        (not_utf8, "jsonl line 2, column 13: line is not utf-8"),
    ];
    for (text, expected) in cases {
        let message = jsonl(&text);
        assert!(message.starts_with(expected), "{message}");
    }
}

#[test]
fn a_partner_polls_the_feed_and_stays_in_sync() {
    let engine = engine();
    let secret = secret();
    let t0 = datetime!(2026-03-01 0:00 UTC);
    let mut anna = Profile::new("anna");
    let mut ben = Profile::new("ben");
    let export = |anna: &Profile, ben: &Profile, now| {
        complete(SuppressionList::from_profiles(
            engine.taxonomy(),
            [(anna, "anna@example.org"), (ben, "ben@example.org")],
            &secret,
            now,
        ))
    };

    let mut feed = SuppressionFeed::new();
    let mut partner = SuppressionList::new();
    let mut seen = 0;
    let mut poll = |feed: &SuppressionFeed, partner: &mut SuppressionList| {
        let changes = feed.changes_since(seen).unwrap();
        partner.apply(&changes);
        seen = feed.current_version();
        changes
    };

    // Day 0: anna's loss.
    engine.suppress(
        &mut anna,
        Suppression::new(
            interest(&engine, "baby"),
            SuppressionReason::Bereavement,
            t0,
        ),
        t0,
    );
    assert_eq!(feed.update(&export(&anna, &ben, t0)), 1);
    let changes = poll(&feed, &mut partner);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, ChangeKind::Added);

    // Day 10: ben opts out of SMS for 30 days.
    let t1 = t0 + Duration::days(10);
    let sms = Suppression::new(Scope::Channel(Channel::Sms), SuppressionReason::OptOut, t1)
        .until(t1 + Duration::days(30))
        .unwrap();
    engine.suppress(&mut ben, sms, t1);
    assert_eq!(feed.update(&export(&anna, &ben, t1)), 2);
    // Nothing changes on day 11: no new version.
    assert_eq!(feed.update(&export(&anna, &ben, t1 + Duration::days(1))), 2);
    poll(&feed, &mut partner);
    assert_eq!(&partner, feed.snapshot().0);

    // Day 45: ben's opt-out has ended: a removal.
    let t2 = t0 + Duration::days(45);
    assert_eq!(feed.update(&export(&anna, &ben, t2)), 3);
    let changes = poll(&feed, &mut partner);
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.version, c.kind))
            .collect::<Vec<_>>(),
        [(3, ChangeKind::Removed)]
    );
    assert_eq!(&partner, feed.snapshot().0);
    assert_eq!(partner.len(), 1);

    // The publisher stores the feed and compacts what every partner has seen.
    let stored = serde_json::to_string(&feed).unwrap();
    let mut feed: SuppressionFeed = serde_json::from_str(&stored).unwrap();
    assert_eq!(feed.compact_before(seen + 1), 3);
    assert!(feed.changes_since(seen).unwrap().is_empty());
    assert_eq!(
        feed.changes_since(0),
        Err(FeedError::Compacted {
            since: 0,
            oldest: 3
        })
    );
}

#[test]
fn export_types_are_send_sync_debug_clone_and_serde() {
    fn traits<T: std::fmt::Debug + Clone + Send + Sync>() {}
    fn serde<T: serde::Serialize + serde::de::DeserializeOwned>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    traits::<KeySecret>();
    traits::<SubjectKey>();
    traits::<ExportScope>();
    traits::<SuppressionEntry>();
    traits::<SuppressionList>();
    traits::<SuppressionFeed>();
    traits::<FeedChange>();
    traits::<ChangeKind>();
    traits::<AdExclusionList>();
    traits::<Export<SuppressionList>>();
    traits::<Export<AdExclusionList>>();
    traits::<ExportProblem>();
    traits::<ProblemKind>();
    traits::<ExportOptions>();
    traits::<Minimization>();
    traits::<ReadLimits>();
    traits::<ReadLimit>();
    traits::<ListFormat>();
    serde::<SubjectKey>();
    serde::<ExportScope>();
    serde::<SuppressionEntry>();
    serde::<SuppressionList>();
    serde::<SuppressionFeed>();
    serde::<FeedChange>();
    serde::<AdExclusionList>();
    serde::<ExportOptions>();
    serde::<Minimization>();
    serde::<ReadLimits>();
    serde::<ReadLimit>();
    serde::<ListFormat>();
    error::<ExportError>();
    error::<EntryError>();
    error::<FeedError>();
    error::<ExportProblem>();
    error::<ProblemKind>();
    error::<tactful::export::SecretTooShort>();
    error::<tactful::export::InvalidSubjectKey>();
}

// ---- Laws ----------------------------------------------------------------

fn arb_instant() -> impl Strategy<Value = OffsetDateTime> {
    // Years 0 to 9999, any nanosecond, any whole-minute offset.
    let min = datetime!(0000-01-01 0:00 UTC).unix_timestamp();
    let max = datetime!(9999-12-31 23:59:59 UTC).unix_timestamp();
    (min..=max, 0u32..1_000_000_000, -23i8..=23, 0i8..60).prop_map(|(secs, nanos, h, m)| {
        let utc = OffsetDateTime::from_unix_timestamp(secs).unwrap()
            + Duration::nanoseconds(i64::from(nanos));
        let utc = utc.min(datetime!(9999-12-31 23:59:59.999_999_999 UTC));
        let m = if h < 0 { -m } else { m };
        // Shown in a local offset; entries store it in UTC.
        utc.checked_to_offset(time::UtcOffset::from_hms(h, m, 0).unwrap())
            .unwrap_or(utc)
    })
}

fn arb_path() -> impl Strategy<Value = String> {
    // Free text: commas, quotes, line breaks, backslashes, non-ASCII.
    let segment = "[a-z0-9,\"\\\\\n\r\t é€😀=+-]{1,8}"
        .prop_filter("segment without surrounding whitespace", |s: &String| {
            s.trim() == s
        });
    prop::collection::vec(segment, 1..4).prop_map(|segs| segs.join("/"))
}

fn arb_scope() -> impl Strategy<Value = ExportScope> {
    let channels = [
        Channel::Email,
        Channel::Sms,
        Channel::Push,
        Channel::Post,
        Channel::Phone,
        Channel::InApp,
        Channel::Ads,
    ];
    prop_oneof![
        Just(ExportScope::All),
        prop::sample::select(channels.to_vec()).prop_map(ExportScope::Channel),
        prop::sample::select(Purpose::ALL.to_vec()).prop_map(ExportScope::Purpose),
        arb_path().prop_map(ExportScope::Interest),
        (
            prop::sample::select(channels.to_vec()),
            prop::sample::select(Purpose::ALL.to_vec())
        )
            .prop_map(|(c, p)| ExportScope::ChannelPurpose(c, p)),
    ]
}

fn arb_entry() -> impl Strategy<Value = SuppressionEntry> {
    (
        any::<[u8; 32]>(),
        arb_scope(),
        arb_instant(),
        prop::option::of(arb_instant()),
    )
        .prop_map(|(k, scope, a, b)| {
            let (since, until) = match b {
                Some(b) if b > a => (a, Some(b)),
                Some(b) if b < a => (b, Some(a)),
                _ => (a, None),
            };
            SuppressionEntry::new(SubjectKey::from_bytes(k), scope, since, until).unwrap()
        })
}

fn arb_list() -> impl Strategy<Value = SuppressionList> {
    prop::collection::vec(arb_entry(), 0..12).prop_map(SuppressionList::from)
}

proptest! {
    #[test]
    fn jsonl_round_trip_is_identity(list in arb_list()) {
        let text = list.to_jsonl();
        prop_assert_eq!(SuppressionList::from_jsonl(&text).unwrap(), list.clone());
        prop_assert_eq!(text.lines().count(), list.len());
    }

    #[test]
    fn csv_round_trip_is_identity(list in arb_list()) {
        prop_assert_eq!(SuppressionList::from_csv(&list.to_csv()).unwrap(), list);
    }

    #[test]
    fn serde_round_trip_is_identity(list in arb_list()) {
        let json = serde_json::to_string(&list).unwrap();
        prop_assert_eq!(serde_json::from_str::<SuppressionList>(&json).unwrap(), list);
    }

    #[test]
    fn key_derivation_ignores_case_and_surrounding_whitespace(
        id in "[A-Za-z0-9@._+-]{1,30}",
        pad in "[ \t\n]{0,3}",
    ) {
        let s = secret();
        let padded = format!("{pad}{}{pad}", id.to_uppercase());
        prop_assert_eq!(SubjectKey::derive(&s, &padded), SubjectKey::derive(&s, &id.to_lowercase()));
    }

    #[test]
    fn normalization_is_idempotent(id in "\\PC{0,12}", pad in "[ \t\n\u{a0}]{0,2}") {
        let once = tactful::export::normalize(&format!("{pad}{id}{pad}"));
        prop_assert_eq!(tactful::export::normalize(&once), once.clone());
    }

    #[test]
    fn key_derivation_ignores_the_normalization_form(
        id in "[a-zA-Z\u{c0}-\u{17f}\u{1e00}-\u{1eff}@.]{1,16}",
    ) {
        use unicode_normalization::UnicodeNormalization;
        let s = secret();
        let nfc: String = id.nfc().collect();
        let nfd: String = id.nfd().collect();
        prop_assert_eq!(SubjectKey::derive(&s, &nfd), SubjectKey::derive(&s, &nfc));
        prop_assert_eq!(tactful::export::normalize(&nfd), tactful::export::normalize(&id));
    }

    #[test]
    fn interest_scope_covers_exactly_its_subtree_and_ancestors(
        root in arb_path(),
        other in arb_path(),
    ) {
        let scope = ExportScope::Interest(root.clone());
        let child = format!("{root}/x");
        let sibling = format!("{root}x");
        prop_assert!(scope.covers(Channel::Post, Purpose::Marketing, Some(&root)));
        prop_assert!(scope.covers(Channel::Post, Purpose::Marketing, Some(&child)));
        prop_assert!(!scope.covers(Channel::Post, Purpose::Marketing, Some(&sibling)));
        let related = other == root
            || other.starts_with(&format!("{root}/"))
            || root.starts_with(&format!("{other}/"));
        prop_assert_eq!(scope.covers(Channel::Post, Purpose::Marketing, Some(&other)), related);
    }

    #[test]
    fn replaying_the_feed_from_any_version_reaches_the_current_list(
        lists in prop::collection::vec(arb_list(), 1..6),
        start in 0usize..6,
    ) {
        let mut feed = SuppressionFeed::new();
        let mut snapshots = vec![(SuppressionList::new(), 0u64)];
        let mut last = 0;
        for list in &lists {
            let v = feed.update(list);
            prop_assert!(v >= last, "versions never go back");
            last = v;
            snapshots.push((list.clone(), v));
        }
        let (mut mirror, since) = snapshots[start % snapshots.len()].clone();
        mirror.apply(&feed.changes_since(since).unwrap());
        prop_assert_eq!(&mirror, lists.last().unwrap());
        let versions: Vec<u64> = feed.changes_since(0).unwrap().iter().map(|c| c.version).collect();
        prop_assert!(versions.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(versions.last().copied().unwrap_or(0), feed.current_version());
    }
}

// ---- Laws of a batch with odd records --------------------------------------

/// One suppression of a generated record: fine, or odd in one way.
#[derive(Debug, Clone)]
enum Generated {
    /// A scope the export's taxonomy can name, with a window in days from
    /// `now` (ended, running or not yet begun).
    Fine(Scope, i64, Option<i64>),
    /// An interest the export's taxonomy does not know.
    UnknownInterest(InterestId, i64),
    /// Begins before year 0 in UTC.
    Ancient(Scope),
    /// Ends after year 9999 in UTC.
    Endless(Scope),
}

/// One input item: the identifier is blank or not, and its suppressions.
#[derive(Debug, Clone)]
struct Record {
    blank: bool,
    suppressions: Vec<Generated>,
}

/// What a law expects of a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    EmptyIdentifier,
    UnknownInterest(InterestId),
    InvalidEntry,
}

fn expected(kind: &ProblemKind) -> Expected {
    match kind {
        ProblemKind::EmptyIdentifier => Expected::EmptyIdentifier,
        ProblemKind::UnknownInterest { interest } => Expected::UnknownInterest(*interest),
        ProblemKind::InvalidEntry {
            error: EntryError::OutOfRange(_),
            ..
        } => Expected::InvalidEntry,
        other => panic!("unexpected problem {other:?}"),
    }
}

/// The engine's taxonomy knows `garden` and `garden/tools`; the export's
/// (`small`) does not, and numbers the rest the same.
fn law_taxonomies() -> (Engine, Taxonomy) {
    let small = Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .interest("babyx")
        .build()
        .unwrap();
    (engine(), small)
}

const LAW_NOW: OffsetDateTime = datetime!(2026-10-01 0:00 UTC);

fn arb_known_scope() -> impl Strategy<Value = Scope> {
    let (engine, small) = law_taxonomies();
    let known: Vec<Scope> = small
        .iter()
        .map(|(_, path)| interest(&engine, path))
        .collect();
    let channels = vec![Channel::Email, Channel::Post, Channel::Ads, Channel::Sms];
    prop_oneof![
        Just(Scope::All),
        prop::sample::select(channels).prop_map(Scope::Channel),
        prop::sample::select(Purpose::ALL.to_vec()).prop_map(Scope::Purpose),
        prop::sample::select(known),
    ]
}

fn arb_generated() -> impl Strategy<Value = Generated> {
    let (engine, small) = law_taxonomies();
    let unknown: Vec<InterestId> = engine
        .taxonomy()
        .iter()
        .map(|(id, _)| id)
        .filter(|id| small.path(*id).is_none())
        .collect();
    assert!(!unknown.is_empty());
    prop_oneof![
        6 => (arb_known_scope(), -40i64..5, prop::option::of(1i64..60))
            .prop_map(|(scope, since, len)| Generated::Fine(scope, since, len)),
        2 => (prop::sample::select(unknown), -40i64..5)
            .prop_map(|(id, since)| Generated::UnknownInterest(id, since)),
        1 => arb_known_scope().prop_map(Generated::Ancient),
        1 => arb_known_scope().prop_map(Generated::Endless),
    ]
}

fn arb_records() -> impl Strategy<Value = Vec<Record>> {
    let record = (
        prop::bool::weighted(0.25),
        prop::collection::vec(arb_generated(), 0..5),
    )
        .prop_map(|(blank, suppressions)| Record {
            blank,
            suppressions,
        });
    prop::collection::vec(record, 0..7)
}

/// A generated batch, built: each item's profile with every suppression
/// (`full`), the same profile with only its fine ones (`good`) and with
/// all but its unknown interests (`good_for_ads`: an ad list holds no
/// instants), the identifier, and the problems its active odd suppressions
/// must cause in a suppression list.
struct BuiltItem {
    full: Profile,
    good: Profile,
    good_for_ads: Profile,
    identifier: String,
    odd: Vec<Expected>,
}

fn build(engine: &Engine, records: &[Record]) -> Vec<BuiltItem> {
    let reasons = every_reason();
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = format!("p{i}");
            let mut full = Profile::new(name.as_str());
            let mut good = Profile::new(name.as_str());
            let mut good_for_ads = Profile::new(name.as_str());
            let mut odd = Vec::new();
            let mut seen: Vec<Suppression> = Vec::new();
            for (j, g) in r.suppressions.iter().enumerate() {
                let reason = reasons[(i + j) % reasons.len()];
                let day = |d: i64| LAW_NOW + Duration::days(d);
                let (s, problem) = match g {
                    Generated::Fine(scope, since, len) => {
                        let s = Suppression::new(*scope, reason, day(*since));
                        let s = match len {
                            Some(len) => s.until(day(*since + *len)).unwrap(),
                            None => s,
                        };
                        (s, None)
                    }
                    Generated::UnknownInterest(id, since) => (
                        Suppression::new(Scope::Interest(*id), reason, day(*since)),
                        Some(Expected::UnknownInterest(*id)),
                    ),
                    Generated::Ancient(scope) => (
                        Suppression::new(*scope, reason, datetime!(0000-01-01 0:00 +01:00)),
                        Some(Expected::InvalidEntry),
                    ),
                    Generated::Endless(scope) => (
                        Suppression::new(*scope, reason, day(-1))
                            .until(datetime!(9999-12-31 23:30 -01:00))
                            .unwrap(),
                        Some(Expected::InvalidEntry),
                    ),
                };
                // The engine keeps one copy of identical suppressions.
                if seen.contains(&s) {
                    continue;
                }
                seen.push(s);
                if problem.is_none() {
                    engine.suppress(&mut good, s, LAW_NOW);
                }
                if !matches!(problem, Some(Expected::UnknownInterest(_))) {
                    engine.suppress(&mut good_for_ads, s, LAW_NOW);
                }
                if s.is_active(LAW_NOW) {
                    odd.extend(problem);
                }
                engine.suppress(&mut full, s, LAW_NOW);
            }
            let identifier = if r.blank {
                [" ", "", "\t\n"][i % 3].to_owned()
            } else {
                format!("P{i}@Example.org")
            };
            BuiltItem {
                full,
                good,
                good_for_ads,
                identifier,
                odd,
            }
        })
        .collect()
}

proptest! {
    /// The batch exports exactly what exporting each good record alone
    /// exports (a good record: an item with an identifier, holding only
    /// its fine suppressions), and reports exactly the odd parts.
    #[test]
    fn a_batch_exports_what_its_good_records_export_one_by_one(records in arb_records()) {
        let (engine, small) = law_taxonomies();
        let items = build(&engine, &records);
        let secret = secret();
        let batch = SuppressionList::from_profiles(
            &small,
            items.iter().map(|it| (&it.full, it.identifier.as_str())),
            &secret,
            LAW_NOW,
        );

        let mut one_by_one = Vec::new();
        let mut want = Vec::new();
        for (position, it) in (1..).zip(&items) {
            want.extend(it.odd.iter().map(|p| (position, it.full.id().clone(), p.clone())));
            // Under any identifier, does the good record export something?
            let probe = if it.identifier.trim().is_empty() { "probe" } else { it.identifier.as_str() };
            let alone = SuppressionList::from_profiles(&small, [(&it.good, probe)], &secret, LAW_NOW);
            prop_assert!(alone.is_complete(), "{:?}", alone.problems);
            if it.identifier.trim().is_empty() {
                if !alone.list.is_empty() {
                    want.push((position, it.full.id().clone(), Expected::EmptyIdentifier));
                }
            } else {
                one_by_one.extend(alone.list);
            }
        }
        prop_assert_eq!(&batch.list, &SuppressionList::from(one_by_one));
        let got: Vec<_> = batch
            .problems
            .iter()
            .map(|p| (p.position, p.profile.clone(), expected(&p.kind)))
            .collect();
        prop_assert_eq!(got, want);
    }

    /// The same law for the ad exclusion list, for any campaign: there
    /// only unknown interests are odd.
    #[test]
    fn an_ad_batch_excludes_whom_its_good_records_exclude_one_by_one(
        records in arb_records(),
        purpose in prop::sample::select(Purpose::ALL.to_vec()),
        campaign in prop::option::of(prop::sample::select(vec!["baby", "baby/food", "babyx"])),
    ) {
        let (engine, small) = law_taxonomies();
        let items = build(&engine, &records);
        let batch = AdExclusionList::from_profiles(
            &small,
            items.iter().map(|it| (&it.full, it.identifier.as_str())),
            purpose,
            campaign,
            LAW_NOW,
        )
        .unwrap();

        let mut one_by_one = BTreeSet::new();
        let mut want = Vec::new();
        for (position, it) in (1..).zip(&items) {
            want.extend(
                it.odd
                    .iter()
                    .filter(|p| matches!(p, Expected::UnknownInterest(_)))
                    .map(|p| (position, it.full.id().clone(), p.clone())),
            );
            let probe = if it.identifier.trim().is_empty() { "probe@example.org" } else { it.identifier.as_str() };
            let alone = AdExclusionList::from_profiles(&small, [(&it.good_for_ads, probe)], purpose, campaign, LAW_NOW)
                .unwrap();
            prop_assert!(alone.is_complete(), "{:?}", alone.problems);
            if it.identifier.trim().is_empty() {
                if !alone.list.is_empty() {
                    want.push((position, it.full.id().clone(), Expected::EmptyIdentifier));
                }
            } else {
                one_by_one.extend(alone.list.hashes().map(str::to_owned));
            }
        }
        let got_hashes: BTreeSet<String> = batch.list.hashes().map(str::to_owned).collect();
        prop_assert_eq!(got_hashes, one_by_one);
        let got: Vec<_> = batch
            .problems
            .iter()
            .map(|p| (p.position, p.profile.clone(), expected(&p.kind)))
            .collect();
        prop_assert_eq!(got, want);
    }
}

/// A bereavement on `baby` covers the `pregnancy` life event: the partner
/// suppresses every subtree of it, each minimized on its own (a special
/// category among them takes the whole profile by default).
#[test]
fn a_bereavement_is_exported_for_its_whole_life_event() {
    let build = |special: bool| {
        let mut b = Taxonomy::builder()
            .interest("baby/food")
            .interest("parenting/books")
            .interest("garden/tools");
        b = if special {
            b.sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        } else {
            b.interest("health/pregnancy")
        };
        let t = b
            .life_event("pregnancy", ["baby", "health/pregnancy", "parenting"])
            .build()
            .unwrap();
        Engine::new(t, DecayPolicy::default())
    };
    let path = |p: &str| ExportScope::Interest(p.into());
    let ordinary = build(false);
    let anna = bereaved(&ordinary, "baby");
    assert_eq!(
        exported_scopes(&ordinary, &anna, ExportOptions::default()),
        [path("baby"), path("health/pregnancy"), path("parenting")]
    );
    assert!(ad_excludes(
        &ordinary,
        &anna,
        "parenting/books",
        ExportOptions::default()
    ));
    assert!(!ad_excludes(
        &ordinary,
        &anna,
        "garden/tools",
        ExportOptions::default()
    ));

    let special = build(true);
    let anna = bereaved(&special, "baby");
    assert_eq!(
        exported_scopes(&special, &anna, ExportOptions::default()),
        [ExportScope::All]
    );
    assert_eq!(
        exported_scopes(&special, &anna, ExportOptions::from(Minimization::Keep)),
        [path("baby"), path("health/pregnancy"), path("parenting")]
    );
    // An opt-out is not a bereavement: the life event does not opt it in.
    let mut ben = Profile::new("ben");
    special.suppress(
        &mut ben,
        Suppression::new(interest(&special, "baby"), SuppressionReason::OptOut, TOLD),
        TOLD,
    );
    assert_eq!(
        exported_scopes(&special, &ben, ExportOptions::default()),
        [path("baby")]
    );
}
