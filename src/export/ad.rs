//! The ad-platform exclusion list: bare SHA-256 of normalized e-mails.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::key::{normalize, write_hex};
use super::minimize::{self, ExportOptions};
use super::problem::{Export, ExportProblem, ProblemKind};
use super::ExportError;
use crate::consent::Purpose;
use crate::profile::Profile;
use crate::suppression::Channel;
use crate::taxonomy::Taxonomy;

/// E-mail hashes to upload to an ad platform as an exclusion audience
/// ("customer match"): the lowercase hex SHA-256 of each [`normalize`]d
/// address, one per line.
///
/// **Weaker than [`SuppressionList`](super::SuppressionList).** The hash is
/// unkeyed because the platforms require exactly this form, so anyone who
/// holds the file and a list of addresses can test membership, and files
/// from different senders link up. It reveals nothing about scope or
/// reason, but use it only where a platform demands it; share suppressions
/// with partners in the keyed form.
///
/// [`normalize`]: super::normalize
///
/// # Example
/// ```
/// use tactful::export::AdExclusionList;
///
/// let list = AdExclusionList::from_emails([" Anna@Example.org ", "ben@example.org"])?;
/// assert!(list.contains_email("anna@example.org"));
/// assert_eq!(list.len(), 2);
/// assert_eq!(
///     AdExclusionList::hash_email(" ANNA@example.org"),
///     "a3bf86238a1c59bd2f0a648af9293620f90d18dad133d8fe2341cf9664a5d6d0"
/// );
/// let upload = list.to_upload();
/// assert_eq!(upload.lines().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdExclusionList {
    hashes: BTreeSet<String>,
}

