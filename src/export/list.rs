//! The exported entries and the list that holds them, with JSON Lines.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::feed::{ChangeKind, FeedChange};
use super::key::{InvalidSubjectKey, KeySecret, SubjectKey};
use super::problem::{self, Export, ExportProblem, ProblemKind};
use super::ExportError;
use crate::consent::Purpose;
use crate::profile::Profile;
use crate::suppression::{Channel, Scope};
use crate::taxonomy::{InterestId, Taxonomy};

/// What an exported suppression covers. Like [`Scope`], but an interest is
/// named by its taxonomy path (`baby/food`): partners do not share our
/// [`InterestId`](crate::InterestId)s.
///
/// In serde it is `{"scope": "interest", "target": "baby"}`; `target` is
/// absent for [`ExportScope::All`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "ScopeRepr", into = "ScopeRepr")]
#[non_exhaustive]
pub enum ExportScope {
    /// Everything: no use of data, no message on any channel, service
    /// messages included.
    All,
    /// Every message on one channel.
    Channel(Channel),
    /// Every use for one purpose.
    Purpose(Purpose),
    /// An interest path and its whole subtree: `baby` covers `baby/food`
    /// but not `babyx`.
    Interest(String),
    /// Messages on one channel for one purpose ("no marketing e-mails").
    /// Written with the target `channel/purpose`, as `email/marketing`.
    ChannelPurpose(Channel, Purpose),
}

impl ExportScope {
    /// The scope's kind as written in the formats: `all`, `channel`,
    /// `purpose` or `interest`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Channel(_) => "channel",
            Self::Purpose(_) => "purpose",
            Self::Interest(_) => "interest",
            Self::ChannelPurpose(..) => "channel_purpose",
        }
    }

    /// The target as written in the formats: the channel or purpose name
    /// (`post`, `marketing`) or the interest path; empty for
    /// [`ExportScope::All`].
    #[must_use]
    pub fn target(&self) -> Cow<'_, str> {
        match self {
            Self::All => Cow::Borrowed(""),
            Self::Channel(c) => Cow::Owned(c.to_string()),
            Self::Purpose(p) => Cow::Borrowed(p.name()),
            Self::Interest(path) => Cow::Borrowed(path),
            Self::ChannelPurpose(c, p) => Cow::Owned(format!("{c}/{}", p.name())),
        }
    }

    /// Reads a scope from its kind and target, as in the formats.
    ///
    /// # Errors
    /// [`EntryError`] naming the unknown kind, channel or purpose, the
    /// invalid interest path, or a missing or unexpected target.
    ///
    /// # Example
    /// ```
    /// use tactful::export::ExportScope;
    /// use tactful::Channel;
    ///
    /// assert_eq!(ExportScope::from_parts("channel", "post")?, ExportScope::Channel(Channel::Post));
    /// assert_eq!(ExportScope::from_parts("all", "")?, ExportScope::All);
    /// assert!(ExportScope::from_parts("channel", "fax").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_parts(kind: &str, target: &str) -> Result<Self, EntryError> {
        let named = |what: &'static str| -> Result<&str, EntryError> {
            if target.is_empty() {
                Err(EntryError::MissingTarget { scope: what })
            } else {
                Ok(target)
            }
        };
        match kind {
            "all" if target.is_empty() => Ok(Self::All),
            "all" => Err(EntryError::UnexpectedTarget(target.to_owned())),
            "channel" => parse_unit::<Channel>(named("channel")?)
                .map(Self::Channel)
                .ok_or_else(|| EntryError::UnknownChannel(target.to_owned())),
            "purpose" => parse_unit::<Purpose>(named("purpose")?)
                .map(Self::Purpose)
                .ok_or_else(|| EntryError::UnknownPurpose(target.to_owned())),
            "interest" => {
                let path = named("interest")?;
                if valid_path(path) {
                    Ok(Self::Interest(path.to_owned()))
                } else {
                    Err(EntryError::InvalidPath(path.to_owned()))
                }
            }
            "channel_purpose" => {
                let both = named("channel_purpose")?;
                let (c, p) = both
                    .split_once('/')
                    .ok_or_else(|| EntryError::UnknownChannel(both.to_owned()))?;
                let channel = parse_unit::<Channel>(c)
                    .ok_or_else(|| EntryError::UnknownChannel(c.to_owned()))?;
                let purpose = parse_unit::<Purpose>(p)
                    .ok_or_else(|| EntryError::UnknownPurpose(p.to_owned()))?;
                Ok(Self::ChannelPurpose(channel, purpose))
            }
            other => Err(EntryError::UnknownScope(other.to_owned())),
        }
    }

    /// Whether a message on `channel` for `purpose`, about `interest_path`
    /// if it is about an interest, falls under this scope. Mirrors
    /// [`Engine::decide`](crate::Engine::decide):
    ///
    /// - `All` covers everything;
    /// - `Channel(c)` covers messages on `c`;
    /// - `Purpose(p)` covers messages for `p`, and a personalization
    ///   suppression also covers every message about an interest (choosing
    ///   whom to tell about `baby/food` is personalization);
    /// - `Interest(root)` covers messages about `root` and its subtree
    ///   (`baby` covers `baby/food`, not `babyx`), and messages about an
    ///   ancestor of `root` (a message about `baby` in general may well
    ///   be about `baby/food`). Paths compare exactly, case included.
    #[must_use]
    pub fn covers(&self, channel: Channel, purpose: Purpose, interest_path: Option<&str>) -> bool {
        match self {
            Self::All => true,
            Self::Channel(c) => *c == channel,
            Self::ChannelPurpose(c, p) => *c == channel && *p == purpose,
            Self::Purpose(p) => {
                *p == purpose || (*p == Purpose::Personalization && interest_path.is_some())
            }
            Self::Interest(root) => interest_path.is_some_and(|path| {
                crate::profile::path_within(path, root) || crate::profile::path_within(root, path)
            }),
        }
    }

    /// The exported form of a suppression's scope; the unknown interest on
    /// failure. The one place where an interest handle becomes its path.
    pub(super) fn from_scope(scope: Scope, taxonomy: &Taxonomy) -> Result<Self, InterestId> {
        Ok(match scope {
            Scope::All => Self::All,
            Scope::Channel(c) => Self::Channel(c),
            Scope::Purpose(p) => Self::Purpose(p),
            Scope::Interest(i) => Self::Interest(taxonomy.path(i).ok_or(i)?.to_owned()),
            Scope::ChannelPurpose { channel, purpose } => Self::ChannelPurpose(channel, purpose),
        })
    }
}

