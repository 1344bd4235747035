//! Routing: one Confluent Schema Registry endpoint per match arm, each a call into the state.

use std::{convert::Infallible, sync::Arc};

use hyper::{Method, Request, Response, StatusCode, body::Incoming};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    auth::BasicAuth,
    avro::{self, ParsedSchema},
    compat::CompatibilityLevel,
    error::ApiError,
    http::{self, Body, Query},
    state::{State, Version, VersionSelector},
    store::Store,
};

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) store: Store,
    pub(crate) auth: Option<BasicAuth>,
}

/// Body of register, lookup and compatibility requests.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaRequest {
    schema: String,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<Value>>,
}

/// Body of `PUT /config` and `PUT /config/{subject}`.
#[derive(Debug, Deserialize)]
struct ConfigRequest {
    #[serde(alias = "compatibilityLevel")]
    compatibility: String,
}

/// Answers one request; errors become Confluent error bodies, so this never fails.
pub(crate) async fn handle(app: Arc<App>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = match authorize(&app, &req) {
        Ok(()) => route(&app, req).await,
        Err(e) => Err(e),
    }
    .unwrap_or_else(|e| http::error(&e));
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request served");
    Ok(response)
}

fn authorize(app: &App, req: &Request<Incoming>) -> Result<(), ApiError> {
    match &app.auth {
        Some(auth) if !auth.allows(req.headers()) => Err(ApiError::unauthorized()),
        _ => Ok(()),
    }
}

async fn route(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let segments = http::path_segments(req.uri().path())?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query = Query::parse(req.uri().query());
    let deleted = query.flag("deleted");
    let ok = |value: Value| Ok(http::json(StatusCode::OK, &value));
    let store = &app.store;

    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, []) => ok(json!({})),
        (Method::GET, ["schemas", "types"]) => ok(json!(["AVRO"])),
        (Method::GET, ["schemas", "ids", id]) => {
            let state = store.read().await;
            let (_, stored) = schema_by_id(&state, id)?;
            ok(json!({ "schema": stored.schema, "schemaType": "AVRO" }))
        }
        (Method::GET, ["schemas", "ids", id, "versions"]) => {
            let state = store.read().await;
            let (id, _) = schema_by_id(&state, id)?;
            let usages = state.usages(id, deleted);
            ok(usages
                .iter()
                .map(|(subject, version)| json!({ "subject": subject, "version": version }))
                .collect())
        }
        (Method::GET, ["schemas", "ids", id, "subjects"]) => {
            let state = store.read().await;
            let (id, _) = schema_by_id(&state, id)?;
            let mut subjects: Vec<&str> = state.usages(id, deleted).into_iter().map(|u| u.0).collect();
            subjects.dedup();
            ok(json!(subjects))
        }
        (Method::GET, ["subjects"]) => {
            let state = store.read().await;
            let prefix = query.get("subjectPrefix").unwrap_or_default();
            let names: Vec<&str> = state
                .subject_names(deleted)
                .into_iter()
                .filter(|s| s.starts_with(prefix))
                .collect();
            ok(json!(names))
        }
        (Method::POST, ["subjects", subject]) => {
            let (parsed, _) = schema_request(req).await?;
            let state = store.read().await;
            let version = state.lookup(subject, &parsed, deleted)?;
            ok(version_body(&state, subject, version)?)
        }
        (Method::DELETE, ["subjects", subject]) => {
            let permanent = query.flag("permanent");
            let deleted = store
                .update(|s| Ok((s.delete_subject(subject, permanent)?, true)))
                .await?;
            ok(json!(deleted))
        }
        (Method::GET, ["subjects", subject, "versions"]) => {
            let state = store.read().await;
            let versions = state.visible_versions(subject, deleted)?;
            ok(versions.iter().map(|v| json!(v.version)).collect())
        }
        (Method::POST, ["subjects", subject, "versions"]) => {
            let (parsed, text) = schema_request(req).await?;
            let id = store.update(|s| s.register(subject, &parsed, &text)).await?;
            ok(json!({ "id": id }))
        }
        (Method::GET, ["subjects", subject, "versions", version]) => {
            let selector = VersionSelector::parse(version)?;
            let state = store.read().await;
            let version = state.version(subject, selector, deleted)?;
            ok(version_body(&state, subject, version)?)
        }
        (Method::DELETE, ["subjects", subject, "versions", version]) => {
            let selector = VersionSelector::parse(version)?;
            let number = store
                .update(|s| Ok((s.delete_version(subject, selector)?, true)))
                .await?;
            ok(json!(number))
        }
        (Method::GET, ["subjects", subject, "versions", version, "schema"]) => {
            let selector = VersionSelector::parse(version)?;
            let state = store.read().await;
            let version = state.version(subject, selector, deleted)?;
            let (_, stored) = schema_by_id(&state, &version.id.to_string())?;
            // The raw schema text, which is itself JSON.
            let mut response = http::json(StatusCode::OK, &Value::Null);
            *response.body_mut() = Body::from(stored.schema.clone());
            Ok(response)
        }
        (Method::POST, ["compatibility", "subjects", subject, "versions", rest @ ..]) if rest.len() <= 1 => {
            let selector = match rest.first() {
                Some(raw) => VersionSelector::parse(raw)?,
                None => VersionSelector::Latest,
            };
            let (parsed, _) = schema_request(req).await?;
            let messages = store.read().await.check_compatibility(subject, selector, &parsed)?;
            if messages.is_empty() {
                ok(json!({ "is_compatible": true }))
            } else {
                ok(json!({ "is_compatible": false, "messages": messages }))
            }
        }
        (Method::GET, ["config"]) => {
            let level = store.read().await.global_level();
            ok(json!({ "compatibilityLevel": level.as_str() }))
        }
        (Method::PUT, ["config"]) => {
            let level = config_request(req).await?;
            store.update(|s| Ok(((), s.set_global_level(level)))).await?;
            ok(json!({ "compatibility": level.as_str() }))
        }
        (Method::GET, ["config", subject]) => {
            let state = store.read().await;
            let level = match state.subject_level(subject) {
                Some(level) => level,
                None if query.flag("defaultToGlobal") => state.global_level(),
                None => return Err(ApiError::subject_config_not_found(subject)),
            };
            ok(json!({ "compatibilityLevel": level.as_str() }))
        }
        (Method::PUT, ["config", subject]) => {
            let level = config_request(req).await?;
            store
                .update(|s| {
                    let previous = s.set_subject_level(subject, Some(level));
                    Ok(((), previous != Some(level)))
                })
                .await?;
            ok(json!({ "compatibility": level.as_str() }))
        }
        (Method::DELETE, ["config", subject]) => {
            let previous = store
                .update(|s| match s.set_subject_level(subject, None) {
                    Some(previous) => Ok((previous, true)),
                    None => Err(ApiError::subject_config_not_found(subject)),
                })
                .await?;
            ok(json!({ "compatibilityLevel": previous.as_str() }))
        }
        (_, segments) if is_known_path(segments) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::route_not_found()),
    }
}

