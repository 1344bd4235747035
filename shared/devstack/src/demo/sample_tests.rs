//! Unit tests of the sample generator: the mix, the ids, determinism, and agreement with the
//! payments worker's own validation and risk rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use payments::{
    decision::{Decided, Step, step},
    risk::{RiskRules, Velocity, assess},
    validate::validate,
};
use shared::codec::wire::{self, WireError};

use super::*;

/// Time between samples at the demo's default 20/s.
const TICK_MS: i64 = 50;
const START_MS: i64 = 1_760_000_000_000;

fn stream(seed: u64, count: usize) -> Vec<Sample> {
    let mut generator = SampleGenerator::new(seed, payers_for_rate(20.0));
    (0..count)
        .map(|i| generator.next_sample(START_MS + i as i64 * TICK_MS))
        .collect()
}

fn event(sample: &Sample) -> Option<&PaymentRequested> {
    match &sample.body {
        Body::Event(event) => Some(event),
        Body::Poison(_) => None,
    }
}

#[test]
fn a_long_stream_contains_every_category_and_is_mostly_valid() {
    for seed in [1, 2, 3] {
        let samples = stream(seed, 5_000);
        let mut counts: BTreeMap<Category, usize> = BTreeMap::new();
        for sample in &samples {
            *counts.entry(sample.category).or_default() += 1;
        }
        for (category, _) in WEIGHTS {
            assert!(
                counts.contains_key(&category),
                "seed {seed}: no {category:?} in {counts:?}"
            );
        }
        let valid = counts.get(&Category::Valid).copied().unwrap_or_default();
        assert!((3_700..4_400).contains(&valid), "seed {seed}: {valid} valid of 5000");
    }
}

#[test]
fn event_ids_are_unique_and_payment_ids_repeat_only_in_deliberate_duplicates() {
    let samples = stream(7, 5_000);
    let mut event_ids = HashSet::new();
    let mut payments: HashMap<&str, &PaymentRequested> = HashMap::new();
    for sample in &samples {
        let Some(event) = event(sample) else { continue };
        assert!(
            event_ids.insert(event.event_id.as_str()),
            "event id repeated: {event:?}"
        );
        match payments.get(event.payment_id.as_str()) {
            None => {
                assert_ne!(sample.category, Category::Duplicate, "duplicate of nothing: {event:?}");
                payments.insert(&event.payment_id, event);
            }
            Some(original) => {
                assert_eq!(sample.category, Category::Duplicate, "accidental repeat: {event:?}");
                assert_eq!(original.payer_account, event.payer_account, "same key, same partition");
                assert_eq!(original.amount_minor, event.amount_minor);
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_stream_and_another_seed_another() {
    assert_eq!(stream(42, 500), stream(42, 500));
    assert_ne!(stream(42, 500), stream(43, 500));
}

#[test]
fn records_are_keyed_by_payer_and_poison_is_not_in_the_wire_format() {
    for sample in stream(5, 5_000) {
        match &sample.body {
            Body::Event(event) => assert_eq!(sample.key, event.payer_account),
            Body::Poison(payload) => {
                assert!(matches!(wire::split(payload), Err(WireError::BadMagic(_))));
                assert!(sample.key.starts_with("acct-"));
            }
        }
    }
}

#[test]
fn valid_payments_look_real() {
    let currencies: HashSet<String> = stream(9, 5_000)
        .iter()
        .filter(|sample| sample.category == Category::Valid)
        .filter_map(event)
        .map(|event| {
            assert!((1..=REVIEW_THRESHOLD_MINOR).contains(&event.amount_minor), "{event:?}");
            assert_ne!(event.payer_account, event.payee_account);
            event.currency.clone()
        })
        .collect();
    assert_eq!(currencies, CURRENCIES.iter().map(|c| (*c).to_owned()).collect());
}

/// Runs the stream through the payments worker's own rules, in order, with record time advancing
/// like the demo's producer: every category gets the outcome it was made for.
#[test]
fn the_payments_rules_refuse_exactly_what_each_category_was_made_for() {
    let rules = RiskRules {
        review_threshold_minor: REVIEW_THRESHOLD_MINOR,
        velocity_max_requests: VELOCITY_MAX_REQUESTS as u32,
        velocity_window_ms: 60_000,
        blocked_countries: vec!["KP".into(), "IR".into(), "SY".into(), "CU".into()],
    };
    let mut decided: HashMap<String, Decided> = HashMap::new();
    let mut velocity: HashMap<String, Velocity> = HashMap::new();
    let mut burst_outcomes: Vec<Option<&'static str>> = Vec::new();
    for (offset, sample) in stream(11, 5_000).iter().enumerate() {
        let Some(request) = event(sample) else {
            assert_eq!(sample.category, Category::Poison);
            continue;
        };
        let offset = offset as i64;
        let now_ms = START_MS + offset * TICK_MS;
        let stored = decided.get(&request.payment_id).cloned();
        if let Step::Duplicate(_) = step(stored, offset) {
            assert_eq!(sample.category, Category::Duplicate, "{request:?}");
            continue;
        }
        assert_ne!(sample.category, Category::Duplicate, "not a duplicate: {request:?}");
        let history = velocity.entry(request.payer_account.clone()).or_default();
        let outcome =
            validate(request, MAX_AMOUNT_MINOR).and_then(|()| assess(request, now_ms, offset, history, &rules));
        decided.insert(request.payment_id.clone(), Decided::new(offset, &outcome));
        let reason = outcome.err().map(|failure| failure.reason.code());
        if sample.category == Category::VelocityBurst {
            burst_outcomes.push(reason);
        } else {
            assert_eq!(
                reason,
                sample.category.expected_reason(),
                "{:?}: {request:?}",
                sample.category
            );
        }
    }
    assert!(burst_outcomes.len() >= BURST_LEN, "{burst_outcomes:?}");
    // Bursts are consecutive; the stream may end inside the last one.
    for burst in burst_outcomes.chunks_exact(BURST_LEN) {
        let (passed, refused) = burst.split_at(VELOCITY_MAX_REQUESTS);
        assert!(passed.iter().all(Option::is_none), "{burst:?}");
        assert!(refused.iter().all(|r| *r == Some("velocity_exceeded")), "{burst:?}");
    }
}

#[test]
fn larger_rates_get_larger_payer_pools() {
    assert_eq!(payers_for_rate(1.0), 1_000);
    assert_eq!(payers_for_rate(20.0), 2_400);
    assert_eq!(payers_for_rate(1e9), 200_000);
    assert_eq!(payers_for_rate(f64::NAN), 1_000);
}
