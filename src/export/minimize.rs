//! Export minimization: what a partner may learn of a suppression. Owns the
//! one mapping from a profile's suppressions to exported scopes and
//! windows, which every exporter and format goes through.

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Time, UtcOffset};

use super::problem::ProblemKind;
use super::scope::ExportScope;
use crate::profile::Profile;
use crate::suppression::{Scope, Suppression};
use crate::taxonomy::Taxonomy;

/// How an export names a suppression of an interest in a special category
/// (an interest whose [`Taxonomy::sensitivity`] is special: declared so
/// itself, or inherited from an ancestor declared special).
///
/// The partner who receives an export can identify the person (that is
/// the point of a [`SubjectKey`](super::SubjectKey)), so an entry
/// `interest health/pregnancy` tells it the very fact the suppression is
/// there to protect. Every option except [`Keep`](Self::Keep) replaces the
/// interest with a scope that names no special category and covers at
/// least as much, so the partner suppresses more, never less.
///
/// Suppressions of ordinary interests, channels and purposes are exported
/// as they are under every option.
///
/// **Orphaned suppressions** (their interest path is one the export's
/// taxonomy does not have, see [`Profile::orphans`]) cannot be classified,
/// so they are treated like special ones: coarsened under every option
/// except [`Keep`](Self::Keep).
///
/// # Example
/// ```
/// use tactful::export::{ExportOptions, Minimization};
///
/// assert_eq!(ExportOptions::default().get_minimization(), Minimization::WholeProfile);
/// let options = ExportOptions::default().minimization(Minimization::NearestOrdinaryAncestor);
/// assert_eq!(options.get_minimization(), Minimization::NearestOrdinaryAncestor);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Minimization {
    /// Export a suppression of a special-category interest as a
    /// suppression of everything ([`ExportScope::All`]): the partner learns
    /// that the person must not be contacted at all, not why. The default.
    #[default]
    WholeProfile,
    /// Export it as a suppression of the nearest ancestor interest that is
    /// not special (`health/pregnancy/loss` under a special
    /// `health/pregnancy` becomes `health` if `health` is ordinary), or of
    /// everything if there is none. The ancestor's path is revealed: use
    /// it where the ordinary ancestors say nothing sensitive. An orphaned
    /// suppression becomes its nearest enclosing path that the export's
    /// taxonomy has as an ordinary interest (`health/x` becomes `health`),
    /// or everything.
    NearestOrdinaryAncestor,
    /// Export every suppression by its own interest path, special or not.
    /// **This reveals the special category to the partner** (and an
    /// orphaned suppression's path, whatever it was): use it only for a
    /// partner bound by contract to process that category, who needs the
    /// exact scope.
    Keep,
}

/// What an export reveals: how special-category suppressions are named
/// ([`Minimization`]) and whether instants are rounded to whole UTC days.
///
/// The default is the most private: [`Minimization::WholeProfile`] and
/// whole days. A by-value builder:
///
/// # Example
/// ```
/// use tactful::export::{ExportOptions, Minimization};
///
/// let contract_partner = ExportOptions::default()
///     .minimization(Minimization::Keep)
///     .round_to_days(false);
/// assert!(!contract_partner.get_round_to_days());
/// assert!(ExportOptions::default().get_round_to_days());
/// assert_eq!(ExportOptions::from(Minimization::Keep).get_minimization(), Minimization::Keep);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportOptions {
    minimization: Minimization,
    round_to_days: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            minimization: Minimization::default(),
            round_to_days: true,
        }
    }
}

impl From<Minimization> for ExportOptions {
    /// The default options with this minimization.
    fn from(minimization: Minimization) -> Self {
        Self::default().minimization(minimization)
    }
}

impl ExportOptions {
    /// The default options: [`Minimization::WholeProfile`], whole days.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How suppressions of special-category (and orphaned) interests are
    /// named.
    #[must_use]
    pub fn minimization(self, minimization: Minimization) -> Self {
        Self {
            minimization,
            ..self
        }
    }

