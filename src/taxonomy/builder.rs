//! Building a taxonomy: paths checked and laid out in depth-first order.

use std::collections::BTreeMap;

use time::Duration;

use crate::quantity::HalfLife;
use crate::reason::SuppressionReason;

use super::life_event::LifeEvent;
use super::*;

pub(super) const DEFAULT_SPEC: NodeSpec = NodeSpec {
    sensitivity: None,
    half_life: None,
    max_age: None,
};

/// Builds a [`Taxonomy`]. Intermediate nodes of a path are created as needed.
#[derive(Debug, Clone, Default)]
pub struct TaxonomyBuilder {
    /// The paths given (not their intermediate nodes) and their settings.
    specs: BTreeMap<String, NodeSpec>,
    /// Former name to current path.
    renames: BTreeMap<String, String>,
    /// Life events: name to (paths, reasons besides bereavement).
    life_events: BTreeMap<String, (Vec<String>, Vec<SuppressionReason>)>,
    errors: Vec<TaxonomyError>,
}

impl TaxonomyBuilder {
    fn entry(&mut self, path: &str) -> Option<&mut NodeSpec> {
        if let Err(e) = check_path(path) {
            self.errors.push(e);
            return None;
        }
        if !self.specs.contains_key(path) {
            self.specs.insert(path.to_owned(), NodeSpec::default());
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
    /// Errors are reported by [`build`](Self::build): an invalid `old_path`
    /// as for any path ([`TaxonomyError::InvalidPath`],
    /// [`TaxonomyError::PathTooLong`], [`TaxonomyError::TooDeep`]),
    /// [`TaxonomyError::RenamedFromCurrent`] if it is a path of the built
    /// taxonomy, [`TaxonomyError::RenameClaimedTwice`] if two interests
    /// claim it.
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
    #[must_use]
    pub fn renamed_from(mut self, path: &str, old_path: &str) -> Self {
        if let Err(e) = check_path(old_path) {
            self.errors.push(e);
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

    /// Declares a life event: a named group of interest subtrees (adding
    /// the paths if needed) that a bereavement suppression on any of them
    /// covers as a whole. See [`crate::life_event`].
    ///
    /// Errors are reported by [`build`](Self::build):
    /// [`TaxonomyError::InvalidLifeEvent`] for a name declared twice, an
    /// empty name or no interests; invalid paths as for any path.
    ///
    /// # Example
    /// ```
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder()
    ///     .interest("baby/food")
    ///     .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
    ///     .life_event("pregnancy", ["baby", "health/pregnancy", "parenting"])
    ///     .build()?;
    /// let baby = taxonomy.require("baby")?;
    /// let pregnancy = taxonomy.require("health/pregnancy")?;
    /// let loss = Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, datetime!(2026-03-14 0:00 UTC));
    /// assert!(loss.covers_interest(&taxonomy, pregnancy));
    /// assert_eq!(loss.covered_roots(&taxonomy)[1], (pregnancy, Some("pregnancy")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn life_event<'p>(self, name: &str, paths: impl IntoIterator<Item = &'p str>) -> Self {
        self.life_event_for(name, paths, [])
    }

    /// Declares a life event that, besides bereavement, the `also_for`
    /// reasons cover as a whole (an opt-out of anything about `baby` that
    /// should also cover pregnancy and parenting). As
    /// [`life_event`](Self::life_event) otherwise.
    #[must_use]
    pub fn life_event_for<'p>(
        mut self,
        name: &str,
        paths: impl IntoIterator<Item = &'p str>,
        also_for: impl IntoIterator<Item = SuppressionReason>,
    ) -> Self {
        let invalid = |problem: &str| TaxonomyError::InvalidLifeEvent {
            name: name.to_owned(),
            problem: problem.to_owned(),
        };
        if name.trim().is_empty() {
            self.errors.push(invalid("the name is empty"));
            return self;
        }
        if self.life_events.contains_key(name) {
            self.errors.push(invalid("declared twice"));
            return self;
        }
        let mut given = Vec::new();
        for p in paths {
            if self.entry(p).is_some() {
                given.push(p.to_owned());
            }
        }
        if given.is_empty() {
            self.errors.push(invalid("it groups no interests"));
            return self;
        }
        let mut also: Vec<SuppressionReason> = also_for
            .into_iter()
            .filter(|r| *r != SuppressionReason::Bereavement)
            .collect();
        also.sort_unstable();
        also.dedup();
        self.life_events.insert(name.to_owned(), (given, also));
        self
    }

    /// Builds the taxonomy.
    ///
    /// Time is `O(n log n)` in the number of interests and memory linear in
    /// the paths' text: each given path is stored once, however many
    /// intermediate interests it creates.
    ///
    /// # Errors
    /// The first invalid path, override or rename given to the builder:
    /// [`TaxonomyError::InvalidPath`], [`TaxonomyError::PathTooLong`],
    /// [`TaxonomyError::TooDeep`], [`TaxonomyError::InvalidOverride`],
    /// [`TaxonomyError::RenameClaimedTwice`]; then
    /// [`TaxonomyError::TooMany`] or [`TaxonomyError::RenamedFromCurrent`]
    /// (see [`renamed_from`](Self::renamed_from)).
    pub fn build(self) -> Result<Taxonomy, TaxonomyError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        // Depth-first order with siblings by name is the order of the paths
        // as sequences of segments (byte-wise, `a/x` before `a-b`).
        let mut given: Vec<(&str, &NodeSpec)> =
            self.specs.iter().map(|(p, s)| (p.as_str(), s)).collect();
        given.sort_unstable_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
        let Layout {
            nodes,
            text,
            specs,
            decay,
        } = Layout::of(&given)?;
        drop(given);
        let mut sorted: Vec<u32> = (0..nodes.len() as u32).collect();
        {
            let path_of = |i: u32| {
                nodes.get(i as usize).map_or("", |n| {
                    let start = n.start as usize;
                    text.get(start..start + n.len as usize).unwrap_or_default()
                })
            };
            sorted.sort_unstable_by(|&a, &b| path_of(a).cmp(path_of(b)));
        }
        let mut taxonomy = Taxonomy {
            nodes,
            text,
            sorted,
            specs,
            decay,
            renames: BTreeMap::new(),
            life_events: Vec::new(),
            fingerprint: OnceLock::new(),
        };
        for (name, (paths, also)) in self.life_events {
            let mut roots: Vec<InterestId> = paths.iter().filter_map(|p| taxonomy.id(p)).collect();
            roots.sort_unstable();
            roots.dedup();
            // A root inside another adds nothing: keep the outer one.
            let mut outer: Vec<InterestId> = Vec::with_capacity(roots.len());
            for r in roots {
                if !outer.iter().any(|&o| taxonomy.is_within(r, o)) {
                    outer.push(r);
                }
            }
            taxonomy.life_events.push(LifeEvent {
                name,
                roots: outer,
                also,
            });
        }
        for (old_path, path) in self.renames {
            if taxonomy.id(&old_path).is_some() {
                return Err(TaxonomyError::RenamedFromCurrent { path, old_path });
            }
            if let Some(id) = taxonomy.id(&path) {
                taxonomy.renames.insert(old_path, id);
            }
        }
        Ok(taxonomy)
    }
}

/// The nodes of a taxonomy being built, in depth-first order.
struct Layout {
    nodes: Vec<Node>,
    text: String,
    specs: Vec<NodeSpec>,
    decay: Vec<Decay>,
}

impl Layout {
    /// Lays out the given paths, sorted depth-first (see `build`), with
    /// their intermediate interests.
    fn of(given: &[(&str, &NodeSpec)]) -> Result<Self, TaxonomyError> {
        // In that order, the interests a path adds are the levels it does not
        // share with the path before it (its ancestors that exist already
        // are prefixes of that one): count them to allocate once.
        let shared: Vec<usize> = std::iter::once(0)
            .chain(given.windows(2).map(|w| match w {
                [a, b] => common_levels(a.0, b.0),
                _ => 0,
            }))
            .collect();
        let total: usize = given
            .iter()
            .zip(&shared)
            .map(|((p, _), s)| levels(p) - s)
            .sum();
        let text_len: usize = given.iter().map(|(p, _)| p.len()).sum();
        if total >= u32::MAX as usize || text_len > u32::MAX as usize {
            return Err(TaxonomyError::TooMany(total));
        }
        let mut layout = Layout {
            nodes: Vec::with_capacity(total),
            text: String::with_capacity(text_len),
            specs: vec![NodeSpec::default()],
            decay: vec![Decay::default()],
        };
        // The current chain of ancestors, root first.
        let mut chain: Vec<u32> = Vec::with_capacity(MAX_DEPTH);
        for (&(path, spec), &keep) in given.iter().zip(&shared) {
            while chain.len() > keep {
                let done = chain.pop();
                layout.close(done);
            }
            let start = layout.text.len() as u32;
            layout.text.push_str(path);
            let cuts = path
                .match_indices('/')
                .map(|(i, _)| i)
                .chain(std::iter::once(path.len()));
            for cut in cuts.skip(keep) {
                let own = if cut == path.len() {
                    spec
                } else {
                    &DEFAULT_SPEC
                };
                let id = layout.push(start, cut, chain.last().copied(), own);
                chain.push(id);
            }
        }
        while let Some(done) = chain.pop() {
            layout.close(Some(done));
        }
        layout.specs.shrink_to_fit();
        layout.decay.shrink_to_fit();
        Ok(layout)
    }

