//! `devstack exec` runs a command with the stack environment and passes its exit code on
//! (this is how `make test` gives a whole test run one broker).

use std::{error::Error, path::PathBuf, process::Stdio, time::Duration};

use tokio::{process::Command, time::timeout};

#[tokio::test]
async fn exec_passes_the_environment_and_the_exit_code_through() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("exec");
    // The script checks the variables a worker needs and that the env file was written.
    let script = r#"
        for v in KAFKA_BOOTSTRAP_SERVERS KAFKA_SECURITY_PROTOCOL KAFKA_SASL_MECHANISM KAFKA_USERNAME \
                 KAFKA_PASSWORD_FILE KAFKA_CA_FILE SCHEMA_REGISTRY_URL PAYSTREAM_STACK_DIR; do
            eval "test -n \"\${$v}\"" || { echo "missing $v" >&2; exit 90; }
        done
        test -s "$KAFKA_PASSWORD_FILE" || exit 91
        test -s "$PAYSTREAM_STACK_DIR/env" || exit 92
        exit 7
    "#;
    let mut command = Command::new(env!("CARGO_BIN_EXE_devstack"));
    command
        .arg("exec")
        .arg("--dir")
        .arg(&dir)
        .args(["--", "sh", "-c", script])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let status = timeout(Duration::from_secs(150), command.status()).await??;
    assert_eq!(status.code(), Some(7), "devstack exec: {status}");
    Ok(())
}
