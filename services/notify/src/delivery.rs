//! Sends one notification to one channel and says how it went: the log, email
//! (see `email.rs`), a Discord webhook (embeds within Discord's limits; its rate-limit headers read,
//! not guessed), or a generic webhook (JSON signed with HMAC-SHA256 over the
//! timestamp and the body).

use crate::egress::Egress;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::Utc;
use serde_json::json;

use crate::{
    domain::{Field, Severity, fit_discord, sign},
    entities::{notification, notify_channel},
};

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
    fn delivered(code: Option<i32>) -> Self {
        Self { success: true, code, ..Self::default() }
    }

    fn failed(code: Option<i32>, error: impl Into<String>) -> Self {
        Self { code, error: Some(error.into()), ..Self::default() }
    }
}

/// The webhook headers, documented for receivers.
pub mod headers {
    /// The notification's id: the same on every retry, so receivers can drop repeats.
    pub const ID: &str = "x-atmr-notification-id";
    pub const EVENT: &str = "x-atmr-event";
    /// Unix seconds when this attempt was signed.
    pub const TIMESTAMP: &str = "x-atmr-timestamp";
    /// `sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`, when the channel has a secret.
    pub const SIGNATURE: &str = "x-atmr-signature";
}

pub struct Deliverer {
    http: reqwest::Client,
    egress: Egress,
    mailer: Option<crate::email::Mailer>,
    /// Discord buckets that said "no more until then", by channel id.
    discord_blocked: Mutex<HashMap<String, Instant>>,
}

impl Deliverer {
    pub fn new(timeout: Duration, mailer: Option<crate::email::Mailer>, egress: Egress) -> anyhow::Result<Self> {
        let builder = reqwest::Client::builder().timeout(timeout).user_agent(concat!("atmr-notify/", env!("CARGO_PKG_VERSION")));
        let http = egress.http_client(builder).build()?;
        Ok(Self { http, egress, mailer, discord_blocked: Mutex::new(HashMap::new()) })
    }

    /// A URL whose literal address the egress policy forbids fails for good
    /// (names are checked by the client's resolver as it connects).
    fn refused(&self, url: &str) -> Option<Outcome> {
        let reason = match reqwest::Url::parse(url) {
            Ok(parsed) => self.egress.check_url(&parsed).err()?,
            Err(e) => format!("not a URL: {e}"),
        };
        Some(Outcome { permanent: true, ..Outcome::failed(None, format!("refused: {reason}")) })
    }

    pub async fn deliver(&self, channel: &notify_channel::Model, n: &notification::Model) -> Outcome {
        // A severity or fields stored outside what this version reads is not
        // sent as some default (a critical alert as "info"): the attempt fails
        // for good, saying why, and the error is logged with the row.
        let Some(severity) = Severity::from_rank(n.severity.into()) else {
            return unreadable(kit::stored::UnknownValue::new("notification", "severity", &n.id, n.severity));
        };
        let Ok(fields) = serde_json::from_str::<Vec<Field>>(&n.fields) else {
            return unreadable(kit::stored::UnknownValue::new("notification", "fields", &n.id, &n.fields));
        };
        match channel.kind.as_str() {
            "log" => {
                tracing::info!(
                    target: "atmr::notification",
                    company_id = n.company_id,
                    id = %n.id,
                    event_type = %n.event_type,
                    severity = severity.label(),
                    title = %n.title,
                    body = %n.body,
                    fields = %n.fields,
                    "notification"
                );
                Outcome::delivered(None)
            }
            "webhook" => self.webhook(channel, n, severity, &fields).await,
            "discord" => self.discord(channel, n, severity, &fields).await,
            "email" => match &self.mailer {
                Some(mailer) => {
                    let recipients: Vec<String> = channel.recipients.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect();
                    let mut body = n.body.clone();
                    for f in &fields {
                        body.push_str(&format!("\n{}: {}", f.name, f.value));
                    }
                    body.push_str(&format!("\n\n{} · {} · {}", n.event_type, severity.label(), n.created_at.to_rfc3339()));
                    mailer.send(&recipients, &format!("[{}] {}", severity.label(), n.title), body).await
                }
                None => Outcome { error: Some("no SMTP server is configured (NOTIFY_SMTP_HOST)".into()), ..Outcome::default() },
            },
            other => Outcome { permanent: true, ..Outcome::failed(None, format!("channel kind {other:?} cannot deliver in this version")) },
        }
    }

    async fn webhook(&self, channel: &notify_channel::Model, n: &notification::Model, severity: Severity, fields: &[Field]) -> Outcome {
        let Some(url) = channel.url.as_deref() else {
            return Outcome { permanent: true, ..Outcome::failed(None, "webhook channel without a URL") };
        };
        if let Some(refused) = self.refused(url) {
            return refused;
        }
        let body = json!({
            "id": n.id,
            "company_id": n.company_id,
            "event_type": n.event_type,
            "severity": severity.label(),
            "title": n.title,
            "body": n.body,
            "fields": fields,
            "created_at": n.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "attempt": n.attempts,
        })
        .to_string();
        let timestamp = Utc::now().timestamp();
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(headers::ID, &n.id)
            .header(headers::EVENT, &n.event_type)
            .header(headers::TIMESTAMP, timestamp.to_string());
        if let Some(secret) = channel.secret.as_deref().filter(|s| !s.is_empty()) {
            req = req.header(headers::SIGNATURE, format!("sha256={}", sign(secret, timestamp, body.as_bytes())));
        }
        match req.body(body).send().await {
            Ok(res) => classify(res.status(), retry_after_header(res.headers()), None),
            Err(e) => Outcome::failed(None, describe(&e)),
        }
    }

