//! The one gate: may this person be used or addressed, on a channel, for
//! some purposes, relying on some interests, at `now`?
//!
//! [`Engine::decide`](crate::Engine::decide), the segment memberships
//! ([`Engine::segments`](crate::Engine::segments),
//! [`Engine::segment_names`](crate::Engine::segment_names), the report) and
//! therefore [`Engine::audience`](crate::Engine::audience) all ask it, so a
//! suppression or a missing consent wins in every answer.
//!
//! It owns the three questions every path asks:
//! - admission ([`admit`]): may this event be stored at all
//!   ([`Engine::record`](crate::Engine::record));
//! - usability ([`View`]): does a stored event or a declared like count
//!   now (scoring, explanations, the report);
//! - use ([`is_open`], [`visit_hits`]): may the person be addressed or listed
//!   (memberships, `decide`, audiences).

mod admit;
mod view;

pub(crate) use admit::{admit, orphan_interests};
pub use view::purposes_for;
pub use view::ExclusionReason;
pub(crate) use view::{purposes_of, View};

use std::ops::ControlFlow;

use time::OffsetDateTime;

use crate::consent::{ConsentState, Purpose, Purposes};
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

/// One reason a use is refused, before it is put in words.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hit<'a> {
    /// An active suppression, and the life event through which it reaches
    /// an interest the use relies on, if any.
    Suppressed(&'a Suppression, Option<&'a str>),
    NoConsent(Purpose, ConsentState),
    LevelOff(Level),
    Disliked(InterestId),
    Dismissed(InterestId, OffsetDateTime),
}

/// Hands every reason the use is refused at the view's `now` to `f`, in
/// this order: suppressions, consent, level, the person's own blocks; stops
/// as soon as `f` breaks. Plain loops rather than a chain of lazy
/// iterators: memberships ask it for every segment and channel, and the
/// chain cost a third of the answer.
pub(crate) fn visit_hits<'v>(
    view: &'v View<'_>,
    u: &Use<'_>,
    mut f: impl FnMut(Hit<'v>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let (tax, profile, now) = (view.taxonomy, view.profile, view.now);
    for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
        if u.purposes.iter().any(|p| s.covers_message(u.channel, p)) {
            f(Hit::Suppressed(s, None))?;
        } else if let Some(event) = u
            .interests
            .iter()
            .find_map(|&i| touches_interest(tax, s, i))
        {
            f(Hit::Suppressed(s, event))?;
        }
    }
    for p in u.purposes.iter().filter(|p| p.needs_consent()) {
        let state = view.consent_now(p);
        if !state.is_granted() {
            f(Hit::NoConsent(p, state))?;
        }
    }
    let level = profile.level();
    if level == Level::Off && u.purposes.iter().any(|p| p != Purpose::Service) {
        f(Hit::LevelOff(level))?;
    }
    // Suppressions are named above; "not established" would be noise.
    for &i in u.positive {
        match view.own_block(i) {
            Some(None) => f(Hit::Disliked(i))?,
            Some(Some(at)) => f(Hit::Dismissed(i, at))?,
            None => {}
        }
    }
    ControlFlow::Continue(())
}

/// Whether the use is allowed: nothing refuses it (no reason is built).
pub(crate) fn is_open(view: &View<'_>, u: &Use<'_>) -> bool {
    visit_hits(view, u, |_| ControlFlow::Break(())).is_continue()
}
