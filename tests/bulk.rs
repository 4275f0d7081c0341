//! Bulk finishing and the merge law of partial profiles.
//!
//! The law: a person's rows (events, consent changes, suppressions,
//! erasures) split into parts in any way, each part through the binary form
//! or not, merged in any tree and order, finish to the same profile, the
//! same refused rows and the same answers as all rows finished at once. And
//! finishing is recording: the rows replayed in time order through the live
//! operations give that profile too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tactful::bulk::{BulkError, ConsentChange, Erasure, PartialProfile, Refused};
use tactful::profile::ErasedScope;
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);
const PATHS: [&str; 5] = [
    "baby/food",
    "baby/toys",
    "health/pregnancy",
    "outdoor/hiking",
    "outdoor/climbing",
];

fn engine() -> Engine {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .interest("outdoor/hiking")
        .interest("outdoor/climbing")
        .life_event("pregnancy", ["baby", "health/pregnancy"])
        .build()
        .unwrap();
    let policy = DecayPolicy::builder()
        .half_life(Duration::days(7))
        .max_age(Duration::days(30))
        .partner_max_age(Duration::days(10))
        .dismissal_cooldown(Duration::days(3))
        .min_events(2)
        .build()
        .unwrap();
    Engine::new(taxonomy, policy)
        .with_segments(vec![
            SegmentDef::new("parents", Rule::interest_at_least("baby", 1.1))
                .for_purpose(Purpose::Personalization),
            SegmentDef::new("hikers", Rule::interest("outdoor")),
        ])
        .unwrap()
}

/// One row, before ids are resolved.
#[derive(Debug, Clone)]
enum Row {
    Event {
        interest: usize,
        signal: usize,
        minute: i64,
        class: usize,
        gift: bool,
        weight: u8,
    },
    Grant {
        purpose: usize,
        minute: i64,
        expires_after: Option<i64>,
    },
    Withdraw {
        purpose: usize,
        minute: i64,
    },
    Suppress {
        scope: usize,
        reason: usize,
        minute: i64,
        lasts: Option<i64>,
    },
    Erase {
        interest: Option<usize>,
        minute: i64,
    },
}

const PURPOSES: [Purpose; 5] = [
    Purpose::Personalization,
    Purpose::Marketing,
    Purpose::PartnerData,
    Purpose::Location,
    Purpose::CrossSite,
];

/// Minutes over twelve days, coarse enough that rows share instants.
fn minute() -> impl Strategy<Value = i64> {
    (0i64..12 * 24).prop_map(|h| h * 60)
}

fn row() -> impl Strategy<Value = Row> {
    prop_oneof![
        12 => (0..5usize, 0..6usize, minute(), 0..9usize, prop::bool::weighted(0.1), 1..4u8).prop_map(
            |(interest, signal, minute, class, gift, weight)| Row::Event { interest, signal, minute, class, gift, weight }
        ),
        3 => (0..5usize, minute(), prop::option::weighted(0.3, 0i64..5 * 24 * 60)).prop_map(
            |(purpose, minute, expires_after)| Row::Grant { purpose, minute, expires_after }
        ),
        1 => (0..5usize, minute()).prop_map(|(purpose, minute)| Row::Withdraw { purpose, minute }),
        1 => (0..8usize, 0..3usize, minute(), prop::option::of(1i64..4 * 24 * 60)).prop_map(
            |(scope, reason, minute, lasts)| Row::Suppress { scope, reason, minute, lasts }
        ),
        1 => (prop::option::weighted(0.8, 0..5usize), minute()).prop_map(|(interest, minute)| Row::Erase { interest, minute }),
    ]
}

fn at(minute: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minute)
}

