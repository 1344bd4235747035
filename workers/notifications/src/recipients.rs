//! Recipients' preferences: account id → contact addresses, channels and locale, from a YAML file,
//! with a default (channels, locale) for accounts the file does not list.
//!
//! ```yaml
//! default:
//!   channels: [email, webhook]
//!   locale: en
//! accounts:
//!   acc-alice:
//!     channels: [email, sms]
//!     locale: de-DE
//!     contact: { email: alice@example.com, phone: "+4915112345678" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::channel::Channel;
use crate::events::Contact;
use crate::rules::RulesError;

/// Channels and locale of an account the file does not list (or lists without them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Channels to try.
    pub channels: Vec<Channel>,
    /// Locale.
    pub locale: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            channels: vec![Channel::Email],
            locale: "en".into(),
        }
    }
}

/// One account's preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    /// Channels to try; the default's when absent.
    #[serde(default)]
    pub channels: Option<Vec<Channel>>,
    /// Locale; the default's when absent.
    #[serde(default)]
    pub locale: Option<String>,
    /// Addresses.
    #[serde(default)]
    pub contact: Contact,
}

/// The recipients file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// For accounts not listed.
    #[serde(default)]
    pub default: Defaults,
    /// Listed accounts by id.
    #[serde(default)]
    pub accounts: BTreeMap<String, Recipient>,
}

/// Preferences of one account after applying the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// Channels to try.
    pub channels: &'a [Channel],
    /// Locale.
    pub locale: &'a str,
    /// Addresses (empty for an unlisted account).
    pub contact: Option<&'a Contact>,
}

impl Recipients {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Recipients, RulesError> {
        crate::rules::load_yaml(path)
    }

    /// Preferences of `account`.
    pub fn resolve(&self, account: &str) -> Resolved<'_> {
        let listed = self.accounts.get(account);
        Resolved {
            channels: listed
                .and_then(|r| r.channels.as_deref())
                .unwrap_or(&self.default.channels),
            locale: listed.and_then(|r| r.locale.as_deref()).unwrap_or(&self.default.locale),
            contact: listed.map(|r| &r.contact),
        }
    }
}

/// The address of `contact` for `channel`, if it has a non-empty one.
pub fn address(contact: &Contact, channel: Channel) -> Option<&str> {
    let a = match channel {
        Channel::Email => &contact.email,
        Channel::Sms => &contact.phone,
        Channel::Push => &contact.push_token,
        Channel::Webhook => &contact.webhook_url,
    };
    a.as_deref().map(str::trim).filter(|a| !a.is_empty())
}
