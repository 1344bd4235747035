//! Payment events: the request, and its two possible outcomes.

use serde::{Deserialize, Serialize};

use crate::avro_event;

/// `io.paystream.payments.PaymentRequested` on `payments.payment-requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequested {
    /// Producer-assigned unique id of this event.
    pub event_id: String,
    /// Idempotency key of the payment.
    pub payment_id: String,
    /// Account debited.
    pub payer_account: String,
    /// Account credited.
    pub payee_account: String,
    /// Integer minor units.
    pub amount_minor: i64,
    /// ISO-4217 code.
    pub currency: String,
    /// ISO-3166-1 alpha-2 country of the payer.
    pub payer_country: String,
    /// Request time, Unix ms.
    pub requested_at: i64,
    /// Optional free text.
    pub description: Option<String>,
}
avro_event!(PaymentRequested, "payment-requested.avsc");

/// `io.paystream.payments.PaymentProcessed` on `payments.payment-processed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentProcessed {
    /// Deterministic id derived from the payment id.
    pub event_id: String,
    /// The payment.
    pub payment_id: String,
    /// Account to debit.
    pub payer_account: String,
    /// Account to credit.
    pub payee_account: String,
    /// Integer minor units.
    pub amount_minor: i64,
    /// ISO-4217 code.
    pub currency: String,
    /// Copied from the request, Unix ms.
    pub requested_at: i64,
    /// Timestamp of the request record, Unix ms.
    pub processed_at: i64,
}
avro_event!(PaymentProcessed, "payment-processed.avsc");

/// `io.paystream.payments.PaymentFailed` on `payments.payment-failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// Deterministic id derived from the payment id.
    pub event_id: String,
    /// The payment, as received.
    pub payment_id: String,
    /// Payer as received.
    pub payer_account: String,
    /// Payee as received.
    pub payee_account: String,
    /// Amount as received.
    pub amount_minor: i64,
    /// Currency as received.
    pub currency: String,
    /// Reason code.
    pub reason: String,
    /// Explanation.
    pub detail: String,
    /// Copied from the request, Unix ms.
    pub requested_at: i64,
    /// Timestamp of the request record, Unix ms.
    pub failed_at: i64,
}
avro_event!(PaymentFailed, "payment-failed.avsc");
