//! The JSON form: readable, stable keys (interest paths), streamed in with
//! limits checked per element.
//!
//! ```json
//! {"format": "tactful-profile", "version": 2, "taxonomy": "5f1c0e7d2a9b8c31",
//!  "id": "anna", "level": "first_party", "consent": {...},
//!  "preferences": [{"interest": "baby/food", "kind": "like", "at": "..."}],
//!  "suppressions": [{"scope": {"interest": "baby"}, "reason": "bereavement", "since": "...", "until": null}],
//!  "tombstones": [...], "refusals": {...},
//!  "events": [{"interest": "outdoor/hiking", "signal": "view", "at": "...", "source": "first_party",
//!              "context": "on_site", "gift": false, "weight": 1.0}]}
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    event_nanos, fingerprint_hex, Loader, WireParts, WirePreference, WireSuppression,
    WireTombstone, FORMAT_NAME, FORMAT_VERSION,
};
use crate::consent::ConsentLedger;
use crate::event::{Context, Signal, Source, Weight};
use crate::level::Level;
use crate::limits::{Limits, ProfileError};
use crate::profile::{Profile, ProfileId, RefusalCounts};
use crate::store::{class_of, context_of, from_nanos, source_of};
use crate::taxonomy::Taxonomy;

#[derive(Serialize)]
struct OutEvent<'a> {
    interest: &'a str,
    signal: Signal,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
    source: Source,
    context: Context,
    gift: bool,
    weight: Weight,
}

#[derive(Serialize)]
struct Out<'a> {
    format: &'static str,
    version: u16,
    taxonomy: String,
    id: &'a ProfileId,
    level: Level,
    consent: &'a ConsentLedger,
    preferences: Vec<WirePreference>,
    suppressions: Vec<WireSuppression>,
    tombstones: Vec<WireTombstone>,
    refusals: &'a RefusalCounts,
    events: Vec<OutEvent<'a>>,
}

