//! Audience sizes released with differential privacy: the exact samplers
//! against their probability mass functions, the budget, the minimum applied
//! to noisy counts, and the differencing attack that exact counts allow and
//! the release API bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use rand::rngs::StdRng;
use rand::SeedableRng;
use tactful::privacy::sample::{discrete_gaussian, discrete_laplace, Rational};
use tactful::privacy::{
    Budget, BudgetError, Delta, Epsilon, Mechanism, PrivacyLoss, PrivateRelease, ReleaseError,
};
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

// ---------------------------------------------------------------------------
// Chi-square goodness of fit against the exact pmf.
// ---------------------------------------------------------------------------

/// Samples per goodness-of-fit test.
const SAMPLES: usize = 200_000;
/// Upper 0.001 quantiles of the chi-square distribution (checked against
/// the regularized incomplete gamma function): a correct sampler fails a
/// test with probability 1/1000 for a random seed; the seeds are fixed.
const CHI2_999_DF14: f64 = 36.123;
const CHI2_999_DF22: f64 = 48.268;

/// Pearson's statistic over bins `-m..=m` plus the two tails `< -m` and
/// `> m` (2m + 3 bins, 2m + 2 degrees of freedom).
fn chi_square(samples: &[i64], m: i64, pmf: impl Fn(i64) -> f64) -> f64 {
    let bins = usize::try_from(2 * m + 3).unwrap();
    let index = |x: i64| usize::try_from(x.clamp(-m - 1, m + 1) + m + 1).unwrap();
    let mut observed = vec![0u64; bins];
    for &x in samples {
        observed[index(x)] += 1;
    }
    let mut expected = vec![0f64; bins];
    let mut inner = 0.0;
    for x in -m..=m {
        expected[index(x)] = pmf(x);
        inner += pmf(x);
    }
    // The pmfs below are symmetric: each tail holds half the rest.
    expected[0] = (1.0 - inner) / 2.0;
    expected[bins - 1] = (1.0 - inner) / 2.0;
    let n = samples.len() as f64;
    observed
        .iter()
        .zip(&expected)
        .map(|(&o, &p)| {
            let e = p * n;
            assert!(e >= 5.0, "bins too thin for chi-square ({e})");
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

fn laplace_pmf(scale: f64) -> impl Fn(i64) -> f64 {
    let a = (-1.0 / scale).exp();
    move |x| (1.0 - a) / (1.0 + a) * a.powi(i32::try_from(x.abs()).unwrap())
}

fn gaussian_pmf(sigma_sq: f64) -> impl Fn(i64) -> f64 {
    let w = move |x: i64| (-((x * x) as f64) / (2.0 * sigma_sq)).exp();
    let z: f64 = (-400..=400).map(w).sum();
    move |x| w(x) / z
}

fn laplace_samples(scale: Rational, seed: u64) -> Vec<i64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..SAMPLES)
        .map(|_| discrete_laplace(scale, &mut rng).unwrap())
        .collect()
}

fn gaussian_samples(sigma_sq: Rational, seed: u64) -> Vec<i64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..SAMPLES)
        .map(|_| discrete_gaussian(sigma_sq, &mut rng).unwrap())
        .collect()
}

#[test]
fn discrete_laplace_follows_its_exact_pmf() {
    // Scale 2 is epsilon 1/2 for a count; 7/3 exercises a true fraction.
    for (num, den, seed) in [(2, 1, 11), (7, 3, 12)] {
        let scale = Rational::new(num, den).unwrap();
        let stat = chi_square(
            &laplace_samples(scale, seed),
            10,
            laplace_pmf(scale.to_f64()),
        );
        eprintln!("discrete Laplace scale {scale}: chi-square {stat:.2} (df 22)");
        assert!(stat < CHI2_999_DF22, "scale {scale}: chi-square {stat}");
    }
}

#[test]
fn discrete_gaussian_follows_its_exact_pmf() {
    for (num, den, seed) in [(4, 1, 21), (10, 3, 22)] {
        let sigma_sq = Rational::new(num, den).unwrap();
        let stat = chi_square(
            &gaussian_samples(sigma_sq, seed),
            6,
            gaussian_pmf(sigma_sq.to_f64()),
        );
        eprintln!("discrete Gaussian sigma^2 {sigma_sq}: chi-square {stat:.2} (df 14)");
        assert!(
            stat < CHI2_999_DF14,
            "sigma^2 {sigma_sq}: chi-square {stat}"
        );
    }
}

