//! Validation rules: what makes a payment request well-formed, independent of history.

use shared::events::PaymentRequested;

use crate::reason::{Failure, Reason};

pub use shared::ids::is_account_id;

/// Checks ids, accounts, amount, currency and country. The first failing rule wins.
pub fn validate(request: &PaymentRequested, max_amount_minor: i64) -> Result<(), Failure> {
    if uuid::Uuid::try_parse(&request.payment_id).is_err() {
        return Err(Failure::new(
            Reason::MalformedId,
            format!("payment_id {:?} is not a UUID", request.payment_id),
        ));
    }
    for (field, value) in [
        ("payer_account", &request.payer_account),
        ("payee_account", &request.payee_account),
    ] {
        if !is_account_id(value) {
            return Err(Failure::new(
                Reason::MalformedId,
                format!("{field} {value:?} is not 3-64 characters of [A-Za-z0-9_-]"),
            ));
        }
    }
    if request.payer_account == request.payee_account {
        return Err(Failure::new(
            Reason::SamePayerAndPayee,
            "payer and payee are the same account",
        ));
    }
    if request.amount_minor <= 0 {
        return Err(Failure::new(
            Reason::InvalidAmount,
            format!("amount {} is not positive", request.amount_minor),
        ));
    }
    if request.amount_minor > max_amount_minor {
        return Err(Failure::new(
            Reason::AmountAboveMaximum,
            format!(
                "amount {} is above the maximum {max_amount_minor}",
                request.amount_minor
            ),
        ));
    }
    if iso_currency::Currency::from_code(&request.currency).is_none() {
        return Err(Failure::new(
            Reason::UnknownCurrency,
            format!("currency {:?} is not an ISO-4217 code", request.currency),
        ));
    }
    if !(request.payer_country.len() == 2 && request.payer_country.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(Failure::new(
            Reason::InvalidCountry,
            format!(
                "payer_country {:?} is not an ISO-3166 alpha-2 code",
                request.payer_country
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid request to vary in tests.
    pub(crate) fn request() -> PaymentRequested {
        PaymentRequested {
            event_id: "8d0f0f0e-0000-4000-8000-000000000001".into(),
            payment_id: "7b1f8a6e-3c2d-4f5a-9b8c-1d2e3f4a5b6c".into(),
            payer_account: "acc-payer".into(),
            payee_account: "acc-payee".into(),
            amount_minor: 12_345,
            currency: "EUR".into(),
            payer_country: "DE".into(),
            requested_at: 1_700_000_000_000,
            description: None,
        }
    }

    fn reason_of(r: PaymentRequested) -> Option<Reason> {
        validate(&r, 1_000_000).err().map(|f| f.reason)
    }

    #[test]
    fn a_well_formed_request_passes() {
        assert_eq!(reason_of(request()), None);
    }

    #[test]
    fn a_payment_id_that_is_not_a_uuid_is_malformed() {
        assert_eq!(
            reason_of(PaymentRequested {
                payment_id: "abc".into(),
                ..request()
            }),
            Some(Reason::MalformedId)
        );
    }

    #[test]
    fn account_ids_with_bad_characters_or_length_are_malformed() {
        assert_eq!(
            reason_of(PaymentRequested {
                payer_account: "a b c".into(),
                ..request()
            }),
            Some(Reason::MalformedId)
        );
        assert_eq!(
            reason_of(PaymentRequested {
                payee_account: "ab".into(),
                ..request()
            }),
            Some(Reason::MalformedId)
        );
        assert_eq!(
            reason_of(PaymentRequested {
                payee_account: "x".repeat(65),
                ..request()
            }),
            Some(Reason::MalformedId)
        );
        assert!(is_account_id(&"x".repeat(64)));
    }

    #[test]
    fn paying_yourself_is_refused() {
        assert_eq!(
            reason_of(PaymentRequested {
                payee_account: "acc-payer".into(),
                ..request()
            }),
            Some(Reason::SamePayerAndPayee)
        );
    }

    #[test]
    fn zero_and_negative_amounts_are_invalid() {
        assert_eq!(
            reason_of(PaymentRequested {
                amount_minor: 0,
                ..request()
            }),
            Some(Reason::InvalidAmount)
        );
        assert_eq!(
            reason_of(PaymentRequested {
                amount_minor: -5,
                ..request()
            }),
            Some(Reason::InvalidAmount)
        );
    }

    #[test]
    fn the_maximum_is_inclusive() {
        assert_eq!(
            reason_of(PaymentRequested {
                amount_minor: 1_000_000,
                ..request()
            }),
            None
        );
        assert_eq!(
            reason_of(PaymentRequested {
                amount_minor: 1_000_001,
                ..request()
            }),
            Some(Reason::AmountAboveMaximum)
        );
    }

    #[test]
    fn currencies_must_be_iso_4217() {
        assert_eq!(
            reason_of(PaymentRequested {
                currency: "XYZ".into(),
                ..request()
            }),
            Some(Reason::UnknownCurrency)
        );
        assert_eq!(
            reason_of(PaymentRequested {
                currency: "eur".into(),
                ..request()
            }),
            Some(Reason::UnknownCurrency)
        );
        assert_eq!(
            reason_of(PaymentRequested {
                currency: "JPY".into(),
                ..request()
            }),
            None
        );
    }

    #[test]
    fn countries_must_be_two_upper_case_letters() {
        assert_eq!(
            reason_of(PaymentRequested {
                payer_country: "Deu".into(),
                ..request()
            }),
            Some(Reason::InvalidCountry)
        );
        assert_eq!(
            reason_of(PaymentRequested {
                payer_country: "de".into(),
                ..request()
            }),
            Some(Reason::InvalidCountry)
        );
    }
}
