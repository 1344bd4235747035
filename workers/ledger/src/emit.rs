//! The ledger's output events, built from plain values with deterministic ids (derived from the
//! transaction id, its content hash and the entry), so a replay after a crash writes the same bytes
//! and consumers can drop the copy by event id.

use std::collections::BTreeMap;

use shared::events::{
    AuditEvent, BalanceUpdated, LedgerTransaction, PaymentReversalRequested, PostingCommand, TransactionRejected,
};
use shared::handler::Context;
use shared::ids::event_id;
use shared::outcome::HandleError;

use crate::book::Update;
use crate::config::LedgerConfig;
use crate::reason::Refusal;

/// `source` of the ledger's audit records.
pub const AUDIT_SOURCE: &str = "ledger";
/// Audit action: every step of a transaction was posted.
pub const ACTION_POSTED: &str = "ledger.transaction_posted";
/// Audit action: a transaction was rejected (compliance rules watch for it).
pub const ACTION_REJECTED: &str = "ledger.transaction_rejected";
/// Audit action: a transaction id was seen again with identical content and ignored.
pub const ACTION_DUPLICATE: &str = "ledger.duplicate_ignored";

/// Writes the outputs of one handled message.
#[derive(Debug)]
pub(crate) struct Emitter<'c, 'a> {
    pub(crate) ctx: &'c mut Context<'a>,
    pub(crate) config: &'c LedgerConfig,
    /// Timestamp of the input record, Unix ms.
    pub(crate) at_ms: i64,
}

impl Emitter<'_, '_> {
    /// Forwards a validated transaction to the sequencer, keyed by its id.
    pub(crate) fn transaction(&mut self, t: &LedgerTransaction) -> Result<(), HandleError> {
        let id = event_id("ledger-transaction", &subject(t));
        self.ctx
            .emit(&self.config.topic_transactions, &t.transaction_id, &id, t)
    }

    /// Sends a posting command to the partition of `account`.
    pub(crate) fn command(&mut self, account: &str, command: &PostingCommand) -> Result<(), HandleError> {
        let name = format!(
            "{}/{}/{}",
            command.transaction.transaction_id, command.step, command.mode
        );
        let id = event_id("posting-command", &name);
        self.ctx.emit(&self.config.topic_postings, account, &id, command)
    }

    /// Publishes the balance changes of journal entry `entry_id`.
    pub(crate) fn balances(
        &mut self,
        transaction_id: &str,
        entry_id: &str,
        updates: &[Update],
    ) -> Result<(), HandleError> {
        for u in updates {
            let event = BalanceUpdated {
                event_id: event_id("balance-updated", &format!("{entry_id}:{}:{}", u.account, u.currency)),
                account_id: u.account.clone(),
                currency: u.currency.clone(),
                balance_minor: u.balance,
                delta_minor: u.delta,
                version: u.version,
                transaction_id: transaction_id.to_owned(),
                entry_id: entry_id.to_owned(),
                updated_at: self.at_ms,
            };
            self.ctx
                .emit(&self.config.topic_balance_updated, &u.account, &event.event_id, &event)?;
        }
        Ok(())
    }

