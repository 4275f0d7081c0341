//! The missing feedback loop: an operator shares a bereavement suppression
//! with a partner, and the partner refuses to post baby-food samples,
//! without learning what the suppression is about (a special category is
//! exported as the whole profile, from the start of the day).
//!
//! Run with `cargo run --example partner_suppression`.

use tactful::export::{
    Export, ExportOptions, KeySecret, Minimization, ReadLimits, SubjectKey, SuppressionList,
};
use tactful::{
    Channel, DecayPolicy, Engine, Profile, Purpose, Scope, SpecialCategory, Suppression,
    SuppressionReason, Taxonomy,
};
use time::macros::datetime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Everything about babies says something about pregnancy and
    // parenthood: the shop declares it a special category.
    let taxonomy = Taxonomy::builder()
        .sensitive("baby", SpecialCategory::PregnancyAndParenthood)
        .interest("baby/food")
        .interest("baby/toys")
        .interest("garden/tools")
        .build()?;
    let engine = Engine::new(taxonomy, DecayPolicy::default());

    // In March, Anna calls the shop about her pregnancy loss.
    let reported = datetime!(2026-03-14 16:20 UTC);
    let mut anna = Profile::new("customer-4711");
    let baby = engine.taxonomy().require("baby")?;
    engine.suppress(
        &mut anna,
        Suppression::new(
            Scope::Interest(baby),
            SuppressionReason::Bereavement,
            reported,
        ),
        reported,
    );
    println!("operator: customer-4711 reported a loss; everything under \"baby\" is suppressed");

    // Operator and partner agreed on a secret out of band (in real life:
    // 32 random bytes from a secret store, one secret per partner).
    let operator_secret = KeySecret::new(b"operator+partner secret, 2026-Q4")?;

    // Ben opted out of phone calls, but his record has no address yet.
    let mut ben = Profile::new("customer-4712");
    engine.suppress(
        &mut ben,
        Suppression::new(
            Scope::Channel(Channel::Phone),
            SuppressionReason::OptOut,
            reported,
        ),
        reported,
    );

    // Seven months later, the nightly export. Ben's odd record does not
    // stop Anna's suppression from going out; it is reported beside it.
    let now = datetime!(2026-10-14 02:00 UTC);
    let Export { list, problems } = SuppressionList::from_profiles(
        engine.taxonomy(),
        [(&anna, "Anna.Schmidt@example.org"), (&ben, "")],
        &operator_secret,
        now,
    );
    let jsonl = list.to_jsonl();
    println!(
        "operator: exported {} suppression(s) as JSON Lines:",
        list.len()
    );
    print!("    {jsonl}");
    for problem in &problems {
        println!("operator: not exported, to fix: {problem}");
    }
    println!(
        "operator: the line holds a keyed pseudonym, the scope and the window; no name, no address, contains \"bereavement\": {}",
        jsonl.contains("bereavement")
    );
    // The partner can identify Anna, so "baby" would tell it about the
    // pregnancy, and 16:20 when she called: by default the export says
    // "everything" from the start of that day instead.
    println!(
        "operator: \"baby\" is a special category, exported as the whole profile; contains \"baby\": {}, contains \"16:20\": {}",
        jsonl.contains("baby"),
        jsonl.contains("16:20")
    );
    // Only a partner bound by contract to process that category gets it.
    let contract = SuppressionList::from_profiles_with(
        engine.taxonomy(),
        [(&anna, "Anna.Schmidt@example.org")],
        &operator_secret,
        now,
        ExportOptions::default().minimization(Minimization::Keep),
    )
    .list;
    print!(
        "operator: with Minimization::Keep (contract partners only):\n    {}",
        contract.to_jsonl()
    );

    // The partner plans a baby-food sample mailing by post.
    let partner_secret = KeySecret::new(b"operator+partner secret, 2026-Q4")?;
    // The file comes from outside: the partner reads the bytes within
    // limits fit for the files it expects, and a file past them is
    // refused before it costs memory.
    let limits = ReadLimits::default()
        .max_bytes(64 << 20)
        .max_rows(100_000)
        .max_field_bytes(512);
    let received = SuppressionList::from_jsonl_with(jsonl.as_bytes(), limits)?;
    let flood = jsonl.repeat(3);
    if let Err(refused) = SuppressionList::from_jsonl_with(flood.as_bytes(), limits.max_rows(2)) {
        println!("partner: a file with too many rows is refused: {refused}");
    }
    println!();
    for address in ["  anna.schmidt@EXAMPLE.org", "ben@example.org"] {
        let key = SubjectKey::derive(&partner_secret, address);
        let refuse = received.is_suppressed(
            &key,
            Channel::Post,
            Purpose::Marketing,
            Some("baby/food"),
            now,
        );
        if refuse {
            println!("partner: {address:?}: suppressed for baby/food by post, no samples sent");
        } else {
            println!("partner: {address:?}: not suppressed, samples may go out");
        }
    }
    let anna_key = SubjectKey::derive(&partner_secret, "anna.schmidt@example.org");
    let garden = received.is_suppressed(
        &anna_key,
        Channel::Post,
        Purpose::Marketing,
        Some("garden/tools"),
        now,
    );
    println!(
        "partner: garden-tool catalogue for Anna suppressed: {garden} (the partner cannot tell why, so nothing goes out)"
    );

    // Someone without the secret learns nothing from the file.
    let outsider = KeySecret::new(b"a guess at the secret, 32 bytes!")?;
    let guess = SubjectKey::derive(&outsider, "anna.schmidt@example.org");
    println!(
        "outsider: can tell Anna is on the list without the secret: {}",
        received.contains(&guess)
    );
    Ok(())
}
