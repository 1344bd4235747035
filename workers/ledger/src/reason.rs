//! Reason codes of a rejected transaction: a closed set, each with a fixed string used in the
//! `ledger.transaction-rejected` event, the payment reversal request and the metric label.

use serde::{Deserialize, Serialize};

/// Why a transaction was rejected. Serialised as its [`Reason::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Ids, kind, accounts, leg count or amounts are not usable.
    Malformed,
    /// A leg's currency is not an ISO-4217 code.
    UnknownCurrency,
    /// The legs do not sum to zero in some currency.
    Unbalanced,
    /// The transaction id was already used for different content.
    DuplicateConflict,
    /// A debit would take an account below zero and its policy forbids overdraft.
    Overdraft,
    /// A balance would leave the 64-bit range.
    BalanceOverflow,
}

impl Reason {
    /// Every reason, for pre-registering metric labels.
    pub const ALL: [Reason; 6] = [
        Reason::Malformed,
        Reason::UnknownCurrency,
        Reason::Unbalanced,
        Reason::DuplicateConflict,
        Reason::Overdraft,
        Reason::BalanceOverflow,
    ];

    /// The reason code on the wire and in metrics.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::UnknownCurrency => "unknown_currency",
            Reason::Unbalanced => "unbalanced",
            Reason::DuplicateConflict => "duplicate_conflict",
            Reason::Overdraft => "overdraft",
            Reason::BalanceOverflow => "balance_overflow",
        }
    }

    /// Parses a stored reason code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A rejection: the reason, a sentence for humans, and the account at fault if one is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Reason code.
    pub reason: Reason,
    /// Explanation.
    pub detail: String,
    /// The account that caused it (overdraft, overflow).
    pub account: Option<String>,
}

impl Refusal {
    /// A refusal not tied to one account.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            account: None,
        }
    }

    /// A refusal caused by `account`.
    pub fn on_account(reason: Reason, account: &str, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            account: Some(account.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        assert_eq!(Reason::from_code("nope"), None);
    }

    #[test]
    fn the_stored_form_of_a_reason_is_its_code() {
        for r in Reason::ALL {
            assert_eq!(serde_json::to_string(&r).expect("json"), format!("\"{}\"", r.code()));
        }
    }
}
