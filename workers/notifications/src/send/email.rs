//! Email over SMTP (lettre, async, rustls with ring).
//!
//! Modes: `starttls` (port 587, upgrade required), `tls` (implicit TLS, port 465) and `plain`
//! (no TLS: local development and tests only; [`EmailSender::new`] refuses it unless the insecure
//! flag is set). Each message carries the delivery's idempotency key in `X-Idempotency-Key` and in
//! its `Message-ID`, so a duplicate caused by a retry can be recognised downstream. SMTP has no
//! idempotent submission: a reply lost after `DATA` was accepted can still duplicate a message.
//! One connection per message (no pool): notification volume is low and a pool would hide a dead
//! relay until its connections time out.

use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::send::http::{error_chain, is_tls};
use crate::send::{
    Delivery, REASON_CONNECT, REASON_INVALID_ADDRESS, REASON_LOCAL, REASON_SMTP_PERMANENT, REASON_SMTP_TRANSIENT,
    REASON_TIMEOUT, REASON_TLS, SendOutcome,
};

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpMode {
    /// Plain connection upgraded with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No TLS at all: development and tests only.
    Plain,
}

/// Settings of the SMTP sender.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// Relay host (also the TLS server name).
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// Connection security.
    pub mode: SmtpMode,
    /// Allow [`SmtpMode::Plain`].
    pub allow_insecure: bool,
    /// User name and password, if the relay wants AUTH.
    pub credentials: Option<(String, String)>,
    /// `From` mailbox, e.g. `paystream <no-reply@paystream.example>`.
    pub from: String,
    /// Timeout of each SMTP command.
    pub timeout: Duration,
    /// Extra trusted CA certificate (PEM) for the relay.
    pub ca_pem: Option<Vec<u8>>,
}

/// The SMTP sender could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum EmailConfigError {
    /// `plain` without the insecure flag.
    #[error("smtp mode plain sends mail and passwords unencrypted; set the insecure flag to allow it (dev/test only)")]
    PlainRefused,
    /// The From address does not parse.
    #[error("smtp from address {from:?}: {source}")]
    From {
        /// The value.
        from: String,
        /// The cause.
        source: lettre::address::AddressError,
    },
    /// TLS parameters (e.g. the CA certificate) were refused.
    #[error("smtp TLS settings for {host}: {source}")]
    Tls {
        /// The relay.
        host: String,
        /// The cause.
        source: lettre::transport::smtp::Error,
    },
}

/// `X-Idempotency-Key`: the delivery's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKeyHeader(pub String);

impl Header for IdempotencyKeyHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Idempotency-Key")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(IdempotencyKeyHeader(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Sends email.
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Bound on a whole SMTP transaction: lettre's timeout covers single commands, not e.g. a
    /// relay that accepts the connection and never greets.
    deadline: Duration,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    /// A sender for `settings`.
    pub fn new(settings: &EmailSettings) -> Result<EmailSender, EmailConfigError> {
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|source| EmailConfigError::From {
                from: settings.from.clone(),
                source,
            })?;
        let tls = match settings.mode {
            SmtpMode::Plain if !settings.allow_insecure => return Err(EmailConfigError::PlainRefused),
            SmtpMode::Plain => Tls::None,
            SmtpMode::Starttls => Tls::Required(tls_parameters(settings)?),
            SmtpMode::Tls => Tls::Wrapper(tls_parameters(settings)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(EmailSender {
            transport: builder.build(),
            from,
            deadline: settings.timeout.saturating_mul(3),
        })
    }

    /// Mails `d` to `d.address`.
    pub async fn send(&self, d: &Delivery<'_>) -> SendOutcome {
        let to = match d.address.parse::<Mailbox>() {
            Ok(m) => m,
            Err(e) => {
                return SendOutcome::permanent(REASON_INVALID_ADDRESS, format!("email address {:?}: {e}", d.address));
            }
        };
        let message = match self.message(d, to) {
            Ok(m) => m,
            Err(e) => return SendOutcome::permanent(REASON_LOCAL, format!("build email: {e}")),
        };
        let sent = tokio::time::timeout(self.deadline, self.transport.send(message)).await;
        match sent {
            Err(_elapsed) => SendOutcome::retry(
                REASON_TIMEOUT,
                format!("smtp transaction took longer than {:?}", self.deadline),
            ),
            Ok(Ok(_)) => SendOutcome::Sent {
                // SMTP relays return no portable id; the Message-ID we set identifies the mail.
                provider_message_id: message_id(d.idempotency_key, &self.from),
            },
            Ok(Err(e)) => classify(&e),
        }
    }

    fn message(&self, d: &Delivery<'_>, to: Mailbox) -> Result<Message, lettre::error::Error> {
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(d.subject.unwrap_or_default())
            .message_id(Some(message_id(d.idempotency_key, &self.from)))
            .header(IdempotencyKeyHeader(d.idempotency_key.to_owned()));
        match d.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(d.body.to_owned(), html.to_owned())),
            None => builder.header(ContentType::TEXT_PLAIN).body(d.body.to_owned()),
        }
    }
}

/// `<key@domain-of-from>`.
fn message_id(key: &str, from: &Mailbox) -> String {
    format!("<{key}@{}>", from.email.domain())
}

fn tls_parameters(settings: &EmailSettings) -> Result<TlsParameters, EmailConfigError> {
    let tls_err = |source| EmailConfigError::Tls {
        host: settings.host.clone(),
        source,
    };
    let mut b = TlsParameters::builder(settings.host.clone());
    if let Some(pem) = &settings.ca_pem {
        b = b.add_root_certificate(Certificate::from_pem(pem).map_err(tls_err)?);
    }
    b.build_rustls().map_err(tls_err)
}

/// 4xx replies and connection trouble retry; 5xx replies are the recipient's or the message's
/// fault and do not.
fn classify(e: &lettre::transport::smtp::Error) -> SendOutcome {
    let detail = error_chain(e);
    if e.is_permanent() {
        SendOutcome::permanent(REASON_SMTP_PERMANENT, detail)
    } else if e.is_transient() {
        SendOutcome::retry(REASON_SMTP_TRANSIENT, detail)
    } else if e.is_timeout() {
        SendOutcome::retry(REASON_TIMEOUT, detail)
    } else if e.is_tls() || is_tls(e) {
        SendOutcome::retry(REASON_TLS, detail)
    } else {
        SendOutcome::retry(REASON_CONNECT, detail)
    }
}
