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

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::decay::HalfLife;
use crate::error::TaxonomyError;

/// A small handle for an interest of one [`Taxonomy`].
///
/// Handles are only meaningful for the taxonomy that issued them; a taxonomy
/// built from the same paths issues the same handles.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct InterestId(pub(crate) u32);

impl InterestId {
    /// The raw index, `0..taxonomy.len()`.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
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

#[derive(Debug, Clone, PartialEq)]
struct Node {
    path: String,
    parent: Option<InterestId>,
    /// One past the last descendant: the subtree is `id..end`.
    end: u32,
    depth: u32,
    own: NodeSpec,
    /// Sensitivity inherited from the nearest special ancestor, or own.
    sensitivity: Sensitivity,
    half_life: Option<HalfLife>,
    max_age: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct NodeSpec {
    sensitivity: Option<Sensitivity>,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TaxonomyConfig", into = "TaxonomyConfig")]
pub struct Taxonomy {
    nodes: Vec<Node>,
    by_path: HashMap<String, InterestId>,
    /// Former names: old path to the interest that now has it.
    renames: BTreeMap<String, InterestId>,
    /// See [`Taxonomy::fingerprint`]; derived from the paths.
    fingerprint: u64,
}

impl Taxonomy {
    /// Starts an empty builder.
    #[must_use]
    pub fn builder() -> TaxonomyBuilder {
        TaxonomyBuilder::default()
    }

    /// Reads a taxonomy from JSON of the form
    /// `{"interests": [{"path": "baby/food"}, {"path": "health", "sensitivity": {"special": "health"}, "half_life": "7d"}]}`.
    ///
    /// # Errors
    /// [`TaxonomyError::Json`] when the JSON does not have that shape, and
    /// every error of [`TaxonomyBuilder::build`].
    pub fn from_json(json: &str) -> Result<Self, TaxonomyError> {
        let config: TaxonomyConfig =
            crate::config::parse_json(json).map_err(|e| TaxonomyError::Json(e.to_string()))?;
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
        self.by_path.get(path).copied()
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
        self.nodes.get(id.index()).map(|n| n.path.as_str())
    }

    /// The parent of an interest (`None` for top-level interests).
    #[must_use]
    pub fn parent(&self, id: InterestId) -> Option<InterestId> {
        self.nodes.get(id.index()).and_then(|n| n.parent)
    }

    /// Depth of an interest: 0 for top-level.
    #[must_use]
    pub fn depth(&self, id: InterestId) -> Option<u32> {
        self.nodes.get(id.index()).map(|n| n.depth)
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
        self.nodes.get(id.index()).and_then(|n| n.half_life)
    }

    /// Effective max-age override of an interest, if any.
    #[must_use]
    pub fn max_age(&self, id: InterestId) -> Option<Duration> {
        self.nodes.get(id.index()).and_then(|n| n.max_age)
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
        self.fingerprint
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
            .map(|(i, n)| (InterestId(i as u32), n.path.as_str()))
    }
}

/// Builds a [`Taxonomy`]. Intermediate nodes of a path are created as needed.
#[derive(Debug, Clone, Default)]
pub struct TaxonomyBuilder {
    specs: BTreeMap<String, NodeSpec>,
    /// Former name to current path.
    renames: BTreeMap<String, String>,
    errors: Vec<TaxonomyError>,
}

impl TaxonomyBuilder {
    fn entry(&mut self, path: &str) -> Option<&mut NodeSpec> {
        if !valid_path(path) {
            self.errors
                .push(TaxonomyError::InvalidPath(path.to_owned()));
            return None;
        }
        let mut prefix = String::new();
        for seg in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(seg);
            self.specs.entry(prefix.clone()).or_default();
        }
        self.specs.get_mut(path)
    }

    /// Adds an ordinary interest (and its ancestors).
    #[must_use]
    pub fn interest(mut self, path: &str) -> Self {
        self.entry(path);
        self
    }

    /// Adds an interest in a special category; its subtree inherits it.
    #[must_use]
    pub fn sensitive(self, path: &str, category: SpecialCategory) -> Self {
        self.sensitivity(path, Sensitivity::Special(category))
    }

    /// Sets the sensitivity of an interest (adding it if needed).
    #[must_use]
    pub fn sensitivity(mut self, path: &str, sensitivity: Sensitivity) -> Self {
        if let Some(spec) = self.entry(path) {
            spec.sensitivity = Some(sensitivity);
        }
        self
    }

    /// Overrides the half-life for an interest and its subtree. A zero or
    /// negative duration is reported by [`build`](Self::build).
    #[must_use]
    pub fn half_life(mut self, path: &str, half_life: Duration) -> Self {
        match HalfLife::new(half_life) {
            Ok(h) => {
                if let Some(spec) = self.entry(path) {
                    spec.half_life = Some(h);
                }
            }
            Err(e) => self.errors.push(TaxonomyError::InvalidOverride {
                path: path.to_owned(),
                reason: e.to_string(),
            }),
        }
        self
    }

    /// Overrides the max age for an interest and its subtree (partner data
    /// still uses the shorter of this and the policy's partner max age).
    #[must_use]
    pub fn max_age(mut self, path: &str, max_age: Duration) -> Self {
        if max_age.is_negative() {
            self.errors.push(TaxonomyError::InvalidOverride {
                path: path.to_owned(),
                reason: format!("max age must not be negative, got {max_age}"),
            });
        } else if let Some(spec) = self.entry(path) {
            spec.max_age = Some(max_age);
        }
        self
    }

    /// Declares that `old_path` is a former name of `path` (adding `path` if
    /// needed): stored data naming `old_path` or a path below it resolves to
    /// `path` or the same path below it (see [`Taxonomy::resolve`]).
    ///
    /// List every former name on the current interest: an interest renamed
    /// twice across versions declares both old names.
    ///
    /// # Example
    /// ```
    /// use tactful::Taxonomy;
    ///
    /// let taxonomy = Taxonomy::builder()
    ///     .interest("family/baby/food")
    ///     .renamed_from("family/baby", "baby")
    ///     .renamed_from("family/baby", "infant")
    ///     .build()?;
    /// assert_eq!(taxonomy.resolve("infant/food"), taxonomy.id("family/baby/food"));
    ///
    /// // A former name must not be a current path.
    /// assert!(Taxonomy::builder().interest("baby").renamed_from("family/baby", "baby").build().is_err());
    /// # Ok::<(), tactful::TaxonomyError>(())
    /// ```
    ///
    /// Errors are reported by [`build`](Self::build): an invalid `old_path`
    /// as [`TaxonomyError::InvalidPath`],
    /// [`TaxonomyError::RenamedFromCurrent`] if it is a path of the built
    /// taxonomy, [`TaxonomyError::RenameClaimedTwice`] if two interests
    /// claim it.
    #[must_use]
    pub fn renamed_from(mut self, path: &str, old_path: &str) -> Self {
        if !valid_path(old_path) {
            self.errors
                .push(TaxonomyError::InvalidPath(old_path.to_owned()));
            return self;
        }
        if self.entry(path).is_none() {
            return self;
        }
        match self.renames.get(old_path) {
            Some(first) if first != path => {
                self.errors.push(TaxonomyError::RenameClaimedTwice {
                    old_path: old_path.to_owned(),
                    first: first.clone(),
                    second: path.to_owned(),
                });
            }
            Some(_) => {}
            None => {
                self.renames.insert(old_path.to_owned(), path.to_owned());
            }
        }
        self
    }

    /// Builds the taxonomy.
    ///
    /// # Errors
    /// The first invalid path, override or rename given to the builder (see
    /// [`renamed_from`](Self::renamed_from)), or [`TaxonomyError::TooMany`].
    pub fn build(self) -> Result<Taxonomy, TaxonomyError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        if self.specs.len() >= u32::MAX as usize {
            return Err(TaxonomyError::TooMany(self.specs.len()));
        }
        // Children per parent path, sorted by name (BTreeMap order of full paths
        // groups siblings but is not depth-first, see "a-x" vs "a/b").
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for path in self.specs.keys() {
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
            children.entry(parent).or_default().push(path);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| last_segment(a).cmp(last_segment(b)));
        }
        let mut nodes: Vec<Node> = Vec::with_capacity(self.specs.len());
        let mut by_path = HashMap::with_capacity(self.specs.len());
        // Iterative DFS so deep trees cannot overflow the stack.
        enum Step<'a> {
            Enter(&'a str, Option<InterestId>, u32),
            Exit(usize),
        }
        let mut stack: Vec<Step<'_>> = children
            .get("")
            .map(|roots| {
                roots
                    .iter()
                    .rev()
                    .map(|p| Step::Enter(p, None, 0))
                    .collect()
            })
            .unwrap_or_default();
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(path, parent, depth) => {
                    let idx = nodes.len();
                    let id = InterestId(idx as u32);
                    let own = self.specs.get(path).cloned().unwrap_or_default();
                    let inherited = parent.and_then(|p| nodes.get(p.index()));
                    let sensitivity = match (own.sensitivity, inherited) {
                        (Some(Sensitivity::Special(c)), _) => Sensitivity::Special(c),
                        (_, Some(p)) if p.sensitivity.is_special() => p.sensitivity,
                        (s, _) => s.unwrap_or_default(),
                    };
                    let half_life = own.half_life.or(inherited.and_then(|p| p.half_life));
                    let max_age = own.max_age.or(inherited.and_then(|p| p.max_age));
                    nodes.push(Node {
                        path: path.to_owned(),
                        parent,
                        end: 0,
                        depth,
                        own,
                        sensitivity,
                        half_life,
                        max_age,
                    });
                    by_path.insert(path.to_owned(), id);
                    stack.push(Step::Exit(idx));
                    if let Some(kids) = children.get(path) {
                        for kid in kids.iter().rev() {
                            stack.push(Step::Enter(kid, Some(id), depth + 1));
                        }
                    }
                }
                Step::Exit(idx) => {
                    let end = nodes.len() as u32;
                    if let Some(n) = nodes.get_mut(idx) {
                        n.end = end;
                    }
                }
            }
        }
        let mut renames = BTreeMap::new();
        for (old_path, path) in self.renames {
            if by_path.contains_key(&old_path) {
                return Err(TaxonomyError::RenamedFromCurrent { path, old_path });
            }
            if let Some(&id) = by_path.get(&path) {
                renames.insert(old_path, id);
            }
        }
        let fingerprint = fingerprint_of(nodes.iter().map(|n| n.path.as_str()));
        Ok(Taxonomy {
            nodes,
            by_path,
            renames,
            fingerprint,
        })
    }
}

