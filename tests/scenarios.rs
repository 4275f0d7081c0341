//! Scenario tests: one story per lesson of DESIGN.md, told with realistic
//! dates, asserting what must happen (including every refusal and its reason).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroUsize;

use tactful::*;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

// ---------------------------------------------------------------------------
// The shop's world: a small taxonomy, the default policy, two segments.
// ---------------------------------------------------------------------------

struct World {
    engine: Engine,
    baby: InterestId,
    food: InterestId,
    toys: InterestId,
    outdoor: InterestId,
    hiking: InterestId,
    pregnancy: InterestId,
}

fn taxonomy() -> Taxonomy {
    Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .interest("outdoor/hiking")
        .interest("outdoor/cycling")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .build()
        .expect("valid taxonomy")
}

fn world() -> World {
    world_with(DecayPolicy::default())
}

fn world_with(policy: DecayPolicy) -> World {
    let taxonomy = taxonomy();
    let id = |p: &str| taxonomy.id(p).expect("known path");
    let (baby, food, toys) = (id("baby"), id("baby/food"), id("baby/toys"));
    let (outdoor, hiking, pregnancy) =
        (id("outdoor"), id("outdoor/hiking"), id("health/pregnancy"));
    let engine = Engine::new(taxonomy, policy)
        .with_segments(vec![
            SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
            SegmentDef::new("hikers", Rule::interest("outdoor/hiking"))
                .for_purpose(Purpose::Personalization),
        ])
        .expect("valid segments");
    World {
        engine,
        baby,
        food,
        toys,
        outdoor,
        hiking,
        pregnancy,
    }
}

fn ui(where_: &str) -> Evidence {
    Evidence::Ui(where_.to_owned())
}

/// A person who chose `level` and granted the given purposes at `at`.
fn person(id: &str, level: Level, at: OffsetDateTime, purposes: &[Purpose]) -> Profile {
    let mut p = Profile::new(id);
    p.set_level(level);
    for purpose in purposes {
        p.consent_mut()
            .grant(*purpose, at, None, ui("signup banner"))
            .expect("valid grant");
    }
    p
}

/// Records an event that must be stored.
fn stored(engine: &Engine, p: &mut Profile, e: Event, now: OffsetDateTime) {
    if let Err(refusal) = engine.record(p, e, now) {
        panic!(
            "expected {e:?} to be stored, was refused: {}",
            refusal.reason
        );
    }
}

/// Records an event that must be refused; returns the reason.
fn refused(engine: &Engine, p: &mut Profile, e: Event, now: OffsetDateTime) -> RefusalReason {
    let refusal = engine
        .record(p, e, now)
        .expect_err("expected the event to be refused");
    assert_eq!(refusal.event, e, "the refused event is handed back");
    refusal.reason
}

/// A view of `interest` at `at`, recorded at `at`.
fn view(interest: InterestId, at: OffsetDateTime) -> Event {
    Event::new(interest, Signal::View, at)
}

fn view_now(engine: &Engine, p: &mut Profile, interest: InterestId, at: OffsetDateTime) {
    stored(engine, p, view(interest, at), at);
}

fn segment_names(engine: &Engine, p: &Profile, now: OffsetDateTime) -> Vec<String> {
    engine
        .segments(p, now)
        .into_iter()
        .map(|m| m.segment)
        .collect()
}

fn excluded_reasons(ex: &Explanation) -> Vec<ExclusionReason> {
    ex.excluded.iter().map(|x| x.reason.clone()).collect()
}

const CHANNELS: [Channel; 7] = [
    Channel::Email,
    Channel::Sms,
    Channel::Push,
    Channel::Post,
    Channel::Phone,
    Channel::InApp,
    Channel::Ads,
];

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * (1.0 + a.abs().max(b.abs()))
}

// ---------------------------------------------------------------------------
// Lesson 000: a one-off gift purchase must not bring baby ads everywhere.
// ---------------------------------------------------------------------------

/// Anna buys a baby rattle for her colleague's newborn, flags it as a gift,
/// and two days later looks once more at the toy page to check the delivery.
/// She is not a young parent, and the explanation says why.
#[test]
fn a_gift_baby_toy_does_not_put_the_buyer_into_young_parents() {
    let w = world();
    let e = &w.engine;
    let signup = datetime!(2026-11-01 09:00 UTC);
    let mut anna = person(
        "anna",
        Level::FirstParty,
        signup,
        &[Purpose::Personalization, Purpose::Marketing],
    );

    let gift_at = datetime!(2026-11-20 17:45 UTC);
    let gift = Event::new(w.toys, Signal::Purchase, gift_at).with_gift(true);
    stored(e, &mut anna, gift, gift_at);
    let again = datetime!(2026-11-22 08:10 UTC);
    view_now(e, &mut anna, w.toys, again);
    assert_eq!(anna.events().len(), 2, "the gift is stored, not dropped");

    let now = datetime!(2026-11-23 12:00 UTC);
    assert!(segment_names(e, &anna, now).is_empty());
    let scores = e.scores(&anna, now);
    assert!(!scores.is_established(w.baby));
    assert!(!scores.is_established(w.toys));
    let toys_score = scores.get(w.toys).unwrap();
    assert_eq!(toys_score.events, 1, "only the view is usable");

    let ex = e.explain(&anna, w.toys, now);
    assert!(
        excludes(
            &ex,
            w.toys,
            "baby/toys",
            Some(gift_at),
            &ExclusionReason::Gift
        ),
        "the gift must be listed as excluded: {ex:?}"
    );
    assert!(
        excluded_reasons(&ex).contains(&ExclusionReason::InsufficientEvidence {
            events: 1,
            days: 1,
            min_events: 3,
            min_days: 2,
        })
    );
    assert_eq!(ex.interests[0].events.len(), 1);
    assert_eq!(ex.interests[0].events[0].at, again);

    let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
        .about(Target::Segment("young-parents".into()));
    let d = e.decide(&anna, &req, now);
    assert!(d.reasons().contains(&DenyReason::NotMember {
        segment: "young-parents".into()
    }));
    let req = MessageRequest::new(Channel::Ads, Purpose::Marketing).about(Target::Interest(w.baby));
    assert!(e
        .decide(&anna, &req, now)
        .reasons()
        .contains(&DenyReason::NotEstablished {
            interest: w.baby,
            path: "baby".into(),
        }));
}

/// Ben clicks around the hiking section once, then binges three pages in one
/// evening. Neither one event nor one day establishes an interest (3 events
/// on 2 distinct days by default); the next day does.
#[test]
fn one_event_or_one_busy_evening_is_not_yet_an_interest() {
    let w = world();
    let e = &w.engine;
    let mut ben = person(
        "ben",
        Level::FirstParty,
        datetime!(2026-04-01 08:00 UTC),
        &[Purpose::Personalization],
    );

    // One heavy event (a purchase, weight 5) is still a single event.
    let mut once = ben.clone();
    let at = datetime!(2026-04-03 10:00 UTC);
    stored(e, &mut once, Event::new(w.hiking, Signal::Purchase, at), at);
    let s = e.scores(&once, at + Duration::hours(1));
    assert!(s.score(w.hiking) >= 2.0);
    assert!(!s.is_established(w.hiking));
    assert!(segment_names(e, &once, at + Duration::hours(1)).is_empty());

    // Three views in one evening: one day only.
    for t in [
        datetime!(2026-04-03 20:00 UTC),
        datetime!(2026-04-03 20:15 UTC),
        datetime!(2026-04-03 21:30 UTC),
    ] {
        view_now(e, &mut ben, w.hiking, t);
    }
    let evening = datetime!(2026-04-03 22:00 UTC);
    assert!(!e.scores(&ben, evening).is_established(w.hiking));
    assert!(
        excluded_reasons(&e.explain(&ben, w.hiking, evening)).contains(
            &ExclusionReason::InsufficientEvidence {
                events: 3,
                days: 1,
                min_events: 3,
                min_days: 2,
            }
        )
    );

    // The next morning: a second day.
    view_now(e, &mut ben, w.hiking, datetime!(2026-04-04 07:30 UTC));
    let now = datetime!(2026-04-04 08:00 UTC);
    let s = e.scores(&ben, now);
    assert_eq!(
        s.get(w.hiking).unwrap().established,
        Some(Establishment::Observed)
    );
    assert_eq!(s.get(w.hiking).unwrap().days, 2);
    assert_eq!(segment_names(e, &ben, now), vec!["hikers".to_owned()]);
}

// ---------------------------------------------------------------------------
// Lesson 001: the reported pregnancy loss and the partner's baby-food samples.
// ---------------------------------------------------------------------------

