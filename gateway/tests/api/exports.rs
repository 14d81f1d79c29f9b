//! The CSV exports through the gateway: bookings, assignments and dispatch
//! runs of a range of days, more rows than one chunk, each once, in order,
//! with the lists' filters; a bad day named as sent; a formula made inert.

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt as _;
use kit::testing;
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt as _;

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, Gateway, gateway};

impl Gateway {
    /// A GET answered as text: the status, the content type and the body.
    async fn text(&self, uri: &str, token: &str) -> (StatusCode, String, String) {
        let mut req = Request::builder().uri(uri).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (status, kind) = (res.status(), res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, kind, String::from_utf8(bytes.to_vec()).unwrap())
    }
}

/// A trip on `day` (2030-01-0d) at `minute` past 06:00 UTC.
fn trip(client: i64, day: u32, minute: u32, notes: &str) -> Value {
    let start = chrono::NaiveDate::from_ymd_opt(2030, 1, day).unwrap().and_hms_opt(6, 0, 0).unwrap().and_utc()
        + chrono::Duration::minutes(i64::from(minute));
    let rfc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "client_id": client, "pickup_address": "Rue de Carouge 12", "pickup": {"latitude": 46.195, "longitude": 6.14},
        "dropoff_address": "HUG", "dropoff": {"latitude": 46.1935, "longitude": 6.149},
        "pickup_earliest": rfc(start), "pickup_latest": rfc(start + chrono::Duration::minutes(30)), "notes": notes
    })
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn an_export_streams_every_row_of_its_days_once_in_order_with_the_lists_filters() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let patient = json!({ "name": "Ada Muller", "address": "Rue de Carouge 12", "location": {"latitude": 46.195, "longitude": 6.14} });
        let (status, client) = gw.call("POST", "/api/clients", Some(&token), Some(patient)).await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let client = client["id"].as_i64().unwrap();
        // 700 trips on the 7th (more than one chunk of 500, many at the same
        // minute, so the keyset's tie-break on the id is exercised), 300 on
        // the 8th, 50 on the 9th; one note a spreadsheet would run.
        let mut bookings: Vec<Value> = (0..700).map(|i| trip(client, 7, (i % 60) * 10, "")).collect();
        bookings.extend((0..300).map(|i| trip(client, 8, i % 600, "")));
        bookings.extend((0..50).map(|i| trip(client, 9, i, if i == 0 { "=HYPERLINK(\"http://x\")" } else { "" })));
        let (status, body) = gw.call("POST", "/api/bookings/batch", Some(&token), Some(json!({ "bookings": bookings }))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        let (status, kind, csv) = gw.text("/api/bookings/export?from=2030-01-07&to=2030-01-08", &token).await;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"), "{csv}");
        let all = rows(&csv);
        assert_eq!(all[0][..3], ["id", "service_day", "status"]);
        let data = &all[1..];
        assert_eq!(data.len(), 1000, "the two days' rows, each once");
        let mut ids: Vec<&str> = data.iter().map(|r| r[0].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 1000, "no row twice across chunks");
        assert!(data.iter().all(|r| r[1] == "2030-01-07" || r[1] == "2030-01-08"));
        let order: Vec<(&str, i64)> = data.iter().map(|r| (r[10].as_str(), r[0].parse().unwrap())).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "by scheduled time, then id");

        // The lists' filters apply; one day; the formula is inert.
        let (_, _, csv) = gw.text("/api/bookings/export?from=2030-01-09&to=2030-01-09&status=pending", &token).await;
        let day = rows(&csv);
        assert_eq!(day.len(), 51);
        assert!(day[1..].iter().any(|r| r[19] == "'=HYPERLINK(\"http://x\")"), "{csv}");
        let (_, _, csv) = gw.text("/api/bookings/export?from=2030-01-09&status=cancelled", &token).await;
        assert_eq!(rows(&csv).len(), 1, "the header alone");

        // A bad day is named as it was sent, and nothing is streamed.
        let (status, _, body) = gw.text("/api/bookings/export?from=07-01-2030", &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["details"]["field"], "from", "{body}");
        let (status, _, body) = gw.text("/api/dispatch/assignments/export?from=2030-01-09&to=2030-01-08", &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        // A run on the 9th: the runs' and the assignments' exports show it.
        let driver = json!({ "name": "Driver One", "vehicle_kind": "car", "seats": 8, "shift_start_minute": 300, "shift_end_minute": 1200,
            "depot": {"latitude": 46.2, "longitude": 6.15} });
        let (status, body) = gw.call("POST", "/api/drivers", Some(&token), Some(driver)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, run) = gw.call("POST", "/api/dispatch/runs", Some(&token), Some(json!({ "service_day": "2030-01-09" }))).await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        let (_, _, csv) = gw.text("/api/dispatch/runs/export?from=2030-01-09&to=2030-01-09", &token).await;
        let runs = rows(&csv);
        assert_eq!(runs.len(), 2, "{csv}");
        assert_eq!(runs[1][0], run["run"]["id"].to_string());
        let assigned = runs[1][7].parse::<usize>().unwrap();
        assert!(assigned > 0, "{csv}");
        let (_, _, csv) = gw.text("/api/dispatch/assignments/export?from=2030-01-09&to=2030-01-09&status=planned", &token).await;
        assert_eq!(rows(&csv).len(), 1 + assigned, "{csv}");
        let (_, _, csv) = gw.text("/api/dispatch/runs/export?to=2030-01-08", &token).await;
        assert_eq!(rows(&csv).len(), 1, "no run before the 9th");
    }
}
