//! JSON ↔ Avro for `devstack produce` and `devstack tail`: plain JSON objects (no Avro-JSON union
//! wrappers) so what `tail` prints can be fed back to `produce` unchanged.
//!
//! JSON → Avro goes `serde_json::Value` → [`apache_avro::types::Value`] → `resolve(&schema)`, which
//! gives the usual conversions: integers become `int`/`long`/`timestamp-millis`, `null` or a string
//! pick the matching branch of `["null","string"]`, a missing field takes its default. Fields the
//! schema does not know are refused (at the top level) so a typo is not silently dropped.

use apache_avro::{
    Schema,
    reader::datum::GenericDatumReader,
    schema::{RecordSchema, SchemaKind},
    types::Value,
    writer::datum::GenericDatumWriter,
};
use serde::{Serialize, Serializer, ser::Error as _, ser::SerializeMap as _, ser::SerializeSeq as _};
use serde_json::Value as Json;

/// Why a JSON value does not fit a schema (the caller adds where the value came from).
pub type ConvertError = String;

/// Converts a JSON value to an Avro value valid for `schema`.
pub fn json_to_avro(json: Json, schema: &Schema) -> Result<Value, ConvertError> {
    if let (Schema::Record(RecordSchema { lookup, name, .. }), Json::Object(object)) = (schema, &json)
        && let Some(unknown) = object.keys().find(|key| !lookup.contains_key(*key))
    {
        return Err(format!("field {unknown:?} is not in record {}", name.fullname(None)));
    }
    let value = Value::try_from(json).map_err(|err| err.to_string())?;
    value.resolve(schema).map_err(|err| describe(&err))
}

/// Encodes an Avro value (already resolved against `schema`) as an Avro binary body.
pub fn encode(schema: &Schema, value: Value) -> Result<Vec<u8>, ConvertError> {
    GenericDatumWriter::builder(schema)
        .build()
        .and_then(|writer| writer.write_value_to_vec(value))
        .map_err(|err| describe(&err))
}

/// Decodes an Avro binary body written with `schema`; the whole body must be used.
pub fn decode(schema: &Schema, mut body: &[u8]) -> Result<Value, ConvertError> {
    let value = GenericDatumReader::builder(schema)
        .build()
        .and_then(|reader| reader.read_value(&mut body))
        .map_err(|err| describe(&err))?;
    if body.is_empty() {
        Ok(value)
    } else {
        Err(format!("{} bytes left over after the avro body", body.len()))
    }
}

/// Converts a decoded Avro value to plain JSON: records become objects, unions their branch's
/// value, timestamps their integer, bytes and fixed arrays of numbers.
pub fn avro_to_json(value: Value) -> Result<Json, ConvertError> {
    Json::try_from(value).map_err(|err| describe(&err))
}

/// An Avro value serialized as the same plain JSON as [`avro_to_json`], but with record fields in
/// schema order (a `serde_json::Value` would sort them) and map entries sorted by key.
#[derive(Debug, Clone, Copy)]
pub struct OrderedJson<'a>(pub &'a Value);

impl Serialize for OrderedJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Record(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, value) in fields {
                    map.serialize_entry(name, &OrderedJson(value))?;
                }
                map.end()
            }
            Value::Map(entries) => {
                let mut sorted: Vec<_> = entries.iter().collect();
                sorted.sort_by_key(|(key, _)| *key);
                let mut map = serializer.serialize_map(Some(sorted.len()))?;
                for (key, value) in sorted {
                    map.serialize_entry(key, &OrderedJson(value))?;
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&OrderedJson(item))?;
                }
                seq.end()
            }
            Value::Union(_, inner) => OrderedJson(inner).serialize(serializer),
            scalar => Json::try_from(scalar.clone())
                .map_err(|err| S::Error::custom(describe(&err)))?
                .serialize(serializer),
        }
    }
}

/// The record key taken from field `field` of a JSON object: strings as they are, numbers and
/// booleans in their JSON form, `null` as no key.
pub fn key_of(json: &Json, field: &str) -> Result<Option<String>, ConvertError> {
    match json.get(field) {
        None => Err(format!("key field {field:?} is missing")),
        Some(Json::Null) => Ok(None),
        Some(Json::String(key)) => Ok(Some(key.clone())),
        Some(key @ (Json::Number(_) | Json::Bool(_))) => Ok(Some(key.to_string())),
        Some(other) => Err(format!("key field {field:?} is {}, not a scalar", kind_of(other))),
    }
}

/// The schema's top-level type in words, for messages.
pub fn schema_kind(schema: &Schema) -> String {
    match schema.name() {
        Some(name) => name.fullname(None),
        None => format!("{:?}", SchemaKind::from(schema)).to_lowercase(),
    }
}

