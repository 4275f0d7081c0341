//! The checks behind the fuzz targets, shared by the fuzz crate
//! (`fuzz/fuzz_targets/*.rs`) and by `tests/fuzz_corpus.rs`, which replays
//! the checked-in corpora and crash artifacts on stable in `cargo test`.
//!
//! Each `check_*` function takes the raw fuzz input and panics (through an
//! assertion) only when the library breaks one of its promises: a panic in
//! library code, a round trip that loses data, an invariant of the scores,
//! or a stored form the engine wrote and cannot read back. Any other typed
//! error from the library is never a failure.
//!
//! This file is included with `#[path]` and must only depend on `tactful`,
//! `serde_json` and `time`, which both crates have.

use std::fmt::Write as _;
use std::sync::OnceLock;

use tactful::config::EngineConfig;
use tactful::*;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The instant the fixed scenarios start at: 2026-11-01 09:00 UTC.
fn base_instant() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_523_600).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The taxonomy of the fixed engine.
const PATHS: [&str; 6] = [
    "baby/food",
    "baby/toys",
    "outdoor/hiking",
    "outdoor/climbing",
    "news",
    "health/pregnancy",
];

/// A small fixed engine: two trees, a sensitive interest and segments that
/// use every kind of rule.
pub(crate) fn fixed_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut b = Taxonomy::builder();
        for p in &PATHS[..5] {
            b = b.interest(p);
        }
        let taxonomy = b
            .sensitive(PATHS[5], SpecialCategory::PregnancyAndParenthood)
            .half_life("news", Duration::days(1))
            .max_age("outdoor/climbing", Duration::days(60))
            .build()
            .expect("fixed taxonomy");
        let segments = vec![
            SegmentDef::new("young-parents", Rule::interest_at_least("baby", 2.0)),
            SegmentDef::new(
                "hikers",
                Rule::all([
                    Rule::interest("outdoor/hiking"),
                    Rule::negate(Rule::Dislikes("outdoor".into())),
                ]),
            ),
            SegmentDef::new(
                "outdoor-or-news",
                Rule::any([
                    Rule::interest("outdoor"),
                    Rule::Likes("news".into()),
                    Rule::all([
                        Rule::LevelAtLeast(Level::Full),
                        Rule::interest_at_least("news", 0.5),
                    ]),
                ]),
            ),
            SegmentDef::new("expecting", Rule::interest("health/pregnancy")),
        ];
        Engine::new(taxonomy, DecayPolicy::default())
            .with_segments(segments)
            .expect("fixed segments")
    })
}

fn interest_id(n: u32) -> InterestId {
    serde_json::from_str(&n.to_string()).expect("an interest id is a number")
}

/// Every id of the fixed taxonomy, then ids it does not know.
fn interest_ids() -> &'static [InterestId] {
    static IDS: OnceLock<Vec<InterestId>> = OnceLock::new();
    IDS.get_or_init(|| {
        let engine = fixed_engine();
        let n = u32::try_from(engine.taxonomy().len()).unwrap_or(u32::MAX);
        let mut ids: Vec<InterestId> = engine.taxonomy().iter().map(|(i, _)| i).collect();
        ids.extend([n, n + 1, 1_000, u32::MAX].map(interest_id));
        ids
    })
}

// ---------------------------------------------------------------------------
// Invariants shared by the targets
// ---------------------------------------------------------------------------

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Scores are finite and non-negative, and the incremental path agrees with
/// the plain pass over the events.
fn check_scores(engine: &Engine, profile: &Profile, now: OffsetDateTime, finite: bool) {
    let fast = engine.scores(profile, now);
    let scan = engine.scores_by_scan(profile, now);
    for (id, path) in engine.taxonomy().iter() {
        let (Some(f), Some(s)) = (fast.get(id), scan.get(id)) else {
            panic!("no score for {path} ({id}) at {now}");
        };
        if finite {
            assert!(
                f.score.is_finite() && f.score >= 0.0,
                "score of {path} at {now} is {}",
                f.score
            );
        }
        assert!(
            close(f.score, s.score),
            "score of {path} at {now}: incremental {} != scan {}",
            f.score,
            s.score
        );
        assert_eq!(
            (f.events, f.days, f.established),
            (s.events, s.days, s.established),
            "evidence of {path} at {now}: incremental != scan"
        );
    }
}