/// The tests above can fail: a sampler with a 10% wrong scale is rejected
/// by the same statistic, the same bins and the same sample size.
#[test]
fn the_goodness_of_fit_test_rejects_a_wrong_scale() {
    let wrong = laplace_samples(Rational::new(11, 5).unwrap(), 31);
    let stat = chi_square(&wrong, 10, laplace_pmf(2.0));
    eprintln!("wrong Laplace scale: chi-square {stat:.1}");
    assert!(stat > CHI2_999_DF22, "scale 2.2 passed as 2: {stat}");

    let wrong = gaussian_samples(Rational::new(22, 5).unwrap(), 32);
    let stat = chi_square(&wrong, 6, gaussian_pmf(4.0));
    eprintln!("wrong Gaussian variance: chi-square {stat:.1}");
    assert!(stat > CHI2_999_DF14, "sigma^2 4.4 passed as 4: {stat}");
}

// ---------------------------------------------------------------------------
// The shop: young parents, some of whom hike.
// ---------------------------------------------------------------------------

const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

fn engine() -> Engine {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("outdoor/hiking")
        .build()
        .unwrap();
    Engine::new(taxonomy, DecayPolicy::default())
        .with_segments(vec![
            SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
            SegmentDef::new(
                "young-parents-not-hiking",
                Rule::all([
                    Rule::interest_at_least("baby", 2.0),
                    Rule::negate(Rule::interest("outdoor/hiking")),
                ]),
            ),
        ])
        .unwrap()
}

/// A young parent at level `Full` (three views of baby food on three days), hiking or not.
fn parent(engine: &Engine, id: &str, hikes: bool) -> Profile {
    let t0 = NOW - Duration::days(10);
    let mut p = Profile::new(id);
    // A rule with `Not` relies on every purpose that could have supplied the
    // missing interest, so these people granted them all.
    p.set_level(Level::Full);
    for purpose in [
        Purpose::Personalization,
        Purpose::Marketing,
        Purpose::Location,
        Purpose::CrossSite,
        Purpose::PartnerData,
    ] {
        p.consent_mut()
            .grant(purpose, t0, None, Evidence::Ui("signup".into()))
            .unwrap();
    }
    let food = engine.taxonomy().id("baby/food").unwrap();
    let hiking = engine.taxonomy().id("outdoor/hiking").unwrap();
    for d in 1..=3 {
        let at = t0 + Duration::days(d);
        engine
            .record(&mut p, Event::new(food, Signal::View, at), at)
            .unwrap();
        if hikes {
            engine
                .record(&mut p, Event::new(hiking, Signal::View, at), at)
                .unwrap();
        }
    }
    p
}

/// 199 other people (every third one hikes) and the target, who hikes in
/// one world and not in the other.
fn population(engine: &Engine, target_hikes: bool) -> Vec<Profile> {
    let mut people: Vec<Profile> = (0..199)
        .map(|i| parent(engine, &format!("p{i}"), i % 3 == 0))
        .collect();
    people.push(parent(engine, "target", target_hikes));
    people
}

fn request(segment: &str) -> MessageRequest {
    MessageRequest::new(Channel::Email, Purpose::Marketing).about(Target::Segment(segment.into()))
}

fn exact_size(engine: &Engine, people: &[Profile], segment: &str) -> u64 {
    engine
        .audience(people, &request(segment), NOW)
        .unwrap()
        .len() as u64
}

/// The best success rate of any attacker guessing between two neighbouring
/// worlds with a uniform prior, against an epsilon-DP release:
/// e^eps / (1 + e^eps) (plus delta for (epsilon, delta)-DP).
fn dp_bound(epsilon: f64, delta: f64) -> f64 {
    epsilon.exp() / (1.0 + epsilon.exp()) + delta
}

