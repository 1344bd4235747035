//! `bench passthrough`: the baseline — a raw rdkafka at-least-once consume→produce loop with the
//! worker's client settings and nothing else (no decoding, no handler, no state). Each record's
//! key, value and headers are produced unchanged; its input offset is stored only after the copy
//! is acknowledged, in order, with many deliveries in flight at once (like rust-rdkafka's
//! `at_least_once` example, but pipelined instead of awaiting each send).
//!
//! Progress goes to stdout for the parent: `assigned` at the first assignment, then `acked N`
//! every [`REPORT_INTERVAL`] while N grows. SIGTERM stops consuming, awaits what is in flight,
//! commits and exits 0. One group member means no revocation; a rebalance is not drained.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::future::{Join, Ready, join, ready};
use futures::stream::FuturesOrdered;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use shared::config::KafkaConfig;
use shared::kafka::client_config;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::PassthroughArgs;
use crate::error::BenchError;

/// How often progress is printed.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(10);
/// Bound on the drain after SIGTERM.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);
/// Attempts to resend a copy whose delivery failed.
const RESEND_ATTEMPTS: u32 = 5;
/// Attempts to enqueue one copy while librdkafka's queue is full.
const MAX_FULL_ROUNDS: usize = 10_000;
const CLIENT_ID: &str = "bench-passthrough";

/// A delivery tagged with the input partition and offset it copies.
type InFlight = Join<Ready<(i32, i64)>, DeliveryFuture>;

/// Prints `assigned` once, at the first assignment.
#[derive(Debug, Default)]
struct PassthroughContext {
    assigned: AtomicBool,
}

impl ClientContext for PassthroughContext {}

impl ConsumerContext for PassthroughContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance
            && tpl.count() > 0
            && !self.assigned.swap(true, Ordering::Relaxed)
        {
            println!("assigned");
        }
    }
}

/// The loop's state: the consumer whose offsets are stored, the producer and the in-flight copies.
struct Pipeline<'a> {
    consumer: &'a StreamConsumer<PassthroughContext>,
    producer: &'a FutureProducer,
    input: &'a str,
    output: &'a str,
    in_flight: FuturesOrdered<InFlight>,
    acked: u64,
}

impl Pipeline<'_> {
    /// Hands a copy of `message` to the producer, settling earlier copies while its queue is full.
    async fn forward(&mut self, message: &BorrowedMessage<'_>) -> Result<(), BenchError> {
        let mut record = FutureRecord::<[u8], [u8]>::to(self.output);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        if let Some(headers) = message.headers() {
            record = record.headers(headers.detach());
        }
        for _ in 0..MAX_FULL_ROUNDS {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    let tag = ready((message.partition(), message.offset()));
                    self.in_flight.push_back(join(tag, delivery));
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    match self.in_flight.next().await {
                        Some(done) => self.settle(done).await?,
                        None => tokio::time::sleep(Duration::from_millis(2)).await,
                    }
                }
                Err((e, _)) => return Err(BenchError::kafka(format!("produce to {}", self.output), e)),
            }
        }
        Err(BenchError::kafka(
            format!("produce to {}", self.output),
            "the producer queue stayed full",
        ))
    }

    /// Stores the input offset of an acknowledged copy; resends a failed one first.
    async fn settle(&mut self, done: <InFlight as Future>::Output) -> Result<(), BenchError> {
        let ((partition, offset), delivery) = done;
        match delivery {
            Ok(Ok(_)) => {}
            Ok(Err((e, failed))) => {
                eprintln!(
                    "delivery of {}/{partition}@{offset} failed ({e}); producing it again",
                    self.input
                );
                self.resend(&failed).await?;
            }
            Err(_) => {
                return Err(BenchError::kafka(
                    format!("produce to {}", self.output),
                    "delivery abandoned",
                ));
            }
        }
        // librdkafka commits offset + 1: the next record to read.
        if let Err(e) = self.consumer.store_offset(self.input, partition, offset) {
            eprintln!("offset store of {}/{partition}@{offset} refused: {e}", self.input);
        }
        self.acked += 1;
        Ok(())
    }

    async fn resend(&self, failed: &OwnedMessage) -> Result<(), BenchError> {
        let mut last = String::new();
        for _ in 0..RESEND_ATTEMPTS {
            let mut record = FutureRecord::<[u8], [u8]>::to(self.output);
            if let Some(key) = failed.key() {
                record = record.key(key);
            }
            if let Some(payload) = failed.payload() {
                record = record.payload(payload);
            }
            if let Some(headers) = failed.headers() {
                record = record.headers(headers.clone());
            }
            match self
                .producer
                .send(record, Timeout::After(Duration::from_secs(30)))
                .await
            {
                Ok(_) => return Ok(()),
                Err((e, _)) => last = e.to_string(),
            }
        }
        Err(BenchError::kafka(format!("produce to {}", self.output), last))
    }
}

