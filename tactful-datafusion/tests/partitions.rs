//! The story this protects: a warehouse splits a person's rows across
//! partitions however it likes, and tactful's answer for that person must
//! not change. Every person's segments, scores (bit for bit) and refusal
//! counts from DataFusion at 1, 2 and 4 target partitions equal the
//! single-process engine's; the plan really has a partial and a final
//! aggregate; and when DataFusion skips partial aggregation (rows go
//! straight to state through `convert_to_state`), the answer is the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionConfig, SessionContext};
use tactful::Level;
use tactful_datafusion::TactfulFunctions;

use common::{answers, dataset, reference, rows, table, workload, Answer};

const QUERY: &str =
    "SELECT person, tactful_profile(kind, interest, at, weight, detail, until) AS p \
                     FROM facts GROUP BY person";

fn context(config: SessionConfig, rows: &[common::Row], parts: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(config);
    TactfulFunctions::new(Arc::new(workload::engine()), workload::now())
        .level(Level::FirstParty)
        .register(&ctx);
    ctx.register_table("facts", Arc::new(table(rows, parts, 97)))
        .unwrap();
    ctx
}

fn expected(data: &[(String, Vec<common::GenFact>)]) -> BTreeMap<String, Answer> {
    let engine = workload::engine();
    data.iter()
        .map(|(p, facts)| (p.clone(), reference(&engine, facts, Level::FirstParty)))
        .collect()
}

async fn plan_text(ctx: &SessionContext, analyze: bool) -> String {
    let verb = if analyze {
        "EXPLAIN ANALYZE"
    } else {
        "EXPLAIN"
    };
    let batches = ctx
        .sql(&format!("{verb} {QUERY}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

fn assert_same(got: &BTreeMap<String, Answer>, want: &BTreeMap<String, Answer>, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: number of people");
    for (person, w) in want {
        let g = got
            .get(person)
            .unwrap_or_else(|| panic!("{what}: person {person} missing"));
        assert_eq!(g.segments, w.segments, "{what}: person {person}'s segments");
        assert_eq!(g.refusals, w.refusals, "{what}: person {person}'s refusals");
        for (a, b) in g.scores.iter().zip(&w.scores) {
            assert_eq!(
                a,
                b,
                "{what}: person {person}'s scores ({} vs {})",
                f64::from_bits(a.1),
                f64::from_bits(b.1)
            );
        }
        assert_eq!(
            g.scores.len(),
            w.scores.len(),
            "{what}: person {person}'s scored interests"
        );
    }
}

#[tokio::test]
async fn every_partitioning_gives_the_single_process_answer() {
    let data = dataset(48, 7);
    let want = expected(&data);
    // The dataset exercises what it claims to.
    let all: Vec<&Answer> = want.values().collect();
    assert!(all.iter().any(|a| !a.segments.is_empty()), "some segments");
    let seen: std::collections::BTreeSet<&String> =
        all.iter().flat_map(|a| a.refusals.keys()).collect();
    eprintln!("refusal kinds in the dataset: {seen:?}");
    for field in [
        "no_consent",
        "level",
        "unreadable_rows",
        "refused_rows",
        "duplicate",
    ] {
        assert!(seen.contains(&field.to_owned()), "some {field} refusals");
    }
    let rows = rows(&data, 11);
    for partitions in [1, 2, 4] {
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(64);
        let ctx = context(config, &rows, 4);
        let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
        assert_same(
            &answers(&batches),
            &want,
            &format!("{partitions} partitions"),
        );

        let plan = plan_text(&ctx, false).await;
        if partitions > 1 {
            assert!(plan.contains("mode=Partial"), "{plan}");
            assert!(plan.contains("mode=FinalPartitioned"), "{plan}");
        }
    }
}

#[tokio::test]
async fn skipped_partial_aggregation_gives_the_same_answer() {
    let data = dataset(40, 3);
    let want = expected(&data);
    let rows = rows(&data, 5);
    let mut config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(64);
    let options = config.options_mut();
    options
        .execution
        .skip_partial_aggregation_probe_rows_threshold = 1;
    options
        .execution
        .skip_partial_aggregation_probe_ratio_threshold = 0.0;
    let ctx = context(config, &rows, 2);
    let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
    assert_same(&answers(&batches), &want, "skipped partial aggregation");

    // The rows really went through convert_to_state.
    let analyzed = plan_text(&ctx, true).await;
    let skipped = analyzed
        .split("skipped_aggregation_rows=")
        .skip(1)
        .filter_map(|s| {
            s.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum::<u64>();
    assert!(
        skipped > 0,
        "no row skipped partial aggregation: {analyzed}"
    );
}

/// Batches of plain events only (no kind, no detail) take the accumulator's
/// fast path; its answer, unreadable rows included, is the same.
#[tokio::test]
async fn plain_event_batches_give_the_same_answer() {
    let paths = workload::paths();
    let plain = |person: &str, f: &common::GenFact| {
        let r = f.row(person, &paths);
        r.kind.is_none() && r.detail.is_none()
    };
    let data: Vec<(String, Vec<common::GenFact>)> = dataset(40, 9)
        .into_iter()
        .map(|(p, facts)| {
            let kept = facts.into_iter().filter(|f| plain(&p, f)).collect();
            (p, kept)
        })
        .collect();
    let want = expected(&data);
    assert!(want
        .values()
        .any(|a| a.refusals.contains_key("unreadable_rows")));
    let rows = rows(&data, 2);
    for partitions in [1, 3] {
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(64);
        let ctx = context(config, &rows, 3);
        let batches = ctx
            .sql("SELECT person, tactful_profile(interest, at, weight) AS p FROM facts GROUP BY person")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_same(&answers(&batches), &want, "plain events");
    }
}

/// More people than one bucket of the accumulator's event log holds (1,024
/// groups), with a last bucket only partly full: every row reaches its own
/// group's answer, in the partial and the final phase alike.
#[tokio::test]
async fn people_of_several_log_buckets_keep_their_own_rows() {
    let data = dataset(2_500, 13);
    let want = expected(&data);
    assert_eq!(want.len(), 2_500);
    let rows = rows(&data, 5);
    for partitions in [1, 2] {
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(1_000);
        let ctx = context(config, &rows, 3);
        let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
        assert_same(
            &answers(&batches),
            &want,
            &format!("2,500 people, {partitions} partitions"),
        );
    }
}
