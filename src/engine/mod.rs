//! The [`Engine`]: taxonomy, policy and segments, and every operation on a
//! profile that needs them.

use time::{Duration, OffsetDateTime};

use crate::audience::{Audience, AudienceError, DEFAULT_MIN_AUDIENCE};
use crate::consent::Purpose;
use crate::decay::{self, DecayPolicy, Scores};
use crate::decision::{self, Decision, MessageRequest, Target};
use crate::event::Event;
use crate::explain::{self, Explanation};
use crate::gate;
use crate::gate::View;
use crate::level::Level;
use crate::limits::{Limit, Limits, ProfileError};
use crate::persist;
use crate::privacy::{
    self, Breakdown, Budget, Mechanism, NoisyCount, PrivateRelease, ReleaseError,
};
use crate::profile::{ErasedScope, Profile, Refusal, RefusalReason, Tombstone};
use crate::report::{self, Report};
use crate::segment::{self, Membership, Segment, SegmentDef, SegmentErrors};
use crate::store::to_nanos;
use crate::suppression::{Scope, Suppression};
use crate::taxonomy::{InterestId, Taxonomy};

mod audiences;
mod lifecycle;
mod storage;

pub use lifecycle::Merged;

/// Taxonomy, decay policy and segment definitions: everything that is the
/// same for every profile. Immutable, `Send + Sync`; share it with `Arc`.
///
/// # Example
/// ```
/// use tactful::*;
/// use time::macros::datetime;
/// use time::Duration;
///
/// let taxonomy = Taxonomy::builder().interest("outdoor/hiking").build()?;
/// let hiking = taxonomy.id("outdoor/hiking").unwrap();
/// let engine = Engine::new(taxonomy, DecayPolicy::default())
///     .with_segments(vec![
///         // Recommendations in the app: a personalization segment.
///         SegmentDef::new("hikers", Rule::interest_at_least("outdoor", 2.0))
///             .for_purpose(Purpose::Personalization),
///     ])?;
///
/// let start = datetime!(2026-11-01 9:00 UTC);
/// let mut p = Profile::new("c-1");
/// p.set_level(Level::FirstParty);
/// p.consent_mut().grant(Purpose::Personalization, start, None, Evidence::Ui("banner".into()))?;
/// for day in 0..3 {
///     engine.record(&mut p, Event::new(hiking, Signal::View, start + Duration::days(day)), start + Duration::days(day))?;
/// }
/// let now = start + Duration::days(3);
/// let members = engine.segments(&p, now);
/// assert_eq!(members[0].segment, "hikers");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    taxonomy: Taxonomy,
    policy: DecayPolicy,
    /// What profiles' incremental aggregates are valid for.
    fingerprint: u64,
    limits: Limits,
    segments: Vec<Segment>,
    min_audience: usize,
}

impl Engine {
    /// An engine without segments and the default minimum audience (50).
    #[must_use]
    pub fn new(taxonomy: Taxonomy, policy: DecayPolicy) -> Self {
        let fingerprint = decay::fingerprint(&taxonomy, &policy);
        Self {
            taxonomy,
            policy,
            fingerprint,
            limits: Limits::default(),
            segments: Vec::new(),
            min_audience: DEFAULT_MIN_AUDIENCE,
        }
    }

    /// Adds segment definitions, compiled against the taxonomy.
    ///
    /// # Errors
    /// Every problem at once: unknown interest paths, invalid minimum
    /// scores, duplicate names (also against segments already added), too
    /// deep or empty rules.
    pub fn with_segments(mut self, defs: Vec<SegmentDef>) -> Result<Self, SegmentErrors> {
        let mut all: Vec<SegmentDef> = self.segments.iter().map(|s| s.def.clone()).collect();
        all.extend(defs);
        self.segments =
            segment::compile(&self.taxonomy, all, &self.limits).map_err(SegmentErrors)?;
        Ok(self)
    }

    /// Adds segment definitions from a JSON array of `{"name": ..., "rule": ...}`.
    ///
    /// # Errors
    /// As [`with_segments`](Self::with_segments), or the JSON error.
    pub fn with_segments_json(self, json: &str) -> Result<Self, SegmentErrors> {
        let defs: Vec<SegmentDef> = crate::json::parse_json(json)
            .map_err(|e| SegmentErrors(vec![crate::segment::SegmentError::Json(e)]))?;
        self.with_segments(defs)
    }

