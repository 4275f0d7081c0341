//! Meta tests: every public type is `Debug + Clone + Send + Sync`, the
//! stored ones are serde types (a profile is stored through its engine, in
//! two forms that name interests by path), and the engine can be shared
//! across threads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::sync::Arc;

use serde::{de::DeserializeOwned, Serialize};
use tactful::audience::Audience;
use tactful::consent::Purposes;
use tactful::explain::{ConsentBasis, EventContribution, InterestEvidence};
use tactful::profile::{
    ErasedScope, OrphanEvent, OrphanPreference, OrphanSuppression, OrphanTombstone, RefusalCounts,
};
use tactful::report::{ConsentLine, InterestLine, PreferenceLine, SourceCount, SuppressionLine};
use tactful::suppression::InvalidWindow;
use tactful::taxonomy::TaxonomyBuilder;
use tactful::*;
use time::OffsetDateTime;

fn assert_traits<T: Debug + Clone + Send + Sync>() {}

fn assert_serde<T: Serialize + DeserializeOwned>() {}

fn assert_send_sync<T: Send + Sync>() {}

fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn every_public_type_is_debug_clone_send_sync() {
    // Differential privacy.
    assert_traits::<tactful::privacy::Budget>();
    assert_traits::<tactful::privacy::Epsilon>();
    assert_traits::<tactful::privacy::Delta>();
    assert_traits::<tactful::privacy::PrivacyLoss>();
    assert_traits::<tactful::privacy::Mechanism>();
    assert_traits::<tactful::privacy::MechanismKind>();
    assert_traits::<tactful::privacy::PrivateRelease>();
    assert_traits::<tactful::privacy::NoisyCount>();
    assert_traits::<tactful::privacy::Breakdown<MessageRequest>>();
    assert_traits::<tactful::privacy::Cell<MessageRequest>>();
    assert_traits::<tactful::privacy::Rational>();
    // Taxonomy.
    assert_traits::<Taxonomy>();
    assert_traits::<TaxonomyBuilder>();
    assert_traits::<InterestId>();
    assert_traits::<Sensitivity>();
    assert_traits::<SpecialCategory>();
    // Events.
    assert_traits::<Event>();
    assert_traits::<Signal>();
    assert_traits::<Source>();
    assert_traits::<Context>();
    assert_traits::<Weight>();
    // Consent.
    assert_traits::<Purpose>();
    assert_traits::<Purposes>();
    assert_traits::<ConsentLedger>();
    assert_traits::<ConsentEntry>();
    assert_traits::<Change>();
    assert_traits::<ConsentState>();
    assert_traits::<Evidence>();
    // Level and suppression.
    assert_traits::<Level>();
    assert_traits::<Suppression>();
    assert_traits::<Scope>();
    assert_traits::<SuppressionReason>();
    assert_traits::<Channel>();
    // Profile.
    assert_traits::<Profile>();
    assert_traits::<ProfileId>();
    assert_traits::<Preference>();
    assert_traits::<PreferenceKind>();
    assert_traits::<Tombstone>();
    assert_traits::<ErasedScope>();
    assert_traits::<RefusalCounts>();
    assert_traits::<RefusalKind>();
    assert_traits::<RefusalReason>();
    assert_traits::<Refusal>();
    assert_traits::<Orphans>();
    assert_traits::<OrphanEvent<'static>>();
    assert_traits::<OrphanPreference>();
    assert_traits::<OrphanSuppression>();
    assert_traits::<OrphanTombstone<'static>>();
    // Decay and scoring.
    assert_traits::<DecayPolicy>();
    assert_traits::<DecayPolicyBuilder>();
    assert_traits::<HalfLife>();
    assert_traits::<SignalWeights>();
    assert_traits::<Scores>();
    assert_traits::<InterestScore>();
    assert_traits::<Establishment>();
    // Segments and explanations.
    assert_traits::<Rule>();
    assert_traits::<SegmentDef>();
    assert_traits::<Membership>();
    assert_traits::<Explanation>();
    assert_traits::<Exclusion>();
    assert_traits::<ExclusionReason>();
    assert_traits::<EventContribution>();
    assert_traits::<InterestEvidence>();
    assert_traits::<ConsentBasis>();
    // Decisions, audiences, reports.
    assert_traits::<MessageRequest>();
    assert_traits::<Target>();
    assert_traits::<Decision>();
    assert_traits::<DenyReason>();
    assert_traits::<Audience>();
    assert_traits::<Report>();
    assert_traits::<ConsentLine>();
    assert_traits::<InterestLine>();
    assert_traits::<PreferenceLine>();
    assert_traits::<SourceCount>();
    assert_traits::<SuppressionLine>();
    // The engine and its limits.
    assert_traits::<Engine>();
    assert_traits::<Merged>();
    assert_traits::<Limits>();
    assert_traits::<Limit>();
    // Errors.
    assert_traits::<Error>();
    assert_traits::<InvalidWeight>();
    assert_traits::<TaxonomyError>();
    assert_traits::<PolicyError>();
    assert_traits::<SegmentError>();
    assert_traits::<SegmentErrors>();
    assert_traits::<AudienceError>();
    assert_traits::<ConsentError>();
    assert_traits::<InvalidWindow>();
    assert_traits::<ProfileError>();
}

