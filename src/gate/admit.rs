//! Admission: may an event be stored at all? Checked before anything is
//! inserted, without allocating (recording is the hot path).

use time::{Duration, OffsetDateTime};

use crate::consent::{ConsentState, Purpose};
use crate::event::Event;
use crate::level::Level;
use crate::limits::{Limit, Limits};
use crate::policy::DecayPolicy;
use crate::profile::{ErasedScope, PreferenceKind, Profile, RefusalReason, Tombstone};
use crate::store::{oldest_usable, to_nanos};
use crate::taxonomy::{InterestId, Taxonomy};

use super::purposes_for;

/// What admission learned while checking an event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admitted {
    /// Before this instant (Unix ns) the event's series never counts again.
    pub(crate) cutoff: i64,
    /// The event's instant, Unix ns.
    pub(crate) at_ns: i64,
    /// `now`, Unix ns.
    pub(crate) now_ns: i64,
}

/// Why an event must be refused, or, for evidence, the instant (Unix ns)
/// before which its series' events can never count again (max age, last
/// withdrawal of a needed purpose): the aggregates move their head there.
///
/// Checks, in order: unknown interest, out of range, from the future,
/// erased, (a dismissal: stale past the cooldown, and done), covered by an
/// active suppression, stale, level, special category, consent, declared
/// dislike, later dismissal, and finally the profile's limits.
pub(crate) fn admit(
    tax: &Taxonomy,
    policy: &DecayPolicy,
    limits: &Limits,
    profile: &Profile,
    e: &Event,
    now: OffsetDateTime,
) -> Result<Admitted, RefusalReason> {
    let admitted = check(tax, policy, profile, e, now)?;
    within_limits(limits, profile, e)?;
    Ok(admitted)
}

fn check(
    tax: &Taxonomy,
    policy: &DecayPolicy,
    profile: &Profile,
    e: &Event,
    now: OffsetDateTime,
) -> Result<Admitted, RefusalReason> {
    if !tax.contains(e.interest()) {
        return Err(RefusalReason::UnknownInterest(e.interest()));
    }
    let (at_ns, now_ns) = instants(e.at(), now)?;
    // Both fit in i64 nanoseconds, so their difference fits in i128:
    // compare in integers on the hot path.
    let age_ns = i128::from(now_ns) - i128::from(at_ns);
    let age = || Duration::nanoseconds_i128(age_ns);
    if age_ns < 0 {
        return Err(RefusalReason::FromFuture { ahead: -age() });
    }
    if let Some(t) = profile
        .tombstones()
        .iter()
        .find(|t| tombstone_covers(tax, t, e.interest()) && e.at() <= t.at)
    {
        return Err(RefusalReason::Erased { until: t.at });
    }
    if e.is_dismissal() {
        let cooldown = policy.dismissal_cooldown();
        if age_ns >= cooldown.whole_nanoseconds() {
            return Err(RefusalReason::Stale {
                age: age(),
                max_age: cooldown,
            });
        }
        return Ok(Admitted {
            cutoff: i64::MIN,
            at_ns,
            now_ns,
        });
    }
    let purposes = purposes_for(tax, e);
    for s in profile.suppressions().iter().filter(|s| s.is_active(now)) {
        if s.covers_interest(tax, e.interest()) || purposes.iter().any(|p| s.covers_purpose(p)) {
            return Err(RefusalReason::Suppressed {
                scope: s.scope(),
                reason: s.reason(),
            });
        }
    }
    let max_age = policy.max_age_for(tax, e.interest(), e.source());
    if age_ns > max_age.whole_nanoseconds() {
        return Err(RefusalReason::Stale {
            age: age(),
            max_age,
        });
    }
    let level = profile.level();
    if !level.admits(e.source(), e.context()) {
        return Err(RefusalReason::LevelTooLow {
            required: Level::required_for(e.source(), e.context()),
            level,
        });
    }
    if purposes.contains(Purpose::SensitiveInterests) && !policy.allow_sensitive_observation() {
        return Err(RefusalReason::Sensitive);
    }
    let cutoff = consent_cutoff(profile, e, purposes, oldest_usable(now_ns, max_age), now)?;
    own_block(tax, policy, profile, e, now)?;
    Ok(Admitted {
        cutoff,
        at_ns,
        now_ns,
    })
}

