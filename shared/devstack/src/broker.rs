//! The nisshi broker child process and its user-administration CLI.
//!
//! Quirks of nisshi 0.7.0-pre.2 this module works around:
//! - `sqlite://` paths are resolved against the broker's *working directory* (a leading `/` is
//!   stripped), and the binary loads a `.env` file from it (`dotenv`), so the broker always runs
//!   with the stack directory as its working directory and `sqlite://broker.db`.
//! - Its clap flags also read environment variables (`LISTENER_URL`, `STORAGE_ENGINE`,
//!   `SCHEMA_REGISTRY`, `OTEL_EXPORTER_OTLP_ENDPOINT`, …); those are removed from the child's
//!   environment so a developer's shell cannot redirect the broker.
//! - Logging follows `RUST_LOG`; the child gets `NISSHI_LOG` (default `warn`) instead of
//!   inheriting a test run's `RUST_LOG=debug`, which would flood `broker.log`.

use std::{
    env,
    fs::OpenOptions,
    io::Write as _,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use tokio::{
    net::TcpStream,
    process::{Child, Command},
    time::{Instant, sleep, timeout},
};
use tracing::{info, warn};

use crate::{DevstackError, ScramMechanism, fsutil};

/// Cluster id given to the broker (any stable string).
const CLUSTER_ID: &str = "paystream-devstack";
/// Storage URL, relative to the broker's working directory (the stack dir); survives restarts.
const STORAGE_URL: &str = "sqlite://broker.db";
/// The broker's sqlite file inside the stack directory (the path in [`STORAGE_URL`]).
pub(crate) const BROKER_DB: &str = "broker.db";
/// Environment variables nisshi's CLI reads as flag defaults; never inherited.
const SCRUBBED_ENV: [&str; 9] = [
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "DATA_LAKE",
    "ICEBERG_CATALOG",
    "DELTA_DATABASE",
];
/// How often readiness of the plaintext port is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// One `nisshi user create` call must finish within this.
const USER_CREATE_TIMEOUT: Duration = Duration::from_secs(30);

/// Which of the two broker runs of a stack start this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No authentication; only used to create the SCRAM users.
    Setup,
    /// `--authentication`: SASL (SCRAM) required, advertises the TLS proxy.
    Sasl,
}

impl Phase {
    /// Lower-case name for logs and errors.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Sasl => "sasl",
        }
    }
}

/// What to start.
#[derive(Debug)]
pub(crate) struct BrokerSpec<'a> {
    pub(crate) bin: &'a Path,
    pub(crate) dir: &'a Path,
    pub(crate) log: &'a Path,
    pub(crate) listen: SocketAddr,
    pub(crate) advertised: SocketAddr,
    pub(crate) phase: Phase,
}

/// A running broker child; killed when dropped.
#[derive(Debug)]
pub(crate) struct BrokerProcess {
    child: Child,
    phase: Phase,
    listen: SocketAddr,
    log: PathBuf,
}

impl BrokerSpec<'_> {
    /// The exact argument list passed to nisshi.
    pub(crate) fn args(&self) -> Vec<String> {
        let mut args = vec![
            "broker".to_owned(),
            "--cluster-id".to_owned(),
            CLUSTER_ID.to_owned(),
            "--listener-url".to_owned(),
            format!("tcp://{}", self.listen),
            "--advertised-listener-url".to_owned(),
            format!("tcp://{}", self.advertised),
            "--storage-engine".to_owned(),
            STORAGE_URL.to_owned(),
        ];
        if self.phase == Phase::Sasl {
            args.push("--authentication".to_owned());
        }
        args
    }

    /// Spawns the broker with output appended to the log file.
    pub(crate) fn spawn(&self) -> Result<BrokerProcess, DevstackError> {
        let phase = self.phase.as_str();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log)
            .map_err(|err| DevstackError::io("open broker log", self.log, err))?;
        let args = self.args();
        writeln!(log, "---- devstack: starting nisshi ({phase}): {}", args.join(" "))
            .map_err(|err| DevstackError::io("write broker log", self.log, err))?;
        let stderr = log
            .try_clone()
            .map_err(|err| DevstackError::io("clone broker log handle", self.log, err))?;

        let mut command = Command::new(self.bin);
        command
            .args(&args)
            .current_dir(self.dir)
            .env("RUST_LOG", env::var("NISSHI_LOG").unwrap_or_else(|_| "warn".to_owned()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            // Own process group: a terminal Ctrl-C reaches devstack only, which then stops the
            // broker in order (proxy first) instead of racing it.
            .process_group(0)
            .kill_on_drop(true);
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        let child = command.spawn().map_err(|source| DevstackError::BrokerProcess {
            action: "spawn",
            phase,
            source,
        })?;
        info!(phase, listen = %self.listen, advertised = %self.advertised, pid = child.id(), "nisshi broker started");
        Ok(BrokerProcess {
            child,
            phase: self.phase,
            listen: self.listen,
            log: self.log.to_owned(),
        })
    }
}

