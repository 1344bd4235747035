//! Traces: the incoming `traceparent` continues through the worker into its outputs, and spans
//! are exported over OTLP/HTTP to the configured collector (a real local HTTP server here).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Setup, WAIT, request};

/// A minimal OTLP/HTTP collector: accepts POSTs, keeps each request (head + body).
async fn collector() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await {
                        Ok(Ok(n)) if n > 0 => n,
                        _ => break,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= head_end + 4 + length {
                            break;
                        }
                    }
                }
                store.lock().expect("store").push(buf);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    (format!("http://{addr}"), received)
}

#[tokio::test]
async fn one_payment_is_one_trace_across_kafka_and_spans_reach_the_otlp_collector() {
    let (endpoint, received) = collector().await;
    let s = Setup::new(1).await;
    let worker = s.spawn(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    worker.wait_ready(WAIT).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let r = request("acc-traced", 10);
    let payload = testkit::kafka::frame(s.schema_id, &r);
    s.producer
        .send(
            FutureRecord::to(&s.input)
                .key(&r.payer_account)
                .payload(&payload)
                .headers(OwnedHeaders::new().insert(Header {
                    key: "traceparent",
                    value: Some(traceparent.as_str()),
                })),
            Duration::from_secs(30),
        )
        .await
        .expect("produce");
    let mut processed = s.collect(&s.processed);
    let out = processed.wait_until(WAIT, |r| !r.is_empty()).to_vec();
    let header = out[0].header("traceparent").expect("traceparent on the output");
    assert!(header.starts_with(&format!("00-{trace_id}-")), "{header}");
    assert!(
        !header.contains("00f067aa0ba902b7"),
        "the output carries the worker's own span id: {header}"
    );

    let raw_trace_id: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let started = std::time::Instant::now();
    loop {
        let found = received.lock().expect("store").iter().any(|req| {
            String::from_utf8_lossy(req).starts_with("POST /v1/traces")
                && req.windows(16).any(|w| w == raw_trace_id.as_slice())
        });
        if found {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no span with trace id {trace_id} reached the collector"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    worker.terminate(WAIT).await;
}
