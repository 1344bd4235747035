//! Registering, reading and deleting schemas; Confluent error codes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{PAYMENT_V1, PAYMENT_V2_OPTIONAL, Registry, assert_error};

#[tokio::test]
async fn health_answers_an_empty_object() {
    let registry = Registry::start().await;
    assert_eq!(registry.get("/").await, (StatusCode::OK, json!({})));
    assert_eq!(registry.get("/schemas/types").await.1, json!(["AVRO"]));
    registry.stop().await;
}

#[tokio::test]
async fn a_registered_schema_is_found_by_id_lookup_and_latest() {
    let registry = Registry::start().await;
    let id = registry.register("payments-value", PAYMENT_V1).await;

    let (status, by_id) = registry.get(&format!("/schemas/ids/{id}?deleted=true")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, json!({ "schema": PAYMENT_V1, "schemaType": "AVRO" }));

    let expected = json!({
        "subject": "payments-value", "id": id, "version": 1,
        "schema": PAYMENT_V1, "schemaType": "AVRO",
    });
    let lookup = registry
        .post(
            "/subjects/payments-value?deleted=false",
            json!({ "schema": PAYMENT_V1 }),
        )
        .await;
    assert_eq!(lookup, (StatusCode::OK, expected.clone()));
    assert_eq!(
        registry.get("/subjects/payments-value/versions/latest").await.1,
        expected
    );
    assert_eq!(registry.get("/subjects/payments-value/versions/1").await.1, expected);
    assert_eq!(registry.get("/subjects/payments-value/versions/-1").await.1, expected);
    assert_eq!(registry.get("/subjects").await.1, json!(["payments-value"]));
    assert_eq!(registry.get("/subjects/payments-value/versions").await.1, json!([1]));
    assert_eq!(
        registry.get(&format!("/schemas/ids/{id}/versions")).await.1,
        json!([{ "subject": "payments-value", "version": 1 }])
    );
    // The raw schema endpoint returns the schema itself.
    let (_, raw) = registry.get("/subjects/payments-value/versions/1/schema").await;
    assert_eq!(raw["name"], "Payment");
    registry.stop().await;
}

#[tokio::test]
async fn re_registering_an_identical_schema_returns_the_existing_id_and_version() {
    let registry = Registry::start().await;
    let id = registry.register("payments-value", PAYMENT_V1).await;
    // Same schema, different formatting and attribute order.
    let reformatted =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(PAYMENT_V1).expect("json"))
            .expect("json");
    assert_eq!(registry.register("payments-value", &reformatted).await, id);
    assert_eq!(registry.register("payments-value", PAYMENT_V1).await, id);
    assert_eq!(registry.get("/subjects/payments-value/versions").await.1, json!([1]));
    registry.stop().await;
}

#[tokio::test]
async fn the_same_schema_under_two_subjects_shares_one_global_id() {
    let registry = Registry::start().await;
    let first = registry.register("payments-value", PAYMENT_V1).await;
    let second = registry.register("audit-value", PAYMENT_V1).await;
    assert_eq!(first, second);
    let other = registry.register("payments-value", PAYMENT_V2_OPTIONAL).await;
    assert_ne!(other, first);
    assert_eq!(
        registry.get(&format!("/schemas/ids/{first}/versions")).await.1,
        json!([
            { "subject": "audit-value", "version": 1 },
            { "subject": "payments-value", "version": 1 },
        ])
    );
    assert_eq!(
        registry.get(&format!("/schemas/ids/{first}/subjects")).await.1,
        json!(["audit-value", "payments-value"])
    );
    registry.stop().await;
}

