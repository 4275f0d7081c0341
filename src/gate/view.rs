//! Usability: everything about a profile at one `now` that decides whether
//! a stored event or a declared like counts, and why not.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::consent::{ConsentGate, ConsentState, Purpose, Purposes};
use crate::event::{Context, Event, Source};
use crate::level::Level;
use crate::policy::{decayed, DecayPolicy};
use crate::profile::{PreferenceKind, Profile};
use crate::suppression::{Scope, Suppression, SuppressionReason};
use crate::taxonomy::{InterestId, Taxonomy};

/// Why a stored event or an interest did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExclusionReason {
    /// Recorded after `now`.
    NotYet,
    /// A dismissal is never evidence of interest.
    DismissalIsNotEvidence,
    /// A gift does not count toward the buyer's own interests.
    Gift,
    /// Past its max age.
    TooOld {
        /// The max age that applies.
        max_age: Duration,
    },
    /// An active suppression covers it.
    Suppressed {
        /// Its scope.
        scope: Scope,
        /// Its scope in words, naming an interest by its path (see
        /// [`Scope::describe`]): `interest baby`, `purpose partner_data`.
        #[serde(default)]
        about: String,
        /// Its reason.
        reason: SuppressionReason,
        /// The life event through which it covers this interest, if it
        /// covers it only through one (see [`crate::life_event`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        life_event: Option<String>,
    },
    /// The person declared a dislike covering it.
    Disliked,
    /// The person dismissed the interest at or after the event, within the cooldown.
    Dismissed {
        /// When.
        at: OffsetDateTime,
    },
    /// The profile's level does not admit the source or context.
    LevelTooLow {
        /// Needed level.
        required: Level,
        /// The profile's level.
        level: Level,
    },
    /// A special-category interest the policy does not allow to observe.
    SensitiveNotObservable,
    /// A needed purpose was not granted then, is not now, or was withdrawn in
    /// between (`state` is then `Withdrawn`).
    NoConsent {
        /// The purpose.
        purpose: Purpose,
        /// Its state.
        state: ConsentState,
    },
    /// Not enough usable evidence to establish the interest.
    InsufficientEvidence {
        /// Usable events.
        events: u32,
        /// On distinct days.
        days: u32,
        /// Needed events.
        min_events: u32,
        /// Needed days.
        min_days: u32,
    },
}

/// Text for the person: scopes in words, never an [`InterestId`].
impl fmt::Display for ExclusionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotYet => f.write_str("recorded after now"),
            Self::DismissalIsNotEvidence => f.write_str("a dismissal is never evidence"),
            Self::Gift => f.write_str("a gift, not the buyer's own interest"),
            Self::TooOld { max_age } => write!(f, "older than the max age of {max_age}"),
            Self::Suppressed {
                about,
                reason,
                life_event,
                ..
            } => {
                write!(f, "suppressed ({reason}) on {about}")?;
                match life_event {
                    Some(e) => write!(f, " and the whole life event {e}"),
                    None => Ok(()),
                }
            }
            Self::Disliked => f.write_str("the person dislikes it"),
            Self::Dismissed { at } => write!(f, "dismissed by the person at {at}"),
            Self::LevelTooLow { required, level } => {
                write!(f, "needs level {required}, the person chose {level}")
            }
            Self::SensitiveNotObservable => {
                f.write_str("special category: only a declared like establishes it")
            }
            Self::NoConsent { purpose, state } => write!(f, "consent for {purpose} is {state}"),
            Self::InsufficientEvidence {
                events,
                days,
                min_events,
                min_days,
            } => write!(
                f,
                "{events} events on {days} days, needs {min_events} on {min_days}"
            ),
        }
    }
}

/// The purposes an event needs: personalization always, plus partner data,
/// location, cross-site and sensitive interests where they apply.
#[must_use]
pub fn purposes_for(taxonomy: &Taxonomy, event: &Event) -> Purposes {
    purposes_of(taxonomy, event.interest(), event.source(), event.context())
}

pub(crate) fn purposes_of(
    taxonomy: &Taxonomy,
    interest: InterestId,
    source: Source,
    context: Context,
) -> Purposes {
    let mut p = Purposes::EMPTY.with(Purpose::Personalization);
    if source == Source::Partner {
        p = p.with(Purpose::PartnerData);
    }
    match context {
        Context::Location => p = p.with(Purpose::Location),
        Context::CrossSite => p = p.with(Purpose::CrossSite),
        Context::OnSite => {}
    }
    if taxonomy.sensitivity(interest).is_special() {
        p = p.with(Purpose::SensitiveInterests);
    }
    p
}

/// What blocks a subtree or a purpose at a view's `now`; its
/// [`ExclusionReason`] (with the scope in words) is built only when asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Block<'a> {
    /// An active suppression, with the life event through which it reaches
    /// the subtree, if any.
    Suppressed(&'a Suppression, Option<&'a str>),
    /// A declared dislike.
    Disliked,
}

