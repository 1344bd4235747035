//! Intake of the two external inputs: decode, put into canonical form, validate, and forward to
//! the sequencer keyed by transaction id — or reject. Stateless: a replay makes the same outputs,
//! and the sequencer drops the repeated forward.

use shared::events::{LedgerTransaction, PaymentProcessed, TransactionRequested};
use shared::handler::{Context, InputMessage};
use shared::outcome::{Disposition, HandleError};

use crate::canonical::{self, ORIGIN_PAYMENT};
use crate::emit::Emitter;
use crate::handler::LedgerHandler;

/// A `ledger.transaction-requested` record.
pub(crate) fn transaction_requested(
    h: &LedgerHandler,
    message: &InputMessage<'_>,
    payload: &[u8],
    ctx: &mut Context<'_>,
) -> Result<Disposition, HandleError> {
    let request: TransactionRequested = ctx.decode(payload)?;
    admit(h, canonical::from_request(request, message.timestamp_ms), message, ctx)
}

/// A `payments.payment-processed` record.
pub(crate) fn payment_processed(
    h: &LedgerHandler,
    message: &InputMessage<'_>,
    payload: &[u8],
    ctx: &mut Context<'_>,
) -> Result<Disposition, HandleError> {
    let payment: PaymentProcessed = ctx.decode(payload)?;
    admit(h, canonical::from_payment(payment, message.timestamp_ms), message, ctx)
}

fn admit(
    h: &LedgerHandler,
    t: LedgerTransaction,
    message: &InputMessage<'_>,
    ctx: &mut Context<'_>,
) -> Result<Disposition, HandleError> {
    let mut out = Emitter {
        ctx,
        config: &h.config,
        at_ms: message.timestamp_ms,
    };
    match canonical::validate(&t) {
        Ok(()) => {
            out.transaction(&t)?;
            Ok(Disposition::Processed)
        }
        Err(refusal) => {
            tracing::debug!(transaction_id = %t.transaction_id, reason = refusal.reason.code(), detail = %refusal.detail, "transaction rejected at intake");
            out.rejection(&t, &refusal, t.origin == ORIGIN_PAYMENT)?;
            h.metrics.rejected(refusal.reason);
            Ok(Disposition::Rejected)
        }
    }
}