fn kind_of(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// apache-avro's message plus its cause chain, on one line.
fn describe(err: &apache_avro::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::{codec::AvroEvent as _, events::PaymentRequested};

    use super::*;

    fn schema() -> Schema {
        match Schema::parse_str(PaymentRequested::SCHEMA_JSON) {
            Ok(schema) => schema,
            Err(err) => panic!("payment-requested.avsc: {err}"),
        }
    }

    fn payment() -> Json {
        json!({
            "event_id": "8d0f0f0e-0000-4000-8000-000000000001",
            "payment_id": "7b1f8a6e-3c2d-4f5a-9b8c-1d2e3f4a5b6c",
            "payer_account": "acct-de-000001",
            "payee_account": "merchant-0042",
            "amount_minor": 12345,
            "currency": "EUR",
            "payer_country": "DE",
            "requested_at": 1_700_000_000_000_i64,
            "description": "invoice 2024-0042"
        })
    }

    fn round_trip(json: Json) -> Result<Json, ConvertError> {
        let schema = schema();
        let value = json_to_avro(json, &schema)?;
        let body = encode(&schema, value)?;
        avro_to_json(decode(&schema, &body)?)
    }

    #[test]
    fn a_payment_survives_json_to_avro_to_json_unchanged() -> Result<(), ConvertError> {
        assert_eq!(round_trip(payment())?, payment());
        Ok(())
    }

    #[test]
    fn timestamps_come_from_integers_and_small_longs_from_ints() -> Result<(), ConvertError> {
        let schema = schema();
        let value = json_to_avro(payment(), &schema)?;
        let Value::Record(fields) = value else {
            return Err(format!("not a record: {value:?}"));
        };
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(field("requested_at"), Some(Value::TimestampMillis(1_700_000_000_000)));
        // 12345 fits an i32, so serde_json → Avro gives Int; resolving widens it to the long field.
        assert_eq!(field("amount_minor"), Some(Value::Long(12_345)));
        Ok(())
    }

    #[test]
    fn an_optional_string_takes_null_a_string_or_its_default() -> Result<(), ConvertError> {
        let mut null = payment();
        null["description"] = Json::Null;
        assert_eq!(round_trip(null.clone())?, null);
        let mut missing = payment();
        missing.as_object_mut().map(|object| object.remove("description"));
        assert_eq!(round_trip(missing)?, null, "the default null is filled in");
        Ok(())
    }

    #[test]
    fn unknown_fields_wrong_types_and_missing_required_fields_are_refused() {
        let schema = schema();
        let mut typo = payment();
        typo["amount_minr"] = json!(1);
        let err = json_to_avro(typo, &schema).err().unwrap_or_default();
        assert!(
            err.contains("\"amount_minr\" is not in record io.paystream.payments.PaymentRequested"),
            "{err}"
        );

        let mut wrong = payment();
        wrong["amount_minor"] = json!("12.34");
        assert!(json_to_avro(wrong, &schema).is_err());

        let mut missing = payment();
        missing.as_object_mut().map(|object| object.remove("currency"));
        let err = json_to_avro(missing, &schema).err().unwrap_or_default();
        assert!(err.contains("currency"), "{err}");

        assert!(json_to_avro(json!([1, 2]), &schema).is_err());
    }

    #[test]
    fn trailing_bytes_after_the_body_are_an_error() -> Result<(), ConvertError> {
        let schema = schema();
        let mut body = encode(&schema, json_to_avro(payment(), &schema)?)?;
        body.push(0);
        let err = decode(&schema, &body).err().unwrap_or_default();
        assert!(err.contains("1 bytes left over"), "{err}");
        Ok(())
    }

    #[test]
    fn ordered_json_keeps_the_schema_field_order_and_equals_the_plain_conversion() -> Result<(), ConvertError> {
        let schema = schema();
        let value = json_to_avro(payment(), &schema)?;
        let text = serde_json::to_string(&OrderedJson(&value)).map_err(|e| e.to_string())?;
        assert!(text.starts_with(r#"{"event_id":"8d0f0f0e-"#), "{text}");
        assert!(text.ends_with(r#""description":"invoice 2024-0042"}"#), "{text}");
        let parsed: Json = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        assert_eq!(parsed, avro_to_json(value)?);
        Ok(())
    }

    #[test]
    fn keys_are_scalars_from_the_named_field() {
        assert_eq!(
            key_of(&payment(), "payer_account"),
            Ok(Some("acct-de-000001".to_owned()))
        );
        assert_eq!(key_of(&payment(), "amount_minor"), Ok(Some("12345".to_owned())));
        assert_eq!(key_of(&json!({"k": null}), "k"), Ok(None));
        assert!(key_of(&payment(), "nope").is_err_and(|err| err.contains("missing")));
        assert!(key_of(&json!({"k": {}}), "k").is_err_and(|err| err.contains("an object")));
    }
}
