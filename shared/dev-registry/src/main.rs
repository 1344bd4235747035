//! `dev-registry`: runs the development-only schema registry until SIGINT or SIGTERM.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::Parser;
use tokio_util::sync::CancellationToken;

/// Exit code for invalid configuration (sysexits `EX_USAGE`), as for every paystream binary.
const EXIT_CONFIG: u8 = 64;

/// Development-only Confluent-compatible schema registry (AVRO only).
///
/// For local runs and tests. NOT for production: point production at Confluent Schema
/// Registry, Karapace or Apicurio.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "DEV_REGISTRY_BIND", default_value = "127.0.0.1:8081")]
    bind: SocketAddr,
    /// JSON file holding the registry state; loaded at start, rewritten on every change.
    #[arg(long, env = "DEV_REGISTRY_DATA_FILE", default_value = "dev-registry.json")]
    data_file: PathBuf,
    /// Basic-auth user; when set, every request must authenticate.
    #[arg(long, env = "DEV_REGISTRY_BASIC_AUTH_USER", requires = "basic_auth_password_file")]
    basic_auth_user: Option<String>,
    /// File holding the basic-auth password (one trailing newline is ignored).
    #[arg(long, env = "DEV_REGISTRY_BASIC_AUTH_PASSWORD_FILE", requires = "basic_auth_user")]
    basic_auth_password_file: Option<PathBuf>,
    /// Tracing filter directive, e.g. `info,dev_registry=debug`.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else is invalid configuration.
            let code = if e.use_stderr() { EXIT_CONFIG } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Err(e) = init_telemetry(&cli.log_level) {
        eprintln!("invalid --log-level: {e:#}");
        return ExitCode::from(EXIT_CONFIG);
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "dev-registry starting");
    let basic_auth = match read_basic_auth(&cli) {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("invalid configuration: {e:#}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match run(cli, basic_auth).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "dev-registry failed");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, basic_auth: Option<(String, String)>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(cli.bind)
        .await
        .with_context(|| format!("bind {}", cli.bind))?;
    let address = listener.local_addr().context("read bound address")?;
    tracing::warn!(
        "development-only schema registry: use Confluent Schema Registry, Karapace or Apicurio in production"
    );
    tracing::info!(
        %address,
        data_file = %cli.data_file.display(),
        basic_auth = basic_auth.is_some(),
        "dev-registry listening"
    );

    let shutdown = CancellationToken::new();
    let signals = tokio::spawn(cancel_on_signal(shutdown.clone()));
    let options = dev_registry::RegistryOptions {
        data_file: cli.data_file,
        basic_auth,
    };
    let result = dev_registry::serve(listener, options, shutdown.clone()).await;
    signals.abort();
    result.context("serve schema registry")?;
    tracing::info!("dev-registry stopped");
    Ok(())
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM.
async fn cancel_on_signal(shutdown: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("install SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("install SIGTERM handler")?;
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(signal = name, "shutting down");
    shutdown.cancel();
    Ok(())
}

fn read_basic_auth(cli: &Cli) -> anyhow::Result<Option<(String, String)>> {
    let (Some(user), Some(file)) = (&cli.basic_auth_user, &cli.basic_auth_password_file) else {
        return Ok(None);
    };
    let raw =
        std::fs::read_to_string(file).with_context(|| format!("read --basic-auth-password-file {}", file.display()))?;
    let password = raw
        .strip_suffix('\n')
        .map_or(raw.as_str(), |p| p.strip_suffix('\r').unwrap_or(p));
    anyhow::ensure!(
        !password.is_empty(),
        "--basic-auth-password-file {} is empty",
        file.display()
    );
    anyhow::ensure!(!user.contains(':'), "--basic-auth-user may not contain ':'");
    Ok(Some((user.clone(), password.to_owned())))
}

fn init_telemetry(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).context("parse filter")?;
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .init();
    Ok(())
}
