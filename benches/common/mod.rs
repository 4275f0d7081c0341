//! The bench profile shared by the benchmarks: 1,000 events over 50 days
//! and 40 leaf interests (2% gifts), every consent granted, 50 segments.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use tactful::{
    DecayPolicy, Engine, Event, Evidence, InterestId, Level, Profile, Purpose, Rule, SegmentDef,
    Signal, Taxonomy,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

pub const TOP_LEVEL: usize = 10;
pub const CHILDREN: usize = 4;
pub const EVENTS: usize = 1_000;
pub const DAYS: i64 = 50;
pub const SEGMENTS: usize = 50;

/// Deterministic xorshift so every run benches the same profile.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub struct Fixture {
    pub engine: Engine,
    pub profile: Profile,
    /// The profile's events, extracted once for the baselines.
    pub stored: Vec<Event>,
    pub leaves: Vec<InterestId>,
    pub defs: Vec<SegmentDef>,
    pub now: OffsetDateTime,
}

pub fn top(t: usize) -> String {
    format!("topic{t:02}")
}

pub fn leaf(t: usize, c: usize) -> String {
    format!("topic{t:02}/sub{c}")
}

/// 50 segments: single interests at two levels of the tree, conjunctions,
/// disjunctions and exclusions, with thresholds around the typical scores so
/// that some match and some do not.
pub fn segment_defs() -> Vec<SegmentDef> {
    (0..SEGMENTS)
        .map(|k| {
            let t = k % TOP_LEVEL;
            let u = (k * 3 + 1) % TOP_LEVEL;
            let c = k % CHILDREN;
            let rule = match k % 5 {
                0 => Rule::interest_at_least(&top(t), 40.0 + (k % 4) as f64 * 20.0),
                1 => Rule::interest_at_least(&leaf(t, c), 10.0 + (k % 3) as f64 * 8.0),
                2 => Rule::all([
                    Rule::interest_at_least(&leaf(t, c), 10.0),
                    Rule::interest_at_least(&top(u), 50.0),
                ]),
                3 => Rule::any([
                    Rule::interest_at_least(&leaf(t, c), 30.0),
                    Rule::interest_at_least(&leaf(u, (c + 1) % CHILDREN), 25.0),
                    Rule::interest_at_least(&top((t + 5) % TOP_LEVEL), 90.0),
                ]),
                _ => Rule::all([
                    Rule::interest_at_least(&top(t), 30.0),
                    Rule::negate(Rule::interest_at_least(&leaf(u, c), 20.0)),
                ]),
            };
            SegmentDef::new(&format!("segment-{k:02}"), rule)
        })
        .collect()
}

pub fn fixture() -> Fixture {
    let mut builder = Taxonomy::builder();
    for t in 0..TOP_LEVEL {
        for c in 0..CHILDREN {
            builder = builder.interest(&leaf(t, c));
        }
    }
    let taxonomy = builder.build().unwrap();
    let leaves: Vec<InterestId> = (0..TOP_LEVEL)
        .flat_map(|t| (0..CHILDREN).map(move |c| (t, c)))
        .map(|(t, c)| taxonomy.id(&leaf(t, c)).unwrap())
        .collect();
    let defs = segment_defs();
    let engine = Engine::new(taxonomy, DecayPolicy::default())
        .with_segments(defs.clone())
        .unwrap();

    let start = datetime!(2026-09-01 0:00 UTC);
    let now = start + Duration::days(DAYS);
    let mut profile = Profile::new("bench");
    profile.set_level(Level::FirstParty);
    let ui = Evidence::Ui("bench".into());
    for p in Purpose::ALL.into_iter().filter(|p| p.needs_consent()) {
        profile
            .consent_mut()
            .grant(p, start - Duration::days(1), None, ui.clone())
            .unwrap();
    }

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut instants: Vec<OffsetDateTime> = (0..EVENTS)
        .map(|_| start + Duration::seconds(rng.below(DAYS as u64 * 86_400) as i64))
        .collect();
    instants.sort();
    let signals = [
        Signal::View,
        Signal::View,
        Signal::View,
        Signal::Search,
        Signal::Click,
        Signal::AddToCart,
        Signal::Purchase,
    ];
    for at in instants {
        let interest = leaves[rng.below(leaves.len() as u64) as usize];
        let signal = signals[rng.below(signals.len() as u64) as usize];
        let event = Event::new(interest, signal, at).with_gift(rng.below(50) == 0);
        engine.record(&mut profile, event, at).unwrap();
    }
    assert_eq!(profile.stored_events(), EVENTS);
    Fixture {
        engine,
        stored: profile.events(),
        profile,
        leaves,
        defs,
        now,
    }
}
