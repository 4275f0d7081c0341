//! The transparency report: what is known about a person, from which source,
//! under which consent, which segments and why, and when each piece expires
//! or will be forgotten.
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use time::macros::datetime;
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
//! let baby = engine.taxonomy().require("baby")?;
//! let now = datetime!(2026-11-04 9:00 UTC);
//! let mut anna = Profile::new("anna");
//! engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now), now);
//!
//! let report = engine.report(&anna, now);
//! assert_eq!(report.suppressions.len(), 1);
//! let text = report.to_string();
//! assert!(text.contains("interest baby (bereavement) since 2026-11-04, in force"));
//! assert!(text.contains("Erased: the signals of interest baby up to 2026-11-04"));
//! println!("{text}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::consent::{Change, ConsentState, Evidence, Purpose};
use crate::decay::{purposes_for, Establishment};
use crate::event::Source;
use crate::level::Level;
use crate::profile::{ErasedScope, PreferenceKind, ProfileId, RefusalCounts, Tombstone};
use crate::segment::Membership;
use crate::suppression::{Scope, SuppressionReason};
use crate::taxonomy::{InterestId, Sensitivity};

/// The state of one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentLine {
    /// The purpose.
    pub purpose: Purpose,
    /// Its state now.
    pub state: ConsentState,
    /// When the deciding entry was made.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub since: Option<OffsetDateTime>,
    /// When a grant lapses.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub expires: Option<OffsetDateTime>,
    /// The deciding entry's evidence.
    pub evidence: Option<Evidence>,
}

/// Stored events of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourceCount {
    /// The source.
    pub source: Source,
    /// Stored events from it.
    pub events: usize,
}

/// What is known about one interest (over its subtree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InterestLine {
    /// The interest.
    pub interest: InterestId,
    /// Its path.
    pub path: String,
    /// Its sensitivity.
    pub sensitivity: Sensitivity,
    /// Its score now.
    pub score: f64,
    /// Whether and how it is established.
    pub established: Option<Establishment>,
    /// Usable events now.
    pub usable_events: u32,
    /// Stored events (usable or not), by source.
    pub sources: Vec<SourceCount>,
    /// Purposes the stored events need.
    pub purposes: Vec<Purpose>,
    /// The newest stored event.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub newest: Option<OffsetDateTime>,
    /// When the last stored event passes its max age and stops counting.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub forgotten_at: Option<OffsetDateTime>,
}

/// A declared like or dislike, or a dismissal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PreferenceLine {
    /// The interest path.
    pub path: String,
    /// What was declared: `like`, `dislike` or `dismissal`.
    pub kind: String,
    /// When.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// When it stops applying (dismissals only).
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub until: Option<OffsetDateTime>,
}

/// A suppression as the person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SuppressionLine {
    /// What it covers, readable.
    pub scope: String,
    /// The scope.
    pub raw_scope: Scope,
    /// Why.
    pub reason: SuppressionReason,
    /// Since.
    #[serde(with = "crate::serde_util::instant")]
    pub since: OffsetDateTime,
    /// Until, if it ends.
    #[serde(default, with = "crate::serde_util::instant::option")]
    pub until: Option<OffsetDateTime>,
    /// Whether in force now.
    pub active: bool,
}

/// An erasure as the person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErasureLine {
    /// What was erased, readable: `everything` or `interest baby`.
    pub scope: String,
    /// Data from at or before this instant is gone for good.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Only the signals were purged (a bereavement suppression); declared
    /// likes and dislikes were kept.
    pub signals_only: bool,
    /// The tombstone.
    pub raw: Tombstone,
}

/// Everything known about one person at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Whose.
    pub profile: ProfileId,
    /// For which instant.
    #[serde(with = "crate::serde_util::instant")]
    pub at: OffsetDateTime,
    /// Personalization level.
    pub level: Level,
    /// Consent per purpose.
    pub consents: Vec<ConsentLine>,
    /// Interests with stored data or established.
    pub interests: Vec<InterestLine>,
    /// Declared likes, dislikes and dismissals.
    pub preferences: Vec<PreferenceLine>,
    /// Suppressions.
    pub suppressions: Vec<SuppressionLine>,
    /// Segment memberships with their explanations.
    pub segments: Vec<Membership>,
    /// Events refused, per reason.
    pub refusals: RefusalCounts,
    /// Erasures (subtree and instant only).
    pub erasures: Vec<ErasureLine>,
    /// Events stored in all.
    pub stored_events: usize,
    /// Interests the engine's taxonomy no longer has whose data is kept
    /// (see [`crate::Profile::orphans`]): path and number of records.
    #[serde(default)]
    pub orphaned: Vec<(String, usize)>,
}

