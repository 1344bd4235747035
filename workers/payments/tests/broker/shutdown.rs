//! SIGTERM drains: in-flight work finishes, offsets are committed, the process exits 0, and a
//! restarted worker does not redo what was committed.

use std::time::Duration;

use crate::support::{Setup, WAIT, outcomes, request};

#[tokio::test]
async fn sigterm_drains_commits_and_exits_zero_so_a_restart_redoes_nothing() {
    let s = Setup::new(2).await;
    let worker = s.spawn(&[]);
    worker.wait_ready(WAIT).await;
    let mut requests = Vec::new();
    for i in 0..400 {
        let r = request(&format!("acc-term-{}", i % 97), 100 + i);
        s.send(&r).await;
        requests.push(r);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, lines) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0), "{}", lines.join("\n"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"message\":\"drained\"") && l.contains("\"clean\":true")),
        "{}",
        lines.join("\n")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("shutdown requested") && l.contains("SIGTERM"))
    );

    let again = s.spawn(&[]);
    again.wait_ready(WAIT).await;
    let mut processed = s.collect(&s.processed);
    let mut failed = s.collect(&s.failed);
    let started = std::time::Instant::now();
    while outcomes(&processed, &failed).len() < requests.len() && started.elapsed() < WAIT {
        processed.read_to_end(WAIT);
        failed.read_to_end(WAIT);
    }
    // Give a wrongly re-processing worker time to show itself, then count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    processed.read_to_end(WAIT);
    failed.read_to_end(WAIT);
    assert_eq!(
        outcomes(&processed, &failed).len(),
        requests.len(),
        "a clean drain leaves nothing to redo"
    );
    again.terminate(WAIT).await;
}
