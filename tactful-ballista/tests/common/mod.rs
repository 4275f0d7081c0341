//! Shared by the integration tests: a small generated dataset of fact rows
//! (events; consent grants, withdrawals and expiries; suppressions, one of
//! them a bereavement; erasures) written as CSV files, the engine
//! configuration it is scored with, the single-process core's answer per
//! person, and the reading of the functions' answers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod cluster;

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, UInt32Type, UInt64Type};
use datafusion::prelude::{CsvReadOptions, SessionContext};
use tactful::bulk::{ConsentChange, Erasure, PartialProfile};
use tactful::prelude::*;
use time::OffsetDateTime;

/// The instant every answer is given for.
pub(crate) const NOW: &str = "2023-11-14T22:13:20Z";
const NOW_S: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
const CATEGORIES: usize = 4;
const LEAVES: usize = 4;

/// Every person's profile, segments and refusals; the segments again from
/// their own function, which must agree.
pub(crate) const QUERY: &str = "
SELECT person,
       tactful_profile(kind, interest, at, weight, detail, until) AS p,
       tactful_segments(kind, interest, at, weight, detail, until) AS s
FROM facts GROUP BY person";

fn leaf(k: usize) -> String {
    format!("c{:02}/i{k:03}", k / LEAVES)
}

fn category(j: usize) -> String {
    format!("c{:02}", j % CATEGORIES)
}

/// The engine configuration (JSON): 4 categories of 4 leaves, half-life 14
/// days, max age 56 days, segments `likes-cXX` at a score of 3 for
/// personalization (the benchmark's workload, smaller).
pub(crate) fn engine_config() -> String {
    let interests: Vec<String> = (0..CATEGORIES * LEAVES)
        .map(|k| format!(r#"{{"path": "{}"}}"#, leaf(k)))
        .collect();
    let segments: Vec<String> = (0..CATEGORIES)
        .map(|j| {
            format!(
                r#"{{"name": "likes-{c}", "purpose": "personalization",
                    "rule": {{"interest_at_least": {{"interest": "{c}", "min_score": 3.0}}}}}}"#,
                c = category(j)
            )
        })
        .collect();
    format!(
        r#"{{"taxonomy": {{"interests": [{}]}},
            "policy": {{"half_life": "14d", "max_age": "56d"}},
            "segments": [{}]}}"#,
        interests.join(", "),
        segments.join(", ")
    )
}

/// One fact row (the facts shape of tactful-datafusion).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Row {
    pub(crate) person: String,
    pub(crate) kind: Option<&'static str>,
    pub(crate) interest: Option<String>,
    pub(crate) at: i64,
    pub(crate) weight: Option<f64>,
    pub(crate) detail: Option<String>,
    pub(crate) until: Option<i64>,
}

/// A small deterministic generator (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The rows of `people` people: a consent log (a grant 150 days ago, for
/// some expiring 30 days ago, for some withdrawn 10 days ago, for one never
/// given), suppressions (an opt-out of a category, a bereavement that
/// purges one), erasures (a category, a whole profile) and 10 to 50 events
/// each, mostly in two favourite categories, some stale, some from the
/// future, some purchases, searches and dismissals.
pub(crate) fn rows(people: usize, seed: u64) -> Vec<Row> {
    let mut rng = Lcg(seed);
    let mut rows = Vec::new();
    for p in 0..people {
        let person = format!("p{p:03}");
        let row = |kind, interest: Option<String>, at, detail: &str, until| Row {
            person: person.clone(),
            kind: Some(kind),
            interest,
            at,
            weight: None,
            detail: Some(detail.to_owned()),
            until,
        };
        if p % 13 != 4 {
            let expires = (p % 5 == 1).then_some(NOW_S - 30 * DAY);
            rows.push(row(
                "grant",
                None,
                NOW_S - 150 * DAY,
                "personalization",
                expires,
            ));
        }
        if p % 6 == 3 {
            rows.push(row(
                "withdraw",
                None,
                NOW_S - 10 * DAY,
                "personalization",
                None,
            ));
        }
        if p % 7 == 5 {
            rows.push(row(
                "suppress",
                Some(category(p)),
                NOW_S - 40 * DAY,
                "opt_out",
                None,
            ));
        }
        if p % 9 == 7 {
            rows.push(row(
                "suppress",
                Some(category(p + 1)),
                NOW_S - 60 * DAY,
                "bereavement",
                None,
            ));
        }
        if p == 11 {
            rows.push(row("erase", Some(category(p)), NOW_S - 5 * DAY, "", None));
        }
        if p == 12 {
            rows.push(row("erase", None, NOW_S - 20 * DAY, "", None));
        }
        let favourites = [p % CATEGORIES, (p + 1) % CATEGORIES];
        for i in 0..10 + rng.below(40) {
            let cat = if rng.below(4) == 0 {
                rng.below(CATEGORIES as u64) as usize
            } else {
                favourites[(i % 2) as usize]
            };
            let at = match rng.below(20) {
                0 => NOW_S - 57 * DAY - rng.below(10 * DAY as u64) as i64,
                1 => NOW_S + 3600,
                _ => NOW_S - rng.below(50 * DAY as u64) as i64,
            };
            let detail = match rng.below(20) {
                0 => Some("purchase".to_owned()),
                1 => Some("search".to_owned()),
                2 => Some("dismissal".to_owned()),
                _ => None,
            };
            rows.push(Row {
                person: person.clone(),
                kind: None,
                interest: Some(leaf(cat * LEAVES + rng.below(LEAVES as u64) as usize)),
                at,
                weight: Some(0.5 + rng.below(16) as f64 / 8.0),
                detail,
                until: None,
            });
        }
    }
    // Shuffled, so that each person's rows fall into several files.
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.below(i as u64 + 1) as usize);
    }
    rows
}

