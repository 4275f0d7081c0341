//! The exact query on DataFusion over the shared benchmark workload: every
//! profile's segments, scores and refusals at NOW from 10M events, the
//! consent log and the suppressions, `GROUP BY profile`.
//!
//! Run in release (CI never builds it: examples are not benchmarks):
//!
//! ```text
//! python3 /work/shared/bench/peers.py generate --out /work/data/events.csv
//! cargo run --release -p tactful-datafusion --example df_bench -- \
//!     --csv /work/data/events.csv --partitions 1,2,4 --runs 3
//! ```
//!
//! Reading the CSV into memory is not timed (as in peers.py); each run
//! plans and executes the query and collects every profile's answer. Prints
//! one JSON line per partition count, with the checksum of the core's
//! `bulk_score` example (`sum_scores`, `established`, `members`, `refused`),
//! which must be equal, then one line on the accumulator's memory per
//! profile (its `size()` after every row, and the encoded state).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/workload.rs"]
mod workload;

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, UInt32Type, UInt64Type};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::EmitTo;
use datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};
use tactful::prelude::*;
use tactful_datafusion::TactfulFunctions;

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
    partitions: Vec<usize>,
    runs: usize,
    /// Print `EXPLAIN ANALYZE` of the query once per partition count.
    explain: bool,
}

fn args() -> Args {
    let mut a = Args {
        csv: "/work/data/events.csv".into(),
        partitions: vec![1, 2, 4],
        runs: 3,
        explain: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--explain" {
            a.explain = true;
            continue;
        }
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--csv" => a.csv = value,
            "--partitions" => a.partitions = value.split(',').map(|p| p.parse().unwrap()).collect(),
            "--runs" => a.runs = value.parse().unwrap(),
            other => panic!("unknown flag {other} (--csv, --partitions, --runs, --explain)"),
        }
    }
    a
}

/// Interest keys: 0..256 the leaves of the CSV, 256 + j the category roots
/// the suppressions name.
fn interest_keys() -> Vec<String> {
    let mut keys = workload::paths();
    keys.extend((0..16).map(workload::category));
    keys
}

