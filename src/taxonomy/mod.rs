//! The interest tree: paths like `baby/food`, sensitivity, decay overrides.
//!
//! A [`Taxonomy`] is built once (by [`TaxonomyBuilder`] or from JSON) and is
//! immutable afterwards. Interests are numbered in depth-first order, so
//! "is `x` in the subtree of `root`" is a range check and costs nothing on
//! the hot path.
//!
//! Handles are positions in that order and change when interests are added
//! or removed: anything stored names interests by path. [`Taxonomy::resolve`]
//! maps a stored path to the current handle, following renames declared with
//! [`TaxonomyBuilder::renamed_from`], and [`Taxonomy::fingerprint`] tells
//! whether two taxonomies have the same paths.
//!
//! Paths are bounded ([`MAX_PATH_LEN`] bytes, [`MAX_DEPTH`] levels) and a
//! taxonomy stores each given path's text once (an interest's path is a
//! prefix of the text of the path that created it), so its memory is linear
//! in the size of its configuration.
//!
//! # Examples
//! ```
//! use tactful::Taxonomy;
//!
//! let taxonomy = Taxonomy::builder()
//!     .interest("baby/food")
//!     .interest("baby/toys")
//!     .renamed_from("baby/toys", "kids/toys")
//!     .build()?;
//! let (baby, toys) = (taxonomy.require("baby")?, taxonomy.require("baby/toys")?);
//! assert!(taxonomy.is_within(toys, baby)); // a node covers its subtree
//! assert_eq!(taxonomy.subtree(baby).count(), 3);
//! assert_eq!(taxonomy.resolve("kids/toys"), Some(toys)); // a path stored before the rename
//! assert_eq!(taxonomy.require("outdoor").unwrap_err().to_string(), r#"unknown interest path "outdoor""#);
//! # Ok::<(), tactful::TaxonomyError>(())
//! ```

mod builder;
mod error;
mod json;
pub mod life_event;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::quantity::HalfLife;
use crate::reason::SuppressionReason;

pub use builder::TaxonomyBuilder;
use builder::{fingerprint_of, DEFAULT_SPEC};
pub use error::TaxonomyError;
pub(crate) use json::TaxonomyConfig;
use life_event::LifeEvent;

/// A small handle for an interest of one [`Taxonomy`].
///
/// Handles are only meaningful for the taxonomy that issued them; a taxonomy
/// built from the same paths issues the same handles.
///
/// It has no `Default`: a default handle would name a real interest (the
/// first one) by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InterestId(pub(crate) u32);

impl InterestId {
    /// The raw index, `0..taxonomy.len()`.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The handle of index `i` (taxonomies hold fewer than `u32::MAX`).
    pub(crate) fn from_index(i: usize) -> Self {
        Self(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

impl fmt::Display for InterestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Special categories of personal data (GDPR Art. 9 and their kin).
///
/// Interests in a special category are never established from observed
/// behaviour by default; only the person's own declared like establishes
/// them (see [`crate::decay::DecayPolicy::allow_sensitive_observation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SpecialCategory {
    /// Physical or mental health.
    Health,
    /// Pregnancy, fertility and parenthood.
    PregnancyAndParenthood,
    /// Religious or philosophical beliefs.
    Religion,
    /// Political opinions.
    Politics,
    /// Sexual orientation or sex life.
    SexualOrientation,
    /// Racial or ethnic origin.
    Ethnicity,
    /// Debt, insolvency, financial hardship.
    FinancialDistress,
    /// Death of a close person, grief.
    Bereavement,
    /// Another category the operator treats as special.
    Other,
}

/// How sensitive an interest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// An ordinary interest.
    #[default]
    Ordinary,
    /// A special category.
    Special(SpecialCategory),
}

impl Sensitivity {
    /// Whether this is a special category.
    #[must_use]
    pub fn is_special(self) -> bool {
        matches!(self, Self::Special(_))
    }
}

/// The most levels a path may have: `a/b/c` has 3. Deeper paths are refused
/// with [`TaxonomyError::TooDeep`]. ([`Taxonomy::depth`] counts from 0, so
/// it is at most `MAX_DEPTH - 1`.)
///
/// # Example
/// ```
/// use tactful::taxonomy::MAX_DEPTH;
/// use tactful::{Taxonomy, TaxonomyError};
///
/// let deepest = vec!["x"; MAX_DEPTH].join("/");
/// assert!(Taxonomy::builder().interest(&deepest).build().is_ok());
/// let too_deep = format!("{deepest}/x");
/// assert!(matches!(
///     Taxonomy::builder().interest(&too_deep).build(),
///     Err(TaxonomyError::TooDeep { .. })
/// ));
/// ```
pub const MAX_DEPTH: usize = 32;

/// The longest path accepted, in bytes (of UTF-8). Longer paths are refused
/// with [`TaxonomyError::PathTooLong`].
///
/// # Example
/// ```
/// use tactful::taxonomy::MAX_PATH_LEN;
/// use tactful::{Taxonomy, TaxonomyError};
///
/// assert!(Taxonomy::builder().interest(&"x".repeat(MAX_PATH_LEN)).build().is_ok());
/// assert!(matches!(
///     Taxonomy::builder().interest(&"x".repeat(MAX_PATH_LEN + 1)).build(),
///     Err(TaxonomyError::PathTooLong { .. })
/// ));
/// ```
pub const MAX_PATH_LEN: usize = 512;

/// `Node::parent` of a top-level interest. No interest has this handle:
/// a taxonomy has fewer than `u32::MAX` interests.
const NO_PARENT: u32 = u32::MAX;

/// One interest, compact: a taxonomy may hold a million of them.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// The path is `text[start..start + len]`.
    start: u32,
    parent: u32,
    /// One past the last descendant: the subtree is `id..end`.
    end: u32,
    /// Own settings: an index into `Taxonomy::specs` (0: none).
    own: u32,
    /// Effective decay overrides, own or inherited: an index into
    /// `Taxonomy::decay` (0: none).
    decay: u32,
    /// At most `MAX_PATH_LEN`.
    len: u16,
    /// Below `MAX_DEPTH`.
    depth: u8,
    /// Sensitivity inherited from the nearest special ancestor, or own.
    sensitivity: Sensitivity,
}

