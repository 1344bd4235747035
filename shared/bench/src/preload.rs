//! Preloading the input topic before the cases run. Records are encoded beforehand, so the rate
//! is that of producing alone: many deliveries in flight at once, every one awaited.

use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use crate::error::BenchError;
use crate::proc_stats::ProcFiles;
use crate::report::Row;
use crate::workload::Record;

/// Deliveries awaiting acknowledgement before the preload waits for one.
const MAX_IN_FLIGHT: usize = 10_000;
/// Attempts to enqueue one record while librdkafka's queue is full.
const MAX_FULL_ROUNDS: usize = 10_000;

/// Produces `records` to `topic` and waits until all are acknowledged; measures this process.
pub async fn preload(producer: &FutureProducer, topic: &str, records: &[Record]) -> Result<Row, BenchError> {
    let own = ProcFiles::own()?;
    let cpu_before = own.cpu_seconds()?;
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut acked = 0u64;
    for record in records {
        let mut pending = Some(
            FutureRecord::to(topic)
                .key(record.key.as_str())
                .payload(record.payload.as_slice()),
        );
        // Bounded: each full-queue round waits for at least one acknowledgement (or 2 ms).
        for _ in 0..MAX_FULL_ROUNDS {
            let Some(next) = pending.take() else { break };
            match producer.send_result(next) {
                Ok(delivery) => in_flight.push(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    pending = Some(back);
                    match in_flight.next().await {
                        Some(result) => acked += acknowledged(topic, result)?,
                        None => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
                    }
                }
                Err((e, _)) => return Err(BenchError::kafka(format!("produce to {topic}"), e)),
            }
        }
        if pending.is_some() {
            return Err(BenchError::kafka(
                format!("produce to {topic}"),
                "the producer queue stayed full",
            ));
        }
        while in_flight.len() >= MAX_IN_FLIGHT {
            if let Some(result) = in_flight.next().await {
                acked += acknowledged(topic, result)?;
            }
        }
    }
    while let Some(result) = in_flight.next().await {
        acked += acknowledged(topic, result)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Row {
        case: "preload".into(),
        events: acked,
        seconds,
        cpu_seconds: own.cpu_seconds()? - cpu_before,
        peak_rss_kib: own.peak_rss_kib()?,
        idle_cpu_per_second: None,
    })
}

/// 1 for an acknowledged delivery; an error for a failed or abandoned one.
fn acknowledged(topic: &str, result: <DeliveryFuture as Future>::Output) -> Result<u64, BenchError> {
    match result {
        Ok(Ok(_)) => Ok(1),
        Ok(Err((e, _))) => Err(BenchError::kafka(format!("deliver to {topic}"), e)),
        Err(_) => Err(BenchError::kafka(format!("deliver to {topic}"), "delivery abandoned")),
    }
}
