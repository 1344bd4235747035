//! Kafka client settings for the stack and the login probe that decides it is ready.
//!
//! The probe is a real librdkafka client doing what every worker does first: TLS to the proxy
//! (verifying the certificate against `ca.pem`), a SCRAM exchange with the broker, and a metadata
//! request. Errors librdkafka reports through its error callback are recorded so a failed probe
//! can tell "wrong password" from "nothing answers".

use std::{
    env, fmt, fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use rdkafka::{
    ClientConfig, ClientContext,
    config::RDKafkaLogLevel,
    consumer::{BaseConsumer, Consumer as _, ConsumerContext},
    error::KafkaError,
    types::RDKafkaErrorCode,
};
use tokio::time::{Instant, sleep};
use tracing::{debug, info};

use crate::{DevstackError, ScramMechanism, fsutil};

/// How a client reaches the stack: SASL_SSL with SCRAM through the TLS proxy.
#[derive(Clone)]
pub struct KafkaClientSettings {
    /// `host:port` list (the TLS proxy).
    pub bootstrap: String,
    /// SCRAM variant.
    pub mechanism: ScramMechanism,
    /// SASL user.
    pub username: String,
    /// SASL password (never printed by `Debug`).
    pub password: String,
    /// PEM CA that signed the proxy's certificate.
    pub ca_file: PathBuf,
}

impl fmt::Debug for KafkaClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaClientSettings")
            .field("bootstrap", &self.bootstrap)
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Reads a password file; surrounding whitespace (a trailing newline) is not part of it.
pub fn read_password_file(path: &Path) -> Result<String, DevstackError> {
    fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|err| DevstackError::io("read password file", path, err))
}

fn required_env(name: &'static str) -> Result<String, DevstackError> {
    env::var(name).map_err(|_| DevstackError::MissingEnv(name))
}

impl KafkaClientSettings {
    /// Parses a `KAFKA_SASL_MECHANISM` value.
    pub fn parse_mechanism(value: &str) -> Result<ScramMechanism, DevstackError> {
        match value.to_ascii_uppercase().as_str() {
            "SCRAM-SHA-512" => Ok(ScramMechanism::Sha512),
            "SCRAM-SHA-256" => Ok(ScramMechanism::Sha256),
            _ => Err(DevstackError::Invalid {
                what: "sasl mechanism",
                value: value.to_owned(),
                reason: "the dev stack supports SCRAM-SHA-512 and SCRAM-SHA-256".to_owned(),
            }),
        }
    }

    /// Builds settings from the variables [`crate::Stack::env`] exports (`KAFKA_*`).
    pub fn from_env() -> Result<Self, DevstackError> {
        let protocol = env::var("KAFKA_SECURITY_PROTOCOL").unwrap_or_else(|_| "SASL_SSL".into());
        if !protocol.eq_ignore_ascii_case("SASL_SSL") {
            return Err(DevstackError::Invalid {
                what: "KAFKA_SECURITY_PROTOCOL",
                value: protocol,
                reason: "the dev stack only speaks SASL_SSL".to_owned(),
            });
        }
        let mechanism =
            Self::parse_mechanism(&env::var("KAFKA_SASL_MECHANISM").unwrap_or_else(|_| "SCRAM-SHA-512".into()))?;
        let password_file = PathBuf::from(required_env("KAFKA_PASSWORD_FILE")?);
        Ok(Self {
            bootstrap: required_env("KAFKA_BOOTSTRAP_SERVERS")?,
            mechanism,
            username: required_env("KAFKA_USERNAME")?,
            password: read_password_file(&password_file)?,
            ca_file: PathBuf::from(required_env("KAFKA_CA_FILE")?),
        })
    }

    /// A librdkafka configuration with connection and security settings only; callers add
    /// `group.id` etc. on top.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            // The TLS proxy; the broker advertises the same address, so all traffic is TLS.
            .set("bootstrap.servers", &self.bootstrap)
            // TLS to the proxy, SASL inside it: what the workers use in production.
            .set("security.protocol", "SASL_SSL")
            // SCRAM variant the user was created with (a user has credentials for one only).
            .set("sasl.mechanism", self.mechanism.kafka_name())
            // SASL credentials checked by the broker.
            .set("sasl.username", &self.username)
            // SASL credentials checked by the broker.
            .set("sasl.password", &self.password)
            // Trust only the stack's throw-away CA, not the system roots.
            .set("ssl.ca.location", self.ca_file.to_string_lossy())
            // Verify the certificate names the host we dial (127.0.0.1 is an IP SAN); this is the
            // librdkafka default, set explicitly so a test proves hostname verification works.
            .set("ssl.endpoint.identification.algorithm", "https");
        config
    }
}

/// One error librdkafka reported through its error callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedError {
    /// librdkafka's code, when it has one.
    pub code: Option<RDKafkaErrorCode>,
    /// Error and reason text.
    pub message: String,
}

/// librdkafka client context that keeps the global errors it reports (bounded).
#[derive(Debug, Default, Clone)]
pub struct ErrorRecorder {
    errors: Arc<Mutex<Vec<RecordedError>>>,
}

/// At most this many errors are kept per client.
const MAX_RECORDED_ERRORS: usize = 64;

impl ClientContext for ErrorRecorder {
    // Error-level log lines arrive synchronously from librdkafka's threads and carry the full
    // text ("SASL authentication error: … invalid credentials …"), unlike consumer error events.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        debug!(?level, fac, log_message, "librdkafka log");
        if matches!(
            level,
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error
        ) {
            self.record(None, format!("{fac}: {log_message}"));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        debug!(%error, reason, "librdkafka error");
        self.record(error.rdkafka_error_code(), format!("{error}: {reason}"));
    }
}

