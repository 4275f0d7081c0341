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

#[path = "../fuzz/export_checks.rs"]
mod export_checks;

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
fn suppression_csv_corpus() {
    replay("suppression_csv", 15, export_checks::check_suppression_csv);
}

#[test]
fn suppression_jsonl_corpus() {
    replay(
        "suppression_jsonl",
        15,
        export_checks::check_suppression_jsonl,
    );
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
        Suppression::new(
            Scope::Channel(Channel::Sms),
            SuppressionReason::Legal,
            first,
        )
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

// ---------------------------------------------------------------------------
// The partner-side readers: seeds and random inputs
// ---------------------------------------------------------------------------

mod partner {
    use tactful::export::{ExportOptions, KeySecret, Minimization, SuppressionList};
    use tactful::*;
    use time::macros::datetime;
    use time::OffsetDateTime;

    /// The export's `now`.
    pub(super) const NOW: OffsetDateTime = datetime!(2026-10-14 02:00 UTC);

    /// Three people with suppressions of every kind of scope, ordinary and
    /// special-category interests, open and closed windows.
    fn people(engine: &Engine) -> Vec<(Profile, &'static str)> {
        let t = datetime!(2026-03-14 16:20:05.123456789 UTC);
        let end = datetime!(2027-01-02 03:04:05.5 UTC);
        let scope = |path: &str| Scope::Interest(engine.taxonomy().require(path).unwrap());
        let suppress = |p: &mut Profile, scope: Scope, reason, until: Option<OffsetDateTime>| {
            let mut s = Suppression::new(scope, reason, t);
            if let Some(u) = until {
                s = s.until(u).unwrap();
            }
            engine.suppress(p, s, t);
        };
        let mut anna = Profile::new("anna");
        suppress(
            &mut anna,
            scope("health/pregnancy/loss"),
            SuppressionReason::Bereavement,
            None,
        );
        suppress(
            &mut anna,
            scope("baby/food"),
            SuppressionReason::Complaint,
            Some(end),
        );
        suppress(
            &mut anna,
            Scope::Channel(Channel::Post),
            SuppressionReason::DoNotContact,
            None,
        );
        let mut ben = Profile::new("ben");
        suppress(
            &mut ben,
            scope("religion/holidays"),
            SuppressionReason::Legal,
            Some(end),
        );
        suppress(
            &mut ben,
            Scope::Purpose(Purpose::Marketing),
            SuppressionReason::DoNotContact,
            None,
        );
        let cp = Scope::ChannelPurpose {
            channel: Channel::Email,
            purpose: Purpose::Marketing,
        };
        suppress(&mut ben, cp, SuppressionReason::DoNotContact, Some(end));
        let mut cleo = Profile::new("cleo");
        suppress(&mut cleo, Scope::All, SuppressionReason::Legal, None);
        suppress(
            &mut cleo,
            scope("garden, \"tools\"/a\nb"),
            SuppressionReason::Complaint,
            None,
        );
        vec![
            (anna, "anna@example.org"),
            (ben, " Ben@Example.org "),
            (cleo, "cleo\u{301}@example.org"),
        ]
    }

    /// The taxonomy behind [`people`]: special categories, and a path
    /// that needs quoting in CSV and escapes in JSON.
    pub(super) fn engine() -> Engine {
        let taxonomy = Taxonomy::builder()
            .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
            .interest("health/pregnancy/loss")
            .sensitive("religion", SpecialCategory::Religion)
            .interest("religion/holidays")
            .interest("baby/food")
            .interest("garden, \"tools\"/a\nb")
            .build()
            .unwrap();
        Engine::new(taxonomy, DecayPolicy::default())
    }

    /// What the operator exports with each option: every minimization,
    /// with and without rounding to days.
    pub(super) fn writer_lists() -> Vec<(String, SuppressionList)> {
        let engine = engine();
        let people = people(&engine);
        let secret = KeySecret::new(b"agreed with the partner, out of band").unwrap();
        let mut lists = Vec::new();
        for (name, m) in [
            ("whole_profile", Minimization::WholeProfile),
            (
                "nearest_ordinary_ancestor",
                Minimization::NearestOrdinaryAncestor,
            ),
            ("keep", Minimization::Keep),
        ] {
            for round in [true, false] {
                let options = ExportOptions::default()
                    .minimization(m)
                    .round_to_days(round);
                let export = SuppressionList::from_profiles_with(
                    engine.taxonomy(),
                    people.iter().map(|(p, id)| (p, *id)),
                    &secret,
                    NOW,
                    options,
                );
                assert!(export.is_complete(), "{:?}", export.problems);
                let suffix = if round { "days" } else { "exact" };
                lists.push((format!("{name}_{suffix}"), export.list));
            }
        }
        lists
    }
}

/// Every option's writer output is a seed, in both formats; each is read
/// back equal (the seeds on disk are checked by the replay).
#[test]
fn writer_output_reads_back_for_every_option() {
    for (name, list) in partner::writer_lists() {
        assert!(list.len() >= 5, "{name}: {list:?}");
        export_checks::check_suppression_csv(list.to_csv().as_bytes());
        export_checks::check_suppression_jsonl(list.to_jsonl().as_bytes());
        assert_eq!(
            SuppressionList::from_csv(&list.to_csv()).unwrap(),
            list,
            "{name}"
        );
        assert_eq!(
            SuppressionList::from_jsonl(&list.to_jsonl()).unwrap(),
            list,
            "{name}"
        );
    }
}

use tactful::export::SuppressionList;

/// The seeds the fuzzers start from: the writer's output for every option
/// and hand-made nasty cases (see `fuzz/README.md`). Run by hand after a
/// format change:
/// `cargo test --test fuzz_corpus -- --ignored write_export_seeds`.
#[test]
#[ignore = "writes seed files into fuzz/corpus"]
fn write_export_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let (csv_dir, jsonl_dir) = (root.join("suppression_csv"), root.join("suppression_jsonl"));
    fs::create_dir_all(&csv_dir).unwrap();
    fs::create_dir_all(&jsonl_dir).unwrap();
    for (name, list) in partner::writer_lists() {
        fs::write(csv_dir.join(format!("writer_{name}")), list.to_csv()).unwrap();
        fs::write(jsonl_dir.join(format!("writer_{name}")), list.to_jsonl()).unwrap();
    }
    for (name, bytes) in nasty_csv() {
        fs::write(csv_dir.join(name), bytes).unwrap();
    }
    for (name, bytes) in nasty_jsonl() {
        fs::write(jsonl_dir.join(name), bytes).unwrap();
    }
}

