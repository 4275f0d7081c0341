//! Model-based property test: a plain model of one profile (vectors of
//! events, consent entries, suppressions, preferences and tombstones, scores
//! recomputed from scratch with the formula of DESIGN.md "Semantics") and the
//! real [`Profile`] + [`Engine`] receive the same random operation sequences.
//! After every step they must agree on scores, establishment, segment
//! membership, `decide`, refusal kinds and report facts; laws (suppression
//! dominates, withdrawal is retroactive and final, erasure leaves no trace,
//! compaction changes no score, scan equals incremental, every profile the
//! engine writes it reads back) are checked inside.
//!
//! Consent entries, suppressions, preferences and tombstones may hold any
//! instant `OffsetDateTime` can (years -9999 to 9999, offsets up to
//! ±23:59:59); a few operations use such instants. Events must fit the
//! store's years 1678 to 2261 and stay near the clock.
//!
//! The model keeps its own consent ledger and answers "state at an instant"
//! with its own code; after a `merge`, it checks the documented join (the
//! more restrictive state at every instant, every withdrawal kept) and then
//! adopts the merged ledger's entries, because the library rewrites the
//! joined history into a shortest equivalent list of entries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use tactful::profile::ErasedScope;
use tactful::*;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

// ---------------------------------------------------------------------------
// The world: a fixed taxonomy, a random policy, a few segments and requests
// ---------------------------------------------------------------------------

const T0: OffsetDateTime = datetime!(2026-03-01 0:00 UTC);

/// The tree as (path, parent index), independent of the library's numbering.
const PATHS: [(&str, Option<usize>); 9] = [
    ("food", None),                  // 0
    ("food/vegan", Some(0)),         // 1
    ("food/vegan/recipes", Some(1)), // 2
    ("food/wine", Some(0)),          // 3
    ("health", None),                // 4: special (health)
    ("health/pregnancy", Some(4)),   // 5: special (pregnancy)
    ("sport", None),                 // 6: half-life override 3 days
    ("sport/running", Some(6)),      // 7: max-age override 20 days
    ("travel", None),                // 8
];
const N: usize = PATHS.len();
const HEALTH: usize = 4;
const PREGNANCY: usize = 5;
const SPORT: usize = 6;
const RUNNING: usize = 7;
const WINE: usize = 3;
/// The world's life event: a bereavement on a subtree sharing an interest
/// with one of these covers both (the taxonomy declares the same).
const LIFE_EVENT: (&str, [usize; 2]) = ("pregnancy", [WINE, PREGNANCY]);
const SPORT_HALF_LIFE_DAYS: i64 = 3;
const RUNNING_MAX_AGE_DAYS: i64 = 20;

const CONSENT_PURPOSES: [Purpose; 7] = [
    Purpose::Personalization,
    Purpose::Marketing,
    Purpose::Measurement,
    Purpose::Location,
    Purpose::CrossSite,
    Purpose::SensitiveInterests,
    Purpose::PartnerData,
];
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
const SIGNALS: [Signal; 5] = [
    Signal::View,
    Signal::Search,
    Signal::Click,
    Signal::AddToCart,
    Signal::Purchase,
];
const SOURCES: [Source; 3] = [Source::FirstParty, Source::Declared, Source::Partner];
const CONTEXTS: [Context; 3] = [Context::OnSite, Context::Location, Context::CrossSite];
const LEVELS: [Level; 4] = [Level::Off, Level::Declared, Level::FirstParty, Level::Full];

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
    within(k, HEALTH)
}

/// The lowest level admitting a source and context (the table in `level.rs` docs).
fn required_level(source: Source, context: Context) -> Level {
    let by_source = match source {
        Source::Declared => Level::Declared,
        Source::Partner => Level::Full,
        _ => Level::FirstParty,
    };
    let by_context = match context {
        Context::OnSite => Level::Off,
        _ => Level::Full,
    };
    by_source.max(by_context)
}

