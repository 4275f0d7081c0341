//! Person-facing text speaks the person's language: the report, the
//! explanations, the deny reasons and the refusal messages of a rich profile
//! name interests by their path and purposes, channels and scopes in words.
//! None shows an interest handle (`#3`, `InterestId(3)`) or Debug output
//! (`[PartnerData, Marketing]`, `Interest(..)`), and a purpose the person
//! was never asked about is never shown as withdrawn.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn taxonomy() -> Taxonomy {
    Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .interest("parenting/books")
        .interest("outdoor/hiking")
        .interest("outdoor/camping")
        .interest("food/coffee")
        .interest("travel/city")
        .interest("garden/roses")
        .life_event("pregnancy", ["baby", "health/pregnancy", "parenting"])
        .build()
        .unwrap()
}

fn engine() -> Engine {
    Engine::new(taxonomy(), DecayPolicy::default())
        .with_segments(vec![
            SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
            SegmentDef::new("readers", Rule::interest("parenting/books")),
            SegmentDef::new("hikers", Rule::interest("outdoor/hiking"))
                .for_purpose(Purpose::Personalization),
            SegmentDef::new("hikers-by-mail", Rule::interest("outdoor/hiking"))
                .on_channels([Channel::Email]),
            SegmentDef::new("travellers", Rule::Likes("travel".into()))
                .for_purpose(Purpose::Personalization),
            SegmentDef::new(
                "outdoor-no-coffee",
                Rule::all([
                    Rule::interest("outdoor"),
                    Rule::Dislikes("food/coffee".into()),
                ]),
            )
            .for_purpose(Purpose::Personalization),
        ])
        .unwrap()
}

fn ui(what: &str) -> Evidence {
    Evidence::Ui(what.to_owned())
}

/// Everything the test renders, and the refusals seen.
struct World {
    engine: Engine,
    rosa: Profile,
    refusals: Vec<Refusal>,
    /// While the everything-suppression is in force.
    during_all: OffsetDateTime,
    now: OffsetDateTime,
}

/// Records `event` at `at`; keeps the refusal if there is one.
fn record(
    e: &Engine,
    p: &mut Profile,
    refusals: &mut Vec<Refusal>,
    event: Event,
    at: OffsetDateTime,
) {
    if let Err(r) = e.record(p, event, at) {
        refusals.push(r);
    }
}

