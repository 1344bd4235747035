//! The policy gate: every Rego unit test passes, the committed `k8s/` and every rendered
//! `ci/*-values.yaml` set have zero denials, and the deliberately insecure values file is denied
//! with exactly the expected messages.
//!
//! The rendered sets come from `shared/deploy-check/lint-deploy.sh`, which renders the chart with
//! the real Helm engine into `target/deploy-rendered/` (override: `PAYSTREAM_RENDERED_DIR`) and
//! then runs this test. Run on its own without them, the tests that need them fail and say so.

use std::path::PathBuf;

use deploy_check::{PolicySet, load_manifest_dir, load_manifest_file, repo_root};

fn policies() -> PolicySet {
    match PolicySet::load(&repo_root().join("policies")) {
        Ok(set) => set,
        Err(err) => panic!("policies/ must load: {err}"),
    }
}

/// The folder of rendered manifest sets, or a failure that says how to produce it.
fn rendered_dir() -> PathBuf {
    let dir = std::env::var_os("PAYSTREAM_RENDERED_DIR")
        .map_or_else(|| repo_root().join("target").join("deploy-rendered"), PathBuf::from);
    assert!(
        dir.join("index.json").is_file(),
        "no rendered manifest sets in {}: run `shared/deploy-check/lint-deploy.sh` (make lint-deploy), \
         which renders helm/paystream with every ci/*-values.yaml and then runs this test",
        dir.display()
    );
    dir
}

