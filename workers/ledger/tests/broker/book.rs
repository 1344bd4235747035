//! An independent reading of `ledger.balance-updated`: drops redelivered copies by event id and
//! checks every invariant the ledger promises, returning the final balances.

use std::collections::{BTreeMap, HashMap};

use shared::events::BalanceUpdated;
use testkit::kafka::Record;

/// Final balances per (account, currency), from the stream.
pub(crate) type Balances = BTreeMap<(String, String), i64>;

/// What the stream says, after checking it.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Final balance per (account, currency), clearing accounts included.
    pub(crate) balances: Balances,
    /// Distinct balance events.
    pub(crate) events: usize,
    /// Redelivered copies dropped by event id.
    pub(crate) copies: usize,
    /// Sum of deltas per journal entry and currency.
    pub(crate) entries: HashMap<String, BTreeMap<String, i64>>,
}

/// Checks what holds at every point of the stream, in offset order per partition:
/// - a redelivered copy is byte-identical to the first one with its event id;
/// - per account, versions go 1, 2, 3, … with no gap and no repeat;
/// - per (account, currency), each balance is the previous one plus its delta.
pub(crate) fn check(records: &[Record]) -> Checked {
    let mut first_bytes: HashMap<String, Vec<u8>> = HashMap::new();
    let mut versions: HashMap<String, i64> = HashMap::new();
    let mut out = Checked::default();
    let mut ordered: Vec<&Record> = records.iter().collect();
    ordered.sort_by_key(|r| (r.partition, r.offset));
    for r in ordered {
        let payload = r.payload.clone().expect("balance event has a value");
        let e: BalanceUpdated = testkit::kafka::decode(&payload);
        assert_eq!(
            r.header("event-id"),
            Some(e.event_id.as_str()),
            "event-id header matches the event"
        );
        if let Some(first) = first_bytes.get(&e.event_id) {
            assert_eq!(first, &payload, "redelivered {} is byte-identical", e.event_id);
            out.copies += 1;
            continue;
        }
        first_bytes.insert(e.event_id.clone(), payload);
        out.events += 1;
        let version = versions.entry(e.account_id.clone()).or_insert(0);
        assert_eq!(
            e.version,
            *version + 1,
            "version of {} after {} (gap or repeat)",
            e.account_id,
            version
        );
        *version = e.version;
        let balance = out
            .balances
            .entry((e.account_id.clone(), e.currency.clone()))
            .or_insert(0);
        assert_eq!(
            *balance + e.delta_minor,
            e.balance_minor,
            "{} {}: balance follows from the previous one and the delta",
            e.account_id,
            e.currency
        );
        *balance = e.balance_minor;
        *out.entries
            .entry(e.entry_id.clone())
            .or_default()
            .entry(e.currency)
            .or_insert(0) += e.delta_minor;
    }
    out
}

/// Checks what holds once every input is processed:
/// - every journal entry (`entry_id`) sums to zero per currency;
/// - every currency sums to zero over all accounts, and so does the clearing account
///   (its per-partition shards summed).
pub(crate) fn assert_settled(out: &Checked) {
    for (entry, sums) in &out.entries {
        for (currency, sum) in sums {
            assert_eq!(*sum, 0, "entry {entry} is unbalanced in {currency}");
        }
    }
    let mut totals: BTreeMap<&str, i128> = BTreeMap::new();
    let mut clearing: BTreeMap<&str, i128> = BTreeMap::new();
    for ((account, currency), balance) in &out.balances {
        *totals.entry(currency).or_default() += i128::from(*balance);
        if account.starts_with("clearing-") {
            *clearing.entry(currency).or_default() += i128::from(*balance);
        }
    }
    for (currency, total) in &totals {
        assert_eq!(*total, 0, "all balances in {currency} sum to zero");
    }
    for (currency, total) in &clearing {
        assert_eq!(*total, 0, "the clearing account (all shards) is zero in {currency}");
    }
}

/// The final balances of non-clearing accounts that are not zero.
pub(crate) fn customer_balances(balances: &Balances) -> Balances {
    balances
        .iter()
        .filter(|((account, _), b)| !account.starts_with("clearing-") && **b != 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Expected balances: the legs of every transaction in `applied`, summed.
pub(crate) fn expected<'a>(applied: impl IntoIterator<Item = &'a [shared::events::Leg]>) -> Balances {
    let mut out = Balances::new();
    for legs in applied {
        for l in legs {
            *out.entry((l.account_id.clone(), l.currency.clone())).or_insert(0) += l.amount_minor;
        }
    }
    out.retain(|_, b| *b != 0);
    out
}