/// Whether a profile names an interest `engine`'s taxonomy does not have
/// (`Profile::like` and suppressions take any `InterestId`).
fn holds_foreign_interest(engine: &Engine, p: &Profile) -> bool {
    let tax = engine.taxonomy();
    p.preferences().iter().any(|x| !tax.contains(x.interest))
        || p.suppressions()
            .iter()
            .any(|s| matches!(s.scope(), Scope::Interest(i) if !tax.contains(i)))
        || p.tombstones().iter().any(
            |t| matches!(t.scope, tactful::profile::ErasedScope::Interest(i) if !tax.contains(i)),
        )
}

/// Which stored form [`check_round_trip`] hands back.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Json,
    Binary,
}

/// Whether [`check_round_trip`] also compares the reads of what it read
/// back with those of the profile written (the slow part).
#[derive(Clone, Copy, PartialEq)]
enum Reads {
    Compare,
    Skip,
}

/// Every profile the engine writes, it reads back: both stored forms save,
/// load at `now` into an equal profile that saves to the same JSON text
/// (and to bytes that load alike) again, and (with [`Reads::Compare`])
/// answers reads as the written one. Returns the profile read back from
/// `form`.
fn check_round_trip(
    engine: &Engine,
    profile: &Profile,
    now: OffsetDateTime,
    form: Form,
    reads: Reads,
) -> Profile {
    // A handle the taxonomy lacks (`Profile::like` and suppressions take any
    // `InterestId`) cannot be named by path: saving refuses it, typed.
    if holds_foreign_interest(engine, profile) {
        for refused in [
            engine.save_json(profile).err(),
            engine.save_binary(profile).err(),
        ] {
            assert!(
                matches!(refused, Some(ProfileError::UnknownInterest { .. })),
                "a foreign handle was saved: {refused:?}"
            );
        }
        return profile.clone();
    }
    let json = match engine.save_json(profile) {
        Ok(json) => json,
        Err(e) => panic!("profile does not save as JSON: {e}\n{profile:?}"),
    };
    let from_json = match engine.load_profile(&json, now) {
        Ok(p) => p,
        Err(e) => panic!("saved JSON does not load at {now}: {e}\n{json}"),
    };
    assert_eq!(&from_json, profile, "JSON round trip differs:\n{json}");
    let again = engine
        .save_json(&from_json)
        .expect("read-back profile saves");
    assert_eq!(again, json, "JSON form is not stable");

    let bytes = match engine.save_binary(profile) {
        Ok(bytes) => bytes,
        Err(e) => panic!("profile does not save as binary: {e}\n{profile:?}"),
    };
    let from_binary = match engine.load_profile_binary(&bytes, now) {
        Ok(p) => p,
        Err(e) => panic!("saved binary does not load at {now}: {e}\n{json}\n{bytes:?}"),
    };
    assert_eq!(&from_binary, profile, "binary round trip differs:\n{json}");
    // The bytes also carry the aggregates, prepared when loaded: what they
    // hold is stable, not the bytes.
    let again = engine
        .save_binary(&from_binary)
        .expect("read-back profile saves");
    match engine.load_profile_binary(&again, now) {
        Ok(p) => assert!(p == from_binary, "binary form is not stable:\n{json}"),
        Err(e) => panic!("re-saved binary does not load at {now}: {e}\n{json}"),
    }

    if reads == Reads::Compare {
        for back in [&from_json, &from_binary] {
            check_same_reads(engine, profile, back, now);
        }
    }
    match form {
        Form::Json => from_json,
        Form::Binary => from_binary,
    }
}

