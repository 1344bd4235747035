//! The registry's whole state and the operations on it, free of I/O and locking.
//!
//! This is exactly what is persisted: schemas by global id, subjects with their versions, and
//! the compatibility configuration. Every operation validates its input and answers with the
//! Confluent error for the case, so `api` only translates HTTP to these calls.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::{avro::ParsedSchema, compat, compat::CompatibilityLevel, error::ApiError};

/// Version of the state file layout; bump it on an incompatible change.
const FORMAT: u32 = 1;

/// Everything the registry knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    format: u32,
    /// The id the next new schema gets; ids are never reused, even after a permanent delete.
    next_id: u32,
    /// Global compatibility level, for subjects without their own.
    compatibility: CompatibilityLevel,
    schemas: BTreeMap<u32, StoredSchema>,
    subjects: BTreeMap<String, Subject>,
    /// Identity key (see `avro`) to global id; rebuilt on load, not persisted.
    #[serde(skip)]
    ids_by_key: HashMap<String, u32>,
}

/// One schema, as first registered under its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredSchema {
    pub(crate) schema: String,
}

/// One subject: its versions (oldest first) and optional own compatibility level.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Subject {
    versions: Vec<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compatibility: Option<CompatibilityLevel>,
}

/// One version of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Version {
    pub(crate) version: u32,
    pub(crate) id: u32,
    /// Soft-deleted: hidden unless a request asks for `deleted=true`.
    #[serde(default)]
    pub(crate) deleted: bool,
}

/// Which version a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionSelector {
    Latest,
    Number(u32),
}

impl VersionSelector {
    /// `latest`, `-1` (Confluent's alias for latest) or a number in `1..=2^31-1`.
    pub(crate) fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw == "latest" || raw == "-1" {
            return Ok(Self::Latest);
        }
        match raw.parse::<u32>() {
            Ok(n) if n >= 1 && i32::try_from(n).is_ok() => Ok(Self::Number(n)),
            _ => Err(ApiError::invalid_version(raw)),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        Self {
            format: FORMAT,
            next_id: 1,
            compatibility: CompatibilityLevel::default(),
            schemas: BTreeMap::new(),
            subjects: BTreeMap::new(),
            ids_by_key: HashMap::new(),
        }
    }
}