#[tokio::test]
async fn concurrent_registrations_get_distinct_increasing_ids() {
    let registry = Registry::start().await;
    let registrations = (0..8).map(|n| {
        let schema = format!(r#"{{"type":"record","name":"R{n}","fields":[]}}"#);
        let registry = &registry;
        async move { registry.register(&format!("subject-{n}"), &schema).await }
    });
    let mut ids = futures::future::join_all(registrations).await;
    ids.sort_unstable();
    assert_eq!(ids, (1..=8).collect::<Vec<u64>>());
    registry.stop().await;
}

#[tokio::test]
async fn missing_subjects_versions_and_ids_answer_with_confluent_codes() {
    let registry = Registry::start().await;
    assert_error(&registry.get("/subjects/nope/versions").await, 404, 40401);
    assert_error(&registry.get("/subjects/nope/versions/latest").await, 404, 40401);
    assert_error(
        &registry.post("/subjects/nope", json!({ "schema": PAYMENT_V1 })).await,
        404,
        40401,
    );
    assert_error(&registry.get("/schemas/ids/99").await, 404, 40403);
    assert_error(&registry.get("/schemas/ids/abc").await, 404, 40403);

    registry.register("payments-value", PAYMENT_V1).await;
    assert_error(&registry.get("/subjects/payments-value/versions/7").await, 404, 40402);
    assert_error(&registry.get("/subjects/payments-value/versions/0").await, 422, 42202);
    assert_error(&registry.get("/subjects/payments-value/versions/x").await, 422, 42202);
    assert_error(
        &registry
            .post("/subjects/payments-value", json!({ "schema": PAYMENT_V2_OPTIONAL }))
            .await,
        404,
        40403,
    );
    assert_error(&registry.get("/no/such/route").await, 404, 404);
    assert_error(&registry.call(Method::PATCH, "/subjects", None).await, 405, 405);
    registry.stop().await;
}

#[tokio::test]
async fn invalid_schemas_references_and_other_types_are_refused_with_42201() {
    let registry = Registry::start().await;
    let path = "/subjects/s-value/versions";
    assert_error(&registry.post(path, json!({ "schema": "{not json" })).await, 422, 42201);
    assert_error(
        &registry
            .post(
                path,
                json!({ "schema": r#"{"type":"record","name":"R","fields":[{"name":"a","type":"Unknown"}]}"# }),
            )
            .await,
        422,
        42201,
    );
    let with_reference = json!({
        "schema": PAYMENT_V1,
        "references": [{ "name": "x.Y", "subject": "y", "version": 1 }],
    });
    let answer = registry.post(path, with_reference).await;
    assert_error(&answer, 422, 42201);
    assert!(answer.1["message"].as_str().unwrap_or_default().contains("references"));
    assert_error(
        &registry
            .post(
                path,
                json!({ "schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF" }),
            )
            .await,
        422,
        42201,
    );
    // Explicit AVRO and an empty reference list are fine.
    let (status, _) = registry
        .post(
            path,
            json!({ "schema": PAYMENT_V1, "schemaType": "AVRO", "references": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    registry.stop().await;
}

#[tokio::test]
async fn malformed_bodies_get_400_and_wrong_shapes_422() {
    let registry = Registry::start().await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let url = format!("{}/subjects/s/versions", registry.url);
    let bad_json = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("sent");
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
    let wrong_type = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(
        &registry.post("/subjects/s/versions", json!({ "nope": 1 })).await,
        422,
        422,
    );
    registry.stop().await;
}

#[tokio::test]
async fn a_subject_with_an_encoded_slash_round_trips() {
    let registry = Registry::start().await;
    let id = registry.register("team%2Fpayments-value", PAYMENT_V1).await;
    assert_eq!(registry.get("/subjects").await.1, json!(["team/payments-value"]));
    let (_, latest) = registry.get("/subjects/team%2Fpayments-value/versions/latest").await;
    assert_eq!(latest["id"], id);
    assert_eq!(latest["subject"], "team/payments-value");
    registry.stop().await;
}

#[tokio::test]
async fn a_soft_deleted_subject_is_hidden_but_its_ids_still_resolve() {
    let registry = Registry::start().await;
    let id = registry.register("payments-value", PAYMENT_V1).await;
    registry.register("payments-value", PAYMENT_V2_OPTIONAL).await;

    assert_error(
        &registry.delete("/subjects/payments-value?permanent=true").await,
        404,
        40405,
    );
    assert_eq!(
        registry.delete("/subjects/payments-value").await,
        (StatusCode::OK, json!([1, 2]))
    );
    assert_error(&registry.get("/subjects/payments-value/versions").await, 404, 40401);
    assert_error(&registry.delete("/subjects/payments-value").await, 404, 40404);
    assert_eq!(registry.get("/subjects").await.1, json!([]));
    assert_eq!(
        registry.get("/subjects?deleted=true").await.1,
        json!(["payments-value"])
    );
    assert_eq!(
        registry.get(&format!("/schemas/ids/{id}?deleted=true")).await.0,
        StatusCode::OK
    );

    // Registering again continues the version numbers.
    assert_eq!(registry.register("payments-value", PAYMENT_V1).await, id);
    assert_eq!(registry.get("/subjects/payments-value/versions").await.1, json!([3]));

    assert_eq!(registry.delete("/subjects/payments-value/versions/3").await.1, json!(3));
    assert_eq!(
        registry.delete("/subjects/payments-value?permanent=true").await.1,
        json!([1, 2, 3])
    );
    assert_eq!(registry.get("/subjects?deleted=true").await.1, json!([]));
    registry.stop().await;
}
