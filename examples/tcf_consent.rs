//! Consent from the real world: an IAB TCF v2 consent string from a
//! consent-management platform, and the browser's Global Privacy Control.
//!
//! Run with `cargo run --example tcf_consent`.

use tactful::consent::tcf::{CoreSegment, Subject, TcString, VendorSet};
use tactful::*;
use time::macros::datetime;
use time::Duration;

/// Our vendor id in the Global Vendor List (an example value).
const OUR_VENDOR_ID: u16 = 755;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
    let hiking = taxonomy.require("outdoor/hiking")?;
    let engine = Engine::new(taxonomy, DecayPolicy::default());

    // What the CMP on the publisher's site produced when Carla clicked
    // "accept" for purposes 1, 3, 4, 5, 6 and three vendors, us among them.
    let shown = datetime!(2026-11-02 10:00 UTC);
    let mut core = CoreSegment::new(shown);
    core.cmp_id = 880;
    core.vendor_list_version = 120;
    core.purposes_consent = [1, 3, 4, 5, 6].into_iter().collect();
    core.vendor_consents = VendorSet::from_ids([1, 8, OUR_VENDOR_ID])?;
    let mut tc = TcString::new(core);
    tc.disclosed_vendors = Some(VendorSet::from_ids([1, 2, 8, OUR_VENDOR_ID])?);
    let raw = tc.encode()?;
    println!("== The consent string the CMP stored\n  {raw}\n");

    // On our side: decode strictly, then see what it allows us (vendor 755).
    let decoded = TcString::decode(&raw)?;
    println!("== Decoded");
    println!(
        "  CMP {} v{}, vendor list {}, policy version {}, language {}",
        decoded.core.cmp_id,
        decoded.core.cmp_version,
        decoded.core.vendor_list_version,
        decoded.core.tcf_policy_version,
        decoded.core.consent_language
    );
    let consented: Vec<String> = decoded
        .core
        .purposes_consent
        .iter()
        .map(u8::to_string)
        .collect();
    println!("  TCF purposes consented: {}", consented.join(", "));
    println!(
        "  vendor {OUR_VENDOR_ID} consented: {}",
        decoded.vendor_consent(OUR_VENDOR_ID)
    );

    let mut carla = Profile::new("carla");
    carla.set_level(Level::FirstParty);
    let applied =
        carla
            .consent_mut()
            .apply_tcf(&decoded, &raw, Subject::Vendor(OUR_VENDOR_ID), shown);
    println!("\n== What it allows us");
    for (purpose, allowed) in &applied.verdicts {
        println!(
            "  {:<16} {}",
            purpose.name(),
            if *allowed { "yes" } else { "no" }
        );
    }

    // A week of hiking pages: personalization is allowed, so they count.
    for day in 1..=6 {
        let at = shown + Duration::days(day);
        engine.record(&mut carla, Event::new(hiking, Signal::View, at), at)?;
    }
    let week = shown + Duration::days(7);
    println!(
        "\n  hiking score after a week: {:.2}",
        engine.scores(&carla, week).score(hiking)
    );

    // A malformed string is a typed error naming field and bit offset.
    let truncated = &raw[..20];
    match TcString::decode(truncated) {
        Ok(_) => println!("  (unexpectedly decoded a truncated string)"),
        Err(e) => println!("\n== A truncated string is refused\n  {e}"),
    }

    // Some CMPs pad their base64url with `=`: where the padding completes a
    // group of four characters it is the same string; a stray `=` is not.
    let (core_text, disclosed_text) = raw.split_once('.').unwrap_or((&raw, ""));
    // (Our last character is zero fill, so `=` can stand in for it.)
    if let Some(data) = disclosed_text.strip_suffix('A') {
        let padded = format!("{core_text}.{data}=");
        println!("\n== Padding");
        println!(
            "  {padded}\n  decodes to the same consent: {}",
            TcString::decode(&padded).is_ok_and(|tc| tc == decoded)
        );
    }
    if let Err(e) = TcString::decode(&format!("{core_text}=.{disclosed_text}")) {
        println!("  a stray '=' is refused: {e}");
    }
    println!(
        "  created {} ({} deciseconds, as the string stores it)",
        decoded.core.created,
        decoded.core.created_deciseconds()?
    );

    // Carla revisits the CMP and turns personalization off (purposes 5, 6).
    let revisit = week + Duration::days(1);
    let mut core = decoded.core.clone();
    core.last_updated = CoreSegment::new(revisit).last_updated;
    core.purposes_consent = [1, 3, 4].into_iter().collect();
    let mut second = TcString::new(core);
    second.disclosed_vendors = decoded.disclosed_vendors.clone();
    let raw2 = second.encode()?;
    carla
        .consent_mut()
        .apply_tcf(&second, &raw2, Subject::Vendor(OUR_VENDOR_ID), revisit);
    println!("\n== After the second string (personalization refused)");
    println!(
        "  personalization is {}; hiking score {:.2} (the withdrawal is retroactive)",
        carla.consent().state(Purpose::Personalization, revisit),
        engine.scores(&carla, revisit).score(hiking)
    );

    // Her browser starts sending `Sec-GPC: 1`.
    let gpc = revisit + Duration::days(1);
    // Only what she had given is withdrawn: partner data, never asked,
    // stays never asked.
    let withdrawn: Vec<&str> = carla
        .consent_mut()
        .apply_gpc(gpc)
        .into_iter()
        .map(|p| p.name())
        .collect();
    let withdrawn = if withdrawn.is_empty() {
        "nothing".to_owned()
    } else {
        withdrawn.join(", ")
    };
    println!("\n== Global Privacy Control received: withdrew {withdrawn}");
    println!("\n{}", engine.report(&carla, gpc));
    Ok(())
}
