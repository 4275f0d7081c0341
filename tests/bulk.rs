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
use std::num::NonZeroUsize;

use tactful::bulk::{
    BulkError, ConsentChange, Erasure, EventRows, InterestColumn, InterestScores, PartialProfile,
    Refused, Rows, TimeUnit, WeightColumn,
};
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

/// Anna's rows with a grant of personalization at `T0`.
fn consenting() -> PartialProfile {
    let mut p = PartialProfile::new("anna");
    p.push_consent(ConsentChange::grant(
        Purpose::Personalization,
        T0,
        None,
        Evidence::Ui("x".into()),
    ));
    p
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
            // The usual warehouse case (the fast path): no erasure and no
            // dismissal; purging suppressions (bereavements) are kept.
            let skip = simple && match r {
                Row::Erase { .. } => true,
                Row::Event { signal, .. } => Signal::ALL[*signal] == Signal::Dismissal,
                _ => false,
            };
            if !skip {
                push(&engine, &mut whole, r);
            }
        }
        let summary = engine.summarize(&base(level), &whole, now).unwrap();
        let done = engine.finish(base(level), &whole, now).unwrap();
        prop_assert_eq!(&summary.scores, &InterestScores::from(&engine.scores_by_scan(&done.profile, now)));
        prop_assert_eq!(&summary.segments, &engine.segment_names(&done.profile, now));
        prop_assert_eq!(&summary.refusals, done.profile.refusals());
        prop_assert_eq!(summary.refused_rows, done.refused.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    /// Event rows kept apart from a partial (as a query engine's
    /// accumulator keeps them) encode, decode and summarize as if they were
    /// in it: `encode_partial_with_rows` is `encode_partial` of the whole,
    /// `decode_partial_rows` splits it again (and leaves the caller's rows
    /// alone on bad bytes), and `summarize_with_rows`, with the rows in any
    /// order or sorted by interest, is `summarize` of the whole.
    #[test]
    fn rows_kept_apart_are_the_partials_own(
        rows in prop::collection::vec(row(), 0..80),
        apart_mask in prop::collection::vec(any::<bool>(), 80),
        simple: bool,
        by_interest: bool,
        shuffle in any::<u64>(),
        cut in any::<prop::sample::Index>(),
        level in 0..3usize,
        now_minute in minute(),
    ) {
        let engine = engine();
        let now = at(now_minute + 60 * 24);
        let (mut whole, mut rest) = (PartialProfile::new("anna"), PartialProfile::new("anna"));
        let mut extra = Vec::new();
        for (k, r) in rows.iter().enumerate() {
            let skip = simple && match r {
                Row::Erase { .. } => true,
                Row::Event { signal, .. } => Signal::ALL[*signal] == Signal::Dismissal,
                _ => false,
            };
            if skip {
                continue;
            }
            push(&engine, &mut whole, r);
            let mut one = PartialProfile::new("anna");
            push(&engine, &mut one, r);
            let row = one.events().next().as_ref().and_then(bulk::EventRow::from_event);
            match row {
                Some(row) if apart_mask[k] => extra.push(row),
                _ => rest.merge(one).unwrap(),
            }
        }
        // The bytes are the whole's, rows in the same order.
        let mut with = rest.clone();
        for r in &extra {
            with.push_row(*r);
        }
        let (mut apart_bytes, mut whole_bytes) = (Vec::new(), Vec::new());
        engine.encode_partial_with_rows(&rest, &extra, &mut apart_bytes);
        engine.encode_partial(&with, &mut whole_bytes);
        prop_assert_eq!(&apart_bytes, &whole_bytes);

        // Split again: the caller's rows come first and stay.
        let sentinel = bulk::EventRow::new(engine.taxonomy().require(PATHS[0]).unwrap(), Signal::Purchase, 7);
        let mut got = vec![sentinel];
        let split = engine.decode_partial_rows(&apart_bytes, &mut got).unwrap();
        prop_assert_eq!(got[0], sentinel);
        let mut joined = split.clone();
        for r in &got[1..] {
            joined.push_row(*r);
        }
        prop_assert_eq!(&joined, &with);
        prop_assert_eq!(split.event_count(), with.event_count() + 1 - got.len());
        let mut kept = vec![sentinel];
        let short = &apart_bytes[..cut.index(apart_bytes.len())];
        prop_assert!(engine.decode_partial_rows(short, &mut kept).is_err());
        prop_assert_eq!(&kept, &vec![sentinel]);

        // Summaries: rows in any order, or by interest.
        let mut order = extra.clone();
        let mut x = shuffle | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        if by_interest {
            order.sort_by_key(|r| r.interest());
        }
        let mut summarizer = engine.summarizer();
        let apart = summarizer.summarize_with_rows(&base(level), &rest, &mut order, now).unwrap();
        prop_assert_eq!(&apart, &engine.summarize(&base(level), &whole, now).unwrap());
        // Again with all rows apart, through the same summarizer.
        let mut all_rows = got[1..].to_vec();
        let alone = summarizer.summarize_with_rows(&base(level), &split, &mut all_rows, now).unwrap();
        prop_assert_eq!(&alone, &apart);
    }
}

