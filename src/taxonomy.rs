//! The interest tree: paths like `baby/food`, sensitivity, decay overrides.
//!
//! A [`Taxonomy`] is built once (by [`TaxonomyBuilder`] or from JSON) and is
//! immutable afterwards. Interests are numbered in depth-first order, so
//! "is `x` in the subtree of `root`" is a range check and costs nothing on
//! the hot path.

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

    /// Builds the taxonomy.
    ///
    /// # Errors
    /// The first invalid path or override given to the builder, or
    /// [`TaxonomyError::TooMany`].
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
        Ok(Taxonomy { nodes, by_path })
    }
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
        }
        b.build()
    }
}

impl From<Taxonomy> for TaxonomyConfig {
    fn from(t: Taxonomy) -> Self {
        TaxonomyConfig {
            interests: t
                .nodes
                .into_iter()
                .map(|n| InterestConfig {
                    path: n.path,
                    sensitivity: n.own.sensitivity,
                    half_life: n.own.half_life.map(HalfLife::get),
                    max_age: n.own.max_age,
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
}
