//! A person's consent, suppressions, dislikes and level as integers, and
//! what each series (interest, source and context) of their events comes
//! to: the fast path's admission and use of an event at its own instant.

use crate::consent::{AllSteps, NanosGate, Purpose, Purposes, Steps};
use crate::gate::{purposes_of, View};
use crate::level::Level;
use crate::policy::DecayPolicy;
use crate::profile::{PreferenceKind, Profile, RefusalKind};
use crate::store::{context_of, oldest_usable, source_of, to_nanos};
use crate::suppression::Suppression;
use crate::taxonomy::{InterestId, Taxonomy};

use super::partial::EventRow;

/// What one (interest, source and context) needs, computed once per run of
/// its events.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeriesFacts {
    interest: InterestId,
    pub(super) known: bool,
    pub(super) purposes: Purposes,
    /// The level its source and context need.
    required: Level,
    /// Refused as sensitive by the policy, whoever the person is.
    sensitive: bool,
    /// The earliest instant usable now (no older than the max age), for
    /// the `now` the facts were computed for.
    oldest: i64,
    pub(super) half_life: f64,
    pub(super) blocked_now: bool,
    /// `known`, `sensitive`, `required` and `purposes` packed (see
    /// [`shape`](Self::shape)).
    packed: u32,
}

impl SeriesFacts {
    /// What [`Person::run`] reads of these facts for a plain person (see
    /// [`Person::plain`]): two series of one shape come to the same run.
    /// `blocked` is whether the person's view blocks the series now.
    #[inline]
    pub(super) fn shape(&self, blocked: bool) -> Shape {
        Shape(self.packed | (u32::from(blocked) << 31))
    }
}

/// The part of a series' facts that its [`Run`] depends on for a plain
/// person: everything but the interest. Known, sensitive, the required
/// level, the purposes and blocked now, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape(u32);

/// A set of purposes of a person: granted at an instant (admission) and
/// usable now for data recorded at an instant, as steps and, when each is
/// one closed interval, as that interval.
struct Combo {
    purposes: Purposes,
    admit: AllSteps,
    usable: AllSteps,
    spans: [Option<(i64, i64)>; 2],
}

/// A person's consent, suppressions, dislikes and level as integers, for
/// admitting events at their own instants and using them at `now`.
pub(super) struct Person<'p> {
    profile: &'p Profile,
    level: Level,
    now: i64,
    /// Per purpose: granted at an instant (admission), built when first asked.
    granted: [Option<Steps>; Purpose::ALL.len()],
    /// Per purpose: usable now for data recorded at an instant.
    gate: NanosGate,
    /// Per set of purposes met so far: all granted at an instant
    /// (admission) and all usable now for data recorded at an instant.
    combos: Vec<Combo>,
    /// The set of purposes last asked for and its index in `combos`.
    last_combo: Option<(Purposes, usize)>,
    /// Suppressions with their windows in ns.
    suppressions: Vec<(&'p Suppression, i64, i64)>,
    /// The windows of the suppressions that cover the current series.
    windows: Vec<(i64, i64)>,
    /// The purging suppressions applied (bereavements on an interest or on
    /// everything) and their instants in ns: each purges the events of its
    /// scope recorded before it and leaves a tombstone at its instant.
    purges: Vec<(Suppression, i64)>,
    /// The instants of the purges that cover the current series.
    purged_at: Vec<i64>,
    /// Dislikes: since (ns) and subtree.
    dislikes: Vec<(i64, InterestId)>,
}

/// What one series (interest, source and context) comes to for a person,
/// worked out once for all its events: each event then needs only its
/// instant compared.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// Refused whatever the instant, after the checks that depend on it
    /// (the future, suppressions): the level or a sensitive interest.
    fixed: Option<RefusalKind>,
    /// Some suppression covers the series (its windows are in
    /// [`Person::windows`]).
    suppressible: bool,
    /// Refused as disliked from this instant on.
    disliked_from: i64,
    /// Admitted events before this instant are purged later (a purge
    /// covers the series); `i64::MIN` if none does. A purge's own instant
    /// refuses the events of that instant as erased (its tombstone).
    pub(super) purged_before: i64,
    /// Usable now at all (the level admits it, nothing blocks it).
    usable: bool,
    /// The index of the series' purposes in [`Person::combos`].
    combo: usize,
    /// The instants at which those purposes are granted (admission) and
    /// usable now (use), as closed intervals when they are one.
    spans: [Option<(i64, i64)>; 2],
    /// Every instant in this closed interval is admitted (empty when the
    /// instant alone cannot tell): [`Person::admit`]'s first test.
    admit_span: (i64, i64),
    /// An admitted event, not a gift, at an instant in this closed interval
    /// and no older than its interest's max age is usable now.
    pub(super) use_span: (i64, i64),
    /// Whether `use_span` is exact: no other instant is usable.
    pub(super) use_exact: bool,
}

