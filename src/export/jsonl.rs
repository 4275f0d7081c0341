//! JSON Lines: one [`SuppressionEntry`] per line.

use std::borrow::Cow;

use serde::Deserialize;

use super::entry::SuppressionEntry;
use super::limits::{ListFormat, ReadLimits};
use super::list::SuppressionList;
use super::ExportError;

impl SuppressionList {
    /// Writes one JSON object per entry and line (JSON Lines), each line
    /// ending in `\n`; an empty list is the empty string. Fields:
    /// `subject`, `scope`, `target` (absent for `all`), `since`, `until`
    /// (absent while open-ended), instants in RFC 3339 UTC.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportScope, SubjectKey, SuppressionEntry, SuppressionList};
    /// use tactful::Channel;
    /// use time::macros::datetime;
    ///
    /// let key = SubjectKey::from_bytes([0xab; 32]);
    /// let e = SuppressionEntry::new(key, ExportScope::Channel(Channel::Post), datetime!(2026-03-01 0:00 UTC), None)?;
    /// let list: SuppressionList = [e].into_iter().collect();
    /// let jsonl = list.to_jsonl();
    /// assert_eq!(
    ///     jsonl,
    ///     format!("{{\"subject\":\"{}\",\"scope\":\"channel\",\"target\":\"post\",\"since\":\"2026-03-01T00:00:00Z\"}}\n", "ab".repeat(32))
    /// );
    /// assert_eq!(SuppressionList::from_jsonl(&jsonl)?, list);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_jsonl(&self) -> String {
        let mut out = String::with_capacity(self.len() * 160);
        for e in self.entries() {
            // Writing into a String cannot fail.
            let _ = e.write_json(&mut out);
            out.push('\n');
        }
        out
    }

    /// Reads JSON Lines as written by [`to_jsonl`](Self::to_jsonl), within
    /// the default [`ReadLimits`]. Blank lines are skipped, `\r\n` line
    /// ends accepted, unknown fields ignored, instants in any offset
    /// converted to UTC. The same as
    /// [`from_jsonl_with`](Self::from_jsonl_with) with
    /// `ReadLimits::default()`.
    ///
    /// # Errors
    /// [`ExportError::Jsonl`] with the line and column of the first record
    /// that is not valid JSON or not a valid entry;
    /// [`ExportError::LimitExceeded`] past a limit.
    pub fn from_jsonl(input: &str) -> Result<Self, ExportError> {
        Self::from_jsonl_with(input, ReadLimits::default())
    }

    /// Reads JSON Lines as [`from_jsonl`](Self::from_jsonl) does, from
    /// bytes that must be UTF-8, within `limits`: for files from outside.
    ///
    /// # Errors
    /// As [`from_jsonl`](Self::from_jsonl), and [`ExportError::Jsonl`]
    /// naming the line and column of bytes that are not UTF-8;
    /// [`ExportError::LimitExceeded`] when the input is longer than
    /// [`max_bytes`](ReadLimits::max_bytes) (before anything is read), has
    /// more records than [`max_rows`](ReadLimits::max_rows) (at the first
    /// record past it, before it is parsed) or a field longer than
    /// [`max_field_bytes`](ReadLimits::max_field_bytes) (column 1 =
    /// `subject` ... 5 = `until`, as in CSV).
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportError, ReadLimit, ReadLimits, SuppressionList};
    ///
    /// let line = format!("{{\"subject\":\"{}\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"}}\n", "ab".repeat(32));
    /// let jsonl = line.repeat(3);
    /// let limits = ReadLimits::default().max_rows(2);
    /// match SuppressionList::from_jsonl_with(&jsonl, limits) {
    ///     Err(e @ ExportError::LimitExceeded { limit: ReadLimit::Rows, .. }) => {
    ///         assert_eq!(e.to_string(), "jsonl line 3: exceeds max_rows of 2: 3");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// assert_eq!(SuppressionList::from_jsonl_with(jsonl.as_bytes(), ReadLimits::default())?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_jsonl_with(
        input: impl AsRef<[u8]>,
        limits: ReadLimits,
    ) -> Result<Self, ExportError> {
        let input = input.as_ref();
        limits.check_bytes(ListFormat::Jsonl, input.len())?;
        let mut entries = Vec::new();
        let mut rows = 0;
        for (number, line) in (1..).zip(input.split(|&b| b == b'\n')) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = std::str::from_utf8(line).map_err(|e| ExportError::Jsonl {
                line: number,
                column: e.valid_up_to() + 1,
                message: format!("line is not utf-8: {e}"),
            })?;
            if line.trim().is_empty() {
                continue;
            }
            rows += 1;
            limits.check_row(ListFormat::Jsonl, rows, number)?;
            entries.push(read_line(line, number, limits)?);
        }
        Ok(Self::from(entries))
    }
}

