//! Compatibility levels and the check a new schema must pass before it becomes a new version.
//!
//! Directions follow Confluent: BACKWARD means the new schema, as reader, can read data written
//! with the existing one; FORWARD means the existing schema can read data written with the new
//! one; FULL is both. The `_TRANSITIVE` variants check every live version instead of only the
//! latest. apache-avro reports `Compatibility::Partial` when only some values resolve (a union
//! branch or enum symbol the reader lacks); Confluent rejects those, so this does too.

use std::{fmt, str::FromStr};

use apache_avro::{
    Schema,
    schema_compatibility::{Compatibility, SchemaCompatibility},
};
use serde::{Deserialize, Serialize};

/// A subject's (or the global) compatibility level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum CompatibilityLevel {
    None,
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl CompatibilityLevel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether every live version is checked, not only the latest.
    pub(crate) fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    fn backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = ();

    /// Case-insensitive, like Confluent.
    fn from_str(s: &str) -> Result<Self, ()> {
        let all = [
            Self::None,
            Self::Backward,
            Self::BackwardTransitive,
            Self::Forward,
            Self::ForwardTransitive,
            Self::Full,
            Self::FullTransitive,
        ];
        all.into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(())
    }
}

/// Checks `new` against each `(version, schema)` in `existing` under `level`.
///
/// Returns one message per failed direction and version; empty means compatible. The caller
/// chooses `existing` (the latest live version, or all of them for a transitive level).
pub(crate) fn check(level: CompatibilityLevel, new: &Schema, existing: &[(u32, &Schema)]) -> Vec<String> {
    let mut messages = Vec::new();
    for &(version, old) in existing {
        if level.backward()
            && let Some(reason) = cannot_read(old, new)
        {
            messages.push(format!(
                "new schema cannot read data written with version {version} \
                 (BACKWARD): {reason}"
            ));
        }
        if level.forward()
            && let Some(reason) = cannot_read(new, old)
        {
            messages.push(format!(
                "version {version} cannot read data written with the new schema \
                 (FORWARD): {reason}"
            ));
        }
    }
    messages
}

/// `None` when `reader` can read everything written with `writer`, else the reason.
fn cannot_read(writer: &Schema, reader: &Schema) -> Option<String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Compatibility::Full) => None,
        Ok(Compatibility::Partial) => Some(
            "only partially compatible: some written values (a union branch or enum symbol) \
             have no match in the reader"
                .to_owned(),
        ),
        Err(e) => Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> Schema {
        Schema::parse_str(text).expect("valid test schema")
    }

    fn v1() -> Schema {
        schema(r#"{"type":"record","name":"P","fields":[{"name":"a","type":"long"}]}"#)
    }

    fn with_optional_b() -> Schema {
        schema(
            r#"{"type":"record","name":"P","fields":[{"name":"a","type":"long"},
                {"name":"b","type":["null","string"],"default":null}]}"#,
        )
    }

    fn with_required_b() -> Schema {
        schema(
            r#"{"type":"record","name":"P","fields":[{"name":"a","type":"long"},
                {"name":"b","type":"string"}]}"#,
        )
    }

    #[test]
    fn adding_a_field_with_default_is_backward_and_forward_compatible() {
        let old = v1();
        for level in [
            CompatibilityLevel::Backward,
            CompatibilityLevel::Forward,
            CompatibilityLevel::Full,
        ] {
            assert!(check(level, &with_optional_b(), &[(1, &old)]).is_empty());
        }
    }

    #[test]
    fn adding_a_required_field_breaks_backward_but_not_forward() {
        let old = v1();
        let messages = check(CompatibilityLevel::Backward, &with_required_b(), &[(1, &old)]);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("version 1"), "{messages:?}");
        assert!(check(CompatibilityLevel::Forward, &with_required_b(), &[(1, &old)]).is_empty());
        assert_eq!(
            check(CompatibilityLevel::Full, &with_required_b(), &[(1, &old)]).len(),
            1
        );
    }

    #[test]
    fn removing_a_field_without_default_breaks_forward() {
        let old = with_required_b();
        assert!(check(CompatibilityLevel::Backward, &v1(), &[(1, &old)]).is_empty());
        assert_eq!(check(CompatibilityLevel::Forward, &v1(), &[(1, &old)]).len(), 1);
    }

    #[test]
    fn a_changed_type_is_incompatible_and_none_accepts_anything() {
        let old = v1();
        let string_a = schema(r#"{"type":"record","name":"P","fields":[{"name":"a","type":"string"}]}"#);
        assert!(!check(CompatibilityLevel::Backward, &string_a, &[(1, &old)]).is_empty());
        assert!(check(CompatibilityLevel::None, &string_a, &[(1, &old)]).is_empty());
    }

    #[test]
    fn a_dropped_enum_symbol_is_not_backward_compatible() {
        let old = schema(r#"{"type":"enum","name":"E","symbols":["A","B"]}"#);
        let new = schema(r#"{"type":"enum","name":"E","symbols":["A"]}"#);
        assert!(!check(CompatibilityLevel::Backward, &new, &[(1, &old)]).is_empty());
    }

    #[test]
    fn levels_parse_case_insensitively_and_print_upper_case() {
        assert_eq!(
            "full_transitive".parse::<CompatibilityLevel>(),
            Ok(CompatibilityLevel::FullTransitive)
        );
        assert_eq!(CompatibilityLevel::Backward.to_string(), "BACKWARD");
        assert!("sideways".parse::<CompatibilityLevel>().is_err());
    }
}
