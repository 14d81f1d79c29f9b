//! Alertmanager's webhook (`POST /api/platform/alerts`): only with the shared
//! secret; each alert a notification of the platform (company-less) at its
//! severity, told once however often Alertmanager repeats the group; a
//! payload with one bad alert sends none of them; off without the secret's file.

use axum::http::StatusCode;
use kit::{
    auth::{PLATFORM_COMPANY_ID, Role},
    testing::{self, TestBackend},
};
use serde_json::{Value, json};

use super::gateway;

const SECRET: &str = "alertmanager-secret-0123456789abcdef";

fn alert(name: &str, severity: &str, status: &str) -> Value {
    json!({
        "status": status,
        "labels": { "alertname": name, "severity": severity, "job": "atmr-notify", "instance": "notify:9094" },
        "annotations": {
            "summary": format!("{name} on atmr-notify"),
            "description": "Prometheus cannot scrape it for 1 minute.",
            "runbook_url": format!("https://runbooks.example.org/{name}.md"),
        },
        "startsAt": "2026-12-05T06:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": format!("fp-{name}"),
    })
}

fn payload(alerts: Vec<Value>) -> Value {
    json!({ "version": "4", "groupKey": "{}:{alertname=\"x\"}", "status": "firing", "receiver": "page", "alerts": alerts })
}

#[tokio::test]
async fn alertmanager_alerts_become_the_platforms_notifications_once_each() {
    for backend in testing::backends() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("alerts-token");
        std::fs::write(&file, format!("{SECRET}\n")).unwrap();
        let gw = gateway(backend, &[("GATEWAY_ALERTS_TOKEN_FILE", file.to_str().unwrap())]).await;
        let hook = payload(vec![alert("AtmrComponentDown", "page", "firing"), alert("AtmrNotificationBacklog", "warn", "firing")]);

        let (status, body) = gw.call("POST", "/api/platform/alerts", None, Some(hook.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let (status, _) = gw.call("POST", "/api/platform/alerts", Some("not-the-secret-but-long-enough-000000"), Some(hook.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // One bad alert: the whole payload is refused, naming it, and nothing is sent.
        let mut bad = alert("X", "page", "firing");
        bad["labels"].as_object_mut().unwrap().remove("alertname");
        let mixed = payload(vec![alert("AtmrComponentDown", "page", "firing"), bad]);
        let (status, body) = gw.call("POST", "/api/platform/alerts", Some(SECRET), Some(mixed)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["details"]["field"], "alerts[1].labels.alertname", "{body}");
        let (status, body) = gw.call("POST", "/api/platform/alerts", Some(SECRET), Some(json!({ "version": "3", "alerts": [] }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["details"]["field"], "version", "{body}");

        let (status, body) = gw.call("POST", "/api/platform/alerts", Some(SECRET), Some(hook.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({ "sent": 2, "duplicates": 0 }));
        // Alertmanager repeats the group: told once.
        let (_, body) = gw.call("POST", "/api/platform/alerts", Some(SECRET), Some(hook)).await;
        assert_eq!(body, json!({ "sent": 0, "duplicates": 2 }));
        // The resolution is told too.
        let resolved = payload(vec![alert("AtmrComponentDown", "page", "resolved")]);
        let (_, body) = gw.call("POST", "/api/platform/alerts", Some(SECRET), Some(resolved)).await;
        assert_eq!(body, json!({ "sent": 1, "duplicates": 0 }));

        // They are the platform's: an admin of the platform's (company-less)
        // notifications reads them; no company's admin does.
        let keys = &gw.services[0].1.keys;
        let platform = keys.issue("1", "ops@example.com", PLATFORM_COMPANY_ID, Role::Admin, std::time::Duration::from_secs(60));
        let (status, body) = gw.call("GET", "/api/notifications?per_page=50", Some(&platform), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().expect("a page");
        assert_eq!(items.len(), 3, "{body}");
        let down = items.iter().find(|n| n["title"] == "FIRING: AtmrComponentDown on atmr-notify").expect("the page");
        assert_eq!(down["severity"], "critical");
        assert_eq!(down["event_type"], "platform.alert");
        assert!(down["body"].as_str().unwrap().contains("Runbook: https://runbooks.example.org/AtmrComponentDown.md"), "{down}");
        assert!(items.iter().any(|n| n["title"] == "RESOLVED: AtmrComponentDown on atmr-notify"));
        let company = keys.issue("2", "admin@example.com", 1, Role::Admin, std::time::Duration::from_secs(60));
        let (_, body) = gw.call("GET", "/api/notifications?per_page=50", Some(&company), None).await;
        assert_eq!(body["items"].as_array().map(Vec::len), Some(0), "{body}");
    }
}

#[tokio::test]
async fn without_its_secret_file_the_receiver_is_off() {
    let gw = gateway(TestBackend::Sqlite, &[]).await;
    let (status, body) = gw.call("POST", "/api/platform/alerts", Some(SECRET), Some(payload(vec![]))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("GATEWAY_ALERTS_TOKEN_FILE"), "{body}");
}