/// Rosa: several interests (one a special category), a like, a dislike, a
/// dismissal, consents granted, withdrawn, expired and never asked, a GPC
/// signal, suppressions of every scope kind (a bereavement reaching a life
/// event among them), an erasure, and refused events of many kinds.
fn world() -> World {
    let engine = engine();
    let e = &engine;
    let id = |p: &str| e.taxonomy().id(p).unwrap();
    let mut refusals = Vec::new();
    let mut rosa = Profile::new("rosa");
    rosa.set_level(Level::FirstParty);
    let c = rosa.consent_mut();
    c.grant(Purpose::Personalization, T0, None, ui("sign-up form"))
        .unwrap();
    c.grant(Purpose::Marketing, T0, None, ui("sign-up form"))
        .unwrap();
    c.grant(Purpose::Measurement, T0, None, ui("cookie banner"))
        .unwrap();
    c.withdraw(
        Purpose::Measurement,
        T0 + Duration::days(2),
        ui("cookie banner"),
    )
    .unwrap();
    c.grant(
        Purpose::Location,
        T0,
        Some(T0 + Duration::days(5)),
        ui("store finder"),
    )
    .unwrap();

    let r = &mut refusals;
    // Before personalization was granted: refused (no consent then).
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/hiking"), Signal::View, T0 - Duration::hours(2)),
        T0,
    );
    for d in 0..3 {
        let at = T0 + Duration::days(d) + Duration::hours(1);
        for path in [
            "outdoor/hiking",
            "baby/food",
            "parenting/books",
            "garden/roses",
            "outdoor/camping",
        ] {
            record(e, &mut rosa, r, Event::new(id(path), Signal::View, at), at);
        }
    }
    let t = T0 + Duration::days(3);
    // A gift is stored but never counts.
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("baby/toys"), Signal::Purchase, t).with_gift(true),
        t,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("food/coffee"), Signal::View, t),
        t,
    );
    // Duplicate, special category, partner at first-party level, from the
    // future, stale, unknown interest.
    let hike = Event::new(id("outdoor/hiking"), Signal::View, T0 + Duration::hours(1));
    record(e, &mut rosa, r, hike, t);
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("health/pregnancy"), Signal::View, t),
        t,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/hiking"), Signal::Purchase, t).with_source(Source::Partner),
        t,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/hiking"), Signal::View, t + Duration::hours(3)),
        t,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/hiking"), Signal::View, t - Duration::days(200)),
        t,
    );
    let foreign: InterestId = serde_json::from_str("4242").unwrap();
    record(e, &mut rosa, r, Event::new(foreign, Signal::View, t), t);

    // She likes travel, dislikes coffee, dismisses camping.
    let t = T0 + Duration::days(4);
    rosa.like(id("travel"), t);
    rosa.like(id("health/pregnancy"), t);
    rosa.dislike(id("food/coffee"), t);
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/camping"), Signal::Dismissal, t),
        t,
    );
    let t = T0 + Duration::days(5);
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("food/coffee"), Signal::View, t),
        t,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/camping"), Signal::View, t - Duration::days(2)),
        t,
    );

    // Her browser sends Global Privacy Control: marketing (given) is
    // withdrawn, partner data (never asked) stays never asked.
    let gpc = T0 + Duration::days(6);
    assert_eq!(rosa.consent_mut().apply_gpc(gpc), [Purpose::Marketing]);

    // Suppressions of every scope kind.
    let t = T0 + Duration::days(7);
    for s in [
        Suppression::new(Scope::Channel(Channel::Sms), SuppressionReason::OptOut, t),
        Suppression::new(
            Scope::ChannelPurpose {
                channel: Channel::Email,
                purpose: Purpose::Marketing,
            },
            SuppressionReason::OptOut,
            t,
        ),
        Suppression::new(
            Scope::Purpose(Purpose::Location),
            SuppressionReason::OptOut,
            t,
        ),
        Suppression::new(
            Scope::Interest(id("travel/city")),
            SuppressionReason::Complaint,
            t,
        )
        .until(t + Duration::days(300))
        .unwrap(),
    ] {
        e.suppress(&mut rosa, s, t);
    }
    // A location event is refused by the purpose suppression.
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/hiking"), Signal::View, t).with_context(Context::Location),
        t,
    );

    // She asks us to erase what we know about her garden.
    let t = T0 + Duration::days(8);
    e.erase_interest(&mut rosa, id("garden"), t);
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("garden/roses"), Signal::View, t - Duration::hours(1)),
        t,
    );

    // Do-not-contact for two days.
    let dnc = T0 + Duration::days(10);
    e.suppress(
        &mut rosa,
        Suppression::new(Scope::All, SuppressionReason::DoNotContact, dnc)
            .until(dnc + Duration::days(2))
            .unwrap(),
        dnc,
    );
    let during_all = dnc + Duration::days(1);

    // She reports a pregnancy loss: baby, and the whole life event.
    let loss = T0 + Duration::days(14);
    e.suppress(
        &mut rosa,
        Suppression::new(
            Scope::Interest(id("baby")),
            SuppressionReason::Bereavement,
            loss,
        ),
        loss,
    );
    let now = loss + Duration::days(1);
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("baby/food"), Signal::Purchase, now).with_source(Source::Partner),
        now,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("parenting/books"), Signal::View, now),
        now,
    );
    record(
        e,
        &mut rosa,
        r,
        Event::new(id("outdoor/hiking"), Signal::View, now),
        now,
    );
    World {
        engine,
        rosa,
        refusals,
        during_all,
        now,
    }
}

/// The first id-like or Debug-like part of `text`, if any: `#` and a
/// digit, `InterestId`, a Debug list of capitalised words (`[A, B]`), or a
/// capitalised identifier directly followed by `(` or ` {` (`Interest(..)`,
/// `Grant { .. }`).
fn leak(text: &str) -> Option<String> {
    let b = text.as_bytes();
    for (i, w) in b.windows(2).enumerate() {
        if w[0] == b'#' && w[1].is_ascii_digit() {
            return Some(format!(
                "an id at {i}: {}",
                &text[i..(i + 8).min(text.len())]
            ));
        }
    }
    if let Some(i) = text.find("InterestId") {
        return Some(format!("InterestId at {i}"));
    }
    // Debug lists.
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inner = &after[..close];
        let debug_list = !inner.is_empty()
            && inner.split(", ").all(|part| {
                part.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if debug_list {
            return Some(format!("a Debug list [{inner}]"));
        }
        rest = after;
    }
    // Debug tuples and structs: `Interest(`, `Grant {`.
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphanumeric() || c == '_' {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            let word = &text[s..i];
            let capitalised = word.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            let debug = c == '(' || text[i..].starts_with(" {");
            if capitalised && debug {
                return Some(format!("Debug output {word}{c}"));
            }
        }
    }
    None
}

