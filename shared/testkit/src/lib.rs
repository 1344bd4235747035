//! Test support for integration tests against the real local stack (`make test` starts one broker,
//! TLS terminator and schema registry per run and exports their settings). Every test makes its
//! own topics and consumer group with [`unique`], so tests share the broker but nothing else.

pub mod env;
pub mod kafka;
pub mod worker;

pub use env::StackEnv;
pub use kafka::{Collector, Record};
pub use worker::Worker;

/// A name nobody else uses in this broker, e.g. `unique("pay")` → `pay-3f2a…`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Path of another workspace binary built next to the running test (`cargo build --workspace`
/// puts every binary in the same target directory as the test executables' `deps/`). For tests
/// that run two workers together, where `CARGO_BIN_EXE_*` only knows the test's own package.
pub fn workspace_binary(name: &str) -> String {
    let exe = std::env::current_exe().expect("path of the running test");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("test executable lives in <target>/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (make test runs cargo build --workspace)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}