    /// Adds the interest `text[start..start + len]`, inheriting from `parent`.
    fn push(&mut self, start: u32, len: usize, parent: Option<u32>, spec: &NodeSpec) -> u32 {
        let id = self.nodes.len() as u32;
        let up = parent.and_then(|p| self.nodes.get(p as usize)).copied();
        let own = if *spec == DEFAULT_SPEC {
            0
        } else {
            self.specs.push(spec.clone());
            (self.specs.len() - 1) as u32
        };
        let sensitivity = match (spec.sensitivity, up) {
            (Some(Sensitivity::Special(c)), _) => Sensitivity::Special(c),
            (_, Some(p)) if p.sensitivity.is_special() => p.sensitivity,
            (s, _) => s.unwrap_or_default(),
        };
        let inherited = up.map_or(0, |p| p.decay);
        let decay = if spec.half_life.is_some() || spec.max_age.is_some() {
            let from = self
                .decay
                .get(inherited as usize)
                .copied()
                .unwrap_or_default();
            self.decay.push(Decay {
                half_life: spec.half_life.or(from.half_life),
                max_age: spec.max_age.or(from.max_age),
            });
            (self.decay.len() - 1) as u32
        } else {
            inherited
        };
        self.nodes.push(Node {
            start,
            // Checked by `check_path`: at most MAX_PATH_LEN and MAX_DEPTH.
            len: len as u16,
            parent: parent.unwrap_or(NO_PARENT),
            end: 0,
            depth: up.map_or(0, |p| p.depth + 1),
            own,
            decay,
            sensitivity,
        });
        id
    }

