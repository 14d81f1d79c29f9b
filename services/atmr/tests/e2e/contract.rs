//! The REST contract against the server: what `/openapi.json` says a route
//! answers is what it answers (schemathesis checks the same at scale, see
//! `scripts/schemathesis.sh`; these are the cases it found).

use kit::testing::{self, backends};
use serde_json::{Value, json};

use crate::mesh::{admin_token, start_mesh_with};

/// `path` with each `{param}` filled: integer ids with `id`, notify's ids with a UUID.
fn concrete(path: &str, op: &Value, id: i64) -> String {
    let mut out = path.to_owned();
    for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
        let value = if p["schema"]["type"] == "integer" { id.to_string() } else { "00000000-0000-4000-8000-000000000000".to_owned() };
        out = out.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), &value);
    }
    out
}

fn documented(op: &Value, status: u16) -> bool {
    op["responses"].get(status.to_string()).is_some()
}

#[tokio::test]
async fn a_body_that_is_not_json_or_not_of_the_documented_shape_gets_a_documented_answer() {
    let mesh =
        start_mesh_with(testing::TestBackend::Sqlite, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0"), ("ATMR_LOGIN_RATE_PER_MINUTE", "0")]).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let admin = admin_token(&http, &gw).await;
    // The driver's own routes admit only a driver's token (which names its driver).
    let holder = kit::auth::Holder {
        subject: "900",
        email: "driver@example.com",
        company_id: 1,
        role: kit::auth::Role::Driver,
        generation: 0,
        driver_id: Some(1),
    };
    let driver = testing::keys().issue_to(&holder, std::time::Duration::from_secs(600));
    // The platform's routes admit the operator alone.
    let operator = mesh.gateway.token(kit::auth::PLATFORM_COMPANY_ID, kit::auth::Role::Operator);
    let doc: Value = http.get(format!("{gw}/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut writes = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // Alertmanager's payload is read leniently by design (and the receiver
        // is off without its secret): gateway/tests/api/alerts.rs tests it.
        if path == "/api/platform/alerts" {
            continue;
        }
        for (method, op) in item.as_object().unwrap().iter().filter(|(_, op)| op["requestBody"].is_object()) {
            let token = if op["security"][0]["bearer"] == json!(["driver"]) {
                &driver
            } else if op["security"].to_string().contains("\"operator\"") {
                &operator
            } else {
                &admin
            };
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = format!("{gw}{}", concrete(path, op, 1));
            // A body without `Content-Type: application/json`.
            let res = http.request(method.clone(), &url).bearer_auth(token).body("{}").send().await.unwrap();
            let status = res.status().as_u16();
            assert_eq!(status, 415, "{method} {path} without a JSON content type");
            assert!(documented(op, status), "{method} {path} answers {status}, which its document does not list");
            // JSON with a field no route reads: every body type refuses unknown fields.
            let res = http.request(method.clone(), &url).bearer_auth(token).json(&json!({ "no_such_field": 1 })).send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 422, "{method} {path} with an unknown field: {body}");
            assert!(documented(op, status), "{method} {path} answers {status}, which its document does not list");
            assert_eq!(body["error"]["code"], "invalid_argument", "{method} {path}: {body}");
            writes += 1;
        }
    }
    assert!(writes >= 30, "{writes} operations with a body");
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn an_id_below_the_documented_minimum_is_refused_as_documented() {
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0")]).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    let doc: Value = http.get(format!("{gw}/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let ids: Vec<&Value> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path" && p["schema"]["type"] == "integer")
                .collect();
            // A body is read before the id: those routes answer 422 to a bad body first.
            if ids.is_empty() || op["requestBody"].is_object() {
                continue;
            }
            assert!(ids.iter().all(|p| p["schema"]["minimum"] == 1), "{method} {path}: {ids:?}");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = http.request(method.clone(), format!("{gw}{}", concrete(path, op, 0))).bearer_auth(&token).send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 400, "{method} {path} with id 0: {body}");
            assert!(documented(op, status), "{method} {path}");
            assert!(body["error"]["details"]["field"].is_string(), "{method} {path} names the id: {body}");
            checked += 1;
        }
    }
    assert!(checked >= 13, "{checked} operations with an integer id");
    mesh.gateway.stop().await.unwrap();
}

