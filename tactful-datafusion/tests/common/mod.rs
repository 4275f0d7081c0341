//! A generated dataset of fact rows (events, consents with withdrawals and
//! expiries, suppressions with a purging bereavement, erasures, and rows
//! that cannot be read), its partitioned table, the single-process answer
//! per person, and the reading of the functions' answers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Schema, SchemaRef, UInt32Type, UInt64Type,
};
use datafusion::datasource::MemTable;
use tactful::bulk;
use tactful::prelude::*;
use time::OffsetDateTime;

use bulk::{ConsentChange, Erasure, PartialProfile};
use workload::{category, NOW_S};

const DAY: i64 = 86_400;

/// One generated fact, typed: rendered as a row for the table, and pushed
/// as itself into the reference profile.
#[derive(Debug, Clone)]
pub enum GenFact {
    Event {
        key: usize,
        signal: Signal,
        at: i64,
        weight: f64,
        gift: bool,
        partner: bool,
    },
    Grant {
        purpose: Purpose,
        at: i64,
        expires: Option<i64>,
    },
    Withdraw {
        purpose: Purpose,
        at: i64,
    },
    Suppress {
        interest: Option<String>,
        reason: SuppressionReason,
        scope_detail: &'static str,
        at: i64,
        until: Option<i64>,
    },
    EraseInterest {
        path: String,
        at: i64,
    },
    EraseProfile {
        at: i64,
    },
    /// A row that cannot be read: it must be counted as unreadable.
    Bad(Row),
}

/// A row of the facts table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub person: String,
    pub kind: Option<String>,
    pub interest: Option<String>,
    pub at: Option<i64>,
    pub weight: Option<f64>,
    pub detail: Option<String>,
    pub until: Option<i64>,
}

fn t(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(s).unwrap()
}

fn snake<T: serde::Serialize>(v: T) -> String {
    serde_json::to_string(&v)
        .unwrap()
        .trim_matches('"')
        .to_owned()
}

impl GenFact {
    pub fn row(&self, person: &str, paths: &[String]) -> Row {
        let mut r = Row {
            person: person.to_owned(),
            ..Row::default()
        };
        match self {
            GenFact::Event {
                key,
                signal,
                at,
                weight,
                gift,
                partner,
            } => {
                r.interest = Some(paths[*key].clone());
                r.at = Some(*at);
                r.weight = Some(*weight);
                let mut detail = signal.name().to_owned();
                if *gift {
                    detail.push_str(" gift");
                }
                if *partner {
                    detail.push_str(" source=partner");
                }
                // Plain views leave `detail` NULL, as an events table would.
                if detail != "view" {
                    r.detail = Some(detail);
                }
            }
            GenFact::Grant {
                purpose,
                at,
                expires,
            } => {
                r.kind = Some("grant".into());
                r.at = Some(*at);
                r.detail = Some(snake(purpose));
                r.until = *expires;
            }
            GenFact::Withdraw { purpose, at } => {
                r.kind = Some("withdraw".into());
                r.at = Some(*at);
                r.detail = Some(snake(purpose));
            }
            GenFact::Suppress {
                interest,
                reason,
                scope_detail,
                at,
                until,
            } => {
                r.kind = Some("suppress".into());
                r.interest = interest.clone();
                r.at = Some(*at);
                r.detail = Some(
                    format!("{} {scope_detail}", snake(reason))
                        .trim()
                        .to_owned(),
                );
                r.until = *until;
            }
            GenFact::EraseInterest { path, at } => {
                r.kind = Some("erase".into());
                r.interest = Some(path.clone());
                r.at = Some(*at);
            }
            GenFact::EraseProfile { at } => {
                r.kind = Some("erase".into());
                r.at = Some(*at);
            }
            GenFact::Bad(row) => {
                r = row.clone();
                r.person = person.to_owned();
            }
        }
        r
    }

