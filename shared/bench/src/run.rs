//! One benchmark run: fresh topics, the producer warm-up, the preloads, then each selected case
//! (passthrough, payments, ledger, notifications, in that order; notifications preloads its own
//! input per level); returns the printed report. Progress goes to stderr, the report to stdout.

use std::time::Duration;

use rdkafka::producer::FutureProducer;
use shared::codec::Codec;
use shared::config::KafkaConfig;
use shared::events::{PaymentRequested, TransactionRequested};

use crate::cases::ledger::LedgerTopics;
use crate::cases::passthrough::PassthroughTopics;
use crate::cases::payments::PaymentsTopics;
use crate::cli::{Case, RunArgs};
use crate::error::BenchError;
use crate::ledger_workload::{self, Mix, OVERDRAFT_ALLOWED_PREFIXES};
use crate::report::{Machine, Row, idle_notes, ratios, table};
use crate::workload::Record;

/// Partitions of the preloaded inputs and the passthrough output (the workers size their outputs
/// like their inputs).
pub const PARTITIONS: i32 = 3;

/// Runs the preloads and the selected cases. An error before the cases (topics, registry,
/// preload) is returned as such; a case's failure is returned in the [`Outcome`] with the rows
/// before it.
pub async fn run(kafka: &KafkaConfig, args: &RunArgs) -> Result<Outcome, BenchError> {
    let machine = Machine::current(args.events);
    let limit = args.timeout(Case::Payments);
    let base = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let input = format!("{base}.payment-requested");
    let payments = PaymentsTopics::new(&base, &input);
    let passthrough = PassthroughTopics {
        input: input.clone(),
        output: format!("{base}.passthrough"),
        group: format!("{base}-passthrough"),
        warmup: format!("{base}.warmup"),
    };
    let ledger = LedgerTopics::new(&base);
    let payment_requests = args.runs(Case::Passthrough) || args.runs(Case::Payments);
    eprintln!(
        "bench: {machine}; topics {base}.*; each case bounded by {} s (the ledger {} s)",
        limit.as_secs(),
        args.timeout(Case::Ledger).as_secs()
    );

    let mut topics = vec![(passthrough.warmup.as_str(), 1)];
    if payment_requests {
        topics.extend([(input.as_str(), PARTITIONS), (passthrough.output.as_str(), PARTITIONS)]);
    }
    if args.runs(Case::Ledger) {
        // The ledger's second external input stays empty; it must exist like any input.
        topics.extend([
            (ledger.input.as_str(), PARTITIONS),
            (ledger.payment_processed.as_str(), PARTITIONS),
        ]);
    }
    crate::kafka::create_topics(kafka, &topics).await?;
    let registry = args.registry()?;
    let mut codec = Codec::new(&registry)?;
    let producer = crate::kafka::producer(kafka, "bench-preload")?;
    crate::kafka::warm_up(&producer, &passthrough.warmup).await?;
    let mut rows = Vec::new();
    let mut notes = String::new();
    if payment_requests {
        let schema_id = codec.register_output::<PaymentRequested>(&input).await?;
        let records = crate::workload::records(&codec, &input, args.events, args.payers())?;
        eprintln!(
            "bench: preloading {} requests ({} payers, schema id {schema_id}) into {input}",
            args.events,
            args.payers()
        );
        rows.push(preload(&producer, &input, &records, limit).await?);
    }
    let mut mix = Mix::default();
    if args.runs(Case::Ledger) {
        let schema_id = codec.register_output::<TransactionRequested>(&ledger.input).await?;
        let now_ms = crate::workload::now_ms();
        let transactions = ledger_workload::generate(args.events, args.accounts, args.seed, now_ms);
        mix = Mix::of(&transactions);
        let records = ledger_workload::records(&codec, &ledger.input, &transactions)?;
        eprintln!(
            "bench: preloading {} transaction requests (schema id {schema_id}) into {}",
            args.events, ledger.input
        );
        let mut row = preload(&producer, &ledger.input, &records, limit).await?;
        row.case = "preload-ledger".into();
        rows.push(row);
        notes.push_str(&format!(
            "ledger input: {} transaction requests keyed by transaction id, {} acc-* accounts, seed {}: {mix}; \
             LEDGER_OVERDRAFT_ALLOWED_PREFIXES={OVERDRAFT_ALLOWED_PREFIXES} (cust-* may not), so every outcome \
             is known in advance; ledger events = transactions\n",
            args.events, args.accounts, args.seed
        ));
    }

    // The passthrough goes first: it writes no headers, while the workers write several per
    // input, and the local broker looks up every fetched record's headers (see the crate docs).
    // A case that fails ends the run, but the rows measured so far are still reported.
    let mut failure = None;
    if args.runs(Case::Passthrough) {
        eprintln!("bench: passthrough");
        match crate::cases::passthrough::run(kafka, &passthrough, args.events, limit).await {
            Ok(row) => rows.push(row),
            Err(e) => failure = Some(e),
        }
    }
    if args.runs(Case::Payments) && failure.is_none() {
        eprintln!("bench: payments worker {}", args.payments_bin.display());
        let mut env = crate::cases::payments::worker_env(kafka, &registry, &payments);
        env.extend(args.worker_env.iter().cloned());
        match crate::cases::payments::run(&args.payments_bin, &env, &payments, args.events, limit).await {
            Ok(row) => rows.push(row),
            Err(e) => failure = Some(e),
        }
    }
    if args.runs(Case::Ledger) && failure.is_none() {
        eprintln!("bench: ledger worker {}", args.ledger_bin.display());
        let mut env = crate::cases::ledger::worker_env(kafka, &registry, &ledger);
        env.extend(args.worker_env.iter().cloned());
        let limit = args.timeout(Case::Ledger);
        match crate::cases::ledger::run(&args.ledger_bin, &env, &ledger, &mix, limit).await {
            Ok(run) => {
                rows.push(run.row);
                notes.push_str(&run.notes);
            }
            Err(e) => failure = Some(e),
        }
    }
    if args.runs(Case::Notifications) && failure.is_none() {
        let sweep = crate::cases::notifications::Sweep {
            bin: args.notifications_bin.clone(),
            events: args.events,
            concurrency: args.notifications_concurrency.clone(),
            delay: Duration::from_millis(args.notifications_delay_ms),
            shared_fraction: args.notifications_shared_keys,
            partitions: PARTITIONS,
            base_timeout: args.timeout(Case::Notifications),
            extra_env: args.worker_env.clone(),
        };
        let run = crate::cases::notifications::run(kafka, &registry, &mut codec, &producer, &base, &sweep).await;
        notes.push_str(&run.notes);
        failure = run.failure;
    }
    Ok(Outcome {
        report: report(&machine, &rows, &notes),
        failure,
    })
}