/// A profile read back answers as the one written: scores up to rounding
/// (the loaders prepare the aggregates at `now`), evidence, segments and
/// decisions exactly.
fn check_same_reads(engine: &Engine, written: &Profile, back: &Profile, now: OffsetDateTime) {
    let (a, b) = (engine.scores(written, now), engine.scores(back, now));
    for (id, path) in engine.taxonomy().iter() {
        let (Some(x), Some(y)) = (a.get(id), b.get(id)) else {
            panic!("no score for {path} at {now}");
        };
        assert!(
            close(x.score, y.score),
            "score of {path} at {now}: written {} read back {}",
            x.score,
            y.score
        );
        assert_eq!(
            (x.events, x.days, x.established),
            (y.events, y.days, y.established),
            "evidence of {path} at {now}: written != read back"
        );
    }
    assert_eq!(
        engine.segment_names(written, now),
        engine.segment_names(back, now),
        "segments at {now}: written != read back"
    );
    for req in requests() {
        assert_eq!(
            engine.decide(written, req, now).reasons(),
            engine.decide(back, req, now).reasons(),
            "{req:?} at {now}: written != read back"
        );
    }
}

/// The fixed engine's taxonomy without the `baby` subtree: what a later
/// configuration that removed an interest loads stored profiles with.
fn engine_without_baby() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut b = Taxonomy::builder();
        for p in PATHS[2..5].iter() {
            b = b.interest(p);
        }
        let taxonomy = b
            .sensitive(PATHS[5], SpecialCategory::PregnancyAndParenthood)
            .half_life("news", Duration::days(1))
            .build()
            .expect("smaller taxonomy");
        Engine::new(taxonomy, DecayPolicy::default())
    })
}

/// Data a smaller taxonomy lacks is kept as orphans and given back: a
/// stored profile loaded by [`engine_without_baby`], written again by it and
/// loaded by the fixed engine is what the fixed engine reads directly.
fn check_orphans_given_back(
    full: &Profile,
    load_small: impl Fn(&Engine) -> Result<Profile, ProfileError>,
    now: OffsetDateTime,
) {
    let (engine, small) = (fixed_engine(), engine_without_baby());
    let Ok(orphaned) = load_small(small) else {
        // The smaller engine sees no more than the full one: it can only
        // refuse what the full one refuses, or a limit of interests (none
        // here). A refusal here would be a bug.
        panic!("the fixed engine loads a profile the smaller one refuses");
    };
    let back = small.save_json(&orphaned).expect("orphaned profile saves");
    let again = match engine.load_profile(&back, now) {
        Ok(p) => p,
        Err(e) => panic!("JSON written with orphans does not load: {e}\n{back}"),
    };
    assert!(&again == full, "orphans not given back:\n{back}");
    let bytes = small
        .save_binary(&orphaned)
        .expect("orphaned profile saves");
    match engine.load_profile_binary(&bytes, now) {
        Ok(p) => assert!(
            p == again,
            "binary with orphans differs from JSON with orphans"
        ),
        Err(e) => panic!("binary written with orphans does not load: {e}\n{back}"),
    }
}

/// Every read of a profile at `now`: none may panic.
fn read_everything(engine: &Engine, profile: &Profile, now: OffsetDateTime, sink: &mut String) {
    let scores = engine.scores(profile, now);
    for (_, s) in scores.iter() {
        let _ = write!(sink, "{}", s.score);
    }
    let segments = engine.segments(profile, now);
    let names = engine.segment_names(profile, now);
    let members: Vec<&str> = segments.iter().map(|m| m.segment.as_str()).collect();
    assert_eq!(
        members, names,
        "segments and segment_names disagree at {now}"
    );
    for id in interest_ids() {
        let _ = engine.explain(profile, *id, now);
    }
    let report = engine.report(profile, now);
    let _ = write!(sink, "{report}");
    let _ = serde_json::to_string(&report);
    for req in requests() {
        let d = engine.decide(profile, req, now);
        let _ = write!(sink, "{d:?}");
        for r in d.reasons() {
            let _ = write!(sink, "{r}");
        }
    }
}

