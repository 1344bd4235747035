//! The shared, persisted state: a [`State`] behind a lock, saved to one JSON file.
//!
//! Every change is applied to a copy, written atomically (temp file, fsync, rename, fsync of
//! the directory) and only then made visible, all under the write lock. So the file always
//! holds a complete state, readers never see a change that failed to persist, and ids stay
//! monotonic across restarts.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use tokio::sync::{RwLock, RwLockReadGuard};

use crate::{
    error::{ApiError, RegistryError},
    state::State,
};

/// The registry state and the file it lives in.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    state: RwLock<State>,
}

impl Store {
    /// Loads `path`, or starts empty when it does not exist (or is empty).
    pub(crate) async fn open(path: PathBuf) -> Result<Self, RegistryError> {
        let state = match tokio::fs::read(&path).await {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => State::default(),
            Ok(bytes) => State::from_json(&bytes).map_err(|reason| RegistryError::CorruptState {
                path: path.clone(),
                reason,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(source) => return Err(RegistryError::ReadState { path, source }),
        };
        Ok(Self {
            path,
            state: RwLock::new(state),
        })
    }

    /// Shared read access.
    pub(crate) async fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().await
    }

    /// Applies `change` to a copy of the state; when it reports a change (`true`), persists the
    /// copy and only then makes it visible. An error from `change` leaves everything untouched.
    pub(crate) async fn update<T>(
        &self,
        change: impl FnOnce(&mut State) -> Result<(T, bool), ApiError>,
    ) -> Result<T, ApiError> {
        let mut guard = self.state.write().await;
        let mut next = guard.clone();
        let (value, changed) = change(&mut next)?;
        if changed {
            let bytes = serde_json::to_vec_pretty(&next).map_err(ApiError::store)?;
            let path = self.path.clone();
            tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
                .await
                .map_err(ApiError::store)?
                .map_err(|e| {
                    tracing::error!(error = %e, "registry state could not be saved");
                    ApiError::store(&e)
                })?;
            *guard = next;
        }
        Ok(value)
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let fail = |source| RegistryError::WriteState {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let mut file = std::fs::File::create(&tmp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(fail)?;
    // Make the rename itself durable.
    std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_file_starts_empty_and_a_change_creates_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/state.json");
        let store = Store::open(path.clone()).await.expect("open");
        assert!(store.read().await.subject_names(true).is_empty());
        store
            .update(|s| Ok(((), s.set_global_level(crate::compat::CompatibilityLevel::Full))))
            .await
            .expect("update");
        let reopened = Store::open(path).await.expect("reopen");
        assert_eq!(
            reopened.read().await.global_level(),
            crate::compat::CompatibilityLevel::Full
        );
    }

    #[tokio::test]
    async fn a_corrupt_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, b"{not json").expect("write");
        let err = Store::open(path).await.expect_err("corrupt");
        assert_eq!(err.metric_label(), "corrupt_state");
        assert!(err.to_string().contains("state.json"), "{err}");
    }

    #[tokio::test]
    async fn a_failed_change_leaves_state_and_file_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let store = Store::open(path.clone()).await.expect("open");
        let result: Result<(), ApiError> = store
            .update(|s| {
                s.set_global_level(crate::compat::CompatibilityLevel::None);
                Err(ApiError::route_not_found())
            })
            .await;
        assert!(result.is_err());
        assert_eq!(
            store.read().await.global_level(),
            crate::compat::CompatibilityLevel::Backward
        );
        assert!(!path.exists());
    }
}