fn push(engine: &Engine, p: &mut PartialProfile, row: &Row) {
    let tax = engine.taxonomy();
    let id = |k: usize| tax.require(PATHS[k]).unwrap();
    let ev = || Evidence::Import("warehouse".into());
    match *row {
        Row::Event {
            interest,
            signal,
            minute,
            class,
            gift,
            weight,
        } => {
            let sources = [Source::FirstParty, Source::Declared, Source::Partner];
            let contexts = [Context::OnSite, Context::Location, Context::CrossSite];
            let e = Event::new(id(interest), Signal::ALL[signal], at(minute))
                .with_source(sources[class / 3])
                .with_context(contexts[class % 3])
                .with_gift(gift)
                .with_weight(f64::from(weight) * 0.5)
                .unwrap();
            p.push_event(e);
        }
        Row::Grant {
            purpose,
            minute,
            expires_after,
        } => p.push_consent(ConsentChange::grant(
            PURPOSES[purpose],
            at(minute),
            expires_after.map(|m| at(minute + m)),
            ev(),
        )),
        Row::Withdraw { purpose, minute } => {
            p.push_consent(ConsentChange::withdraw(PURPOSES[purpose], at(minute), ev()))
        }
        Row::Suppress {
            scope,
            reason,
            minute,
            lasts,
        } => {
            let scope = match scope {
                0 => Scope::All,
                1 => Scope::Purpose(Purpose::Marketing),
                2 => Scope::Purpose(Purpose::Personalization),
                3 => Scope::Channel(Channel::Email),
                k => Scope::Interest(id(k - 4)),
            };
            let reason = [
                SuppressionReason::Bereavement,
                SuppressionReason::OptOut,
                SuppressionReason::DoNotContact,
            ][reason];
            let mut s = Suppression::new(scope, reason, at(minute));
            if let Some(l) = lasts {
                s = s.until(at(minute + l)).unwrap();
            }
            p.push_suppression(s);
        }
        Row::Erase { interest, minute } => p.push_erasure(match interest {
            Some(k) => Erasure::interest(id(k), at(minute)),
            None => Erasure::profile(at(minute)),
        }),
    }
}

fn base(level: usize) -> Profile {
    let mut p = Profile::new("anna");
    p.set_level([Level::Declared, Level::FirstParty, Level::Full][level]);
    p
}

/// Everything a finished profile answers, for comparison.
fn answers(
    engine: &Engine,
    done: &bulk::Finished,
    now: OffsetDateTime,
) -> (Vec<u8>, Vec<Refused>, Scores, Vec<String>) {
    (
        engine.save_binary(&done.profile).unwrap(),
        done.refused.clone(),
        engine.scores_by_scan(&done.profile, now),
        engine
            .segment_names(&done.profile, now)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    )
}