/// The profile as JSON; events sorted by instant.
pub(crate) fn encode(tax: &Taxonomy, p: &Profile) -> Result<String, ProfileError> {
    let parts = WireParts::of(tax, p)?;
    let mut events: Vec<OutEvent<'_>> = Vec::with_capacity(p.stored_events());
    for s in &p.store().series {
        let interest = tax.path(s.interest).unwrap_or_default();
        for ((&at, &w), &signal) in s.at.iter().zip(&s.weight).zip(&s.signal) {
            events.push(OutEvent {
                interest,
                signal,
                at: from_nanos(at),
                source: source_of(s.class),
                context: context_of(s.class),
                gift: false,
                weight: Weight::new(w).unwrap_or(Weight::ONE),
            });
        }
    }
    for e in &p.store().inert {
        events.push(OutEvent {
            interest: tax.path(e.interest()).unwrap_or_default(),
            signal: e.signal(),
            at: e.at(),
            source: e.source(),
            context: e.context(),
            gift: e.is_gift(),
            weight: e.weight(),
        });
    }
    for e in p.orphans().events() {
        events.push(OutEvent {
            interest: e.interest,
            signal: e.signal,
            at: e.at,
            source: e.source,
            context: e.context,
            gift: e.gift,
            weight: e.weight,
        });
    }
    events.sort_by(|a, b| (a.at, a.interest).cmp(&(b.at, b.interest)));
    let out = Out {
        format: FORMAT_NAME,
        version: FORMAT_VERSION,
        taxonomy: fingerprint_hex(tax),
        id: p.id(),
        level: p.level(),
        consent: p.consent(),
        preferences: parts.preferences,
        suppressions: parts.suppressions,
        tombstones: parts.tombstones,
        refusals: p.refusals(),
        events,
    };
    serde_json::to_string(&out).map_err(|e| ProfileError::Encode(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InEvent<'a> {
    #[serde(borrow)]
    interest: Cow<'a, str>,
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
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Format,
    Version,
    Taxonomy,
    Id,
    Level,
    Consent,
    Preferences,
    Suppressions,
    Tombstones,
    Refusals,
    Events,
}

struct Top<'l, 'a> {
    loader: &'l mut Loader<'a>,
    version: &'l mut Option<u16>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stored tactful profile")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let loader = self.loader;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Format => {
                    let f: Cow<'_, str> = map.next_value()?;
                    if f != FORMAT_NAME {
                        return Err(de::Error::custom(format!(
                            "format {f:?} is not {FORMAT_NAME:?}"
                        )));
                    }
                }
                Field::Version => {
                    let v: u16 = map.next_value()?;
                    *self.version = Some(v);
                    if v != FORMAT_VERSION {
                        let e = ProfileError::UnsupportedVersion(v);
                        return Err(de::Error::custom(loader.fail(e)));
                    }
                }
                // Informational: loading resolves every path by itself.
                Field::Taxonomy => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                Field::Id => loader.id = Some(map.next_value()?),
                Field::Level => loader.level = map.next_value()?,
                Field::Consent => loader.consent = map.next_value()?,
                Field::Refusals => loader.refusals = map.next_value()?,
                Field::Preferences => map.next_value_seed(List {
                    loader: &mut *loader,
                    kind: Kind::Preferences,
                })?,
                Field::Suppressions => map.next_value_seed(List {
                    loader: &mut *loader,
                    kind: Kind::Suppressions,
                })?,
                Field::Tombstones => map.next_value_seed(List {
                    loader: &mut *loader,
                    kind: Kind::Tombstones,
                })?,
                Field::Events => map.next_value_seed(List {
                    loader: &mut *loader,
                    kind: Kind::Events,
                })?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Preferences,
    Suppressions,
    Tombstones,
    Events,
}

/// A list read element by element straight into the loader.
struct List<'l, 'a> {
    loader: &'l mut Loader<'a>,
    kind: Kind,
}

impl<'de> DeserializeSeed<'de> for List<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let l = self.loader;
        let typed = |l: &mut Loader<'_>, r: Result<(), ProfileError>| {
            r.map_err(|e| de::Error::custom(l.fail(e)))
        };
        match self.kind {
            Kind::Preferences => {
                while let Some(p) = seq.next_element()? {
                    l.preference(p);
                }
            }
            Kind::Suppressions => {
                while let Some(s) = seq.next_element()? {
                    let r = l.suppression(s);
                    typed(l, r)?;
                }
            }
            Kind::Tombstones => {
                while let Some(t) = seq.next_element()? {
                    l.tombstone(t);
                }
            }
            Kind::Events => {
                while let Some(e) = seq.next_element::<InEvent<'de>>()? {
                    // Counted before it is stored: a limit costs nothing past it.
                    let r = l
                        .count_events(1)
                        .and_then(|()| event_nanos(e.at))
                        .and_then(|at| {
                            l.event(
                                &e.interest,
                                e.signal,
                                at,
                                class_of(e.source, e.context),
                                e.gift,
                                e.weight,
                            )
                        });
                    typed(l, r)?;
                }
            }
        }
        Ok(())
    }
}

/// One pass over the JSON; `track` records the path to an error (costly:
/// it allocates per field, so only the error path asks for it).
fn pass<'a>(
    tax: &'a Taxonomy,
    limits: &'a Limits,
    json: &str,
    track: Option<&mut serde_path_to_error::Track>,
) -> (Loader<'a>, Option<u16>, Result<(), serde_json::Error>) {
    let mut loader = Loader::new(tax, limits);
    let mut version = None;
    let mut de = serde_json::Deserializer::from_str(json);
    let top = Top {
        loader: &mut loader,
        version: &mut version,
    };
    let result = match track {
        Some(t) => top.deserialize(serde_path_to_error::Deserializer::new(&mut de, t)),
        None => top.deserialize(&mut de),
    }
    .and_then(|()| de.end());
    (loader, version, result)
}

/// Reads the JSON form.
pub(crate) fn decode(tax: &Taxonomy, limits: &Limits, json: &str) -> Result<Profile, ProfileError> {
    let (mut loader, version, result) = pass(tax, limits, json, None);
    if result.is_err() {
        if let Some(typed) = loader.failure.take() {
            return Err(typed);
        }
        if version.is_none() {
            return Err(ProfileError::Legacy);
        }
        // Once more, tracked, to name the place of the error.
        let mut track = serde_path_to_error::Track::new();
        let (_, _, again) = pass(tax, limits, json, Some(&mut track));
        let message = again
            .err()
            .or(result.err())
            .map(|e| e.to_string())
            .unwrap_or_default();
        return Err(ProfileError::Syntax {
            path: track.path().to_string(),
            message,
        });
    }
    if version.is_none() {
        return Err(ProfileError::Legacy);
    }
    loader.finish()
}
