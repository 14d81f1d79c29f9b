//! The REST contract against the server: what `/openapi.json` says a route
//! answers is what it answers (schemathesis checks the same at scale, see
//! `scripts/schemathesis.sh`; these are the cases it found).

use kit::testing::backends;
use serde_json::{Value, json};

use crate::mesh::{admin_token, start_mesh_with};

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