impl State {
    /// Reads a persisted state and checks that it is consistent; the error is the reason.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let mut state: State = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if state.format != FORMAT {
            return Err(format!(
                "unsupported format {} (this build reads {FORMAT})",
                state.format
            ));
        }
        for (id, stored) in &state.schemas {
            let parsed = crate::avro::parse(&stored.schema).map_err(|e| format!("schema id {id} is invalid: {e}"))?;
            // The first id wins if two stored schemas share a key, like at registration.
            state.ids_by_key.entry(parsed.key).or_insert(*id);
            if *id >= state.next_id {
                return Err(format!("schema id {id} is not below next_id {}", state.next_id));
            }
        }
        for (name, subject) in &state.subjects {
            for v in &subject.versions {
                if !state.schemas.contains_key(&v.id) {
                    return Err(format!(
                        "subject {name} version {} points to unknown schema id {}",
                        v.version, v.id
                    ));
                }
            }
        }
        Ok(state)
    }

    /// Registers `parsed` (submitted as `text`) under `subject`; returns the id and whether the
    /// state changed. An identical live version returns its id; an identical schema elsewhere
    /// reuses that global id.
    pub(crate) fn register(
        &mut self,
        subject: &str,
        parsed: &ParsedSchema,
        text: &str,
    ) -> Result<(u32, bool), ApiError> {
        let existing_id = self.ids_by_key.get(&parsed.key).copied();
        let entry = self.subjects.get(subject);
        let live: Vec<Version> = entry
            .map(|s| s.versions.iter().filter(|v| !v.deleted).copied().collect())
            .unwrap_or_default();
        if let Some(id) = existing_id
            && live.iter().any(|v| v.id == id)
        {
            return Ok((id, false));
        }
        let level = self.level_for(subject);
        let targets: &[Version] = match live.last() {
            Some(_) if level.is_transitive() => &live,
            Some(_) => &live[live.len() - 1..],
            None => &[],
        };
        let messages = self.check_against(level, parsed, targets)?;
        if !messages.is_empty() {
            return Err(ApiError::incompatible(subject, &messages));
        }
        let id = match existing_id {
            Some(id) => id,
            None => {
                let id = self.next_id;
                self.next_id = id
                    .checked_add(1)
                    .ok_or_else(|| ApiError::store("schema ids exhausted"))?;
                self.schemas.insert(
                    id,
                    StoredSchema {
                        schema: text.to_owned(),
                    },
                );
                self.ids_by_key.insert(parsed.key.clone(), id);
                id
            }
        };
        let subject_entry = self.subjects.entry(subject.to_owned()).or_default();
        // Versions keep counting past soft-deleted ones, like Confluent.
        let version = subject_entry.versions.last().map_or(1, |v| v.version.saturating_add(1));
        subject_entry.versions.push(Version {
            version,
            id,
            deleted: false,
        });
        Ok((id, true))
    }

    /// Finds the version of `subject` whose schema is `parsed`.
    pub(crate) fn lookup(
        &self,
        subject: &str,
        parsed: &ParsedSchema,
        include_deleted: bool,
    ) -> Result<Version, ApiError> {
        let versions = self.visible_versions(subject, include_deleted)?;
        let id = self.ids_by_key.get(&parsed.key).copied();
        versions
            .iter()
            .rev()
            .find(|v| Some(v.id) == id)
            .copied()
            .ok_or_else(|| ApiError::schema_not_found("Schema"))
    }

    /// Checks `parsed` against one version (`Number`) or, for `Latest`, against what a
    /// registration would be checked against. Returns the incompatibility messages.
    pub(crate) fn check_compatibility(
        &self,
        subject: &str,
        selector: VersionSelector,
        parsed: &ParsedSchema,
    ) -> Result<Vec<String>, ApiError> {
        let level = self.level_for(subject);
        let versions = self.visible_versions(subject, false)?;
        let targets: Vec<Version> = match selector {
            VersionSelector::Latest if level.is_transitive() => versions,
            _ => vec![self.version(subject, selector, false)?],
        };
        self.check_against(level, parsed, &targets)
    }

    fn check_against(
        &self,
        level: CompatibilityLevel,
        parsed: &ParsedSchema,
        targets: &[Version],
    ) -> Result<Vec<String>, ApiError> {
        if level == CompatibilityLevel::None || targets.is_empty() {
            return Ok(Vec::new());
        }
        let mut existing = Vec::with_capacity(targets.len());
        for v in targets {
            let stored = self
                .schemas
                .get(&v.id)
                .ok_or_else(|| ApiError::store(format!("schema id {} is missing", v.id)))?;
            let old = crate::avro::parse(&stored.schema)
                .map_err(|e| ApiError::store(format!("stored schema id {}: {e}", v.id)))?;
            existing.push((v.version, old.schema));
        }
        let refs: Vec<(u32, &apache_avro::Schema)> = existing.iter().map(|(v, s)| (*v, s)).collect();
        Ok(compat::check(level, &parsed.schema, &refs))
    }

    pub(crate) fn schema(&self, id: u32) -> Option<&StoredSchema> {
        self.schemas.get(&id)
    }

    /// `(subject, version)` pairs that use schema `id`.
    pub(crate) fn usages(&self, id: u32, include_deleted: bool) -> Vec<(&str, u32)> {
        self.subjects
            .iter()
            .flat_map(|(name, s)| s.versions.iter().map(move |v| (name.as_str(), v)))
            .filter(|(_, v)| v.id == id && (include_deleted || !v.deleted))
            .map(|(name, v)| (name, v.version))
            .collect()
    }

    /// Subjects with at least one (live, unless `include_deleted`) version, sorted.
    pub(crate) fn subject_names(&self, include_deleted: bool) -> Vec<&str> {
        self.subjects
            .iter()
            .filter(|(_, s)| s.versions.iter().any(|v| include_deleted || !v.deleted))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The versions of `subject` a request may see; 40401 when there are none.
    pub(crate) fn visible_versions(&self, subject: &str, include_deleted: bool) -> Result<Vec<Version>, ApiError> {
        let versions: Vec<Version> = self
            .subjects
            .get(subject)
            .map(|s| {
                s.versions
                    .iter()
                    .filter(|v| include_deleted || !v.deleted)
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        if versions.is_empty() {
            return Err(ApiError::subject_not_found(subject));
        }
        Ok(versions)
    }

    pub(crate) fn version(
        &self,
        subject: &str,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Version, ApiError> {
        let versions = self.visible_versions(subject, include_deleted)?;
        let found = match selector {
            VersionSelector::Latest => versions.last(),
            VersionSelector::Number(n) => versions.iter().find(|v| v.version == n),
        };
        match (found, selector) {
            (Some(v), _) => Ok(*v),
            (None, VersionSelector::Number(n)) => Err(ApiError::version_not_found(n)),
            (None, VersionSelector::Latest) => Err(ApiError::subject_not_found(subject)),
        }
    }

    /// Soft-deletes every live version, or with `permanent` removes a soft-deleted subject.
    /// Returns the affected version numbers.
    pub(crate) fn delete_subject(&mut self, subject: &str, permanent: bool) -> Result<Vec<u32>, ApiError> {
        let entry = self
            .subjects
            .get_mut(subject)
            .filter(|s| !s.versions.is_empty())
            .ok_or_else(|| ApiError::subject_not_found(subject))?;
        let any_live = entry.versions.iter().any(|v| !v.deleted);
        if permanent {
            if any_live {
                return Err(ApiError::subject_not_soft_deleted(subject));
            }
            let removed = entry.versions.drain(..).map(|v| v.version).collect();
            // A subject-level compatibility setting outlives the subject's versions.
            if entry.compatibility.is_none() {
                self.subjects.remove(subject);
            }
            return Ok(removed);
        }
        if !any_live {
            return Err(ApiError::subject_soft_deleted(subject));
        }
        let mut deleted = Vec::new();
        for v in entry.versions.iter_mut().filter(|v| !v.deleted) {
            v.deleted = true;
            deleted.push(v.version);
        }
        Ok(deleted)
    }

    /// Soft-deletes one live version; returns its number.
    pub(crate) fn delete_version(&mut self, subject: &str, selector: VersionSelector) -> Result<u32, ApiError> {
        let target = self.version(subject, selector, false)?;
        let entry = self
            .subjects
            .get_mut(subject)
            .ok_or_else(|| ApiError::subject_not_found(subject))?;
        for v in entry.versions.iter_mut() {
            if v.version == target.version {
                v.deleted = true;
            }
        }
        Ok(target.version)
    }

    pub(crate) fn global_level(&self) -> CompatibilityLevel {
        self.compatibility
    }

    pub(crate) fn set_global_level(&mut self, level: CompatibilityLevel) -> bool {
        std::mem::replace(&mut self.compatibility, level) != level
    }

    /// The subject's own level, if it has one.
    pub(crate) fn subject_level(&self, subject: &str) -> Option<CompatibilityLevel> {
        self.subjects.get(subject).and_then(|s| s.compatibility)
    }

    /// The level that applies to `subject`.
    pub(crate) fn level_for(&self, subject: &str) -> CompatibilityLevel {
        self.subject_level(subject).unwrap_or(self.compatibility)
    }

    /// Sets (`Some`) or clears (`None`) the subject's own level; returns the previous one.
    pub(crate) fn set_subject_level(
        &mut self,
        subject: &str,
        level: Option<CompatibilityLevel>,
    ) -> Option<CompatibilityLevel> {
        let entry = self.subjects.entry(subject.to_owned()).or_default();
        let previous = std::mem::replace(&mut entry.compatibility, level);
        // Drop the config-only entry again so it does not linger in the state file.
        if entry.compatibility.is_none() && entry.versions.is_empty() {
            self.subjects.remove(subject);
        }
        previous
    }
}
