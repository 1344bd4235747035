//! Per-test topics, provider servers, config files, event builders and worker spawning.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use notifications::events::{Contact, NotificationRequested};
use notifications::testsupport::http::{HttpSink, WebhookSink};
use notifications::testsupport::smtp::{SinkTls, SmtpSink};
use notifications::testsupport::tls::TestPki;
use rdkafka::producer::FutureProducer;
use shared::codec::AvroEvent;
use shared::events::PaymentProcessed;
use testkit::kafka::{Collector, create_topic, frame, producer, register, send};
use testkit::{StackEnv, Worker, unique};

pub(crate) const WEBHOOK_SECRET: &[u8] = b"whsec-test-secret";
pub(crate) const SMS_SID: &str = "AC0123456789";
pub(crate) const SMS_TOKEN: &str = "sms-auth-token";
pub(crate) const PUSH_PROJECT: &str = "paystream-test";
pub(crate) const PUSH_TOKEN: &str = "push-bearer-token";

/// Topics, servers and files of one test.
pub(crate) struct Setup {
    pub(crate) env: StackEnv,
    pub(crate) requests: String,
    pub(crate) processed: String,
    pub(crate) failed_payments: String,
    pub(crate) sent: String,
    pub(crate) failed: String,
    pub(crate) audit: String,
    pub(crate) retry_prefix: String,
    pub(crate) group: String,
    pub(crate) producer: FutureProducer,
    pub(crate) smtp: SmtpSink,
    pub(crate) webhook: WebhookSink,
    pub(crate) sms: HttpSink,
    pub(crate) push: HttpSink,
    files: tempfile::TempDir,
    request_schema: u32,
    processed_schema: u32,
}

impl Setup {
    /// Creates the input topics with `partitions`, registers schemas, starts every provider.
    pub(crate) async fn new(partitions: i32) -> Self {
        let env = StackEnv::get();
        let base = unique("ntf");
        let requests = format!("{base}.notification-requested");
        let processed = format!("{base}.payment-processed");
        let failed_payments = format!("{base}.payment-failed");
        for topic in [&requests, &processed, &failed_payments] {
            create_topic(&env, topic, partitions).await;
        }
        let request_schema = register(&env, &requests, NotificationRequested::SCHEMA_JSON).await;
        let processed_schema = register(&env, &processed, PaymentProcessed::SCHEMA_JSON).await;
        register(&env, &failed_payments, shared::events::PaymentFailed::SCHEMA_JSON).await;
        let pki = TestPki::generate().expect("test pki");
        let files = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, content: &[u8]| {
            std::fs::write(files.path().join(name), content).expect("write test file");
        };
        write("ca.pem", pki.ca_pem.as_bytes());
        write("webhook-secret", WEBHOOK_SECRET);
        write("sms-token", SMS_TOKEN.as_bytes());
        write("push-token", PUSH_TOKEN.as_bytes());
        write("smtp-password", b"smtp-pass");
        write(
            "recipients.yaml",
            b"default:\n  channels: [email]\n  locale: en\naccounts:\n  acc-payer:\n    channels: [email, sms]\n    locale: de-DE\n    contact:\n      email: payer@example.test\n      phone: \"+4915100000001\"\n",
        );
        Self {
            producer: producer(&env),
            sent: format!("{base}.notification-sent"),
            failed: format!("{base}.notification-failed"),
            audit: format!("{base}.audit"),
            retry_prefix: format!("{base}.retry."),
            group: format!("{base}-group"),
            smtp: SmtpSink::start(SinkTls::Starttls, Some(&pki)).await.expect("smtp sink"),
            webhook: WebhookSink::start(WEBHOOK_SECRET).await.expect("webhook sink"),
            sms: HttpSink::sms(SMS_SID, SMS_TOKEN).await.expect("sms sink"),
            push: HttpSink::push(PUSH_PROJECT, PUSH_TOKEN).await.expect("push sink"),
            files,
            requests,
            processed,
            failed_payments,
            env,
            request_schema,
            processed_schema,
        }
    }

    fn file(&self, name: &str) -> String {
        self.files.path().join(name).display().to_string()
    }

