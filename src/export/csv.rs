//! CSV: `subject,scope,target,since,until`, RFC 4180 quoting.

use std::fmt::Write as _;

use super::entry::{Rfc3339Utc, SuppressionEntry};
use super::limits::{ListFormat, ReadLimits};
use super::list::SuppressionList;
use super::ExportError;

/// The header line's fields.
const HEADER: [&str; 5] = ["subject", "scope", "target", "since", "until"];

impl SuppressionList {
    /// Writes CSV with the header `subject,scope,target,since,until`, one
    /// record per entry, lines ending in `\n`.
    ///
    /// `scope` is one of `all`, `channel`, `purpose`, `channel_purpose`,
    /// `interest`; `target` is the channel or purpose name, both as
    /// `channel/purpose` (`email/marketing`) or the interest path, empty
    /// for `all`; instants are RFC 3339 in UTC; `until` is empty while
    /// open-ended. A field containing a comma, a double quote or a line
    /// break is enclosed in double quotes with inner quotes doubled
    /// (RFC 4180), since interest paths are free text.
    ///
    /// Spreadsheets may treat a cell starting with `=`, `+`, `-` or `@` as
    /// a formula; the writer does not alter such paths (that would break
    /// the round trip), so open partner files in a spreadsheet with care.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportScope, SubjectKey, SuppressionEntry, SuppressionList};
    /// use time::macros::datetime;
    ///
    /// let key = SubjectKey::from_bytes([0xab; 32]);
    /// let since = datetime!(2026-03-01 0:00 UTC);
    /// let e = SuppressionEntry::new(key, ExportScope::Interest("books/\"odd\", paths".into()), since, None)?;
    /// let list: SuppressionList = [e].into_iter().collect();
    /// let csv = list.to_csv();
    /// assert_eq!(
    ///     csv,
    ///     format!("subject,scope,target,since,until\n{},interest,\"books/\"\"odd\"\", paths\",2026-03-01T00:00:00Z,\n", "ab".repeat(32))
    /// );
    /// assert_eq!(SuppressionList::from_csv(&csv)?, list);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(32 + self.len() * 140);
        out.push_str(&HEADER.join(","));
        out.push('\n');
        for e in self.entries() {
            // Subject, kind and instants never need quoting.
            let _ = write!(out, "{},{},", e.subject(), e.scope().kind());
            push_field(&mut out, &e.scope().target());
            let _ = write!(out, ",{},", Rfc3339Utc(e.since()));
            if let Some(u) = e.until() {
                let _ = write!(out, "{}", Rfc3339Utc(u));
            }
            out.push('\n');
        }
        out
    }

    /// Reads CSV as written by [`to_csv`](Self::to_csv), within the
    /// default [`ReadLimits`]: the header line first (a leading byte-order
    /// mark is skipped), then one record per entry. Line ends may be `\n`
    /// or `\r\n`; blank lines are skipped; quoted fields may contain
    /// commas, doubled quotes and line breaks. The same as
    /// [`from_csv_with`](Self::from_csv_with) with `ReadLimits::default()`.
    ///
    /// # Errors
    /// [`ExportError::Csv`] with the line and the column (1 = `subject` ...
    /// 5 = `until`) of the first problem: a wrong header, a wrong number of
    /// fields, broken quoting, or an invalid value (unknown scope, channel
    /// or purpose, bad interest path, subject or instant);
    /// [`ExportError::LimitExceeded`] past a limit.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportError, SuppressionList};
    ///
    /// let csv = "subject,scope,target,since,until\nnot-a-key,all,,2026-03-01T00:00:00Z,\n";
    /// match SuppressionList::from_csv(csv) {
    ///     Err(ExportError::Csv { line, column, .. }) => assert_eq!((line, column), (2, 1)),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn from_csv(input: &str) -> Result<Self, ExportError> {
        Self::from_csv_with(input, ReadLimits::default())
    }

    /// Reads CSV as [`from_csv`](Self::from_csv) does, from bytes that
    /// must be UTF-8, within `limits`: for files from outside.
    ///
    /// The records are split and unquoted by the `csv` crate; every
    /// record is then checked against its raw bytes, so that the lenient
    /// readings of broken quoting that the crate allows (`"ab"c` read as
    /// `abc`, `a"b` kept as it is, a quote left open swallowing the rest
    /// of the file) are refused here as errors.
    ///
    /// # Errors
    /// As [`from_csv`](Self::from_csv), and [`ExportError::Csv`] naming
    /// the line and column of a field that is not UTF-8;
    /// [`ExportError::LimitExceeded`] when the input is longer than
    /// [`max_bytes`](ReadLimits::max_bytes) (before anything is read), has
    /// more records than [`max_rows`](ReadLimits::max_rows) (at the first
    /// record past it) or a field longer than
    /// [`max_field_bytes`](ReadLimits::max_field_bytes).
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportError, ReadLimit, ReadLimits, SuppressionList};
    ///
    /// let csv = format!("subject,scope,target,since,until\n{},interest,{},2026-03-01T00:00:00Z,\n", "ab".repeat(32), "x".repeat(100));
    /// let limits = ReadLimits::default().max_field_bytes(99);
    /// match SuppressionList::from_csv_with(csv.as_bytes(), limits) {
    ///     Err(e @ ExportError::LimitExceeded { limit: ReadLimit::FieldBytes, .. }) => {
    ///         assert_eq!(e.to_string(), "csv line 2, column 3 (target): exceeds max_field_bytes of 99: 100");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// assert_eq!(SuppressionList::from_csv_with(&csv, ReadLimits::default())?.len(), 1);
    /// assert!(SuppressionList::from_csv_with(b"subject,scope\xff", limits).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_csv_with(input: impl AsRef<[u8]>, limits: ReadLimits) -> Result<Self, ExportError> {
        let input = input.as_ref();
        limits.check_bytes(ListFormat::Csv, input.len())?;
        let mut records = Records::new(input, limits);
        let Some((line, header)) = records.next_record()? else {
            return Err(csv_error(1, 1, "missing header line".to_owned()));
        };
        check_header(line, &header)?;
        let mut entries = Vec::new();
        while let Some((line, fields)) = records.next_record()? {
            entries.push(entry(line, &fields)?);
        }
        Ok(Self::from(entries))
    }
}