/// A JSON Lines record as written, its text borrowed where it has no
/// escapes. Unknown fields are ignored: newer writers may add some.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    subject: Text<'a>,
    #[serde(borrow)]
    scope: Text<'a>,
    #[serde(borrow, default)]
    target: Option<Text<'a>>,
    #[serde(borrow)]
    since: Text<'a>,
    #[serde(borrow, default)]
    until: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }

    /// The 1-based byte column of the value in `line` (its first
    /// character), or the end of the line for a value that had escapes.
    fn column_in(&self, line: &str) -> usize {
        match &self.0 {
            Cow::Borrowed(value) => {
                let offset = (value.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
                offset.min(line.len()) + 1
            }
            Cow::Owned(_) => line.len(),
        }
    }
}

/// Reads one non-blank line: JSON first, then the field lengths, then the
/// entry.
fn read_line(
    line: &str,
    number: usize,
    limits: ReadLimits,
) -> Result<SuppressionEntry, ExportError> {
    let record: Line<'_> = serde_json::from_str(line).map_err(|e| {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        ExportError::Jsonl {
            line: number,
            column: e.column(),
            message: message
                .strip_suffix(&suffix)
                .map_or(message.clone(), str::to_owned),
        }
    })?;
    let fields = [
        Some(&record.subject),
        Some(&record.scope),
        record.target.as_ref(),
        Some(&record.since),
        record.until.as_ref(),
    ];
    for (column, field) in (1..).zip(fields) {
        let bytes = field.map_or(0, |f| f.0.len());
        limits.check_field(ListFormat::Jsonl, bytes, number, column)?;
    }
    SuppressionEntry::from_text_at(
        record.subject.as_str(),
        record.scope.as_str(),
        record.target.as_ref().map_or("", Text::as_str),
        record.since.as_str(),
        record.until.as_ref().map(Text::as_str),
    )
    .map_err(|(column, e)| {
        let at = column
            .checked_sub(1)
            .and_then(|i| fields.get(i).copied().flatten());
        ExportError::Jsonl {
            line: number,
            column: at.map_or(line.len(), |f| f.column_in(line)),
            message: e.to_string(),
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::export::ReadLimit;

    #[test]
    fn jsonl_errors_name_line_and_column() {
        let good = format!(
            "{{\"subject\":\"{}\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"}}",
            "ab".repeat(32)
        );
        let input = format!("{good}\n\n{good}\r\n{{\"subject\":\"xyz\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"}}\n");
        match SuppressionList::from_jsonl(&input) {
            Err(ExportError::Jsonl {
                line,
                column,
                message,
            }) => {
                assert_eq!(line, 4);
                assert!(column > 1);
                assert!(message.contains("\"xyz\""), "{message}");
                assert!(!message.contains("at line"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = SuppressionList::from_jsonl("{").unwrap_err();
        assert!(
            err.to_string().starts_with("jsonl line 1, column 1"),
            "{err}"
        );
        let bad_channel = good.replace("\"all\"", "\"channel\",\"target\":\"fax\"");
        let err = SuppressionList::from_jsonl(&bad_channel).unwrap_err();
        assert!(err.to_string().contains("unknown channel \"fax\""), "{err}");
    }

    fn record(rest: &str) -> String {
        format!(
            "{{\"subject\":\"{}\",\"scope\":\"all\",\"since\":\"2026-03-01T00:00:00Z\"{rest}}}\n",
            "ab".repeat(32)
        )
    }

    fn limit(input: &[u8], limits: ReadLimits) -> (ReadLimit, Option<usize>, Option<usize>, usize) {
        match SuppressionList::from_jsonl_with(input, limits) {
            Err(ExportError::LimitExceeded {
                format: ListFormat::Jsonl,
                limit,
                line,
                column,
                actual,
                ..
            }) => (limit, line, column, actual),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jsonl_limits_refuse_rows_fields_and_bytes() {
        let input = format!(
            "{}\n \n{}",
            record(""),
            record(",\"until\":\"2026-04-01T00:00:00Z\"").repeat(2)
        );
        let ok = ReadLimits::default().max_rows(3).max_bytes(input.len());
        assert_eq!(
            SuppressionList::from_jsonl_with(&input, ok).unwrap().len(),
            2
        );
        let rows = ReadLimits::default().max_rows(2);
        assert_eq!(
            limit(input.as_bytes(), rows),
            (ReadLimit::Rows, Some(5), None, 3)
        );
        let bytes = ReadLimits::default().max_bytes(input.len() - 1);
        assert_eq!(
            limit(input.as_bytes(), bytes),
            (ReadLimit::Bytes, None, None, input.len())
        );
        // The subject is 64 bytes; with escapes the field counts unescaped.
        let fields = ReadLimits::default().max_field_bytes(64);
        assert!(SuppressionList::from_jsonl_with(&input, fields).is_ok());
        let target = record("").replace("\"all\"", "\"interest\",\"target\":\"b\\u0061by\"");
        let fields = ReadLimits::default().max_field_bytes(3);
        assert_eq!(
            limit(target.as_bytes(), fields),
            (ReadLimit::FieldBytes, Some(1), Some(1), 64)
        );
        let fields = ReadLimits::default().max_field_bytes(64);
        let long = record("").replace(
            "\"all\"",
            &format!("\"interest\",\"target\":\"{}\"", "x".repeat(65)),
        );
        assert_eq!(
            limit(long.as_bytes(), fields),
            (ReadLimit::FieldBytes, Some(1), Some(3), 65)
        );
        let until = record(&format!(",\"until\":\"{}\"", "9".repeat(65)));
        assert_eq!(limit(until.as_bytes(), fields).2, Some(5));
        // A field newer writers add is not limited.
        let extra = record(&format!(",\"note\":\"{}\"", "x".repeat(100)));
        assert!(SuppressionList::from_jsonl_with(&extra, fields).is_ok());
    }

    #[test]
    fn jsonl_refuses_invalid_utf8_and_an_empty_until() {
        let mut input = record("").into_bytes();
        input.extend_from_slice(b"{\"subject\":\"\xe2\x82\"}\n");
        match SuppressionList::from_jsonl_with(&input, ReadLimits::default()) {
            Err(ExportError::Jsonl {
                line: 2,
                column: 13,
                message,
            }) => {
                assert!(message.starts_with("line is not utf-8"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = SuppressionList::from_jsonl(&record(",\"until\":\"\"")).unwrap_err();
        assert!(
            err.to_string().contains("invalid until instant \"\""),
            "{err}"
        );
        // `null` is absent, as serde reads it.
        let open = record(",\"until\":null,\"target\":null");
        assert_eq!(SuppressionList::from_jsonl(&open).unwrap().len(), 1);
    }

    #[test]
    fn jsonl_value_errors_point_at_the_value() {
        let bad = record("").replace("\"all\"", "\"channel\",\"target\":\"fax\"");
        match SuppressionList::from_jsonl(&bad) {
            Err(ExportError::Jsonl {
                line: 1,
                column,
                message,
            }) => {
                assert_eq!(bad.get(column - 1..column + 3), Some("fax\""), "{column}");
                assert_eq!(message, "unknown channel \"fax\"");
            }
            other => panic!("{other:?}"),
        }
        // With an escape the value is not where it was written: the end.
        let escaped = bad.replace("fax", "f\\u0061x");
        match SuppressionList::from_jsonl(&escaped) {
            Err(ExportError::Jsonl { column, .. }) => assert_eq!(column, escaped.len() - 1),
            other => panic!("{other:?}"),
        }
    }
}
