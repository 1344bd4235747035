//! The runtime against the real broker with a test handler: transient errors are retried with
//! backoff and succeed, or are dead-lettered once attempts run out — and the partition keeps its
//! order and moves on either way.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use shared::codec::AvroEvent;
use shared::config::RuntimeConfig;
use shared::events::AuditEvent;
use shared::handler::{Context, Handler, InputMessage};
use shared::outcome::{Disposition, HandleError};
use shared::runtime::{InputTopic, OutputTopic, Runtime, WorkerSpec};
use testkit::kafka::{Collector, create_topic, frame, producer, register, send};
use testkit::{StackEnv, unique};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct TestCli {
    #[command(flatten)]
    runtime: RuntimeConfig,
}

/// Fails according to the event's `action`: `flaky` twice, `broken` always, anything else never.
#[derive(Debug)]
struct Scripted {
    output: String,
    attempts: Mutex<HashMap<i64, u32>>,
}

impl Handler for Scripted {
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let event: AuditEvent = ctx.decode(message.payload.unwrap_or_default())?;
        let attempt = {
            let mut attempts = self.attempts.lock().expect("attempts");
            let n = attempts.entry(message.offset).or_default();
            *n += 1;
            *n
        };
        match event.action.as_str() {
            "panic" => panic!("scripted handler panic"),
            "flaky" if attempt <= 2 => {
                return Err(HandleError::transient("test_transient", format!("attempt {attempt}")));
            }
            "broken" => return Err(HandleError::transient("test_transient", "never works")),
            _ => {}
        }
        ctx.emit(&self.output, &event.subject_id, &event.event_id, &event)?;
        Ok(Disposition::Processed)
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

/// A running in-process worker with the scripted handler.
struct Started {
    env: StackEnv,
    input: String,
    output: String,
    schema_id: u32,
    http: std::net::SocketAddr,
    shutdown: CancellationToken,
    run: tokio::task::JoinHandle<Result<bool, shared::RuntimeError>>,
}

async fn start() -> Started {
    let env = StackEnv::get();
    let input = unique("rt-in");
    let output = unique("rt-out");
    create_topic(&env, &input, 1).await;
    let schema_id = register(&env, &input, AuditEvent::SCHEMA_JSON).await;
    let group = unique("rt-group");
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
        "--retry-max-attempts",
        "3",
        "--retry-initial-backoff-ms",
        "10",
        "--retry-max-backoff-ms",
        "50",
    ])
    .expect("runtime flags (connection settings come from the stack's environment)");
    let spec = WorkerSpec {
        name: "retry-test",
        version: "0",
        inputs: vec![InputTopic::stateless(&input)],
        outputs: vec![OutputTopic::of::<AuditEvent>(&output)],
    };
    let runtime = Runtime::new(cli.runtime, spec).await.expect("runtime");
    let http = runtime.http_addr();
    let handler = Scripted {
        output: output.clone(),
        attempts: Mutex::new(HashMap::new()),
    };
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(runtime.run(handler, shutdown.clone()));
    Started {
        env,
        input,
        output,
        schema_id,
        http,
        shutdown,
        run,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transient_errors_are_retried_then_dead_lettered_and_order_is_kept() {
    let Started {
        env,
        input,
        output,
        schema_id: id,
        http,
        shutdown,
        run,
    } = start().await;
    let metrics_url = format!("http://{http}/metrics");
    let p = producer(&env);
    for (subject, action) in [("a", "ok"), ("b", "flaky"), ("c", "broken"), ("d", "ok")] {
        send(&p, &input, subject, &frame(id, &event(subject, action))).await;
    }

    let mut out = Collector::when_exists(&env, &output).await;
    let records = out.wait_until(Duration::from_secs(90), |r| r.len() >= 3).to_vec();
    let keys: Vec<&[u8]> = records.iter().filter_map(|r| r.key.as_deref()).collect();
    assert_eq!(
        keys,
        [&b"a"[..], b"b", b"d"],
        "flaky succeeded on its third attempt, in order; broken did not"
    );

    let mut dlq = Collector::new(&env, &format!("{input}.dlq"));
    let dead = dlq.wait_until(Duration::from_secs(30), |r| !r.is_empty()).to_vec();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].key.as_deref(), Some(&b"c"[..]));
    assert_eq!(dead[0].header("dlq.error.kind"), Some("test_transient"));
    assert_eq!(dead[0].header("dlq.attempts"), Some("3"));
    assert_eq!(dead[0].header("dlq.error.message"), Some("never works"));

    let metrics = reqwest::get(&metrics_url)
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    // flaky: 2 retries; broken: 2 retries before its third and last attempt.
    assert!(
        metrics.contains(&format!("paystream_retries_total{{topic=\"{input}\"}} 4")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "paystream_dlq_messages_total{{error_kind=\"test_transient\",topic=\"{input}\"}} 1"
        )),
        "{metrics}"
    );

    shutdown.cancel();
    let clean = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("drain in time")
        .expect("join")
        .expect("run");
    assert!(clean, "drain was clean");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_task_that_dies_fails_liveness_instead_of_stalling_silently() {
    let Started {
        env,
        input,
        schema_id,
        http,
        shutdown,
        run,
        ..
    } = start().await;
    let p = producer(&env);
    send(&p, &input, "boom", &frame(schema_id, &event("boom", "panic"))).await;
    let started = std::time::Instant::now();
    loop {
        let live = reqwest::get(format!("http://{http}/livez"))
            .await
            .expect("livez")
            .status()
            .as_u16();
        if live == 503 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "liveness never failed after the handler panic"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = reqwest::get(format!("http://{http}/readyz"))
        .await
        .expect("readyz")
        .text()
        .await
        .expect("body");
    assert!(ready.contains("\"reason\":\"failed\""), "{ready}");
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("stops in time");
}
