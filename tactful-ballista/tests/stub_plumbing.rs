#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! TEMPORARY: the plumbing against the stand-in aggregate.

mod common;

use std::time::Duration;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use tactful_ballista::{remote_context, standalone_context, Setup, StandaloneOptions};

const CONFIG: &str = r#"{"taxonomy": {"interests": [{"path": "c00/i000"}]}}"#;
const NOW: &str = "2023-11-14T22:13:20Z";
const SQL: &str = "SELECT k, tactful_stub_count(v) AS n FROM t GROUP BY k ORDER BY k";

fn data(dir: &std::path::Path) -> String {
    let mut csv = String::from("k,v\n");
    for i in 0..200 {
        csv.push_str(&format!("{},{}\n", i % 7, i));
    }
    let p = dir.join("t.csv");
    std::fs::write(&p, csv).unwrap();
    p.to_string_lossy().into_owned()
}

async fn run(ctx: &SessionContext, path: &str) -> String {
    ctx.register_csv("t", path, CsvReadOptions::new()).await.unwrap();
    let batches = ctx.sql(SQL).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_standalone_and_remote_agree_with_datafusion() {
    let dir = tempfile::tempdir().unwrap();
    let path = data(dir.path());
    let setup = Setup::from_json(CONFIG, NOW).unwrap();
    let local = SessionContext::new();
    setup.register(&local);
    let expected = run(&local, &path).await;

    let standalone = standalone_context(&setup, StandaloneOptions::default()).await.unwrap();
    assert_eq!(run(&standalone, &path).await, expected);

    let config = dir.path().join("engine.json");
    std::fs::write(&config, CONFIG).unwrap();
    let cluster = common::cluster::Cluster::start(dir.path(), &config, NOW, 2, Duration::from_secs(60));
    let url = format!("df://127.0.0.1:{}", cluster.scheduler_port);
    let remote = remote_context(&url, &setup).await.unwrap();
    assert_eq!(run(&remote, &path).await, expected);
    println!("{expected}");
}