/// The purposes an event needs, in `Purpose::ALL` order.
fn needed(k: usize, source: Source, context: Context) -> Vec<Purpose> {
    let mut out = vec![Purpose::Personalization];
    match context {
        Context::Location => out.push(Purpose::Location),
        Context::CrossSite => out.push(Purpose::CrossSite),
        _ => {}
    }
    if special(k) {
        out.push(Purpose::SensitiveInterests);
    }
    if source == Source::Partner {
        out.push(Purpose::PartnerData);
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Pol {
    half_life_hours: i64,
    max_age_days: i64,
    partner_days: i64,
    min_events: u32,
    min_days: u32,
    cooldown_days: i64,
    allow_sensitive: bool,
    weights: [f64; 5],
}

impl Pol {
    fn build(&self) -> DecayPolicy {
        let mut b = DecayPolicy::builder()
            .half_life(Duration::hours(self.half_life_hours))
            .max_age(Duration::days(self.max_age_days))
            .partner_max_age(Duration::days(self.partner_days))
            .min_events(self.min_events)
            .min_days(self.min_days)
            .dismissal_cooldown(Duration::days(self.cooldown_days))
            .allow_sensitive_observation(self.allow_sensitive);
        for (s, w) in SIGNALS.into_iter().zip(self.weights) {
            b = b.signal_weight(s, w).unwrap();
        }
        b.build().unwrap()
    }

    fn cooldown(&self) -> Duration {
        Duration::days(self.cooldown_days)
    }
}

/// A segment rule of the model (mirrors the library's `Rule`).
#[derive(Debug, Clone)]
enum R {
    All(Vec<R>),
    Any(Vec<R>),
    Not(Box<R>),
    /// Established; with `Some(min)` also scoring at least `min`.
    Interest(usize, Option<f64>),
    Likes(usize),
    Dislikes(usize),
    LevelAtLeast(Level),
}

impl R {
    fn to_rule(&self) -> Rule {
        match self {
            R::All(rs) => Rule::all(rs.iter().map(R::to_rule)),
            R::Any(rs) => Rule::any(rs.iter().map(R::to_rule)),
            R::Not(r) => Rule::negate(r.to_rule()),
            R::Interest(k, None) => Rule::interest(PATHS[*k].0),
            R::Interest(k, Some(min)) => Rule::interest_at_least(PATHS[*k].0, *min),
            R::Likes(k) => Rule::Likes(PATHS[*k].0.into()),
            R::Dislikes(k) => Rule::Dislikes(PATHS[*k].0.into()),
            R::LevelAtLeast(l) => Rule::LevelAtLeast(*l),
        }
    }

    /// Every interest the rule names.
    fn mentioned(&self, out: &mut Vec<usize>) {
        match self {
            R::All(rs) | R::Any(rs) => rs.iter().for_each(|r| r.mentioned(out)),
            R::Not(r) => r.mentioned(out),
            R::Interest(k, _) | R::Likes(k) | R::Dislikes(k) => out.push(*k),
            R::LevelAtLeast(_) => {}
        }
    }

    /// Interests whose evidence the rule needs absent (an interest rule
    /// under an odd number of `Not`s).
    fn absent(&self, positive: bool, out: &mut Vec<usize>) {
        match self {
            R::All(rs) | R::Any(rs) => rs.iter().for_each(|r| r.absent(positive, out)),
            R::Not(r) => r.absent(!positive, out),
            R::Interest(k, _) if !positive => out.push(*k),
            _ => {}
        }
    }

    /// Interests the rule needs positively (under an even number of `Not`s),
    /// in rule order: what a suppression or block on them denies.
    fn positives(&self, positive: bool, out: &mut Vec<usize>) {
        match self {
            R::All(rs) | R::Any(rs) => rs.iter().for_each(|r| r.positives(positive, out)),
            R::Not(r) => r.positives(!positive, out),
            R::Interest(k, _) | R::Likes(k) if positive => out.push(*k),
            _ => {}
        }
    }
}

/// A model segment: name, rule, purpose, channels (empty: every channel).
type Seg = (&'static str, R, Purpose, Vec<Channel>);

fn segments() -> Vec<Seg> {
    let plain = |(name, r): (&'static str, R)| (name, r, Purpose::Marketing, Vec::new());
    let mut segs: Vec<Seg> = plain_segments().into_iter().map(plain).collect();
    segs[2].2 = Purpose::Personalization;
    segs[2].3 = vec![Channel::InApp, Channel::Push];
    segs[4].2 = Purpose::Service;
    segs[6].3 = vec![Channel::Email];
    segs.push((
        "account-holders",
        R::LevelAtLeast(Level::Off),
        Purpose::Service,
        vec![Channel::Email, Channel::Post],
    ));
    segs
}

fn plain_segments() -> Vec<(&'static str, R)> {
    use R::*;
    vec![
        ("foodies", Interest(0, Some(2.0))),
        (
            "vegan-no-wine",
            All(vec![Interest(1, None), Not(Box::new(Dislikes(3)))]),
        ),
        (
            "sporty-or-travel",
            Any(vec![Interest(SPORT, Some(1.0)), Likes(8)]),
        ),
        ("pregnancy", Interest(PREGNANCY, None)),
        (
            "not-running",
            All(vec![
                Not(Box::new(Interest(RUNNING, None))),
                LevelAtLeast(Level::Declared),
            ]),
        ),
        (
            "runners-full",
            All(vec![
                Interest(RUNNING, Some(0.5)),
                LevelAtLeast(Level::Full),
            ]),
        ),
        (
            "food-and-travel",
            All(vec![
                Interest(0, None),
                Not(Box::new(Not(Box::new(Likes(8))))),
            ]),
        ),
    ]
}

fn ids_of(ids: &[InterestId], k: usize) -> InterestId {
    ids[k]
}

/// What a segment relies on, as documented on `SegmentDef`: its purpose;
/// personalization unless it is a service segment naming no interest; for
/// an interest needed absent, every purpose its evidence may need.
fn relies(seg: &Seg) -> Vec<Purpose> {
    let (_, r, purpose, _) = seg;
    let mut out = vec![*purpose];
    let mut mentioned = Vec::new();
    r.mentioned(&mut mentioned);
    if *purpose != Purpose::Service || !mentioned.is_empty() {
        out.push(Purpose::Personalization);
    }
    let mut absent = Vec::new();
    r.absent(true, &mut absent);
    for k in absent {
        out.extend([Purpose::PartnerData, Purpose::Location, Purpose::CrossSite]);
        if (0..N).any(|j| within(j, k) && special(j)) {
            out.push(Purpose::SensitiveInterests);
        }
    }
    in_declaration_order(out)
}

fn in_declaration_order(v: Vec<Purpose>) -> Vec<Purpose> {
    Purpose::ALL.into_iter().filter(|p| v.contains(p)).collect()
}

#[derive(Debug, Clone, Copy)]
enum Tgt {
    Nobody,
    Interest(usize),
    Segment(usize),
}

/// The requests decided after every step: (channel, purpose, target).
fn requests() -> Vec<(Channel, Purpose, Tgt)> {
    vec![
        (Channel::Email, Purpose::Marketing, Tgt::Nobody),
        (Channel::InApp, Purpose::Service, Tgt::Nobody),
        (Channel::Post, Purpose::Marketing, Tgt::Interest(1)),
        (
            Channel::Push,
            Purpose::Personalization,
            Tgt::Interest(PREGNANCY),
        ),
        (Channel::Sms, Purpose::Service, Tgt::Interest(SPORT)),
        (Channel::Post, Purpose::Service, Tgt::Interest(HEALTH)),
        (Channel::Email, Purpose::Marketing, Tgt::Segment(0)),
        (Channel::Ads, Purpose::Personalization, Tgt::Segment(2)),
        (Channel::Phone, Purpose::Measurement, Tgt::Segment(4)),
        (Channel::Email, Purpose::Marketing, Tgt::Segment(6)),
        (Channel::InApp, Purpose::Personalization, Tgt::Segment(3)),
        (Channel::Post, Purpose::Service, Tgt::Segment(7)),
        (Channel::Email, Purpose::Service, Tgt::Segment(4)),
    ]
}

struct World {
    pol: Pol,
    engine: Engine,
    /// Library handle of each node of `PATHS`.
    ids: Vec<InterestId>,
    segs: Vec<Seg>,
    /// Positive interests per segment, by handle, without repeats.
    positives: Vec<Vec<usize>>,
    /// Every interest each segment's rule names, by handle, without repeats.
    mentioned: Vec<Vec<usize>>,
    /// The purposes each segment relies on (see `relies`).
    relies: Vec<Vec<Purpose>>,
    reqs: Vec<(Channel, Purpose, Tgt)>,
}

impl World {
    fn new(pol: Pol) -> Self {
        let mut b = Taxonomy::builder();
        for (path, _) in PATHS {
            b = b.interest(path);
        }
        let taxonomy = b
            .sensitive("health", SpecialCategory::Health)
            .sensitive("health/pregnancy", SpecialCategory::PregnancyAndParenthood)
            .life_event(LIFE_EVENT.0, LIFE_EVENT.1.map(|k| PATHS[k].0))
            .half_life("sport", Duration::days(SPORT_HALF_LIFE_DAYS))
            .max_age("sport/running", Duration::days(RUNNING_MAX_AGE_DAYS))
            .build()
            .unwrap();
        let ids: Vec<InterestId> = PATHS.iter().map(|(p, _)| taxonomy.id(p).unwrap()).collect();
        let segs = segments();
        let defs = segs
            .iter()
            .map(|(name, r, purpose, channels)| {
                SegmentDef::new(name, r.to_rule())
                    .for_purpose(*purpose)
                    .on_channels(channels.iter().copied())
            })
            .collect();
        let engine = Engine::new(taxonomy, pol.build())
            .with_segments(defs)
            .unwrap();
        let by_handle = |mut v: Vec<usize>| {
            v.sort_by_key(|k| ids_of(&ids, *k));
            v.dedup();
            v
        };
        let positives = segs
            .iter()
            .map(|(_, r, ..)| {
                let mut out = Vec::new();
                r.positives(true, &mut out);
                by_handle(out)
            })
            .collect();
        let mentioned = segs
            .iter()
            .map(|(_, r, ..)| {
                let mut out = Vec::new();
                r.mentioned(&mut out);
                by_handle(out)
            })
            .collect();
        let relies = segs.iter().map(relies).collect();
        Self {
            pol,
            engine,
            ids,
            segs,
            positives,
            mentioned,
            relies,
            reqs: requests(),
        }
    }

    fn node(&self, id: InterestId) -> usize {
        self.ids.iter().position(|x| *x == id).unwrap()
    }

    fn half_life(&self, k: usize) -> Duration {
        if within(k, SPORT) {
            Duration::days(SPORT_HALF_LIFE_DAYS)
        } else {
            Duration::hours(self.pol.half_life_hours)
        }
    }

    fn max_age(&self, k: usize, source: Source) -> Duration {
        let general = if within(k, RUNNING) {
            Duration::days(RUNNING_MAX_AGE_DAYS)
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
        let i = SIGNALS.iter().position(|s| *s == e.signal()).unwrap();
        self.pol.weights[i] * e.weight().get()
    }

    fn request(&self, r: (Channel, Purpose, Tgt)) -> MessageRequest {
        let target = match r.2 {
            Tgt::Nobody => Target::Nobody,
            Tgt::Interest(k) => Target::Interest(self.ids[k]),
            Tgt::Segment(s) => Target::Segment(self.segs[s].0.into()),
        };
        MessageRequest::new(r.0, r.1).about(target)
    }

    /// What a request relies on: (purposes in declaration order, interests
    /// named, interests needed positively).
    fn use_of(&self, r: (Channel, Purpose, Tgt)) -> (Vec<Purpose>, Vec<usize>, Vec<usize>) {
        match r.2 {
            Tgt::Nobody => (vec![r.1], Vec::new(), Vec::new()),
            Tgt::Interest(k) => (
                in_declaration_order(vec![r.1, Purpose::Personalization]),
                vec![k],
                vec![k],
            ),
            Tgt::Segment(s) => {
                let mut p = self.relies[s].clone();
                p.push(r.1);
                (
                    in_declaration_order(p),
                    self.mentioned[s].clone(),
                    self.positives[s].clone(),
                )
            }
        }
    }

    /// The subtrees a suppression covers: its own, and for a bereavement
    /// whose subtree shares an interest with the life event, the event's
    /// (with its name), skipping those within one already listed.
    fn sup_roots(&self, s: &Suppression) -> Vec<(usize, Option<&'static str>)> {
        let Scope::Interest(r) = s.scope() else {
            return Vec::new();
        };
        let r = self.node(r);
        let mut out = vec![(r, None)];
        let (name, group) = LIFE_EVENT;
        if s.reason() == SuppressionReason::Bereavement
            && group.iter().any(|&g| within(r, g) || within(g, r))
        {
            for g in group {
                if !out.iter().any(|&(o, _)| within(g, o)) {
                    out.push((g, Some(name)));
                }
            }
        }
        out
    }

    /// Whether a suppression covers a use about node `k`, and the life
    /// event it reaches it through (gate semantics: overlap either way).
    /// A scope in the words the documentation of `Scope::describe` gives:
    /// an interest by its path in `PATHS`, channels and purposes by name.
    fn about(&self, scope: Scope) -> String {
        let channel = |c: Channel| match c {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::Post => "post",
            Channel::Phone => "phone",
            Channel::InApp => "in_app",
            Channel::Ads => "ads",
            _ => unreachable!("the model knows every channel"),
        };
        match scope {
            Scope::All => "everything".to_owned(),
            Scope::Channel(c) => format!("channel {}", channel(c)),
            Scope::Purpose(p) => format!("purpose {}", p.name()),
            Scope::Interest(i) => format!("interest {}", PATHS[self.node(i)].0),
            Scope::ChannelPurpose {
                channel: c,
                purpose,
            } => {
                format!("{} on channel {}", purpose.name(), channel(c))
            }
            _ => unreachable!("the model knows every scope"),
        }
    }

    fn sup_touches(&self, s: &Suppression, k: usize) -> Option<Option<&'static str>> {
        match s.scope() {
            Scope::All => Some(None),
            Scope::Interest(r) => {
                let r = self.node(r);
                if within(k, r) || within(r, k) {
                    return Some(None);
                }
                let (name, group) = LIFE_EVENT;
                let extends = s.reason() == SuppressionReason::Bereavement
                    && group.iter().any(|&g| within(r, g) || within(g, r));
                (extends && group.iter().any(|&g| within(k, g) || within(g, k)))
                    .then_some(Some(name))
            }
            _ => None,
        }
    }

    /// Whether a suppression covers data or messages about node `k`.
    fn sup_covers_node(&self, s: &Suppression, k: usize) -> bool {
        match s.scope() {
            Scope::All => true,
            Scope::Interest(_) => self.sup_roots(s).iter().any(|&(r, _)| within(k, r)),
            _ => false,
        }
    }

    fn tomb_covers(&self, t: &Tombstone, k: usize) -> bool {
        match t.scope {
            ErasedScope::All => true,
            ErasedScope::Interest(r) => within(k, self.node(r)),
        }
    }

    fn subsumes(&self, wide: &ErasedScope, narrow: &ErasedScope) -> bool {
        match (wide, narrow) {
            (ErasedScope::All, _) => true,
            (ErasedScope::Interest(_), ErasedScope::All) => false,
            (ErasedScope::Interest(w), ErasedScope::Interest(n)) => {
                within(self.node(*n), self.node(*w))
            }
        }
    }
}

fn sup_covers_purpose(s: &Suppression, p: Purpose) -> bool {
    matches!(s.scope(), Scope::All) || s.scope() == Scope::Purpose(p)
}

/// Whether a suppression covers a message on `c` for `p`.
fn sup_covers_message(s: &Suppression, c: Channel, p: Purpose) -> bool {
    sup_covers_purpose(s, p)
        || s.scope() == Scope::Channel(c)
        || s.scope()
            == Scope::ChannelPurpose {
                channel: c,
                purpose: p,
            }
}

fn active(s: &Suppression, now: OffsetDateTime) -> bool {
    s.since() <= now && s.ends().is_none_or(|u| now < u)
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/// The model's consent state of `purpose` at `t`: the latest entry at or
/// before `t` decides (on equal instants the one appended last); a grant
/// whose expiry is at or before `t` has expired.
fn state_of(ledger: &[ConsentEntry], purpose: Purpose, t: OffsetDateTime) -> ConsentState {
    if purpose == Purpose::Service {
        return ConsentState::Granted;
    }
    let mut best: Option<&ConsentEntry> = None;
    for e in ledger {
        if e.purpose == purpose && e.at <= t && best.is_none_or(|b| e.at >= b.at) {
            best = Some(e);
        }
    }
    match best {
        None => ConsentState::NeverAsked,
        Some(e) => match e.change {
            Change::Withdraw => ConsentState::Withdrawn,
            Change::Grant { expires: Some(x) } if x <= t => ConsentState::Expired,
            Change::Grant { .. } => ConsentState::Granted,
        },
    }
}

fn restriction(s: ConsentState) -> u8 {
    match s {
        ConsentState::Granted => 0,
        ConsentState::NeverAsked => 1,
        ConsentState::Expired => 2,
        ConsentState::Withdrawn => 3,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    Suppressed,
    Disliked,
    Dismissed(OffsetDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct MScore {
    score: f64,
    events: u32,
    days: u32,
    est: Option<Establishment>,
}

#[derive(Debug, Clone, Default)]
struct Model {
    level: Level,
    ledger: Vec<ConsentEntry>,
    prefs: Vec<Preference>,
    sups: Vec<Suppression>,
    events: Vec<Event>,
    tombs: Vec<Tombstone>,
    refusals: BTreeMap<RefusalKind, u64>,
    /// Preferences declared at an instant an existing erasure covers: kept,
    /// as `Profile::like` knows nothing of tombstones.
    late_prefs: Vec<Preference>,
}

impl Model {
    fn state(&self, p: Purpose, t: OffsetDateTime) -> ConsentState {
        state_of(&self.ledger, p, t)
    }

    /// Appends a consent change the way the ledger stores changes: a grant
    /// without expiry equal to the purpose's latest entry (and not earlier)
    /// and a withdrawal of a purpose already withdrawn are not stored; a
    /// withdrawal dated before the latest entry drops a withdrawal that
    /// directly follows it. (Grants here are never dated before a
    /// withdrawal, so no refusal needs restoring.)
    fn record_consent(&mut self, e: ConsentEntry) {
        let mut latest: Option<&ConsentEntry> = None;
        for l in self.ledger.iter().filter(|l| l.purpose == e.purpose) {
            if latest.is_none_or(|b| l.at >= b.at) {
                latest = Some(l);
            }
        }
        let in_order = latest.is_none_or(|l| l.at <= e.at);
        match e.change {
            Change::Grant { expires } => {
                if in_order && expires.is_none() && latest.is_some_and(|l| l.change == e.change) {
                    return;
                }
                self.ledger.push(e);
            }
            Change::Withdraw => {
                if self.state(e.purpose, e.at) == ConsentState::Withdrawn {
                    return;
                }
                let (purpose, at) = (e.purpose, e.at);
                self.ledger.push(e);
                if !in_order {
                    let mut next: Option<usize> = None;
                    for (i, l) in self.ledger.iter().enumerate() {
                        if l.purpose == purpose
                            && l.at > at
                            && next.is_none_or(|j| l.at < self.ledger[j].at)
                        {
                            next = Some(i);
                        }
                    }
                    if let Some(j) = next.filter(|&j| self.ledger[j].change == Change::Withdraw) {
                        self.ledger.remove(j);
                    }
                }
            }
        }
    }

    fn granted(&self, p: Purpose, t: OffsetDateTime) -> bool {
        self.state(p, t) == ConsentState::Granted
    }

    /// Data recorded at `at` may be used for `p` at `now`: granted then and
    /// now, and no withdrawal in `(at, now]`.
    fn consent_usable(&self, p: Purpose, at: OffsetDateTime, now: OffsetDateTime) -> bool {
        self.granted(p, at)
            && self.granted(p, now)
            && !self
                .ledger
                .iter()
                .any(|e| e.purpose == p && e.change == Change::Withdraw && at < e.at && e.at <= now)
    }

    fn disliked(&self, w: &World, k: usize, now: OffsetDateTime) -> bool {
        self.prefs.iter().any(|p| {
            p.kind == PreferenceKind::Dislike && p.at <= now && within(k, w.node(p.interest))
        })
    }

    /// Dismissals whose cooldown runs at `now`: (node, instant).
    fn dismissals(&self, w: &World, now: OffsetDateTime) -> Vec<(usize, OffsetDateTime)> {
        let cd = w.pol.cooldown();
        self.events
            .iter()
            .filter(|e| e.is_dismissal() && e.at() <= now && now < e.at() + cd)
            .map(|e| (w.node(e.interest()), e.at()))
            .collect()
    }

    /// Why node `k` as a whole is blocked at `now`, if it is.
    fn block(&self, w: &World, k: usize, now: OffsetDateTime) -> Option<Block> {
        if self
            .sups
            .iter()
            .any(|s| active(s, now) && w.sup_covers_node(s, k))
        {
            return Some(Block::Suppressed);
        }
        if self.disliked(w, k, now) {
            return Some(Block::Disliked);
        }
        self.dismissals(w, now)
            .into_iter()
            .filter(|(d, _)| within(k, *d))
            .map(|(_, at)| at)
            .min()
            .map(Block::Dismissed)
    }

    /// The contribution of a stored event at `now`, if it is usable.
    fn contribution(&self, w: &World, e: &Event, now: OffsetDateTime) -> Option<f64> {
        if e.is_gift() || e.is_dismissal() {
            return None;
        }
        let k = w.node(e.interest());
        let age = now - e.at();
        if age.is_negative() || age > w.max_age(k, e.source()) {
            return None;
        }
        if self
            .sups
            .iter()
            .any(|s| active(s, now) && w.sup_covers_node(s, k))
            || self.disliked(w, k, now)
        {
            return None;
        }
        if self
            .dismissals(w, now)
            .iter()
            .any(|(d, at)| within(k, *d) && e.at() <= *at)
        {
            return None;
        }
        if self.level < required_level(e.source(), e.context()) {
            return None;
        }
        let needs = needed(k, e.source(), e.context());
        if needs.contains(&Purpose::SensitiveInterests) && !w.pol.allow_sensitive {
            return None;
        }
        for p in needs {
            if self
                .sups
                .iter()
                .any(|s| active(s, now) && sup_covers_purpose(s, p))
            {
                return None;
            }
            if !self.consent_usable(p, e.at(), now) {
                return None;
            }
        }
        let hl = w.half_life(k).as_seconds_f64();
        Some(w.weight(e) * 0.5f64.powf(age.as_seconds_f64() / hl))
    }

    fn likes_usable(&self, now: OffsetDateTime) -> bool {
        self.level >= Level::Declared
            && self.granted(Purpose::Personalization, now)
            && !self
                .sups
                .iter()
                .any(|s| active(s, now) && s.scope() == Scope::Purpose(Purpose::Personalization))
    }

    /// Whether a declared like establishes node `k` at `now`: a like on `k`
    /// or an ancestor, or on a descendant that is not blocked itself.
    fn like_for(&self, w: &World, k: usize, now: OffsetDateTime) -> bool {
        if !self.likes_usable(now) || self.block(w, k, now).is_some() {
            return false;
        }
        self.prefs.iter().any(|p| {
            let l = w.node(p.interest);
            p.kind == PreferenceKind::Like
                && p.at <= now
                && (within(k, l) || (within(l, k) && self.block(w, l, now).is_none()))
        })
    }

    fn scores(&self, w: &World, now: OffsetDateTime) -> Vec<MScore> {
        let used: Vec<(usize, f64, i64)> = self
            .events
            .iter()
            .filter_map(|e| {
                self.contribution(w, e, now).map(|c| {
                    (
                        w.node(e.interest()),
                        c,
                        e.at().unix_timestamp().div_euclid(86_400),
                    )
                })
            })
            .collect();
        let sensitive_ok = w.pol.allow_sensitive && self.granted(Purpose::SensitiveInterests, now);
        (0..N)
            .map(|i| {
                let mut score = 0.0;
                let mut events = 0u32;
                let mut days = BTreeSet::new();
                for (k, c, day) in &used {
                    if within(*k, i) {
                        score += c;
                        events += 1;
                        days.insert(*day);
                    }
                }
                let observed = events >= w.pol.min_events
                    && days.len() >= w.pol.min_days as usize
                    && (sensitive_ok || !special(i))
                    && self.block(w, i, now).is_none();
                let est = if observed {
                    Some(Establishment::Observed)
                } else if self.like_for(w, i, now) {
                    Some(Establishment::DeclaredLike)
                } else {
                    None
                };
                MScore {
                    score,
                    events,
                    days: (days.len() as u32).min(w.pol.min_days),
                    est,
                }
            })
            .collect()
    }

    fn holds(&self, w: &World, r: &R, sc: &[MScore], now: OffsetDateTime) -> bool {
        match r {
            R::All(rs) => rs.iter().all(|r| self.holds(w, r, sc, now)),
            R::Any(rs) => rs.iter().any(|r| self.holds(w, r, sc, now)),
            R::Not(r) => !self.holds(w, r, sc, now),
            R::Interest(k, min) => match sc[*k].est {
                Some(Establishment::DeclaredLike) => true,
                // Up to a relative 1e-12, as documented on `Rule::InterestAtLeast`.
                // A declared like meets any minimum, observed evidence or not.
                Some(Establishment::Observed) => {
                    let min = min.unwrap_or(0.0);
                    sc[*k].score >= min - 1e-12 * min.abs() || self.like_for(w, *k, now)
                }
                None => false,
            },
            R::Likes(k) => self.like_for(w, *k, now),
            R::Dislikes(k) => self.disliked(w, *k, now),
            R::LevelAtLeast(l) => self.level >= *l,
        }
    }

    fn segment_names(&self, w: &World, sc: &[MScore], now: OffsetDateTime) -> Vec<String> {
        (0..w.segs.len())
            .filter(|&s| {
                let (name, r, purpose, channels) = &w.segs[s];
                let channels = if channels.is_empty() {
                    CHANNELS.to_vec()
                } else {
                    channels.clone()
                };
                let _ = name;
                channels
                    .iter()
                    .any(|&c| self.gate(w, (c, *purpose, Tgt::Segment(s)), now).is_empty())
                    && self.holds(w, r, sc, now)
            })
            .map(|s| w.segs[s].0.to_owned())
            .collect()
    }

    /// The one gate, as documented on `Engine::decide`: every reason a use
    /// is refused, in order (suppressions, consent, level, own blocks).
    fn gate(
        &self,
        w: &World,
        req: (Channel, Purpose, Tgt),
        now: OffsetDateTime,
    ) -> Vec<DenyReason> {
        let channel = req.0;
        let (purposes, mentioned, positives) = w.use_of(req);
        let mut deny = Vec::new();
        for s in self.sups.iter().filter(|s| active(s, now)) {
            let by_message = purposes.iter().any(|&p| sup_covers_message(s, channel, p));
            let by_interest = if by_message {
                None
            } else {
                mentioned.iter().find_map(|&k| w.sup_touches(s, k))
            };
            if by_message || by_interest.is_some() {
                deny.push(DenyReason::Suppressed {
                    scope: s.scope(),
                    about: w.about(s.scope()),
                    reason: s.reason(),
                    until: s.ends(),
                    life_event: by_interest.flatten().map(str::to_owned),
                });
            }
        }
        for &p in purposes.iter().filter(|p| **p != Purpose::Service) {
            let state = self.state(p, now);
            if state != ConsentState::Granted {
                deny.push(DenyReason::NoConsent { purpose: p, state });
            }
        }
        if self.level == Level::Off && purposes.iter().any(|p| *p != Purpose::Service) {
            deny.push(DenyReason::LevelTooLow {
                required: Level::Declared,
                level: self.level,
            });
        }
        for &k in &positives {
            match self.block(w, k, now) {
                Some(Block::Disliked) => deny.push(DenyReason::Disliked {
                    interest: w.ids[k],
                    path: PATHS[k].0.to_owned(),
                }),
                Some(Block::Dismissed(at)) => deny.push(DenyReason::Dismissed {
                    interest: w.ids[k],
                    path: PATHS[k].0.to_owned(),
                    at,
                }),
                _ => {}
            }
        }
        deny
    }

    /// Every deny reason of a request, in the documented order; empty: allow.
    fn decide(
        &self,
        w: &World,
        req: (Channel, Purpose, Tgt),
        sc: &[MScore],
        now: OffsetDateTime,
    ) -> Vec<DenyReason> {
        let mut deny = self.gate(w, req, now);
        match req.2 {
            Tgt::Nobody => {}
            Tgt::Interest(k) => {
                if self.block(w, k, now).is_none() && sc[k].est.is_none() {
                    deny.push(DenyReason::NotEstablished {
                        interest: w.ids[k],
                        path: PATHS[k].0.to_owned(),
                    });
                }
            }
            Tgt::Segment(s) => {
                if !self.holds(w, &w.segs[s].1, sc, now) {
                    deny.push(DenyReason::NotMember {
                        segment: w.segs[s].0.into(),
                    });
                }
            }
        }
        deny
    }

    /// Why recording `e` at `now` must be refused, if it must.
    fn refusal(&self, w: &World, e: &Event, now: OffsetDateTime) -> Option<RefusalKind> {
        let k = w.node(e.interest());
        let age = now - e.at();
        if age.is_negative() {
            return Some(RefusalKind::FromFuture);
        }
        if self
            .tombs
            .iter()
            .any(|t| w.tomb_covers(t, k) && e.at() <= t.at)
        {
            return Some(RefusalKind::Erased);
        }
        if e.is_dismissal() {
            if age >= w.pol.cooldown() {
                return Some(RefusalKind::Stale);
            }
        } else {
            let needs = needed(k, e.source(), e.context());
            if self.sups.iter().any(|s| {
                active(s, now)
                    && (w.sup_covers_node(s, k) || needs.iter().any(|p| sup_covers_purpose(s, *p)))
            }) {
                return Some(RefusalKind::Suppressed);
            }
            if age > w.max_age(k, e.source()) {
                return Some(RefusalKind::Stale);
            }
            if self.level < required_level(e.source(), e.context()) {
                return Some(RefusalKind::Level);
            }
            if needs.contains(&Purpose::SensitiveInterests) && !w.pol.allow_sensitive {
                return Some(RefusalKind::Sensitive);
            }
            if needs.iter().any(|p| !self.consent_usable(*p, e.at(), now)) {
                return Some(RefusalKind::NoConsent);
            }
            if self.disliked(w, k, now) {
                return Some(RefusalKind::Disliked);
            }
            let cd = w.pol.cooldown();
            if self.events.iter().any(|d| {
                d.is_dismissal()
                    && e.at() <= d.at()
                    && d.at() <= now
                    && now < d.at() + cd
                    && within(k, w.node(d.interest()))
            }) {
                return Some(RefusalKind::Dismissed);
            }
        }
        if self.events.contains(e) {
            return Some(RefusalKind::Duplicate);
        }
        None
    }

    fn record(&mut self, w: &World, e: Event, now: OffsetDateTime) -> Result<(), RefusalKind> {
        match self.refusal(w, &e, now) {
            Some(kind) => {
                *self.refusals.entry(kind).or_insert(0) += 1;
                Err(kind)
            }
            None => {
                self.events.push(e);
                Ok(())
            }
        }
    }

    /// Instants at which some answer may change.
    fn edges(&self, w: &World) -> Vec<OffsetDateTime> {
        let mut out = Vec::new();
        for e in &self.events {
            out.push(e.at());
            if e.is_dismissal() {
                out.push(e.at() + w.pol.cooldown());
            } else {
                out.push(e.at() + w.max_age(w.node(e.interest()), e.source()));
            }
        }
        for c in &self.ledger {
            out.push(c.at);
            if let Change::Grant { expires: Some(x) } = c.change {
                out.push(x);
            }
        }
        for s in &self.sups {
            out.push(s.since());
            out.extend(s.ends());
        }
        out.extend(self.prefs.iter().map(|p| p.at));
        out.extend(self.tombs.iter().map(|t| t.at));
        out
    }

    fn declare(&mut self, w: &World, mut p: Preference) {
        // Replacing keeps the later instant (see `Profile::like`).
        if let Some(old) = self.prefs.iter().find(|q| q.interest == p.interest) {
            p.at = p.at.max(old.at);
        }
        let k = w.node(p.interest);
        if self
            .tombs
            .iter()
            .any(|t| !t.signals_only && w.tomb_covers(t, k) && p.at < t.at)
        {
            self.late_prefs.push(p);
        }
        self.prefs.retain(|q| q.interest != p.interest);
        self.prefs.push(p);
    }

    /// Removes everything in the tombstone's scope, whatever its instant,
    /// and keeps the tombstone (dropping older ones it subsumes), moved
    /// past the newest removed instant if that is later than its own (by
    /// the smallest power of two nanoseconds beyond it, as documented).
    /// Returns the number of removed events.
    fn forget(&mut self, w: &World, mut tomb: Tombstone) -> usize {
        let before = self.events.len();
        let inside = |k: usize| w.tomb_covers(&tomb, k);
        let mut newest: Option<OffsetDateTime> = None;
        for e in self.events.iter().filter(|e| inside(w.node(e.interest()))) {
            newest = newest.max(Some(e.at()));
        }
        if !tomb.signals_only {
            for p in self.prefs.iter().filter(|p| inside(w.node(p.interest))) {
                newest = newest.max(Some(p.at));
            }
        }
        self.events.retain(|e| !inside(w.node(e.interest())));
        if !tomb.signals_only {
            self.prefs.retain(|p| !inside(w.node(p.interest)));
        }
        if let Some(n) = newest.filter(|n| *n > tomb.at) {
            let gap = (n - tomb.at).whole_nanoseconds();
            let mut step: i128 = 1;
            while step <= gap {
                step *= 2;
            }
            tomb.at = tomb
                .at
                .checked_add(Duration::nanoseconds_i128(step))
                .unwrap_or(n);
        }
        let covered = self.tombs.iter().any(|t| {
            tomb.at <= t.at
                && w.subsumes(&t.scope, &tomb.scope)
                && (tomb.signals_only || !t.signals_only)
        });
        if !covered {
            self.tombs.retain(|t| {
                !(t.at <= tomb.at
                    && w.subsumes(&tomb.scope, &t.scope)
                    && (t.signals_only || !tomb.signals_only))
            });
            self.tombs.push(tomb);
        }
        before - self.events.len()
    }

    fn suppress(&mut self, w: &World, s: Suppression, now: OffsetDateTime) -> usize {
        let purged = match (s.reason(), s.scope()) {
            // Its subtree and the life event's, one tombstone each.
            (SuppressionReason::Bereavement, Scope::Interest(_)) => w
                .sup_roots(&s)
                .into_iter()
                .map(|(k, _)| {
                    self.forget(
                        w,
                        Tombstone {
                            scope: ErasedScope::Interest(w.ids[k]),
                            at: now,
                            signals_only: true,
                        },
                    )
                })
                .sum(),
            (SuppressionReason::Bereavement, Scope::All) => self.forget(
                w,
                Tombstone {
                    scope: ErasedScope::All,
                    at: now,
                    signals_only: true,
                },
            ),
            _ => 0,
        };
        if !self.sups.contains(&s) {
            self.sups.push(s);
        }
        purged
    }

    fn compact(&mut self, w: &World, now: OffsetDateTime) -> usize {
        let before = self.events.len();
        let cd = w.pol.cooldown();
        self.events.retain(|e| {
            let age = now - e.at();
            if e.is_dismissal() {
                age < cd
            } else {
                age <= w.max_age(w.node(e.interest()), e.source())
            }
        });
        self.sups.retain(|s| s.ends().is_none_or(|u| u > now));
        before - self.events.len()
    }

    /// Joins `other` into `self` as documented; the consent ledger is
    /// checked and adopted by the caller.
    fn merge(&mut self, w: &World, other: &Model) {
        for t in &other.tombs {
            if !self.tombs.contains(t) {
                self.tombs.push(*t);
            }
        }
        self.tombs = newest_per_scope(&self.tombs);
        let tombs = self.tombs.clone();
        let gone =
            |k: usize, at: OffsetDateTime| tombs.iter().any(|t| w.tomb_covers(t, k) && at <= t.at);
        for e in &other.events {
            if !gone(w.node(e.interest()), e.at()) && !self.events.contains(e) {
                self.events.push(*e);
            }
        }
        self.events.retain(|e| !gone(w.node(e.interest()), e.at()));
        for s in &other.sups {
            if !self.sups.contains(s) {
                self.sups.push(*s);
            }
        }
        for p in &other.prefs {
            if !self.prefs.contains(p) {
                self.prefs.push(*p);
            }
        }
        // Per interest the newest statement wins (the greater kind on a tie).
        let stated = self.prefs.clone();
        self.prefs.retain(|p| {
            !stated
                .iter()
                .any(|q| q.interest == p.interest && (q.at, q.kind) > (p.at, p.kind))
        });
        self.prefs.retain(|p| {
            !tombs
                .iter()
                .any(|t| !t.signals_only && w.tomb_covers(t, w.node(p.interest)) && p.at <= t.at)
        });
        self.level = self.level.min(other.level);
        for (k, v) in &other.refusals {
            let c = self.refusals.entry(*k).or_insert(0);
            *c = (*c).max(*v);
        }
    }
}

/// Per scope, the newest full erasure and the newest signals-only purge if
/// it is newer than that erasure (every other tombstone of the scope erases
/// nothing they do not), in their order.
fn newest_per_scope(tombs: &[Tombstone]) -> Vec<Tombstone> {
    tombs
        .iter()
        .filter(|t| {
            let same = |u: &&Tombstone| u.scope == t.scope;
            let newest_of_kind = tombs
                .iter()
                .filter(same)
                .filter(|u| u.signals_only == t.signals_only)
                .all(|u| u.at <= t.at);
            // The first of equal instants stands for the kind.
            let first = tombs
                .iter()
                .filter(same)
                .find(|u| u.signals_only == t.signals_only && u.at == t.at)
                .is_some_and(|u| std::ptr::eq(u, *t));
            let full_newer = t.signals_only
                && tombs
                    .iter()
                    .filter(same)
                    .any(|u| !u.signals_only && u.at >= t.at);
            newest_of_kind && first && !full_newer
        })
        .copied()
        .collect()
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum ScopeSpec {
    All,
    Channel(usize),
    ChannelPurpose(usize, usize),
    Purpose(usize),
    Interest(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Record {
        node: usize,
        signal: usize,
        source: usize,
        context: usize,
        gift: bool,
        weight: f64,
        /// Seconds before the clock (negative: from the future).
        lag_s: i64,
        nanos: i64,
    },
    /// Records again an event tried before.
    Repeat(usize),
    Dismiss {
        node: usize,
        lag_s: i64,
        nanos: i64,
    },
    /// A grant at the clock, or at `at` if given; lapsing `expires_h`
    /// hours after the clock, or at `expires` if given (no expiry if that
    /// is before the grant).
    Grant {
        purpose: usize,
        expires_h: Option<i64>,
        at: Option<OffsetDateTime>,
        expires: Option<OffsetDateTime>,
    },
    /// A withdrawal at the clock, or at the instant given.
    Withdraw(usize, Option<OffsetDateTime>),
    /// A suppression from `since_h` hours after the clock (or `since`) for
    /// `until_h` hours (or until `until`; no end if that is not after the
    /// start).
    Suppress {
        scope: ScopeSpec,
        reason: usize,
        since_h: i64,
        until_h: Option<i64>,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    },
    /// A like declared at the clock, or at the instant given.
    Like(usize, Option<OffsetDateTime>),
    Dislike(usize, Option<OffsetDateTime>),
    /// A preference cleared at the clock, or at the instant given.
    ClearPreference(usize, Option<OffsetDateTime>),
    Level(usize),
    Compact,
    /// An erasure at the clock, or at the instant given.
    Erase(usize, Option<OffsetDateTime>),
    Snapshot,
    Merge {
        reverse: bool,
    },
    Advance(i64),
    Query(i64),
    /// Reads at an instant where something changes (an event's max age, a
    /// cooldown's end, a suppression's or a grant's end...), shifted by
    /// -1, 0 or +1 ns.
    QueryEdge(usize, i64),
}

const DAY: i64 = 86_400;

/// Instants anywhere `OffsetDateTime` can hold them: the ends of its range
/// with the widest offsets, the ends of the store's nanosecond range
/// (1677-09-21 and 2262-04-11) and around them, and any instant of years
/// -9999 to 9999 with any offset.
fn extreme() -> impl Strategy<Value = OffsetDateTime> {
    let offset = prop_oneof![
        2 => Just(0i32),
        1 => Just(-86_399i32),
        1 => Just(86_399i32),
        2 => -86_399i32..=86_399,
    ];
    let ns = |n: i128| OffsetDateTime::from_unix_timestamp_nanos(n).unwrap();
    prop_oneof![
        1 => (offset.clone(), any::<bool>()).prop_map(|(o, max)| {
            let at = if max { PrimitiveDateTime::MAX } else { PrimitiveDateTime::MIN };
            at.assume_offset(UtcOffset::from_whole_seconds(o).unwrap())
        }),
        1 => prop_oneof![
            Just(ns(i128::from(i64::MIN))),
            Just(ns(i128::from(i64::MAX))),
            Just(ns(i128::from(i64::MIN) - 1)),
            Just(ns(i128::from(i64::MAX) + 1)),
        ],
        2 => (
            PrimitiveDateTime::MIN.assume_utc().unix_timestamp()
                ..=PrimitiveDateTime::MAX.assume_utc().unix_timestamp(),
            0u32..1_000_000_000,
            offset,
        )
            .prop_map(|(secs, nanos, o)| {
                let o = UtcOffset::from_whole_seconds(o).unwrap();
                let t = OffsetDateTime::from_unix_timestamp(secs)
                    .unwrap()
                    .replace_nanosecond(nanos)
                    .unwrap();
                // Keep the wall clock in range: shift the offset, not the instant.
                t.checked_to_offset(o).unwrap_or(t)
            }),
    ]
}

/// Now and then an instant from [`extreme`].
fn odd() -> impl Strategy<Value = Option<OffsetDateTime>> {
    prop::option::weighted(0.08, extreme())
}

fn record() -> impl Strategy<Value = Op> {
    let day = DAY;
    (
        0..N,
        0..5usize,
        prop_oneof![8 => Just(0usize), 1 => Just(1), 1 => Just(2)],
        prop_oneof![8 => Just(0usize), 1 => Just(1), 1 => Just(2)],
        prop::bool::weighted(0.1),
        prop_oneof![4 => Just(1.0f64), 1 => Just(0.0), 1 => Just(2.5), 2 => 0.0f64..4.0],
        prop_oneof![
            3 => Just(0i64),
            6 => 0..2 * day,
            1 => 0..80 * day,
            1 => -3 * day..-1,
        ],
        prop_oneof![3 => Just(0i64), 2 => 0i64..1_000_000_000],
    )
        .prop_map(
            |(node, signal, source, context, gift, weight, lag_s, nanos)| Op::Record {
                node,
                signal,
                source,
                context,
                gift,
                weight,
                lag_s,
                nanos,
            },
        )
}

fn dismiss() -> impl Strategy<Value = Op> {
    let day = DAY;
    (
        0..N,
        prop_oneof![2 => Just(0i64), 2 => 0..20 * day, 1 => 0..120 * day],
        0i64..1_000_000_000,
    )
        .prop_map(|(node, lag_s, nanos)| Op::Dismiss { node, lag_s, nanos })
}

/// Operations that build up a history: what most steps of a calm run are.
fn calm_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => record(),
        1 => dismiss(),
        1 => any::<usize>().prop_map(Op::Repeat),
        4 => prop_oneof![3 => 0i64..24 * 60, 2 => 0i64..3 * 24 * 60].prop_map(Op::Advance),
        1 => (-20 * 24 * 60i64..40 * 24 * 60).prop_map(Op::Query),
        1 => (any::<usize>(), -1i64..=1).prop_map(|(i, d)| Op::QueryEdge(i, d)),
        1 => Just(Op::Compact),
        1 => Just(Op::Snapshot),
        1 => any::<bool>().prop_map(|reverse| Op::Merge { reverse }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        24 => record(),
        2 => any::<usize>().prop_map(Op::Repeat),
        3 => dismiss(),
        3 => (
            prop_oneof![3 => Just(0usize), 4 => 0..7usize],
            prop::option::weighted(0.3, 0i64..24 * 40),
            odd(),
            odd(),
        )
            .prop_map(|(purpose, expires_h, at, expires)| Op::Grant {
                purpose,
                expires_h,
                at,
                expires
            }),
        1 => (prop_oneof![2 => Just(0usize), 3 => 0..7usize], odd())
            .prop_map(|(p, at)| Op::Withdraw(p, at)),
        2 => (
            prop_oneof![
                1 => Just(ScopeSpec::All),
                2 => (0..7usize).prop_map(ScopeSpec::Channel),
                1 => (0..7usize, 0..7usize).prop_map(|(c, p)| ScopeSpec::ChannelPurpose(c, p)),
                2 => (0..7usize).prop_map(ScopeSpec::Purpose),
                4 => (0..N).prop_map(ScopeSpec::Interest),
            ],
            prop_oneof![1 => Just(0usize), 3 => 1..6usize],
            prop_oneof![3 => Just(0i64), 1 => -48i64..48],
            prop::option::weighted(0.7, prop_oneof![3 => 1i64..72, 1 => 1i64..24 * 30]),
            odd(),
            odd(),
        )
            .prop_map(|(scope, reason, since_h, until_h, since, until)| Op::Suppress {
                scope,
                reason,
                since_h,
                until_h,
                since,
                until,
            }),
        2 => (0..N, odd()).prop_map(|(k, at)| Op::Like(k, at)),
        1 => (0..N, odd()).prop_map(|(k, at)| Op::Dislike(k, at)),
        1 => (0..N, odd()).prop_map(|(k, at)| Op::ClearPreference(k, at)),
        1 => prop_oneof![1 => Just(0usize), 1 => Just(1), 3 => Just(2), 3 => Just(3)].prop_map(Op::Level),
        1 => Just(Op::Compact),
        1 => (0..N, odd()).prop_map(|(k, at)| Op::Erase(k, at)),
        1 => Just(Op::Snapshot),
        1 => any::<bool>().prop_map(|reverse| Op::Merge { reverse }),
        5 => prop_oneof![3 => 0i64..24 * 60, 2 => 0i64..6 * 24 * 60].prop_map(Op::Advance),
        2 => (-20 * 24 * 60i64..40 * 24 * 60).prop_map(Op::Query),
        2 => (any::<usize>(), -1i64..=1).prop_map(|(i, d)| Op::QueryEdge(i, d)),
    ]
}

fn pol() -> impl Strategy<Value = Pol> {
    (
        prop_oneof![Just(24 * 14i64), Just(24 * 5), 12i64..24 * 30],
        prop_oneof![Just(56i64), Just(30), 5i64..90],
        prop_oneof![Just(21i64), Just(10), 0i64..40],
        1u32..=4,
        any::<u32>(),
        prop_oneof![Just(90i64), Just(10), Just(0), 0i64..60],
        any::<bool>(),
        prop_oneof![
            3 => Just([1.0, 1.5, 1.5, 3.0, 5.0]),
            1 => prop::array::uniform5(0.0f64..6.0),
        ],
    )
        .prop_map(
            |(
                half_life_hours,
                max_age_days,
                partner,
                min_events,
                sel,
                cooldown_days,
                allow,
                weights,
            )| Pol {
                half_life_hours,
                max_age_days,
                partner_days: partner.min(max_age_days),
                min_events,
                min_days: 1 + sel % min_events,
                cooldown_days,
                allow_sensitive: allow,
                weights,
            },
        )
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn same_scores(w: &World, a: &Scores, b: &Scores, what: &str) -> Result<(), TestCaseError> {
    for (k, id) in w.ids.iter().enumerate() {
        let (x, y) = (a.get(*id).unwrap(), b.get(*id).unwrap());
        prop_assert!(
            close(x.score, y.score),
            "{what}: {} at {}: {} vs {}",
            PATHS[k].0,
            a.now(),
            x.score,
            y.score
        );
        prop_assert_eq!(
            (x.events, x.days, x.established),
            (y.events, y.days, y.established),
            "{}: {}",
            what,
            PATHS[k].0
        );
    }
    Ok(())
}

fn sorted_events(mut v: Vec<Event>) -> Vec<String> {
    let mut out: Vec<String> = v.drain(..).map(|e| format!("{e:?}")).collect();
    out.sort();
    out
}

/// The model and the real profile hold the same data.
fn check_state(w: &World, real: &Profile, m: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(real.level(), m.level);
    // Consent is compared by its answers: the ledger may store a late or
    // repeated signal differently (it keeps changes, not signals) as long
    // as every purpose's state agrees at every instant that matters.
    let mut instants: Vec<OffsetDateTime> = Vec::new();
    for e in real.consent().entries().iter().chain(&m.ledger) {
        instants.push(e.at);
        instants.extend(e.at.checked_sub(Duration::nanoseconds(1)));
        instants.extend(e.at.checked_add(Duration::nanoseconds(1)));
        if let Change::Grant { expires: Some(x) } = e.change {
            instants.push(x);
            instants.extend(x.checked_sub(Duration::nanoseconds(1)));
        }
    }
    for p in Purpose::ALL.into_iter().filter(|p| p.needs_consent()) {
        for t in &instants {
            prop_assert_eq!(
                real.consent().state(p, *t),
                m.state(p, *t),
                "consent of {} at {}: {:?} vs model {:?}",
                p,
                t,
                real.consent().entries(),
                m.ledger
            );
        }
    }
    prop_assert_eq!(real.preferences(), &m.prefs[..]);
    prop_assert_eq!(real.suppressions(), &m.sups[..]);
    prop_assert_eq!(real.tombstones(), &m.tombs[..]);
    prop_assert_eq!(real.stored_events(), m.events.len());
    prop_assert_eq!(
        sorted_events(real.events()),
        sorted_events(m.events.clone())
    );
    for kind in all_kinds() {
        prop_assert_eq!(
            real.refusals().get(kind),
            m.refusals.get(&kind).copied().unwrap_or(0),
            "refusals of kind {}",
            kind
        );
    }
    // No stored event or preference is covered by a tombstone.
    for t in real.tombstones() {
        for e in real.events() {
            prop_assert!(
                !(w.tomb_covers(t, w.node(e.interest())) && e.at() <= t.at),
                "{e:?} survives {t:?}"
            );
        }
        if !t.signals_only {
            // Preferences declared after the erasure (at its instant itself,
            // or at any instant given) are kept: `Profile::like` knows
            // nothing of tombstones.
            for p in real
                .preferences()
                .iter()
                .filter(|p| !m.late_prefs.contains(p))
            {
                prop_assert!(
                    !(w.tomb_covers(t, w.node(p.interest)) && p.at < t.at),
                    "{p:?} survives {t:?}"
                );
            }
        }
    }
    Ok(())
}

fn all_kinds() -> [RefusalKind; 11] {
    [
        RefusalKind::NoConsent,
        RefusalKind::Level,
        RefusalKind::Suppressed,
        RefusalKind::Stale,
        RefusalKind::FromFuture,
        RefusalKind::Invalid,
        RefusalKind::Erased,
        RefusalKind::Sensitive,
        RefusalKind::Disliked,
        RefusalKind::Dismissed,
        RefusalKind::Duplicate,
    ]
}

/// Everything a read at `now` answers agrees with the model, and the laws hold.
fn check_at(
    w: &World,
    real: &Profile,
    m: &Model,
    now: OffsetDateTime,
) -> Result<(), TestCaseError> {
    let e = &w.engine;
    let scores = e.scores(real, now);
    let scan = e.scores_by_scan(real, now);
    same_scores(w, &scores, &scan, "scores vs scores_by_scan")?;
    let mut want = m.scores(w, now);
    for (k, id) in w.ids.iter().enumerate() {
        let got = scores.get(*id).unwrap();
        prop_assert!(
            got.score.is_finite() && got.score >= 0.0,
            "{} at {now}: score {}",
            PATHS[k].0,
            got.score
        );
        prop_assert!(
            close(got.score, want[k].score),
            "{} at {now}: library {} model {}",
            PATHS[k].0,
            got.score,
            want[k].score
        );
        prop_assert_eq!(
            (got.events, got.days, got.established),
            (want[k].events, want[k].days, want[k].est),
            "{} at {}: (events, days, established) library vs model",
            PATHS[k].0,
            now
        );
    }
    // Rules compare scores with thresholds: evaluate the model's rules on
    // the library's values (equal to the model's up to rounding, checked
    // above) so that a score of exactly the threshold cannot flip sides.
    for (k, id) in w.ids.iter().enumerate() {
        want[k].score = scores.get(*id).unwrap().score;
    }
    // Segments.
    let names: Vec<String> = e
        .segment_names(real, now)
        .into_iter()
        .map(str::to_owned)
        .collect();
    prop_assert_eq!(
        &names,
        &m.segment_names(w, &want, now),
        "segments at {}",
        now
    );
    let full: Vec<String> = e
        .segments(real, now)
        .into_iter()
        .map(|s| s.segment)
        .collect();
    prop_assert_eq!(&full, &names);
    check_gate_laws(w, real, &names, now)?;
    // Decisions.
    for &req in &w.reqs {
        let got = e.decide(real, &w.request(req), now);
        let want_reasons = m.decide(w, req, &want, now);
        prop_assert_eq!(
            got.is_allowed(),
            want_reasons.is_empty(),
            "{:?} at {}: library {:?}, model {:?}",
            req,
            now,
            got.reasons(),
            want_reasons
        );
        prop_assert_eq!(got.reasons(), &want_reasons[..], "{:?} at {}", req, now);
    }
    // Report facts.
    let report = e.report(real, now);
    prop_assert_eq!(report.stored_events, m.events.len());
    for kind in all_kinds() {
        prop_assert_eq!(
            report.refusals.get(kind),
            m.refusals.get(&kind).copied().unwrap_or(0)
        );
    }
    check_suppression_dominates(w, real, &scores, now)
}

/// The laws of the one gate: a member may be addressed for the segment's
/// purpose on at least one of its channels; under an active `Scope::All`
/// suppression no segment lists the person; withdrawing a purpose never
/// adds a membership.
fn check_gate_laws(
    w: &World,
    real: &Profile,
    names: &[String],
    now: OffsetDateTime,
) -> Result<(), TestCaseError> {
    for name in names {
        let (_, _, purpose, channels) = w.segs.iter().find(|s| s.0 == name).unwrap();
        let channels = if channels.is_empty() {
            CHANNELS.to_vec()
        } else {
            channels.clone()
        };
        let allowed = channels.iter().any(|&c| {
            let req = MessageRequest::new(c, *purpose).about(Target::Segment(name.clone()));
            w.engine.decide(real, &req, now).is_allowed()
        });
        prop_assert!(
            allowed,
            "{name} lists the person at {now} but decide allows no channel"
        );
    }
    if real
        .suppressions()
        .iter()
        .any(|s| s.is_active(now) && s.scope() == Scope::All)
    {
        prop_assert!(
            names.is_empty(),
            "listed under Scope::All at {now}: {names:?}"
        );
    }
    for p in CONSENT_PURPOSES {
        if !real.consent().is_granted(p, now) {
            continue;
        }
        let mut less = real.clone();
        less.consent_mut().withdraw(p, now, ui()).unwrap();
        for name in w.engine.segment_names(&less, now) {
            prop_assert!(
                names.iter().any(|n| n == name),
                "withdrawing {p} at {now} added {name} (before: {names:?})"
            );
        }
    }
    Ok(())
}

/// While an active suppression covers an interest, purpose or channel, no
/// decision about it is `Allow`, the suppression is named, and nothing it
/// covers scores or is established.
fn check_suppression_dominates(
    w: &World,
    real: &Profile,
    scores: &Scores,
    now: OffsetDateTime,
) -> Result<(), TestCaseError> {
    for s in real.suppressions().iter().filter(|s| s.is_active(now)) {
        for &req in &w.reqs {
            let (purposes, mentioned, _) = w.use_of(req);
            let by_interest = mentioned.iter().find_map(|&k| w.sup_touches(s, k));
            let by_message = purposes.iter().any(|&p| sup_covers_message(s, req.0, p));
            let covers = by_message || by_interest.is_some();
            if covers {
                let d = w.engine.decide(real, &w.request(req), now);
                prop_assert!(!d.is_allowed(), "{s:?} active but {req:?} allowed at {now}");
                prop_assert!(
                    d.reasons().contains(&DenyReason::Suppressed {
                        scope: s.scope(),
                        about: w.about(s.scope()),
                        reason: s.reason(),
                        until: s.ends(),
                        life_event: if by_message {
                            None
                        } else {
                            by_interest.flatten().map(str::to_owned)
                        },
                    }),
                    "{s:?} not named for {req:?}: {:?}",
                    d.reasons()
                );
            }
        }
        for (k, (path, _)) in PATHS.iter().enumerate() {
            let data_blocked =
                w.sup_covers_node(s, k) || s.scope() == Scope::Purpose(Purpose::Personalization);
            if data_blocked {
                let sc = scores.get(w.ids[k]).unwrap();
                prop_assert!(
                    sc.score == 0.0 && sc.events == 0 && sc.established.is_none(),
                    "{path} counts under {s:?}: {sc:?}"
                );
            }
        }
    }
    Ok(())
}

/// After a merge: per purpose, the joined state is the more restrictive of
/// the two at every instant that matters ("expired" may stand for "never
/// asked", both mean "ask", as documented), and every withdrawal is kept.
fn check_consent_join(
    joined: &ConsentLedger,
    a: &[ConsentEntry],
    b: &[ConsentEntry],
    extra: &[OffsetDateTime],
) -> Result<(), TestCaseError> {
    let mut probes: BTreeSet<OffsetDateTime> = extra.iter().copied().collect();
    for e in a.iter().chain(b) {
        for t in std::iter::once(e.at).chain(match e.change {
            Change::Grant { expires } => expires,
            Change::Withdraw => None,
        }) {
            probes.extend(t.checked_sub(Duration::nanoseconds(1)));
            probes.insert(t);
            probes.extend(t.checked_add(Duration::nanoseconds(1)));
        }
    }
    for p in CONSENT_PURPOSES {
        for &t in &probes {
            let (sa, sb) = (state_of(a, p, t), state_of(b, p, t));
            let want = if restriction(sb) > restriction(sa) {
                sb
            } else {
                sa
            };
            let got = joined.state(p, t);
            prop_assert!(
                got == want || (want == ConsentState::NeverAsked && got == ConsentState::Expired),
                "{p} at {t}: joined {got:?}, want {want:?} (from {sa:?} and {sb:?})"
            );
        }
        // Data from before every withdrawal of either side stays blocked: the
        // join keeps that withdrawal, or an earlier one with no granted
        // instant between (which blocks the same data), or was never granted
        // before it (no data to block).
        for e in a.iter().chain(b) {
            if e.purpose == p && e.change == Change::Withdraw {
                let kept = joined.last_withdrawal(p, e.at);
                let since = match kept {
                    Some(k) => probes.range(k..e.at),
                    None => probes.range(..e.at),
                };
                prop_assert!(
                    since.clone().all(|&t| !joined.state(p, t).is_granted()),
                    "withdrawal of {p} at {} lost in the merge (latest kept: {kept:?})",
                    e.at
                );
            }
        }
    }
    Ok(())
}

/// An instant as the JSON form writes it: RFC 3339 in UTC where that can
/// hold it, else RFC 3339 with its own offset, else `[unix_seconds,
/// nanosecond, offset_seconds]`.
fn token(t: OffsetDateTime) -> String {
    let text = t
        .checked_to_offset(UtcOffset::UTC)
        .and_then(|u| u.format(&Rfc3339).ok())
        .or_else(|| t.format(&Rfc3339).ok());
    match text {
        Some(text) => format!("\"{text}\""),
        None => format!(
            "[{},{},{}]",
            t.unix_timestamp(),
            t.nanosecond(),
            t.offset().whole_seconds()
        ),
    }
}

/// The instant of a JSON value written as [`token`] describes.
fn instant_of(v: &serde_json::Value) -> OffsetDateTime {
    if let Some(text) = v.as_str() {
        return OffsetDateTime::parse(text, &Rfc3339).unwrap();
    }
    let parts = v.as_array().unwrap();
    let (secs, nanos) = (parts[0].as_i64().unwrap(), parts[1].as_u64().unwrap());
    let offset = parts.get(2).map_or(0, |o| o.as_i64().unwrap());
    let off = UtcOffset::from_whole_seconds(i32::try_from(offset).unwrap()).unwrap();
    OffsetDateTime::from_unix_timestamp(secs + offset)
        .unwrap()
        .replace_nanosecond(u32::try_from(nanos).unwrap())
        .unwrap()
        .replace_offset(off)
}

/// The serialized profile keeps no trace of erased data: outside the
/// content-free `tombstones`, no erased instant appears (unless data still
/// held shares it), and no event or preference of an erased subtree from at
/// or before its erasure.
fn check_no_trace(
    w: &World,
    real: &Profile,
    m: &Model,
    erased: &[OffsetDateTime],
) -> Result<(), TestCaseError> {
    let mut json: serde_json::Value =
        serde_json::from_str(&w.engine.save_json(real).unwrap()).unwrap();
    let obj = json.as_object_mut().unwrap();
    if let Some(tombs) = obj.remove("tombstones") {
        for t in tombs.as_array().unwrap() {
            let keys: BTreeSet<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
            prop_assert!(
                keys.contains("scope")
                    && keys.contains("at")
                    && keys
                        .iter()
                        .all(|k| ["scope", "at", "signals_only"].contains(k)),
                "tombstone with content: {t}"
            );
        }
    }
    let tombs = real.tombstones();
    for field in ["events", "preferences"] {
        for item in obj
            .get(field)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let path = item["interest"].as_str().unwrap();
            let id = w.engine.taxonomy().require(path).unwrap();
            let k = w.ids.iter().position(|x| *x == id).unwrap();
            let at = instant_of(&item["at"]);
            // Declared after the erasure at an instant it covers: kept.
            let late = field == "preferences"
                && m.late_prefs.iter().any(|p| p.interest == id && p.at == at);
            for t in tombs.iter().filter(|_| !late) {
                if field == "preferences" && t.signals_only {
                    continue;
                }
                let covered = if field == "events" {
                    at <= t.at
                } else {
                    at < t.at
                };
                prop_assert!(
                    !(w.tomb_covers(t, k) && covered),
                    "{field} keeps {item} erased by {t:?}"
                );
            }
        }
    }
    let text = serde_json::to_string(&json).unwrap();
    let mut legit: BTreeSet<String> = BTreeSet::new();
    legit.extend(m.events.iter().map(|e| token(e.at())));
    legit.extend(m.prefs.iter().map(|p| token(p.at)));
    for e in &m.ledger {
        legit.insert(token(e.at));
        if let Change::Grant { expires: Some(x) } = e.change {
            legit.insert(token(x));
        }
    }
    // Consent signals received but not stored (they repeated the state) are
    // consent history, not erased data.
    for p in Purpose::ALL {
        legit.extend(
            real.consent()
                .latest_received(p)
                .iter()
                .map(|e| token(e.at)),
        );
    }
    for s in &m.sups {
        legit.insert(token(s.since()));
        if let Some(u) = s.ends() {
            legit.insert(token(u));
        }
    }
    for t in erased {
        let s = token(*t);
        if !legit.contains(&s) {
            prop_assert!(!text.contains(&s), "erased instant {s} still in {text}");
        }
    }
    Ok(())
}

/// Where two profiles differ, part by part (a whole profile is too long to
/// read in a failure message).
fn differences(a: &Profile, b: &Profile) -> String {
    let mut out = Vec::new();
    let mut part = |name: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{name}:\n  {x}\n  {y}"));
        }
    };
    part("id", format!("{:?}", a.id()), format!("{:?}", b.id()));
    part(
        "level",
        format!("{:?}", a.level()),
        format!("{:?}", b.level()),
    );
    part(
        "consent",
        format!("{:?}", a.consent()),
        format!("{:?}", b.consent()),
    );
    part(
        "preferences",
        format!("{:?}", a.preferences()),
        format!("{:?}", b.preferences()),
    );
    part(
        "suppressions",
        format!("{:?}", a.suppressions()),
        format!("{:?}", b.suppressions()),
    );
    part(
        "tombstones",
        format!("{:?}", a.tombstones()),
        format!("{:?}", b.tombstones()),
    );
    part(
        "events",
        format!("{:?}", a.events()),
        format!("{:?}", b.events()),
    );
    part(
        "refusals",
        format!("{:?}", a.refusals()),
        format!("{:?}", b.refusals()),
    );
    part(
        "orphans",
        format!("{:?}", a.orphans()),
        format!("{:?}", b.orphans()),
    );
    out.join("\n")
}

/// Every profile the engine writes, it reads back: `save_json` then
/// `load_profile`, and `save_binary` then `load_profile_binary`, succeed at
/// `now` and give an equal profile. It answers every read at `now` as the
/// written one: bit for bit once both have their aggregates prepared at
/// `now`; as loaded (the JSON loader prepares at `now`, the binary one may
/// adopt the stored aggregates), with scores up to rounding that agree with
/// the plain pass, and the same segments and decisions.
fn check_storage(w: &World, real: &Profile, now: OffsetDateTime) -> Result<(), TestCaseError> {
    let e = &w.engine;
    let fail = |what: &str, err: ProfileError| TestCaseError::fail(format!("{what}: {err}"));
    let json = e.save_json(real).map_err(|x| fail("save_json", x))?;
    let bytes = e.save_binary(real).map_err(|x| fail("save_binary", x))?;
    let from_json = e
        .load_profile(&json, now)
        .map_err(|x| fail(&format!("load_profile at {now} of {json}"), x))?;
    let from_binary = e
        .load_profile_binary(&bytes, now)
        .map_err(|x| fail(&format!("load_profile_binary at {now} of {json}"), x))?;
    let prepared = |p: &Profile| {
        let mut p = p.clone();
        e.prepare(&mut p, now);
        p
    };
    let real_prepared = prepared(real);
    let reqs: Vec<MessageRequest> = w.reqs.iter().map(|r| w.request(*r)).collect();
    for (form, back) in [("json", &from_json), ("binary", &from_binary)] {
        prop_assert!(
            back == real,
            "{} round trip at {} differs:\n{}\n{}",
            form,
            now,
            differences(real, back),
            json
        );
        // Prepared alike: every answer is the same, bit for bit.
        let back_prepared = prepared(back);
        let (a, b) = (&back_prepared, &real_prepared);
        prop_assert_eq!(e.scores(a, now), e.scores(b, now), "{} scores", form);
        prop_assert_eq!(e.segments(a, now), e.segments(b, now), "{} segments", form);
        for req in &reqs {
            prop_assert_eq!(
                e.decide(a, req, now),
                e.decide(b, req, now),
                "{} {:?}",
                form,
                req
            );
        }
        prop_assert_eq!(e.report(a, now), e.report(b, now), "{} report", form);
        // As loaded.
        let scores = e.scores(back, now);
        same_scores(w, &scores, &e.scores_by_scan(back, now), form)?;
        same_scores(w, &scores, &e.scores(real, now), form)?;
        prop_assert_eq!(
            e.segment_names(back, now),
            e.segment_names(real, now),
            "{} segment names",
            form
        );
        for req in &reqs {
            let (got, want) = (e.decide(back, req, now), e.decide(real, req, now));
            prop_assert_eq!(got.reasons(), want.reasons(), "{} {:?}", form, req);
        }
    }
    // Stable: what was read back is written alike (JSON: the same text).
    prop_assert_eq!(
        e.save_json(&from_json).map_err(|x| fail("save_json", x))?,
        json
    );
    // The bytes also carry the aggregates, prepared when loaded: what they
    // hold is stable, not the bytes.
    let again = e
        .save_binary(&from_binary)
        .map_err(|x| fail("save_binary", x))?;
    let again = e
        .load_profile_binary(&again, now)
        .map_err(|x| fail("load_profile_binary of a re-saved profile", x))?;
    prop_assert!(again == from_binary, "binary form not stable");
    Ok(())
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

struct Run {
    w: World,
    real: Profile,
    m: Model,
    clock: OffsetDateTime,
    tried: Vec<Event>,
    snapshot: Option<(Profile, Model)>,
    /// Instants of erased or purged events and preferences.
    erased: Vec<OffsetDateTime>,
    /// Events dead for good: recorded before a withdrawal of a purpose they need.
    dead: Vec<(Event, OffsetDateTime)>,
}

fn ui() -> Evidence {
    Evidence::Ui("model".into())
}

impl Run {
    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let w = &self.w;
        let now = self.clock;
        match *op {
            Op::Record {
                node,
                signal,
                source,
                context,
                gift,
                weight,
                lag_s,
                nanos,
            } => {
                let at = now - Duration::seconds(lag_s) - Duration::nanoseconds(nanos);
                let e = Event::new(w.ids[node], SIGNALS[signal], at)
                    .with_source(SOURCES[source])
                    .with_context(CONTEXTS[context])
                    .with_gift(gift)
                    .with_weight(weight)
                    .unwrap();
                self.record(e)?;
            }
            Op::Repeat(i) => {
                if !self.tried.is_empty() {
                    let e = self.tried[i % self.tried.len()];
                    self.record(e)?;
                }
            }
            Op::Dismiss { node, lag_s, nanos } => {
                let at = now - Duration::seconds(lag_s) - Duration::nanoseconds(nanos);
                self.record(Event::new(w.ids[node], Signal::Dismissal, at))?;
            }
            Op::Grant {
                purpose,
                expires_h,
                at,
                expires,
            } => {
                let p = CONSENT_PURPOSES[purpose];
                // Signals arrive in time order here (late and repeated
                // signals are the consent ledger's own proptests' work, in
                // src/consent/proptests.rs, against a reference that keeps
                // every signal); extreme instants still reach the expiry.
                let _ = at;
                let at = now;
                let exp = expires
                    .or_else(|| expires_h.map(|h| now + Duration::hours(h)))
                    .filter(|x| *x >= at);
                self.real.consent_mut().grant(p, at, exp, ui()).unwrap();
                self.m.record_consent(ConsentEntry {
                    purpose: p,
                    change: Change::Grant { expires: exp },
                    at,
                    evidence: ui(),
                });
            }
            Op::Withdraw(purpose, at) => {
                let p = CONSENT_PURPOSES[purpose];
                let _ = at;
                let at = now;
                self.real.consent_mut().withdraw(p, at, ui()).unwrap();
                self.m.record_consent(ConsentEntry {
                    purpose: p,
                    change: Change::Withdraw,
                    at,
                    evidence: ui(),
                });
                for e in &self.m.events {
                    let k = w.node(e.interest());
                    if e.at() < at && needed(k, e.source(), e.context()).contains(&p) {
                        self.dead.push((*e, at));
                    }
                }
            }
            Op::Suppress {
                scope,
                reason,
                since_h,
                until_h,
                since,
                until,
            } => {
                let scope = match scope {
                    ScopeSpec::All => Scope::All,
                    ScopeSpec::Channel(c) => Scope::Channel(CHANNELS[c]),
                    ScopeSpec::ChannelPurpose(c, p) => Scope::ChannelPurpose {
                        channel: CHANNELS[c],
                        purpose: CONSENT_PURPOSES[p],
                    },
                    ScopeSpec::Purpose(p) => Scope::Purpose(CONSENT_PURPOSES[p]),
                    ScopeSpec::Interest(k) => Scope::Interest(w.ids[k]),
                };
                let since = since.unwrap_or(now + Duration::hours(since_h));
                let mut s = Suppression::new(scope, REASONS[reason], since);
                let until =
                    until.or_else(|| until_h.and_then(|h| since.checked_add(Duration::hours(h))));
                if let Some(u) = until.filter(|u| *u > since) {
                    s = s.until(u).unwrap();
                }
                let before: Vec<Event> = self.m.events.clone();
                let got = w.engine.suppress(&mut self.real, s, now);
                let want = self.m.suppress(w, s, now);
                prop_assert_eq!(got, want, "purged by {:?}", s);
                note_erased(&mut self.erased, &self.m, &before, &[]);
            }
            Op::Like(k, at) => {
                let at = at.unwrap_or(now);
                self.real.like(w.ids[k], at);
                self.m.declare(
                    w,
                    Preference {
                        interest: w.ids[k],
                        kind: PreferenceKind::Like,
                        at,
                    },
                );
            }
            Op::Dislike(k, at) => {
                let at = at.unwrap_or(now);
                self.real.dislike(w.ids[k], at);
                self.m.declare(
                    w,
                    Preference {
                        interest: w.ids[k],
                        kind: PreferenceKind::Dislike,
                        at,
                    },
                );
            }
            Op::ClearPreference(k, at) => {
                let at = at.unwrap_or(now);
                let got = self.real.clear_preference(w.ids[k], at);
                let want = self
                    .m
                    .prefs
                    .iter()
                    .find(|p| p.interest == w.ids[k] && p.kind != PreferenceKind::Cleared)
                    .copied();
                self.m.declare(
                    w,
                    Preference {
                        interest: w.ids[k],
                        kind: PreferenceKind::Cleared,
                        at,
                    },
                );
                prop_assert_eq!(got, want);
            }
            Op::Level(l) => {
                self.real.set_level(LEVELS[l]);
                self.m.level = LEVELS[l];
            }
            Op::Compact => {
                let later = [
                    now,
                    now + Duration::hours(1),
                    now + Duration::days(3),
                    now + Duration::days(40),
                ];
                let before: Vec<Scores> = later
                    .iter()
                    .map(|t| w.engine.scores(&self.real, *t))
                    .collect();
                let got = w.engine.compact(&mut self.real, now);
                let want = self.m.compact(w, now);
                prop_assert_eq!(got, want, "compacted events");
                // Segment membership follows from the scores and is checked
                // against the model after every step (see also the ignored
                // test at the end of this file).
                for (t, s) in later.iter().zip(&before) {
                    same_scores(w, &w.engine.scores(&self.real, *t), s, "compact")?;
                }
            }
            Op::Erase(k, at) => {
                let at = at.unwrap_or(now);
                let before_events = self.m.events.clone();
                let before_prefs = self.m.prefs.clone();
                let got = w.engine.erase_interest(&mut self.real, w.ids[k], at);
                let want = self.m.forget(
                    w,
                    Tombstone {
                        scope: ErasedScope::Interest(w.ids[k]),
                        at,
                        signals_only: false,
                    },
                );
                prop_assert_eq!(got, want, "erased events");
                note_erased(&mut self.erased, &self.m, &before_events, &before_prefs);
                check_no_trace(w, &self.real, &self.m, &self.erased)?;
            }
            Op::Snapshot => self.snapshot = Some((self.real.clone(), self.m.clone())),
            Op::Merge { reverse } => {
                if let Some((old_real, old_m)) = self.snapshot.clone() {
                    let before = self.m.events.clone();
                    let probes = [now, now + Duration::days(30), T0];
                    let (mut into_real, mut into_m, from_real, from_m) = if reverse {
                        (old_real, old_m, self.real.clone(), self.m.clone())
                    } else {
                        (self.real.clone(), self.m.clone(), old_real, old_m)
                    };
                    w.engine.merge(&mut into_real, &from_real);
                    check_consent_join(
                        into_real.consent(),
                        &into_m.ledger,
                        &from_m.ledger,
                        &probes,
                    )?;
                    into_m.merge(w, &from_m);
                    into_m.ledger = into_real.consent().entries().to_vec();
                    self.real = into_real;
                    self.m = into_m;
                    note_erased(&mut self.erased, &self.m, &before, &[]);
                    check_no_trace(w, &self.real, &self.m, &self.erased)?;
                }
            }
            Op::Advance(min) => self.clock += Duration::minutes(min),
            Op::Query(min) => {
                let q = now + Duration::minutes(min);
                check_at(w, &self.real, &self.m, q)?;
                self.check_dead(q)?;
            }
            Op::QueryEdge(i, d) => {
                let edges = self.m.edges(w);
                if !edges.is_empty() {
                    if let Some(q) = edges[i % edges.len()].checked_add(Duration::nanoseconds(d)) {
                        check_at(w, &self.real, &self.m, q)?;
                        self.check_dead(q)?;
                    }
                }
            }
        }
        check_state(&self.w, &self.real, &self.m)?;
        check_at(&self.w, &self.real, &self.m, self.clock)?;
        check_storage(&self.w, &self.real, self.clock)?;
        if matches!(op, Op::Grant { .. } | Op::Withdraw(..)) {
            self.check_dead(self.clock)?;
        }
        Ok(())
    }

    fn record(&mut self, e: Event) -> Result<(), TestCaseError> {
        let now = self.clock;
        self.tried.push(e);
        let got = self
            .w
            .engine
            .record(&mut self.real, e, now)
            .map_err(|r| r.reason.kind());
        let want = self.m.record(&self.w, e, now);
        prop_assert_eq!(got, want, "record {:?} at {}", e, now);
        Ok(())
    }

    /// A withdrawal is retroactive and final: events recorded before it
    /// never contribute again, whatever was granted since.
    fn check_dead(&self, now: OffsetDateTime) -> Result<(), TestCaseError> {
        let w = &self.w;
        let mut by_interest: BTreeMap<InterestId, Vec<&Event>> = BTreeMap::new();
        for (e, t) in &self.dead {
            if *t <= now {
                by_interest.entry(e.interest()).or_default().push(e);
            }
        }
        for (id, dead) in by_interest {
            let ex = w.engine.explain(&self.real, id, now);
            for c in ex.interests.iter().flat_map(|i| &i.events) {
                prop_assert!(
                    !dead.iter().any(|e| e.at() == c.at
                        && e.signal() == c.signal
                        && e.source() == c.source
                        && e.context() == c.context),
                    "event at {} counts again at {now} after a withdrawal",
                    c.at
                );
            }
        }
        Ok(())
    }
}

/// Remembers the instants of events and preferences that an operation removed.
fn note_erased(
    erased: &mut Vec<OffsetDateTime>,
    m: &Model,
    events: &[Event],
    prefs: &[Preference],
) {
    for e in events {
        if !m.events.contains(e) {
            erased.push(e.at());
        }
    }
    for p in prefs {
        if !m.prefs.contains(p) {
            erased.push(p.at);
        }
    }
}

fn names(w: &World, p: &Profile, now: OffsetDateTime) -> Vec<String> {
    w.engine
        .segment_names(p, now)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn run(pol: Pol, level: usize, grants: [bool; 7], ops: &[Op]) -> Result<(), TestCaseError> {
    let mut r = Run {
        w: World::new(pol),
        real: Profile::new("model"),
        m: Model::default(),
        clock: T0,
        tried: Vec::new(),
        snapshot: None,
        erased: Vec::new(),
        dead: Vec::new(),
    };
    r.step(&Op::Level(level))?;
    for (i, g) in grants.iter().enumerate() {
        if *g {
            r.step(&Op::Grant {
                purpose: i,
                expires_h: None,
                at: None,
                expires: None,
            })?;
        }
    }
    for op in ops {
        r.step(op)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn library_agrees_with_the_model(
        pol in pol(),
        level in prop_oneof![1 => Just(0usize), 1 => Just(1), 3 => Just(2), 3 => Just(3)],
        grants in (prop::bool::weighted(0.9), prop::array::uniform6(prop::bool::weighted(0.5)))
            .prop_map(|(p, rest)| [p, rest[0], rest[1], rest[2], rest[3], rest[4], rest[5]]),
        ops in prop_oneof![
            1 => prop::collection::vec(op(), 1..100),
            1 => prop::collection::vec(prop_oneof![1 => op(), 3 => calm_op()], 1..100),
        ],
    ) {
        run(pol, level, grants, &ops)?;
    }
}

/// Minimal case found by the model: one view of weight 1 read at its own
/// instant scores exactly 1 by the formula, and a segment `sport >= 1.0`
/// must hold. The incremental aggregates (landmark at an earlier `prepare`)
/// give 0.9999999999999998, the plain pass and a fresh `prepare` (which
/// `compact` does) give 1.0: membership depends on when the aggregates were
/// last prepared, and `compact` changes it.
#[test]
fn membership_at_a_threshold_does_not_depend_on_the_landmark() {
    let w = World::new(Pol {
        half_life_hours: 336,
        max_age_days: 56,
        partner_days: 21,
        min_events: 1,
        min_days: 1,
        cooldown_days: 90,
        allow_sensitive: false,
        weights: [1.0, 1.5, 1.5, 3.0, 5.0],
    });
    let mut p = Profile::new("p");
    p.set_level(Level::Full);
    p.consent_mut()
        .grant(Purpose::Personalization, T0, None, ui())
        .unwrap();
    let t1 = T0 + Duration::minutes(1);
    w.engine
        .record(&mut p, Event::new(w.ids[0], Signal::View, t1), t1)
        .unwrap();
    let now = t1 + Duration::minutes(371);
    w.engine
        .record(&mut p, Event::new(w.ids[SPORT], Signal::View, now), now)
        .unwrap();
    let fast = w.engine.scores(&p, now).score(w.ids[SPORT]);
    let scan = w.engine.scores_by_scan(&p, now).score(w.ids[SPORT]);
    let before = names(&w, &p, now);
    w.engine.compact(&mut p, now);
    let after = names(&w, &p, now);
    assert_eq!(
        before, after,
        "compact changed membership (scores: fast {fast:e}, scan {scan:e})"
    );
    assert!(
        before.contains(&"sporty-or-travel".to_owned()),
        "{before:?}: fast {fast:e}, scan {scan:e}"
    );
}
