//! One benchmark run: fresh topics, the producer warm-up, the preload, then each case against the
//! same input (passthrough first); returns the printed report. Progress goes to stderr, the report to stdout.

use shared::codec::Codec;
use shared::config::KafkaConfig;
use shared::events::PaymentRequested;

use crate::cases::passthrough::PassthroughTopics;
use crate::cases::payments::{PaymentsTopics, worker_env};
use crate::cli::RunArgs;
use crate::error::BenchError;
use crate::report::{Machine, Row, idle_notes, ratios, table};

/// Partitions of the input and the passthrough output (the worker sizes its outputs like its input).
pub const PARTITIONS: i32 = 3;

/// Runs preload, passthrough and payments. An error before the cases (topics, registry, preload)
/// is returned as such; a case's failure is returned in the [`Outcome`] with the rows before it.
pub async fn run(kafka: &KafkaConfig, args: &RunArgs) -> Result<Outcome, BenchError> {
    let machine = Machine::current(args.events);
    let limit = args.timeout();
    let base = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let input = format!("{base}.payment-requested");
    let payments = PaymentsTopics::new(&base, &input);
    let passthrough = PassthroughTopics {
        input: input.clone(),
        output: format!("{base}.passthrough"),
        group: format!("{base}-passthrough"),
        warmup: format!("{base}.warmup"),
    };
    eprintln!(
        "bench: {machine}; topics {base}.*; each case bounded by {} s",
        limit.as_secs()
    );

    crate::kafka::create_topics(
        kafka,
        &[
            (&input, PARTITIONS),
            (&passthrough.output, PARTITIONS),
            (&passthrough.warmup, 1),
        ],
    )
    .await?;
    let registry = args.registry()?;
    let mut codec = Codec::new(&registry)?;
    let schema_id = codec.register_output::<PaymentRequested>(&input).await?;
    let records = crate::workload::records(&codec, &input, args.events, args.payers())?;
    let producer = crate::kafka::producer(kafka, "bench-preload")?;
    crate::kafka::warm_up(&producer, &passthrough.warmup).await?;
    eprintln!(
        "bench: preloading {} requests ({} payers, schema id {schema_id}) into {input}",
        args.events,
        args.payers()
    );
    let preload = tokio::time::timeout(limit, crate::preload::preload(&producer, &input, &records))
        .await
        .map_err(|_| BenchError::Timeout {
            case: "preload",
            limit,
            done: 0,
            wanted: args.events,
            tail: String::new(),
        })??;
    drop(records);
    let mut rows = vec![preload];

    // The passthrough goes first: it writes no headers, while the worker writes four per input,
    // and the local broker looks up every fetched record's headers with a scan of all headers
    // stored (see the crate docs). Each case then only pays for its own writes.
    // A case that fails ends the run, but the rows measured so far are still reported.
    let mut failure = None;
    if args.runs("passthrough") {
        eprintln!("bench: passthrough");
        match crate::cases::passthrough::run(kafka, &passthrough, args.events, limit).await {
            Ok(row) => rows.push(row),
            Err(e) => failure = Some(e),
        }
    }
    if args.runs("payments") && failure.is_none() {
        eprintln!("bench: payments worker {}", args.payments_bin.display());
        let mut env = worker_env(kafka, &registry, &payments);
        env.extend(args.worker_env.iter().cloned());
        match crate::cases::payments::run(&args.payments_bin, &env, &payments, args.events, limit).await {
            Ok(row) => rows.push(row),
            Err(e) => failure = Some(e),
        }
    }
    Ok(Outcome {
        report: report(&machine, &rows),
        failure,
    })
}

/// What a run produced: the report of the cases that finished, and why the run stopped early.
#[derive(Debug)]
pub struct Outcome {
    /// The printed report.
    pub report: String,
    /// The case failure that ended the run, if one did.
    pub failure: Option<BenchError>,
}

/// The printed report: machine facts, the table, and the ratios when both cases ran.
pub fn report(machine: &Machine, rows: &[Row]) -> String {
    let mut out = format!("{machine}\n\n{}{}", table(rows), idle_notes(rows));
    let find = |case: &str| rows.iter().find(|r| r.case == case);
    if let (Some(p), Some(t)) = (find("payments"), find("passthrough")) {
        out.push('\n');
        out.push_str(&ratios(p, t));
    }
    out
}