/// Many people at once, on any number of threads, from columns in any
/// order: each person's summary is what summarizing their rows alone gives,
/// and each finished profile what finishing them gives.
#[test]
fn many_people_on_any_number_of_threads() {
    let engine = engine();
    let tax = engine.taxonomy();
    let ids: Vec<InterestId> = PATHS.iter().map(|p| tax.require(p).unwrap()).collect();
    let people = 37u32;
    let bases: Vec<Profile> = (0..people)
        .map(|p| {
            let mut b = Profile::new(format!("p{p}"));
            b.set_level([Level::Declared, Level::FirstParty, Level::Full][p as usize % 3]);
            b
        })
        .collect();
    // Rows of everyone, interleaved: person p gets events on a few days,
    // most consent, some withdraw, some are suppressed, one is erased.
    let (mut person, mut interest, mut at, mut weight, mut signal) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut consents = vec![];
    let mut suppressions = vec![];
    let mut erasures = vec![];
    let t0 = T0.unix_timestamp();
    for k in 0..5000u32 {
        let p = (k * 7919) % people;
        person.push(p);
        interest.push(ids[(k as usize * 31) % ids.len()]);
        at.push(t0 + i64::from(k % 240) * 3600);
        weight.push(f64::from(k % 4) * 0.5);
        signal.push(Signal::ALL[(k as usize) % 5]);
    }
    for p in 0..people {
        if p % 5 != 0 {
            consents.push((
                p,
                ConsentChange::grant(Purpose::Personalization, T0, None, Evidence::Ui("x".into())),
            ));
        }
        if p % 7 == 3 {
            consents.push((
                p,
                ConsentChange::withdraw(
                    Purpose::Personalization,
                    T0 + Duration::days(4),
                    Evidence::Ui("x".into()),
                ),
            ));
        }
        if p % 6 == 1 {
            suppressions.push((
                p,
                Suppression::new(
                    Scope::Interest(ids[p as usize % 5]),
                    SuppressionReason::OptOut,
                    T0 + Duration::days(2),
                ),
            ));
        }
        if p % 11 == 2 {
            suppressions.push((
                p,
                Suppression::new(
                    Scope::Interest(ids[0]),
                    SuppressionReason::Bereavement,
                    T0 + Duration::days(3),
                ),
            ));
        }
    }
    erasures.push((4, Erasure::interest(ids[3], T0 + Duration::days(5))));
    let events = EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &weight)
        .unwrap()
        .with_signals(&signal)
        .unwrap();
    let rows = Rows {
        events,
        consents: &consents,
        suppressions: &suppressions,
        erasures: &erasures,
    };
    let now = T0 + Duration::days(12);
    let ids_of: Vec<ProfileId> = bases.iter().map(|b| b.id().clone()).collect();
    let partials = engine.partials(&ids_of, rows).unwrap();
    let want: Vec<_> = bases
        .iter()
        .zip(&partials)
        .map(|(b, p)| engine.summarize(b, p, now).unwrap())
        .collect();
    assert!(
        want.iter().any(|s| !s.segments.is_empty()),
        "the data should make members"
    );
    assert!(want.iter().any(|s| s.refused_rows > 0), "and refusals");
    for threads in [1, 2, 3, 8] {
        let t = NonZeroUsize::new(threads).unwrap();
        let got = engine.summarize_all(&bases, rows, now, t).unwrap();
        assert_eq!(got, want, "{threads} threads");
        let done = engine.finish_all(bases.clone(), rows, now, t).unwrap();
        for ((d, p), b) in done.iter().zip(&partials).zip(&bases) {
            let one = engine.finish(b.clone(), p, now).unwrap();
            assert_eq!(
                engine.save_binary(&d.profile).unwrap(),
                engine.save_binary(&one.profile).unwrap()
            );
            assert_eq!(d.refused, one.refused);
        }
    }
    // A row of a person past the list is refused with an error naming it.
    let bad = [(
        people,
        ConsentChange::grant(Purpose::Personalization, T0, None, Evidence::Ui("x".into())),
    )];
    let err = engine
        .summarize_all(
            &bases,
            Rows {
                consents: &bad,
                ..rows
            },
            now,
            NonZeroUsize::MIN,
        )
        .unwrap_err();
    assert!(
        matches!(err, BulkError::UnknownPerson { person: 37, .. }),
        "{err}"
    );
    let short = [1.0];
    assert!(matches!(
        EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &short),
        Err(BulkError::Columns {
            column: "weight",
            ..
        })
    ));
    let mut nan = weight.clone();
    nan[5] = f64::NAN;
    let events = EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &nan).unwrap();
    let err = engine
        .summarize_all(&bases, Rows::events(events), now, NonZeroUsize::MIN)
        .unwrap_err();
    assert!(matches!(err, BulkError::InvalidRow { row: 5, .. }), "{err}");
}

