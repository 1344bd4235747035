//! Authentication: SCRAM-SHA-256 works as well as SHA-512; a wrong password is reported clearly,
//! keeps `/readyz` not ready, and does not crash-loop.

use std::time::Duration;

use crate::support::{Setup, WAIT, request};

#[tokio::test]
async fn scram_sha_256_is_accepted_too() {
    let s = Setup::new(1).await;
    let user = s.env.scram256_username.clone();
    let file = s.env.scram256_password_file.to_string_lossy().into_owned();
    let worker = s.spawn(&[
        ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256"),
        ("KAFKA_USERNAME", &user),
        ("KAFKA_PASSWORD_FILE", &file),
    ]);
    let r = request("acc-256", 42);
    s.send(&r).await;
    let mut processed = s.collect_when_ready(&worker, &s.processed).await;
    assert_eq!(processed.wait_until(WAIT, |r| !r.is_empty()).len(), 1);
    assert!(
        worker
            .lines()
            .iter()
            .any(|l| l.contains("kafka security in use") && l.contains("SCRAM-SHA-256"))
    );
    worker.terminate(WAIT).await;
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_not_ready_and_no_crash_loop() {
    let s = Setup::new(1).await;
    let dir = std::env::temp_dir().join(testkit::unique("wrong-pw"));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("password");
    std::fs::write(&file, "definitely-not-the-password\n").expect("write");
    let file = file.to_string_lossy().into_owned();
    let mut worker = s.spawn(&[("KAFKA_PASSWORD_FILE", &file)]);
    let line = worker.wait_for_line("uthentication", WAIT).await;
    assert!(
        !line.contains("definitely-not-the-password"),
        "the password leaked into the log: {line}"
    );
    // Stays up and backs off instead of exiting and restarting in a loop.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(worker.running(), "the worker exited:\n{}", worker.lines().join("\n"));
    let (status, body) = worker.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"ready\":false"), "{body}");
    assert!(body.contains("kafka_error") || body.contains("connecting"), "{body}");
    let (live, _) = worker.get("/livez").await;
    assert_eq!(live, 200);
    let attempts = worker
        .lines()
        .iter()
        .filter(|l| l.contains("cannot start consuming yet"))
        .count();
    assert!(
        attempts <= 6,
        "retries must back off, saw {attempts} attempts in a few seconds"
    );
    assert!(
        worker
            .lines()
            .iter()
            .all(|l| !l.contains("definitely-not-the-password"))
    );
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}
