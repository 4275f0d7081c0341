//! The taxonomy as written in JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Duration;

use super::builder::check_path;
use super::life_event::LifeEventConfig;
use super::*;

/// The storage form of a taxonomy (what JSON holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaxonomyConfig {
    interests: Vec<InterestConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    life_events: Vec<LifeEventConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterestConfig {
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sensitivity: Option<Sensitivity>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_util::duration::option"
    )]
    half_life: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_util::duration::option"
    )]
    max_age: Option<Duration>,
    /// Former names of this interest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    renamed_from: Option<Vec<String>>,
}

impl TryFrom<TaxonomyConfig> for Taxonomy {
    type Error = TaxonomyError;

    fn try_from(config: TaxonomyConfig) -> Result<Self, Self::Error> {
        // Every path against the limits before anything is built.
        for i in &config.interests {
            check_path(&i.path)?;
            for old in i.renamed_from.iter().flatten() {
                check_path(old)?;
            }
        }
        let mut seen = HashSet::with_capacity(config.interests.len());
        for i in &config.interests {
            if !seen.insert(i.path.as_str()) {
                return Err(TaxonomyError::Duplicate(i.path.clone()));
            }
        }
        let paths: HashSet<String> = config
            .interests
            .iter()
            .flat_map(|i| {
                // Every level of a path is an interest.
                i.path
                    .match_indices('/')
                    .filter_map(|(k, _)| i.path.get(..k).map(str::to_owned))
                    .chain(std::iter::once(i.path.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        drop(seen);
        let mut b = Taxonomy::builder();
        for i in config.interests {
            b = b.interest(&i.path);
            if let Some(s) = i.sensitivity {
                b = b.sensitivity(&i.path, s);
            }
            if let Some(h) = i.half_life {
                b = b.half_life(&i.path, h);
            }
            if let Some(m) = i.max_age {
                b = b.max_age(&i.path, m);
            }
            for old in i.renamed_from.iter().flatten() {
                b = b.renamed_from(&i.path, old);
            }
        }
        for e in config.life_events {
            for p in &e.interests {
                if !paths.contains(p.as_str()) {
                    return Err(TaxonomyError::InvalidLifeEvent {
                        name: e.name.clone(),
                        problem: format!("unknown interest path {p:?}"),
                    });
                }
            }
            b = b.life_event_for(&e.name, e.interests.iter().map(String::as_str), e.also_for);
        }
        b.build()
    }
}

impl From<Taxonomy> for TaxonomyConfig {
    fn from(t: Taxonomy) -> Self {
        let mut former: BTreeMap<InterestId, Vec<String>> = BTreeMap::new();
        for (old, id) in &t.renames {
            former.entry(*id).or_default().push(old.clone());
        }
        TaxonomyConfig {
            interests: t
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let own = t.own(n);
                    InterestConfig {
                        path: t.node_path(n).to_owned(),
                        sensitivity: own.sensitivity,
                        half_life: own.half_life.map(HalfLife::get),
                        max_age: own.max_age,
                        renamed_from: former.remove(&InterestId(i as u32)),
                    }
                })
                .collect(),
            life_events: t
                .life_events
                .iter()
                .map(|e| LifeEventConfig {
                    name: e.name.clone(),
                    interests: e
                        .roots
                        .iter()
                        .filter_map(|&r| t.path(r).map(str::to_owned))
                        .collect(),
                    also_for: e.also.clone(),
                })
                .collect(),
        }
    }
}
