//! `devstack demo` (what `make run` starts): the whole system on one machine.
//!
//! 1. Start the [`Stack`] in `--dir`, write `DIR/env`, print where everything is.
//! 2. Create `payments.payment-requested` and, when they run, `ledger.transaction-requested` and
//!    `notifications.notification-requested` (3 partitions each): every worker then finds one of
//!    its inputs and sizes the topics it creates by it, so none races another to create a shared
//!    topic with a different partition count. Workers create their own outputs. Before the sample stream, the
//!    pool's payers get opening balances in the ledger ([`funding`]).
//! 3. Start every worker binary found in `--bin-dir` (`workers`), logs in `DIR/<worker>.log`.
//! 4. Once they are ready (or after [`READY_WAIT`]), produce the sample stream (`feed`,
//!    [`sample`]) at `--rate` up to `--max-events`.
//! 5. Every [`TICK`], scrape each worker's `/readyz` and `/metrics` and print a summary
//!    (`summary`) until Ctrl-C / SIGTERM.
//! 6. Then: stop producing, print final counts (once the workers caught up, at most 3 s),
//!    SIGTERM every worker (SIGKILL after [`WORKER_STOP_GRACE`]), report how each ended, stop
//!    the stack.

mod feed;
mod funding;
mod prom;
pub mod sample;
mod summary;
mod workers;

use std::{io::Write, path::PathBuf, time::Duration};

use tokio::{
    sync::watch,
    task::{JoinHandle, JoinSet},
    time::{Instant, MissedTickBehavior, interval, sleep, timeout},
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use workers::{WORKER_NAMES, WorkerPlan};

use self::{
    feed::{FeedConfig, FeedSnapshot, Phase},
    summary::{Counts, State, WorkerRow},
    workers::WorkerProcess,
};
use crate::{
    DevstackError, Stack, StackOptions,
    topics::{self, TopicSpec},
};

/// The input topic of the payments worker, which the demo feeds.
pub const INPUT_TOPIC: &str = "payments.payment-requested";
/// The notifications worker's own input, created up front so the worker sizes its topics by it.
pub const NOTIFICATION_INPUT_TOPIC: &str = "notifications.notification-requested";
/// Its partition count.
pub const INPUT_PARTITIONS: i32 = 3;
/// Summary interval.
pub const TICK: Duration = Duration::from_secs(2);
/// Production starts when every worker is ready, or after this.
pub const READY_WAIT: Duration = Duration::from_secs(60);
/// SIGTERM grace of a worker (each drains within its own `SHUTDOWN_GRACE_SECONDS`, default 20).
pub const WORKER_STOP_GRACE: Duration = Duration::from_secs(30);
/// The producer gets this long to hand in its last acknowledgements.
const FEED_STOP_GRACE: Duration = Duration::from_secs(35);
/// After production stops, the final counts wait at most this long for the workers to catch up.
const SETTLE: Duration = Duration::from_secs(3);
/// How often the final counts are re-read while settling.
const SETTLE_POLL: Duration = Duration::from_millis(500);

/// Metrics ports of the workers (`HTTP_BIND=127.0.0.1:<port>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPorts {
    /// payments (default 9101).
    pub payments: u16,
    /// ledger (default 9102).
    pub ledger: u16,
    /// notifications (default 9103).
    pub notifications: u16,
    /// audit (default 9104).
    pub audit: u16,
}

impl WorkerPorts {
    /// The port of worker `name` (0 for an unknown name: the OS picks one).
    pub fn of(&self, name: &str) -> u16 {
        match name {
            "payments" => self.payments,
            "ledger" => self.ledger,
            "notifications" => self.notifications,
            "audit" => self.audit,
            _ => 0,
        }
    }
}

/// Everything `devstack demo` needs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The stack (state directory, nisshi binary).
    pub stack: StackOptions,
    /// Where the worker binaries are.
    pub bin_dir: PathBuf,
    /// Sample records per second.
    pub rate: f64,
    /// Stop producing after this many records.
    pub max_events: u64,
    /// Seed of the sample stream.
    pub seed: u64,
    /// Worker metrics ports.
    pub ports: WorkerPorts,
    /// Print a block per tick (a terminal) instead of one compact line.
    pub interactive: bool,
}

/// How one worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerExit {
    /// The worker.
    pub name: &'static str,
    /// In words, e.g. `exit code 0` or `killed after ignoring SIGTERM for 30s`.
    pub ended: String,
    /// Whether it exited with code 0.
    pub clean: bool,
}

/// How the demo ended.
#[derive(Debug, Default)]
pub struct DemoReport {
    /// Each started worker and how it ended.
    pub workers: Vec<WorkerExit>,
}

