//! The state file: survives restarts, keeps ids monotonic.

use serde_json::json;

use crate::support::{PAYMENT_V1, PAYMENT_V2_OPTIONAL, Registry};

#[tokio::test]
async fn ids_versions_and_config_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("state.json");

    let registry = Registry::start_at(&file, None).await;
    let v1 = registry.register("payments-value", PAYMENT_V1).await;
    let v2 = registry.register("payments-value", PAYMENT_V2_OPTIONAL).await;
    let audit = registry.register("audit-value", PAYMENT_V1).await;
    registry.put("/config", json!({ "compatibility": "FULL" })).await;
    registry.delete("/subjects/audit-value").await;
    registry.stop().await;
    assert!(file.exists());
    assert!(!dir.path().join("state.json.tmp").exists());

    let registry = Registry::start_at(&file, None).await;
    assert_eq!(registry.register("payments-value", PAYMENT_V1).await, v1);
    assert_eq!(registry.register("payments-value", PAYMENT_V2_OPTIONAL).await, v2);
    assert_eq!(audit, v1);
    assert_eq!(registry.get("/subjects").await.1, json!(["payments-value"]));
    assert_eq!(
        registry.get("/subjects?deleted=true").await.1,
        json!(["audit-value", "payments-value"])
    );
    assert_eq!(registry.get("/config").await.1, json!({ "compatibilityLevel": "FULL" }));
    let (_, latest) = registry.get("/subjects/payments-value/versions/latest").await;
    assert_eq!((latest["version"].clone(), latest["id"].clone()), (json!(2), json!(v2)));

    // A new schema after the restart gets the next id, never a reused one.
    let next = registry
        .register("other-value", r#"{"type":"record","name":"Other","fields":[]}"#)
        .await;
    assert_eq!(next, v2 + 1);
    registry.stop().await;
}

#[tokio::test]
async fn a_corrupt_state_file_stops_serve_with_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("state.json");
    std::fs::write(&file, b"{\"format\": 99}").expect("write");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let options = dev_registry::RegistryOptions {
        data_file: file,
        basic_auth: None,
    };
    let err = dev_registry::serve(listener, options, tokio_util::sync::CancellationToken::new())
        .await
        .expect_err("corrupt state");
    assert_eq!(err.metric_label(), "corrupt_state");
}