fn assert_speaks_words(what: &str, text: &str) {
    if let Some(l) = leak(text) {
        panic!("{what} shows {l}:\n{text}");
    }
}

#[test]
fn the_leak_check_catches_the_old_renderings() {
    for old in [
        "suppressed (bereavement) on interest #0 with no end",
        "Erased: Interest(InterestId(0)) up to 2026-11-16",
        "withdrew [PartnerData, Marketing]",
        "withdrew [Marketing]",
        "left out: event of #3 on 2026-11-02: a gift",
        "unknown interest #4242",
        "state Grant { expires: None }",
    ] {
        assert!(leak(old).is_some(), "{old}");
    }
    for fine in [
        "suppressed (bereavement) on interest baby and the whole life event pregnancy with no end",
        "Erased: interest garden up to 2026-03-10",
        "withdrew marketing, partner_data",
        "What we know about rosa (as of 2026-03-17)",
        "  measurement          withdrawn since 2026-03-04 (ui: cookie banner)",
    ] {
        assert_eq!(leak(fine), None, "{fine}");
    }
}

#[test]
fn the_report_of_a_rich_profile_speaks_words() {
    let w = world();
    let e = &w.engine;
    for at in [w.during_all, w.now] {
        let report = e.report(&w.rosa, at);
        let text = report.to_string();
        assert_speaks_words("the report", &text);

        // What the report must say, in words.
        for needle in [
            "Erased: interest garden up to",
            "Erased: the signals of interest baby up to",
            "Erased: the signals of interest parenting up to",
            "channel sms (opt-out)",
            "marketing on channel email (opt-out)",
            "purpose location (opt-out)",
            "interest travel/city (complaint)",
            "everything (do-not-contact)",
            "interest baby and the life event pregnancy (health/pregnancy, parenting) (bereavement)",
            "dislike food/coffee",
            "dismissal outdoor/camping",
            "like travel",
            "location             expired on 2026-03-07, granted 2026-03-02",
        ] {
            assert!(
                text.contains(needle) || at < T0 + Duration::days(14),
                "{needle:?} missing:\n{text}"
            );
        }

        // Never asked is never shown as withdrawn, after GPC too.
        for purpose in [
            Purpose::PartnerData,
            Purpose::CrossSite,
            Purpose::SensitiveInterests,
        ] {
            let line = report
                .consents
                .iter()
                .find(|c| c.purpose == purpose)
                .unwrap();
            assert_eq!(line.state, ConsentState::NeverAsked, "{purpose}");
            let shown = text
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{} ", purpose.name())))
                .unwrap();
            assert!(shown.contains("never asked"), "{shown}");
            assert!(!shown.contains("withdrawn"), "{shown}");
        }
        let marketing = text
            .lines()
            .find(|l| l.trim_start().starts_with("marketing "))
            .unwrap();
        assert!(marketing.contains("withdrawn") && marketing.contains("global privacy control"));
        for line in &report.erasures {
            assert!(!line.scope.is_empty());
        }
        // Memberships and their explanations are part of the report.
        assert!(at == w.during_all || !report.segments.is_empty(), "{text}");
    }
}

