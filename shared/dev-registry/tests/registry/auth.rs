//! Basic auth: every request needs it once it is configured.

use reqwest::StatusCode;

use crate::support::{PAYMENT_V1, Registry};

fn credentials() -> Option<(String, String)> {
    Some(("dev".to_owned(), "s3cret".to_owned()))
}

#[tokio::test]
async fn every_request_needs_the_configured_basic_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = Registry::start_at(&dir.path().join("state.json"), credentials()).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");

    for path in ["/", "/subjects", "/schemas/ids/1", "/config"] {
        let anonymous = client
            .get(format!("{}{path}", registry.url))
            .send()
            .await
            .expect("sent");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(anonymous.headers().contains_key("www-authenticate"), "{path}");
        let body: serde_json::Value = anonymous.json().await.expect("json");
        assert_eq!(body["error_code"], 401, "{path}");

        let wrong = client
            .get(format!("{}{path}", registry.url))
            .basic_auth("dev", Some("wrong"))
            .send()
            .await
            .expect("sent");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Writes are refused too, and nothing is registered.
    let anonymous_write = client
        .post(format!("{}/subjects/s/versions", registry.url))
        .json(&serde_json::json!({ "schema": PAYMENT_V1 }))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous_write.status(), StatusCode::UNAUTHORIZED);

    // The support client sends the configured credentials.
    assert_eq!(registry.get("/subjects").await, (StatusCode::OK, serde_json::json!([])));
    assert_eq!(registry.register("s", PAYMENT_V1).await, 1);
    registry.stop().await;
}
