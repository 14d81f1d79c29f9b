//! The generic webhook: the notification as JSON, posted with headers that let
//! the receiver drop repeats and check an HMAC-SHA256 signature over the
//! timestamp and the body.

use chrono::Utc;
use serde_json::json;

use crate::{
    domain::{
        notification::{Field, Severity},
        signature::sign,
    },
    outbox::{
        delivery::outcome::{Outcome, classify, retry_after_header},
        egress::Egress,
    },
    store::entities::{notification, notify_channel},
};

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

/// Posts to webhook channels through the egress-guarded client.
pub struct Webhook {
    http: reqwest::Client,
    egress: Egress,
}

impl Webhook {
    pub fn new(http: reqwest::Client, egress: Egress) -> Self {
        Self { http, egress }
    }

    pub async fn send(&self, channel: &notify_channel::Model, n: &notification::Model, severity: Severity, fields: &[Field]) -> Outcome {
        let Some(url) = channel.url.as_deref() else {
            return Outcome::permanent("webhook channel without a URL");
        };
        if let Some(refused) = Outcome::refused(&self.egress, url) {
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
            Err(e) => Outcome::unsent(&e),
        }
    }
}
