//! The runtime's concurrency options against the real broker, with a test handler:
//! - deferred work runs concurrently across record keys and strictly in order within one key;
//!   a key whose work hangs holds back neither other keys nor (through its partition) other
//!   partitions, and the committed offset never passes the oldest unfinished message;
//! - a delayed input (a retry topic) hands a record over no earlier than its timestamp plus the
//!   delay, while other inputs keep flowing;
//! - `Context::dead_letter` dead-letters the input alongside the handler's outputs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use shared::clock::now_ms;
use shared::codec::AvroEvent;
use shared::config::RuntimeConfig;
use shared::events::AuditEvent;
use shared::handler::{Context, DeferredResult, Handler, InputMessage};
use shared::outcome::{Disposition, HandleError};
use shared::runtime::{InputTopic, OutputTopic, Runtime, WorkerSpec};
use testkit::kafka::{Collector, create_topic, frame, producer, register, send};
use testkit::{StackEnv, unique};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct TestCli {
    #[command(flatten)]
    runtime: RuntimeConfig,
}

/// What the handler saw, in order: (subject, action, wall-clock ms when finished).
type Log = Arc<Mutex<Vec<(String, String, i64)>>>;

/// Defers by action: `hang` waits until the test releases it, `io` sleeps a little; `sync` and
/// `give-up` finish inline (`give-up` also dead-letters its input).
#[derive(Debug)]
struct Scripted {
    output: String,
    log: Log,
    release: Arc<Notify>,
}

impl Scripted {
    fn finish(&self, event: &AuditEvent, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        self.log
            .lock()
            .expect("log")
            .push((event.subject_id.clone(), event.action.clone(), now_ms()));
        ctx.emit(&self.output, &event.subject_id, &event.event_id, event)?;
        Ok(Disposition::Processed)
    }
}

impl Handler for Scripted {
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let event: AuditEvent = ctx.decode(message.payload.unwrap_or_default())?;
        match event.action.as_str() {
            "hang" => {
                let release = self.release.clone();
                ctx.defer(async move {
                    release.notified().await;
                    event
                });
            }
            "io" => ctx.defer(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                event
            }),
            "give-up" => {
                ctx.dead_letter("attempts_exhausted", "gave up after 3 attempts");
                return self.finish(&event, ctx);
            }
            _ => return self.finish(&event, ctx),
        }
        Ok(Disposition::Processed)
    }

    fn resume(
        &self,
        _message: &InputMessage<'_>,
        result: DeferredResult,
        ctx: &mut Context<'_>,
    ) -> Result<Disposition, HandleError> {
        let event = result
            .downcast::<AuditEvent>()
            .map_err(|_| HandleError::poison("test", "deferred result of another type"))?;
        self.finish(&event, ctx)
    }
}

fn event(subject: &str, action: &str) -> AuditEvent {
    AuditEvent {
        event_id: unique("ev"),
        source: "test".into(),
        action: action.into(),
        actor: "tester".into(),
        subject_id: subject.into(),
        occurred_at: 1,
        details: Default::default(),
    }
}

struct Started {
    env: StackEnv,
    group: String,
    output: String,
    schema_id: u32,
    log: Log,
    release: Arc<Notify>,
    shutdown: CancellationToken,
    run: tokio::task::JoinHandle<Result<bool, shared::RuntimeError>>,
}

async fn start(inputs: Vec<InputTopic>) -> Started {
    let env = StackEnv::get();
    let output = unique("cc-out");
    let mut schema_id = 0;
    for input in &inputs {
        create_topic(&env, &input.topic, 1).await;
        schema_id = register(&env, &input.topic, AuditEvent::SCHEMA_JSON).await;
    }
    let group = unique("cc-group");
    let cli = TestCli::try_parse_from([
        "test",
        "--create-topics",
        "--topic-replication-factor",
        "1",
        "--max-poll-interval-ms",
        "10000",
        "--http-bind",
        "127.0.0.1:0",
        "--group-id",
        &group,
        "--max-concurrent-per-partition",
        "8",
        "--max-in-flight",
        "16",
    ])
    .expect("runtime flags (connection settings come from the stack's environment)");
    let spec = WorkerSpec {
        name: "concurrency-test",
        version: "0",
        inputs,
        outputs: vec![OutputTopic::of::<AuditEvent>(&output)],
    };
    let runtime = Runtime::new(cli.runtime, spec).await.expect("runtime");
    let log: Log = Arc::default();
    let release = Arc::new(Notify::new());
    let handler = Scripted {
        output: output.clone(),
        log: log.clone(),
        release: release.clone(),
    };
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(runtime.run(handler, shutdown.clone()));
    Started {
        env,
        group,
        output,
        schema_id,
        log,
        release,
        shutdown,
        run,
    }
}

