//! The posting steps: `ledger.postings` is keyed by account, so each account's balance has exactly
//! one writer — the task of its partition. A step posts its account's legs against the
//! partition's clearing account and forwards the transaction to the next account; a refused debit
//! rejects the transaction and sends reversals to the steps already posted.
//!
//! Each step's outcome is an idempotency record (`step:<entry id>`, see [`shared::state::Seen`]),
//! so a redelivered command is ignored and a replay of the same record (after a crash) publishes
//! the recorded outcome again, byte for byte.

use serde::{Deserialize, Serialize};
use shared::events::PostingCommand;
use shared::handler::{Context, InputMessage};
use shared::outcome::{Disposition, HandleError};
use shared::state::Seen;

use crate::book::{self, Account, Direction, Update};
use crate::canonical::{self, CLEARING_PREFIX, ORIGIN_PAYMENT};
use crate::emit::Emitter;
use crate::handler::LedgerHandler;
use crate::reason::Refusal;

/// Mode of a command that posts a step.
pub const MODE_APPLY: &str = "apply";
/// Mode of a command that reverses a posted step.
pub const MODE_COMPENSATE: &str = "compensate";

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// Posted: these balance changes.
    Posted(Vec<Update>),
    /// Refused: the transaction is rejected.
    Refused(Refusal),
}

/// The clearing account of a `ledger.postings` partition.
pub fn clearing_account(partition: i32) -> String {
    format!("{CLEARING_PREFIX}p{partition}")
}

fn account_key(account: &str) -> String {
    format!("acct:{account}")
}

/// A `ledger.postings` record.
pub(crate) fn handle(
    h: &LedgerHandler,
    message: &InputMessage<'_>,
    payload: &[u8],
    ctx: &mut Context<'_>,
) -> Result<Disposition, HandleError> {
    let mut command: PostingCommand = ctx.decode(payload)?;
    let t = &command.transaction;
    let steps = canonical::steps(t);
    let step = usize::try_from(command.step)
        .ok()
        .filter(|s| *s < steps.len())
        .ok_or_else(|| {
            HandleError::poison(
                "invalid",
                format!("step {} of {} is out of range", command.step, t.transaction_id),
            )
        })?;
    let direction = match command.mode.as_str() {
        MODE_APPLY => Direction::Apply,
        MODE_COMPENSATE => Direction::Reverse,
        other => {
            return Err(HandleError::poison(
                "invalid",
                format!("posting mode {other:?} is unknown"),
            ));
        }
    };
    let account = steps[step];
    let entry_id = match direction {
        Direction::Apply => format!("{}/{step}", t.transaction_id),
        Direction::Reverse => format!("{}/{step}/reversal", t.transaction_id),
    };
    let record_key = format!("step:{entry_id}");
    let state = ctx.state()?;
    let outcome = match state.seen::<Outcome>(&record_key, message.offset)? {
        // The state already reflects this record: publish its recorded outcome again.
        Seen::Replay(outcome) => outcome,
        Seen::Duplicate(_) => {
            tracing::debug!(entry_id = %entry_id, offset = message.offset, "posting command already applied; ignored");
            return Ok(Disposition::Processed);
        }
        Seen::New => {
            let clearing_id = clearing_account(message.partition);
            let mut balances = state.get_json::<Account>(&account_key(account))?.unwrap_or_default();
            let mut clearing = state
                .get_json::<Account>(&account_key(&clearing_id))?
                .unwrap_or_default();
            let legs = canonical::legs_of(t, account);
            let outcome = match book::post(
                account,
                &mut balances,
                &clearing_id,
                &mut clearing,
                legs,
                direction,
                &h.policy,
            ) {
                Ok(updates) => {
                    state.put_json(&account_key(account), &balances)?;
                    state.put_json(&account_key(&clearing_id), &clearing)?;
                    h.metrics.entries.inc();
                    Outcome::Posted(updates)
                }
                Err(refusal) => {
                    h.metrics.rejected(refusal.reason);
                    Outcome::Refused(refusal)
                }
            };
            state.record(&record_key, message.offset, &outcome)?;
            if direction == Direction::Apply && step + 1 == steps.len() && matches!(outcome, Outcome::Posted(_)) {
                h.metrics.posted.inc();
                h.observe_commit(t.ingested_at);
            }
            outcome
        }
    };
    let mut out = Emitter {
        ctx,
        config: &h.config,
        at_ms: message.timestamp_ms,
    };
    match outcome {
        Outcome::Posted(updates) => {
            out.balances(&t.transaction_id, &entry_id, &updates)?;
            if direction == Direction::Apply {
                match steps.get(step + 1) {
                    Some(next) => {
                        let next = (*next).to_owned();
                        command.step += 1;
                        out.command(&next, &command)?;
                    }
                    None => out.posted(&command.transaction)?,
                }
            }
            Ok(Disposition::Processed)
        }
        Outcome::Refused(refusal) => {
            // Reverse the steps already posted, last first; only a refusal pays for this copy.
            let earlier: Vec<String> = steps[..step].iter().map(|a| (*a).to_owned()).collect();
            out.rejection(
                &command.transaction,
                &refusal,
                command.transaction.origin == ORIGIN_PAYMENT,
            )?;
            command.mode = MODE_COMPENSATE.to_owned();
            command.reason = Some(refusal.reason.code().to_owned());
            for (j, account) in earlier.iter().enumerate().rev() {
                command.step = j as i32;
                out.command(account, &command)?;
            }
            Ok(Disposition::Rejected)
        }
    }
}