    /// Sets the end of a finished subtree: everything pushed since.
    fn close(&mut self, id: Option<u32>) {
        let end = self.nodes.len() as u32;
        if let Some(n) = id.and_then(|i| self.nodes.get_mut(i as usize)) {
            n.end = end;
        }
    }
}

/// Number of levels of a path: `a/b/c` has 3.
fn levels(path: &str) -> usize {
    path.bytes().filter(|&b| b == b'/').count() + 1
}

/// Number of leading levels two paths share: 1 for `a/b` and `a/c`.
fn common_levels(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Checks a path against the rules and limits, cheapest first, so that a
/// huge path costs one length comparison.
pub(super) fn check_path(path: &str) -> Result<(), TaxonomyError> {
    if path.len() > MAX_PATH_LEN {
        return Err(TaxonomyError::PathTooLong {
            path: shorten(path),
            len: path.len(),
            max: MAX_PATH_LEN,
        });
    }
    if !valid_path(path) {
        return Err(TaxonomyError::InvalidPath(path.to_owned()));
    }
    let depth = levels(path);
    if depth > MAX_DEPTH {
        return Err(TaxonomyError::TooDeep {
            path: path.to_owned(),
            depth,
            max: MAX_DEPTH,
        });
    }
    Ok(())
}

/// The start of an overlong path, for an error message.
fn shorten(path: &str) -> String {
    const KEEP: usize = 64;
    let mut end = KEEP.min(path.len());
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", path.get(..end).unwrap_or_default())
}

/// See [`Taxonomy::fingerprint`]; `sorted` must yield the paths in
/// byte-wise order.
pub(super) fn fingerprint_of<'a>(sorted: impl Iterator<Item = &'a str>) -> u64 {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for path in sorted {
        // At most MAX_PATH_LEN bytes.
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

pub(super) fn valid_path(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(|s| !s.is_empty() && s.trim() == s)
}
