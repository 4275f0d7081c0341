//! Consent and the personalization level: the two dials a person holds.
//!
//! Run with `cargo run --example consent_and_levels`.
//!
//! Part 1 withdraws consent and grants it again: a withdrawal is retroactive,
//! and a new grant does not bring the old events back. It also shows why
//! "never asked", "expired" and "withdrawn" are kept apart.
//!
//! Part 2 turns the level dial from `Off` to `Full` over the same events and
//! shows which are stored, which are refused and why, and which segments
//! result.

use tactful::{
    Channel, ConsentState, Context, DecayPolicy, Engine, Event, Evidence, InterestId, Level,
    MessageRequest, Profile, Purpose, Rule, SegmentDef, Signal, Source, Taxonomy,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let taxonomy = Taxonomy::builder()
        .interest("kitchen/coffee")
        .interest("outdoor/camping")
        .interest("outdoor/hiking")
        .interest("fashion/sneakers")
        .build()?;
    let engine = Engine::new(taxonomy, DecayPolicy::default()).with_segments(vec![
        SegmentDef::new(
            "coffee-lovers",
            Rule::interest_at_least("kitchen/coffee", 2.0),
        ),
        SegmentDef::new("campers", Rule::interest("outdoor/camping")),
        SegmentDef::new("near-our-store", Rule::interest("outdoor/hiking")),
        SegmentDef::new("sneakerheads", Rule::interest("fashion/sneakers")),
    ])?;

    withdrawal(&engine)?;
    levels(&engine)?;
    Ok(())
}

/// Part 1: withdraw, re-grant, and the four consent states.
fn withdrawal(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    let tax = engine.taxonomy();
    let coffee = tax.id("kitchen/coffee").ok_or("no kitchen/coffee")?;
    let t0 = datetime!(2026-11-02 9:00 UTC);
    let day = |d: i64| t0 + Duration::days(d);

    println!("== Part 1: consent is per purpose, and a withdrawal is retroactive\n");
    let mut ben = Profile::new("ben");
    ben.set_level(Level::FirstParty);
    ben.consent_mut()
        .grant(
            Purpose::Personalization,
            t0,
            None,
            Evidence::Ui("cookie banner".into()),
        )?
        // A 30-day opt-in for a newsletter promotion.
        .grant(
            Purpose::Marketing,
            t0,
            Some(day(30)),
            Evidence::Ui("newsletter promotion".into()),
        )?
        .grant(
            Purpose::PartnerData,
            t0,
            None,
            Evidence::Ui("cookie banner".into()),
        )?;

    for (d, signal) in [
        (0, Signal::View),
        (1, Signal::View),
        (2, Signal::Search),
        (3, Signal::Purchase),
    ] {
        engine.record(&mut ben, Event::new(coffee, signal, day(d)), day(d))?;
    }
    println!("Ben looks at coffee on three days and buys a grinder on the fourth.");
    show_coffee(engine, &ben, coffee, day(4));

    let settings = Evidence::Ui("privacy settings".into());
    ben.consent_mut()
        .withdraw(Purpose::Personalization, day(5), settings.clone())?;
    println!(
        "\n{}: Ben withdraws consent to personalization.",
        day(5).date()
    );
    show_coffee(engine, &ben, coffee, day(5));
    println!(
        "  the {} events stay stored (for the record), but count for nothing; the explanation says why:",
        ben.events().len()
    );
    for line in engine
        .explain(&ben, coffee, day(5))
        .to_string()
        .lines()
        .filter(|l| l.contains("left out"))
        .take(2)
    {
        println!("  {line}");
    }
    let refused = engine.record(&mut ben, Event::new(coffee, Signal::View, day(6)), day(6));
    if let Err(refusal) = refused {
        println!(
            "  a new coffee view on {}: refused, {}",
            day(6).date(),
            refusal.reason
        );
    }

    ben.consent_mut()
        .grant(Purpose::Personalization, day(10), None, settings)?;
    println!("\n{}: Ben grants personalization again.", day(10).date());
    show_coffee(engine, &ben, coffee, day(10));
    engine.record(&mut ben, Event::new(coffee, Signal::View, day(11)), day(11))?;
    println!("  after one new coffee view on {}:", day(11).date());
    show_coffee(engine, &ben, coffee, day(11));
    println!("  (the re-grant did not bring the four old events back)");

    // Ben's browser starts sending Global Privacy Control: no partner data.
    ben.consent_mut().withdraw(
        Purpose::PartnerData,
        day(20),
        Evidence::GlobalPrivacyControl,
    )?;

    let now = day(40);
    println!("\n{}: what Ben's consent ledger says\n", now.date());
    for purpose in [
        Purpose::Personalization,
        Purpose::Marketing,
        Purpose::Location,
        Purpose::PartnerData,
    ] {
        let state = ben.consent().state(purpose, now);
        let meaning = match state {
            ConsentState::Granted => "in force",
            ConsentState::NeverAsked => "never asked: we may ask",
            ConsentState::Expired => "the grant lapsed: we may ask again",
            ConsentState::Withdrawn => "Ben said no: do not use, do not nag",
        };
        println!(
            "  {:<16} {:<12} {meaning}",
            purpose.name(),
            state.to_string()
        );
    }
    println!(
        "  (and the ledger answers for any instant: personalization on {} was {})",
        day(7).date(),
        ben.consent().state(Purpose::Personalization, day(7))
    );

    let newsletter = MessageRequest::new(Channel::Email, Purpose::Marketing);
    let decision = engine.decide(&ben, &newsletter, now);
    println!("\n  May we send Ben the marketing newsletter?");
    for reason in decision.reasons() {
        println!("    no: {reason}");
    }
    if decision.is_allowed() {
        println!("    yes");
    }
    Ok(())
}

