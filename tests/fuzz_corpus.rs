//! Replays the fuzz corpora on stable: every file in `fuzz/corpus/<target>/`
//! and `fuzz/artifacts/<target>/` (crash inputs, if any) goes through the
//! same check as the fuzz target (`fuzz/checks.rs`), so inputs that once
//! crashed stay fixed. See `fuzz/README.md` for running the fuzzers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../fuzz/checks.rs"]
mod checks;

/// The inputs of one target: its corpus and its saved crash artifacts.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `check` on every input of `target`, reporting every failing file.
fn replay(target: &str, min_corpus: usize, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= min_corpus,
        "fuzz/corpus/{target} has {} files, expected at least {min_corpus}",
        files.len()
    );
    let mut failed = Vec::new();
    for path in &files {
        let data = fs::read(path).unwrap();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failed.push(format!("{}: {message}", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[cfg(feature = "tcf")]
#[test]
fn tcf_decode_corpus() {
    replay("tcf_decode", 3, checks::check_tcf_decode);
}

#[test]
fn profile_json_corpus() {
    replay("profile_json", 3, checks::check_profile_json);
}

#[test]
fn config_json_corpus() {
    replay("config_json", 3, checks::check_config_json);
}

#[test]
fn profile_ops_corpus() {
    replay("profile_ops", 3, checks::check_profile_ops);
}

/// Inputs shorter than one operation, or made of one operation repeated,
/// are handled too (a cheap smoke test independent of the corpus files).
#[test]
fn profile_ops_smoke() {
    checks::check_profile_ops(&[]);
    for op in 0..checks::OPS {
        checks::check_profile_ops(&[op]);
        checks::check_profile_ops(&[op; 40]);
    }
}
