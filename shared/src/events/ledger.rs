//! Ledger events: the transaction request, the ledger's outcomes, its internal repartition
//! commands, and the compensation request it sends to the payments worker.

use serde::{Deserialize, Serialize};

use crate::avro_event;

/// One line of a journal entry: a signed amount on one account in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Leg {
    /// Account posted to.
    pub account_id: String,
    /// ISO-4217 code.
    pub currency: String,
    /// Integer minor units; negative debits the account, positive credits it.
    pub amount_minor: i64,
}

/// `io.paystream.ledger.TransactionRequested` on `ledger.transaction-requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRequested {
    /// Producer-assigned unique id of this event.
    pub event_id: String,
    /// Idempotency key.
    pub transaction_id: String,
    /// `transfer` or `adjustment`.
    pub kind: String,
    /// Legs summing to zero per currency.
    pub legs: Vec<Leg>,
    /// Optional free text.
    pub description: Option<String>,
    /// Request time, Unix ms.
    pub requested_at: i64,
}
avro_event!(TransactionRequested, "transaction-requested.avsc");

/// `io.paystream.ledger.internal.LedgerTransaction` on `ledger.transactions`: a validated
/// transaction in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerTransaction {
    /// Idempotency key (`payment:<payment_id>` for a payment).
    pub transaction_id: String,
    /// `request` or `payment`.
    pub origin: String,
    /// Set when the transaction came from a processed payment.
    pub payment_id: Option<String>,
    /// `transfer`, `adjustment` or `payment`.
    pub kind: String,
    /// Legs in canonical order.
    pub legs: Vec<Leg>,
    /// SHA-256 (hex) of the canonical content.
    pub content_hash: String,
    /// Copied from the source event, Unix ms.
    pub requested_at: i64,
    /// Timestamp of the source record, Unix ms.
    pub ingested_at: i64,
}
avro_event!(LedgerTransaction, "ledger-transaction.avsc");

/// `io.paystream.ledger.internal.PostingCommand` on `ledger.postings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingCommand {
    /// The whole transaction.
    pub transaction: LedgerTransaction,
    /// Index of the account step.
    pub step: i32,
    /// `apply` or `compensate`.
    pub mode: String,
    /// For `compensate`: the rejection reason code.
    pub reason: Option<String>,
}
avro_event!(PostingCommand, "posting-command.avsc");

/// `io.paystream.ledger.BalanceUpdated` on `ledger.balance-updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceUpdated {
    /// Deterministic id.
    pub event_id: String,
    /// The account.
    pub account_id: String,
    /// Currency of this balance.
    pub currency: String,
    /// New balance, minor units.
    pub balance_minor: i64,
    /// Signed change.
    pub delta_minor: i64,
    /// Per-account sequence number from 1, gap-free.
    pub version: i64,
    /// Transaction that moved it.
    pub transaction_id: String,
    /// Journal entry that moved it.
    pub entry_id: String,
    /// Timestamp of the causing input record, Unix ms.
    pub updated_at: i64,
}
avro_event!(BalanceUpdated, "balance-updated.avsc");

/// `io.paystream.ledger.TransactionRejected` on `ledger.transaction-rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRejected {
    /// Deterministic id.
    pub event_id: String,
    /// The transaction as received.
    pub transaction_id: String,
    /// `request` or `payment`.
    pub origin: String,
    /// Set when it came from a processed payment.
    pub payment_id: Option<String>,
    /// Reason code.
    pub reason: String,
    /// Explanation.
    pub detail: String,
    /// The account that caused it, if any.
    pub account_id: Option<String>,
    /// Timestamp of the causing input record, Unix ms.
    pub rejected_at: i64,
}
avro_event!(TransactionRejected, "transaction-rejected.avsc");

/// `io.paystream.payments.PaymentReversalRequested` on `payments.payment-reversal-requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReversalRequested {
    /// Deterministic id.
    pub event_id: String,
    /// The payment to reverse.
    pub payment_id: String,
    /// The rejected ledger transaction.
    pub transaction_id: String,
    /// The ledger's reason code.
    pub reason: String,
    /// Explanation.
    pub detail: String,
    /// Copied from the payment.
    pub payer_account: String,
    /// Copied from the payment.
    pub payee_account: String,
    /// Copied from the payment.
    pub amount_minor: i64,
    /// Copied from the payment.
    pub currency: String,
    /// Timestamp of the ledger input that caused it, Unix ms.
    pub requested_at: i64,
}
avro_event!(PaymentReversalRequested, "payment-reversal-requested.avsc");
