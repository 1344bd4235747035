//! `devstack exec`: run one command with the stack's environment while the stack is up.
//!
//! The command inherits stdin/stdout/stderr and gets [`Stack::env`] added to its environment.
//! When `shutdown` fires (SIGINT/SIGTERM) the command gets SIGTERM, then SIGKILL after a grace
//! period. If the stack dies while the command runs, an error is logged and the command is left to
//! finish (its tests will report the failure with more context).

use std::{ffi::OsString, process::ExitStatus, time::Duration};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use tokio::{process::Command, time::timeout};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::{DevstackError, Stack};

/// After SIGTERM the command has this long before it is killed.
const COMMAND_STOP_GRACE: Duration = Duration::from_secs(10);

/// Runs `program args…` with the stack environment; returns the exit code to pass on
/// (`128 + signal` when the command was killed by a signal, as shells do).
pub async fn run(
    stack: &mut Stack,
    program: &OsString,
    args: &[OsString],
    shutdown: CancellationToken,
) -> Result<i32, DevstackError> {
    let spawn_err = |source| DevstackError::Io {
        action: "run command",
        path: program.into(),
        source,
    };
    let mut child = Command::new(program)
        .args(args)
        .envs(stack.env())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_err)?;
    info!(program = %program.to_string_lossy(), pid = child.id(), "command started");
    let mut watching_stack = true;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(spawn_err)?,
            () = shutdown.cancelled() => {
                warn!("stop requested, terminating command");
                if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
                    let _ignored = kill(Pid::from_raw(pid), Signal::SIGTERM);
                }
                match timeout(COMMAND_STOP_GRACE, child.wait()).await {
                    Ok(status) => break status.map_err(spawn_err)?,
                    Err(_) => {
                        warn!(grace = ?COMMAND_STOP_GRACE, "command ignored sigterm, killing it");
                        child.kill().await.map_err(spawn_err)?;
                        break child.wait().await.map_err(spawn_err)?;
                    }
                }
            }
            failure = stack.failure(), if watching_stack => {
                error!(error = %failure, "devstack failed while the command was running");
                watching_stack = false;
            }
        }
    };
    Ok(exit_code(status))
}

/// The shell convention for an exit status.
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1)
}
