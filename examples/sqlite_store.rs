//! The quickstart story against a database file: Anna's week recorded
//! through the SQLite store, her segments read back from it, her reported
//! loss suppressed in the same transaction as the partner index, the
//! partner list built from the store, and finally her request to be
//! forgotten, proved by reading the file's bytes.
//!
//! Run with `cargo run --features sqlite --example sqlite_store`.

use std::path::Path;
use std::sync::Arc;

use tactful::export::{ExportOptions, KeySecret, SubjectKey};
use tactful::sqlite::SqliteStore;
use tactful::{
    Channel, DecayPolicy, Engine, Event, Evidence, Level, MessageRequest, Purpose, Rule, Scope,
    SegmentDef, Signal, SpecialCategory, Suppression, SuppressionReason, Target, Taxonomy,
};
use time::macros::datetime;
use time::Duration;

/// Consent evidence that only Anna's profile holds: the bytes to look for.
const EVIDENCE: &str = "sign-up form, anna's laptop, 2026-11-02";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let taxonomy = Taxonomy::builder()
        .interest("baby/food")
        .interest("outdoor/hiking")
        .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
        .life_event("new-baby", ["baby", "health/pregnancy"])
        .build()?;
    let baby = taxonomy.require("baby")?;
    let baby_food = taxonomy.require("baby/food")?;
    let hiking = taxonomy.require("outdoor/hiking")?;
    let engine = Arc::new(
        Engine::new(taxonomy, DecayPolicy::default()).with_segments(vec![
            SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
            SegmentDef::new("hikers", Rule::interest_at_least("outdoor/hiking", 2.0)),
        ])?,
    );

    let dir = std::env::temp_dir().join(format!("tactful-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("profiles.db");
    let mut store = SqliteStore::open(&path, engine.clone())?;
    println!("== A fresh store at {}\n", path.display());

    let monday = datetime!(2026-11-02 9:00 UTC);
    store.update("anna", monday, |anna| {
        anna.set_level(Level::FirstParty);
        let signup = Evidence::Ui(EVIDENCE.into());
        anna.consent_mut()
            .grant(Purpose::Personalization, monday, None, signup.clone())?
            .grant(Purpose::Marketing, monday, None, signup)
            .map(drop)
    })??;

    // Each event is one transaction: load, record, store, commit. Another
    // server recording into Anna's profile at the same moment waits for
    // the lock instead of overwriting this.
    let day = |d: i64, h: i64| monday + Duration::days(d) + Duration::hours(h);
    let week = [
        (
            "looks at hiking boots",
            Event::new(hiking, Signal::View, day(0, 3)),
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
            "buys a hiking map",
            Event::new(hiking, Signal::Purchase, day(5, 1)),
        ),
    ];
    for (what, event) in week {
        let at = event.at();
        match store.record("anna", event, at)? {
            Ok(()) => println!("  {} {what}: stored and committed", at.date()),
            Err(refusal) => println!("  {} {what}: REFUSED, {}", at.date(), refusal.reason),
        }
    }
    let sunday = day(6, 9);
    let anna = store.load("anna", sunday)?.ok_or("anna is stored")?;
    println!(
        "\n  Read back on {}: segments {:?}",
        sunday.date(),
        engine.segment_names(&anna, sunday)
    );

    let loss = day(14, 0);
    println!("\n== {}: Anna reports a pregnancy loss\n", loss.date());
    let purged = store.update("anna", loss, |anna| {
        engine.suppress(
            anna,
            Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, loss),
            loss,
        )
    })?;
    println!(
        "  Suppressed and {purged} baby signals purged, in one transaction with the partner index."
    );
    let anna = store.load("anna", loss)?.ok_or("anna is stored")?;
    let sample =
        MessageRequest::new(Channel::Post, Purpose::Marketing).about(Target::Interest(baby_food));
    println!(
        "  May we post her a baby-food sample? {}",
        if engine.decide(&anna, &sample, loss).is_allowed() {
            "yes"
        } else {
            "no"
        }
    );

    // The partner list comes from the suppression index, not from loading
    // every profile; the reason and the special category never leave.
    let secret = KeySecret::new(b"shared-with-partner-out-of-band")?;
    let export = store.suppression_list(&secret, loss, ExportOptions::default())?;
    assert!(export.is_complete());
    let jsonl = export.export.list.to_jsonl();
    println!("\n  Partner list from the store:\n    {}", jsonl.trim());
    let key = SubjectKey::derive(&secret, "anna");
    println!(
        "  The partner checks its own copy of the id: suppressed for baby food by post? {}",
        export.export.list.is_suppressed(
            &key,
            Channel::Post,
            Purpose::Marketing,
            Some("baby/food"),
            loss
        )
    );

    let later = loss + Duration::days(30);
    println!("\n== {}: Anna asks to be forgotten\n", later.date());
    println!(
        "  Before: her consent evidence is in the files {} times.",
        occurrences(&path, EVIDENCE)?
    );
    store.erase_profile("anna", later)?;
    let after = occurrences(&path, EVIDENCE)?;
    println!("  After erase_profile: {after} times, in the database and its log (checkpointed and truncated).");
    let anna = store.load("anna", later)?.ok_or("anna is stored")?;
    println!(
        "  What remains protects her: {} events, {} suppression, level {}.",
        anna.stored_events(),
        anna.suppressions().len(),
        anna.level()
    );
    drop(store);
    assert_eq!(after, 0);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// How often `needle` occurs in the database file and the files SQLite
/// keeps beside it.
fn occurrences(db: &Path, needle: &str) -> std::io::Result<usize> {
    let mut n = 0;
    for suffix in ["", "-wal", "-journal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        n += bytes
            .windows(needle.len())
            .filter(|w| *w == needle.as_bytes())
            .count();
    }
    Ok(n)
}
