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

/// Event columns read from the CSV.
#[derive(Default)]
struct Columns {
    profiles: Vec<u32>,
    interests: Vec<u16>,
    ts: Vec<i64>,
    weights: Vec<f32>,
}

/// Parses an unsigned decimal integer field.
fn parse_uint(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 19 {
        return None;
    }
    field.iter().try_fold(0_u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// Parses a signed decimal integer field.
fn parse_int(field: &[u8]) -> Option<i64> {
    match field.split_first() {
        Some((b'-', rest)) => parse_uint(rest).and_then(|v| 0_i64.checked_sub_unsigned(v)),
        Some((b'+', rest)) => parse_uint(rest).and_then(|v| i64::try_from(v).ok()),
        _ => parse_uint(field).and_then(|v| i64::try_from(v).ok()),
    }
}

fn parse_csv(data: &[u8]) -> Result<Columns, String> {
    let mut lines = data.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    if header != b"profile,interest,ts,weight" {
        return Err(format!(
            "line 1: expected header \"profile,interest,ts,weight\", got {:?}",
            String::from_utf8_lossy(header)
        ));
    }
    let estimate = data.len() / 36 + 1;
    let mut c = Columns {
        profiles: Vec::with_capacity(estimate),
        interests: Vec::with_capacity(estimate),
        ts: Vec::with_capacity(estimate),
        weights: Vec::with_capacity(estimate),
    };
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| {
            format!(
                "line {line_no}: {what} in {:?}",
                String::from_utf8_lossy(line)
            )
        };
        let mut fields = line.split(|&b| b == b',');
        let (Some(p), Some(k), Some(t), Some(w), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(bad("expected 4 comma-separated fields"));
        };
        let p = parse_uint(p)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("bad profile (u32)"))?;
        let k = parse_uint(k)
            .and_then(|v| u16::try_from(v).ok())
            .ok_or_else(|| bad("bad interest (u16)"))?;
        let t = parse_int(t).ok_or_else(|| bad("bad ts (i64)"))?;
        let w = std::str::from_utf8(w)
            .ok()
            .and_then(|s| s.parse::<f32>().ok())
            .ok_or_else(|| bad("bad weight (f32)"))?;
        c.profiles.push(p);
        c.interests.push(k);
        c.ts.push(t);
        c.weights.push(w);
    }
    Ok(c)
}

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
