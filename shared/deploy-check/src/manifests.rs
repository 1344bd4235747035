//! Loads Kubernetes manifests (multi-document YAML) into JSON values, the shape the policies see.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// The objects of one manifest set (one rendered values file, or one folder) and where they came from.
#[derive(Debug, Clone)]
pub struct ManifestSet {
    /// Where the objects were read from (a file or a folder), for messages.
    pub origin: PathBuf,
    /// Every non-empty YAML document, in file order.
    pub objects: Vec<serde_json::Value>,
}

impl ManifestSet {
    /// The policy input: `{"objects": [...]}`.
    pub fn to_input(&self) -> serde_json::Value {
        serde_json::json!({ "objects": self.objects })
    }
}

/// Reads every non-empty document of one YAML file.
pub fn load_manifest_file(path: &Path) -> Result<ManifestSet, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut objects = Vec::new();
    for document in yaml_serde::Deserializer::from_str(&text) {
        let value = serde_json::Value::deserialize(document).map_err(|err| Error::Manifest {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(ManifestSet {
        origin: path.to_path_buf(),
        objects,
    })
}

/// Reads every `*.yaml` file of a folder (not recursively, sorted by name) into one set.
pub fn load_manifest_dir(dir: &Path) -> Result<ManifestSet, Error> {
    let mut objects = Vec::new();
    for path in yaml_files(dir)? {
        objects.extend(load_manifest_file(&path)?.objects);
    }
    Ok(ManifestSet {
        origin: dir.to_path_buf(),
        objects,
    })
}

/// The `*.yaml` files of a folder, sorted by name.
pub(crate) fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read_err = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_documents_are_skipped_and_order_is_kept() {
        let dir = std::env::temp_dir().join(format!("deploy-check-manifests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("a.yaml");
        std::fs::write(&file, "---\n# only a comment\n---\nkind: A\n---\nkind: B\n").expect("write");
        let set = load_manifest_file(&file).expect("load");
        let kinds: Vec<_> = set.objects.iter().map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds, vec![Some("A"), Some("B")]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn invalid_yaml_names_the_file() {
        let dir = std::env::temp_dir().join(format!("deploy-check-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("bad.yaml");
        std::fs::write(&file, "kind: [unclosed\n").expect("write");
        let err = load_manifest_file(&file).expect_err("must fail");
        assert_eq!(err.kind(), "manifest");
        assert!(err.to_string().contains("bad.yaml"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
