//! Which payment outcome notifies whom with which template: pure planning, no I/O after loading.
//!
//! The rules file (`config/rules.yaml`) maps each outcome to roles and templates:
//! ```yaml
//! payment_processed:
//!   - { role: payer, template: payment_receipt }
//!   - { role: payee, template: payment_received }
//! payment_failed:
//!   - { role: payer, template: payment_failed }
//! ```
//! Each planned notification gets an id derived from the source event id and the role, so a
//! redelivered event plans the same ids (and, per channel, the same delivery keys).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::events::{PaymentFailed, PaymentProcessed};

use crate::channel::Channel;
use crate::events::{Contact, NotificationRequested};
use crate::idempotency::derived_id;
use crate::money::format_amount;
use crate::recipients::{Recipients, address};

/// Why a rules or recipients file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("parse {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: yaml_serde::Error,
    },
}

/// A party of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The debited account.
    Payer,
    /// The credited account.
    Payee,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Payer => "payer",
            Role::Payee => "payee",
        }
    }
}

/// Notify `role` with `template`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Who.
    pub role: Role,
    /// Template id.
    pub template: String,
}

/// The rules file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Rules for `payments.payment-processed`.
    #[serde(default)]
    pub payment_processed: Vec<Rule>,
    /// Rules for `payments.payment-failed`.
    #[serde(default)]
    pub payment_failed: Vec<Rule>,
}

/// A channel that will not be delivered, and why (a bounded label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The channel as configured or requested.
    pub channel: String,
    /// `no_address` or `unknown_channel`.
    pub reason: &'static str,
}

/// One notification to render and deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedNotification {
    /// Deterministic id.
    pub notification_id: String,
    /// Recipient account.
    pub recipient_id: String,
    /// Template id.
    pub template_id: String,
    /// Locale to render in.
    pub locale: String,
    /// Template variables.
    pub variables: BTreeMap<String, String>,
    /// Channel and address of each delivery.
    pub deliveries: Vec<(Channel, String)>,
    /// Channels left out.
    pub skipped: Vec<Skipped>,
}

/// Rules and recipients, loaded.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: RuleSet,
    recipients: Recipients,
}

impl Rules {
    /// Combines loaded files.
    pub fn new(rules: RuleSet, recipients: Recipients) -> Rules {
        Rules { rules, recipients }
    }

    /// Loads the rules file and the recipients file.
    pub fn load(rules: &Path, recipients: &Path) -> Result<Rules, RulesError> {
        Ok(Rules::new(load_yaml(rules)?, Recipients::load(recipients)?))
    }

    /// Notifications for a processed payment.
    pub fn plan_processed(&self, e: &PaymentProcessed) -> Vec<PlannedNotification> {
        let payment = Payment {
            event_id: &e.event_id,
            payment_id: &e.payment_id,
            payer: &e.payer_account,
            payee: &e.payee_account,
            amount_minor: e.amount_minor,
            currency: &e.currency,
            failure: None,
        };
        self.plan_payment(&self.rules.payment_processed, &payment)
    }

    /// Notifications for a failed payment.
    pub fn plan_failed(&self, e: &PaymentFailed) -> Vec<PlannedNotification> {
        let payment = Payment {
            event_id: &e.event_id,
            payment_id: &e.payment_id,
            payer: &e.payer_account,
            payee: &e.payee_account,
            amount_minor: e.amount_minor,
            currency: &e.currency,
            failure: Some((&e.reason, &e.detail)),
        };
        self.plan_payment(&self.rules.payment_failed, &payment)
    }

    /// The explicit request as a plan: its own channels, locale, variables and contact.
    pub fn plan_request(&self, r: &NotificationRequested) -> PlannedNotification {
        let mut deliveries = Vec::new();
        let mut skipped = Vec::new();
        for label in &r.channels {
            match label.parse::<Channel>() {
                Ok(c) => plan_channel(c, &r.contact, &mut deliveries, &mut skipped),
                Err(_) => skipped.push(Skipped {
                    channel: label.clone(),
                    reason: "unknown_channel",
                }),
            }
        }
        PlannedNotification {
            notification_id: r.notification_id.clone(),
            recipient_id: r.recipient_id.clone(),
            template_id: r.template_id.clone(),
            locale: r.locale.clone(),
            variables: r.variables.clone(),
            deliveries,
            skipped,
        }
    }

    fn plan_payment(&self, rules: &[Rule], p: &Payment<'_>) -> Vec<PlannedNotification> {
        rules
            .iter()
            .map(|rule| {
                let recipient_id = match rule.role {
                    Role::Payer => p.payer,
                    Role::Payee => p.payee,
                };
                let prefs = self.recipients.resolve(recipient_id);
                let no_contact = Contact::default();
                let contact = prefs.contact.unwrap_or(&no_contact);
                let mut deliveries = Vec::new();
                let mut skipped = Vec::new();
                for &c in prefs.channels {
                    plan_channel(c, contact, &mut deliveries, &mut skipped);
                }
                PlannedNotification {
                    notification_id: derived_id(&["notification", p.event_id, rule.role.as_str()]),
                    recipient_id: recipient_id.to_owned(),
                    template_id: rule.template.clone(),
                    locale: prefs.locale.to_owned(),
                    variables: p.variables(prefs.locale),
                    deliveries,
                    skipped,
                }
            })
            .collect()
    }
}

/// The fields of a payment outcome the templates see.
struct Payment<'a> {
    event_id: &'a str,
    payment_id: &'a str,
    payer: &'a str,
    payee: &'a str,
    amount_minor: i64,
    currency: &'a str,
    /// Reason code and detail of a failure.
    failure: Option<(&'a str, &'a str)>,
}

impl Payment<'_> {
    fn variables(&self, locale: &str) -> BTreeMap<String, String> {
        let mut v = BTreeMap::from([
            ("payment_id".to_owned(), self.payment_id.to_owned()),
            ("payer".to_owned(), self.payer.to_owned()),
            ("payee".to_owned(), self.payee.to_owned()),
            (
                "amount".to_owned(),
                format_amount(self.amount_minor, self.currency, locale),
            ),
            ("amount_minor".to_owned(), self.amount_minor.to_string()),
            ("currency".to_owned(), self.currency.to_owned()),
        ]);
        if let Some((reason, detail)) = self.failure {
            v.insert("reason".to_owned(), reason.to_owned());
            v.insert("detail".to_owned(), detail.to_owned());
        }
        v
    }
}

fn plan_channel(c: Channel, contact: &Contact, deliveries: &mut Vec<(Channel, String)>, skipped: &mut Vec<Skipped>) {
    if deliveries.iter().any(|(d, _)| *d == c) {
        return;
    }
    match address(contact, c) {
        Some(a) => deliveries.push((c, a.to_owned())),
        None => skipped.push(Skipped {
            channel: c.as_str().to_owned(),
            reason: "no_address",
        }),
    }
}

/// Reads and parses a YAML file, naming it in any error.
pub(crate) fn load_yaml<T: DeserializeOwned>(path: &Path) -> Result<T, RulesError> {
    let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    yaml_serde::from_str(&text).map_err(|source| RulesError::Parse {
        path: path.to_path_buf(),
        source,
    })
}