    /// Starts a notifications worker on these topics and servers; `extra` env vars win.
    pub(crate) fn spawn(&self, extra: &[(&str, &str)]) -> Worker {
        let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let owned: Vec<(&str, String)> = vec![
            ("TOPIC_NOTIFICATION_REQUESTED", self.requests.clone()),
            ("TOPIC_PAYMENT_PROCESSED", self.processed.clone()),
            ("TOPIC_PAYMENT_FAILED", self.failed_payments.clone()),
            ("TOPIC_NOTIFICATION_SENT", self.sent.clone()),
            ("TOPIC_NOTIFICATION_FAILED", self.failed.clone()),
            ("TOPIC_AUDIT", self.audit.clone()),
            ("TOPIC_RETRY_PREFIX", self.retry_prefix.clone()),
            ("KAFKA_GROUP_ID", self.group.clone()),
            (
                "NOTIFY_TEMPLATES_DIR",
                crate_dir.join("templates").display().to_string(),
            ),
            (
                "NOTIFY_RULES_FILE",
                crate_dir.join("config/rules.yaml").display().to_string(),
            ),
            ("NOTIFY_RECIPIENTS_FILE", self.file("recipients.yaml")),
            ("NOTIFY_CA_FILE", self.file("ca.pem")),
            ("SMTP_HOST", "127.0.0.1".into()),
            ("SMTP_PORT", self.smtp.port().to_string()),
            ("SMTP_MODE", "starttls".into()),
            ("SMTP_USERNAME", "paystream".into()),
            ("SMTP_PASSWORD_FILE", self.file("smtp-password")),
            ("SMTP_FROM", "Paystream <noreply@paystream.test>".into()),
            ("SMS_BASE_URL", self.sms.url()),
            ("SMS_ACCOUNT_SID", SMS_SID.into()),
            ("SMS_AUTH_TOKEN_FILE", self.file("sms-token")),
            ("SMS_FROM", "+15550000000".into()),
            ("PUSH_BASE_URL", self.push.url()),
            ("PUSH_PROJECT_ID", PUSH_PROJECT.into()),
            ("PUSH_TOKEN_FILE", self.file("push-token")),
            ("WEBHOOK_SECRET_FILE", self.file("webhook-secret")),
            ("NOTIFICATION_RETRY_DELAYS", "2s,4s".into()),
        ];
        let mut vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.extend_from_slice(extra);
        Worker::spawn(env!("CARGO_BIN_EXE_notifications"), &self.env, &vars)
    }

    /// Produces an explicit request keyed by its recipient.
    pub(crate) async fn send_request(&self, request: &NotificationRequested) {
        let payload = frame(self.request_schema, request);
        send(&self.producer, &self.requests, &request.recipient_id, &payload).await;
    }

    /// Produces a processed payment keyed by its payer, like the payments worker.
    pub(crate) async fn send_processed(&self, payment: &PaymentProcessed) {
        let payload = frame(self.processed_schema, payment);
        send(&self.producer, &self.processed, &payment.payer_account, &payload).await;
    }

    /// Reads a topic once it exists (the worker creates its outputs).
    pub(crate) async fn collector(&self, topic: &str) -> Collector {
        Collector::when_exists(&self.env, topic).await
    }
}

/// A request for `recipient` on `channels` with the `generic` template.
pub(crate) fn request(recipient: &str, channels: &[&str], contact: Contact, message: &str) -> NotificationRequested {
    NotificationRequested {
        event_id: unique("nr"),
        notification_id: unique("n"),
        recipient_id: recipient.into(),
        channels: channels.iter().map(|c| (*c).to_owned()).collect(),
        template_id: "generic".into(),
        locale: "en".into(),
        variables: BTreeMap::from([
            ("title".into(), format!("Hello {recipient}")),
            ("message".into(), message.into()),
        ]),
        contact,
        requested_at: 1,
    }
}

/// Contact with only a webhook URL.
pub(crate) fn webhook_contact(url: &str) -> Contact {
    Contact {
        email: None,
        phone: None,
        push_token: None,
        webhook_url: Some(url.into()),
    }
}

/// Waits (bounded) until `done` holds; returns its last value either way.
pub(crate) async fn eventually<T>(timeout: Duration, mut probe: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let started = std::time::Instant::now();
    loop {
        let value = probe();
        if done(&value) || started.elapsed() > timeout {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves the worker's `/metrics` as `target/metrics-scrape/<name>.txt`: `make lint-deploy` checks
/// every metric the notifications dashboard and alerts use against these scrapes.
pub(crate) async fn save_scrape(worker: &Worker, name: &str) {
    let (_, body) = worker.get("/metrics").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/metrics-scrape");
    std::fs::create_dir_all(&dir).expect("scrape dir");
    std::fs::write(dir.join(format!("{name}.txt")), body).expect("write scrape");
}

/// One metric sample from the worker's `/metrics`, 0 when absent.
pub(crate) async fn metric(worker: &Worker, series: &str) -> f64 {
    let (_, body) = worker.get("/metrics").await;
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