#[test]
fn exact_counts_reveal_the_target_by_differencing() {
    let e = engine();
    // The attacker knows everyone but the target (the worst case DP covers):
    // 199 parents, 67 of whom hike.
    let others_hiking = 67;
    for target_hikes in [true, false] {
        let people = population(&e, target_hikes);
        let a = exact_size(&e, &people, "young-parents");
        let b = exact_size(&e, &people, "young-parents-not-hiking");
        assert_eq!(a, 200, "both sizes pass the minimum audience of 50");
        let guess_hikes = a - b - others_hiking == 1;
        assert_eq!(guess_hikes, target_hikes, "two exact counts single her out");
    }
}

#[test]
fn the_engine_release_is_the_release_api_on_the_exact_count() {
    let e = engine();
    let people = population(&e, true);
    let mech = Mechanism::laplace(Epsilon::new(0.5).unwrap()).unwrap();
    for seed in 0..20 {
        let mut b1 = Budget::new("c", Epsilon::new(1.0).unwrap(), Delta::ZERO);
        let mut b2 = b1.clone();
        let via_engine = e.private_audience_size(
            &people,
            &request("young-parents-not-hiking"),
            NOW,
            mech,
            &mut b1,
            &mut StdRng::seed_from_u64(seed),
        );
        let via_api = PrivateRelease::new(mech, 50).count(
            exact_size(&e, &people, "young-parents-not-hiking"),
            &mut b2,
            &mut StdRng::seed_from_u64(seed),
        );
        assert_eq!(via_engine, via_api);
        assert_eq!(b1, b2);
    }
}

/// The differencing attack against the release API, over many trials: the
/// attacker's success rate stays within what epsilon allows. Slack: three
/// standard errors of a success rate over `TRIALS` trials.
fn attack(mech: Mechanism, seed: u64) -> (f64, f64, f64) {
    const TRIALS: u32 = 2_000;
    let e = engine();
    let worlds = [false, true].map(|hikes| {
        let people = population(&e, hikes);
        (
            exact_size(&e, &people, "young-parents"),
            exact_size(&e, &people, "young-parents-not-hiking"),
        )
    });
    // Background knowledge: the others in each segment.
    let (others_a, others_b) = (199.0, 199.0 - 67.0);
    let release = PrivateRelease::new(mech, 50);
    let cost = mech.cost();
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut differencing, mut b_only) = (0u32, 0u32);
    for trial in 0..TRIALS {
        let hikes = trial % 2 == 0;
        let (a, b) = worlds[usize::from(hikes)];
        // A fresh consumer per trial with exactly two releases of budget.
        let mut budget = Budget::new(
            format!("attacker-{trial}"),
            Epsilon::from_micros(2 * cost.epsilon.micros()).unwrap(),
            Delta::from_units(2 * cost.delta.units()).unwrap(),
        );
        let na = release.count(a, &mut budget, &mut rng).unwrap().value as f64;
        let nb = release.count(b, &mut budget, &mut rng).unwrap().value as f64;
        // A third query is refused.
        assert!(matches!(
            release.count(b, &mut budget, &mut rng),
            Err(ReleaseError::Budget(_))
        ));
        // If she hikes, A - B is one more than among the others.
        let guess = (na - nb) - (others_a - others_b) > 0.5;
        differencing += u32::from(guess == hikes);
        // Sharper: B alone, against the known others in B.
        let guess = nb - others_b < 0.5;
        b_only += u32::from(guess == hikes);
    }
    let n = f64::from(TRIALS);
    eprintln!(
        "{:?}: differencing attacker {differencing}/{TRIALS}, B-only attacker {b_only}/{TRIALS}",
        mech.kind()
    );
    (f64::from(differencing) / n, f64::from(b_only) / n, n)
}

#[test]
fn the_differencing_attack_succeeds_no_more_than_epsilon_allows() {
    let eps = 0.5;
    let (differencing, b_only, n) =
        attack(Mechanism::laplace(Epsilon::new(eps).unwrap()).unwrap(), 41);
    // Two releases compose to 2 * epsilon; only B depends on the target, so
    // the B-only attacker is bound by one epsilon.
    let composed = dp_bound(2.0 * eps, 0.0);
    let single = dp_bound(eps, 0.0);
    let slack = |p: f64| 3.0 * (p * (1.0 - p) / n).sqrt();
    assert!(
        differencing <= composed + slack(composed),
        "{differencing} > {composed}"
    );
    assert!(b_only <= single + slack(single), "{b_only} > {single}");
    // Against exact counts the attacker always wins; here it is a coin with
    // a small bias, and the discrete Laplace bound is tight for the B-only
    // attacker (its success is exactly e^eps / (1 + e^eps)).
    assert!(differencing < 0.75 && differencing > 0.5, "{differencing}");
    assert!(
        b_only >= single - slack(single),
        "{b_only} well below the tight {single}"
    );
}

