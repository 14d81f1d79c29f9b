//! A bug's history through the REST API: each listed bug with its reports on
//! each of the last 14 UTC days, and `/api/bugs/{bug_id}/events` (newest
//! first, by kind) readable by a reporter, another company's bug a missing
//! one, a kind outside the vocabulary named.

use axum::http::StatusCode;
use kit::{auth::Role, testing};
use serde_json::{Value, json};

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, gateway};

#[tokio::test]
async fn a_bugs_history_and_its_days_are_in_the_rest_api() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let keys = &gw.services[0].1.keys;
        let reporter = keys.issue("31", "rita@example.com", 1, Role::Reporter, std::time::Duration::from_secs(600));
        let report = json!({ "title": "Map stays grey", "description": "On the board", "release": "2.0.1" });
        let (status, created) = gw.call("POST", "/api/bugs", Some(&reporter), Some(report.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["bug"]["id"].as_i64().unwrap();
        let (status, _) = gw.call("POST", "/api/bugs", Some(&admin), Some(report)).await;
        assert_eq!(status, StatusCode::OK, "grouped");
        let (status, _) = gw.call("PATCH", &format!("/api/bugs/{id}"), Some(&admin), Some(json!({ "status": "resolved" }))).await;
        assert_eq!(status, StatusCode::OK);

        let (status, list) = gw.call("GET", "/api/bugs", Some(&reporter), None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let days = list["items"][0]["daily_occurrences"].as_array().expect("the list's days").clone();
        assert_eq!(days.len(), 14, "{backend:?}");
        let today = chrono::Utc::now().date_naive();
        let last = &days[13];
        // The service's clock and this one may straddle midnight UTC.
        assert!(last["day"] == json!(today.to_string()) || last["day"] == json!(today.pred_opt().unwrap().to_string()), "{last}");
        assert_eq!(days.iter().map(|d| d["count"].as_i64().unwrap()).sum::<i64>(), 2, "{days:?}");
        let (_, one) = gw.call("GET", &format!("/api/bugs/{id}"), Some(&reporter), None).await;
        assert!(one["bug"].get("daily_occurrences").is_none(), "lists only: {one}");

        let (status, events) = gw.call("GET", &format!("/api/bugs/{id}/events"), Some(&reporter), None).await;
        assert_eq!(status, StatusCode::OK, "{events}");
        let kinds: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["status_changed", "grouped", "created"], "{backend:?}");
        let change = &events["items"][0];
        assert_eq!((&change["from"], &change["to"], &change["actor"]), (&json!("open"), &json!("resolved"), &json!(ADMIN_EMAIL)));
        assert_eq!((&events["items"][2]["actor"], &events["items"][2]["release"]), (&json!("rita@example.com"), &json!("2.0.1")));
        assert_eq!(events["total"], 3);

        let (_, only) = gw.call("GET", &format!("/api/bugs/{id}/events?kind=created,status_changed&per_page=1"), Some(&admin), None).await;
        assert_eq!((only["total"].clone(), only["items"][0]["kind"].clone()), (json!(2), json!("status_changed")), "{only}");
        let (status, bad) = gw.call("GET", &format!("/api/bugs/{id}/events?kind=deleted"), Some(&admin), None).await;
        assert_eq!((status, &bad["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("kind")), "{bad}");
        let other = keys.issue("9", "x@example.com", 2, Role::Admin, std::time::Duration::from_secs(60));
        let (status, body) = gw.call("GET", &format!("/api/bugs/{id}/events"), Some(&other), None).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &json!("not_found")), "{body}");
        let driver = keys.issue("8", "d@example.com", 1, Role::Driver, std::time::Duration::from_secs(60));
        let (status, _): (StatusCode, Value) = gw.call("GET", &format!("/api/bugs/{id}/events"), Some(&driver), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