/// The taxonomy's path rule: non-empty segments without surrounding
/// whitespace, separated by single slashes.
fn valid_path(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(|s| !s.is_empty() && s.trim() == s)
}

/// Reads a unit variant by its serde name, so new channels and purposes
/// are understood without a second list of names here.
fn parse_unit<'de, T: Deserialize<'de>>(name: &'de str) -> Option<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(name)).ok()
}

#[derive(Serialize, Deserialize)]
struct ScopeRepr {
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

impl TryFrom<ScopeRepr> for ExportScope {
    type Error = EntryError;
    fn try_from(r: ScopeRepr) -> Result<Self, Self::Error> {
        Self::from_parts(&r.scope, r.target.as_deref().unwrap_or(""))
    }
}

impl From<ExportScope> for ScopeRepr {
    fn from(s: ExportScope) -> Self {
        let target = s.target();
        Self {
            scope: s.kind().to_owned(),
            target: (!target.is_empty()).then(|| target.into_owned()),
        }
    }
}

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
    /// A channel, purpose or interest scope without a target.
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
    subject: SubjectKey,
    scope: ExportScope,
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
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
    fn check(
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
        let subject: SubjectKey = subject.parse().map_err(|e| (1, EntryError::from(e)))?;
        let scope = match ExportScope::from_parts(scope, target) {
            Ok(s) => s,
            Err(e @ EntryError::UnknownScope(_)) => return Err((2, e)),
            Err(e) => return Err((3, e)),
        };
        let since = parse_instant("since", since).map_err(|e| (4, e))?;
        let until = if until.is_empty() {
            None
        } else {
            Some(parse_instant("until", until).map_err(|e| (5, e))?)
        };
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
    fn write_json(&self, out: &mut String) -> fmt::Result {
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

/// The suppressions to share with a partner: one [`SuppressionEntry`] per
/// suppression active at the export's `now`, without duplicates, sorted.
///
/// The operator builds it with [`from_profiles`](Self::from_profiles) and
/// writes it with [`to_jsonl`](Self::to_jsonl) or [`to_csv`](Self::to_csv);
/// the partner reads it back with [`from_jsonl`](Self::from_jsonl) or
/// [`from_csv`](Self::from_csv), derives the [`SubjectKey`] of each person it
/// is about to contact with the same [`KeySecret`], and asks
/// [`is_suppressed`](Self::is_suppressed).
///
/// In serde it is a sequence of entries (read back sorted and deduplicated).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "Vec<SuppressionEntry>", into = "Vec<SuppressionEntry>")]
pub struct SuppressionList {
    // Sorted and deduplicated.
    entries: Vec<SuppressionEntry>,
}

impl SuppressionList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Exports the suppressions of `profiles` active at `now`: the list of
    /// everyone whose record is fine, and beside it the problems of the
    /// records that are not. One odd record never fails the batch.
    ///
    /// Each item pairs a profile with the identifier the partner also holds
    /// (the e-mail address, a customer id), which is [`normalize`]d and
    /// keyed with `secret`. Suppressions that have ended or not yet begun
    /// at `now` are left out; the reason of a suppression is never
    /// exported. Identical entries (the same person suppressed twice for
    /// the same scope and window, for different reasons) appear once.
    ///
    /// # Problems
    /// Reported in [`Export::problems`], each naming the item's position
    /// and profile; everything else is exported:
    /// - [`ProblemKind::UnknownInterest`]: an active suppression names an
    ///   interest that `taxonomy` does not know. That suppression is left
    ///   out, the profile's others are exported.
    /// - [`ProblemKind::InvalidEntry`]: an active suppression has an
    ///   instant outside the years 0 to 9999 ([`EntryError::OutOfRange`]).
    ///   That suppression is left out, the profile's others are exported.
    /// - [`ProblemKind::EmptyIdentifier`]: the identifier is empty after
    ///   trimming and the profile has at least one suppression to export.
    ///   Nothing of the profile is exported (it would share its key with
    ///   everyone else without one); its suppressions are still checked,
    ///   so all of a record's problems come in one run.
    ///
    /// A profile without an active suppression is never keyed, so its
    /// identifier may be empty.
    ///
    /// [`normalize`]: super::normalize
    ///
    /// # Example
    /// ```
    /// use tactful::export::{KeySecret, SubjectKey, SuppressionList};
    /// use tactful::{Channel, Profile, Purpose, Reason, Scope, Suppression, Taxonomy};
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let t = datetime!(2026-03-01 0:00 UTC);
    /// let mut anna = Profile::new("anna");
    /// let s = Suppression::new(Scope::Channel(Channel::Phone), Reason::DoNotContact, t);
    /// # // Profiles are changed through the engine; tests use it directly.
    /// # let engine = tactful::Engine::new(taxonomy.clone(), tactful::DecayPolicy::default());
    /// engine.suppress(&mut anna, s, t);
    ///
    /// let secret = KeySecret::new([42u8; 32])?;
    /// let export = SuppressionList::from_profiles(&taxonomy, [(&anna, "anna@example.org")], &secret, t);
    /// for problem in &export.problems {
    ///     eprintln!("not exported: {problem}");
    /// }
    /// assert!(export.is_complete());
    /// let list = export.list;
    /// let key = SubjectKey::derive(&secret, "ANNA@example.org");
    /// assert!(list.contains(&key));
    /// assert!(list.is_suppressed(&key, Channel::Phone, Purpose::Service, None, t));
    /// assert!(!list.is_suppressed(&key, Channel::Email, Purpose::Service, None, t));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_profiles<'p, 'i>(
        taxonomy: &Taxonomy,
        profiles: impl IntoIterator<Item = (&'p Profile, &'i str)>,
        secret: &KeySecret,
        now: OffsetDateTime,
    ) -> Export<Self> {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (position, (profile, identifier)) in (1..).zip(profiles) {
            let blank = identifier.trim().is_empty();
            let mut key = None;
            let mut unkeyed = false;
            for active in problem::active(profile, taxonomy, now) {
                let checked = active.scope.and_then(|scope| {
                    match SuppressionEntry::check(&scope, active.since, active.until) {
                        Ok((since, until)) => Ok((scope, since, until)),
                        Err(error) => Err(ProblemKind::InvalidEntry { scope, error }),
                    }
                });
                let (scope, since, until) = match checked {
                    Ok(fine) => fine,
                    Err(kind) => {
                        problems.push(ExportProblem::new(position, profile, kind));
                        continue;
                    }
                };
                if blank {
                    unkeyed = true;
                    continue;
                }
                // Keyed once per item, and only if something is exported.
                let subject = *key.get_or_insert_with(|| SubjectKey::derive(secret, identifier));
                entries.push(SuppressionEntry {
                    subject,
                    scope,
                    since,
                    until,
                });
            }
            if unkeyed {
                problems.push(ExportProblem::new(
                    position,
                    profile,
                    ProblemKind::EmptyIdentifier,
                ));
            }
        }
        Export {
            list: Self::from(entries),
            problems,
        }
    }

    /// Adds an entry; `false` if it was already present.
    pub fn insert(&mut self, entry: SuppressionEntry) -> bool {
        match self.entries.binary_search(&entry) {
            Ok(_) => false,
            Err(at) => {
                self.entries.insert(at, entry);
                true
            }
        }
    }

    /// Removes an entry; `false` if it was not present.
    pub fn remove(&mut self, entry: &SuppressionEntry) -> bool {
        match self.entries.binary_search(entry) {
            Ok(at) => {
                self.entries.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Applies the changes of a [`SuppressionFeed`](super::SuppressionFeed)
    /// in order: the partner's side of polling.
    pub fn apply<'c>(&mut self, changes: impl IntoIterator<Item = &'c FeedChange>) {
        for c in changes {
            match c.kind {
                ChangeKind::Added => {
                    self.insert(c.entry.clone());
                }
                ChangeKind::Removed => {
                    self.remove(&c.entry);
                }
            }
        }
    }

    /// Drops the entries that have ended by `now` (`until <= now`); returns
    /// how many. Entries that have not yet begun are kept.
    pub fn remove_ended(&mut self, now: OffsetDateTime) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| e.until.is_none_or(|u| now < u));
        before - self.entries.len()
    }

    /// Whether the list has any entry, active or not, for `subject`.
    #[must_use]
    pub fn contains(&self, subject: &SubjectKey) -> bool {
        !self.entries_for(subject).is_empty()
    }

    /// The entries of one subject.
    #[must_use]
    pub fn entries_for(&self, subject: &SubjectKey) -> &[SuppressionEntry] {
        let start = self.entries.partition_point(|e| e.subject < *subject);
        let len = self
            .entries
            .get(start..)
            .map_or(0, |rest| rest.partition_point(|e| e.subject == *subject));
        self.entries.get(start..start + len).unwrap_or(&[])
    }

    /// Whether a message to `subject` on `channel` for `purpose`, about
    /// `interest_path` if it is about an interest, must not be sent at
    /// `now`: some entry of the subject is active at `now` and
    /// [covers](ExportScope::covers) it.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{ExportScope, KeySecret, SubjectKey, SuppressionEntry, SuppressionList};
    /// use tactful::{Channel, Purpose};
    /// use time::macros::datetime;
    ///
    /// let key = SubjectKey::derive(&KeySecret::new([1u8; 16])?, "anna@example.org");
    /// let since = datetime!(2026-03-01 0:00 UTC);
    /// let mut list = SuppressionList::new();
    /// list.insert(SuppressionEntry::new(key, ExportScope::Interest("baby".into()), since, None)?);
    ///
    /// let now = datetime!(2026-10-01 0:00 UTC);
    /// assert!(list.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("baby/food"), now));
    /// assert!(!list.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("babyx"), now));
    /// assert!(!list.is_suppressed(&key, Channel::Post, Purpose::Marketing, Some("garden"), now));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_suppressed(
        &self,
        subject: &SubjectKey,
        channel: Channel,
        purpose: Purpose,
        interest_path: Option<&str>,
        now: OffsetDateTime,
    ) -> bool {
        self.entries_for(subject)
            .iter()
            .any(|e| e.is_active(now) && e.scope.covers(channel, purpose, interest_path))
    }

