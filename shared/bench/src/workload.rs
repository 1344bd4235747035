//! The preloaded input: N payment requests keyed by payer, shaped like real traffic — mostly
//! valid, distinct payment ids, enough distinct payers that the velocity rule rarely fires, and a
//! small share of requests the worker refuses (invalid amount, unknown currency, blocked country)
//! or cannot decode at all (dead-lettered).

use shared::codec::{AvroEvent, Codec};
use shared::events::PaymentRequested;

use crate::error::BenchError;

/// Every this many requests one has a non-positive amount (refused: `invalid_amount`).
pub const INVALID_AMOUNT_EVERY: u64 = 50;
/// Every this many requests one has an unknown currency (refused: `unknown_currency`).
pub const UNKNOWN_CURRENCY_EVERY: u64 = 101;
/// Every this many requests one comes from a blocked country (refused: `blocked_country`).
pub const BLOCKED_COUNTRY_EVERY: u64 = 199;
/// Every this many records one is not in the wire format at all (dead-lettered).
pub const UNDECODABLE_EVERY: u64 = 997;

/// What the `i`-th input record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A request to encode with the registered schema.
    Request(Box<PaymentRequested>),
    /// Bytes that are not Confluent-framed Avro.
    Undecodable,
}

/// The payer of the `i`-th record: `i` round-robin over `payers` accounts, so one payer's
/// requests are `payers` records apart.
pub fn payer(i: u64, payers: u64) -> String {
    format!("acct-{:07}", i % payers.max(1))
}

/// The `i`-th input record with `payers` distinct payers; `requested_at` is `now_ms`.
pub fn input(i: u64, payers: u64, now_ms: i64) -> Input {
    // Offset by one so record 0 is valid and the shares are exactly 1/k of a long run.
    let nth = |k: u64| (i + 1).is_multiple_of(k);
    if nth(UNDECODABLE_EVERY) {
        return Input::Undecodable;
    }
    let payer = payer(i, payers);
    let amount_minor = if nth(INVALID_AMOUNT_EVERY) {
        0
    } else {
        // 1.00 to 5,000.00, well below the review threshold.
        100 + ((i * 7919) % 500_000) as i64
    };
    Input::Request(Box::new(PaymentRequested {
        event_id: uuid::Uuid::new_v4().to_string(),
        payment_id: uuid::Uuid::new_v4().to_string(),
        payee_account: format!("merchant-{:04}", (i * 31) % 1000),
        amount_minor,
        currency: if nth(UNKNOWN_CURRENCY_EVERY) { "XYZ" } else { "EUR" }.to_owned(),
        payer_country: if nth(BLOCKED_COUNTRY_EVERY) { "KP" } else { "DE" }.to_owned(),
        requested_at: now_ms,
        description: i.is_multiple_of(4).then(|| format!("invoice {i}")),
        payer_account: payer,
    }))
}

/// One record ready to produce.
#[derive(Debug, Clone)]
pub struct Record {
    /// Key (the payer account).
    pub key: String,
    /// Value: framed Avro, or garbage for an undecodable record.
    pub payload: Vec<u8>,
}

/// Builds all `events` records for `topic`, encoded with the schema `codec` registered for it.
pub fn records(codec: &Codec, topic: &str, events: u64, payers: u64) -> Result<Vec<Record>, BenchError> {
    let now_ms = now_ms();
    (0..events)
        .map(|i| match input(i, payers, now_ms) {
            Input::Undecodable => Ok(Record {
                key: payer(i, payers),
                payload: b"not avro: a bench record for the dead-letter path".to_vec(),
            }),
            Input::Request(request) => Ok(Record {
                payload: encode(codec, topic, i, &*request)?,
                key: request.payer_account,
            }),
        })
        .collect()
}

/// The `i`-th preload record's value: `event` in the wire format, with the schema `codec`
/// registered for `topic`.
pub fn encode<T: AvroEvent>(codec: &Codec, topic: &str, i: u64, event: &T) -> Result<Vec<u8>, BenchError> {
    let mut payload = Vec::with_capacity(256);
    codec
        .encode_into(topic, event, &mut payload)
        .map_err(|e| BenchError::Case {
            case: "preload",
            message: format!("encode record {i} for {topic}: {}", e.message()),
        })?;
    Ok(payload)
}

/// Wall-clock now, Unix ms: the `requested_at` of preloaded events.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(n: u64, payers: u64) -> Vec<Input> {
        (0..n).map(|i| input(i, payers, 1_700_000_000_000)).collect()
    }

    #[test]
    fn most_requests_are_valid_and_a_few_are_refused_or_undecodable() {
        let all = requests(10_000, 3_333);
        let undecodable = all.iter().filter(|r| matches!(r, Input::Undecodable)).count();
        let refused = all
            .iter()
            .filter(|r| match r {
                Input::Request(r) => r.amount_minor <= 0 || r.currency != "EUR" || r.payer_country == "KP",
                Input::Undecodable => false,
            })
            .count();
        assert_eq!(undecodable, 10);
        assert!((250..=450).contains(&refused), "{refused} refused");
    }

    #[test]
    fn payment_ids_are_distinct_and_each_payer_has_about_three_requests() {
        let all = requests(9_000, 3_000);
        let mut ids = std::collections::HashSet::new();
        let mut per_payer = std::collections::HashMap::<String, u32>::new();
        for r in &all {
            if let Input::Request(r) = r {
                assert!(ids.insert(r.payment_id.clone()));
                *per_payer.entry(r.payer_account.clone()).or_default() += 1;
            }
        }
        assert_eq!(per_payer.len(), 3_000);
        // The velocity rule (more than 5 in the window) never fires with 3 per payer.
        assert!(per_payer.values().all(|&n| n <= 3));
    }

    #[test]
    fn payer_and_payee_are_well_formed_and_different() {
        for r in requests(2_000, 100) {
            if let Input::Request(r) = r {
                assert_ne!(r.payer_account, r.payee_account);
                assert!(r.payer_account.len() >= 3 && r.payee_account.len() >= 3);
            }
        }
    }
}