/// Mara browsed baby food and toys in February. On 1 March she reports a
/// pregnancy loss in the app. The baby signals are purged at once; in October
/// (seven months later) no baby message may go out on any channel, a partner
/// feed about baby food is refused, and restoring an old backup of her
/// profile does not bring the purged signals back.
#[test]
fn a_reported_pregnancy_loss_stops_baby_messages_everywhere_even_from_partners() {
    let w = world();
    let e = &w.engine;
    let signup = datetime!(2026-01-05 19:00 UTC);
    let mut mara = person(
        "mara",
        Level::Full,
        signup,
        &[
            Purpose::Personalization,
            Purpose::Marketing,
            Purpose::PartnerData,
        ],
    );
    view_now(e, &mut mara, w.food, datetime!(2026-02-10 21:00 UTC));
    view_now(e, &mut mara, w.toys, datetime!(2026-02-12 20:30 UTC));
    let search = Event::new(w.food, Signal::Search, datetime!(2026-02-15 07:45 UTC));
    stored(e, &mut mara, search, search.at());
    let cart = Event::new(w.food, Signal::AddToCart, datetime!(2026-02-18 22:05 UTC));
    stored(e, &mut mara, cart, cart.at());
    view_now(e, &mut mara, w.hiking, datetime!(2026-02-19 12:00 UTC));

    let before = datetime!(2026-02-20 09:00 UTC);
    assert!(e.scores(&mara, before).is_established(w.baby));
    assert!(segment_names(e, &mara, before).contains(&"young-parents".to_owned()));
    let sample =
        MessageRequest::new(Channel::Post, Purpose::Marketing).about(Target::Interest(w.food));
    assert!(e.decide(&mara, &sample, before).is_allowed());
    let backup = mara.clone();

    // The loss is reported.
    let loss = datetime!(2026-03-01 10:30 UTC);
    let purged = e.suppress(
        &mut mara,
        Suppression::new(
            Scope::Interest(w.baby),
            SuppressionReason::Bereavement,
            loss,
        ),
        loss,
    );
    assert_eq!(purged, 4, "all four baby signals are purged");
    assert!(mara
        .events()
        .iter()
        .all(|ev| !e.taxonomy().is_within(ev.interest(), w.baby)));
    assert_eq!(mara.events().len(), 1, "the hiking view is untouched");
    assert!(segment_names(e, &mara, loss)
        .iter()
        .all(|s| s != "young-parents"));
    assert_eq!(e.scores(&mara, loss).score(w.baby), 0.0);

    let bereavement = DenyReason::Suppressed {
        scope: Scope::Interest(w.baby),
        about: "interest baby".into(),
        reason: SuppressionReason::Bereavement,
        until: None,
        life_event: None,
    };
    // Seven months later.
    let october = datetime!(2026-10-01 09:00 UTC);
    for channel in CHANNELS {
        for purpose in [
            Purpose::Marketing,
            Purpose::Personalization,
            Purpose::Service,
        ] {
            for target in [
                Target::Interest(w.food),
                Target::Interest(w.toys),
                Target::Interest(w.baby),
                Target::Segment("young-parents".into()),
            ] {
                let req = MessageRequest::new(channel, purpose).about(target.clone());
                let d = e.decide(&mara, &req, october);
                assert!(
                    matches!(&d, Decision::Deny(r) if r.contains(&bereavement)),
                    "{channel} {purpose} {target:?} must be denied for bereavement, got {d:?}"
                );
            }
        }
    }

    // A partner sends a baby-food signal from last night.
    let partner = Event::new(w.food, Signal::View, datetime!(2026-09-30 20:00 UTC))
        .with_source(Source::Partner);
    assert_eq!(
        refused(e, &mut mara, partner, october),
        RefusalReason::Suppressed {
            scope: Scope::Interest(w.baby),
            reason: SuppressionReason::Bereavement,
        }
    );
    assert_eq!(mara.refusals().get(RefusalKind::Suppressed), 1);
    // Even a first-party purchase of baby food is not used.
    let own = Event::new(w.food, Signal::Purchase, october);
    assert!(matches!(
        refused(e, &mut mara, own, october),
        RefusalReason::Suppressed {
            reason: SuppressionReason::Bereavement,
            ..
        }
    ));
    assert_eq!(mara.refusals().get(RefusalKind::Suppressed), 2);
    // A late partner delivery of February data is gone for good.
    let late = Event::new(w.toys, Signal::Click, datetime!(2026-02-25 20:00 UTC))
        .with_source(Source::Partner);
    assert_eq!(
        refused(e, &mut mara, late, datetime!(2026-03-02 09:00 UTC)),
        RefusalReason::Erased { until: loss }
    );

    // Restoring the February backup, in both directions.
    let mut merged = mara.clone();
    e.merge(&mut merged, &backup);
    let mut restored = backup.clone();
    e.merge(&mut restored, &mara);
    for p in [&merged, &restored] {
        assert!(
            p.events()
                .iter()
                .all(|ev| !e.taxonomy().is_within(ev.interest(), w.baby)),
            "a backup must not bring purged signals back: {:?}",
            p.events()
        );
        assert_eq!(e.scores(p, october).score(w.baby), 0.0);
        assert!(!e.decide(p, &sample, october).is_allowed());
        assert!(e
            .decide(p, &sample, october)
            .reasons()
            .contains(&bereavement));
    }
}

// ---------------------------------------------------------------------------
// Lesson 001: freshness — nothing older than a few weeks, partner data sooner.
// ---------------------------------------------------------------------------

/// A batch import delivers Carl's hiking views: one from 57 days ago is
/// refused as stale (max age 56 days), one exactly 56 days old is accepted.
/// Dora's own fresh views count until they pass the max age, then they are
/// listed as too old and the score is 0.
#[test]
fn data_older_than_the_max_age_is_ignored() {
    let w = world();
    let e = &w.engine;
    let max_age = Duration::days(56);
    assert_eq!(e.policy().max_age(), max_age);

    let now = datetime!(2026-06-01 12:00 UTC);
    let mut carl = person(
        "carl",
        Level::FirstParty,
        datetime!(2026-01-01 00:00 UTC),
        &[Purpose::Personalization],
    );
    let old = view(w.hiking, now - Duration::days(57));
    assert_eq!(
        refused(e, &mut carl, old, now),
        RefusalReason::Stale {
            age: Duration::days(57),
            max_age,
        }
    );
    assert_eq!(carl.refusals().get(RefusalKind::Stale), 1);
    stored(e, &mut carl, view(w.hiking, now - max_age), now);
    assert_eq!(carl.events().len(), 1);

    let mut dora = person(
        "dora",
        Level::FirstParty,
        datetime!(2026-01-01 00:00 UTC),
        &[Purpose::Personalization],
    );
    let days = [
        datetime!(2026-03-02 18:00 UTC),
        datetime!(2026-03-03 18:00 UTC),
        datetime!(2026-03-04 18:00 UTC),
    ];
    for t in days {
        view_now(e, &mut dora, w.hiking, t);
    }
    // All three are still usable on the day the first one reaches max age.
    assert!(e.scores(&dora, days[0] + max_age).is_established(w.hiking));
    let last = days[2];
    assert!(e.scores(&dora, last + max_age).score(w.hiking) > 0.0);

    // One day after the last view passed its max age.
    let later = last + max_age + Duration::days(1);
    let s = e.scores(&dora, later);
    assert_eq!(s.score(w.hiking), 0.0);
    assert!(!s.is_established(w.hiking));
    assert!(!segment_names(e, &dora, later).contains(&"hikers".to_owned()));
    let ex = e.explain(&dora, w.hiking, later);
    for t in days {
        assert!(
            excludes(
                &ex,
                w.hiking,
                "outdoor/hiking",
                Some(t),
                &ExclusionReason::TooOld { max_age }
            ),
            "{t} must be listed as too old: {ex:?}"
        );
    }
}

/// Partner data goes stale after 21 days, first-party data after 56: a
/// 30-day-old partner signal is refused while Eva's own 30-day-old view is
/// accepted; a fresh partner signal stops counting after 21 days while her
/// own view from the same moment keeps counting.
#[test]
fn partner_data_expires_sooner_than_first_party_data() {
    let w = world();
    let e = &w.engine;
    let partner_max = Duration::days(21);
    assert_eq!(e.policy().partner_max_age(), partner_max);
    let grants = [Purpose::Personalization, Purpose::PartnerData];
    let mut eva = person("eva", Level::Full, datetime!(2026-01-10 10:00 UTC), &grants);

    let now = datetime!(2026-05-01 12:00 UTC);
    let month_ago = now - Duration::days(30);
    let partner_old = view(w.hiking, month_ago).with_source(Source::Partner);
    assert_eq!(
        refused(e, &mut eva, partner_old, now),
        RefusalReason::Stale {
            age: Duration::days(30),
            max_age: partner_max,
        }
    );
    stored(e, &mut eva, view(w.hiking, month_ago), now);

    let mut finn = person(
        "finn",
        Level::Full,
        datetime!(2026-01-10 10:00 UTC),
        &grants,
    );
    let t = datetime!(2026-05-01 12:00 UTC);
    let from_partner = Event::new(w.hiking, Signal::Click, t).with_source(Source::Partner);
    stored(e, &mut finn, from_partner, t);
    view_now(e, &mut finn, w.hiking, t);
    let hl = e.policy().half_life().get().as_seconds_f64();
    let decay = |age: Duration| (-(age.as_seconds_f64() / hl)).exp2();

    let at21 = t + partner_max;
    assert!(approx(
        e.scores(&finn, at21).score(w.hiking),
        (1.5 + 1.0) * decay(partner_max)
    ));

    let at22 = t + Duration::days(22);
    let s = e.scores(&finn, at22);
    assert!(
        approx(s.score(w.hiking), decay(Duration::days(22))),
        "only the first-party view counts after 21 days, got {}",
        s.score(w.hiking)
    );
    assert_eq!(s.get(w.hiking).unwrap().events, 1);
    let ex = e.explain(&finn, w.hiking, at22);
    assert!(excludes(
        &ex,
        w.hiking,
        "outdoor/hiking",
        Some(t),
        &ExclusionReason::TooOld {
            max_age: partner_max
        }
    ));
    let counted = &ex.interests[0].events;
    assert_eq!(counted.len(), 1);
    assert_eq!(counted[0].source, Source::FirstParty);
    assert!(counted[0].contribution > 0.0);
}

