//! Events of all three workers' audit topics are chained in order, masked, checked by every rule,
//! and `audit verify` says OK.

use std::collections::{HashMap, HashSet};

use crate::support::{Position, Setup, WAIT, alerts, audit_event, links, topic_config};

#[tokio::test]
async fn events_of_all_workers_are_chained_in_order_masked_alerted_and_verify_ok() {
    let s = Setup::new();
    let payments = s.audit_topic("payment-events");
    let ledger = s.audit_topic("ledger-events");
    let notifications = s.audit_topic("notification-events");
    let pay_id = s.create_audit_topic(&payments, 2).await;
    let led_id = s.create_audit_topic(&ledger, 1).await;
    let not_id = s.create_audit_topic(&notifications, 1).await;

    let email = "carol.secret@example.com";
    let pan = "4111111111111111";
    let mut sent: Vec<(Position, String)> = Vec::new();
    let mut push = |p: Position, e: &shared::events::AuditEvent| sent.push((p, e.event_id.clone()));
    // Rule triggers and near misses (thresholds set below).
    let mut expected_alerts: HashMap<&str, Vec<Position>> = HashMap::new();
    for (actor, amount) in [("acc-big", "5000"), ("acc-small", "4999")] {
        let e = audit_event(
            "payments",
            "payment.processed",
            actor,
            &[("amount_minor", amount), ("payer_email", email)],
        );
        let p = s.send(&payments, pay_id, &e).await;
        if amount == "5000" {
            expected_alerts.entry("large_payment").or_default().push(p.clone());
        }
        push(p, &e);
    }
    for (actor, failures) in [("acc-fails", 3), ("acc-near", 2)] {
        for _ in 0..failures {
            let e = audit_event(
                "payments",
                "payment.failed",
                actor,
                &[("amount_minor", "10"), ("card_number", pan)],
            );
            let p = s.send(&payments, pay_id, &e).await;
            if actor == "acc-fails" {
                expected_alerts
                    .entry("failed_payments_per_payer")
                    .or_default()
                    .push(p.clone());
            }
            push(p, &e);
        }
    }
    for action in ["ledger.transaction_rejected", "ledger.transaction_applied"] {
        let e = audit_event("ledger", action, "acc-1", &[("amount_minor", "10")]);
        let p = s.send(&ledger, led_id, &e).await;
        if action == "ledger.transaction_rejected" {
            expected_alerts.entry("ledger_rejection").or_default().push(p.clone());
        }
        push(p, &e);
    }
    for i in 0..3 {
        let e = audit_event(
            "notifications",
            "notification.failed",
            &format!("acc-n{i}"),
            &[("phone", "+49301234567")],
        );
        let p = s.send(&notifications, not_id, &e).await;
        expected_alerts
            .entry("notification_failure_burst")
            .or_default()
            .push(p.clone());
        push(p, &e);
    }

    let worker = s.spawn(&[
        ("AUDIT_LARGE_PAYMENT_MINOR", "5000"),
        ("AUDIT_FAILED_PAYMENTS_MAX", "2"),
        ("AUDIT_NOTIFICATION_FAILURES_MAX", "2"),
    ]);
    let n = sent.len();
    let log = s.read_until(&s.log, move |r| r.len() >= n).await;
    let chain = links(&log);
    assert_eq!(chain.len(), n, "one link per source event");
    assert_eq!(
        chain.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=n as i64).collect::<Vec<_>>()
    );

    // Each source event exactly once, at its own position, and in source order per partition.
    let by_id: HashMap<&str, &Position> = sent.iter().map(|(p, id)| (id.as_str(), p)).collect();
    let mut last_offset: HashMap<(String, i32), i64> = HashMap::new();
    for e in &chain {
        let p = by_id
            .get(e.event_id.as_str())
            .unwrap_or_else(|| panic!("unknown event {}", e.event_id));
        assert_eq!(
            (&e.source_topic, e.source_partition, e.source_offset),
            (&p.topic, p.partition, p.offset)
        );
        let last = last_offset.entry((p.topic.clone(), p.partition)).or_insert(-1);
        assert!(p.offset > *last, "source order kept within {}/{}", p.topic, p.partition);
        *last = p.offset;
    }
    assert_eq!(chain.iter().map(|e| &e.source).collect::<HashSet<_>>().len(), 3);

    // PII never in clear, neither in the log nor in the internal hand-over topic.
    let chain_input = s.read_until(&s.chain_input, move |r| r.len() >= n).await;
    for r in log.iter().chain(&chain_input) {
        let bytes = String::from_utf8_lossy(r.payload.as_deref().unwrap_or_default()).into_owned();
        for secret in [email, pan, "+49301234567", "carol"] {
            assert!(!bytes.contains(secret), "{secret} in clear in {bytes:?}");
        }
    }
    assert!(
        chain
            .iter()
            .any(|e| e.payload.get("card_number").is_some_and(|v| v.ends_with("1111")))
    );

    // Exactly the expected alerts, each pointing at its evidence.
    let want_alerts = expected_alerts.len();
    let alert_records = s.read_until(&s.alerts, move |r| r.len() >= want_alerts).await;
    let got = alerts(&alert_records);
    let mut rules: Vec<&str> = got.iter().map(|a| a.rule_id.as_str()).collect();
    rules.sort_unstable();
    let mut want: Vec<&str> = expected_alerts.keys().copied().collect();
    want.sort_unstable();
    assert_eq!(rules, want, "{got:#?}");
    for a in &got {
        let evidence: Vec<Position> = a
            .evidence
            .iter()
            .map(|e| Position {
                topic: e.topic.clone(),
                partition: e.partition,
                offset: e.offset,
            })
            .collect();
        assert_eq!(evidence, expected_alerts[a.rule_id.as_str()], "{a:#?}");
    }

    // The worker created audit.log to keep its records forever (the broker took retention.ms=-1).
    assert_eq!(
        topic_config(&s.env, &s.log, "retention.ms").await.as_deref(),
        Some("-1")
    );

    let (code, stdout, stderr) = s.verify(&s.log).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let head = &chain[n - 1].hash;
    assert!(stdout.starts_with(&format!("OK entries={n} ")), "{stdout}");
    assert!(stdout.trim_end().ends_with(&format!("head={head}")), "{stdout}");

    let (_, metrics) = worker.get("/metrics").await;
    assert!(metrics.contains(&format!("audit_chain_entries {n}")), "{metrics}");
    assert!(
        metrics.contains("compliance_violations_total{rule=\"ledger_rejection\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("audit_events_total{{source=\"{ledger}\"}} 2")),
        "{metrics}"
    );
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}