    /// Pushes the fact into `p`, built with the core's own types; `false`
    /// for a row that must be counted as unreadable.
    pub fn push(&self, engine: &Engine, p: &mut PartialProfile) -> bool {
        let tax = engine.taxonomy();
        match self {
            GenFact::Event {
                key,
                signal,
                at,
                weight,
                gift,
                partner,
            } => {
                let id = tax.id(&workload::paths()[*key]).unwrap();
                let mut e = Event::new(id, *signal, t(*at))
                    .with_gift(*gift)
                    .with_weight(*weight)
                    .unwrap();
                if *partner {
                    e = e.with_source(Source::Partner);
                }
                p.push_event(e);
            }
            GenFact::Grant {
                purpose,
                at,
                expires,
            } => p.push_consent(grant(*purpose, t(*at), expires.map(t))),
            GenFact::Withdraw { purpose, at } => p.push_consent(withdraw(*purpose, t(*at))),
            GenFact::Suppress {
                interest,
                reason,
                scope_detail,
                at,
                until,
            } => {
                let scope = match (interest, *scope_detail) {
                    (Some(path), "") => Scope::Interest(tax.id(path).unwrap()),
                    (None, "all") => Scope::All,
                    (None, "channel=email") => Scope::Channel(Channel::Email),
                    other => panic!("scope {other:?} not generated"),
                };
                let mut s = Suppression::new(scope, *reason, t(*at));
                if let Some(u) = until {
                    s = s.until(t(*u)).unwrap();
                }
                p.push_suppression(s);
            }
            GenFact::EraseInterest { path, at } => {
                p.push_erasure(Erasure::interest(tax.id(path).unwrap(), t(*at)))
            }
            GenFact::EraseProfile { at } => p.push_erasure(Erasure::profile(t(*at))),
            GenFact::Bad(_) => return false,
        }
        true
    }
}

fn grant(purpose: Purpose, at: OffsetDateTime, expires: Option<OffsetDateTime>) -> ConsentChange {
    ConsentChange::grant(purpose, at, expires, Evidence::Import("datafusion".into()))
}

fn withdraw(purpose: Purpose, at: OffsetDateTime) -> ConsentChange {
    ConsentChange::withdraw(purpose, at, Evidence::Import("datafusion".into()))
}

/// A small deterministic generator (64-bit LCG).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The people of the dataset and their facts.
pub fn dataset(people: u32, seed: u64) -> Vec<(String, Vec<GenFact>)> {
    let mut rng = Lcg::new(seed);
    let mut out = Vec::new();
    for p in 0..people {
        let mut facts: Vec<GenFact> = workload::profile_rows(p)
            .into_iter()
            .map(|r| match r.kind {
                "grant" => GenFact::Grant {
                    purpose: Purpose::Personalization,
                    at: r.at,
                    expires: r.until,
                },
                "withdraw" => GenFact::Withdraw {
                    purpose: Purpose::Personalization,
                    at: r.at,
                },
                _ => GenFact::Suppress {
                    interest: r.interest,
                    reason: if r.detail == "bereavement" {
                        SuppressionReason::Bereavement
                    } else {
                        SuppressionReason::OptOut
                    },
                    scope_detail: "",
                    at: r.at,
                    until: None,
                },
            })
            .collect();
        // Two favourite categories, so that segments form.
        let favourites = [rng.below(16) as usize, (p % 16) as usize];
        let n = 15 + rng.below(45);
        for i in 0..n {
            let cat = if rng.below(4) == 0 {
                rng.below(16) as usize
            } else {
                favourites[(i % 2) as usize]
            };
            let key = cat * 16 + rng.below(16) as usize;
            // Mostly within the max age, some older (stale), a few ahead of now.
            let at = match rng.below(20) {
                0 => NOW_S - 57 * DAY - rng.below(10 * DAY as u64) as i64,
                1 => NOW_S + 3600,
                _ => NOW_S - rng.below(50 * DAY as u64) as i64,
            };
            let signal = match rng.below(25) {
                0 => Signal::Purchase,
                1 => Signal::Dismissal,
                2 => Signal::Search,
                _ => Signal::View,
            };
            let e = GenFact::Event {
                key,
                signal,
                at,
                weight: 0.5 + rng.below(16) as f64 / 8.0,
                gift: signal == Signal::Purchase && rng.below(2) == 0,
                partner: rng.below(30) == 0,
            };
            // Now and then the same event twice (a duplicate).
            if rng.below(40) == 0 {
                facts.push(e.clone());
            }
            facts.push(e);
        }
        special(p, &mut facts);
        out.push((format!("{p}"), facts));
    }
    out
}

