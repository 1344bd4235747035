//! Reason codes of a failed payment: a closed set, each with a fixed string used in the
//! `payments.payment-failed` event and as the bounded `reason` metric label.

/// Why a payment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// payment id is not a UUID, or an account id is not 3-64 of `[A-Za-z0-9_-]`.
    MalformedId,
    /// payer and payee are the same account.
    SamePayerAndPayee,
    /// amount is zero or negative.
    InvalidAmount,
    /// amount is above the configured maximum.
    AmountAboveMaximum,
    /// currency is not an ISO-4217 code.
    UnknownCurrency,
    /// payer country is not two upper-case letters.
    InvalidCountry,
    /// payer country is on the blocked list.
    BlockedCountry,
    /// too many requests from the payer in the velocity window.
    VelocityExceeded,
    /// amount is above the review threshold.
    ReviewRequired,
    /// the ledger could not post the processed payment and asked for its reversal.
    LedgerRejected,
}

impl Reason {
    /// Every reason, for pre-registering metric labels.
    pub const ALL: [Reason; 10] = [
        Reason::MalformedId,
        Reason::SamePayerAndPayee,
        Reason::InvalidAmount,
        Reason::AmountAboveMaximum,
        Reason::UnknownCurrency,
        Reason::InvalidCountry,
        Reason::BlockedCountry,
        Reason::VelocityExceeded,
        Reason::ReviewRequired,
        Reason::LedgerRejected,
    ];

    /// The reason code on the wire and in metrics.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MalformedId => "malformed_id",
            Reason::SamePayerAndPayee => "same_payer_and_payee",
            Reason::InvalidAmount => "invalid_amount",
            Reason::AmountAboveMaximum => "amount_above_maximum",
            Reason::UnknownCurrency => "unknown_currency",
            Reason::InvalidCountry => "invalid_country",
            Reason::BlockedCountry => "blocked_country",
            Reason::VelocityExceeded => "velocity_exceeded",
            Reason::ReviewRequired => "review_required",
            Reason::LedgerRejected => "ledger_rejected",
        }
    }

    /// Parses a stored reason code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A failure with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The reason code.
    pub reason: Reason,
    /// Human-readable detail.
    pub detail: String,
}

impl Failure {
    /// A failure for `reason` explained by `detail`.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_code_parses_back() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Reason::from_code("nope"), None);
    }
}