/// A closed interval with nothing in it.
const EMPTY: (i64, i64) = (i64::MAX, i64::MIN);

impl<'p> Person<'p> {
    pub(super) fn new(
        profile: &'p Profile,
        view: &View<'_>,
        now: i64,
        purges: Vec<(Suppression, i64)>,
    ) -> Option<Self> {
        let mut suppressions = Vec::with_capacity(profile.suppressions().len());
        for s in profile.suppressions() {
            let until = match s.ends() {
                Some(u) => to_nanos(u)?,
                None => i64::MAX,
            };
            suppressions.push((s, to_nanos(s.since())?, until));
        }
        let mut dislikes = Vec::new();
        for p in profile
            .preferences()
            .iter()
            .filter(|p| p.kind == PreferenceKind::Dislike)
        {
            dislikes.push((to_nanos(p.at)?, p.interest));
        }
        Some(Self {
            profile,
            level: profile.level(),
            now,
            granted: Default::default(),
            gate: view.gate.in_nanos()?,
            combos: Vec::new(),
            last_combo: None,
            suppressions,
            windows: Vec::new(),
            purges,
            purged_at: Vec::new(),
            dislikes,
        })
    }

    /// Whether the person has no suppression, purge or dislike: then what
    /// a series comes to ([`run`](Self::run)) does not depend on its
    /// interest, only on its facts' [`Shape`].
    pub(super) fn plain(&self) -> bool {
        self.suppressions.is_empty() && self.purges.is_empty() && self.dislikes.is_empty()
    }

    /// The index in `combos` of a set of purposes, built when first met.
    fn combo(&mut self, purposes: Purposes) -> Option<usize> {
        if let Some(i) = self.combos.iter().position(|c| c.purposes == purposes) {
            return Some(i);
        }
        for p in purposes.iter() {
            let slot = self.granted.get_mut(p.index())?;
            if slot.is_none() {
                *slot = Some(self.profile.consent().granted_steps(p)?);
            }
        }
        let steps: Vec<&Steps> = purposes
            .iter()
            .filter_map(|p| self.granted.get(p.index()).and_then(Option::as_ref))
            .collect();
        let admit = AllSteps::granted_all(&steps);
        let usable = self.gate.all_of(purposes);
        let spans = [admit.interval(), usable.interval()];
        self.combos.push(Combo {
            purposes,
            admit,
            usable,
            spans,
        });
        Some(self.combos.len() - 1)
    }

    /// `gate::admit` and `View::check` for a series, as far as they do not
    /// depend on the instant; fills `windows`. `blocked`: the person's
    /// view blocks the series now (or its facts do).
    #[inline(never)]
    pub(super) fn run(&mut self, tax: &Taxonomy, f: &SeriesFacts, blocked: bool) -> Option<Run> {
        self.windows.clear();
        self.purged_at.clear();
        if !f.known {
            // Refused as invalid before anything is asked.
            return Some(Run {
                fixed: Some(RefusalKind::Invalid),
                suppressible: false,
                disliked_from: i64::MAX,
                purged_before: i64::MIN,
                spans: [None; 2],
                usable: false,
                combo: usize::MAX,
                admit_span: EMPTY,
                use_span: EMPTY,
                use_exact: true,
            });
        }
        for &(s, since, until) in &self.suppressions {
            if s.covers_interest(tax, f.interest) || f.purposes.iter().any(|p| s.covers_purpose(p))
            {
                self.windows.push((since, until));
            }
        }
        for (s, at) in &self.purges {
            // A purge's scope (its subtree and the life events it extends
            // to) is what it covers.
            if s.covers_interest(tax, f.interest) {
                self.purged_at.push(*at);
            }
        }
        // `Level::admits`, with the level the series needs worked out once.
        let level = self.level >= f.required;
        let fixed = if !level {
            Some(RefusalKind::Level)
        } else if f.sensitive {
            Some(RefusalKind::Sensitive)
        } else {
            None
        };
        let disliked_from = self
            .dislikes
            .iter()
            .filter(|&&(_, root)| tax.is_within(f.interest, root))
            .map(|d| d.0)
            .min()
            .unwrap_or(i64::MAX);
        // Consecutive series mostly need the same purposes.
        let combo = match self.last_combo {
            Some((p, i)) if p == f.purposes => i,
            _ => {
                let i = self.combo(f.purposes)?;
                self.last_combo = Some((f.purposes, i));
                i
            }
        };
        let spans = self.combos.get(combo).map_or([None; 2], |c| c.spans);
        let purged_before = self.purged_at.iter().copied().max().unwrap_or(i64::MIN);
        let usable = level && !blocked;
        let (admit_span, use_span, use_exact) =
            self.spans(spans, fixed, disliked_from, purged_before, usable);
        Some(Run {
            fixed,
            suppressible: !self.windows.is_empty(),
            disliked_from,
            purged_before,
            usable,
            combo,
            spans,
            admit_span,
            use_span,
            use_exact,
        })
    }