/// The UTF-8 byte-order mark some spreadsheets write first.
const BOM: &[u8] = b"\xef\xbb\xbf";

fn csv_error(line: usize, column: usize, message: String) -> ExportError {
    ExportError::Csv {
        line,
        column,
        message,
    }
}

/// The header must be exactly `subject,scope,target,since,until`.
fn check_header(line: usize, header: &[&str]) -> Result<(), ExportError> {
    for (i, expected) in HEADER.iter().enumerate() {
        let got = header.get(i).copied();
        if got != Some(*expected) {
            return Err(csv_error(
                line,
                i + 1,
                format!("expected header field {expected:?}, got {got:?}"),
            ));
        }
    }
    if let Some(extra) = header.get(HEADER.len()) {
        return Err(csv_error(
            line,
            HEADER.len() + 1,
            format!("unexpected header field {extra:?}"),
        ));
    }
    Ok(())
}

/// One record's entry, or the error naming its column.
fn entry(line: usize, fields: &[&str]) -> Result<SuppressionEntry, ExportError> {
    match *fields {
        [subject, scope, target, since, until] => {
            SuppressionEntry::from_fields_at(subject, scope, target, since, until)
                .map_err(|(column, e)| csv_error(line, column, e.to_string()))
        }
        _ if fields.len() < HEADER.len() => {
            let missing = HEADER.get(fields.len()).copied().unwrap_or_default();
            Err(csv_error(
                line,
                fields.len() + 1,
                format!(
                    "missing field {missing:?}: expected 5 fields, got {}",
                    fields.len()
                ),
            ))
        }
        _ => Err(csv_error(
            line,
            HEADER.len() + 1,
            format!("expected 5 fields, got {}", fields.len()),
        )),
    }
}

