//! One exported suppression ([`SuppressionEntry`]), its errors, and its
//! JSON and RFC 3339 forms.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::key::{InvalidSubjectKey, SubjectKey};
use super::scope::{valid_path, ExportScope};

/// Why an entry, or one field of it, is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The subject is not 64 hex digits.
    #[error(transparent)]
    Subject(#[from] InvalidSubjectKey),
    /// The scope is not one of `all`, `channel`, `purpose`, `interest`,
    /// `channel_purpose`.
    #[error("unknown scope {0:?}: expected all, channel, purpose, interest or channel_purpose")]
    UnknownScope(String),
    /// A channel name this version does not know.
    #[error("unknown channel {0:?}")]
    UnknownChannel(String),
    /// A purpose name this version does not know.
    #[error("unknown purpose {0:?}")]
    UnknownPurpose(String),
    /// An interest path with an empty segment, surrounding whitespace in a
    /// segment, or a leading or trailing slash.
    #[error("invalid interest path {0:?}")]
    InvalidPath(String),
    /// A channel, purpose, channel-purpose or interest scope without a
    /// target.
    #[error("scope {scope} needs a target")]
    MissingTarget {
        /// The scope kind.
        scope: &'static str,
    },
    /// Scope `all` with a target.
    #[error("scope all takes no target, got {0:?}")]
    UnexpectedTarget(String),
    /// Text that is not an RFC 3339 instant.
    #[error("invalid {field} instant {value:?}: {reason}")]
    InvalidInstant {
        /// `since` or `until`.
        field: &'static str,
        /// The text.
        value: String,
        /// What the parser said.
        reason: String,
    },
    /// An instant that RFC 3339 cannot write in UTC (years 0 to 9999).
    #[error("instant {0} is outside the years 0 to 9999")]
    OutOfRange(OffsetDateTime),
    /// `until` is not after `since`.
    #[error("until {until} is not after since {since}")]
    EmptyWindow {
        /// Start.
        since: OffsetDateTime,
        /// End.
        until: OffsetDateTime,
    },
}

/// One exported suppression: who (pseudonymously), what, from when and until
/// when. There is deliberately no reason.
///
/// Instants are held in UTC and within the years 0 to 9999, so that every
/// entry can be written as RFC 3339 and read back equal.
///
/// In serde (and each JSON Lines record) it is
/// `{"subject":"<64 hex>","scope":"interest","target":"baby","since":"2026-03-01T00:00:00Z"}`
/// with `"until"` present when the suppression ends. Unknown fields are
/// ignored when reading, so newer writers can add fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "EntryRepr", into = "EntryRepr")]
pub struct SuppressionEntry {
    // Field order is the sort order: by subject first, so a list can find a
    // subject's entries by binary search.
    pub(super) subject: SubjectKey,
    pub(super) scope: ExportScope,
    pub(super) since: OffsetDateTime,
    pub(super) until: Option<OffsetDateTime>,
}

