//! Compatibility levels: enforcement on registration, the check endpoint, and configuration.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PAYMENT_V1, PAYMENT_V2_OPTIONAL, PAYMENT_V2_REQUIRED, Registry, assert_error};

#[tokio::test]
async fn backward_accepts_an_optional_field_and_refuses_a_required_one_with_409() {
    let registry = Registry::start().await;
    let v1 = registry.register("payments-value", PAYMENT_V1).await;

    let refused = registry
        .post(
            "/subjects/payments-value/versions",
            json!({ "schema": PAYMENT_V2_REQUIRED }),
        )
        .await;
    assert_error(&refused, 409, 409);
    assert!(
        refused.1["message"].as_str().unwrap_or_default().contains("currency"),
        "{}",
        refused.1
    );
    assert_eq!(registry.get("/subjects/payments-value/versions").await.1, json!([1]));

    let v2 = registry.register("payments-value", PAYMENT_V2_OPTIONAL).await;
    assert_eq!(v2, v1 + 1);
    let (_, latest) = registry.get("/subjects/payments-value/versions/latest").await;
    assert_eq!((latest["version"].clone(), latest["id"].clone()), (json!(2), json!(v2)));
    registry.stop().await;
}

#[tokio::test]
async fn the_compatibility_endpoint_reports_verdict_and_reasons() {
    let registry = Registry::start().await;
    registry.register("payments-value", PAYMENT_V1).await;

    for path in [
        "/compatibility/subjects/payments-value/versions/latest",
        "/compatibility/subjects/payments-value/versions/1",
        "/compatibility/subjects/payments-value/versions",
    ] {
        let ok = registry.post(path, json!({ "schema": PAYMENT_V2_OPTIONAL })).await;
        assert_eq!(ok, (StatusCode::OK, json!({ "is_compatible": true })), "{path}");
        let (status, bad) = registry.post(path, json!({ "schema": PAYMENT_V2_REQUIRED })).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(bad["is_compatible"], false, "{path}");
        assert!(!bad["messages"].as_array().expect("messages").is_empty(), "{path}");
    }
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/nope/versions/latest",
                json!({ "schema": PAYMENT_V1 }),
            )
            .await,
        404,
        40401,
    );
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/payments-value/versions/9",
                json!({ "schema": PAYMENT_V1 }),
            )
            .await,
        404,
        40402,
    );
    assert_error(
        &registry
            .post(
                "/compatibility/subjects/payments-value/versions/latest",
                json!({ "schema": "{" }),
            )
            .await,
        422,
        42201,
    );
    registry.stop().await;
}

#[tokio::test]
async fn global_and_subject_config_can_be_read_and_changed() {
    let registry = Registry::start().await;
    assert_eq!(
        registry.get("/config").await,
        (StatusCode::OK, json!({ "compatibilityLevel": "BACKWARD" }))
    );
    assert_eq!(
        registry.put("/config", json!({ "compatibility": "full" })).await,
        (StatusCode::OK, json!({ "compatibility": "FULL" }))
    );
    assert_eq!(registry.get("/config").await.1, json!({ "compatibilityLevel": "FULL" }));
    assert_error(
        &registry.put("/config", json!({ "compatibility": "SIDEWAYS" })).await,
        422,
        42203,
    );

    assert_error(&registry.get("/config/payments-value").await, 404, 40408);
    assert_eq!(
        registry.get("/config/payments-value?defaultToGlobal=true").await.1,
        json!({ "compatibilityLevel": "FULL" })
    );
    assert_eq!(
        registry
            .put("/config/payments-value", json!({ "compatibility": "NONE" }))
            .await,
        (StatusCode::OK, json!({ "compatibility": "NONE" }))
    );
    assert_eq!(
        registry.get("/config/payments-value").await.1,
        json!({ "compatibilityLevel": "NONE" })
    );
    // The subject's own level applies: NONE lets an incompatible version in.
    registry.register("payments-value", PAYMENT_V1).await;
    registry.register("payments-value", PAYMENT_V2_REQUIRED).await;
    assert_eq!(registry.get("/subjects/payments-value/versions").await.1, json!([1, 2]));

    assert_eq!(
        registry.delete("/config/payments-value").await.1,
        json!({ "compatibilityLevel": "NONE" })
    );
    assert_error(&registry.get("/config/payments-value").await, 404, 40408);
    registry.stop().await;
}

#[tokio::test]
async fn forward_refuses_removing_a_required_field() {
    let registry = Registry::start().await;
    registry
        .put("/config/payments-value", json!({ "compatibility": "FORWARD" }))
        .await;
    registry.register("payments-value", PAYMENT_V2_REQUIRED).await;
    let answer = registry
        .post("/subjects/payments-value/versions", json!({ "schema": PAYMENT_V1 }))
        .await;
    assert_error(&answer, 409, 409);
    registry.stop().await;
}