fn requests() -> &'static [MessageRequest] {
    static REQUESTS: OnceLock<Vec<MessageRequest>> = OnceLock::new();
    REQUESTS.get_or_init(|| {
        let ids = interest_ids();
        vec![
            MessageRequest::new(Channel::Email, Purpose::Service),
            MessageRequest::new(Channel::Post, Purpose::Marketing)
                .about(Target::Segment("young-parents".into())),
            MessageRequest::new(Channel::Ads, Purpose::Personalization)
                .about(Target::Segment("hikers".into())),
            MessageRequest::new(Channel::Push, Purpose::Marketing)
                .about(Target::Segment("no-such-segment".into())),
            MessageRequest::new(Channel::InApp, Purpose::Personalization)
                .about(Target::Interest(ids[0])),
            MessageRequest::new(Channel::Sms, Purpose::Marketing)
                .about(Target::Interest(ids[ids.len() - 1])),
        ]
    })
}

// ---------------------------------------------------------------------------
// tcf_decode
// ---------------------------------------------------------------------------

/// `TcString::decode` on arbitrary text never panics; whatever decodes
/// encodes, and the encoding decodes to the same model.
#[cfg(feature = "tcf")]
pub(crate) fn check_tcf_decode(data: &[u8]) {
    use tactful::consent::tcf::{Subject, TcString};
    let text = String::from_utf8_lossy(data);
    let Ok(tc) = TcString::decode(&text) else {
        return;
    };
    let encoded = match tc.encode() {
        Ok(s) => s,
        Err(e) => panic!("decoded model does not encode: {e}\ninput: {text:?}\n{tc:?}"),
    };
    match TcString::decode(&encoded) {
        Ok(back) => assert_eq!(
            back, tc,
            "decode(encode(tc)) != tc for {text:?} -> {encoded:?}"
        ),
        Err(e) => panic!("encoding {encoded:?} of {text:?} does not decode: {e}"),
    }
    let vendor = data.first().map_or(1, |b| u16::from(*b) + 1);
    let mut ledger = ConsentLedger::default();
    for subject in [
        Subject::Publisher,
        Subject::Vendor(vendor),
        Subject::Vendor(0),
    ] {
        let _ = tc.purposes_for(subject);
        let _ = ledger.apply_tcf(&tc, &text, subject, base_instant());
    }
}

// ---------------------------------------------------------------------------
// profile_json
// ---------------------------------------------------------------------------

/// `Engine::load_profile` never panics on any input. A profile it loads
/// round-trips through both stored forms, is given back whole by a smaller
/// taxonomy that orphans part of it, and can be scored, segmented,
/// explained and reported by the fixed engine without a panic. A 0.1
/// profile (`ProfileError::Legacy`) goes through `load_legacy_profile` with
/// the fixed taxonomy instead.
pub(crate) fn check_profile_json(data: &[u8]) {
    let engine = fixed_engine();
    let text = String::from_utf8_lossy(data);
    let now = base_instant();
    let profile = match engine.load_profile(&text, now) {
        Ok(p) => {
            check_orphans_given_back(&p, |small| small.load_profile(&text, now), now);
            p
        }
        Err(ProfileError::Legacy) => {
            match engine.load_legacy_profile(&text, engine.taxonomy(), now) {
                Ok(p) => p,
                Err(_) => return,
            }
        }
        Err(_) => return,
    };
    check_loaded(engine, profile, now);
}

/// `Engine::load_profile_binary` never panics on any input, as it is or
/// with its checksum made right (so that mutations reach the decoder). A
/// profile it loads is checked as in [`check_profile_json`].
pub(crate) fn check_profile_binary(data: &[u8]) {
    let engine = fixed_engine();
    let now = base_instant();
    let mut fixed = data.to_vec();
    if let Some(body) = data.len().checked_sub(4) {
        let crc = crc32(&data[..body]).to_le_bytes();
        fixed[body..].copy_from_slice(&crc);
    }
    for (input, crc_made_right) in [(data, false), (&fixed[..], true)] {
        if crc_made_right && input == data {
            continue;
        }
        if let Ok(profile) = engine.load_profile_binary(input, now) {
            check_orphans_given_back(&profile, |small| small.load_profile_binary(input, now), now);
            check_loaded(engine, profile, now);
        }
    }
}