/// Whether some method is routed for this path, to answer 405 rather than 404.
fn is_known_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        [] | ["schemas", "types"]
            | ["schemas", "ids", _]
            | ["schemas", "ids", _, "versions" | "subjects"]
            | ["subjects"]
            | ["subjects", _]
            | ["subjects", _, "versions"]
            | ["subjects", _, "versions", _]
            | ["subjects", _, "versions", _, "schema"]
            | ["compatibility", "subjects", _, "versions"]
            | ["compatibility", "subjects", _, "versions", _]
            | ["config"]
            | ["config", _]
    )
}

/// The schema with id `raw`; 40403 when it is not a known id.
fn schema_by_id<'s>(state: &'s State, raw: &str) -> Result<(u32, &'s crate::state::StoredSchema), ApiError> {
    raw.parse::<u32>()
        .ok()
        .and_then(|id| state.schema(id).map(|stored| (id, stored)))
        .ok_or_else(|| ApiError::schema_not_found(format_args!("Schema {raw}")))
}

/// `{"subject","id","version","schema","schemaType"}` for one version.
fn version_body(state: &State, subject: &str, version: Version) -> Result<Value, ApiError> {
    let (_, stored) = schema_by_id(state, &version.id.to_string())?;
    Ok(json!({
        "subject": subject,
        "id": version.id,
        "version": version.version,
        "schema": stored.schema,
        "schemaType": "AVRO",
    }))
}

/// Reads and validates a schema body; returns the parsed schema and the submitted text.
async fn schema_request(req: Request<Incoming>) -> Result<(ParsedSchema, String), ApiError> {
    let body: SchemaRequest = http::read_json(req).await?;
    if let Some(kind) = body.schema_type.as_deref()
        && !kind.eq_ignore_ascii_case("AVRO")
    {
        return Err(ApiError::invalid_schema(format_args!(
            "schemaType {kind} is not supported; this development registry handles AVRO only"
        )));
    }
    if body.references.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::invalid_schema(
            "schema references are not supported by this development registry; \
             inline the referenced types",
        ));
    }
    let parsed = avro::parse(&body.schema).map_err(ApiError::invalid_schema)?;
    Ok((parsed, body.schema))
}

async fn config_request(req: Request<Incoming>) -> Result<CompatibilityLevel, ApiError> {
    let body: ConfigRequest = http::read_json(req).await?;
    body.compatibility
        .parse()
        .map_err(|()| ApiError::invalid_compatibility_level())
}
