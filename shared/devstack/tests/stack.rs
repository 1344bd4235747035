//! End to end: the real nisshi broker behind the TLS proxy. Fails (does not skip) when nisshi is
//! not installed; the failure message says how to install it.

use std::{
    error::Error,
    os::unix::fs::PermissionsExt as _,
    path::PathBuf,
    time::{Duration, Instant},
};

use devstack::{
    KafkaClientSettings, LoginOutcome, Stack, StackOptions, check_login,
    topics::{self, TopicSpec},
};
use rdkafka::{
    Message as _,
    consumer::{Consumer as _, StreamConsumer},
    producer::{FutureProducer, FutureRecord},
};
use tokio::time::timeout;

type TestResult = Result<(), Box<dyn Error>>;

/// Upper bound for the whole start (two broker starts plus SCRAM logins).
const START_LIMIT: Duration = Duration::from_secs(120);
/// Upper bound for one produce or one consume.
const STEP: Duration = Duration::from_secs(30);

fn stack_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

async fn start(name: &str) -> Stack {
    let options = StackOptions::new(stack_dir(name));
    match timeout(START_LIMIT, Stack::start(options)).await {
        Ok(Ok(stack)) => stack,
        Ok(Err(err)) => panic!("devstack did not start: {err}"),
        Err(_) => panic!("devstack did not start within {START_LIMIT:?}"),
    }
}

/// Produces one message as `settings` and consumes it back in a fresh group.
async fn round_trip(settings: &KafkaClientSettings, topic: &str) -> TestResult {
    let producer: FutureProducer = settings
        .client_config()
        // Fail the test in bounded time rather than retrying for librdkafka's default 5 minutes.
        .set("message.timeout.ms", "20000")
        .create()?;
    let payload = format!(
        "hello from {} via {}",
        settings.username,
        settings.mechanism.kafka_name()
    );
    let record = FutureRecord::to(topic).key("k").payload(&payload);
    timeout(STEP, producer.send(record, STEP))
        .await?
        .map_err(|(err, _)| err)?;

    let consumer: StreamConsumer = settings
        .client_config()
        // A unique group per run, so offsets from earlier runs never interfere.
        .set("group.id", format!("{topic}-{}", settings.username))
        // The message was produced before the group existed.
        .set("auto.offset.reset", "earliest")
        // nisshi's group join waits a fraction of this; keep the test quick.
        .set("max.poll.interval.ms", "10000")
        // librdkafka requires session.timeout.ms <= max.poll.interval.ms.
        .set("session.timeout.ms", "6000")
        .create()?;
    consumer.subscribe(&[topic])?;
    let message = timeout(STEP, consumer.recv()).await??;
    assert_eq!(message.payload(), Some(payload.as_bytes()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_speaks_sasl_ssl_with_both_scram_mechanisms_and_rejects_wrong_passwords() -> TestResult {
    let begun = Instant::now();
    let stack = start("e2e").await;
    eprintln!("stack started in {:?}", begun.elapsed());

    // The environment points at files that exist, passwords are owner-only.
    let env = stack.env();
    let var = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or(format!("{key} missing from env"))
    };
    assert_eq!(var("KAFKA_SECURITY_PROTOCOL")?, "SASL_SSL");
    assert_eq!(var("KAFKA_SASL_MECHANISM")?, "SCRAM-SHA-512");
    assert_eq!(var("KAFKA_BOOTSTRAP_SERVERS")?, stack.bootstrap().to_string());
    assert!(stack.bootstrap().ip().is_loopback());
    assert!(var("SCHEMA_REGISTRY_URL")?.starts_with("http://127.0.0.1:"));
    for key in ["KAFKA_PASSWORD_FILE", "PAYSTREAM_SCRAM256_PASSWORD_FILE"] {
        let mode = std::fs::metadata(var(key)?)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    assert!(std::fs::metadata(var("KAFKA_CA_FILE")?)?.is_file());

    let scram512 = stack.client_settings(stack.scram512_user());
    let scram256 = stack.client_settings(stack.scram256_user());
    // One topic per user, so each fresh group reads exactly the one message it produced.
    let topic = |n: u16| format!("devstack-e2e-{}-{n}", std::process::id());
    let specs = [format!("{}:2", topic(512)).parse::<TopicSpec>()?, topic(256).parse()?];
    topics::create_topics(&scram512, &specs).await?;

    let step = Instant::now();
    round_trip(&scram512, &topic(512)).await?;
    round_trip(&scram256, &topic(256)).await?;
    eprintln!("two produce/consume round trips in {:?}", step.elapsed());

    // Topic configs are stored and reported back (nisshi applies compaction/retention in its
    // maintenance sweep: at broker start and every 10 minutes).
    let compacted = topic(1);
    let spec = format!("{compacted}:1:cleanup.policy=compact,retention.ms=60000");
    topics::create_topics(&scram512, &[spec.parse()?]).await?;
    let configs = topics::describe_topic_configs(&scram512, &compacted).await?;
    eprintln!("described configs of {compacted}: {configs:?}");
    let config = |key: &str| configs.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.clone());
    assert_eq!(config("cleanup.policy").as_deref(), Some("compact"), "{configs:?}");
    assert_eq!(config("retention.ms").as_deref(), Some("60000"), "{configs:?}");

    // Wrong password, and the right password with the other mechanism: both refused.
    let step = Instant::now();
    let mut wrong = scram512.clone();
    wrong.password.push('x');
    let outcome = check_login(&wrong, Duration::from_secs(10)).await?;
    assert!(
        matches!(outcome, LoginOutcome::Rejected { .. }),
        "wrong password: {outcome:?}"
    );
    let mut crossed = scram256.clone();
    crossed.mechanism = devstack::ScramMechanism::Sha512;
    let outcome = check_login(&crossed, Duration::from_secs(10)).await?;
    assert!(
        matches!(outcome, LoginOutcome::Rejected { .. }),
        "wrong mechanism: {outcome:?}"
    );

    eprintln!("two refused logins in {:?}", step.elapsed());
    let stopping = Instant::now();
    timeout(Duration::from_secs(30), stack.shutdown()).await??;
    eprintln!("stack stopped in {:?}", stopping.elapsed());
    Ok(())
}

#[test]
fn a_missing_nisshi_binary_fails_with_install_instructions() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let Ok(runtime) = runtime else {
        panic!("tokio runtime");
    };
    let mut options = StackOptions::new(stack_dir("missing-nisshi"));
    options.nisshi_bin = PathBuf::from("/nonexistent/nisshi");
    let result = runtime.block_on(Stack::start(options));
    let message = result.err().map(|err| err.to_string()).unwrap_or_default();
    assert!(
        message.contains("cargo install nisshi --version 0.7.0-pre.2"),
        "{message}"
    );
}

#[tokio::test]
async fn a_broker_that_exits_at_start_fails_with_its_log_tail() -> TestResult {
    let dir = stack_dir("fake-nisshi-bin");
    std::fs::create_dir_all(&dir)?;
    let fake = dir.join("nisshi");
    std::fs::write(&fake, "#!/bin/sh\necho 'fake nisshi: refusing to start' >&2\nexit 3\n")?;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755))?;
    let mut options = StackOptions::new(stack_dir("fake-nisshi"));
    options.nisshi_bin = fake;
    let result = timeout(START_LIMIT, Stack::start(options)).await?;
    let message = result.err().map(|err| err.to_string()).unwrap_or_default();
    assert!(message.contains("exited with exit status: 3"), "{message}");
    assert!(message.contains("fake nisshi: refusing to start"), "{message}");
    Ok(())
}
