//! CSV: `subject,scope,target,since,until`, RFC 4180 quoting.

use std::fmt::Write as _;

use super::entry::{Rfc3339Utc, SuppressionEntry};
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

    /// Reads CSV as written by [`to_csv`](Self::to_csv): the header line
    /// first (a leading byte-order mark is skipped), then one record per
    /// entry. Line ends may be `\n` or `\r\n`; blank lines are skipped;
    /// quoted fields may contain commas, doubled quotes and line breaks.
    ///
    /// # Errors
    /// [`ExportError::Csv`] with the line and the column (1 = `subject` ...
    /// 5 = `until`) of the first problem: a wrong header, a wrong number of
    /// fields, broken quoting, or an invalid value (unknown scope, channel
    /// or purpose, bad interest path, subject or instant).
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
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        let mut records = Records::new(input);
        let err = |line, column, message: String| ExportError::Csv {
            line,
            column,
            message,
        };
        let Some(header) = records.next().transpose()? else {
            return Err(err(1, 1, "missing header line".to_owned()));
        };
        for (i, expected) in HEADER.iter().enumerate() {
            let got = header.fields.get(i).map(String::as_str);
            if got != Some(*expected) {
                return Err(err(
                    header.line,
                    i + 1,
                    format!("expected header field {expected:?}, got {got:?}"),
                ));
            }
        }
        if let Some(extra) = header.fields.get(HEADER.len()) {
            return Err(err(
                header.line,
                HEADER.len() + 1,
                format!("unexpected header field {extra:?}"),
            ));
        }
        let mut entries = Vec::new();
        for record in records {
            let record = record?;
            let [subject, scope, target, since, until] =
                match <[String; 5]>::try_from(record.fields) {
                    Ok(fields) => fields,
                    Err(fields) if fields.len() < HEADER.len() => {
                        let missing = HEADER.get(fields.len()).copied().unwrap_or_default();
                        return Err(err(
                            record.line,
                            fields.len() + 1,
                            format!(
                                "missing field {missing:?}: expected 5 fields, got {}",
                                fields.len()
                            ),
                        ));
                    }
                    Err(fields) => {
                        return Err(err(
                            record.line,
                            HEADER.len() + 1,
                            format!("expected 5 fields, got {}", fields.len()),
                        ));
                    }
                };
            let entry = SuppressionEntry::from_fields_at(&subject, &scope, &target, &since, &until)
                .map_err(|(column, e)| err(record.line, column, e.to_string()))?;
            entries.push(entry);
        }
        Ok(Self::from(entries))
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

/// One CSV record and the line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// An RFC 4180 record reader that tracks line numbers across quoted line
/// breaks.
struct Records<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(input: &'a str) -> Self {
        Self {
            chars: input.chars().peekable(),
            line: 1,
        }
    }

    /// Consumes a line end if one is next (`\n` or `\r\n`); `Ok(false)` if
    /// something else is next.
    fn line_end(&mut self, column: usize) -> Result<bool, ExportError> {
        match self.chars.peek() {
            Some('\n') => {
                self.chars.next();
                self.line += 1;
                Ok(true)
            }
            Some('\r') => {
                self.chars.next();
                if self.chars.next_if_eq(&'\n').is_some() {
                    self.line += 1;
                    Ok(true)
                } else {
                    Err(ExportError::Csv {
                        line: self.line,
                        column,
                        message: "carriage return without line feed outside quotes".to_owned(),
                    })
                }
            }
            _ => Ok(false),
        }
    }

    fn record(&mut self) -> Result<Record, ExportError> {
        let start = self.line;
        let mut fields = Vec::new();
        loop {
            let column = fields.len() + 1;
            let mut field = String::new();
            if self.chars.next_if_eq(&'"').is_some() {
                let opened = self.line;
                loop {
                    match self.chars.next() {
                        None => {
                            return Err(ExportError::Csv {
                                line: opened,
                                column,
                                message: "unterminated quoted field".to_owned(),
                            })
                        }
                        Some('"') => {
                            if self.chars.next_if_eq(&'"').is_some() {
                                field.push('"');
                            } else {
                                break;
                            }
                        }
                        Some(c) => {
                            if c == '\n' {
                                self.line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                match self.chars.peek() {
                    None | Some(',' | '\n' | '\r') => {}
                    Some(c) => {
                        return Err(ExportError::Csv {
                            line: self.line,
                            column,
                            message: format!("unexpected {c:?} after closing quote"),
                        })
                    }
                }
            } else {
                while let Some(c) = self.chars.next_if(|c| !matches!(c, ',' | '\n' | '\r')) {
                    if c == '"' {
                        return Err(ExportError::Csv {
                            line: self.line,
                            column,
                            message: format!(
                                "quote inside unquoted field {field:?}; quote the whole field"
                            ),
                        });
                    }
                    field.push(c);
                }
            }
            fields.push(field);
            if self.chars.next_if_eq(&',').is_some() {
                continue;
            }
            // End of record: a line end or the end of input.
            self.line_end(column)?;
            return Ok(Record {
                line: start,
                fields,
            });
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.chars.peek()?;
            // Blank lines are not records.
            match self.line_end(1) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return Some(Err(e)),
            }
            return Some(self.record());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::export::ExportScope;
    use time::macros::datetime;

    fn parse(input: &str) -> Result<Vec<(usize, Vec<String>)>, ExportError> {
        Records::new(input)
            .map(|r| r.map(|r| (r.line, r.fields)))
            .collect()
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
    }
}