/// Appends a field, quoted if it must be.
fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Records split by the `csv` crate, each checked against the raw input
/// (strict RFC 4180 quoting, line ends, UTF-8) and against the limits.
struct Records<'a> {
    reader: ::csv::Reader<&'a [u8]>,
    record: ::csv::ByteRecord,
    raw: Raw<'a>,
    limits: ReadLimits,
    /// Records read so far, the header included.
    seen: usize,
}

impl<'a> Records<'a> {
    fn new(input: &'a [u8], limits: ReadLimits) -> Self {
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            // Field counts are checked here, with our messages.
            .flexible(true)
            .from_reader(input);
        Self {
            reader,
            record: ::csv::ByteRecord::new(),
            raw: Raw {
                input,
                // The csv crate skips a leading byte-order mark itself.
                pos: if input.starts_with(BOM) { BOM.len() } else { 0 },
                line: 1,
            },
            limits,
            seen: 0,
        }
    }

    /// The next record's line and fields, checked; `None` at the end.
    fn next_record(&mut self) -> Result<Option<(usize, Vec<&str>)>, ExportError> {
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| csv_error(self.raw.line, 1, format!("unreadable record: {e}")))?;
        self.raw.skip_blank_lines()?;
        if !more {
            return match self.raw.rest().first() {
                None => Ok(None),
                Some(_) => Err(self.raw.mismatch(1)),
            };
        }
        let line = self.raw.line;
        // The header is not a row.
        self.limits.check_row(ListFormat::Csv, self.seen, line)?;
        self.seen += 1;
        let count = self.record.len();
        let mut fields = Vec::with_capacity(count);
        for (i, field) in self.record.iter().enumerate() {
            let column = i + 1;
            let starts = self.raw.line;
            self.limits
                .check_field(ListFormat::Csv, field.len(), starts, column)?;
            self.raw.field(field, column)?;
            let text = std::str::from_utf8(field)
                .map_err(|e| csv_error(starts, column, format!("field is not utf-8: {e}")))?;
            fields.push(text);
            if column < count && !self.raw.take(b",") {
                return Err(self.raw.mismatch(column));
            }
        }
        self.raw.line_end(count.max(1))?;
        Ok(Some((line, fields)))
    }
}

/// The raw input behind the records, walked field by field to check that
/// each field the `csv` crate returned is written there in one of its
/// two RFC 4180 forms: as it is (no quote inside), or in double quotes
/// with inner quotes doubled.
struct Raw<'a> {
    input: &'a [u8],
    pos: usize,
    /// 1-based line at `pos`.
    line: usize,
}

