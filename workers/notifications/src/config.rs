//! The notification worker's own flags (files, channels, breaker, rate limits), flattened next to
//! the runtime's, and [`NotificationsConfig::build`], which loads and checks everything at startup.
//!
//! A channel is enabled by configuring its endpoint: `--smtp-host` (email), `--sms-base-url`,
//! `--push-base-url`, `--webhook-secret-file` (webhook URLs come from the recipients). With none,
//! the worker starts and every delivery fails permanently with `channel_disabled`. Credentials are
//! read from files (`*-file`), never from flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use shared::config::read_secret_file;

use crate::channel::Channel;
use crate::circuits::Circuits;
use crate::ratelimit::RateLimit;
use crate::rules::{Rules, RulesError};
use crate::send::email::{EmailConfigError, EmailSettings};
use crate::send::sms::SmsFrom;
use crate::send::{
    EmailSender, HttpClientError, HttpSettings, PushSender, Senders, SmsSender, SmtpMode, WebhookSender,
};
use crate::templates::{TemplateError, Templates};

/// The smallest `--dedup-horizon`: well above a crash replay (in-flight messages per partition
/// plus a second of traffic).
pub const MIN_DEDUP_HORIZON: u64 = 1_000;

/// Files, channels and policies of the notification worker.
#[derive(Debug, Clone, Args)]
pub struct NotificationsConfig {
    /// Directory of the message templates (`<template_id>/<channel>.<locale>.<part>.j2`).
    #[arg(
        long,
        env = "NOTIFY_TEMPLATES_DIR",
        default_value = "/etc/paystream/notifications/templates"
    )]
    pub templates_dir: PathBuf,
    /// Locale used when neither the requested locale nor its language has a template.
    #[arg(long, env = "NOTIFY_FALLBACK_LOCALE", default_value = "en")]
    pub fallback_locale: String,
    /// Rules file: which payment outcome notifies whom with which template.
    #[arg(
        long,
        env = "NOTIFY_RULES_FILE",
        default_value = "/etc/paystream/notifications/rules.yaml"
    )]
    pub rules_file: PathBuf,
    /// Recipients file: contact addresses, channels and locale per account.
    #[arg(
        long,
        env = "NOTIFY_RECIPIENTS_FILE",
        default_value = "/etc/paystream/notifications/recipients.yaml"
    )]
    pub recipients_file: PathBuf,
    /// Inputs per partition whose delivery records are kept: a redelivered input among the last
    /// this many (that delivered anything) sends nothing again; older records are deleted so the
    /// state store and its restore stay bounded.
    #[arg(long, env = "NOTIFY_DEDUP_HORIZON", default_value_t = 100_000)]
    pub dedup_horizon: u64,
    /// Extra trusted CA certificates (PEM) for every provider, e.g. an egress gateway's.
    #[arg(long, env = "NOTIFY_CA_FILE")]
    pub provider_ca_file: Option<PathBuf>,

    /// SMTP relay host; email is disabled without it.
    #[arg(long, env = "SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP relay port [default: 587 for starttls, 465 for tls, 25 for plain].
    #[arg(long, env = "SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// SMTP connection security.
    #[arg(long, env = "SMTP_MODE", value_enum, default_value = "starttls")]
    pub smtp_mode: SmtpMode,
    /// Allow `--smtp-mode plain` (unencrypted; development and tests only).
    #[arg(long, env = "SMTP_ALLOW_INSECURE")]
    pub smtp_allow_insecure: bool,
    /// SMTP user name; AUTH is used when set (needs --smtp-password-file).
    #[arg(long, env = "SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// File holding the SMTP password.
    #[arg(long, env = "SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// `From` mailbox, e.g. `paystream <no-reply@paystream.example>`.
    #[arg(long, env = "SMTP_FROM", default_value = "paystream <no-reply@paystream.invalid>")]
    pub smtp_from: String,
    /// Timeout of each SMTP command, ms.
    #[arg(long, env = "SMTP_TIMEOUT_MS", default_value_t = 10_000)]
    pub smtp_timeout_ms: u64,

    /// Base URL of the Twilio-compatible SMS API (e.g. https://api.twilio.com); SMS is disabled without it.
    #[arg(long, env = "SMS_BASE_URL")]
    pub sms_base_url: Option<String>,
    /// SMS account SID (basic-auth user and URL path segment).
    #[arg(long, env = "SMS_ACCOUNT_SID")]
    pub sms_account_sid: Option<String>,
    /// File holding the SMS auth token.
    #[arg(long, env = "SMS_AUTH_TOKEN_FILE")]
    pub sms_auth_token_file: Option<PathBuf>,
    /// Sender number (E.164); or use --sms-messaging-service-sid.
    #[arg(long, env = "SMS_FROM")]
    pub sms_from: Option<String>,
    /// Messaging service that picks the sender number.
    #[arg(long, env = "SMS_MESSAGING_SERVICE_SID", conflicts_with = "sms_from")]
    pub sms_messaging_service_sid: Option<String>,
    /// Timeout of one SMS API request, ms.
    #[arg(long, env = "SMS_TIMEOUT_MS", default_value_t = 10_000)]
    pub sms_timeout_ms: u64,

    /// Base URL of the FCM-compatible push API (e.g. https://fcm.googleapis.com); push is disabled without it.
    #[arg(long, env = "PUSH_BASE_URL")]
    pub push_base_url: Option<String>,
    /// Push project id.
    #[arg(long, env = "PUSH_PROJECT_ID")]
    pub push_project_id: Option<String>,
    /// File holding the OAuth access token, kept current by a refresher; read on every send.
    #[arg(long, env = "PUSH_TOKEN_FILE")]
    pub push_token_file: Option<PathBuf>,
    /// Timeout of one push API request, ms.
    #[arg(long, env = "PUSH_TIMEOUT_MS", default_value_t = 10_000)]
    pub push_timeout_ms: u64,

    /// File holding the webhook signing secret; webhooks are disabled without it.
    #[arg(long, env = "WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Timeout of one webhook request, ms.
    #[arg(long, env = "WEBHOOK_TIMEOUT_MS", default_value_t = 5_000)]
    pub webhook_timeout_ms: u64,
    /// Hosts webhooks may go to, comma-separated (`hooks.example.com`, `.example.com` for
    /// subdomains); empty: any host. Webhook URLs come from requests: set this in production.
    #[arg(long, env = "WEBHOOK_ALLOWED_HOSTS", value_delimiter = ',')]
    pub webhook_allowed_hosts: Vec<String>,

    /// Consecutive retryable failures that open an endpoint's circuit breaker (a provider's, or
    /// one webhook receiver's).
    #[arg(long, env = "BREAKER_THRESHOLD", default_value_t = 5)]
    pub breaker_threshold: u32,
    /// How long an open breaker waits before letting one probe through, ms.
    #[arg(long, env = "BREAKER_COOL_DOWN_MS", default_value_t = 30_000)]
    pub breaker_cool_down_ms: u64,

    /// Email sends per second (bursts of as many); 0 = unlimited.
    #[arg(long, env = "RATE_LIMIT_EMAIL_PER_SECOND", default_value_t = 0)]
    pub rate_limit_email_per_second: u32,
    /// SMS sends per second (bursts of as many); 0 = unlimited.
    #[arg(long, env = "RATE_LIMIT_SMS_PER_SECOND", default_value_t = 0)]
    pub rate_limit_sms_per_second: u32,
    /// Push sends per second (bursts of as many); 0 = unlimited.
    #[arg(long, env = "RATE_LIMIT_PUSH_PER_SECOND", default_value_t = 0)]
    pub rate_limit_push_per_second: u32,
    /// Webhook sends per second (bursts of as many); 0 = unlimited.
    #[arg(long, env = "RATE_LIMIT_WEBHOOK_PER_SECOND", default_value_t = 0)]
    pub rate_limit_webhook_per_second: u32,
}

