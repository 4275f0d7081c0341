//! What an exported suppression covers: [`ExportScope`], read from and
//! written as a kind and a target.

use std::borrow::Cow;

use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};

use super::entry::EntryError;
use crate::consent::Purpose;
use crate::suppression::Channel;

/// What an exported suppression covers. Like [`Scope`](crate::Scope), but an interest is
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
    /// `purpose`, `interest` or `channel_purpose`.
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
    /// (`post`, `marketing`), both as `channel/purpose`
    /// (`email/marketing`), or the interest path; empty for
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
}

/// The taxonomy's path rule: non-empty segments without surrounding
/// whitespace, separated by single slashes.
pub(super) fn valid_path(path: &str) -> bool {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
}
