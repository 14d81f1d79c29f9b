//! How one delivery attempt ended, and what every transport reads the same
//! way to say so: an HTTP answer's class and `Retry-After`, a transport error,
//! a URL the egress policy refuses (on its face, or where it resolved or
//! redirected to), a row whose stored values cannot be read.

use std::time::Duration;

use crate::outbox::egress::{Egress, refusal};

/// How an attempt ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub success: bool,
    /// The HTTP status, when there was a response.
    pub code: Option<i32>,
    pub error: Option<String>,
    /// The receiver asked to wait this long (429 `retry_after` / `Retry-After`).
    pub retry_after: Option<Duration>,
    /// Retrying cannot help (the receiver refused the request itself).
    pub permanent: bool,
}

impl Outcome {
    pub fn delivered(code: Option<i32>) -> Self {
        Self { success: true, code, ..Self::default() }
    }

    pub fn failed(code: Option<i32>, error: impl Into<String>) -> Self {
        Self { code, error: Some(error.into()), ..Self::default() }
    }

    /// A failure retrying cannot mend.
    pub fn permanent(error: impl Into<String>) -> Self {
        Self { permanent: true, ..Self::failed(None, error) }
    }

    /// A URL whose literal address the egress policy forbids fails for good
    /// (names are checked by the client's resolver as it connects).
    pub fn refused(egress: &Egress, url: &str) -> Option<Self> {
        let reason = match reqwest::Url::parse(url) {
            Ok(parsed) => egress.check_url(&parsed).err()?.to_string(),
            Err(e) => format!("not a URL: {e}"),
        };
        Some(Self::permanent(format!("refused: {reason}")))
    }

    /// A request that got no answer: for good when the egress policy refused
    /// where it led (a name resolving to an internal address, a redirect to
    /// one), nothing having been sent there; else worth retrying.
    pub fn unsent(e: &reqwest::Error) -> Self {
        match refusal(e) {
            Some(r) => Self::permanent(format!("refused: {r}")),
            None => Self::failed(None, describe(e)),
        }
    }

    /// The permanent failure of a notification whose stored values cannot be read.
    pub fn unreadable(e: kit::stored::UnknownValue) -> Self {
        tracing::error!(table = e.table, column = e.column, row_id = %e.row_id, value = %e.value, "stored value outside its vocabulary");
        Self::permanent(format!("not delivered: {e}"))
    }
}

/// 2xx delivered; 429 and 408 and 5xx retried (429 after what the receiver
/// asked); any other 4xx is the request's fault and will not get better.
pub fn classify(status: reqwest::StatusCode, header_retry: Option<Duration>, body_retry: Option<Duration>) -> Outcome {
    let code = Some(i32::from(status.as_u16()));
    if status.is_success() {
        return Outcome::delivered(code);
    }
    let mut out = Outcome::failed(code, format!("HTTP {status}"));
    match status.as_u16() {
        429 => out.retry_after = body_retry.or(header_retry),
        408 | 425 => {}
        400..=499 => out.permanent = true,
        _ => out.retry_after = header_retry,
    }
    out
}

pub fn header_f64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the receivers we know).
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    header_f64(headers, "retry-after").map(|s| Duration::from_secs_f64(s.max(0.0)))
}

/// A request that got no answer, said the same way for every transport.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("request failed: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let s = |c: u16| reqwest::StatusCode::from_u16(c).unwrap();
        assert!(classify(s(204), None, None).success);
        let limited = classify(s(429), Some(Duration::from_secs(9)), Some(Duration::from_millis(1500)));
        assert_eq!((limited.permanent, limited.retry_after), (false, Some(Duration::from_millis(1500))), "the body's retry_after first");
        assert_eq!(classify(s(429), Some(Duration::from_secs(9)), None).retry_after, Some(Duration::from_secs(9)));
        assert!(classify(s(404), None, None).permanent);
        assert!(!classify(s(503), None, None).permanent);
        assert!(!classify(s(408), None, None).permanent);
    }
}
