//! Amounts for humans: integer minor units and an ISO-4217 code → `1,234.50 EUR` / `1.234,50 EUR`.

/// Languages written with a decimal comma (and a dot between thousands).
const DECIMAL_COMMA: [&str; 8] = ["de", "fr", "es", "it", "nl", "pt", "pl", "da"];

/// Formats `amount_minor` of `currency` for `locale`. The exponent comes from ISO-4217; an unknown
/// code (possible on a failed payment, which is reported as received) prints the minor units as
/// they are.
pub fn format_amount(amount_minor: i64, currency: &str, locale: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .map_or(0, u32::from);
    let language = locale.split(['-', '_']).next().unwrap_or(locale);
    let (decimal, group) = if DECIMAL_COMMA.contains(&language) {
        (',', '.')
    } else {
        ('.', ',')
    };
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let scale = 10u64.pow(exponent);
    let (units, fraction) = (abs / scale, abs % scale);
    let digits = units.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(d);
    }
    if exponent == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        let width = exponent as usize;
        format!("{sign}{grouped}{decimal}{fraction:0width$} {currency}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_use_the_currency_exponent_and_the_locale_separators() {
        assert_eq!(format_amount(123_450, "EUR", "en"), "1,234.50 EUR");
        assert_eq!(format_amount(123_450, "EUR", "de-DE"), "1.234,50 EUR");
        assert_eq!(format_amount(5, "USD", "en"), "0.05 USD");
        assert_eq!(format_amount(1500, "JPY", "en"), "1,500 JPY");
        assert_eq!(format_amount(1_234_567, "BHD", "en"), "1,234.567 BHD");
        assert_eq!(format_amount(-100, "EUR", "en"), "-1.00 EUR");
        assert_eq!(format_amount(42, "XYZ", "en"), "42 XYZ");
    }
}
