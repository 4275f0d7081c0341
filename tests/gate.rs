//! The one gate: suppression and consent win in every answer (`decide`,
//! `segments`, `segment_names`, `audience`, the report), a bereavement
//! covers the whole life event, and a suppression can scope a channel and a
//! purpose together.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroUsize;

use tactful::config::EngineConfig;
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const SIGNUP: OffsetDateTime = datetime!(2026-01-05 19:00 UTC);

fn ui() -> Evidence {
    Evidence::Ui("settings".into())
}

fn person(id: &str, level: Level, purposes: &[Purpose]) -> Profile {
    let mut p = Profile::new(id);
    p.set_level(level);
    for &purpose in purposes {
        p.consent_mut().grant(purpose, SIGNUP, None, ui()).unwrap();
    }
    p
}

const EVERYTHING: [Purpose; 4] = [
    Purpose::Personalization,
    Purpose::Marketing,
    Purpose::PartnerData,
    Purpose::SensitiveInterests,
];

// ---------------------------------------------------------------------------
// Seed 001: a pregnancy loss covers baby, pregnancy and parenting.
// ---------------------------------------------------------------------------

struct Family {
    engine: Engine,
    baby: InterestId,
    food: InterestId,
    pregnancy: InterestId,
    parenting: InterestId,
    books: InterestId,
    hiking: InterestId,
}

fn family() -> Family {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .interest("parenting/books")
        .interest("outdoor/hiking")
        .life_event("pregnancy", ["baby", "health/pregnancy", "parenting"])
        .build()
        .unwrap();
    let id = |p: &str| taxonomy.require(p).unwrap();
    let (baby, food, pregnancy) = (id("baby"), id("baby/food"), id("health/pregnancy"));
    let (parenting, books, hiking) = (id("parenting"), id("parenting/books"), id("outdoor/hiking"));
    let engine = Engine::new(taxonomy, DecayPolicy::default())
        .with_segments(vec![
            SegmentDef::new(
                "young-parents",
                Rule::any([Rule::interest("baby"), Rule::interest("health/pregnancy")]),
            ),
            SegmentDef::new("readers", Rule::interest("parenting")),
            SegmentDef::new("hikers", Rule::interest("outdoor/hiking")),
        ])
        .unwrap()
        .with_min_audience(NonZeroUsize::MIN);
    Family {
        engine,
        baby,
        food,
        pregnancy,
        parenting,
        books,
        hiking,
    }
}

fn record_days(e: &Engine, p: &mut Profile, interest: InterestId, from: OffsetDateTime) {
    for d in 0..3 {
        let at = from + Duration::days(d);
        e.record(p, Event::new(interest, Signal::View, at), at)
            .unwrap();
    }
}

