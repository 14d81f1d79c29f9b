//! `POST /api/platform/alerts`: Alertmanager's webhook receiver. Each alert of
//! the payload becomes a notification of the platform itself (company-less,
//! [`PLATFORM_COMPANY_ID`]), which notify routes by the operator's rules (the
//! `routes:` of `ATMR_MONITORS_FILE`) to Discord, email or a webhook. The
//! other path, Alertmanager's own email, does not come through here: this is
//! the path that depends on the mesh, and `deploy/observability/alertmanager.yml`
//! sends every page by both.
//!
//! Alertmanager cannot hold a person's token: it presents a bearer secret
//! (`http_config.authorization.credentials_file`), compared here with the one
//! the gateway was given (`GATEWAY_ALERTS_TOKEN_FILE`) by their SHA-256, in
//! constant time. Without that file the receiver is off (401 to everyone).
//!
//! Alertmanager sends a group again every `repeat_interval`; a notification's
//! idempotency key is the alert's fingerprint, state and start, so a firing
//! alert is told once and its resolution once. An answer of 5xx (notify
//! unavailable) makes Alertmanager retry; 4xx does not.

use std::collections::BTreeMap;

use atmr_proto::notify::v1 as pb;
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
};
use kit::{Component, auth::PLATFORM_COMPANY_ID};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{error::ApiError, state::AppState};

/// The event type of every alert, so that one route of the operator's takes
/// them all (by minimum severity); the alert's name is a field.
pub const EVENT_TYPE: &str = "platform.alert";
/// Notify's limits (`SendRequest`): a title, a body, the fields.
const TITLE_MAX: usize = 256;
const BODY_MAX: usize = 16 * 1024;
const FIELD_MAX: usize = 1024;
/// More than Alertmanager's `max_alerts` (50 in our configuration).
const ALERTS_MAX: usize = 500;

/// Alertmanager's webhook payload, version 4 (the fields read here; the
/// others are ignored, as Alertmanager adds to it across versions).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Must be "4".
    version: String,
    alerts: Vec<Alert>,
}

/// One alert of the payload.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    /// `firing` or `resolved`.
    status: String,
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    /// RFC 3339.
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
    #[serde(default)]
    fingerprint: String,
}

/// What became of the payload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Received {
    /// Notifications queued for delivery.
    sent: usize,
    /// Alerts already told (the same fingerprint, state and start).
    duplicates: usize,
}

#[utoipa::path(
    post,
    path = "/api/platform/alerts",
    tag = "platform",
    request_body = Webhook,
    security(("alertmanager" = [])),
    responses(
        (status = 200, description = "Every alert handed to notify", body = Received),
        (status = 400, description = "Not an Alertmanager payload of version 4; the field is named", body = crate::error::ErrorBody),
        (status = 401, description = "No or a wrong bearer secret, or the receiver is off (no GATEWAY_ALERTS_TOKEN_FILE)", body = crate::error::ErrorBody),
        (status = 404, description = "Not answered by the receiver (an unknown path)", body = crate::error::ErrorBody),
        (status = 413, description = "A payload over the body limit", body = crate::error::ErrorBody),
        (status = 429, description = "Too many requests from this address", body = crate::error::ErrorBody),
        (status = 500, description = "The gateway failed", body = crate::error::ErrorBody),
        (status = 503, description = "Notify is unavailable; Alertmanager retries", body = crate::error::ErrorBody),
        (status = 504, description = "Notify did not answer in time; Alertmanager retries", body = crate::error::ErrorBody),
    ),
)]
/// `POST /api/platform/alerts`
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Result<Json<Received>, ApiError> {
    let Some(expected) = state.alerts_token.as_ref() else {
        // Off, no secret can be right: refused as any unauthenticated call is.
        return Err(ApiError::unauthenticated("the alert receiver is off: GATEWAY_ALERTS_TOKEN_FILE is not set"));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthenticated("Alertmanager's bearer secret is missing"))?;
    if !expected.admits(presented.trim()) {
        tracing::warn!("alert receiver called with a wrong secret");
        return Err(ApiError::unauthenticated("wrong bearer secret for the alert receiver"));
    }
    let hook: Webhook =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(&field_of(&e), format!("not an Alertmanager payload: {e}")))?;
    if hook.version != "4" {
        return Err(ApiError::invalid("version", format!("Alertmanager's webhook version 4 is read here, not {:?}", hook.version)));
    }
    if hook.alerts.len() > ALERTS_MAX {
        return Err(ApiError::invalid("alerts", format!("at most {ALERTS_MAX} alerts a call (max_alerts), not {}", hook.alerts.len())));
    }
    let requests =
        hook.alerts.iter().enumerate().map(|(i, a)| notification(a).map_err(|(f, m)| ApiError::invalid(&format!("alerts[{i}].{f}"), m)));
    // Every alert is checked before any is sent: a bad payload sends nothing.
    let requests = requests.collect::<Result<Vec<_>, _>>()?;
    let token = state.signer.token_for(Component::Notify, PLATFORM_COMPANY_ID);
    let (mut sent, mut duplicates) = (0, 0);
    for req in requests {
        let res = state.notify.clone().send(kit::grpc::request(req, &token)).await.map_err(|s| ApiError::from_status("notify", &s))?;
        if res.into_inner().duplicate {
            duplicates += 1;
        } else {
            sent += 1;
        }
    }
    tracing::info!(sent, duplicates, "alerts from Alertmanager handed to notify");
    Ok(Json(Received { sent, duplicates }))
}