fn csv_field<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Writes `rows` as `files` CSV files into `dir` (empty fields are NULL).
pub(crate) fn write_csv(dir: &Path, rows: &[Row], files: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, part) in rows.chunks(rows.len().div_ceil(files)).enumerate() {
        let mut text = String::from("person,kind,interest,at,weight,detail,until\n");
        for r in part {
            text.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                r.person,
                csv_field(&r.kind),
                csv_field(&r.interest),
                r.at,
                csv_field(&r.weight),
                csv_field(&r.detail),
                csv_field(&r.until),
            ));
        }
        std::fs::write(dir.join(format!("part-{i}.csv")), text).unwrap();
    }
}

/// Registers the CSV files in `dir` as the table `facts`.
pub(crate) async fn register_facts(ctx: &SessionContext, dir: &Path) {
    let schema = Schema::new(vec![
        Field::new("person", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("interest", DataType::Utf8, true),
        Field::new("at", DataType::Int64, false),
        Field::new("weight", DataType::Float64, true),
        Field::new("detail", DataType::Utf8, true),
        Field::new("until", DataType::Int64, true),
    ]);
    let options = CsvReadOptions::new().schema(&schema).file_extension(".csv");
    ctx.register_csv("facts", &format!("{}/", dir.display()), options)
        .await
        .unwrap();
}

/// One person's answer, in comparable form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub(crate) segments: Vec<String>,
    /// interest, score bits, events, days, established
    pub(crate) scores: Vec<(String, u64, u32, u32, bool)>,
    /// non-zero counters by field name
    pub(crate) refusals: BTreeMap<String, u64>,
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

fn evidence() -> Evidence {
    Evidence::Import("datafusion".into())
}

/// Pushes one row into `p` with the core's own types.
fn push(engine: &Engine, r: &Row, p: &mut PartialProfile) {
    let tax = engine.taxonomy();
    let id = |path: &str| tax.id(path).unwrap();
    match r.kind {
        None => {
            let signal = match r.detail.as_deref() {
                None => Signal::View,
                Some("purchase") => Signal::Purchase,
                Some("search") => Signal::Search,
                Some("dismissal") => Signal::Dismissal,
                Some(other) => panic!("signal {other} not generated"),
            };
            let e = Event::new(id(r.interest.as_deref().unwrap()), signal, t(r.at))
                .with_weight(r.weight.unwrap())
                .unwrap();
            p.push_event(e);
        }
        Some("grant") => p.push_consent(ConsentChange::grant(
            Purpose::Personalization,
            t(r.at),
            r.until.map(t),
            evidence(),
        )),
        Some("withdraw") => p.push_consent(ConsentChange::withdraw(
            Purpose::Personalization,
            t(r.at),
            evidence(),
        )),
        Some("suppress") => {
            let reason = match r.detail.as_deref() {
                Some("opt_out") => SuppressionReason::OptOut,
                Some("bereavement") => SuppressionReason::Bereavement,
                other => panic!("reason {other:?} not generated"),
            };
            let scope = Scope::Interest(id(r.interest.as_deref().unwrap()));
            p.push_suppression(Suppression::new(scope, reason, t(r.at)));
        }
        Some("erase") => p.push_erasure(match r.interest.as_deref() {
            Some(path) => Erasure::interest(id(path), t(r.at)),
            None => Erasure::profile(t(r.at)),
        }),
        Some(other) => panic!("kind {other} not generated"),
    }
}

/// The single-process answer per person: all of a person's rows in one
/// partial profile, finished by the engine at `now` from a FirstParty
/// profile, then `segment_names`, `scores_by_scan` (and `scores` within
/// 1e-12) and `refusals`.
pub(crate) fn reference(engine: &Engine, rows: &[Row]) -> BTreeMap<String, Answer> {
    let now = t(NOW_S);
    let mut parts: BTreeMap<&str, PartialProfile> = BTreeMap::new();
    for r in rows {
        let p = parts
            .entry(&r.person)
            .or_insert_with(|| PartialProfile::new(r.person.as_str()));
        push(engine, r, p);
    }
    let tax = engine.taxonomy();
    parts
        .into_iter()
        .map(|(person, p)| {
            let mut base = Profile::new(person);
            base.set_level(Level::FirstParty);
            let done = engine.finish(base, &p, now).unwrap();
            let profile = &done.profile;
            // The functions answer with `summarize`, which equals the plain
            // scan bit for bit; the engine's incremental `scores` may differ
            // in the last bits of a sum (the core promises 1e-9 relative),
            // so it is held to 1e-12 relative here.
            let scan = engine.scores_by_scan(profile, now);
            let incremental = engine.scores(profile, now);
            for (id, s) in scan.iter() {
                let (a, b) = (s.score, incremental.score(id));
                assert!(
                    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
                    "{person}: scan {a} vs incremental {b}"
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
            // Every row finishing refused: events, and consent changes the
            // ledger refused.
            if !done.refused.is_empty() {
                refusals.insert("refused_rows".into(), done.refused.len() as u64);
            }
            let segments = engine
                .segment_names(profile, now)
                .into_iter()
                .map(str::to_owned)
                .collect();
            (
                person.to_owned(),
                Answer {
                    segments,
                    scores,
                    refusals,
                },
            )
        })
        .collect()
}

/// The answers of [`QUERY`], by person; checks that `tactful_segments`
/// agrees with `tactful_profile`'s segments.
pub(crate) fn answers(batches: &[RecordBatch]) -> BTreeMap<String, Answer> {
    let mut out = BTreeMap::new();
    for b in batches {
        let people = b.column(0).as_string::<i32>();
        let profile = b.column(1).as_struct();
        let alone = b.column(2).as_list::<i32>();
        let segments = profile.column(0).as_list::<i32>();
        let scores = profile.column(1).as_list::<i32>();
        let refusals = profile.column(2).as_struct();
        for row in 0..b.num_rows() {
            let strings = |a: &dyn Array| -> Vec<String> {
                a.as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap().to_owned())
                    .collect()
            };
            let segs = strings(&segments.value(row));
            assert_eq!(
                segs,
                strings(&alone.value(row)),
                "tactful_segments disagrees"
            );
            let sc = scores.value(row);
            let sc = sc.as_struct();
            let (interest, score, events, days, est) = (
                sc.column(0).as_string::<i32>(),
                sc.column(1).as_primitive::<Float64Type>(),
                sc.column(2).as_primitive::<UInt32Type>(),
                sc.column(3).as_primitive::<UInt32Type>(),
                sc.column(4).as_boolean(),
            );
            let scores = (0..sc.len())
                .map(|i| {
                    (
                        interest.value(i).to_owned(),
                        score.value(i).to_bits(),
                        events.value(i),
                        days.value(i),
                        est.value(i),
                    )
                })
                .collect();
            let refusals = refusals
                .fields()
                .iter()
                .zip(refusals.columns())
                .filter_map(|(f, c)| {
                    let n = c.as_primitive::<UInt64Type>().value(row);
                    (n > 0).then(|| (f.name().clone(), n))
                })
                .collect();
            out.insert(
                people.value(row).to_owned(),
                Answer {
                    segments: segs,
                    scores,
                    refusals,
                },
            );
        }
    }
    out
}

/// Checks that the dataset is not trivially equal: some people are in
/// segments, some are not, and events were refused for several reasons.
pub(crate) fn assert_varied(answers: &BTreeMap<String, Answer>) {
    let members = answers.values().filter(|a| !a.segments.is_empty()).count();
    assert!(members > 3 && members < answers.len(), "{members} members");
    let reasons: std::collections::BTreeSet<&String> =
        answers.values().flat_map(|a| a.refusals.keys()).collect();
    for reason in ["no_consent", "suppressed", "from_future"] {
        assert!(
            reasons.iter().any(|r| *r == reason),
            "no {reason} refusal in {reasons:?}"
        );
    }
}
