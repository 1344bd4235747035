//! Rust types of the events in `shared/schemas/`, shared by every worker that reads or writes
//! them. Field order and types follow the `.avsc` files exactly (a unit test round-trips each).

mod audit;
mod audit_trail;
mod ledger;
mod payments;

pub use audit::AuditEvent;
pub use audit_trail::{AuditLogEntry, ComplianceAlert, Evidence};
pub use ledger::{
    BalanceUpdated, LedgerTransaction, Leg, PaymentReversalRequested, PostingCommand, TransactionRejected,
    TransactionRequested,
};
pub use payments::{PaymentFailed, PaymentProcessed, PaymentRequested};

#[cfg(test)]
mod tests;
