//! Rows that cannot become facts are reported, never dropped; state bytes
//! from another engine are an error, never a panic or a wrong answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, LargeBinaryArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, UInt64Type};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, EmitTo, GroupsAccumulator};
use datafusion::prelude::SessionContext;
use tactful::prelude::*;
use tactful_datafusion::TactfulFunctions;

use common::{batch, workload, Row};

const NOW: i64 = workload::NOW_S;

fn row(
    kind: Option<&str>,
    interest: Option<&str>,
    at: Option<i64>,
    weight: Option<f64>,
    detail: Option<&str>,
) -> Row {
    Row {
        person: "p".into(),
        kind: kind.map(Into::into),
        interest: interest.map(Into::into),
        at,
        weight,
        detail: detail.map(Into::into),
        until: None,
    }
}

fn functions() -> TactfulFunctions {
    TactfulFunctions::new(Arc::new(workload::engine()), workload::now())
}

async fn refusals(
    functions: TactfulFunctions,
    rows: &[Row],
) -> datafusion::common::Result<Vec<(String, u64)>> {
    let ctx = SessionContext::new();
    functions.register(&ctx);
    ctx.register_batch("facts", batch(rows))?;
    let batches = ctx
        .sql("SELECT tactful_refusals(kind, interest, at, weight, detail, until) FROM facts GROUP BY person")
        .await?
        .collect()
        .await?;
    let s = batches[0].column(0).as_struct();
    Ok(s.fields()
        .iter()
        .zip(s.columns())
        .map(|(f, c)| (f.name().clone(), c.as_primitive::<UInt64Type>().value(0)))
        .filter(|(_, n)| *n > 0)
        .collect())
}

fn bad_rows() -> Vec<Row> {
    let at = Some(NOW - 3600);
    vec![
        row(None, Some("c01/i017"), at, Some(1.0), None), // fine
        row(None, Some("c99/i999"), at, Some(1.0), None), // unknown interest
        row(None, Some("c01/i017"), at, Some(-2.0), None), // bad weight
        row(None, Some("c01/i017"), at, Some(f64::NAN), None), // bad weight
        row(None, Some("c01/i017"), None, Some(1.0), None), // no instant
        row(None, None, at, Some(1.0), None),             // an event without interest
        row(Some("bogus"), Some("c01/i017"), at, None, None), // unknown kind
        row(None, Some("c01/i017"), at, None, Some("stare")), // unknown signal
        row(Some("grant"), None, at, None, None),         // grant without purpose
        row(Some("grant"), None, at, None, Some("nonsense")), // unknown purpose
        row(Some("suppress"), None, at, None, Some("opt_out")), // no scope
        row(Some("suppress"), Some("c01"), at, None, Some("opt_out all")), // two scopes
    ]
}

#[tokio::test]
async fn unreadable_rows_are_counted_not_dropped() {
    let got = refusals(functions(), &bad_rows()).await.unwrap();
    // The one good event is read, then refused for want of consent; the
    // other eleven rows could not be read.
    assert_eq!(
        got,
        [
            ("no_consent".to_owned(), 1),
            ("refused_rows".to_owned(), 1),
            ("unreadable_rows".to_owned(), 11)
        ]
    );
}

