//! The exact query through Ballista's standalone mode (scheduler and
//! executor in this process) over CSV files, against the single-process core.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::num::NonZeroUsize;

use tactful_ballista::{standalone_context, Setup, StandaloneOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_answers_equal_the_single_process_core() {
    let dir = tempfile::tempdir().unwrap();
    let rows = common::rows(40, 7);
    common::write_csv(&dir.path().join("facts"), &rows, 4);
    let setup = Setup::from_json(&common::engine_config(), common::NOW).unwrap();

    let two = NonZeroUsize::new(2).unwrap();
    let ctx = standalone_context(
        &setup,
        StandaloneOptions::default()
            .parallelism(two)
            .target_partitions(two),
    )
    .await
    .unwrap();
    common::register_facts(&ctx, &dir.path().join("facts")).await;
    let batches = ctx
        .sql(common::QUERY)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();

    let got = common::answers(&batches);
    let expected = common::reference(setup.engine(), &rows);
    assert_eq!(got.len(), 40);
    common::assert_varied(&expected);
    for (person, want) in &expected {
        assert_eq!(got.get(person), Some(want), "person {person}");
    }
}
