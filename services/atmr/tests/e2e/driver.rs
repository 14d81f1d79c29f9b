//! A driver's day through the whole mesh, on SQLite and PostgreSQL: an admin
//! links an account to a driver, the driver signs in, reads the day's stops,
//! sends positions (the bad ones refused by name, more than one a second
//! dropped) and changes a trip's status, which the dispatcher's live board
//! and dispatch see; and the driver's token opens nothing else — every other
//! REST operation answers 403 and every other RPC of every service
//! PERMISSION_DENIED. Then the same in headless Chromium at a phone's size:
//! the driver's page with an emulated position, shared and queued while
//! offline, and one tap per status change.

use atmr_proto::FILE_DESCRIPTOR_SET;
use kit::{
    Component,
    auth::{Holder, Role},
    testing::{self, backends},
};
use prost::Message as _;
use serde_json::{Value, json};

use crate::{
    browser::Browser,
    mesh::{admin_token, board_until, start_mesh_with},
};

/// The three RPCs a driver's token reaches.
const DRIVER_RPCS: [&str; 3] = [
    "/atmr.dispatch.v1.DispatchService/GetDriverManifest",
    "/atmr.dispatch.v1.DispatchService/RecordDriverPositions",
    "/atmr.dispatch.v1.DispatchService/UpdateTripStatus",
];

/// Every unary and server-streaming RPC of the services, by component.
fn rpcs() -> Vec<(Component, String, bool)> {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
    let mut out = Vec::new();
    for file in &set.file {
        let package = file.package();
        let Some(component) = Component::SERVICES.iter().copied().find(|c| package == format!("atmr.{}.v1", c.name())) else { continue };
        for service in &file.service {
            for m in service.method.iter().filter(|m| !m.client_streaming()) {
                out.push((component, format!("/{package}.{}/{}", service.name(), m.name()), m.server_streaming()));
            }
        }
    }
    out
}

/// The status of calling `path` with an empty message (every field at its
/// default) and `token`.
async fn call_empty(url: String, path: &str, streaming: bool, token: &str) -> tonic::Code {
    let channel = tonic::transport::Endpoint::from_shared(url).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let request = kit::grpc::request((), token);
    let path = tonic::codegen::http::uri::PathAndQuery::try_from(path).unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let answer = if streaming {
        grpc.server_streaming(request, path, codec).await.map(|_| ())
    } else {
        grpc.unary(request, path, codec).await.map(|_| ())
    };
    answer.err().map_or(tonic::Code::Ok, |s| s.code())
}