/// Enough rows for the grouping to use many buckets of people and one part
/// of the rows per thread (with a person count that is no power of two,
/// rows in reverse order, out-of-range instants and every optional
/// column): every person's summary equals summarizing the rows that
/// person's partial gets when built by hand, row by row.
#[test]
fn many_buckets_and_parts_group_every_row_to_its_person() {
    let engine = engine();
    let tax = engine.taxonomy();
    let ids: Vec<InterestId> = PATHS.iter().map(|p| tax.require(p).unwrap()).collect();
    let people = 3_001u32;
    let rows_n = 90_000u32;
    let bases: Vec<Profile> = (0..people)
        .map(|p| {
            let mut b = Profile::new(format!("p{p}"));
            b.set_level([Level::FirstParty, Level::Full][p as usize % 2]);
            b
        })
        .collect();
    let t0 = T0.unix_timestamp();
    let (mut person, mut interest, mut at, mut weight) = (vec![], vec![], vec![], vec![]);
    let (mut signal, mut source, mut context, mut gift) = (vec![], vec![], vec![], vec![]);
    // Descending person order, so no bucket comes in order.
    for k in (0..rows_n).rev() {
        person.push((k * 7) % people);
        interest.push(ids[(k as usize * 13) % ids.len()]);
        // Every 997th row lies past 2262: kept, refused as out of range.
        at.push(if k % 997 == 5 {
            20_000_000_000
        } else {
            t0 + i64::from(k % 500) * 1800
        });
        weight.push(f64::from(k % 3) * 0.75);
        signal.push(Signal::ALL[(k as usize) % 5]);
        source.push([Source::FirstParty, Source::Partner][(k as usize / 7) % 2]);
        context.push([Context::OnSite, Context::CrossSite][(k as usize / 11) % 2]);
        gift.push(k % 101 == 0);
    }
    let consents: Vec<(u32, ConsentChange)> = (0..people)
        .filter(|p| p % 9 != 0)
        .flat_map(|p| {
            [
                Purpose::Personalization,
                Purpose::PartnerData,
                Purpose::CrossSite,
            ]
            .into_iter()
            .map(move |purpose| {
                (
                    p,
                    ConsentChange::grant(purpose, T0, None, Evidence::Ui("x".into())),
                )
            })
        })
        .collect();
    let suppressions: Vec<(u32, Suppression)> = (0..people)
        .filter(|p| p % 13 == 4)
        .map(|p| {
            let s = Suppression::new(
                Scope::Interest(ids[1]),
                SuppressionReason::OptOut,
                T0 + Duration::days(3),
            );
            (p, s)
        })
        .collect();
    // Every optional column, on rows of either weight width (the weights
    // are exact in f32).
    let narrow: Vec<f32> = weight.iter().map(|&w| w as f32).collect();
    // The optional columns, on any form of the required ones.
    fn with_optional<'a>(
        e: EventRows<'a>,
        (signal, source, context, gift): (&'a [Signal], &'a [Source], &'a [Context], &'a [bool]),
    ) -> EventRows<'a> {
        e.with_signals(signal)
            .unwrap()
            .with_sources(source)
            .unwrap()
            .with_contexts(context)
            .unwrap()
            .with_gifts(gift)
            .unwrap()
    }
    let optional = |e| with_optional(e, (&signal, &source, &context, &gift));
    let all_columns = |f32_weights: bool| {
        optional(if f32_weights {
            EventRows::new_f32(&person, &interest, &at, TimeUnit::Seconds, &narrow).unwrap()
        } else {
            EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &weight).unwrap()
        })
    };
    let events = all_columns(false);
    let rows = Rows {
        consents: &consents,
        suppressions: &suppressions,
        ..Rows::events(events)
    };
    // The partials by hand: row by row, person by person.
    let mut by_hand: Vec<PartialProfile> = bases
        .iter()
        .map(|b| PartialProfile::new(b.id().clone()))
        .collect();
    for r in 0..person.len() {
        by_hand[person[r] as usize].push_event(events.event(r).unwrap());
    }
    for (p, c) in &consents {
        by_hand[*p as usize].push_consent(c.clone());
    }
    for (p, s) in &suppressions {
        by_hand[*p as usize].push_suppression(*s);
    }
    let now = T0 + Duration::days(11);
    let want: Vec<_> = bases
        .iter()
        .zip(&by_hand)
        .map(|(b, p)| engine.summarize(b, p, now).unwrap())
        .collect();
    assert!(want.iter().filter(|s| !s.segments.is_empty()).count() > 100);
    assert!(
        want.iter().all(|s| s.refused_rows > 0),
        "every person has an out-of-range row or more"
    );
    let ids_of: Vec<ProfileId> = bases.iter().map(|b| b.id().clone()).collect();
    let grouped = engine.partials(&ids_of, rows).unwrap();
    for (g, h) in grouped.iter().zip(&by_hand) {
        // Grouping keeps each person's rows in row order.
        assert!(g.events().eq(h.events()), "{}", h.id());
    }
    for threads in [1, 2, 3] {
        let t = NonZeroUsize::new(threads).unwrap();
        let got = engine.summarize_all(&bases, rows, now, t).unwrap();
        assert_eq!(got, want, "{threads} threads");
    }
    // An f32 weight column gives the same.
    let events32 = all_columns(true);
    let rows32 = Rows {
        events: events32,
        ..rows
    };
    let got = engine.summarize_all(&bases, rows32, now, NonZeroUsize::MIN.saturating_add(1));
    assert_eq!(got.unwrap(), want, "f32 weights");
    // The same instants in microseconds span more than 2^32 units, so the
    // rows are grouped in their wide form (in seconds they all fit the
    // narrow one): the same answers.
    let micros: Vec<i64> = at.iter().map(|&s| s * 1_000_000).collect();
    for threads in [1, 2] {
        let events = optional(
            EventRows::new(&person, &interest, &micros, TimeUnit::Micros, &weight).unwrap(),
        );
        let rows = Rows { events, ..rows };
        let t = NonZeroUsize::new(threads).unwrap();
        let got = engine.summarize_all(&bases, rows, now, t).unwrap();
        assert_eq!(got, want, "microseconds, {threads} threads");
    }
    // So does a dictionary-encoded interest column, with either weight
    // width; a key past the dictionary (row 60,000) is the first bad row.
    let mut dictionary: Vec<InterestId> = interest.clone();
    dictionary.sort_unstable();
    dictionary.dedup();
    let keys: Vec<u16> = interest
        .iter()
        .map(|i| dictionary.binary_search(i).unwrap() as u16)
        .collect();
    let mut bad_keys = keys.clone();
    bad_keys[60_000] = dictionary.len() as u16;
    for (weights, name) in [
        (WeightColumn::F64(&weight), "f64"),
        (WeightColumn::F32(&narrow), "f32"),
    ] {
        let keyed = |keys| {
            let column = InterestColumn::Keys {
                keys,
                dictionary: &dictionary,
            };
            optional(
                EventRows::from_columns(&person, column, &at, TimeUnit::Seconds, weights).unwrap(),
            )
        };
        for threads in [1, 2, 3] {
            let t = NonZeroUsize::new(threads).unwrap();
            let rows = Rows {
                events: keyed(&keys),
                ..rows
            };
            let got = engine.summarize_all(&bases, rows, now, t).unwrap();
            assert_eq!(
                got, want,
                "keyed interests, {name} weights, {threads} threads"
            );
            let rows = Rows {
                events: keyed(&bad_keys),
                ..rows
            };
            let err = engine.summarize_all(&bases, rows, now, t).unwrap_err();
            assert!(
                matches!(&err, BulkError::InvalidRow { row: 60_000, problem } if problem.contains("dictionary")),
                "{name}, {threads} threads: {err}"
            );
        }
    }
    // The first bad row is reported whatever the threads: a NaN weight at
    // row 70,000 and an unknown person at row 80,000 give the person.
    let mut nan = weight.clone();
    nan[70_000] = f64::NAN;
    let mut stranger = person.clone();
    stranger[80_000] = people;
    for threads in [1, 2, 3] {
        let t = NonZeroUsize::new(threads).unwrap();
        let events = EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &nan).unwrap();
        let err = engine
            .summarize_all(&bases, Rows::events(events), now, t)
            .unwrap_err();
        assert!(
            matches!(err, BulkError::InvalidRow { row: 70_000, .. }),
            "{err}"
        );
        let nan32: Vec<f32> = nan.iter().map(|&w| w as f32).collect();
        let events =
            EventRows::new_f32(&person, &interest, &at, TimeUnit::Seconds, &nan32).unwrap();
        let err = engine
            .summarize_all(&bases, Rows::events(events), now, t)
            .unwrap_err();
        assert!(
            matches!(err, BulkError::InvalidRow { row: 70_000, .. }),
            "f32: {err}"
        );
        let events = EventRows::new(&stranger, &interest, &at, TimeUnit::Seconds, &nan).unwrap();
        let err = engine
            .summarize_all(&bases, Rows::events(events), now, t)
            .unwrap_err();
        assert!(
            matches!(err, BulkError::UnknownPerson { row: 80_000, .. }),
            "{err}"
        );
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

