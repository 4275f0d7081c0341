//! Segments: serde-configurable rules over established interests and
//! declared preferences, evaluated into memberships with explanations.
//!
//! # Examples
//! ```
//! use tactful::prelude::*;
//! use time::{macros::datetime, Duration};
//!
//! // Parents, unless they said they do not want toy offers; in code or in JSON.
//! let rule = Rule::all([Rule::interest_at_least("baby", 2.0), Rule::negate(Rule::dislikes("baby/toys"))]);
//! let json = r#"{"all": [{"interest_at_least": {"interest": "baby", "min_score": 2.0}},
//!                        {"not": {"dislikes": "baby/toys"}}]}"#;
//! assert_eq!(serde_json::from_str::<Rule>(json)?, rule);
//!
//! let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("baby/toys").build()?, DecayPolicy::default())
//!     .with_segments(vec![SegmentDef::new("young-parents", rule).for_purpose(Purpose::Personalization)])?;
//! let (food, toys) = (engine.taxonomy().require("baby/food")?, engine.taxonomy().require("baby/toys")?);
//! # let t0 = datetime!(2026-11-01 9:00 UTC);
//! # let mut anna = Profile::new("anna");
//! # anna.set_level(Level::FirstParty);
//! # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
//! # for day in 0..3 { // three views of baby food on three days
//! #     let at = t0 + Duration::days(day);
//! #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
//! # }
//! # let now = t0 + Duration::days(3);
//! // After three views of baby food on three days:
//! assert_eq!(engine.segment_names(&anna, now), ["young-parents"]);
//! anna.dislike(toys, now);
//! assert!(engine.segment_names(&anna, now).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::consent::{Purpose, Purposes};
use crate::decay::Scores;
use crate::explain::{self, Exclusion, ExclusionReason, Explanation};
use crate::gate::View;
use crate::json::JsonError;
use crate::level::Level;
use crate::profile::PreferenceKind;
use crate::suppression::Channel;
use crate::taxonomy::{InterestId, Taxonomy};

/// Why a segment definition could not be compiled against a taxonomy.
///
/// `at` names the place in the definitions, e.g.
/// `segments[3].rule.all[1].interest_at_least.min_score`.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// A rule names an interest path the taxonomy does not have.
    #[error("{at}: unknown interest path {path:?} in segment {segment:?}")]
    UnknownInterest {
        /// The segment name.
        segment: String,
        /// The unknown path.
        path: String,
        /// Where.
        at: String,
    },
    /// A minimum score is NaN, infinite or negative.
    #[error("{at}: min_score {value} must be finite and at least 0 (segment {segment:?})")]
    InvalidMinScore {
        /// The segment name.
        segment: String,
        /// The rejected value.
        value: f64,
        /// Where.
        at: String,
    },
    /// Two segments share a name.
    #[error("segment {0:?} is defined twice")]
    Duplicate(String),
    /// A rule nests deeper than the supported limit. (Rules cannot refer to
    /// other segments, so they cannot be cyclic; depth is the only risk.)
    #[error("{at}: rule nests deeper than {max} levels (segment {segment:?})")]
    TooDeep {
        /// The segment name.
        segment: String,
        /// The limit.
        max: usize,
        /// Where.
        at: String,
    },
    /// The rules of all segments together have more nodes than allowed.
    #[error("segment rules have {nodes} nodes, more than the limit of {max}")]
    TooManyRules {
        /// Nodes found.
        nodes: usize,
        /// The limit.
        max: usize,
    },
    /// An `All` or `Any` without children.
    #[error("{at}: empty {which} rule (segment {segment:?})")]
    Empty {
        /// The segment name.
        segment: String,
        /// `all` or `any`.
        which: &'static str,
        /// Where.
        at: String,
    },
    /// The JSON could not be read as segment definitions.
    #[error("segments json: {0}")]
    Json(#[source] JsonError),
}

/// Every problem found in a set of segment definitions, reported at once.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{} problem(s) in segment definitions: {}", .0.len(), join(.0))]
pub struct SegmentErrors(pub Vec<SegmentError>);

