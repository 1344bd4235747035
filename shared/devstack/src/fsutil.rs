//! Small filesystem helpers: the state directory, secret files (mode 0600) and log tails.

use std::{
    fs,
    io::Write as _,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use crate::DevstackError;

/// How many log lines error messages carry.
pub(crate) const LOG_TAIL_LINES: usize = 40;

/// Removes `dir` if it exists and creates it again, empty; returns its absolute path.
pub(crate) fn recreate_dir(dir: &Path) -> Result<PathBuf, DevstackError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(DevstackError::io("remove stack directory", dir, err)),
    }
    fs::create_dir_all(dir).map_err(|err| DevstackError::io("create stack directory", dir, err))?;
    fs::canonicalize(dir).map_err(|err| DevstackError::io("resolve stack directory", dir, err))
}

fn write_with_mode(path: &Path, contents: &[u8], mode: u32) -> Result<(), DevstackError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|err| DevstackError::io("create file", path, err))?;
    file.write_all(contents)
        .and_then(|()| file.flush())
        .map_err(|err| DevstackError::io("write file", path, err))
}

/// Writes a file readable by everyone (certificates, the env file).
pub(crate) fn write_public(path: &Path, contents: &[u8]) -> Result<(), DevstackError> {
    write_with_mode(path, contents, 0o644)
}

/// Writes a file only the owner can read (passwords, private keys); created 0600, never wider.
pub(crate) fn write_secret(path: &Path, contents: &[u8]) -> Result<(), DevstackError> {
    write_with_mode(path, contents, 0o600)
}

/// The last [`LOG_TAIL_LINES`] lines of a text file, or a note saying why there are none.
pub(crate) fn tail(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(LOG_TAIL_LINES);
            lines[start..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn secrets_are_written_owner_only() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("devstack-fsutil-{}", std::process::id()));
        let dir = recreate_dir(&dir)?;
        let path = dir.join("secret");
        write_secret(&path, b"hunter2")?;
        let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read(&path)?, b"hunter2");
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn tail_keeps_only_the_last_lines() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("devstack-tail-{}", std::process::id()));
        let dir = recreate_dir(&dir)?;
        let path = dir.join("log");
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        write_public(&path, text.as_bytes())?;
        let tail = tail(&path);
        assert_eq!(tail.lines().count(), LOG_TAIL_LINES);
        assert!(tail.ends_with("line 99"));
        fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
