//! A routing rule edited over REST: `PATCH /api/notification-routes/{id}`
//! changes what it is given (event type, minimum severity, channel, enabled)
//! and answers the route as it now is; a bad value names its field and
//! changes nothing; a missing route is 404 and a dispatcher is refused.

use axum::http::StatusCode;
use kit::testing;
use serde_json::json;

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, gateway};

#[tokio::test]
async fn an_admin_edits_and_disables_a_route_and_bad_values_change_nothing() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let mut channels = Vec::new();
        for name in ["ops", "night"] {
            let (status, ch) =
                gw.call("POST", "/api/notification-channels", Some(&admin), Some(json!({ "name": name, "kind": "log" }))).await;
            assert_eq!(status, StatusCode::CREATED, "{ch}");
            channels.push(ch["id"].as_str().unwrap().to_owned());
        }
        let new = json!({ "event_type": "bugs.regression", "min_severity": "warning", "channel_id": channels[0] });
        let (status, route) = gw.call("POST", "/api/notification-routes", Some(&admin), Some(new)).await;
        assert_eq!((status, &route["enabled"]), (StatusCode::CREATED, &json!(true)), "{route}");
        let uri = format!("/api/notification-routes/{}", route["id"].as_str().unwrap());

        let change = json!({ "min_severity": "critical", "channel_id": channels[1], "enabled": false });
        let (status, changed) = gw.call("PATCH", &uri, Some(&admin), Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        let expected = json!({ "id": route["id"], "event_type": "bugs.regression", "min_severity": "critical",
            "channel_id": channels[1], "enabled": false });
        assert_eq!(changed, expected);

        for (body, field) in [
            (json!({ "min_severity": "loud" }), "min_severity"),
            (json!({ "event_type": "Bugs Regression", "enabled": true }), "event_type"),
            (json!({ "channel_id": "00000000-0000-4000-8000-000000000000", "enabled": true }), "channel_id"),
        ] {
            let (status, refused) = gw.call("PATCH", &uri, Some(&admin), Some(body)).await;
            assert_eq!((status, &refused["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!(field)), "{refused}");
        }
        let (status, _) = gw.call("PATCH", &uri, Some(&admin), Some(json!({ "colour": "red" }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown field is refused");
        let (_, listed) = gw.call("GET", "/api/notification-routes", Some(&admin), None).await;
        assert_eq!(listed["items"], json!([expected]), "the refused edits changed nothing");

        let missing = "/api/notification-routes/00000000-0000-4000-8000-000000000000";
        assert_eq!(gw.call("PATCH", missing, Some(&admin), Some(json!({ "enabled": true }))).await.0, StatusCode::NOT_FOUND);
        let user = json!({ "email": "disp@example.com", "password": "another-long-password", "role": "dispatcher" });
        assert_eq!(gw.call("POST", "/api/admin/users", Some(&admin), Some(user)).await.0, StatusCode::CREATED);
        let dispatcher = gw.login("disp@example.com", "another-long-password").await;
        assert_eq!(gw.call("PATCH", &uri, Some(&dispatcher), Some(json!({ "enabled": true }))).await.0, StatusCode::FORBIDDEN);
    }
}
