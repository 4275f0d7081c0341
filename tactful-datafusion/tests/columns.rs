//! The same facts in the other column shapes a warehouse hands over give the
//! same answers: CSV files read by DataFusion (one partition per file) with
//! integer interest keys, and an in-memory table with dictionary-encoded
//! paths and millisecond timestamps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, DictionaryArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};
use tactful::Level;
use tactful_datafusion::TactfulFunctions;

use common::{answers, dataset, reference, rows, workload, Answer, Row};

const QUERY: &str =
    "SELECT person, tactful_profile(kind, interest, at, weight, detail, until) AS p \
                     FROM facts GROUP BY person";

/// Leaves 0..256, then the 16 category roots the suppressions and erasures name.
fn keys() -> Vec<String> {
    let mut keys = workload::paths();
    keys.extend((0..16).map(workload::category));
    keys
}

fn expected(data: &[(String, Vec<common::GenFact>)]) -> BTreeMap<String, Answer> {
    let engine = workload::engine();
    data.iter()
        .map(|(p, facts)| (p.clone(), reference(&engine, facts, Level::FirstParty)))
        .collect()
}

fn context() -> SessionContext {
    let ctx = SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(3)
            .with_batch_size(50),
    );
    TactfulFunctions::new(Arc::new(workload::engine()), workload::now())
        .interest_keys(keys())
        .unwrap()
        .register(&ctx);
    ctx
}

fn field<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

#[tokio::test]
async fn csv_files_with_integer_interest_keys() {
    let data = dataset(30, 21);
    let want = expected(&data);
    let rows = rows(&data, 4);
    let key_of: BTreeMap<String, usize> = keys().into_iter().zip(0..).collect();
    let dir = std::env::temp_dir().join(format!("tactful-df-columns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, part) in rows.chunks(rows.len().div_ceil(3)).enumerate() {
        let mut f = std::fs::File::create(dir.join(format!("part-{i}.csv"))).unwrap();
        writeln!(f, "person,kind,interest,at,weight,detail,until").unwrap();
        for r in part {
            // A path outside the keys becomes a key outside the list: still unreadable.
            let key = r
                .interest
                .as_ref()
                .map(|p| key_of.get(p).copied().unwrap_or(9999));
            writeln!(
                f,
                "{},{},{},{},{},{},{}",
                r.person,
                field(&r.kind),
                field(&key),
                field(&r.at),
                field(&r.weight),
                field(&r.detail),
                field(&r.until)
            )
            .unwrap();
        }
    }
    let schema = Schema::new(vec![
        Field::new("person", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("interest", DataType::Int64, true),
        Field::new("at", DataType::Int64, true),
        Field::new("weight", DataType::Float64, true),
        Field::new("detail", DataType::Utf8, true),
        Field::new("until", DataType::Int64, true),
    ]);
    let ctx = context();
    ctx.register_csv(
        "facts",
        dir.to_str().unwrap(),
        CsvReadOptions::new().schema(&schema),
    )
    .await
    .unwrap();
    let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(answers(&batches), want);
}

#[tokio::test]
async fn dictionary_paths_and_millisecond_timestamps() {
    let data = dataset(30, 33);
    let want = expected(&data);
    let rows = rows(&data, 8);
    let schema = Arc::new(Schema::new(vec![
        Field::new("person", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new(
            "interest",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
        Field::new("at", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("weight", DataType::Float64, true),
        Field::new("detail", DataType::Utf8, true),
        Field::new(
            "until",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
    ]));
    let batch = |rows: &[Row]| {
        let text = |f: &dyn Fn(&Row) -> Option<String>| -> ArrayRef {
            Arc::new(rows.iter().map(f).collect::<StringArray>())
        };
        let millis = |f: &dyn Fn(&Row) -> Option<i64>| -> ArrayRef {
            Arc::new(
                rows.iter()
                    .map(|r| f(r).map(|s| s * 1000))
                    .collect::<TimestampMillisecondArray>(),
            )
        };
        let interest: DictionaryArray<Int32Type> =
            rows.iter().map(|r| r.interest.as_deref()).collect();
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                text(&|r| Some(r.person.clone())),
                text(&|r| r.kind.clone()),
                Arc::new(interest),
                millis(&|r| r.at),
                Arc::new(rows.iter().map(|r| r.weight).collect::<Float64Array>()),
                text(&|r| r.detail.clone()),
                millis(&|r| r.until),
            ],
        )
        .unwrap()
    };
    let partitions = rows
        .chunks(rows.len().div_ceil(3))
        .map(|part| part.chunks(40).map(batch).collect())
        .collect();
    let ctx = context();
    ctx.register_table(
        "facts",
        Arc::new(MemTable::try_new(Arc::clone(&schema), partitions).unwrap()),
    )
    .unwrap();
    let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
    assert_eq!(answers(&batches), want);
}
