//! Wire compatibility with `schema_registry_converter`, the client the workers use.

use apache_avro::types::Value;
use schema_registry_converter::{
    async_impl::{
        avro::{AvroDecoder, AvroEncoder},
        schema_registry::SrSettings,
    },
    schema_registry_common::{SchemaType, SubjectNameStrategy, SuppliedSchema},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::support::{PAYMENT_V1, PAYMENT_V2_OPTIONAL, Registry};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payment {
    id: String,
    amount_minor: i64,
}

fn settings(registry: &Registry, auth: Option<(&str, &str)>) -> SrSettings {
    let mut builder = SrSettings::new_builder(registry.url.clone());
    builder.no_proxy();
    if let Some((user, password)) = auth {
        builder.set_basic_authorization(user, Some(password));
    }
    builder.build().expect("sr settings")
}

fn with_schema(topic: &str, schema: &str) -> SubjectNameStrategy {
    SubjectNameStrategy::TopicNameStrategyWithSchema(
        topic.to_owned(),
        false,
        SuppliedSchema::new(
            Some("paystream.test.Payment".to_owned()),
            SchemaType::Avro,
            schema.to_owned(),
        ),
    )
}

/// Encodes with a supplied schema (the client registers it) and decodes by id.
async fn round_trip(registry: &Registry, auth: Option<(&str, &str)>) {
    let encoder = AvroEncoder::new(settings(registry, auth));
    let decoder = AvroDecoder::new(settings(registry, auth));
    let payment = Payment {
        id: "p-1".to_owned(),
        amount_minor: 1234,
    };

    let bytes = encoder
        .encode_struct(payment.clone(), &with_schema("payments", PAYMENT_V1))
        .await
        .expect("encode");
    // Confluent wire format: magic byte 0, then the big-endian schema id.
    let (_, latest) = registry.get("/subjects/payments-value/versions/latest").await;
    let id = u32::try_from(latest["id"].as_u64().expect("id")).expect("u32 id");
    assert_eq!(bytes[0], 0);
    assert_eq!(bytes[1..5], id.to_be_bytes());

    let decoded = decoder.decode(Some(&bytes)).await.expect("decode");
    let back: Payment = apache_avro::from_value(&decoded.value).expect("payment");
    assert_eq!(back, payment);
}

#[tokio::test]
async fn the_converter_registers_encodes_and_decodes_through_the_registry() {
    let registry = Registry::start().await;
    round_trip(&registry, None).await;
    registry.stop().await;
}

#[tokio::test]
async fn the_converter_authenticates_with_basic_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = Some(("dev".to_owned(), "s3cret".to_owned()));
    let registry = Registry::start_at(&dir.path().join("state.json"), auth).await;
    round_trip(&registry, Some(("dev", "s3cret"))).await;

    let anonymous = AvroEncoder::new(settings(&registry, None));
    let payment = Payment {
        id: "p-2".to_owned(),
        amount_minor: 1,
    };
    let refused = anonymous
        .encode_struct(payment, &with_schema("payments", PAYMENT_V1))
        .await;
    assert!(refused.is_err());
    registry.stop().await;
}

#[tokio::test]
async fn the_converter_encodes_with_the_latest_registered_version_and_decodes_old_data() {
    let registry = Registry::start().await;
    let v1 = registry.register("payments-value", PAYMENT_V1).await;
    let v2 = registry.register("payments-value", PAYMENT_V2_OPTIONAL).await;

    // Without a supplied schema the encoder fetches `versions/latest`.
    let encoder = AvroEncoder::new(settings(&registry, None));
    let latest = SubjectNameStrategy::TopicNameStrategy("payments".to_owned(), false);
    let fields = vec![
        ("id", Value::String("p-3".to_owned())),
        ("amount_minor", Value::Long(7)),
        ("currency", Value::Union(1, Box::new(Value::String("EUR".to_owned())))),
    ];
    let new_bytes = encoder.encode(fields, latest).await.expect("encode latest");
    assert_eq!(new_bytes[1..5], u32::try_from(v2).expect("u32").to_be_bytes());

    let old_bytes = AvroEncoder::new(settings(&registry, None))
        .encode_struct(
            Payment {
                id: "p-4".to_owned(),
                amount_minor: 9,
            },
            &with_schema("payments", PAYMENT_V1),
        )
        .await
        .expect("encode v1");
    assert_eq!(old_bytes[1..5], u32::try_from(v1).expect("u32").to_be_bytes());

    let decoder = AvroDecoder::new(settings(&registry, None));
    for bytes in [new_bytes, old_bytes] {
        let decoded = decoder.decode(Some(&bytes)).await.expect("decode");
        let payment: Payment = apache_avro::from_value(&decoded.value).expect("payment");
        assert!(payment.id.starts_with("p-"));
    }
    assert_eq!(registry.get("/subjects/payments-value/versions").await.1, json!([1, 2]));
    registry.stop().await;
}
