//! `X-Retell-Signature` (reference/retell.md §2.1): `v=<unix_ms>,d=<hex>` where
//! `hex = HMAC-SHA256(key = API key, message = raw body ‖ decimal timestamp)`, accepted when
//! `|now − v| ≤ 5 min`. Same scheme for webhooks and custom-function calls.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Default tolerance between the signature timestamp and our clock, milliseconds (±5 min).
pub const DEFAULT_TOLERANCE_MS: i64 = 300_000;

/// Why a signature was refused. Every variant maps to HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Retell-Signature` header.
    #[error("missing X-Retell-Signature header")]
    Missing,
    /// The header is not `v=<digits>,d=<64 hex digits>`.
    #[error("malformed X-Retell-Signature header (expected v=<unix_ms>,d=<64 hex>)")]
    Malformed,
    /// The signed timestamp is more than `tolerance_ms` away from our clock: a replay, or clock
    /// skew.
    #[error("signature timestamp is {skew_ms} ms away from our clock (allowed ±{tolerance_ms} ms)")]
    Stale {
        /// Our clock minus the signed timestamp, milliseconds; negative when signed in the
        /// future.
        skew_ms: i64,
        /// The allowed distance either way, milliseconds.
        tolerance_ms: i64,
    },
    /// The HMAC does not match: another API key signed it, or the body was changed.
    #[error("signature does not match the body and the company's Retell API key")]
    Mismatch,
}

fn mac(body: &[u8], key: &[u8], timestamp_ms: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    mac
}

/// Signs `body` as Retell does; returns the header value `v=<timestamp_ms>,d=<hex>`.
pub fn sign(body: &[u8], api_key: &str, timestamp_ms: i64) -> String {
    let digest = mac(body, api_key.as_bytes(), timestamp_ms)
        .finalize()
        .into_bytes();
    format!("v={timestamp_ms},d={}", hex::encode(digest))
}

/// Verifies a header value against the raw body, in constant time, with `tolerance_ms` on
/// both sides of `now_ms` (the boundary itself passes, as in Retell's SDKs). Hex digits are
/// accepted in either case, like the TypeScript SDK.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    api_key: &str,
    now_ms: i64,
    tolerance_ms: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let (ts, digest) = header
        .strip_prefix("v=")
        .and_then(|rest| rest.split_once(",d="))
        .ok_or(SignatureError::Malformed)?;
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) || digest.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let timestamp_ms: i64 = ts.parse().map_err(|_| SignatureError::Malformed)?;
    let expected = hex::decode(digest).map_err(|_| SignatureError::Malformed)?;
    let skew_ms = now_ms.saturating_sub(timestamp_ms);
    // unsigned_abs: the saturated skew may be i64::MIN, whose abs() overflows.
    if skew_ms.unsigned_abs() > tolerance_ms.unsigned_abs() {
        return Err(SignatureError::Stale {
            skew_ms,
            tolerance_ms,
        });
    }
    let verified = mac(body, api_key.as_bytes(), timestamp_ms).verify_slice(&expected);
    // A tenant whose Retell key was never set has an empty one: anybody could sign with it.
    if api_key.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    verified.map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by proptest: a skew saturating at i64::MIN made `abs()` overflow.
    #[test]
    fn skew_at_the_limit_of_i64_is_stale_not_a_panic() {
        let header = format!("v={},d={}", i64::MAX, "0".repeat(64));
        let err = verify(Some(&header), b"", "key", -2, 0).unwrap_err();
        assert!(matches!(err, SignatureError::Stale { .. }), "{err:?}");
    }

    #[test]
    fn an_empty_key_verifies_no_signature() {
        let header = sign(b"{}", "", 1_000);
        assert_eq!(
            verify(Some(&header), b"{}", "", 1_000, 0).unwrap_err(),
            SignatureError::Mismatch
        );
    }

    /// Known-answer vector from Retell's TypeScript SDK tests (reference/retell.md §2.1).
    #[test]
    fn known_answer_vector_from_retell_sdk() {
        let sig = sign(
            br#"{"event":"call_ended"}"#,
            "test-api-key",
            1_700_000_000_000,
        );
        assert_eq!(
            sig,
            "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e"
        );
    }

    /// Second vector, produced by retell-sdk 6.2.13 in reference/retell.md §2.2.
    #[test]
    fn python_sdk_vector_verifies() {
        let body = br#"{"event":"call_started","call":{"call_id":"call_abc123"}}"#;
        let header =
            "v=1714608475945,d=e885e3449c7a365e269d3429c427d35f90783b01568818d86e3f746c5dd242ec";
        let key = "key_test_0123456789abcdef";
        assert_eq!(
            verify(
                Some(header),
                body,
                key,
                1714608475945 + 60_000,
                DEFAULT_TOLERANCE_MS
            ),
            Ok(())
        );
        assert!(matches!(
            verify(
                Some(header),
                body,
                key,
                1714608475945 + 301_000,
                DEFAULT_TOLERANCE_MS
            ),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn exactly_five_minutes_old_passes_one_ms_more_fails() {
        let body = b"{}";
        let header = sign(body, "k", 1_000_000);
        assert!(verify(Some(&header), body, "k", 1_300_000, DEFAULT_TOLERANCE_MS).is_ok());
        assert!(verify(Some(&header), body, "k", 1_300_001, DEFAULT_TOLERANCE_MS).is_err());
        assert!(verify(Some(&header), body, "k", 700_000, DEFAULT_TOLERANCE_MS).is_ok());
        assert!(verify(Some(&header), body, "k", 699_999, DEFAULT_TOLERANCE_MS).is_err());
    }

    #[test]
    fn tampered_body_wrong_key_and_garbage_are_rejected() {
        let body = br#"{"a":1}"#;
        let header = sign(body, "k", 5);
        assert_eq!(
            verify(Some(&header), br#"{"a":2}"#, "k", 5, 1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), body, "other", 5, 1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(None, body, "k", 5, 1), Err(SignatureError::Missing));
        for bad in [
            "",
            "v=5",
            "d=abc",
            "v=x,d=00",
            "v=5,d=zz",
            &header[..header.len() - 1],
        ] {
            assert_eq!(
                verify(Some(bad), body, "k", 5, 1),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn uppercase_hex_digest_is_accepted() {
        let body = b"x";
        let header = sign(body, "k", 7);
        let (v, d) = header.split_once(",d=").unwrap();
        let upper = format!("{v},d={}", d.to_uppercase());
        assert_eq!(verify(Some(&upper), body, "k", 7, 1), Ok(()));
    }
}
