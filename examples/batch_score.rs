//! Sums a CSV of events with `tactful::batch::RawDecayKernel` and prints one
//! JSON line.
//!
//! The raw decay kernel applies none of the engine's rules (consent, level,
//! suppressions, gifts, minimum evidence...): its figures are for aggregate
//! analytics and benchmarks only, never for targeting a person. The example
//! says so on stderr before it runs, so that stdout stays one JSON line.
//!
//! ```text
//! cargo run --release --example batch_score -- events.csv [--now N | --at RFC3339] [--half-life-days 14]
//!     [--max-age-days 56] [--min-score 3.0] [--min-count 2] [--runs 3] [--threads N]
//!     [--strategy auto|partitioned|direct|sort]
//! ```
//!
//! `--now` (unix seconds) defaults to `BENCH_NOW` (1700000000, the fixed
//! instant of `peers.py generate`), not the current time; `--at` gives the
//! instant as an RFC 3339 date-time instead (`2026-03-01T12:00:00Z`).
//!
//! The CSV has the header `profile,interest,ts,weight`. Only the scoring is
//! timed (column validation plus scoring, best of `--runs`), never the file read.

use std::process::ExitCode;
use std::time::Instant;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use tactful::batch::{
    BatchError, BatchParams, EventColumns, RawDecayKernel, Strategy, BENCH_NOW, DAY_SECS,
};

/// Printed on stderr before scoring, and in the usage text.
const WARNING: &str = "warning: raw decay kernel (tactful::batch::RawDecayKernel): \
    ignores consent, level, suppressions, gifts and minimum evidence; \
    for aggregate analytics and benchmarks only, never to target a person \
    (Engine::record / Engine::scores are the exact path)";

/// Parsed command line.
struct Args {
    csv: String,
    now: i64,
    at: Option<OffsetDateTime>,
    half_life_days: f64,
    max_age_days: f64,
    min_score: f64,
    min_count: u32,
    runs: usize,
    threads: Option<usize>,
    strategy: Strategy,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        csv: String::new(),
        now: BENCH_NOW,
        at: None,
        half_life_days: 14.0,
        max_age_days: 56.0,
        min_score: 3.0,
        min_count: 2,
        runs: 3,
        threads: None,
        strategy: Strategy::Auto,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("bad value for {name}: {v:?}"))
        }
        match a.as_str() {
            "--now" => args.now = num("--now", value("--now")?)?,
            "--at" => {
                let v = value(&a)?;
                let at = OffsetDateTime::parse(&v, &Rfc3339)
                    .map_err(|e| format!("bad value for --at: {v:?} ({e})"))?;
                args.at = Some(at);
            }
            "--half-life-days" => args.half_life_days = num(&a, value(&a)?)?,
            "--max-age-days" => args.max_age_days = num(&a, value(&a)?)?,
            "--min-score" => args.min_score = num(&a, value(&a)?)?,
            "--min-count" => args.min_count = num(&a, value(&a)?)?,
            "--runs" => args.runs = num(&a, value(&a)?)?,
            "--threads" => args.threads = Some(num(&a, value(&a)?)?),
            "--strategy" => {
                args.strategy = match value(&a)?.as_str() {
                    "auto" => Strategy::Auto,
                    "partitioned" => Strategy::Partitioned,
                    "direct" => Strategy::Direct,
                    "sort" => Strategy::Sort,
                    s => return Err(format!("unknown strategy {s:?} (auto, partitioned, direct, sort)")),
                }
            }
            "-h" | "--help" => {
                return Err(format!("usage: batch_score EVENTS.csv [--now N | --at RFC3339] [--half-life-days D] [--max-age-days D] [--min-score S] [--min-count C] [--runs R] [--threads T] [--strategy auto|partitioned|direct|sort]\n{WARNING}"))
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s if args.csv.is_empty() => args.csv = s.to_string(),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    if args.csv.is_empty() {
        return Err("missing the CSV path (try --help)".into());
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(args)
}

#[path = "common/peers_csv.rs"]
mod peers_csv;
use peers_csv::parse_csv;

fn run() -> Result<String, String> {
    let args = parse_args()?;
    eprintln!("batch_score: {WARNING}");
    let data = std::fs::read(&args.csv).map_err(|e| format!("cannot read {}: {e}", args.csv))?;
    let cols = parse_csv(&data).map_err(|e| format!("{}: {e}", args.csv))?;
    drop(data);
    let start = match args.at {
        Some(at) => BatchParams::at(at),
        None => BatchParams::builder().now(args.now),
    };
    let params = start
        .half_life_days(args.half_life_days)
        .max_age_secs((args.max_age_days * DAY_SECS as f64).round() as i64)
        .min_score(args.min_score)
        .min_count(args.min_count)
        .build()
        .map_err(|e| e.to_string())?;
    let mut kernel = match args.threads {
        Some(t) => RawDecayKernel::with_threads(t),
        None => Ok(RawDecayKernel::new()),
    }
    .map_err(|e| e.to_string())?
    .with_strategy(args.strategy);
    let threads = kernel.threads();
    let mut best = f64::INFINITY;
    let mut totals = (0, 0, 0, 0.0);
    for _ in 0..args.runs {
        let t0 = Instant::now();
        let events = EventColumns::new(&cols.profiles, &cols.interests, &cols.ts, &cols.weights)
            .map_err(|e| match e {
                // Rows are zero-based and blank lines are skipped, so name the
                // data row; the header is line 1.
                BatchError::NonFiniteWeight { row, .. }
                | BatchError::NegativeWeight { row, .. } => {
                    format!("{}: data row {} (1-based): {e}", args.csv, row + 1)
                }
                e => e.to_string(),
            })?;
        let r = kernel.score(&events, &params);
        let elapsed = t0.elapsed().as_secs_f64();
        totals = (r.events(), r.pairs(), r.qualifying(), r.sum_scores());
        best = best.min(elapsed);
    }
    let (events, pairs, qualifying, sum_scores) = totals;
    Ok(format!(
        "{{\"engine\": \"tactful\", \"threads\": {threads}, \"events\": {events}, \"best_s\": {best:.4}, \"events_per_s\": {}, \"sum_scores\": {sum_scores:?}, \"pairs\": {pairs}, \"qualifying\": {qualifying}}}",
        (events as f64 / best).round() as u64
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("batch_score: {e}");
            ExitCode::FAILURE
        }
    }
}