/// Why an event is not usable: a block held by the view, or a reason built
/// for the event.
pub(crate) enum Why<'v> {
    Block(Block<'v>),
    Other(ExclusionReason),
}

/// Everything about a profile at one `now` that decides whether a stored
/// event is usable, computed once per read.
#[derive(Debug)]
pub(crate) struct View<'a> {
    pub(crate) taxonomy: &'a Taxonomy,
    pub(crate) policy: &'a DecayPolicy,
    pub(crate) profile: &'a Profile,
    pub(crate) now: OffsetDateTime,
    pub(crate) gate: ConsentGate,
    /// Subtree ranges blocked by active suppressions and dislikes.
    pub(crate) blocks: Vec<(u32, u32, Block<'a>)>,
    /// Active dismissals: subtree range and instant.
    pub(crate) dismissals: Vec<(u32, u32, OffsetDateTime)>,
    suppressed_purposes: Vec<(Purpose, &'a Suppression)>,
    /// Each purpose's consent state at `now` (by [`Purpose::index`]): the
    /// gate asks it per segment and channel.
    /// Built on first use: scoring alone never asks.
    consent_now: std::cell::OnceCell<[ConsentState; Purpose::ALL.len()]>,
}

impl<'a> View<'a> {
    pub(crate) fn new(
        taxonomy: &'a Taxonomy,
        policy: &'a DecayPolicy,
        profile: &'a Profile,
        now: OffsetDateTime,
    ) -> Self {
        let mut blocks = Vec::new();
        let mut suppressed_purposes = Vec::new();
        for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
            match s.scope() {
                Scope::All => blocks.push((0, u32::MAX, Block::Suppressed(s, None))),
                Scope::Interest(_) => {
                    // Its own subtree and those of the life events it extends to.
                    for (root, event) in s.covered_roots(taxonomy) {
                        let end = taxonomy.subtree_end(root);
                        blocks.push((root.0, end, Block::Suppressed(s, event)));
                    }
                }
                Scope::Purpose(p) => suppressed_purposes.push((p, s)),
                // Channel scopes block messages, not data.
                _ => {}
            }
        }
        for p in profile.preferences() {
            if p.kind == PreferenceKind::Dislike && p.at <= now {
                blocks.push((
                    p.interest.0,
                    taxonomy.subtree_end(p.interest),
                    Block::Disliked,
                ));
            }
        }
        let cooldown = policy.dismissal_cooldown;
        let dismissals = profile
            .store()
            .inert
            .iter()
            .filter(|e| e.is_dismissal() && e.at() <= now && now < e.at().saturating_add(cooldown))
            .map(|e| (e.interest().0, taxonomy.subtree_end(e.interest()), e.at()))
            .collect();
        Self {
            taxonomy,
            policy,
            profile,
            now,
            gate: ConsentGate::new(profile.consent(), now),
            consent_now: std::cell::OnceCell::new(),
            blocks,
            dismissals,
            suppressed_purposes,
        }
    }

    /// Whether `interest` as a whole is blocked now (suppression, dislike,
    /// active dismissal): [`interest_block`](Self::interest_block) without
    /// building the reason.
    pub(crate) fn is_blocked(&self, interest: InterestId) -> bool {
        let i = interest.0;
        self.blocks.iter().any(|b| b.0 <= i && i < b.1)
            || self.dismissals.iter().any(|d| d.0 <= i && i < d.1)
    }

    /// Whether any suppression, dislike or dismissal blocks data now.
    pub(crate) fn blocks_anything(&self) -> bool {
        !self.blocks.is_empty()
            || !self.dismissals.is_empty()
            || !self.suppressed_purposes.is_empty()
    }

    /// The consent state of `purpose` at `now`.
    pub(crate) fn consent_now(&self, purpose: Purpose) -> ConsentState {
        self.consent_now
            .get_or_init(|| Purpose::ALL.map(|p| self.profile.consent().state(p, self.now)))
            .get(purpose.index())
            .copied()
            .unwrap_or(ConsentState::NeverAsked)
    }

    /// Whether `purpose` is blocked now by a purpose suppression.
    pub(crate) fn is_purpose_blocked(&self, purpose: Purpose) -> bool {
        self.suppressed_purposes.iter().any(|p| p.0 == purpose)
    }

    /// The person's own block of `interest` now: `Some(None)` for a
    /// declared dislike, `Some(Some(at))` for a running dismissal, `None`
    /// if nothing of theirs blocks it or a suppression does (a suppression
    /// is reported as such, see [`interest_block`](Self::interest_block)).
    pub(crate) fn own_block(&self, interest: InterestId) -> Option<Option<OffsetDateTime>> {
        let i = interest.0;
        match self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            Some((_, _, Block::Disliked)) => Some(None),
            Some((_, _, Block::Suppressed(..))) => None,
            None => self
                .dismissals
                .iter()
                .find(|d| d.0 <= i && i < d.1)
                .map(|d| Some(d.2)),
        }
    }

    /// The reason of a block, with the suppression's scope in words.
    fn reason(&self, block: Block<'_>) -> ExclusionReason {
        match block {
            Block::Suppressed(s, life_event) => ExclusionReason::Suppressed {
                scope: s.scope(),
                about: s.scope().describe(self.taxonomy),
                reason: s.reason(),
                life_event: life_event.map(str::to_owned),
            },
            Block::Disliked => ExclusionReason::Disliked,
        }
    }

    /// Why `interest` as a whole is blocked now (suppression, dislike,
    /// active dismissal), if it is.
    pub(crate) fn interest_block(&self, interest: InterestId) -> Option<ExclusionReason> {
        let i = interest.0;
        if let Some(b) = self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            return Some(self.reason(b.2));
        }
        self.dismissals
            .iter()
            .find(|d| d.0 <= i && i < d.1)
            .map(|d| ExclusionReason::Dismissed { at: d.2 })
    }

    /// `Ok(contribution)` if the event is usable now, else why not.
    pub(crate) fn classify(&self, e: &Event) -> Result<f64, ExclusionReason> {
        self.check(e).map_err(|why| match why {
            Why::Block(b) => self.reason(b),
            Why::Other(r) => r,
        })
    }

    /// [`classify`](Self::classify) without building the reason of a block
    /// (the scoring pass asks for every event and needs no reason).
    pub(crate) fn check(&self, e: &Event) -> Result<f64, Why<'_>> {
        let now = self.now;
        let age = now - e.at();
        if age.is_negative() {
            return Err(Why::Other(ExclusionReason::NotYet));
        }
        if e.is_dismissal() {
            return Err(Why::Other(ExclusionReason::DismissalIsNotEvidence));
        }
        if e.is_gift() {
            return Err(Why::Other(ExclusionReason::Gift));
        }
        let max_age = self
            .policy
            .max_age_for(self.taxonomy, e.interest(), e.source());
        if age > max_age {
            return Err(Why::Other(ExclusionReason::TooOld { max_age }));
        }
        let i = e.interest().0;
        if let Some(b) = self.blocks.iter().find(|b| b.0 <= i && i < b.1) {
            return Err(Why::Block(b.2));
        }
        if let Some(d) = self
            .dismissals
            .iter()
            .find(|d| d.0 <= i && i < d.1 && e.at() <= d.2)
        {
            return Err(Why::Other(ExclusionReason::Dismissed { at: d.2 }));
        }
        let level = self.profile.level();
        if !level.admits(e.source(), e.context()) {
            return Err(Why::Other(ExclusionReason::LevelTooLow {
                required: Level::required_for(e.source(), e.context()),
                level,
            }));
        }
        let purposes = purposes_for(self.taxonomy, e);
        if purposes.contains(Purpose::SensitiveInterests)
            && !self.policy.allow_sensitive_observation
        {
            return Err(Why::Other(ExclusionReason::SensitiveNotObservable));
        }
        for p in purposes.iter() {
            if let Some(&(_, s)) = self.suppressed_purposes.iter().find(|b| b.0 == p) {
                return Err(Why::Block(Block::Suppressed(s, None)));
            }
        }
        if let Some(p) = self.gate.first_blocking(purposes, e.at()) {
            let ledger = self.profile.consent();
            let state_now = ledger.state(p, now);
            let state = if state_now.is_granted() {
                ledger.state(p, e.at())
            } else {
                state_now
            };
            // Granted then and now, but withdrawn in between: retroactive.
            let state = if state.is_granted() {
                ConsentState::Withdrawn
            } else {
                state
            };
            return Err(Why::Other(ExclusionReason::NoConsent { purpose: p, state }));
        }
        Ok(decayed(
            self.policy.weight_of(e),
            age,
            self.policy.half_life_for(self.taxonomy, e.interest()),
        ))
    }

    /// Whether declared likes may be used now: level at least `Declared`,
    /// personalization granted and not suppressed.
    pub(crate) fn likes_usable(&self) -> bool {
        self.profile.level() >= Level::Declared
            && self
                .profile
                .consent()
                .is_granted(Purpose::Personalization, self.now)
            && !self.is_purpose_blocked(Purpose::Personalization)
    }

    /// The declared like that establishes `interest`, if any.
    pub(crate) fn like_for(&self, interest: InterestId) -> Option<OffsetDateTime> {
        // No like at all (the usual case) needs no consent lookup.
        let liked = |p: &&crate::profile::Preference| p.kind == PreferenceKind::Like;
        if !self.profile.preferences().iter().any(|p| liked(&p))
            || !self.likes_usable()
            || self.is_blocked(interest)
        {
            return None;
        }
        self.profile
            .preferences()
            .iter()
            .filter(|p| p.kind == PreferenceKind::Like && p.at <= self.now)
            // A like covers its subtree, and liking `baby/food` is also an
            // interest in `baby` (as observed `baby/food` events count there).
            .find(|p| {
                self.taxonomy.is_within(interest, p.interest)
                    || (self.taxonomy.is_within(p.interest, interest)
                        && !self.is_blocked(p.interest))
            })
            .map(|p| p.at)
    }
}
