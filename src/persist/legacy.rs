//! Profiles written by tactful 0.1: unversioned JSON naming interests by
//! `InterestId`, a position in the taxonomy of the day. They load only
//! together with that taxonomy (its paths give the ids their meaning); the
//! data then goes through the same path resolution as the current form.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    event_nanos, Loader, WireErased, WirePreference, WireScope, WireSuppression, WireTombstone,
};
use crate::consent::{ConsentEntry, ConsentLedger, Purpose};
use crate::event::{Context, Signal, Source, Weight};
use crate::level::Level;
use crate::limits::{Limit, Limits, ProfileError};
use crate::profile::{PreferenceKind, Profile, ProfileId, RefusalCounts};
use crate::store::class_of;
use crate::suppression::{Channel, SuppressionReason};
use crate::taxonomy::{InterestId, Taxonomy};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OldProfile {
    id: ProfileId,
    #[serde(default)]
    level: Level,
    /// 0.1 stored every entry as a list (replayed into a bounded ledger);
    /// the current ledger form is read too.
    #[serde(default)]
    consent: OldLedger,
    #[serde(default)]
    preferences: Vec<OldPreference>,
    #[serde(default)]
    suppressions: Vec<OldSuppression>,
    #[serde(default)]
    events: Vec<OldEvent>,
    #[serde(default)]
    tombstones: Vec<OldTombstone>,
    #[serde(default)]
    refusals: RefusalCounts,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OldLedger {
    Entries(Vec<ConsentEntry>),
    Current(Box<ConsentLedger>),
}

impl Default for OldLedger {
    fn default() -> Self {
        Self::Entries(Vec::new())
    }
}

#[derive(Deserialize)]
struct OldPreference {
    interest: u32,
    kind: PreferenceKind,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OldScope {
    All,
    Channel(Channel),
    Purpose(Purpose),
    Interest(u32),
}

#[derive(Deserialize)]
struct OldSuppression {
    scope: OldScope,
    reason: SuppressionReason,
    #[serde(with = "crate::serde_util::instant")]
    since: OffsetDateTime,
    #[serde(default, with = "crate::serde_util::instant::option")]
    until: Option<OffsetDateTime>,
}

#[derive(Deserialize)]
struct OldEvent {
    interest: u32,
    signal: Signal,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
    #[serde(default)]
    source: Source,
    #[serde(default)]
    context: Context,
    #[serde(default)]
    gift: bool,
    #[serde(default)]
    weight: Weight,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OldErased {
    All,
    Interest(u32),
}

#[derive(Deserialize)]
struct OldTombstone {
    scope: OldErased,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
    #[serde(default)]
    signals_only: bool,
}

/// Reads a 0.1 profile whose ids belong to `written_with`: the size limit
/// before parsing, then one step per part of the profile, the event count
/// checked against the limit before any event is taken in.
pub(crate) fn decode(
    tax: &Taxonomy,
    written_with: &Taxonomy,
    limits: &Limits,
    json: &str,
) -> Result<Profile, ProfileError> {
    if json.len() > limits.max_profile_bytes {
        return Err(ProfileError::TooLarge {
            limit: Limit::ProfileBytes,
            actual: json.len(),
            max: limits.max_profile_bytes,
        });
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    let old: OldProfile =
        serde_path_to_error::deserialize(de).map_err(|e| ProfileError::Syntax {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?;
    let ids = OldIds(written_with);
    let mut l = Loader::new(tax, limits);
    l.id = Some(old.id);
    l.level = old.level;
    l.consent = ledger(old.consent)?;
    l.refusals = old.refusals;
    preferences(&mut l, &ids, old.preferences)?;
    suppressions(&mut l, &ids, old.suppressions)?;
    tombstones(&mut l, &ids, old.tombstones)?;
    events(&mut l, &ids, old.events)?;
    l.finish()
}

/// The taxonomy a 0.1 profile was written with: it turns the stored ids
/// into paths.
struct OldIds<'t>(&'t Taxonomy);

impl OldIds<'_> {
    /// The path of stored id `n`, or the error naming the part that holds it.
    fn path(&self, field: &'static str, n: u32) -> Result<String, ProfileError> {
        self.0
            .path(InterestId(n))
            .map(str::to_owned)
            .ok_or(ProfileError::UnknownInterest {
                field,
                id: InterestId(n),
            })
    }
}

/// Consent: the current ledger as is, or 0.1's list of entries replayed
/// into a bounded ledger.
fn ledger(old: OldLedger) -> Result<ConsentLedger, ProfileError> {
    match old {
        OldLedger::Current(ledger) => Ok(*ledger),
        OldLedger::Entries(entries) => {
            let mut ledger = ConsentLedger::default();
            for entry in entries {
                ledger
                    .record(entry)
                    .map_err(|e| ProfileError::Invalid(format!("consent: {e}")))?;
            }
            Ok(ledger)
        }
    }
}

fn preferences(
    l: &mut Loader<'_>,
    ids: &OldIds<'_>,
    old: Vec<OldPreference>,
) -> Result<(), ProfileError> {
    for p in old {
        l.preference(WirePreference {
            interest: ids.path("preferences", p.interest)?,
            kind: p.kind,
            at: p.at,
        });
    }
    Ok(())
}

fn suppressions(
    l: &mut Loader<'_>,
    ids: &OldIds<'_>,
    old: Vec<OldSuppression>,
) -> Result<(), ProfileError> {
    for s in old {
        let scope = match s.scope {
            OldScope::All => WireScope::All,
            OldScope::Channel(c) => WireScope::Channel(c),
            OldScope::Purpose(p) => WireScope::Purpose(p),
            OldScope::Interest(n) => WireScope::Interest(ids.path("suppressions", n)?),
        };
        l.suppression(WireSuppression {
            scope,
            reason: s.reason,
            since: s.since,
            until: s.until,
        })?;
    }
    Ok(())
}

fn tombstones(
    l: &mut Loader<'_>,
    ids: &OldIds<'_>,
    old: Vec<OldTombstone>,
) -> Result<(), ProfileError> {
    for t in old {
        let scope = match t.scope {
            OldErased::All => WireErased::All,
            OldErased::Interest(n) => WireErased::Interest(ids.path("tombstones", n)?),
        };
        l.tombstone(WireTombstone {
            scope,
            at: t.at,
            signals_only: t.signals_only,
        });
    }
    Ok(())
}

/// Events, counted against the limit before the first is taken in.
fn events(l: &mut Loader<'_>, ids: &OldIds<'_>, old: Vec<OldEvent>) -> Result<(), ProfileError> {
    l.count_events(old.len())?;
    for e in old {
        let p = ids.path("events", e.interest)?;
        let at = event_nanos(e.at)?;
        l.event(
            &p,
            e.signal,
            at,
            class_of(e.source, e.context),
            e.gift,
            e.weight,
        )?;
    }
    Ok(())
}