/// Instants at the edges: beyond Unix nanoseconds in an `i64` (after 2262)
/// an event is kept apart and refused as out of range when finished;
/// beyond what a date can hold, the row is an error naming it. A `now`
/// after 2262 still finishes (by the replay).
#[test]
fn instants_at_the_edges() {
    let engine = engine();
    let food = engine.taxonomy().require("baby/food").unwrap();
    let year_2300 = 10_413_792_000i64; // 2300-01-01 in Unix seconds
    let person = [0u32, 0, 0];
    let interest = [food; 3];
    let weight = [1.0; 3];
    let at = [T0.unix_timestamp(), year_2300, -9_300_000_000];
    let rows = EventRows::new(&person, &interest, &at, TimeUnit::Seconds, &weight).unwrap();
    let bases = vec![base(2)];
    let s = engine
        .summarize_all(
            &bases,
            Rows::events(rows),
            T0 + Duration::days(1),
            NonZeroUsize::MIN,
        )
        .unwrap();
    // The 2300 and 1675 events are refused as invalid (out of range); the first for want of consent.
    assert_eq!(s[0].refused_rows, 3);
    assert_eq!(s[0].refusals.get(RefusalKind::Invalid), 2);
    assert_eq!(s[0].refusals.get(RefusalKind::NoConsent), 1);

    let too_far = [i64::MAX; 3];
    let rows = EventRows::new(&person, &interest, &too_far, TimeUnit::Seconds, &weight).unwrap();
    let err = engine
        .summarize_all(&bases, Rows::events(rows), T0, NonZeroUsize::MIN)
        .unwrap_err();
    assert!(matches!(err, BulkError::InvalidRow { row: 0, .. }), "{err}");

    // Finishing at an instant past 2262.
    let mut p = consenting();
    p.push_event(Event::new(food, Signal::View, T0 + Duration::days(1)));
    let far_now = time::OffsetDateTime::from_unix_timestamp(year_2300).unwrap();
    let summary = engine.summarize(&base(1), &p, far_now).unwrap();
    let done = engine.finish(base(1), &p, far_now).unwrap();
    assert_eq!(
        summary.scores,
        InterestScores::from(&engine.scores_by_scan(&done.profile, far_now))
    );
    assert_eq!(done.profile.stored_events(), 1);
}