/// Schemathesis stored an action type with a control character through
/// `PUT /api/admin/safety-limits`, which every later read then returned
/// (and PostgreSQL refuses NUL in text): control characters are refused, as
/// in every other text field, and so are they in a review's notes.
#[tokio::test]
async fn control_characters_in_an_action_type_or_a_review_note_are_refused() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        for bad in ["swap\u{9b}", "swap\u{0}", "re\u{7}assign"] {
            let limits = json!({ "action_types": [{ "action_type": bad, "max_per_hour": 1 }] });
            let res = http.put(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).json(&limits).send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 400, "{backend:?} {bad:?}: {body}");
            assert_eq!(body["error"]["details"]["field"], "limits.action_types[0].action_type", "{body}");
        }
        let limits: Value =
            http.get(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(limits["action_types"], json!([]), "nothing was stored: {limits}");
        // A type on one line still goes through, trimmed.
        let ok = json!({ "action_types": [{ "action_type": " swap ", "max_per_hour": 1 }] });
        let res = http.put(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).json(&ok).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["action_types"][0]["action_type"], "swap");

        let review = |notes: &'static str| {
            http.post(format!("{gw}/api/admin/autonomous-actions/1/review")).bearer_auth(&token).json(&json!({ "notes": notes })).send()
        };
        let res = review("checked\u{0}").await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_eq!((status, body["error"]["details"]["field"].as_str()), (400, Some("notes")), "{backend:?}: {body}");
        // Lines are text: such a note reaches the lookup (no action 1 here).
        assert_eq!(review("checked\nby phone").await.unwrap().status(), 404);
        mesh.gateway.stop().await.unwrap();
    }
}

/// Schemathesis moved a booking to the driver it was already on: the route
/// kept the booking's stops and placed it again, and the two assignments
/// written for it broke the one-live-assignment-per-booking index (a 500).
/// Moving a booking to its own driver re-times it, once.
#[tokio::test]
async fn a_booking_reassigned_to_its_own_driver_keeps_one_assignment() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        let post = |path: &str, body: Value| http.post(format!("{gw}{path}")).bearer_auth(&token).json(&body).send();
        let id = |v: &Value| v["id"].as_i64().unwrap();
        let driver: Value = post(
            "/api/drivers",
            json!({ "name": "Ana", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 360, "shift_end_minute": 1200,
                    "depot": { "latitude": 46.2, "longitude": 6.14 } }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let patient: Value = post(
            "/api/clients",
            json!({ "name": "Jeanne", "address": "Rue de Carouge 12, Genève", "location": { "latitude": 46.195, "longitude": 6.14 } }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let booking = |at: &str, until: &str| {
            json!({ "client_id": id(&patient), "pickup_address": "Rue de Carouge 12", "pickup": { "latitude": 46.195, "longitude": 6.14 },
                    "dropoff_address": "HUG", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
                    "pickup_earliest": at, "pickup_latest": until })
        };
        let first: Value =
            post("/api/bookings", booking("2030-01-07T08:00:00Z", "2030-01-07T08:30:00Z")).await.unwrap().json().await.unwrap();
        // Far outside the driver's shift: only a forced move places it.
        let late: Value =
            post("/api/bookings", booking("2030-01-07T23:00:00Z", "2030-01-07T23:30:00Z")).await.unwrap().json().await.unwrap();
        for (booking, force) in [(&first, false), (&first, false), (&late, true), (&late, true), (&first, true)] {
            let path = format!("/api/bookings/{}/reassign", id(booking));
            let res = post(&path, json!({ "driver_id": id(&driver), "force": force })).await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 200, "{backend:?} {path} force {force}: {body}");
            assert_eq!(body["assignment"]["driver_id"], id(&driver), "{body}");
        }
        let live: Value = http
            .get(format!("{gw}/api/dispatch/assignments?driver_id={}&status=planned,active", id(&driver)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut bookings: Vec<i64> = live["items"].as_array().unwrap().iter().map(|a| a["booking_id"].as_i64().unwrap()).collect();
        bookings.sort_unstable();
        assert_eq!(bookings, vec![id(&first), id(&late)], "{backend:?}: one live assignment each: {live}");
        mesh.gateway.stop().await.unwrap();
    }
}