const HEADER: &str = "subject,scope,target,since,until\n";

fn subject() -> String {
    "ab".repeat(32)
}

/// Hand-made CSV seeds: valid odd writings and each kind of refusal.
fn nasty_csv() -> Vec<(&'static str, Vec<u8>)> {
    let s = subject();
    let row = format!("{s},all,,2026-03-01T00:00:00Z,\n");
    let text = |name, t: String| (name, t.into_bytes());
    let mut invalid_utf8 = format!("{HEADER}{s},interest,caf").into_bytes();
    invalid_utf8.extend_from_slice(b"\xc3(,2026-03-01T00:00:00Z,\n");
    vec![
        text("empty", String::new()),
        text("header_only", HEADER.to_owned()),
        text(
            "bom_crlf_blank_offsets",
            format!(
                "\u{feff}subject,scope,target,since,until\r\n\r\n\"{s}\",\"purpose\",marketing,2026-03-01T01:00:00+01:00,\"2026-04-01T00:00:00.25-02:30\"\r\n\n{s},channel_purpose,email/marketing,0000-01-01T00:00:00Z,9999-12-31T23:59:59.999999999Z\r\n"
            ),
        ),
        text(
            "quoted_paths",
            format!("{HEADER}{s},interest,\"a,b/\"\"c\"\"/d\r\ne\",2026-03-01T00:00:00Z,\n{s},interest,ünï/cødé/日本,2026-03-01T00:00:00Z,\n\"{s}\",\"all\",\"\",\"2026-03-01T00:00:00Z\",\"\"\n"),
        ),
        text("no_final_newline", format!("{HEADER}{}", row.trim_end())),
        text("unterminated_quote", format!("{HEADER}{row}{s},interest,\"open\n{row}")),
        text("junk_after_quote", format!("{HEADER}{s},\"all\"x,,2026-03-01T00:00:00Z,\n")),
        text("quote_in_bare_field", format!("{HEADER}{s},interest,ba\"by,2026-03-01T00:00:00Z,\n")),
        text("lone_cr", format!("{HEADER}{}\r{row}", row.trim_end())),
        ("invalid_utf8", invalid_utf8),
        text("ragged_short", format!("{HEADER}{row}{s},all\n")),
        text("ragged_long", format!("{HEADER}{s},all,,2026-03-01T00:00:00Z,,extra\n")),
        text("long_field", format!("{HEADER}{s},interest,{},2026-03-01T00:00:00Z,\n", "x".repeat(5000))),
        text("many_rows", format!("{HEADER}{}", row.repeat(6))),
        text("wrong_header", format!("subject;scope;target;since;until\n{row}")),
        text(
            "bad_values",
            format!("{HEADER}{s},channel,fax,2026-03-01T00:00:00Z,\n{s},all,,2026-03-01T00:00:00Z,2026-02-01T00:00:00Z\n"),
        ),
    ]
}

