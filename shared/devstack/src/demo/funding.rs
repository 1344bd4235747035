//! Opening balances for the demo: before the sample payments start, every payer of the sample
//! pool is funded in each sample currency with one `adjustment` on
//! `ledger.transaction-requested` (from the outside-world account `ext-demo-bank`, which may go
//! below zero). Payers outside the pool (velocity bursts, blocked countries) stay unfunded, so the
//! ledger refuses their payments with `overdraft` and the payments worker reverses them — the
//! saga is visible in the summary. Transaction ids are fixed per account, so re-running the demo on
//! the same stack directory funds nobody twice.

use rdkafka::producer::FutureRecord;
use shared::codec::AvroEvent as _;
use shared::events::{Leg, TransactionRequested};
use tracing::info;

use super::sample::CURRENCIES;
use crate::{
    DevstackError, KafkaClientSettings,
    produce::{self, InFlight},
    registry_client::{RegistryClient, value_subject},
};

/// The input topic of the ledger.
pub(crate) const LEDGER_INPUT_TOPIC: &str = "ledger.transaction-requested";
/// The account the opening balances come from.
pub(crate) const FUNDING_ACCOUNT: &str = "ext-demo-bank";
/// Opening balance per payer and currency, minor units: far above what the sample spends.
pub(crate) const OPENING_BALANCE_MINOR: i64 = 1_000_000_000;

/// The funding adjustment of `account`.
pub(crate) fn funding_transaction(account: &str, now_ms: i64) -> TransactionRequested {
    let mut legs = Vec::with_capacity(2 * CURRENCIES.len());
    for currency in CURRENCIES {
        legs.push(Leg {
            account_id: FUNDING_ACCOUNT.to_owned(),
            currency: currency.to_owned(),
            amount_minor: -OPENING_BALANCE_MINOR,
        });
        legs.push(Leg {
            account_id: account.to_owned(),
            currency: currency.to_owned(),
            amount_minor: OPENING_BALANCE_MINOR,
        });
    }
    TransactionRequested {
        event_id: format!("demo-funding-{account}"),
        transaction_id: format!("demo-funding-{account}"),
        kind: "adjustment".to_owned(),
        legs,
        description: Some("demo opening balance".to_owned()),
        requested_at: now_ms,
    }
}

/// Produces the funding of every account and waits for the acknowledgements; returns the count.
pub(crate) async fn fund<'a>(
    settings: &KafkaClientSettings,
    registry: &RegistryClient,
    accounts: impl Iterator<Item = &'a str>,
    now_ms: i64,
) -> Result<u64, DevstackError> {
    let schema_id = registry
        .register(&value_subject(LEDGER_INPUT_TOPIC), TransactionRequested::SCHEMA_JSON)
        .await?;
    let producer = produce::producer(settings)?;
    let kafka_error = |source| DevstackError::Kafka {
        action: format!("produce opening balances to {LEDGER_INPUT_TOPIC}"),
        bootstrap: settings.bootstrap.clone(),
        source: Box::new(source),
    };
    let mut in_flight = InFlight::new();
    let mut sent = 0_u64;
    let mut value = Vec::new();
    for account in accounts {
        let t = funding_transaction(account, now_ms);
        value.clear();
        shared::codec::frame_into(schema_id, &t, &mut value).map_err(|e| DevstackError::Avro {
            action: format!("encode the opening balance of {account}"),
            source: Box::new(e),
        })?;
        let record = FutureRecord::<[u8], [u8]>::to(LEDGER_INPUT_TOPIC)
            .key(t.transaction_id.as_bytes())
            .payload(value.as_slice());
        for (_, ack) in in_flight.send(&producer, record, ()).await.map_err(kafka_error)? {
            ack.map_err(kafka_error)?;
        }
        sent += 1;
    }
    while let Some((_, ack)) = in_flight.next().await {
        ack.map_err(kafka_error)?;
    }
    info!(topic = LEDGER_INPUT_TOPIC, accounts = sent, "opening balances produced");
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_funding_is_balanced_per_currency_and_stable_per_account() {
        let t = funding_transaction("acct-de-000001", 5);
        for currency in CURRENCIES {
            let sum: i64 = t
                .legs
                .iter()
                .filter(|l| l.currency == currency)
                .map(|l| l.amount_minor)
                .sum();
            assert_eq!(sum, 0, "{currency}");
        }
        assert_eq!(t.legs.len(), 2 * CURRENCIES.len());
        assert_eq!(
            funding_transaction("acct-de-000001", 9).transaction_id,
            t.transaction_id
        );
        assert!(
            t.legs
                .iter()
                .filter(|l| l.amount_minor < 0)
                .all(|l| l.account_id.starts_with("ext-"))
        );
    }
}
