//! Explanations: why a membership or a decision holds, and what was left out.
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use tactful::ExclusionReason;
//! use time::{macros::datetime, Duration};
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
//! let food = engine.taxonomy().require("baby/food")?;
//! let t0 = datetime!(2026-11-01 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! anna.set_level(Level::FirstParty);
//! anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
//! for day in 0..3 {
//!     let at = t0 + Duration::days(day);
//!     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
//! }
//! // Anna turns the dial down: her observed views are left out, each with the reason.
//! anna.set_level(Level::Declared);
//! let why = engine.explain(&anna, food, t0 + Duration::days(3));
//! assert_eq!(why.interests[0].established, None);
//! let level = why.excluded.iter().filter(|x| matches!(x.reason, ExclusionReason::LevelTooLow { .. }));
//! assert_eq!(level.count(), 3);
//! println!("{why}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::{Evidence, Purpose, Purposes};
use crate::decay::Establishment;
use crate::gate::{purposes_for, View};

use crate::event::{Context, Event, Signal, Source};
pub use crate::gate::ExclusionReason;
use crate::taxonomy::InterestId;

/// One event's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventContribution {
    /// The event's interest (within the explained subtree).
    pub interest: InterestId,
    /// When it happened.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Signal kind.
    pub signal: Signal,
    /// Source.
    pub source: Source,
    /// Context.
    pub context: Context,
    /// Weight at age zero.
    pub weight: f64,
    /// Contribution at `now`.
    pub contribution: f64,
    /// When it stops counting (max age reached).
    #[serde(with = "crate::serde_util::instant")]
    pub forgotten_at: OffsetDateTime,
}

/// A stored event (or an interest) that did not count, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Exclusion {
    /// The interest.
    pub interest: InterestId,
    /// Its path.
    #[serde(default)]
    pub path: String,
    /// The event's instant, or `None` when the whole interest was excluded.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub at: Option<OffsetDateTime>,
    /// Why.
    pub reason: ExclusionReason,
}

/// The evidence behind one interest (over its subtree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InterestEvidence {
    /// The interest.
    pub interest: InterestId,
    /// Its path.
    pub path: String,
    /// Its score.
    pub score: f64,
    /// How it is established, if it is.
    pub established: Option<Establishment>,
    /// When the declared like was made, if it carries the interest.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub liked_at: Option<OffsetDateTime>,
    /// Usable events and their contributions, newest first.
    pub events: Vec<EventContribution>,
}

/// A consent that allowed the use of data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentBasis {
    /// The purpose.
    pub purpose: Purpose,
    /// When the grant in force was given.
    #[serde(with = "crate::serde_util::instant")]
    pub granted_at: OffsetDateTime,
    /// When it lapses, if ever.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub expires: Option<OffsetDateTime>,
    /// Its evidence.
    pub evidence: Evidence,
}

/// Why a membership or decision holds: the interests and events that carried
/// it, the consents that allowed them, and what was excluded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Explanation {
    /// Interests that carried it.
    pub interests: Vec<InterestEvidence>,
    /// Consents in force that allowed the data's use.
    pub consents: Vec<ConsentBasis>,
    /// What was left out and why.
    pub excluded: Vec<Exclusion>,
}

impl Explanation {
    pub(crate) fn absorb(&mut self, other: Explanation) {
        for i in other.interests {
            if !self.interests.iter().any(|j| j.interest == i.interest) {
                self.interests.push(i);
            }
        }
        for c in other.consents {
            if !self.consents.contains(&c) {
                self.consents.push(c);
            }
        }
        for x in other.excluded {
            if !self.excluded.contains(&x) {
                self.excluded.push(x);
            }
        }
    }

