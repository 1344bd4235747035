//! `devstack produce` then `devstack tail` against a real stack: JSON lines become Avro records in
//! the wire format and come back as the same JSON; a payload that is not in the wire format is
//! shown as base64 with an error; a bad input line stops `produce` with its line number.

use std::{
    error::Error,
    path::PathBuf,
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use devstack::{Stack, StackOptions, topics};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use tokio::{io::AsyncWriteExt as _, process::Command, time::timeout};

type TestResult = Result<(), Box<dyn Error>>;

/// Upper bound for the stack start.
const START_LIMIT: Duration = Duration::from_secs(120);
/// Upper bound for one CLI run.
const STEP: Duration = Duration::from_secs(60);

fn schema_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/payment-requested.avsc")
}

/// Runs the devstack binary with the stack's environment, `stdin` as its input.
async fn devstack(stack: &Stack, args: &[&str], stdin: &str) -> Result<Output, Box<dyn Error>> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_devstack"))
        .args(args)
        .envs(stack.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).await?;
        // Dropping it closes stdin: `produce` sees the end of its input.
    }
    Ok(timeout(STEP, child.wait_with_output()).await??)
}

fn payment(n: u32, description: Value) -> Value {
    json!({
        "event_id": format!("00000000-0000-4000-8000-00000000000{n}"),
        "payment_id": format!("10000000-0000-4000-8000-00000000000{n}"),
        "payer_account": format!("acct-de-00000{n}"),
        "payee_account": "merch-0042",
        "amount_minor": 1_250 * i64::from(n),
        "currency": "EUR",
        "payer_country": "DE",
        "requested_at": 1_760_000_000_000_i64 + i64::from(n),
        "description": description,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_round_trip_through_avro_and_poison_is_shown_as_base64() -> TestResult {
    let begun = Instant::now();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("produce-tail");
    let stack = match timeout(START_LIMIT, Stack::start(StackOptions::new(dir))).await? {
        Ok(stack) => stack,
        Err(err) => panic!("devstack did not start: {err}"),
    };
    let settings = stack.client_settings(stack.scram512_user());
    let topic = format!("devstack-produce-{}", std::process::id());
    topics::create_topics(&settings, &[format!("{topic}:2").parse()?]).await?;

    // Three payments: a description, an explicit null, and none at all (the default fills it in).
    let sent = [
        payment(1, json!("invoice 1")),
        payment(2, Value::Null),
        payment(3, Value::Null),
    ];
    let mut third = sent[2].clone();
    third.as_object_mut().map(|object| object.remove("description"));
    let input = format!("{}\n\n{}\n{}\n", sent[0], sent[1], third);
    let schema = schema_file();
    let schema = schema.to_string_lossy();
    let produce_args = [
        "produce",
        "--topic",
        &topic,
        "--schema",
        &schema,
        "--key-field",
        "payer_account",
    ];
    let output = devstack(&stack, &produce_args, &input).await?;
    let stdout = String::from_utf8(output.stdout)?;
    assert!(
        output.status.success(),
        "produce: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let acks: Vec<&str> = stdout.lines().collect();
    assert_eq!(acks.len(), 3, "one partition@offset line per record: {stdout}");
    for ack in &acks {
        let (partition, offset) = ack.split_once('@').ok_or(format!("not partition@offset: {ack}"))?;
        assert!(
            partition.parse::<i32>().is_ok() && offset.parse::<i64>().is_ok(),
            "{ack}"
        );
    }

    // A record that is not in the wire format (JSON on an Avro topic).
    let producer: FutureProducer = settings
        .client_config()
        // Fail the test in bounded time rather than retrying for librdkafka's default 5 minutes.
        .set("message.timeout.ms", "20000")
        .create()?;
    let poison = br#"{"amount":"12.50"}"#;
    let record = FutureRecord::to(&topic).key("poison").payload(&poison[..]);
    producer.send(record, STEP).await.map_err(|(err, _)| err)?;

    let tail_args = [
        "tail",
        "--topic",
        &topic,
        "--from-beginning",
        "--max",
        "4",
        "--timeout-secs",
        "20",
    ];
    let output = devstack(&stack, &tail_args, "").await?;
    assert!(
        output.status.success(),
        "tail: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 4, "{lines:#?}");
    for expected in &sent {
        let line = lines
            .iter()
            .find(|line| line["value"]["event_id"] == expected["event_id"])
            .ok_or(format!("{} not tailed: {lines:#?}", expected["event_id"]))?;
        assert_eq!(&line["value"], expected, "value round trip");
        assert_eq!(line["key"], expected["payer_account"], "keyed by --key-field");
        assert_eq!(line["topic"], json!(topic));
        assert!(line["schema_id"].is_u64() && line.get("error").is_none(), "{line}");
    }
    let poisoned = lines
        .iter()
        .find(|line| line["key"] == "poison")
        .ok_or("poison record not tailed")?;
    assert_eq!(
        poisoned["value"], "eyJhbW91bnQiOiIxMi41MCJ9",
        "base64 of the raw payload"
    );
    let error = poisoned["error"].as_str().unwrap_or_default();
    assert!(error.contains("wrong magic byte 0x7b"), "{poisoned}");

    // The first bad line stops produce with its line number; lines before it are written.
    let input = format!(
        "{}\n{{\"event_id\":\"x\"}}\n{}\n",
        payment(4, Value::Null),
        payment(5, Value::Null)
    );
    let output = devstack(&stack, &produce_args, &input).await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a bad line must fail produce");
    assert!(
        stderr.contains("stdin line 2: does not match io.paystream.payments.PaymentRequested"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8(output.stdout)?.lines().count(),
        1,
        "line 1 was produced"
    );

    timeout(Duration::from_secs(30), stack.shutdown()).await??;
    eprintln!("produce/tail round trip in {:?}", begun.elapsed());
    Ok(())
}
