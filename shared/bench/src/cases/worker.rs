//! What the worker cases (payments, ledger) share: the worker's environment, starting its binary
//! until `/readyz` answers 200, scraping its `/metrics`, and stopping it with SIGTERM. Each case
//! adds only its topics and its done condition.

use std::path::Path;
use std::time::{Duration, Instant};

use shared::config::{KafkaConfig, RegistryConfig};

use crate::cases::{STOP_GRACE, idle_cpu_per_second, kafka_env, wait_for_count, wait_until};
use crate::child::Child;
use crate::error::BenchError;
use crate::report::Row;

/// `/metrics` is scraped less often than `/readyz` is polled: each scrape costs the worker CPU.
pub const METRICS_INTERVAL: Duration = Duration::from_millis(20);

/// The worker's environment: the stack's connection and registry variables, the runtime settings
/// every bench worker gets, and the case's own `topics` (variable, value).
pub fn worker_env(kafka: &KafkaConfig, registry: &RegistryConfig, topics: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = kafka_env(kafka);
    env.push(("SCHEMA_REGISTRY_URL".into(), registry.url.clone()));
    if let Some(user) = &registry.username {
        env.push(("SCHEMA_REGISTRY_USERNAME".into(), user.clone()));
    }
    if let Some(file) = &registry.password_file {
        env.push((
            "SCHEMA_REGISTRY_PASSWORD_FILE".into(),
            file.to_string_lossy().into_owned(),
        ));
    }
    let fixed = [
        ("KAFKA_CREATE_TOPICS", "true"),
        ("KAFKA_TOPIC_REPLICATION_FACTOR", "1"),
        // A group join on the local broker waits a fraction of this.
        ("KAFKA_MAX_POLL_INTERVAL_MS", "10000"),
        ("HTTP_BIND", "127.0.0.1:0"),
        ("SHUTDOWN_GRACE_SECONDS", "10"),
        // The `http listening` line is INFO from `shared`; per-message logging stays off.
        ("LOG_LEVEL", "warn,shared=info"),
    ];
    env.extend(
        topics
            .iter()
            .chain(&fixed)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

/// A worker binary running as a child, ready (its `/readyz` answered 200).
#[derive(Debug)]
pub struct Worker {
    /// The child process.
    pub child: Child,
    /// Its `/metrics`, borrowed apart from `child` while a wait loop holds the child.
    pub scraper: Scraper,
}

/// Reads a worker's `/metrics`.
#[derive(Debug, Clone)]
pub struct Scraper {
    case: &'static str,
    http: reqwest::Client,
    url: String,
}

impl Worker {
    /// Starts `bin` with `env` and waits until it is ready; fails at `deadline`.
    pub async fn start(
        case: &'static str,
        bin: &Path,
        env: &[(String, String)],
        deadline: Instant,
    ) -> Result<Self, BenchError> {
        let http = reqwest::Client::builder()
            // Only 127.0.0.1 is ever asked; a proxy from the environment must not get in between.
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| BenchError::Case {
                case,
                message: format!("http client: {e}"),
            })?;
        let mut child = Child::spawn(bin, &[], env)?;
        wait_until(
            case,
            &mut child,
            deadline,
            "`http listening` log line",
            async |c: &Child| Ok(c.observed().http_addr.is_some()),
        )
        .await?;
        let addr = child.observed().http_addr.unwrap_or_default();
        let readyz = format!("http://{addr}/readyz");
        wait_until(case, &mut child, deadline, "200 from /readyz", async |_: &Child| {
            Ok(get(case, &http, &readyz).await?.0 == 200)
        })
        .await?;
        Ok(Self {
            child,
            scraper: Scraper {
                case,
                http,
                url: format!("http://{addr}/metrics"),
            },
        })
    }

    /// Scrapes `/metrics` and reads it with `count` until that reaches `wanted` (see
    /// [`wait_for_count`]); prints the worker's counters when it fails.
    pub async fn wait_for(
        &mut self,
        deadline: Instant,
        limit: Duration,
        wanted: u64,
        mut count: impl AsyncFnMut(&str) -> Result<u64, BenchError>,
    ) -> Result<(), BenchError> {
        let scraper = &self.scraper;
        let finished = wait_for_count(
            scraper.case,
            &mut self.child,
            deadline,
            limit,
            wanted,
            METRICS_INTERVAL,
            async |_: &Child| count(&scraper.metrics().await?).await,
        )
        .await;
        if finished.is_err() {
            scraper.print_counters("at the deadline").await;
        }
        finished
    }

    /// Adds the worker's idle CPU rate (while still being scraped) to `row`, then stops it.
    pub async fn idle_then_stop(self, mut row: Row) -> Result<Row, BenchError> {
        let scraper = &self.scraper;
        row.idle_cpu_per_second = Some(
            idle_cpu_per_second(self.child.pid(), METRICS_INTERVAL, async || {
                scraper.metrics().await.map(|_| ())
            })
            .await?,
        );
        self.stop().await;
        Ok(row)
    }

    /// SIGTERM; complains on stderr when it does not exit cleanly.
    pub async fn stop(self) {
        let tail = self.child.tail();
        if self.child.terminate(STOP_GRACE).await != Some(0) {
            eprintln!(
                "bench: the {} worker did not exit cleanly after SIGTERM{tail}",
                self.scraper.case
            );
        }
    }
}

impl Scraper {
    /// The text of its `/metrics`.
    pub async fn metrics(&self) -> Result<String, BenchError> {
        Ok(get(self.case, &self.http, &self.url).await?.1)
    }

    /// Prints its counters on stderr: what the worker says about itself tells a stall from a slow run.
    pub async fn print_counters(&self, when: &str) {
        if let Ok(text) = self.metrics().await {
            let counters: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.contains("_bucket") && !l.contains("_sum{"))
                .collect();
            eprintln!(
                "bench: the {} worker's metrics {when}:\n{}",
                self.case,
                counters.join("\n")
            );
        }
    }
}

async fn get(case: &'static str, http: &reqwest::Client, url: &str) -> Result<(u16, String), BenchError> {
    let fail = |e: reqwest::Error| BenchError::Case {
        case,
        message: format!("GET {url}: {e}"),
    };
    let response = http.get(url).send().await.map_err(fail)?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.map_err(fail)?))
}
