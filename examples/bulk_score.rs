//! Exact bulk scoring of the event CSV of `peers.py generate`, with the
//! consent log and suppressions of the workload (see
//! `examples/common/workload.rs`), through `Engine::summarize_all`: the same
//! scores, segments and refusals as recording every event. Prints one JSON
//! line, like `batch_score` and `peers.py run`.
//!
//! ```text
//! cargo run --release --example bulk_score -- events.csv [--threads N] [--runs 3] [--no-rules]
//! ```
//!
//! `--no-rules`: everyone consents and nothing is suppressed, so the sum of
//! the leaf scores must equal the raw kernel's `sum_scores` (a cross-check).
//! Timed (best of `--runs`): taking the columns as rows (the interest keys
//! with their dictionary of ids, and the f32 weights, are read in place),
//! grouping per person, and the exact scoring; never the file read or the
//! workload's consent and suppression rows.

use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::time::Instant;

use tactful::bulk::{EventRows, InterestColumn, Rows, TimeUnit, WeightColumn};
use tactful::prelude::*;

#[path = "common/peers_csv.rs"]
mod peers_csv;
#[path = "common/workload.rs"]
mod workload;

/// CPU seconds used by this process so far (user + system, every thread),
/// from `/proc/self/stat` where there is one: the work done, whatever else
/// runs on the machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let mut csv = None;
    let (mut threads, mut runs, mut rules) = (1usize, 3usize, true);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().ok_or("--threads needs a value")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--no-rules" => rules = false,
            s if s.starts_with("--") => return Err(format!("unknown option {s}").into()),
            s => csv = Some(s.to_owned()),
        }
    }
    let csv = csv.ok_or("usage: bulk_score EVENTS.csv [--threads N] [--runs R] [--no-rules]")?;
    let data = std::fs::read(&csv)?;
    let cols = peers_csv::parse_csv(&data)?;
    drop(data);
    let engine = workload::engine()?;
    let ids = workload::interests(&engine)?;
    let n = cols.profiles.iter().max().map_or(0, |m| m + 1);
    let people = workload::people(n);
    let (consents, suppressions) = if rules {
        (workload::consents(n), workload::suppressions(&engine, n)?)
    } else {
        let all: Vec<_> = (0..n)
            .map(|p| {
                let at = workload::now() - time::Duration::days(365);
                (
                    p,
                    tactful::bulk::ConsentChange::grant(
                        Purpose::Personalization,
                        at,
                        None,
                        Evidence::Import("all".into()),
                    ),
                )
            })
            .collect();
        (all, Vec::new())
    };
    let threads = NonZeroUsize::new(threads).ok_or("--threads must be at least 1")?;
    let now = workload::now();
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for _ in 0..runs.max(1) {
        // The previous run's answer is freed before the clock starts.
        drop(std::mem::take(&mut out));
        let t0 = Instant::now();
        // The file's interest keys, dictionary-encoded as a warehouse
        // column would be: key `k` is `ids[k]` (a key past it is an error).
        let interest = InterestColumn::Keys {
            keys: &cols.interests,
            dictionary: &ids,
        };
        let events = EventRows::from_columns(
            &cols.profiles,
            interest,
            &cols.ts,
            TimeUnit::Seconds,
            WeightColumn::F32(&cols.weights),
        )?;
        let rows = Rows {
            consents: &consents,
            suppressions: &suppressions,
            ..Rows::events(events)
        };
        let columns = t0.elapsed().as_secs_f64();
        let cpu0 = cpu_seconds();
        out = engine.summarize_all(&people, rows, now, threads)?;
        let cpu = cpu_seconds().zip(cpu0).map_or(f64::NAN, |(b, a)| b - a);
        eprintln!(
            "bulk_score: columns {columns:.3} s, summarize_all {:.3} s wall, {cpu:.2} s CPU",
            t0.elapsed().as_secs_f64() - columns
        );
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let leaves: Vec<InterestId> = ids.clone();
    let sum: f64 = out
        .iter()
        .map(|s| leaves.iter().map(|&i| s.scores.score(i)).sum::<f64>())
        .sum();
    let established: usize = out
        .iter()
        .map(|s| {
            leaves
                .iter()
                .filter(|&&i| s.scores.is_established(i))
                .count()
        })
        .sum();
    let members: usize = out.iter().map(|s| s.segments.len()).sum();
    let refused: usize = out.iter().map(|s| s.refused_rows).sum();
    let events = cols.profiles.len();
    Ok(format!(
        "{{\"engine\": \"tactful-exact\", \"threads\": {threads}, \"events\": {events}, \"best_s\": {best:.4}, \"events_per_s\": {}, \"sum_scores\": {sum:?}, \"established\": {established}, \"members\": {members}, \"refused\": {refused}, \"rules\": {rules}}}",
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
            eprintln!("bulk_score: {e}");
            ExitCode::FAILURE
        }
    }
}