impl SuppressionEntry {
    /// An entry; the instants are converted to UTC.
    ///
    /// # Errors
    /// [`EntryError::InvalidPath`] for an interest scope with an invalid
    /// path, [`EntryError::OutOfRange`] for an instant outside the years 0
    /// to 9999 in UTC, [`EntryError::EmptyWindow`] if `until <= since`.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportScope, KeySecret, SubjectKey, SuppressionEntry};
    /// use time::macros::datetime;
    ///
    /// let key = SubjectKey::derive(&KeySecret::new([7u8; 32])?, "anna@example.org");
    /// let since = datetime!(2026-03-01 1:00 +01:00);
    /// let e = SuppressionEntry::new(key, ExportScope::Interest("baby".into()), since, None)?;
    /// assert_eq!(e.since(), datetime!(2026-03-01 0:00 UTC));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        subject: SubjectKey,
        scope: ExportScope,
        since: OffsetDateTime,
        until: Option<OffsetDateTime>,
    ) -> Result<Self, EntryError> {
        let (since, until) = Self::check(&scope, since, until)?;
        Ok(Self {
            subject,
            scope,
            since,
            until,
        })
    }

    /// The checks of [`new`](Self::new), without a subject: the window in
    /// UTC. Lets a batch report an invalid suppression of a profile that
    /// has no key.
    pub(super) fn check(
        scope: &ExportScope,
        since: OffsetDateTime,
        until: Option<OffsetDateTime>,
    ) -> Result<(OffsetDateTime, Option<OffsetDateTime>), EntryError> {
        if let ExportScope::Interest(path) = scope {
            if !valid_path(path) {
                return Err(EntryError::InvalidPath(path.clone()));
            }
        }
        let since = canonical(since)?;
        let until = until.map(canonical).transpose()?;
        if let Some(until) = until {
            if until <= since {
                return Err(EntryError::EmptyWindow { since, until });
            }
        }
        Ok((since, until))
    }

    /// Reads an entry from the five text fields of the formats (the CSV
    /// columns): subject hex, scope kind, target, since and until (RFC
    /// 3339, until empty when open-ended).
    ///
    /// # Errors
    /// The [`EntryError`] of the first invalid field, in column order.
    pub fn from_fields(
        subject: &str,
        scope: &str,
        target: &str,
        since: &str,
        until: &str,
    ) -> Result<Self, EntryError> {
        Self::from_fields_at(subject, scope, target, since, until).map_err(|(_, e)| e)
    }

    /// Like [`from_fields`](Self::from_fields), with the 1-based column of
    /// the field at fault.
    pub(super) fn from_fields_at(
        subject: &str,
        scope: &str,
        target: &str,
        since: &str,
        until: &str,
    ) -> Result<Self, (usize, EntryError)> {
        let until = (!until.is_empty()).then_some(until);
        Self::from_text_at(subject, scope, target, since, until)
    }

    /// Like [`from_fields_at`](Self::from_fields_at), with `until` absent
    /// rather than empty when open-ended (as in JSON, where an empty
    /// `until` is an invalid instant).
    pub(super) fn from_text_at(
        subject: &str,
        scope: &str,
        target: &str,
        since: &str,
        until: Option<&str>,
    ) -> Result<Self, (usize, EntryError)> {
        let subject: SubjectKey = subject.parse().map_err(|e| (1, EntryError::from(e)))?;
        let scope = match ExportScope::from_parts(scope, target) {
            Ok(s) => s,
            Err(e @ EntryError::UnknownScope(_)) => return Err((2, e)),
            Err(e) => return Err((3, e)),
        };
        let since = parse_instant("since", since).map_err(|e| (4, e))?;
        let until = until
            .map(|u| parse_instant("until", u).map_err(|e| (5, e)))
            .transpose()?;
        Self::new(subject, scope, since, until).map_err(|e| {
            let column = match e {
                EntryError::OutOfRange(t) if Some(t) == until => 5,
                EntryError::EmptyWindow { .. } => 5,
                _ => 4,
            };
            (column, e)
        })
    }

    /// The pseudonymous subject.
    #[must_use]
    pub fn subject(&self) -> &SubjectKey {
        &self.subject
    }

    /// What it covers.
    #[must_use]
    pub fn scope(&self) -> &ExportScope {
        &self.scope
    }

    /// Start (inclusive), in UTC.
    #[must_use]
    pub fn since(&self) -> OffsetDateTime {
        self.since
    }

    /// End (exclusive) in UTC, or `None` while open-ended.
    #[must_use]
    pub fn until(&self) -> Option<OffsetDateTime> {
        self.until
    }

    /// Whether it is in force at `now`: `since <= now < until`.
    #[must_use]
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.since <= now && self.until.is_none_or(|u| now < u)
    }

    /// Appends the entry as one JSON object (no newline).
    pub(super) fn write_json(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "{{\"subject\":\"{}\",\"scope\":\"{}\"",
            self.subject,
            self.scope.kind()
        )?;
        let target = self.scope.target();
        if !target.is_empty() {
            out.push_str(",\"target\":");
            write_json_string(out, &target)?;
        }
        write!(out, ",\"since\":\"{}\"", Rfc3339Utc(self.since))?;
        if let Some(u) = self.until {
            write!(out, ",\"until\":\"{}\"", Rfc3339Utc(u))?;
        }
        out.push('}');
        Ok(())
    }
}

/// UTC, within the years RFC 3339 can write.
fn canonical(t: OffsetDateTime) -> Result<OffsetDateTime, EntryError> {
    t.checked_to_offset(UtcOffset::UTC)
        .filter(|u| (0..=9999).contains(&u.year()))
        .ok_or(EntryError::OutOfRange(t))
}

fn parse_instant(field: &'static str, value: &str) -> Result<OffsetDateTime, EntryError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|e| EntryError::InvalidInstant {
        field,
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

/// Writes a canonical (UTC, year 0 to 9999) instant as RFC 3339 without
/// going through a fallible formatter: `2026-03-01T00:00:00.5Z`.
#[derive(Clone, Copy)]
pub(super) struct Rfc3339Utc(pub(super) OffsetDateTime);

impl fmt::Display for Rfc3339Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let nanos = t.nanosecond();
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_char('Z')
    }
}