#[tokio::test]
async fn strict_mode_fails_the_query_naming_the_problem() {
    let rows = [row(None, Some("c99/i999"), Some(NOW), Some(1.0), None)];
    let err = refusals(functions().strict(true), &rows).await.unwrap_err();
    assert!(
        err.to_string().contains("unknown interest path `c99/i999`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_consent_change_is_counted() {
    let rows = [row(
        Some("withdraw"),
        None,
        Some(NOW - 60),
        None,
        Some("service"),
    )];
    let got = refusals(functions(), &rows).await.unwrap();
    assert_eq!(got, [("refused_rows".to_owned(), 1)]);
}

#[test]
fn interest_keys_must_name_known_paths() {
    let err = functions()
        .interest_keys(["c00/i000", "nowhere"])
        .unwrap_err();
    assert_eq!((err.key, err.path.as_str()), (1, "nowhere"));
}

#[tokio::test]
async fn wrong_argument_counts_are_planning_errors() {
    let ctx = SessionContext::new();
    functions().register(&ctx);
    ctx.register_batch("facts", batch(&bad_rows())).unwrap();
    let err = ctx
        .sql("SELECT tactful_segments(interest, at) FROM facts GROUP BY person")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not 2 arguments"), "{err}");
}

fn groups_accumulator(functions: &TactfulFunctions) -> Box<dyn GroupsAccumulator> {
    accumulator_of(functions.segments())
}

fn accumulator_of(udaf: AggregateUDF) -> Box<dyn GroupsAccumulator> {
    let schema = Schema::empty();
    let args = AccumulatorArgs {
        return_field: Arc::new(Field::new("s", DataType::Null, true)),
        schema: &schema,
        ignore_nulls: false,
        order_bys: &[],
        is_reversed: false,
        name: "s",
        is_distinct: false,
        exprs: &[],
        expr_fields: &[],
    };
    udaf.create_groups_accumulator(args).unwrap()
}

fn state_of(functions: &TactfulFunctions) -> Vec<ArrayRef> {
    let mut acc = groups_accumulator(functions);
    let b = batch(&bad_rows()[..1]);
    acc.update_batch(&b.columns()[1..], &[0], None, 1).unwrap();
    acc.state(EmitTo::All).unwrap()
}

#[test]
fn state_from_another_engine_is_an_error_not_a_panic() {
    let ours = functions();
    let state = state_of(&ours);
    // The same engine reads it back.
    let mut same = groups_accumulator(&ours);
    same.merge_batch(&state, &[0], 1).unwrap();

    let other_engine = Engine::new(
        Taxonomy::builder().interest("elsewhere/x").build().unwrap(),
        DecayPolicy::default(),
    );
    let theirs = TactfulFunctions::new(Arc::new(other_engine), workload::now());
    let mut acc = groups_accumulator(&theirs);
    let err = acc.merge_batch(&state, &[0], 1).unwrap_err();
    assert!(err.to_string().contains("tactful"), "{err}");

    // Garbage is refused too.
    let garbage: Vec<ArrayRef> = vec![
        Arc::new(LargeBinaryArray::from(vec![&b"not a partial profile"[..]])),
        Arc::new(UInt64Array::from(vec![0])),
    ];
    let mut acc = groups_accumulator(&ours);
    assert!(acc.merge_batch(&garbage, &[0], 1).is_err());
    assert!(
        acc.merge_batch(&state[..1], &[0], 1).is_err(),
        "a missing column is an error"
    );
    let _ = state[0].len();
}

/// Rows of three people (groups 0, 1, 2): a grant and events for each.
fn three_people() -> (Vec<Row>, Vec<usize>) {
    let mut rows = Vec::new();
    let mut groups = Vec::new();
    for g in 0..3usize {
        rows.push(row(
            Some("grant"),
            None,
            Some(NOW - 86_400),
            None,
            Some("personalization"),
        ));
        groups.push(g);
        for i in 0..4 {
            let interest = if i % 2 == 0 { "c01/i017" } else { "c02/i033" };
            rows.push(row(
                None,
                Some(interest),
                Some(NOW - 3600 * (i + 1) - g as i64),
                Some(1.0 + i as f64),
                None,
            ));
            groups.push(g);
        }
    }
    (rows, groups)
}

/// The state of an accumulator fed `rows` of `groups` (three groups).
fn state_for(functions: &TactfulFunctions, rows: &[Row], groups: &[usize]) -> Vec<ArrayRef> {
    let mut acc = accumulator_of(functions.profile());
    acc.update_batch(&batch(rows).columns()[1..], groups, None, 3)
        .unwrap();
    acc.state(EmitTo::All).unwrap()
}

/// The answer of an accumulator fed `rows` of `groups` (three groups)
/// themselves: what every merged state must answer.
fn direct_answer(functions: &TactfulFunctions, rows: &[Row], groups: &[usize]) -> ArrayRef {
    let mut direct = accumulator_of(functions.profile());
    direct
        .update_batch(&batch(rows).columns()[1..], groups, None, 3)
        .unwrap();
    direct.evaluate(EmitTo::All).unwrap()
}

/// The answer of a fresh accumulator that merges `state` of groups 0, 1, 2.
fn answer_of_state(functions: &TactfulFunctions, state: &[ArrayRef]) -> ArrayRef {
    let mut acc = accumulator_of(functions.profile());
    acc.merge_batch(state, &[0, 1, 2], 3).unwrap();
    acc.evaluate(EmitTo::All).unwrap()
}

#[test]
fn merged_states_answer_as_the_rows_themselves_in_every_emit_order() {
    let f = functions();
    let (rows, groups) = three_people();
    let want = direct_answer(&f, &rows, &groups);
    assert_eq!(want.len(), 3);
    let scores = want.as_struct().column(1).as_list::<i32>();
    assert!(
        (0..3).all(|g| !scores.value(g).is_empty()),
        "every group has scores, so the comparison means something"
    );

    // Two partial states (odd and even rows), merged: each group's rows
    // arrive in two held values.
    let (odd, even): (Vec<_>, Vec<_>) = rows
        .iter()
        .cloned()
        .zip(groups.iter().copied())
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let split = |part: Vec<(usize, (Row, usize))>| {
        let (r, g): (Vec<Row>, Vec<usize>) = part.into_iter().map(|(_, x)| x).unzip();
        state_for(&f, &r, &g)
    };
    let (a, b) = (split(odd), split(even));
    let merged = || {
        let mut acc = accumulator_of(f.profile());
        acc.merge_batch(&a, &[0, 1, 2], 3).unwrap();
        acc.merge_batch(&b, &[0, 1, 2], 3).unwrap();
        acc
    };

    let mut all = merged();
    assert_eq!(all.evaluate(EmitTo::All).unwrap().to_data(), want.to_data());

    // The first group first, then the rest (renumbered from 0).
    let mut first = merged();
    let head = first.evaluate(EmitTo::First(1)).unwrap();
    let tail = first.evaluate(EmitTo::All).unwrap();
    assert_eq!(head.to_data(), want.slice(0, 1).to_data());
    assert_eq!(tail.to_data(), want.slice(1, 2).to_data());

    // Held values encoded again (a spill, or another merge phase).
    let mut again = merged();
    let state = again.state(EmitTo::All).unwrap();
    assert_eq!(answer_of_state(&f, &state).to_data(), want.to_data());
}

#[test]
fn a_corrupt_state_value_is_an_error_when_read_not_a_panic() {
    let f = functions();
    let (rows, groups) = three_people();
    let state = state_for(&f, &rows, &groups);
    let whole = state[0].as_binary::<i64>().value(0);
    // The header is fine, the body is cut short: refused when read.
    let cut: Vec<ArrayRef> = vec![
        Arc::new(LargeBinaryArray::from(vec![&whole[..whole.len() - 1]])),
        Arc::new(UInt64Array::from(vec![0])),
    ];
    for emit in [EmitTo::All, EmitTo::First(1)] {
        let mut acc = accumulator_of(f.profile());
        acc.merge_batch(&cut, &[0], 1).unwrap();
        let err = acc.evaluate(emit).unwrap_err();
        assert!(err.to_string().contains("tactful"), "{err}");
        let mut acc = accumulator_of(f.profile());
        acc.merge_batch(&cut, &[0], 1).unwrap();
        assert!(acc.state(EmitTo::All).is_err());
    }
}

#[test]
fn slices_of_one_state_are_read_right_and_counted_once() {
    let f = functions();
    let (rows, groups) = three_people();
    let want = direct_answer(&f, &rows, &groups);

    // DataFusion hands a large state over in slices of one array.
    let state = state_for(&f, &rows, &groups);
    let slice =
        |a: usize, n: usize| -> Vec<ArrayRef> { state.iter().map(|c| c.slice(a, n)).collect() };
    let mut acc = accumulator_of(f.profile());
    let whole = state[0].get_array_memory_size();
    acc.merge_batch(&slice(0, 1), &[0], 3).unwrap();
    let first = acc.size();
    assert!(first >= whole, "the held buffer counts: {first} < {whole}");
    acc.merge_batch(&slice(1, 2), &[1, 2], 3).unwrap();
    let second = acc.size() - first;
    assert!(
        second < whole / 2,
        "the same buffer counted again: {second} more bytes, the buffer is {whole}"
    );
    assert_eq!(acc.evaluate(EmitTo::All).unwrap().to_data(), want.to_data());

    // Encoded again, sized by the slices' own bytes.
    let mut again = accumulator_of(f.profile());
    again.merge_batch(&slice(0, 1), &[0], 3).unwrap();
    again.merge_batch(&slice(1, 2), &[1, 2], 3).unwrap();
    let re = again.state(EmitTo::All).unwrap();
    assert_eq!(answer_of_state(&f, &re).to_data(), want.to_data());
}