pub(crate) fn consent_line(
    ledger: &crate::consent::ConsentLedger,
    purpose: Purpose,
    now: OffsetDateTime,
) -> ConsentLine {
    let entry = ledger.decisive(purpose, now);
    ConsentLine {
        purpose,
        state: ledger.state(purpose, now),
        since: entry.map(|e| e.at),
        expires: entry.and_then(|e| match e.change {
            Change::Grant { expires } => expires,
            Change::Withdraw => None,
        }),
        evidence: entry.map(|e| e.evidence.clone()),
    }
}

pub(crate) fn interest_line(
    view: &crate::gate::View<'_>,
    scores: &crate::decay::Scores,
    id: InterestId,
) -> InterestLine {
    let tax = view.taxonomy;
    let mut sources: Vec<SourceCount> = Vec::new();
    let mut purposes: Vec<Purpose> = Vec::new();
    let mut newest = None;
    let mut forgotten_at: Option<OffsetDateTime> = None;
    for e in view
        .profile
        .events()
        .iter()
        .filter(|e| !e.is_dismissal() && tax.is_within(e.interest(), id))
    {
        match sources.iter_mut().find(|s| s.source == e.source()) {
            Some(s) => s.events += 1,
            None => sources.push(SourceCount {
                source: e.source(),
                events: 1,
            }),
        }
        for p in purposes_for(tax, e).iter() {
            if !purposes.contains(&p) {
                purposes.push(p);
            }
        }
        newest = newest.max(Some(e.at()));
        let f = e
            .at()
            .saturating_add(view.policy.max_age_for(tax, e.interest(), e.source()));
        forgotten_at = forgotten_at.max(Some(f));
    }
    purposes.sort();
    let s = scores.get(id).copied().unwrap_or_default();
    InterestLine {
        interest: id,
        path: tax.path(id).unwrap_or_default().to_owned(),
        sensitivity: tax.sensitivity(id),
        score: s.score,
        established: s.established,
        usable_events: s.events,
        sources,
        purposes,
        newest,
        forgotten_at,
    }
}

pub(crate) fn preference_lines(view: &crate::gate::View<'_>) -> Vec<PreferenceLine> {
    let tax = view.taxonomy;
    let path = |i: InterestId| tax.path(i).unwrap_or("<unknown>").to_owned();
    let mut out: Vec<PreferenceLine> = view
        .profile
        .preferences()
        .iter()
        .map(|p| PreferenceLine {
            path: path(p.interest),
            kind: match p.kind {
                PreferenceKind::Like => "like".into(),
                PreferenceKind::Dislike => "dislike".into(),
                PreferenceKind::Cleared => "no longer like or dislike".into(),
            },
            at: p.at,
            until: None,
        })
        .collect();
    out.extend(
        view.profile
            .events()
            .iter()
            .filter(|e| e.is_dismissal())
            .map(|e| PreferenceLine {
                path: path(e.interest()),
                kind: "dismissal".into(),
                at: e.at(),
                until: Some(e.at().saturating_add(view.policy.dismissal_cooldown())),
            }),
    );
    out
}

pub(crate) fn erasure_line(tax: &crate::taxonomy::Taxonomy, t: &Tombstone) -> ErasureLine {
    let scope = match t.scope {
        ErasedScope::All => Scope::All,
        ErasedScope::Interest(i) => Scope::Interest(i),
    };
    ErasureLine {
        scope: scope.describe(tax),
        at: t.at,
        signals_only: t.signals_only,
        raw: *t,
    }
}

pub(crate) fn suppression_line(
    tax: &crate::taxonomy::Taxonomy,
    s: &crate::suppression::Suppression,
    now: OffsetDateTime,
) -> SuppressionLine {
    let mut scope = s.scope().describe(tax);
    // Name the life events it extends to and the subtrees they add (none
    // unless the scope is an interest).
    let mut events: Vec<(&str, Vec<&str>)> = Vec::new();
    for (root, event) in s.covered_roots(tax) {
        let (Some(event), Some(path)) = (event, tax.path(root)) else {
            continue;
        };
        match events.iter_mut().find(|(e, _)| *e == event) {
            Some((_, paths)) => paths.push(path),
            None => events.push((event, vec![path])),
        }
    }
    for (event, paths) in events {
        scope.push_str(&format!(
            " and the life event {event} ({})",
            paths.join(", ")
        ));
    }
    SuppressionLine {
        scope,
        raw_scope: s.scope(),
        reason: s.reason(),
        since: s.since(),
        until: s.ends(),
        active: s.is_active(now),
    }
}