    /// Publishes a rejection, its audit record and, for a payment when `reverse_payment`, the
    /// compensation request to the payments worker.
    pub(crate) fn rejection(
        &mut self,
        t: &LedgerTransaction,
        refusal: &Refusal,
        reverse_payment: bool,
    ) -> Result<(), HandleError> {
        let subject = subject(t);
        let rejected = TransactionRejected {
            event_id: event_id("transaction-rejected", &subject),
            transaction_id: t.transaction_id.clone(),
            origin: t.origin.clone(),
            payment_id: t.payment_id.clone(),
            reason: refusal.reason.code().to_owned(),
            detail: refusal.detail.clone(),
            account_id: refusal.account.clone(),
            rejected_at: self.at_ms,
        };
        self.ctx.emit(
            &self.config.topic_transaction_rejected,
            &t.transaction_id,
            &rejected.event_id,
            &rejected,
        )?;
        if let (true, Some(payment_id)) = (reverse_payment, &t.payment_id) {
            let debit = t.legs.iter().find(|l| l.amount_minor < 0);
            let credit = t.legs.iter().find(|l| l.amount_minor > 0);
            let reversal = PaymentReversalRequested {
                event_id: event_id("payment-reversal-requested", payment_id),
                payment_id: payment_id.clone(),
                transaction_id: t.transaction_id.clone(),
                reason: refusal.reason.code().to_owned(),
                detail: refusal.detail.clone(),
                payer_account: debit.map(|l| l.account_id.clone()).unwrap_or_default(),
                payee_account: credit.map(|l| l.account_id.clone()).unwrap_or_default(),
                amount_minor: credit.map_or(0, |l| l.amount_minor),
                currency: credit.or(debit).map(|l| l.currency.clone()).unwrap_or_default(),
                requested_at: t.requested_at,
            };
            self.ctx.emit(
                &self.config.topic_payment_reversal_requested,
                payment_id,
                &reversal.event_id,
                &reversal,
            )?;
        }
        let mut details = details(t);
        details.insert("reason".into(), refusal.reason.code().into());
        details.insert("detail".into(), refusal.detail.clone());
        if let Some(account) = &refusal.account {
            details.insert("account_id".into(), account.clone());
        }
        self.audit(ACTION_REJECTED, t, &subject, details)
    }

    /// Audit record: the transaction's last step was posted.
    pub(crate) fn posted(&mut self, t: &LedgerTransaction) -> Result<(), HandleError> {
        let details = details(t);
        self.audit(ACTION_POSTED, t, &t.transaction_id, details)
    }

    /// Audit record: a duplicate arrived at `position` (topic/partition@offset) and was ignored.
    pub(crate) fn duplicate(&mut self, t: &LedgerTransaction, position: &str) -> Result<(), HandleError> {
        let mut details = details(t);
        details.insert("position".into(), position.to_owned());
        self.audit(
            ACTION_DUPLICATE,
            t,
            &format!("{}@{position}", t.transaction_id),
            details,
        )
    }

    fn audit(
        &mut self,
        action: &str,
        t: &LedgerTransaction,
        id_subject: &str,
        details: BTreeMap<String, String>,
    ) -> Result<(), HandleError> {
        let event = AuditEvent {
            event_id: event_id(action, id_subject),
            source: AUDIT_SOURCE.to_owned(),
            action: action.to_owned(),
            actor: t
                .legs
                .iter()
                .find(|l| l.amount_minor < 0)
                .map(|l| l.account_id.clone())
                .unwrap_or_else(|| "unknown".to_owned()),
            subject_id: t.transaction_id.clone(),
            occurred_at: self.at_ms,
            details,
        };
        self.ctx
            .emit(&self.config.topic_audit, &t.transaction_id, &event.event_id, &event)
    }
}

/// `<transaction_id>:<content_hash>`: names one content of one transaction id.
fn subject(t: &LedgerTransaction) -> String {
    format!("{}:{}", t.transaction_id, t.content_hash)
}

fn details(t: &LedgerTransaction) -> BTreeMap<String, String> {
    let mut details = BTreeMap::from([
        ("origin".to_owned(), t.origin.clone()),
        ("kind".to_owned(), t.kind.clone()),
        ("legs".to_owned(), t.legs.len().to_string()),
        ("content_hash".to_owned(), t.content_hash.clone()),
    ]);
    if let Some(p) = &t.payment_id {
        details.insert("payment_id".into(), p.clone());
    }
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    for leg in t.legs.iter().filter(|l| l.amount_minor > 0) {
        let sum = sums.entry(&leg.currency).or_default();
        *sum = sum.saturating_add(leg.amount_minor);
    }
    for (currency, sum) in sums {
        details.insert(format!("amount_minor.{currency}"), sum.to_string());
    }
    details
}
