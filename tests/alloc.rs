//! Recording an event does not allocate in the common case: the event joins
//! an existing series with room to spare, and the checks and the aggregate
//! update run on the stack. Shown with a counting global allocator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tactful::*;
use time::macros::datetime;
use time::Duration;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn recording_an_event_into_a_series_with_room_does_not_allocate() {
    let taxonomy = Taxonomy::builder()
        .interest("outdoor/hiking")
        .interest("outdoor/camping")
        .interest("food/coffee")
        .build()
        .unwrap();
    let hiking = taxonomy.id("outdoor/hiking").unwrap();
    let coffee = taxonomy.id("food/coffee").unwrap();
    let engine = Engine::new(taxonomy, DecayPolicy::default());
    let start = datetime!(2026-10-01 8:00 UTC);
    let mut p = Profile::new("a");
    p.set_level(Level::FirstParty);
    p.consent_mut()
        .grant(
            Purpose::Personalization,
            start,
            None,
            Evidence::Ui("t".into()),
        )
        .unwrap();
    p.consent_mut()
        .grant(Purpose::Marketing, start, None, Evidence::Ui("t".into()))
        .unwrap();
    engine.suppress(
        &mut p,
        Suppression::new(
            Scope::Channel(Channel::Sms),
            SuppressionReason::OptOut,
            start,
        ),
        start,
    );
    p.dislike(coffee, start);
    // 40 events: each column's capacity has grown to 64.
    let mut at = start;
    for _ in 0..40 {
        at += Duration::hours(7);
        engine
            .record(&mut p, Event::new(hiking, Signal::View, at), at)
            .unwrap();
    }
    for k in 0..20 {
        at += Duration::hours(7);
        let e = Event::new(hiking, Signal::Click, at)
            .with_weight(1.5)
            .unwrap();
        let before = allocations();
        engine.record(&mut p, e, at).unwrap();
        assert_eq!(allocations() - before, 0, "record #{k} allocated");
    }
    // A refusal does not allocate either, once its counter exists.
    let _ = engine.record(&mut p, Event::new(coffee, Signal::View, at), at);
    let before = allocations();
    let refused = engine.record(&mut p, Event::new(coffee, Signal::View, at), at);
    assert!(matches!(
        refused,
        Err(Refusal {
            reason: RefusalReason::Disliked,
            ..
        })
    ));
    assert_eq!(allocations() - before, 0, "a refusal allocated");
    // And the result is right: the last 20 clicks plus the recent views.
    assert_eq!(p.stored_events(), 60);
    let scan = engine.scores_by_scan(&p, at);
    let fast = engine.scores(&p, at);
    let (a, b) = (fast.score(hiking), scan.score(hiking));
    assert!((a - b).abs() <= 1e-9 * b, "{a} vs {b}");
}

/// The memory target: a profile of 1,000 retained events over 40 interests
/// holds at most 32 bytes per event (events, aggregates and series
/// bookkeeping together), once compaction has given spare capacity back.
#[test]
fn a_thousand_events_over_forty_interests_weigh_at_most_32_bytes_each() {
    let mut b = Taxonomy::builder();
    for t in 0..10 {
        for c in 0..4 {
            b = b.interest(&format!("t{t}/c{c}"));
        }
    }
    let taxonomy = b.build().unwrap();
    let leaves: Vec<InterestId> = taxonomy
        .iter()
        .filter(|(_, p)| p.contains('/'))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(leaves.len(), 40);
    let engine = Engine::new(taxonomy, DecayPolicy::default());
    let start = datetime!(2026-10-01 0:00 UTC);
    let mut p = Profile::new("m");
    p.set_level(Level::FirstParty);
    p.consent_mut()
        .grant(
            Purpose::Personalization,
            start,
            None,
            Evidence::Ui("t".into()),
        )
        .unwrap();
    let mut at = start;
    for k in 0..1000 {
        at += Duration::minutes(61);
        engine
            .record(
                &mut p,
                Event::new(leaves[(k * 7) % 40], Signal::View, at),
                at,
            )
            .unwrap();
    }
    let recorded = p.approx_heap_bytes();
    assert_eq!(engine.compact(&mut p, at), 0);
    assert_eq!(p.stored_events(), 1000);
    let compacted = p.approx_heap_bytes();
    let per_event = compacted as f64 / 1000.0;
    println!("1,000 events / 40 interests: {recorded} bytes as recorded, {compacted} compacted ({per_event:.1} per event)");
    assert!(per_event <= 32.0, "{per_event} bytes per event");
    assert!(compacted <= recorded);
}
