//! Audiences: the profiles a message may go to, exactly or with
//! differential privacy. Every member is someone `decide` allows.

use super::*;

impl Engine {
    /// The profiles a message may be sent to at `now`: those for which
    /// [`decide`](Self::decide) allows it.
    ///
    /// # Errors
    /// [`AudienceError::TooSmall`] if fewer than the minimum audience are
    /// allowed (so no audience can single out a person);
    /// [`AudienceError::NoTarget`] for an untargeted request;
    /// [`AudienceError::UnknownSegment`].
    ///
    /// # Examples
    /// ```
    /// use std::num::NonZeroUsize;
    /// use tactful::prelude::*;
    /// use tactful::AudienceError;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let person = |id: &str| -> Result<Profile, Box<dyn std::error::Error>> {
    /// #     let mut p = Profile::new(id);
    /// #     p.set_level(Level::FirstParty);
    /// #     p.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// #     for day in 0..3 {
    /// #         let at = t0 + Duration::days(day);
    /// #         engine.record(&mut p, Event::new(food, Signal::View, at), at)?;
    /// #     }
    /// #     Ok(p)
    /// # };
    /// # let now = t0 + Duration::days(3);
    ///
    /// // Three people interested in baby food (three views each), and dora.
    /// let people = vec![person("anna")?, person("ben")?, person("cleo")?, Profile::new("dora")];
    /// let tips = MessageRequest::new(Channel::InApp, Purpose::Personalization).about(Target::Interest(food));
    /// // Three could be singled out: below the default minimum of 50.
    /// assert_eq!(engine.audience(&people, &tips, now), Err(AudienceError::TooSmall { size: 3, min: 50 }));
    ///
    /// let engine = engine.with_min_audience(NonZeroUsize::new(3).ok_or("zero")?);
    /// let audience = engine.audience(&people, &tips, now)?;
    /// assert_eq!((audience.len(), audience.left_out), (3, 1)); // dora gave no consent
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audience<'p>(
        &self,
        profiles: impl IntoIterator<Item = &'p Profile>,
        request: &MessageRequest,
        now: OffsetDateTime,
    ) -> Result<Audience, AudienceError> {
        self.check_target(request)?;
        let mut members = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut left_out = 0;
        for p in profiles {
            // Count people, not records: duplicates of one person must not
            // make an audience look larger than it is.
            if !seen.insert(p.id()) {
                continue;
            }
            if self.decide(p, request, now).is_allowed() {
                members.push(p.id().clone());
            } else {
                left_out += 1;
            }
        }
        if members.len() < self.min_audience {
            return Err(AudienceError::TooSmall {
                size: members.len(),
                min: self.min_audience,
            });
        }
        Ok(Audience { members, left_out })
    }

    /// Refuses requests that no audience can be built for.
    fn check_target(&self, request: &MessageRequest) -> Result<(), AudienceError> {
        match &request.target {
            Target::Nobody => Err(AudienceError::NoTarget),
            Target::Segment(name) if !self.segments.iter().any(|s| &s.def.name == name) => {
                Err(AudienceError::UnknownSegment(name.clone()))
            }
            _ => Ok(()),
        }
    }

    /// The size of the [`audience`](Self::audience) of `request` at `now`,
    /// released to a consumer with differential privacy: the number of
    /// distinct people (by [`ProfileId`](crate::ProfileId)) that
    /// [`decide`](Self::decide) allows, plus exact noise from `mechanism`,
    /// charged to the consumer's `budget`. The minimum audience is applied
    /// to the noisy value. See [`privacy`] for the
    /// guarantee and its conditions.
    ///
    /// # Errors
    /// [`ReleaseError::Audience`] for an untargeted request or an unknown
    /// segment and [`ReleaseError::Budget`] when the budget does not cover
    /// the release (both before anything is spent);
    /// [`ReleaseError::BelowThreshold`] when the noisy count is below the
    /// minimum audience (budget spent).
    ///
    /// # Example
    /// ```
    /// use rand::SeedableRng;
    /// use tactful::privacy::{Budget, Delta, Epsilon, Mechanism, ReleaseError};
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let taxonomy = Taxonomy::builder().interest("baby/food").build()?;
    /// let engine = Engine::new(taxonomy, DecayPolicy::default())
    ///     .with_segments(vec![SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0))])?;
    /// let profiles: Vec<Profile> = Vec::new(); // nobody
    /// let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
    ///     .about(Target::Segment("young-parents".into()));
    /// let mut budget = Budget::new("partner-a", Epsilon::new(1.0)?, Delta::ZERO);
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1); // production: the OS generator
    /// let now = datetime!(2026-12-01 9:00 UTC);
    /// let mech = Mechanism::laplace(Epsilon::new(0.5)?)?;
    /// let size = engine.private_audience_size(&profiles, &req, now, mech, &mut budget, &mut rng);
    /// // Zero people plus noise stays far below the minimum of 50.
    /// assert_eq!(size, Err(ReleaseError::BelowThreshold { min: 50 }));
    /// assert_eq!(budget.remaining().epsilon, Epsilon::new(0.5)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn private_audience_size<'p, R: rand::CryptoRng + ?Sized>(
        &self,
        profiles: impl IntoIterator<Item = &'p Profile>,
        request: &MessageRequest,
        now: OffsetDateTime,
        mechanism: Mechanism,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<NoisyCount, ReleaseError> {
        self.check_target(request)?;
        let release = self.private_release(mechanism);
        release.check(1, budget)?;
        let exact = privacy::count_people(profiles, std::slice::from_ref(request), |p, r| {
            self.decide(p, r, now).is_allowed()
        });
        release.count(exact.first().copied().unwrap_or(0), budget, rng)
    }

    /// Audience sizes for several requests (segment x channel, or one
    /// interest per cell for a histogram of established interests),
    /// released together with differential privacy as one release. Each
    /// person counts at most once per cell; since one person may be in
    /// every cell, the noise is scaled to `requests.len()` contributions
    /// (L1 sensitivity `k`, L2 `sqrt(k)`): keep the set small. Cells whose
    /// noisy count is below the minimum audience are withheld.
    ///
    /// # Errors
    /// As [`private_audience_size`](Self::private_audience_size), plus
    /// [`ReleaseError::NoCells`] and [`ReleaseError::Parameter`] for more
    /// than 1024 requests; withheld cells are not errors.
    ///
    /// # Examples
    /// ```
    /// use rand::SeedableRng;
    /// use std::num::NonZeroUsize;
    /// use tactful::prelude::*;
    /// use tactful::privacy::{Budget, Delta, Epsilon, Mechanism};
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default())
    /// #     .with_min_audience(NonZeroUsize::new(10).ok_or("zero")?);
    /// # let (food, hiking) = (engine.taxonomy().require("baby/food")?, engine.taxonomy().require("outdoor/hiking")?);
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let person = |id: &str| -> Result<Profile, Box<dyn std::error::Error>> {
    /// #     let mut p = Profile::new(id);
    /// #     p.set_level(Level::FirstParty);
    /// #     p.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// #     for day in 0..3 {
    /// #         let at = t0 + Duration::days(day);
    /// #         engine.record(&mut p, Event::new(food, Signal::View, at), at)?;
    /// #     }
    /// #     Ok(p)
    /// # };
    /// # let now = t0 + Duration::days(3);
    ///
    /// // 40 people interested in baby food (min audience 10), none in hiking.
    /// let people = (0..40).map(|i| person(&format!("p{i}"))).collect::<Result<Vec<_>, _>>()?;
    /// let cells = [food, hiking].map(|i| MessageRequest::new(Channel::InApp, Purpose::Personalization).about(Target::Interest(i)));
    /// let mut budget = Budget::new("dashboard", Epsilon::new(2.0)?, Delta::ZERO);
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(7); // production: the OS generator
    /// let mech = Mechanism::laplace(Epsilon::new(1.0)?)?;
    ///
    /// let breakdown = engine.private_breakdown(&people, &cells, now, mech, &mut budget, &mut rng)?;
    /// assert_eq!(breakdown.contributions, 2); // noise scaled to two cells per person
    /// assert!(breakdown.cells[0].count.is_some_and(|n| (25..55).contains(&n)));
    /// assert_eq!(breakdown.cells[1].count, None); // below the minimum: withheld
    /// assert_eq!(budget.remaining().epsilon, Epsilon::new(1.0)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn private_breakdown<'p, R: rand::CryptoRng + ?Sized>(
        &self,
        profiles: impl IntoIterator<Item = &'p Profile>,
        requests: &[MessageRequest],
        now: OffsetDateTime,
        mechanism: Mechanism,
        budget: &mut Budget,
        rng: &mut R,
    ) -> Result<Breakdown<MessageRequest>, ReleaseError> {
        if requests.is_empty() {
            return Err(ReleaseError::NoCells);
        }
        for r in requests {
            self.check_target(r)?;
        }
        let k = u32::try_from(requests.len()).unwrap_or(u32::MAX);
        let release = self.private_release(mechanism);
        release.check(k, budget)?;
        let exact = privacy::count_people(profiles, requests, |p, r| {
            self.decide(p, r, now).is_allowed()
        });
        release.breakdown(
            requests.iter().cloned().zip(exact).collect(),
            k,
            budget,
            rng,
        )
    }

    /// A release with this engine's minimum audience.
    fn private_release(&self, mechanism: Mechanism) -> PrivateRelease {
        PrivateRelease::new(
            mechanism,
            u64::try_from(self.min_audience).unwrap_or(u64::MAX),
        )
    }
}