    /// All entries, sorted by subject, scope and window.
    #[must_use]
    pub fn entries(&self) -> &[SuppressionEntry] {
        &self.entries
    }

    /// Iterates over the entries.
    pub fn iter(&self) -> std::slice::Iter<'_, SuppressionEntry> {
        self.entries.iter()
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

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
        let mut out = String::with_capacity(self.entries.len() * 160);
        for e in &self.entries {
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

impl From<Vec<SuppressionEntry>> for SuppressionList {
    fn from(mut entries: Vec<SuppressionEntry>) -> Self {
        entries.sort_unstable();
        entries.dedup();
        Self { entries }
    }
}

impl From<SuppressionList> for Vec<SuppressionEntry> {
    fn from(list: SuppressionList) -> Self {
        list.entries
    }
}

impl FromIterator<SuppressionEntry> for SuppressionList {
    fn from_iter<I: IntoIterator<Item = SuppressionEntry>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl Extend<SuppressionEntry> for SuppressionList {
    fn extend<I: IntoIterator<Item = SuppressionEntry>>(&mut self, iter: I) {
        let mut all = std::mem::take(&mut self.entries);
        all.extend(iter);
        *self = Self::from(all);
    }
}

impl<'a> IntoIterator for &'a SuppressionList {
    type Item = &'a SuppressionEntry;
    type IntoIter = std::slice::Iter<'a, SuppressionEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for SuppressionList {
    type Item = SuppressionEntry;
    type IntoIter = std::vec::IntoIter<SuppressionEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key(b: u8) -> SubjectKey {
        SubjectKey::from_bytes([b; 32])
    }

    #[test]
    fn channel_and_purpose_names_round_trip() {
        // An exhaustive match, so a new channel fails to compile here until
        // it is added to the list below.
        let all_channels = [
            Channel::Email,
            Channel::Sms,
            Channel::Push,
            Channel::Post,
            Channel::Phone,
            Channel::InApp,
            Channel::Ads,
        ];
        for c in all_channels {
            match c {
                Channel::Email
                | Channel::Sms
                | Channel::Push
                | Channel::Post
                | Channel::Phone
                | Channel::InApp
                | Channel::Ads => {}
            }
            let s = ExportScope::Channel(c);
            assert_eq!(ExportScope::from_parts(s.kind(), &s.target()).unwrap(), s);
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::Value::String(s.target().into_owned())
            );
        }
        for p in Purpose::ALL {
            let s = ExportScope::Purpose(p);
            assert_eq!(ExportScope::from_parts(s.kind(), &s.target()).unwrap(), s);
        }
    }

    #[test]
    fn scope_parts_errors() {
        use EntryError::*;
        let cases: [(&str, &str, EntryError); 8] = [
            ("everything", "", UnknownScope("everything".into())),
            ("all", "post", UnexpectedTarget("post".into())),
            ("channel", "", MissingTarget { scope: "channel" }),
            ("channel", "fax", UnknownChannel("fax".into())),
            ("purpose", "Marketing", UnknownPurpose("Marketing".into())),
            ("interest", "", MissingTarget { scope: "interest" }),
            ("interest", "baby/", InvalidPath("baby/".into())),
            ("interest", " baby", InvalidPath(" baby".into())),
        ];
        for (kind, target, err) in cases {
            assert_eq!(ExportScope::from_parts(kind, target), Err(err));
        }
    }

    #[test]
    fn interest_paths_cover_whole_segments_both_ways() {
        let baby = ExportScope::Interest("baby".into());
        let (post, mkt) = (Channel::Post, Purpose::Marketing);
        assert!(baby.covers(post, mkt, Some("baby")));
        assert!(baby.covers(post, mkt, Some("baby/food")));
        assert!(!baby.covers(post, mkt, Some("babyx")));
        assert!(!baby.covers(post, mkt, Some("babyx/food")));
        assert!(!baby.covers(post, mkt, None));
        let food = ExportScope::Interest("baby/food".into());
        assert!(food.covers(post, mkt, Some("baby")), "ancestor message");
        assert!(!food.covers(post, mkt, Some("baby/toys")));
        let pers = ExportScope::Purpose(Purpose::Personalization);
        assert!(pers.covers(post, Purpose::Service, Some("garden")));
        assert!(!pers.covers(post, Purpose::Service, None));
        assert!(ExportScope::All.covers(post, Purpose::Service, None));
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

    #[test]
    fn list_is_sorted_deduplicated_and_searchable() {
        let t = datetime!(2026-03-01 0:00 UTC);
        let e = |b, scope| SuppressionEntry::new(key(b), scope, t, None).unwrap();
        let list: SuppressionList = [
            e(3, ExportScope::All),
            e(1, ExportScope::Channel(Channel::Sms)),
            e(3, ExportScope::All),
            e(1, ExportScope::Channel(Channel::Post)),
        ]
        .into_iter()
        .collect();
        assert_eq!(list.len(), 3);
        assert_eq!(list.entries_for(&key(1)).len(), 2);
        assert_eq!(list.entries_for(&key(3)).len(), 1);
        assert!(list.entries_for(&key(2)).is_empty());
        assert!(!list.contains(&key(0)) && !list.contains(&key(4)));
        assert!(list.is_suppressed(&key(1), Channel::Post, Purpose::Service, None, t));
        assert!(!list.is_suppressed(&key(1), Channel::Email, Purpose::Service, None, t));
        assert!(!list.is_suppressed(
            &key(3),
            Channel::Email,
            Purpose::Service,
            None,
            t - time::Duration::SECOND
        ));
    }

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
