//! Malformed input is dead-lettered with its origin and reason in headers, and the worker goes on.

use shared::codec::AvroEvent;
use shared::events::{AuditEvent, PaymentProcessed};

use crate::support::{Setup, WAIT, request};

#[tokio::test]
async fn malformed_messages_go_to_the_dlq_with_headers_and_the_worker_carries_on() {
    let s = Setup::new(1).await;
    let worker = s.spawn(&[]);
    worker.wait_ready(WAIT).await;

    let good = request("acc-after-poison", 700);
    let valid = testkit::kafka::frame(s.schema_id, &good);
    // A registered schema of another record type: valid Avro, wrong schema.
    let audit_id = testkit::kafka::register(&s.env, &format!("{}-other", s.input), AuditEvent::SCHEMA_JSON).await;
    let audit = AuditEvent {
        event_id: "x".into(),
        source: "test".into(),
        action: "a".into(),
        actor: "b".into(),
        subject_id: "c".into(),
        occurred_at: 1,
        details: Default::default(),
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad-magic", [&[7u8][..], &valid[1..]].concat(), "decode"),
        (
            "unknown-schema",
            [&[0u8, 0x7f, 0xff, 0xff, 0xfe][..], &valid[5..]].concat(),
            "unknown_schema",
        ),
        ("short", vec![0, 0, 0], "decode"),
        ("truncated-body", valid[..valid.len() / 2].to_vec(), "decode"),
        ("wrong-schema", testkit::kafka::frame(audit_id, &audit), "wrong_schema"),
    ];
    for (key, payload, _) in &cases {
        s.send_raw(key, payload).await;
    }
    s.send(&good).await;

    let mut dlq = s.collect(&format!("{}.dlq", s.input));
    let dead = dlq.wait_until(WAIT, |r| r.len() >= cases.len()).to_vec();
    assert_eq!(dead.len(), cases.len(), "{dead:?}");
    for ((key, payload, kind), record) in cases.iter().zip(&dead) {
        assert_eq!(record.key.as_deref(), Some(key.as_bytes()));
        assert_eq!(
            record.payload.as_deref(),
            Some(payload.as_slice()),
            "original bytes kept for {key}"
        );
        assert_eq!(
            record.header("dlq.error.kind"),
            Some(*kind),
            "kind of {key}: {:?}",
            record.headers
        );
        assert_eq!(record.header("dlq.original.topic"), Some(s.input.as_str()));
        assert_eq!(record.header("dlq.original.partition"), Some("0"));
        assert_eq!(record.header("dlq.consumer.group"), Some(s.group.as_str()));
        assert_eq!(record.header("dlq.attempts"), Some("1"));
        assert!(
            record
                .header("dlq.original.offset")
                .is_some_and(|o| o.parse::<i64>().is_ok())
        );
        assert!(
            record
                .header("dlq.original.timestamp")
                .is_some_and(|t| t.parse::<i64>().is_ok_and(|t| t > 0))
        );
        assert!(record.header("dlq.error.message").is_some_and(|m| !m.is_empty()));
    }
    let offsets: Vec<&str> = dead.iter().filter_map(|r| r.header("dlq.original.offset")).collect();
    assert_eq!(offsets, ["0", "1", "2", "3", "4"]);

    let mut processed = s.collect(&s.processed);
    let after = processed.wait_until(WAIT, |r| !r.is_empty()).to_vec();
    let e: PaymentProcessed = testkit::kafka::decode(after[0].payload.as_deref().expect("payload"));
    assert_eq!(
        e.payment_id, good.payment_id,
        "the worker carried on after the poison messages"
    );
    let (_, metrics) = worker.get("/metrics").await;
    assert!(metrics.contains("paystream_dlq_messages_total"), "{metrics}");
    assert!(
        metrics.contains(&format!(
            "paystream_messages_processed_total{{outcome=\"poison\",topic=\"{}\"}} 5",
            s.input
        )),
        "{metrics}"
    );
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}