fn join(errors: &[SegmentError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// How deep rules may nest by default (see [`crate::Limits::max_rule_depth`]).
pub const MAX_RULE_DEPTH: usize = 32;

/// A rule over a profile's interests, as written in configuration.
///
/// Interests are named by path and cover their subtree. In JSON:
/// `{"all": [{"interest_at_least": {"interest": "baby", "min_score": 2.0}}, {"not": {"dislikes": "baby/food"}}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Rule {
    /// Every child holds.
    All(Vec<Rule>),
    /// At least one child holds.
    Any(Vec<Rule>),
    /// The child does not hold.
    Not(Box<Rule>),
    /// The interest is established (by evidence or a declared like).
    Interest(String),
    /// The interest is established and scores at least `min_score` (up to a
    /// relative 1e-12, so that rounding never decides membership); a
    /// declared like meets any minimum.
    InterestAtLeast {
        /// The interest path.
        interest: String,
        /// The minimum score.
        min_score: f64,
    },
    /// The person declared a like covering the interest.
    Likes(String),
    /// The person declared a dislike covering the interest.
    Dislikes(String),
    /// The person's personalization level is at least this.
    LevelAtLeast(Level),
}

impl Rule {
    /// Number of nodes of the rule tree (without recursion, so any depth is safe).
    #[must_use]
    pub fn nodes(&self) -> usize {
        let mut n = 0usize;
        let mut stack = vec![self];
        while let Some(r) = stack.pop() {
            n = n.saturating_add(1);
            match r {
                Rule::All(rs) | Rule::Any(rs) => stack.extend(rs.iter()),
                Rule::Not(r) => stack.push(r),
                _ => {}
            }
        }
        n
    }

    /// `All` of the rules.
    #[must_use]
    pub fn all(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self::All(rules.into_iter().collect())
    }
    /// `Any` of the rules.
    #[must_use]
    pub fn any(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self::Any(rules.into_iter().collect())
    }
    /// The negation of a rule.
    #[must_use]
    pub fn negate(rule: Rule) -> Self {
        Self::Not(Box::new(rule))
    }
    /// Interest established.
    #[must_use]
    pub fn interest(path: &str) -> Self {
        Self::Interest(path.to_owned())
    }
    /// The person declared a like covering the interest.
    #[must_use]
    pub fn likes(path: &str) -> Self {
        Self::Likes(path.to_owned())
    }
    /// The person declared a dislike covering the interest.
    #[must_use]
    pub fn dislikes(path: &str) -> Self {
        Self::Dislikes(path.to_owned())
    }
    /// Interest established with at least `min_score`.
    #[must_use]
    pub fn interest_at_least(path: &str, min_score: f64) -> Self {
        Self::InterestAtLeast {
            interest: path.to_owned(),
            min_score,
        }
    }
}

/// A named segment definition: a rule, and what membership is for.
///
/// A person is a member at `now` only if the rule holds and the one gate
/// lets them be addressed for the segment's purpose on at least one of its
/// channels: no active suppression covers everything, the purpose, the
/// channel, or an interest the rule relies on (or its life event); every
/// purpose the rule relies on is granted (personalization for every
/// segment that is not a [`Purpose::Service`] segment, whatever its rule);
/// and at level `Off` only service segments can match. In JSON:
/// `{"name": "young-parents", "rule": {...}, "purpose": "marketing", "channels": ["email", "post"]}`;
/// `purpose` defaults to marketing and no `channels` means every channel.
///
/// # Example
/// ```
/// use tactful::{Channel, Purpose, Rule, SegmentDef};
///
/// let def = SegmentDef::new("hikers", Rule::interest("outdoor/hiking"))
///     .for_purpose(Purpose::Personalization)
///     .on_channels([Channel::InApp]);
/// assert_eq!(def.purpose, Purpose::Personalization);
/// assert_eq!(def.channels, [Channel::InApp]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SegmentDef {
    /// Unique name.
    pub name: String,
    /// The rule.
    pub rule: Rule,
    /// What members are addressed or used for (default marketing).
    #[serde(default = "marketing")]
    pub purpose: Purpose,
    /// The channels members may be addressed on; empty means every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
}

fn marketing() -> Purpose {
    Purpose::Marketing
}

