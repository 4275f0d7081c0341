//! Saving and loading profiles: the engine checks sizes and limits and
//! names interests through its taxonomy; the formats live in [`crate::persist`].

use super::*;

impl Engine {
    /// Writes a profile as JSON: readable, versioned, naming interests by
    /// path, with the fingerprint of this engine's taxonomy. For
    /// transparency and export; [`save_binary`](Self::save_binary) is the
    /// compact form for storage. Read it back with
    /// [`load_profile`](Self::load_profile).
    ///
    /// # Errors
    /// [`ProfileError::Encode`] if the JSON writer fails (it does not for
    /// any profile this crate builds).
    ///
    /// # Example
    /// ```
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let engine = Engine::new(Taxonomy::builder().interest("baby/food").build()?, DecayPolicy::default());
    /// let mut anna = Profile::new("anna");
    /// let baby = engine.taxonomy().require("baby")?;
    /// engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), SuppressionReason::Bereavement, now), now);
    ///
    /// let json = engine.save_json(&anna)?;
    /// assert!(json.contains(r#""interest":"baby""#)); // a path, not a position
    ///
    /// // A later config adds interests: the suppression still names `baby`.
    /// let next = Engine::new(
    ///     Taxonomy::builder().interest("apparel/shoes").interest("baby/food").build()?,
    ///     DecayPolicy::default(),
    /// );
    /// let back = next.load_profile(&json, now)?;
    /// assert_eq!(back.suppressions()[0].scope(), Scope::Interest(next.taxonomy().require("baby")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_json(&self, profile: &Profile) -> Result<String, ProfileError> {
        persist::encode_json(&self.taxonomy, profile)
    }

    /// Writes a profile in the compact binary form: versioned, naming
    /// interests by path, with the taxonomy fingerprint and a CRC-32.
    /// About 4 to 6 bytes per stored event. Read it back with
    /// [`load_profile_binary`](Self::load_profile_binary).
    ///
    /// # Errors
    /// [`ProfileError::Encode`] if encoding fails (it does not for any
    /// profile this crate builds).
    ///
    /// # Example
    /// ```
    /// use tactful::*;
    /// use time::macros::datetime;
    ///
    /// let now = datetime!(2026-11-01 9:00 UTC);
    /// let engine = Engine::new(Taxonomy::builder().interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// let hiking = engine.taxonomy().require("outdoor/hiking")?;
    /// let mut p = Profile::new("c-1");
    /// p.set_level(Level::FirstParty);
    /// p.consent_mut().grant(Purpose::Personalization, now, None, Evidence::Ui("banner".into()))?;
    /// engine.record(&mut p, Event::new(hiking, Signal::View, now), now)?;
    ///
    /// let bytes = engine.save_binary(&p)?;
    /// let back = engine.load_profile_binary(&bytes, now)?;
    /// assert_eq!(back, p);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_binary(&self, profile: &Profile) -> Result<Vec<u8>, ProfileError> {
        persist::encode_binary(&self.taxonomy, profile)
    }

    /// Reads a profile written by [`save_json`](Self::save_json), by any
    /// engine whose taxonomy may differ from this one: interests are
    /// resolved by path (and declared renames); data of paths this taxonomy
    /// lacks is kept as [`Profile::orphans`], never re-targeted or dropped.
    /// Limits are checked while reading, before their cost is paid (the size
    /// before parsing, the event count before each event is stored), and
    /// reading costs O(n log n) in the events, in any order. Prepares the
    /// aggregates for reads at `now` or later.
    ///
    /// # Errors
    /// A [`ProfileError`] naming the limit or the field;
    /// [`ProfileError::Legacy`] for a 0.1 profile (see
    /// [`load_legacy_profile`](Self::load_legacy_profile)).
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// use tactful::ProfileError;
    ///
    /// let json = engine.save_json(&anna)?;
    /// assert_eq!(engine.load_profile(&json, now)?, anna);
    ///
    /// // A bad value is reported with its field.
    /// let bad = json.replace(r#""level":"first_party""#, r#""level":"loud""#);
    /// let Err(ProfileError::Syntax { path, .. }) = engine.load_profile(&bad, now) else { panic!() };
    /// assert_eq!(path, "level");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_profile(&self, json: &str, now: OffsetDateTime) -> Result<Profile, ProfileError> {
        self.within_bytes(json.len())?;
        let mut profile = persist::decode_json(&self.taxonomy, &self.limits, json)?;
        self.prepare(&mut profile, now);
        Ok(profile)
    }

    /// Reads a profile written by [`save_binary`](Self::save_binary); as
    /// [`load_profile`](Self::load_profile) otherwise. The checksum is
    /// verified and every count is checked against the limits and the bytes
    /// left before anything is allocated for it. The incremental aggregates
    /// are rebuilt from the events (nothing derived is stored, so scores
    /// always agree with the events, whatever the bytes held).
    ///
    /// # Errors
    /// A [`ProfileError`]: [`ProfileError::Corrupt`] for damaged input.
    ///
    /// # Examples
    /// ```
    /// # use tactful::prelude::*;
    /// # use time::{macros::datetime, Duration};
    /// # let engine = Engine::new(Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?, DecayPolicy::default());
    /// # let food = engine.taxonomy().require("baby/food")?;
    /// # let t0 = datetime!(2026-11-01 9:00 UTC);
    /// # let mut anna = Profile::new("anna");
    /// # anna.set_level(Level::FirstParty);
    /// # anna.consent_mut().grant(Purpose::Personalization, t0, None, Evidence::Ui("signup".into()))?;
    /// # for day in 0..3 { // three views of baby food on three days
    /// #     let at = t0 + Duration::days(day);
    /// #     engine.record(&mut anna, Event::new(food, Signal::View, at), at)?;
    /// # }
    /// # let now = t0 + Duration::days(3);
    /// use tactful::ProfileError;
    ///
    /// let mut bytes = engine.save_binary(&anna)?;
    /// assert_eq!(engine.load_profile_binary(&bytes, now)?, anna);
    ///
    /// // One flipped bit fails the checksum.
    /// bytes[10] ^= 1;
    /// assert!(matches!(engine.load_profile_binary(&bytes, now), Err(ProfileError::Corrupt(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_profile_binary(
        &self,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<Profile, ProfileError> {
        self.within_bytes(bytes.len())?;
        let mut profile = persist::decode_binary(&self.taxonomy, &self.limits, bytes)?;
        self.prepare(&mut profile, now);
        Ok(profile)
    }

    /// Reads a profile written by tactful 0.1 (unversioned JSON naming
    /// interests by position) together with `written_with`, the taxonomy it
    /// was written with: its positions become paths, which are then resolved
    /// against this engine's taxonomy like any stored profile. Never guessed:
    /// without the old taxonomy, a 0.1 profile cannot be read. Save the
    /// result with [`save_json`](Self::save_json) or
    /// [`save_binary`](Self::save_binary) to migrate it.
    ///
    /// # Errors
    /// A [`ProfileError`]; [`ProfileError::UnknownInterest`] for a position
    /// `written_with` does not have.
    ///
    /// # Examples
    /// ```
    /// use tactful::prelude::*;
    /// use tactful::ProfileError;
    /// use time::macros::datetime;
    ///
    /// // 0.1 named interests by position: here 3 is `outdoor/hiking` in the old taxonomy.
    /// let old = Taxonomy::builder().interest("baby/food").interest("outdoor/hiking").build()?;
    /// let legacy = r#"{"id": "anna", "level": "first_party",
    ///     "events": [{"interest": 3, "signal": "view", "at": "2026-03-01T09:00:00Z"}]}"#;
    ///
    /// let engine = Engine::new(
    ///     Taxonomy::builder().interest("apparel/shoes").interest("baby/food").interest("outdoor/hiking").build()?,
    ///     DecayPolicy::default(),
    /// );
    /// let now = datetime!(2026-03-06 0:00 UTC);
    /// assert_eq!(engine.load_profile(legacy, now).unwrap_err(), ProfileError::Legacy);
    /// let anna = engine.load_legacy_profile(legacy, &old, now)?;
    /// assert_eq!(engine.taxonomy().path(anna.events()[0].interest()), Some("outdoor/hiking"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_legacy_profile(
        &self,
        json: &str,
        written_with: &Taxonomy,
        now: OffsetDateTime,
    ) -> Result<Profile, ProfileError> {
        let mut profile =
            persist::decode_legacy_json(&self.taxonomy, written_with, &self.limits, json)?;
        self.prepare(&mut profile, now);
        Ok(profile)
    }

    fn within_bytes(&self, actual: usize) -> Result<(), ProfileError> {
        let max = self.limits.max_profile_bytes;
        if actual > max {
            return Err(ProfileError::TooLarge {
                limit: Limit::ProfileBytes,
                actual,
                max,
            });
        }
        Ok(())
    }
}
