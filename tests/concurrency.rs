//! Concurrency: one `Engine` (taxonomy, policy, ten segments) shared through
//! `Arc` or borrowed by scoped threads gives eight threads exactly the
//! results one thread gets, for recording, scoring, segmenting, deciding,
//! explaining, audiences and reports; and `Engine` and `Profile` are
//! `Send + Sync`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::thread;

use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const THREADS: usize = 8;
const PER_THREAD: usize = 50;
const PROFILES: usize = THREADS * PER_THREAD;
const T0: OffsetDateTime = datetime!(2026-05-01 8:00 UTC);

const PATHS: [&str; 12] = [
    "baby/food",
    "baby/toys",
    "books/crime",
    "books/poetry",
    "health/fitness",
    "health/pregnancy",
    "news/politics",
    "news/sport",
    "outdoor/camping",
    "outdoor/hiking/boots",
    "travel/city",
    "travel/beach",
];

fn engine() -> Engine {
    let mut b = Taxonomy::builder();
    for p in PATHS {
        b = b.interest(p);
    }
    let taxonomy = b
        .sensitive("health", SpecialCategory::Health)
        .sensitive("news/politics", SpecialCategory::Politics)
        .half_life("news", Duration::days(2))
        .max_age("outdoor/hiking", Duration::days(30))
        .build()
        .unwrap();
    let policy = DecayPolicy::builder()
        .half_life(Duration::days(10))
        .max_age(Duration::days(60))
        .partner_max_age(Duration::days(20))
        .min_events(3)
        .min_days(2)
        .dismissal_cooldown(Duration::days(21))
        .allow_sensitive_observation(true)
        .build()
        .unwrap();
    let segments = vec![
        SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
        SegmentDef::new("readers", Rule::interest("books")),
        SegmentDef::new(
            "crime-not-poetry",
            Rule::all([
                Rule::interest("books/crime"),
                Rule::negate(Rule::Dislikes("books/poetry".into())),
            ]),
        ),
        SegmentDef::new("fit", Rule::interest_at_least("health/fitness", 1.5)),
        SegmentDef::new("politics", Rule::interest("news/politics")),
        SegmentDef::new(
            "outdoor-or-travel",
            Rule::any([
                Rule::interest_at_least("outdoor", 1.0),
                Rule::Likes("travel".into()),
            ]),
        ),
        SegmentDef::new(
            "hikers-full",
            Rule::all([
                Rule::interest("outdoor/hiking"),
                Rule::LevelAtLeast(Level::Full),
            ]),
        ),
        SegmentDef::new(
            "no-news",
            Rule::all([
                Rule::negate(Rule::interest("news")),
                Rule::LevelAtLeast(Level::Declared),
            ]),
        ),
        SegmentDef::new("beach-likers", Rule::Likes("travel/beach".into())),
        SegmentDef::new(
            "sport-and-city",
            Rule::all([
                Rule::interest_at_least("news/sport", 0.5),
                Rule::interest("travel/city"),
            ]),
        ),
    ];
    Engine::new(taxonomy, policy)
        .with_segments(segments)
        .unwrap()
        .with_min_audience(NonZeroUsize::new(5).unwrap())
}

/// A small deterministic generator (SplitMix64).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn ui() -> Evidence {
    Evidence::Ui("concurrency".into())
}

