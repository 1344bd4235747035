//! Deciding a payment and describing the decision as events. A decision is stored per payment id
//! (with the input offset that made it) so a repeated payment id gets no second outcome, and a
//! replay of the same input — after a crash between producing and committing — emits the very same
//! bytes again, which consumers drop by event id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared::events::{AuditEvent, PaymentFailed, PaymentProcessed, PaymentRequested};
use shared::ids::event_id;

use crate::reason::{Failure, Reason};

/// A stored decision (state key [`decision_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    /// Input offset of the request that was decided.
    pub offset: i64,
    /// `None`: processed; otherwise the failure reason code.
    pub reason: Option<String>,
    /// Failure detail (empty when processed).
    pub detail: String,
}

impl Decided {
    /// The decision as an outcome.
    pub fn outcome(&self) -> Result<(), Failure> {
        match &self.reason {
            None => Ok(()),
            Some(code) => Err(Failure::new(
                Reason::from_code(code).unwrap_or(Reason::MalformedId),
                self.detail.clone(),
            )),
        }
    }

    /// Records `outcome` decided at input `offset`.
    pub fn new(offset: i64, outcome: &Result<(), Failure>) -> Self {
        match outcome {
            Ok(()) => Self {
                offset,
                reason: None,
                detail: String::new(),
            },
            Err(f) => Self {
                offset,
                reason: Some(f.reason.code().to_owned()),
                detail: f.detail.clone(),
            },
        }
    }
}

/// State key of a payment's decision.
pub fn decision_key(payment_id: &str) -> String {
    format!("payment:{payment_id}")
}

/// State key of a payer's velocity history.
pub fn velocity_key(payer: &str) -> String {
    format!("velocity:{payer}")
}

/// What to do with a request given what is stored for its payment id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Never seen: decide now.
    Decide,
    /// This very input was decided before (a replay): emit the stored decision again.
    Replay(Decided),
    /// Another input already decided this payment id: emit no outcome.
    Duplicate(Decided),
}

/// Classifies a request at input `offset` against the stored decision.
pub fn step(stored: Option<Decided>, offset: i64) -> Step {
    match stored {
        None => Step::Decide,
        Some(d) if d.offset == offset => Step::Replay(d),
        Some(d) => Step::Duplicate(d),
    }
}

/// The outcome event of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeEvent {
    /// Goes to `payments.payment-processed`.
    Processed(PaymentProcessed),
    /// Goes to `payments.payment-failed`.
    Failed(PaymentFailed),
}

/// Builds the outcome event; `at_ms` is the request record's timestamp.
pub fn outcome_event(request: &PaymentRequested, outcome: &Result<(), Failure>, at_ms: i64) -> OutcomeEvent {
    match outcome {
        Ok(()) => OutcomeEvent::Processed(PaymentProcessed {
            event_id: event_id("payment-processed", &request.payment_id),
            payment_id: request.payment_id.clone(),
            payer_account: request.payer_account.clone(),
            payee_account: request.payee_account.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency.clone(),
            requested_at: request.requested_at,
            processed_at: at_ms,
        }),
        Err(f) => OutcomeEvent::Failed(PaymentFailed {
            event_id: event_id("payment-failed", &request.payment_id),
            payment_id: request.payment_id.clone(),
            payer_account: request.payer_account.clone(),
            payee_account: request.payee_account.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency.clone(),
            reason: f.reason.code().to_owned(),
            detail: f.detail.clone(),
            requested_at: request.requested_at,
            failed_at: at_ms,
        }),
    }
}

/// The audit record of a decision, or of an ignored duplicate (`duplicate_of` = the input offset
/// that decided the payment).
pub fn audit_event(
    request: &PaymentRequested,
    outcome: &Result<(), Failure>,
    at_ms: i64,
    duplicate_at: Option<i64>,
) -> AuditEvent {
    let mut details = BTreeMap::new();
    details.insert("amount_minor".to_owned(), request.amount_minor.to_string());
    details.insert("currency".to_owned(), request.currency.clone());
    details.insert("payee_account".to_owned(), request.payee_account.clone());
    details.insert("payer_country".to_owned(), request.payer_country.clone());
    let (action, id) = match (duplicate_at, outcome) {
        (Some(offset), _) => {
            details.insert("duplicate_offset".to_owned(), offset.to_string());
            (
                "payment.duplicate_ignored",
                event_id("audit-payment-duplicate", &format!("{}@{offset}", request.payment_id)),
            )
        }
        (None, Ok(())) => (
            "payment.processed",
            event_id("audit-payment-processed", &request.payment_id),
        ),
        (None, Err(f)) => {
            details.insert("reason".to_owned(), f.reason.code().to_owned());
            ("payment.failed", event_id("audit-payment-failed", &request.payment_id))
        }
    };
    AuditEvent {
        event_id: id,
        source: "payments".to_owned(),
        action: action.to_owned(),
        actor: request.payer_account.clone(),
        subject_id: request.payment_id.clone(),
        occurred_at: at_ms,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::tests::request;

    #[test]
    fn the_same_input_is_a_replay_and_another_input_is_a_duplicate() {
        let d = Decided::new(10, &Ok(()));
        assert_eq!(step(None, 10), Step::Decide);
        assert_eq!(step(Some(d.clone()), 10), Step::Replay(d.clone()));
        assert_eq!(step(Some(d.clone()), 11), Step::Duplicate(d));
    }

    #[test]
    fn a_stored_decision_gives_back_the_same_outcome_and_events() {
        let failure = Err(Failure::new(Reason::VelocityExceeded, "6 requests"));
        let stored: Decided =
            serde_json::from_str(&serde_json::to_string(&Decided::new(3, &failure)).expect("json")).expect("json");
        assert_eq!(stored.outcome(), failure);
        assert_eq!(
            outcome_event(&request(), &stored.outcome(), 99),
            outcome_event(&request(), &failure, 99)
        );
        assert_eq!(
            audit_event(&request(), &stored.outcome(), 99, None),
            audit_event(&request(), &failure, 99, None)
        );
    }

    #[test]
    fn outcome_events_carry_deterministic_ids_that_differ_by_outcome() {
        let OutcomeEvent::Processed(p) = outcome_event(&request(), &Ok(()), 5) else {
            panic!("processed")
        };
        let OutcomeEvent::Failed(f) = outcome_event(&request(), &Err(Failure::new(Reason::InvalidAmount, "x")), 5)
        else {
            panic!("failed")
        };
        assert_eq!(p.event_id, event_id("payment-processed", &request().payment_id));
        assert_ne!(p.event_id, f.event_id);
        assert_eq!(
            (p.processed_at, f.failed_at, f.reason.as_str()),
            (5, 5, "invalid_amount")
        );
    }

    #[test]
    fn a_duplicate_gets_its_own_audit_record_per_input() {
        let a = audit_event(&request(), &Ok(()), 1, Some(7));
        let b = audit_event(&request(), &Ok(()), 1, Some(8));
        assert_eq!(a.action, "payment.duplicate_ignored");
        assert_ne!(a.event_id, b.event_id);
    }
}
