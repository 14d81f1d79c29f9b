//! The human audit trail end to end, on SQLite and PostgreSQL: an admin and a
//! dispatcher change things through REST (an account and its role, a patient's
//! phone, a booking created, edited, reassigned with force and a reason and
//! cancelled, a safety limit, a maintenance window); each change appears in the audit log with its
//! actor, the client's address and the fields before and after (a patient's
//! personal fields only as changed); the chain verifies over both kinds of
//! rows; a change made while safety is down waits in dispatch's audit outbox
//! and arrives once safety is back; the CSV export has every row; and a human
//! record edited in safety's database is named by verification.

use std::{net::SocketAddr, time::Duration};

use kit::{
    Component, Lifecycle, Listeners,
    testing::{self, Spawned, TestDb},
};
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};

use crate::mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, admin_token};

/// Relays poll often and retry soon, so a test waits on conditions, not on backoff.
const RELAY: &[(&str, &str)] =
    &[("ATMR_OUTBOX_POLL_MS", "20"), ("ATMR_OUTBOX_BACKOFF_BASE_MS", "50"), ("ATMR_OUTBOX_BACKOFF_MAX_SECS", "1")];

const DISPATCHER: &str = "dispatcher@example.com";
const DISPATCHER_ADDRESS: &str = "203.0.113.7";
const ADMIN_ADDRESS: &str = "198.51.100.4";