#[test]
fn the_differencing_attack_against_gaussian_releases_stays_within_the_bound() {
    let (eps, delta) = (0.5, 1e-6);
    let mech = Mechanism::gaussian(Epsilon::new(eps).unwrap(), Delta::new(delta).unwrap()).unwrap();
    let (differencing, b_only, n) = attack(mech, 42);
    let single = dp_bound(eps, delta);
    let slack = 3.0 * (single * (1.0 - single) / n).sqrt();
    assert!(differencing <= single + slack, "{differencing}");
    assert!(b_only <= single + slack, "{b_only}");
}

// ---------------------------------------------------------------------------
// The minimum audience, applied to the noisy count.
// ---------------------------------------------------------------------------

#[test]
fn the_minimum_is_applied_to_the_noisy_count() {
    let release = PrivateRelease::new(Mechanism::laplace(Epsilon::new(0.5).unwrap()).unwrap(), 50);
    let mut rng = StdRng::seed_from_u64(51);
    let mut budget = Budget::new("c", Epsilon::new(1000.0).unwrap(), Delta::ZERO);
    let mut released = |exact: u64| {
        (0..400)
            .filter(|_| match release.count(exact, &mut budget, &mut rng) {
                Ok(n) => {
                    assert!(n.value >= 50);
                    true
                }
                Err(ReleaseError::BelowThreshold { min: 50 }) => false,
                Err(e) => panic!("{e}"),
            })
            .count()
    };
    // Far below or far above the minimum, the answer is certain.
    assert_eq!(released(10), 0);
    assert_eq!(released(90), 400);
    // At the minimum, whether a count is released is itself noisy: exactly
    // 50 and 49 people are both sometimes released and sometimes withheld,
    // so the refusal does not tell which side of the line the truth is on.
    let at = released(50);
    let below = released(49);
    assert!((200..300).contains(&at), "{at}");
    assert!((130..260).contains(&below) && below < at, "{below}");
    // Every attempt was charged: 1600 releases of 0.5.
    assert_eq!(budget.spent().epsilon, Epsilon::new(800.0).unwrap());
}

#[test]
fn the_engine_withholds_a_small_audience_and_still_charges_the_budget() {
    let e = engine();
    let people: Vec<Profile> = (0..5)
        .map(|i| parent(&e, &format!("p{i}"), false))
        .collect();
    let mech = Mechanism::laplace(Epsilon::new(1.0).unwrap()).unwrap();
    let mut budget = Budget::new("c", Epsilon::new(1.0).unwrap(), Delta::ZERO);
    let mut rng = StdRng::seed_from_u64(61);
    assert_eq!(
        e.private_audience_size(
            &people,
            &request("young-parents"),
            NOW,
            mech,
            &mut budget,
            &mut rng
        ),
        Err(ReleaseError::BelowThreshold { min: 50 })
    );
    assert_eq!(budget.remaining().epsilon, Epsilon::ZERO);
    // Unknown segments are refused before anything is spent.
    let mut fresh = Budget::new("d", Epsilon::new(1.0).unwrap(), Delta::ZERO);
    assert!(matches!(
        e.private_audience_size(&people, &request("nope"), NOW, mech, &mut fresh, &mut rng),
        Err(ReleaseError::Audience(AudienceError::UnknownSegment(_)))
    ));
    assert_eq!(fresh.releases(), 0);
}