/// The JSON path serde names in its error, when it names one.
fn field_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split('`').nth(1).filter(|f| !f.is_empty()).unwrap_or("body").to_owned()
}

/// One alert as a notification of the platform; `(field, why)` when it is not one.
fn notification(a: &Alert) -> Result<pb::SendRequest, (&'static str, String)> {
    let firing = match a.status.as_str() {
        "firing" => true,
        "resolved" => false,
        other => return Err(("status", format!("firing or resolved, not {other:?}"))),
    };
    let name =
        a.labels.get("alertname").filter(|n| !n.trim().is_empty()).ok_or(("labels.alertname", "every alert has a name".to_owned()))?;
    let severity = match a.labels.get("severity").map(String::as_str) {
        Some("page") => pb::Severity::Critical,
        Some("warn") => pb::Severity::Warning,
        // info, or a rule of someone else's without our labels: told, not loud.
        _ => pb::Severity::Info,
    };
    let summary = a.annotations.get("summary").map_or(name.as_str(), String::as_str);
    let title = clip(&format!("{}: {summary}", if firing { "FIRING" } else { "RESOLVED" }), TITLE_MAX);
    let mut body = String::new();
    if let Some(d) = a.annotations.get("description") {
        body.push_str(d);
        body.push_str("\n\n");
    }
    if let Some(r) = a.annotations.get("runbook_url") {
        body.push_str(&format!("Runbook: {r}\n"));
    }
    body.push_str(&format!("Since: {}\n", a.starts_at));
    if !a.generator_url.is_empty() {
        body.push_str(&format!("Source: {}\n", a.generator_url));
    }
    let mut fields = vec![
        pb::Field { name: "alert".into(), value: clip(name, FIELD_MAX), inline: true },
        pb::Field { name: "state".into(), value: a.status.clone(), inline: true },
    ];
    for label in ["severity", "job", "instance", "component", "service", "route", "method"] {
        if let Some(v) = a.labels.get(label) {
            fields.push(pb::Field { name: label.into(), value: clip(v, FIELD_MAX), inline: true });
        }
    }
    // Alertmanager's fingerprint names the label set; without one, the labels do.
    let fingerprint = if a.fingerprint.is_empty() {
        hex::encode(&Sha256::digest(serde_json::to_vec(&a.labels).unwrap_or_default())[..8])
    } else {
        a.fingerprint.clone()
    };
    Ok(pb::SendRequest {
        channel_id: String::new(),
        event_type: EVENT_TYPE.into(),
        title,
        body: clip(&body, BODY_MAX),
        severity: severity as i32,
        fields,
        idempotency_key: clip(&format!("alertmanager:{fingerprint}:{}:{}", a.status, a.starts_at), 200),
    })
}

/// `text` cut to at most `max` bytes at a character boundary.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert_secret::AlertsToken;

    fn alert(status: &str, labels: &[(&str, &str)]) -> Alert {
        Alert {
            status: status.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            annotations: [("summary", "atmr-notify is down"), ("runbook_url", "https://runbooks/AtmrComponentDown.md")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            starts_at: "2026-12-05T06:00:00Z".into(),
            generator_url: String::new(),
            fingerprint: "abc123".into(),
        }
    }

    #[test]
    fn a_page_is_critical_and_names_its_runbook_and_its_state() {
        let n =
            notification(&alert("firing", &[("alertname", "AtmrComponentDown"), ("severity", "page"), ("job", "atmr-notify")])).unwrap();
        assert_eq!(n.severity, pb::Severity::Critical as i32);
        assert_eq!(n.event_type, EVENT_TYPE);
        assert_eq!(n.title, "FIRING: atmr-notify is down");
        assert!(n.body.contains("Runbook: https://runbooks/AtmrComponentDown.md"), "{}", n.body);
        assert!(n.fields.iter().any(|f| f.name == "job" && f.value == "atmr-notify"));
        let resolved = notification(&alert("resolved", &[("alertname", "AtmrComponentDown"), ("severity", "page")])).unwrap();
        assert!(resolved.title.starts_with("RESOLVED"));
        assert_ne!(n.idempotency_key, resolved.idempotency_key, "the resolution is told too");
    }

    #[test]
    fn severities_map_and_an_unknown_one_is_only_information() {
        let sev = |s: &str| notification(&alert("firing", &[("alertname", "A"), ("severity", s)])).unwrap().severity;
        assert_eq!(sev("warn"), pb::Severity::Warning as i32);
        assert_eq!(sev("info"), pb::Severity::Info as i32);
        assert_eq!(sev("whatever"), pb::Severity::Info as i32);
    }

    #[test]
    fn an_alert_without_a_name_or_with_a_strange_state_is_named() {
        assert_eq!(notification(&alert("firing", &[])).unwrap_err().0, "labels.alertname");
        assert_eq!(notification(&alert("pending", &[("alertname", "A")])).unwrap_err().0, "status");
    }

    #[test]
    fn the_secret_is_long_and_compared_whole() {
        assert!(AlertsToken::new("short").is_err());
        let t = AlertsToken::new("0123456789abcdef0123456789abcdef\n").unwrap();
        assert!(t.admits("0123456789abcdef0123456789abcdef"));
        assert!(!t.admits("0123456789abcdef0123456789abcdeX"));
        assert!(!t.admits(""));
    }

    #[test]
    fn long_texts_are_cut_at_a_character() {
        assert_eq!(clip("ééé", 3), "é");
        assert_eq!(clip("abc", 5), "abc");
    }
}
