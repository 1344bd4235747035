//! Startup configuration: flags, defaults, and what `build` makes or refuses.

use std::path::Path;

use clap::{CommandFactory, Parser};
use notifications::Channel;
use notifications::config::{ConfigError, NotificationsConfig};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    config: NotificationsConfig,
}

fn parse(extra: &[&str]) -> NotificationsConfig {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = root.join("templates");
    let rules = root.join("config/rules.yaml");
    let recipients = root.join("config/recipients.yaml");
    let mut args = vec!["notifications".to_owned()];
    for (flag, path) in [
        ("--templates-dir", templates),
        ("--rules-file", rules),
        ("--recipients-file", recipients),
    ] {
        // A test's own value for the flag replaces the shipped file.
        if !extra.iter().any(|e| e.starts_with(flag)) {
            args.push(format!("{flag}={}", path.display()));
        }
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    Cli::try_parse_from(args).expect("parse").config
}

#[test]
fn the_command_line_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn by_default_everything_loads_and_no_channel_is_enabled() {
    let built = parse(&[]).build().expect("build");
    let now = std::time::Instant::now();
    for c in Channel::ALL {
        assert!(!built.senders.is_enabled(c), "{c}");
        assert_eq!(
            built.circuits.summary(c, now).state,
            notifications::breaker::CLOSED,
            "{c}"
        );
    }
    assert_eq!(built.circuits.webhook_endpoints(), 0);
    assert!(built.rate_limits.is_empty());
}

#[test]
fn each_channel_is_enabled_by_its_endpoint_and_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("write");
    let secret = secret.display().to_string();
    let built = parse(&[
        "--smtp-host=127.0.0.1",
        "--smtp-mode=plain",
        "--smtp-allow-insecure",
        "--smtp-username=u",
        &format!("--smtp-password-file={secret}"),
        "--sms-base-url=http://127.0.0.1:1",
        "--sms-account-sid=AC1",
        &format!("--sms-auth-token-file={secret}"),
        "--sms-from=+15005550006",
        "--push-base-url=http://127.0.0.1:1",
        "--push-project-id=p",
        &format!("--push-token-file={secret}"),
        &format!("--webhook-secret-file={secret}"),
        "--rate-limit-sms-per-second=5",
    ])
    .build()
    .expect("build");
    for c in Channel::ALL {
        assert!(built.senders.is_enabled(c), "{c}");
    }
    assert_eq!(built.rate_limits.keys().copied().collect::<Vec<_>>(), [Channel::Sms]);
}

#[test]
fn bad_combinations_and_unreadable_files_are_refused_naming_them() {
    let err = parse(&["--smtp-host=x", "--smtp-mode=plain"])
        .build()
        .expect_err("insecure");
    assert!(matches!(err, ConfigError::Email(_)), "{err:?}");
    let err = parse(&["--sms-base-url=http://x"]).build().expect_err("sid");
    assert!(err.to_string().contains("--sms-account-sid"), "{err}");
    let err = parse(&["--webhook-secret-file=/nonexistent/secret"])
        .build()
        .expect_err("file");
    assert!(err.to_string().contains("/nonexistent/secret"), "{err}");
    let err = parse(&["--templates-dir=/nonexistent/templates"])
        .build()
        .expect_err("dir");
    assert!(err.to_string().contains("/nonexistent/templates"), "{err}");
    let err = parse(&["--rules-file=/nonexistent/rules.yaml"])
        .build()
        .expect_err("rules");
    assert!(err.to_string().contains("/nonexistent/rules.yaml"), "{err}");
}