/// Preloads `records` into `topic`, bounded by `limit`.
async fn preload(
    producer: &FutureProducer,
    topic: &str,
    records: &[Record],
    limit: Duration,
) -> Result<Row, BenchError> {
    tokio::time::timeout(limit, crate::preload::preload(producer, topic, records))
        .await
        .map_err(|_| BenchError::Timeout {
            case: "preload",
            limit,
            done: 0,
            wanted: records.len() as u64,
            tail: String::new(),
        })?
}

/// What a run produced: the report of the cases that finished, and why the run stopped early.
#[derive(Debug)]
pub struct Outcome {
    /// The printed report.
    pub report: String,
    /// The case failure that ended the run, if one did.
    pub failure: Option<BenchError>,
}

/// The printed report: machine facts, the table (when a case made rows), the cases' notes, and
/// each worker's ratios to the passthrough when both ran.
pub fn report(machine: &Machine, rows: &[Row], notes: &str) -> String {
    // A run of the notifications case alone has no rows: its sweep table is in the notes.
    let rows_table = if rows.is_empty() { String::new() } else { table(rows) };
    let mut out = format!("{machine}\n\n{rows_table}{}{notes}", idle_notes(rows));
    let find = |case: &str| rows.iter().find(|r| r.case == case);
    for worker in ["payments", "ledger"] {
        if let (Some(w), Some(t)) = (find(worker), find("passthrough")) {
            out.push('\n');
            out.push_str(&ratios(w, t));
        }
    }
    out
}