/// The insecure fixture must be denied with exactly these messages (sorted).
const INSECURE_DENIALS: &[&str] = &[
    "Deployment payments-prod/paystream-ledger: container ledger: KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT (from ConfigMap paystream-ledger) is unencrypted; only dev namespaces may use it, use SASL_SSL or SSL",
    "Deployment payments-prod/paystream-ledger: container ledger: PAYSTREAM_ALLOW_INSECURE_DEV=true (from ConfigMap paystream-ledger) is for development namespaces only",
    "Deployment payments-prod/paystream-ledger: container ledger: image registry.example.invalid/paystream/paystream:latest uses the mutable tag latest; pin a version tag or a digest",
    "Deployment payments-prod/paystream-ledger: container ledger: must define a livenessProbe",
    "Deployment payments-prod/paystream-ledger: container ledger: must define a readinessProbe",
    "Deployment payments-prod/paystream-ledger: container ledger: must not add capability NET_ADMIN",
    "Deployment payments-prod/paystream-ledger: container ledger: must not run as UID 0 (securityContext.runAsUser)",
    "Deployment payments-prod/paystream-ledger: container ledger: must run as non-root (securityContext.runAsNonRoot: true)",
    "Deployment payments-prod/paystream-ledger: container ledger: must set securityContext.allowPrivilegeEscalation: false",
    "Deployment payments-prod/paystream-ledger: container ledger: must set securityContext.readOnlyRootFilesystem: true",
    "Deployment payments-prod/paystream-ledger: container ledger: must use seccompProfile RuntimeDefault or Localhost",
    "Deployment payments-prod/paystream-ledger: no NetworkPolicy in namespace payments-prod selects its pods",
    "Deployment payments-prod/paystream-payments: container payments: KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT (from ConfigMap paystream-payments) is unencrypted; only dev namespaces may use it, use SASL_SSL or SSL",
    "Deployment payments-prod/paystream-payments: container payments: PAYSTREAM_ALLOW_INSECURE_DEV=true (from ConfigMap paystream-payments) is for development namespaces only",
    "Deployment payments-prod/paystream-payments: container payments: env KAFKA_SASL_PASSWORD is a credential in plain text (from ConfigMap paystream-payments); mount it from a Secret as a *_FILE or use valueFrom.secretKeyRef",
    "Deployment payments-prod/paystream-payments: container payments: image registry.example.invalid/paystream/paystream:latest uses the mutable tag latest; pin a version tag or a digest",
    "Deployment payments-prod/paystream-payments: container payments: must define a livenessProbe",
    "Deployment payments-prod/paystream-payments: container payments: must define a readinessProbe",
    "Deployment payments-prod/paystream-payments: container payments: must not add capability NET_ADMIN",
    "Deployment payments-prod/paystream-payments: container payments: must not run as UID 0 (securityContext.runAsUser)",
    "Deployment payments-prod/paystream-payments: container payments: must run as non-root (securityContext.runAsNonRoot: true)",
    "Deployment payments-prod/paystream-payments: container payments: must set resources.limits.cpu",
    "Deployment payments-prod/paystream-payments: container payments: must set resources.limits.memory",
    "Deployment payments-prod/paystream-payments: container payments: must set resources.requests.cpu",
    "Deployment payments-prod/paystream-payments: container payments: must set resources.requests.memory",
    "Deployment payments-prod/paystream-payments: container payments: must set securityContext.allowPrivilegeEscalation: false",
    "Deployment payments-prod/paystream-payments: container payments: must set securityContext.readOnlyRootFilesystem: true",
    "Deployment payments-prod/paystream-payments: container payments: must use seccompProfile RuntimeDefault or Localhost",
    "Deployment payments-prod/paystream-payments: no NetworkPolicy in namespace payments-prod selects its pods",
    "KafkaTopic payments-prod/audit.ledger-events: audit topic audit.ledger-events must retain records for 7 years (retention.ms -1 or >= 220903200000), has retention.ms 2592000000",
    "KafkaTopic payments-prod/audit.ledger-events: topic audit.ledger-events needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/audit.ledger-events: topic audit.ledger-events needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/audit.payment-events: audit topic audit.payment-events must retain records for 7 years (retention.ms -1 or >= 220903200000), has retention.ms 2592000000",
    "KafkaTopic payments-prod/audit.payment-events: topic audit.payment-events needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/audit.payment-events: topic audit.payment-events needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.balance-updated: topic ledger.balance-updated needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.balance-updated: topic ledger.balance-updated needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.ledger.postings.changelog: topic ledger.ledger.postings.changelog needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.ledger.postings.changelog: topic ledger.ledger.postings.changelog needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.ledger.transactions.changelog: topic ledger.ledger.transactions.changelog needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.ledger.transactions.changelog: topic ledger.ledger.transactions.changelog needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.postings.dlq: topic ledger.postings.dlq needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.postings.dlq: topic ledger.postings.dlq needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.postings: internal topic ledger.postings must retain records at least 3 days (retention.ms -1 or >= 259200000), has 3600000: unread records would be lost while a worker is down",
    "KafkaTopic payments-prod/ledger.postings: topic ledger.postings needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.postings: topic ledger.postings needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.transaction-rejected: topic ledger.transaction-rejected needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.transaction-rejected: topic ledger.transaction-rejected needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.transaction-requested.dlq: topic ledger.transaction-requested.dlq needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.transaction-requested.dlq: topic ledger.transaction-requested.dlq needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.transaction-requested: topic ledger.transaction-requested needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.transaction-requested: topic ledger.transaction-requested needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.transactions.dlq: topic ledger.transactions.dlq needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.transactions.dlq: topic ledger.transactions.dlq needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/ledger.transactions: topic ledger.transactions needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/ledger.transactions: topic ledger.transactions needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-failed: topic payments.payment-failed needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-failed: topic payments.payment-failed needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-processed.dlq: topic payments.payment-processed.dlq needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-processed.dlq: topic payments.payment-processed.dlq needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-processed: topic payments.payment-processed needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-processed: topic payments.payment-processed needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-requested.dlq: topic payments.payment-requested.dlq needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-requested.dlq: topic payments.payment-requested.dlq needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-requested: topic payments.payment-requested needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-requested: topic payments.payment-requested needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-reversal-requested.dlq: topic payments.payment-reversal-requested.dlq needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-reversal-requested.dlq: topic payments.payment-reversal-requested.dlq needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payment-reversal-requested: topic payments.payment-reversal-requested needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payment-reversal-requested: topic payments.payment-reversal-requested needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payments.payment-requested.changelog: changelog topic payments.payments.payment-requested.changelog must set cleanup.policy compact, has delete: a time- or size-based delete loses state",
    "KafkaTopic payments-prod/payments.payments.payment-requested.changelog: topic payments.payments.payment-requested.changelog needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payments.payment-requested.changelog: topic payments.payments.payment-requested.changelog needs spec.replicas >= 3, has 1",
    "KafkaTopic payments-prod/payments.payments.payment-reversal-requested.changelog: topic payments.payments.payment-reversal-requested.changelog needs config min.insync.replicas >= 2, has 1",
    "KafkaTopic payments-prod/payments.payments.payment-reversal-requested.changelog: topic payments.payments.payment-reversal-requested.changelog needs spec.replicas >= 3, has 1",
    "KafkaUser payments-prod/paystream-payments: ACL grants All on topic \"payments.\" (prefix): no wildcard or prefix on write operations, name each topic",
    "KafkaUser payments-prod/paystream-payments: ACL grants Write on topic \"*\" (literal): no wildcard or prefix on write operations, name each topic",
];

