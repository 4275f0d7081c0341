//! How much a partner-side reader accepts: [`ReadLimits`], and which of
//! them a refused input hit ([`ReadLimit`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ExportError;

/// Limits on what [`SuppressionList::from_csv_with`] and
/// [`SuppressionList::from_jsonl_with`] read, for files that come from
/// outside. `from_csv` and `from_jsonl` use the defaults.
///
/// Each is checked while reading, before its cost is paid: the input's
/// size before anything is parsed, the number of rows before a row is
/// converted into an entry, the length of a field before it is checked,
/// decoded or kept. A refused input is an
/// [`ExportError::LimitExceeded`] naming the limit and the line and
/// field where it was hit.
///
/// | limit | default | counts |
/// |---|---|---|
/// | [`max_bytes`](Self::max_bytes) | 1 GiB | the whole input, byte-order mark and blank lines included |
/// | [`max_rows`](Self::max_rows) | 10,000,000 | records (the CSV header and blank lines are not rows) |
/// | [`max_field_bytes`](Self::max_field_bytes) | 4,096 | one field (`subject`, `scope`, `target`, `since`, `until`) after CSV unquoting or JSON unescaping; for JSON Lines, a field newer writers added is not counted |
///
/// The defaults read ten million entries (about 1.4 GB as CSV at 140
/// bytes a row, so a file that large is refused by `max_bytes` first);
/// an interest path is at most
/// [`MAX_PATH_LEN`](crate::taxonomy::MAX_PATH_LEN) (512) bytes in a
/// taxonomy, so 4,096 leaves room for any other system's paths.
///
/// [`SuppressionList::from_csv_with`]: super::SuppressionList::from_csv_with
/// [`SuppressionList::from_jsonl_with`]: super::SuppressionList::from_jsonl_with
///
/// # Example
/// ```
/// use tactful::export::{ExportError, ReadLimit, ReadLimits, SuppressionList};
///
/// let limits = ReadLimits::default().max_rows(1).max_field_bytes(64);
/// let row = format!("{},all,,2026-03-01T00:00:00Z,\n", "ab".repeat(32));
/// let csv = format!("subject,scope,target,since,until\n{row}{row}");
/// match SuppressionList::from_csv_with(&csv, limits) {
///     Err(ExportError::LimitExceeded { limit: ReadLimit::Rows, line, .. }) => assert_eq!(line, Some(3)),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(limits.get_max_rows(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadLimits {
    max_bytes: usize,
    max_rows: usize,
    max_field_bytes: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 30,
            max_rows: 10_000_000,
            max_field_bytes: 4096,
        }
    }
}

impl ReadLimits {
    /// The default limits (see the table above).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The most bytes an input may have, checked before it is parsed.
    #[must_use]
    pub fn max_bytes(self, max_bytes: usize) -> Self {
        Self { max_bytes, ..self }
    }

    /// The most records (entries) an input may have, checked before each
    /// record is converted into an entry.
    #[must_use]
    pub fn max_rows(self, max_rows: usize) -> Self {
        Self { max_rows, ..self }
    }

    /// The most bytes one field may have after unquoting or unescaping,
    /// checked before the field is checked or kept.
    #[must_use]
    pub fn max_field_bytes(self, max_field_bytes: usize) -> Self {
        Self {
            max_field_bytes,
            ..self
        }
    }

    /// The byte limit in force.
    #[must_use]
    pub fn get_max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The row limit in force.
    #[must_use]
    pub fn get_max_rows(&self) -> usize {
        self.max_rows
    }

    /// The field length limit in force.
    #[must_use]
    pub fn get_max_field_bytes(&self) -> usize {
        self.max_field_bytes
    }