/// The consent log and suppressions of profiles `0..profiles`, keys as above.
fn facts_batch(profiles: u32) -> RecordBatch {
    let (mut p, mut kind, mut interest, mut at, mut detail, mut until) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for id in 0..profiles {
        for r in workload::profile_rows(id) {
            p.push(id);
            kind.push(r.kind);
            interest.push(r.interest.map(|_| 256 + i64::from(id % 16)));
            at.push(r.at);
            detail.push(r.detail);
            until.push(r.until);
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

fn functions() -> TactfulFunctions {
    TactfulFunctions::new(Arc::new(workload::engine()), workload::now())
        .level(Level::FirstParty)
        .evidence(Evidence::Import("warehouse".into()))
        .interest_keys(interest_keys())
        .unwrap()
}

/// The checksum of `bulk_score` (the core's exact bulk run), summed in the
/// same order: per profile in ascending id, its leaf scores in key order;
/// with the established leaves, the segment memberships and the refused rows.
#[derive(Debug, Default)]
struct Checksum {
    sum_scores: f64,
    established: u64,
    members: u64,
    refused: u64,
    profiles: usize,
}

fn checksum(batches: &[RecordBatch]) -> Checksum {
    let mut per_profile: Vec<(u32, f64)> = Vec::new();
    let mut c = Checksum::default();
    for b in batches {
        c.profiles += b.num_rows();
        let ids = b.column(0).as_primitive::<UInt32Type>();
        let p = b.column(1).as_struct();
        let segments = p.column(0).as_list::<i32>();
        let scores = p.column(1).as_list::<i32>();
        let refusals = p.column(2).as_struct();
        let refused = refusals
            .column_by_name("refused_rows")
            .unwrap()
            .as_primitive::<UInt64Type>();
        for row in 0..b.num_rows() {
            c.members += segments.value(row).len() as u64;
            c.refused += refused.value(row);
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

/// Splits `batches` round-robin into `n` partitions.
fn partitions(batches: &[RecordBatch], n: usize) -> Vec<Vec<RecordBatch>> {
    let mut parts = vec![Vec::new(); n];
    for (i, b) in batches.iter().enumerate() {
        parts[i % n].push(b.clone());
    }
    parts
}

/// The accumulator's own size after all events and facts, per profile, and
/// the encoded state per profile.
fn memory(events: &[RecordBatch], facts: &RecordBatch, profiles: usize) -> (f64, f64) {
    let udaf = functions().profile();
    let schema = Schema::empty();
    let args = AccumulatorArgs {
        return_field: Arc::new(Field::new("p", DataType::Null, true)),
        schema: &schema,
        ignore_nulls: false,
        order_bys: &[],
        is_reversed: false,
        name: "p",
        is_distinct: false,
        exprs: &[],
        expr_fields: &[],
    };
    let mut acc = udaf.create_groups_accumulator(args).unwrap();
    let text_null = |n: usize| -> ArrayRef { Arc::new(StringArray::from(vec![None::<&str>; n])) };
    let int_null = |n: usize| -> ArrayRef { Arc::new(Int64Array::from(vec![None; n])) };
    for b in events {
        let n = b.num_rows();
        let groups: Vec<usize> = b
            .column(0)
            .as_primitive::<UInt32Type>()
            .values()
            .iter()
            .map(|p| *p as usize)
            .collect();
        let values = vec![
            text_null(n),
            cast(b.column(1), &DataType::Int64).unwrap(),
            b.column(2).clone(),
            cast(b.column(3), &DataType::Float64).unwrap(),
            text_null(n),
            int_null(n),
        ];
        acc.update_batch(&values, &groups, None, profiles).unwrap();
    }
    let groups: Vec<usize> = facts
        .column(0)
        .as_primitive::<UInt32Type>()
        .values()
        .iter()
        .map(|p| *p as usize)
        .collect();
    let n = facts.num_rows();
    let c = facts.columns();
    let weight: ArrayRef = Arc::new(datafusion::arrow::array::Float64Array::from(vec![None; n]));
    let values = vec![
        c[1].clone(),
        c[2].clone(),
        c[3].clone(),
        weight,
        c[4].clone(),
        c[5].clone(),
    ];
    acc.update_batch(&values, &groups, None, profiles).unwrap();
    let size = acc.size() as f64 / profiles as f64;
    let state = acc.state(EmitTo::All).unwrap();
    let encoded = state[0].as_binary::<i64>().values().len() as f64 / profiles as f64;
    let _ = state[1].as_primitive::<UInt64Type>();
    (size, encoded)
}

#[tokio::main]
async fn main() -> datafusion::common::Result<()> {
    let a = args();
    let schema = Schema::new(vec![
        Field::new("profile", DataType::UInt32, false),
        Field::new("interest", DataType::UInt16, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("weight", DataType::Float32, false),
    ]);
    let reader = SessionContext::new();
    let events = reader
        .read_csv(&a.csv, CsvReadOptions::new().schema(&schema))
        .await?
        .collect()
        .await?;
    let rows: usize = events.iter().map(|b| b.num_rows()).sum();
    let profiles = events
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_primitive::<UInt32Type>()
                .values()
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .max()
        .map_or(0, |m| m + 1);
    let facts = facts_batch(profiles);
    let fact_rows = facts.num_rows();

    for &n in &a.partitions {
        let config = SessionConfig::new().with_target_partitions(n);
        let ctx = SessionContext::new_with_config(config);
        functions().register(&ctx);
        let events_table = MemTable::try_new(Arc::new(schema.clone()), partitions(&events, n))?;
        ctx.register_table("events", Arc::new(events_table))?;
        ctx.register_batch("facts", facts.clone())?;
        let mut best = f64::INFINITY;
        let mut result = Vec::new();
        for _ in 0..a.runs {
            let t0 = Instant::now();
            result = ctx.sql(QUERY).await?.collect().await?;
            best = best.min(t0.elapsed().as_secs_f64());
        }
        let c = checksum(&result);
        if a.explain {
            let plan = ctx
                .sql(&format!("EXPLAIN ANALYZE {QUERY}"))
                .await?
                .collect()
                .await?;
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&plan)?;
            eprintln!("{text}");
        }
        println!(
            "{{\"engine\": \"datafusion-tactful\", \"function\": \"tactful_profile\", \
             \"partitions\": {n}, \"events\": {rows}, \"fact_rows\": {fact_rows}, \
             \"best_s\": {best:.4}, \"events_per_s\": {:.0}, \"profiles\": {}, \
             \"sum_scores\": {:?}, \"established\": {}, \"members\": {}, \"refused\": {}}}",
            rows as f64 / best,
            c.profiles,
            c.sum_scores,
            c.established,
            c.members,
            c.refused
        );
    }
    let (size, encoded) = memory(&events, &facts, profiles as usize);
    println!(
        "{{\"engine\": \"datafusion-tactful\", \"profiles\": {profiles}, \
         \"accumulator_bytes_per_profile\": {size:.1}, \"state_bytes_per_profile\": {encoded:.1}}}"
    );
    Ok(())
}
