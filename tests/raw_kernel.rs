//! Pins the warning on `batch::RawDecayKernel`: it computes the same decay
//! as the engine, but over every row it is handed. Where the engine refuses
//! or leaves events out (no consent, withdrawn consent, level, suppressions,
//! bereavement, erasure, dislikes, gifts, special categories, minimum
//! evidence), the raw kernel still scores them, and a pair can "qualify"
//! there that the engine does not establish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tactful::batch::{BatchParams, EventColumns, RawDecayKernel, BENCH_NOW};
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-01 9:00 UTC);

fn now() -> OffsetDateTime {
    T0 + Duration::days(4)
}

fn engine() -> Engine {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .build()
        .expect("valid taxonomy");
    Engine::new(taxonomy, DecayPolicy::default())
}

fn id(engine: &Engine, path: &str) -> InterestId {
    engine.taxonomy().id(path).expect("known path")
}

/// Three views of `interest` on three days: enough evidence for the default
/// policy (3 events on 2 days) when the engine may use them.
fn views_on_three_days(interest: InterestId) -> Vec<Event> {
    (1..=3)
        .map(|d| Event::new(interest, Signal::View, T0 + Duration::days(d)))
        .collect()
}

/// A person at `level` who granted `purposes` at `T0`.
fn person(level: Level, purposes: &[Purpose]) -> Profile {
    let mut p = Profile::new("p");
    p.set_level(level);
    for purpose in purposes {
        p.consent_mut()
            .grant(*purpose, T0, None, Evidence::Ui("signup".into()))
            .expect("valid grant");
    }
    p
}

fn consented() -> Profile {
    person(Level::FirstParty, &[Purpose::Personalization])
}

/// Records every event, returning the refusal reasons.
fn record_all(engine: &Engine, profile: &mut Profile, events: &[Event]) -> Vec<RefusalReason> {
    events
        .iter()
        .filter_map(|e| engine.record(profile, *e, e.at()).err())
        .map(|r| r.reason)
        .collect()
}

/// The raw kernel's `(score, count)` for the events, as one profile's rows,
/// with the engine's half-life, max age and event weights, and whether the
/// pair qualifies against the policy's `min_events`.
fn raw(engine: &Engine, events: &[Event]) -> (f64, u32, bool) {
    let policy = engine.policy();
    let profiles = vec![1_u32; events.len()];
    let interests: Vec<u16> = events
        .iter()
        .map(|e| u16::try_from(e.interest().index()).expect("small taxonomy"))
        .collect();
    let ts: Vec<i64> = events.iter().map(|e| e.at().unix_timestamp()).collect();
    let weights: Vec<f32> = events.iter().map(|e| policy.weight_of(e) as f32).collect();
    let cols = EventColumns::new(&profiles, &interests, &ts, &weights).expect("valid columns");
    // The engine's own half-life and max age, as its types.
    let params = BatchParams::at(now())
        .half_life(policy.half_life())
        .max_age(policy.max_age())
        .min_score(0.5)
        .min_count(policy.min_events())
        .build()
        .expect("valid params");
    let mut kernel = RawDecayKernel::new();
    let result = kernel.score(&cols, &params);
    let pairs: Vec<_> = result.iter().collect();
    assert_eq!(pairs.len(), 1, "one profile, one interest");
    let (_, _, score, count) = pairs[0];
    (score, count, result.qualifying() == 1)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn on_consented_evidence_the_raw_kernel_and_the_engine_agree() {
    // The control: every gate open, the two compute the same decayed sum.
    let engine = engine();
    let food = id(&engine, "baby/food");
    let events = views_on_three_days(food);
    let mut p = consented();
    assert!(record_all(&engine, &mut p, &events).is_empty());
    let exact = engine.scores(&p, now());
    assert!(exact.is_established(food));
    let (score, count, qualifies) = raw(&engine, &events);
    assert!(qualifies);
    assert_eq!(count, 3);
    assert!(
        close(score, exact.score(food)),
        "raw {score} vs exact {}",
        exact.score(food)
    );
}

#[test]
fn the_raw_kernel_scores_events_the_engine_refuses_or_leaves_out() {
    let engine = engine();
    let food = id(&engine, "baby/food");
    let baby = id(&engine, "baby");
    let events = views_on_three_days(food);
    let later = T0 + Duration::days(3) + Duration::hours(12);

    // (what the engine applies, the profile after recording the events)
    let mut cases: Vec<(&str, Profile)> = Vec::new();

    let mut p = person(Level::FirstParty, &[]);
    let refused = record_all(&engine, &mut p, &events);
    assert_eq!(refused.len(), 3);
    assert!(refused
        .iter()
        .all(|r| matches!(r, RefusalReason::NoConsent { .. })));
    cases.push(("no consent", p));

    let mut p = person(Level::Off, &[Purpose::Personalization]);
    let refused = record_all(&engine, &mut p, &events);
    assert_eq!(refused.len(), 3);
    assert!(refused
        .iter()
        .all(|r| matches!(r, RefusalReason::LevelTooLow { .. })));
    cases.push(("level off", p));

    let mut p = consented();
    assert!(record_all(&engine, &mut p, &events).is_empty());
    p.consent_mut()
        .withdraw(
            Purpose::Personalization,
            later,
            Evidence::Ui("settings".into()),
        )
        .expect("valid withdrawal");
    cases.push(("consent withdrawn (retroactive)", p));

    let mut p = consented();
    engine.suppress(
        &mut p,
        Suppression::new(Scope::All, SuppressionReason::DoNotContact, T0),
        T0,
    );
    let refused = record_all(&engine, &mut p, &events);
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|r| matches!(
        r,
        RefusalReason::Suppressed {
            reason: SuppressionReason::DoNotContact,
            ..
        }
    )));
    cases.push(("do-not-contact", p));

    let mut p = consented();
    assert!(record_all(&engine, &mut p, &events).is_empty());
    let purged = engine.suppress(
        &mut p,
        Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, later),
        later,
    );
    assert_eq!(purged, 3);
    cases.push(("bereavement", p));

    let mut p = consented();
    assert!(record_all(&engine, &mut p, &events).is_empty());
    engine.erase_interest(&mut p, food, later);
    cases.push(("erased (tombstone)", p));

    let mut p = consented();
    assert!(record_all(&engine, &mut p, &events).is_empty());
    p.dislike(food, later);
    cases.push(("declared dislike", p));

    let gifts: Vec<Event> = events.iter().map(|e| e.with_gift(true)).collect();
    let mut p = consented();
    assert!(
        record_all(&engine, &mut p, &gifts).is_empty(),
        "gifts are stored"
    );
    cases.push(("gifts", p));

    for (what, p) in &cases {
        let exact = engine.scores(p, now());
        assert_eq!(exact.score(food), 0.0, "{what}: the engine scores 0");
        assert!(!exact.is_established(food), "{what}");
        assert!(engine.segment_names(p, now()).is_empty(), "{what}");
        // The raw kernel does not know: the same rows, the same sum as for a
        // consented person, and the pair qualifies.
        let (score, count, qualifies) = raw(&engine, &events);
        assert!(score > 0.0 && count == 3 && qualifies, "{what}");
    }
    // Gifts too: the kernel counts the gift rows like any others.
    let (score, _, qualifies) = raw(&engine, &gifts);
    assert!(score > 0.0 && qualifies);
}