    async fn discord(&self, channel: &notify_channel::Model, n: &notification::Model, severity: Severity, fields: &[Field]) -> Outcome {
        let Some(url) = channel.url.as_deref() else {
            return Outcome { permanent: true, ..Outcome::failed(None, "Discord channel without a URL") };
        };
        if let Some(refused) = self.refused(url) {
            return refused;
        }
        let blocked = self.discord_blocked.lock().expect("bucket lock").get(&channel.id).copied();
        if let Some(until) = blocked.filter(|t| *t > Instant::now()) {
            return Outcome {
                retry_after: Some(until - Instant::now()),
                ..Outcome::failed(None, "Discord rate limit: waiting for the bucket to reset")
            };
        }
        let (title, description, fields) = fit_discord(&n.title, &n.body, fields);
        let payload = json!({
            "embeds": [{
                "title": title,
                "description": description,
                "color": severity.discord_colour(),
                "fields": fields,
                "timestamp": n.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "footer": { "text": format!("{} · {}", n.event_type, severity.label()) },
            }],
            "allowed_mentions": { "parse": [] },
        });
        let res = match self.http.post(url).json(&payload).send().await {
            Ok(res) => res,
            Err(e) => return Outcome::failed(None, describe(&e)),
        };
        let status = res.status();
        let headers = res.headers().clone();
        // The bucket: when it says nothing is left, hold this channel until it resets.
        let remaining = header_f64(&headers, "x-ratelimit-remaining");
        let reset_after = header_f64(&headers, "x-ratelimit-reset-after");
        if let (Some(r), Some(after)) = (remaining, reset_after)
            && r <= 0.0
        {
            self.discord_blocked
                .lock()
                .expect("bucket lock")
                .insert(channel.id.clone(), Instant::now() + Duration::from_secs_f64(after.max(0.0)));
        }
        let body_retry = if status.as_u16() == 429 {
            res.json::<serde_json::Value>().await.ok().and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_f64))
        } else {
            None
        };
        classify(status, retry_after_header(&headers), body_retry.map(|s| Duration::from_secs_f64(s.max(0.0))))
    }
}

/// 2xx delivered; 429 and 408 and 5xx retried (429 after what the receiver
/// asked); any other 4xx is the request's fault and will not get better.
fn classify(status: reqwest::StatusCode, header_retry: Option<Duration>, body_retry: Option<Duration>) -> Outcome {
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

fn header_f64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the receivers we know).
fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    header_f64(headers, "retry-after").map(|s| Duration::from_secs_f64(s.max(0.0)))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("request failed: {e}")
    }
}

/// The permanent failure of a notification whose stored values cannot be read.
fn unreadable(e: kit::stored::UnknownValue) -> Outcome {
    tracing::error!(table = e.table, column = e.column, row_id = %e.row_id, value = %e.value, "stored value outside its vocabulary");
    Outcome { permanent: true, ..Outcome::failed(None, format!("not delivered: {e}")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_with_an_unknown_severity_fails_for_good_and_is_not_sent_as_info() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let channel = notify_channel::Model {
            id: "log".into(),
            company_id: 1,
            name: "log".into(),
            kind: "log".into(),
            url: None,
            recipients: String::new(),
            secret: None,
            enabled: true,
            created_at: at,
            updated_at: at,
        };
        let n = notification::Model {
            id: "n-1".into(),
            company_id: 1,
            channel_id: "log".into(),
            event_type: "bugs.critical_created".into(),
            title: "t".into(),
            body: String::new(),
            severity: 4,
            fields: "[]".into(),
            idempotency_key: "k".into(),
            status: "sending".into(),
            attempts: 1,
            next_attempt_at: at,
            lease_until: None,
            created_at: at,
            delivered_at: None,
            last_error: None,
        };
        let d = Deliverer::new(Duration::from_secs(1), None, Egress::Any).unwrap();
        assert!(d.deliver(&channel, &n).await.success);
        let out = d.deliver(&channel, &notification::Model { severity: 7, ..n.clone() }).await;
        assert!(!out.success && out.permanent, "{out:?}");
        assert!(out.error.as_deref().is_some_and(|e| e.contains("notification.severity of row n-1 holds \"7\"")), "{out:?}");
        let out = d.deliver(&channel, &notification::Model { fields: "{oops".into(), ..n }).await;
        assert!(!out.success && out.permanent && out.error.as_deref().is_some_and(|e| e.contains("notification.fields")), "{out:?}");
    }

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
