//! Planning: who is notified with what, on which channels, with stable ids.

use std::collections::BTreeMap;
use std::path::Path;

use notifications::Channel;
use notifications::events::{Contact, NotificationRequested};
use notifications::recipients::Recipients;
use notifications::rules::{Rules, RulesError, Skipped};
use shared::events::{PaymentFailed, PaymentProcessed};

fn shipped() -> Rules {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    Rules::load(&dir.join("rules.yaml"), &dir.join("recipients.yaml")).expect("shipped config loads")
}

fn processed() -> PaymentProcessed {
    PaymentProcessed {
        event_id: "evt-processed-1".into(),
        payment_id: "pay-1".into(),
        payer_account: "acc-payer".into(),
        payee_account: "acc-payee".into(),
        amount_minor: 123_450,
        currency: "EUR".into(),
        requested_at: 1,
        processed_at: 2,
    }
}

fn failed() -> PaymentFailed {
    PaymentFailed {
        event_id: "evt-failed-1".into(),
        payment_id: "pay-2".into(),
        payer_account: "acc-payer".into(),
        payee_account: "acc-payee".into(),
        amount_minor: 500,
        currency: "USD".into(),
        reason: "velocity_exceeded".into(),
        detail: "too many payments".into(),
        requested_at: 1,
        failed_at: 2,
    }
}

#[test]
fn a_processed_payment_sends_a_receipt_to_the_payer_and_a_notice_to_the_payee() {
    let plans = shipped().plan_processed(&processed());
    let summary: Vec<_> = plans
        .iter()
        .map(|p| (p.recipient_id.as_str(), p.template_id.as_str(), p.locale.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("acc-payer", "payment_receipt", "de-DE"),
            ("acc-payee", "payment_received", "en")
        ]
    );
    assert_eq!(
        plans[0].deliveries,
        [
            (Channel::Email, "payer@example.com".to_owned()),
            (Channel::Sms, "+4915112345678".to_owned()),
            (Channel::Push, "dev-push-token-payer".to_owned()),
        ]
    );
    assert_eq!(plans[0].variables["amount"], "1.234,50 EUR");
    assert_eq!(plans[1].variables["amount"], "1,234.50 EUR");
    assert_eq!(plans[1].variables["payment_id"], "pay-1");
    assert_eq!(
        plans[1].deliveries.iter().map(|d| d.0).collect::<Vec<_>>(),
        [Channel::Email, Channel::Webhook]
    );
}

#[test]
fn a_failed_payment_notifies_only_the_payer_with_the_reason() {
    let plans = shipped().plan_failed(&failed());
    assert_eq!(plans.len(), 1);
    assert_eq!(
        (plans[0].recipient_id.as_str(), plans[0].template_id.as_str()),
        ("acc-payer", "payment_failed")
    );
    assert_eq!(plans[0].variables["reason"], "velocity_exceeded");
    assert_eq!(plans[0].variables["amount"], "5,00 USD");
}

#[test]
fn an_account_without_an_address_for_a_channel_skips_it_with_a_reason() {
    let recipients: Recipients = yaml_serde::from_str(
        "default: { channels: [email, sms], locale: en }\naccounts:\n  acc-a: { contact: { email: a@example.com } }\n",
    )
    .expect("yaml");
    let rules = Rules::new(
        yaml_serde::from_str("payment_processed: [{ role: payer, template: payment_receipt }, { role: payee, template: payment_received }]")
            .expect("yaml"),
        recipients,
    );
    let plans = rules.plan_processed(&PaymentProcessed {
        payer_account: "acc-a".into(),
        payee_account: "acc-unlisted".into(),
        ..processed()
    });
    assert_eq!(plans[0].deliveries, [(Channel::Email, "a@example.com".to_owned())]);
    let no_address = |c: &str| Skipped {
        channel: c.into(),
        reason: "no_address",
    };
    assert_eq!(plans[0].skipped, [no_address("sms")]);
    assert!(plans[1].deliveries.is_empty());
    assert_eq!(plans[1].skipped, [no_address("email"), no_address("sms")]);
}

#[test]
fn ids_are_deterministic_per_event_and_role() {
    let rules = shipped();
    let a = rules.plan_processed(&processed());
    let b = rules.plan_processed(&processed());
    assert_eq!(a, b);
    assert_ne!(a[0].notification_id, a[1].notification_id);
    let other = rules.plan_processed(&PaymentProcessed {
        event_id: "evt-processed-2".into(),
        ..processed()
    });
    assert_ne!(a[0].notification_id, other[0].notification_id);
}

#[test]
fn an_explicit_request_uses_its_own_contact_and_skips_unknown_or_unaddressed_channels() {
    let plan = shipped().plan_request(&NotificationRequested {
        event_id: "e".into(),
        notification_id: "n-1".into(),
        recipient_id: "acc-x".into(),
        channels: vec!["webhook".into(), "fax".into(), "sms".into(), "webhook".into()],
        template_id: "generic".into(),
        locale: "de".into(),
        variables: BTreeMap::from([("title".into(), "T".into())]),
        contact: Contact {
            webhook_url: Some("https://x.example/h".into()),
            ..Contact::default()
        },
        requested_at: 1,
    });
    assert_eq!(plan.notification_id, "n-1");
    assert_eq!(plan.deliveries, [(Channel::Webhook, "https://x.example/h".to_owned())]);
    let reasons: Vec<_> = plan.skipped.iter().map(|s| (s.channel.as_str(), s.reason)).collect();
    assert_eq!(reasons, [("fax", "unknown_channel"), ("sms", "no_address")]);
}

#[test]
fn an_unreadable_or_malformed_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("rules.yaml");
    std::fs::write(&bad, "payment_processed: [{ role: auditor, template: x }]").expect("write");
    let ok = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/recipients.yaml");
    let err = Rules::load(&bad, &ok).expect_err("bad role");
    assert!(
        matches!(&err, RulesError::Parse { path, .. } if path == &bad),
        "{err:?}"
    );
    assert!(err.to_string().contains("rules.yaml"), "{err}");
    let missing = dir.path().join("missing.yaml");
    assert!(matches!(Rules::load(&missing, &ok), Err(RulesError::Read { path, .. }) if path == missing));
}