// Default rebalance/commit callbacks; the probe never joins a group.
impl ConsumerContext for ErrorRecorder {}

impl ErrorRecorder {
    fn record(&self, code: Option<RDKafkaErrorCode>, message: String) {
        if let Ok(mut errors) = self.errors.lock()
            && errors.len() < MAX_RECORDED_ERRORS
        {
            errors.push(RecordedError { code, message });
        }
    }

    /// The errors seen so far, oldest first.
    pub fn errors(&self) -> Vec<RecordedError> {
        self.errors.lock().map(|errors| errors.clone()).unwrap_or_default()
    }

    /// Whether the broker refused the credentials.
    pub fn saw_authentication_failure(&self) -> bool {
        self.errors().iter().any(|RecordedError { code, message }| {
            matches!(
                code,
                Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed)
            ) || message.contains("SASL authentication error")
        })
    }
}

/// What a login attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// TLS, SCRAM and a metadata request succeeded; the advertised brokers.
    Accepted {
        /// `host:port` of every broker in the metadata.
        brokers: Vec<String>,
    },
    /// The broker refused the credentials.
    Rejected {
        /// librdkafka's message.
        reason: String,
    },
    /// No answer in time, or another error (TLS, connection refused, …).
    Failed {
        /// librdkafka's last message.
        reason: String,
    },
}

/// Logs in with `settings` and fetches cluster metadata, waiting at most `limit`.
pub async fn check_login(settings: &KafkaClientSettings, limit: Duration) -> Result<LoginOutcome, DevstackError> {
    let recorder = ErrorRecorder::default();
    let consumer: BaseConsumer<ErrorRecorder> = settings
        .client_config()
        .create_with_context(recorder.clone())
        .map_err(|source| DevstackError::Kafka {
            action: format!("create probe client for {}", settings.username),
            bootstrap: settings.bootstrap.clone(),
            source: Box::new(source),
        })?;
    // fetch_metadata blocks its thread; librdkafka bounds it by `limit`.
    let recorder_in_task = recorder.clone();
    let result = tokio::task::spawn_blocking(move || {
        // Short slices instead of one long call, so a refused login returns as soon as the
        // recorder has seen it instead of after the whole `limit`.
        let deadline = std::time::Instant::now() + limit;
        let metadata = loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let slice = PROBE_SLICE.min(remaining).max(Duration::from_millis(10));
            let attempt = consumer.fetch_metadata(None, slice);
            if attempt.is_err() {
                // A consumer delivers librdkafka's error events only through poll(); drain
                // them so the recorder sees e.g. the Authentication code.
                while let Some(Err(error)) = consumer.poll(Duration::ZERO) {
                    recorder_in_task.record(error.rdkafka_error_code(), error.to_string());
                }
            }
            if attempt.is_ok() || recorder_in_task.saw_authentication_failure() || std::time::Instant::now() >= deadline
            {
                break attempt;
            }
        };
        let brokers = metadata.map(|metadata| {
            metadata
                .brokers()
                .iter()
                .map(|broker| format!("{}:{}", broker.host(), broker.port()))
                .collect::<Vec<_>>()
        });
        drop(consumer);
        brokers
    })
    .await
    .map_err(|err| DevstackError::Task {
        task: "kafka login probe",
        reason: err.to_string(),
    })?;
    Ok(match result {
        Ok(brokers) => LoginOutcome::Accepted { brokers },
        Err(err) => {
            let last = recorder
                .errors()
                .last()
                .map(|error| error.message.clone())
                .unwrap_or_else(|| err.to_string());
            if recorder.saw_authentication_failure() {
                LoginOutcome::Rejected { reason: last }
            } else {
                LoginOutcome::Failed { reason: last }
            }
        }
    })
}

/// One metadata request of a probe waits at most this long before the probe re-checks for a
/// refused login.
const PROBE_SLICE: Duration = Duration::from_millis(500);
/// One attempt of the readiness loop may take this long.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(5);
/// Pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// A credential that is refused this many times in a row will not start working.
const MAX_REJECTIONS: u32 = 3;

/// Retries [`check_login`] for every user until all are accepted or `limit` passes.
pub(crate) async fn wait_until_ready(
    users: &[KafkaClientSettings],
    limit: Duration,
    broker_log: &Path,
) -> Result<(), DevstackError> {
    let started = Instant::now();
    let deadline = started + limit;
    for settings in users {
        let mut rejections = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let attempt = ATTEMPT_LIMIT.min(remaining).max(Duration::from_millis(100));
            let failure = match check_login(settings, attempt).await? {
                LoginOutcome::Accepted { brokers } => {
                    info!(user = %settings.username, mechanism = settings.mechanism.kafka_name(), ?brokers, "scram login accepted");
                    break;
                }
                LoginOutcome::Rejected { reason } => {
                    rejections += 1;
                    format!("login as {} rejected: {reason}", settings.username)
                }
                LoginOutcome::Failed { reason } => {
                    rejections = 0;
                    format!("login as {} failed: {reason}", settings.username)
                }
            };
            debug!(%failure, "kafka not ready yet");
            if rejections >= MAX_REJECTIONS || Instant::now() + RETRY_PAUSE >= deadline {
                return Err(DevstackError::KafkaNotReady {
                    bootstrap: settings.bootstrap.clone(),
                    waited: started.elapsed(),
                    last_error: failure,
                    log: broker_log.to_owned(),
                    tail: fsutil::tail(broker_log),
                });
            }
            sleep(RETRY_PAUSE).await;
        }
    }
    Ok(())
}
