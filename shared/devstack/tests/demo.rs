//! `devstack demo` smoke test: the real stack, the real (debug) payments worker and a short sample
//! stream; the summary must show processed payments, and SIGINT must stop everything cleanly.
//!
//! The payments binary comes from another crate, so `CARGO_BIN_EXE_payments` does not exist here:
//! it is looked up in `$CARGO_TARGET_DIR/debug` (or `<repo>/target/debug`). `make test` builds it
//! first; a missing binary fails the test with the command that builds it.

use std::{
    error::Error,
    net::{Ipv4Addr, TcpListener},
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, BufReader},
    process::Command,
    time::{sleep, timeout},
};

type TestResult = Result<(), Box<dyn Error>>;

/// From start to a summary line with processed payments (stack, group join, first ticks).
const PROCESSED_LIMIT: Duration = Duration::from_secs(60);
/// From SIGINT to exit (worker drain, stack stop).
const STOP_LIMIT: Duration = Duration::from_secs(45);

/// The directory holding the debug worker binaries.
fn worker_bin_dir() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => repo.join(dir),
        None => repo.join("target"),
    };
    target.join("debug")
}

/// Collects a child's output lines for assertions and failure messages.
fn collect(stream: impl AsyncRead + Unpin + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if let Ok(mut lines) = lines.lock() {
                lines.push(line);
            }
        }
    });
}

fn snapshot(lines: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    lines.lock().map(|lines| lines.clone()).unwrap_or_default()
}

/// The payments worker's `processed=` count on a compact summary line.
fn processed(line: &str) -> Option<u64> {
    let row = line.split(" | ").find(|row| row.starts_with("payments "))?;
    let value = row
        .split_whitespace()
        .find_map(|field| field.strip_prefix("processed="))?;
    value.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_processes_sample_payments_and_stops_cleanly_on_sigint() -> TestResult {
    let bin_dir = worker_bin_dir();
    assert!(
        bin_dir.join("payments").is_file(),
        "{} is not built; run `cargo build -p payments` (make test builds it) and run the test again",
        bin_dir.join("payments").display()
    );
    // A free port, so the test does not collide with a `make run` on the default 9101.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port()
        .to_string();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo");
    let begun = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_devstack"))
        .arg("demo")
        .arg("--dir")
        .arg(&dir)
        .arg("--bin-dir")
        .arg(&bin_dir)
        .args([
            "--max-events",
            "50",
            "--rate",
            "100",
            "--seed",
            "1",
            "--payments-port",
            &port,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (stdout, stderr) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    collect(child.stdout.take().ok_or("no stdout")?, stdout.clone());
    collect(child.stderr.take().ok_or("no stderr")?, stderr.clone());
    let explain = || {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            snapshot(&stdout).join("\n"),
            snapshot(&stderr).join("\n")
        )
    };

    let seen = loop {
        if let Some(count) = snapshot(&stdout)
            .iter()
            .filter_map(|line| processed(line))
            .find(|n| *n > 0)
        {
            break count;
        }
        assert!(
            begun.elapsed() < PROCESSED_LIMIT,
            "no processed payments within {PROCESSED_LIMIT:?}\n{}",
            explain()
        );
        assert!(matches!(child.try_wait(), Ok(None)), "demo exited early\n{}", explain());
        sleep(Duration::from_millis(200)).await;
    };
    eprintln!("summary showed {seen} processed after {:?}", begun.elapsed());

    let pid = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .ok_or("demo has no pid")?;
    kill(Pid::from_raw(pid), Signal::SIGINT)?;
    let status = timeout(STOP_LIMIT, child.wait()).await??;
    // Let the readers take the last lines.
    sleep(Duration::from_millis(100)).await;
    assert_eq!(status.code(), Some(0), "demo exit status {status}\n{}", explain());
    let out = snapshot(&stdout).join("\n");
    assert!(out.contains("payments: exit code 0"), "{}", explain());
    assert!(out.contains("stack stopped"), "{}", explain());
    assert!(
        out.contains(&format!("http://127.0.0.1:{port}/metrics")),
        "{}",
        explain()
    );
    eprintln!("demo smoke test done in {:?}", begun.elapsed());
    Ok(())
}
