//! Parsing submitted AVRO schemas and deciding when two of them are "the same schema".
//!
//! Identity decides whether a registration reuses an existing global id. The key is the parsed
//! schema re-serialised by apache-avro: whitespace, attribute order and name qualification no
//! longer matter, but `default`, `doc`, `aliases`, `logicalType` and custom attributes do.
//! Avro's Parsing Canonical Form (`Schema::canonical_form`) is deliberately *not* the key: it
//! strips `logicalType` and `default`, so `long` and `timestamp-millis`, or a field with and
//! without a default, would collapse onto one id and consumers would resolve the wrong schema
//! text. Confluent Schema Registry also tells such schemas apart.

use apache_avro::Schema;

/// A submitted schema, parsed, with its identity key.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSchema {
    pub(crate) schema: Schema,
    pub(crate) key: String,
}

/// Parses `text` as an AVRO schema; the error is a human-readable reason.
pub(crate) fn parse(text: &str) -> Result<ParsedSchema, String> {
    if text.trim().is_empty() {
        return Err("empty schema".to_owned());
    }
    let schema = Schema::parse_str(text).map_err(|e| e.to_string())?;
    let key = serde_json::to_string(&schema).map_err(|e| format!("normalise schema: {e}"))?;
    Ok(ParsedSchema { schema, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        parse(text).expect("valid schema").key
    }

    #[test]
    fn formatting_and_attribute_order_do_not_change_identity() {
        let a = r#"{"type":"record","name":"P","namespace":"x","fields":[{"name":"a","type":"long"}]}"#;
        let b = r#"{ "namespace" : "x", "fields": [ {"type": "long", "name": "a"} ],
                    "name": "P", "type": "record" }"#;
        assert_eq!(key(a), key(b));
    }

    #[test]
    fn a_logical_type_changes_identity() {
        let plain = r#"{"type":"record","name":"P","fields":[{"name":"t","type":"long"}]}"#;
        let logical = r#"{"type":"record","name":"P","fields":[{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#;
        assert_ne!(key(plain), key(logical));
    }

    #[test]
    fn a_default_changes_identity() {
        let without = r#"{"type":"record","name":"P","fields":[{"name":"a","type":"int"}]}"#;
        let with = r#"{"type":"record","name":"P","fields":[{"name":"a","type":"int","default":1}]}"#;
        assert_ne!(key(without), key(with));
    }

    #[test]
    fn decimal_scale_changes_identity() {
        let two = r#"{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}"#;
        let four = r#"{"type":"bytes","logicalType":"decimal","precision":12,"scale":4}"#;
        assert_ne!(key(two), key(four));
    }

    #[test]
    fn garbage_and_empty_text_are_rejected() {
        assert!(parse("not json").is_err());
        assert!(parse("  ").is_err());
        assert!(parse(r#"{"type":"record","name":"P","fields":[{"name":"a","type":"Nope"}]}"#).is_err());
    }
}