#[test]
fn error_types_are_std_errors_usable_across_threads() {
    assert_error::<Error>();
    assert_error::<tactful::privacy::ReleaseError>();
    assert_error::<tactful::privacy::BudgetError>();
    assert_error::<tactful::privacy::ParameterError>();
    assert_error::<tactful::privacy::SamplerError>();
    assert_error::<InvalidWeight>();
    assert_error::<TaxonomyError>();
    assert_error::<PolicyError>();
    assert_error::<SegmentError>();
    assert_error::<SegmentErrors>();
    assert_error::<AudienceError>();
    assert_error::<ConsentError>();
    assert_error::<InvalidWindow>();
    assert_error::<Refusal>();
    assert_error::<RefusalReason>();
    assert_error::<ProfileError>();
    // Every error converts into the umbrella error, so `?` works.
    fn into_error<E: Into<Error>>() {}
    into_error::<InvalidWeight>();
    into_error::<TaxonomyError>();
    into_error::<PolicyError>();
    into_error::<SegmentErrors>();
    into_error::<AudienceError>();
    into_error::<ConsentError>();
    into_error::<InvalidWindow>();
    into_error::<Refusal>();
}

#[test]
fn stored_types_are_serde() {
    // Differential privacy: budgets are stored, releases are sent.
    assert_serde::<tactful::privacy::Budget>();
    assert_serde::<tactful::privacy::Epsilon>();
    assert_serde::<tactful::privacy::Delta>();
    assert_serde::<tactful::privacy::PrivacyLoss>();
    assert_serde::<tactful::privacy::Mechanism>();
    assert_serde::<tactful::privacy::PrivateRelease>();
    assert_serde::<tactful::privacy::NoisyCount>();
    assert_serde::<tactful::privacy::Breakdown<MessageRequest>>();
    assert_serde::<tactful::privacy::Rational>();
    assert_serde::<Taxonomy>();
    assert_serde::<InterestId>();
    assert_serde::<Sensitivity>();
    assert_serde::<SpecialCategory>();
    assert_serde::<Event>();
    assert_serde::<Signal>();
    assert_serde::<Source>();
    assert_serde::<Context>();
    assert_serde::<Weight>();
    assert_serde::<Purpose>();
    assert_serde::<ConsentLedger>();
    assert_serde::<ConsentEntry>();
    assert_serde::<Change>();
    assert_serde::<ConsentState>();
    assert_serde::<Evidence>();
    assert_serde::<Level>();
    assert_serde::<Suppression>();
    assert_serde::<Scope>();
    assert_serde::<SuppressionReason>();
    assert_serde::<Channel>();
    assert_serde::<ProfileId>();
    assert_serde::<Preference>();
    assert_serde::<PreferenceKind>();
    assert_serde::<Tombstone>();
    assert_serde::<ErasedScope>();
    assert_serde::<RefusalCounts>();
    assert_serde::<RefusalKind>();
    assert_serde::<DecayPolicy>();
    assert_serde::<DecayPolicyBuilder>();
    assert_serde::<HalfLife>();
    assert_serde::<SignalWeights>();
    assert_serde::<Scores>();
    assert_serde::<InterestScore>();
    assert_serde::<Establishment>();
    assert_serde::<Rule>();
    assert_serde::<SegmentDef>();
    assert_serde::<Membership>();
    assert_serde::<Explanation>();
    assert_serde::<Exclusion>();
    assert_serde::<ExclusionReason>();
    assert_serde::<MessageRequest>();
    assert_serde::<Target>();
    assert_serde::<Decision>();
    assert_serde::<DenyReason>();
    assert_serde::<Audience>();
    assert_serde::<Report>();
    assert_serde::<Limits>();
    assert_serde::<Limit>();
}

