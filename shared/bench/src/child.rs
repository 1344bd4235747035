//! A case's child process: started with extra environment, its stdout and stderr read line by line
//! into what the bench needs to know — the worker's HTTP address (`"message":"http listening"`
//! JSON log line), the passthrough's `assigned` and `acked N` lines — plus the last few lines for
//! error messages. Stopped with SIGTERM like Kubernetes would, SIGKILL after a grace period.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child as TokioChild, Command};

use crate::error::BenchError;

/// Lines kept for error messages.
const TAIL_LINES: usize = 40;

/// What a line of a child's output tells the bench.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// The worker bound its HTTP port here.
    HttpListening(String),
    /// The passthrough got its first assignment.
    Assigned,
    /// The passthrough has this many records acknowledged.
    Acked(u64),
}

/// Reads one output line.
pub fn parse_line(line: &str) -> Option<LineEvent> {
    let line = line.trim();
    if line == "assigned" {
        return Some(LineEvent::Assigned);
    }
    if let Some(n) = line.strip_prefix("acked ") {
        return n.parse().ok().map(LineEvent::Acked);
    }
    if line.starts_with('{') && line.contains("http listening") {
        let json: serde_json::Value = serde_json::from_str(line).ok()?;
        let message = json.get("message").or_else(|| json.pointer("/fields/message"));
        if message.and_then(|m| m.as_str()) == Some("http listening") {
            let addr = json.get("addr").or_else(|| json.pointer("/fields/addr"))?;
            return addr.as_str().map(|a| LineEvent::HttpListening(a.to_owned()));
        }
    }
    None
}

/// What the child's output said so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The worker's HTTP address.
    pub http_addr: Option<String>,
    /// Whether the passthrough was assigned partitions.
    pub assigned: bool,
    /// The passthrough's acknowledged records.
    pub acked: u64,
}

#[derive(Debug, Default)]
struct Output {
    observed: Observed,
    tail: VecDeque<String>,
}

impl Output {
    fn take(&mut self, line: String) {
        match parse_line(&line) {
            Some(LineEvent::HttpListening(addr)) => self.observed.http_addr = Some(addr),
            Some(LineEvent::Assigned) => self.observed.assigned = true,
            Some(LineEvent::Acked(n)) => self.observed.acked = self.observed.acked.max(n),
            None => {}
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }
}

/// A running case process.
#[derive(Debug)]
pub struct Child {
    child: TokioChild,
    pid: u32,
    output: Arc<Mutex<Output>>,
}

impl Child {
    /// Starts `program args…` with this process's environment plus `env`.
    pub fn spawn(program: &Path, args: &[String], env: &[(String, String)]) -> Result<Self, BenchError> {
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BenchError::Io {
                action: "start",
                path: program.to_string_lossy().into_owned(),
                source,
            })?;
        let pid = child.id().ok_or_else(|| BenchError::Io {
            action: "find the pid of",
            path: program.to_string_lossy().into_owned(),
            source: std::io::Error::other("exited at once"),
        })?;
        let output = Arc::new(Mutex::new(Output::default()));
        let streams: [Option<Box<dyn AsyncRead + Send + Unpin>>; 2] = [
            child.stdout.take().map(|s| Box::new(s) as _),
            child.stderr.take().map(|s| Box::new(s) as _),
        ];
        for stream in streams.into_iter().flatten() {
            let output = output.clone();
            // Ends when the child closes the stream (it exits or is killed).
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    output.lock().unwrap_or_else(PoisonError::into_inner).take(line);
                }
            });
        }
        Ok(Self { child, pid, output })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What the output said so far.
    pub fn observed(&self) -> Observed {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observed
            .clone()
    }

    /// The last output lines, each on its own line after a leading newline (empty if none).
    pub fn tail(&self) -> String {
        let output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        output.tail.iter().map(|l| format!("\n  | {l}")).collect()
    }

    /// `Some(description)` when the child has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown state: {e}")),
        }
    }

    /// SIGTERM, then waits up to `grace` for the exit (SIGKILL after that). Returns the exit code.
    pub async fn terminate(mut self, grace: Duration) -> Option<i32> {
        if let Ok(pid) = i32::try_from(self.pid) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            Ok(Err(_)) | Err(_) => {
                let _ = self.child.kill().await;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_http_address_is_read_from_its_json_log_line() {
        let line = r#"{"timestamp":"2026-01-01T00:00:00Z","level":"INFO","message":"http listening","addr":"127.0.0.1:41234","target":"shared::runtime"}"#;
        assert_eq!(
            parse_line(line),
            Some(LineEvent::HttpListening("127.0.0.1:41234".into()))
        );
        let nested = r#"{"level":"INFO","fields":{"message":"http listening","addr":"127.0.0.1:9"}}"#;
        assert_eq!(parse_line(nested), Some(LineEvent::HttpListening("127.0.0.1:9".into())));
    }

    #[test]
    fn passthrough_progress_lines_are_understood_and_other_lines_ignored() {
        assert_eq!(parse_line("assigned"), Some(LineEvent::Assigned));
        assert_eq!(parse_line("acked 1200\n"), Some(LineEvent::Acked(1200)));
        assert_eq!(parse_line("acked many"), None);
        assert_eq!(parse_line(r#"{"message":"subscribed"}"#), None);
        assert_eq!(parse_line(r#"{"message":"not http listening","addr":"x"}"#), None);
    }

    #[test]
    fn progress_never_goes_backwards_and_the_tail_is_bounded() {
        let mut output = Output::default();
        for line in ["acked 10", "acked 5", "assigned"] {
            output.take(line.into());
        }
        assert_eq!(
            output.observed,
            Observed {
                http_addr: None,
                assigned: true,
                acked: 10
            }
        );
        for i in 0..100 {
            output.take(format!("line {i}"));
        }
        assert_eq!(output.tail.len(), TAIL_LINES);
        assert_eq!(output.tail.back().map(String::as_str), Some("line 99"));
    }
}
