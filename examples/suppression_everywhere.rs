//! One gate: a suppression wins in every answer, a bereavement covers the
//! whole life event, and "no marketing e-mails" closes just that.
//!
//! Run with `cargo run --example suppression_everywhere`.
//!
//! Part 1 follows Mara (the seed story 001): she tells us she is pregnant,
//! browses baby food and parenting books, then reports a loss. The operator
//! suppresses `baby` only; the taxonomy's `pregnancy` life event makes the
//! suppression cover pregnancy and parenting too, so seven months later a
//! partner's baby-food data is refused, and no decision, segment or
//! audience lists her for any of it.
//!
//! Part 2 follows Kim, who asks for no more marketing e-mails: marketing by
//! post and service e-mails stay open, and the e-mail-only segment drops
//! her. Then she asks not to be contacted at all: no segment lists her, not
//! even one whose rule needs no interest.

use tactful::{
    Channel, DecayPolicy, Engine, Event, Evidence, InterestId, Level, MessageRequest, Profile,
    Purpose, Rule, Scope, SegmentDef, Signal, Source, SpecialCategory, Suppression,
    SuppressionReason, Target, Taxonomy,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .interest("parenting/books")
        .interest("outdoor/hiking")
        // One life event touches all three subtrees.
        .life_event("pregnancy", ["baby", "health/pregnancy", "parenting"])
        .build()?;
    let engine = Engine::new(taxonomy, DecayPolicy::default()).with_segments(vec![
        SegmentDef::new(
            "young-parents",
            Rule::any([Rule::interest("baby"), Rule::interest("health/pregnancy")]),
        ),
        SegmentDef::new("book-readers", Rule::interest("parenting")),
        SegmentDef::new("hikers-by-mail", Rule::interest("outdoor")).on_channels([Channel::Email]),
        SegmentDef::new("hikers", Rule::interest("outdoor")),
        SegmentDef::new("newsletter", Rule::LevelAtLeast(Level::Declared)),
    ])?;
    life_event(&engine)?;
    combined_scope(&engine)?;
    Ok(())
}

fn person(id: &str, at: OffsetDateTime) -> Result<Profile, Box<dyn std::error::Error>> {
    let mut p = Profile::new(id);
    p.set_level(Level::Full);
    let ui = Evidence::Ui("sign-up form".into());
    for purpose in [
        Purpose::Personalization,
        Purpose::Marketing,
        Purpose::PartnerData,
    ] {
        p.consent_mut().grant(purpose, at, None, ui.clone())?;
    }
    Ok(p)
}

fn views(
    engine: &Engine,
    p: &mut Profile,
    interest: InterestId,
    from: OffsetDateTime,
) -> Result<(), Box<dyn std::error::Error>> {
    for d in 0..3 {
        let at = from + Duration::days(d);
        engine.record(p, Event::new(interest, Signal::View, at), at)?;
    }
    Ok(())
}

fn ask(engine: &Engine, p: &Profile, req: &MessageRequest, now: OffsetDateTime) -> String {
    let d = engine.decide(p, req, now);
    if d.is_allowed() {
        "yes".to_owned()
    } else {
        let reasons: Vec<String> = d.reasons().iter().map(ToString::to_string).collect();
        format!("no: {}", reasons.join("; "))
    }
}

fn life_event(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    let tax = engine.taxonomy();
    let (baby, food, pregnancy) = (
        tax.require("baby")?,
        tax.require("baby/food")?,
        tax.require("health/pregnancy")?,
    );
    let books = tax.require("parenting/books")?;
    let t0 = datetime!(2026-01-05 19:00 UTC);
    let mut mara = person("mara", t0)?;
    println!("== Part 1: a loss covers the whole life event\n");
    mara.like(pregnancy, datetime!(2026-02-01 10:00 UTC));
    views(engine, &mut mara, food, datetime!(2026-02-10 20:00 UTC))?;
    views(engine, &mut mara, books, datetime!(2026-02-14 20:00 UTC))?;
    let before = datetime!(2026-02-20 09:00 UTC);
    println!(
        "{}: Mara told us she is pregnant and browsed baby food and parenting books.",
        before.date()
    );
    println!(
        "  segments: {}",
        engine.segment_names(&mara, before).join(", ")
    );

    let loss = datetime!(2026-03-14 16:20 UTC);
    let purged = engine.suppress(
        &mut mara,
        Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, loss),
        loss,
    );
    println!(
        "\n{}: she reports a loss; the operator suppresses only `baby`.",
        loss.date()
    );
    println!("  {purged} signals purged (baby food and parenting books alike)");

    let october = loss + Duration::days(214);
    println!(
        "\n{}: seven months later a partner sends baby-food data.",
        october.date()
    );
    let partner = Event::new(food, Signal::Purchase, october - Duration::hours(12))
        .with_source(Source::Partner);
    if let Err(refusal) = engine.record(&mut mara, partner, october) {
        println!("  refused: {}", refusal.reason);
    }
    let about =
        |i| MessageRequest::new(Channel::Post, Purpose::Marketing).about(Target::Interest(i));
    println!(
        "  a pregnancy offer by post?  {}",
        ask(engine, &mara, &about(pregnancy), october)
    );
    println!(
        "  a parenting-book offer?     {}",
        ask(engine, &mara, &about(books), october)
    );
    let names = engine.segment_names(&mara, october);
    println!(
        "  segments: {}",
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    );
    Ok(())
}

fn combined_scope(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    let hiking = engine.taxonomy().require("outdoor/hiking")?;
    let t0 = datetime!(2026-04-01 09:00 UTC);
    let mut kim = person("kim", t0)?;
    views(engine, &mut kim, hiking, t0)?;
    let now = t0 + Duration::days(3);
    println!("\n== Part 2: no marketing e-mails, then no contact at all\n");
    println!(
        "{}: segments: {}",
        now.date(),
        engine.segment_names(&kim, now).join(", ")
    );

    let no_mail = Scope::ChannelPurpose {
        channel: Channel::Email,
        purpose: Purpose::Marketing,
    };
    engine.suppress(
        &mut kim,
        Suppression::new(no_mail, SuppressionReason::OptOut, now),
        now,
    );
    println!("Kim asks for no more marketing e-mails.");
    for (channel, purpose) in [
        (Channel::Email, Purpose::Marketing),
        (Channel::Post, Purpose::Marketing),
        (Channel::Email, Purpose::Service),
    ] {
        let req = MessageRequest::new(channel, purpose);
        println!("  {purpose} by {channel}? {}", ask(engine, &kim, &req, now));
    }
    println!("  segments: {}", engine.segment_names(&kim, now).join(", "));

    let later = now + Duration::days(1);
    engine.suppress(
        &mut kim,
        Suppression::new(Scope::All, SuppressionReason::DoNotContact, later),
        later,
    );
    let names = engine.segment_names(&kim, later);
    println!("\n{}: Kim asks not to be contacted at all.", later.date());
    println!(
        "  segments: {} (not even the newsletter, whose rule needs no interest)",
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    );
    Ok(())
}