/// Hostile sizes: a person with more events than the limit (the limit's
/// refusals are counted, summary and finish agree), and a long chain of
/// one-row merges (linear, nothing lost).
#[test]
fn more_events_than_the_limit_and_long_merge_chains() {
    let engine = engine().with_limits(Limits {
        max_events: 1000,
        ..Limits::default()
    });
    let food = engine.taxonomy().require("baby/food").unwrap();
    let mut p = consenting();
    for k in 0..5000i64 {
        p.push_event(Event::new(
            food,
            Signal::View,
            T0 + Duration::seconds(k * 97),
        ));
    }
    let now = T0 + Duration::days(10);
    let summary = engine.summarize(&base(1), &p, now).unwrap();
    let done = engine.finish(base(1), &p, now).unwrap();
    assert_eq!(done.profile.stored_events(), 1000);
    assert_eq!(summary.refusals.get(RefusalKind::Limit), 4000);
    assert_eq!(summary.refusals, *done.profile.refusals());
    assert_eq!(
        summary.scores,
        InterestScores::from(&engine.scores_by_scan(&done.profile, now))
    );

    // 20,000 parts of one row each, merged one after another.
    let mut chain = PartialProfile::new("anna");
    for k in 0..20_000i64 {
        let mut one = PartialProfile::new("anna");
        one.push_event(Event::new(food, Signal::Click, T0 + Duration::seconds(k)));
        chain.merge(one).unwrap();
    }
    assert_eq!(chain.event_count(), 20_000);
    let mut bytes = Vec::new();
    engine.encode_partial(&chain, &mut bytes);
    assert_eq!(engine.decode_partial(&bytes).unwrap(), chain);
}

