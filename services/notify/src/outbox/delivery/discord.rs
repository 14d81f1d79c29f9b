//! Discord webhooks: one embed within Discord's limits, no mentions, and its
//! rate-limit headers read rather than guessed: a bucket that says nothing is
//! left holds the channel until it resets.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    domain::{
        discord,
        notification::{Field, Severity},
    },
    outbox::{
        delivery::outcome::{Outcome, classify, header_f64, retry_after_header},
        egress::Egress,
    },
    store::entities::{notification, notify_channel},
};

/// Posts to Discord channels, remembering the buckets Discord closed.
pub struct Discord {
    http: reqwest::Client,
    egress: Egress,
    /// Discord buckets that said "no more until then", by channel id.
    blocked: Mutex<HashMap<String, Instant>>,
}

impl Discord {
    pub fn new(http: reqwest::Client, egress: Egress) -> Self {
        Self { http, egress, blocked: Mutex::new(HashMap::new()) }
    }

    pub async fn send(&self, channel: &notify_channel::Model, n: &notification::Model, severity: Severity, fields: &[Field]) -> Outcome {
        let Some(url) = channel.url.as_deref() else {
            return Outcome::permanent("Discord channel without a URL");
        };
        if let Some(refused) = Outcome::refused(&self.egress, url) {
            return refused;
        }
        let blocked = self.blocked.lock().expect("bucket lock").get(&channel.id).copied();
        if let Some(until) = blocked.filter(|t| *t > Instant::now()) {
            return Outcome {
                retry_after: Some(until - Instant::now()),
                ..Outcome::failed(None, "Discord rate limit: waiting for the bucket to reset")
            };
        }
        let (title, description, fields) = discord::fit(&n.title, &n.body, fields);
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
            Err(e) => return Outcome::unsent(&e),
        };
        let status = res.status();
        let headers = res.headers().clone();
        // The bucket: when it says nothing is left, hold this channel until it resets.
        let remaining = header_f64(&headers, "x-ratelimit-remaining");
        let reset_after = header_f64(&headers, "x-ratelimit-reset-after");
        if let (Some(r), Some(after)) = (remaining, reset_after)
            && r <= 0.0
        {
            self.blocked.lock().expect("bucket lock").insert(channel.id.clone(), Instant::now() + Duration::from_secs_f64(after.max(0.0)));
        }
        let body_retry = if status.as_u16() == 429 {
            res.json::<serde_json::Value>().await.ok().and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_f64))
        } else {
            None
        };
        classify(status, retry_after_header(&headers), body_retry.map(|s| Duration::from_secs_f64(s.max(0.0))))
    }
}
