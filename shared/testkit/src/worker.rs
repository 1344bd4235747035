//! A worker binary running as a real child process against the stack: started with the stack's
//! environment plus overrides, its JSON log lines collected, its HTTP address read from the
//! `http listening` line, and stopped with SIGTERM or SIGKILL like Kubernetes would.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::StackEnv;

/// A running worker process.
#[derive(Debug)]
pub struct Worker {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    /// Starts `binary` with the stack environment, then `extra` (which wins).
    pub fn spawn(binary: &str, env: &StackEnv, extra: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(binary);
        for (k, v) in env.worker_env() {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {binary}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    if std::env::var_os("PAYSTREAM_TEST_ECHO").is_some() {
                        eprintln!("{line}");
                    }
                    lines.lock().expect("log lines").push(line);
                }
            });
        }
        Self { child, lines }
    }

    /// Every line the process wrote so far (stdout and stderr).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("log lines").clone()
    }

    /// Waits for a log line containing `needle`.
    pub async fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                started.elapsed() < timeout,
                "no log line with {needle:?} within {timeout:?}; got:\n{}",
                self.lines().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The worker's HTTP base URL, from its `http listening` log line.
    pub async fn http(&self) -> String {
        let line = self.wait_for_line("http listening", Duration::from_secs(30)).await;
        let json: serde_json::Value = serde_json::from_str(&line).expect("json log line");
        format!("http://{}", json["addr"].as_str().expect("addr field"))
    }

    /// GET `path` on the worker's port: (status, body).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let url = format!("{}{path}", self.http().await);
        let response = reqwest::get(&url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) {
        let started = Instant::now();
        loop {
            let (status, body) = self.get("/readyz").await;
            if status == 200 {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "not ready within {timeout:?}: {body}\n{}",
                self.lines().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// SIGKILL: no drain, no commit — a crash.
    pub async fn kill9(mut self) {
        self.signal(Signal::SIGKILL);
        let _ = self.child.wait().await;
    }

    /// SIGTERM, then waits for the exit code (bounded by `timeout`).
    pub async fn terminate(mut self, timeout: Duration) -> (Option<i32>, Vec<String>) {
        self.signal(Signal::SIGTERM);
        let status = tokio::time::timeout(timeout, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("worker did not exit within {timeout:?} after SIGTERM"))
            .expect("wait");
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status.code(), self.lines())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}
