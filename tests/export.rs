//! Suppression export scenarios: the bereavement story end to end (operator
//! exports, partner imports and refuses to send), keys, windows, formats,
//! the incremental feed, the ad-platform format, and round-trip laws.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tactful::export::{
    AdExclusionList, ChangeKind, EntryError, ExportError, ExportScope, FeedChange, FeedError,
    KeySecret, SubjectKey, SuppressionEntry, SuppressionFeed, SuppressionList,
};
use tactful::{
    Channel, DecayPolicy, Engine, Profile, Purpose, Reason, Scope, Suppression, Taxonomy,
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
        Suppression::new(interest(&engine, "baby"), Reason::Bereavement, reported),
        reported,
    );
    let ben = Profile::new("customer-4712");

    // Operator: the nightly export, seven months later.
    let now = datetime!(2026-10-14 02:00 UTC);
    let list = SuppressionList::from_profiles(
        engine.taxonomy(),
        [
            (&anna, "Anna.Schmidt@example.org"),
            (&ben, "ben@example.org"),
        ],
        &secret(),
        now,
    )
    .unwrap();
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
    // The receiving side sees scope and window, nothing more.
    let entry = received.entries_for(&key).first().unwrap();
    assert_eq!(entry.scope(), &ExportScope::Interest("baby".into()));
    assert_eq!(entry.since(), reported);
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
        Reason::OptOut,
        now - Duration::days(30),
    )
    .until(now)
    .unwrap();
    let future = Suppression::new(
        Scope::Channel(Channel::Push),
        Reason::OptOut,
        now + Duration::SECOND,
    );
    let running = Suppression::new(Scope::Channel(Channel::Email), Reason::OptOut, now)
        .until(now + Duration::days(30))
        .unwrap();
    for s in [ended, future, running] {
        engine.suppress(&mut p, s, now - Duration::days(60));
    }
    let list =
        SuppressionList::from_profiles(engine.taxonomy(), [(&p, "p@example.org")], &secret(), now)
            .unwrap();
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

fn every_reason() -> [Reason; 6] {
    [
        Reason::Bereavement,
        Reason::OptOut,
        Reason::DoNotContact,
        Reason::Complaint,
        Reason::Legal,
        Reason::Other,
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
    let list =
        SuppressionList::from_profiles(engine.taxonomy(), people.iter().copied(), &secret(), now)
            .unwrap();
    assert_eq!(list.len(), 6 * 4);
    let mut feed = SuppressionFeed::new();
    feed.update(&list);
    let ads = AdExclusionList::from_profiles(
        engine.taxonomy(),
        people.iter().copied(),
        Purpose::Marketing,
        Some("baby/food"),
        now,
    )
    .unwrap();
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
        Suppression::new(Scope::Channel(Channel::Phone), Reason::Complaint, since),
        since,
    );
    engine.suppress(
        &mut p,
        Suppression::new(Scope::Channel(Channel::Phone), Reason::DoNotContact, since),
        since,
    );
    // The same person under two profile records (not yet merged).
    let q = p.clone();
    let list = SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&p, "P@x.org"), (&q, "p@x.org ")],
        &secret(),
        since,
    )
    .unwrap();
    assert_eq!(list.len(), 1);
}

#[test]
fn export_errors_are_typed() {
    let engine = engine();
    let since = datetime!(2026-03-14 10:00 UTC);
    let mut p = Profile::new("customer-1");
    engine.suppress(
        &mut p,
        Suppression::new(interest(&engine, "garden/tools"), Reason::OptOut, since),
        since,
    );

    // Exported with a taxonomy that does not know the interest.
    let small = Taxonomy::builder().interest("baby").build().unwrap();
    let err =
        SuppressionList::from_profiles(&small, [(&p, "a@b.org")], &secret(), since).unwrap_err();
    assert!(
        matches!(err, ExportError::UnknownInterest { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("profile \"customer-1\" suppresses interest #"),
        "{err}"
    );

    let err = SuppressionList::from_profiles(engine.taxonomy(), [(&p, " \t")], &secret(), since)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "profile \"customer-1\" has an empty identifier"
    );
    // An empty identifier without an active suppression is never keyed.
    let q = Profile::new("customer-2");
    assert!(
        SuppressionList::from_profiles(engine.taxonomy(), [(&q, "")], &secret(), since)
            .unwrap()
            .is_empty()
    );

    // Secrets.
    assert_eq!(KeySecret::new(b"short").unwrap_err().len, 5);
    assert_eq!(
        format!("{:?}", secret()),
        format!("KeySecret {{ len: {}, .. }}", OPERATOR_SECRET.len())
    );
    assert!(!format!("{:?}", secret()).contains("agreed"));

    // An out-of-range instant, an unknown campaign path.
    let mut r = Profile::new("customer-3");
    let ancient = datetime!(0000-01-01 0:00 +01:00);
    engine.suppress(
        &mut r,
        Suppression::new(Scope::All, Reason::Legal, ancient),
        since,
    );
    let err =
        SuppressionList::from_profiles(engine.taxonomy(), [(&r, "r@x.org")], &secret(), since)
            .unwrap_err();
    assert!(
        matches!(
            err,
            ExportError::InvalidEntry {
                error: EntryError::OutOfRange(_),
                ..
            }
        ),
        "{err:?}"
    );
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
            Suppression::new(scope, Reason::OptOut, since),
            since,
        );
        people.push((p, format!("{name}@example.org")));
    }
    let excluded = |interest_path| {
        let ads = AdExclusionList::from_profiles(
            engine.taxonomy(),
            people.iter().map(|(p, e)| (p, e.as_str())),
            Purpose::Marketing,
            interest_path,
            since,
        )
        .unwrap();
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

#[test]
fn a_partner_polls_the_feed_and_stays_in_sync() {
    let engine = engine();
    let secret = secret();
    let t0 = datetime!(2026-03-01 0:00 UTC);
    let mut anna = Profile::new("anna");
    let mut ben = Profile::new("ben");
    let export = |anna: &Profile, ben: &Profile, now| {
        SuppressionList::from_profiles(
            engine.taxonomy(),
            [(anna, "anna@example.org"), (ben, "ben@example.org")],
            &secret,
            now,
        )
        .unwrap()
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
        Suppression::new(interest(&engine, "baby"), Reason::Bereavement, t0),
        t0,
    );
    assert_eq!(feed.update(&export(&anna, &ben, t0)), 1);
    let changes = poll(&feed, &mut partner);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, ChangeKind::Added);

    // Day 10: ben opts out of SMS for 30 days.
    let t1 = t0 + Duration::days(10);
    let sms = Suppression::new(Scope::Channel(Channel::Sms), Reason::OptOut, t1)
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
    serde::<SubjectKey>();
    serde::<ExportScope>();
    serde::<SuppressionEntry>();
    serde::<SuppressionList>();
    serde::<SuppressionFeed>();
    serde::<FeedChange>();
    serde::<AdExclusionList>();
    error::<ExportError>();
    error::<EntryError>();
    error::<FeedError>();
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