/// Hand-made JSON Lines seeds: valid odd writings and each kind of refusal.
fn nasty_jsonl() -> Vec<(&'static str, Vec<u8>)> {
    let s = subject();
    let rec = |rest: &str| {
        format!(
            "{{\"subject\":\"{s}\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"{rest}}}\n"
        )
    };
    let text = |name, t: String| (name, t.into_bytes());
    let mut invalid_utf8 = rec("").into_bytes();
    invalid_utf8.extend_from_slice(b"{\"subject\":\"\xe2\x82\"}\n");
    vec![
        text("empty", String::new()),
        text(
            "crlf_blank_unknown_fields",
            format!(
                "\r\n{}  \n{}",
                rec(",\"note\":{\"x\":[1,2,{}]}").replace('\n', "\r\n"),
                rec(",\"until\":null,\"target\":null")
            ),
        ),
        text(
            "escapes",
            rec("").replace(
                "\"all\"",
                "\"interest\",\"target\":\"a \\\"q\\\"/\\u00fcn\\n\\t\\\\ \\ud83d\\ude00\"",
            ),
        ),
        text(
            "offsets",
            rec(",\"until\":\"2026-03-03T00:00:00.5+05:45\"").replace("00:00Z\"", "00:00-23:59\""),
        ),
        text(
            "array_form",
            format!("[\"{s}\",\"purpose\",\"marketing\",\"2026-03-01T00:00:00Z\",null]\n"),
        ),
        ("invalid_utf8", invalid_utf8),
        text("not_json", format!("{}{{\"subject\":", rec(""))),
        text(
            "deep_unknown_field",
            rec(&format!(",\"x\":{}{}", "[".repeat(5000), "]".repeat(5000))),
        ),
        text("duplicate_field", rec(",\"scope\":\"all\"")),
        text("empty_until", rec(",\"until\":\"\"")),
        text(
            "long_field",
            rec("").replace(
                "\"all\"",
                &format!("\"interest\",\"target\":\"{}\"", "y".repeat(5000)),
            ),
        ),
        text("many_rows", rec("").repeat(6)),
        text(
            "bad_values",
            rec(",\"until\":\"2026-02-01T00:00:00Z\"").replace(&s, "xyz"),
        ),
    ]
}