impl DemoReport {
    /// Whether every worker exited with code 0.
    pub fn all_clean(&self) -> bool {
        self.workers.iter().all(|worker| worker.clean)
    }
}

fn out_err(source: std::io::Error) -> DevstackError {
    DevstackError::io("write to", "stdout", source)
}

/// Runs the demo until `shutdown`; see the module docs.
pub async fn run<W: Write>(
    options: DemoOptions,
    out: &mut W,
    shutdown: CancellationToken,
) -> Result<DemoReport, DevstackError> {
    if !(options.rate.is_finite() && options.rate > 0.0 && options.rate <= 100_000.0) {
        return Err(DevstackError::Invalid {
            what: "--rate",
            value: options.rate.to_string(),
            reason: "must be more than 0 and at most 100000 records per second".to_owned(),
        });
    }
    let (plans, missing) = workers::plan(&options.bin_dir, |name| options.ports.of(name));
    for name in &missing {
        info!(worker = name, bin_dir = %options.bin_dir.display(), "worker binary not built, skipping");
    }
    if plans.is_empty() {
        return Err(DevstackError::Invalid {
            what: "--bin-dir",
            value: options.bin_dir.display().to_string(),
            reason: format!(
                "holds none of {}; build them with `cargo build --release --workspace --bins`",
                WORKER_NAMES.join(", ")
            ),
        });
    }
    for plan in &plans {
        workers::check_port_free(plan)?;
    }
    let mut stack = tokio::select! {
        stack = Stack::start(options.stack.clone()) => stack?,
        () = shutdown.cancelled() => return Ok(DemoReport::default()),
    };
    let result = with_stack(&mut stack, &options, &plans, &missing, out, &shutdown).await;
    let stopped = stack.shutdown().await;
    let _ = writeln!(out, "stack stopped").and_then(|()| out.flush());
    let report = result?;
    stopped?;
    Ok(report)
}

