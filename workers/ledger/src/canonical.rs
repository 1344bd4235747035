//! From a source event to a canonical [`LedgerTransaction`]: legs in a fixed order (debited
//! accounts first, then credited ones, each by account and currency), a content hash that tells an
//! identical duplicate from a conflicting one, and the rules every transaction must pass before
//! it touches a balance. Pure functions, no Kafka.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use shared::events::{LedgerTransaction, Leg, PaymentProcessed, TransactionRequested};
use shared::ids::is_account_id;

use crate::reason::{Reason, Refusal};

/// Transaction ids of processed payments are `payment:<payment_id>`; requests may not use it.
pub const PAYMENT_PREFIX: &str = "payment:";
/// Clearing accounts (`clearing-p<partition>`) belong to the ledger; requests may not post to them.
pub const CLEARING_PREFIX: &str = "clearing-";
/// Most legs one transaction may carry.
pub const MAX_LEGS: usize = 32;
/// Longest transaction id.
pub const MAX_ID_LEN: usize = 128;

/// Where a transaction came from.
pub const ORIGIN_REQUEST: &str = "request";
/// A processed payment.
pub const ORIGIN_PAYMENT: &str = "payment";

/// The canonical form of a transaction request (not yet validated).
pub fn from_request(request: TransactionRequested, ingested_at: i64) -> LedgerTransaction {
    canonical(
        request.transaction_id,
        ORIGIN_REQUEST,
        None,
        request.kind,
        request.legs,
        request.requested_at,
        ingested_at,
    )
}

/// The canonical form of a processed payment: debit the payer, credit the payee.
pub fn from_payment(payment: PaymentProcessed, ingested_at: i64) -> LedgerTransaction {
    let PaymentProcessed {
        payment_id,
        payer_account,
        payee_account,
        amount_minor,
        currency,
        requested_at,
        ..
    } = payment;
    let debit = Leg {
        account_id: payer_account,
        currency: currency.clone(),
        amount_minor: amount_minor.saturating_neg(),
    };
    let credit = Leg {
        account_id: payee_account,
        currency,
        amount_minor,
    };
    canonical(
        format!("{PAYMENT_PREFIX}{payment_id}"),
        ORIGIN_PAYMENT,
        Some(payment_id),
        "payment".to_owned(),
        vec![debit, credit],
        requested_at,
        ingested_at,
    )
}

fn canonical(
    transaction_id: String,
    origin: &str,
    payment_id: Option<String>,
    kind: String,
    mut legs: Vec<Leg>,
    requested_at: i64,
    ingested_at: i64,
) -> LedgerTransaction {
    let debited: Vec<String> = legs
        .iter()
        .filter(|l| l.amount_minor < 0)
        .map(|l| l.account_id.clone())
        .collect();
    legs.sort_by(|a, b| {
        let rank = |l: &Leg| !debited.contains(&l.account_id);
        (rank(a), &a.account_id, &a.currency, a.amount_minor).cmp(&(
            rank(b),
            &b.account_id,
            &b.currency,
            b.amount_minor,
        ))
    });
    let content_hash = content_hash(&transaction_id, origin, &kind, &legs);
    LedgerTransaction {
        transaction_id,
        origin: origin.to_owned(),
        payment_id,
        kind,
        legs,
        content_hash,
        requested_at,
        ingested_at,
    }
}