#[test]
fn the_raw_kernel_scores_a_special_category_the_engine_refuses() {
    let engine = engine();
    let pregnancy = id(&engine, "health/pregnancy");
    let events = views_on_three_days(pregnancy);
    let mut p = person(
        Level::Full,
        &[Purpose::Personalization, Purpose::SensitiveInterests],
    );
    let refused = record_all(&engine, &mut p, &events);
    assert_eq!(refused.len(), 3, "observation of a special category");
    assert!(refused
        .iter()
        .all(|r| matches!(r, RefusalReason::Sensitive)));
    assert!(!engine.scores(&p, now()).is_established(pregnancy));
    let (score, _, qualifies) = raw(&engine, &events);
    assert!(score > 0.0 && qualifies);
}

#[test]
fn the_raw_kernel_has_no_minimum_evidence_in_days() {
    // Three views within one hour: the engine stores and scores them but
    // does not establish the interest (2 distinct days needed); the raw
    // kernel counts rows, so the pair qualifies.
    let engine = engine();
    let food = id(&engine, "baby/food");
    let day = T0 + Duration::days(3);
    let events: Vec<Event> = (0..3)
        .map(|m| Event::new(food, Signal::View, day + Duration::minutes(m)))
        .collect();
    let mut p = consented();
    assert!(record_all(&engine, &mut p, &events).is_empty());
    let exact = engine.scores(&p, now());
    assert!(exact.score(food) > 0.0);
    assert!(!exact.is_established(food));
    let (score, count, qualifies) = raw(&engine, &events);
    assert!(close(score, exact.score(food)));
    assert_eq!(count, 3);
    assert!(qualifies, "a raw threshold, not the engine's evidence");
}

#[test]
#[allow(deprecated)]
fn the_old_names_still_compile_and_name_a_fixed_instant() {
    use tactful::batch::{BatchScorer, DEFAULT_NOW};
    let mut old: BatchScorer = BatchScorer::new();
    let cols = EventColumns::new(&[1], &[0], &[BENCH_NOW], &[1.0]).expect("valid columns");
    assert_eq!(old.score(&cols, &BatchParams::default()).pairs(), 1);
    // A fixed instant (2023-11-14 22:13:20 UTC), not the clock.
    assert_eq!(DEFAULT_NOW, BENCH_NOW);
    assert_eq!(BENCH_NOW, 1_700_000_000);
    assert_eq!(BatchParams::default().now(), BENCH_NOW);
    assert_eq!(
        OffsetDateTime::from_unix_timestamp(BENCH_NOW).expect("in range"),
        datetime!(2023-11-14 22:13:20 UTC)
    );
}
