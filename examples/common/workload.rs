//! The exact bulk benchmark's workload around the events of `peers.py
//! generate`: the taxonomy, policy and segments, every person's level, and a
//! consent log and suppressions derived from the person number. Shared by the
//! `bulk_score` example and the `bulk` bench, and mirrored by the
//! `tactful-datafusion` benchmark, so that all measure the same work.
//!
//! - Interest key `k` (0..256) is `c{k/16:02}/i{k:03}`: 16 categories of 16.
//! - Half-life 14 days, max age 56 days (as `peers.py`), other policy defaults.
//! - Everyone is at level `FirstParty`; events are first-party views on site.
//! - Consent (personalization, evidence `Import("warehouse")`): granted at
//!   NOW − 150 days; for p % 20 == 1 the grant expires at NOW − 30 days;
//!   for p % 10 == 3 it is withdrawn at NOW − 10 days.
//! - Suppressions: p % 25 == 5 opts out of category `p % 16` since NOW − 40
//!   days; p % 100 == 7 reports a bereavement on that category since NOW − 60
//!   days (it purges).
//! - Segments `likes-c00` … `likes-c15`: the category's score at least 3,
//!   for personalization.

use tactful::bulk::ConsentChange;
use tactful::prelude::*;
use time::{Duration, OffsetDateTime};

/// The instant of `peers.py generate`, unix seconds.
pub(crate) const NOW: i64 = 1_700_000_000;

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The engine of the workload.
pub(crate) fn engine() -> Result<Engine, Box<dyn std::error::Error>> {
    let mut b = Taxonomy::builder();
    for k in 0..256u32 {
        b = b.interest(&format!("c{:02}/i{k:03}", k / 16));
    }
    let policy = DecayPolicy::builder()
        .half_life(Duration::days(14))
        .max_age(Duration::days(56))
        .build()?;
    let segments = (0..16)
        .map(|j| {
            SegmentDef::new(&format!("likes-c{j:02}"), Rule::interest_at_least(&format!("c{j:02}"), 3.0))
                .for_purpose(Purpose::Personalization)
        })
        .collect();
    Ok(Engine::new(b.build()?, policy).with_segments(segments)?)
}

/// Interest ids by key.
pub(crate) fn interests(engine: &Engine) -> Result<Vec<InterestId>, Box<dyn std::error::Error>> {
    (0..256u32)
        .map(|k| Ok(engine.taxonomy().require(&format!("c{:02}/i{k:03}", k / 16))?))
        .collect()
}

/// Everyone's base profile: id = the person number, level `FirstParty`.
pub(crate) fn people(n: u32) -> Vec<Profile> {
    (0..n)
        .map(|p| {
            let mut profile = Profile::new(p.to_string());
            profile.set_level(Level::FirstParty);
            profile
        })
        .collect()
}

/// The consent log of `n` people.
pub(crate) fn consents(n: u32) -> Vec<(u32, ConsentChange)> {
    let now = now();
    let ev = || Evidence::Import("warehouse".into());
    let mut out = Vec::with_capacity(n as usize + n as usize / 10);
    for p in 0..n {
        let expires = (p % 20 == 1).then(|| now - Duration::days(30));
        out.push((p, ConsentChange::grant(Purpose::Personalization, now - Duration::days(150), expires, ev())));
        if p % 10 == 3 {
            out.push((p, ConsentChange::withdraw(Purpose::Personalization, now - Duration::days(10), ev())));
        }
    }
    out
}

/// The suppressions of `n` people.
pub(crate) fn suppressions(engine: &Engine, n: u32) -> Result<Vec<(u32, Suppression)>, Box<dyn std::error::Error>> {
    let now = now();
    let mut out = Vec::new();
    for p in 0..n {
        let category = engine.taxonomy().require(&format!("c{:02}", p % 16))?;
        if p % 25 == 5 {
            out.push((p, Suppression::new(Scope::Interest(category), SuppressionReason::OptOut, now - Duration::days(40))));
        }
        if p % 100 == 7 {
            out.push((p, Suppression::new(Scope::Interest(category), SuppressionReason::Bereavement, now - Duration::days(60))));
        }
    }
    Ok(out)
}
