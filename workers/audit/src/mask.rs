//! PII masking of an audit event's details before they enter the log. A field is masked when its
//! name equals a configured name or has it as a `_`-separated part (`email` masks `payer_email`).
//! Card numbers keep their last four digits (as on a receipt); everything else is fully starred.

use std::collections::BTreeMap;

/// Masks the configured fields.
#[derive(Debug, Clone)]
pub struct Masker {
    fields: Vec<String>,
}

impl Masker {
    /// A masker for these field names (case-insensitive).
    pub fn new(fields: &[String]) -> Self {
        Self {
            fields: fields.iter().map(|f| f.trim().to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a field of this name is masked.
    pub fn masks(&self, name: &str) -> bool {
        let name = format!("_{}_", name.to_ascii_lowercase());
        self.fields.iter().any(|f| name.contains(&format!("_{f}_")))
    }

    /// `details` with every configured field masked.
    pub fn apply(&self, details: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        details
            .iter()
            .map(|(k, v)| {
                let v = if self.masks(k) { mask_value(v) } else { v.clone() };
                (k.clone(), v)
            })
            .collect()
    }
}

/// Stars every character; a card-like value (12 or more digits) keeps its last four digits.
pub fn mask_value(value: &str) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    let card_like = digits.len() >= 12 && value.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if card_like {
        let last4: String = digits[digits.len() - 4..].iter().collect();
        format!("{}{last4}", "*".repeat(digits.len() - 4))
    } else {
        "*".repeat(value.chars().count().max(3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker() -> Masker {
        Masker::new(&["card_number".into(), "pan".into(), "email".into(), "phone".into()])
    }

    #[test]
    fn configured_fields_and_their_compounds_are_masked_others_are_not() {
        let m = masker();
        let details = BTreeMap::from([
            ("card_number".to_owned(), "4111 1111 1111 1111".to_owned()),
            ("payer_email".to_owned(), "alice@example.com".to_owned()),
            ("Phone".to_owned(), "+49 30 1234567".to_owned()),
            ("amount_minor".to_owned(), "1200".to_owned()),
            ("company".to_owned(), "ACME".to_owned()),
            ("span".to_owned(), "not a pan".to_owned()),
        ]);
        let masked = m.apply(&details);
        assert_eq!(masked["card_number"], "************1111");
        assert_eq!(masked["payer_email"], "*****************");
        assert!(!masked["Phone"].contains("1234567"));
        assert_eq!(masked["amount_minor"], "1200");
        assert_eq!(masked["company"], "ACME");
        assert_eq!(masked["span"], "not a pan");
    }

    #[test]
    fn short_values_never_reveal_their_length_below_three() {
        assert_eq!(mask_value(""), "***");
        assert_eq!(mask_value("a"), "***");
        assert_eq!(mask_value("1234-5678-9012-3456"), "************3456");
    }
}