/// Runs the passthrough until SIGTERM (exit 0) or `args.max_seconds` (an error).
pub async fn run(kafka: &KafkaConfig, args: &PassthroughArgs) -> Result<(), BenchError> {
    let deadline = tokio::time::sleep(Duration::from_secs(args.max_seconds));
    tokio::pin!(deadline);
    let mut term = signal(SignalKind::terminate()).map_err(|source| BenchError::Io {
        action: "listen for",
        path: "SIGTERM".into(),
        source,
    })?;
    let producer = crate::kafka::producer(kafka, CLIENT_ID)?;
    if let Some(topic) = &args.warmup_topic {
        crate::kafka::warm_up(&producer, topic).await?;
    }
    let consumer: StreamConsumer<PassthroughContext> = client_config::consumer(kafka, &args.group, CLIENT_ID)?
        .create_with_context(PassthroughContext::default())
        .map_err(|e| BenchError::kafka("create consumer", e))?;
    consumer
        .subscribe(&[args.input.as_str()])
        .map_err(|e| BenchError::kafka(format!("subscribe to {}", args.input), e))?;
    let mut pipeline = Pipeline {
        consumer: &consumer,
        producer: &producer,
        input: &args.input,
        output: &args.output,
        in_flight: FuturesOrdered::new(),
        acked: 0,
    };
    let mut stream = consumer.stream();
    let mut report = tokio::time::interval(REPORT_INTERVAL);
    let mut reported = 0;
    loop {
        tokio::select! {
            biased;
            _ = term.recv() => break,
            () = &mut deadline => {
                return Err(BenchError::Case {
                    case: "passthrough",
                    message: format!("no SIGTERM within {} s; giving up", args.max_seconds),
                });
            }
            Some(done) = pipeline.in_flight.next(), if !pipeline.in_flight.is_empty() => pipeline.settle(done).await?,
            _ = report.tick() => {
                if pipeline.acked != reported {
                    reported = pipeline.acked;
                    println!("acked {reported}");
                }
            }
            message = stream.next(), if pipeline.in_flight.len() < args.max_in_flight => match message {
                Some(Ok(message)) => pipeline.forward(&message).await?,
                Some(Err(e)) => eprintln!("consume from {}: {e}", args.input),
                None => return Err(BenchError::kafka(format!("consume from {}", args.input), "stream ended")),
            },
        }
    }
    drop(stream);
    let drained = tokio::time::timeout(DRAIN_DEADLINE, async {
        while let Some(done) = pipeline.in_flight.next().await {
            pipeline.settle(done).await?;
        }
        Ok::<(), BenchError>(())
    })
    .await;
    println!("acked {}", pipeline.acked);
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => return Err(BenchError::kafka("commit offsets", e)),
    }
    drained.map_err(|_| BenchError::Case {
        case: "passthrough",
        message: format!("in-flight copies not acknowledged within {DRAIN_DEADLINE:?} of SIGTERM"),
    })?
}