/// A profile is not a serde type (its interests mean something only with a
/// taxonomy): it is stored through the engine, in JSON and in the compact
/// binary form, and read back by any engine. Pin the signatures.
#[test]
fn profiles_are_stored_through_the_engine() {
    let _: fn(&Engine, &Profile) -> Result<String, ProfileError> = Engine::save_json;
    let _: fn(&Engine, &str, OffsetDateTime) -> Result<Profile, ProfileError> =
        Engine::load_profile;
    let _: fn(&Engine, &Profile) -> Result<Vec<u8>, ProfileError> = Engine::save_binary;
    let _: fn(&Engine, &[u8], OffsetDateTime) -> Result<Profile, ProfileError> =
        Engine::load_profile_binary;
    let _: fn(&Engine, &str, &Taxonomy, OffsetDateTime) -> Result<Profile, ProfileError> =
        Engine::load_legacy_profile;
}

#[test]
fn the_engine_can_be_shared_across_threads() {
    assert_send_sync::<Engine>();
    assert_send_sync::<Arc<Engine>>();

    let taxonomy = Taxonomy::builder()
        .interest("outdoor/hiking")
        .build()
        .unwrap();
    let hiking = taxonomy.id("outdoor/hiking").unwrap();
    let engine = Arc::new(Engine::new(taxonomy, DecayPolicy::default()));
    let now = time::macros::datetime!(2026-06-01 12:00 UTC);
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let mut p = Profile::new(format!("t{i}").as_str());
                p.set_level(Level::FirstParty);
                p.consent_mut()
                    .grant(
                        Purpose::Personalization,
                        now,
                        None,
                        Evidence::Ui("t".into()),
                    )
                    .unwrap();
                engine
                    .record(&mut p, Event::new(hiking, Signal::View, now), now)
                    .unwrap();
                engine.scores(&p, now).score(hiking)
            })
        })
        .collect();
    for h in handles {
        assert!((h.join().unwrap() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn the_profile_round_trips_through_both_stored_forms() {
    let taxonomy = Taxonomy::builder().interest("baby/food").build().unwrap();
    let food = taxonomy.id("baby/food").unwrap();
    let baby = taxonomy.id("baby").unwrap();
    let engine = Engine::new(taxonomy.clone(), DecayPolicy::default());
    let t = time::macros::datetime!(2026-03-01 10:00 UTC);
    let mut p = Profile::new("export");
    p.set_level(Level::Full);
    p.consent_mut()
        .grant(
            Purpose::Personalization,
            t,
            Some(t + time::Duration::days(365)),
            Evidence::ConsentString("CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA".into()),
        )
        .unwrap();
    p.like(food, t);
    engine
        .record(
            &mut p,
            Event::new(food, Signal::Purchase, t).with_gift(true),
            t,
        )
        .unwrap();
    engine.suppress(
        &mut p,
        Suppression::new(
            Scope::Interest(baby),
            SuppressionReason::Bereavement,
            t + time::Duration::days(1),
        ),
        t + time::Duration::days(1),
    );
    let now = t + time::Duration::days(2);
    let json = engine.save_json(&p).unwrap();
    assert_eq!(engine.load_profile(&json, now).unwrap(), p);
    let bytes = engine.save_binary(&p).unwrap();
    assert_eq!(engine.load_profile_binary(&bytes, now).unwrap(), p);
    // What was read back is written alike (the binary form also carries
    // the aggregates, prepared at load: compare what it holds).
    let back = engine.load_profile(&json, now).unwrap();
    assert_eq!(engine.save_json(&back).unwrap(), json);
    let back = engine.load_profile_binary(&bytes, now).unwrap();
    let again = engine.save_binary(&back).unwrap();
    assert_eq!(engine.load_profile_binary(&again, now).unwrap(), p);

    // The taxonomy is config too and round-trips.
    let tjson = serde_json::to_string(&taxonomy).unwrap();
    let tback: Taxonomy = serde_json::from_str(&tjson).unwrap();
    assert_eq!(tback, taxonomy);
    // So does the policy.
    let pjson = serde_json::to_string(&DecayPolicy::default()).unwrap();
    assert_eq!(
        DecayPolicy::from_json(&pjson).unwrap(),
        DecayPolicy::default()
    );
}