/// SHA-256 over the length-prefixed id, origin, kind and canonical legs. Timestamps and event ids
/// are not content: a client retry with a new event id is an identical duplicate.
fn content_hash(transaction_id: &str, origin: &str, kind: &str, legs: &[Leg]) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(transaction_id.as_bytes());
    field(origin.as_bytes());
    field(kind.as_bytes());
    for leg in legs {
        field(leg.account_id.as_bytes());
        field(leg.currency.as_bytes());
        field(&leg.amount_minor.to_be_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The accounts of a transaction in step order: one step per distinct account, debited first.
pub fn steps(transaction: &LedgerTransaction) -> Vec<&str> {
    let mut steps: Vec<&str> = Vec::with_capacity(transaction.legs.len());
    for leg in &transaction.legs {
        if steps.last() != Some(&leg.account_id.as_str()) {
            steps.push(&leg.account_id);
        }
    }
    steps
}

/// The legs of one step's account.
pub fn legs_of<'t>(transaction: &'t LedgerTransaction, account: &'t str) -> impl Iterator<Item = &'t Leg> + Clone + 't {
    transaction.legs.iter().filter(move |l| l.account_id == account)
}

/// Checks a canonical transaction. The first failing rule wins: shape, then currency, then balance.
pub fn validate(t: &LedgerTransaction) -> Result<(), Refusal> {
    let malformed = |detail: String| Err(Refusal::new(Reason::Malformed, detail));
    if t.transaction_id.is_empty()
        || t.transaction_id.len() > MAX_ID_LEN
        || t.transaction_id.chars().any(char::is_control)
    {
        return malformed(format!("transaction id must be 1-{MAX_ID_LEN} printable characters"));
    }
    let kinds: &[&str] = if t.origin == ORIGIN_PAYMENT {
        &["payment"]
    } else {
        if t.transaction_id.starts_with(PAYMENT_PREFIX) {
            return malformed(format!(
                "transaction ids starting with {PAYMENT_PREFIX:?} are reserved for payments"
            ));
        }
        &["transfer", "adjustment"]
    };
    if !kinds.contains(&t.kind.as_str()) {
        return malformed(format!("kind {:?} is not one of {kinds:?}", t.kind));
    }
    if !(2..=MAX_LEGS).contains(&t.legs.len()) {
        return malformed(format!("{} legs; a transaction has 2 to {MAX_LEGS}", t.legs.len()));
    }
    for (i, leg) in t.legs.iter().enumerate() {
        if !is_account_id(&leg.account_id) {
            return malformed(format!(
                "account {:?} is not 3-64 characters of [A-Za-z0-9_-]",
                leg.account_id
            ));
        }
        if leg.account_id.starts_with(CLEARING_PREFIX) {
            return malformed(format!("account {:?} is a ledger clearing account", leg.account_id));
        }
        if leg.amount_minor == 0 || leg.amount_minor == i64::MIN {
            return malformed(format!("leg on {} has amount {}", leg.account_id, leg.amount_minor));
        }
        if t.legs[..i]
            .iter()
            .any(|l| l.account_id == leg.account_id && l.currency == leg.currency)
        {
            return malformed(format!("two legs on {} in {}", leg.account_id, leg.currency));
        }
    }
    if let Some(leg) = t
        .legs
        .iter()
        .find(|l| iso_currency::Currency::from_code(&l.currency).is_none())
    {
        return Err(Refusal::new(
            Reason::UnknownCurrency,
            format!("currency {:?} on {} is not ISO-4217", leg.currency, leg.account_id),
        ));
    }
    let mut sums: BTreeMap<&str, i128> = BTreeMap::new();
    for leg in &t.legs {
        *sums.entry(&leg.currency).or_default() += i128::from(leg.amount_minor);
    }
    if let Some((currency, sum)) = sums.iter().find(|(_, sum)| **sum != 0) {
        return Err(Refusal::new(
            Reason::Unbalanced,
            format!("legs in {currency} sum to {sum}, not 0"),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn leg(account: &str, currency: &str, amount: i64) -> Leg {
        Leg {
            account_id: account.into(),
            currency: currency.into(),
            amount_minor: amount,
        }
    }

    pub(crate) fn request(id: &str, legs: Vec<Leg>) -> TransactionRequested {
        TransactionRequested {
            event_id: format!("e-{id}"),
            transaction_id: id.into(),
            kind: "transfer".into(),
            legs,
            description: None,
            requested_at: 1_700_000_000_000,
        }
    }

    fn reason(t: &LedgerTransaction) -> Option<Reason> {
        validate(t).err().map(|r| r.reason)
    }

    #[test]
    fn legs_are_ordered_debits_first_and_steps_follow_the_accounts() {
        let t = from_request(
            request(
                "fx-1",
                vec![
                    leg("zed", "EUR", 90),
                    leg("fx-desk", "USD", 100),
                    leg("alice", "USD", -100),
                    leg("fx-desk", "EUR", -90),
                ],
            ),
            5,
        );
        let order: Vec<_> = t
            .legs
            .iter()
            .map(|l| (l.account_id.as_str(), l.currency.as_str()))
            .collect();
        assert_eq!(
            order,
            [("alice", "USD"), ("fx-desk", "EUR"), ("fx-desk", "USD"), ("zed", "EUR")]
        );
        assert_eq!(steps(&t), ["alice", "fx-desk", "zed"]);
        assert_eq!(legs_of(&t, "fx-desk").count(), 2);
        assert_eq!(validate(&t), Ok(()));
        assert_eq!(t.ingested_at, 5);
    }

    #[test]
    fn the_hash_ignores_leg_order_and_event_ids_but_not_amounts() {
        let a = from_request(request("t", vec![leg("aaa", "EUR", -5), leg("bbb", "EUR", 5)]), 1);
        let mut retried = request("t", vec![leg("bbb", "EUR", 5), leg("aaa", "EUR", -5)]);
        retried.event_id = "another".into();
        assert_eq!(from_request(retried, 2).content_hash, a.content_hash);
        let changed = from_request(request("t", vec![leg("aaa", "EUR", -6), leg("bbb", "EUR", 6)]), 1);
        assert_ne!(changed.content_hash, a.content_hash);
        assert_eq!(a.content_hash.len(), 64);
    }

    #[test]
    fn a_payment_debits_the_payer_and_credits_the_payee() {
        let p = PaymentProcessed {
            event_id: "x".into(),
            payment_id: "p-1".into(),
            payer_account: "payer".into(),
            payee_account: "payee".into(),
            amount_minor: 250,
            currency: "GBP".into(),
            requested_at: 1,
            processed_at: 2,
        };
        let t = from_payment(p, 3);
        assert_eq!(t.transaction_id, "payment:p-1");
        assert_eq!(t.legs, vec![leg("payer", "GBP", -250), leg("payee", "GBP", 250)]);
        assert_eq!(validate(&t), Ok(()));
    }

    #[test]
    fn each_rule_names_its_reason() {
        let ok = || vec![leg("aaa", "EUR", -5), leg("bbb", "EUR", 5)];
        let t = |legs| from_request(request("t", legs), 0);
        assert_eq!(
            reason(&t(vec![leg("aaa", "EUR", -5), leg("bbb", "EUR", 4)])),
            Some(Reason::Unbalanced)
        );
        assert_eq!(
            reason(&t(vec![leg("aaa", "XXY", -5), leg("bbb", "XXY", 5)])),
            Some(Reason::UnknownCurrency)
        );
        assert_eq!(reason(&t(vec![leg("aaa", "EUR", -5)])), Some(Reason::Malformed));
        assert_eq!(
            reason(&t(vec![leg("aaa", "EUR", 0), leg("bbb", "EUR", 0)])),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(&t(vec![leg("aaa", "EUR", -5), leg("aaa", "EUR", 5)])),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(&t(vec![leg("a b", "EUR", -5), leg("bbb", "EUR", 5)])),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(&t(vec![leg("clearing-p0", "EUR", -5), leg("bbb", "EUR", 5)])),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(&t(vec![leg("aaa", "EUR", i64::MIN), leg("bbb", "EUR", 5)])),
            Some(Reason::Malformed)
        );
        let mut bad_kind = request("t", ok());
        bad_kind.kind = "gift".into();
        assert_eq!(reason(&from_request(bad_kind, 0)), Some(Reason::Malformed));
        assert_eq!(
            reason(&from_request(request("payment:x", ok()), 0)),
            Some(Reason::Malformed)
        );
        assert_eq!(reason(&from_request(request("", ok()), 0)), Some(Reason::Malformed));
        let too_many = (0..=MAX_LEGS as i64)
            .map(|i| leg(&format!("acc{i}"), "EUR", if i == 0 { -(MAX_LEGS as i64) } else { 1 }))
            .collect();
        assert_eq!(reason(&t(too_many)), Some(Reason::Malformed));
    }

    #[test]
    fn sums_that_overflow_64_bits_are_unbalanced_not_a_panic() {
        let t = from_request(
            request(
                "t",
                vec![
                    leg("aaa", "EUR", i64::MAX),
                    leg("bbb", "EUR", i64::MAX),
                    leg("ccc", "EUR", -1),
                ],
            ),
            0,
        );
        assert_eq!(reason(&t), Some(Reason::Unbalanced));
    }
}