/// Everything between starting and stopping the stack.
async fn with_stack<W: Write>(
    stack: &mut Stack,
    options: &DemoOptions,
    plans: &[WorkerPlan],
    missing: &[&str],
    out: &mut W,
    shutdown: &CancellationToken,
) -> Result<DemoReport, DevstackError> {
    let text = summary::header(stack, options, plans, missing)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(out_err)?;
    let settings = stack.client_settings(stack.scram512_user());
    let input = TopicSpec {
        name: INPUT_TOPIC.to_owned(),
        partitions: INPUT_PARTITIONS,
        configs: Vec::new(),
    };
    let runs_ledger = plans.iter().any(|p| p.name == "ledger");
    let mut inputs = vec![input];
    if runs_ledger {
        inputs.push(TopicSpec {
            name: funding::LEDGER_INPUT_TOPIC.to_owned(),
            partitions: INPUT_PARTITIONS,
            configs: Vec::new(),
        });
    }
    if plans.iter().any(|p| p.name == "notifications") {
        inputs.push(TopicSpec {
            name: NOTIFICATION_INPUT_TOPIC.to_owned(),
            partitions: INPUT_PARTITIONS,
            configs: Vec::new(),
        });
    }
    topics::create_topics(&settings, &inputs).await?;
    let env = stack.env();
    let mut processes = Vec::with_capacity(plans.len());
    for plan in plans {
        match WorkerProcess::spawn(plan, &env, stack.dir()) {
            Ok(process) => processes.push(process),
            Err(err) => {
                stop_all(processes, out).await;
                return Err(err);
            }
        }
    }
    let registry_url = stack
        .registry_addr()
        .map(|addr| format!("http://{addr}"))
        .ok_or(DevstackError::MissingEnv("SCHEMA_REGISTRY_URL"))?;
    let client = summary::http_client().map_err(|err| DevstackError::Task {
        task: "build the metrics http client",
        reason: err.to_string(),
    })?;
    let (progress, progress_view) = watch::channel(FeedSnapshot::new(options.max_events));
    let feed_stop = CancellationToken::new();
    let mut feed: Option<JoinHandle<Result<(), DevstackError>>> = None;
    let mut rows: Vec<WorkerRow> = processes
        .iter()
        .map(|process| WorkerRow {
            name: process.name,
            state: State::Unreachable,
            counts: Counts::default(),
        })
        .collect();
    let started = Instant::now();
    let mut ticker = interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failure = None;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            err = stack.failure() => {
                failure = Some(err);
                break;
            }
            _ = ticker.tick() => {}
        }
        if let Some(done) = feed.take_if(|handle| handle.is_finished()) {
            match done.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    failure = Some(err);
                    break;
                }
                Err(join) => {
                    failure = Some(DevstackError::Task {
                        task: "sample producer",
                        reason: join.to_string(),
                    });
                    break;
                }
            }
        }
        refresh(&client, &mut processes, &mut rows).await;
        let settled = rows
            .iter()
            .all(|row| matches!(row.state, State::Ready | State::Exited(_)));
        if progress_view.borrow().phase == Phase::Waiting
            && feed.is_none()
            && (settled || started.elapsed() >= READY_WAIT)
        {
            if !settled {
                warn!(waited = ?READY_WAIT, "not every worker is ready; producing anyway");
            }
            let config = FeedConfig {
                topic: INPUT_TOPIC.to_owned(),
                rate: options.rate,
                max_events: options.max_events,
                seed: options.seed,
                fund_ledger: runs_ledger,
            };
            let task = feed::run(
                settings.clone(),
                registry_url.clone(),
                config,
                progress.clone(),
                feed_stop.clone(),
            );
            feed = Some(tokio::spawn(task));
        }
        let snapshot = progress_view.borrow().clone();
        let text = if options.interactive {
            summary::render_block(started.elapsed(), &snapshot, &rows)
        } else {
            summary::render_line(started.elapsed(), &snapshot, &rows) + "\n"
        };
        if let Err(err) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            // Nobody reads the summary any more (`make run | head`): stop in order.
            failure = Some(out_err(err));
            break;
        }
    }
    info!(
        reason = if failure.is_some() { "failure" } else { "signal" },
        "demo stopping"
    );
    feed_stop.cancel();
    if let Some(handle) = feed {
        match timeout(FEED_STOP_GRACE, handle).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => {
                failure.get_or_insert(err);
            }
            Ok(Err(join)) => warn!(error = %join, "sample producer ended abnormally"),
            Err(_) => warn!(grace = ?FEED_STOP_GRACE, "sample producer did not stop in time"),
        }
    }
    // Let the workers take in what was produced so the final counts add up (bounded).
    let settle_until = Instant::now() + SETTLE;
    loop {
        let before: Vec<Counts> = rows.iter().map(|row| row.counts.clone()).collect();
        refresh(&client, &mut processes, &mut rows).await;
        let unchanged = rows.iter().zip(&before).all(|(row, before)| row.counts == *before);
        if unchanged || Instant::now() >= settle_until {
            break;
        }
        sleep(SETTLE_POLL).await;
    }
    let snapshot = progress_view.borrow().clone();
    let last = summary::render_block(started.elapsed(), &snapshot, &rows);
    // From here on output is best effort: the workers and the stack are stopped regardless.
    let _ = writeln!(out, "final counts:\n{last}");
    let report = stop_all(processes, out).await;
    match failure {
        Some(err) => Err(err),
        None => Ok(report),
    }
}

/// Updates every row: a process that ended is reported once, a live one is scraped.
async fn refresh(client: &reqwest::Client, processes: &mut [WorkerProcess], rows: &mut [WorkerRow]) {
    for (process, row) in processes.iter_mut().zip(rows.iter_mut()) {
        if let Some((how, _code)) = process.exit_status() {
            if !matches!(row.state, State::Exited(_)) {
                warn!(worker = process.name, %how, log = %process.log.display(), "worker exited on its own");
            }
            row.state = State::Exited(how);
            continue;
        }
        let (state, counts) = summary::scrape(client, process.http, &row.counts).await;
        row.state = state;
        row.counts = counts;
    }
}

/// SIGTERM to every worker at once, then each one's ending (printed best effort).
async fn stop_all<W: Write>(processes: Vec<WorkerProcess>, out: &mut W) -> DemoReport {
    let mut report = DemoReport::default();
    if processes.is_empty() {
        return report;
    }
    let _ = writeln!(
        out,
        "stopping {} worker(s): SIGTERM, SIGKILL after {WORKER_STOP_GRACE:?}",
        processes.len()
    );
    let mut stopping = JoinSet::new();
    for process in processes {
        stopping.spawn(process.stop(WORKER_STOP_GRACE));
    }
    while let Some(joined) = stopping.join_next().await {
        match joined {
            Ok((name, ended)) => {
                let _ = writeln!(out, "  {name}: {ended}");
                report.workers.push(WorkerExit {
                    name,
                    ended: ended.to_string(),
                    clean: ended.is_clean(),
                });
            }
            // The stop task panicked; its child is killed when the task's future is dropped.
            Err(join) => report.workers.push(WorkerExit {
                name: "(unknown)",
                ended: join.to_string(),
                clean: false,
            }),
        }
    }
    let _ = out.flush();
    report
}