/// Merges parts along a random tree: repeatedly joins two parts picked by
/// `picks`, some of them through the binary form.
fn merge_tree(
    engine: &Engine,
    mut parts: Vec<PartialProfile>,
    picks: &[(usize, usize, bool)],
) -> PartialProfile {
    let mut k = 0;
    while parts.len() > 1 {
        let (a, b, wire) = picks.get(k).copied().unwrap_or((0, 1, false));
        k += 1;
        let i = a % parts.len();
        let mut j = b % parts.len();
        if j == i {
            j = (i + 1) % parts.len();
        }
        let mut right = parts.remove(j.max(i));
        let mut left = parts.remove(j.min(i));
        if wire {
            let mut bytes = Vec::new();
            engine.encode_partial(&right, &mut bytes);
            right = engine.decode_partial(&bytes).unwrap();
            bytes.clear();
            engine.encode_partial(&left, &mut bytes);
            left = engine.decode_partial(&bytes).unwrap();
        }
        left.merge(right).unwrap();
        parts.push(left);
    }
    parts.pop().unwrap_or_else(|| PartialProfile::new("anna"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    /// The merge law.
    #[test]
    fn any_split_and_merge_tree_finishes_to_the_same_profile(
        rows in prop::collection::vec(row(), 0..60),
        again in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        parts_of in prop::collection::vec(0..4usize, 66),
        picks in prop::collection::vec((0..8usize, 0..8usize, any::<bool>()), 8),
        shuffle in any::<u64>(),
        level in 0..3usize,
        now_minute in minute(),
    ) {
        let engine = engine();
        let now = at(now_minute + 60 * 24);
        let mut rows = rows;
        if !rows.is_empty() {
            let twice: Vec<Row> = again.iter().map(|i| rows[i.index(rows.len())].clone()).collect();
            rows.extend(twice);
        }
        let mut whole = PartialProfile::new("anna");
        for r in &rows {
            push(&engine, &mut whole, r);
        }
        let want = answers(&engine, &engine.finish(base(level), &whole, now).unwrap(), now);

        // The rows in another order, split into up to four parts.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut s = shuffle | 1;
        for i in (1..order.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            order.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut parts: Vec<PartialProfile> = (0..4).map(|_| PartialProfile::new("anna")).collect();
        for &i in &order {
            push(&engine, &mut parts[parts_of[i]], &rows[i]);
        }
        let merged = merge_tree(&engine, parts, &picks);
        prop_assert_eq!(merged.len(), whole.len());
        let got = answers(&engine, &engine.finish(base(level), &merged, now).unwrap(), now);
        prop_assert_eq!(&got.0, &want.0, "stored profile differs");
        prop_assert_eq!(&got.1, &want.1, "refused rows differ");
        prop_assert_eq!(&got.2, &want.2, "scores differ");
        prop_assert_eq!(&got.3, &want.3, "segments differ");
    }

    /// Finishing is recording: the rows replayed one by one in time order
    /// through the live operations build the same profile.
    #[test]
    fn finishing_is_recording_in_time_order(
        rows in prop::collection::vec(row(), 0..60),
        level in 0..3usize,
        now_minute in minute(),
    ) {
        let engine = engine();
        let now = at(now_minute + 60 * 24);
        let mut whole = PartialProfile::new("anna");
        for r in &rows {
            push(&engine, &mut whole, r);
        }
        let done = engine.finish(base(level), &whole, now).unwrap();

        // The same rows, each on its own, applied in time order (ties as
        // `finish` documents them: consent, suppression, erasure, event).
        let mut singles: Vec<(OffsetDateTime, u8, PartialProfile)> = Vec::new();
        for r in &rows {
            let mut one = PartialProfile::new("anna");
            push(&engine, &mut one, r);
            let (t, rank) = if let Some(c) = one.consents().first() { (c.at, 0) }
                else if let Some(s) = one.suppressions().first() { (s.since(), 1) }
                else if let Some(e) = one.erasures().first() { (e.at(), 2) }
                else { (one.events().next().unwrap().at(), 3) };
            singles.push((t, rank, one));
        }
        singles.sort_by_key(|s| (s.0, s.1));
        // Rows at one instant and of one kind: finish orders them by
        // content; recording them in that order must agree, so only check
        // histories where such ties do not matter (distinct instants per kind).
        let tied = singles.windows(2).any(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1);
        prop_assume!(!tied);
        let mut live = base(level);
        let mut refused = 0;
        for (t, _, one) in &singles {
            if let Some(c) = one.consents().first() {
                refused += usize::from(live.consent_mut().record(c.clone()).is_err());
            } else if let Some(s) = one.suppressions().first() {
                engine.suppress(&mut live, *s, s.since());
            } else if let Some(e) = one.erasures().first() {
                match e.scope() {
                    ErasedScope::All => engine.erase_profile(&mut live, e.at()),
                    ErasedScope::Interest(i) => { engine.erase_interest(&mut live, i, e.at()); }
                }
            } else {
                let e = one.events().next().unwrap();
                refused += usize::from(engine.record(&mut live, e, (*t).min(now)).is_err());
            }
        }
        prop_assert_eq!(engine.save_binary(&live).unwrap(), engine.save_binary(&done.profile).unwrap());
        prop_assert_eq!(refused, done.refused.len());
        prop_assert_eq!(engine.scores_by_scan(&live, now), engine.scores_by_scan(&done.profile, now));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    /// The summary (the fast path when the rows allow it) is what finishing
    /// gives: scores bit for bit, segments, refusal counts, refused rows.
    #[test]
    fn summaries_equal_finishing(
        rows in prop::collection::vec(row(), 0..80),
        again in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        simple: bool,
        level in 0..3usize,
        now_minute in minute(),
    ) {
        let engine = engine();
        let now = at(now_minute + 60 * 24);
        let mut whole = PartialProfile::new("anna");
        // Some rows given twice: a duplicate is refused, once.
        let twice: Vec<&Row> = if rows.is_empty() { vec![] } else { again.iter().map(|i| &rows[i.index(rows.len())]).collect() };
        for r in rows.iter().chain(twice) {
            // The usual warehouse case: no erasure, no dismissal, no purge.
            let skip = simple && match r {
                Row::Erase { .. } => true,
                Row::Event { signal, .. } => Signal::ALL[*signal] == Signal::Dismissal,
                Row::Suppress { reason, scope, .. } => *reason == 0 && (*scope == 0 || *scope >= 4),
                _ => false,
            };
            if !skip {
                push(&engine, &mut whole, r);
            }
        }
        let summary = engine.summarize(&base(level), &whole, now).unwrap();
        let done = engine.finish(base(level), &whole, now).unwrap();
        prop_assert_eq!(&summary.scores, &engine.scores_by_scan(&done.profile, now));
        prop_assert_eq!(&summary.segments, &engine.segment_names(&done.profile, now));
        prop_assert_eq!(&summary.refusals, done.profile.refusals());
        prop_assert_eq!(summary.refused_rows, done.refused.len());
    }
}

/// Parts of two people do not merge, and nothing is added.
#[test]
fn parts_of_two_people_do_not_merge() {
    let mut anna = PartialProfile::new("anna");
    anna.push_erasure(Erasure::profile(T0));
    let mut ben = PartialProfile::new("ben");
    ben.push_erasure(Erasure::profile(T0));
    let err = anna.merge(ben).unwrap_err();
    assert!(matches!(err, BulkError::IdMismatch { .. }), "{err}");
    assert_eq!(anna.len(), 1);
    let engine = engine();
    let err = engine.finish(Profile::new("ben"), &anna, T0).unwrap_err();
    assert!(err.to_string().contains("ben"), "{err}");
}

/// Bytes from another taxonomy, truncated, forged counts or trailing bytes
/// are refused with an error, never a panic or a huge allocation.
#[test]
fn foreign_or_broken_bytes_are_refused() {
    let engine = engine();
    let mut p = PartialProfile::new("anna");
    let food = engine.taxonomy().require("baby/food").unwrap();
    for d in 0..3 {
        p.push_event(Event::new(food, Signal::View, T0 + Duration::days(d)));
    }
    p.push_consent(ConsentChange::grant(
        Purpose::Personalization,
        T0,
        None,
        Evidence::Ui("x".into()),
    ));
    p.push_suppression(Suppression::new(
        Scope::Interest(food),
        SuppressionReason::OptOut,
        T0,
    ));
    p.push_erasure(Erasure::interest(food, T0));
    let mut bytes = Vec::new();
    engine.encode_partial(&p, &mut bytes);
    assert_eq!(engine.decode_partial(&bytes).unwrap(), p);

    let other = Engine::new(
        Taxonomy::builder().interest("x/y").build().unwrap(),
        DecayPolicy::default(),
    );
    assert!(matches!(
        other.decode_partial(&bytes),
        Err(BulkError::OtherTaxonomy { .. })
    ));
    for cut in 0..bytes.len() {
        assert!(
            engine.decode_partial(&bytes[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(engine.decode_partial(&trailing).is_err());
    // A forged event count of 2^60 after the id: refused before allocating.
    let mut forged = bytes[..12].to_vec();
    forged.extend_from_slice(&[4, b'a', b'n', b'n', b'a']);
    forged.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    let err = engine.decode_partial(&forged).unwrap_err();
    assert!(err.to_string().contains("count"), "{err}");
    // Every single flipped byte is either refused or read as some partial: never a panic.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        let _ = engine.decode_partial(&b);
    }
}

/// Unknown interests in suppressions and erasures are refused and reported.
#[test]
fn unknown_interests_are_reported() {
    let engine = engine();
    let other = Engine::new(
        Taxonomy::builder()
            .interest("a/b")
            .interest("c/d")
            .interest("e/f")
            .interest("g/h")
            .interest("i/j")
            .interest("k/l")
            .interest("m/n")
            .build()
            .unwrap(),
        DecayPolicy::default(),
    );
    let stranger = other.taxonomy().require("m/n").unwrap();
    assert!(!engine.taxonomy().contains(stranger));
    let mut p = PartialProfile::new("anna");
    p.push_suppression(Suppression::new(
        Scope::Interest(stranger),
        SuppressionReason::OptOut,
        T0,
    ));
    p.push_erasure(Erasure::interest(stranger, T0));
    p.push_event(Event::new(stranger, Signal::View, T0));
    let done = engine
        .finish(Profile::new("anna"), &p, T0 + Duration::days(1))
        .unwrap();
    assert_eq!(done.refused.len(), 3, "{:?}", done.refused);
    assert!(matches!(done.refused[0], Refused::Suppression { .. }));
    assert!(matches!(done.refused[1], Refused::Erasure { .. }));
    assert!(
        matches!(done.refused[2], Refused::Event(ref r) if matches!(r.reason, RefusalReason::UnknownInterest(_)))
    );
    assert_eq!(done.profile.refusals().total(), 1);
}