/// Mara declares she is pregnant (a like on `health/pregnancy`), browses
/// baby food and parenting books, then reports a loss; the operator
/// suppresses only `baby`. Seven months later a partner sends baby-food
/// data: nothing about baby, pregnancy or parenting is allowed, listed as a
/// member, or scored, and every answer names the life event.
#[test]
fn a_pregnancy_loss_covers_the_whole_life_event() {
    let f = family();
    let e = &f.engine;
    let mut mara = person("mara", Level::Full, &EVERYTHING);
    mara.like(f.pregnancy, datetime!(2026-02-01 10:00 UTC));
    record_days(e, &mut mara, f.food, datetime!(2026-02-10 20:00 UTC));
    record_days(e, &mut mara, f.books, datetime!(2026-02-14 20:00 UTC));
    record_days(e, &mut mara, f.hiking, datetime!(2026-02-20 12:00 UTC));

    let before = datetime!(2026-02-25 09:00 UTC);
    let about_pregnancy =
        |c| MessageRequest::new(c, Purpose::Marketing).about(Target::Interest(f.pregnancy));
    assert!(e
        .decide(&mara, &about_pregnancy(Channel::Post), before)
        .is_allowed());
    assert_eq!(
        e.segment_names(&mara, before),
        ["young-parents", "readers", "hikers"]
    );

    // The loss is reported; the operator suppresses `baby` only.
    let loss = datetime!(2026-03-14 16:20 UTC);
    let purged = e.suppress(
        &mut mara,
        Suppression::new(
            Scope::Interest(f.baby),
            SuppressionReason::Bereavement,
            loss,
        ),
        loss,
    );
    assert_eq!(purged, 6, "baby and parenting signals are purged alike");
    assert_eq!(mara.events().len(), 3, "only the hiking views stay");
    record_days(e, &mut mara, f.hiking, datetime!(2026-10-05 12:00 UTC));

    // Seven months later, a partner delivers baby-food and parenting data.
    let october = datetime!(2026-10-14 09:00 UTC);
    for interest in [f.food, f.books, f.pregnancy] {
        let partner = Event::new(interest, Signal::Purchase, october - Duration::hours(12))
            .with_source(Source::Partner);
        let refusal = e.record(&mut mara, partner, october).unwrap_err();
        assert!(
            matches!(
                refusal.reason,
                RefusalReason::Suppressed {
                    reason: SuppressionReason::Bereavement,
                    ..
                }
            ),
            "{refusal:?}"
        );
    }

    let scores = e.scores(&mara, october);
    for i in [f.baby, f.food, f.pregnancy, f.parenting, f.books] {
        let s = scores.get(i).unwrap();
        assert_eq!((s.score, s.events, s.established), (0.0, 0, None), "{i:?}");
    }
    assert!(scores.is_established(f.hiking));
    assert_eq!(e.segment_names(&mara, october), ["hikers"]);
    let members: Vec<String> = e
        .segments(&mara, october)
        .into_iter()
        .map(|m| m.segment)
        .collect();
    assert_eq!(members, ["hikers"]);
    let report = e.report(&mara, october);
    let listed: Vec<&str> = report.segments.iter().map(|m| m.segment.as_str()).collect();
    assert_eq!(listed, ["hikers"]);
    assert!(
        report.suppressions[0]
            .scope
            .contains("life event pregnancy"),
        "{:?}",
        report.suppressions[0]
    );

    for channel in Channel::ALL {
        for purpose in [Purpose::Marketing, Purpose::Personalization] {
            for (target, through_event) in [
                (Target::Interest(f.baby), false),
                (Target::Interest(f.food), false),
                (Target::Interest(f.pregnancy), true),
                (Target::Interest(f.parenting), true),
                (Target::Interest(f.books), true),
                (Target::Segment("young-parents".into()), false),
                (Target::Segment("readers".into()), true),
            ] {
                let req = MessageRequest::new(channel, purpose).about(target.clone());
                let d = e.decide(&mara, &req, october);
                let want = DenyReason::Suppressed {
                    scope: Scope::Interest(f.baby),
                    about: "interest baby".into(),
                    reason: SuppressionReason::Bereavement,
                    until: None,
                    life_event: through_event.then(|| "pregnancy".to_owned()),
                };
                assert!(
                    d.reasons().contains(&want),
                    "{channel} {purpose} {target:?}: {d:?}"
                );
            }
        }
    }
    // The explanation of the declared like names the life event.
    let ex = e.explain(&mara, f.pregnancy, october);
    assert!(ex.excluded.iter().any(|x| matches!(
        &x.reason,
        ExclusionReason::Suppressed { life_event: Some(name), .. } if name == "pregnancy"
    )));
    // An audience for the segment is empty of her.
    let req = MessageRequest::new(Channel::Post, Purpose::Marketing)
        .about(Target::Segment("readers".into()));
    assert!(e.audience([&mara], &req, october).is_err());
}