// Memory per interest is what bounds a hostile configuration: keep it small.
const _: () = assert!(std::mem::size_of::<Node>() <= 24);

#[derive(Debug, Clone, Default, PartialEq)]
struct NodeSpec {
    sensitivity: Option<Sensitivity>,
    half_life: Option<HalfLife>,
    max_age: Option<Duration>,
}

/// Effective decay overrides of a node.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Decay {
    half_life: Option<HalfLife>,
    max_age: Option<Duration>,
}

/// An immutable tree of interests addressed by paths.
///
/// A node covers its whole subtree: suppressing, declaring or querying
/// `baby` covers `baby/food` and `baby/toys`. Sensitivity and decay
/// overrides are inherited by descendants unless they set their own.
///
/// # Example
/// ```
/// use tactful::{Taxonomy, SpecialCategory};
/// use time::Duration;
///
/// let taxonomy = Taxonomy::builder()
///     .interest("baby/food")
///     .interest("baby/toys")
///     .interest("outdoor/hiking")
///     .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
///     .half_life("news", Duration::days(2))
///     .build()?;
///
/// let baby = taxonomy.id("baby").unwrap();
/// let food = taxonomy.id("baby/food").unwrap();
/// assert!(taxonomy.is_within(food, baby));
/// assert_eq!(taxonomy.path(food), Some("baby/food"));
/// assert!(taxonomy.sensitivity(taxonomy.id("health/pregnancy").unwrap()).is_special());
/// # Ok::<(), tactful::TaxonomyError>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "TaxonomyConfig", into = "TaxonomyConfig")]
pub struct Taxonomy {
    /// In depth-first order: a node's index is its [`InterestId`].
    nodes: Vec<Node>,
    /// The given paths that created nodes, concatenated: every node's path
    /// is a prefix of one of them.
    text: String,
    /// Handles sorted by path (byte-wise): lookup by binary search.
    sorted: Vec<u32>,
    /// Own settings of the nodes that have any; index 0 is the default.
    specs: Vec<NodeSpec>,
    /// Distinct effective decay overrides; index 0 is none.
    decay: Vec<Decay>,
    /// Former names: old path to the interest that now has it.
    renames: BTreeMap<String, InterestId>,
    /// Groups of subtrees a suppression extends to, sorted by name.
    life_events: Vec<LifeEvent>,
    /// See [`Taxonomy::fingerprint`]; computed from the paths when first
    /// asked for (hashing a large taxonomy costs more than building it).
    fingerprint: OnceLock<u64>,
}

