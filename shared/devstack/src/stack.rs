//! The whole development stack: broker, TLS proxy, SCRAM users and schema registry.
//!
//! Start sequence (see [`Stack::start`]): wipe the state dir → PKI (`ca.pem`) → nisshi on
//! `sqlite://broker.db` *without* authentication → create the SCRAM users → stop it → nisshi
//! again on the same storage *with* `--authentication`, advertising the TLS proxy → proxy →
//! registry → wait until a real librdkafka client logs in as every user through the proxy.
//! Shutdown goes in reverse: registry, proxy (closing tunnels), broker (SIGTERM, then kill).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::info;

use crate::{
    DevstackError, KafkaClientSettings, ScramMechanism, StackUser,
    broker::{self, BrokerProcess, BrokerSpec, Phase},
    envfile, fsutil, kafka,
    pki::{ClientCertFiles, Pki},
    ports,
    services::{self, Service},
    tls_proxy,
};

/// The broker gets this long to open its port after spawning.
const BROKER_LISTEN_TIMEOUT: Duration = Duration::from_secs(30);
/// A real SCRAM login through the proxy must work within this.
const KAFKA_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// SIGTERM grace for the broker (nisshi itself waits up to 5 s for open connections).
const BROKER_STOP_GRACE: Duration = Duration::from_secs(10);

/// The SCRAM-SHA-512 user (`KAFKA_USERNAME`).
pub const SCRAM512_USER: &str = "paystream";
/// The SCRAM-SHA-256 user (`PAYSTREAM_SCRAM256_USERNAME`).
pub const SCRAM256_USER: &str = "paystream-scram256";

/// How to start a stack.
#[derive(Clone, Debug)]
pub struct StackOptions {
    /// State directory (wiped and recreated on every start), e.g. `target/devstack`.
    pub dir: PathBuf,
    /// The nisshi binary; see [`crate::default_nisshi_bin`].
    pub nisshi_bin: PathBuf,
    /// Whether to run the in-process schema registry.
    pub registry: bool,
}

impl StackOptions {
    /// Options for `dir` with the default nisshi binary and the registry enabled.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            nisshi_bin: broker::default_nisshi_bin(),
            registry: true,
        }
    }
}

impl Default for StackOptions {
    fn default() -> Self {
        Self::new("target/devstack")
    }
}

/// A running development stack. Dropping it cancels the in-process services and kills the
/// broker; [`Stack::shutdown`] does the same in order and reports problems.
#[derive(Debug)]
pub struct Stack {
    dir: PathBuf,
    pki: Pki,
    ca_file: PathBuf,
    broker_log: PathBuf,
    broker: BrokerProcess,
    proxy_addr: SocketAddr,
    registry_addr: Option<SocketAddr>,
    scram512: StackUser,
    scram256: StackUser,
    failed: CancellationToken,
    proxy: Service,
    registry: Option<Service>,
    startup: Duration,
    _cancel_on_drop: DropGuard,
}

impl Stack {
    /// Starts everything and returns once a SASL_SSL client can log in as both users.
    pub async fn start(opts: StackOptions) -> Result<Stack, DevstackError> {
        let started = Instant::now();
        if !opts.nisshi_bin.is_file() {
            return Err(DevstackError::NisshiMissing { path: opts.nisshi_bin });
        }
        let dir = fsutil::recreate_dir(&opts.dir)?;
        let broker_log = dir.join("broker.log");
        let pki = Pki::generate()?;
        let ca_file = pki.write_ca(&dir)?;
        let broker_addr = ports::free_loopback_addr().await?;
        let proxy_listener = ports::bind_loopback("bind tls proxy listener").await?;
        let proxy_addr = ports::local_addr(&proxy_listener)?;

        // Phase 1: unauthenticated broker, only to store the SCRAM credentials in broker.db.
        let spec = |phase, advertised| BrokerSpec {
            bin: &opts.nisshi_bin,
            dir: &dir,
            log: &broker_log,
            listen: broker_addr,
            advertised,
            phase,
        };
        let mut setup = spec(Phase::Setup, broker_addr).spawn()?;
        setup.wait_listening(BROKER_LISTEN_TIMEOUT).await?;
        let scram512 = StackUser::generate(&dir, SCRAM512_USER, ScramMechanism::Sha512)?;
        let scram256 = StackUser::generate(&dir, SCRAM256_USER, ScramMechanism::Sha256)?;
        for user in [&scram512, &scram256] {
            broker::create_scram_user(
                &opts.nisshi_bin,
                &dir,
                broker_addr,
                &user.name,
                user.password(),
                user.mechanism,
            )
            .await?;
        }
        setup.terminate(BROKER_STOP_GRACE).await?;
        info!(elapsed = ?started.elapsed(), "scram users stored");
        // The setup run created the storage schema; index it before the real broker starts.
        crate::broker_index::index_record_headers(&dir.join(crate::broker::BROKER_DB))?;

        // Phase 2: the real broker, SASL required, advertising the TLS proxy.
        let mut broker = spec(Phase::Sasl, proxy_addr).spawn()?;
        broker.wait_listening(BROKER_LISTEN_TIMEOUT).await?;

        let cancel = CancellationToken::new();
        // Armed before any task exists: an early return below stops everything started so far.
        let cancel_on_drop = cancel.clone().drop_guard();
        let failed = CancellationToken::new();
        let acceptor = TlsAcceptor::from(pki.server_config()?);
        let proxy_stop = cancel.child_token();
        let proxy = Service::spawn(
            "tls proxy",
            proxy_stop.clone(),
            failed.clone(),
            tls_proxy::serve(proxy_listener, acceptor, broker_addr, proxy_stop),
        );
        let (registry, registry_addr) = if opts.registry {
            let (service, addr) = services::start_registry(&dir, &cancel, &failed).await?;
            (Some(service), Some(addr))
        } else {
            (None, None)
        };

        let bootstrap = proxy_addr.to_string();
        let logins = [
            scram512.client_settings(&bootstrap, &ca_file),
            scram256.client_settings(&bootstrap, &ca_file),
        ];
        kafka::wait_until_ready(&logins, KAFKA_READY_TIMEOUT, &broker_log).await?;

        let startup = started.elapsed();
        info!(
            dir = %dir.display(),
            bootstrap = %proxy_addr,
            broker_plain = %broker_addr,
            registry = ?registry_addr,
            ?startup,
            "devstack ready"
        );
        Ok(Stack {
            dir,
            pki,
            ca_file,
            broker_log,
            broker,
            proxy_addr,
            registry_addr,
            scram512,
            scram256,
            failed,
            proxy,
            registry,
            startup,
            _cancel_on_drop: cancel_on_drop,
        })
    }