/// The stories: erasures, a suppression of everything and of a channel, a
/// refused consent change, and unreadable rows of every kind.
fn special(p: u32, facts: &mut Vec<GenFact>) {
    let bad = |kind: Option<&str>,
               interest: Option<&str>,
               at: Option<i64>,
               weight: Option<f64>,
               detail: Option<&str>| {
        GenFact::Bad(Row {
            person: String::new(),
            kind: kind.map(Into::into),
            interest: interest.map(Into::into),
            at,
            weight,
            detail: detail.map(Into::into),
            until: None,
        })
    };
    let recent = Some(NOW_S - 2 * DAY);
    match p {
        11 => facts.push(GenFact::EraseInterest {
            path: category(p),
            at: NOW_S - 5 * DAY,
        }),
        12 => facts.push(GenFact::EraseProfile {
            at: NOW_S - 20 * DAY,
        }),
        13 => facts.push(GenFact::Suppress {
            interest: None,
            reason: SuppressionReason::DoNotContact,
            scope_detail: "all",
            at: NOW_S - 3 * DAY,
            until: Some(NOW_S + 10 * DAY),
        }),
        14 => facts.push(GenFact::Suppress {
            interest: None,
            reason: SuppressionReason::OptOut,
            scope_detail: "channel=email",
            at: NOW_S - 3 * DAY,
            until: None,
        }),
        15 => facts.push(GenFact::Withdraw {
            purpose: Purpose::Service,
            at: NOW_S - DAY,
        }),
        16 => facts.push(bad(None, Some("c99/i999"), recent, Some(1.0), None)),
        17 => {
            facts.push(bad(None, Some("c01/i017"), recent, Some(-1.0), None));
            facts.push(bad(None, Some("c01/i017"), recent, Some(f64::NAN), None));
        }
        18 => facts.push(bad(None, Some("c01/i017"), None, Some(1.0), None)),
        19 => facts.push(bad(
            Some("bogus"),
            Some("c01/i017"),
            recent,
            Some(1.0),
            None,
        )),
        20 => facts.push(bad(
            None,
            Some("c01/i017"),
            recent,
            Some(1.0),
            Some("stare"),
        )),
        21 => facts.push(bad(Some("grant"), None, recent, None, None)),
        22 => facts.push(bad(Some("suppress"), None, recent, None, Some("opt_out"))),
        _ => {}
    }
}

/// What one person's answer is, in comparable form.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub segments: Vec<String>,
    /// interest, score bits, events, days, established
    pub scores: Vec<(String, u64, u32, u32, bool)>,
    /// non-zero counters by field name
    pub refusals: BTreeMap<String, u64>,
}

/// The single-process answer: all of the person's facts in one part,
/// finished by the engine.
pub fn reference(engine: &Engine, facts: &[GenFact], level: Level) -> Answer {
    let now = workload::now();
    let mut p = PartialProfile::new("");
    let mut unreadable = 0;
    for f in facts {
        if !f.push(engine, &mut p) {
            unreadable += 1;
        }
    }
    let mut base = Profile::new("");
    base.set_level(level);
    let done = engine.finish(base, &p, now).unwrap();
    let profile = &done.profile;
    let tax = engine.taxonomy();
    // `summarize` (what the functions use) equals the scan's scores bit for
    // bit; the engine's incremental path may differ in the last bits of a
    // sum, so it is held to a relative 1e-12.
    let scan = engine.scores_by_scan(profile, now);
    let incremental = engine.scores(profile, now);
    for (id, s) in scan.iter() {
        let (a, b) = (s.score, incremental.score(id));
        assert!(
            (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
            "scan {a} vs incremental {b}"
        );
    }
    let scores = scan
        .iter()
        .map(|(id, s)| {
            (
                tax.path(id).unwrap().to_owned(),
                s.score.to_bits(),
                s.events,
                s.days,
                s.established.is_some(),
            )
        })
        .collect();
    let mut refusals: BTreeMap<String, u64> = profile
        .refusals()
        .iter()
        .map(|(k, n)| (snake(k), n))
        .collect();
    if !done.refused.is_empty() {
        refusals.insert("refused_rows".into(), done.refused.len() as u64);
    }
    if unreadable > 0 {
        refusals.insert("unreadable_rows".into(), unreadable);
    }
    Answer {
        segments: engine
            .segment_names(profile, now)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        scores,
        refusals,
    }
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("person", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("interest", DataType::Utf8, true),
        Field::new("at", DataType::Int64, true),
        Field::new("weight", DataType::Float64, true),
        Field::new("detail", DataType::Utf8, true),
        Field::new("until", DataType::Int64, true),
    ]))
}

