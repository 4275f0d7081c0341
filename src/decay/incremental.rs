//! The incremental pass: per-series sums with a forward-decay landmark,
//! kept at record time, so that scoring a profile reads one sum per series
//! instead of every event.

use time::{Duration, OffsetDateTime};

use crate::consent::{Purpose, Purposes};
use crate::event::Signal;
use crate::gate::{purposes_of, View};
use crate::policy::DecayPolicy;
use crate::quantity::HalfLife;
use crate::store::{
    context_of, diff_f64, from_nanos, oldest_usable, source_of, to_nanos, Prepared, Series, Store,
    Sum,
};
use crate::taxonomy::{InterestId, Taxonomy};

use super::InterestScore;

/// When data recorded at an instant may be used for a purpose at `now`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Window {
    /// Not at all (not granted now, or suppressed).
    Never,
    /// Data recorded at or after this instant (Unix ns), none before.
    Since(i64),
    /// A more involved history (a lapsed grant renewed without withdrawal):
    /// ask per event.
    PerEvent,
}

fn windows(view: &View<'_>) -> [Window; Purpose::ALL.len()] {
    let now = view.now;
    Purpose::ALL.map(|p| {
        if !p.needs_consent() {
            return Window::Since(i64::MIN);
        }
        if view.is_purpose_blocked(p) {
            return Window::Never;
        }
        // The gate holds the timeline of every purpose granted now.
        let Some((withdrawn, timeline)) = view.gate.parts(p) else {
            return Window::Never;
        };
        let upto = timeline.partition_point(|x| x.0 <= now);
        let points = timeline.get(..upto).unwrap_or(&[]);
        // Start of the granted run that reaches `now`, and never before the
        // last withdrawal (a re-grant at the same instant hides it in the timeline).
        let run = points
            .iter()
            .rposition(|x| !x.1.is_granted())
            .map_or(0, |i| i + 1);
        let Some(run_start) = points.get(run).map(|x| x.0) else {
            return Window::Never;
        };
        let start = withdrawn.map_or(run_start, |w| w.max(run_start));
        // Anything granted earlier but after the last withdrawal still counts.
        let earlier_grant = points.get(..run).is_some_and(|xs| {
            xs.iter()
                .any(|x| x.1.is_granted() && withdrawn.is_none_or(|w| x.0 >= w))
        });
        match (earlier_grant, to_nanos(start)) {
            (false, Some(s)) => Window::Since(s),
            (false, None) if start < OffsetDateTime::UNIX_EPOCH => Window::Since(i64::MIN),
            _ => Window::PerEvent,
        }
    })
}

/// Latest active dismissal covering `interest`, Unix ns.
fn dismissed_until(view: &View<'_>, interest: InterestId) -> Option<i64> {
    let i = interest.0;
    view.dismissals
        .iter()
        .filter(|d| d.0 <= i && i < d.1)
        .filter_map(|d| to_nanos(d.2))
        .max()
}

fn h_nanos(view: &View<'_>, interest: InterestId) -> f64 {
    view.policy
        .half_life_for(view.taxonomy, interest)
        .get()
        .whole_nanoseconds() as f64
}

fn nanos_f64(d: Duration) -> f64 {
    d.whole_nanoseconds() as f64
}

/// Largest forward-decay exponent (in half-lives) a sum may carry before
/// the landmark moves: 2^600 is far from overflow and leaves decay factors
/// far from underflow.
pub(crate) const MAX_EXPONENT: f64 = 600.0;

