//! What a newcomer expects of the public API: `?` converts every error of
//! the crate into `tactful::Error`, ids convert from owned strings, and
//! rule helpers exist for every leaf.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tactful::config::EngineConfig;
use tactful::*;
use time::macros::datetime;

fn load(engine: &Engine, json: &str) -> Result<Profile, Error> {
    Ok(engine.load_profile(json, datetime!(2026-01-01 0:00 UTC))?)
}

fn config(json: &str) -> Result<Engine, Error> {
    Ok(EngineConfig::from_json(json)?.into_engine()?)
}

#[test]
fn every_error_converts_into_the_umbrella_error() {
    let engine = Engine::new(
        Taxonomy::builder().interest("a").build().unwrap(),
        DecayPolicy::default(),
    );
    assert!(matches!(load(&engine, "{"), Err(Error::Profile(_))));
    assert!(matches!(config("{"), Err(Error::Config(_))));
    #[cfg(feature = "tcf")]
    {
        let tcf = || -> Result<(), Error> {
            tactful::consent::tcf::TcString::decode("not a tc string")?;
            Ok(())
        };
        assert!(matches!(tcf(), Err(Error::Tcf(_))));
    }
    // It is an ordinary error: boxing works.
    let boxed: Box<dyn std::error::Error> = Box::new(config("{").unwrap_err());
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn ids_and_rules_are_built_the_obvious_way() {
    let owned = String::from("c-1");
    assert_eq!(ProfileId::from(owned), ProfileId::from("c-1"));
    assert_eq!(Rule::likes("baby"), Rule::Likes("baby".into()));
    assert_eq!(Rule::dislikes("baby"), Rule::Dislikes("baby".into()));
    assert_eq!(Channel::ALL.len(), 7);
}

#[test]
fn a_grant_can_say_how_long_it_lasts() {
    let at = datetime!(2026-01-01 0:00 UTC);
    let ui = || Evidence::Ui("banner".into());
    let mut ledger = ConsentLedger::default();
    for span in [time::Duration::ZERO, time::Duration::days(-1)] {
        assert!(matches!(
            ledger.grant_for(Purpose::Marketing, at, span, ui()),
            Err(ConsentError::ExpiresBeforeGrant { .. })
        ));
    }
    assert!(ledger.is_empty());
    // A span past the year 9999 never ends.
    ledger
        .grant_for(
            Purpose::Marketing,
            at,
            time::Duration::days(3_000_000),
            ui(),
        )
        .unwrap();
    assert!(ledger.is_granted(Purpose::Marketing, datetime!(9999-12-31 0:00 UTC)));
}

/// 0.1's name for the suppression reason still compiles, deprecated.
#[test]
#[allow(deprecated)]
fn the_old_reason_name_is_an_alias() {
    let old: tactful::Reason = tactful::SuppressionReason::OptOut;
    assert_eq!(old, tactful::suppression::SuppressionReason::OptOut);
}