impl SegmentDef {
    /// A marketing segment on every channel.
    #[must_use]
    pub fn new(name: &str, rule: Rule) -> Self {
        Self {
            name: name.to_owned(),
            rule,
            purpose: Purpose::Marketing,
            channels: Vec::new(),
        }
    }

    /// Sets the purpose members are addressed or used for.
    #[must_use]
    pub fn for_purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = purpose;
        self
    }

    /// Restricts the channels members may be addressed on.
    #[must_use]
    pub fn on_channels(mut self, channels: impl IntoIterator<Item = Channel>) -> Self {
        self.channels = channels.into_iter().collect();
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Compiled {
    All(Vec<Compiled>),
    Any(Vec<Compiled>),
    Not(Box<Compiled>),
    Interest(InterestId, f64),
    Likes(InterestId),
    Dislikes(InterestId),
    LevelAtLeast(Level),
}

/// A segment compiled against a taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub(crate) def: SegmentDef,
    pub(crate) rule: Compiled,
    /// Interests the rule needs positively (the person's dislikes and
    /// dismissals of them block membership).
    pub(crate) positive: Vec<InterestId>,
    /// Every interest the rule names: a suppression touching one blocks
    /// membership (suppressing `baby` must not make a person a member of
    /// "not interested in baby").
    pub(crate) mentioned: Vec<InterestId>,
    /// Every purpose membership relies on: the segment's, personalization
    /// unless it is a service segment whose rule names no interest, and,
    /// for an interest whose absence the rule relies on, every purpose
    /// whose withdrawal could remove evidence of it (so that withdrawing a
    /// purpose never adds a membership).
    pub(crate) relies: Purposes,
    /// The channels (every channel if the definition names none).
    pub(crate) channels: Vec<Channel>,
}

impl Segment {
    /// The gate's question for this segment on `channel`, with `purpose`
    /// (the request's) added to what the segment relies on.
    pub(crate) fn use_on(&self, channel: Channel, purpose: Purpose) -> crate::gate::Use<'_> {
        crate::gate::Use {
            channel,
            purposes: self.relies.with(purpose),
            interests: &self.mentioned,
            positive: &self.positive,
        }
    }
}