/// Rows naming more interests than the limit take the full replay (the
/// limit refuses some of them), and the summary is still what finishing
/// gives; gifts are not the person's own interests, so gifts of a third
/// interest leave two interests within a limit of two.
#[test]
fn more_interests_than_the_limit_are_summarized_as_finished() {
    let engine = engine().with_limits(Limits {
        max_interests: 2,
        ..Limits::default()
    });
    let id = |path: &str| engine.taxonomy().require(path).unwrap();
    let (food, toys, hiking) = (id("baby/food"), id("baby/toys"), id("outdoor/hiking"));
    let grant = ConsentChange::grant(Purpose::Personalization, T0, None, Evidence::Ui("x".into()));
    let now = T0 + Duration::days(5);
    let at = |h: i64| T0 + Duration::hours(h);
    for (third_is_gift, limited) in [(false, true), (true, false)] {
        let mut p = PartialProfile::new("anna");
        p.push_consent(grant.clone());
        for (k, interest) in [food, toys, hiking, food, toys, hiking]
            .into_iter()
            .enumerate()
        {
            let gift = third_is_gift && interest == hiking;
            p.push_event(Event::new(interest, Signal::Click, at(k as i64 + 1)).with_gift(gift));
        }
        let summary = engine.summarize(&base(1), &p, now).unwrap();
        let done = engine.finish(base(1), &p, now).unwrap();
        assert_eq!(summary.refusals.get(RefusalKind::Limit) > 0, limited);
        assert_eq!(summary.refusals, *done.profile.refusals());
        assert_eq!(summary.refused_rows, done.refused.len());
        assert_eq!(
            summary.scores,
            InterestScores::from(&engine.scores_by_scan(&done.profile, now))
        );
        assert_eq!(summary.segments, engine.segment_names(&done.profile, now));
    }
}