pub(super) fn score_incremental(
    view: &View<'_>,
    prepared: Prepared,
    now: i64,
) -> Vec<InterestScore> {
    let tax = view.taxonomy;
    let wins = windows(view);
    let cap = view.policy.min_days as usize;
    let mut scores = vec![InterestScore::default(); tax.len()];
    // Most recent distinct usable days per series (up to `cap`), flat.
    let series = &view.profile.store().series;
    let mut days: Vec<(usize, i64)> = Vec::with_capacity(series.len().saturating_mul(cap));
    for (si, s) in series.iter().enumerate() {
        let Some(range) = usable_range(view, s, &wins, now) else {
            continue;
        };
        let (value, count) = series_value(view, s, &range, prepared, now, (si, &mut days));
        if count == 0 {
            continue;
        }
        if !range.per_event {
            // The per-event path took its days while summing.
            recent_days(s, &range, cap, si, &mut days);
        }
        let mut node = Some(s.interest);
        while let Some(id) = node {
            if let Some(sc) = scores.get_mut(id.index()) {
                sc.score += value;
                sc.events += count;
            }
            node = tax.parent(id);
        }
    }
    if !days.is_empty() {
        distinct_days(view, &days, cap, &mut scores);
    }
    scores
}

/// The events of a series that may count at `now`, and how to check them.
struct UsableRange {
    /// The purposes every event of the series needs.
    purposes: Purposes,
    /// First index past the head, max age and consent window.
    first_fresh: usize,
    /// First usable index (also past a dismissal).
    start: usize,
    /// One past the last event at or before `now`.
    end: usize,
    /// Consent must be checked event by event (a window not yet known).
    per_event: bool,
}

/// Which events of series `s` may count at `now`: none if the series is
/// blocked (suppression, dislike), below the level, an unobservable special
/// category, or needs a purpose never granted; else the index range past
/// its max age, consent window and any running dismissal.
fn usable_range(
    view: &View<'_>,
    s: &Series,
    wins: &[Window; Purpose::ALL.len()],
    now: i64,
) -> Option<UsableRange> {
    let (tax, policy) = (view.taxonomy, view.policy);
    let interest = s.interest;
    if view
        .blocks
        .iter()
        .any(|b| b.0 <= interest.0 && interest.0 < b.1)
    {
        return None;
    }
    let (source, context) = (source_of(s.class), context_of(s.class));
    if !view.profile.level().admits(source, context) {
        return None;
    }
    let purposes = purposes_of(tax, interest, source, context);
    if purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation {
        return None;
    }
    let mut since = i64::MIN;
    let mut per_event = false;
    for p in purposes.iter() {
        match wins.get(p.index()).copied().unwrap_or(Window::Never) {
            Window::Never => return None,
            Window::Since(a) => since = since.max(a),
            Window::PerEvent => per_event = true,
        }
    }
    let oldest = oldest_usable(now, policy.max_age_for(tax, interest, source));
    let end = s.first_after(now);
    let first_fresh = s.first_at_or_after(s.head, oldest);
    let mut start = first_fresh.max(s.first_at_or_after(first_fresh, since));
    if let Some(d) = dismissed_until(view, interest) {
        start = start.max(s.first_after(d));
    }
    (start < end).then_some(UsableRange {
        purposes,
        first_fresh,
        start,
        end,
        per_event,
    })
}