/// See [`Taxonomy::fingerprint`].
fn fingerprint_of<'a>(paths: impl Iterator<Item = &'a str>) -> u64 {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&str> = paths.collect();
    sorted.sort_unstable();
    let mut hasher = Sha256::new();
    for path in sorted {
        // Paths are at most a few hundred bytes (`MAX_PATH_LEN`), far below u32::MAX.
        hasher.update((path.len() as u32).to_le_bytes());
        hasher.update(path.as_bytes());
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    for (b, d) in first.iter_mut().zip(digest.iter()) {
        *b = *d;
    }
    u64::from_le_bytes(first)
}

fn last_segment(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, s)| s)
}

fn valid_path(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(|s| !s.is_empty() && s.trim() == s)
}

/// The storage form of a taxonomy (what JSON holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyConfig {
    interests: Vec<InterestConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterestConfig {
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sensitivity: Option<Sensitivity>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_util::duration::option"
    )]
    half_life: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_util::duration::option"
    )]
    max_age: Option<Duration>,
    /// Former names of this interest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    renamed_from: Option<Vec<String>>,
}

impl TryFrom<TaxonomyConfig> for Taxonomy {
    type Error = TaxonomyError;

    fn try_from(config: TaxonomyConfig) -> Result<Self, Self::Error> {
        let mut seen = std::collections::HashSet::new();
        let mut b = Taxonomy::builder();
        for i in config.interests {
            if !seen.insert(i.path.clone()) {
                return Err(TaxonomyError::Duplicate(i.path));
            }
            b = b.interest(&i.path);
            if let Some(s) = i.sensitivity {
                b = b.sensitivity(&i.path, s);
            }
            if let Some(h) = i.half_life {
                b = b.half_life(&i.path, h);
            }
            if let Some(m) = i.max_age {
                b = b.max_age(&i.path, m);
            }
            for old in i.renamed_from.iter().flatten() {
                b = b.renamed_from(&i.path, old);
            }
        }
        b.build()
    }
}

impl From<Taxonomy> for TaxonomyConfig {
    fn from(t: Taxonomy) -> Self {
        let mut former: Vec<Option<Vec<String>>> = vec![None; t.nodes.len()];
        for (old, id) in t.renames {
            if let Some(list) = former.get_mut(id.index()) {
                list.get_or_insert_with(Vec::new).push(old);
            }
        }
        TaxonomyConfig {
            interests: t
                .nodes
                .into_iter()
                .zip(former)
                .map(|(n, renamed_from)| InterestConfig {
                    path: n.path,
                    sensitivity: n.own.sensitivity,
                    half_life: n.own.half_life.map(HalfLife::get),
                    max_age: n.own.max_age,
                    renamed_from,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
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
}
