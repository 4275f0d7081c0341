//! The checks behind the partner-side reader targets `suppression_csv`
//! and `suppression_jsonl`, shared by the fuzz crate
//! (`fuzz/fuzz_targets/suppression_*.rs`) and by `tests/fuzz_corpus.rs`,
//! which replays their corpora on stable and feeds them random bytes and
//! mutations of valid files with proptest.
//!
//! A partner reads these files from outside, so each check asserts what
//! the reader promises for any bytes at all:
//!
//! - it never panics;
//! - what it accepts is a list that writes out and reads back equal, in
//!   both formats (the writer's output is always accepted);
//! - what it refuses is a typed error of its own format, naming a line
//!   and column that exist in the input; a limit error names a limit that
//!   was really exceeded; and the strict quoting check never disagrees
//!   with the `csv` crate about where a field is;
//! - tighter [`ReadLimits`] only ever turn an accepted input into a
//!   refusal by a limit, never into another error or another list;
//! - reading bytes and reading the same text agree.
//!
//! This file is included with `#[path]` and must only depend on `tactful`.

use tactful::export::{ExportError, ListFormat, ReadLimit, ReadLimits, SuppressionList};

/// Limits small enough for fuzz inputs to reach each of them.
fn tight() -> ReadLimits {
    ReadLimits::default()
        .max_bytes(2048)
        .max_rows(4)
        .max_field_bytes(70)
}

/// The reader of one format.
type Reader = fn(&[u8], ReadLimits) -> Result<SuppressionList, ExportError>;

fn read_csv(data: &[u8], limits: ReadLimits) -> Result<SuppressionList, ExportError> {
    SuppressionList::from_csv_with(data, limits)
}

fn read_jsonl(data: &[u8], limits: ReadLimits) -> Result<SuppressionList, ExportError> {
    SuppressionList::from_jsonl_with(data, limits)
}

/// `suppression_csv`: [`SuppressionList::from_csv_with`] on any bytes.
pub(crate) fn check_suppression_csv(data: &[u8]) {
    check_reader(data, ListFormat::Csv, read_csv);
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            SuppressionList::from_csv(text),
            read_csv(data, ReadLimits::default()),
            "from_csv and from_csv_with disagree"
        );
    }
}

/// `suppression_jsonl`: [`SuppressionList::from_jsonl_with`] on any bytes.
pub(crate) fn check_suppression_jsonl(data: &[u8]) {
    check_reader(data, ListFormat::Jsonl, read_jsonl);
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            SuppressionList::from_jsonl(text),
            read_jsonl(data, ReadLimits::default()),
            "from_jsonl and from_jsonl_with disagree"
        );
    }
}

fn check_reader(data: &[u8], format: ListFormat, read: Reader) {
    let full = read(data, ReadLimits::default());
    match &full {
        Ok(list) => check_round_trips(list),
        Err(e) => check_refusal(e, data, format, ReadLimits::default()),
    }
    let limited = read(data, tight());
    match (&full, &limited) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "tight limits changed the list"),
        (Ok(_), Err(e)) => {
            assert!(
                matches!(e, ExportError::LimitExceeded { .. }),
                "accepted, but refused under tight limits by {e:?}"
            );
            check_refusal(e, data, format, tight());
        }
        (Err(e), Ok(_)) => panic!("refused ({e}), but accepted under tight limits"),
        (Err(_), Err(e)) => check_refusal(e, data, format, tight()),
    }
}

/// The writers' output is read back equal, in both formats.
fn check_round_trips(list: &SuppressionList) {
    let csv = list.to_csv();
    match SuppressionList::from_csv(&csv) {
        Ok(back) => assert_eq!(&back, list, "csv round trip changed the list"),
        Err(e) => panic!("the csv writer's output is refused: {e}\n{csv}"),
    }
    let jsonl = list.to_jsonl();
    match SuppressionList::from_jsonl(&jsonl) {
        Ok(back) => assert_eq!(&back, list, "jsonl round trip changed the list"),
        Err(e) => panic!("the jsonl writer's output is refused: {e}\n{jsonl}"),
    }
}

/// A refusal is of the format read, and names a place in the input.
fn check_refusal(e: &ExportError, data: &[u8], format: ListFormat, limits: ReadLimits) {
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    let message = e.to_string();
    assert!(
        message.starts_with(&format!("{format} ")),
        "{format} refusal reads {message:?}"
    );
    match (e, format) {
        (
            ExportError::Csv {
                line,
                column,
                message,
            },
            ListFormat::Csv,
        ) => {
            assert!(
                (1..=lines).contains(line),
                "line {line} of {lines}: {message}"
            );
            assert!(*column >= 1, "column {column}: {message}");
            assert!(
                !message.contains("does not match its raw text"),
                "the strict check disagrees with the csv crate: line {line}, column {column}"
            );
        }
        (
            ExportError::Jsonl {
                line,
                column,
                message,
            },
            ListFormat::Jsonl,
        ) => {
            assert!(
                (1..=lines).contains(line),
                "line {line} of {lines}: {message}"
            );
            assert!(*column >= 1, "column {column}: {message}");
        }
        (
            ExportError::LimitExceeded {
                format: f,
                limit,
                line,
                column,
                actual,
                max,
            },
            _,
        ) => {
            assert_eq!(*f, format);
            assert!(actual > max, "{message}");
            let expected_max = match limit {
                ReadLimit::Bytes => limits.get_max_bytes(),
                ReadLimit::Rows => limits.get_max_rows(),
                ReadLimit::FieldBytes => limits.get_max_field_bytes(),
                _ => *max,
            };
            assert_eq!(*max, expected_max, "{message}");
            match limit {
                ReadLimit::Bytes => assert_eq!((*line, *actual), (None, data.len())),
                _ => assert!(line.is_some_and(|l| (1..=lines).contains(&l)), "{message}"),
            }
            assert_eq!(
                column.is_some(),
                *limit == ReadLimit::FieldBytes,
                "{message}"
            );
        }
        (other, _) => panic!("{format} reader refused with {other:?}"),
    }
}
