//! `audit verify` finds a changed payload in the worker's own log, and a forged link inserted
//! into a log, at the right position.

use audit::chain::canonical::GENESIS;
use audit::chain::entry_of;
use audit::record::ChainInput;
use shared::codec::AvroEvent;
use shared::events::AuditLogEntry;
use testkit::kafka::{create_topic, frame, register};

use crate::support::{Setup, WAIT, audit_event, entries};

#[tokio::test]
async fn a_changed_payload_appended_to_the_log_is_reported_at_its_offset() {
    let s = Setup::new();
    let topic = s.audit_topic("payment-events");
    let id = s.create_audit_topic(&topic, 1).await;
    for i in 0..5 {
        let e = audit_event(
            "payments",
            "payment.processed",
            "acc-1",
            &[("amount_minor", &format!("{i}00"))],
        );
        s.send(&topic, id, &e).await;
    }
    let worker = s.spawn(&[]);
    let log = s.read_until(&s.log, |r| r.len() >= 5).await;
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
    let (code, stdout, stderr) = s.verify(&s.log).await;
    assert_eq!(code, Some(0), "clean before tampering: {stdout}{stderr}");

    // Someone with write access re-appends the last entry with a changed amount, keeping its hash.
    let mut forged = entries(&log).pop().expect("an entry");
    forged.payload.insert("amount_minor".into(), "99999999".into());
    let schema_id = register(&s.env, &s.log, AuditLogEntry::SCHEMA_JSON).await;
    let at = s
        .send_raw(&s.log, &forged.seq.to_string(), &frame(schema_id, &forged))
        .await;

    let (code, stdout, stderr) = s.verify(&s.log).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("partition 0 offset {} seq {}", at.offset, forged.seq))
            && stdout.contains("content does not match"),
        "{stdout}"
    );

    // A worker that verifies its own log periodically counts the broken chain.
    let worker = s.spawn(&[("AUDIT_VERIFY_INTERVAL_SECONDS", "1")]);
    let line = worker.wait_for_line("audit log chain is broken", WAIT).await;
    assert!(line.contains(&format!("offset {}", at.offset)), "{line}");
    let (_, metrics) = worker.get("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("audit_verify_failures_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn a_forged_self_consistent_link_is_reported_where_the_chain_forks() {
    let s = Setup::new();
    let log = format!("{}.forged.log", s.base);
    create_topic(&s.env, &log, 1).await;
    let schema_id = register(&s.env, &log, AuditLogEntry::SCHEMA_JSON).await;
    let record = |offset: i64, actor: &str| ChainInput {
        kind: audit::record::KIND_EVENT.into(),
        source_topic: "audit.payment-events".into(),
        source_partition: 0,
        source_offset: offset,
        record_timestamp: 1,
        event_id: format!("e-{offset}"),
        occurred_at: 1,
        source: "payments".into(),
        actor: actor.into(),
        action: "payment.processed".into(),
        subject_id: format!("p-{offset}"),
        payload: Default::default(),
    };
    let mut genuine = Vec::new();
    let mut prev = GENESIS.to_owned();
    for seq in 1..=4 {
        let e = entry_of(&record(seq, "acc-1"), seq, prev.clone());
        prev = e.hash.clone();
        genuine.push(e);
    }
    // A forger who knows the format computes a valid-looking seq 3 after the genuine seq 2 and
    // slips it in before the genuine seq 3.
    let forged = entry_of(&record(99, "mallory"), 3, genuine[1].hash.clone());
    let mut offsets = Vec::new();
    for e in [&genuine[0], &genuine[1], &forged, &genuine[2], &genuine[3]] {
        offsets.push(s.send_raw(&log, &e.seq.to_string(), &frame(schema_id, e)).await.offset);
    }
    let (code, stdout, stderr) = s.verify(&log).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("offset {} seq 3", offsets[3])) && stdout.contains("fork"),
        "the genuine seq 3 right after the forgery no longer matches: {stdout}"
    );
}