/// A life event opts other reasons in: an opt-out of `baby` covers the
/// group only where the declaration says so.
#[test]
fn other_reasons_cover_a_life_event_only_when_it_opts_them_in() {
    let build = |also: &[SuppressionReason]| {
        Taxonomy::builder()
            .interest("baby/food")
            .interest("parenting/books")
            .life_event_for("pregnancy", ["baby", "parenting"], also.iter().copied())
            .build()
            .unwrap()
    };
    let since = datetime!(2026-03-01 0:00 UTC);
    for (also, covers) in [(&[][..], false), (&[SuppressionReason::OptOut][..], true)] {
        let t = build(also);
        let opt_out = Suppression::new(
            Scope::Interest(t.require("baby").unwrap()),
            SuppressionReason::OptOut,
            since,
        );
        let books = t.require("parenting/books").unwrap();
        assert_eq!(opt_out.covers_interest(&t, books), covers, "{also:?}");
        let loss = Suppression::new(
            Scope::Interest(t.require("baby").unwrap()),
            SuppressionReason::Bereavement,
            since,
        );
        assert!(loss.covers_interest(&t, books));
        // A suppression of a parent of a member touches the group too.
        let wide = Suppression::new(
            Scope::Interest(t.require("parenting").unwrap()),
            SuppressionReason::Bereavement,
            since,
        );
        assert!(wide.covers_interest(&t, t.require("baby/food").unwrap()));
    }
}

