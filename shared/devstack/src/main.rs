//! `devstack`: start the local SASL_SSL broker stack (`up`), run a command against it (`exec`),
//! create topics on it (`create-topics`), run the whole system with sample data (`demo`), or
//! move JSON lines in and out of Avro topics (`produce`, `tail`). All logic lives in the
//! `devstack` library.

use std::{ffi::OsString, io::IsTerminal as _, process::ExitCode};

use anyhow::Context as _;
use clap::Parser as _;
use devstack::{
    Stack,
    cli::{Cli, Command, CreateTopicsArgs, DemoArgs, ProduceArgs, StackArgs, TailArgs},
    topics,
};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// A token cancelled on the first SIGINT or SIGTERM.
fn shutdown_on_signal() -> anyhow::Result<CancellationToken> {
    let token = CancellationToken::new();
    let mut interrupt = signal(SignalKind::interrupt()).context("install SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("install SIGTERM handler")?;
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        cancel.cancel();
    });
    Ok(token)
}

/// Starts the stack unless a signal arrives first (dropping a half-started stack kills the broker).
async fn start(args: &StackArgs, shutdown: &CancellationToken) -> anyhow::Result<Option<Stack>> {
    tokio::select! {
        stack = Stack::start(args.options()) => Ok(Some(stack.context("start devstack")?)),
        () = shutdown.cancelled() => Ok(None),
    }
}

async fn up(args: StackArgs, shutdown: CancellationToken) -> anyhow::Result<ExitCode> {
    let Some(mut stack) = start(&args, &shutdown).await? else {
        return Ok(ExitCode::from(130));
    };
    let env_file = stack.write_env_file()?;
    println!(
        "devstack ready in {:.1?} ({})",
        stack.startup_duration(),
        stack.dir().display()
    );
    for (key, value) in stack.env() {
        println!("  {key}={value}");
    }
    println!("  broker log: {}", stack.broker_log().display());
    println!("env file: source {}   (Ctrl-C stops the stack)", env_file.display());
    let failure = tokio::select! {
        () = shutdown.cancelled() => None,
        failure = stack.failure() => Some(failure),
    };
    stack.shutdown().await.context("stop devstack")?;
    match failure {
        Some(failure) => Err(failure).context("devstack failed"),
        None => Ok(ExitCode::SUCCESS),
    }
}

async fn exec(args: StackArgs, command: Vec<OsString>, shutdown: CancellationToken) -> anyhow::Result<ExitCode> {
    let (program, rest) = command.split_first().context("no command given")?;
    let Some(mut stack) = start(&args, &shutdown).await? else {
        return Ok(ExitCode::from(130));
    };
    stack.write_env_file()?;
    let code = devstack::exec::run(&mut stack, program, rest, shutdown).await;
    stack.shutdown().await.context("stop devstack")?;
    let code = code?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

async fn create_topics(args: CreateTopicsArgs) -> anyhow::Result<ExitCode> {
    let settings = args.connection.settings()?;
    for (topic, outcome) in topics::create_topics(&settings, &args.topics).await? {
        println!("{topic}: {outcome:?}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo(args: DemoArgs, shutdown: CancellationToken) -> anyhow::Result<ExitCode> {
    let options = args.options(rand::random(), std::io::stdout().is_terminal());
    let report = devstack::demo::run(options, &mut std::io::stdout(), shutdown)
        .await
        .context("devstack demo")?;
    Ok(if report.all_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn produce(args: ProduceArgs, shutdown: CancellationToken) -> anyhow::Result<ExitCode> {
    let (settings, stdin) = (
        args.connection.settings()?,
        tokio::io::BufReader::new(tokio::io::stdin()),
    );
    let options = args.options();
    devstack::produce::run(
        &settings,
        &args.schema_registry_url,
        &options,
        stdin,
        &mut std::io::stdout(),
        &shutdown,
    )
    .await
    .with_context(|| format!("produce to {}", options.topic))?;
    Ok(ExitCode::SUCCESS)
}

async fn tail(args: TailArgs, shutdown: CancellationToken) -> anyhow::Result<ExitCode> {
    let (settings, options) = (args.connection.settings()?, args.options());
    devstack::tail::run(
        &settings,
        &args.schema_registry_url,
        &options,
        &mut std::io::stdout(),
        &shutdown,
    )
    .await
    .with_context(|| format!("tail {}", options.topic))?;
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(),
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitCode::from(64));
        }
    };
    let filter = std::env::var("DEVSTACK_LOG").unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "devstack starting");
    match cli.command {
        Command::Up(args) => up(args, shutdown_on_signal()?).await,
        Command::Exec { stack, command } => exec(stack, command, shutdown_on_signal()?).await,
        Command::CreateTopics(args) => create_topics(args).await,
        Command::Demo(args) => demo(args, shutdown_on_signal()?).await,
        Command::Produce(args) => produce(args, shutdown_on_signal()?).await,
        Command::Tail(args) => tail(args, shutdown_on_signal()?).await,
    }
}