/// Compiles definitions, reporting every error at once. Errors name the
/// place of the problem as `segments[i].rule.all[1].interest_at_least`.
pub(crate) fn compile(
    taxonomy: &Taxonomy,
    defs: Vec<SegmentDef>,
    limits: &crate::limits::Limits,
) -> Result<Vec<Segment>, Vec<SegmentError>> {
    let nodes: usize = defs
        .iter()
        .map(|d| d.rule.nodes())
        .fold(0, usize::saturating_add);
    if nodes > limits.max_rule_nodes {
        return Err(vec![SegmentError::TooManyRules {
            nodes,
            max: limits.max_rule_nodes,
        }]);
    }
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, def) in defs.into_iter().enumerate() {
        if !names.insert(def.name.clone()) {
            errors.push(SegmentError::Duplicate(def.name.clone()));
            continue;
        }
        let mut c = Compiler {
            max_depth: limits.max_rule_depth,
            tax: taxonomy,
            seg: &def.name,
            positive: Vec::new(),
            mentioned: Vec::new(),
            absent: Vec::new(),
            errors: &mut errors,
        };
        if let Some(rule) = c.rule(&def.rule, format!("segments[{i}].rule"), 0, true) {
            let Compiler {
                mut positive,
                mut mentioned,
                absent,
                ..
            } = c;
            for v in [&mut positive, &mut mentioned] {
                v.sort_unstable();
                v.dedup();
            }
            let relies = relies_on(taxonomy, &def, &mentioned, &absent);
            let channels = if def.channels.is_empty() {
                Channel::ALL.to_vec()
            } else {
                let mut c = def.channels.clone();
                c.sort_unstable();
                c.dedup();
                c
            };
            out.push(Segment {
                def,
                rule,
                positive,
                mentioned,
                relies,
                channels,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// What a segment relies on: see [`Segment::relies`].
fn relies_on(
    tax: &Taxonomy,
    def: &SegmentDef,
    mentioned: &[InterestId],
    absent: &[InterestId],
) -> Purposes {
    let mut p = Purposes::EMPTY.with(def.purpose);
    if def.purpose != Purpose::Service || !mentioned.is_empty() {
        p = p.with(Purpose::Personalization);
    }
    for &i in absent {
        // Evidence of `i` may need any of these (see `decay::purposes_for`).
        p = p
            .with(Purpose::PartnerData)
            .with(Purpose::Location)
            .with(Purpose::CrossSite);
        if tax.subtree(i).any(|j| tax.sensitivity(j).is_special()) {
            p = p.with(Purpose::SensitiveInterests);
        }
    }
    p
}

struct Compiler<'a> {
    max_depth: usize,
    tax: &'a Taxonomy,
    seg: &'a str,
    /// Interests the rule needs positively (not under an odd number of `Not`s).
    positive: Vec<InterestId>,
    /// Every interest the rule names.
    mentioned: Vec<InterestId>,
    /// Interests whose evidence the rule needs to be absent (an interest
    /// rule under an odd number of `Not`s).
    absent: Vec<InterestId>,
    errors: &'a mut Vec<SegmentError>,
}

impl Compiler<'_> {
    fn interest(&mut self, path: &str, at: &str, positive: bool) -> Option<InterestId> {
        let id = self.tax.id(path);
        if let Some(id) = id {
            self.mentioned.push(id);
        }
        match id {
            Some(id) if positive => self.positive.push(id),
            Some(_) => {}
            None => self.errors.push(SegmentError::UnknownInterest {
                segment: self.seg.to_owned(),
                path: path.to_owned(),
                at: at.to_owned(),
            }),
        }
        id
    }

    fn children(
        &mut self,
        rules: &[Rule],
        which: &'static str,
        at: &str,
        depth: usize,
        positive: bool,
    ) -> Option<Vec<Compiled>> {
        if rules.is_empty() {
            self.errors.push(SegmentError::Empty {
                segment: self.seg.to_owned(),
                which,
                at: at.to_owned(),
            });
            return None;
        }
        // Compile every child (no short-circuit) so all problems are reported.
        let compiled: Vec<Option<Compiled>> = rules
            .iter()
            .enumerate()
            .map(|(k, r)| self.rule(r, format!("{at}.{which}[{k}]"), depth + 1, positive))
            .collect();
        compiled.into_iter().collect()
    }

    fn rule(&mut self, rule: &Rule, at: String, depth: usize, positive: bool) -> Option<Compiled> {
        if depth >= self.max_depth {
            self.errors.push(SegmentError::TooDeep {
                segment: self.seg.to_owned(),
                max: self.max_depth,
                at,
            });
            return None;
        }
        match rule {
            Rule::All(rs) => self
                .children(rs, "all", &at, depth, positive)
                .map(Compiled::All),
            Rule::Any(rs) => self
                .children(rs, "any", &at, depth, positive)
                .map(Compiled::Any),
            Rule::Not(r) => self
                .rule(r, format!("{at}.not"), depth + 1, !positive)
                .map(|c| Compiled::Not(Box::new(c))),
            Rule::Interest(path) => {
                let id = self.interest(path, &format!("{at}.interest"), positive)?;
                if !positive {
                    self.absent.push(id);
                }
                Some(Compiled::Interest(id, 0.0))
            }
            Rule::InterestAtLeast {
                interest,
                min_score,
            } => {
                let at = format!("{at}.interest_at_least");
                let valid = min_score.is_finite() && *min_score >= 0.0;
                if !valid {
                    self.errors.push(SegmentError::InvalidMinScore {
                        segment: self.seg.to_owned(),
                        value: *min_score,
                        at: format!("{at}.min_score"),
                    });
                }
                let id = self.interest(interest, &format!("{at}.interest"), positive)?;
                if !positive {
                    self.absent.push(id);
                }
                valid.then_some(Compiled::Interest(id, *min_score))
            }
            Rule::Likes(path) => {
                let id = self.interest(path, &format!("{at}.likes"), positive)?;
                Some(Compiled::Likes(id))
            }
            Rule::Dislikes(path) => self
                .interest(path, &format!("{at}.dislikes"), false)
                .map(Compiled::Dislikes),
            Rule::LevelAtLeast(l) => Some(Compiled::LevelAtLeast(*l)),
        }
    }
}

/// A profile's membership in a segment at `now`, with the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Membership {
    /// The segment's name.
    pub segment: String,
    /// Why the profile is a member.
    pub explanation: Explanation,
}

/// Whether a score meets a rule's minimum. A score within 1e-12 (relative)
/// below the minimum meets it: the incremental and the plain computation of
/// a score may differ in the last bits (a view read at its own instant may
/// score 0.9999999999999998), and membership must not depend on which ran.
pub(crate) fn meets_min(score: f64, min: f64) -> bool {
    score >= min - 1e-12 * min.abs()
}

/// Evaluates a compiled rule without building an explanation.
pub(crate) fn holds(view: &View<'_>, scores: &Scores, rule: &Compiled) -> bool {
    match rule {
        Compiled::All(rs) => rs.iter().all(|r| holds(view, scores, r)),
        Compiled::Any(rs) => rs.iter().any(|r| holds(view, scores, r)),
        Compiled::Not(r) => !holds(view, scores, r),
        leaf => leaf_holds(view, scores, leaf),
    }
}

/// Whether a leaf of a rule holds (`false` for `All`, `Any`, `Not`): the
/// one definition both [`holds`] and [`eval`] use.
fn leaf_holds(view: &View<'_>, scores: &Scores, rule: &Compiled) -> bool {
    match rule {
        Compiled::Interest(id, min) => scores.get(*id).is_some_and(|s| match s.established {
            Some(crate::decay::Establishment::DeclaredLike) => true,
            // A declared like meets any minimum, also when observed evidence
            // establishes the interest with a lower score: otherwise more
            // evidence could remove a membership (and withdrawing consent
            // for some of it add one).
            Some(crate::decay::Establishment::Observed) => {
                meets_min(s.score, *min) || view.like_for(*id).is_some()
            }
            None => false,
        }),
        // A like only counts where likes may be used at all (level, consent,
        // no suppression or dislike on the subtree).
        Compiled::Likes(id) => view.like_for(*id).is_some(),
        Compiled::Dislikes(id) => view.profile.preferences().iter().any(|p| {
            p.kind == PreferenceKind::Dislike
                && p.at <= view.now
                && view.taxonomy.is_within(*id, p.interest)
        }),
        Compiled::LevelAtLeast(l) => view.profile.level() >= *l,
        Compiled::All(_) | Compiled::Any(_) | Compiled::Not(_) => false,
    }
}

/// Evaluates a compiled rule; on success, the explanation of what carried it.
pub(crate) fn eval(view: &View<'_>, scores: &Scores, rule: &Compiled) -> Option<Explanation> {
    match rule {
        Compiled::All(rs) => {
            let mut ex = Explanation::default();
            for r in rs {
                ex.absorb(eval(view, scores, r)?);
            }
            Some(ex)
        }
        Compiled::Any(rs) => {
            let mut found = None;
            for r in rs {
                if let Some(e) = eval(view, scores, r) {
                    found.get_or_insert_with(Explanation::default).absorb(e);
                }
            }
            found
        }
        Compiled::Not(r) => match eval(view, scores, r) {
            Some(_) => None,
            None => Some(Explanation::default()),
        },
        // An interest leaf is explained by the interest's evidence.
        Compiled::Interest(id, _) | Compiled::Likes(id) => {
            leaf_holds(view, scores, rule).then(|| {
                let s = scores.get(*id).copied().unwrap_or_default();
                explain::interest(view, *id, s.score, s.established)
            })
        }
        leaf => leaf_holds(view, scores, leaf).then(Explanation::default),
    }
}

/// Why an interest is not established: a block, or too little evidence.
pub(crate) fn shortfall_of(view: &View<'_>, scores: &Scores, id: InterestId) -> Option<Exclusion> {
    if scores.is_established(id) {
        return None;
    }
    let policy = view.policy;
    let s = scores.get(id).copied().unwrap_or_default();
    let reason = view
        .interest_block(id)
        .unwrap_or(ExclusionReason::InsufficientEvidence {
            events: s.events,
            days: s.days,
            min_events: policy.min_events(),
            min_days: policy.min_days(),
        });
    Some(Exclusion {
        interest: id,
        path: view.taxonomy.path(id).unwrap_or_default().to_owned(),
        at: None,
        reason,
    })
}