/// The configuration is unusable; every variant names the flag or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Templates could not be loaded.
    #[error("templates in {dir}: {source}")]
    Templates {
        /// `--templates-dir`.
        dir: PathBuf,
        /// The cause (names the file).
        source: TemplateError,
    },
    /// The rules or recipients file is unusable.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// A credential or CA file could not be read.
    #[error(transparent)]
    File(#[from] shared::RuntimeError),
    /// A flag is missing or conflicts with another.
    #[error("{0}")]
    Flags(String),
    /// An HTTP sender could not be built.
    #[error("{channel} sender: {source}")]
    Http {
        /// The channel.
        channel: Channel,
        /// The cause.
        source: HttpClientError,
    },
    /// The SMTP sender could not be built.
    #[error(transparent)]
    Email(#[from] EmailConfigError),
}

/// Everything [`NotificationsConfig::build`] made.
#[derive(Debug)]
pub struct Built {
    /// The enabled senders.
    pub senders: Senders,
    /// The loaded templates.
    pub templates: Templates,
    /// Rules and recipients.
    pub rules: Rules,
    /// One breaker per provider channel and per failing webhook receiver.
    pub circuits: Circuits,
    /// Rate limits of the limited channels.
    pub rate_limits: BTreeMap<Channel, RateLimit>,
}

impl NotificationsConfig {
    /// Loads files, reads credentials and builds the senders; refuses bad combinations.
    pub fn build(&self) -> Result<Built, ConfigError> {
        if self.dedup_horizon < MIN_DEDUP_HORIZON {
            return Err(ConfigError::Flags(format!(
                "--dedup-horizon {} is below {MIN_DEDUP_HORIZON}: it must cover every replay after a crash",
                self.dedup_horizon
            )));
        }
        let templates =
            Templates::load(&self.templates_dir, &self.fallback_locale).map_err(|source| ConfigError::Templates {
                dir: self.templates_dir.clone(),
                source,
            })?;
        let rules = Rules::load(&self.rules_file, &self.recipients_file)?;
        let senders = Senders {
            email: self.email()?,
            sms: self.sms()?,
            push: self.push()?,
            webhook: self.webhook()?,
        };
        let circuits = Circuits::new(self.breaker_threshold, Duration::from_millis(self.breaker_cool_down_ms));
        let rate_limits = [
            (Channel::Email, self.rate_limit_email_per_second),
            (Channel::Sms, self.rate_limit_sms_per_second),
            (Channel::Push, self.rate_limit_push_per_second),
            (Channel::Webhook, self.rate_limit_webhook_per_second),
        ]
        .into_iter()
        .filter_map(|(c, rate)| RateLimit::new(rate, rate).map(|l| (c, l)))
        .collect();
        Ok(Built {
            senders,
            templates,
            rules,
            circuits,
            rate_limits,
        })
    }

    fn http(&self, timeout_ms: u64) -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_millis(timeout_ms),
            ca_file: self.provider_ca_file.clone(),
        }
    }

    fn email(&self) -> Result<Option<EmailSender>, ConfigError> {
        let Some(host) = &self.smtp_host else {
            return Ok(None);
        };
        let credentials = match (&self.smtp_username, &self.smtp_password_file) {
            (Some(user), Some(file)) => Some((user.clone(), read_secret_file("smtp password", file)?)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Flags(
                    "--smtp-username and --smtp-password-file go together".into(),
                ));
            }
        };
        let ca_pem = match &self.provider_ca_file {
            Some(path) => Some(read_file("CA", path)?),
            None => None,
        };
        let port = self.smtp_port.unwrap_or(match self.smtp_mode {
            SmtpMode::Starttls => 587,
            SmtpMode::Tls => 465,
            SmtpMode::Plain => 25,
        });
        Ok(Some(EmailSender::new(&EmailSettings {
            host: host.clone(),
            port,
            mode: self.smtp_mode,
            allow_insecure: self.smtp_allow_insecure,
            credentials,
            from: self.smtp_from.clone(),
            timeout: Duration::from_millis(self.smtp_timeout_ms),
            ca_pem,
        })?))
    }

    fn sms(&self) -> Result<Option<SmsSender>, ConfigError> {
        let Some(base) = &self.sms_base_url else {
            return Ok(None);
        };
        let (Some(sid), Some(token_file)) = (&self.sms_account_sid, &self.sms_auth_token_file) else {
            return Err(ConfigError::Flags(
                "--sms-base-url needs --sms-account-sid and --sms-auth-token-file".into(),
            ));
        };
        let from = match (&self.sms_from, &self.sms_messaging_service_sid) {
            (Some(n), None) => SmsFrom::Number(n.clone()),
            (None, Some(s)) => SmsFrom::MessagingService(s.clone()),
            _ => {
                return Err(ConfigError::Flags(
                    "--sms-base-url needs exactly one of --sms-from and --sms-messaging-service-sid".into(),
                ));
            }
        };
        let token = read_secret_file("sms auth token", token_file)?;
        SmsSender::new(&self.http(self.sms_timeout_ms), base, sid.clone(), token, from)
            .map(Some)
            .map_err(|source| ConfigError::Http {
                channel: Channel::Sms,
                source,
            })
    }

    fn push(&self) -> Result<Option<PushSender>, ConfigError> {
        let Some(base) = &self.push_base_url else {
            return Ok(None);
        };
        let (Some(project), Some(token_file)) = (&self.push_project_id, &self.push_token_file) else {
            return Err(ConfigError::Flags(
                "--push-base-url needs --push-project-id and --push-token-file".into(),
            ));
        };
        PushSender::new(&self.http(self.push_timeout_ms), base, project, token_file.clone())
            .map(Some)
            .map_err(|source| ConfigError::Http {
                channel: Channel::Push,
                source,
            })
    }

    fn webhook(&self) -> Result<Option<WebhookSender>, ConfigError> {
        let Some(file) = &self.webhook_secret_file else {
            return Ok(None);
        };
        let secret = read_secret_file("webhook secret", file)?;
        WebhookSender::new(&self.http(self.webhook_timeout_ms), secret.into_bytes())
            .map(|sender| Some(sender.with_allowed_hosts(self.webhook_allowed_hosts.clone())))
            .map_err(|source| ConfigError::Http {
                channel: Channel::Webhook,
                source,
            })
    }
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, shared::RuntimeError> {
    std::fs::read(path).map_err(|source| shared::RuntimeError::ReadFile {
        what,
        path: path.to_path_buf(),
        source,
    })
}