#[tokio::test]
async fn a_driver_reads_the_day_reports_positions_and_trips_that_dispatch_sees_and_reaches_nothing_else() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0"), ("ATMR_LOGIN_RATE_PER_MINUTE", "0")]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let admin = admin_token(&http, &gw).await;
        let post = |path: &str, token: &str, body: Value| http.post(format!("{gw}{path}")).bearer_auth(token).json(&body).send();
        let get = |path: String, token: &str| http.get(format!("{gw}{path}")).bearer_auth(token).send();
        let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();

        // The admin's company: a driver, a patient, two trips, a plan.
        let driver = json!({ "name": "Ana Duarte", "phone": "+41 79 555 01 02", "vehicle_kind": "car", "seats": 4,
            "shift_start_minute": 360, "shift_end_minute": 1200, "depot": { "latitude": 46.21, "longitude": 6.12 } });
        let driver_id = post("/api/drivers", &admin, driver).await.unwrap().json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let patient = json!({ "name": "Marie Dupont", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12, 1205 Genève",
            "location": { "latitude": 46.195, "longitude": 6.14 }, "mobility": "ambulatory", "notes": "allergie à la pénicilline" });
        let patient: Value = post("/api/clients", &admin, patient).await.unwrap().json().await.unwrap();
        let trip = |hour: u32| {
            json!({ "client_id": patient["id"], "pickup_address": "Rue de Carouge 12", "pickup": { "latitude": 46.195, "longitude": 6.14 },
                "dropoff_address": "HUG, Rue Gabrielle-Perret-Gentil 4", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
                "pickup_earliest": format!("{day}T{hour:02}:00:00Z"), "pickup_latest": format!("{day}T{hour:02}:20:00Z"),
                "boarding_minutes": 3, "notes": "Sonner deux fois" })
        };
        let created = post("/api/bookings/batch", &admin, json!({ "bookings": [trip(8), trip(13)] })).await.unwrap();
        assert_eq!(created.status(), 201, "{backend:?}");
        let run = post("/api/dispatch/runs", &admin, json!({ "service_day": day })).await.unwrap();
        assert_eq!(run.status(), 201, "{backend:?}");

        // The admin creates the driver's account; the driver signs in.
        let account = json!({ "email": "ana@example.com", "password": "ana-drives-the-van", "role": "driver", "driver_id": driver_id });
        let made = post("/api/admin/users", &admin, account).await.unwrap();
        assert_eq!(made.status(), 201, "{backend:?}");
        let login: Value = http
            .post(format!("{gw}/api/auth/login"))
            .json(&json!({ "email": "ana@example.com", "password": "ana-drives-the-van" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["access_token"].as_str().unwrap().to_owned();

        // The day, in order, with no more of the patient than the driver needs.
        let manifest = get(format!("/api/me/manifest?day={day}"), &token).await.unwrap();
        assert_eq!(manifest.status(), 200, "{backend:?}");
        let manifest: Value = manifest.json().await.unwrap();
        let stops = manifest["stops"].as_array().unwrap();
        let kinds: Vec<&str> = stops.iter().map(|s| s["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["pickup", "dropoff", "pickup", "dropoff"], "{backend:?}: {manifest}");
        assert!(stops.iter().all(|s| s["patient"] == "Marie D." && s["boarding_notes"] == "Sonner deux fois"), "{manifest}");
        let text = manifest.to_string();
        assert!(!text.contains("Dupont") && !text.contains("pénicilline"), "{backend:?}: nothing else of the patient: {text}");
        let first = stops[0]["booking_id"].as_i64().unwrap();

        // Positions: a bad one refuses the batch by name; a flood is thinned to one a second.
        let now = chrono::Utc::now();
        let fix = |lat: f64, at: chrono::DateTime<chrono::Utc>| json!({ "position": { "latitude": lat, "longitude": 6.14 }, "time": at.to_rfc3339(), "accuracy_m": 9.5 });
        let refused =
            post("/api/me/positions", &token, json!({ "positions": [fix(46.2, now), fix(46.2, now + chrono::Duration::minutes(5))] }))
                .await
                .unwrap();
        assert_eq!(refused.status(), 400, "{backend:?}");
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["details"]["field"], "positions[1].time");
        // A whole second, ten seconds ago: five positions within it, one in the next.
        let second = chrono::DateTime::from_timestamp(now.timestamp() - 10, 0).unwrap();
        let flood: Vec<Value> =
            (0..5).map(|i| fix(46.20 + f64::from(i) / 1000.0, second + chrono::Duration::milliseconds(i64::from(i) * 150))).collect();
        let mut batch = flood;
        batch.push(fix(46.25, second + chrono::Duration::seconds(1)));
        let answer: Value = post("/api/me/positions", &token, json!({ "positions": batch })).await.unwrap().json().await.unwrap();
        assert_eq!((answer["accepted"].as_i64(), answer["dropped"].as_i64()), (Some(2), Some(4)), "{backend:?}: {answer}");
        let seen: Value = get(format!("/api/drivers/{driver_id}"), &admin).await.unwrap().json().await.unwrap();
        assert_eq!(seen["last_position"]["latitude"], 46.25, "{backend:?}: dispatch sees the newest position: {seen}");

        // A status change, with the dispatcher's live board open.
        let mut board = get(format!("/api/dispatch/board?service_day={day}"), &admin).await.unwrap();
        let changed = post(&format!("/api/me/trips/{first}/status"), &token, json!({ "status": "en_route" })).await.unwrap();
        assert_eq!(changed.status(), 200, "{backend:?}");
        let late = (chrono::Utc::now() - chrono::Duration::minutes(3)).to_rfc3339();
        let picked: Value = post(&format!("/api/me/trips/{first}/status"), &token, json!({ "status": "picked_up", "occurred_at": late }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(picked["status"], "picked_up", "{backend:?}: {picked}");
        let events = board_until(&mut board, "event: status_changed", 2).await;
        assert!(events.contains("\"status\":\"active\""), "{backend:?}: {events}");
        drop(board);
        let booking: Value = get(format!("/api/bookings/{first}"), &admin).await.unwrap().json().await.unwrap();
        assert_eq!(booking["booking"]["status"], "picked_up", "{backend:?}: {booking}");

        // Every other operation of the API is refused to the driver.
        let doc: Value = http.get(format!("{gw}/openapi.json")).send().await.unwrap().json().await.unwrap();
        let mut refused = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let roles: Vec<&str> = op["security"][0]["bearer"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                if roles.is_empty() || roles.contains(&"driver") {
                    continue;
                }
                let url = format!("{gw}{}", path.replace("{id}", "1").replace("{bug_id}", "1").replace("{comment_id}", "1"));
                let req = http.request(reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), url).bearer_auth(&token);
                let status = req.json(&json!({})).send().await.unwrap().status();
                assert_eq!(status, 403, "{backend:?}: {method} {path} as a driver");
                refused += 1;
            }
        }
        assert!(refused > 80, "{refused} operations checked");

        // And every other RPC of every service, reached directly.
        let keys = testing::keys();
        let holder =
            Holder { subject: "1", email: "ana@example.com", company_id: 1, role: Role::Driver, generation: 0, driver_id: Some(driver_id) };
        let direct = keys.issue_to(&holder, std::time::Duration::from_secs(600));
        let mut checked = 0;
        for (component, path, streaming) in rpcs() {
            let svc = &mesh.services.iter().find(|(c, _)| *c == component).unwrap().1;
            let code = call_empty(svc.url(), &path, streaming, &direct).await;
            if DRIVER_RPCS.contains(&path.as_str()) {
                assert_ne!(code, tonic::Code::PermissionDenied, "{backend:?}: {path} is the driver's");
            } else {
                assert_eq!(code, tonic::Code::PermissionDenied, "{backend:?}: {path} as a driver");
                checked += 1;
            }
        }
        assert!(checked > 60, "{checked} RPCs checked");
        mesh.gateway.stop().await.unwrap();
    }
}

/// A driver with an account and two trips planned on `day`: (driver id, the trips' booking ids, the account's password).
async fn driver_with_a_day(http: &reqwest::Client, gw: &str, admin: &str, day: chrono::NaiveDate) -> (i64, Vec<i64>, String) {
    let post = |path: &str, body: Value| http.post(format!("{gw}{path}")).bearer_auth(admin).json(&body).send();
    let driver = json!({ "name": "Ana Duarte", "phone": "+41 79 555 01 02", "vehicle_kind": "wheelchair_van", "seats": 3,
        "wheelchair_places": 2, "shift_start_minute": 0, "shift_end_minute": 1439, "depot": { "latitude": 46.21, "longitude": 6.12 } });
    let driver_id = post("/api/drivers", driver).await.unwrap().json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let patient = json!({ "name": "Marie Dupont", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12, 1205 Genève",
        "location": { "latitude": 46.195, "longitude": 6.14 }, "mobility": "wheelchair" });
    let patient: Value = post("/api/clients", patient).await.unwrap().json().await.unwrap();
    let trip = |hour: u32, address: &str| {
        json!({ "client_id": patient["id"], "pickup_address": address, "pickup": { "latitude": 46.195, "longitude": 6.14 },
            "dropoff_address": "HUG, Rue Gabrielle-Perret-Gentil 4", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
            "pickup_earliest": format!("{day}T{hour:02}:00:00Z"), "pickup_latest": format!("{day}T{hour:02}:20:00Z"),
            "boarding_minutes": 5, "notes": "Fauteuil pliable, sonner deux fois" })
    };
    let created: Value =
        post("/api/bookings/batch", json!({ "bookings": [trip(18, "Rue de Carouge 12"), trip(20, "Avenue de Champel 8")] }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let ids = created["bookings"].as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();
    let run: Value = post("/api/dispatch/runs", json!({ "service_day": day })).await.unwrap().json().await.unwrap();
    assert_eq!(run["run"]["bookings_assigned"], 2, "{run}");
    let password = "ana-drives-the-van".to_owned();
    let account = json!({ "email": "ana@example.com", "password": password, "role": "driver", "driver_id": driver_id });
    assert_eq!(post("/api/admin/users", account).await.unwrap().status(), 201);
    (driver_id, ids, password)
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn a_driver_on_a_phone_shares_the_position_even_through_a_dead_zone_and_taps_the_day_through() {
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &[]).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let admin = admin_token(&http, &gw).await;
    // Tomorrow: today's 18:00 trip is already past when the suite runs in the evening.
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let (driver_id, trips, password) = driver_with_a_day(&http, &gw, &admin, day).await;
    let last_position = || async {
        let d: Value = http.get(format!("{gw}/api/drivers/{driver_id}")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        d["last_position"]["latitude"].as_f64()
    };
    let status_of = |id: i64| {
        let req = http.get(format!("{gw}/api/bookings/{id}")).bearer_auth(&admin).send();
        async move { req.await.unwrap().json::<Value>().await.unwrap()["booking"]["status"].as_str().unwrap_or_default().to_owned() }
    };

    let b = Browser::start_sized(&gw, "fr", (390, 844)).await;
    // A phone's viewport, whatever the smallest window headless Chromium opens.
    let phone = json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true });
    b.cdp("Emulation.setDeviceMetricsOverride", phone).await;
    b.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"], "origin": b.origin() })).await;
    b.cdp("Emulation.setGeolocationOverride", json!({ "latitude": 46.2044, "longitude": 6.1432, "accuracy": 15 })).await;
    b.sign_in("ana@example.com", &password, "fr").await;
    b.until("a driver lands on their day", "location.pathname === '/driver'").await;
    b.goto(&format!("/driver?day={day}")).await;
    b.until("four stops", "document.querySelectorAll('li.stop').length === 4").await;
    assert_eq!(b.text("li.stop .who").await.split(' ').take(2).collect::<Vec<_>>(), ["Marie", "D."]);
    // The position is shared as soon as the page is open.
    b.until("the position sent", "document.getElementById('share-state').dataset.state === 'sharing'").await;
    assert_eq!(last_position().await, Some(46.2044), "dispatch has the phone's position");
    b.shot("driver-day").await;

    // A dead zone: positions wait in the phone, and go when the network returns.
    b.cdp("Network.enable", json!({})).await;
    let offline = json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    b.cdp("Network.emulateNetworkConditions", offline).await;
    b.until("offline", "navigator.onLine === false").await;
    b.cdp("Emulation.setGeolocationOverride", json!({ "latitude": 46.1990, "longitude": 6.1410, "accuracy": 20 })).await;
    b.until("a position queued", "Number(document.getElementById('share-pending').textContent) > 0").await;
    assert_eq!(last_position().await, Some(46.2044), "nothing reached dispatch while offline");
    let online = json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    b.cdp("Network.emulateNetworkConditions", online).await;
    b.until("the queue sent", "document.getElementById('share-pending').textContent === '0' && document.getElementById('share-state').dataset.state === 'sharing'").await;
    assert_eq!(last_position().await, Some(46.199), "the queued position arrived when the network returned");

    // One tap per status change; the dispatcher's view follows.
    let first = format!("li.stop[data-booking='{}'][data-kind=pickup]", trips[0]);
    b.click(&format!("{first} button[data-status=en_route]")).await;
    b.until("en route", &format!("document.querySelector(\"{first} .badge.status-en_route\") !== null")).await;
    assert_eq!(status_of(trips[0]).await, "en_route");
    b.click(&format!("{first} button[data-status=picked_up]")).await;
    b.until("on board", &format!("document.querySelector(\"{first} .badge.status-picked_up\") !== null")).await;
    assert_eq!(status_of(trips[0]).await, "picked_up");
    // The second patient is not there: the no-show says why.
    let second = format!("li.stop[data-booking='{}'][data-kind=pickup]", trips[1]);
    b.click(&format!("{second} button[data-no-show]")).await;
    b.fill(&format!("#no-show-{} input[name=reason]", trips[1]), "Personne à la porte ni au téléphone").await;
    b.shot("driver-no-show").await;
    b.click(&format!("#no-show-{} button[type=submit]", trips[1])).await;
    b.until("no-show", &format!("document.querySelector(\"{second} .badge.status-no_show\") !== null")).await;
    assert_eq!(status_of(trips[1]).await, "no_show");
    b.shot("driver-day-after").await;

    // The dispatcher's pages are not the driver's.
    b.goto("/board").await;
    b.until("refused", "document.querySelector('.board-head') === null && document.querySelector('[role=alert]') !== null").await;
    b.close().await;
    mesh.gateway.stop().await.unwrap();
}