/// CRC-32 (IEEE), as the binary form's trailer: bit by bit, small and slow.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What every loaded profile must allow: scores that agree with the plain
/// pass as loaded, both round trips, then every read at a few instants,
/// prepared or not.
fn check_loaded(engine: &Engine, profile: Profile, now: OffsetDateTime) {
    // As loaded (the binary form's stored aggregates may have been adopted),
    // the incremental path agrees with the plain pass.
    check_scores(engine, &profile, now, false);
    let profile = check_round_trip(engine, &profile, now, Form::Json, Reads::Compare);
    let profile = check_round_trip(engine, &profile, now, Form::Binary, Reads::Compare);
    let mut sink = String::new();
    let mut nows = vec![base_instant()];
    if let Some(last) = profile.events().last() {
        nows.push(last.at());
        nows.extend(last.at().checked_add(Duration::days(1)));
    }
    for now in nows {
        read_everything(engine, &profile, now, &mut sink);
        // Prepared aggregates must agree with the plain pass.
        let mut prepared = profile.clone();
        engine.prepare(&mut prepared, now);
        check_scores(engine, &prepared, now, false);
        read_everything(engine, &prepared, now, &mut sink);
    }
}

// ---------------------------------------------------------------------------
// config_json
// ---------------------------------------------------------------------------

/// The JSON loaders never panic; a loaded configuration round-trips, and
/// the engine it builds scores a busy profile without a panic.
pub(crate) fn check_config_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = EngineConfig::from_json(&text) {
        check_taxonomy(&config.taxonomy, text.len());
        let json = serde_json::to_string(&config).expect("a loaded configuration serializes");
        match EngineConfig::from_json(&json) {
            Ok(back) => assert_eq!(back, config, "configuration round trip differs:\n{json}"),
            Err(e) => panic!("serialized configuration does not load: {e}\n{json}"),
        }
        if let Ok(engine) = config.into_engine() {
            exercise_engine(&engine);
        }
    }
    if let Ok(taxonomy) = Taxonomy::from_json(&text) {
        check_taxonomy(&taxonomy, text.len());
    }
    if let Ok(policy) = DecayPolicy::from_json(&text) {
        let json = serde_json::to_string(&policy).expect("a loaded policy serializes");
        match DecayPolicy::from_json(&json) {
            Ok(back) => assert_eq!(back, policy, "policy round trip differs:\n{json}"),
            Err(e) => panic!("serialized policy does not load: {e}\n{json}"),
        }
    }
    if let Ok(engine) = fixed_engine().clone().with_segments_json(&text) {
        exercise_engine(&engine);
    }
}

/// A loaded taxonomy round-trips with its fingerprint, every path and
/// former name resolves, and its memory is linear in the text it came from.
fn check_taxonomy(taxonomy: &Taxonomy, text_len: usize) {
    let json = serde_json::to_string(taxonomy).expect("a loaded taxonomy serializes");
    let back = Taxonomy::from_json(&json).expect("a serialized taxonomy loads");
    assert_eq!(&back, taxonomy, "taxonomy round trip differs:\n{json}");
    assert_eq!(back.fingerprint(), taxonomy.fingerprint());
    for (id, path) in taxonomy.iter() {
        assert!(path.len() <= tactful::taxonomy::MAX_PATH_LEN, "{path}");
        assert!(
            path.split('/').count() <= tactful::taxonomy::MAX_DEPTH,
            "{path}"
        );
        assert_eq!(taxonomy.id(path), Some(id), "{path}");
        assert_eq!(taxonomy.resolve(path), Some(id), "{path}");
    }
    for (old, id) in taxonomy.renames() {
        assert_eq!(taxonomy.id(old), None, "former name {old} is current");
        assert_eq!(taxonomy.resolve(old), Some(id), "former name {old}");
    }
    assert!(
        taxonomy.heap_bytes() <= 64 * text_len + 4096,
        "{} bytes for {text_len} bytes of JSON",
        taxonomy.heap_bytes()
    );
}