impl BrokerProcess {
    /// The plaintext listener address.
    pub(crate) fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// Waits for the child to exit (cancel-safe; used to notice a crash).
    pub(crate) async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// The OS process id, while running.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    fn not_ready(&self, reason: String) -> DevstackError {
        DevstackError::BrokerFailed {
            phase: self.phase.as_str(),
            reason,
            log: self.log.clone(),
            tail: fsutil::tail(&self.log),
        }
    }

    /// Waits until the plaintext port accepts TCP connections, failing early if the child exits.
    pub(crate) async fn wait_listening(&mut self, limit: Duration) -> Result<(), DevstackError> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Err(self.not_ready(format!("exited with {status}"))),
                Ok(None) => {}
                Err(source) => {
                    return Err(DevstackError::BrokerProcess {
                        action: "poll",
                        phase: self.phase.as_str(),
                        source,
                    });
                }
            }
            if let Ok(Ok(_stream)) = timeout(POLL_INTERVAL * 5, TcpStream::connect(self.listen)).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.not_ready(format!("did not listen on {} within {limit:?}", self.listen)));
            }
            sleep(POLL_INTERVAL).await;
        }
    }

    /// Sends SIGTERM, waits up to `grace`, then kills. Returns the exit status.
    pub(crate) async fn terminate(mut self, grace: Duration) -> Result<ExitStatus, DevstackError> {
        let phase = self.phase.as_str();
        let io_err = |action: &'static str| move |source| DevstackError::BrokerProcess { action, phase, source };
        if let Some(status) = self.child.try_wait().map_err(io_err("poll"))? {
            warn!(phase, %status, "nisshi broker had already exited");
            return Ok(status);
        }
        if let Some(pid) = self.child.id().and_then(|pid| i32::try_from(pid).ok())
            && let Err(errno) = kill(Pid::from_raw(pid), Signal::SIGTERM)
        {
            warn!(phase, pid, %errno, "sigterm to nisshi broker failed");
        }
        match timeout(grace, self.child.wait()).await {
            Ok(status) => {
                let status = status.map_err(io_err("wait for"))?;
                info!(phase, %status, "nisshi broker stopped");
                Ok(status)
            }
            Err(_) => {
                warn!(phase, ?grace, "nisshi broker ignored sigterm, killing it");
                self.child.kill().await.map_err(io_err("kill"))?;
                self.child.wait().await.map_err(io_err("wait for"))
            }
        }
    }
}

/// Creates (or replaces) a SCRAM credential with `nisshi user create` against a broker that runs
/// *without* `--authentication` (the CLI cannot authenticate).
///
/// The password is passed on the command line because that is the only way the CLI takes it;
/// this is acceptable for a loopback-only development broker with random throw-away passwords.
/// The CLI does not check the per-user result of the request, so success here is confirmed later
/// by a real SCRAM login.
pub(crate) async fn create_scram_user(
    bin: &Path,
    dir: &Path,
    broker: SocketAddr,
    user: &str,
    password: &str,
    mechanism: ScramMechanism,
) -> Result<(), DevstackError> {
    let fail = |reason: String| DevstackError::UserCreate {
        user: user.to_owned(),
        mechanism: mechanism.nisshi_flag(),
        broker,
        reason,
    };
    let mut command = Command::new(bin);
    command
        .args(["user", "create", user, password, "--mechanism"])
        .arg(mechanism.nisshi_flag())
        .arg("--broker")
        .arg(format!("tcp://{broker}"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = timeout(USER_CREATE_TIMEOUT, command.output())
        .await
        .map_err(|_| fail(format!("no answer within {USER_CREATE_TIMEOUT:?}")))?
        .map_err(|err| fail(format!("spawn: {err}")))?;
    if !output.status.success() {
        return Err(fail(format!(
            "{}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    info!(user, mechanism = mechanism.kafka_name(), "scram user created");
    Ok(())
}

/// Finds the nisshi binary: `NISSHI_BIN`, then `nisshi` on `PATH`, then `$CARGO_HOME/bin`,
/// then `~/.cargo/bin`. Returns the last candidate when none exists (the start then fails with
/// an install hint naming it).
pub fn default_nisshi_bin() -> PathBuf {
    if let Some(bin) = env::var_os("NISSHI_BIN") {
        return PathBuf::from(bin);
    }
    let on_path = env::var_os("PATH")
        .map(|path| {
            env::split_paths(&path)
                .map(|dir| dir.join("nisshi"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cargo_home = env::var_os("CARGO_HOME").map(|home| PathBuf::from(home).join("bin/nisshi"));
    let home = env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin/nisshi"));
    let candidates: Vec<PathBuf> = on_path.into_iter().chain(cargo_home).chain(home).collect();
    candidates
        .iter()
        .find(|candidate| candidate.is_file())
        .or(candidates.last())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("nisshi"))
}
