//! End-to-end decisions: processed, each failure reason, duplicates, schema evolution, metrics.

use std::collections::HashMap;

use shared::events::{AuditEvent, PaymentFailed, PaymentRequested};

use crate::support::{Setup, WAIT, request};

#[tokio::test]
async fn each_request_gets_the_outcome_its_rules_dictate_plus_an_audit_record() {
    let s = Setup::new(2).await;
    let worker = s.spawn(&[
        ("PAYMENTS_VELOCITY_MAX_REQUESTS", "2"),
        ("PAYMENTS_REVIEW_THRESHOLD_MINOR", "50000"),
    ]);
    worker.wait_ready(WAIT).await;

    let mut expected: HashMap<String, &str> = HashMap::new();
    let mut cases = vec![
        (request("acc-ok", 1_000), "processed"),
        (
            PaymentRequested {
                amount_minor: 0,
                ..request("acc-zero", 1)
            },
            "invalid_amount",
        ),
        (
            PaymentRequested {
                currency: "XYZ".into(),
                ..request("acc-cur", 100)
            },
            "unknown_currency",
        ),
        (
            PaymentRequested {
                payer_country: "KP".into(),
                ..request("acc-kp", 100)
            },
            "blocked_country",
        ),
        (request("acc-big", 60_000), "review_required"),
        (
            PaymentRequested {
                payment_id: "not-a-uuid".into(),
                ..request("acc-bad", 100)
            },
            "malformed_id",
        ),
        (
            PaymentRequested {
                payee_account: "acc-self".into(),
                ..request("acc-self", 100)
            },
            "same_payer_and_payee",
        ),
    ];
    // Velocity: the third request of one payer inside the window fails.
    cases.push((request("acc-fast", 100), "processed"));
    cases.push((request("acc-fast", 100), "processed"));
    cases.push((request("acc-fast", 100), "velocity_exceeded"));
    for (r, outcome) in &cases {
        expected.insert(r.payment_id.clone(), outcome);
        s.send(r).await;
    }

    let mut processed = s.collect(&s.processed);
    let mut failed = s.collect(&s.failed);
    let mut audit = s.collect(&s.audit);
    let n = cases.len();
    let done = |p: &testkit::Collector, f: &testkit::Collector| p.records().len() + f.records().len() >= n;
    let started = std::time::Instant::now();
    while !done(&processed, &failed) && started.elapsed() < WAIT {
        processed.read_to_end(WAIT);
        failed.read_to_end(WAIT);
    }
    let got = crate::support::outcomes(&processed, &failed);
    assert_eq!(got.len(), n, "one outcome per request: {got:?}");
    for r in failed.records() {
        let e: PaymentFailed = testkit::kafka::decode(r.payload.as_deref().expect("payload"));
        assert_eq!(expected[&e.payment_id], e.reason, "reason of {}", e.payment_id);
        assert_eq!(r.key.as_deref(), Some(e.payer_account.as_bytes()), "keyed by payer");
        assert_eq!(r.header("event-id"), Some(e.event_id.as_str()));
    }
    for (payment_id, kind, _, _) in &got {
        if *kind == "processed" {
            assert_eq!(expected[payment_id], "processed");
        }
    }
    let audits = audit.wait_until(WAIT, |r| r.len() >= n);
    assert_eq!(audits.len(), n);
    let actions: Vec<String> = audits
        .iter()
        .map(|r| testkit::kafka::decode::<AuditEvent>(r.payload.as_deref().expect("payload")).action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "payment.processed").count(), 3);
    assert_eq!(actions.iter().filter(|a| *a == "payment.failed").count(), n - 3);

    // The metrics port exposes the documented names; keep the scrape for the dashboard check.
    // Lag comes from librdkafka statistics (every 5 s) over committed offsets (every 1 s): once
    // everything is processed and committed, a report must show 0 for every partition.
    let input_label = format!("topic=\"{}\"", s.input);
    let lag_lines = |m: &str| {
        m.lines()
            .filter(|l| l.starts_with("paystream_consumer_lag{") && l.contains(&input_label))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let started = std::time::Instant::now();
    let (status, metrics) = loop {
        let (status, metrics) = worker.get("/metrics").await;
        let lags = lag_lines(&metrics);
        let settled = lags.len() == 2 && lags.iter().all(|l| l.ends_with(" 0"));
        if settled || started.elapsed() > std::time::Duration::from_secs(30) {
            break (status, metrics);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!(status, 200);
    let lags = lag_lines(&metrics);
    assert_eq!(lags.len(), 2, "one lag series per partition of the input: {lags:?}");
    assert!(
        lags.iter().all(|l| l.ends_with(" 0")),
        "processed and committed, so lag must reach 0: {lags:?}"
    );
    for name in [
        "paystream_build_info",
        "paystream_messages_consumed_total",
        "paystream_messages_produced_total",
        "paystream_messages_processed_total",
        "paystream_processing_duration_seconds_bucket",
        "paystream_consumer_lag",
        "paystream_rebalances_total",
        "paystream_assigned_partitions",
        "paystream_state_restore_duration_seconds_count",
        "paystream_ready 1",
        "payments_processed_total 3",
        "payments_failed_total{reason=\"velocity_exceeded\"} 1",
        "payment_processing_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics:\n{metrics}");
    }
    let scrape_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/metrics-scrape");
    std::fs::create_dir_all(&scrape_dir).expect("scrape dir");
    std::fs::write(scrape_dir.join("payments.txt"), &metrics).expect("write scrape");
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn a_repeated_payment_id_gets_no_second_outcome() {
    let s = Setup::new(1).await;
    let worker = s.spawn(&[]);
    worker.wait_ready(WAIT).await;
    let first = request("acc-dup", 500);
    let again = PaymentRequested {
        amount_minor: 999,
        event_id: uuid::Uuid::new_v4().to_string(),
        ..first.clone()
    };
    s.send(&first).await;
    s.send(&again).await;
    s.send(&first).await;
    let marker = request("acc-dup-marker", 1);
    s.send(&marker).await;

    let mut processed = s.collect(&s.processed);
    let records = processed.wait_until(WAIT, |r| r.len() >= 2).to_vec();
    let mut audit = s.collect(&s.audit);
    let audits = audit.wait_until(WAIT, |r| r.len() >= 4).to_vec();
    let ids: Vec<String> = records
        .iter()
        .map(|r| {
            testkit::kafka::decode::<shared::events::PaymentProcessed>(r.payload.as_deref().expect("payload"))
                .payment_id
        })
        .collect();
    assert_eq!(ids.iter().filter(|id| **id == first.payment_id).count(), 1, "{ids:?}");
    let dup_audits = audits
        .iter()
        .map(|r| testkit::kafka::decode::<AuditEvent>(r.payload.as_deref().expect("payload")))
        .filter(|a| a.action == "payment.duplicate_ignored")
        .count();
    assert_eq!(dup_audits, 2);
    let (_, metrics) = worker.get("/metrics").await;
    assert!(metrics.contains("payments_duplicates_total 2"), "{metrics}");
    let mut failed = s.collect(&s.failed);
    assert!(failed.read_to_end(WAIT).is_empty(), "a duplicate must not fail either");
    worker.terminate(WAIT).await;
}

#[tokio::test]
async fn a_producer_on_a_newer_compatible_schema_is_still_understood() {
    let s = Setup::new(1).await;
    // A producer added an optional field; the registry accepts it as a new version (BACKWARD).
    let mut json: serde_json::Value =
        serde_json::from_str(<PaymentRequested as shared::codec::AvroEvent>::SCHEMA_JSON).expect("json");
    json["fields"]
        .as_array_mut()
        .expect("fields")
        .push(serde_json::json!({"name": "channel", "type": ["null", "string"], "default": null, "doc": "new"}));
    let evolved_id = testkit::kafka::register(&s.env, &s.input, &json.to_string()).await;
    assert_ne!(evolved_id, s.schema_id);
    let writer = apache_avro::Schema::parse(&json).expect("schema");
    let r = request("acc-evolved", 250);
    let mut record = match apache_avro::to_value(&r).expect("value") {
        apache_avro::types::Value::Record(fields) => fields,
        other => panic!("not a record: {other:?}"),
    };
    record.push((
        "channel".into(),
        apache_avro::types::Value::Union(1, Box::new(apache_avro::types::Value::String("mobile".into()))),
    ));
    let value = apache_avro::types::Value::Record(record)
        .resolve(&writer)
        .expect("resolve");
    let mut payload = Vec::new();
    shared::codec::wire::write_header(&mut payload, evolved_id);
    payload.extend(
        apache_avro::writer::datum::GenericDatumWriter::builder(&writer)
            .build()
            .and_then(|w| w.write_value_to_vec(value))
            .expect("encode"),
    );
    let worker = s.spawn(&[]);
    s.send_raw(&r.payer_account, &payload).await;
    let mut processed = s.collect_when_ready(&worker, &s.processed).await;
    let got = processed.wait_until(crate::support::WAIT, |r| !r.is_empty()).to_vec();
    assert_eq!(got.len(), 1);
    let e: shared::events::PaymentProcessed = testkit::kafka::decode(got[0].payload.as_deref().expect("payload"));
    assert_eq!(e.payment_id, r.payment_id);
    worker.terminate(WAIT).await;
}