// ---------------------------------------------------------------------------
// Lesson 002: transparency and control.
// ---------------------------------------------------------------------------

/// Gregor withdraws personalization consent in the settings after a week of
/// hiking views. The effect of those views is gone at that very instant and
/// stays gone when he grants consent again a month later; only what he does
/// after the new grant counts.
#[test]
fn withdrawing_personalization_removes_earlier_events_at_once_and_for_good() {
    let w = world();
    let e = &w.engine;
    let mut gregor = person(
        "gregor",
        Level::FirstParty,
        datetime!(2026-02-01 08:00 UTC),
        &[Purpose::Personalization],
    );
    for t in [
        datetime!(2026-02-02 19:00 UTC),
        datetime!(2026-02-03 19:00 UTC),
        datetime!(2026-02-04 19:00 UTC),
    ] {
        view_now(e, &mut gregor, w.hiking, t);
    }
    let withdrawn_at = datetime!(2026-02-05 12:00 UTC);
    assert!(e
        .scores(&gregor, withdrawn_at - Duration::seconds(1))
        .is_established(w.hiking));

    gregor
        .consent_mut()
        .withdraw(
            Purpose::Personalization,
            withdrawn_at,
            ui("privacy settings"),
        )
        .unwrap();
    let s = e.scores(&gregor, withdrawn_at);
    assert_eq!(s.score(w.hiking), 0.0, "effect removed at the same instant");
    assert!(!s.is_established(w.hiking));
    assert!(segment_names(e, &gregor, withdrawn_at).is_empty());
    let withdrawn = ExclusionReason::NoConsent {
        purpose: Purpose::Personalization,
        state: ConsentState::Withdrawn,
    };
    assert!(excluded_reasons(&e.explain(&gregor, w.hiking, withdrawn_at)).contains(&withdrawn));
    let meanwhile = datetime!(2026-02-10 19:00 UTC);
    assert_eq!(
        refused(e, &mut gregor, view(w.hiking, meanwhile), meanwhile),
        RefusalReason::NoConsent {
            purpose: Purpose::Personalization,
            state: ConsentState::Withdrawn,
        }
    );

    // A month later he opts in again.
    let regrant = datetime!(2026-03-01 09:00 UTC);
    gregor
        .consent_mut()
        .grant(
            Purpose::Personalization,
            regrant,
            None,
            ui("privacy settings"),
        )
        .unwrap();
    let s = e.scores(&gregor, regrant);
    assert_eq!(s.score(w.hiking), 0.0, "old events do not come back");
    assert!(!s.is_established(w.hiking));
    assert!(excluded_reasons(&e.explain(&gregor, w.hiking, regrant)).contains(&withdrawn));

    let new_days = [
        datetime!(2026-03-02 19:00 UTC),
        datetime!(2026-03-03 19:00 UTC),
        datetime!(2026-03-04 19:00 UTC),
    ];
    view_now(e, &mut gregor, w.hiking, new_days[0]);
    let s = e.scores(&gregor, new_days[0]);
    assert!(
        approx(s.score(w.hiking), 1.0),
        "the new view counts in full"
    );
    assert_eq!(s.get(w.hiking).unwrap().events, 1);
    for t in &new_days[1..] {
        view_now(e, &mut gregor, w.hiking, *t);
    }
    let now = datetime!(2026-03-05 08:00 UTC);
    let s = e.scores(&gregor, now);
    assert_eq!(s.get(w.hiking).unwrap().events, 3, "only the new events");
    assert!(s.is_established(w.hiking));
    assert_eq!(segment_names(e, &gregor, now), vec!["hikers".to_owned()]);
}

/// Hanna gets tired of hiking suggestions and says "I don't like outdoor
/// stuff". Her declared dislike beats everything observed.
#[test]
fn a_declared_dislike_beats_observed_interest() {
    let w = world();
    let e = &w.engine;
    let mut hanna = person(
        "hanna",
        Level::FirstParty,
        datetime!(2026-05-01 08:00 UTC),
        &[Purpose::Personalization, Purpose::Marketing],
    );
    for t in [
        datetime!(2026-05-02 19:00 UTC),
        datetime!(2026-05-03 19:00 UTC),
        datetime!(2026-05-04 19:00 UTC),
        datetime!(2026-05-05 19:00 UTC),
    ] {
        view_now(e, &mut hanna, w.hiking, t);
    }
    let said_no = datetime!(2026-05-06 10:00 UTC);
    let req =
        MessageRequest::new(Channel::Email, Purpose::Marketing).about(Target::Interest(w.hiking));
    assert!(e.scores(&hanna, said_no).is_established(w.hiking));
    assert!(e.decide(&hanna, &req, said_no).is_allowed());

    hanna.dislike(w.outdoor, said_no);
    let s = e.scores(&hanna, said_no);
    assert!(!s.is_established(w.hiking));
    assert!(!s.is_established(w.outdoor));
    assert!(!segment_names(e, &hanna, said_no).contains(&"hikers".to_owned()));
    let d = e.decide(&hanna, &req, said_no);
    assert!(!d.is_allowed());
    assert!(d.reasons().contains(&DenyReason::Disliked {
        interest: w.hiking,
        path: "outdoor/hiking".into(),
    }));
    assert!(excluded_reasons(&e.explain(&hanna, w.hiking, said_no))
        .contains(&ExclusionReason::Disliked));

    let next = datetime!(2026-05-07 19:00 UTC);
    assert_eq!(
        refused(e, &mut hanna, view(w.hiking, next), next),
        RefusalReason::Disliked
    );
    assert_eq!(hanna.refusals().get(RefusalKind::Disliked), 1);
}

/// Ida tells the preference centre she likes baby things. At level Declared
/// with personalization consent that alone establishes the interest, without
/// a single observed event; without the consent or at level Off it does not.
#[test]
fn a_declared_like_establishes_an_interest_without_events() {
    let w = world();
    let e = &w.engine;
    let told = datetime!(2026-06-10 14:00 UTC);
    let mut ida = person(
        "ida",
        Level::Declared,
        told,
        &[Purpose::Personalization, Purpose::Marketing],
    );
    ida.like(w.baby, told);
    assert!(ida.events().is_empty());

    let now = datetime!(2026-06-11 09:00 UTC);
    let s = e.scores(&ida, now);
    for i in [w.baby, w.food, w.toys] {
        assert_eq!(
            s.get(i).unwrap().established,
            Some(Establishment::DeclaredLike)
        );
    }
    let members = e.segments(&ida, now);
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].segment, "young-parents");
    assert_eq!(members[0].explanation.interests[0].liked_at, Some(told));
    let req =
        MessageRequest::new(Channel::Email, Purpose::Marketing).about(Target::Interest(w.food));
    assert!(e.decide(&ida, &req, now).is_allowed());

    // Observed first-party events are not admitted at level Declared.
    assert_eq!(
        refused(e, &mut ida, view(w.hiking, now), now),
        RefusalReason::LevelTooLow {
            required: Level::FirstParty,
            level: Level::Declared,
        }
    );

    let mut no_consent = Profile::new("ida-without-consent");
    no_consent.set_level(Level::Declared);
    no_consent.like(w.baby, told);
    assert!(!e.scores(&no_consent, now).is_established(w.baby));
    let mut off = ida.clone();
    off.set_level(Level::Off);
    assert!(!e.scores(&off, now).is_established(w.baby));
    assert!(e.segments(&off, now).is_empty());
}

// ---------------------------------------------------------------------------
// Lesson 002: context gating — location and cross-site signals.
// ---------------------------------------------------------------------------

