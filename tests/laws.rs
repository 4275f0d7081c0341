//! Property tests: the laws of scoring, consent, suppression, merge, compaction, storage and serde, checked against a naive reference scorer written straight from DESIGN.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tactful::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

// ---------------------------------------------------------------------------
// The world: a small fixed taxonomy (with random overrides) and a random policy
// ---------------------------------------------------------------------------

/// Every instant of a scenario is at most a few days before `BASE` or inside
/// `BASE + 0..WINDOW_DAYS` days.
const BASE: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
const WINDOW_DAYS: i64 = 120;

/// The tree, as (path, parent index). Kept independent of the library's
/// numbering: the reference walks this table, never the library's ranges.
const PATHS: [(&str, Option<usize>); 14] = [
    ("baby", None),                     // 0
    ("baby/food", Some(0)),             // 1
    ("baby/toys", Some(0)),             // 2
    ("health", None),                   // 3: special (health)
    ("health/pregnancy", Some(3)),      // 4
    ("health/fitness", Some(3)),        // 5
    ("news", None),                     // 6: half-life override
    ("news/politics", Some(6)),         // 7: special (politics)
    ("news/sport", Some(6)),            // 8
    ("outdoor", None),                  // 9
    ("outdoor/hiking", Some(9)),        // 10: max-age override
    ("outdoor/hiking/boots", Some(10)), // 11
    ("outdoor/camping", Some(9)),       // 12
    ("books", None),                    // 13
];
const N: usize = PATHS.len();
const SPECIAL: [usize; 2] = [3, 7];
const HL_NODE: usize = 6;
const MA_NODE: usize = 10;

const CHANNELS: [Channel; 7] = [
    Channel::Email,
    Channel::Sms,
    Channel::Push,
    Channel::Post,
    Channel::Phone,
    Channel::InApp,
    Channel::Ads,
];

/// Purposes that can be granted or withdrawn (all but `Service`).
const CONSENT_PURPOSES: [Purpose; 7] = [
    Purpose::Measurement,
    Purpose::Personalization,
    Purpose::Marketing,
    Purpose::Location,
    Purpose::CrossSite,
    Purpose::SensitiveInterests,
    Purpose::PartnerData,
];

fn parent(k: usize) -> Option<usize> {
    PATHS[k].1
}

/// Whether node `k` is `root` or below it.
fn within(k: usize, root: usize) -> bool {
    let mut cur = Some(k);
    while let Some(c) = cur {
        if c == root {
            return true;
        }
        cur = parent(c);
    }
    false
}

fn special(k: usize) -> bool {
    SPECIAL.iter().any(|s| within(k, *s))
}

fn node_of_path(path: &str) -> usize {
    PATHS.iter().position(|(p, _)| *p == path).unwrap()
}

#[derive(Debug, Clone, Copy)]
struct TaxParams {
    /// Half-life override of the `news` subtree, in hours.
    hl_hours: i64,
    /// Max-age override of the `outdoor/hiking` subtree, in days.
    ma_days: i64,
}

#[derive(Debug, Clone, Copy)]
struct PolicyParams {
    half_life_hours: i64,
    max_age_days: i64,
    partner_days: i64,
    min_events: u32,
    min_days: u32,
    cooldown_days: i64,
    allow_sensitive: bool,
    /// View, search, click, add to cart, purchase.
    weights: [f64; 5],
}

impl PolicyParams {
    fn signal_weight(&self, s: Signal) -> f64 {
        match s {
            Signal::View => self.weights[0],
            Signal::Search => self.weights[1],
            Signal::Click => self.weights[2],
            Signal::AddToCart => self.weights[3],
            Signal::Purchase => self.weights[4],
            _ => 0.0,
        }
    }

    fn build(&self) -> DecayPolicy {
        let mut b = DecayPolicy::builder()
            .half_life(Duration::hours(self.half_life_hours))
            .max_age(Duration::days(self.max_age_days))
            .partner_max_age(Duration::days(self.partner_days))
            .min_events(self.min_events)
            .min_days(self.min_days)
            .dismissal_cooldown(Duration::days(self.cooldown_days))
            .allow_sensitive_observation(self.allow_sensitive);
        for (s, w) in [
            Signal::View,
            Signal::Search,
            Signal::Click,
            Signal::AddToCart,
            Signal::Purchase,
        ]
        .into_iter()
        .zip(self.weights)
        {
            b = b.signal_weight(s, w).unwrap();
        }
        b.build().unwrap()
    }
}

/// The segments every engine carries.
fn segment_defs() -> Vec<SegmentDef> {
    vec![
        SegmentDef::new("baby-fans", Rule::interest_at_least("baby", 2.0)),
        SegmentDef::new(
            "food-not-news",
            Rule::all([
                Rule::interest("baby/food"),
                Rule::negate(Rule::Dislikes("news".into())),
            ]),
        ),
        SegmentDef::new(
            "outdoor-or-books",
            Rule::any([
                Rule::interest_at_least("outdoor", 1.0),
                Rule::Likes("books".into()),
            ]),
        ),
        SegmentDef::new("pregnancy-likers", Rule::Likes("health/pregnancy".into())),
        SegmentDef::new("politics", Rule::interest("news/politics")),
        SegmentDef::new(
            "not-books",
            Rule::all([
                Rule::negate(Rule::interest("books")),
                Rule::LevelAtLeast(Level::Declared),
            ]),
        ),
        SegmentDef::new(
            "hikers-and-campers",
            Rule::all([
                Rule::interest_at_least("outdoor/hiking", 0.5),
                Rule::any([
                    Rule::interest("outdoor/camping"),
                    Rule::Likes("outdoor".into()),
                ]),
            ]),
        ),
        SegmentDef::new(
            "health-double-negation",
            Rule::negate(Rule::negate(Rule::interest("health"))),
        ),
        SegmentDef::new("sport", Rule::interest_at_least("news/sport", 0.0)),
    ]
}

struct World {
    tax: TaxParams,
    pol: PolicyParams,
    engine: Engine,
    /// Library handle of each node of `PATHS`.
    ids: Vec<InterestId>,
}