/// A person with no suppression, purge or dislike reuses one series' run
/// for the next series of the same shape; series of other shapes (another
/// source's level, a sensitive interest) in between must not lend theirs.
#[test]
fn series_of_other_shapes_do_not_share_a_run() {
    let engine = engine();
    let id = |path: &str| engine.taxonomy().require(path).unwrap();
    let grant = ConsentChange::grant(Purpose::Personalization, T0, None, Evidence::Ui("x".into()));
    let now = T0 + Duration::days(5);
    let mut p = PartialProfile::new("anna");
    p.push_consent(grant);
    // Store order: by interest, then class; partner events need `Full`.
    let series = [
        ("baby/food", Source::FirstParty),
        ("baby/food", Source::Partner),
        ("baby/toys", Source::FirstParty),
        ("health/pregnancy", Source::FirstParty),
        ("outdoor/hiking", Source::Partner),
        ("outdoor/climbing", Source::FirstParty),
    ];
    for (k, (path, source)) in series.into_iter().enumerate() {
        for d in 0..2 {
            let at = T0 + Duration::hours(k as i64 + 1) + Duration::days(d);
            p.push_event(Event::new(id(path), Signal::Click, at).with_source(source));
        }
    }
    let summary = engine.summarize(&base(1), &p, now).unwrap();
    let done = engine.finish(base(1), &p, now).unwrap();
    assert_eq!(summary.refusals.get(RefusalKind::Level), 4);
    assert_eq!(summary.refusals.get(RefusalKind::Sensitive), 2);
    assert_eq!(summary.refusals, *done.profile.refusals());
    assert_eq!(summary.refused_rows, done.refused.len());
    for path in ["baby/food", "baby/toys", "outdoor/climbing"] {
        assert!(summary.scores.score(id(path)) > 0.0, "{path}");
    }
    assert_eq!(summary.scores.score(id("outdoor/hiking")), 0.0);
    assert_eq!(
        summary.scores,
        InterestScores::from(&engine.scores_by_scan(&done.profile, now))
    );
    assert_eq!(summary.segments, engine.segment_names(&done.profile, now));
}

/// Ages past i64 nanoseconds (a max age of five centuries, events from
/// 1700 scored in 2000) and one summarizer asked at two instants (what it
/// keeps per series depends on `now`): every summary equals finishing.
#[test]
fn ages_past_i64_nanoseconds_and_a_summarizer_at_two_instants() {
    let taxonomy = Taxonomy::builder().interest("baby/food").build().unwrap();
    let policy = DecayPolicy::builder()
        .half_life(Duration::days(365 * 50))
        .max_age(Duration::days(365 * 500))
        .build()
        .unwrap();
    let engine = Engine::new(taxonomy, policy);
    let food = engine.taxonomy().require("baby/food").unwrap();
    let year = |y: i32| datetime!(2000-01-01 0:00 UTC).replace_year(y).unwrap();
    let mut p = PartialProfile::new("anna");
    p.push_consent(ConsentChange::grant(
        Purpose::Personalization,
        year(1690),
        None,
        Evidence::Ui("x".into()),
    ));
    for y in [1700, 1760, 1990, 1999, 2150, 2249] {
        p.push_event(Event::new(food, Signal::View, year(y)));
    }
    let mut summarizer = engine.summarizer();
    let events = |now: OffsetDateTime| {
        let done = engine.finish(base(1), &p, now).unwrap();
        engine
            .scores_by_scan(&done.profile, now)
            .get(food)
            .unwrap()
            .events
    };
    // In 2000 the 1700 event is more than 2^63 ns old, and usable; in 2250
    // it is too old (the 1760 one is not). Both instants fit i64 ns, so
    // the summaries take the fast path.
    assert_eq!((events(year(2000)), events(year(2250))), (4, 5));
    for now in [year(2000), year(2250), year(2000)] {
        let done = engine.finish(base(1), &p, now).unwrap();
        let expected = InterestScores::from(&engine.scores_by_scan(&done.profile, now));
        assert_eq!(
            engine.summarize(&base(1), &p, now).unwrap().scores,
            expected
        );
        assert_eq!(
            summarizer.summarize(&base(1), &p, now).unwrap().scores,
            expected
        );
    }
}