    /// Whether every exported entry's window is widened to whole UTC days
    /// (the default, `true`): `since` is rounded down to the start of its
    /// UTC day, `until` up to the next UTC midnight (an `until` at midnight
    /// stays). The exported window only ever grows, so the partner
    /// suppresses at least as long as we do, and the time of day at which
    /// a person told us something (a call at 16:20 on the day of a loss)
    /// does not leave the building. An `until` that would round past the
    /// end of year 9999 is exported open-ended.
    ///
    /// With `false`, instants are exported to the nanosecond.
    #[must_use]
    pub fn round_to_days(self, round: bool) -> Self {
        Self {
            round_to_days: round,
            ..self
        }
    }

    /// The minimization in force.
    #[must_use]
    pub fn get_minimization(&self) -> Minimization {
        self.minimization
    }

    /// Whether windows are rounded to whole UTC days.
    #[must_use]
    pub fn get_round_to_days(&self) -> bool {
        self.round_to_days
    }
}

/// What an export shows of one active suppression: the scopes it is
/// exported as (or why it cannot be), and its window. There is
/// deliberately no reason.
pub(super) struct Minimized {
    pub(super) scopes: Result<Vec<ExportScope>, ProblemKind>,
    pub(super) since: OffsetDateTime,
    pub(super) until: Option<OffsetDateTime>,
}

/// The suppressions of `profile` active at `now`, in the profile's order
/// (orphaned ones last), each as [`minimize`] exports it.
///
/// Every exporter reads a profile only through this function, so every
/// format and the feed built from its lists carry only minimized entries.
/// Orphaned suppressions stay in force and are exported too.
pub(super) fn active<'a>(
    profile: &'a Profile,
    taxonomy: &'a Taxonomy,
    now: OffsetDateTime,
    options: ExportOptions,
) -> impl Iterator<Item = Minimized> + 'a {
    let known = profile
        .suppressions()
        .iter()
        .filter(move |s| s.is_active(now))
        .map(move |s| {
            minimize(
                Stored::Suppression(*s),
                s.since(),
                s.ends(),
                taxonomy,
                options,
            )
        });
    let orphaned = profile
        .orphans()
        .suppressions()
        .iter()
        .filter(move |s| s.is_active(now))
        .map(move |s| {
            minimize(
                Stored::Orphan(&s.interest),
                s.since,
                s.until,
                taxonomy,
                options,
            )
        });
    known.chain(orphaned)
}

/// What a stored suppression covers, before minimization.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stored<'a> {
    /// A suppression of the profile, its interest (if any) by handle; its
    /// reason decides the life events it extends to.
    Suppression(Suppression),
    /// An orphaned suppression: its interest by stored path.
    Orphan(&'a str),
}

/// One stored suppression as exported: the whole rule of what may leave.
pub(super) fn minimize(
    stored: Stored<'_>,
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
    taxonomy: &Taxonomy,
    options: ExportOptions,
) -> Minimized {
    let (since, until) = if options.round_to_days {
        (day_start(since), until.and_then(day_end))
    } else {
        (since, until)
    };
    Minimized {
        scopes: scopes(stored, taxonomy, options.minimization),
        since,
        until,
    }
}

/// The scopes one stored suppression is exported as; the unknown interest
/// as a problem. The one place where an interest handle becomes a path and
/// where a special category is coarsened.
///
/// A `Vec` because an interest suppression stands for its own subtree and
/// those of the life events it extends to (the same
/// [`Suppression::covered_roots`](crate::Suppression::covered_roots) that
/// scoring and decisions use), each minimized on its own.
fn scopes(
    stored: Stored<'_>,
    taxonomy: &Taxonomy,
    minimization: Minimization,
) -> Result<Vec<ExportScope>, ProblemKind> {
    let stored = match stored {
        Stored::Suppression(s) => s,
        Stored::Orphan(path) => return Ok(vec![interest(path, taxonomy, minimization)]),
    };
    let scope = match stored.scope() {
        Scope::All => ExportScope::All,
        Scope::Channel(c) => ExportScope::Channel(c),
        Scope::Purpose(p) => ExportScope::Purpose(p),
        Scope::ChannelPurpose { channel, purpose } => ExportScope::ChannelPurpose(channel, purpose),
        Scope::Interest(_) => {
            // Its subtree (first; a handle the taxonomy lacks is the
            // problem) and those of the life events it extends to.
            let mut out: Vec<ExportScope> = Vec::new();
            for (root, _) in stored.covered_roots(taxonomy) {
                let path = taxonomy
                    .path(root)
                    .ok_or(ProblemKind::UnknownInterest { interest: root })?;
                let exported = interest(path, taxonomy, minimization);
                if !out.contains(&exported) {
                    out.push(exported);
                }
            }
            if out.contains(&ExportScope::All) {
                out = vec![ExportScope::All];
            }
            return Ok(out);
        }
    };
    Ok(vec![scope])
}

