//! The sequencer: `ledger.transactions` is keyed by transaction id, so every copy of one id meets
//! here, in one partition, in order. It remembers the content hash of each id: the first content
//! starts the posting steps, an identical copy is ignored, different content is rejected.

use shared::events::{LedgerTransaction, PostingCommand};
use shared::handler::{Context, InputMessage};
use shared::outcome::{Disposition, HandleError};
use shared::state::Seen;

use crate::emit::Emitter;
use crate::handler::LedgerHandler;
use crate::reason::{Reason, Refusal};

/// A `ledger.transactions` record.
pub(crate) fn handle(
    h: &LedgerHandler,
    message: &InputMessage<'_>,
    payload: &[u8],
    ctx: &mut Context<'_>,
) -> Result<Disposition, HandleError> {
    let transaction: LedgerTransaction = ctx.decode(payload)?;
    // The idempotency record of a transaction id holds the content hash of its first content.
    let key = format!("txn:{}", transaction.transaction_id);
    let seen = ctx.state()?.seen::<String>(&key, message.offset)?;
    let mut out = Emitter {
        ctx,
        config: &h.config,
        at_ms: message.timestamp_ms,
    };
    match seen {
        Seen::New => {
            out.ctx
                .state()?
                .record(&key, message.offset, &transaction.content_hash)?;
            start(&mut out, transaction)
        }
        // The state already reflects this very record (a replay after a crash): its first step
        // may never have been acknowledged, so send it again, identically.
        Seen::Replay(_) => start(&mut out, transaction),
        Seen::Duplicate(hash) if hash == transaction.content_hash => {
            h.metrics.duplicates.inc();
            tracing::debug!(transaction_id = %transaction.transaction_id, offset = message.offset, "duplicate transaction ignored");
            let position = format!("{}/{}@{}", message.topic, message.partition, message.offset);
            out.duplicate(&transaction, &position)?;
            Ok(Disposition::Processed)
        }
        Seen::Duplicate(_) => {
            let refusal = Refusal::new(
                Reason::DuplicateConflict,
                format!(
                    "transaction id {} was already used with different content",
                    transaction.transaction_id
                ),
            );
            out.rejection(&transaction, &refusal, false)?;
            h.metrics.rejected(refusal.reason);
            Ok(Disposition::Rejected)
        }
    }
}

fn start(out: &mut Emitter<'_, '_>, transaction: LedgerTransaction) -> Result<Disposition, HandleError> {
    let first = transaction.legs.first().map(|l| l.account_id.clone()).ok_or_else(|| {
        HandleError::poison(
            "invalid",
            format!("transaction {} has no legs", transaction.transaction_id),
        )
    })?;
    let command = PostingCommand {
        transaction,
        step: 0,
        mode: crate::posting::MODE_APPLY.to_owned(),
        reason: None,
    };
    out.command(&first, &command)?;
    Ok(Disposition::Processed)
}
