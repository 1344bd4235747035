//! Webhook signatures, Stripe-style: `Paystream-Signature: t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256(secret, "<t>.<body>"). The timestamp inside the MAC lets receivers refuse
//! replays older than a tolerance; several `v1=` entries may appear while a secret is rotated.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Name of the signature header (`Paystream-Signature`, lower-case for `HeaderName::from_static`).
pub const SIGNATURE_HEADER: &str = "paystream-signature";

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<seconds>,v1=<hex>[,v1=<hex>…]`.
    #[error("malformed {SIGNATURE_HEADER} header: {0}")]
    Malformed(String),
    /// The timestamp is further from now than the tolerance.
    #[error("signature timestamp {timestamp} is outside the tolerance of {tolerance_secs}s")]
    Expired {
        /// The header's `t`.
        timestamp: u64,
        /// The tolerance.
        tolerance_secs: u64,
    },
    /// No `v1` matches the body under the secret.
    #[error("no signature matches the body")]
    Mismatch,
}

/// The header value signing `body` at Unix second `t`.
pub fn sign(secret: &[u8], t: u64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body).finalize().into_bytes()))
}

/// Checks `header` against `body` and `secret`, allowing `tolerance` of clock difference.
pub fn verify_signature(secret: &[u8], header: &str, body: &[u8], tolerance: Duration) -> Result<(), SignatureError> {
    verify_signature_at(secret, header, body, tolerance, SystemTime::now())
}

/// As [`verify_signature`] at `now`.
pub fn verify_signature_at(
    secret: &[u8],
    header: &str,
    body: &[u8],
    tolerance: Duration,
    now: SystemTime,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => {
                timestamp = Some(
                    v.parse::<u64>()
                        .map_err(|_| SignatureError::Malformed(format!("t={v} is not a number")))?,
                );
            }
            Some(("v1", v)) => {
                signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed(format!("v1={v} is not hex")))?)
            }
            // Other schemes (future versions) are ignored, as Stripe's receivers do.
            Some(_) => {}
            None => return Err(SignatureError::Malformed(format!("{item:?} is not key=value"))),
        }
    }
    let t = timestamp.ok_or_else(|| SignatureError::Malformed("no t=".into()))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("no v1=".into()));
    }
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if now_secs.abs_diff(t) > tolerance.as_secs() {
        return Err(SignatureError::Expired {
            timestamp: t,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    // `verify_slice` compares in constant time.
    signatures
        .iter()
        .any(|s| mac(secret, t, body).verify_slice(s).is_ok())
        .then_some(())
        .ok_or(SignatureError::Mismatch)
}

fn mac(secret: &[u8], t: u64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut m =
        <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: Duration = Duration::from_secs(300);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let h = sign(b"s3cret", 1_700_000_000, b"{\"a\":1}");
        assert_eq!(
            verify_signature_at(b"s3cret", &h, b"{\"a\":1}", TOL, at(1_700_000_100)),
            Ok(())
        );
        assert_eq!(
            verify_signature_at(b"s3cret", &h, b"{\"a\":2}", TOL, at(1_700_000_100)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature_at(b"other", &h, b"{\"a\":1}", TOL, at(1_700_000_100)),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify_signature_at(b"s3cret", &h, b"{\"a\":1}", TOL, at(1_700_000_301)),
            Err(SignatureError::Expired { .. })
        ));
    }

    #[test]
    fn a_rotated_secret_verifies_with_either_v1_and_garbage_is_malformed() {
        let old = sign(b"old", 10, b"x");
        let new = sign(b"new", 10, b"x");
        let both = format!("{new},{}", old.split(',').nth(1).expect("v1"));
        assert_eq!(verify_signature_at(b"old", &both, b"x", TOL, at(10)), Ok(()));
        assert!(matches!(
            verify_signature_at(b"old", "v1=zz", b"x", TOL, at(10)),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            verify_signature_at(b"old", "t=10", b"x", TOL, at(10)),
            Err(SignatureError::Malformed(_))
        ));
    }
}