/// Profile `i`, built through the engine: level, consents (some expiring,
/// some withdrawn), preferences, about a hundred recorded events over two
/// months (some refused), dismissals, suppressions, a compaction.
fn build(engine: &Engine, i: usize) -> Profile {
    let mut g = Gen(i as u64 * 7919 + 17);
    let tax = engine.taxonomy();
    let ids: Vec<InterestId> = tax.iter().map(|(id, _)| id).collect();
    let mut p = Profile::new(format!("person-{i:03}").as_str());
    p.set_level(g.pick(&[
        Level::Off,
        Level::Declared,
        Level::FirstParty,
        Level::FirstParty,
        Level::Full,
        Level::Full,
    ]));
    for purpose in [
        Purpose::Personalization,
        Purpose::Marketing,
        Purpose::Measurement,
        Purpose::Location,
        Purpose::CrossSite,
        Purpose::SensitiveInterests,
        Purpose::PartnerData,
    ] {
        let pct = if purpose == Purpose::Personalization {
            90
        } else {
            55
        };
        if g.chance(pct) {
            let expires = g
                .chance(20)
                .then(|| T0 + Duration::days(10 + g.below(50) as i64));
            p.consent_mut().grant(purpose, T0, expires, ui()).unwrap();
        }
    }
    for _ in 0..g.below(3) {
        let k = g.pick(&ids);
        if g.chance(70) {
            p.like(k, T0 + Duration::hours(g.below(24 * 30) as i64));
        } else {
            p.dislike(k, T0 + Duration::hours(g.below(24 * 30) as i64));
        }
    }
    let mut clock = T0;
    for step in 0..100 {
        clock += Duration::minutes(g.below(24 * 60) as i64);
        let k = g.pick(&ids);
        let signal = g.pick(&Signal::ALL);
        let source = g.pick(&[
            Source::FirstParty,
            Source::FirstParty,
            Source::FirstParty,
            Source::Declared,
            Source::Partner,
        ]);
        let context = g.pick(&[
            Context::OnSite,
            Context::OnSite,
            Context::OnSite,
            Context::Location,
            Context::CrossSite,
        ]);
        let lag = Duration::seconds(g.below(3 * 86_400) as i64);
        let e = Event::new(k, signal, clock - lag)
            .with_source(source)
            .with_context(context)
            .with_gift(g.chance(5))
            .with_weight(g.below(40) as f64 / 10.0)
            .unwrap();
        let _ = engine.record(&mut p, e, clock);
        if step == 60 && g.chance(30) {
            p.consent_mut()
                .withdraw(
                    g.pick(&[Purpose::Personalization, Purpose::PartnerData]),
                    clock,
                    ui(),
                )
                .unwrap();
            if g.chance(50) {
                p.consent_mut()
                    .grant(
                        Purpose::Personalization,
                        clock + Duration::hours(1),
                        None,
                        ui(),
                    )
                    .unwrap();
            }
        }
        if step == 70 && g.chance(25) {
            let scope = match g.below(4) {
                0 => Scope::Interest(g.pick(&ids)),
                1 => Scope::Channel(g.pick(&[Channel::Email, Channel::Post, Channel::Ads])),
                2 => Scope::Purpose(g.pick(&[Purpose::Marketing, Purpose::Personalization])),
                _ => Scope::Interest(tax.id("baby").unwrap()),
            };
            let reason = g.pick(&[
                SuppressionReason::Bereavement,
                SuppressionReason::OptOut,
                SuppressionReason::Complaint,
            ]);
            let mut s = Suppression::new(scope, reason, clock);
            if g.chance(50) {
                s = s.until(clock + Duration::days(7)).unwrap();
            }
            engine.suppress(&mut p, s, clock);
        }
        if step == 80 && g.chance(20) {
            engine.erase_interest(&mut p, g.pick(&ids), clock);
        }
        if step == 90 && g.chance(50) {
            engine.compact(&mut p, clock);
        }
    }
    p
}

fn requests(engine: &Engine) -> Vec<MessageRequest> {
    let tax = engine.taxonomy();
    vec![
        MessageRequest::new(Channel::Email, Purpose::Marketing),
        MessageRequest::new(Channel::InApp, Purpose::Service),
        MessageRequest::new(Channel::Email, Purpose::Marketing)
            .about(Target::Segment("young-parents".into())),
        MessageRequest::new(Channel::Ads, Purpose::Personalization)
            .about(Target::Segment("outdoor-or-travel".into())),
        MessageRequest::new(Channel::Post, Purpose::Marketing)
            .about(Target::Interest(tax.id("books/crime").unwrap())),
        MessageRequest::new(Channel::Push, Purpose::Personalization)
            .about(Target::Interest(tax.id("health").unwrap())),
    ]
}

fn instants() -> [OffsetDateTime; 3] {
    [
        T0 + Duration::days(50),
        T0 + Duration::days(75),
        T0 + Duration::days(120),
    ]
}