/// An interest unknown to the engine, its id past the taxonomy's, next to
/// a known interest's series of another class (first party, by location):
/// a summarizer keeps the facts of each series apart, so the unknown
/// one is refused as invalid and the known one judged on its own, as
/// finishing does.
#[test]
fn an_unknown_interest_does_not_take_a_known_series_facts() {
    let engine = engine();
    let food = engine.taxonomy().require("baby/food").unwrap();
    let mut other = Taxonomy::builder();
    for k in 0..64 {
        other = other.interest(&format!("x/y{k}"));
    }
    let other = other.build().unwrap();
    // The id that class 1's slot of `food` would have in a cache laid out
    // class by class.
    let alias = engine.taxonomy().len() + food.index();
    let stranger = (0..64)
        .map(|k| other.require(&format!("x/y{k}")).unwrap())
        .find(|i| i.index() == alias)
        .unwrap();
    let mut p = consenting();
    for h in 1..4 {
        p.push_event(Event::new(stranger, Signal::View, T0 + Duration::hours(h)));
        p.push_event(
            Event::new(food, Signal::View, T0 + Duration::hours(h)).with_context(Context::Location),
        );
    }
    let now = T0 + Duration::days(1);
    let mut summarizer = engine.summarizer();
    for level in [1, 2] {
        let summary = summarizer.summarize(&base(level), &p, now).unwrap();
        let done = engine.finish(base(level), &p, now).unwrap();
        assert_eq!(summary.refusals, *done.profile.refusals());
        assert_eq!(summary.refusals.get(RefusalKind::Invalid), 3);
        assert_eq!(
            summary.scores,
            InterestScores::from(&engine.scores_by_scan(&done.profile, now))
        );
    }
}

/// Hostile order: many rows of one interest, newest first, with
/// duplicates and other classes mixed in (past the insertion sort's
/// reach), summarize as finishing does, with a summarizer too.
#[test]
fn many_rows_of_one_interest_newest_first() {
    let engine = engine();
    let food = engine.taxonomy().require("baby/food").unwrap();
    let mut p = consenting();
    let now = T0 + Duration::days(20);
    for k in (0..600i64).rev() {
        let at = T0 + Duration::minutes(k * 37);
        let source = if k % 7 == 0 {
            Source::Partner
        } else {
            Source::FirstParty
        };
        let event = Event::new(food, Signal::View, at).with_source(source);
        p.push_event(event);
        if k % 5 == 0 {
            p.push_event(event);
        }
    }
    for level in [1, 2] {
        let summary = engine.summarize(&base(level), &p, now).unwrap();
        let done = engine.finish(base(level), &p, now).unwrap();
        assert!(
            done.profile.refusals().get(RefusalKind::Duplicate) >= 100,
            "{:?}",
            done.profile.refusals()
        );
        assert_eq!(summary.refusals, *done.profile.refusals());
        assert_eq!(summary.refused_rows, done.refused.len());
        assert_eq!(
            summary.scores,
            InterestScores::from(&engine.scores_by_scan(&done.profile, now))
        );
        let mut summarizer = engine.summarizer();
        assert_eq!(
            summarizer.summarize(&base(level), &p, now).unwrap(),
            summary
        );
    }
}