/// Equal when they have the same interests (paths, in the same order) with
/// the same own settings and the same renames; how they were built (which
/// intermediate interests were given explicitly) does not matter.
impl PartialEq for Taxonomy {
    fn eq(&self, other: &Self) -> bool {
        self.nodes.len() == other.nodes.len()
            && self.renames == other.renames
            && self.life_events == other.life_events
            && self.nodes.iter().zip(&other.nodes).all(|(a, b)| {
                self.node_path(a) == other.node_path(b) && self.own(a) == other.own(b)
            })
    }
}

/// The interests by path with their own settings, and the renames.
impl fmt::Debug for Taxonomy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Interests<'a>(&'a Taxonomy);
        impl fmt::Debug for Interests<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let t = self.0;
                f.debug_map()
                    .entries(t.nodes.iter().map(|n| (t.node_path(n), t.own(n))))
                    .finish()
            }
        }
        f.debug_struct("Taxonomy")
            .field("interests", &Interests(self))
            .field("renames", &self.renames)
            .finish()
    }
}

impl Taxonomy {
    /// Starts an empty builder.
    #[must_use]
    pub fn builder() -> TaxonomyBuilder {
        TaxonomyBuilder::default()
    }

    /// Reads a taxonomy from JSON of the form
    /// `{"interests": [{"path": "baby/food"}, {"path": "health", "sensitivity": {"special": "health"}, "half_life": "7d"}, {"path": "family/baby", "renamed_from": ["baby"]}]}`.
    ///
    /// # Errors
    /// [`TaxonomyError::Json`] when the JSON does not have that shape
    /// (or is larger than [`MAX_CONFIG_BYTES`](crate::config::MAX_CONFIG_BYTES));
    /// then, before anything is built, [`TaxonomyError::PathTooLong`],
    /// [`TaxonomyError::InvalidPath`] or [`TaxonomyError::TooDeep`] for any
    /// path or former name, and [`TaxonomyError::Duplicate`] for a path
    /// listed twice; then every error of [`TaxonomyBuilder::build`].
    ///
    /// # Example
    /// ```
    /// use tactful::{Taxonomy, TaxonomyError};
    ///
    /// let taxonomy = Taxonomy::from_json(
    ///     r#"{"interests": [{"path": "family/baby/food"}, {"path": "family/baby", "renamed_from": ["baby"]}]}"#,
    /// )?;
    /// assert_eq!(taxonomy.resolve("baby/food"), taxonomy.id("family/baby/food"));
    ///
    /// let deep = vec!["x"; 40].join("/");
    /// let err = Taxonomy::from_json(&format!(r#"{{"interests": [{{"path": "{deep}"}}]}}"#)).unwrap_err();
    /// assert!(matches!(err, TaxonomyError::TooDeep { depth: 40, max: 32, .. }));
    /// # Ok::<(), TaxonomyError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self, TaxonomyError> {
        let config: TaxonomyConfig = crate::json::parse_json(json).map_err(TaxonomyError::Json)?;
        Self::try_from(config)
    }

    /// Number of interests (including intermediate nodes).
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the taxonomy has no interests.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The handle of a path, if the taxonomy has it.
    #[must_use]
    pub fn id(&self, path: &str) -> Option<InterestId> {
        let nodes = &self.nodes;
        let at = self
            .sorted
            .binary_search_by(|&i| {
                nodes
                    .get(i as usize)
                    .map_or("", |n| self.node_path(n))
                    .cmp(path)
            })
            .ok()?;
        self.sorted.get(at).map(|&i| InterestId(i))
    }

    fn node_path(&self, n: &Node) -> &str {
        let start = n.start as usize;
        self.text
            .get(start..start + n.len as usize)
            .unwrap_or_default()
    }

    fn own(&self, n: &Node) -> &NodeSpec {
        self.specs.get(n.own as usize).unwrap_or(&DEFAULT_SPEC)
    }

    fn decay_of(&self, id: InterestId) -> Decay {
        self.nodes
            .get(id.index())
            .and_then(|n| self.decay.get(n.decay as usize))
            .copied()
            .unwrap_or_default()
    }

    /// Approximate heap memory the taxonomy holds, in bytes: what a
    /// configuration costs once loaded. It grows linearly with the size of
    /// the configuration: 28 bytes per interest, plus the text of the paths
    /// given and their settings.
    ///
    /// # Example
    /// ```
    /// use tactful::Taxonomy;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// assert!(taxonomy.heap_bytes() < 1024);
    /// # Ok::<(), tactful::TaxonomyError>(())
    /// ```
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.nodes.capacity() * size_of::<Node>()
            + self.text.capacity()
            + self.sorted.capacity() * size_of::<u32>()
            + self.specs.capacity() * size_of::<NodeSpec>()
            + self.decay.capacity() * size_of::<Decay>()
            // A B-tree entry costs about its key, value and a share of a node.
            + self
                .renames
                .keys()
                .map(|k| k.capacity() + size_of::<String>() + size_of::<InterestId>() + 16)
                .sum::<usize>()
            + self
                .life_events
                .iter()
                .map(|e| {
                    size_of::<LifeEvent>()
                        + e.name.capacity()
                        + e.roots.capacity() * size_of::<InterestId>()
                        + e.also.capacity() * size_of::<SuppressionReason>()
                })
                .sum::<usize>()
    }

    /// The declared life events, sorted by name (see [`crate::life_event`]).
    #[must_use]
    pub fn life_events(&self) -> &[LifeEvent] {
        &self.life_events
    }

    /// The life events a suppression on `root` with `reason` extends to:
    /// those whose subtrees share an interest with `root`'s and that cover
    /// the reason.
    pub fn life_events_for(
        &self,
        root: InterestId,
        reason: SuppressionReason,
    ) -> impl Iterator<Item = &LifeEvent> + '_ {
        self.life_events
            .iter()
            .filter(move |e| e.covers_reason(reason) && e.touches(self, root))
    }

    /// The handle of a path, or an error naming it: handy with `?`.
    ///
    /// # Errors
    /// [`TaxonomyError::UnknownPath`] if the taxonomy has no such interest.
    pub fn require(&self, path: &str) -> Result<InterestId, TaxonomyError> {
        self.id(path)
            .ok_or_else(|| TaxonomyError::UnknownPath(path.to_owned()))
    }

    /// Whether `id` belongs to this taxonomy.
    #[must_use]
    pub fn contains(&self, id: InterestId) -> bool {
        id.index() < self.nodes.len()
    }

    /// The path of an interest.
    #[must_use]
    pub fn path(&self, id: InterestId) -> Option<&str> {
        self.nodes.get(id.index()).map(|n| self.node_path(n))
    }

    /// The parent of an interest (`None` for top-level interests).
    #[must_use]
    pub fn parent(&self, id: InterestId) -> Option<InterestId> {
        self.nodes
            .get(id.index())
            .filter(|n| n.parent != NO_PARENT)
            .map(|n| InterestId(n.parent))
    }

    /// Depth of an interest: 0 for top-level.
    #[must_use]
    pub fn depth(&self, id: InterestId) -> Option<u32> {
        self.nodes.get(id.index()).map(|n| u32::from(n.depth))
    }

    /// Effective sensitivity (own, or inherited from the nearest special ancestor).
    /// Unknown handles read as ordinary.
    #[must_use]
    pub fn sensitivity(&self, id: InterestId) -> Sensitivity {
        self.nodes
            .get(id.index())
            .map_or(Sensitivity::Ordinary, |n| n.sensitivity)
    }

    /// Effective half-life override of an interest, if any.
    #[must_use]
    pub fn half_life(&self, id: InterestId) -> Option<HalfLife> {
        self.decay_of(id).half_life
    }

    /// Effective max-age override of an interest, if any.
    #[must_use]
    pub fn max_age(&self, id: InterestId) -> Option<Duration> {
        self.decay_of(id).max_age
    }

    /// Whether `id` is `root` or one of its descendants.
    #[must_use]
    pub fn is_within(&self, id: InterestId, root: InterestId) -> bool {
        self.nodes
            .get(root.index())
            .is_some_and(|r| root.0 <= id.0 && id.0 < r.end)
    }

    /// The subtree of `root` (itself first, then descendants in depth-first order).
    pub fn subtree(&self, root: InterestId) -> impl Iterator<Item = InterestId> + '_ {
        let end = self.nodes.get(root.index()).map_or(root.0, |n| n.end);
        (root.0..end).map(InterestId)
    }

    /// One past the last handle of the subtree of `root`.
    pub(crate) fn subtree_end(&self, root: InterestId) -> u32 {
        self.nodes.get(root.index()).map_or(root.0, |n| n.end)
    }

    /// The ancestors of `id`, nearest first, excluding `id` itself.
    pub fn ancestors(&self, id: InterestId) -> impl Iterator<Item = InterestId> + '_ {
        std::iter::successors(self.parent(id), move |p| self.parent(*p))
    }

    /// A fingerprint of the taxonomy's identity: its set of paths.
    ///
    /// Two taxonomies with the same paths have the same fingerprint whatever
    /// the order they were built in, their sensitivities, decay overrides and
    /// declared renames; adding or removing an interest changes it (up to
    /// the odds of a 64-bit collision). Store it beside data that holds
    /// [`InterestId`]s to tell whether those handles still mean the same
    /// interests.
    ///
    /// The value is stable across processes, platforms, Rust and crate
    /// versions: it is the first 8 bytes, read as a little-endian `u64`, of
    /// the SHA-256 of every path in byte-wise sorted order, each written as
    /// its length in bytes (`u32`, little-endian) followed by its UTF-8
    /// bytes. Intermediate interests (`baby` of `baby/food`) are paths too.
    ///
    /// # Example
    /// ```
    /// use tactful::Taxonomy;
    ///
    /// let a = Taxonomy::builder().interest("baby/food").interest("outdoor").build()?;
    /// let b = Taxonomy::builder().interest("outdoor").interest("baby/food").build()?;
    /// assert_eq!(a.fingerprint(), b.fingerprint());
    ///
    /// let c = Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?;
    /// assert_ne!(a.fingerprint(), c.fingerprint());
    /// # Ok::<(), tactful::TaxonomyError>(())
    /// ```
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            fingerprint_of(self.sorted.iter().filter_map(|&i| self.path(InterestId(i))))
        })
    }

    /// The current handle for a path found in stored data.
    ///
    /// The path itself if the taxonomy has it. Otherwise, if the path or its
    /// nearest ancestor (the longest prefix ending at a `/`) is a former name
    /// declared with [`TaxonomyBuilder::renamed_from`], the same path below
    /// the new name, if the taxonomy has it. Otherwise `None`: the interest
    /// was removed, and data about it should be dropped.
    ///
    /// Only one rename is applied. For an interest renamed more than once
    /// across versions (`c` became `b`, later `a`), list every former name
    /// on the current interest (`a` renamed from `b` and from `c`).
    ///
    /// # Example
    /// ```
    /// use tactful::Taxonomy;
    ///
    /// let taxonomy = Taxonomy::builder()
    ///     .interest("family/baby/food")
    ///     .renamed_from("family/baby", "baby")
    ///     .build()?;
    /// let food = taxonomy.id("family/baby/food");
    /// assert_eq!(taxonomy.resolve("family/baby/food"), food);
    /// assert_eq!(taxonomy.resolve("baby/food"), food);
    /// assert_eq!(taxonomy.resolve("baby"), taxonomy.id("family/baby"));
    /// assert_eq!(taxonomy.resolve("baby/toys"), None);
    /// assert_eq!(taxonomy.resolve("baby-x"), None);
    /// # Ok::<(), tactful::TaxonomyError>(())
    /// ```
    #[must_use]
    pub fn resolve(&self, stored_path: &str) -> Option<InterestId> {
        if let Some(id) = self.id(stored_path) {
            return Some(id);
        }
        if self.renames.is_empty() {
            return None;
        }
        // Prefixes at `/` boundaries, longest (the path itself) first.
        let cuts = std::iter::once(stored_path.len())
            .chain(stored_path.rmatch_indices('/').map(|(i, _)| i));
        for cut in cuts {
            let (old, suffix) = stored_path.split_at(cut);
            if let Some(&new) = self.renames.get(old) {
                let new_path = self.path(new)?;
                return if suffix.is_empty() {
                    Some(new)
                } else {
                    self.id(&format!("{new_path}{suffix}"))
                };
            }
        }
        None
    }

    /// Every declared former name with the interest that now has it, sorted
    /// by former name.
    ///
    /// # Example
    /// ```
    /// use tactful::Taxonomy;
    ///
    /// let taxonomy = Taxonomy::builder().renamed_from("family/baby", "baby").build()?;
    /// let renames: Vec<_> = taxonomy.renames().collect();
    /// assert_eq!(renames, [("baby", taxonomy.require("family/baby")?)]);
    /// # Ok::<(), tactful::TaxonomyError>(())
    /// ```
    pub fn renames(&self) -> impl Iterator<Item = (&str, InterestId)> + '_ {
        self.renames.iter().map(|(old, id)| (old.as_str(), *id))
    }

    /// All interests in depth-first order.
    pub fn iter(&self) -> impl Iterator<Item = (InterestId, &str)> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (InterestId(i as u32), self.node_path(n)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::builder::{check_path, valid_path};
    use super::*;

    fn sample() -> Taxonomy {
        Taxonomy::builder()
            .interest("a-x")
            .interest("a/b/c")
            .interest("a/d")
            .sensitive("health", SpecialCategory::Health)
            .interest("health/pregnancy")
            .half_life("a/b", Duration::days(3))
            .build()
            .unwrap()
    }

    #[test]
    fn ids_are_depth_first_so_subtrees_are_ranges() {
        let t = sample();
        let a = t.id("a").unwrap();
        for (id, path) in t.iter() {
            assert_eq!(
                t.is_within(id, a),
                path == "a" || path.starts_with("a/"),
                "{path}"
            );
        }
        let sub: Vec<_> = t.subtree(a).filter_map(|i| t.path(i)).collect();
        assert_eq!(sub, ["a", "a/b", "a/b/c", "a/d"]);
    }

    #[test]
    fn sensitivity_and_overrides_are_inherited() {
        let t = sample();
        assert!(t
            .sensitivity(t.id("health/pregnancy").unwrap())
            .is_special());
        assert!(!t.sensitivity(t.id("a/d").unwrap()).is_special());
        assert_eq!(
            t.half_life(t.id("a/b/c").unwrap()).unwrap().get(),
            Duration::days(3)
        );
        assert_eq!(t.half_life(t.id("a/d").unwrap()), None);
    }

    #[test]
    fn rejects_bad_paths_and_overrides() {
        for bad in ["", "/a", "a/", "a//b", " a"] {
            assert_eq!(
                Taxonomy::builder().interest(bad).build(),
                Err(TaxonomyError::InvalidPath(bad.into()))
            );
        }
        assert!(matches!(
            Taxonomy::builder().half_life("a", Duration::ZERO).build(),
            Err(TaxonomyError::InvalidOverride { .. })
        ));
    }

    #[test]
    fn json_round_trip() {
        let t = sample();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(Taxonomy::from_json(&json).unwrap(), t);
        let err = Taxonomy::from_json(r#"{"interests":[{"path":"a"},{"path":"a"}]}"#).unwrap_err();
        assert_eq!(err, TaxonomyError::Duplicate("a".into()));
    }

    #[test]
    fn fingerprint_is_the_set_of_paths() {
        let a = Taxonomy::builder()
            .interest("baby/food")
            .interest("outdoor/hiking")
            .build()
            .unwrap();
        // Pinned: computed independently (Python hashlib) from the documented
        // encoding; a change of the algorithm must fail here.
        assert_eq!(a.fingerprint(), 13_262_727_213_662_151_818);
        assert_eq!(
            Taxonomy::builder().build().unwrap().fingerprint(),
            1_449_310_910_991_872_227
        );

        let reordered = Taxonomy::builder()
            .interest("outdoor/hiking")
            .interest("baby")
            .interest("baby/food")
            .build()
            .unwrap();
        assert_eq!(reordered.fingerprint(), a.fingerprint());

        // Settings and renames are not identity.
        let dressed = Taxonomy::builder()
            .sensitive("baby/food", SpecialCategory::PregnancyAndParenthood)
            .half_life("outdoor", Duration::days(3))
            .max_age("outdoor/hiking", Duration::days(9))
            .renamed_from("outdoor/hiking", "hiking")
            .build()
            .unwrap();
        assert_eq!(dressed.fingerprint(), a.fingerprint());
        assert_ne!(dressed, a);

        let grown = Taxonomy::builder()
            .interest("baby/food")
            .interest("outdoor/hiking")
            .interest("outdoor/camping")
            .build()
            .unwrap();
        assert_ne!(grown.fingerprint(), a.fingerprint());
        // Length prefixes keep paths apart: "ab" is not "a" + "b".
        let ab = Taxonomy::builder().interest("ab").build().unwrap();
        let a_b = Taxonomy::builder()
            .interest("a")
            .interest("b")
            .build()
            .unwrap();
        assert_ne!(ab.fingerprint(), a_b.fingerprint());
    }

    fn renamed() -> Taxonomy {
        Taxonomy::builder()
            .interest("family/baby/food")
            .interest("family/baby/toys")
            .interest("baby-x/y")
            .interest("outdoor/hiking")
            .renamed_from("family/baby", "baby")
            .renamed_from("family/baby", "infant")
            .renamed_from("family/baby/food", "family/baby/nutrition")
            .renamed_from("outdoor/hiking", "walking/long")
            .build()
            .unwrap()
    }

    #[test]
    fn resolve_follows_declared_renames() {
        let t = renamed();
        let id = |p: &str| t.id(p).unwrap();
        // Current paths resolve to themselves.
        for (i, path) in t.iter() {
            assert_eq!(t.resolve(path), Some(i), "{path}");
        }
        // The renamed node and its subtree.
        assert_eq!(t.resolve("baby"), Some(id("family/baby")));
        assert_eq!(t.resolve("baby/food"), Some(id("family/baby/food")));
        assert_eq!(t.resolve("baby/toys"), Some(id("family/baby/toys")));
        // Chained renames: every former name listed on the current node.
        assert_eq!(t.resolve("infant/toys"), Some(id("family/baby/toys")));
        // The nearest declared ancestor wins.
        assert_eq!(
            t.resolve("family/baby/nutrition"),
            Some(id("family/baby/food"))
        );
        // A renamed interest deeper than the top level.
        assert_eq!(t.resolve("walking/long"), Some(id("outdoor/hiking")));
        // Unknown paths, or below a rename without a counterpart now.
        for unknown in [
            "",
            "nope",
            "baby/strollers",
            "baby/food/jars",
            "walking",
            "walking/long/trail",
            "a//b",
            "baby/",
            "/baby",
        ] {
            assert_eq!(t.resolve(unknown), None, "{unknown:?}");
        }
        // A prefix-sibling of a former name is not below it.
        assert_eq!(t.resolve("baby-x/y"), Some(id("baby-x/y")));
        assert_eq!(t.resolve("baby-x/z"), None);
        assert_eq!(t.resolve("babyfood"), None);

        let renames: Vec<_> = t
            .renames()
            .map(|(old, id)| (old, t.path(id).unwrap()))
            .collect();
        assert_eq!(
            renames,
            [
                ("baby", "family/baby"),
                ("family/baby/nutrition", "family/baby/food"),
                ("infant", "family/baby"),
                ("walking/long", "outdoor/hiking"),
            ]
        );
    }

    #[test]
    fn renames_are_validated() {
        assert_eq!(
            Taxonomy::builder().renamed_from("a", "b//c").build(),
            Err(TaxonomyError::InvalidPath("b//c".into()))
        );
        assert_eq!(
            Taxonomy::builder().renamed_from("a", "a").build(),
            Err(TaxonomyError::RenamedFromCurrent {
                path: "a".into(),
                old_path: "a".into()
            })
        );
        // Still an (intermediate) interest of the taxonomy.
        assert_eq!(
            Taxonomy::builder()
                .interest("baby/food")
                .renamed_from("family/baby", "baby")
                .build(),
            Err(TaxonomyError::RenamedFromCurrent {
                path: "family/baby".into(),
                old_path: "baby".into()
            })
        );
        assert_eq!(
            Taxonomy::builder()
                .renamed_from("a", "old")
                .renamed_from("b", "old")
                .build(),
            Err(TaxonomyError::RenameClaimedTwice {
                old_path: "old".into(),
                first: "a".into(),
                second: "b".into()
            })
        );
        // Declaring the same rename twice is harmless.
        let t = Taxonomy::builder()
            .renamed_from("a", "old")
            .renamed_from("a", "old")
            .build()
            .unwrap();
        assert_eq!(t.renames().count(), 1);
        // JSON reports the same errors.
        assert_eq!(
            Taxonomy::from_json(
                r#"{"interests":[{"path":"a","renamed_from":["old"]},{"path":"b","renamed_from":["old"]}]}"#
            ),
            Err(TaxonomyError::RenameClaimedTwice {
                old_path: "old".into(),
                first: "a".into(),
                second: "b".into()
            })
        );
    }

    #[test]
    fn renames_round_trip_and_count_in_equality() {
        let t = renamed();
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            json.contains(r#"{"path":"family/baby","renamed_from":["baby","infant"]}"#),
            "{json}"
        );
        assert!(
            !json.contains(r#""path":"family","renamed_from""#),
            "{json}"
        );
        let back = Taxonomy::from_json(&json).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.fingerprint(), t.fingerprint());
        assert_eq!(serde_json::to_string(&back).unwrap(), json);

        let read = Taxonomy::from_json(
            r#"{"interests":[{"path":"family/baby","renamed_from":["baby"]},{"path":"family/baby/food"}]}"#,
        )
        .unwrap();
        assert_eq!(read.resolve("baby/food"), read.id("family/baby/food"));

        let without = Taxonomy::builder()
            .interest("family/baby/food")
            .interest("family/baby/toys")
            .interest("baby-x/y")
            .interest("outdoor/hiking")
            .build()
            .unwrap();
        assert_ne!(without, t);
        assert_eq!(without.fingerprint(), t.fingerprint());
    }

    /// The taxonomy a naive construction gives: every prefix of every path,
    /// in depth-first order with siblings by name.
    fn reference(paths: &[String]) -> Vec<String> {
        let mut all = std::collections::BTreeSet::new();
        for p in paths {
            let segs: Vec<&str> = p.split('/').collect();
            for k in 1..=segs.len() {
                all.insert(segs[..k].to_vec());
            }
        }
        // A set of segment vectors is ordered lexicographically by segments.
        all.into_iter().map(|segs| segs.join("/")).collect()
    }

    use proptest::prelude::{prop_assert_eq, proptest, Strategy};

    proptest! {
        #[test]
        fn build_equals_the_naive_construction(
            paths in proptest::collection::vec(
                proptest::collection::vec("[ab/-]{0,2}[a-c]", 1..5)
                    .prop_map(|s| s.join("/")),
                0..12,
            )
        ) {
            let paths: Vec<String> = paths.into_iter().filter(|p| valid_path(p)).collect();
            let mut b = Taxonomy::builder();
            for p in &paths {
                b = b.interest(p);
            }
            let t = b.build().unwrap();
            let want = reference(&paths);
            let got: Vec<&str> = t.iter().map(|(_, p)| p).collect();
            prop_assert_eq!(&got, &want);
            for (id, path) in t.iter() {
                prop_assert_eq!(t.id(path), Some(id));
                let parent = path.rsplit_once('/').map(|(p, _)| p);
                prop_assert_eq!(t.parent(id).and_then(|p| t.path(p)), parent);
                prop_assert_eq!(t.depth(id), Some(path.matches('/').count() as u32));
                for (other, other_path) in t.iter() {
                    let below = other_path == path
                        || other_path.strip_prefix(path).is_some_and(|r| r.starts_with('/'));
                    prop_assert_eq!(t.is_within(other, id), below);
                }
            }
            let mut sorted = want.clone();
            sorted.sort();
            prop_assert_eq!(t.fingerprint(), fingerprint_of(sorted.iter().map(String::as_str)));
            // Built in another order, with the intermediate interests given.
            let mut b = Taxonomy::builder();
            for p in want.iter().rev() {
                b = b.interest(p);
            }
            prop_assert_eq!(b.build().unwrap(), t);
        }
    }

    #[test]
    fn giving_intermediate_interests_changes_nothing() {
        let short = Taxonomy::builder().interest("a/b/c").build().unwrap();
        let long = Taxonomy::builder()
            .interest("a")
            .interest("a/b")
            .interest("a/b/c")
            .build()
            .unwrap();
        assert_eq!(short, long);
        assert_ne!(
            short,
            Taxonomy::builder()
                .interest("a/b/c")
                .sensitive("a/b", SpecialCategory::Health)
                .build()
                .unwrap()
        );
    }

    #[test]
    fn paths_are_checked_cheapest_first() {
        // An overlong path is refused for its length whatever else is wrong,
        // and the error holds only its start (cut at a character boundary).
        let long = format!("{}//", "\u{e9}".repeat(MAX_PATH_LEN));
        let Err(TaxonomyError::PathTooLong { path, len, max }) = check_path(&long) else {
            panic!("expected PathTooLong");
        };
        assert_eq!((len, max), (long.len(), MAX_PATH_LEN));
        assert_eq!(path, format!("{}...", "\u{e9}".repeat(32)));
        // A too-deep path that is also invalid is invalid.
        let deep_invalid = format!("{}/", vec!["a"; 40].join("/"));
        assert_eq!(
            check_path(&deep_invalid),
            Err(TaxonomyError::InvalidPath(deep_invalid.clone()))
        );
        let deep = vec!["a"; MAX_DEPTH + 1].join("/");
        assert_eq!(
            check_path(&deep),
            Err(TaxonomyError::TooDeep {
                path: deep.clone(),
                depth: MAX_DEPTH + 1,
                max: MAX_DEPTH
            })
        );
        assert_eq!(check_path(&vec!["a"; MAX_DEPTH].join("/")), Ok(()));
    }
}
