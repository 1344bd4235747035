//! Every event type matches its schema: serialise with the schema, decode, compare.

use std::collections::{BTreeMap, HashMap};

use apache_avro::Schema;

use super::*;
use crate::codec::AvroEvent;

pub(crate) fn round_trip<T: AvroEvent + PartialEq + std::fmt::Debug>(event: &T) {
    let mut buf = Vec::new();
    apache_avro::write_avro_datum_ref(T::schema(), &HashMap::new(), event, &mut buf).expect("encode");
    let value = apache_avro::reader::datum::GenericDatumReader::builder(T::schema())
        .build()
        .and_then(|r| r.read_value(&mut buf.as_slice()))
        .expect("decode");
    let back: T = apache_avro::from_value(&value).expect("to type");
    assert_eq!(&back, event);
}

pub(crate) fn request() -> PaymentRequested {
    PaymentRequested {
        event_id: "e-1".into(),
        payment_id: "7b1f8a6e-3c2d-4f5a-9b8c-1d2e3f4a5b6c".into(),
        payer_account: "acc-payer".into(),
        payee_account: "acc-payee".into(),
        amount_minor: 12_345,
        currency: "EUR".into(),
        payer_country: "DE".into(),
        requested_at: 1_700_000_000_000,
        description: Some("rent".into()),
    }
}

#[test]
fn every_event_type_round_trips_through_its_schema() {
    round_trip(&request());
    round_trip(&PaymentRequested {
        description: None,
        ..request()
    });
    round_trip(&PaymentProcessed {
        event_id: "x".into(),
        payment_id: "p".into(),
        payer_account: "a".into(),
        payee_account: "b".into(),
        amount_minor: 1,
        currency: "EUR".into(),
        requested_at: 1,
        processed_at: 2,
    });
    round_trip(&PaymentFailed {
        event_id: "x".into(),
        payment_id: "p".into(),
        payer_account: "a".into(),
        payee_account: "b".into(),
        amount_minor: 1,
        currency: "EUR".into(),
        reason: "invalid_amount".into(),
        detail: "d".into(),
        requested_at: 1,
        failed_at: 2,
    });
    round_trip(&AuditEvent {
        event_id: "x".into(),
        source: "payments".into(),
        action: "payment.processed".into(),
        actor: "a".into(),
        subject_id: "p".into(),
        occurred_at: 3,
        details: BTreeMap::from([("amount_minor".into(), "1".into())]),
    });
    round_trip(&TransactionRequested {
        event_id: "e".into(),
        transaction_id: "t".into(),
        kind: "transfer".into(),
        legs: legs(),
        description: None,
        requested_at: 1,
    });
    round_trip(&posting_command());
    round_trip(&posting_command().transaction);
    round_trip(&BalanceUpdated {
        event_id: "x".into(),
        account_id: "a".into(),
        currency: "EUR".into(),
        balance_minor: -5,
        delta_minor: -5,
        version: 1,
        transaction_id: "t".into(),
        entry_id: "t/0".into(),
        updated_at: 2,
    });
    round_trip(&TransactionRejected {
        event_id: "x".into(),
        transaction_id: "t".into(),
        origin: "payment".into(),
        payment_id: Some("p".into()),
        reason: "overdraft".into(),
        detail: "d".into(),
        account_id: Some("a".into()),
        rejected_at: 2,
    });
    round_trip(&PaymentReversalRequested {
        event_id: "x".into(),
        payment_id: "p".into(),
        transaction_id: "payment:p".into(),
        reason: "overdraft".into(),
        detail: "d".into(),
        payer_account: "a".into(),
        payee_account: "b".into(),
        amount_minor: 5,
        currency: "EUR".into(),
        requested_at: 2,
    });
}

fn legs() -> Vec<Leg> {
    vec![
        Leg {
            account_id: "a".into(),
            currency: "EUR".into(),
            amount_minor: -5,
        },
        Leg {
            account_id: "b".into(),
            currency: "EUR".into(),
            amount_minor: 5,
        },
    ]
}

fn posting_command() -> PostingCommand {
    PostingCommand {
        transaction: LedgerTransaction {
            transaction_id: "t".into(),
            origin: "request".into(),
            payment_id: None,
            kind: "transfer".into(),
            legs: legs(),
            content_hash: "00".into(),
            requested_at: 1,
            ingested_at: 2,
        },
        step: 1,
        mode: "apply".into(),
        reason: Some("overdraft".into()),
    }
}

#[test]
fn a_newer_writer_with_an_extra_optional_field_still_decodes_into_our_type() {
    // Schema evolution: a producer added `channel` (optional, with default). We must still read it.
    let mut json: serde_json::Value = serde_json::from_str(PaymentRequested::SCHEMA_JSON).expect("json");
    json["fields"]
        .as_array_mut()
        .expect("fields")
        .push(serde_json::json!({"name": "channel", "type": ["null", "string"], "default": null}));
    let writer = Schema::parse(&json).expect("evolved schema");
    #[derive(serde::Serialize)]
    struct Evolved {
        #[serde(flatten)]
        base: PaymentRequested,
        channel: Option<String>,
    }
    let evolved = Evolved {
        base: request(),
        channel: Some("mobile".into()),
    };
    let value = apache_avro::to_value(&evolved)
        .expect("value")
        .resolve(&writer)
        .expect("resolve");
    let bytes = apache_avro::writer::datum::GenericDatumWriter::builder(&writer)
        .build()
        .and_then(|w| w.write_value_to_vec(value))
        .expect("encode");
    let read = apache_avro::reader::datum::GenericDatumReader::builder(&writer)
        .reader_schema(PaymentRequested::schema())
        .build()
        .and_then(|r| r.read_value(&mut bytes.as_slice()))
        .expect("resolve to reader");
    let back: PaymentRequested = apache_avro::from_value(&read).expect("to type");
    assert_eq!(back, request());
}

#[test]
fn every_schema_file_documents_every_field() {
    for text in [
        PaymentRequested::SCHEMA_JSON,
        PaymentProcessed::SCHEMA_JSON,
        PaymentFailed::SCHEMA_JSON,
        AuditEvent::SCHEMA_JSON,
        TransactionRequested::SCHEMA_JSON,
        LedgerTransaction::SCHEMA_JSON,
        PostingCommand::SCHEMA_JSON,
        BalanceUpdated::SCHEMA_JSON,
        TransactionRejected::SCHEMA_JSON,
        PaymentReversalRequested::SCHEMA_JSON,
    ] {
        let json: serde_json::Value = serde_json::from_str(text).expect("json");
        assert!(
            json["namespace"]
                .as_str()
                .is_some_and(|n| n.starts_with("io.paystream."))
        );
        for field in json["fields"].as_array().expect("fields") {
            assert!(
                field["doc"].as_str().is_some_and(|d| !d.is_empty()),
                "undocumented field {field}"
            );
        }
    }
}
