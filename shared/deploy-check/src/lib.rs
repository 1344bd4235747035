//! Deployment checks for paystream: evaluates the OPA policies in `policies/` (Rego v1, with the
//! `regorus` interpreter, since no `opa` binary is available here) over Kubernetes manifests.
//!
//! Two jobs, both driven by `tests/policies.rs` and by the `deploy-check` binary:
//! - run every `*_test.rego` file's `test_*` rules, which must all evaluate to `true`;
//! - evaluate every policy's `deny` set over one manifest set (all objects of one rendered chart,
//!   given to the policies as `input.objects`) and report the messages.
//!
//! The rendered manifest sets are written by `shared/deploy-check/lint-deploy.sh`
//! (`target/deploy-rendered/*.yaml`); `k8s/` is the committed production render.

mod error;
mod manifests;
mod policy;

pub use error::Error;
pub use manifests::{ManifestSet, load_manifest_dir, load_manifest_file};
pub use policy::{Denial, PolicySet, TestOutcome};

/// The repository root: two levels above this crate (`shared/deploy-check`).
pub fn repo_root() -> std::path::PathBuf {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .map_or_else(|| crate_dir.to_path_buf(), std::path::Path::to_path_buf)
}