/// The hand-made seeds are what their names say: the valid ones read, the
/// others are refused (so that a fuzzer starts from both sides).
#[test]
fn nasty_seeds_are_read_or_refused_as_named() {
    use tactful::export::{ExportError, ReadLimits};
    let limits = ReadLimits::default().max_rows(5);
    let csv_ok = [
        "header_only",
        "bom_crlf_blank_offsets",
        "quoted_paths",
        "no_final_newline",
    ];
    for (name, bytes) in nasty_csv() {
        let result = SuppressionList::from_csv_with(&bytes, limits);
        let ok = csv_ok.contains(&name);
        assert_eq!(result.is_ok(), ok, "{name}: {result:?}");
        if let Err(e) = result {
            let limit = matches!(e, ExportError::LimitExceeded { .. });
            assert_eq!(
                limit,
                name.starts_with("long") || name.starts_with("many"),
                "{name}: {e}"
            );
        }
        export_checks::check_suppression_csv(&bytes);
    }
    let jsonl_ok = [
        "empty",
        "crlf_blank_unknown_fields",
        "escapes",
        "offsets",
        "array_form",
        "deep_unknown_field",
    ];
    for (name, bytes) in nasty_jsonl() {
        let result = SuppressionList::from_jsonl_with(&bytes, limits);
        let ok = jsonl_ok.contains(&name);
        assert_eq!(result.is_ok(), ok, "{name}: {result:?}");
        if let Err(e) = result {
            let limit = matches!(e, ExportError::LimitExceeded { .. });
            assert_eq!(
                limit,
                name.starts_with("long") || name.starts_with("many"),
                "{name}: {e}"
            );
        }
        export_checks::check_suppression_jsonl(&bytes);
    }
}

mod random_inputs {
    use super::{export_checks, partner};
    use proptest::prelude::*;

    /// The writer's output in both formats, to mutate.
    fn valid_files() -> Vec<Vec<u8>> {
        let mut files = Vec::new();
        for (_, list) in partner::writer_lists().into_iter().step_by(2) {
            files.push(list.to_csv().into_bytes());
            files.push(list.to_jsonl().into_bytes());
        }
        files
    }

    /// An edit of a file: a byte replaced, inserted or removed, or a span
    /// copied elsewhere.
    #[derive(Debug, Clone)]
    enum Edit {
        Set(usize, u8),
        Insert(usize, u8),
        Remove(usize),
        Copy(usize, usize, usize),
    }

    /// Bytes that matter to the formats, then anything.
    fn interesting_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            prop::sample::select(
                b"\",\r\n\\{}[]:0123456789abcdefT-+Z/ \xc3\xa9\xef\xbb\xbf\xff".to_vec()
            ),
            any::<u8>(),
        ]
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let at = any::<prop::sample::Index>();
        prop_oneof![
            (at.clone(), interesting_byte()).prop_map(|(i, b)| Edit::Set(i.index(usize::MAX), b)),
            (at.clone(), interesting_byte())
                .prop_map(|(i, b)| Edit::Insert(i.index(usize::MAX), b)),
            at.clone().prop_map(|i| Edit::Remove(i.index(usize::MAX))),
            (at.clone(), at.clone(), 0..40usize).prop_map(|(a, b, n)| Edit::Copy(
                a.index(usize::MAX),
                b.index(usize::MAX),
                n
            )),
        ]
    }

    fn apply(file: &mut Vec<u8>, edit: &Edit) {
        let len = file.len().max(1);
        match *edit {
            Edit::Set(i, b) if !file.is_empty() => file[i % len] = b,
            Edit::Insert(i, b) => file.insert(i % (file.len() + 1), b),
            Edit::Remove(i) if !file.is_empty() => {
                file.remove(i % len);
            }
            Edit::Copy(from, to, n) if !file.is_empty() => {
                let from = from % len;
                let span: Vec<u8> = file[from..(from + n).min(file.len())].to_vec();
                let to = to % (file.len() + 1);
                file.splice(to..to, span);
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn readers_keep_their_promises_on_random_bytes(
            data in prop::collection::vec(interesting_byte(), 0..300),
        ) {
            export_checks::check_suppression_csv(&data);
            export_checks::check_suppression_jsonl(&data);
        }

        #[test]
        fn readers_keep_their_promises_on_mutated_files(
            which in any::<prop::sample::Index>(),
            edits in prop::collection::vec(edit(), 1..6),
        ) {
            let files = valid_files();
            let mut file = files[which.index(files.len())].clone();
            for e in &edits {
                apply(&mut file, e);
            }
            export_checks::check_suppression_csv(&file);
            export_checks::check_suppression_jsonl(&file);
        }
    }
}