impl AdExclusionList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The lowercase hex SHA-256 of the [`normalize`](super::normalize)d
    /// address.
    #[must_use]
    pub fn hash_email(email: &str) -> String {
        let digest = Sha256::digest(normalize(email).as_bytes());
        let mut out = String::with_capacity(64);
        // Writing into a String cannot fail.
        let _ = write_hex(&mut out, &digest);
        out
    }

    /// A list of the given addresses.
    ///
    /// # Errors
    /// [`ExportError::EmptyEmail`] for an address that is empty after
    /// trimming.
    pub fn from_emails<'e>(emails: impl IntoIterator<Item = &'e str>) -> Result<Self, ExportError> {
        let mut list = Self::new();
        for (i, email) in emails.into_iter().enumerate() {
            if email.trim().is_empty() {
                return Err(ExportError::EmptyEmail { position: i + 1 });
            }
            list.insert_email(email);
        }
        Ok(list)
    }

    /// The people to exclude from an ad campaign for `purpose`, about
    /// `interest_path` if it targets an interest: every profile with a
    /// suppression active at `now` that covers a message on
    /// [`Channel::Ads`] for that purpose and interest (by the rules of
    /// [`ExportScope::covers`](super::ExportScope::covers)).
    ///
    /// One odd record never fails the batch: everyone whose record is fine
    /// is in [`Export::list`], and the problems are beside it.
    ///
    /// Each item pairs a profile with its e-mail address.
    ///
    /// Suppressions are minimized with the default [`ExportOptions`] first:
    /// a suppression of an interest in a special category (or of an
    /// orphaned interest) excludes the person from every ads campaign, so
    /// that the list of a campaign about that category does not single
    /// them out. See [`from_profiles_with`](Self::from_profiles_with).
    ///
    /// # Errors
    /// [`ExportError::UnknownInterestPath`] if `interest_path` is not in
    /// `taxonomy` (a typo would otherwise exclude nobody). This concerns
    /// the whole call, so nothing is exported.
    ///
    /// # Problems
    /// Reported in [`Export::problems`], each naming the item's position
    /// and profile; everything else is exported:
    /// - [`ProblemKind::UnknownInterest`]: an active suppression names an
    ///   interest that `taxonomy` does not know, so whether it covers the
    ///   campaign cannot be told. It is left out; the profile's other
    ///   suppressions still exclude the person.
    /// - [`ProblemKind::EmptyIdentifier`]: the person is to be excluded but
    ///   the address is empty after trimming, so nothing can be uploaded
    ///   for them. An empty address of a person not to be excluded is no
    ///   problem.
    ///
    /// # Example
    /// ```
    /// use tactful::export::AdExclusionList;
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").interest("garden").build()?;
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let engine = Engine::new(taxonomy, DecayPolicy::default());
    /// let mut anna = Profile::new("anna");
    /// let baby = engine.taxonomy().require("baby")?;
    /// engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now), now);
    /// let ben = Profile::new("ben");
    ///
    /// let people = [(&anna, "anna@example.org"), (&ben, "ben@example.org")];
    /// let baby_food = AdExclusionList::from_profiles(engine.taxonomy(), people, Purpose::Marketing, Some("baby/food"), now)?;
    /// assert!(baby_food.is_complete());
    /// assert!(baby_food.list.contains_email("anna@example.org"));
    /// assert!(!baby_food.list.contains_email("ben@example.org"));
    /// let garden = AdExclusionList::from_profiles(engine.taxonomy(), people, Purpose::Marketing, Some("garden"), now)?;
    /// assert!(garden.list.is_empty());
    /// // A typo in the campaign's path fails the call.
    /// assert!(AdExclusionList::from_profiles(engine.taxonomy(), people, Purpose::Marketing, Some("gardn"), now).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_profiles<'p, 'e>(
        taxonomy: &Taxonomy,
        profiles: impl IntoIterator<Item = (&'p Profile, &'e str)>,
        purpose: Purpose,
        interest_path: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Export<Self>, ExportError> {
        Self::from_profiles_with(
            taxonomy,
            profiles,
            purpose,
            interest_path,
            now,
            ExportOptions::default(),
        )
    }

    /// Like [`from_profiles`](Self::from_profiles), with each suppression
    /// minimized as `options` say before it is matched against the
    /// campaign.
    ///
    /// An upload holds no scope, but the campaign it is uploaded for has
    /// one: a person on the exclusion list of a `health/pregnancy`
    /// campaign, and on no other, has told us something about pregnancy.
    /// So a suppression of a special-category (or orphaned) interest
    /// excludes the person as its minimized scope does: by default from
    /// every ads campaign ([`Minimization::WholeProfile`]), with
    /// [`Minimization::NearestOrdinaryAncestor`] from campaigns about the
    /// ordinary ancestor's subtree, with [`Minimization::Keep`] from those
    /// about the interest itself. Windows play no part (an upload holds no
    /// instants; only suppressions active at `now` count).
    ///
    /// [`Minimization`]: super::Minimization
    /// [`Minimization::WholeProfile`]: super::Minimization::WholeProfile
    /// [`Minimization::NearestOrdinaryAncestor`]: super::Minimization::NearestOrdinaryAncestor
    /// [`Minimization::Keep`]: super::Minimization::Keep
    ///
    /// # Errors
    /// [`ExportError::UnknownInterestPath`] if `interest_path` is not in
    /// `taxonomy`.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{AdExclusionList, ExportOptions, Minimization};
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder()
    ///     .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
    ///     .interest("garden")
    ///     .build()?;
    /// let engine = Engine::new(taxonomy, DecayPolicy::default());
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let mut anna = Profile::new("anna");
    /// let pregnancy = engine.taxonomy().require("health/pregnancy")?;
    /// engine.suppress(&mut anna, Suppression::new(Scope::Interest(pregnancy), SuppressionReason::Bereavement, now), now);
    /// let people = [(&anna, "anna@example.org")];
    ///
    /// // By default Anna is excluded from the garden campaign too, so the
    /// // pregnancy campaign's list says nothing about pregnancy.
    /// let garden = AdExclusionList::from_profiles(engine.taxonomy(), people, Purpose::Marketing, Some("garden"), now)?;
    /// assert!(garden.list.contains_email("anna@example.org"));
    /// let keep = ExportOptions::from(Minimization::Keep);
    /// let garden = AdExclusionList::from_profiles_with(engine.taxonomy(), people, Purpose::Marketing, Some("garden"), now, keep)?;
    /// assert!(garden.list.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_profiles_with<'p, 'e>(
        taxonomy: &Taxonomy,
        profiles: impl IntoIterator<Item = (&'p Profile, &'e str)>,
        purpose: Purpose,
        interest_path: Option<&str>,
        now: OffsetDateTime,
        options: ExportOptions,
    ) -> Result<Export<Self>, ExportError> {
        if let Some(path) = interest_path {
            if taxonomy.id(path).is_none() {
                return Err(ExportError::UnknownInterestPath(path.to_owned()));
            }
        }
        let mut list = Self::new();
        let mut problems = Vec::new();
        for (position, (profile, email)) in (1..).zip(profiles) {
            let mut excluded = false;
            for minimized in minimize::active(profile, taxonomy, now, options) {
                match minimized.scopes {
                    Ok(scopes) => {
                        excluded |= scopes
                            .iter()
                            .any(|s| s.covers(Channel::Ads, purpose, interest_path));
                    }
                    Err(kind) => problems.push(ExportProblem::new(position, profile, kind)),
                }
            }
            if !excluded {
                continue;
            }
            if email.trim().is_empty() {
                problems.push(ExportProblem::new(
                    position,
                    profile,
                    ProblemKind::EmptyIdentifier,
                ));
            } else {
                list.insert_email(email);
            }
        }
        Ok(Export { list, problems })
    }

    /// Adds an address (hashed); `false` if it was already present.
    pub fn insert_email(&mut self, email: &str) -> bool {
        self.hashes.insert(Self::hash_email(email))
    }

    /// Whether the list holds the hash of `email`.
    #[must_use]
    pub fn contains_email(&self, email: &str) -> bool {
        self.hashes.contains(&Self::hash_email(email))
    }

    /// The hashes, sorted.
    pub fn hashes(&self) -> impl Iterator<Item = &str> + '_ {
        self.hashes.iter().map(String::as_str)
    }

    /// Number of hashes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The upload file: one hash per line, sorted, each line ending in
    /// `\n`, no header.
    #[must_use]
    pub fn to_upload(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for AdExclusionList {
    /// The upload format of [`to_upload`](Self::to_upload).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for h in &self.hashes {
            writeln!(f, "{h}")?;
        }
        Ok(())
    }
}
