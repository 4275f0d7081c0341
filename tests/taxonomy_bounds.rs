//! A taxonomy is bounded: paths longer than `MAX_PATH_LEN` bytes or deeper
//! than `MAX_DEPTH` levels are refused with a typed error, from the builder
//! and from JSON, and the largest configuration accepted (4 MiB) builds in
//! memory linear in its size, however it is shaped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tactful::config::{ConfigError, EngineConfig, MAX_CONFIG_BYTES};
use tactful::taxonomy::{MAX_DEPTH, MAX_PATH_LEN};
use tactful::{Taxonomy, TaxonomyError};

/// `{"interests":[{"path":...},...]}`.
fn taxonomy_json(paths: &[String]) -> String {
    let mut json = String::from(r#"{"interests":["#);
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        // The generated paths need no escaping.
        json.push_str(r#"{"path":""#);
        json.push_str(p);
        json.push_str(r#""}"#);
    }
    json.push_str("]}");
    json
}

fn engine_json(paths: &[String]) -> String {
    format!(r#"{{"taxonomy":{}}}"#, taxonomy_json(paths))
}

/// A path of `levels` levels, each segment `seg` long, starting with `head`.
fn path(head: &str, levels: usize, seg: usize) -> String {
    let mut p = String::with_capacity(head.len() + (levels - 1) * (seg + 1));
    p.push_str(head);
    for _ in 1..levels {
        p.push('/');
        p.extend(std::iter::repeat_n('s', seg));
    }
    p
}

fn is_too_deep(r: Result<Taxonomy, TaxonomyError>, levels: usize) -> bool {
    matches!(r, Err(TaxonomyError::TooDeep { depth, max: MAX_DEPTH, .. }) if depth == levels)
}

fn is_too_long(r: Result<Taxonomy, TaxonomyError>, bytes: usize) -> bool {
    matches!(r, Err(TaxonomyError::PathTooLong { len, max: MAX_PATH_LEN, .. }) if len == bytes)
}

#[test]
fn a_path_deeper_than_the_limit_is_refused_by_the_builder_and_json() {
    let deep = path("a", MAX_DEPTH + 1, 1);
    assert!(is_too_deep(
        Taxonomy::builder().interest(&deep).build(),
        MAX_DEPTH + 1
    ));
    assert!(is_too_deep(
        Taxonomy::from_json(&taxonomy_json(std::slice::from_ref(&deep))),
        MAX_DEPTH + 1
    ));
    assert!(matches!(
        EngineConfig::from_json(&engine_json(&[deep])),
        Err(ConfigError::Taxonomy(TaxonomyError::TooDeep { .. }))
    ));
    // Every setter checks its path, and so do former names.
    let deeper = path("b", 200, 1);
    assert!(is_too_deep(
        Taxonomy::builder()
            .half_life(&deeper, time::Duration::days(1))
            .build(),
        200
    ));
    assert!(is_too_deep(
        Taxonomy::builder().renamed_from("a", &deeper).build(),
        200
    ));
    let json = format!(
        r#"{{"interests":[{{"path":"a","renamed_from":[{}]}}]}}"#,
        serde_json::to_string(&deeper).unwrap()
    );
    assert!(is_too_deep(Taxonomy::from_json(&json), 200));
}

#[test]
fn a_path_longer_than_the_limit_is_refused_by_the_builder_and_json() {
    let long = "x".repeat(MAX_PATH_LEN + 1);
    assert!(is_too_long(
        Taxonomy::builder().interest(&long).build(),
        MAX_PATH_LEN + 1
    ));
    assert!(is_too_long(
        Taxonomy::from_json(&taxonomy_json(std::slice::from_ref(&long))),
        MAX_PATH_LEN + 1
    ));
    assert!(matches!(
        EngineConfig::from_json(&engine_json(&[long])),
        Err(ConfigError::Taxonomy(TaxonomyError::PathTooLong { .. }))
    ));
    // One path filling the largest configuration: refused for its length,
    // and the error does not carry the megabytes along.
    let huge = path("a", (MAX_CONFIG_BYTES - 100) / 2, 1);
    let json = taxonomy_json(std::slice::from_ref(&huge));
    assert!(json.len() <= MAX_CONFIG_BYTES);
    let err = Taxonomy::from_json(&json).unwrap_err();
    assert!(matches!(err, TaxonomyError::PathTooLong { len, .. } if len == huge.len()));
    assert!(err.to_string().len() < 200, "{err}");
    assert!(Taxonomy::builder()
        .renamed_from("a", &huge)
        .build()
        .is_err());
}

#[test]
fn a_configuration_at_the_limits_builds() {
    // The deepest and longest path: MAX_DEPTH levels, MAX_PATH_LEN bytes.
    let seg = (MAX_PATH_LEN - (MAX_DEPTH - 1)) / MAX_DEPTH;
    let head_len = MAX_PATH_LEN - (MAX_DEPTH - 1) - seg * (MAX_DEPTH - 1);
    let longest = path(&"h".repeat(head_len), MAX_DEPTH, seg);
    assert_eq!(longest.len(), MAX_PATH_LEN);
    assert_eq!(longest.split('/').count(), MAX_DEPTH);
    let old = path(&"o".repeat(head_len), MAX_DEPTH, seg);

    let built = Taxonomy::builder()
        .interest(&longest)
        .renamed_from(&longest, &old)
        .build()
        .unwrap();
    assert_eq!(built.len(), MAX_DEPTH);
    let leaf = built.id(&longest).unwrap();
    assert_eq!(built.depth(leaf), Some(MAX_DEPTH as u32 - 1));
    assert_eq!(built.resolve(&old), Some(leaf));

    let json = format!(r#"{{"interests":[{{"path":"{longest}","renamed_from":["{old}"]}}]}}"#);
    let read = Taxonomy::from_json(&json).unwrap();
    assert_eq!(read, built);
    let back = Taxonomy::from_json(&serde_json::to_string(&read).unwrap()).unwrap();
    assert_eq!(back, read);
    assert_eq!(back.fingerprint(), built.fingerprint());
}

/// Paths filling a configuration of just under `MAX_CONFIG_BYTES`, each
/// `levels` deep with segments `seg` long and a distinct head, so that no
/// two share an interest: the most interests, or the longest paths, a
/// configuration of that size can ask for.
fn hostile(levels: usize, seg: usize) -> (String, Vec<String>) {
    let mut paths = Vec::new();
    let mut size = r#"{"taxonomy":{"interests":[]}}"#.len();
    loop {
        let p = path(&format!("t{}", paths.len()), levels, seg);
        size += p.len() + r#"{"path":""},"#.len();
        if size > MAX_CONFIG_BYTES {
            break;
        }
        paths.push(p);
    }
    let json = engine_json(&paths);
    assert!(json.len() <= MAX_CONFIG_BYTES);
    (json, paths)
}

#[test]
fn the_largest_hostile_configuration_builds_in_linear_memory() {
    // Before the limits, a 64 KB configuration of one deep path took 3 GB.
    for (levels, seg) in [(MAX_DEPTH, 1), (MAX_DEPTH, 15)] {
        let (json, paths) = hostile(levels, seg);
        let config = EngineConfig::from_json(&json).unwrap();
        let taxonomy = &config.taxonomy;
        assert_eq!(taxonomy.len(), paths.len() * levels);
        // An interest costs at least two bytes of configuration ("a/").
        assert!(taxonomy.len() <= json.len() / 2);
        let bytes = taxonomy.heap_bytes();
        assert!(
            bytes <= 16 * json.len(),
            "{levels} levels of {seg} bytes: {} interests take {bytes} bytes for {} bytes of configuration",
            taxonomy.len(),
            json.len()
        );
        // Every path is there.
        let last = paths.last().unwrap();
        assert_eq!(
            taxonomy.path(taxonomy.require(last).unwrap()),
            Some(&**last)
        );
    }
}

#[test]
fn the_largest_too_deep_configuration_is_refused() {
    let (json, _) = hostile(MAX_DEPTH + 1, 1);
    assert!(matches!(
        EngineConfig::from_json(&json),
        Err(ConfigError::Taxonomy(TaxonomyError::TooDeep { .. }))
    ));
}
