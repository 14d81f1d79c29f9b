//! #24's day, one story on SQLite and PostgreSQL: a company is created from
//! the command line (`atmr company create`), its admin invites a dispatcher
//! and two drivers; the dispatcher books a patient's trips and plans the day;
//! the drivers report positions and status changes, which dispatch and the
//! dispatcher's board see; every change any of them made is in the audit
//! log, by its author, and the chain verifies over all of it; the patient is
//! exported, then erased; a second company, made the same way, sees none of
//! it. (The drivers' phones in a real browser are `driver.rs`'s.)

use std::time::{Duration, Instant};

use kit::{
    Component,
    testing::{self, Spawned, TestDb, backends},
};
use serde_json::{Value, json};

use crate::isolation::{OPERATOR_EMAIL, OPERATOR_PASSWORD};
use crate::mesh::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// Relays poll often, so the log is waited for on a condition.
const ENV: &[(&str, &str)] = &[
    ("ATMR_OPERATOR_EMAIL", OPERATOR_EMAIL),
    ("ATMR_OPERATOR_PASSWORD", OPERATOR_PASSWORD),
    ("ATMR_RATE_LIMIT_PER_MINUTE", "0"),
    ("ATMR_LOGIN_RATE_PER_MINUTE", "0"),
    ("ATMR_OUTBOX_POLL_MS", "20"),
    ("ATMR_OUTBOX_BACKOFF_BASE_MS", "50"),
    ("ATMR_OUTBOX_BACKOFF_MAX_SECS", "1"),
];

/// The mesh as `atmr up` wires it: safety and notify first, then dispatch
/// and bugs, which reach them, then the gateway.
struct Wired {
    _services: Vec<Spawned>,
    gateway: Spawned,
    _dbs: Vec<TestDb>,
}