/// Everything one profile answers at one instant.
#[derive(Debug, Clone, PartialEq)]
struct Answers {
    scores: Scores,
    scan: Scores,
    names: Vec<String>,
    memberships: Vec<Membership>,
    decisions: Vec<Decision>,
    explanation: Explanation,
    report: String,
}

fn answer(engine: &Engine, p: &Profile, now: OffsetDateTime) -> Answers {
    let tax = engine.taxonomy();
    Answers {
        scores: engine.scores(p, now),
        scan: engine.scores_by_scan(p, now),
        names: engine
            .segment_names(p, now)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        memberships: engine.segments(p, now),
        decisions: requests(engine)
            .iter()
            .map(|r| engine.decide(p, r, now))
            .collect(),
        explanation: engine.explain(p, tax.id("outdoor").unwrap(), now),
        report: serde_json::to_string(&engine.report(p, now)).unwrap(),
    }
}

fn answer_all(engine: &Engine, p: &Profile) -> Vec<Answers> {
    instants().iter().map(|t| answer(engine, p, *t)).collect()
}

/// The audiences of a group of profiles, per request and instant.
fn audiences(engine: &Engine, group: &[Profile]) -> Vec<Result<Audience, AudienceError>> {
    let mut out = Vec::new();
    for r in requests(engine)
        .iter()
        .filter(|r| r.target != Target::Nobody)
    {
        for t in instants() {
            out.push(engine.audience(group, r, t));
        }
    }
    out
}

/// The reference: one thread builds and answers everything (once per test
/// binary, with its own engine of the same configuration).
fn sequential() -> &'static (Vec<Profile>, Vec<Vec<Answers>>) {
    static REFERENCE: OnceLock<(Vec<Profile>, Vec<Vec<Answers>>)> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let engine = engine();
        let profiles: Vec<Profile> = (0..PROFILES).map(|i| build(&engine, i)).collect();
        let answers = profiles.iter().map(|p| answer_all(&engine, p)).collect();
        (profiles, answers)
    })
}

fn assert_same_answers(want: &[Vec<Answers>], got: &[Vec<Answers>]) {
    assert_eq!(want.len(), got.len());
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        for (k, (a, b)) in w.iter().zip(g).enumerate() {
            // Scores bit for bit (f64 `==`), then everything else.
            assert_eq!(a.scores, b.scores, "profile {i}, instant {k}: scores");
            assert_eq!(a.scan, b.scan, "profile {i}, instant {k}: scores by scan");
            assert_eq!(a.names, b.names, "profile {i}, instant {k}: segments");
            assert_eq!(a.memberships, b.memberships, "profile {i}, instant {k}");
            assert_eq!(a.decisions, b.decisions, "profile {i}, instant {k}");
            assert_eq!(a.explanation, b.explanation, "profile {i}, instant {k}");
            assert_eq!(a.report, b.report, "profile {i}, instant {k}: report");
        }
        assert_eq!(w, g, "profile {i}");
    }
}

/// The generated population is not trivial: some profiles are members of
/// segments, some decisions allow, some deny.
fn assert_interesting(answers: &[Vec<Answers>]) {
    let all = answers.iter().flatten();
    let members = all.clone().filter(|a| !a.names.is_empty()).count();
    let allowed = all
        .clone()
        .flat_map(|a| &a.decisions)
        .filter(|d| d.is_allowed())
        .count();
    let denied = all
        .clone()
        .flat_map(|a| &a.decisions)
        .filter(|d| !d.is_allowed())
        .count();
    let established = all
        .flat_map(|a| a.scores.iter())
        .filter(|(_, s)| s.established.is_some())
        .count();
    assert!(members > 50, "only {members} answers with memberships");
    assert!(
        allowed > 50 && denied > 50,
        "allowed {allowed}, denied {denied}"
    );
    assert!(
        established > 100,
        "only {established} established interests"
    );
}