/// Waits (bounded) until `done` holds for the log; returns a copy of it either way.
async fn wait_log(
    log: &Log,
    timeout: Duration,
    done: impl Fn(&[(String, String, i64)]) -> bool,
) -> Vec<(String, String, i64)> {
    let started = Instant::now();
    loop {
        let seen = log.lock().expect("log").clone();
        if done(&seen) || started.elapsed() > timeout {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The group's committed offset of partition 0 of `topic`.
fn committed(env: &StackEnv, group: &str, topic: &str) -> Option<i64> {
    let mut c = env.client_config();
    c.set("group.id", group).set("enable.auto.commit", "false");
    let consumer: BaseConsumer = c.create().expect("offset reader");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let tpl = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    match tpl.find_partition(topic, 0)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

async fn stop(shutdown: CancellationToken, run: tokio::task::JoinHandle<Result<bool, shared::RuntimeError>>) {
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("drains in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deferred_work_overlaps_across_keys_keeps_key_order_and_commits_below_the_oldest_unfinished() {
    let input = unique("cc-in");
    let Started {
        env,
        group,
        output,
        schema_id: id,
        log,
        release,
        shutdown,
        run,
    } = start(vec![InputTopic::stateless(&input)]).await;
    let p = producer(&env);
    // Offset 0 hangs; 1 and 2 share its key; 3..=7 are other keys.
    send(&p, &input, "a", &frame(id, &event("a", "hang"))).await;
    send(&p, &input, "a", &frame(id, &event("a", "io"))).await;
    send(&p, &input, "a", &frame(id, &event("a", "sync"))).await;
    for subject in ["b", "c", "d", "e", "f"] {
        send(&p, &input, subject, &frame(id, &event(subject, "io"))).await;
    }

    let others = ["b", "c", "d", "e", "f"];
    let seen = wait_log(&log, Duration::from_secs(60), |l| l.len() >= 5).await;
    let subjects: Vec<&str> = seen.iter().map(|(s, _, _)| s.as_str()).collect();
    let mut sorted = subjects.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted, others,
        "other keys finished while key a's first message hangs: {seen:?}"
    );

    // The commit never passes offset 0 while it is unfinished (auto-commit runs every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let held = committed(&env, &group, &input);
    assert!(
        held.is_none_or(|o| o <= 0),
        "committed {held:?} past the hanging offset 0"
    );
    assert_eq!(log.lock().expect("log").len(), 5, "a's later messages waited behind it");

    release.notify_one();
    let seen = wait_log(&log, Duration::from_secs(60), |l| l.len() >= 8).await;
    let a: Vec<&str> = seen
        .iter()
        .filter(|(s, _, _)| s == "a")
        .map(|(_, action, _)| action.as_str())
        .collect();
    assert_eq!(a, ["hang", "io", "sync"], "key a in order: {seen:?}");

    let mut out = Collector::new(&env, &output);
    let records = out.wait_until(Duration::from_secs(30), |r| r.len() >= 8).to_vec();
    assert_eq!(records.len(), 8);
    let started = Instant::now();
    while committed(&env, &group, &input) != Some(8) {
        assert!(started.elapsed() < Duration::from_secs(30), "offset 8 never committed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop(shutdown, run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delayed_input_holds_records_until_due_without_holding_up_other_inputs() {
    let delayed = unique("cc-retry");
    let plain = unique("cc-plain");
    let delay = Duration::from_secs(10);
    let Started {
        env,
        schema_id: id,
        log,
        shutdown,
        run,
        ..
    } = start(vec![
        InputTopic::stateless(&delayed).delayed(delay),
        InputTopic::stateless(&plain),
    ])
    .await;
    let p = producer(&env);
    // Wait until the worker consumes, so the delay is not spent joining the group.
    send(&p, &plain, "warm-up", &frame(id, &event("warm-up", "sync"))).await;
    let warm = wait_log(&log, Duration::from_secs(60), |l| !l.is_empty()).await;
    assert_eq!(warm.len(), 1, "the worker never consumed");
    let produced_ms = now_ms();
    send(&p, &delayed, "late", &frame(id, &event("late", "sync"))).await;
    // More records than the delayed partition's whole budget: held back, they must not hold
    // back the other input.
    for i in 0..50 {
        send(&p, &delayed, "late", &frame(id, &event(&format!("late-{i}"), "sync"))).await;
    }
    send(&p, &plain, "now", &frame(id, &event("now", "sync"))).await;

    let seen = wait_log(&log, Duration::from_secs(60), |l| l.len() >= 53).await;
    assert_eq!(seen.len(), 53, "every record handled: {seen:?}");
    assert_eq!(seen[1].0, "now", "the plain input went first: {seen:?}");
    let (_, _, late_ms) = seen.iter().find(|(s, _, _)| s == "late").expect("late handled");
    assert!(
        *late_ms >= produced_ms + delay.as_millis() as i64,
        "the delayed record was handed over {} ms after it was produced, before its {} ms delay",
        late_ms - produced_ms,
        delay.as_millis()
    );
    stop(shutdown, run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_handler_can_dead_letter_its_input_alongside_its_outputs() {
    let input = unique("cc-dl");
    let Started {
        env,
        output,
        schema_id: id,
        shutdown,
        run,
        ..
    } = start(vec![InputTopic::stateless(&input)]).await;
    let p = producer(&env);
    send(&p, &input, "x", &frame(id, &event("x", "give-up"))).await;
    let mut dlq = Collector::new(&env, &format!("{input}.dlq"));
    let dead = dlq.wait_until(Duration::from_secs(60), |r| !r.is_empty()).to_vec();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].header("dlq.error.kind"), Some("attempts_exhausted"));
    assert_eq!(dead[0].header("dlq.error.message"), Some("gave up after 3 attempts"));
    let mut out = Collector::new(&env, &output);
    let records = out.wait_until(Duration::from_secs(30), |r| !r.is_empty()).to_vec();
    assert_eq!(records.len(), 1, "the output was written too");
    stop(shutdown, run).await;
}
