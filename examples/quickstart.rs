//! Quickstart: one person's week, the segments it puts her in and why, and
//! what happens when she reports a pregnancy loss.
//!
//! Run with `cargo run --example quickstart`.
//!
//! The story follows the lessons `tactful` was built from: a single gift
//! purchase is not an interest, sensitive interests are never inferred, and a
//! bereavement wins over every score, consent and partner feed.

use tactful::{
    Channel, DecayPolicy, Engine, Event, Evidence, Level, MessageRequest, Profile, Purpose, Rule,
    Scope, SegmentDef, Signal, Source, SpecialCategory, Suppression, SuppressionReason, Target,
    Taxonomy,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // What the shop knows how to talk about. `health/pregnancy` is a special
    // category: observing it is never enough to establish it.
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("baby/toys")
        .interest("baby/clothes")
        .interest("outdoor/hiking")
        .interest("outdoor/camping")
        .interest("kitchen/coffee")
        .sensitive("health", SpecialCategory::Health)
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .build()?;
    let id = |path: &str| taxonomy.id(path).ok_or(format!("no interest {path}"));
    let baby = id("baby")?;
    let baby_food = id("baby/food")?;
    let baby_toys = id("baby/toys")?;
    let baby_clothes = id("baby/clothes")?;
    let hiking = id("outdoor/hiking")?;
    let pregnancy = id("health/pregnancy")?;

    let engine = Engine::new(taxonomy, DecayPolicy::default()).with_segments(vec![
        SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
        SegmentDef::new("hikers", Rule::interest_at_least("outdoor/hiking", 2.0)),
        SegmentDef::new(
            "coffee-lovers",
            Rule::interest_at_least("kitchen/coffee", 2.0),
        ),
    ])?;

    // Anna signs up and chooses "personalize with what you see me do here",
    // and agrees to personalization and marketing.
    let monday = datetime!(2026-11-02 9:00 UTC);
    let mut anna = Profile::new("anna");
    anna.set_level(Level::FirstParty);
    let signup = Evidence::Ui("sign-up form".into());
    anna.consent_mut()
        .grant(Purpose::Personalization, monday, None, signup.clone())?
        .grant(Purpose::Marketing, monday, None, signup)?;

    println!("== Anna's week\n");
    let day = |d: i64, hour: i64| monday + Duration::days(d) + Duration::hours(hour);
    let week = [
        (
            "buys a baby toy for a friend's baby shower (gift)",
            Event::new(baby_toys, Signal::Purchase, day(0, 1)).with_gift(true),
        ),
        (
            "looks at hiking boots",
            Event::new(hiking, Signal::View, day(0, 3)),
        ),
        (
            "reads an article on pregnancy",
            Event::new(pregnancy, Signal::View, day(1, 2)),
        ),
        (
            "looks at organic baby food",
            Event::new(baby_food, Signal::View, day(1, 3)),
        ),
        (
            "searches for hiking trails",
            Event::new(hiking, Signal::Search, day(2, 10)),
        ),
        (
            "looks at baby food again",
            Event::new(baby_food, Signal::View, day(3, 4)),
        ),
        (
            "a partner shop says she bought baby clothes there",
            Event::new(baby_clothes, Signal::Purchase, day(3, 6)).with_source(Source::Partner),
        ),
        (
            "puts a baby romper in her cart",
            Event::new(baby_clothes, Signal::AddToCart, day(4, 2)),
        ),
        (
            "buys a hiking map",
            Event::new(hiking, Signal::Purchase, day(5, 1)),
        ),
    ];
    for (what, event) in week {
        let at = event.at();
        let label = format!("{} {}", at.weekday(), at.date());
        match engine.record(&mut anna, event, at) {
            Ok(()) => println!("  {label:<21} {what}: stored"),
            Err(refusal) => println!("  {label:<21} {what}: REFUSED, {}", refusal.reason),
        }
        if event.is_gift() && engine.segments(&anna, at).is_empty() {
            println!(
                "  {:<21} (after the gift Anna is in no segment: a gift is not her own interest)",
                ""
            );
        }
    }

    let sunday = day(6, 9);
    println!("\n== Segments on {} {}\n", sunday.weekday(), sunday.date());
    print_segments(&engine, &anna, sunday);

    // Eight days later Anna tells the shop she lost the baby.
    let loss = day(14, 0);
    println!("\n== {}: Anna reports a pregnancy loss\n", loss.date());
    let purged = engine.suppress(
        &mut anna,
        Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, loss),
        loss,
    );
    println!("  Everything under \"baby\" is suppressed from now on, with no end date.");
    println!("  {purged} stored baby signals were purged for good.\n");
    print_segments(&engine, &anna, loss);

    let sample =
        MessageRequest::new(Channel::Post, Purpose::Marketing).about(Target::Interest(baby_food));
    println!("\n  May we send her a baby-food sample by post?");
    print_decision(&engine, &anna, &sample, loss);

    let apology = MessageRequest::new(Channel::Email, Purpose::Service);
    println!("  May we still send her a service mail (her order confirmation)?");
    print_decision(&engine, &anna, &apology, loss);

    // Seven months later a partner's feed still thinks she is expecting.
    let later = loss + Duration::days(210);
    println!(
        "\n== {}: seven months later, a partner feed arrives\n",
        later.date()
    );
    let partner = Event::new(baby_food, Signal::Purchase, later - Duration::days(2))
        .with_source(Source::Partner);
    match engine.record(&mut anna, partner, later) {
        Ok(()) => println!("  partner baby-food event: stored"),
        Err(refusal) => println!("  partner baby-food event: REFUSED, {}", refusal.reason),
    }
    println!("  May the partner send a baby-food sample by post now?");
    print_decision(&engine, &anna, &sample, later);

    // Eight weeks after her last visit everything observed has aged out; what
    // remains is what protects her.
    let removed = engine.compact(&mut anna, later);
    println!("\n  Housekeeping deletes {removed} events that are past their max age.");
    println!("\n== Anna's transparency report, {}\n", later.date());
    print!("{}", engine.report(&anna, later));
    Ok(())
}

fn print_segments(engine: &Engine, profile: &Profile, now: OffsetDateTime) {
    let members = engine.segments(profile, now);
    if members.is_empty() {
        println!("  Anna is in no segment.");
    }
    for m in &members {
        println!("  {} because:", m.segment);
        for line in m.explanation.to_string().lines() {
            println!("  {line}");
        }
    }
    let names: Vec<&str> = members.iter().map(|m| m.segment.as_str()).collect();
    if !names.is_empty() && !names.contains(&"young-parents") {
        println!("  (not in young-parents)");
    }
}

fn print_decision(
    engine: &Engine,
    profile: &Profile,
    request: &MessageRequest,
    now: OffsetDateTime,
) {
    let decision = engine.decide(profile, request, now);
    if decision.is_allowed() {
        println!("    yes");
    } else {
        println!("    no:");
        for reason in decision.reasons() {
            println!("      - {reason}");
        }
    }
}