    /// Sets the limits (see [`Limits`]). Set them before adding segments:
    /// rule depth and size are checked when segments are added.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sets the minimum audience size (at least 1).
    #[must_use]
    pub fn with_min_audience(mut self, min: std::num::NonZeroUsize) -> Self {
        self.min_audience = min.get();
        self
    }

    /// The taxonomy.
    #[must_use]
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &DecayPolicy {
        &self.policy
    }
    /// The segment definitions.
    pub fn segment_defs(&self) -> impl Iterator<Item = &SegmentDef> + '_ {
        self.segments.iter().map(|s| &s.def)
    }
    /// The minimum audience size.
    #[must_use]
    pub fn min_audience(&self) -> usize {
        self.min_audience
    }

    fn params(&self) -> decay::Params<'_> {
        decay::Params {
            taxonomy: &self.taxonomy,
            policy: &self.policy,
            fingerprint: self.fingerprint,
        }
    }

    fn view<'a>(&'a self, profile: &'a Profile, now: OffsetDateTime) -> View<'a> {
        View::new(&self.taxonomy, &self.policy, profile, now)
    }

    /// Stores an event in the profile, or refuses it with the reason (and
    /// counts the refusal on the profile). Nothing is dropped silently.
    ///
    /// Checks, in order: unknown interest, from the future, erased, covered
    /// by an active suppression, stale, level, special category, consent
    /// (granted at the event's instant and now, no withdrawal in between),
    /// declared dislike, later dismissal, duplicate. A dismissal is only
    /// checked for the first three and staleness (older than the cooldown):
    /// it can only lower or block. Gifts are stored but never count.
    ///
    /// # Errors
    /// A [`Refusal`] carrying the reason and the event.
    pub fn record(
        &self,
        profile: &mut Profile,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let refused = match gate::admit(
            &self.taxonomy,
            &self.policy,
            &self.limits,
            profile,
            &event,
            now,
        ) {
            Ok(c) => {
                let (store, ledger) = profile.store_and_ledger();
                match store.insert_new_at(event, c.at_ns) {
                    Ok(Some(at)) => {
                        decay::after_insert(
                            store,
                            at,
                            self.params(),
                            ledger,
                            now,
                            (c.cutoff, c.now_ns),
                        );
                        return Ok(());
                    }
                    Ok(None) => return Ok(()),
                    Err(()) => RefusalReason::Duplicate,
                }
            }
            Err(reason) => reason,
        };
        profile.refusals_mut().bump(refused.kind());
        Err(Refusal {
            reason: refused,
            event,
        })
    }

    /// Scores every interest of the taxonomy for `profile` at `now`.
    #[must_use]
    pub fn scores(&self, profile: &Profile, now: OffsetDateTime) -> Scores {
        decay::score(&self.view(profile, now), self.fingerprint)
    }

    /// Explains one interest at `now`: its usable events and their
    /// contributions, the consents that allowed them, and every stored event
    /// left out with the reason.
    #[must_use]
    pub fn explain(
        &self,
        profile: &Profile,
        interest: InterestId,
        now: OffsetDateTime,
    ) -> Explanation {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        let s = scores.get(interest).copied().unwrap_or_default();
        let mut ex = explain::interest(&view, interest, s.score, s.established);
        if s.established.is_none() {
            ex.excluded
                .extend(segment::shortfall_of(&view, &scores, interest));
        }
        ex
    }

    /// The scores computed by one plain pass over the stored events,
    /// ignoring the incremental aggregates: the reference that
    /// [`scores`](Self::scores) agrees with (scores within 1e-9 relative,
    /// evidence exactly). Slower; for audits and tests.
    #[must_use]
    pub fn scores_by_scan(&self, profile: &Profile, now: OffsetDateTime) -> Scores {
        decay::score(&self.view(profile, now), 0)
    }

    /// The names of the segments `profile` is a member of at `now`, without
    /// explanations: the cheap question for serving. Same members as
    /// [`segments`](Self::segments).
    #[must_use]
    pub fn segment_names(&self, profile: &Profile, now: OffsetDateTime) -> Vec<&str> {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.segments
            .iter()
            .filter(|seg| self.gate_open(&view, seg) && segment::holds(&view, &scores, &seg.rule))
            .map(|seg| seg.def.name.as_str())
            .collect()
    }

    /// The segments `profile` is a member of at `now`, each with its
    /// explanation: those whose rule holds and for which the one gate lets
    /// the person be addressed for the segment's purpose on at least one of
    /// its channels (see [`SegmentDef`] and [`decide`](Self::decide)).
    #[must_use]
    pub fn segments(&self, profile: &Profile, now: OffsetDateTime) -> Vec<Membership> {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        self.memberships(&view, &scores)
    }

    /// Whether the gate lets the person be addressed for the segment's
    /// purpose on at least one of its channels.
    fn gate_open(&self, view: &View<'_>, seg: &Segment) -> bool {
        seg.channels
            .iter()
            .any(|&c| gate::is_open(view, &seg.use_on(c, seg.def.purpose)))
    }

    fn memberships(&self, view: &View<'_>, scores: &Scores) -> Vec<Membership> {
        self.segments
            .iter()
            .filter(|seg| self.gate_open(view, seg))
            .filter_map(|seg| {
                segment::eval(view, scores, &seg.rule).map(|explanation| Membership {
                    segment: seg.def.name.clone(),
                    explanation,
                })
            })
            .collect()
    }

    /// Whether a message may be sent to `profile` at `now`: `Allow` with the
    /// explanation, or `Deny` with every reason.
    ///
    /// Asks the one gate that segment memberships ask too: suppression
    /// always wins (everything, the channel, the purpose, the channel and
    /// purpose together, or an interest the message relies on, or its life
    /// event); every purpose relied on must be granted (the message's, and
    /// for a segment its purpose and what its rule relies on; anything
    /// targeted relies on personalization); at level `Off` only service
    /// messages go out; the person's dislikes and dismissals of an interest
    /// the message needs block it. Service messages need no consent and
    /// are not blocked by a marketing opt-out. Then the target must hold:
    /// the interest established, or the person a member of the segment.
    #[must_use]
    pub fn decide(
        &self,
        profile: &Profile,
        request: &MessageRequest,
        now: OffsetDateTime,
    ) -> Decision {
        decision::decide(
            &self.view(profile, now),
            &self.segments,
            self.fingerprint,
            request,
        )
    }

    /// The transparency report of one profile at `now`.
    #[must_use]
    pub fn report(&self, profile: &Profile, now: OffsetDateTime) -> Report {
        let view = self.view(profile, now);
        let scores = decay::score(&view, self.fingerprint);
        let tax = &self.taxonomy;
        let mut ids: Vec<InterestId> = profile
            .events()
            .iter()
            .filter(|e| !e.is_dismissal())
            .map(|e| e.interest())
            .collect();
        ids.extend(
            scores
                .iter()
                .filter(|(_, s)| s.established.is_some())
                .map(|(i, _)| i),
        );
        ids.retain(|i| tax.contains(*i));
        ids.sort();
        ids.dedup();
        Report {
            profile: profile.id().clone(),
            at: now,
            level: profile.level(),
            consents: Purpose::ALL
                .into_iter()
                .filter(|p| p.needs_consent())
                .map(|p| report::consent_line(profile.consent(), p, now))
                .collect(),
            interests: ids
                .into_iter()
                .map(|i| report::interest_line(&view, &scores, i))
                .collect(),
            preferences: report::preference_lines(&view),
            suppressions: profile
                .suppressions()
                .iter()
                .map(|s| report::suppression_line(tax, s, now))
                .collect(),
            segments: self.memberships(&view, &scores),
            refusals: profile.refusals().clone(),
            erasures: profile
                .tombstones()
                .iter()
                .map(|t| report::erasure_line(tax, t))
                .collect(),
            stored_events: profile.stored_events(),
            orphaned: orphan_lines(profile.orphans()),
        }
    }
}

/// Orphaned paths and their record counts, for the report.
fn orphan_lines(o: &crate::profile::Orphans) -> Vec<(String, usize)> {
    let mut lines: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let paths = o
        .events()
        .map(|e| e.interest)
        .chain(o.preferences().iter().map(|p| p.interest.as_str()))
        .chain(o.suppressions().iter().map(|s| s.interest.as_str()))
        .chain(o.tombstones().map(|t| t.interest));
    for p in paths {
        *lines.entry(p).or_insert(0) += 1;
    }
    lines.into_iter().map(|(p, n)| (p.to_owned(), n)).collect()
}
