//! TEMPORARY stand-in for `tactful::bulk` until `main` brings it (removed on
//! merge). Same names and call shapes as the contract, so the switch is an
//! import change.
#![allow(missing_docs, unreachable_pub, dead_code)]

use tactful::consent::{Change, ConsentEntry};
use tactful::profile::ErasedScope;
use tactful::{Engine, Event, InterestId, Profile, ProfileId, Suppression};
use time::OffsetDateTime;

pub type ConsentChange = ConsentEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Erasure {
    scope: ErasedScope,
    at: OffsetDateTime,
}

impl Erasure {
    pub fn interest(interest: InterestId, at: OffsetDateTime) -> Self {
        Self {
            scope: ErasedScope::Interest(interest),
            at,
        }
    }
    pub fn profile(at: OffsetDateTime) -> Self {
        Self {
            scope: ErasedScope::All,
            at,
        }
    }
}

#[derive(Debug)]
pub enum BulkError {
    IdMismatch,
    Decode(String),
}

impl std::fmt::Display for BulkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::IdMismatch => f.write_str("id mismatch"),
            Self::Decode(e) => write!(f, "unreadable partial profile: {e}"),
        }
    }
}
impl std::error::Error for BulkError {}

#[derive(Debug, Clone, PartialEq)]
pub struct PartialProfile {
    id: ProfileId,
    events: Vec<Event>,
    consents: Vec<ConsentEntry>,
    suppressions: Vec<Suppression>,
    erasures: Vec<Erasure>,
}

impl PartialProfile {
    pub fn new(id: impl Into<ProfileId>) -> Self {
        Self {
            id: id.into(),
            events: Vec::new(),
            consents: Vec::new(),
            suppressions: Vec::new(),
            erasures: Vec::new(),
        }
    }
    pub fn id(&self) -> &ProfileId {
        &self.id
    }
    pub fn push_event(&mut self, e: Event) {
        self.events.push(e);
    }
    pub fn push_consent(&mut self, c: ConsentChange) {
        self.consents.push(c);
    }
    pub fn push_suppression(&mut self, s: Suppression) {
        self.suppressions.push(s);
    }
    pub fn push_erasure(&mut self, e: Erasure) {
        self.erasures.push(e);
    }
    pub fn merge(&mut self, other: PartialProfile) -> Result<(), BulkError> {
        if other.id != self.id {
            return Err(BulkError::IdMismatch);
        }
        self.events.extend(other.events);
        self.consents.extend(other.consents);
        self.suppressions.extend(other.suppressions);
        self.erasures.extend(other.erasures);
        Ok(())
    }
    pub fn len(&self) -> usize {
        self.events.len() + self.consents.len() + self.suppressions.len() + self.erasures.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.id.0.capacity()
            + self.events.capacity() * size_of::<Event>()
            + self.consents.capacity() * (size_of::<ConsentEntry>() + 16)
            + self.suppressions.capacity() * size_of::<Suppression>()
            + self.erasures.capacity() * size_of::<Erasure>()
    }
}

#[derive(Debug)]
pub struct Finished {
    pub profile: Profile,
    pub refused: Vec<Refused>,
}

#[derive(Debug)]
pub enum Refused {
    Event(()),
    Consent { change: () },
    Other { x: () },
}

pub trait EngineBulk {
    fn encode_partial(&self, p: &PartialProfile, out: &mut Vec<u8>);
    fn decode_partial(&self, bytes: &[u8]) -> Result<PartialProfile, BulkError>;
    fn finish(
        &self,
        base: Profile,
        p: &PartialProfile,
        now: OffsetDateTime,
    ) -> Result<Finished, BulkError>;
}

type Wire = (
    String,
    Vec<Event>,
    Vec<ConsentEntry>,
    Vec<Suppression>,
    Vec<(Option<InterestId>, i128)>,
);

impl EngineBulk for Engine {
    fn encode_partial(&self, p: &PartialProfile, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.taxonomy().fingerprint().to_le_bytes());
        let erasures: Vec<(Option<InterestId>, i128)> = p
            .erasures
            .iter()
            .map(|e| {
                let i = match e.scope {
                    ErasedScope::Interest(i) => Some(i),
                    _ => None,
                };
                (i, e.at.unix_timestamp_nanos())
            })
            .collect();
        let wire: Wire = (
            p.id.0.clone(),
            p.events.clone(),
            p.consents.clone(),
            p.suppressions.clone(),
            erasures,
        );
        serde_json::to_writer(out, &wire).ok();
    }

    fn decode_partial(&self, bytes: &[u8]) -> Result<PartialProfile, BulkError> {
        let (head, body) = bytes
            .split_at_checked(8)
            .ok_or_else(|| BulkError::Decode("short".into()))?;
        let mut fp = [0u8; 8];
        fp.copy_from_slice(head);
        if u64::from_le_bytes(fp) != self.taxonomy().fingerprint() {
            return Err(BulkError::Decode("other taxonomy".into()));
        }
        let (id, events, consents, suppressions, erasures): Wire =
            serde_json::from_slice(body).map_err(|e| BulkError::Decode(e.to_string()))?;
        let erasures = erasures
            .into_iter()
            .map(|(i, at)| {
                let at = OffsetDateTime::from_unix_timestamp_nanos(at)
                    .map_err(|e| BulkError::Decode(e.to_string()))?;
                Ok(match i {
                    Some(i) => Erasure::interest(i, at),
                    None => Erasure::profile(at),
                })
            })
            .collect::<Result<Vec<_>, BulkError>>()?;
        Ok(PartialProfile {
            id: ProfileId(id),
            events,
            consents,
            suppressions,
            erasures,
        })
    }

    fn finish(
        &self,
        base: Profile,
        p: &PartialProfile,
        now: OffsetDateTime,
    ) -> Result<Finished, BulkError> {
        enum F<'a> {
            C(&'a ConsentEntry),
            S(&'a Suppression),
            X(&'a Erasure),
            E(&'a Event),
        }
        let mut facts: Vec<(OffsetDateTime, u8, F<'_>)> = Vec::new();
        facts.extend(p.consents.iter().map(|c| (c.at, 0, F::C(c))));
        facts.extend(p.suppressions.iter().map(|s| (s.since(), 1, F::S(s))));
        facts.extend(p.erasures.iter().map(|x| (x.at, 2, F::X(x))));
        facts.extend(p.events.iter().map(|e| (e.at(), 3, F::E(e))));
        facts.sort_by_key(|(at, class, _)| (*at, *class));
        let mut profile = base;
        let mut refused = Vec::new();
        for (_, _, f) in facts {
            match f {
                F::C(c) => {
                    if profile.consent_mut().record(c.clone()).is_err() {
                        refused.push(Refused::Consent { change: () });
                    }
                }
                F::S(s) => {
                    self.suppress(&mut profile, *s, s.since());
                }
                F::X(x) => match x.scope {
                    ErasedScope::Interest(i) => {
                        self.erase_interest(&mut profile, i, x.at);
                    }
                    _ => self.erase_profile(&mut profile, x.at),
                },
                F::E(e) => {
                    let at = if e.at() > now { now } else { e.at() };
                    if self.record(&mut profile, *e, at).is_err() {
                        refused.push(Refused::Event(()));
                    }
                }
            }
        }
        let _ = Change::Withdraw;
        Ok(Finished { profile, refused })
    }
}