#[test]
fn every_rego_unit_test_passes() {
    let outcomes = policies().run_tests();
    assert!(
        outcomes.len() >= 40,
        "expected the policy test suites, found {} tests",
        outcomes.len()
    );
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.failure
                .as_ref()
                .map(|why| format!("{} ({}): {why}", o.rule, o.file.display()))
        })
        .collect();
    assert!(failures.is_empty(), "failing Rego tests:\n{}", failures.join("\n"));
}

#[test]
fn every_policy_folder_has_a_deny_rule_and_a_test_file() {
    let root = repo_root().join("policies");
    let set = policies();
    let mut folders: Vec<_> = std::fs::read_dir(&root)
        .expect("read policies/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "lib"))
        .collect();
    folders.sort();
    assert!(folders.len() >= 10, "expected one folder per policy, found {folders:?}");
    for folder in folders {
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .replace('-', "_");
        assert!(
            folder.join(format!("{name}.rego")).is_file(),
            "{} needs {name}.rego",
            folder.display()
        );
        assert!(
            folder.join(format!("{name}_test.rego")).is_file(),
            "{} needs {name}_test.rego",
            folder.display()
        );
        let rule = format!("data.paystream.{name}.deny");
        assert!(
            set.deny_rules().contains(&rule),
            "{} must define {rule}",
            folder.display()
        );
    }
}

#[test]
fn committed_k8s_manifests_have_no_denials() {
    let set = load_manifest_dir(&repo_root().join("k8s")).expect("k8s/ loads");
    let kinds: std::collections::BTreeSet<_> = set.objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    for kind in [
        "Namespace",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ServiceAccount",
    ] {
        assert!(kinds.contains(kind), "k8s/ has no {kind}: {kinds:?}");
    }
    let denials = policies().evaluate(&set).expect("evaluate k8s/");
    let messages: Vec<_> = denials.iter().map(|d| d.message.as_str()).collect();
    assert!(messages.is_empty(), "k8s/ is denied:\n{}", messages.join("\n"));
}

#[test]
fn every_rendered_ci_values_set_has_no_denials() {
    let dir = rendered_dir();
    let mut policies = policies();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("read rendered dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml") && p.file_stem().is_some_and(|s| s != "insecure"))
        .collect();
    entries.sort();
    for path in entries {
        let set = load_manifest_file(&path).expect("rendered set loads");
        let denials = policies.evaluate(&set).expect("evaluate");
        let messages: Vec<_> = denials.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.is_empty(),
            "{} is denied:\n{}",
            path.display(),
            messages.join("\n")
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "expected minimal, production and feature sets in {}, found {checked}",
        dir.display()
    );
}

#[test]
fn production_values_set_is_present_and_clean() {
    let path = rendered_dir().join("production.yaml");
    let set = load_manifest_file(&path).expect("production set loads");
    let kinds: std::collections::BTreeSet<_> = set.objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    for kind in [
        "Deployment",
        "NetworkPolicy",
        "KafkaTopic",
        "KafkaUser",
        "PrometheusRule",
        "ScaledObject",
        "ServiceMonitor",
    ] {
        assert!(kinds.contains(kind), "production render has no {kind}: {kinds:?}");
    }
    assert!(policies().evaluate(&set).expect("evaluate").is_empty());
}

#[test]
fn insecure_values_are_denied_with_the_expected_messages() {
    let path = rendered_dir().join("insecure.yaml");
    let set = load_manifest_file(&path).expect("insecure set loads");
    let denials = policies().evaluate(&set).expect("evaluate");
    let mut got: Vec<&str> = denials.iter().map(|d| d.message.as_str()).collect();
    got.sort_unstable();
    let mut want = INSECURE_DENIALS.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "deny messages of {} changed", path.display());
}
