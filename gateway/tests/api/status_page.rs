//! The public status page's settings over REST (`/api/status-page`): an
//! admin's alone, the slug checked and unique among companies; and a
//! monitor's incidents (`/api/monitors/{id}/incidents`).

use axum::http::StatusCode;
use kit::{auth::Role, testing};
use serde_json::json;

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, gateway};

#[tokio::test]
async fn an_admin_sets_the_public_page_and_its_slug_is_checked_and_unique() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, none) = gw.call("GET", "/api/status-page", Some(&token), None).await;
        assert_eq!((status, none), (StatusCode::OK, json!({ "slug": null, "title": null, "enabled": false, "path": null })));

        let page = json!({ "slug": "acme-transport", "title": " Acme Transport ", "enabled": true });
        let (status, saved) = gw.call("PUT", "/api/status-page", Some(&token), Some(page)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {saved}");
        assert_eq!(
            saved,
            json!({ "slug": "acme-transport", "title": "Acme Transport", "enabled": true, "path": "/status/acme-transport" })
        );
        let (_, read) = gw.call("GET", "/api/status-page", Some(&token), None).await;
        assert_eq!(read, saved, "kept");

        for (slug, field) in [("Acme", "slug"), ("ac--me", "slug"), ("monitors", "slug"), ("ab", "slug")] {
            let (status, body) =
                gw.call("PUT", "/api/status-page", Some(&token), Some(json!({ "slug": slug, "title": "t", "enabled": true }))).await;
            assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!(field)), "{slug}: {body}");
        }
        let (status, body) =
            gw.call("PUT", "/api/status-page", Some(&token), Some(json!({ "slug": "acme", "title": " ", "enabled": true }))).await;
        assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("title")));

        // Another company cannot take the slug; a dispatcher cannot set anything.
        let other = testing::keys().issue("900", "admin@other.example", 2, Role::Admin, std::time::Duration::from_secs(300));
        let theirs = json!({ "slug": "acme-transport", "title": "Other", "enabled": true });
        let (status, body) = gw.call("PUT", "/api/status-page", Some(&other), Some(theirs)).await;
        assert_eq!(
            (status, &body["error"]["code"], &body["error"]["details"]["field"]),
            (StatusCode::CONFLICT, &json!("already_exists"), &json!("slug"))
        );
        let (status, _) = gw.call("GET", "/api/status-page", Some(&other), None).await;
        assert_eq!(status, StatusCode::OK);
        let dispatcher = testing::keys().issue("901", "d@example.com", 1, Role::Dispatcher, std::time::Duration::from_secs(300));
        let (status, _) =
            gw.call("PUT", "/api/status-page", Some(&dispatcher), Some(json!({ "slug": "x-y", "title": "t", "enabled": true }))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, still) = gw.call("GET", "/api/status-page", Some(&token), None).await;
        assert_eq!(still["slug"], "acme-transport", "nothing changed by the refusals");
    }
}

#[tokio::test]
async fn a_monitors_incidents_are_listed_and_a_bad_query_names_its_field() {
    let gw = gateway(testing::TestBackend::Sqlite, &[]).await;
    let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let monitor = json!({ "name": "Public DNS", "kind": "tcp", "target": "9.9.9.9:53", "interval_seconds": 600 });
    let (status, created) = gw.call("POST", "/api/monitors", Some(&token), Some(monitor)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, list) = gw.call("GET", &format!("/api/monitors/{id}/incidents?limit=10"), Some(&token), None).await;
    assert_eq!((status, &list["items"]), (StatusCode::OK, &json!([])), "{list}");
    let (status, body) = gw.call("GET", &format!("/api/monitors/{id}/incidents?limit=5000"), Some(&token), None).await;
    assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("limit")), "{body}");
    let (status, body) = gw.call("GET", &format!("/api/monitors/{id}/incidents?from=yesterday"), Some(&token), None).await;
    assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("from")), "{body}");
    let (status, _) = gw.call("GET", "/api/monitors/00000000-0000-4000-8000-000000000000/incidents", Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