/// Safety on a fixed address (`main`), so it can stop and come back where the
/// relays look for it.
async fn start_safety(main: SocketAddr, db: &TestDb) -> Spawned {
    let mut env = testing::env_for(Component::Safety, &db.url);
    for (k, v) in RELAY {
        env.set(k, *v);
    }
    let listeners = Listeners::bind(main, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let admin_addr = listeners.admin.local_addr().unwrap();
    let life = Lifecycle::new();
    let task = tokio::spawn({
        let life = life.clone();
        async move { atmr::serve(Component::Safety, &env, listeners, life).await }
    });
    let spawned = Spawned { addr: main, admin_addr, life, task, keys: testing::keys() };
    assert!(tokio::time::timeout(Duration::from_secs(60), spawned.life.ready()).await.unwrap(), "safety did not become ready");
    spawned
}

struct Trail {
    safety: Option<Spawned>,
    safety_addr: SocketAddr,
    services: Vec<Spawned>,
    gateway: Spawned,
    dbs: Vec<(Component, TestDb)>,
}

impl Trail {
    async fn start(backend: testing::TestBackend) -> Self {
        testing::init_logging();
        let safety_db = TestDb::new(backend).await.unwrap();
        let safety_addr: SocketAddr = format!("127.0.0.1:{}", testing::free_port()).parse().unwrap();
        let safety = start_safety(safety_addr, &safety_db).await;
        let safety_url = format!("http://{safety_addr}");
        let mut dbs = vec![(Component::Safety, safety_db)];
        let mut services = Vec::new();
        let mut peers = vec![("SAFETY_URL".to_owned(), safety_url.clone())];
        for component in [Component::Dispatch, Component::Bugs, Component::Notify] {
            let db = TestDb::new(backend).await.unwrap();
            let mut extra: Vec<(&str, &str)> = RELAY.to_vec();
            extra.push(("SAFETY_URL", &safety_url));
            let svc = crate::spawn_one(component, &db, &extra).await;
            peers.push((format!("{}_URL", component.env_prefix()), svc.url()));
            services.push(svc);
            dbs.push((component, db));
        }
        let db = TestDb::new(backend).await.unwrap();
        peers.push(("GATEWAY_DATABASE_URL".into(), db.url.clone()));
        peers.push(("ATMR_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()));
        peers.push(("ATMR_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()));
        peers.push(("ATMR_TRUSTED_PROXIES".into(), "127.0.0.1/32,::1/128".into()));
        peers.extend(RELAY.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        dbs.push((Component::Gateway, db));
        let env = crate::env_with(&peers);
        let gateway = testing::spawn(move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await })
            .await
            .unwrap();
        Self { safety: Some(safety), safety_addr, services, gateway, dbs }
    }

    fn db_url(&self, component: Component) -> &str {
        &self.dbs.iter().find(|(c, _)| *c == component).unwrap().1.url
    }

    async fn stop(mut self) {
        self.gateway.stop().await.unwrap();
        for s in self.services.drain(..) {
            s.stop().await.unwrap();
        }
        if let Some(s) = self.safety.take() {
            s.stop().await.unwrap();
        }
    }
}

/// A REST caller: its token and the address it calls from.
struct As<'a> {
    http: &'a reqwest::Client,
    gw: String,
    token: String,
    from: &'static str,
}

impl As<'_> {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.gw)).bearer_auth(&self.token).header("x-forwarded-for", self.from);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let (status, v) = self.send(method, path, Some(body)).await;
        assert!((200..300).contains(&status), "{path}: {status} {v}");
        v
    }

    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    /// Waits until the audit log (filtered by `query`) has `n` records or more.
    async fn log_reaches(&self, query: &str, n: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let page = self.get(&format!("/api/admin/audit-log?per_page=100&{query}")).await;
            let items = page["items"].as_array().unwrap().clone();
            if items.len() >= n {
                return items;
            }
            assert!(tokio::time::Instant::now() < deadline, "the audit log ({query}) has {} records, not {n}: {page}", items.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn find<'a>(items: &'a [Value], resource: &str, action: &str) -> &'a Value {
    items
        .iter()
        .find(|r| r["resource"] == resource && r["action"] == action)
        .unwrap_or_else(|| panic!("no {resource} {action} record in {items:#?}"))
}

fn change<'a>(record: &'a Value, field: &str) -> &'a Value {
    record["changes"].as_array().unwrap().iter().find(|c| c["field"] == field).unwrap_or_else(|| panic!("no {field} in {record}"))
}

#[tokio::test]
async fn people_s_changes_are_in_the_audit_log_and_the_verified_chain() {
    let day = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive().to_string();
    for backend in testing::backends() {
        let mut t = Trail::start(backend).await;
        let http = reqwest::Client::new();
        let gw = t.gateway.url();
        let admin = As { http: &http, gw: gw.clone(), token: admin_token(&http, &gw).await, from: ADMIN_ADDRESS };
        use reqwest::Method as M;

        // The admin creates a dispatcher's account; the dispatcher logs in.
        let user = admin
            .ok(M::POST, "/api/admin/users", json!({ "email": DISPATCHER, "password": "a-dispatcher-password", "role": "dispatcher" }))
            .await;
        let login: Value = http
            .post(format!("{gw}/api/auth/login"))
            .json(&json!({ "email": DISPATCHER, "password": "a-dispatcher-password" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let dispatcher =
            As { http: &http, gw: gw.clone(), token: login["access_token"].as_str().unwrap().to_owned(), from: DISPATCHER_ADDRESS };

        // The admin sets up a driver and a patient, and edits the patient's phone.
        let driver = json!({ "name": "Ana", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 360, "shift_end_minute": 1200,
                             "depot": { "latitude": 46.2, "longitude": 6.14 } });
        let ana = admin.ok(M::POST, "/api/drivers", driver.clone()).await["id"].as_i64().unwrap();
        let patient = admin
            .ok(
                M::POST,
                "/api/clients",
                json!({ "name": "Jeanne Rochat", "phone": "+41 22 111 22 33", "address": "Rue de Carouge 12, Genève",
                        "location": { "latitude": 46.195, "longitude": 6.14 } }),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        admin.ok(M::PATCH, &format!("/api/clients/{patient}"), json!({ "phone": "+41 79 999 88 77" })).await;

        // The dispatcher creates a booking, edits it, forces it onto Ana's
        // day far outside her shift, and cancels it.
        let booking = dispatcher
            .ok(
                M::POST,
                "/api/bookings",
                json!({ "client_id": patient, "pickup_address": "Rue de Carouge 12", "pickup": { "latitude": 46.195, "longitude": 6.14 },
                        "dropoff_address": "HUG", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
                        "pickup_earliest": format!("{day}T22:00:00Z"), "pickup_latest": format!("{day}T22:30:00Z") }),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        dispatcher.ok(M::PATCH, &format!("/api/bookings/{booking}"), json!({ "passengers": 2 })).await;
        dispatcher
            .ok(
                M::POST,
                &format!("/api/bookings/{booking}/reassign"),
                json!({ "driver_id": ana, "force": true, "reason": "the patient asked for Ana" }),
            )
            .await;
        dispatcher
            .ok(M::POST, &format!("/api/bookings/{booking}/status"), json!({ "status": "cancelled", "reason": "the patient called" }))
            .await;

        // The admin changes a safety limit and the dispatcher's role.
        admin.ok(M::PUT, "/api/admin/safety-limits", json!({ "max_actions_per_hour": 12 })).await;
        let user_id = user["id"].as_i64().unwrap();
        admin.ok(M::PATCH, &format!("/api/admin/users/{user_id}"), json!({ "role": "reporter" })).await;
        // And plans a maintenance window (notify).
        admin
            .ok(
                M::POST,
                "/api/maintenance-windows",
                json!({ "start_time": format!("{day}T22:00:00Z"), "end_time": format!("{day}T23:00:00Z"), "reason": "database upgrade" }),
            )
            .await;

        // Eleven records: user created, driver created, patient created and
        // edited, booking created, edited, reassigned, cancelled, the limits,
        // the role, the window.
        let items = admin.log_reaches("", 11).await;
        assert_eq!(items.len(), 11, "{backend:?}: {items:#?}");

        let created = find(&items, "booking", "create");
        assert_eq!((created["actor_email"].as_str(), created["actor_role"].as_str()), (Some(DISPATCHER), Some("dispatcher")), "{created}");
        assert_eq!(created["actor_user_id"], user_id.to_string());
        assert_eq!(created["client_address"], DISPATCHER_ADDRESS, "{created}");
        assert_eq!((created["source"].as_str(), created["resource_id"].as_str()), (Some("dispatch"), Some(booking.to_string().as_str())));
        let pickup = change(created, "pickup_address");
        assert_eq!(
            (pickup["masked"].as_bool(), &pickup["before"], &pickup["after"]),
            (Some(true), &Value::Null, &Value::Null),
            "{created}"
        );

        let edited = find(&items, "booking", "update");
        let passengers = change(edited, "passengers");
        assert_eq!((passengers["before"].as_str(), passengers["after"].as_str()), (Some("1"), Some("2")), "{edited}");

        let reassigned = find(&items, "booking", "reassign");
        assert_eq!(change(reassigned, "driver_id")["after"], ana.to_string(), "{reassigned}");
        assert_eq!(change(reassigned, "driver_id")["before"], Value::Null, "a pending booking had no driver: {reassigned}");
        assert_eq!(change(reassigned, "forced")["after"], "true");
        assert_eq!(change(reassigned, "forced_reason")["after"], "the patient asked for Ana");

        let cancelled = find(&items, "booking", "cancel");
        assert_eq!(
            (change(cancelled, "status")["before"].as_str(), change(cancelled, "status")["after"].as_str()),
            (Some("assigned"), Some("cancelled"))
        );

        let phone = find(&items, "client", "update");
        assert_eq!(phone["actor_email"], ADMIN_EMAIL);
        assert_eq!(phone["client_address"], ADMIN_ADDRESS);
        assert_eq!(phone["changes"], json!([{ "field": "phone", "before": null, "after": null, "masked": true }]), "{phone}");
        assert!(!serde_json::to_string(&items).unwrap().contains("+41"), "no phone number reaches the log");
        assert!(!serde_json::to_string(&items).unwrap().contains("Jeanne"), "no patient name reaches the log");

        let role = find(&items, "user", "update_role");
        assert_eq!(
            (change(role, "role")["before"].as_str(), change(role, "role")["after"].as_str()),
            (Some("dispatcher"), Some("reporter"))
        );
        assert_eq!(role["source"], "gateway");
        let limits = find(&items, "safety_limits", "update");
        assert_eq!(
            (change(limits, "company.max_per_hour")["before"].as_str(), change(limits, "company.max_per_hour")["after"].as_str()),
            (None, Some("12"))
        );
        assert_eq!(limits["source"], "safety");
        let window = find(&items, "maintenance_window", "create");
        assert_eq!((window["source"].as_str(), change(window, "reason")["after"].as_str()), (Some("notify"), Some("database upgrade")));

        // The filters.
        let mine = admin.get(&format!("/api/admin/audit-log?actor={DISPATCHER}")).await;
        assert_eq!(mine["total"], 4, "{mine}");
        let one = admin.get(&format!("/api/admin/audit-log?resource=booking&resource_id={booking}&action=reassign")).await;
        assert_eq!(one["total"], 1, "{one}");
        let none = admin.get("/api/admin/audit-log?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").await;
        assert_eq!(none["total"], 0, "{none}");
        let (status, _) = dispatcher.send(M::GET, "/api/admin/audit-log", None).await;
        assert!(status == 401 || status == 403, "a non-admin does not read the log: {status}");

        // One verification covers the human records.
        let v = admin.get("/api/admin/autonomous-actions/verify").await;
        assert_eq!((v["intact"].as_bool(), v["rows_checked"].as_i64()), (Some(true), Some(11)), "{backend:?}: {v}");

        // Safety stops; the admin edits Ana. The record waits in dispatch's outbox.
        t.safety.take().unwrap().stop().await.unwrap();
        admin.ok(M::PATCH, &format!("/api/drivers/{ana}"), json!({ "name": "Ana Maria" })).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while testing::count_rows(t.db_url(Component::Dispatch), "dispatch_audit_outbox", "delivered_at IS NULL AND attempts > 0")
            .await
            .unwrap()
            == 0
        {
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: the relay never tried while safety was down");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Safety comes back where it was: the record arrives, once.
        t.safety = Some(start_safety(t.safety_addr, &t.dbs[0].1).await);
        let renamed = admin.log_reaches("resource=driver&action=update", 1).await;
        assert_eq!(change(&renamed[0], "name")["after"], "Ana Maria", "{renamed:?}");
        let items = admin.log_reaches("", 12).await;
        assert_eq!(items.len(), 12, "{backend:?}: delivered once");

        // The export: a header and every record, each once.
        let csv = http.get(format!("{gw}/api/admin/audit-log/export")).bearer_auth(&admin.token).send().await.unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert_eq!(csv.headers()["cache-control"], "no-store", "an export of people's changes is never cached");
        let text = csv.text().await.unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(rows.headers().unwrap().get(3), Some("record_id"));
        let ids: Vec<String> = rows.records().map(|r| r.unwrap()[3].to_owned()).collect();
        let mut want: Vec<String> = items.iter().map(|r| r["record_id"].as_str().unwrap().to_owned()).collect();
        let mut got = ids.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{backend:?}: {text}");
        assert!(text.contains("phone: changed"), "{text}");
        let filtered = http
            .get(format!("{gw}/api/admin/audit-log/export?actor={DISPATCHER}"))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(filtered.lines().count(), 5, "a header and the dispatcher's four: {filtered}");

        // Someone with access to safety's database edits the patient record's actor.
        let phone_id = phone["record_id"].as_str().unwrap().to_owned();
        let db = kit::db::connect(t.db_url(Component::Safety)).await.unwrap();
        let sql = format!("UPDATE human_audit_record SET actor_email = 'nobody@example.com' WHERE record_id = '{phone_id}'");
        db.execute(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        let v = admin.get("/api/admin/autonomous-actions/verify").await;
        assert_eq!(v["intact"], false, "{v}");
        let breaks = v["breaks"].as_array().unwrap();
        assert!(
            breaks.iter().any(|b| b["record_id"] == phone_id.as_str() && b["kind"] == "content_changed"),
            "{backend:?}: the edited record is named: {v}"
        );
        db.close().await.unwrap();
        t.stop().await;
    }
}