/// Records a few days of events on (at most 16) interests of `engine`'s
/// taxonomy for a fully consenting profile, then reads everything.
fn exercise_engine(engine: &Engine) {
    let t0 = base_instant();
    let mut p = Profile::new("fuzz");
    p.set_level(Level::Full);
    for purpose in Purpose::ALL {
        let _ = p
            .consent_mut()
            .grant(purpose, t0, None, Evidence::Ui("fuzz".into()));
    }
    let ids: Vec<InterestId> = engine.taxonomy().iter().map(|(i, _)| i).take(16).collect();
    let signals = [
        Signal::View,
        Signal::Search,
        Signal::Click,
        Signal::AddToCart,
        Signal::Purchase,
    ];
    for day in 0..3 {
        for (k, id) in ids.iter().enumerate() {
            let at = t0 + Duration::days(day) + Duration::minutes(k as i64);
            let source = [Source::FirstParty, Source::Declared, Source::Partner][k % 3];
            let e = Event::new(*id, signals[k % signals.len()], at).with_source(source);
            let _ = engine.record(&mut p, e, at);
        }
    }
    if let Some(first) = ids.first() {
        p.like(*first, t0);
    }
    if let Some(last) = ids.get(1) {
        p.dislike(*last, t0 + Duration::days(1));
    }
    let mut sink = String::new();
    for now in [t0 + Duration::days(3), t0 + Duration::days(400)] {
        check_scores(engine, &p, now, false);
        let mut sink2 = String::new();
        read_everything_generic(engine, &p, now, &mut sink2);
        sink.push_str(&sink2);
    }
}

/// [`read_everything`] for an engine whose segments are not the fixed ones.
fn read_everything_generic(engine: &Engine, p: &Profile, now: OffsetDateTime, sink: &mut String) {
    let segments = engine.segments(p, now);
    let names = engine.segment_names(p, now);
    let members: Vec<&str> = segments.iter().map(|m| m.segment.as_str()).collect();
    assert_eq!(
        members, names,
        "segments and segment_names disagree at {now}"
    );
    let report = engine.report(p, now);
    let _ = write!(sink, "{report}");
    for def in engine.segment_defs() {
        let req = MessageRequest::new(Channel::Email, Purpose::Marketing)
            .about(Target::Segment(def.name.clone()));
        let _ = write!(sink, "{:?}", engine.decide(p, &req, now));
    }
    for (id, _) in engine.taxonomy().iter().take(16) {
        let _ = engine.explain(p, id, now);
    }
}

// ---------------------------------------------------------------------------
// profile_ops
// ---------------------------------------------------------------------------

/// Reads the fuzz input as a stream of small numbers; past the end it
/// yields zeros, so every input is a valid operation sequence.
struct Bytes<'a> {
    data: &'a [u8],
}

impl Bytes<'_> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        let mut b = [0; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.u8()) % items.len()]
    }
    fn interest(&mut self) -> InterestId {
        self.pick(interest_ids())
    }

    /// An instant: mostly near `now`, sometimes anywhere `OffsetDateTime`
    /// can hold, at the edges of the nanosecond range the store uses, or
    /// with an unusual offset.
    fn instant(&mut self, now: OffsetDateTime) -> OffsetDateTime {
        let tag = self.u8() % 10;
        let t = match tag {
            0..=3 => {
                let minutes = i64::from(self.u16() as i16) * 15;
                now.checked_add(Duration::minutes(minutes))
            }
            4 => now.checked_sub(Duration::days(i64::from(self.u8()))),
            5 => now.checked_add(Duration::nanoseconds(i64::from(self.u16() as i16))),
            6 => OffsetDateTime::from_unix_timestamp(self.u64() as i64).ok(),
            7 => Some(self.pick(&edges())),
            8 => {
                let secs = i32::from(self.u16() as i16) * 7;
                UtcOffset::from_whole_seconds(secs)
                    .ok()
                    .and_then(|o| now.checked_to_offset(o))
            }
            _ => Some(now),
        };
        t.unwrap_or(now)
    }
}