fn date(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.date().to_string())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "What we know about {} (as of {})",
            self.profile,
            self.at.date()
        )?;
        writeln!(f, "Personalization level: {}", self.level)?;
        self.fmt_consents(f)?;
        self.fmt_interests(f)?;
        self.fmt_told(f)?;
        self.fmt_segments_and_records(f)
    }
}

impl Report {
    /// The consent of each purpose, in words.
    fn fmt_consents(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nConsents:")?;
        for c in &self.consents {
            write!(f, "  {:<20} {}", c.purpose.name(), c.state)?;
            match (c.state, c.since, c.expires) {
                // "Since" the grant would read as if it lapsed then.
                (ConsentState::Expired, Some(s), Some(e)) => {
                    write!(f, " on {}, granted {}", e.date(), s.date())?;
                }
                _ => {
                    if let Some(s) = c.since {
                        write!(f, " since {}", s.date())?;
                    }
                    if let Some(e) = c.expires {
                        write!(f, ", expires {}", e.date())?;
                    }
                }
            }
            if let Some(ev) = &c.evidence {
                write!(f, " ({ev})")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }

    /// Each interest with its score, evidence and when it is forgotten.
    fn fmt_interests(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nInterests:")?;
        if self.interests.is_empty() {
            writeln!(f, "  none")?;
        }
        for i in &self.interests {
            let est = match i.established {
                Some(Establishment::Observed) => "established from what you did",
                Some(Establishment::DeclaredLike) => "established because you said you like it",
                None => "not established",
            };
            let sources: Vec<String> = i
                .sources
                .iter()
                .map(|s| format!("{} {}", s.events, s.source))
                .collect();
            let purposes: Vec<&str> = i.purposes.iter().map(|p| p.name()).collect();
            writeln!(
                f,
                "  {} score {:.2}, {est}; {} usable events (stored: {}); used under {}; newest {}, forgotten by {}",
                i.path,
                i.score,
                i.usable_events,
                if sources.is_empty() { "none".to_owned() } else { sources.join(", ") },
                if purposes.is_empty() { "-".to_owned() } else { purposes.join(" + ") },
                date(i.newest),
                date(i.forgotten_at),
            )?;
        }
        Ok(())
    }

    /// What the person told us: preferences and suppressions.
    fn fmt_told(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.preferences.is_empty() {
            writeln!(f, "\nYou told us:")?;
            for p in &self.preferences {
                write!(f, "  {} {} on {}", p.kind, p.path, p.at.date())?;
                if let Some(u) = p.until {
                    write!(f, " (applies until {})", u.date())?;
                }
                writeln!(f)?;
            }
        }
        if !self.suppressions.is_empty() {
            writeln!(f, "\nSuppressions:")?;
            for s in &self.suppressions {
                writeln!(
                    f,
                    "  {} ({}) since {}{}{}",
                    s.scope,
                    s.reason,
                    s.since.date(),
                    s.until
                        .map(|u| format!(" until {}", u.date()))
                        .unwrap_or_default(),
                    if s.active {
                        ", in force"
                    } else {
                        ", not in force"
                    }
                )?;
            }
        }
        Ok(())
    }

    /// Segments with their reasons, then what is stored, refused, erased and orphaned.
    fn fmt_segments_and_records(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nSegments:")?;
        if self.segments.is_empty() {
            writeln!(f, "  none")?;
        }
        for m in &self.segments {
            writeln!(f, "  {} because:", m.segment)?;
            write!(f, "{}", indent(&m.explanation.to_string()))?;
        }
        writeln!(f, "\nStored events: {}", self.stored_events)?;
        if self.refusals.total() > 0 {
            let parts: Vec<String> = self
                .refusals
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            writeln!(f, "Events we refused to store: {}", parts.join(", "))?;
        }
        for t in &self.erasures {
            let what = if t.signals_only {
                "the signals of "
            } else {
                ""
            };
            writeln!(f, "Erased: {what}{} up to {}", t.scope, t.at.date())?;
        }
        if !self.orphaned.is_empty() {
            writeln!(
                f,
                "\nKept for interests we no longer use (not used for anything but suppressions):"
            )?;
            for (path, n) in &self.orphaned {
                writeln!(f, "  {path}: {n} record(s)")?;
            }
        }
        Ok(())
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