#[test]
fn explanations_deny_reasons_and_refusals_speak_words() {
    let w = world();
    let e = &w.engine;
    let tax = e.taxonomy();
    let id = |p: &str| tax.id(p).unwrap();
    let mut rendered: Vec<(String, String)> = Vec::new();

    // Every explanation of every interest, and of every membership.
    let mut exclusions = 0;
    for at in [w.during_all, w.now] {
        for (interest, path) in tax.iter() {
            let ex = e.explain(&w.rosa, interest, at);
            exclusions += ex.excluded.len();
            for x in &ex.excluded {
                assert_eq!(tax.path(x.interest), Some(x.path.as_str()));
                rendered.push((format!("exclusion of {path}"), x.reason.to_string()));
            }
            rendered.push((format!("explanation of {path} at {at}"), ex.to_string()));
        }
        for m in e.segments(&w.rosa, at) {
            rendered.push((
                format!("membership {}", m.segment),
                m.explanation.to_string(),
            ));
        }
    }
    assert!(exclusions > 0);

    // Every deny reason of many decisions.
    let foreign: InterestId = serde_json::from_str("4242").unwrap();
    let mut targets = vec![
        Target::Nobody,
        Target::Interest(foreign),
        Target::Segment("no-such-segment".into()),
    ];
    targets.extend(tax.iter().map(|(i, _)| Target::Interest(i)));
    targets.extend(e.segment_defs().map(|s| Target::Segment(s.name.clone())));
    let mut reasons: Vec<DenyReason> = Vec::new();
    for at in [w.during_all, w.now] {
        for channel in Channel::ALL {
            for purpose in Purpose::ALL {
                for target in &targets {
                    let req = MessageRequest::new(channel, purpose).about(target.clone());
                    match e.decide(&w.rosa, &req, at) {
                        Decision::Allow(ex) => {
                            rendered.push((format!("allow {req:?}"), ex.to_string()));
                        }
                        Decision::Deny(rs) => {
                            for r in rs {
                                rendered.push((format!("deny {req:?} at {at}"), r.to_string()));
                                if !reasons.contains(&r) {
                                    reasons.push(r);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // Every refusal message.
    for r in &w.refusals {
        rendered.push(("refusal".into(), r.to_string()));
        rendered.push(("refusal reason".into(), r.reason.to_string()));
    }

    for (what, text) in &rendered {
        assert_speaks_words(what, text);
    }

    // The rich profile reached every kind of text it was built for.
    let kinds: Vec<RefusalKind> = w.refusals.iter().map(|r| r.reason.kind()).collect();
    for kind in [
        RefusalKind::NoConsent,
        RefusalKind::Level,
        RefusalKind::Suppressed,
        RefusalKind::Stale,
        RefusalKind::FromFuture,
        RefusalKind::Invalid,
        RefusalKind::Erased,
        RefusalKind::Sensitive,
        RefusalKind::Disliked,
        RefusalKind::Dismissed,
        RefusalKind::Duplicate,
    ] {
        assert!(kinds.contains(&kind), "no {kind} refusal: {kinds:?}");
    }
    let has = |f: &dyn Fn(&DenyReason) -> bool| reasons.iter().any(f);
    assert!(has(&|r| matches!(
        r,
        DenyReason::Suppressed {
            scope: Scope::All,
            ..
        }
    )));
    assert!(has(&|r| matches!(
        r,
        DenyReason::Suppressed {
            scope: Scope::Channel(_),
            ..
        }
    )));
    assert!(has(&|r| matches!(
        r,
        DenyReason::Suppressed {
            scope: Scope::Purpose(_),
            ..
        }
    )));
    assert!(has(&|r| matches!(
        r,
        DenyReason::Suppressed {
            scope: Scope::ChannelPurpose { .. },
            ..
        }
    )));
    assert!(has(&|r| matches!(
        r,
        DenyReason::Suppressed {
            scope: Scope::Interest(_),
            life_event: Some(_),
            ..
        }
    )));
    assert!(has(&|r| matches!(r, DenyReason::NoConsent { .. })));
    assert!(has(&|r| matches!(r, DenyReason::NotEstablished { .. })));
    assert!(has(&|r| matches!(r, DenyReason::NotMember { .. })));
    assert!(has(&|r| matches!(r, DenyReason::UnknownSegment { .. })));
    assert!(has(&|r| matches!(r, DenyReason::UnknownInterest { .. })));
    assert!(has(&|r| matches!(r, DenyReason::Disliked { .. })));
    assert!(has(&|r| matches!(r, DenyReason::Dismissed { .. })));

    // And they say it in words.
    let all: Vec<&str> = rendered.iter().map(|(_, t)| t.as_str()).collect();
    let said = |needle: &str| all.iter().any(|t| t.contains(needle));
    for needle in [
        "suppressed (bereavement) on interest baby and the whole life event pregnancy",
        "suppressed (bereavement) on interest baby with no end",
        "suppressed (do-not-contact) on everything until",
        "suppressed (opt-out) on channel sms",
        "suppressed (opt-out) on marketing on channel email",
        "suppressed (complaint) on interest travel/city",
        "suppressed (bereavement) on this interest",
        "suppressed (opt-out) on purpose location",
        "the person dislikes interest food/coffee",
        "the person dismissed interest outdoor/camping",
        "interest food is not established",
        "about an interest this engine's taxonomy does not have",
        "the interest is not in this engine's taxonomy",
        "left out: event of outdoor/camping on",
        "left out: event of outdoor/hiking on",
        "suppressed (do-not-contact) on everything",
    ] {
        assert!(said(needle), "nothing says {needle:?}");
    }
    assert_eq!(
        reasons.iter().find_map(|r| match r {
            DenyReason::Dismissed { path, .. } => Some(path.as_str()),
            _ => None,
        }),
        Some("outdoor/camping")
    );
    assert_eq!(Scope::Interest(id("baby")).describe(tax), "interest baby");
}