impl Raw<'_> {
    fn rest(&self) -> &[u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    /// Moves past `n` bytes, counting line breaks.
    fn advance(&mut self, n: usize) {
        let end = (self.pos + n).min(self.input.len());
        let skipped = self.input.get(self.pos..end).unwrap_or_default();
        self.line += skipped.iter().filter(|&&b| b == b'\n').count();
        self.pos = end;
    }

    /// Moves past `prefix` if it is next.
    fn take(&mut self, prefix: &[u8]) -> bool {
        let found = self.rest().starts_with(prefix);
        if found {
            self.advance(prefix.len());
        }
        found
    }

    /// Moves past a line end (`\n` or `\r\n`) if one is next; a carriage
    /// return without a line feed is an error.
    fn line_end(&mut self, column: usize) -> Result<bool, ExportError> {
        if self.take(b"\n") || self.take(b"\r\n") {
            Ok(true)
        } else if self.rest().first() == Some(&b'\r') {
            Err(csv_error(
                self.line,
                column,
                "carriage return without line feed outside quotes".to_owned(),
            ))
        } else {
            Ok(false)
        }
    }

    /// Blank lines are not records.
    fn skip_blank_lines(&mut self) -> Result<(), ExportError> {
        while self.line_end(1)? {}
        Ok(())
    }

    /// Moves past `field` as written, or says what is wrong with it.
    fn field(&mut self, field: &[u8], column: usize) -> Result<(), ExportError> {
        if self.rest().first() != Some(&b'"') {
            if let Some(q) = field.iter().position(|&b| b == b'"') {
                let before = String::from_utf8_lossy(field.get(..q).unwrap_or_default());
                return Err(csv_error(
                    self.line,
                    column,
                    format!("quote inside unquoted field {before:?}; quote the whole field"),
                ));
            }
            if !self.take(field) {
                return Err(self.mismatch(column));
            }
            return Ok(());
        }
        let rest = self.rest();
        let mut i = 1;
        for &b in field {
            let want: &[u8] = if b == b'"' {
                b"\"\""
            } else {
                std::slice::from_ref(&b)
            };
            if !rest.get(i..).unwrap_or_default().starts_with(want) {
                return Err(self.bad_quoted(i, column));
            }
            i += want.len();
        }
        match (rest.get(i), rest.get(i + 1)) {
            (Some(b'"'), None | Some(b',' | b'\n' | b'\r')) => {
                self.advance(i + 1);
                Ok(())
            }
            _ => Err(self.bad_quoted(i, column)),
        }
    }

    /// Why the quoted field starting at `pos` is not as the `csv` crate
    /// read it, at byte `i` of it: the input ends inside the quotes, or
    /// something follows the closing quote (which the crate would have
    /// appended to the field).
    fn bad_quoted(&self, i: usize, column: usize) -> ExportError {
        let rest = self.rest();
        let lines = |n: usize| {
            let seen = rest.get(..n.min(rest.len())).unwrap_or_default();
            self.line + seen.iter().filter(|&&b| b == b'\n').count()
        };
        match (rest.get(i), rest.get(i + 1..)) {
            (None, _) => csv_error(self.line, column, "unterminated quoted field".to_owned()),
            (Some(b'"'), Some(after)) if !after.is_empty() => {
                let shown = after.get(..after.len().min(4)).unwrap_or_default();
                let c = String::from_utf8_lossy(shown).chars().next().unwrap_or('?');
                csv_error(
                    lines(i),
                    column,
                    format!("unexpected {c:?} after closing quote"),
                )
            }
            _ => Self::mismatch_at(lines(i), column),
        }
    }

    fn mismatch(&self, column: usize) -> ExportError {
        Self::mismatch_at(self.line, column)
    }

    /// The `csv` crate read something other than what is written: never
    /// seen, but refused rather than trusted.
    fn mismatch_at(line: usize, column: usize) -> ExportError {
        csv_error(line, column, "field does not match its raw text".to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::export::{ExportScope, ReadLimit};
    use time::macros::datetime;

    fn parse(input: &str) -> Result<Vec<(usize, Vec<String>)>, ExportError> {
        let mut records = Records::new(input.as_bytes(), ReadLimits::default());
        let mut out = Vec::new();
        while let Some((line, fields)) = records.next_record()? {
            out.push((line, fields.iter().map(|f| (*f).to_owned()).collect()));
        }
        Ok(out)
    }

    fn csv_error(input: &str) -> (usize, usize, String) {
        match SuppressionList::from_csv(input) {
            Err(ExportError::Csv {
                line,
                column,
                message,
            }) => (line, column, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reader_handles_quotes_line_breaks_and_crlf() {
        let recs = parse("a,\"b,\"\"c\"\"\nd\",e\r\n\n\"\",,\n").unwrap();
        assert_eq!(
            recs,
            [
                (1, vec!["a".into(), "b,\"c\"\nd".into(), "e".into()]),
                (4, vec![String::new(), String::new(), String::new()]),
            ]
        );
        assert_eq!(parse("x").unwrap(), [(1, vec!["x".to_owned()])]);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn reader_errors() {
        let e = parse("a,b\n\"open,\nstill").unwrap_err();
        assert_eq!(
            e,
            ExportError::Csv {
                line: 2,
                column: 1,
                message: "unterminated quoted field".into()
            }
        );
        assert!(matches!(
            parse("a,\"b\"c").unwrap_err(),
            ExportError::Csv {
                line: 1,
                column: 2,
                ..
            }
        ));
        assert!(matches!(
            parse("a,b\"c").unwrap_err(),
            ExportError::Csv {
                line: 1,
                column: 2,
                ..
            }
        ));
        assert!(matches!(
            parse("a\rb").unwrap_err(),
            ExportError::Csv {
                line: 1,
                column: 1,
                ..
            }
        ));
    }

    #[test]
    fn header_and_field_errors_name_line_and_column() {
        let subject = "ab".repeat(32);
        let h = "subject,scope,target,since,until\n";
        assert_eq!(csv_error("").0, 1);
        assert_eq!(csv_error("subject,scope,target,since\n").1, 5);
        assert_eq!(csv_error("subject,scope,target,since,until,reason\n").1, 6);
        assert_eq!(csv_error("subject,kind,target,since,until\n").1, 2);
        let cases = [
            (
                format!("{subject},all,,2026-03-01T00:00:00Z,,x"),
                2,
                6,
                "expected 5 fields, got 6",
            ),
            (
                format!("{subject},all,,2026-03-01T00:00:00Z"),
                2,
                5,
                "missing field \"until\"",
            ),
            (format!("{subject},all,"), 2, 4, "missing field \"since\""),
            (
                format!("{subject}0,all,,2026-03-01T00:00:00Z,"),
                2,
                1,
                "invalid subject key",
            ),
            (
                format!("{subject},every,,2026-03-01T00:00:00Z,"),
                2,
                2,
                "unknown scope \"every\"",
            ),
            (
                format!("{subject},channel,fax,2026-03-01T00:00:00Z,"),
                2,
                3,
                "unknown channel \"fax\"",
            ),
            (
                format!("{subject},all,,yesterday,"),
                2,
                4,
                "invalid since instant \"yesterday\"",
            ),
            (
                format!("{subject},all,,2026-03-01T00:00:00Z,2026-02-01T00:00:00Z"),
                2,
                5,
                "is not after since",
            ),
            (
                format!("{subject},all,,2026-03-01T00:00:00Z,soon"),
                2,
                5,
                "invalid until instant \"soon\"",
            ),
        ];
        for (row, line, column, needle) in cases {
            let (l, c, m) = csv_error(&format!("{h}{row}\n"));
            assert_eq!((l, c), (line, column), "{row}: {m}");
            assert!(m.contains(needle), "{row}: {m}");
        }
        // Line numbers count line breaks inside quoted fields.
        let input =
            format!("{h}{subject},interest,\"a\nb\",2026-03-01T00:00:00Z,\n{subject},all,,bad,\n");
        assert_eq!(csv_error(&input).0, 4);
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let subject = "ab".repeat(32);
        let input = format!(
            "\u{feff}subject,scope,target,since,until\r\n{subject},purpose,marketing,2026-03-01T01:00:00+01:00,\r\n"
        );
        let list = SuppressionList::from_csv(&input).unwrap();
        let e = list.entries().first().unwrap();
        assert_eq!(e.scope(), &ExportScope::Purpose(crate::Purpose::Marketing));
        assert_eq!(e.since(), datetime!(2026-03-01 0:00 UTC));
        // One mark is skipped, not two; a mark elsewhere is text.
        let twice = format!("\u{feff}{input}");
        assert_eq!(csv_error(&twice).1, 1);
        assert!(csv_error(&twice).2.contains("\\u{feff}subject"));
        let (line, _, message) = csv_error(&input.replace("\r\n", "\r\n\u{feff}"));
        assert_eq!(line, 2, "{message}");
    }

    fn limit_error(input: &[u8], limits: ReadLimits) -> (ReadLimit, Option<usize>, Option<usize>) {
        match SuppressionList::from_csv_with(input, limits) {
            Err(ExportError::LimitExceeded {
                format: ListFormat::Csv,
                limit,
                line,
                column,
                ..
            }) => (limit, line, column),
            other => panic!("{other:?}"),
        }
    }

    fn rows(n: usize) -> String {
        let row = format!("{},all,,2026-03-01T00:00:00Z,\n", "ab".repeat(32));
        format!("subject,scope,target,since,until\n{}", row.repeat(n))
    }

    #[test]
    fn too_many_rows_is_refused_at_the_first_row_past_the_limit() {
        let input = rows(3);
        let limits = ReadLimits::default().max_rows(3);
        assert_eq!(
            SuppressionList::from_csv_with(&input, limits)
                .unwrap()
                .len(),
            1
        );
        let limits = ReadLimits::default().max_rows(2);
        assert_eq!(
            limit_error(input.as_bytes(), limits),
            (ReadLimit::Rows, Some(4), None)
        );
        // Blank lines and the header are not rows.
        let spaced = input.replace('\n', "\n\n");
        let limits = ReadLimits::default().max_rows(3);
        assert!(SuppressionList::from_csv_with(&spaced, limits).is_ok());
        let limits = ReadLimits::default().max_rows(0);
        assert_eq!(
            limit_error(spaced.as_bytes(), limits),
            (ReadLimit::Rows, Some(3), None)
        );
        assert!(SuppressionList::from_csv_with(rows(0), limits).is_ok());
    }

    #[test]
    fn too_long_a_field_is_refused_naming_its_line_and_column() {
        let subject = "ab".repeat(32);
        let input = format!(
            "subject,scope,target,since,until\n{subject},all,,2026-03-01T00:00:00Z,\n{subject},interest,\"x\ny\",2026-03-01T00:00:00Z,\n"
        );
        let limits = ReadLimits::default().max_field_bytes(64);
        assert_eq!(
            SuppressionList::from_csv_with(&input, limits)
                .unwrap()
                .len(),
            2
        );
        // The quoted target is 3 bytes once unquoted; the subject is 64.
        let limits = ReadLimits::default().max_field_bytes(3);
        assert_eq!(
            limit_error(input.as_bytes(), limits),
            (ReadLimit::FieldBytes, Some(1), Some(1))
        );
        let limits = ReadLimits::default().max_field_bytes(2);
        let input = "a,bbb\n";
        assert_eq!(
            limit_error(input.as_bytes(), limits),
            (ReadLimit::FieldBytes, Some(1), Some(2))
        );
        // An open quote does not get past the limit by swallowing the file.
        let input = format!("{}\"{}", rows(1), "z".repeat(100));
        let limits = ReadLimits::default().max_field_bytes(64);
        assert_eq!(
            limit_error(input.as_bytes(), limits),
            (ReadLimit::FieldBytes, Some(3), Some(1))
        );
    }

    #[test]
    fn too_many_bytes_is_refused_before_reading() {
        let input = rows(2);
        let limits = ReadLimits::default().max_bytes(input.len());
        assert_eq!(
            SuppressionList::from_csv_with(&input, limits)
                .unwrap()
                .len(),
            1
        );
        let limits = ReadLimits::default().max_bytes(input.len() - 1);
        assert_eq!(
            limit_error(input.as_bytes(), limits),
            (ReadLimit::Bytes, None, None)
        );
        // Refused by size even though it is not CSV at all.
        let limits = ReadLimits::default().max_bytes(3);
        assert_eq!(limit_error(b"\"\xff\xfe\r", limits).0, ReadLimit::Bytes);
    }

    #[test]
    fn bad_quoting_is_refused_where_the_lenient_reading_would_accept_it() {
        // The csv crate alone reads each of these without an error.
        let cases: [(&str, usize, usize, &str); 7] = [
            ("a,\"b\"c\n", 1, 2, "unexpected 'c' after closing quote"),
            ("a,\"b\" \n", 1, 2, "unexpected ' ' after closing quote"),
            (
                "a\n\"b\nc\"d,e\n",
                3,
                1,
                "unexpected 'd' after closing quote",
            ),
            ("a,b\"c\"\n", 1, 2, "quote inside unquoted field \"b\""),
            (" \"a\",b\n", 1, 1, "quote inside unquoted field \" \""),
            ("a,\"b\n\nc,d\n", 1, 2, "unterminated quoted field"),
            ("a,\"b\"\"\n", 1, 2, "unterminated quoted field"),
        ];
        for (input, line, column, needle) in cases {
            match parse(input) {
                Err(ExportError::Csv {
                    line: l,
                    column: c,
                    message,
                }) => {
                    assert_eq!((l, c), (line, column), "{input:?}: {message}");
                    assert!(message.contains(needle), "{input:?}: {message}");
                }
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn ragged_rows_are_refused() {
        let subject = "ab".repeat(32);
        let h = "subject,scope,target,since,until\n";
        let short = format!("{h}{subject},all,,2026-03-01T00:00:00Z,\n{subject},all\n");
        assert_eq!(
            csv_error(&short),
            (
                3,
                3,
                "missing field \"target\": expected 5 fields, got 2".into()
            )
        );
        let long = format!("{h}{subject},all,,2026-03-01T00:00:00Z,,,\n");
        assert_eq!(csv_error(&long), (2, 6, "expected 5 fields, got 7".into()));
        assert_eq!(csv_error(&format!("{h} \n")).1, 2);
    }

    #[test]
    fn invalid_utf8_is_refused_naming_the_field() {
        let subject = "ab".repeat(32);
        let mut input =
            format!("subject,scope,target,since,until\n{subject},interest,ba").into_bytes();
        input.extend_from_slice(b"\xc3(by,2026-03-01T00:00:00Z,\n");
        match SuppressionList::from_csv_with(&input, ReadLimits::default()) {
            Err(ExportError::Csv {
                line: 2,
                column: 3,
                message,
            }) => assert!(message.starts_with("field is not utf-8: "), "{message}"),
            other => panic!("{other:?}"),
        }
        // In a quoted field on a later line, and in the header.
        let mut input = b"subject,scope,target,since,until\n\"a\nb\xff\"".to_vec();
        input.push(b'\n');
        assert!(matches!(
            SuppressionList::from_csv_with(&input, ReadLimits::default()),
            Err(ExportError::Csv {
                line: 2,
                column: 1,
                ..
            })
        ));
        assert!(matches!(
            SuppressionList::from_csv_with(b"subject,sc\x80ope\n", ReadLimits::default()),
            Err(ExportError::Csv {
                line: 1,
                column: 2,
                ..
            })
        ));
    }

    #[test]
    fn carriage_returns_need_a_line_feed_outside_quotes() {
        assert!(matches!(
            parse("a\r\rb\n"),
            Err(ExportError::Csv {
                line: 1,
                column: 1,
                ..
            })
        ));
        assert!(matches!(
            parse("a,b\n\r"),
            Err(ExportError::Csv {
                line: 2,
                column: 1,
                ..
            })
        ));
        assert!(matches!(
            parse("a,b\rc"),
            Err(ExportError::Csv {
                line: 1,
                column: 2,
                ..
            })
        ));
        assert_eq!(
            parse("\"a\rb\"\r\n").unwrap(),
            [(1, vec!["a\rb".to_owned()])]
        );
    }

    /// A field as it may be written: bare when it can be, or quoted.
    fn written(field: &str, quote: bool) -> String {
        if quote || field.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_owned()
        }
    }

    proptest::proptest! {
        /// Every RFC 4180 writing of some records (each field bare or
        /// quoted, `\n` or `\r\n`, blank lines between) reads back as the
        /// same fields, each on the line it starts on.
        #[test]
        fn any_rfc_4180_writing_reads_back_the_same_records(
            records in proptest::collection::vec(
                proptest::collection::vec(("[a-c,\"\r\n é]{0,6}", proptest::bool::ANY), 1..4),
                0..5,
            ),
            crlf in proptest::bool::ANY,
            blank in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            let mut expected = Vec::new();
            let mut line = 1;
            for record in &records {
                // A record of one empty bare field is a blank line.
                if record.len() == 1 && record[0].0.is_empty() && !record[0].1 {
                    continue;
                }
                if blank {
                    text.push_str(end);
                    line += 1;
                }
                let fields: Vec<String> = record.iter().map(|(f, q)| written(f, *q)).collect();
                let raw = fields.join(",");
                expected.push((line, record.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>()));
                line += raw.matches('\n').count() + 1;
                text.push_str(&raw);
                text.push_str(end);
            }
            proptest::prop_assert_eq!(parse(&text).unwrap(), expected);
        }
    }
}