fn show_coffee(engine: &Engine, profile: &Profile, coffee: InterestId, now: OffsetDateTime) {
    let scores = engine.scores(profile, now);
    let segments: Vec<String> = engine
        .segments(profile, now)
        .into_iter()
        .map(|m| m.segment)
        .collect();
    println!(
        "  {}: coffee score {:.2}, {}; segments: {}",
        now.date(),
        scores.score(coffee),
        if scores.is_established(coffee) {
            "established"
        } else {
            "not established"
        },
        if segments.is_empty() {
            "none".to_owned()
        } else {
            segments.join(", ")
        }
    );
}

/// Part 2: the same events at every level.
fn levels(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    let tax = engine.taxonomy();
    let id = |path: &str| tax.id(path).ok_or(format!("no interest {path}"));
    let (coffee, camping, hiking, sneakers) = (
        id("kitchen/coffee")?,
        id("outdoor/camping")?,
        id("outdoor/hiking")?,
        id("fashion/sneakers")?,
    );
    let t0 = datetime!(2026-11-02 9:00 UTC);
    let day = |d: i64, h: i64| t0 + Duration::days(d) + Duration::hours(h);

    // What happens during Clara's three days, grouped as she would tell it.
    let groups: [(&str, Vec<Event>); 4] = [
        (
            "3 coffee views on our site",
            (0..3)
                .map(|d| Event::new(coffee, Signal::View, day(d, 1)))
                .collect(),
        ),
        (
            "a partner: she bought coffee there",
            vec![Event::new(coffee, Signal::Purchase, day(1, 2)).with_source(Source::Partner)],
        ),
        (
            "3 walks past our outdoor store",
            (0..3)
                .map(|d| {
                    Event::new(hiking, Signal::View, day(d, 3)).with_context(Context::Location)
                })
                .collect(),
        ),
        (
            "3 sneaker views on other sites",
            (0..3)
                .map(|d| {
                    Event::new(sneakers, Signal::View, day(d, 4)).with_context(Context::CrossSite)
                })
                .collect(),
        ),
    ];

    println!("\n== Part 2: the personalization level dial\n");
    println!("Clara told us in our preference centre that she likes camping, and granted");
    println!("personalization, marketing and partner data (our segments are for marketing).");
    println!("The same events arrive at every level.");
    let settings = [
        (Level::Off, false),
        (Level::Declared, false),
        (Level::FirstParty, false),
        (Level::Full, false),
        (Level::Full, true),
    ];
    for (level, location) in settings {
        let mut clara = Profile::new("clara");
        clara.set_level(level);
        let ui = Evidence::Ui("preference centre".into());
        clara
            .consent_mut()
            .grant(Purpose::Personalization, t0, None, ui.clone())?
            .grant(Purpose::Marketing, t0, None, ui.clone())?
            .grant(Purpose::PartnerData, t0, None, ui.clone())?;
        if location {
            clara.consent_mut().grant(Purpose::Location, t0, None, ui)?;
        }
        clara.like(camping, t0);

        println!(
            "\nlevel {level}{}",
            if location {
                ", and location consent granted"
            } else {
                ""
            }
        );
        for (what, events) in &groups {
            let mut stored = 0;
            let mut refusal = None;
            for event in events {
                match engine.record(&mut clara, *event, event.at()) {
                    Ok(()) => stored += 1,
                    Err(r) => refusal = Some(r.reason),
                }
            }
            match refusal {
                None => println!("  {what:<36} stored"),
                Some(reason) if stored == 0 => println!("  {what:<36} refused: {reason}"),
                Some(reason) => println!("  {what:<36} {stored} stored, others refused: {reason}"),
            }
        }
        let now = day(3, 0);
        let segments: Vec<String> = engine
            .segments(&clara, now)
            .into_iter()
            .map(|m| m.segment)
            .collect();
        println!(
            "  -> coffee score {:.2}; segments: {}",
            engine.scores(&clara, now).score(coffee),
            if segments.is_empty() {
                "none".to_owned()
            } else {
                segments.join(", ")
            }
        );
    }
    Ok(())
}