impl World {
    fn new(tax: TaxParams, pol: PolicyParams) -> Self {
        let mut b = Taxonomy::builder();
        for (path, _) in PATHS {
            b = b.interest(path);
        }
        let taxonomy = b
            .sensitive("health", SpecialCategory::Health)
            .sensitive("news/politics", SpecialCategory::Politics)
            .half_life("news", Duration::hours(tax.hl_hours))
            .max_age("outdoor/hiking", Duration::days(tax.ma_days))
            .build()
            .unwrap();
        let ids = PATHS.iter().map(|(p, _)| taxonomy.id(p).unwrap()).collect();
        let engine = Engine::new(taxonomy, pol.build())
            .with_segments(segment_defs())
            .unwrap();
        Self {
            tax,
            pol,
            engine,
            ids,
        }
    }

    fn node(&self, id: InterestId) -> usize {
        self.ids.iter().position(|x| *x == id).unwrap()
    }

    fn half_life(&self, k: usize) -> Duration {
        if within(k, HL_NODE) {
            Duration::hours(self.tax.hl_hours)
        } else {
            Duration::hours(self.pol.half_life_hours)
        }
    }

    fn max_age(&self, k: usize, source: Source) -> Duration {
        let general = if within(k, MA_NODE) {
            Duration::days(self.tax.ma_days)
        } else {
            Duration::days(self.pol.max_age_days)
        };
        if source == Source::Partner {
            general.min(Duration::days(self.pol.partner_days))
        } else {
            general
        }
    }

    fn weight(&self, e: &Event) -> f64 {
        self.pol.signal_weight(e.signal()) * e.weight().get()
    }
}

// ---------------------------------------------------------------------------
// The naive reference scorer, straight from DESIGN.md "Semantics"
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
struct RefScore {
    score: f64,
    established: bool,
}

fn reference(w: &World, p: &Profile, now: OffsetDateTime) -> Vec<RefScore> {
    let ledger = p.consent();
    let granted =
        |purpose: Purpose, t: OffsetDateTime| ledger.state(purpose, t) == ConsentState::Granted;
    let withdrawn_in = |purpose: Purpose, after: OffsetDateTime, upto: OffsetDateTime| {
        ledger.entries().iter().any(|en| {
            en.purpose == purpose && en.change == Change::Withdraw && after < en.at && en.at <= upto
        })
    };
    let active: Vec<Suppression> = p
        .suppressions()
        .iter()
        .copied()
        .filter(|s| s.since() <= now && s.ends().is_none_or(|u| now < u))
        .collect();
    let suppressed_interest = |k: usize| {
        active.iter().any(|s| match s.scope() {
            Scope::All => true,
            Scope::Interest(r) => within(k, w.node(r)),
            _ => false,
        })
    };
    let suppressed_purpose = |purpose: Purpose| {
        active
            .iter()
            .any(|s| matches!(s.scope(), Scope::All) || s.scope() == Scope::Purpose(purpose))
    };
    let disliked = |k: usize| {
        p.preferences().iter().any(|pr| {
            pr.kind == PreferenceKind::Dislike && pr.at <= now && within(k, w.node(pr.interest))
        })
    };
    let cooldown = Duration::days(w.pol.cooldown_days);
    // Dismissals whose cooldown runs at `now`: (node, instant).
    let dismissals: Vec<(usize, OffsetDateTime)> = p
        .events()
        .iter()
        .filter(|e| e.signal() == Signal::Dismissal && e.at() <= now && now < e.at() + cooldown)
        .map(|e| (w.node(e.interest()), e.at()))
        .collect();
    let blocked = |k: usize| {
        suppressed_interest(k) || disliked(k) || dismissals.iter().any(|(d, _)| within(k, *d))
    };

    let usable = |e: &Event| -> bool {
        let k = w.node(e.interest());
        let age = now - e.at();
        if e.is_gift() || e.signal() == Signal::Dismissal {
            return false;
        }
        if age < Duration::ZERO || age > w.max_age(k, e.source()) {
            return false;
        }
        if suppressed_interest(k) || disliked(k) {
            return false;
        }
        if dismissals
            .iter()
            .any(|(d, at)| within(k, *d) && e.at() <= *at)
        {
            return false;
        }
        if !p.level().admits(e.source(), e.context()) {
            return false;
        }
        if special(k) && !w.pol.allow_sensitive {
            return false;
        }
        let mut needed = vec![Purpose::Personalization];
        if e.source() == Source::Partner {
            needed.push(Purpose::PartnerData);
        }
        if e.context() == Context::Location {
            needed.push(Purpose::Location);
        }
        if e.context() == Context::CrossSite {
            needed.push(Purpose::CrossSite);
        }
        if special(k) {
            needed.push(Purpose::SensitiveInterests);
        }
        needed.into_iter().all(|purpose| {
            granted(purpose, e.at())
                && granted(purpose, now)
                && !withdrawn_in(purpose, e.at(), now)
                && !suppressed_purpose(purpose)
        })
    };

    let used: Vec<Event> = p.events().into_iter().filter(|e| usable(e)).collect();
    (0..N)
        .map(|i| {
            let mut score = 0.0;
            let mut count = 0u32;
            let mut days = BTreeSet::new();
            for e in &used {
                let k = w.node(e.interest());
                if !within(k, i) {
                    continue;
                }
                let age = (now - e.at()).as_seconds_f64();
                let hl = w.half_life(k).as_seconds_f64();
                score += w.weight(e) * 0.5f64.powf(age / hl);
                count += 1;
                days.insert(e.at().unix_timestamp().div_euclid(86_400));
            }
            let sensitive_ok =
                !special(i) || (w.pol.allow_sensitive && granted(Purpose::SensitiveInterests, now));
            let observed = count >= w.pol.min_events
                && days.len() >= w.pol.min_days as usize
                && sensitive_ok
                && !blocked(i);
            // A like covers its subtree and, as the library documents, is
            // also an interest in its ancestors (as its events would be). A
            // like inside a blocked subtree is itself blocked: it must not
            // establish anything, just as that subtree's events count nowhere.
            let liked = p.level() >= Level::Declared
                && granted(Purpose::Personalization, now)
                && !suppressed_purpose(Purpose::Personalization)
                && !blocked(i)
                && p.preferences().iter().any(|pr| {
                    let l = w.node(pr.interest);
                    pr.kind == PreferenceKind::Like
                        && pr.at <= now
                        && (within(i, l) || within(l, i))
                        && !blocked(l)
                });
            RefScore {
                score,
                established: observed || liked,
            }
        })
        .collect()
}