#[test]
fn arc_shared_engine_on_eight_threads_equals_one_thread() {
    let engine = Arc::new(engine());
    let (profiles, want) = sequential();
    assert_interesting(want);
    let want_audiences: Vec<_> = profiles
        .chunks(PER_THREAD)
        .map(|group| audiences(&engine, group))
        .collect();

    let handles: Vec<_> = profiles
        .chunks(PER_THREAD)
        .map(<[Profile]>::to_vec)
        .enumerate()
        .map(|(t, group)| {
            let engine = Arc::clone(&engine);
            thread::spawn(move || {
                // Each thread walks its profiles in its own order.
                let mut order: Vec<usize> = (0..group.len()).collect();
                order.rotate_left(t * 7 % group.len());
                if t % 2 == 1 {
                    order.reverse();
                }
                let mut answers = vec![Vec::new(); group.len()];
                for i in order {
                    answers[i] = answer_all(&engine, &group[i]);
                }
                (answers, audiences(&engine, &group))
            })
        })
        .collect();
    let mut got = Vec::new();
    for (t, h) in handles.into_iter().enumerate() {
        let (answers, auds) = h.join().unwrap();
        got.extend(answers);
        assert_eq!(auds, want_audiences[t], "audiences of thread {t}");
    }
    assert_same_answers(want, &got);
}

#[test]
fn scoped_threads_record_and_read_with_one_engine_like_one_thread() {
    let engine = engine();
    let (profiles, want) = sequential();
    let want_json: Vec<String> = profiles
        .iter()
        .map(|p| engine.save_json(p).unwrap())
        .collect();
    let want_binary: Vec<Vec<u8>> = profiles
        .iter()
        .map(|p| engine.save_binary(p).unwrap())
        .collect();

    // Each thread builds its own profiles through the shared engine (record,
    // suppress, erase, compact need only `&Engine`), then reads them.
    let engine = &engine;
    let results: Vec<(Vec<Profile>, Vec<Vec<Answers>>)> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let range = t * PER_THREAD..(t + 1) * PER_THREAD;
                    let built: Vec<Profile> = range.map(|i| build(engine, i)).collect();
                    let answers = built.iter().map(|p| answer_all(engine, p)).collect();
                    (built, answers)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut got_profiles = Vec::new();
    let mut got = Vec::new();
    for (p, a) in results {
        got_profiles.extend(p);
        got.extend(a);
    }
    let got_json: Vec<String> = got_profiles
        .iter()
        .map(|p| engine.save_json(p).unwrap())
        .collect();
    assert_eq!(want_json, got_json);
    let got_binary: Vec<Vec<u8>> = got_profiles
        .iter()
        .map(|p| engine.save_binary(p).unwrap())
        .collect();
    assert_eq!(want_binary, got_binary);
    assert_eq!(profiles, &got_profiles);
    assert_same_answers(want, &got);
}

/// Whether thread `t` reads profile `i`: each of the first half of the
/// profiles is read by two threads at once.
fn reads(t: usize, i: usize) -> bool {
    i < PROFILES / 2 && i % 4 == t % 4
}

#[test]
fn profiles_shared_read_only_across_threads_answer_alike() {
    // All eight threads read the same profiles at once (shared `&Profile`s).
    let engine = engine();
    let (profiles, want) = sequential();
    let engine = &engine;
    let all: Vec<Vec<Vec<Answers>>> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut out = vec![Vec::new(); PROFILES];
                    for k in 0..PROFILES {
                        let i = (k + t * PER_THREAD) % PROFILES;
                        if reads(t, i) {
                            out[i] = answer_all(engine, &profiles[i]);
                        }
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (t, out) in all.iter().enumerate() {
        for (i, a) in out.iter().enumerate() {
            if reads(t, i) {
                assert_eq!(a, &want[i], "thread {t}, profile {i}");
            }
        }
    }
}

#[test]
fn engine_and_profile_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    send_sync::<Arc<Engine>>();
    send_sync::<Profile>();
    send_sync::<Scores>();
    send_sync::<Decision>();
    send_sync::<Membership>();
    send_sync::<Report>();
    send_sync::<Audience>();
    send_sync::<AudienceError>();
}