    pub(crate) fn add_consents(&mut self, view: &View<'_>, purposes: Purposes) {
        let ledger = view.profile.consent();
        for purpose in purposes.iter().filter(|p| p.needs_consent()) {
            if self.consents.iter().any(|c| c.purpose == purpose) {
                continue;
            }
            if let Some(e) = ledger.decisive(purpose, view.now) {
                if let crate::consent::Change::Grant { expires } = e.change {
                    if ledger.is_granted(purpose, view.now) {
                        self.consents.push(ConsentBasis {
                            purpose,
                            granted_at: e.at,
                            expires,
                            evidence: e.evidence.clone(),
                        });
                    }
                }
            }
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.interests {
            let how = match (i.established, i.liked_at) {
                (Some(Establishment::DeclaredLike), Some(at)) => {
                    format!("declared like on {}", at.date())
                }
                (Some(Establishment::DeclaredLike), None) => "declared like".to_owned(),
                (Some(Establishment::Observed), _) => format!("{} usable events", i.events.len()),
                (None, _) => "not established".to_owned(),
            };
            writeln!(f, "  {} (score {:.2}; {how})", i.path, i.score)?;
            for e in &i.events {
                writeln!(
                    f,
                    "    {} {} {} {}: {:.2} of {:.2}, forgotten {}",
                    e.at.date(),
                    e.signal,
                    e.source,
                    e.context,
                    e.contribution,
                    e.weight,
                    e.forgotten_at.date()
                )?;
            }
        }
        for c in &self.consents {
            writeln!(
                f,
                "  allowed by {} consent of {} ({})",
                c.purpose,
                c.granted_at.date(),
                c.evidence
            )?;
        }
        for x in &self.excluded {
            match x.at {
                Some(at) => writeln!(
                    f,
                    "  left out: event of {} on {}: {}",
                    x.path,
                    at.date(),
                    x.reason
                )?,
                None => writeln!(f, "  left out: interest {}: {}", x.path, x.reason)?,
            }
        }
        Ok(())
    }
}

/// Explains one interest (its subtree) at the view's `now`.
pub(crate) fn interest(
    view: &View<'_>,
    root: InterestId,
    score: f64,
    established: Option<Establishment>,
) -> Explanation {
    let tax = view.taxonomy;
    let mut ex = Explanation::default();
    let mut events = Vec::new();
    let mut purposes = Purposes::EMPTY;
    // Only the subtree's own series: O(events of the subtree), newest first.
    let store = view.profile.store();
    let mut subtree: Vec<Event> = store
        .series_in(root.0, tax.subtree_end(root))
        .iter()
        .flat_map(|s| (0..s.len()).filter_map(move |i| s.event(i)))
        .chain(
            store
                .inert
                .iter()
                .filter(|e| tax.is_within(e.interest(), root))
                .copied(),
        )
        .collect();
    subtree.sort_by_key(|e| std::cmp::Reverse(e.at()));
    for e in &subtree {
        match view.classify(e) {
            Ok(c) => {
                for p in purposes_for(tax, e).iter() {
                    purposes = purposes.with(p);
                }
                events.push(EventContribution {
                    interest: e.interest(),
                    at: e.at(),
                    signal: e.signal(),
                    source: e.source(),
                    context: e.context(),
                    weight: view.policy.weight_of(e),
                    contribution: c,
                    forgotten_at: e.at().saturating_add(view.policy.max_age_for(
                        tax,
                        e.interest(),
                        e.source(),
                    )),
                });
            }
            Err(reason) => ex.excluded.push(Exclusion {
                interest: e.interest(),
                path: tax.path(e.interest()).unwrap_or_default().to_owned(),
                at: Some(e.at()),
                reason,
            }),
        }
    }
    let liked_at = if established == Some(Establishment::DeclaredLike) {
        view.like_for(root)
    } else {
        None
    };
    if liked_at.is_some() {
        purposes = purposes.with(Purpose::Personalization);
    }
    ex.interests.push(InterestEvidence {
        interest: root,
        path: tax.path(root).unwrap_or_default().to_owned(),
        score,
        established,
        liked_at,
        events,
    });
    ex.add_consents(view, purposes);
    ex
}