/// Two score tables agree: evidence exactly, scores up to rounding (the
/// incremental sums of two profiles may be accumulated in another order).
fn same_scores(w: &World, a: &Scores, b: &Scores) -> Result<(), TestCaseError> {
    for (k, id) in w.ids.iter().enumerate() {
        let (x, y) = (a.get(*id).unwrap(), b.get(*id).unwrap());
        prop_assert!(
            close(x.score, y.score),
            "{} at {}: {} vs {}",
            PATHS[k].0,
            a.now(),
            x.score,
            y.score
        );
        prop_assert_eq!(
            (x.events, x.days, x.established),
            (y.events, y.days, y.established),
            "{}",
            PATHS[k].0
        );
    }
    Ok(())
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

// ---------------------------------------------------------------------------
// Scenarios: everything random about one profile
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct EvSpec {
    node: usize,
    signal: Signal,
    at: OffsetDateTime,
    source: Source,
    context: Context,
    gift: bool,
    weight: f64,
    /// How long after the event it is recorded.
    delay: Duration,
}

impl EvSpec {
    fn event(&self, w: &World) -> Event {
        Event::new(w.ids[self.node], self.signal, self.at)
            .with_source(self.source)
            .with_context(self.context)
            .with_gift(self.gift)
            .with_weight(self.weight)
            .unwrap()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Grant(Purpose, OffsetDateTime, Option<Duration>, Evidence),
    Withdraw(Purpose, OffsetDateTime, Evidence),
}

#[derive(Debug, Clone, Copy)]
enum ScopeSpec {
    All,
    Channel(Channel),
    Purpose(Purpose),
    Interest(usize),
}

#[derive(Debug, Clone, Copy)]
struct SupSpec {
    scope: ScopeSpec,
    reason: SuppressionReason,
    since: OffsetDateTime,
    until: Option<Duration>,
}

impl SupSpec {
    fn build(&self, w: &World) -> Suppression {
        let scope = match self.scope {
            ScopeSpec::All => Scope::All,
            ScopeSpec::Channel(c) => Scope::Channel(c),
            ScopeSpec::Purpose(p) => Scope::Purpose(p),
            ScopeSpec::Interest(k) => Scope::Interest(w.ids[k]),
        };
        let s = Suppression::new(scope, self.reason, self.since);
        match self.until {
            Some(d) => s.until(self.since + d).unwrap(),
            None => s,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PrefSpec {
    node: usize,
    like: bool,
    at: OffsetDateTime,
}

#[derive(Debug, Clone)]
struct Scenario {
    tax: TaxParams,
    pol: PolicyParams,
    id: String,
    level: Level,
    ledger: Vec<Op>,
    prefs: Vec<PrefSpec>,
    sups: Vec<SupSpec>,
    events: Vec<EvSpec>,
}

impl Scenario {
    fn build(&self) -> (World, Profile) {
        let w = World::new(self.tax, self.pol);
        let p = self.profile(&w);
        (w, p)
    }

    fn profile(&self, w: &World) -> Profile {
        let mut p = Profile::new(self.id.as_str());
        p.set_level(self.level);
        for op in &self.ledger {
            match op {
                Op::Grant(purpose, at, expiry, ev) => {
                    p.consent_mut()
                        .grant(*purpose, *at, expiry.map(|d| *at + d), ev.clone())
                        .unwrap();
                }
                Op::Withdraw(purpose, at, ev) => {
                    p.consent_mut().withdraw(*purpose, *at, ev.clone()).unwrap();
                }
            }
        }
        for pr in &self.prefs {
            if pr.like {
                p.like(w.ids[pr.node], pr.at);
            } else {
                p.dislike(w.ids[pr.node], pr.at);
            }
        }
        for e in &self.events {
            // Some are refused: that is fine, the reference reads what is stored.
            let _ = w.engine.record(&mut p, e.event(w), e.at + e.delay);
        }
        for s in &self.sups {
            w.engine.suppress(&mut p, s.build(w), s.since);
        }
        p
    }
}

/// An instant `days` after `BASE`, often at a few fixed times of day so
/// that instants collide and land on day boundaries, sometimes with
/// sub-second precision.
fn instant_in(days: std::ops::Range<i64>) -> impl Strategy<Value = OffsetDateTime> {
    (
        days,
        prop_oneof![
            3 => Just(0i64),
            1 => Just(9 * 3600),
            1 => Just(12 * 3600),
            1 => Just(86_399),
            3 => 0i64..86_400,
        ],
        prop_oneof![9 => Just(0i64), 1 => 0i64..1_000_000_000],
    )
        .prop_map(|(d, s, n)| {
            BASE + Duration::days(d) + Duration::seconds(s) + Duration::nanoseconds(n)
        })
}

/// A coarse instant (every ten days at midnight): ledger changes often
/// share instants with each other and with events.
fn pivot() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..=WINDOW_DAYS / 10).prop_map(|k| BASE + Duration::days(10 * k))
}

fn tax_params() -> impl Strategy<Value = TaxParams> {
    (
        prop_oneof![Just(12i64), Just(72), Just(720), 1i64..2000],
        prop_oneof![Just(10i64), Just(30), Just(80), 0i64..100],
    )
        .prop_map(|(hl_hours, ma_days)| TaxParams { hl_hours, ma_days })
}

fn policy_params() -> impl Strategy<Value = PolicyParams> {
    (
        prop_oneof![Just(24 * 14i64), Just(24 * 7), 1i64..24 * 40],
        prop_oneof![Just(56i64), Just(28), 1i64..100],
        prop_oneof![Just(21i64), Just(7), 0i64..60],
        // Minimum days up to 4 are counted as events come, larger ones
        // from the (interest, day) pairs: both ways are tried.
        prop_oneof![3 => 1u32..=4, 1 => 5u32..=9],
        any::<u32>(),
        prop_oneof![Just(90i64), Just(30), Just(0), 0i64..120],
        any::<bool>(),
        prop_oneof![
            Just([1.0, 1.5, 1.5, 3.0, 5.0]),
            prop::array::uniform5(0.0f64..10.0),
        ],
    )
        .prop_map(
            |(hl, max_age, partner, min_events, sel, cooldown, allow, weights)| PolicyParams {
                half_life_hours: hl,
                max_age_days: max_age,
                partner_days: partner.min(max_age),
                min_events,
                min_days: 1 + sel % min_events,
                cooldown_days: cooldown,
                allow_sensitive: allow,
                weights,
            },
        )
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        1 => Just(Level::Off),
        1 => Just(Level::Declared),
        3 => Just(Level::FirstParty),
        4 => Just(Level::Full),
    ]
}

fn consent_purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        3 => Just(Purpose::Personalization),
        2 => Just(Purpose::SensitiveInterests),
        1 => Just(Purpose::PartnerData),
        1 => Just(Purpose::Location),
        1 => Just(Purpose::CrossSite),
        1 => Just(Purpose::Marketing),
        1 => Just(Purpose::Measurement),
    ]
}