async fn wired(backend: testing::TestBackend) -> Wired {
    testing::init_logging();
    let (mut services, mut dbs, mut peers) = (Vec::new(), Vec::new(), Vec::<(String, String)>::new());
    for component in [Component::Safety, Component::Notify, Component::Dispatch, Component::Bugs] {
        let db = TestDb::new(backend).await.unwrap();
        let mut extra: Vec<(&str, &str)> = ENV.to_vec();
        extra.extend(peers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let svc = crate::spawn_one(component, &db, &extra).await;
        peers.push((format!("{}_URL", component.env_prefix()), svc.url()));
        services.push(svc);
        dbs.push(db);
    }
    let db = TestDb::new(backend).await.unwrap();
    peers.push(("GATEWAY_DATABASE_URL".into(), db.url.clone()));
    peers.push(("ATMR_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()));
    peers.push(("ATMR_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()));
    peers.extend(ENV.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    dbs.push(db);
    let env = crate::env_with(&peers);
    let gateway =
        testing::spawn(move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await }).await.unwrap();
    Wired { _services: services, gateway, _dbs: dbs }
}

/// One person at the gateway.
struct Person {
    http: reqwest::Client,
    gw: String,
    token: String,
}

impl Person {
    async fn login(gw: &str, email: &str, password: &str) -> Self {
        let http = reqwest::Client::new();
        let res = http.post(format!("{gw}/api/auth/login")).json(&json!({ "email": email, "password": password })).send().await.unwrap();
        assert_eq!(res.status(), 200, "login of {email}");
        let token = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        Self { http, gw: gw.to_owned(), token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.gw)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.send(reqwest::Method::POST, path, Some(body)).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {answer}");
        answer
    }
}

/// `atmr company create`, in process, as the operator; the admin's login.
async fn company(gw: &str, name: &str, admin_email: &str) -> (i64, Person) {
    let args = atmr::company::CreateCompany {
        name: name.into(),
        time_zone: "Europe/Zurich".into(),
        admin_email: admin_email.into(),
        gateway: Some(gw.to_owned()),
    };
    let operator = kit::Env::from_pairs([("ATMR_OPERATOR_EMAIL", OPERATOR_EMAIL), ("ATMR_OPERATOR_PASSWORD", OPERATOR_PASSWORD)]);
    let created = atmr::company::create(&args, &operator).await.unwrap();
    assert!(created.lines().contains(&created.admin_password), "the login is printed once");
    (created.company_id, Person::login(gw, admin_email, &created.admin_password).await)
}

#[tokio::test]
async fn a_company_made_from_the_command_line_lives_a_day_on_the_record_and_a_second_sees_none_of_it() {
    for backend in backends() {
        let mesh = wired(backend).await;
        let gw = mesh.gateway.url();
        let (_, admin) = company(&gw, "Transports du Lac", "admin@lac.example").await;

        // The admin invites a dispatcher and two drivers.
        let account = |email: &str, role: &str, driver: Option<i64>| json!({ "email": email, "password": "a long enough password", "role": role, "driver_id": driver });
        admin.post("/api/admin/users", account("disp@lac.example", "dispatcher", None)).await;
        let mut drivers = Vec::new();
        for (i, name) in ["Ana Duarte", "Luc Morel"].iter().enumerate() {
            let d = admin
                .post(
                    "/api/drivers",
                    json!({ "name": name, "vehicle_kind": "car", "seats": 4, "shift_start_minute": 0,
                    "shift_end_minute": 1439, "depot": { "latitude": 46.21 + i as f64 * 0.01, "longitude": 6.12 } }),
                )
                .await;
            let email = format!("driver{i}@lac.example");
            admin.post("/api/admin/users", account(&email, "driver", d["id"].as_i64())).await;
            drivers.push((d["id"].as_i64().unwrap(), email));
        }
        let dispatcher = Person::login(&gw, "disp@lac.example", "a long enough password").await;

        // The dispatcher books a patient's trips for tomorrow and plans the day.
        let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
        let patient = dispatcher
            .post(
                "/api/clients",
                json!({ "name": "Marie Dupont", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12",
                "location": { "latitude": 46.195, "longitude": 6.14 }, "notes": "Sonner deux fois" }),
            )
            .await;
        let patient_id = patient["id"].as_i64().unwrap();
        let trip = |from: (&str, f64, f64), to: (&str, f64, f64)| {
            json!({ "client_id": patient_id, "pickup_address": from.0, "pickup": { "latitude": from.1, "longitude": from.2 },
                "dropoff_address": to.0, "dropoff": { "latitude": to.1, "longitude": to.2 },
                "pickup_earliest": format!("{day}T08:00:00Z"), "pickup_latest": format!("{day}T08:15:00Z") })
        };
        // Two trips at the same time, in Geneva and in Lausanne: one for each driver.
        let geneva = trip(("Rue de Carouge 12", 46.195, 6.14), ("HUG", 46.1935, 6.149));
        let lausanne = trip(("Avenue de Cour 1, Lausanne", 46.515, 6.62), ("CHUV", 46.525, 6.642));
        let made = dispatcher.post("/api/bookings/batch", json!({ "bookings": [geneva, lausanne] })).await;
        let bookings: Vec<i64> = made["bookings"].as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();
        let run = dispatcher.post("/api/dispatch/runs", json!({ "service_day": day })).await;
        assert_eq!(run["run"]["bookings_assigned"], 2, "{run}");

        // Each driver, on their phone: the day, a position, the trip done.
        for (driver_id, email) in &drivers {
            let phone = Person::login(&gw, email, "a long enough password").await;
            let manifest = phone.get(&format!("/api/me/manifest?day={day}")).await;
            let stops = manifest["stops"].as_array().unwrap();
            assert_eq!(stops.len(), 2, "a pickup and a drop-off: {manifest}");
            assert_eq!(stops[0]["patient"], "Marie D.", "{manifest}");
            let trip_id = stops[0]["booking_id"].as_i64().unwrap();
            let now = chrono::Utc::now() - chrono::Duration::seconds(5);
            let fix = json!({ "position": { "latitude": 46.2, "longitude": 6.13 }, "time": now.to_rfc3339(), "accuracy_m": 8.0 });
            phone.post("/api/me/positions", json!({ "positions": [fix] })).await;
            for status in ["en_route", "picked_up", "completed"] {
                phone.post(&format!("/api/me/trips/{trip_id}/status"), json!({ "status": status })).await;
            }
            // What the dispatcher sees of it.
            let seen = dispatcher.get(&format!("/api/drivers/{driver_id}")).await;
            assert_eq!(seen["last_position"]["latitude"], 46.2, "{seen}");
            let booking = dispatcher.get(&format!("/api/bookings/{trip_id}")).await;
            assert_eq!(booking["booking"]["status"], "completed", "{booking}");
        }

        // Every change, by its author, in the log; the chain holds.
        let wanted = [
            ("user", "create", "admin@lac.example"),
            ("client", "create", "disp@lac.example"),
            ("booking", "create", "disp@lac.example"),
            ("dispatch_run", "start", "disp@lac.example"),
            ("booking", "status", "driver0@lac.example"),
            ("booking", "status", "driver1@lac.example"),
        ];
        let log = wait_for_log(&admin, &wanted).await;
        assert!(!log.to_string().contains("+41 22 555 12 34"), "a patient's phone never reaches the log");

        // The patient: exported, then erased once the trips are over.
        let export = admin.get(&format!("/api/clients/{patient_id}/export")).await;
        assert_eq!((export["patient"]["name"].as_str(), export["bookings"].as_array().map(Vec::len)), (Some("Marie Dupont"), Some(2)));
        let history = export["history"].as_array().unwrap();
        assert!(
            history.iter().any(|r| r["resource"] == "booking" && r["action"] == "status" && r["actor_role"] == "driver"),
            "the trips' status changes, by their drivers, are in the patient's history: {history:?}"
        );
        assert!(history.iter().any(|r| r["resource"] == "client" && r["action"] == "create"), "{history:?}");
        let (status, refused) = admin.send(reqwest::Method::POST, &format!("/api/clients/{patient_id}/erase"), None).await;
        assert_eq!(status, 200, "both trips are finished: {refused}");
        let after = admin.get(&format!("/api/clients/{patient_id}/export")).await;
        assert!(
            !after.to_string().contains("Marie") && !after.to_string().contains("Carouge") && !after.to_string().contains("Cour 1"),
            "{after}"
        );
        wait_for_log(&admin, &[("client", "export", "admin@lac.example"), ("client", "erase", "admin@lac.example")]).await;
        let verified = admin.get("/api/admin/autonomous-actions/verify").await;
        assert_eq!(verified["intact"], true, "{verified}");

        // A second company sees none of it.
        let (_, other) = company(&gw, "Ambulances du Jura", "admin@jura.example").await;
        for path in ["/api/clients", "/api/bookings", "/api/drivers", "/api/admin/users", "/api/admin/audit-log", "/api/dispatch/runs"] {
            let seen = other.get(path).await.to_string();
            assert!(!seen.contains("lac.example") && !seen.contains("Ana Duarte") && !seen.contains("Marie"), "{path}: {seen}");
        }
        for path in [format!("/api/clients/{patient_id}/export"), format!("/api/bookings/{}", bookings[0])] {
            assert_eq!(other.send(reqwest::Method::GET, &path, None).await.0, 404, "{path}");
        }
    }
}

/// The audit log once it lists each `(resource, action, actor email)`.
async fn wait_for_log(admin: &Person, wanted: &[(&str, &str, &str)]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = admin.get("/api/admin/audit-log?per_page=100").await;
        let items = log["items"].as_array().cloned().unwrap_or_default();
        let missing: Vec<_> = wanted
            .iter()
            .filter(|(resource, action, email)| {
                !items.iter().any(|r| r["resource"] == *resource && r["action"] == *action && r["actor_email"] == *email)
            })
            .collect();
        if missing.is_empty() {
            return log;
        }
        assert!(Instant::now() < deadline, "never in the audit log: {missing:?}\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