    /// Refuses an input longer than `max_bytes`.
    pub(super) fn check_bytes(&self, format: ListFormat, bytes: usize) -> Result<(), ExportError> {
        if bytes > self.max_bytes {
            return Err(ExportError::LimitExceeded {
                format,
                limit: ReadLimit::Bytes,
                line: None,
                column: None,
                actual: bytes,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    /// Refuses row number `row` (1-based, on `line`) if it is past
    /// `max_rows`.
    pub(super) fn check_row(
        &self,
        format: ListFormat,
        row: usize,
        line: usize,
    ) -> Result<(), ExportError> {
        if row > self.max_rows {
            return Err(ExportError::LimitExceeded {
                format,
                limit: ReadLimit::Rows,
                line: Some(line),
                column: None,
                actual: row,
                max: self.max_rows,
            });
        }
        Ok(())
    }

    /// Refuses a field of `bytes` bytes in `column` (1 = `subject` ...) on
    /// `line` if it is longer than `max_field_bytes`.
    pub(super) fn check_field(
        &self,
        format: ListFormat,
        bytes: usize,
        line: usize,
        column: usize,
    ) -> Result<(), ExportError> {
        if bytes > self.max_field_bytes {
            return Err(ExportError::LimitExceeded {
                format,
                limit: ReadLimit::FieldBytes,
                line: Some(line),
                column: Some(column),
                actual: bytes,
                max: self.max_field_bytes,
            });
        }
        Ok(())
    }
}

/// Which of the [`ReadLimits`] an input exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReadLimit {
    /// [`ReadLimits::max_bytes`]: the input as a whole.
    Bytes,
    /// [`ReadLimits::max_rows`]: the number of records.
    Rows,
    /// [`ReadLimits::max_field_bytes`]: one field.
    FieldBytes,
}

impl fmt::Display for ReadLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bytes => "max_bytes",
            Self::Rows => "max_rows",
            Self::FieldBytes => "max_field_bytes",
        })
    }
}

/// A format a [`SuppressionList`](super::SuppressionList) is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ListFormat {
    /// CSV ([`SuppressionList::from_csv`](super::SuppressionList::from_csv)).
    Csv,
    /// JSON Lines ([`SuppressionList::from_jsonl`](super::SuppressionList::from_jsonl)).
    Jsonl,
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        })
    }
}

/// The field names, in column order; the same numbering in both formats.
pub(super) const FIELDS: [&str; 5] = ["subject", "scope", "target", "since", "until"];

/// Where a limit was hit, for [`ExportError::LimitExceeded`]'s message:
/// `line 3, column 3 (target): `, `line 7: ` or nothing (the whole input).
pub(super) fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => match FIELDS.get(c.wrapping_sub(1)) {
            Some(name) => format!("line {l}, column {c} ({name}): "),
            None => format!("line {l}, column {c}: "),
        },
        (Some(l), None) => format!("line {l}: "),
        (None, _) => "input ".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit_and_where_it_was_hit() {
        let l = ReadLimits::default()
            .max_bytes(10)
            .max_rows(2)
            .max_field_bytes(3);
        let e = l.check_bytes(ListFormat::Csv, 11).unwrap_err();
        assert_eq!(e.to_string(), "csv input exceeds max_bytes of 10: 11");
        let e = l.check_row(ListFormat::Jsonl, 3, 9).unwrap_err();
        assert_eq!(e.to_string(), "jsonl line 9: exceeds max_rows of 2: 3");
        let e = l.check_field(ListFormat::Csv, 4, 2, 3).unwrap_err();
        assert_eq!(
            e.to_string(),
            "csv line 2, column 3 (target): exceeds max_field_bytes of 3: 4"
        );
        let e = l.check_field(ListFormat::Csv, 4, 2, 6).unwrap_err();
        assert_eq!(
            e.to_string(),
            "csv line 2, column 6: exceeds max_field_bytes of 3: 4"
        );
        assert!(l.check_bytes(ListFormat::Csv, 10).is_ok());
        assert!(l.check_row(ListFormat::Csv, 2, 1).is_ok());
        assert!(l.check_field(ListFormat::Csv, 3, 1, 1).is_ok());
    }

    #[test]
    fn limits_serde_round_trips_with_defaults_for_missing_fields() {
        let l: ReadLimits = serde_json::from_str(r#"{"max_rows": 5}"#).unwrap();
        assert_eq!(l, ReadLimits::default().max_rows(5));
        let back: ReadLimits = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
        assert_eq!(back, l);
        assert!(serde_json::from_str::<ReadLimits>(r#"{"max_row": 5}"#).is_err());
    }
}