#[test]
fn duplicate_records_of_one_person_count_once() {
    let e = engine().with_min_audience(std::num::NonZeroUsize::MIN);
    let one = parent(&e, "anna", false);
    let copies = vec![one.clone(), one.clone(), one];
    let mech = Mechanism::laplace(Epsilon::new(1.0).unwrap()).unwrap();
    let mut budget = Budget::new("c", Epsilon::new(1000.0).unwrap(), Delta::ZERO);
    let mut rng = StdRng::seed_from_u64(71);
    let mut rng_ref = StdRng::seed_from_u64(71);
    let mut budget_ref = budget.clone();
    for _ in 0..50 {
        let got = e.private_audience_size(
            &copies,
            &request("young-parents"),
            NOW,
            mech,
            &mut budget,
            &mut rng,
        );
        let want = PrivateRelease::new(mech, 1).count(1, &mut budget_ref, &mut rng_ref);
        assert_eq!(got, want);
    }
}

// ---------------------------------------------------------------------------
// Budgets and breakdowns.
// ---------------------------------------------------------------------------

#[test]
fn a_budget_is_spent_release_by_release_and_survives_storage() {
    let e = engine();
    let people = population(&e, false);
    let mech = Mechanism::gaussian(Epsilon::new(0.25).unwrap(), Delta::new(1e-7).unwrap()).unwrap();
    let mut budget = Budget::new(
        "partner-a",
        Epsilon::new(0.5).unwrap(),
        Delta::new(2e-7).unwrap(),
    );
    let mut rng = StdRng::seed_from_u64(81);
    let req = request("young-parents");
    let first = e
        .private_audience_size(&people, &req, NOW, mech, &mut budget, &mut rng)
        .unwrap();
    assert!(first.value.abs_diff(200) < 60, "{}", first.value);
    assert_eq!(
        first.cost,
        PrivacyLoss {
            epsilon: Epsilon::new(0.25).unwrap(),
            delta: Delta::new(1e-7).unwrap()
        }
    );

    // Stored and loaded between releases, the budget carries on.
    let stored = serde_json::to_string(&budget).unwrap();
    assert!(
        stored.contains(r#""epsilon_spent_micros":250000"#),
        "{stored}"
    );
    let mut budget: Budget = serde_json::from_str(&stored).unwrap();
    // The second release uses the budget up exactly, and is allowed.
    e.private_audience_size(&people, &req, NOW, mech, &mut budget, &mut rng)
        .unwrap();
    assert_eq!(budget.remaining(), PrivacyLoss::default());
    let err = e
        .private_audience_size(&people, &req, NOW, mech, &mut budget, &mut rng)
        .unwrap_err();
    assert!(
        matches!(err, ReleaseError::Budget(BudgetError::Exhausted { ref consumer, .. }) if consumer == "partner-a")
    );
    assert_eq!(budget.releases(), 2);
}

#[test]
fn a_segment_by_channel_breakdown_is_one_release_with_noise_for_every_cell() {
    let e = engine();
    let people = population(&e, false);
    let requests: Vec<MessageRequest> = [Channel::Email, Channel::Post]
        .into_iter()
        .flat_map(|c| {
            ["young-parents", "young-parents-not-hiking"].map(|s| {
                MessageRequest::new(c, Purpose::Marketing).about(Target::Segment(s.into()))
            })
        })
        .collect();
    let mech = Mechanism::laplace(Epsilon::new(1.0).unwrap()).unwrap();
    let mut budget = Budget::new("c", Epsilon::new(1.0).unwrap(), Delta::ZERO);
    let mut rng = StdRng::seed_from_u64(91);
    let b = e
        .private_breakdown(&people, &requests, NOW, mech, &mut budget, &mut rng)
        .unwrap();
    // One person may be in all four cells: sensitivity 4, scale 4 / epsilon.
    assert_eq!(b.contributions, 4);
    assert_eq!(mech.noise_parameter(4).unwrap().to_f64(), 4.0);
    let sd = mech.standard_deviation(4).unwrap();
    let exact = [200u64, 133, 200, 133];
    for (cell, want) in b.cells.iter().zip(exact) {
        let got = cell.count.expect("far above the minimum");
        assert!(
            (got as f64 - want as f64).abs() < 6.0 * sd,
            "{got} vs {want}"
        );
        assert_eq!(
            cell.key.target,
            Target::Segment(
                if want == 200 {
                    "young-parents"
                } else {
                    "young-parents-not-hiking"
                }
                .into()
            )
        );
    }
    assert_eq!(budget.releases(), 1);
    assert_eq!(budget.remaining().epsilon, Epsilon::ZERO);
}