/// Extreme instants: the ends of `OffsetDateTime`, the ends of the `i64`
/// nanosecond range (1677-09-21 and 2262-04-11), the ends of the TCF
/// timestamp range, the epoch.
fn edges() -> [OffsetDateTime; 8] {
    let ns = |n: i128| {
        OffsetDateTime::from_unix_timestamp_nanos(n).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    [
        PrimitiveDateTime::MIN.assume_utc(),
        PrimitiveDateTime::MAX.assume_utc(),
        ns(i128::from(i64::MIN)),
        ns(i128::from(i64::MAX)),
        ns(i128::from(i64::MIN) - 1),
        ns(i128::from(i64::MAX) + 1),
        OffsetDateTime::UNIX_EPOCH,
        ns(i128::from(i64::MAX) - 86_400_000_000_000),
    ]
}

const PURPOSES: [Purpose; 8] = Purpose::ALL;
const SIGNALS: [Signal; 6] = [
    Signal::View,
    Signal::Search,
    Signal::Click,
    Signal::AddToCart,
    Signal::Purchase,
    Signal::Dismissal,
];
const SOURCES: [Source; 3] = [Source::FirstParty, Source::Declared, Source::Partner];
const CONTEXTS: [Context; 3] = [Context::OnSite, Context::Location, Context::CrossSite];
const LEVELS: [Level; 4] = [Level::Off, Level::Declared, Level::FirstParty, Level::Full];
const CHANNELS: [Channel; 7] = [
    Channel::Email,
    Channel::Sms,
    Channel::Push,
    Channel::Post,
    Channel::Phone,
    Channel::InApp,
    Channel::Ads,
];
const REASONS: [SuppressionReason; 6] = [
    SuppressionReason::Bereavement,
    SuppressionReason::OptOut,
    SuppressionReason::DoNotContact,
    SuppressionReason::Complaint,
    SuppressionReason::Legal,
    SuppressionReason::Other,
];
const SPECIAL_WEIGHTS: [f64; 14] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -1.0,
    -0.0,
    0.0,
    f64::MIN_POSITIVE,
    5e-324,
    0.5,
    2.5,
    1e9,
    1e9 + 1.0,
    1e300,
    -f64::NAN,
];

/// The number of operations [`check_profile_ops`] decodes.
pub(crate) const OPS: u8 = 20;

