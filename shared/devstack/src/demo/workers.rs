//! The demo's worker processes: every worker binary found in `--bin-dir`, started with the stack
//! environment plus local-run settings, its output in `DIR/<worker>.log`, in a process group of
//! its own (so a terminal's Ctrl-C reaches only `devstack`, which then stops them in order), and
//! stopped with SIGTERM, then SIGKILL after a grace period.

use std::{
    fs::File,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use tokio::{
    process::{Child, Command},
    time::timeout,
};
use tracing::{info, warn};

use crate::{DevstackError, ports::LOOPBACK};

/// Every paystream worker, in start order.
pub const WORKER_NAMES: [&str; 4] = ["payments", "ledger", "notifications", "audit"];

/// Settings every demo worker gets on top of the stack environment.
const WORKER_ENV: [(&str, &str); 4] = [
    // The demo owns a fresh broker: let each worker create its outputs, DLQ and changelog.
    ("KAFKA_CREATE_TOPICS", "true"),
    // One broker, so one replica.
    ("KAFKA_TOPIC_REPLICATION_FACTOR", "1"),
    // A group join on the local broker waits a fraction of this; keep start-up quick.
    ("KAFKA_MAX_POLL_INTERVAL_MS", "10000"),
    ("LOG_LEVEL", "info"),
];

/// Worker-specific local-run settings: the notifications worker reads its templates, rules and
/// recipients from the source tree (a container image has them under `/etc/paystream`). No
/// provider is configured, so the sample accounts' deliveries are counted as skipped.
fn worker_env(name: &str) -> Vec<(&'static str, String)> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workers/notifications");
    match name {
        "notifications" => vec![
            ("NOTIFY_TEMPLATES_DIR", source.join("templates").display().to_string()),
            (
                "NOTIFY_RULES_FILE",
                source.join("config/rules.yaml").display().to_string(),
            ),
            (
                "NOTIFY_RECIPIENTS_FILE",
                source.join("config/recipients.yaml").display().to_string(),
            ),
        ],
        _ => Vec::new(),
    }
}

/// A worker to start: its name, binary and metrics port.
#[derive(Debug, Clone)]
pub struct WorkerPlan {
    /// Worker name (`payments`, …).
    pub name: &'static str,
    /// The binary.
    pub bin: PathBuf,
    /// `127.0.0.1:<port>` of its health and metrics port.
    pub http: SocketAddr,
}

/// The workers whose binaries exist in `bin_dir`, and the names of those that do not.
pub(crate) fn plan(bin_dir: &Path, port_of: impl Fn(&str) -> u16) -> (Vec<WorkerPlan>, Vec<&'static str>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in WORKER_NAMES {
        let bin = bin_dir.join(name);
        if bin.is_file() {
            found.push(WorkerPlan {
                name,
                bin,
                http: SocketAddr::from((LOOPBACK, port_of(name))),
            });
        } else {
            missing.push(name);
        }
    }
    (found, missing)
}

/// The flag that sets a worker's port.
fn port_flag(name: &str) -> &'static str {
    match name {
        "payments" => "--payments-port",
        "ledger" => "--ledger-port",
        "notifications" => "--notifications-port",
        "audit" => "--audit-port",
        _ => "--<worker>-port",
    }
}

/// Fails early, with the flag to change, when a worker's port is taken.
pub(crate) fn check_port_free(plan: &WorkerPlan) -> Result<(), DevstackError> {
    TcpListener::bind(plan.http)
        .map(drop)
        .map_err(|err| DevstackError::Invalid {
            what: port_flag(plan.name),
            value: plan.http.port().to_string(),
            reason: format!("cannot bind {} for the {} worker: {err}", plan.http, plan.name),
        })
}

/// A running worker.
#[derive(Debug)]
pub(crate) struct WorkerProcess {
    pub(crate) name: &'static str,
    pub(crate) http: SocketAddr,
    pub(crate) log: PathBuf,
    child: Child,
    exited: Option<ExitStatus>,
}

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Exited by itself (before or after SIGTERM) with this status.
    Exited(String, Option<i32>),
    /// Ignored SIGTERM for the whole grace period and was killed.
    Killed(Duration),
    /// Could not be awaited.
    Unknown(String),
}

fn describe(status: ExitStatus) -> (String, Option<i32>) {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => (format!("exit code {code}"), Some(code)),
        (None, Some(signal)) => (format!("killed by signal {signal}"), None),
        (None, None) => (status.to_string(), None),
    }
}

impl Ended {
    /// Whether this counts as a clean stop (exit code 0).
    pub(crate) fn is_clean(&self) -> bool {
        matches!(self, Ended::Exited(_, Some(0)))
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(text, _) => f.write_str(text),
            Ended::Killed(grace) => write!(f, "killed after ignoring SIGTERM for {grace:?}"),
            Ended::Unknown(reason) => write!(f, "unknown ({reason})"),
        }
    }
}

impl WorkerProcess {
    /// Starts `plan.bin` with `env` plus the demo settings; output goes to `dir/<name>.log`.
    pub(crate) fn spawn(plan: &WorkerPlan, env: &[(String, String)], dir: &Path) -> Result<Self, DevstackError> {
        let log = dir.join(format!("{}.log", plan.name));
        let stdout = File::create(&log).map_err(|err| DevstackError::io("create worker log", &log, err))?;
        let stderr = stdout
            .try_clone()
            .map_err(|err| DevstackError::io("open worker log", &log, err))?;
        let child = Command::new(&plan.bin)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(WORKER_ENV)
            .envs(worker_env(plan.name))
            .env("HTTP_BIND", plan.http.to_string())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Ctrl-C in a terminal signals the whole foreground group; the demo stops workers
            // itself, after the producer, so they must not get it directly.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| DevstackError::Worker {
                action: "spawn",
                worker: plan.name.to_owned(),
                source,
            })?;
        info!(worker = plan.name, pid = child.id(), http = %plan.http, log = %log.display(), "worker started");
        Ok(Self {
            name: plan.name,
            http: plan.http,
            log,
            child,
            exited: None,
        })
    }

    /// How it ended, if it already did (checked without waiting).
    pub(crate) fn exit_status(&mut self) -> Option<(String, Option<i32>)> {
        if self.exited.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exited = Some(status);
        }
        self.exited.map(describe)
    }

    /// SIGTERM, then waits up to `grace` before SIGKILL.
    pub(crate) async fn stop(mut self, grace: Duration) -> (&'static str, Ended) {
        if let Some((text, code)) = self.exit_status() {
            return (self.name, Ended::Exited(text, code));
        }
        if let Some(pid) = self.child.id().and_then(|pid| i32::try_from(pid).ok()) {
            // Already gone between the check and here: `wait` below reports it.
            let _ignored = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let ended = match timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => {
                let (text, code) = describe(status);
                Ended::Exited(text, code)
            }
            Ok(Err(err)) => Ended::Unknown(err.to_string()),
            Err(_) => {
                warn!(worker = self.name, ?grace, "worker ignored SIGTERM, killing it");
                match self.child.kill().await {
                    Ok(()) => Ended::Killed(grace),
                    Err(err) => Ended::Unknown(err.to_string()),
                }
            }
        };
        info!(worker = self.name, ended = %ended, "worker stopped");
        (self.name, ended)
    }
}