/// The exported scope of a suppression of the interest at `path`.
///
/// By path, so that an orphaned path (one `taxonomy` lacks) follows the
/// same rule as a known interest: a path may be exported only if `taxonomy`
/// has it as an ordinary interest. Sensitivity is inherited down the tree,
/// so the ancestors of an ordinary interest are ordinary too, and the
/// scope chosen here always covers `path` (it is `path` itself, one of its
/// prefixes at a `/`, or everything).
fn interest(path: &str, taxonomy: &Taxonomy, minimization: Minimization) -> ExportScope {
    let ordinary = |p: &&str| {
        taxonomy
            .id(p)
            .is_some_and(|id| !taxonomy.sensitivity(id).is_special())
    };
    let exported = match minimization {
        Minimization::Keep => Some(path),
        Minimization::WholeProfile => Some(path).filter(ordinary),
        Minimization::NearestOrdinaryAncestor => {
            // The path itself, then its prefixes at `/`, longest first.
            let cuts = std::iter::once(path.len()).chain(path.rmatch_indices('/').map(|(i, _)| i));
            cuts.filter_map(|cut| path.get(..cut)).find(ordinary)
        }
    };
    exported.map_or(ExportScope::All, |p| ExportScope::Interest(p.to_owned()))
}

/// `t` rounded down to the start of its UTC day. An instant outside the
/// years 0 to 9999 in UTC is left as it is for the entry check to report.
fn day_start(t: OffsetDateTime) -> OffsetDateTime {
    t.checked_to_offset(UtcOffset::UTC)
        .filter(|u| (0..=9999).contains(&u.year()))
        .map_or(t, |u| u.replace_time(Time::MIDNIGHT))
}