/// Applies the operations the input encodes (one byte picks each, its
/// arguments follow) to a profile on the fixed engine, checking after each
/// step that scores are finite, non-negative and agree with the plain pass,
/// and that the profile round-trips through both stored forms at the
/// current instant (which may lie anywhere `OffsetDateTime` can).
pub(crate) fn check_profile_ops(data: &[u8]) {
    let engine = fixed_engine();
    let mut r = Bytes { data };
    let mut now = base_instant();
    let mut p = Profile::new("ops");
    let mut snapshot: Option<Profile> = None;
    let mut sink = String::new();
    let mut steps = 0;
    while !r.is_empty() && steps < 64 {
        steps += 1;
        match r.u8() % OPS {
            0 | 1 => {
                let interest = r.interest();
                let signal = r.pick(&SIGNALS);
                let at = r.instant(now);
                let mut e = Event::new(interest, signal, at)
                    .with_source(r.pick(&SOURCES))
                    .with_context(r.pick(&CONTEXTS))
                    .with_gift(r.u8().is_multiple_of(4));
                let weight = match r.u8() % 4 {
                    0 => None,
                    1 => Some(r.pick(&SPECIAL_WEIGHTS)),
                    2 => Some(f64::from_bits(r.u64())),
                    _ => Some(f64::from(r.u8()) / 10.0),
                };
                if let Some(w) = weight {
                    let valid = w.is_finite() && (0.0..=Weight::MAX).contains(&w);
                    match e.with_weight(w) {
                        Ok(weighted) => {
                            assert!(valid, "weight {w} accepted");
                            e = weighted;
                        }
                        Err(_) => {
                            assert!(!valid, "weight {w} refused");
                            continue;
                        }
                    }
                }
                if let Err(refusal) = engine.record(&mut p, e, now) {
                    let _ = write!(sink, "{refusal:?}");
                }
            }
            2 => {
                let purpose = r.pick(&PURPOSES);
                let at = r.instant(now);
                let expires = r.bool().then(|| r.instant(now));
                let result = p
                    .consent_mut()
                    .grant(purpose, at, expires, Evidence::Ui("ops".into()))
                    .map(|_| ());
                let expected_ok = purpose != Purpose::Service && expires.is_none_or(|x| x >= at);
                assert_eq!(
                    result.is_ok(),
                    expected_ok,
                    "grant {purpose} {at} {expires:?}"
                );
            }
            3 => {
                let purpose = r.pick(&PURPOSES);
                let at = r.instant(now);
                let result = p
                    .consent_mut()
                    .withdraw(purpose, at, Evidence::GlobalPrivacyControl)
                    .map(|_| ());
                assert_eq!(result.is_ok(), purpose != Purpose::Service);
            }
            4 => {
                let at = r.instant(now);
                let _ = p.consent_mut().apply_gpc(at);
            }
            5 => {
                let scope = match r.u8() % 4 {
                    0 => Scope::All,
                    1 => Scope::Channel(r.pick(&CHANNELS)),
                    2 => Scope::Purpose(r.pick(&PURPOSES)),
                    _ => Scope::Interest(r.interest()),
                };
                let since = r.instant(now);
                let mut s = Suppression::new(scope, r.pick(&REASONS), since);
                if r.bool() {
                    let until = r.instant(now);
                    match s.until(until) {
                        Ok(bounded) => {
                            assert!(until > since);
                            s = bounded;
                        }
                        Err(_) => assert!(until <= since),
                    }
                }
                let _ = engine.suppress(&mut p, s, now);
            }
            6 => {
                let (i, at) = (r.interest(), r.instant(now));
                p.like(i, at);
            }
            7 => {
                let (i, at) = (r.interest(), r.instant(now));
                p.dislike(i, at);
            }
            8 => {
                let (i, at) = (r.interest(), r.instant(now));
                let _ = p.clear_preference(i, at);
            }
            9 => p.set_level(r.pick(&LEVELS)),
            10 => {
                let _ = engine.compact(&mut p, now);
            }
            11 => {
                let _ = engine.erase_interest(&mut p, r.interest(), now);
            }
            12 => {
                if r.u8().is_multiple_of(4) {
                    engine.erase_profile(&mut p, now);
                }
            }
            13 => snapshot = Some(p.clone()),
            14 => {
                if let Some(other) = &snapshot {
                    if r.bool() {
                        engine.merge(&mut p, other);
                    } else {
                        let mut joined = other.clone();
                        engine.merge(&mut joined, &p);
                        p = joined;
                    }
                }
            }
            15 => {
                let hours = i64::from(r.u16());
                now = now.checked_add(Duration::hours(hours)).unwrap_or(now);
            }
            16 => now = r.instant(now),
            17 => {
                let at = r.instant(now);
                check_scores(engine, &p, at, true);
                read_everything(engine, &p, at, &mut sink);
            }
            18 => {
                let form = if r.bool() { Form::Json } else { Form::Binary };
                p = check_round_trip(engine, &p, now, form, Reads::Compare);
            }
            _ => {
                let at = r.instant(now);
                engine.prepare(&mut p, at);
            }
        }
        check_scores(engine, &p, now, true);
        let _ = check_round_trip(engine, &p, now, Form::Json, Reads::Skip);
    }
    // After the operations: both round trips, and the reads of what was
    // read back agree with the profile's.
    let _ = check_round_trip(engine, &p, now, Form::Json, Reads::Compare);
    read_everything(engine, &p, now, &mut sink);
}
