//! The exact query on Ballista's standalone mode (scheduler and executor in
//! this process) over the shared benchmark workload: every profile's
//! segments, scores and refusals at NOW from the events file, the consent
//! log and the suppressions, `GROUP BY profile`; the same query as
//! tactful-datafusion's `df_bench`.
//!
//! ```text
//! python3 /work/shared/bench/peers.py generate --out /work/data/events.csv
//! cargo run --release -p tactful-ballista --example ballista_bench -- \
//!     --csv /work/data/events.csv [--runs 3] [--parallelism 2] [--format parquet|csv]
//! ```
//!
//! Ballista ships plans, not data, so the tables are files. Untimed: the
//! events CSV is converted to Parquet (`--format parquet`, the default) and
//! the consent log and suppressions (the contract's rules per profile) are
//! written beside it. Timed: planning, running and collecting the query,
//! best of `--runs`, including Ballista's file scan, shuffle and result
//! fetch (with `--format csv`, CSV parsing too). Prints one JSON line:
//! `rows_per_s` counts every input row (events and facts), `events_per_s`
//! the events only (as `df_bench`); `sum_scores`, `established`, `members`
//! and `refused` are `df_bench`'s checksum, computed the same way, and must
//! equal it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, Int64Array, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use tactful::{Evidence, Level};
use tactful_ballista::{standalone_context, Setup, StandaloneOptions};

const NOW: &str = "2023-11-14T22:13:20Z";
const NOW_S: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

const QUERY: &str = "
SELECT profile, tactful_profile(kind, interest, at, weight, detail, until) AS p
FROM (
    SELECT profile, CAST(NULL AS VARCHAR) AS kind, interest, ts AS at, weight,
           CAST(NULL AS VARCHAR) AS detail, CAST(NULL AS BIGINT) AS until
    FROM events
    UNION ALL
    SELECT profile, kind, interest, at, NULL, detail, until FROM facts
) GROUP BY profile";

struct Args {
    csv: String,
    runs: usize,
    parallelism: NonZeroUsize,
    parquet: bool,
}

fn args() -> Args {
    let mut a = Args {
        csv: "/work/data/events.csv".into(),
        runs: 3,
        parallelism: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
        parquet: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--csv" => a.csv = value,
            "--runs" => a.runs = value.parse().unwrap(),
            "--parallelism" => a.parallelism = value.parse().unwrap(),
            "--format" => a.parquet = value == "parquet",
            other => panic!("unknown flag {other} (--csv, --runs, --parallelism, --format)"),
        }
    }
    a
}

fn category(j: u32) -> String {
    format!("c{:02}", j % 16)
}