/// `t` rounded up to the next UTC midnight (midnight itself stays), or
/// `None` (open-ended) if that lies past the end of year 9999, where no
/// entry can be written. An instant already outside the years 0 to 9999
/// in UTC is left as it is for the entry check to report.
fn day_end(t: OffsetDateTime) -> Option<OffsetDateTime> {
    let Some(u) = t
        .checked_to_offset(UtcOffset::UTC)
        .filter(|u| (0..=9999).contains(&u.year()))
    else {
        return Some(t);
    };
    if u.time() == Time::MIDNIGHT {
        return Some(u);
    }
    u.date()
        .next_day()
        .filter(|d| d.year() <= 9999)
        .map(|d| d.midnight().assume_utc())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::taxonomy::SpecialCategory;
    use time::macros::datetime;

    fn taxonomy() -> Taxonomy {
        Taxonomy::builder()
            .interest("health/fitness")
            .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
            .interest("health/pregnancy/loss")
            .sensitive("religion", SpecialCategory::Religion)
            .interest("religion/holidays")
            .build()
            .unwrap()
    }

    fn scope(path: &str, m: Minimization) -> ExportScope {
        interest(path, &taxonomy(), m)
    }

    fn path(p: &str) -> ExportScope {
        ExportScope::Interest(p.into())
    }

    #[test]
    fn special_interests_and_their_subtrees_are_coarsened() {
        use Minimization::*;
        let t = taxonomy();
        assert!(t
            .sensitivity(t.id("health/pregnancy/loss").unwrap())
            .is_special());
        let cases = [
            ("health", path("health"), path("health"), path("health")),
            (
                "health/fitness",
                path("health/fitness"),
                path("health/fitness"),
                path("health/fitness"),
            ),
            (
                "health/pregnancy",
                ExportScope::All,
                path("health"),
                path("health/pregnancy"),
            ),
            (
                "health/pregnancy/loss",
                ExportScope::All,
                path("health"),
                path("health/pregnancy/loss"),
            ),
            (
                "religion",
                ExportScope::All,
                ExportScope::All,
                path("religion"),
            ),
            (
                "religion/holidays",
                ExportScope::All,
                ExportScope::All,
                path("religion/holidays"),
            ),
            // Orphans: unknown paths, classified by known ordinary prefixes.
            (
                "health/x/y",
                ExportScope::All,
                path("health"),
                path("health/x/y"),
            ),
            (
                "health/pregnancy/twins",
                ExportScope::All,
                path("health"),
                path("health/pregnancy/twins"),
            ),
            ("gone", ExportScope::All, ExportScope::All, path("gone")),
            // A prefix by segment only: `healthx` is not within `health`.
            (
                "healthx/a",
                ExportScope::All,
                ExportScope::All,
                path("healthx/a"),
            ),
        ];
        for (p, whole, nearest, keep) in cases {
            assert_eq!(scope(p, WholeProfile), whole, "{p}");
            assert_eq!(scope(p, NearestOrdinaryAncestor), nearest, "{p}");
            assert_eq!(scope(p, Keep), keep, "{p}");
        }
    }

    #[test]
    fn channels_and_purposes_are_never_coarsened() {
        use crate::consent::Purpose;
        use crate::suppression::Channel;
        let t = taxonomy();
        for stored in [
            Scope::All,
            Scope::Channel(Channel::Post),
            Scope::Purpose(Purpose::Marketing),
            Scope::ChannelPurpose {
                channel: Channel::Email,
                purpose: Purpose::Marketing,
            },
        ] {
            let want = match stored {
                Scope::All => ExportScope::All,
                Scope::Channel(c) => ExportScope::Channel(c),
                Scope::Purpose(p) => ExportScope::Purpose(p),
                Scope::ChannelPurpose { channel, purpose } => {
                    ExportScope::ChannelPurpose(channel, purpose)
                }
                Scope::Interest(_) => unreachable!(),
            };
            assert_eq!(
                scopes(
                    Stored::Suppression(Suppression::new(
                        stored,
                        crate::suppression::SuppressionReason::OptOut,
                        OffsetDateTime::UNIX_EPOCH
                    )),
                    &t,
                    Minimization::WholeProfile
                )
                .unwrap(),
                [want]
            );
        }
    }

    #[test]
    fn windows_round_outwards_to_utc_days() {
        let since = datetime!(2026-03-14 16:20 UTC);
        assert_eq!(day_start(since), datetime!(2026-03-14 0:00 UTC));
        assert_eq!(
            day_start(datetime!(2026-03-15 0:30 +01:00)),
            datetime!(2026-03-14 0:00 UTC),
            "the UTC day, not the local one"
        );
        assert_eq!(day_end(since), Some(datetime!(2026-03-15 0:00 UTC)));
        let midnight = datetime!(2026-03-15 0:00 UTC);
        assert_eq!(day_end(midnight), Some(midnight));
        assert_eq!(day_start(midnight), midnight);
        assert_eq!(
            day_end(datetime!(2026-03-14 23:59:59.999_999_999 UTC)),
            Some(midnight)
        );
        // Past the last writable day: open-ended.
        assert_eq!(day_end(datetime!(9999-12-31 0:00:01 UTC)), None);
        // Already outside the range: left for the entry check.
        let far = datetime!(9999-12-31 23:30 -01:00);
        assert_eq!(day_end(far), Some(far));
        let ancient = datetime!(0000-01-01 0:00 +01:00);
        assert_eq!(day_start(ancient), ancient);
    }
}
