//! The benchmark workload of the contract (shared by the tests and the
//! `df_bench` example): taxonomy, policy, segments, and each profile's
//! consent log and suppressions.
#![allow(dead_code, unreachable_pub, clippy::expect_used)]

use tactful::prelude::*;
use time::{Duration, OffsetDateTime};

/// The instant every answer is given for (2023-11-14T22:13:20Z).
pub const NOW_S: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW_S).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Interest key `k` (0..256) is `c{k/16:02}/i{k:03}`.
pub fn paths() -> Vec<String> {
    (0..256)
        .map(|k| format!("c{:02}/i{k:03}", k / 16))
        .collect()
}

pub fn category(j: u32) -> String {
    format!("c{:02}", j % 16)
}

/// 16 categories of 16 leaves, half-life 14 days, max age 56 days, and the
/// 16 segments `likes-cXX`.
pub fn engine() -> Engine {
    let taxonomy = paths()
        .iter()
        .fold(Taxonomy::builder(), |b, p| b.interest(p))
        .build()
        .expect("workload taxonomy");
    let policy = DecayPolicy::builder()
        .half_life(Duration::days(14))
        .max_age(Duration::days(56))
        .build()
        .expect("workload policy");
    let segments = (0..16)
        .map(|j| {
            SegmentDef::new(
                &format!("likes-c{j:02}"),
                Rule::interest_at_least(&format!("c{j:02}"), 3.0),
            )
            .for_purpose(Purpose::Personalization)
        })
        .collect();
    Engine::new(taxonomy, policy)
        .with_segments(segments)
        .expect("workload segments")
}

/// One non-event row of the workload, in the facts row shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: &'static str,
    pub interest: Option<String>,
    pub at: i64,
    pub detail: String,
    pub until: Option<i64>,
}

/// Profile `p`'s consent log and suppressions.
pub fn profile_rows(p: u32) -> Vec<Row> {
    let mut rows = vec![Row {
        kind: "grant",
        interest: None,
        at: NOW_S - 150 * DAY,
        detail: "personalization".into(),
        until: (p % 20 == 1).then_some(NOW_S - 30 * DAY),
    }];
    if p % 10 == 3 {
        rows.push(Row {
            kind: "withdraw",
            interest: None,
            at: NOW_S - 10 * DAY,
            detail: "personalization".into(),
            until: None,
        });
    }
    if p % 25 == 5 {
        rows.push(Row {
            kind: "suppress",
            interest: Some(category(p % 16)),
            at: NOW_S - 40 * DAY,
            detail: "opt_out".into(),
            until: None,
        });
    }
    if p % 100 == 7 {
        rows.push(Row {
            kind: "suppress",
            interest: Some(category(p % 16)),
            at: NOW_S - 60 * DAY,
            detail: "bereavement".into(),
            until: None,
        });
    }
    rows
}
