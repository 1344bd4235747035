//! The ledger worker's own flags (topics and overdraft policy), flattened next to the runtime's.

use clap::Args;

use crate::book::OverdraftPolicy;

/// Topics and rules of the ledger worker.
#[derive(Debug, Clone, Args)]
pub struct LedgerConfig {
    /// Input: transaction requests (explicit double-entry legs).
    #[arg(
        long,
        env = "TOPIC_TRANSACTION_REQUESTED",
        default_value = "ledger.transaction-requested"
    )]
    pub topic_transaction_requested: String,
    /// Input: processed payments, each posted as debit payer / credit payee.
    #[arg(long, env = "TOPIC_PAYMENT_PROCESSED", default_value = "payments.payment-processed")]
    pub topic_payment_processed: String,
    /// Output: one event per balance change.
    #[arg(long, env = "TOPIC_BALANCE_UPDATED", default_value = "ledger.balance-updated")]
    pub topic_balance_updated: String,
    /// Output: rejected transactions with a reason code.
    #[arg(
        long,
        env = "TOPIC_TRANSACTION_REJECTED",
        default_value = "ledger.transaction-rejected"
    )]
    pub topic_transaction_rejected: String,
    /// Output: compensation requests for rejected payments (consumed by the payments worker).
    #[arg(
        long,
        env = "TOPIC_PAYMENT_REVERSAL_REQUESTED",
        default_value = "payments.payment-reversal-requested"
    )]
    pub topic_payment_reversal_requested: String,
    /// Output: audit records.
    #[arg(long, env = "TOPIC_AUDIT", default_value = "audit.ledger-events")]
    pub topic_audit: String,
    /// Internal repartition topic keyed by transaction id (the sequencer's input).
    #[arg(long, env = "TOPIC_LEDGER_TRANSACTIONS", default_value = "ledger.transactions")]
    pub topic_transactions: String,
    /// Internal repartition topic keyed by account (the posting steps' input; holds balances).
    #[arg(long, env = "TOPIC_LEDGER_POSTINGS", default_value = "ledger.postings")]
    pub topic_postings: String,
    /// Accounts whose id starts with one of these may go below zero (comma-separated); every other
    /// account may not, and a debit that would overdraw it rejects the transaction.
    #[arg(
        long,
        env = "LEDGER_OVERDRAFT_ALLOWED_PREFIXES",
        value_delimiter = ',',
        default_value = "ext-,sys-"
    )]
    pub overdraft_allowed_prefixes: Vec<String>,
}

impl LedgerConfig {
    /// Rejects unusable values with a message naming the flag.
    pub fn validate(&self) -> Result<(), String> {
        let topics = self.topics();
        if topics.iter().any(|t| t.is_empty()) {
            return Err("topic names must not be empty".into());
        }
        for (i, t) in topics.iter().enumerate() {
            if topics[..i].contains(t) {
                return Err(format!(
                    "topic {t} is configured twice; every ledger topic must be distinct"
                ));
            }
        }
        if self.overdraft_allowed_prefixes.iter().any(|p| p.is_empty()) {
            return Err("--overdraft-allowed-prefixes: an empty prefix would allow every account to overdraw".into());
        }
        Ok(())
    }

    fn topics(&self) -> [&String; 8] {
        [
            &self.topic_transaction_requested,
            &self.topic_payment_processed,
            &self.topic_balance_updated,
            &self.topic_transaction_rejected,
            &self.topic_payment_reversal_requested,
            &self.topic_audit,
            &self.topic_transactions,
            &self.topic_postings,
        ]
    }

    /// The overdraft policy.
    pub fn overdraft_policy(&self) -> OverdraftPolicy {
        OverdraftPolicy {
            allowed_prefixes: self.overdraft_allowed_prefixes.clone(),
        }
    }
}
