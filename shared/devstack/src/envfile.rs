//! The `DIR/env` file: `export K='V'` lines a shell can `source`.

use std::path::Path;

use crate::{DevstackError, fsutil};

/// Single-quotes `value` for POSIX shells (`'` becomes `'\''`).
pub(crate) fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Renders the variables as `export K='V'` lines.
pub(crate) fn render(vars: &[(String, String)]) -> String {
    vars.iter()
        .map(|(key, value)| format!("export {key}={}\n", shell_quote(value)))
        .collect()
}

/// Writes the rendered variables to `path`. The file holds paths, never secrets.
pub(crate) fn write(path: &Path, vars: &[(String, String)]) -> Result<(), DevstackError> {
    fsutil::write_public(path, render(vars).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_single_quoted_and_quotes_escaped() {
        let vars = vec![
            ("A".to_owned(), "127.0.0.1:9092".to_owned()),
            ("B".to_owned(), "it's".to_owned()),
        ];
        assert_eq!(render(&vars), "export A='127.0.0.1:9092'\nexport B='it'\\''s'\n");
    }
}