/// The event's instant and `now` in Unix nanoseconds, or the one out of
/// range.
fn instants(at: OffsetDateTime, now: OffsetDateTime) -> Result<(i64, i64), RefusalReason> {
    match (to_nanos(at), to_nanos(now)) {
        (Some(a), Some(n)) => Ok((a, n)),
        (None, _) => Err(RefusalReason::OutOfRange { at }),
        (Some(_), None) => Err(RefusalReason::OutOfRange { at: now }),
    }
}

/// Every purpose the event needs must be granted at its instant and now,
/// with no withdrawal in between. Returns the cutoff moved past the last
/// withdrawal of a needed purpose.
fn consent_cutoff(
    profile: &Profile,
    e: &Event,
    purposes: crate::consent::Purposes,
    mut cutoff: i64,
    now: OffsetDateTime,
) -> Result<i64, RefusalReason> {
    let ledger = profile.consent();
    for p in purposes.iter() {
        let (then, current, withdrawn) = ledger.scan_fast(p, e.at(), now);
        let usable =
            current.is_granted() && then.is_granted() && withdrawn.is_none_or(|w| w <= e.at());
        if !usable {
            let state = match (current.is_granted(), then.is_granted()) {
                (false, _) => current,
                (true, false) => then,
                // Granted then and now, withdrawn in between: retroactive.
                (true, true) => ConsentState::Withdrawn,
            };
            return Err(RefusalReason::NoConsent { purpose: p, state });
        }
        if let Some(w) = withdrawn.and_then(to_nanos) {
            cutoff = cutoff.max(w);
        }
    }
    Ok(cutoff)
}

/// The person's own blocks: a declared dislike of the subtree, or a later
/// dismissal still cooling down. Without building a view: recording must
/// not allocate.
fn own_block(
    tax: &Taxonomy,
    policy: &DecayPolicy,
    profile: &Profile,
    e: &Event,
    now: OffsetDateTime,
) -> Result<(), RefusalReason> {
    if profile.preferences().iter().any(|p| {
        p.kind == PreferenceKind::Dislike && p.at <= now && tax.is_within(e.interest(), p.interest)
    }) {
        return Err(RefusalReason::Disliked);
    }
    let cooldown = policy.dismissal_cooldown();
    let store = profile.store();
    if !store.has_dismissals() {
        return Ok(());
    }
    if let Some(d) = store.inert.iter().find(|d| {
        d.is_dismissal()
            && e.at() <= d.at()
            && d.at() <= now
            && now < d.at().saturating_add(cooldown)
            && tax.is_within(e.interest(), d.interest())
    }) {
        return Err(RefusalReason::Dismissed { at: d.at() });
    }
    Ok(())
}

/// The profile's limits on events and interests, orphans included.
fn within_limits(l: &Limits, profile: &Profile, e: &Event) -> Result<(), RefusalReason> {
    let store = profile.store();
    if store.len() + profile.orphans().events.len() >= l.max_events {
        return Err(RefusalReason::LimitReached {
            limit: Limit::Events,
            max: l.max_events,
        });
    }
    // The series count bounds the interest count: only near the limit is it
    // worth looking closer.
    if !e.is_gift()
        && !e.is_dismissal()
        && store.series.len() + profile.orphans().events.len() >= l.max_interests
        && !store.has_interest(e.interest())
        && store.interests() + orphan_interests(profile) >= l.max_interests
    {
        return Err(RefusalReason::LimitReached {
            limit: Limit::Interests,
            max: l.max_interests,
        });
    }
    Ok(())
}

/// The number of distinct interests among the profile's orphaned events.
pub(crate) fn orphan_interests(profile: &Profile) -> usize {
    let ev = &profile.orphans().events;
    if ev.is_empty() {
        return 0;
    }
    let mut paths: Vec<&str> = ev.iter().map(|e| e.interest.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    paths.len()
}

/// Whether a tombstone's scope contains `interest`.
pub(crate) fn tombstone_covers(tax: &Taxonomy, t: &Tombstone, interest: InterestId) -> bool {
    match t.scope {
        ErasedScope::All => true,
        ErasedScope::Interest(root) => tax.is_within(interest, root),
    }
}