#[test]
fn life_events_are_read_from_config_and_refused_when_invalid() {
    let config = r#"{
        "taxonomy": {
            "interests": [{"path": "baby/food"}, {"path": "health/pregnancy", "sensitivity": {"special": "pregnancy_and_parenthood"}}, {"path": "parenting"}],
            "life_events": [{"name": "pregnancy", "interests": ["baby", "health/pregnancy", "parenting"], "also_for": ["opt_out"]}]
        },
        "segments": [
            {"name": "young-parents", "rule": {"interest": "baby"}},
            {"name": "app-tips", "rule": {"interest": "parenting"}, "purpose": "personalization", "channels": ["in_app", "push"]}
        ]
    }"#;
    let engine = EngineConfig::from_json(config)
        .unwrap()
        .into_engine()
        .unwrap();
    let t = engine.taxonomy();
    let event = &t.life_events()[0];
    assert_eq!(event.name(), "pregnancy");
    assert_eq!(event.roots().len(), 3);
    assert!(event.covers_reason(SuppressionReason::OptOut));
    assert!(!event.covers_reason(SuppressionReason::Complaint));
    let defs: Vec<&SegmentDef> = engine.segment_defs().collect();
    assert_eq!(defs[0].purpose, Purpose::Marketing);
    assert!(defs[0].channels.is_empty());
    assert_eq!(defs[1].purpose, Purpose::Personalization);
    assert_eq!(defs[1].channels, [Channel::InApp, Channel::Push]);
    // The taxonomy writes its life events back.
    let json = serde_json::to_string(t).unwrap();
    assert_eq!(&Taxonomy::from_json(&json).unwrap(), t);

    for (bad, needle) in [
        (
            r#"{"interests": [{"path": "baby"}], "life_events": [{"name": "pregnancy", "interests": ["babies"]}]}"#,
            "unknown interest path \"babies\"",
        ),
        (
            r#"{"interests": [{"path": "baby"}], "life_events": [{"name": "p", "interests": ["baby"]}, {"name": "p", "interests": ["baby"]}]}"#,
            "declared twice",
        ),
        (
            r#"{"interests": [{"path": "baby"}], "life_events": [{"name": "p", "interests": []}]}"#,
            "groups no interests",
        ),
        (
            r#"{"interests": [{"path": "baby"}], "life_events": [{"name": " ", "interests": ["baby"]}]}"#,
            "name is empty",
        ),
    ] {
        let err = Taxonomy::from_json(bad).unwrap_err();
        assert!(
            matches!(err, TaxonomyError::InvalidLifeEvent { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }
}

// ---------------------------------------------------------------------------
// Membership obeys the gate, whatever the rule.
// ---------------------------------------------------------------------------

fn shop() -> (Engine, InterestId) {
    let taxonomy = Taxonomy::builder()
        .interest("outdoor/hiking")
        .interest("baby/food")
        .build()
        .unwrap();
    let hiking = taxonomy.require("outdoor/hiking").unwrap();
    let engine = Engine::new(taxonomy, DecayPolicy::default())
        .with_segments(vec![
            SegmentDef::new("everyone-declared", Rule::LevelAtLeast(Level::Declared)),
            SegmentDef::new("not-hikers", Rule::negate(Rule::interest("outdoor/hiking"))),
            SegmentDef::new("baby-haters", Rule::Dislikes("baby".into())),
            SegmentDef::new("account", Rule::LevelAtLeast(Level::Off))
                .for_purpose(Purpose::Service)
                .on_channels([Channel::Email]),
        ])
        .unwrap()
        .with_min_audience(NonZeroUsize::MIN);
    (engine, hiking)
}

fn all_answers(e: &Engine, p: &Profile, now: OffsetDateTime) -> [Vec<String>; 3] {
    [
        e.segment_names(p, now)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        e.segments(p, now).into_iter().map(|m| m.segment).collect(),
        e.report(p, now)
            .segments
            .into_iter()
            .map(|m| m.segment)
            .collect(),
    ]
}

#[test]
fn rules_without_interest_evidence_still_need_the_gate() {
    let (e, _) = shop();
    let now = datetime!(2026-04-01 12:00 UTC);
    let mut ida = person(
        "ida",
        Level::Full,
        &[
            Purpose::Personalization,
            Purpose::Marketing,
            Purpose::PartnerData,
            Purpose::Location,
            Purpose::CrossSite,
        ],
    );
    ida.dislike(e.taxonomy().require("baby").unwrap(), SIGNUP);
    let everyone = ["everyone-declared", "not-hikers", "baby-haters", "account"];
    for answer in all_answers(&e, &ida, now) {
        assert_eq!(answer, everyone);
    }

    // Do not contact: no segment lists her, not even the service one.
    let mut dnc = ida.clone();
    e.suppress(
        &mut dnc,
        Suppression::new(Scope::All, SuppressionReason::DoNotContact, now),
        now,
    );
    for answer in all_answers(&e, &dnc, now) {
        assert!(answer.is_empty(), "{answer:?}");
    }
    for name in everyone {
        let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
            .about(Target::Segment(name.into()));
        assert!(e.audience([&dnc], &req, now).is_err(), "{name}");
    }

    // Personalization withdrawn: only the service segment is left.
    let mut withdrawn = ida.clone();
    withdrawn
        .consent_mut()
        .withdraw(Purpose::Personalization, now, ui())
        .unwrap();
    for answer in all_answers(&e, &withdrawn, now) {
        assert_eq!(answer, ["account"]);
    }

    // Marketing withdrawn: the marketing segments go, the service one stays.
    let mut no_marketing = ida.clone();
    no_marketing
        .consent_mut()
        .withdraw(Purpose::Marketing, now, ui())
        .unwrap();
    for answer in all_answers(&e, &no_marketing, now) {
        assert_eq!(answer, ["account"]);
    }

    // "Not a hiker" relies on location data being usable: without it the
    // absence of evidence proves nothing.
    let mut no_location = ida.clone();
    no_location
        .consent_mut()
        .withdraw(Purpose::Location, now, ui())
        .unwrap();
    for answer in all_answers(&e, &no_location, now) {
        assert_eq!(answer, ["everyone-declared", "baby-haters", "account"]);
    }

    // Level off: only service segments match.
    let mut off = ida.clone();
    off.set_level(Level::Off);
    for answer in all_answers(&e, &off, now) {
        assert_eq!(answer, ["account"]);
    }

    // Service e-mail suppressed: the service segment, on e-mail only, goes.
    let mut no_mail = ida;
    e.suppress(
        &mut no_mail,
        Suppression::new(
            Scope::Channel(Channel::Email),
            SuppressionReason::OptOut,
            now,
        ),
        now,
    );
    for answer in all_answers(&e, &no_mail, now) {
        assert_eq!(answer, ["everyone-declared", "not-hikers", "baby-haters"]);
    }
}

/// A suppression of an interest the rule names removes the person from
/// "not interested in" segments too: suppressing must never add a member.
#[test]
fn suppressing_an_interest_never_makes_a_member_of_its_negation() {
    let (e, hiking) = shop();
    let now = datetime!(2026-04-01 12:00 UTC);
    let mut ole = person(
        "ole",
        Level::Full,
        &[
            Purpose::Personalization,
            Purpose::Marketing,
            Purpose::PartnerData,
            Purpose::Location,
            Purpose::CrossSite,
        ],
    );
    record_days(&e, &mut ole, hiking, datetime!(2026-03-20 12:00 UTC));
    assert!(!e.segment_names(&ole, now).contains(&"not-hikers"));
    e.suppress(
        &mut ole,
        Suppression::new(Scope::Interest(hiking), SuppressionReason::OptOut, now),
        now,
    );
    assert!(!e.segment_names(&ole, now).contains(&"not-hikers"));
}

// ---------------------------------------------------------------------------
// Channel x purpose: "no marketing e-mails".
// ---------------------------------------------------------------------------

#[test]
fn no_marketing_emails_leaves_other_channels_and_purposes_open() {
    let taxonomy = Taxonomy::builder()
        .interest("outdoor/hiking")
        .build()
        .unwrap();
    let hiking = taxonomy.require("outdoor/hiking").unwrap();
    let e = Engine::new(taxonomy, DecayPolicy::default())
        .with_segments(vec![
            SegmentDef::new("hikers-by-mail", Rule::interest("outdoor"))
                .on_channels([Channel::Email]),
            SegmentDef::new("hikers", Rule::interest("outdoor"))
                .on_channels([Channel::Email, Channel::Post]),
        ])
        .unwrap();
    let now = datetime!(2026-04-01 12:00 UTC);
    let mut kim = person(
        "kim",
        Level::FirstParty,
        &[Purpose::Personalization, Purpose::Marketing],
    );
    record_days(&e, &mut kim, hiking, datetime!(2026-03-20 12:00 UTC));
    assert_eq!(e.segment_names(&kim, now), ["hikers-by-mail", "hikers"]);

    let scope = Scope::ChannelPurpose {
        channel: Channel::Email,
        purpose: Purpose::Marketing,
    };
    e.suppress(
        &mut kim,
        Suppression::new(scope, SuppressionReason::OptOut, now),
        now,
    );
    let ask = |c, p| e.decide(&kim, &MessageRequest::new(c, p), now);
    assert!(!ask(Channel::Email, Purpose::Marketing).is_allowed());
    assert_eq!(
        ask(Channel::Email, Purpose::Marketing).reasons(),
        [DenyReason::Suppressed {
            scope,
            about: "marketing on channel email".into(),
            reason: SuppressionReason::OptOut,
            until: None,
            life_event: None
        }]
    );
    assert!(ask(Channel::Post, Purpose::Marketing).is_allowed());
    assert!(ask(Channel::Email, Purpose::Service).is_allowed());
    assert_eq!(e.segment_names(&kim, now), ["hikers"]);
    // Data use is not a message: the interest still scores.
    assert!(e.scores(&kim, now).is_established(hiking));

    // It is stored, reloaded and reported in words.
    let json =
        serde_json::to_string(&Suppression::new(scope, SuppressionReason::OptOut, now)).unwrap();
    assert!(
        json.contains(r#""channel_purpose":{"channel":"email","purpose":"marketing"}"#),
        "{json}"
    );
    for back in [
        e.load_profile(&e.save_json(&kim).unwrap(), now).unwrap(),
        e.load_profile_binary(&e.save_binary(&kim).unwrap(), now)
            .unwrap(),
    ] {
        assert_eq!(back, kim);
    }
    let report = e.report(&kim, now);
    assert_eq!(report.suppressions[0].scope, "marketing on channel email");
}
