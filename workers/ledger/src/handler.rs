//! The ledger's [`Handler`]: routes each input topic to its stage. Intake (the two external
//! topics) validates and forwards by transaction id; the sequencer drops duplicates; the posting
//! steps move balances. Unknown topics are dead-lettered, never a panic.

use std::time::{SystemTime, UNIX_EPOCH};

use shared::handler::{Context, Handler, InputMessage};
use shared::outcome::{Disposition, HandleError};

use crate::book::OverdraftPolicy;
use crate::config::LedgerConfig;
use crate::metrics::LedgerMetrics;
use crate::{intake, posting, sequence};

/// The stage an input topic feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    TransactionRequested,
    PaymentProcessed,
    Sequencer,
    Posting,
    Unknown,
}

/// Ledger domain logic.
#[derive(Debug)]
pub struct LedgerHandler {
    pub(crate) config: LedgerConfig,
    pub(crate) policy: OverdraftPolicy,
    pub(crate) metrics: LedgerMetrics,
}

impl LedgerHandler {
    /// A handler with `config`'s topics and policy.
    pub fn new(config: LedgerConfig, metrics: LedgerMetrics) -> Self {
        Self {
            policy: config.overdraft_policy(),
            config,
            metrics,
        }
    }

    fn stage(&self, topic: &str) -> Stage {
        let c = &self.config;
        if topic == c.topic_postings {
            Stage::Posting
        } else if topic == c.topic_transactions {
            Stage::Sequencer
        } else if topic == c.topic_transaction_requested {
            Stage::TransactionRequested
        } else if topic == c.topic_payment_processed {
            Stage::PaymentProcessed
        } else {
            Stage::Unknown
        }
    }

    /// Records the time from the source record to the last posting (wall clock: a metric only).
    pub(crate) fn observe_commit(&self, ingested_at_ms: i64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        if now >= ingested_at_ms {
            self.metrics.commit.observe((now - ingested_at_ms) as f64 / 1000.0);
        }
    }
}

impl Handler for LedgerHandler {
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let Some(payload) = message.payload else {
            return Err(HandleError::poison(
                "tombstone",
                "a record without a value is not a ledger event",
            ));
        };
        match self.stage(message.topic) {
            Stage::TransactionRequested => intake::transaction_requested(self, message, payload, ctx),
            Stage::PaymentProcessed => intake::payment_processed(self, message, payload, ctx),
            Stage::Sequencer => sequence::handle(self, message, payload, ctx),
            Stage::Posting => posting::handle(self, message, payload, ctx),
            Stage::Unknown => Err(HandleError::poison(
                "unknown_topic",
                format!("the ledger does not consume {}", message.topic),
            )),
        }
    }
}
