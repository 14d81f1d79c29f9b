//! A patient's data rights through the gateway: the export gathers dispatch's
//! record and the notifications that named the patient's trips (and no
//! others); only admins may export or erase; the erasure says what it erased;
//! the company's retention period is read and set with its bounds.

use axum::http::StatusCode;
use kit::testing;
use serde_json::{Value, json};

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, gateway};

fn trip(client: i64, hour: u32, notes: &str) -> Value {
    json!({
        "client_id": client, "pickup_address": "Rue de Carouge 12", "pickup": {"latitude": 46.19512, "longitude": 6.14077},
        "dropoff_address": "HUG", "dropoff": {"latitude": 46.1935, "longitude": 6.149},
        "pickup_earliest": format!("2030-01-07T{hour:02}:00:00Z"), "pickup_latest": format!("2030-01-07T{hour:02}:30:00Z"), "notes": notes
    })
}

#[tokio::test]
async fn a_patient_is_exported_with_the_notifications_naming_their_trips_then_erased_by_an_admin() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let user = json!({ "email": "disp@example.com", "password": "another-long-password", "role": "dispatcher" });
        let (status, body) = gw.call("POST", "/api/admin/users", Some(&admin), Some(user)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let dispatcher = gw.login("disp@example.com", "another-long-password").await;

        let patient = json!({ "name": "Ada Muller", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12",
            "location": {"latitude": 46.19512, "longitude": 6.14077}, "notes": "Key under the mat" });
        let (_, ada) = gw.call("POST", "/api/clients", Some(&admin), Some(patient)).await;
        let ada = ada["id"].as_i64().unwrap();
        let bob = json!({ "name": "Bob Keller", "address": "Rue du Rhône 1", "location": {"latitude": 46.2, "longitude": 6.15} });
        let (_, bob) = gw.call("POST", "/api/clients", Some(&admin), Some(bob)).await;
        let bob = bob["id"].as_i64().unwrap();
        let rows = json!({ "bookings": [trip(ada, 8, "Door code 4411"), trip(ada, 9, ""), trip(bob, 10, "")] });
        let (status, made) = gw.call("POST", "/api/bookings/batch", Some(&admin), Some(rows)).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let ids: Vec<i64> = made["bookings"].as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();

        // Two notifications name Ada's trips, one names Bob's.
        for (id, title) in [(ids[0], "Booking late"), (ids[1], "Booking moved"), (ids[2], "Bob's booking late")] {
            let n = json!({ "channel_id": "log", "event_type": "dispatch.delay", "title": title,
                "fields": [{"name": "Booking", "value": id.to_string()}, {"name": "Driver", "value": "7"}] });
            let (status, body) = gw.call("POST", "/api/notifications", Some(&admin), Some(n)).await;
            assert!(status.is_success(), "{body}");
        }

        let uri = format!("/api/clients/{ada}/export");
        let (status, _) = gw.call("GET", &uri, Some(&dispatcher), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, export) = gw.call("GET", &uri, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{export}");
        assert_eq!(export["format"], "atmr.patient-export.v1");
        assert_eq!((&export["patient"]["name"], &export["patient"]["phone"]), (&json!("Ada Muller"), &json!("+41 22 555 12 34")));
        assert_eq!(export["bookings"].as_array().unwrap().len(), 2);
        let titles: Vec<&str> = export["notifications"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
        assert_eq!(titles.len(), 2, "{titles:?}");
        assert!(!titles.contains(&"Bob's booking late"), "{titles:?}");
        assert_eq!(export["exported_by"], ADMIN_EMAIL);

        // Open trips hold the erasure back (refused, naming them); cancelled, it goes.
        let erase = format!("/api/clients/{ada}/erase");
        let (status, _) = gw.call("POST", &erase, Some(&dispatcher), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, refused) = gw.call("POST", &erase, Some(&admin), None).await;
        assert_eq!((status, &refused["error"]["code"]), (StatusCode::BAD_REQUEST, &json!("failed_precondition")), "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("2 bookings not yet finished"), "{refused}");
        for id in &ids[..2] {
            let (status, body) = gw
                .call(
                    "POST",
                    &format!("/api/bookings/{id}/status"),
                    Some(&admin),
                    Some(json!({ "status": "cancelled", "reason": "moved away" })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, erased) = gw.call("POST", &erase, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{erased}");
        assert_eq!(erased["bookings_anonymised"], 2);
        assert!(erased["erasure_reference"].as_str().unwrap().starts_with("ANON-"));
        assert!(erased["notifications"].as_str().unwrap().contains("nothing personal"));

        let (status, _) = gw.call("GET", &format!("/api/clients/{ada}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, after) = gw.call("GET", &uri, Some(&admin), None).await;
        assert_eq!(after["erasure_reference"], erased["erasure_reference"]);
        assert_eq!(after["patient"]["phone"], "");
        let text = after.to_string();
        for personal in ["Ada Muller", "Key under the mat", "Door code 4411", "Rue de Carouge", "6.14077", "moved away"] {
            assert!(!text.contains(personal), "{personal} is still held: {text}");
        }
        let (status, again) = gw.call("POST", &erase, Some(&admin), None).await;
        assert_eq!((status, &again["error"]["code"]), (StatusCode::BAD_REQUEST, &json!("failed_precondition")), "an erasure happens once");

        // The retention period: read, set, bounded.
        let (status, company) = gw.call("PATCH", "/api/company", Some(&admin), Some(json!({ "erase_completed_after_days": 400 }))).await;
        assert_eq!((status, &company["erase_completed_after_days"]), (StatusCode::OK, &json!(400)), "{company}");
        let (status, body) = gw.call("PATCH", "/api/company", Some(&admin), Some(json!({ "erase_completed_after_days": 5000 }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (_, company) = gw.call("GET", "/api/company", Some(&dispatcher), None).await;
        assert_eq!(company["erase_completed_after_days"], 400);
    }
}