fn context_needs_own_consent_and_full(context: Context, purpose: Purpose) {
    let w = world();
    let e = &w.engine;
    let signup = datetime!(2026-08-01 08:00 UTC);
    let mut jo = person("jo", Level::FirstParty, signup, &[Purpose::Personalization]);
    let at = datetime!(2026-08-15 17:20 UTC);
    let ev = view(w.hiking, at).with_context(context);

    assert_eq!(
        refused(e, &mut jo, ev, at),
        RefusalReason::LevelTooLow {
            required: Level::Full,
            level: Level::FirstParty,
        }
    );
    jo.set_level(Level::Full);
    assert_eq!(
        refused(e, &mut jo, ev, at),
        RefusalReason::NoConsent {
            purpose,
            state: ConsentState::NeverAsked,
        }
    );
    assert_eq!(jo.refusals().get(RefusalKind::Level), 1);
    assert_eq!(jo.refusals().get(RefusalKind::NoConsent), 1);
    jo.consent_mut()
        .grant(purpose, signup, None, ui("explicit opt-in"))
        .unwrap();
    stored(e, &mut jo, ev, at);
    assert!(e.scores(&jo, at).score(w.hiking) > 0.0);

    // Stepping the level back down stops the signal counting at once.
    let mut lower = jo.clone();
    lower.set_level(Level::FirstParty);
    assert_eq!(e.scores(&lower, at).score(w.hiking), 0.0);
    assert!(excluded_reasons(&e.explain(&lower, w.hiking, at)).contains(
        &ExclusionReason::LevelTooLow {
            required: Level::Full,
            level: Level::FirstParty,
        }
    ));

    // Withdrawing just that consent does the same.
    let later = at + Duration::days(1);
    jo.consent_mut()
        .withdraw(purpose, later, ui("settings"))
        .unwrap();
    assert_eq!(e.scores(&jo, later).score(w.hiking), 0.0);
    assert!(excluded_reasons(&e.explain(&jo, w.hiking, later)).contains(
        &ExclusionReason::NoConsent {
            purpose,
            state: ConsentState::Withdrawn,
        }
    ));
}

/// Jo walks past the outdoor store: a location signal. It needs level Full
/// and its own location consent, not just personalization.
#[test]
fn location_signals_need_their_own_consent_and_level_full() {
    context_needs_own_consent_and_full(Context::Location, Purpose::Location);
}

/// Jo's browsing on other sites: a cross-site signal. It needs level Full and
/// its own cross-site consent.
#[test]
fn cross_site_signals_need_their_own_consent_and_level_full() {
    context_needs_own_consent_and_full(Context::CrossSite, Purpose::CrossSite);
}

// ---------------------------------------------------------------------------
// Lesson 002/004: service is not marketing; the level dial.
// ---------------------------------------------------------------------------

/// Karl never turned personalization on (level Off). The shop may still send
/// him the apology mail about his late parcel, but no marketing, even though
/// he once ticked the newsletter box.
#[test]
fn level_off_allows_only_service_messages() {
    let w = world();
    let e = &w.engine;
    let mut karl = person(
        "karl",
        Level::Off,
        datetime!(2026-09-01 10:00 UTC),
        &[Purpose::Marketing, Purpose::Personalization],
    );
    let now = datetime!(2026-09-20 10:00 UTC);

    let apology = MessageRequest::new(Channel::Email, Purpose::Service);
    assert!(e.decide(&karl, &apology, now).is_allowed());

    let newsletter = MessageRequest::new(Channel::Email, Purpose::Marketing);
    assert_eq!(
        e.decide(&karl, &newsletter, now).reasons(),
        &[DenyReason::LevelTooLow {
            required: Level::Declared,
            level: Level::Off,
        }]
    );
    let targeted =
        MessageRequest::new(Channel::Email, Purpose::Marketing).about(Target::Interest(w.hiking));
    assert!(e
        .decide(&karl, &targeted, now)
        .reasons()
        .contains(&DenyReason::LevelTooLow {
            required: Level::Declared,
            level: Level::Off,
        }));

    assert_eq!(
        refused(e, &mut karl, view(w.hiking, now), now),
        RefusalReason::LevelTooLow {
            required: Level::FirstParty,
            level: Level::Off,
        }
    );
    assert!(e.segments(&karl, now).is_empty());
}

/// Lena unsubscribes from marketing. The shop must still be able to send her
/// the order confirmation; only when she asks for no contact at all does
/// even that stop.
#[test]
fn a_marketing_opt_out_does_not_block_service_but_a_total_suppression_does() {
    let w = world();
    let e = &w.engine;
    let mut lena = person(
        "lena",
        Level::FirstParty,
        datetime!(2026-09-01 10:00 UTC),
        &[Purpose::Marketing, Purpose::Personalization],
    );
    let opt_out = datetime!(2026-09-10 08:00 UTC);
    let purged = e.suppress(
        &mut lena,
        Suppression::new(
            Scope::Purpose(Purpose::Marketing),
            SuppressionReason::OptOut,
            opt_out,
        ),
        opt_out,
    );
    assert_eq!(purged, 0, "an opt-out purges nothing");

    let now = datetime!(2026-09-12 08:00 UTC);
    let confirmation = MessageRequest::new(Channel::Email, Purpose::Service);
    let newsletter = MessageRequest::new(Channel::Email, Purpose::Marketing);
    assert!(e.decide(&lena, &confirmation, now).is_allowed());
    assert_eq!(
        e.decide(&lena, &newsletter, now).reasons(),
        &[DenyReason::Suppressed {
            scope: Scope::Purpose(Purpose::Marketing),
            about: "purpose marketing".into(),
            reason: SuppressionReason::OptOut,
            until: None,
            life_event: None,
        }]
    );

    let dnc = datetime!(2026-09-15 08:00 UTC);
    e.suppress(
        &mut lena,
        Suppression::new(Scope::All, SuppressionReason::DoNotContact, dnc),
        dnc,
    );
    for channel in CHANNELS {
        let d = e.decide(&lena, &MessageRequest::new(channel, Purpose::Service), dnc);
        assert!(
            d.reasons().contains(&DenyReason::Suppressed {
                scope: Scope::All,
                about: "everything".into(),
                reason: SuppressionReason::DoNotContact,
                until: None,
                life_event: None,
            }),
            "{channel}: {d:?}"
        );
    }
    // Before the do-not-contact the confirmation was fine.
    assert!(e
        .decide(&lena, &confirmation, dnc - Duration::seconds(1))
        .is_allowed());
}

// ---------------------------------------------------------------------------
// Audiences must not single out a person.
// ---------------------------------------------------------------------------

fn young_parent(w: &World, id: &str) -> Profile {
    let e = &w.engine;
    let mut p = person(
        id,
        Level::FirstParty,
        datetime!(2026-10-01 08:00 UTC),
        &[Purpose::Personalization, Purpose::Marketing],
    );
    for t in [
        datetime!(2026-10-02 20:00 UTC),
        datetime!(2026-10-03 20:00 UTC),
        datetime!(2026-10-04 20:00 UTC),
    ] {
        view_now(e, &mut p, w.food, t);
    }
    p
}

/// Marketing wants to mail "young-parents" in a small town: three people.
/// That would single them out, so the default minimum (50) refuses it. An
/// operator who deliberately lowers the minimum to 3 gets the audience, and
/// the bereaved and the non-member are left out and counted.
#[test]
fn an_audience_of_three_is_refused_and_suppressed_people_are_left_out() {
    let w = world();
    let now = datetime!(2026-10-05 09:00 UTC);
    let mut profiles: Vec<Profile> = ["p1", "p2", "p3"]
        .iter()
        .map(|id| young_parent(&w, id))
        .collect();
    let mut bereaved = young_parent(&w, "p4");
    w.engine.suppress(
        &mut bereaved,
        Suppression::new(
            Scope::Interest(w.baby),
            SuppressionReason::Bereavement,
            datetime!(2026-10-04 22:00 UTC),
        ),
        datetime!(2026-10-04 22:00 UTC),
    );
    profiles.push(bereaved);
    profiles.push(person(
        "p5",
        Level::FirstParty,
        datetime!(2026-10-01 08:00 UTC),
        &[Purpose::Personalization, Purpose::Marketing],
    ));

    let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
        .about(Target::Segment("young-parents".into()));
    assert_eq!(w.engine.min_audience(), 50);
    assert_eq!(
        w.engine.audience(&profiles, &req, now),
        Err(AudienceError::TooSmall { size: 3, min: 50 })
    );

    let small = w
        .engine
        .clone()
        .with_min_audience(NonZeroUsize::new(3).unwrap());
    let audience = small.audience(&profiles, &req, now).expect("3 >= 3");
    assert_eq!(
        audience.members,
        vec![
            ProfileId::from("p1"),
            ProfileId::from("p2"),
            ProfileId::from("p3")
        ]
    );
    assert_eq!(audience.left_out, 2);
    assert!(!audience.members.contains(&ProfileId::from("p4")));

    // Fewer than the lowered minimum is still refused.
    assert_eq!(
        small.audience(&profiles[2..], &req, now),
        Err(AudienceError::TooSmall { size: 1, min: 3 })
    );
    assert_eq!(
        small.audience(
            &profiles,
            &MessageRequest::new(Channel::Email, Purpose::Marketing),
            now
        ),
        Err(AudienceError::NoTarget)
    );
}

