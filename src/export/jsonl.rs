//! JSON Lines: one [`SuppressionEntry`] per line.

use super::entry::SuppressionEntry;
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

    /// Reads JSON Lines as written by [`to_jsonl`](Self::to_jsonl). Blank
    /// lines are skipped, `\r\n` line ends accepted, unknown fields
    /// ignored, instants in any offset converted to UTC.
    ///
    /// # Errors
    /// [`ExportError::Jsonl`] with the line and column of the first record
    /// that is not valid JSON or not a valid entry.
    pub fn from_jsonl(input: &str) -> Result<Self, ExportError> {
        let mut entries = Vec::new();
        for (n, line) in input.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str::<SuppressionEntry>(line).map_err(|e| {
                let message = e.to_string();
                let suffix = format!(" at line {} column {}", e.line(), e.column());
                ExportError::Jsonl {
                    line: n + 1,
                    column: e.column(),
                    message: message
                        .strip_suffix(&suffix)
                        .map_or(message.clone(), str::to_owned),
                }
            })?;
            entries.push(entry);
        }
        Ok(Self::from(entries))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
}
