//! The exact query on a Ballista cluster of separate processes on this
//! machine's loopback address: `tactful-scheduler` and two
//! `tactful-executor`s, each given the engine configuration file and `now`,
//! against the single-process core.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::cluster::Cluster;
use tactful_ballista::{remote_context, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_and_two_executor_processes_answer_as_the_single_process_core() {
    let dir = tempfile::tempdir().unwrap();
    let rows = common::rows(40, 11);
    common::write_csv(&dir.path().join("facts"), &rows, 4);
    let config = dir.path().join("engine.json");
    std::fs::write(&config, common::engine_config()).unwrap();

    // Killed when dropped, also if an assertion below fails.
    let cluster = Cluster::start(dir.path(), &config, common::NOW, 2, Duration::from_secs(60));

    let setup = Setup::from_file(&config, common::NOW).unwrap();
    let url = format!("df://127.0.0.1:{}", cluster.scheduler_port);
    let ctx = remote_context(&url, &setup).await.unwrap();
    // Four partitions and one task slot per executor: both executors must work.
    ctx.sql("SET datafusion.execution.target_partitions = 4")
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
    // Both executors ran tasks of the query.
    for i in 0..2 {
        let log =
            std::fs::read_to_string(dir.path().join(format!("executor-{i}.err.log"))).unwrap();
        assert!(
            log.contains("Execute task"),
            "executor-{i} ran no task:\n{log}"
        );
    }
    drop(cluster);
}
