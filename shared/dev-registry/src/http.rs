//! HTTP plumbing: reading JSON bodies, path segments and query flags; writing JSON answers.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::{
    Request, Response, StatusCode,
    body::Incoming,
    header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE},
};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Response body type.
pub(crate) type Body = Full<Bytes>;

/// Content type of every answer, as Confluent sends it.
pub(crate) const CONTENT_TYPE_V1: &str = "application/vnd.schemaregistry.v1+json";

/// Request bodies larger than this are refused; schemas are small.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Request content types Confluent accepts (compared without parameters such as `charset`).
const ACCEPTED_CONTENT_TYPES: [&str; 4] = [
    CONTENT_TYPE_V1,
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

/// A JSON answer with the registry content type.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_V1));
    response
}

/// The Confluent error answer for `error`.
pub(crate) fn error(error: &ApiError) -> Response<Body> {
    let mut response = json(error.status, &error.body());
    if error.status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"dev-registry\""),
        );
    }
    response
}

/// Reads the body as JSON into `T`: 415 for a foreign content type, 413 when too large, 400
/// when it is not JSON, 422 when it is JSON of the wrong shape.
pub(crate) async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, ApiError> {
    if let Some(value) = req.headers().get(CONTENT_TYPE) {
        let raw = value.to_str().unwrap_or("<non-ascii>");
        let media_type = raw.split(';').next().unwrap_or_default().trim();
        if !ACCEPTED_CONTENT_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(media_type))
        {
            return Err(ApiError::unsupported_media_type(raw));
        }
    }
    let bytes = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                ApiError::body_too_large(MAX_BODY_BYTES)
            } else {
                ApiError::bad_request(format!("read request body: {e}"))
            }
        })?
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(ApiError::malformed_body)?;
    serde_json::from_value(value).map_err(ApiError::unprocessable_body)
}

/// The percent-decoded, non-empty segments of `path` (`%2F` inside a subject stays in it).
pub(crate) fn path_segments(path: &str) -> Result<Vec<String>, ApiError> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| ApiError::bad_request(format!("path segment '{s}' is not UTF-8")))
        })
        .collect()
}

/// The query string as decoded `(name, value)` pairs.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_decode_str(&s).decode_utf8_lossy().into_owned()
        };
        Self(
            query
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(name), decode(value))
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// `true` only for `name=true` (any case), like Confluent's boolean query parameters.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_slash_stays_inside_its_segment() {
        let segments = path_segments("/subjects/a%2Fb-value/versions/").expect("utf-8");
        assert_eq!(segments, ["subjects", "a/b-value", "versions"]);
    }

    #[test]
    fn query_flags_are_true_only_when_spelled_true() {
        let query = Query::parse(Some("deleted=TRUE&permanent=1&subject=a%2Fb&verbose"));
        assert!(query.flag("deleted"));
        assert!(!query.flag("permanent"));
        assert!(!query.flag("verbose"));
        assert_eq!(query.get("subject"), Some("a/b"));
        assert!(!Query::parse(None).flag("deleted"));
    }
}