/// The decayed sum and count of a series' usable events at `now`: from the
/// kept sum where the whole fresh tail counts (minus what expired since the
/// aggregates moved), else event by event. The per-event path also notes
/// each event's day in `days` for series `si`.
fn series_value(
    view: &View<'_>,
    s: &Series,
    r: &UsableRange,
    prepared: Prepared,
    now: i64,
    (si, days): (usize, &mut Vec<(usize, i64)>),
) -> (f64, u32) {
    let h = h_nanos(view, s.interest);
    let decay_exp = diff_f64(now, prepared.landmark) / h;
    let sw = &view.policy.signal_weights;
    if r.start == r.first_fresh && r.end == s.len() && !r.per_event && decay_exp <= MAX_EXPONENT {
        let mut sum = s.sum;
        for i in s.head..r.first_fresh {
            if let (Some(&at), Some(&w), Some(&sg)) =
                (s.at.get(i), s.weight.get(i), s.signal.get(i))
            {
                sum.add(-forward(sw.get(sg) * w, at, prepared.landmark, h));
            }
        }
        return (sum.get() * (-decay_exp).exp2(), (r.end - r.start) as u32);
    }
    let (mut value, mut count) = (0.0, 0u32);
    for i in r.start..r.end {
        let (Some(&at), Some(&w), Some(&sg)) = (s.at.get(i), s.weight.get(i), s.signal.get(i))
        else {
            continue;
        };
        if r.per_event {
            let t = from_nanos(at);
            if r.purposes.iter().any(|p| !view.gate.allows(p, t)) {
                continue;
            }
            let day = at.div_euclid(NANOS_PER_DAY);
            if days.last() != Some(&(si, day)) {
                days.push((si, day));
            }
        }
        value += sw.get(sg) * w * (-(diff_f64(now, at) / h)).exp2();
        count += 1;
    }
    (value, count)
}

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// The most recent distinct days of the usable events (up to `cap`),
/// newest first, noted for series `si`.
fn recent_days(s: &Series, r: &UsableRange, cap: usize, si: usize, days: &mut Vec<(usize, i64)>) {
    let mut found = 0;
    let mut last_day = None;
    for i in (r.start..r.end).rev() {
        if found >= cap {
            break;
        }
        let Some(&at) = s.at.get(i) else { continue };
        let day = at.div_euclid(NANOS_PER_DAY);
        if last_day != Some(day) {
            last_day = Some(day);
            days.push((si, day));
            found += 1;
        }
    }
}

/// Distinct days per interest over its subtree's series, counted up to
/// `cap`: the union of each series' `cap` most recent days decides it.
fn distinct_days(view: &View<'_>, days: &[(usize, i64)], cap: usize, scores: &mut [InterestScore]) {
    let (tax, store) = (view.taxonomy, view.profile.store());
    let mut buf: Vec<i64> = Vec::with_capacity(days.len());
    for (i, sc) in scores.iter_mut().enumerate() {
        if sc.events == 0 {
            continue;
        }
        let id = InterestId(i as u32);
        let (lo, hi) = (id.0, tax.subtree_end(id));
        let first = store.series.partition_point(|s| s.interest.0 < lo);
        let last = store.series.partition_point(|s| s.interest.0 < hi);
        buf.clear();
        buf.extend(
            days.iter()
                .filter(|(si, _)| (first..last).contains(si))
                .map(|(_, d)| *d),
        );
        buf.sort_unstable();
        buf.dedup();
        sc.days = buf.len().min(cap) as u32;
    }
}

/// `w · 2^((at − landmark)/h)`.
pub(crate) fn forward(w: f64, at: i64, landmark: i64, h: f64) -> f64 {
    w * (diff_f64(at, landmark) / h).exp2()
}

/// A fingerprint of everything the aggregates depend on: half-lives, max
/// ages and signal weights.
pub(crate) fn fingerprint(taxonomy: &Taxonomy, policy: &DecayPolicy) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    policy.half_life.0.hash(&mut h);
    policy.max_age.hash(&mut h);
    policy.partner_max_age.hash(&mut h);
    for s in Signal::ALL {
        policy.signal_weights.get(s).to_bits().hash(&mut h);
    }
    for (id, _) in taxonomy.iter() {
        taxonomy.half_life(id).map(HalfLife::get).hash(&mut h);
        taxonomy.max_age(id).hash(&mut h);
    }
    h.finish().max(1)
}

/// Index before which a series' events never count again at `now` or later:
/// past their max age, or recorded before a withdrawal of a purpose they need
/// (`withdrawn[p]`: the last withdrawal of purpose `p` at or before `now`).
fn cutoff(
    s: &Series,
    taxonomy: &Taxonomy,
    policy: &DecayPolicy,
    withdrawn: &[Option<i64>],
    now_ns: i64,
) -> usize {
    let (source, context) = (source_of(s.class), context_of(s.class));
    let max_age = policy.max_age_for(taxonomy, s.interest, source);
    let oldest = oldest_usable(now_ns, max_age);
    let withdrawn = purposes_of(taxonomy, s.interest, source, context)
        .iter()
        .filter_map(|p| withdrawn.get(p.index()).copied().flatten())
        .max()
        .unwrap_or(i64::MIN);
    s.first_at_or_after(0, oldest.max(withdrawn))
}

