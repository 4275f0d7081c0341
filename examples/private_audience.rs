//! Releasing audience sizes to a partner with differential privacy.
//!
//! A partner asks how many young parents the shop could reach, and how many
//! of them do not hike. Exact answers would let the partner learn, by
//! subtracting, whether one known customer hikes. The shop answers with
//! noisy sizes from an exact discrete mechanism, charged to the partner's
//! privacy budget, and refuses once the budget is spent.
//!
//! Run with `cargo run --example private_audience`.

use rand::SeedableRng;
use tactful::privacy::{Budget, Delta, Epsilon, Mechanism, ReleaseError};
use tactful::*;
use time::macros::datetime;
use time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("outdoor/hiking")
        .build()?;
    let food = taxonomy.id("baby/food").ok_or("baby/food")?;
    let hiking = taxonomy.id("outdoor/hiking").ok_or("outdoor/hiking")?;
    let engine = Engine::new(taxonomy, DecayPolicy::default()).with_segments(vec![
        SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
        SegmentDef::new(
            "young-parents-not-hiking",
            Rule::all([
                Rule::interest_at_least("baby", 2.0),
                Rule::negate(Rule::interest("outdoor/hiking")),
            ]),
        ),
    ])?;

    // 300 customers who said yes to everything; every third one hikes.
    let t0 = datetime!(2026-11-20 09:00 UTC);
    let mut customers = Vec::new();
    for i in 0..300 {
        let mut p = Profile::new(format!("customer-{i}").as_str());
        p.set_level(Level::Full);
        for purpose in [
            Purpose::Personalization,
            Purpose::Marketing,
            Purpose::Location,
            Purpose::CrossSite,
            Purpose::PartnerData,
        ] {
            p.consent_mut()
                .grant(purpose, t0, None, Evidence::Ui("signup".into()))?;
        }
        for d in 1..=3 {
            let at = t0 + Duration::days(d);
            engine.record(&mut p, Event::new(food, Signal::View, at), at)?;
            if i % 3 == 0 {
                engine.record(&mut p, Event::new(hiking, Signal::View, at), at)?;
            }
        }
        customers.push(p);
    }
    let now = t0 + Duration::days(5);

    // The partner's budget for this quarter: epsilon 1 in all.
    let mut budget = Budget::new("partner-a", Epsilon::new(1.0)?, Delta::ZERO);
    let mechanism = Mechanism::laplace(Epsilon::new(0.5)?)?;
    // A fixed seed so the output is the same on every run. In production use
    // the OS generator: `rand::rand_core::UnwrapErr(rand::rngs::SysRng)` or
    // `rand::rng()`; whoever knows the seed can subtract the noise.
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);

    println!(
        "mechanism: discrete Laplace, epsilon {} per release (noise sd {:.1})",
        mechanism.cost().epsilon,
        mechanism.standard_deviation(1)?
    );
    for segment in ["young-parents", "young-parents-not-hiking", "young-parents"] {
        let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
            .about(Target::Segment(segment.into()));
        let exact = engine.audience(&customers, &req, now)?.len();
        match engine.private_audience_size(&customers, &req, now, mechanism, &mut budget, &mut rng)
        {
            Ok(size) => println!(
                "{segment}: released {} (exact {exact}, kept in-house); epsilon left {}",
                size.value,
                budget.remaining().epsilon
            ),
            Err(ReleaseError::Budget(e)) => println!("{segment}: refused: {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "budget of {}: {} releases, epsilon spent {} of {}",
        budget.consumer(),
        budget.releases(),
        budget.spent().epsilon,
        budget.total().epsilon
    );
    println!("stored budget: {}", serde_json::to_string(&budget)?);
    Ok(())
}
