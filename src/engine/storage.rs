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
    /// engine.suppress(&mut anna, Suppression::new(Scope::Interest(baby), Reason::Bereavement, now), now);
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