    /// A run's closed intervals (see [`Run::admit_span`] and
    /// [`Run::use_span`]) from its consent `spans` and the rest of it; the
    /// current series' windows and purges are filled.
    fn spans(
        &self,
        spans: [Option<(i64, i64)>; 2],
        fixed: Option<RefusalKind>,
        disliked_from: i64,
        purged_before: i64,
        usable: bool,
    ) -> ((i64, i64), (i64, i64), bool) {
        // Admitted whatever else: not from the future, granted, not
        // disliked; when nothing else (a suppression, a purge's tombstone,
        // the level, sensitivity) can refuse.
        let simple = fixed.is_none() && self.windows.is_empty() && self.purged_at.is_empty();
        let admit = match (spans[0], disliked_from.checked_sub(1)) {
            (Some((lo, hi)), Some(last)) if simple => (lo, hi.min(self.now).min(last)),
            _ => EMPTY,
        };
        // Usable: not purged later, at or before now, and usable now for
        // data recorded then.
        let (use_span, exact) = match (usable, spans[1]) {
            (false, _) => (EMPTY, true),
            (true, Some((lo, hi))) => ((lo.max(purged_before), hi.min(self.now)), true),
            (true, None) => (EMPTY, false),
        };
        (admit, use_span, exact)
    }

    /// `gate::admit` for an event of a known interest at its own instant
    /// (or `now` if later), for a person whose events are independent.
    #[inline]
    pub(super) fn admit(&self, run: &Run, at: i64) -> Result<(), RefusalKind> {
        let (lo, hi) = run.admit_span;
        if lo <= at && at <= hi {
            return Ok(());
        }
        self.admit_fully(run, at)
    }

    /// [`admit`](Self::admit) without its first test: out of line, as
    /// most events pass that test.
    #[inline(never)]
    fn admit_fully(&self, run: &Run, at: i64) -> Result<(), RefusalKind> {
        if at > self.now {
            return Err(RefusalKind::FromFuture);
        }
        // The tombstone of a purge at this very instant (applied first).
        if self.purged_at.contains(&at) {
            return Err(RefusalKind::Erased);
        }
        // Recorded at its own instant: age zero, never stale.
        if run.suppressible
            && self
                .windows
                .iter()
                .any(|&(since, until)| since <= at && at < until)
        {
            return Err(RefusalKind::Suppressed);
        }
        if let Some(kind) = run.fixed {
            return Err(kind);
        }
        let granted = match run.spans[0] {
            Some((lo, hi)) => lo <= at && at <= hi,
            None => self
                .combos
                .get(run.combo)
                .is_some_and(|c| c.admit.allows(at)),
        };
        if !granted {
            return Err(RefusalKind::NoConsent);
        }
        if at >= run.disliked_from {
            return Err(RefusalKind::Disliked);
        }
        Ok(())
    }

    /// `View::check` at `now` for an admitted, non-gift event: whether it
    /// is usable. Out of line: most events are settled by their run's
    /// [`use_span`](Self::use_span).
    #[inline(never)]
    pub(super) fn usable(&self, f: &SeriesFacts, run: &Run, r: &EventRow) -> bool {
        // From the future, or older than the max age.
        if r.at > self.now || r.at < f.oldest || !run.usable {
            return false;
        }
        match run.spans[1] {
            Some((lo, hi)) => lo <= r.at && r.at <= hi,
            None => self
                .combos
                .get(run.combo)
                .is_some_and(|c| c.usable.allows(r.at)),
        }
    }

    /// Where an admitted, non-gift event of the series of `f` and `run`
    /// is usable now, if `exact` (see [`Run::use_span`]): `run.use_span`
    /// and no older than the interest's max age.
    #[inline]
    pub(super) fn use_span(f: &SeriesFacts, run: &Run) -> (i64, i64) {
        (run.use_span.0.max(f.oldest), run.use_span.1)
    }
}

/// What an (interest, source and context) needs whoever the person is, at
/// `now` (ns).
pub(super) fn static_facts(
    tax: &Taxonomy,
    policy: &DecayPolicy,
    r: &EventRow,
    now: i64,
) -> SeriesFacts {
    let (source, context) = (source_of(r.class), context_of(r.class));
    let known = tax.contains(r.interest);
    let purposes = purposes_of(tax, r.interest, source, context);
    let sensitive =
        purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation();
    let required = Level::required_for(source, context);
    SeriesFacts {
        interest: r.interest,
        known,
        purposes,
        required,
        sensitive,
        oldest: oldest_usable(now, policy.max_age_for(tax, r.interest, source)),
        half_life: policy.half_life_for(tax, r.interest).seconds(),
        blocked_now: !known || sensitive,
        packed: u32::from(known)
            | (u32::from(sensitive) << 1)
            | ((required as u32) << 2)
            | (u32::from(purposes.bits()) << 8),
    }
}
