//! Optional HTTP basic authentication: when configured, every request must carry it.

use base64::Engine as _;
use hyper::header::{AUTHORIZATION, HeaderMap};

/// The one user/password pair the registry accepts.
pub(crate) struct BasicAuth {
    user: String,
    password: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password, even in debug output.
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl BasicAuth {
    pub(crate) fn new(user: String, password: String) -> Self {
        Self { user, password }
    }

    /// Whether `headers` carry `Authorization: Basic <base64(user:password)>` for this pair.
    pub(crate) fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some((scheme, encoded)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        // The user may not contain ':' (RFC 7617); the password may.
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        // Evaluate both comparisons so the answer does not reveal which part was wrong.
        let user_ok = constant_time_eq(user, self.user.as_bytes());
        let password_ok = constant_time_eq(password, self.password.as_bytes());
        user_ok & password_ok
    }
}

/// Compares without an early exit on the first differing byte (length still leaks).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("valid header"));
        headers
    }

    fn basic(user_password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_password)
        )
    }

    #[test]
    fn the_configured_pair_is_allowed_and_a_password_may_contain_colons() {
        let auth = BasicAuth::new("dev".into(), "s:e:cret".into());
        assert!(auth.allows(&headers(&basic("dev:s:e:cret"))));
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_are_refused() {
        let auth = BasicAuth::new("dev".into(), "secret".into());
        assert!(!auth.allows(&HeaderMap::new()));
        assert!(!auth.allows(&headers(&basic("dev:wrong"))));
        assert!(!auth.allows(&headers(&basic("other:secret"))));
        assert!(!auth.allows(&headers(&basic("devsecret"))));
        assert!(!auth.allows(&headers("Bearer abc")));
        assert!(!auth.allows(&headers("Basic !!!not-base64")));
    }

    #[test]
    fn debug_output_redacts_the_password() {
        let auth = BasicAuth::new("dev".into(), "secret".into());
        assert!(!format!("{auth:?}").contains("secret"));
    }
}
