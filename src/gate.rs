//! The one gate: may this person be used or addressed, on a channel, for
//! some purposes, relying on some interests, at `now`?
//!
//! [`Engine::decide`](crate::Engine::decide), the segment memberships
//! ([`Engine::segments`](crate::Engine::segments),
//! [`Engine::segment_names`](crate::Engine::segment_names), the report) and
//! therefore [`Engine::audience`](crate::Engine::audience) all ask it, so a
//! suppression or a missing consent wins in every answer.

use crate::consent::{Purpose, Purposes};
use crate::decay::View;
use crate::decision::DenyReason;
use crate::explain::ExclusionReason;
use crate::level::Level;
use crate::suppression::{Channel, Scope, Suppression};
use crate::taxonomy::{InterestId, Taxonomy};

/// One use of a person's data or one message to them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Use<'a> {
    /// The channel of the message.
    pub(crate) channel: Channel,
    /// Every purpose the use relies on: the message's purpose, the
    /// segment's, personalization for anything targeted, and what the
    /// segment's rule needs (see `Segment::relies`).
    pub(crate) purposes: Purposes,
    /// Interests the use relies on: a suppression covering any of them (or
    /// covered by one of them) blocks it.
    pub(crate) interests: &'a [InterestId],
    /// Interests the use needs positively: the person's own dislike or
    /// active dismissal of one of them blocks it.
    pub(crate) positive: &'a [InterestId],
}

/// Whether a suppression covers a use about `interest`: the suppressed
/// subtrees (its own and those of the life events it extends to) contain
/// the interest or lie within it (a message about `baby` in general may
/// well be about `baby/food`). The life event it reaches it through, if any.
fn touches_interest<'t>(
    tax: &'t Taxonomy,
    s: &Suppression,
    interest: InterestId,
) -> Option<Option<&'t str>> {
    match s.scope() {
        Scope::All => Some(None),
        Scope::Interest(root) => {
            if tax.is_within(interest, root) || tax.is_within(root, interest) {
                return Some(None);
            }
            tax.life_events_for(root, s.reason())
                .find(|e| e.touches(tax, interest))
                .map(|e| Some(e.name()))
        }
        _ => None,
    }
}

/// Every reason the use is refused at the view's `now` (the first only if
/// `all` is false), in this order: suppressions, consent, level, the
/// person's own blocks. Empty: the use is allowed.
pub(crate) fn blockers(view: &View<'_>, u: &Use<'_>, all: bool) -> Vec<DenyReason> {
    let mut deny = Vec::new();
    let tax = view.taxonomy;
    let profile = view.profile;
    let now = view.now;
    for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
        let by_message = u.purposes.iter().any(|p| s.covers_message(u.channel, p));
        let by_interest = if by_message {
            None
        } else {
            u.interests
                .iter()
                .find_map(|&i| touches_interest(tax, s, i))
        };
        if by_message || by_interest.is_some() {
            deny.push(DenyReason::Suppressed {
                scope: s.scope(),
                about: s.scope().describe(tax),
                reason: s.reason(),
                until: s.ends(),
                life_event: by_interest.flatten().map(str::to_owned),
            });
            if !all {
                return deny;
            }
        }
    }
    for p in u.purposes.iter().filter(|p| p.needs_consent()) {
        let state = profile.consent().state(p, now);
        if !state.is_granted() {
            deny.push(DenyReason::NoConsent { purpose: p, state });
            if !all {
                return deny;
            }
        }
    }
    let level = profile.level();
    if level == Level::Off && u.purposes.iter().any(|p| p != Purpose::Service) {
        deny.push(DenyReason::LevelTooLow {
            required: Level::Declared,
            level,
        });
        if !all {
            return deny;
        }
    }
    for &i in u.positive {
        let path = || tax.path(i).unwrap_or_default().to_owned();
        let block = match view.interest_block(i) {
            Some(ExclusionReason::Disliked) => DenyReason::Disliked {
                interest: i,
                path: path(),
            },
            Some(ExclusionReason::Dismissed { at }) => DenyReason::Dismissed {
                interest: i,
                path: path(),
                at,
            },
            // Suppressions are named above; "not established" would be noise.
            _ => continue,
        };
        deny.push(block);
        if !all {
            return deny;
        }
    }
    deny
}