impl Serialize for Rfc3339Utc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn write_json_string(out: &mut String, s: &str) -> fmt::Result {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct EntryRepr {
    subject: SubjectKey,
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(
        serialize_with = "ser_instant",
        deserialize_with = "time::serde::rfc3339::deserialize"
    )]
    since: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_instant",
        deserialize_with = "time::serde::rfc3339::option::deserialize"
    )]
    until: Option<OffsetDateTime>,
}

fn ser_instant<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    Rfc3339Utc(*t).serialize(s)
}

// serde's `serialize_with` hands over `&Option<T>`.
#[allow(clippy::ref_option)]
fn ser_opt_instant<S: serde::Serializer>(
    t: &Option<OffsetDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    t.map(Rfc3339Utc).serialize(s)
}

impl TryFrom<EntryRepr> for SuppressionEntry {
    type Error = EntryError;
    fn try_from(r: EntryRepr) -> Result<Self, Self::Error> {
        let scope = ExportScope::from_parts(&r.scope, r.target.as_deref().unwrap_or(""))?;
        Self::new(r.subject, scope, r.since, r.until)
    }
}

impl From<SuppressionEntry> for EntryRepr {
    fn from(e: SuppressionEntry) -> Self {
        let target = e.scope.target();
        Self {
            subject: e.subject,
            scope: e.scope.kind().to_owned(),
            target: (!target.is_empty()).then(|| target.into_owned()),
            since: e.since,
            until: e.until,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::export::SuppressionList;
    use time::macros::datetime;

    fn key(b: u8) -> SubjectKey {
        SubjectKey::from_bytes([b; 32])
    }

    #[test]
    fn entries_are_utc_and_checked() {
        let e = SuppressionEntry::new(
            key(1),
            ExportScope::All,
            datetime!(2026-03-01 2:00 +02:00),
            Some(datetime!(2026-03-02 0:00 UTC)),
        )
        .unwrap();
        assert_eq!(e.since().offset(), UtcOffset::UTC);
        assert_eq!(e.since(), datetime!(2026-03-01 0:00 UTC));
        let t = datetime!(2026-03-01 0:00 UTC);
        assert_eq!(
            SuppressionEntry::new(key(1), ExportScope::All, t, Some(t)),
            Err(EntryError::EmptyWindow { since: t, until: t })
        );
        let far = datetime!(9999-12-31 23:30 -01:00);
        assert_eq!(
            SuppressionEntry::new(key(1), ExportScope::All, far, None),
            Err(EntryError::OutOfRange(far))
        );
        // In range locally, not in UTC.
        let edge = datetime!(0000-01-01 0:30 +01:00);
        assert!(SuppressionEntry::new(key(1), ExportScope::All, edge, None).is_err());
        assert_eq!(
            SuppressionEntry::new(key(1), ExportScope::Interest("a//b".into()), t, None),
            Err(EntryError::InvalidPath("a//b".into()))
        );
    }

    #[test]
    fn hand_written_json_equals_serde() {
        let paths = ["baby", "a \"quoted\"/path,\n\twith\\ctl\u{1}", "ünï/cødé"];
        let mut list = SuppressionList::new();
        for (i, p) in paths.iter().enumerate() {
            let since = datetime!(2026-03-01 0:00:00.000_120 UTC);
            let until = (i % 2 == 0).then_some(datetime!(2026-09-01 12:34:56.5 UTC));
            list.insert(
                SuppressionEntry::new(
                    key(i as u8),
                    ExportScope::Interest((*p).into()),
                    since,
                    until,
                )
                .unwrap(),
            );
        }
        list.insert(
            SuppressionEntry::new(
                key(9),
                ExportScope::All,
                datetime!(0000-01-01 0:00 UTC),
                None,
            )
            .unwrap(),
        );
        for (line, e) in list.to_jsonl().lines().zip(list.iter()) {
            assert_eq!(line, serde_json::to_string(e).unwrap());
            assert_eq!(&serde_json::from_str::<SuppressionEntry>(line).unwrap(), e);
        }
        assert!(list
            .to_jsonl()
            .contains("\"since\":\"2026-03-01T00:00:00.00012Z\""));
        assert!(list
            .to_jsonl()
            .contains("\"since\":\"0000-01-01T00:00:00Z\""));
        assert_eq!(SuppressionList::from_jsonl(&list.to_jsonl()).unwrap(), list);
    }
}
