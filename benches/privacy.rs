//! Differentially private releases: the exact samplers' draws per second,
//! and a noisy audience size over 10,000 profiles beside the exact
//! `Engine::audience` it is built on (the noise is a rounding error of the
//! cost; counting with the one gate is the work).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration as StdDuration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tactful::privacy::sample::{discrete_gaussian, discrete_laplace};
use tactful::privacy::{Budget, Delta, Epsilon, Mechanism};
use tactful::*;
use time::macros::datetime;
use time::Duration;

const DRAWS: u64 = 10_000;
const PROFILES: usize = 10_000;

fn samplers(c: &mut Criterion) {
    let mut g = c.benchmark_group("sampler");
    g.throughput(Throughput::Elements(DRAWS));
    let cases = [
        (
            "laplace_eps_0.5",
            Mechanism::laplace(Epsilon::new(0.5).unwrap()).unwrap(),
        ),
        (
            "laplace_eps_0.01",
            Mechanism::laplace(Epsilon::new(0.01).unwrap()).unwrap(),
        ),
        (
            "gaussian_eps_1_delta_1e-6",
            Mechanism::gaussian(Epsilon::new(1.0).unwrap(), Delta::new(1e-6).unwrap()).unwrap(),
        ),
    ];
    for (name, mech) in cases {
        let param = mech.noise_parameter(1).unwrap();
        let gaussian = mech.kind() == privacy::MechanismKind::Gaussian;
        let mut rng = StdRng::seed_from_u64(1);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut sum = 0i64;
                for _ in 0..DRAWS {
                    sum += if gaussian {
                        discrete_gaussian(param, &mut rng).unwrap()
                    } else {
                        discrete_laplace(param, &mut rng).unwrap()
                    };
                }
                black_box(sum)
            });
        });
    }
    g.finish();
}

fn release(c: &mut Criterion) {
    let taxonomy = Taxonomy::builder().interest("baby/food").build().unwrap();
    let food = taxonomy.id("baby/food").unwrap();
    let engine = Engine::new(taxonomy, DecayPolicy::default())
        .with_segments(vec![SegmentDef::new(
            "young-parents",
            Rule::interest_at_least("baby", 2.0),
        )])
        .unwrap();
    let t0 = datetime!(2026-11-20 09:00 UTC);
    let profiles: Vec<Profile> = (0..PROFILES)
        .map(|i| {
            let mut p = Profile::new(format!("p{i}").as_str());
            p.set_level(Level::FirstParty);
            for purpose in [Purpose::Personalization, Purpose::Marketing] {
                p.consent_mut()
                    .grant(purpose, t0, None, Evidence::Ui("bench".into()))
                    .unwrap();
            }
            for d in 1..=3 {
                let at = t0 + Duration::days(d);
                engine
                    .record(&mut p, Event::new(food, Signal::View, at), at)
                    .unwrap();
            }
            p
        })
        .collect();
    let now = t0 + Duration::days(5);
    let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
        .about(Target::Segment("young-parents".into()));
    let mech = Mechanism::laplace(Epsilon::new(0.5).unwrap()).unwrap();
    let mut rng = StdRng::seed_from_u64(2);

    let mut g = c.benchmark_group("release_10k_profiles");
    g.throughput(Throughput::Elements(PROFILES as u64));
    g.bench_function("exact_audience", |b| {
        b.iter(|| black_box(engine.audience(&profiles, &req, now).unwrap().len()));
    });
    g.bench_function("private_audience_size_laplace", |b| {
        b.iter(|| {
            let mut budget = Budget::new("bench", Epsilon::new(1.0).unwrap(), Delta::ZERO);
            black_box(
                engine
                    .private_audience_size(&profiles, &req, now, mech, &mut budget, &mut rng)
                    .unwrap(),
            )
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(StdDuration::from_secs(3));
    targets = samplers, release
}
criterion_main!(benches);