    /// The environment a worker or test needs (see the crate docs for each variable).
    pub fn env(&self) -> Vec<(String, String)> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut env = vec![
            ("KAFKA_BOOTSTRAP_SERVERS", self.proxy_addr.to_string()),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL".to_owned()),
            ("KAFKA_SASL_MECHANISM", self.scram512.mechanism.kafka_name().to_owned()),
            ("KAFKA_USERNAME", self.scram512.name.clone()),
            ("KAFKA_PASSWORD_FILE", path(&self.scram512.password_file)),
            ("KAFKA_CA_FILE", path(&self.ca_file)),
        ];
        if let Some(addr) = self.registry_addr {
            env.push(("SCHEMA_REGISTRY_URL", format!("http://{addr}")));
        }
        env.extend([
            ("PAYSTREAM_SCRAM256_USERNAME", self.scram256.name.clone()),
            ("PAYSTREAM_SCRAM256_PASSWORD_FILE", path(&self.scram256.password_file)),
            ("PAYSTREAM_STACK_DIR", path(&self.dir)),
            ("PAYSTREAM_BROKER_PLAIN_BOOTSTRAP", self.broker.listen().to_string()),
        ]);
        env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// Writes [`Stack::env`] as `DIR/env` (`export K='V'` lines) and returns its path.
    pub fn write_env_file(&self) -> Result<PathBuf, DevstackError> {
        let path = self.dir.join("env");
        envfile::write(&path, &self.env())?;
        Ok(path)
    }

    /// The TLS bootstrap address (`127.0.0.1:PORT`).
    pub fn bootstrap(&self) -> SocketAddr {
        self.proxy_addr
    }

    /// The broker's own plaintext listener (still requires SASL; diagnostics only).
    pub fn broker_plain_addr(&self) -> SocketAddr {
        self.broker.listen()
    }

    /// The schema registry address, when enabled.
    pub fn registry_addr(&self) -> Option<SocketAddr> {
        self.registry_addr
    }

    /// The SCRAM-SHA-512 user (the default `KAFKA_USERNAME`).
    pub fn scram512_user(&self) -> &StackUser {
        &self.scram512
    }

    /// The SCRAM-SHA-256 user.
    pub fn scram256_user(&self) -> &StackUser {
        &self.scram256
    }

    /// Client settings for one of the stack's users.
    pub fn client_settings(&self, user: &StackUser) -> KafkaClientSettings {
        user.client_settings(&self.proxy_addr.to_string(), &self.ca_file)
    }

    /// The state directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/ca.pem`.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// `DIR/broker.log`.
    pub fn broker_log(&self) -> &Path {
        &self.broker_log
    }

    /// The broker's process id.
    pub fn broker_pid(&self) -> Option<u32> {
        self.broker.pid()
    }

    /// How long [`Stack::start`] took.
    pub fn startup_duration(&self) -> Duration {
        self.startup
    }

    /// The stack's PKI, e.g. to build a rustls client trusting it.
    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// Issues a client certificate signed by the stack CA and writes it into the state dir as
    /// `{common_name}.crt.pem` / `{common_name}.key.pem` (for mTLS tests).
    pub fn issue_client_cert(&self, common_name: &str, valid_for: Duration) -> Result<ClientCertFiles, DevstackError> {
        self.pki
            .issue_client_cert(common_name, valid_for)?
            .write(&self.dir, common_name)
    }

    /// Resolves only when part of the stack died (broker exited, proxy or registry task ended);
    /// `devstack up` races it against Ctrl-C.
    pub async fn failure(&mut self) -> DevstackError {
        tokio::select! {
            status = self.broker.wait() => DevstackError::BrokerFailed {
                phase: Phase::Sasl.as_str(),
                reason: match status {
                    Ok(status) => format!("exited with {status}"),
                    Err(err) => format!("could not be awaited: {err}"),
                },
                log: self.broker_log.clone(),
                tail: fsutil::tail(&self.broker_log),
            },
            () = self.failed.cancelled() => DevstackError::Task {
                task: "tls proxy or schema registry",
                reason: "ended while the stack was running; see the log".to_owned(),
            },
        }
    }

    /// Stops the registry, the proxy and the broker, in that order; returns the first error.
    pub async fn shutdown(self) -> Result<(), DevstackError> {
        let started = Instant::now();
        let mut first_error = None;
        if let Some(registry) = self.registry
            && let Err(err) = registry.stop().await
        {
            first_error.get_or_insert(err);
        }
        if let Err(err) = self.proxy.stop().await {
            first_error.get_or_insert(err);
        }
        match self.broker.terminate(BROKER_STOP_GRACE).await {
            Ok(_status) => {}
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
        info!(elapsed = ?started.elapsed(), clean = first_error.is_none(), "devstack stopped");
        first_error.map_or(Ok(()), Err)
    }
}
