//! The measured cases. Each runs as a child process and is measured the same way: the clock and
//! the child's CPU counter start when it begins consuming (payments, ledger, notifications:
//! `/readyz` turns 200, i.e. assigned and state restored; passthrough: its first assignment) and
//! stop when every input's output is acknowledged; peak RSS is the child's `VmHWM` at that moment.
//! Then it gets SIGTERM.

pub mod ledger;
pub mod notifications;
pub mod passthrough;
pub mod payments;
pub mod worker;

use std::time::{Duration, Instant};

use shared::config::KafkaConfig;

use crate::child::Child;
use crate::error::BenchError;
use crate::proc_stats::ProcFiles;
use crate::report::Row;

/// How often readiness and progress are checked.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How often a running case reports its progress on stderr.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);
/// How long a child's idle CPU rate is measured after its run.
pub const IDLE_WINDOW: Duration = Duration::from_secs(3);
/// How long a child may take to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// A running measurement of one child process.
#[derive(Debug)]
pub struct Measurement {
    started: Instant,
    cpu_before: f64,
    proc: ProcFiles,
}

impl Measurement {
    /// Starts the clock and reads the CPU counter of `pid`.
    pub fn start(pid: u32) -> Result<Self, BenchError> {
        let proc = ProcFiles::of(pid)?;
        Ok(Self {
            cpu_before: proc.cpu_seconds()?,
            started: Instant::now(),
            proc,
        })
    }

    /// Reads the clock, CPU and peak RSS: the row of `case` for `events` if the run ended now.
    pub fn finish(&self, case: &str, events: u64) -> Result<Row, BenchError> {
        let seconds = self.started.elapsed().as_secs_f64();
        Ok(Row {
            case: case.into(),
            events,
            seconds,
            cpu_seconds: self.proc.cpu_seconds()? - self.cpu_before,
            peak_rss_kib: self.proc.peak_rss_kib()?,
            idle_cpu_per_second: None,
        })
    }
}

/// The CPU rate of `pid` over [`IDLE_WINDOW`] while `check` keeps running every `interval` —
/// the same progress checks as during the run, so their cost is part of the idle rate.
pub async fn idle_cpu_per_second(
    pid: u32,
    interval: Duration,
    mut check: impl AsyncFnMut() -> Result<(), BenchError>,
) -> Result<f64, BenchError> {
    let proc = ProcFiles::of(pid)?;
    let before = proc.cpu_seconds()?;
    let started = Instant::now();
    while started.elapsed() < IDLE_WINDOW {
        check().await?;
        tokio::time::sleep(interval).await;
    }
    Ok((proc.cpu_seconds()? - before) / started.elapsed().as_secs_f64())
}

/// Checks `ready` every [`POLL_INTERVAL`] until it holds. Fails when the child exits or `deadline`
/// passes first, naming `what` was awaited and quoting the child's last lines.
pub async fn wait_until(
    case: &'static str,
    child: &mut Child,
    deadline: Instant,
    what: &str,
    mut ready: impl AsyncFnMut(&Child) -> Result<bool, BenchError>,
) -> Result<(), BenchError> {
    loop {
        if ready(child).await? {
            return Ok(());
        }
        if let Some(status) = child.exited() {
            return Err(BenchError::Case {
                case,
                message: format!("exited ({status}) while waiting for {what}{}", child.tail()),
            });
        }
        if Instant::now() >= deadline {
            return Err(BenchError::Case {
                case,
                message: format!("no {what} before the deadline{}", child.tail()),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The pause before the next progress check: `far` until `done` is within the last tenth of
/// `wanted`, then [`POLL_INTERVAL`], so the end is timed closely without checking often all along
/// (a `/metrics` scrape costs the worker CPU that the measurement counts).
pub fn next_interval(done: u64, wanted: u64, far: Duration) -> Duration {
    if done.saturating_mul(10) >= wanted.saturating_mul(9) {
        POLL_INTERVAL.min(far)
    } else {
        far
    }
}

/// Checks `count` until it reaches `wanted`, pausing as [`next_interval`] says. Fails when the child exits or
/// `deadline` passes first ([`BenchError::Timeout`] says how far it got).
pub async fn wait_for_count(
    case: &'static str,
    child: &mut Child,
    deadline: Instant,
    limit: Duration,
    wanted: u64,
    interval: Duration,
    mut count: impl AsyncFnMut(&Child) -> Result<u64, BenchError>,
) -> Result<(), BenchError> {
    let mut next_report = Instant::now() + PROGRESS_INTERVAL;
    loop {
        let done = count(child).await?;
        if done >= wanted {
            return Ok(());
        }
        if Instant::now() >= next_report {
            eprintln!("bench: {case}: {done} of {wanted} acknowledged");
            next_report += PROGRESS_INTERVAL;
        }
        if let Some(status) = child.exited() {
            return Err(BenchError::Case {
                case,
                message: format!("exited ({status}) after {done} of {wanted} events{}", child.tail()),
            });
        }
        if Instant::now() >= deadline {
            return Err(BenchError::Timeout {
                case,
                limit,
                done,
                wanted,
                tail: child.tail(),
            });
        }
        tokio::time::sleep(next_interval(done, wanted, interval)).await;
    }
}

/// The connection variables of `kafka`, as the workers read them.
pub fn kafka_env(kafka: &KafkaConfig) -> Vec<(String, String)> {
    let path = |p: &std::path::PathBuf| p.to_string_lossy().into_owned();
    let mut env = vec![
        ("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers.clone()),
        (
            "KAFKA_SECURITY_PROTOCOL",
            kafka.security_protocol.as_librdkafka().to_owned(),
        ),
        ("KAFKA_SASL_MECHANISM", kafka.sasl_mechanism.as_librdkafka().to_owned()),
    ];
    let optional = [
        ("KAFKA_USERNAME", kafka.username.clone()),
        ("KAFKA_PASSWORD_FILE", kafka.password_file.as_ref().map(path)),
        ("KAFKA_CA_FILE", kafka.ca_file.as_ref().map(path)),
        ("KAFKA_CLIENT_CERT_FILE", kafka.client_cert_file.as_ref().map(path)),
        ("KAFKA_CLIENT_KEY_FILE", kafka.client_key_file.as_ref().map(path)),
    ];
    env.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    if kafka.allow_insecure_dev {
        env.push(("PAYSTREAM_ALLOW_INSECURE_DEV", "true".to_owned()));
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_checked_often_only_near_the_end() {
        let far = Duration::from_millis(100);
        assert_eq!(next_interval(0, 1000, far), far);
        assert_eq!(next_interval(899, 1000, far), far);
        assert_eq!(next_interval(900, 1000, far), POLL_INTERVAL);
        assert_eq!(next_interval(5, 1, far), POLL_INTERVAL);
        assert_eq!(
            next_interval(0, 1000, Duration::from_millis(1)),
            Duration::from_millis(1)
        );
        assert_eq!(next_interval(u64::MAX, u64::MAX, far), POLL_INTERVAL);
    }
}