fn any_purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![7 => consent_purpose(), 1 => Just(Purpose::Service)]
}

fn channel() -> impl Strategy<Value = Channel> {
    (0..CHANNELS.len()).prop_map(|i| CHANNELS[i])
}

fn evidence() -> impl Strategy<Value = Evidence> {
    prop_oneof![
        "[ -~]{0,10}".prop_map(Evidence::Ui),
        "[A-Za-z0-9._-]{0,16}".prop_map(|s| Evidence::ConsentString(s.into())),
        Just(Evidence::GlobalPrivacyControl),
        "[a-zäöü \"\\\\]{0,8}".prop_map(Evidence::Import),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    (
        consent_purpose(),
        prop_oneof![1 => pivot(), 1 => instant_in(-3..WINDOW_DAYS)],
        prop_oneof![
            2 => Just(None),
            2 => (0i64..90).prop_map(|d| Some(Duration::days(d))),
            1 => (0i64..3600).prop_map(|s| Some(Duration::seconds(s))),
        ],
        prop::bool::weighted(0.45),
        evidence(),
    )
        .prop_map(|(purpose, at, expiry, withdraw, ev)| {
            if withdraw {
                Op::Withdraw(purpose, at, ev)
            } else {
                Op::Grant(purpose, at, expiry, ev)
            }
        })
}

fn ledger_ops() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::array::uniform7(prop::bool::weighted(0.8)),
        prop::collection::vec(op(), 0..8),
    )
        .prop_map(|(initial, extra)| {
            let mut ops: Vec<Op> = CONSENT_PURPOSES
                .iter()
                .zip(initial)
                .filter(|(_, g)| *g)
                .map(|(p, _)| {
                    Op::Grant(
                        *p,
                        BASE - Duration::days(1),
                        None,
                        Evidence::Ui("signup".into()),
                    )
                })
                .collect();
            ops.extend(extra);
            ops
        })
}

fn signal() -> impl Strategy<Value = Signal> {
    prop_oneof![
        3 => Just(Signal::View),
        1 => Just(Signal::Search),
        1 => Just(Signal::Click),
        1 => Just(Signal::AddToCart),
        1 => Just(Signal::Purchase),
        1 => Just(Signal::Dismissal),
    ]
}

fn ev_spec() -> impl Strategy<Value = EvSpec> {
    (
        0..N,
        signal(),
        instant_in(0..WINDOW_DAYS),
        prop_oneof![6 => Just(Source::FirstParty), 2 => Just(Source::Declared), 2 => Just(Source::Partner)],
        prop_oneof![6 => Just(Context::OnSite), 2 => Just(Context::Location), 2 => Just(Context::CrossSite)],
        prop::bool::weighted(0.12),
        prop_oneof![3 => Just(1.0f64), 1 => Just(0.0), 6 => 0.0f64..5.0],
        prop_oneof![
            4 => Just(Duration::ZERO),
            2 => (0i64..3600).prop_map(Duration::seconds),
            2 => (0i64..3 * 86_400).prop_map(Duration::seconds),
            1 => Just(Duration::days(30)),
        ],
    )
        .prop_map(
            |(node, signal, at, source, context, gift, weight, delay)| EvSpec {
                node,
                signal,
                at,
                source,
                context,
                gift,
                weight,
                delay,
            },
        )
}

fn reason() -> impl Strategy<Value = SuppressionReason> {
    prop_oneof![
        1 => Just(SuppressionReason::Bereavement),
        2 => Just(SuppressionReason::OptOut),
        1 => Just(SuppressionReason::DoNotContact),
        1 => Just(SuppressionReason::Complaint),
        1 => Just(SuppressionReason::Legal),
        1 => Just(SuppressionReason::Other),
    ]
}

fn scope_spec() -> impl Strategy<Value = ScopeSpec> {
    prop_oneof![
        4 => (0..N).prop_map(ScopeSpec::Interest),
        2 => channel().prop_map(ScopeSpec::Channel),
        2 => any_purpose().prop_map(ScopeSpec::Purpose),
        1 => Just(ScopeSpec::All),
    ]
}

fn sup_spec() -> impl Strategy<Value = SupSpec> {
    (
        scope_spec(),
        reason(),
        instant_in(0..WINDOW_DAYS),
        prop_oneof![
            1 => Just(None),
            2 => (1i64..60 * 24).prop_map(|h| Some(Duration::hours(h))),
        ],
    )
        .prop_map(|(scope, reason, since, until)| SupSpec {
            scope,
            reason,
            since,
            until,
        })
}

