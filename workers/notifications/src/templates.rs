//! Message templates: Jinja syntax (minijinja), loaded once from a directory shipped with the
//! worker.
//!
//! Layout: `<dir>/<template_id>/<channel>.<locale>.<part>.j2`, e.g.
//! `templates/payment_receipt/email.de.subject.j2`, where `part` is
//! - `subject`: email subject or push title (optional),
//! - `text`: the body (required: a template exists for a channel and locale when this part does),
//! - `html`: email HTML alternative (optional), rendered with HTML auto-escaping.
//!
//! Locale fallback: the exact locale (`de-DE`), then its language (`de`), then the configured
//! fallback locale (`en`); the first locale with a `text` part supplies every part. A `webhook`
//! with no template of its own uses the `email` parts (the JSON envelope is built by the sender).
//! Undefined variables are errors (strict mode), never empty strings in a customer's message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::channel::Channel;

/// Rendered content of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Email subject or push title.
    pub subject: Option<String>,
    /// Text body.
    pub body: String,
    /// HTML body (email only).
    pub html: Option<String>,
}

/// Why templates could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A file or directory could not be read.
    #[error("read template {path}: {source}")]
    Read {
        /// What was read.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file name does not follow `<channel>.<locale>.<part>.j2`.
    #[error("template file {path}: {reason}")]
    Layout {
        /// The file.
        path: PathBuf,
        /// What is wrong with its name.
        reason: String,
    },
    /// A template does not parse.
    #[error("parse template {name}: {source}")]
    Parse {
        /// Template name (`<template_id>/<file>`).
        name: String,
        /// The cause.
        source: minijinja::Error,
    },
    /// No locale in the fallback chain has the template for this channel.
    #[error("no template {template} for channel {channel} in locale {locale} or its fallbacks")]
    Missing {
        /// Template id.
        template: String,
        /// Channel.
        channel: Channel,
        /// Requested locale.
        locale: String,
    },
    /// Rendering failed (e.g. an undefined variable).
    #[error("render template {name}: {source:#}")]
    Render {
        /// Template name (`<template_id>/<file>`).
        name: String,
        /// The cause.
        source: minijinja::Error,
    },
}

impl TemplateError {
    /// Bounded metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            TemplateError::Read { .. } | TemplateError::Layout { .. } | TemplateError::Parse { .. } => "template_load",
            TemplateError::Missing { .. } => "template_missing",
            TemplateError::Render { .. } => "template_render",
        }
    }
}

const PARTS: [&str; 3] = ["subject", "text", "html"];

/// The loaded templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    /// Names of the loaded templates, for lookups without rendering.
    names: BTreeSet<String>,
    fallback_locale: String,
}

impl Templates {
    /// Loads every `*.j2` under `dir/<template_id>/`; `fallback_locale` ends every fallback chain.
    pub fn load(dir: &Path, fallback_locale: &str) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let mut names = BTreeSet::new();
        for template_dir in sorted_entries(dir)? {
            if !template_dir.is_dir() {
                continue;
            }
            let template_id = file_name(&template_dir)?;
            for file in sorted_entries(&template_dir)? {
                let file_id = file_name(&file)?;
                check_file_name(&file, &file_id)?;
                let source = std::fs::read_to_string(&file).map_err(|source| TemplateError::Read {
                    path: file.clone(),
                    source,
                })?;
                let name = format!("{template_id}/{file_id}");
                env.add_template_owned(name.clone(), source)
                    .map_err(|source| TemplateError::Parse {
                        name: name.clone(),
                        source,
                    })?;
                names.insert(name);
            }
        }
        Ok(Templates {
            env,
            names,
            fallback_locale: fallback_locale.to_owned(),
        })
    }

    /// Renders `template_id` for `channel` in the first locale of the fallback chain that has it.
    pub fn render(
        &self,
        template_id: &str,
        channel: Channel,
        locale: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<Rendered, TemplateError> {
        let (source_channel, found) = self
            .resolve(template_id, channel, locale)
            .or_else(|| match channel {
                Channel::Webhook => self.resolve(template_id, Channel::Email, locale),
                _ => None,
            })
            .ok_or_else(|| TemplateError::Missing {
                template: template_id.to_owned(),
                channel,
                locale: locale.to_owned(),
            })?;
        let ctx = Value::from_pairs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let part = |part: &str| -> Result<Option<String>, TemplateError> {
            let name = format!("{template_id}/{source_channel}.{found}.{part}.j2");
            if !self.names.contains(&name) {
                return Ok(None);
            }
            self.env
                .get_template(&name)
                .and_then(|t| t.render(&ctx))
                .map(Some)
                .map_err(|source| TemplateError::Render { name, source })
        };
        let body = part("text")?.unwrap_or_default();
        Ok(Rendered {
            subject: part("subject")?.map(|s| s.trim().to_owned()),
            body,
            html: if channel == Channel::Email { part("html")? } else { None },
        })
    }

    /// The channel and locale whose `text` part renders `template_id` for `locale`.
    fn resolve(&self, template_id: &str, channel: Channel, locale: &str) -> Option<(Channel, String)> {
        locale_chain(locale, &self.fallback_locale)
            .into_iter()
            .find(|l| self.names.contains(&format!("{template_id}/{channel}.{l}.text.j2")))
            .map(|l| (channel, l))
    }
}

/// `de-DE` → `[de-DE, de, <fallback>]`, without repeats.
pub fn locale_chain(locale: &str, fallback: &str) -> Vec<String> {
    let mut chain: Vec<String> = Vec::with_capacity(3);
    let language = locale.split(['-', '_']).next().unwrap_or(locale);
    for l in [locale, language, fallback] {
        if !l.is_empty() && !chain.iter().any(|c| c == l) {
            chain.push(l.to_owned());
        }
    }
    chain
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, TemplateError> {
    let read_err = |source| TemplateError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_err)?;
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> Result<String, TemplateError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| TemplateError::Layout {
            path: path.to_path_buf(),
            reason: "the name is not UTF-8".into(),
        })
}

fn check_file_name(path: &Path, name: &str) -> Result<(), TemplateError> {
    let layout = |reason: String| TemplateError::Layout {
        path: path.to_path_buf(),
        reason,
    };
    let parts: Vec<&str> = name.split('.').collect();
    let [channel, locale, part, "j2"] = parts[..] else {
        return Err(layout("expected <channel>.<locale>.<part>.j2".into()));
    };
    channel.parse::<Channel>().map_err(|e| layout(e.to_string()))?;
    if locale.is_empty() {
        return Err(layout("empty locale".into()));
    }
    if !PARTS.contains(&part) {
        return Err(layout(format!("unknown part {part:?}: expected subject, text or html")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_goes_from_region_to_language_to_fallback() {
        assert_eq!(locale_chain("de-DE", "en"), ["de-DE", "de", "en"]);
        assert_eq!(locale_chain("en", "en"), ["en"]);
        assert_eq!(locale_chain("fr_CA", "en"), ["fr_CA", "fr", "en"]);
    }
}
