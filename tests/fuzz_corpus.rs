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
fn profile_binary_corpus() {
    replay("profile_binary", 3, checks::check_profile_binary);
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

/// The seeds made by saving profiles still load: a format change that
/// makes them unreadable would leave the fuzzers without a way in (then run
/// `write_stored_form_seeds`).
#[test]
fn stored_form_seeds_load() {
    let engine = checks::fixed_engine();
    let now = time::macros::datetime!(2026-11-01 9:00 UTC);
    let mut seen = 0;
    for path in inputs("profile_binary")
        .iter()
        .chain(&inputs("profile_json"))
    {
        let name = path.file_name().unwrap().to_string_lossy();
        let loaded = if name.ends_with(".bin") {
            engine.load_profile_binary(&fs::read(path).unwrap(), now)
        } else if name.ends_with(".v2.json") {
            engine.load_profile(&fs::read_to_string(path).unwrap(), now)
        } else {
            continue;
        };
        seen += 1;
        if let Err(e) = loaded {
            panic!("{}: {e}", path.display());
        }
    }
    assert!(seen >= 14, "{seen} seeds");
}

/// The seeds made by saving profiles, written into the corpora: the
/// current JSON form of the named 0.1 seeds of `profile_json` (read with
/// the fixed taxonomy they were written with), a profile with data of an
/// interest the fixed taxonomy lacks (orphans) and one with instants at the
/// ends of `OffsetDateTime`'s range, in JSON for `profile_json` and in the
/// binary form for `profile_binary`. Run by hand after a format change:
/// `cargo test --test fuzz_corpus -- --ignored write_stored_form_seeds`.
#[test]
#[ignore = "writes seed files into fuzz/corpus"]
fn write_stored_form_seeds() {
    use tactful::*;
    use time::macros::datetime;

    let engine = checks::fixed_engine();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let now = datetime!(2026-11-01 9:00 UTC);
    let mut profiles: Vec<(String, Profile)> = Vec::new();
    for name in [
        "erased",
        "established_hiker",
        "merged_after_erasure",
        "minimal",
        "suppressed_erased",
    ] {
        let old = fs::read_to_string(root.join(format!("profile_json/{name}.json"))).unwrap();
        let p = engine
            .load_legacy_profile(&old, engine.taxonomy(), now)
            .unwrap();
        profiles.push((name.to_owned(), p));
    }

    // Evidence and a suppression of `garden/tools`, which the fixed
    // taxonomy lacks: the fixed engine keeps them as orphans.
    let orphaned = r#"{"format": "tactful-profile", "version": 2, "id": "olga", "level": "full",
        "preferences": [{"interest": "garden", "kind": "like", "at": "2026-10-02T09:00:00Z"},
                        {"interest": "outdoor/hiking", "kind": "dislike", "at": "2026-10-03T09:00:00Z"}],
        "suppressions": [{"scope": {"interest": "garden/tools"}, "reason": "complaint",
                          "since": "2026-10-04T09:00:00Z", "until": "2026-12-04T09:00:00Z"}],
        "tombstones": [{"scope": {"interest": "garden/seeds"}, "at": "2026-10-05T09:00:00Z"}],
        "events": [
          {"interest": "garden/tools", "signal": "view", "at": "2026-10-06T09:00:00Z"},
          {"interest": "garden/tools", "signal": "purchase", "at": "2026-10-07T09:00:00.5Z", "weight": 2.5},
          {"interest": "garden/tools", "signal": "dismissal", "at": "2026-10-08T09:00:00Z"},
          {"interest": "baby/toys", "signal": "click", "at": "2026-10-09T09:00:00Z", "gift": true},
          {"interest": "news", "signal": "search", "at": "2026-10-10T09:00:00Z",
           "source": "partner", "context": "cross_site"}]}"#;
    let mut olga = engine.load_profile(orphaned, now).unwrap();
    olga.consent_mut()
        .grant(
            Purpose::Personalization,
            datetime!(2026-10-01 9:00 UTC),
            None,
            Evidence::Ui("signup".into()),
        )
        .unwrap();
    assert_eq!(
        olga.orphans().paths(),
        ["garden", "garden/seeds", "garden/tools"]
    );
    profiles.push(("orphans".to_owned(), olga));

    // Instants at the ends of the range, with the widest offsets.
    let mut edge = Profile::new("edge");
    edge.set_level(Level::Full);
    let (first, last) = (
        datetime!(-9999-01-01 0:00 +23:59:59),
        datetime!(9999-12-31 23:59:59.999999999 -23:59:59),
    );
    let ui = || Evidence::Ui("edge".into());
    edge.consent_mut()
        .grant(Purpose::Personalization, first, Some(last), ui())
        .unwrap();
    edge.consent_mut()
        .withdraw(
            Purpose::Marketing,
            datetime!(2027-02-25 12:38:20 +00:59:44),
            ui(),
        )
        .unwrap();
    let hiking = engine.taxonomy().require("outdoor/hiking").unwrap();
    edge.like(hiking, first);
    engine.suppress(
        &mut edge,
        Suppression::new(Scope::Channel(Channel::Sms), Reason::Legal, first)
            .until(last)
            .unwrap(),
        now,
    );
    engine.erase_interest(
        &mut edge,
        engine.taxonomy().require("news").unwrap(),
        datetime!(1677-09-21 0:12:43.145224191 UTC),
    );
    let at = datetime!(2262-04-11 23:47:16.854775807 UTC);
    engine
        .record(&mut edge, Event::new(hiking, Signal::View, at), at)
        .unwrap();
    profiles.push(("edge_instants".to_owned(), edge));

    for (name, p) in &profiles {
        let json = engine.save_json(p).unwrap();
        fs::write(root.join(format!("profile_json/{name}.v2.json")), &json).unwrap();
        let bytes = engine.save_binary(p).unwrap();
        fs::create_dir_all(root.join("profile_binary")).unwrap();
        fs::write(root.join(format!("profile_binary/{name}.bin")), &bytes).unwrap();
    }
}
