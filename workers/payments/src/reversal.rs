//! The compensating half of the ledger saga: a `payments.payment-reversal-requested` event says the
//! ledger could not post a processed payment. The payment is marked reversed once (state key
//! `reversal:<payment_id>`, with the input offset, in this input's state store) and a
//! `payments.payment-failed` with reason `ledger_rejected` plus a `payment.reversed` audit record
//! are emitted. A redelivered request emits nothing; a replay of the same record emits the same
//! bytes (deterministic ids, timestamps from the records).

use std::collections::BTreeMap;

use shared::events::{AuditEvent, PaymentFailed, PaymentReversalRequested};
use shared::handler::{Context, InputMessage};
use shared::ids::event_id;
use shared::outcome::{Disposition, HandleError};
use shared::state::Seen;

use crate::config::PaymentsConfig;
use crate::metrics::PaymentMetrics;
use crate::reason::Reason;

/// Audit action of a reversed payment.
pub const ACTION_REVERSED: &str = "payment.reversed";

/// State key of a payment's reversal mark.
pub fn reversal_key(payment_id: &str) -> String {
    format!("reversal:{payment_id}")
}

/// The failed outcome that reverses the payment.
pub fn failed_event(request: &PaymentReversalRequested, at_ms: i64) -> PaymentFailed {
    PaymentFailed {
        event_id: event_id("payment-reversed", &request.payment_id),
        payment_id: request.payment_id.clone(),
        payer_account: request.payer_account.clone(),
        payee_account: request.payee_account.clone(),
        amount_minor: request.amount_minor,
        currency: request.currency.clone(),
        reason: Reason::LedgerRejected.code().to_owned(),
        detail: format!(
            "ledger rejected transaction {} ({}): {}",
            request.transaction_id, request.reason, request.detail
        ),
        requested_at: request.requested_at,
        failed_at: at_ms,
    }
}

/// The audit record of the reversal.
pub fn audit_event(request: &PaymentReversalRequested, at_ms: i64) -> AuditEvent {
    AuditEvent {
        event_id: event_id("audit-payment-reversed", &request.payment_id),
        source: "payments".to_owned(),
        action: ACTION_REVERSED.to_owned(),
        actor: request.payer_account.clone(),
        subject_id: request.payment_id.clone(),
        occurred_at: at_ms,
        details: BTreeMap::from([
            ("amount_minor".to_owned(), request.amount_minor.to_string()),
            ("currency".to_owned(), request.currency.clone()),
            ("payee_account".to_owned(), request.payee_account.clone()),
            ("ledger_transaction_id".to_owned(), request.transaction_id.clone()),
            ("ledger_reason".to_owned(), request.reason.clone()),
        ]),
    }
}

/// Handles one reversal request.
pub(crate) fn handle(
    config: &PaymentsConfig,
    metrics: &PaymentMetrics,
    message: &InputMessage<'_>,
    payload: &[u8],
    ctx: &mut Context<'_>,
) -> Result<Disposition, HandleError> {
    let request: PaymentReversalRequested = ctx.decode(payload)?;
    let key = reversal_key(&request.payment_id);
    let state = ctx.state()?;
    match state.seen::<String>(&key, message.offset)? {
        Seen::New => {
            state.record(&key, message.offset, &request.transaction_id)?;
            metrics.failed(Reason::LedgerRejected);
        }
        Seen::Replay(_) => {}
        Seen::Duplicate(_) => {
            tracing::debug!(payment_id = %request.payment_id, offset = message.offset, "reversal already applied; ignored");
            return Ok(Disposition::Processed);
        }
    }
    let failed = failed_event(&request, message.timestamp_ms);
    let audit = audit_event(&request, message.timestamp_ms);
    ctx.emit(
        &config.topic_payment_failed,
        &request.payer_account,
        &failed.event_id,
        &failed,
    )?;
    ctx.emit(&config.topic_audit, &request.payer_account, &audit.event_id, &audit)?;
    Ok(Disposition::Rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PaymentReversalRequested {
        PaymentReversalRequested {
            event_id: "r".into(),
            payment_id: "p-1".into(),
            transaction_id: "payment:p-1".into(),
            reason: "overdraft".into(),
            detail: "no funds".into(),
            payer_account: "acc-a".into(),
            payee_account: "acc-b".into(),
            amount_minor: 42,
            currency: "EUR".into(),
            requested_at: 7,
        }
    }

    #[test]
    fn the_reversal_fails_the_payment_with_ledger_rejected_and_a_stable_id() {
        let e = failed_event(&request(), 9);
        assert_eq!(e.reason, "ledger_rejected");
        assert_eq!((e.amount_minor, e.requested_at, e.failed_at), (42, 7, 9));
        assert!(e.detail.contains("overdraft"));
        assert_eq!(e.event_id, failed_event(&request(), 9).event_id);
        assert_ne!(e.event_id, event_id("payment-failed", "p-1"));
        let a = audit_event(&request(), 9);
        assert_eq!((a.action.as_str(), a.subject_id.as_str()), (ACTION_REVERSED, "p-1"));
    }
}