/// The contract's engine as a configuration file would hold it: interest
/// key k is `c{k/16:02}/i{k:03}`, half-life 14 days, max age 56 days, 16
/// segments `likes-cXX` at 3.0 for personalization.
fn engine_config() -> String {
    let interests: Vec<String> = (0..256)
        .map(|k| format!(r#"{{"path": "c{:02}/i{k:03}"}}"#, k / 16))
        .collect();
    let segments: Vec<String> = (0..16)
        .map(|j| {
            format!(
                r#"{{"name": "likes-c{j:02}", "purpose": "personalization",
                    "rule": {{"interest_at_least": {{"interest": "c{j:02}", "min_score": 3.0}}}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"taxonomy": {{"interests": [{}]}}, "policy": {{"half_life": "14d", "max_age": "56d"}}, "segments": [{}]}}"#,
        interests.join(", "),
        segments.join(", ")
    )
}

/// Interest keys: 0..256 the leaves of the CSV, 256 + j the category roots
/// the suppressions name.
fn interest_keys() -> Vec<String> {
    (0..256)
        .map(|k| format!("c{:02}/i{k:03}", k / 16))
        .chain((0..16).map(category))
        .collect()
}

/// The consent log and suppressions of profiles `0..profiles` (the contract).
fn facts_batch(profiles: u32) -> RecordBatch {
    let (mut p, mut kind, mut interest, mut at, mut detail, mut until) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut push = |id: u32, k: &'static str, i: Option<i64>, a: i64, d: &'static str, u| {
        p.push(id);
        kind.push(k);
        interest.push(i);
        at.push(a);
        detail.push(d);
        until.push(u);
    };
    for id in 0..profiles {
        let expires = (id % 20 == 1).then_some(NOW_S - 30 * DAY);
        push(
            id,
            "grant",
            None,
            NOW_S - 150 * DAY,
            "personalization",
            expires,
        );
        if id % 10 == 3 {
            push(
                id,
                "withdraw",
                None,
                NOW_S - 10 * DAY,
                "personalization",
                None,
            );
        }
        let root = Some(256 + i64::from(id % 16));
        if id % 25 == 5 {
            push(id, "suppress", root, NOW_S - 40 * DAY, "opt_out", None);
        }
        if id % 100 == 7 {
            push(id, "suppress", root, NOW_S - 60 * DAY, "bereavement", None);
        }
    }
    let schema = Schema::new(vec![
        Field::new("profile", DataType::UInt32, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("interest", DataType::Int64, true),
        Field::new("at", DataType::Int64, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("until", DataType::Int64, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(UInt32Array::from(p)),
            Arc::new(StringArray::from(kind)),
            Arc::new(Int64Array::from(interest)),
            Arc::new(Int64Array::from(at)),
            Arc::new(StringArray::from(detail)),
            Arc::new(Int64Array::from(until)),
        ],
    )
    .unwrap()
}

fn events_schema() -> Schema {
    Schema::new(vec![
        Field::new("profile", DataType::UInt32, false),
        Field::new("interest", DataType::UInt16, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("weight", DataType::Float32, false),
    ])
}

/// What `df_bench` reports of an answer, computed the same way: the sum of
/// every profile's leaf scores (added in profile order), established leaves,
/// segment memberships and refused rows.
#[derive(Debug, Default)]
struct Checksum {
    profiles: usize,
    sum_scores: f64,
    established: u64,
    members: u64,
    refused: u64,
}

fn checksum(batches: &[RecordBatch]) -> Checksum {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{UInt32Type, UInt64Type};
    let mut per_profile: Vec<(u32, f64)> = Vec::new();
    let mut c = Checksum::default();
    for b in batches {
        c.profiles += b.num_rows();
        let ids = b.column(0).as_primitive::<UInt32Type>();
        let p = b.column(1).as_struct();
        let segments = p.column(0).as_list::<i32>();
        let scores = p.column(1).as_list::<i32>();
        let refused = p
            .column(2)
            .as_struct()
            .column_by_name("refused_rows")
            .map(|c| c.as_primitive::<UInt64Type>().clone());
        for row in 0..b.num_rows() {
            c.members += segments.value(row).len() as u64;
            c.refused += refused.as_ref().map_or(0, |r| r.value(row));
            let list = scores.value(row);
            let s = list.as_struct();
            let interest = s.column(0).as_string::<i32>();
            let score = s.column(1).as_primitive::<Float64Type>();
            let established = s.column(4).as_boolean();
            let mut sum = 0.0;
            for i in 0..s.len() {
                if interest.value(i).contains('/') {
                    sum += score.value(i);
                    c.established += u64::from(established.value(i));
                }
            }
            per_profile.push((ids.value(row), sum));
        }
    }
    per_profile.sort_by_key(|(id, _)| *id);
    c.sum_scores = per_profile.iter().map(|(_, s)| s).sum();
    c
}

/// Writes the tables Ballista reads; returns (events, profiles, fact rows).
async fn prepare(a: &Args, dir: &Path) -> datafusion::common::Result<(usize, u32, usize)> {
    let local = SessionContext::new();
    let schema = events_schema();
    let events = local
        .read_csv(&a.csv, CsvReadOptions::new().schema(&schema))
        .await?;
    let stats = local
        .read_csv(&a.csv, CsvReadOptions::new().schema(&schema))
        .await?
        .aggregate(
            vec![],
            vec![
                datafusion::functions_aggregate::expr_fn::count(datafusion::prelude::lit(1)),
                datafusion::functions_aggregate::expr_fn::max(datafusion::prelude::col("profile")),
            ],
        )?
        .collect()
        .await?;
    let rows = stats[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .map_or(0, |c| c.value(0) as usize);
    let profiles = stats[0]
        .column(1)
        .as_any()
        .downcast_ref::<UInt32Array>()
        .map_or(0, |c| c.value(0) + 1);
    if a.parquet {
        events
            .write_parquet(
                &format!("{}/events/", dir.display()),
                DataFrameWriteOptions::new(),
                None,
            )
            .await?;
    }
    let facts = facts_batch(profiles);
    let fact_rows = facts.num_rows();
    local
        .read_batch(facts)?
        .write_parquet(
            &format!("{}/facts/", dir.display()),
            DataFrameWriteOptions::new(),
            None,
        )
        .await?;
    Ok((rows, profiles, fact_rows))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    let dir = tempfile::tempdir()?;
    let (events, profiles, fact_rows) = prepare(&a, dir.path()).await?;

    let setup = Setup::from_json(&engine_config(), NOW)?
        .level(Level::FirstParty)
        .evidence(Evidence::Import("warehouse".into()))
        .interest_keys(interest_keys())?;
    let options = StandaloneOptions::default()
        .parallelism(a.parallelism)
        .target_partitions(a.parallelism);
    let ctx = standalone_context(&setup, options).await?;
    if a.parquet {
        let events_dir = format!("{}/events/", dir.path().display());
        ctx.register_parquet("events", &events_dir, ParquetReadOptions::default())
            .await?;
    } else {
        let schema = events_schema();
        ctx.register_csv("events", &a.csv, CsvReadOptions::new().schema(&schema))
            .await?;
    }
    let facts_dir = format!("{}/facts/", dir.path().display());
    ctx.register_parquet("facts", &facts_dir, ParquetReadOptions::default())
        .await?;

    let mut best = f64::INFINITY;
    let mut result = Vec::new();
    for _ in 0..a.runs.max(1) {
        let t0 = Instant::now();
        result = ctx.sql(QUERY).await?.collect().await?;
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let c = checksum(&result);
    println!(
        "{{\"engine\": \"ballista-tactful\", \"mode\": \"standalone\", \"function\": \"tactful_profile\", \
         \"format\": \"{}\", \"parallelism\": {}, \"events\": {events}, \"fact_rows\": {fact_rows}, \
         \"best_s\": {best:.4}, \"rows_per_s\": {:.0}, \"events_per_s\": {:.0}, \
         \"profiles\": {}, \"input_profiles\": {profiles}, \
         \"sum_scores\": {:?}, \"established\": {}, \"members\": {}, \"refused\": {}}}",
        if a.parquet { "parquet" } else { "csv" },
        a.parallelism,
        (events + fact_rows) as f64 / best,
        events as f64 / best,
        c.profiles,
        c.sum_scores,
        c.established,
        c.members,
        c.refused,
    );
    Ok(())
}