pub fn batch(rows: &[Row]) -> RecordBatch {
    let col = |f: &dyn Fn(&Row) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    RecordBatch::try_new(
        schema(),
        vec![
            col(&|r| Some(r.person.clone())),
            col(&|r| r.kind.clone()),
            col(&|r| r.interest.clone()),
            Arc::new(rows.iter().map(|r| r.at).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.weight).collect::<Float64Array>()),
            col(&|r| r.detail.clone()),
            Arc::new(rows.iter().map(|r| r.until).collect::<Int64Array>()),
        ],
    )
    .unwrap()
}

/// Every row, shuffled, so each person's rows fall into several partitions.
pub fn rows(data: &[(String, Vec<GenFact>)], seed: u64) -> Vec<Row> {
    let paths = workload::paths();
    let mut rows: Vec<Row> = data
        .iter()
        .flat_map(|(person, facts)| facts.iter().map(|f| f.row(person, &paths)))
        .collect();
    let mut rng = Lcg::new(seed);
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.below(i as u64 + 1) as usize);
    }
    rows
}

/// A table of `parts` partitions, each in batches of at most `batch_rows`.
pub fn table(rows: &[Row], parts: usize, batch_rows: usize) -> MemTable {
    let per = rows.len().div_ceil(parts);
    let partitions = rows
        .chunks(per)
        .map(|part| part.chunks(batch_rows).map(batch).collect())
        .collect();
    MemTable::try_new(schema(), partitions).unwrap()
}

/// The answers of a `person, tactful_profile(...)` result, by person.
pub fn answers(batches: &[RecordBatch]) -> BTreeMap<String, Answer> {
    let mut out = BTreeMap::new();
    for b in batches {
        let people = b.column(0).as_string::<i32>();
        let profile = b.column(1).as_struct();
        let segments = profile.column(0).as_list::<i32>();
        let scores = profile.column(1).as_list::<i32>();
        let refusals = profile.column(2).as_struct();
        for row in 0..b.num_rows() {
            let segs = segments.value(row);
            let segs = segs.as_string::<i32>();
            let sc = scores.value(row);
            let sc = sc.as_struct();
            let (interest, score, events, days, est) = (
                sc.column(0).as_string::<i32>(),
                sc.column(1).as_primitive::<Float64Type>(),
                sc.column(2).as_primitive::<UInt32Type>(),
                sc.column(3).as_primitive::<UInt32Type>(),
                sc.column(4).as_boolean(),
            );
            let mut counts = BTreeMap::new();
            for (field, col) in refusals.fields().iter().zip(refusals.columns()) {
                let n = col.as_primitive::<UInt64Type>().value(row);
                if n > 0 {
                    counts.insert(field.name().clone(), n);
                }
            }
            out.insert(
                people.value(row).to_owned(),
                Answer {
                    segments: (0..segs.len()).map(|i| segs.value(i).to_owned()).collect(),
                    scores: (0..sc.len())
                        .map(|i| {
                            (
                                interest.value(i).to_owned(),
                                score.value(i).to_bits(),
                                events.value(i),
                                days.value(i),
                                est.value(i),
                            )
                        })
                        .collect(),
                    refusals: counts,
                },
            );
        }
    }
    out
}