fn pref_spec() -> impl Strategy<Value = PrefSpec> {
    (
        0..N,
        prop::bool::weighted(0.65),
        instant_in(-3..WINDOW_DAYS + 10),
    )
        .prop_map(|(node, like, at)| PrefSpec { node, like, at })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        tax_params(),
        policy_params(),
        "[a-z0-9-]{1,8}",
        level(),
        ledger_ops(),
        prop::collection::vec(pref_spec(), 0..3),
        prop_oneof![
            2 => Just(Vec::new()),
            2 => prop::collection::vec(sup_spec(), 1..3),
        ],
        prop::collection::vec(ev_spec(), 0..40),
    )
        .prop_map(
            |(tax, pol, id, level, ledger, prefs, sups, events)| Scenario {
                tax,
                pol,
                id,
                level,
                ledger,
                prefs,
                sups,
                events,
            },
        )
}

// ---------------------------------------------------------------------------
// Rules (for serde, and for "which segments need an interest")
// ---------------------------------------------------------------------------

fn path() -> impl Strategy<Value = &'static str> {
    (0..N).prop_map(|k| PATHS[k].0)
}

fn rule() -> impl Strategy<Value = Rule> {
    let leaf = prop_oneof![
        path().prop_map(Rule::interest),
        (path(), 0.0f64..10.0).prop_map(|(p, m)| Rule::interest_at_least(p, m)),
        path().prop_map(|p| Rule::Likes(p.into())),
        path().prop_map(|p| Rule::Dislikes(p.into())),
        level().prop_map(Rule::LevelAtLeast),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Rule::All),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Rule::Any),
            inner.prop_map(Rule::negate),
        ]
    })
}