/// The CRM export has Yusuf's record three times (web, app and a stale
/// import that were never stitched). An audience must count people, not
/// records: three copies of one person do not make an audience of three.
#[test]
fn an_audience_counts_distinct_people_not_duplicate_records() {
    let w = world();
    let now = datetime!(2026-10-05 09:00 UTC);
    let yusuf = young_parent(&w, "yusuf");
    let copies = vec![yusuf.clone(), yusuf.clone(), yusuf];
    let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
        .about(Target::Segment("young-parents".into()));
    let small = w
        .engine
        .clone()
        .with_min_audience(NonZeroUsize::new(3).unwrap());
    match small.audience(&copies, &req, now) {
        Err(AudienceError::TooSmall { size, min }) => {
            assert_eq!((size, min), (1, 3));
        }
        other => panic!("one person three times must not pass a minimum of 3: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Dismissals, expiry, sensitive interests, invalid data.
// ---------------------------------------------------------------------------

/// Mia established an interest in baby toys, then taps "not interested" on a
/// toy ad. For the cooldown (90 days) the subtree is blocked and the old
/// signals do not count; once the cooldown is over it is no longer blocked.
#[test]
fn a_dismissal_blocks_its_subtree_for_the_cooldown() {
    let w = world();
    let e = &w.engine;
    let cooldown = e.policy().dismissal_cooldown();
    assert_eq!(cooldown, Duration::days(90));
    let mut mia = person(
        "mia",
        Level::FirstParty,
        datetime!(2026-03-01 08:00 UTC),
        &[Purpose::Personalization, Purpose::Marketing],
    );
    for t in [
        datetime!(2026-03-02 19:00 UTC),
        datetime!(2026-03-03 19:00 UTC),
        datetime!(2026-03-04 19:00 UTC),
    ] {
        view_now(e, &mut mia, w.toys, t);
    }
    let dismissed = datetime!(2026-03-05 08:00 UTC);
    let req =
        MessageRequest::new(Channel::InApp, Purpose::Marketing).about(Target::Interest(w.toys));
    assert!(e.decide(&mia, &req, dismissed).is_allowed());

    stored(
        e,
        &mut mia,
        Event::new(w.toys, Signal::Dismissal, dismissed),
        dismissed,
    );
    let now = datetime!(2026-03-06 08:00 UTC);
    let s = e.scores(&mia, now);
    assert!(!s.is_established(w.toys));
    assert_eq!(s.score(w.toys), 0.0, "the earlier views no longer count");
    assert!(e
        .decide(&mia, &req, now)
        .reasons()
        .contains(&DenyReason::Dismissed {
            interest: w.toys,
            path: "baby/toys".into(),
            at: dismissed,
        }));
    assert!(excluded_reasons(&e.explain(&mia, w.toys, now))
        .contains(&ExclusionReason::Dismissed { at: dismissed }));
    // A late-arriving view from before the dismissal is refused.
    let late = view(w.toys, datetime!(2026-03-04 21:00 UTC));
    assert_eq!(
        refused(e, &mut mia, late, now),
        RefusalReason::Dismissed { at: dismissed }
    );
    // Even new views during the cooldown do not re-establish it.
    for t in [
        datetime!(2026-03-10 19:00 UTC),
        datetime!(2026-03-11 19:00 UTC),
        datetime!(2026-03-12 19:00 UTC),
    ] {
        view_now(e, &mut mia, w.toys, t);
    }
    let still = datetime!(2026-03-13 08:00 UTC);
    assert!(!e.scores(&mia, still).is_established(w.toys));
    assert!(!e.decide(&mia, &req, still).is_allowed());

    // After the cooldown the dismissal no longer blocks.
    let after = dismissed + cooldown;
    assert!(!e
        .decide(&mia, &req, after)
        .reasons()
        .iter()
        .any(|r| matches!(r, DenyReason::Dismissed { .. })));
    // A dismissal older than the cooldown is stale when it arrives.
    let ancient = Event::new(
        w.toys,
        Signal::Dismissal,
        after - cooldown - Duration::days(1),
    );
    assert_eq!(
        refused(e, &mut mia, ancient, after),
        RefusalReason::Stale {
            age: cooldown + Duration::days(1),
            max_age: cooldown,
        }
    );
}

/// Nele keeps tapping "not relevant" — on hiking and on pregnancy content —
/// every day for two weeks. Dismissals are never evidence: nothing becomes
/// established, not even with the loosest policy and every consent granted.
#[test]
fn many_dismissals_never_establish_anything_not_even_a_sensitive_interest() {
    let loose = DecayPolicy::builder()
        .min_events(1)
        .min_days(1)
        .allow_sensitive_observation(true)
        .build()
        .unwrap();
    for w in [world(), world_with(loose)] {
        let e = &w.engine;
        let mut nele = person(
            "nele",
            Level::Full,
            datetime!(2026-07-01 08:00 UTC),
            &[Purpose::Personalization, Purpose::SensitiveInterests],
        );
        let start = datetime!(2026-07-02 12:00 UTC);
        for d in 0..14 {
            let at = start + Duration::days(d);
            stored(
                e,
                &mut nele,
                Event::new(w.hiking, Signal::Dismissal, at),
                at,
            );
            stored(
                e,
                &mut nele,
                Event::new(w.pregnancy, Signal::Dismissal, at),
                at,
            );
        }
        let now = start + Duration::days(14);
        let s = e.scores(&nele, now);
        assert_eq!(s.iter().count(), 0, "no interest has evidence: {s:?}");
        for i in [w.hiking, w.outdoor, w.pregnancy, w.baby] {
            assert!(!s.is_established(i));
            assert_eq!(s.score(i), 0.0);
        }
        let health = e.taxonomy().id("health").unwrap();
        assert!(!s.is_established(health));
        assert!(e.segments(&nele, now).is_empty());
        assert!(excluded_reasons(&e.explain(&nele, w.pregnancy, now))
            .contains(&ExclusionReason::DismissalIsNotEvidence));
        assert!(e.report(&nele, now).interests.is_empty());
    }
}

/// Otto granted personalization for one season, until 1 May. After that the
/// grant counts as not granted everywhere — at scoring time too — and reads
/// as "expired", which is neither "withdrawn" nor "never asked".
#[test]
fn an_expired_consent_is_enforced_at_scoring_time() {
    let w = world();
    let e = &w.engine;
    let granted = datetime!(2026-04-01 08:00 UTC);
    let expires = datetime!(2026-05-01 00:00 UTC);
    let mut otto = Profile::new("otto");
    otto.set_level(Level::FirstParty);
    otto.consent_mut()
        .grant(
            Purpose::Personalization,
            granted,
            Some(expires),
            ui("seasonal promo"),
        )
        .unwrap();
    for t in [
        datetime!(2026-04-20 19:00 UTC),
        datetime!(2026-04-21 19:00 UTC),
        datetime!(2026-04-22 19:00 UTC),
    ] {
        view_now(e, &mut otto, w.hiking, t);
    }
    let just_before = expires - Duration::seconds(1);
    assert!(e.scores(&otto, just_before).is_established(w.hiking));

    let expired = ConsentState::Expired;
    assert_eq!(
        otto.consent().state(Purpose::Personalization, expires),
        expired
    );
    let s = e.scores(&otto, expires);
    assert_eq!(s.score(w.hiking), 0.0);
    assert!(!s.is_established(w.hiking));
    assert!(e.segments(&otto, expires).is_empty());
    assert!(
        excluded_reasons(&e.explain(&otto, w.hiking, expires)).contains(
            &ExclusionReason::NoConsent {
                purpose: Purpose::Personalization,
                state: expired,
            }
        )
    );
    let now = datetime!(2026-05-02 19:00 UTC);
    assert_eq!(
        refused(e, &mut otto, view(w.hiking, now), now),
        RefusalReason::NoConsent {
            purpose: Purpose::Personalization,
            state: expired,
        }
    );
    let req = MessageRequest::new(Channel::InApp, Purpose::Personalization)
        .about(Target::Interest(w.hiking));
    assert!(e
        .decide(&otto, &req, now)
        .reasons()
        .contains(&DenyReason::NoConsent {
            purpose: Purpose::Personalization,
            state: expired,
        }));

    // Expired, withdrawn and never asked stay distinct.
    let mut withdrew = otto.consent().clone();
    withdrew
        .withdraw(
            Purpose::Personalization,
            datetime!(2026-04-25 00:00 UTC),
            ui("settings"),
        )
        .unwrap();
    let never = ConsentLedger::default();
    let states = [
        otto.consent().state(Purpose::Personalization, now),
        withdrew.state(Purpose::Personalization, now),
        never.state(Purpose::Personalization, now),
    ];
    assert_eq!(
        states,
        [
            ConsentState::Expired,
            ConsentState::Withdrawn,
            ConsentState::NeverAsked
        ]
    );
}

/// Pia reads pregnancy articles. A special-category interest is not inferred
/// from behaviour by default (the events are refused as sensitive); when she
/// says herself that she wants pregnancy content, it is established.
#[test]
fn a_sensitive_interest_is_only_established_by_a_declared_like_by_default() {
    let w = world();
    let e = &w.engine;
    let signup = datetime!(2026-06-01 08:00 UTC);
    let mut pia = person(
        "pia",
        Level::Full,
        signup,
        &[Purpose::Personalization, Purpose::SensitiveInterests],
    );
    for t in [
        datetime!(2026-06-02 21:00 UTC),
        datetime!(2026-06-03 21:00 UTC),
        datetime!(2026-06-04 21:00 UTC),
    ] {
        assert_eq!(
            refused(e, &mut pia, view(w.pregnancy, t), t),
            RefusalReason::Sensitive
        );
    }
    assert_eq!(pia.refusals().get(RefusalKind::Sensitive), 3);
    assert!(pia.events().is_empty());
    let now = datetime!(2026-06-05 08:00 UTC);
    assert!(!e.scores(&pia, now).is_established(w.pregnancy));

    let told = datetime!(2026-06-05 09:00 UTC);
    pia.like(w.pregnancy, told);
    assert_eq!(
        e.scores(&pia, told).get(w.pregnancy).unwrap().established,
        Some(Establishment::DeclaredLike)
    );
}

/// A publisher that explicitly allows observing special categories still
/// needs Quentin's sensitive-interests consent before observing his
/// pregnancy reading; with both it is established from observation.
#[test]
fn sensitive_observation_needs_the_policy_switch_and_the_sensitive_grant() {
    let policy = DecayPolicy::builder()
        .allow_sensitive_observation(true)
        .build()
        .unwrap();
    let w = world_with(policy);
    let e = &w.engine;
    let signup = datetime!(2026-06-01 08:00 UTC);
    let mut quentin = person(
        "quentin",
        Level::FirstParty,
        signup,
        &[Purpose::Personalization],
    );
    let first = datetime!(2026-06-02 21:00 UTC);
    assert_eq!(
        refused(e, &mut quentin, view(w.pregnancy, first), first),
        RefusalReason::NoConsent {
            purpose: Purpose::SensitiveInterests,
            state: ConsentState::NeverAsked,
        }
    );
    quentin
        .consent_mut()
        .grant(
            Purpose::SensitiveInterests,
            signup,
            None,
            ui("explicit opt-in"),
        )
        .unwrap();
    for t in [
        first,
        datetime!(2026-06-03 21:00 UTC),
        datetime!(2026-06-04 21:00 UTC),
    ] {
        view_now(e, &mut quentin, w.pregnancy, t);
    }
    let now = datetime!(2026-06-05 08:00 UTC);
    assert_eq!(
        e.scores(&quentin, now)
            .get(w.pregnancy)
            .unwrap()
            .established,
        Some(Establishment::Observed)
    );

    // Withdrawing the sensitive grant un-establishes it at once.
    quentin
        .consent_mut()
        .withdraw(Purpose::SensitiveInterests, now, ui("settings"))
        .unwrap();
    let s = e.scores(&quentin, now);
    assert!(!s.is_established(w.pregnancy));
    assert_eq!(s.score(w.pregnancy), 0.0);
}

/// A buggy importer sends an event stamped two hours ahead, and one for an
/// interest id from another shop's taxonomy. Both are refused and counted.
#[test]
fn events_from_the_future_and_unknown_interests_are_refused() {
    let w = world();
    let e = &w.engine;
    let mut rita = person(
        "rita",
        Level::FirstParty,
        datetime!(2026-01-01 08:00 UTC),
        &[Purpose::Personalization],
    );
    let now = datetime!(2026-02-01 12:00 UTC);
    let future = view(w.hiking, now + Duration::hours(2));
    assert_eq!(
        refused(e, &mut rita, future, now),
        RefusalReason::FromFuture {
            ahead: Duration::hours(2)
        }
    );
    let foreign: InterestId = serde_json::from_str("4242").unwrap();
    assert!(!e.taxonomy().contains(foreign));
    assert_eq!(
        refused(e, &mut rita, view(foreign, now), now),
        RefusalReason::UnknownInterest(foreign)
    );
    assert_eq!(rita.refusals().get(RefusalKind::FromFuture), 1);
    assert_eq!(rita.refusals().get(RefusalKind::Invalid), 1);
    assert_eq!(rita.refusals().total(), 2);
    assert!(rita.events().is_empty());
    // A message about an unknown interest is denied, not allowed.
    let req = MessageRequest::new(Channel::Email, Purpose::Personalization)
        .about(Target::Interest(foreign));
    assert!(e
        .decide(&rita, &req, now)
        .reasons()
        .contains(&DenyReason::UnknownInterest { interest: foreign }));
}

// ---------------------------------------------------------------------------
// Erasure, compaction, merge, report.
// ---------------------------------------------------------------------------

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// Sara asks to erase everything about baby products. Her exported profile
/// then carries none of those events (not even their timestamps), merging
/// the copy from before the erasure does not restore them, and a late event
/// from before the erasure is refused.
#[test]
fn erasing_an_interest_leaves_nothing_a_merge_or_late_event_could_revive() {
    let w = world();
    let e = &w.engine;
    let mut sara = person(
        "sara",
        Level::FirstParty,
        datetime!(2026-03-01 07:00 UTC),
        &[Purpose::Personalization],
    );
    let baby_times = [
        datetime!(2026-03-02 08:17:23 UTC),
        datetime!(2026-03-03 09:41:07 UTC),
        datetime!(2026-03-04 10:05:59 UTC),
    ];
    view_now(e, &mut sara, w.food, baby_times[0]);
    view_now(e, &mut sara, w.toys, baby_times[1]);
    let dismissal = Event::new(w.toys, Signal::Dismissal, baby_times[2]);
    stored(e, &mut sara, dismissal, baby_times[2]);
    let liked = datetime!(2026-03-04 11:11:11 UTC);
    sara.like(w.food, liked);
    let hiking_at = datetime!(2026-03-04 12:00 UTC);
    view_now(e, &mut sara, w.hiking, hiking_at);
    let before = sara.clone();
    let before_json = e.save_json(&before).unwrap();
    for t in baby_times.iter().chain([&liked]) {
        assert!(
            before_json.contains(&rfc3339(*t)),
            "sanity: {t} is exported"
        );
    }

    let erased_at = datetime!(2026-03-05 15:00 UTC);
    assert_eq!(e.erase_interest(&mut sara, w.baby, erased_at), 3);
    assert_eq!(sara.events().len(), 1);
    assert_eq!(sara.events()[0].at(), hiking_at);
    assert!(sara.preferences().is_empty());

    let check = |p: &Profile| {
        let json = e.save_json(p).unwrap();
        for t in baby_times.iter().chain([&liked]) {
            assert!(
                !json.contains(&rfc3339(*t)),
                "erased timestamp {t} still in the export: {json}"
            );
        }
        assert!(json.contains(&rfc3339(hiking_at)));
        assert!(p
            .events()
            .iter()
            .all(|ev| !e.taxonomy().is_within(ev.interest(), w.baby)));
        assert!(p.preferences().is_empty());
        assert!(!e.scores(p, erased_at).is_established(w.food));
    };
    check(&sara);

    let mut merged = sara.clone();
    e.merge(&mut merged, &before);
    check(&merged);
    let mut restored = before.clone();
    e.merge(&mut restored, &sara);
    check(&restored);

    // A late event from before the erasure is refused; new ones are fine.
    let late_at = datetime!(2026-03-05 14:00 UTC);
    let after = datetime!(2026-03-06 10:00 UTC);
    assert_eq!(
        refused(e, &mut sara, view(w.food, late_at), after),
        RefusalReason::Erased { until: erased_at }
    );
    assert_eq!(sara.refusals().get(RefusalKind::Erased), 1);
    stored(e, &mut sara, view(w.food, after), after);
}

fn busy_profile(w: &World) -> Profile {
    let e = &w.engine;
    let mut p = person(
        "tom",
        Level::Full,
        datetime!(2026-01-01 08:00 UTC),
        &[
            Purpose::Personalization,
            Purpose::Marketing,
            Purpose::PartnerData,
        ],
    );
    p.like(w.baby, datetime!(2026-01-02 08:00 UTC));
    for t in [
        datetime!(2026-02-01 08:00 UTC),
        datetime!(2026-03-01 08:00 UTC),
        datetime!(2026-04-01 08:00 UTC),
    ] {
        let v = view(w.food, t).with_source(Source::Partner);
        stored(e, &mut p, v, t);
    }
    p
}

/// Tina wipes her account. Nothing about her events or preferences remains,
/// and the copy from before does not bring them back.
#[test]
fn erasing_a_profile_leaves_no_events_or_preferences() {
    let w = world();
    let e = &w.engine;
    let mut tina = busy_profile(&w);
    for t in [
        datetime!(2026-04-02 08:00 UTC),
        datetime!(2026-04-03 08:00 UTC),
        datetime!(2026-04-04 08:00 UTC),
    ] {
        view_now(e, &mut tina, w.hiking, t);
    }
    tina.dislike(w.outdoor, datetime!(2026-04-05 08:00 UTC));
    let _ = e.record(
        &mut tina,
        view(w.hiking, datetime!(2026-01-01 09:00 UTC)),
        datetime!(2026-04-05 09:00 UTC),
    );
    let before = tina.clone();
    assert!(!before.events().is_empty());

    let wiped = datetime!(2026-04-06 08:00 UTC);
    e.erase_profile(&mut tina, wiped);
    let check = |p: &Profile| {
        assert!(p.events().is_empty(), "{:?}", p.events());
        assert!(p.preferences().is_empty(), "{:?}", p.preferences());
        assert_eq!(p.level(), Level::Off);
        assert_eq!(
            p.consent().state(Purpose::Personalization, wiped),
            ConsentState::Withdrawn
        );
        assert_eq!(e.scores(p, wiped).iter().count(), 0);
        assert!(e.segments(p, wiped).is_empty());
    };
    check(&tina);
    assert_eq!(tina.refusals().total(), 0);
    let mut merged = tina.clone();
    e.merge(&mut merged, &before);
    check(&merged);
    let mut restored = before.clone();
    e.merge(&mut restored, &tina);
    check(&restored);
}

/// The erased refusal counters are data about the person too; an old copy
/// must not bring them back after a full erasure.
#[test]
fn erasing_a_profile_keeps_refusal_counters_erased_after_a_merge() {
    let w = world();
    let e = &w.engine;
    let mut ulla = busy_profile(&w);
    let now = datetime!(2026-04-05 09:00 UTC);
    let _ = e.record(&mut ulla, view(w.pregnancy, now), now);
    assert_eq!(ulla.refusals().get(RefusalKind::Sensitive), 1);
    let before = ulla.clone();
    let wiped = datetime!(2026-04-06 08:00 UTC);
    e.erase_profile(&mut ulla, wiped);
    assert_eq!(ulla.refusals().total(), 0);
    e.merge(&mut ulla, &before);
    assert_eq!(
        ulla.refusals().total(),
        0,
        "a pre-erasure copy brought refusal counters back: {:?}",
        ulla.refusals()
    );
}

/// The nightly job compacts Uwe's profile: events past their max age (and
/// partner events past the partner max age), dismissals past the cooldown
/// and ended suppressions go; no score, establishment or segment at `now`
/// (or later) changes.
#[test]
fn compaction_forgets_old_events_without_changing_scores() {
    let w = world();
    let e = &w.engine;
    let mut uwe = person(
        "uwe",
        Level::Full,
        datetime!(2025-12-01 08:00 UTC),
        &[Purpose::Personalization, Purpose::PartnerData],
    );
    let start = datetime!(2026-01-01 18:00 UTC);
    for d in 0..120 {
        let at = start + Duration::days(d);
        let ev = match d % 3 {
            0 => view(w.hiking, at),
            1 => view(w.food, at).with_source(Source::Partner),
            _ => Event::new(w.toys, Signal::Click, at),
        };
        stored(e, &mut uwe, ev, at);
    }
    let dismissed = start + Duration::days(5) + Duration::hours(1);
    stored(
        e,
        &mut uwe,
        Event::new(w.outdoor, Signal::Dismissal, dismissed),
        dismissed,
    );
    let ended = Suppression::new(
        Scope::Channel(Channel::Sms),
        SuppressionReason::OptOut,
        start,
    )
    .until(start + Duration::days(10))
    .unwrap();
    e.suppress(&mut uwe, ended, start);

    let now = start + Duration::days(120);
    let before = uwe.clone();
    let removed = e.compact(&mut uwe, now);
    assert!(removed > 0);
    assert_eq!(uwe.events().len(), before.events().len() - removed);
    assert!(uwe.suppressions().is_empty());
    for ev in uwe.events() {
        assert!(
            now - ev.at()
                <= e.policy()
                    .max_age_for(e.taxonomy(), ev.interest(), ev.source())
        );
    }
    for t in [now, now + Duration::days(1), now + Duration::days(30)] {
        // Equal up to rounding: the incremental sums of the two profiles
        // were accumulated in a different order.
        let (after_s, before_s) = (e.scores(&uwe, t), e.scores(&before, t));
        for (id, _) in e.taxonomy().iter() {
            let (a, b) = (after_s.get(id).unwrap(), before_s.get(id).unwrap());
            assert!(
                (a.score - b.score).abs() <= 1e-9 * b.score.abs().max(1e-300),
                "score of {id} at {t}: {} vs {}",
                a.score,
                b.score
            );
            assert_eq!(
                (a.events, a.days, a.established),
                (b.events, b.days, b.established),
                "evidence of {id} at {t}"
            );
        }
        // Memberships are unchanged (their explanations no longer list the
        // forgotten events as "too old": that is the point of compaction).
        assert_eq!(
            segment_names(e, &uwe, t),
            segment_names(e, &before, t),
            "segments at {t}"
        );
        for i in [w.hiking, w.food, w.baby] {
            let (a, b) = (e.explain(&uwe, i, t), e.explain(&before, i, t));
            assert_eq!(a.interests.len(), b.interests.len());
            for (x, y) in a.interests.iter().zip(&b.interests) {
                assert_eq!(x.events, y.events, "explanation of {i} at {t}");
                assert_eq!(x.established, y.established, "explanation of {i} at {t}");
                assert!((x.score - y.score).abs() <= 1e-9 * y.score.abs().max(1e-300));
            }
        }
    }
    assert_eq!(e.compact(&mut uwe, now), 0, "compaction is idempotent");
}

/// Vera has a web record and an app record that get stitched together. The
/// events unite without duplicates, her marketing withdrawal in the app wins
/// over the web record's grant, and both records' suppressions are kept.
#[test]
fn merging_two_records_unites_events_and_keeps_the_stricter_consent() {
    let w = world();
    let e = &w.engine;
    let signup = datetime!(2026-05-01 08:00 UTC);
    let grants = [Purpose::Personalization, Purpose::Marketing];
    let mut web = person("vera-web", Level::FirstParty, signup, &grants);
    let mut app = person("vera-app", Level::FirstParty, signup, &grants);

    let shared = view(w.hiking, datetime!(2026-05-02 19:00 UTC));
    stored(e, &mut web, shared, shared.at());
    stored(e, &mut app, shared, shared.at());
    view_now(e, &mut web, w.hiking, datetime!(2026-05-03 19:00 UTC));
    view_now(e, &mut app, w.hiking, datetime!(2026-05-04 07:00 UTC));
    view_now(e, &mut app, w.food, datetime!(2026-05-04 07:05 UTC));

    let withdrew = datetime!(2026-05-05 12:00 UTC);
    app.consent_mut()
        .withdraw(Purpose::Marketing, withdrew, ui("app settings"))
        .unwrap();
    e.suppress(
        &mut app,
        Suppression::new(
            Scope::Channel(Channel::Sms),
            SuppressionReason::OptOut,
            withdrew,
        ),
        withdrew,
    );
    e.suppress(
        &mut web,
        Suppression::new(
            Scope::Channel(Channel::Phone),
            SuppressionReason::DoNotContact,
            withdrew,
        ),
        withdrew,
    );

    let now = datetime!(2026-05-06 08:00 UTC);
    for (mut base, other) in [(web.clone(), app.clone()), (app.clone(), web.clone())] {
        e.merge(&mut base, &other);
        assert_eq!(
            base.events().len(),
            4,
            "shared event only once: {:?}",
            base.events()
        );
        assert_eq!(base.events().iter().filter(|ev| **ev == shared).count(), 1);
        assert_eq!(
            base.consent().state(Purpose::Marketing, now),
            ConsentState::Withdrawn
        );
        assert_eq!(
            base.consent()
                .state(Purpose::Marketing, withdrew - Duration::seconds(1)),
            ConsentState::Granted
        );
        assert_eq!(
            base.consent().state(Purpose::Personalization, now),
            ConsentState::Granted
        );
        assert_eq!(base.suppressions().len(), 2);
        let s = e.scores(&base, now);
        assert!(s.is_established(w.hiking), "3 hiking events on 3 days");
        let mail = MessageRequest::new(Channel::Email, Purpose::Marketing)
            .about(Target::Interest(w.hiking));
        assert!(e
            .decide(&base, &mail, now)
            .reasons()
            .contains(&DenyReason::NoConsent {
                purpose: Purpose::Marketing,
                state: ConsentState::Withdrawn,
            }));
        for (channel, reason) in [
            (Channel::Sms, SuppressionReason::OptOut),
            (Channel::Phone, SuppressionReason::DoNotContact),
        ] {
            let req = MessageRequest::new(channel, Purpose::Service);
            assert!(e
                .decide(&base, &req, now)
                .reasons()
                .contains(&DenyReason::Suppressed {
                    scope: Scope::Channel(channel),
                    about: format!("channel {channel}"),
                    reason,
                    until: None,
                    life_event: None,
                }));
        }
        // Merging again changes nothing.
        let again = base.clone();
        e.merge(&mut base, &again);
        assert_eq!(base.events(), again.events());
        assert_eq!(base.suppressions().len(), 2);
        assert_eq!(
            base.consent().state(Purpose::Marketing, now),
            ConsentState::Withdrawn
        );
    }
}

/// Wanda opens "what do you know about me?". The report lists her interests
/// with their sources, her consents, her segments with the reasons, and the
/// events we refused; the readable text says so too.
#[test]
fn the_transparency_report_shows_interests_consents_segments_and_refusals() {
    let w = world();
    let e = &w.engine;
    let signup = datetime!(2026-11-01 09:00 UTC);
    let mut wanda = person(
        "wanda",
        Level::FirstParty,
        signup,
        &[Purpose::Personalization, Purpose::Marketing],
    );
    for t in [
        datetime!(2026-11-02 20:00 UTC),
        datetime!(2026-11-03 20:00 UTC),
        datetime!(2026-11-04 20:00 UTC),
    ] {
        view_now(e, &mut wanda, w.food, t);
    }
    let now = datetime!(2026-11-05 09:00 UTC);
    let stale = view(w.food, now - Duration::days(60));
    assert!(matches!(
        refused(e, &mut wanda, stale, now),
        RefusalReason::Stale { .. }
    ));
    assert_eq!(
        refused(e, &mut wanda, view(w.pregnancy, now), now),
        RefusalReason::Sensitive
    );

    let report = e.report(&wanda, now);
    assert_eq!(report.profile, ProfileId::from("wanda"));
    assert_eq!(report.level, Level::FirstParty);
    assert_eq!(report.stored_events, 3);

    let food_line = report
        .interests
        .iter()
        .find(|l| l.interest == w.food)
        .expect("baby/food is reported");
    assert_eq!(food_line.path, "baby/food");
    assert_eq!(food_line.established, Some(Establishment::Observed));
    assert_eq!(food_line.usable_events, 3);
    assert_eq!(food_line.sources.len(), 1);
    assert_eq!(food_line.sources[0].source, Source::FirstParty);
    assert_eq!(food_line.sources[0].events, 3);
    assert_eq!(food_line.purposes, vec![Purpose::Personalization]);
    assert_eq!(
        food_line.forgotten_at,
        Some(datetime!(2026-11-04 20:00 UTC) + Duration::days(56))
    );

    let personalization = report
        .consents
        .iter()
        .find(|c| c.purpose == Purpose::Personalization)
        .unwrap();
    assert_eq!(personalization.state, ConsentState::Granted);
    assert_eq!(personalization.since, Some(signup));
    assert_eq!(personalization.evidence, Some(ui("signup banner")));
    let location = report
        .consents
        .iter()
        .find(|c| c.purpose == Purpose::Location)
        .unwrap();
    assert_eq!(location.state, ConsentState::NeverAsked);

    assert_eq!(report.segments.len(), 1);
    let m = &report.segments[0];
    assert_eq!(m.segment, "young-parents");
    assert_eq!(m.explanation.interests[0].interest, w.baby);
    assert_eq!(m.explanation.interests[0].events.len(), 3);
    assert!(m
        .explanation
        .consents
        .iter()
        .any(|c| c.purpose == Purpose::Personalization && c.granted_at == signup));

    assert_eq!(report.refusals.get(RefusalKind::Stale), 1);
    assert_eq!(report.refusals.get(RefusalKind::Sensitive), 1);

    let text = report.to_string();
    for needle in [
        "wanda",
        "first-party",
        "baby/food",
        "established from what you did",
        "personalization",
        "granted",
        "never asked",
        "signup banner",
        "young-parents",
        "1 stale",
        "1 sensitive",
    ] {
        assert!(
            text.contains(needle),
            "report text lacks {needle:?}:\n{text}"
        );
    }

    // The report is itself exportable.
    let json = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back.segments[0].segment, "young-parents");
    assert_eq!(back.refusals, report.refusals);
    assert_eq!(back.consents, report.consents);
}

/// Xaver's profile is exported to the shop's archive as JSON every night and
/// re-imported after a migration. The events carry engagement weights
/// (`1 + ln(dwell seconds)`). The re-import must be the same profile, and
/// merging it with the live record must not duplicate a single event.
#[test]
fn a_reimported_json_export_is_the_same_profile_and_merges_without_duplicates() {
    let w = world();
    let e = &w.engine;
    let mut xaver = person(
        "xaver",
        Level::FirstParty,
        datetime!(2026-02-01 08:00 UTC),
        &[Purpose::Personalization],
    );
    let start = datetime!(2026-02-02 19:00 UTC);
    for (k, dwell) in [3_u32, 18, 19, 42, 95, 224, 388, 501, 733, 901, 1204, 2048]
        .into_iter()
        .enumerate()
    {
        let at = start + Duration::days(k as i64);
        let weight = 1.0 + f64::from(dwell).ln();
        let ev = view(w.hiking, at).with_weight(weight).unwrap();
        stored(e, &mut xaver, ev, at);
    }
    let now = start + Duration::days(12);
    let json = e.save_json(&xaver).unwrap();
    let reimported = e.load_profile(&json, now).unwrap();
    assert_eq!(e.scores(&reimported, now).get(w.hiking).unwrap().events, 12);
    // The compact form used for storage gives the same profile.
    let bytes = e.save_binary(&xaver).unwrap();
    assert_eq!(e.load_profile_binary(&bytes, now).unwrap(), xaver);

    let mut merged = xaver.clone();
    let joined = e.merge(&mut merged, &reimported);
    assert_eq!(joined.dropped_events, 0);
    assert_eq!(
        merged.events().len(),
        xaver.events().len(),
        "merging a re-import duplicated events"
    );
    assert_eq!(
        reimported, xaver,
        "export -> import must round-trip exactly"
    );
}

// ---------------------------------------------------------------------------
// Storage: what is written is read back.
// ---------------------------------------------------------------------------

/// Yara views hiking boots twice in one evening. Both views are stored;
/// only the very same view sent again is a duplicate.
#[test]
fn two_views_are_stored_and_only_a_true_repeat_is_a_duplicate() {
    let w = world();
    let e = &w.engine;
    let start = datetime!(2026-05-04 19:00 UTC);
    let mut yara = person(
        "yara",
        Level::FirstParty,
        start,
        &[Purpose::Personalization],
    );
    let first = view(w.hiking, start + Duration::minutes(5));
    let second = view(w.hiking, start + Duration::minutes(40));
    stored(e, &mut yara, first, first.at());
    stored(e, &mut yara, second, second.at());
    assert_eq!(yara.events(), vec![first, second]);
    assert_eq!(
        refused(e, &mut yara, first, second.at()),
        RefusalReason::Duplicate
    );
    assert_eq!(yara.stored_events(), 2);
}

/// Nora pauses marketing e-mails for four weeks and grants personalization
/// for a year. Her profile is stored in the compact binary form overnight;
/// the copy read back the next morning still ends the pause and the grant
/// when she said, and writing it again stores the same profile.
#[test]
fn a_pause_and_a_consent_expiry_survive_the_binary_form() {
    let w = world();
    let e = &w.engine;
    let start = datetime!(2026-06-01 08:00 UTC);
    let mut nora = Profile::new("nora");
    nora.set_level(Level::FirstParty);
    let year = start + Duration::days(365);
    nora.consent_mut()
        .grant(Purpose::Personalization, start, Some(year), ui("settings"))
        .unwrap();
    let pause_ends = start + Duration::weeks(4);
    let pause = Suppression::new(
        Scope::Channel(Channel::Email),
        SuppressionReason::OptOut,
        start,
    )
    .until(pause_ends)
    .unwrap();
    e.suppress(&mut nora, pause, start);

    let morning = start + Duration::hours(24);
    let bytes = e.save_binary(&nora).unwrap();
    let back = e.load_profile_binary(&bytes, morning).unwrap();
    assert_eq!(back.suppressions()[0].ends(), Some(pause_ends));
    assert_eq!(
        back.consent().state(Purpose::Personalization, year),
        ConsentState::Expired
    );
    assert_eq!(back, nora);
    let again = e.save_binary(&back).unwrap();
    assert_eq!(e.load_profile_binary(&again, morning).unwrap(), nora);
}

/// Whether the explanation lists this exclusion.
fn excludes(
    ex: &Explanation,
    interest: InterestId,
    path: &str,
    at: Option<OffsetDateTime>,
    reason: &ExclusionReason,
) -> bool {
    ex.excluded
        .iter()
        .any(|x| x.interest == interest && x.path == path && x.at == at && &x.reason == reason)
}