/// Computes every series' head and sum afresh, with the landmark at `now`.
/// What the aggregates are computed with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params<'a> {
    pub(crate) taxonomy: &'a Taxonomy,
    pub(crate) policy: &'a DecayPolicy,
    pub(crate) fingerprint: u64,
}

pub(crate) fn prepare(
    store: &mut Store,
    params: Params<'_>,
    ledger: &crate::consent::ConsentLedger,
    now: OffsetDateTime,
) {
    let Params {
        taxonomy,
        policy,
        fingerprint,
    } = params;
    let Some(now_ns) = to_nanos(now) else {
        store.prepared = None;
        return;
    };
    let landmark = now_ns;
    // The last withdrawal of each purpose, once for all series.
    let withdrawn: Vec<Option<i64>> = Purpose::ALL
        .iter()
        .map(|p| ledger.last_withdrawal(*p, now).and_then(to_nanos))
        .collect();
    let sw = &policy.signal_weights;
    for s in &mut store.series {
        let h = nanos_f64(policy.half_life_for(taxonomy, s.interest).get());
        s.head = cutoff(s, taxonomy, policy, &withdrawn, now_ns);
        let mut sum = Sum::default();
        let from = s.head;
        let cols =
            s.at.get(from..)
                .unwrap_or(&[])
                .iter()
                .zip(s.weight.get(from..).unwrap_or(&[]))
                .zip(s.signal.get(from..).unwrap_or(&[]));
        for ((&at, &w), &sg) in cols {
            sum.add(forward(sw.get(sg) * w, at, landmark, h));
        }
        s.sum = sum;
    }
    store.prepared = Some(Prepared {
        fingerprint,
        landmark,
        maintained_at: now_ns,
    });
}

/// Keeps the aggregates after an event was inserted at `pos` of series `si`:
/// O(1) in the common case (the event is added to the sum and the series'
/// head moves past what expired since).
pub(crate) fn after_insert(
    store: &mut Store,
    (si, pos): (usize, usize),
    params: Params<'_>,
    ledger: &crate::consent::ConsentLedger,
    now: OffsetDateTime,
    (cutoff_ns, now_ns): (i64, i64),
) {
    let Params {
        taxonomy,
        policy,
        fingerprint,
    } = params;
    let Some(p) = store.prepared else {
        return prepare(store, params, ledger, now);
    };
    let Some(s) = store.series.get_mut(si) else {
        return;
    };
    let h = nanos_f64(policy.half_life_for(taxonomy, s.interest).get());
    let exp = |at: i64| diff_f64(at, p.landmark) / h;
    if p.fingerprint != fingerprint || exp(now_ns) > MAX_EXPONENT || exp(now_ns) < -MAX_EXPONENT {
        return prepare(store, params, ledger, now);
    }
    let sw = &policy.signal_weights;
    if pos >= s.head {
        if let (Some(&at), Some(&w), Some(&sg)) =
            (s.at.get(pos), s.weight.get(pos), s.signal.get(pos))
        {
            s.sum.add(forward(sw.get(sg) * w, at, p.landmark, h));
        }
    }
    // `cutoff_ns` came from the record's own checks (max age, withdrawals).
    let new_head = s.first_at_or_after(s.head, cutoff_ns);
    for i in s.head..new_head {
        if let (Some(&at), Some(&w), Some(&sg)) = (s.at.get(i), s.weight.get(i), s.signal.get(i)) {
            s.sum.add(-forward(sw.get(sg) * w, at, p.landmark, h));
        }
    }
    if new_head >= s.len() {
        // Nothing left: start from an exact zero.
        s.sum = Sum::default();
    }
    s.head = new_head;
    store.prepared = Some(Prepared {
        maintained_at: p.maintained_at.max(now_ns),
        ..p
    });
}