/// Whether every way of satisfying `rule` needs a positive fact (established,
/// liked) about an interest for which `covered` holds.
fn needs(rule: &Rule, covered: &dyn Fn(usize) -> bool) -> bool {
    match rule {
        Rule::All(rs) => rs.iter().any(|r| needs(r, covered)),
        Rule::Any(rs) => rs.iter().all(|r| needs(r, covered)),
        Rule::Interest(p) | Rule::Likes(p) => covered(node_of_path(p)),
        Rule::InterestAtLeast { interest, .. } => covered(node_of_path(interest)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The profile written in both stored forms and read back at `now` by the
/// same engine: `(form, profile read back)`. Writing what was read back
/// gives the same JSON text again, and bytes that read back alike.
fn through_storage(
    engine: &Engine,
    p: &Profile,
    now: OffsetDateTime,
) -> Result<[(&'static str, Profile); 2], TestCaseError> {
    let json = engine.save_json(p).unwrap();
    let from_json = engine
        .load_profile(&json, now)
        .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(
        engine.save_json(&from_json).unwrap(),
        json,
        "JSON is not stable"
    );
    let bytes = engine.save_binary(p).unwrap();
    let from_binary = engine
        .load_profile_binary(&bytes, now)
        .map_err(|e| TestCaseError::fail(format!("{e}: {bytes:?}")))?;
    // The bytes also carry the incremental aggregates, which depend on when
    // they were prepared: not the bytes, the profile they hold is stable.
    let again = engine.save_binary(&from_binary).unwrap();
    prop_assert_eq!(
        &engine.load_profile_binary(&again, now).unwrap(),
        &from_binary,
        "binary form is not stable"
    );
    Ok([("json", from_json), ("binary", from_binary)])
}

/// An engine whose taxonomy is `PATHS` without the subtree at `root`, with
/// the same policy and the overrides and special categories whose paths
/// it keeps.
fn engine_without(w: &World, root: usize) -> Engine {
    let kept: Vec<usize> = (0..N).filter(|k| !within(*k, root)).collect();
    let mut b = Taxonomy::builder();
    for &k in &kept {
        b = b.interest(PATHS[k].0);
    }
    if kept.contains(&SPECIAL[0]) {
        b = b.sensitive(PATHS[SPECIAL[0]].0, SpecialCategory::Health);
    }
    if kept.contains(&SPECIAL[1]) {
        b = b.sensitive(PATHS[SPECIAL[1]].0, SpecialCategory::Politics);
    }
    if kept.contains(&HL_NODE) {
        b = b.half_life(PATHS[HL_NODE].0, Duration::hours(w.tax.hl_hours));
    }
    if kept.contains(&MA_NODE) {
        b = b.max_age(PATHS[MA_NODE].0, Duration::days(w.tax.ma_days));
    }
    Engine::new(b.build().unwrap(), w.pol.build())
}

/// CRC-32 (IEEE), as the binary form's trailer.
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Found by the fuzz target `profile_binary`
/// (`fuzz/artifacts/profile_binary/`): the binary form stores the
/// incremental aggregates, and a load by an engine of the same
/// configuration adopts them without looking. Bytes whose stored sum no
/// longer matches the stored events, behind a checksum that matches them
/// (CRC-32 detects accidents, not edits), then give scores that disagree
/// with the events; so would sums written by a library version whose
/// formula differs, since the fingerprint names the configuration, not the
/// formula. Whatever is adopted must agree with the events (or the loader
/// must rebuild what it cannot trust).
#[test]
fn altered_binary_bytes_never_make_scores_disagree_with_the_events() {
    // Nothing derived is stored: whatever bytes load (checksum made right
    // after a change), their scores are those of the events they hold.
    let taxonomy = Taxonomy::builder().interest("books").build().unwrap();
    let books = taxonomy.id("books").unwrap();
    let engine = Engine::new(taxonomy, DecayPolicy::default());
    let t = BASE;
    let mut p = Profile::new("p");
    p.set_level(Level::FirstParty);
    p.consent_mut()
        .grant(Purpose::Personalization, t, None, ui())
        .unwrap();
    for k in 0..3 {
        let at = t + Duration::hours(k);
        engine
            .record(
                &mut p,
                Event::new(books, Signal::View, at)
                    .with_weight(1.5)
                    .unwrap(),
                at,
            )
            .unwrap();
    }
    let bytes = engine.save_binary(&p).unwrap();
    let now = t + Duration::hours(5);
    let mut loaded = 0;
    for i in 0..bytes.len() - 4 {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            let n = b.len();
            let crc = crc32(&b[..n - 4]).to_le_bytes();
            b[n - 4..].copy_from_slice(&crc);
            if let Ok(back) = engine.load_profile_binary(&b, now) {
                loaded += 1;
                let (fast, scan) = (engine.scores(&back, now), engine.scores_by_scan(&back, now));
                assert!(
                    close(fast.score(books), scan.score(books)),
                    "byte {i} ^ {flip:#x}: {} for events that score {}",
                    fast.score(books),
                    scan.score(books)
                );
            }
        }
    }
    assert!(
        loaded > 0,
        "no altered input loaded: the law was not exercised"
    );
}

fn rt<T: Serialize + DeserializeOwned>(x: &T) -> T {
    let json = serde_json::to_string(x).unwrap();
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn ui() -> Evidence {
    Evidence::Ui("law".into())
}

/// Some instants worth looking at for a profile: the given ones, the first
/// events' instants and their max-age boundaries, and the first ledger
/// entries' instants.
fn interesting_nows(w: &World, p: &Profile, extra: &[OffsetDateTime]) -> Vec<OffsetDateTime> {
    let mut nows = extra.to_vec();
    for e in p.events().iter().take(3) {
        let k = w.node(e.interest());
        nows.push(e.at());
        nows.push(e.at() + w.max_age(k, e.source()));
        nows.push(e.at() + w.max_age(k, e.source()) + Duration::nanoseconds(1));
    }
    for en in p.consent().entries().iter().rev().take(3) {
        nows.push(en.at);
        nows.push(en.at + Duration::days(2));
    }
    nows
}

// ---------------------------------------------------------------------------
// The laws
// ---------------------------------------------------------------------------

/// Modest case counts (the file runs in seconds in debug builds); failures
/// persist next to this file as `laws.proptest-regressions`.
fn config() -> ProptestConfig {
    config_with_cases(128)
}

fn config_with_cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn score_is_non_increasing_in_now_without_new_events(
        s in scenario(),
        d1 in 0i64..30 * 24,
        d2 in 0i64..80 * 24,
        late_withdrawal in prop::option::of((consent_purpose(), 0i64..80 * 24)),
    ) {
        let mut s = s;
        // After the window: every event, grant and suppression start lies before t1.
        let t1 = BASE + Duration::days(WINDOW_DAYS) + Duration::hours(d1);
        let t2 = t1 + Duration::hours(d2);
        // A lapsing dismissal brings back events within their max age, and an
        // ending suppression brings back its subtree: both by design, and both
        // "new" to the score. Exclude them so the law is about time alone.
        s.pol.cooldown_days = s.pol.cooldown_days.max(s.pol.max_age_days).max(s.tax.ma_days);
        for sup in &mut s.sups {
            if sup.until.is_some_and(|u| sup.since + u > t1) {
                sup.until = None;
            }
        }
        let (w, mut p) = s.build();
        if let Some((purpose, h)) = late_withdrawal {
            p.consent_mut().withdraw(purpose, t1 + Duration::hours(h), ui()).unwrap();
        }
        let a = w.engine.scores(&p, t1);
        let b = w.engine.scores(&p, t2);
        for (k, id) in w.ids.iter().enumerate() {
            prop_assert!(
                b.score(*id) <= a.score(*id) + 1e-12,
                "{}: score rose from {} at {t1} to {} at {t2}", PATHS[k].0, a.score(*id), b.score(*id)
            );
        }
    }

    #[test]
    fn contribution_at_age_zero_equals_weight(
        tax in tax_params(),
        pol in policy_params(),
        ev in ev_spec(),
    ) {
        let w = World::new(tax, pol);
        let e = ev.event(&w);
        let policy = w.engine.policy();
        prop_assert_eq!(policy.contribution(w.engine.taxonomy(), &e, e.at()), policy.weight_of(&e));
        prop_assert_eq!(policy.weight_of(&e), w.weight(&e));

        // A freshly recorded single usable event scores its weight at its own instant.
        let mut pol = pol;
        pol.allow_sensitive |= special(ev.node);
        let w = World::new(tax, pol);
        let mut ev = ev;
        ev.gift = false;
        if ev.signal == Signal::Dismissal {
            ev.signal = Signal::Purchase;
        }
        let e = ev.event(&w);
        let mut p = Profile::new("fresh");
        p.set_level(Level::Full);
        for purpose in CONSENT_PURPOSES {
            p.consent_mut().grant(purpose, e.at() - Duration::days(1), None, ui()).unwrap();
        }
        let recorded = w.engine.record(&mut p, e, e.at());
        prop_assert!(recorded.is_ok(), "{recorded:?}");
        let scores = w.engine.scores(&p, e.at());
        let weight = w.engine.policy().weight_of(&e);
        for (k, id) in w.ids.iter().enumerate() {
            let want = if within(ev.node, k) { weight } else { 0.0 };
            prop_assert_eq!(scores.score(*id), want, "{}", PATHS[k].0);
        }
    }

    #[test]
    fn score_equals_naive_reference(
        s in scenario(),
        nows in prop::collection::vec(instant_in(-2..WINDOW_DAYS + 40), 1..4),
    ) {
        let (w, p) = s.build();
        for now in interesting_nows(&w, &p, &nows) {
            let lib = w.engine.scores(&p, now);
            let naive = reference(&w, &p, now);
            for (k, id) in w.ids.iter().enumerate() {
                let got = lib.score(*id);
                prop_assert!(
                    close(got, naive[k].score),
                    "{} at {now}: library {got}, reference {}", PATHS[k].0, naive[k].score
                );
                prop_assert_eq!(
                    lib.is_established(*id), naive[k].established,
                    "established {} at {}", PATHS[k].0, now
                );
            }
        }
    }

    #[test]
    fn suppression_dominates_every_rule(
        s in scenario(),
        now in instant_in(0..WINDOW_DAYS + 20),
        scope in scope_spec(),
        why in reason(),
        started in 0i64..60 * 24,
        lasts in prop::option::of(1i64..30 * 24),
        some_channel in channel(),
        some_purpose in any_purpose(),
    ) {
        let (w, mut p) = s.build();
        let since = now - Duration::hours(started);
        let until = lasts.map(|h| now + Duration::hours(h) - since);
        let sup = SupSpec { scope, reason: why, since, until }.build(&w);
        prop_assert!(sup.is_active(now));
        w.engine.suppress(&mut p, sup, since);

        // Whatever happens afterwards: likes, fresh consents, fresh events.
        let covered = |k: usize| match scope {
            ScopeSpec::All => true,
            ScopeSpec::Interest(r) => within(k, r),
            ScopeSpec::Purpose(Purpose::Personalization) => true,
            _ => false,
        };
        for (k, id) in w.ids.iter().enumerate() {
            if covered(k) {
                p.like(*id, since);
            }
        }
        for purpose in CONSENT_PURPOSES {
            p.consent_mut().grant(purpose, since, None, ui()).unwrap();
        }
        for k in (0..N).filter(|k| covered(*k)) {
            for back in [0, 1, 26] {
                let at = now - Duration::hours(back);
                let e = Event::new(w.ids[k], Signal::Purchase, at).with_weight(3.0).unwrap();
                let r = w.engine.record(&mut p, e, now);
                prop_assert!(r.is_err(), "recorded {e:?} under {sup:?}");
            }
        }

        let scores = w.engine.scores(&p, now);
        for (k, id) in w.ids.iter().enumerate() {
            if covered(k) {
                prop_assert_eq!(scores.score(*id), 0.0, "{}", PATHS[k].0);
                prop_assert!(!scores.is_established(*id), "{} established", PATHS[k].0);
            }
        }
        let defs = segment_defs();
        let needing: Vec<&SegmentDef> = defs.iter().filter(|d| needs(&d.rule, &covered)).collect();
        let members = w.engine.segments(&p, now);
        for m in &members {
            prop_assert!(
                !needing.iter().any(|d| d.name == m.segment),
                "member of {} despite {sup:?}", m.segment
            );
        }

        // Decisions.
        let mut pairs: Vec<(Channel, Purpose)> = Vec::new();
        pairs.extend(CHANNELS.iter().map(|c| (*c, some_purpose)));
        pairs.extend(Purpose::ALL.iter().map(|p| (some_channel, *p)));
        let mut targets = vec![Target::Nobody];
        targets.extend(w.ids.iter().map(|id| Target::Interest(*id)));
        targets.extend(defs.iter().map(|d| Target::Segment(d.name.clone())));
        for (channel, purpose) in pairs {
            for target in &targets {
                let must_deny = match scope {
                    ScopeSpec::All => true,
                    ScopeSpec::Channel(c) => c == channel,
                    ScopeSpec::Purpose(q) => {
                        q == purpose || (q == Purpose::Personalization && *target != Target::Nobody)
                    }
                    ScopeSpec::Interest(_) => match target {
                        Target::Nobody => false,
                        Target::Interest(id) => covered(w.node(*id)),
                        Target::Segment(name) => needing.iter().any(|d| &d.name == name),
                        other => unreachable!("the test makes no {other:?}"),
                    },
                };
                if must_deny {
                    let req = MessageRequest::new(channel, purpose).about(target.clone());
                    let d = w.engine.decide(&p, &req, now);
                    prop_assert!(!d.is_allowed(), "{req:?} allowed under {sup:?}");
                    prop_assert!(
                        d.reasons().iter().any(|r| matches!(r, DenyReason::Suppressed { .. })),
                        "{req:?} denied without naming the suppression: {:?}", d.reasons()
                    );
                }
            }
        }
    }

    #[test]
    fn serde_round_trip_is_identity(
        s in scenario(),
        now in instant_in(0..WINDOW_DAYS + 20),
        rules in prop::collection::vec(rule(), 1..4),
        extra in prop::collection::vec(ev_spec(), 0..5),
        weights in prop::collection::vec(0.0f64..1e3, 0..16),
    ) {
        let (w, p) = s.build();
        for (form, back) in through_storage(&w.engine, &p, now)? {
            prop_assert_eq!(&back, &p, "{} round trip", form);
            same_scores(&w, &w.engine.scores(&back, now), &w.engine.scores(&p, now))?;
        }

        prop_assert_eq!(&rt(w.engine.taxonomy()), w.engine.taxonomy());
        let json = serde_json::to_string(w.engine.taxonomy()).unwrap();
        prop_assert_eq!(&Taxonomy::from_json(&json).unwrap(), w.engine.taxonomy());
        prop_assert_eq!(&rt(w.engine.policy()), w.engine.policy());
        let json = serde_json::to_string(w.engine.policy()).unwrap();
        prop_assert_eq!(&DecayPolicy::from_json(&json).unwrap(), w.engine.policy());

        let defs: Vec<SegmentDef> = rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| SegmentDef::new(&format!("seg-{i}"), r))
            .collect();
        for d in &defs {
            prop_assert_eq!(&rt(d), d);
            prop_assert_eq!(&rt(&d.rule), &d.rule);
        }
        prop_assert_eq!(&rt(&defs), &defs);
        prop_assert!(w.engine.clone().with_segments(defs).is_ok());

        prop_assert_eq!(&rt(p.consent()), p.consent());
        for sup in p.suppressions() {
            prop_assert_eq!(&rt(sup), sup);
        }
        for e in p.events().iter().copied().chain(extra.iter().map(|x| x.event(&w))) {
            prop_assert_eq!(rt(&e), e);
        }
        for x in weights {
            let weight = Weight::new(x).unwrap();
            prop_assert_eq!(rt(&weight), weight, "{} does not survive JSON", x);
        }
    }

    #[test]
    fn a_removed_subtree_is_kept_as_orphans_and_given_back(
        s in scenario(),
        now in instant_in(0..WINDOW_DAYS + 20),
        root in 0..N,
    ) {
        let (w, p) = s.build();
        let small = engine_without(&w, root);
        let forms = [
            ("json", w.engine.save_json(&p).unwrap().into_bytes()),
            ("binary", w.engine.save_binary(&p).unwrap()),
        ];
        for (form, data) in forms {
            let back = if form == "json" {
                small.load_profile(std::str::from_utf8(&data).unwrap(), now)
            } else {
                small.load_profile_binary(&data, now)
            };
            let back = back.map_err(|e| TestCaseError::fail(format!("{form}: {e}")))?;
            // Nothing dropped, nothing re-targeted: what the small taxonomy
            // lacks is orphaned, by path, and nothing else is.
            let orphans = back.orphans();
            prop_assert_eq!(back.stored_events() + orphans.events().len(), p.stored_events());
            for path in orphans.paths() {
                prop_assert!(within(node_of_path(path), root), "{path} orphaned without {}", PATHS[root].0);
            }
            let in_root = |id: InterestId| within(w.node(id), root);
            let events_in_root = p.events().iter().filter(|e| in_root(e.interest())).count();
            prop_assert_eq!(orphans.events().len(), events_in_root, "{}", form);
            let sups_in_root = p
                .suppressions()
                .iter()
                .filter(|x| matches!(x.scope(), Scope::Interest(i) if in_root(i)))
                .count();
            prop_assert_eq!(orphans.suppressions().len(), sups_in_root, "{}", form);
            prop_assert_eq!(
                back.suppressions().len() + sups_in_root,
                p.suppressions().len(),
                "{}", form
            );
            // Outside the removed subtree and its ancestors, scores are the same.
            let (a, b) = (w.engine.scores(&p, now), small.scores(&back, now));
            for (k, id) in w.ids.iter().enumerate() {
                if within(k, root) || within(root, k) {
                    continue;
                }
                let there = small.taxonomy().require(PATHS[k].0).unwrap();
                let (x, y) = (a.get(*id).unwrap(), b.get(there).unwrap());
                prop_assert!(close(x.score, y.score), "{}: {} vs {}", PATHS[k].0, x.score, y.score);
                prop_assert_eq!(
                    (x.events, x.days, x.established),
                    (y.events, y.days, y.established),
                    "{}", PATHS[k].0
                );
            }
            // Written back by the small engine: the full engine reads the original.
            let json = small.save_json(&back).unwrap();
            prop_assert_eq!(&small.load_profile(&json, now).unwrap(), &back);
            prop_assert_eq!(&w.engine.load_profile(&json, now).unwrap(), &p, "{} via JSON", form);
            let bytes = small.save_binary(&back).unwrap();
            prop_assert_eq!(&small.load_profile_binary(&bytes, now).unwrap(), &back);
            prop_assert_eq!(&w.engine.load_profile_binary(&bytes, now).unwrap(), &p, "{} via binary", form);
        }
    }

    #[test]
    fn withdrawing_consent_never_increases_any_score(
        s in scenario(),
        now in instant_in(0..WINDOW_DAYS + 20),
        purpose in consent_purpose(),
        at in prop_oneof![
            2 => (0i64..130 * 24 * 60).prop_map(Some),
            1 => Just(None),
        ],
        pivot_at in pivot(),
    ) {
        let (w, mut p) = s.build();
        let before = w.engine.scores(&p, now);
        let when = match at {
            Some(minutes) => now - Duration::minutes(minutes),
            None => pivot_at.min(now),
        };
        p.consent_mut().withdraw(purpose, when, ui()).unwrap();
        let after = w.engine.scores(&p, now);
        for (k, id) in w.ids.iter().enumerate() {
            // Up to rounding: the incremental sums are rebuilt after a
            // withdrawal and may differ in the last bits (documented: 1e-9
            // relative), which must not read as an increase.
            prop_assert!(
                after.score(*id) <= before.score(*id) * (1.0 + 1e-9),
                "{}: {} before, {} after withdrawing {purpose} at {when}",
                PATHS[k].0, before.score(*id), after.score(*id)
            );
            prop_assert!(
                !after.is_established(*id) || before.is_established(*id),
                "{} became established by withdrawing {purpose} at {when}", PATHS[k].0
            );
        }
    }

}

proptest! {
    // Its failures hide in rare coincidences (two ledger changes at one
    // instant, a bereavement after a like): more cases.
    #![proptest_config(config_with_cases(256))]

    #[test]
    fn merge_with_self_changes_no_score(
        s in scenario(),
        nows in prop::collection::vec(instant_in(-2..WINDOW_DAYS + 40), 1..4),
    ) {
        let (w, p) = s.build();
        let mut merged = p.clone();
        let joined = w.engine.merge(&mut merged, &p);
        prop_assert_eq!(joined.dropped_events, 0);
        prop_assert_eq!(merged.events(), p.events());
        for now in interesting_nows(&w, &p, &nows) {
            let a = w.engine.scores(&p, now);
            let b = w.engine.scores(&merged, now);
            for (k, id) in w.ids.iter().enumerate() {
                prop_assert!(
                    close(a.score(*id), b.score(*id)),
                    "{} at {now}: {} before merging with itself, {} after",
                    PATHS[k].0, a.score(*id), b.score(*id)
                );
                prop_assert_eq!(
                    a.is_established(*id), b.is_established(*id),
                    "established {} at {}", PATHS[k].0, now
                );
            }
        }
    }

    #[test]
    fn compact_never_changes_a_score_at_now(
        s in scenario(),
        now in instant_in(0..WINDOW_DAYS + 60),
        later in 0i64..90 * 24,
    ) {
        let (w, p) = s.build();
        let mut compacted = p.clone();
        w.engine.compact(&mut compacted, now);
        for t in [now, now + Duration::hours(later)] {
            same_scores(&w, &w.engine.scores(&compacted, t), &w.engine.scores(&p, t))?;
        }
    }

    #[test]
    fn scores_are_finite_and_non_negative(
        s in scenario(),
        nows in prop::collection::vec(instant_in(-5..WINDOW_DAYS + 80), 1..5),
    ) {
        let (w, p) = s.build();
        for now in interesting_nows(&w, &p, &nows) {
            let scores = w.engine.scores(&p, now);
            for (k, id) in w.ids.iter().enumerate() {
                let x = scores.score(*id);
                prop_assert!(x.is_finite() && x >= 0.0, "{} at {now}: {x}", PATHS[k].0);
            }
        }
    }
}
