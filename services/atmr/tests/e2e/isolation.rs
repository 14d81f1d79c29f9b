//! Two companies made as the platform operator makes them (`POST
//! /api/platform/companies` and `atmr company create`), each with rows in
//! every route family; then every id of company A, used with company B's
//! token, answers exactly as a missing id (404, the same words), over REST —
//! every `{id}` operation of the OpenAPI document, so a route added later is
//! covered — and over gRPC on each service's own port (`isolation/grpc.rs`,
//! with `operator.rs` and `written.rs`);
//! lists never mix; the operator is refused by every company route; an
//! account's email taken in another company names no company; a company made
//! without its admin is completed by the same request again.

mod grpc;
mod operator;
mod written;

use std::collections::BTreeMap;

use kit::{
    Component,
    testing::{self, backends},
};
use serde_json::{Value, json};

use crate::mesh::{Mesh, start_mesh_with};

pub(crate) const OPERATOR_EMAIL: &str = "ops@platform.example";
pub(crate) const OPERATOR_PASSWORD: &str = "operator passphrase";
/// In every row of company A that a person could read: B must never see it.
const MARK_A: &str = "ALPHA";

async fn start(backend: testing::TestBackend) -> Mesh {
    // Hundreds of calls a second from one account: no rate limit here.
    let env = [
        ("ATMR_OPERATOR_EMAIL", OPERATOR_EMAIL),
        ("ATMR_OPERATOR_PASSWORD", OPERATOR_PASSWORD),
        ("ATMR_RATE_LIMIT_PER_MINUTE", "0"),
        ("ATMR_LOGIN_RATE_PER_MINUTE", "0"),
    ];
    start_mesh_with(backend, &env).await
}

async fn login(http: &reqwest::Client, gw: &str, email: &str, password: &str) -> String {
    let res = http.post(format!("{gw}/api/auth/login")).json(&json!({ "email": email, "password": password })).send().await.unwrap();
    assert_eq!(res.status(), 200, "login of {email}");
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// Sends `req` with `token`; the status and the body (JSON, or Null).
async fn call(req: reqwest::RequestBuilder, token: &str) -> (u16, Value) {
    let res = req.bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A company made through the platform route, and its admin's token.
struct Company {
    id: i64,
    admin: String,
    /// A driver account's token, linked to the company's driver.
    driver: String,
    /// Its rows, by the collection path of their `{id}` (`/api/drivers`,
    /// `/api/bugs/{}/comments`…).
    ids: BTreeMap<&'static str, String>,
}

/// The company's id, its admin's token and password.
async fn create_company(http: &reqwest::Client, gw: &str, operator: &str, name: &str, admin_email: &str) -> (i64, String, String) {
    let body = json!({ "name": name, "time_zone": "Europe/Zurich", "admin_email": admin_email });
    let (status, created) = call(http.post(format!("{gw}/api/platform/companies")).json(&body), operator).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["company"]["name"].as_str(), created["admin"]["email"].as_str()), (Some(name), Some(admin_email)), "{created}");
    let password = created["admin"]["password"].as_str().unwrap();
    assert!(password.len() >= 20, "a strong generated password: {created}");
    (created["company"]["id"].as_i64().unwrap(), login(http, gw, admin_email, password).await, password.to_owned())
}

/// Rows of every family for the company whose admin holds `token`, marked
/// with `mark` wherever a person could read it.
async fn seed(mesh: &Mesh, http: &reqwest::Client, id: i64, token: String, mark: &str) -> Company {
    let gw = mesh.gateway.url();
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    let post = |path: &str, body: Value| {
        let req = http.post(format!("{gw}{path}")).json(&body);
        let (token, path) = (token.clone(), path.to_owned());
        async move {
            let (status, body) = call(req, &token).await;
            assert!((200..300).contains(&status), "{path}: {status} {body}");
            body
        }
    };
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let mut ids = BTreeMap::new();
    let driver = post(
        "/api/drivers",
        json!({
            "name": format!("{mark} driver"), "phone": "+41 79 123 45 67", "vehicle_kind": "car", "seats": 4,
            "shift_start_minute": 0, "shift_end_minute": 1439, "depot": { "latitude": 46.21, "longitude": 6.12 }
        }),
    )
    .await;
    ids.insert("/api/drivers", text(&driver["id"]));
    let client = post(
        "/api/clients",
        json!({
            "name": format!("{mark} patient"), "phone": "+41 22 555 12 34", "address": format!("{mark} street 1"),
            "location": { "latitude": 46.195, "longitude": 6.14 }, "mobility": "ambulatory"
        }),
    )
    .await;
    ids.insert("/api/clients", text(&client["id"]));
    let booking = post(
        "/api/bookings",
        json!({
            "client_id": client["id"], "pickup_address": format!("{mark} street 1"), "pickup": { "latitude": 46.195, "longitude": 6.14 },
            "dropoff_address": "HUG", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
            "pickup_earliest": format!("{day}T08:00:00Z"), "pickup_latest": format!("{day}T08:30:00Z"), "notes": format!("{mark} booking")
        }),
    )
    .await;
    ids.insert("/api/bookings", text(&booking["id"]));
    let template = post("/api/recurring-templates", json!({
        "client_id": client["id"], "weekdays": [1, 3], "pickup_address": format!("{mark} street 1"),
        "pickup": { "latitude": 46.195, "longitude": 6.14 }, "dropoff_address": "HUG", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
        "pickup_earliest_minute": 480, "pickup_latest_minute": 510, "valid_from": day
    }))
    .await;
    ids.insert("/api/recurring-templates", text(&template["id"]));
    let run = post("/api/dispatch/runs", json!({ "service_day": day })).await;
    assert_eq!(run["run"]["bookings_assigned"], 1, "{run}");
    ids.insert("/api/dispatch/runs", text(&run["run"]["id"]));
    let bug =
        post("/api/bugs", json!({ "title": format!("{mark} bug"), "description": format!("{mark} screen"), "severity": "low" })).await;
    ids.insert("/api/bugs", text(&bug["bug"]["id"]));
    let comment = post(&format!("/api/bugs/{}/comments", text(&bug["bug"]["id"])), json!({ "body": format!("{mark} comment") })).await;
    ids.insert("/api/bugs/{}/comments", text(&comment["id"]));
    let channel = post("/api/notification-channels", json!({ "name": format!("{mark} channel"), "kind": "log" })).await;
    ids.insert("/api/notification-channels", text(&channel["id"]));
    let route = post(
        "/api/notification-routes",
        json!({ "event_type": "bugs.regression", "min_severity": "warning", "channel_id": channel["id"] }),
    )
    .await;
    ids.insert("/api/notification-routes", text(&route["id"]));
    let monitor =
        post("/api/monitors", json!({ "name": format!("{mark} monitor"), "kind": "http", "target": format!("{gw}/health/live") })).await;
    ids.insert("/api/monitors", text(&monitor["id"]));
    let window = post("/api/maintenance-windows", json!({
        "monitor_ids": [monitor["id"]], "start_time": "2026-12-01T02:00:00Z", "end_time": "2026-12-01T03:00:00Z", "reason": format!("{mark} upgrade")
    }))
    .await;
    ids.insert("/api/maintenance-windows", text(&window["id"]));
    let note = post("/api/notifications", json!({ "channel_id": "log", "event_type": "ops.note", "title": format!("{mark} note") })).await;
    ids.insert("/api/notifications", text(&note["notifications"][0]["id"]));
    let user = post(
        "/api/admin/users",
        json!({
            "email": format!("{}-dispatcher@example.org", mark.to_lowercase()), "password": "a dispatcher password", "role": "dispatcher"
        }),
    )
    .await;
    ids.insert("/api/admin/users", text(&user["id"]));
    // The driver's own routes: an account linked to the driver, whose trip
    // the run planned.
    let email = format!("{}-driver@example.org", mark.to_lowercase());
    post("/api/admin/users", json!({ "email": email, "password": "a driver password", "role": "driver", "driver_id": driver["id"] })).await;
    let driver_token = login(http, &gw, &email, "a driver password").await;
    ids.insert("/api/me/trips", text(&booking["id"]));
    // The manager's suggestions and safety's actions are made by the
    // services themselves; one of each, written as they write them.
    ids.insert("/api/dispatch/autonomy/suggestions", written::suggestion(mesh, id, &text(&booking["id"]), mark).await);
    ids.insert("/api/admin/autonomous-actions", written::action(mesh, &token, mark).await);
    Company { id, admin: token, driver: driver_token, ids }
}

/// `path` with each `{param}` replaced by the id `of` gives for the
/// collection before it; None when a parameter's collection has no id.
fn concrete(path: &str, of: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut collection = String::new();
    let mut out = Vec::new();
    for part in path.split('/') {
        if part.starts_with('{') {
            out.push(of(&collection)?);
            collection.push_str("/{}");
        } else {
            if !part.is_empty() {
                collection.push('/');
                collection.push_str(part);
            }
            out.push(part.to_owned());
        }
    }
    Some(out.join("/"))
}

/// An id of the same shape as `id` that no row has.
fn missing(id: &str) -> String {
    if id.parse::<i64>().is_ok() { "987654321".to_owned() } else { "00000000-0000-4000-8000-000000000000".to_owned() }
}

/// `message` with each word that is one of A's ids replaced by the
/// missing id of its shape: what a missing id's answer says.
fn stand_in(message: &str, a: &Company) -> String {
    message
        .split(' ')
        .map(|word| {
            let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
            if !core.is_empty() && a.ids.values().any(|id| id == core) { word.replace(core, &missing(core)) } else { word.to_owned() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The body a write of `path` is sent with; None for one that takes none.
fn body_for(method: &str, path: &str, a: &Company) -> Option<Value> {
    Some(match (method, path) {
        ("patch", "/api/admin/users/{id}") => json!({ "active": true }),
        ("post", "/api/admin/autonomous-actions/{id}/review") => json!({ "notes": "seen" }),
        ("patch", "/api/bugs/{bug_id}") => json!({ "status": "in_progress" }),
        ("post", "/api/bugs/{bug_id}/comments") => json!({ "body": "BETA comment" }),
        ("patch", "/api/drivers/{id}" | "/api/clients/{id}") => json!({ "name": "BETA" }),
        ("patch", "/api/bookings/{id}") => json!({ "notes": "BETA" }),
        ("post", "/api/bookings/{id}/status") => json!({ "status": "cancelled", "reason": "BETA" }),
        ("post", "/api/me/trips/{booking_id}/status") => json!({ "status": "en_route" }),
        ("post", "/api/bookings/{id}/reassign") => json!({ "driver_id": a.ids["/api/drivers"].parse::<i64>().unwrap() }),
        ("patch", "/api/notification-channels/{id}") => json!({ "name": "BETA" }),
        ("patch", "/api/notification-routes/{id}") => json!({ "enabled": false }),
        ("put", "/api/monitors/{id}") => json!({ "name": "BETA", "kind": "http", "target": "http://127.0.0.1:9/" }),
        _ => return None,
    })
}

#[tokio::test]
async fn a_company_sees_nothing_of_another_made_by_the_operator() {
    for backend in backends() {
        let mesh = start(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let operator = login(&http, &gw, OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
        let (a_id, a_token, _) = create_company(&http, &gw, &operator, "Transports Léman", "admin@leman.example").await;
        let (b_id, b_token, b_password) = create_company(&http, &gw, &operator, "Ambulances Jura", "admin@jura.example").await;
        assert!(a_id > 1 && b_id > a_id, "new ids past the first company: {a_id}, {b_id}");
        let a = seed(&mesh, &http, a_id, a_token, MARK_A).await;
        let b = seed(&mesh, &http, b_id, b_token, "BETA").await;

        // Every operation with an `{id}`, with A's ids: A reaches them, B
        // gets what a missing id gets, word for word.
        let doc: Value = http.get(format!("{gw}/openapi.json")).send().await.unwrap().json().await.unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let (mut checked, mut wrong) = (0, Vec::new());
        for (path, item) in paths.iter().filter(|(p, _)| p.contains('{')) {
            let url = concrete(path, |c| a.ids.get(c).cloned())
                .unwrap_or_else(|| panic!("{path}: no row of company A for one of its ids; make one in `seed`"));
            let absent = concrete(path, |c| a.ids.get(c).map(|id| missing(id))).unwrap();
            for (method, op) in item.as_object().unwrap() {
                let body = body_for(method, path, &a);
                assert!(body.is_some() || !op["requestBody"].is_object(), "{method} {path} takes a body: give it one in `body_for`");
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let req = |url: &str| {
                    let r = http.request(m.clone(), format!("{gw}{url}"));
                    match &body {
                        Some(b) => r.json(b),
                        None => r,
                    }
                };
                // A driver's own routes are the driver's: B's driver asks.
                let (a_token, b_token) =
                    if op["security"][0]["bearer"] == json!(["driver"]) { (&a.driver, &b.driver) } else { (&a.admin, &b.admin) };
                if m == reqwest::Method::GET {
                    let (status, body) = call(req(&url), a_token).await;
                    assert_eq!(status, 200, "{url} as company A: {body}");
                }
                let (theirs, their_body) = call(req(&url), b_token).await;
                let (none, none_body) = call(req(&absent), b_token).await;
                let words = stand_in(their_body["error"]["message"].as_str().unwrap_or_default(), &a);
                checked += 1;
                if theirs != 404 || none != 404 || words != stand_in(none_body["error"]["message"].as_str().unwrap_or_default(), &a) {
                    wrong.push(format!("{method} {path}: {theirs} {their_body} / missing id: {none} {none_body}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{} of {checked} operations tell A's ids from missing ones:\n{}", wrong.len(), wrong.join("\n"));
        assert!(checked >= 38, "{checked} operations with ids (38 when this test was written)");

        // Nothing B sent changed A's rows.
        for (collection, id) in [("/api/drivers", "name"), ("/api/clients", "name"), ("/api/monitors", "name")] {
            let (status, row) = call(http.get(format!("{gw}{collection}/{}", a.ids[collection])), &a.admin).await;
            assert_eq!(status, 200, "{collection}: {row}");
            assert!(row[id].as_str().unwrap().starts_with(MARK_A), "{collection}: {row}");
        }

        // Lists never mix: no list answers B anything of A's.
        let admits_admins = |op: &Value| {
            let security = op["security"].to_string();
            security.contains("\"admin\"") || security == "[{\"bearer\":[]}]"
        };
        for (path, _) in paths.iter().filter(|(p, i)| !p.contains('{') && p.starts_with("/api/") && i.get("get").is_some_and(admits_admins))
        {
            let res = http.get(format!("{gw}{path}")).bearer_auth(&b.admin).send().await.unwrap();
            if res.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream")) {
                continue; // the live board: a stream of changes to come
            }
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert!(status == 200 || status == 400, "GET {path} as company B: {status} {text}");
            assert!(!text.contains(MARK_A), "GET {path} as company B shows company A's rows: {text}");
        }
        let (_, drivers) = call(http.get(format!("{gw}/api/drivers")), &a.admin).await;
        assert!(drivers.to_string().contains(MARK_A), "the marker is there to be seen: {drivers}");
        let (_, runs) = call(http.get(format!("{gw}/api/dispatch/runs")), &b.admin).await;
        assert!(
            runs["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"].as_i64().map(|id| id.to_string()) != Some(a.ids["/api/dispatch/runs"].clone())),
            "{runs}"
        );

        // An email taken in A, offered by B: the same answer as one taken in B, naming no company.
        let user = |email: &str| json!({ "email": email, "password": "a long password here", "role": "reporter" });
        let (s1, in_a) = call(http.post(format!("{gw}/api/admin/users")).json(&user("alpha-dispatcher@example.org")), &b.admin).await;
        let (s2, in_b) = call(http.post(format!("{gw}/api/admin/users")).json(&user("beta-dispatcher@example.org")), &b.admin).await;
        assert_eq!((s1, s2), (409, 409));
        let in_a = in_a.to_string().replace("alpha-dispatcher", "someone");
        assert_eq!(in_a, in_b.to_string().replace("beta-dispatcher", "someone"), "one answer wherever the email is taken");
        assert!(!in_a.contains("Léman") && !in_a.contains(&format!(":{a_id}")), "{in_a}");

        // The operator: refused by every company operation, REST and gRPC.
        for (path, item) in paths {
            let url = concrete(path, |c| a.ids.get(c).cloned()).unwrap();
            for (method, op) in item.as_object().unwrap() {
                let roles: Vec<&str> = op["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["bearer"].as_array())
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if roles.is_empty() || roles.contains(&"operator") {
                    continue;
                }
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let (status, body) = call(http.request(m, format!("{gw}{url}")).json(&json!({})), &operator).await;
                assert_eq!(status, 403, "{method} {path} as the operator: {body}");
            }
        }
        operator::operator_is_refused(&mesh, &operator).await;

        // The operator's view: counts, no person.
        let (status, list) = call(http.get(format!("{gw}/api/platform/companies")), &operator).await;
        assert_eq!(status, 200, "{list}");
        let text = list.to_string();
        assert!(!text.contains(MARK_A) && !text.contains("BETA") && !text.contains("@"), "no person in the platform's list: {text}");
        let a_row = list["items"].as_array().unwrap().iter().find(|c| c["company"]["id"] == a_id).unwrap().clone();
        assert_eq!(
            (a_row["drivers"].as_i64(), a_row["accounts"].as_i64()),
            (Some(1), Some(3)),
            "the admin, the dispatcher and the driver: {a_row}"
        );
        assert_eq!(a_row["last_run"]["id"].to_string(), a.ids["/api/dispatch/runs"], "{a_row}");
        assert_eq!(a_row["last_run"]["status"], "completed");
        assert!(a_row["bookings_today"].is_i64() && a_row["unassigned_today"].is_i64(), "{a_row}");
        for role_token in [&a.admin, &b.admin] {
            assert_eq!(call(http.get(format!("{gw}/api/platform/companies")), role_token).await.0, 403, "a company's admin");
        }

        // The console's pages of one row, signed in as B's admin.
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let session = crate::console::sign_in(&browser, &gw, "admin@jura.example", &b_password).await;
        let (driver, client, booking) = (&a.ids["/api/drivers"], &a.ids["/api/clients"], &a.ids["/api/bookings"]);
        for (page, absent) in [
            (format!("/drivers/{driver}/edit"), "/drivers/987654321/edit"),
            (format!("/clients/{client}/edit"), "/clients/987654321/edit"),
            (format!("/bookings/{booking}/edit"), "/bookings/987654321/edit"),
            (format!("/board/trips/{booking}"), "/board/trips/987654321"),
        ] {
            let get = |path: String| browser.get(format!("{gw}{path}")).header("cookie", &session).send();
            let theirs = get(page.clone()).await.unwrap();
            let none = get(absent.to_owned()).await.unwrap();
            let (status, none_status) = (theirs.status().as_u16(), none.status().as_u16());
            let html = theirs.text().await.unwrap();
            assert_eq!((status, none_status), (404, 404), "{page} as company B's admin: {html}");
            assert!(!html.contains(MARK_A), "{page} shows company A's row: {html}");
        }

        grpc::another_companys_ids_are_missing(&mesh, &a, &b).await;
        mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_company_made_without_its_admin_is_completed_by_the_same_request() {
    for backend in backends() {
        let mesh = start(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let operator = login(&http, &gw, OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
        let body = json!({ "name": "Taxis Rhône", "time_zone": "Europe/Paris", "admin_email": "admin@rhone.example" });
        let failing = testing::fail_inserts(mesh.gateway_db_url(), "users").await.unwrap();
        let (status, half) = call(http.post(format!("{gw}/api/platform/companies")).json(&body), &operator).await;
        failing.remove().await.unwrap();
        assert!(status >= 500, "{half}");
        let message = half["error"]["message"].as_str().unwrap();
        assert!(message.contains("was created but its first admin was not") && message.contains("Taxis Rhône"), "{half}");
        let company_id = half["error"]["details"]["company_id"].as_i64().unwrap();

        let (status, done) = call(http.post(format!("{gw}/api/platform/companies")).json(&body), &operator).await;
        assert_eq!(status, 201, "{done}");
        assert_eq!((done["company"]["id"].as_i64(), done["completed_earlier_attempt"].as_bool()), (Some(company_id), Some(true)));
        assert_eq!(done["company"]["time_zone"], "Europe/Paris");
        let admin = login(&http, &gw, "admin@rhone.example", done["admin"]["password"].as_str().unwrap()).await;
        let (_, me) = call(http.get(format!("{gw}/api/auth/me")), &admin).await;
        assert_eq!((me["company_id"].as_i64(), me["role"].as_str()), (Some(company_id), Some("admin")));
        let (_, company) = call(http.get(format!("{gw}/api/company")), &admin).await;
        assert_eq!(company["name"], "Taxis Rhône");

        // Now it has its admin: the name is taken, whatever the letter case.
        let again = json!({ "name": "TAXIS RHÔNE", "time_zone": "Europe/Paris", "admin_email": "other@rhone.example" });
        let (status, taken) = call(http.post(format!("{gw}/api/platform/companies")).json(&again), &operator).await;
        assert_eq!(status, 409, "{taken}");
        // Bad input names its field, and makes nothing.
        for (bad, field) in [
            (json!({ "name": "X", "time_zone": "Moon/Base", "admin_email": "x@x.example" }), "time_zone"),
            (json!({ "name": " ", "time_zone": "Europe/Paris", "admin_email": "x@x.example" }), "name"),
            (json!({ "name": "X", "time_zone": "Europe/Paris", "admin_email": "not an email" }), "admin_email"),
            (json!({ "name": "X", "time_zone": "Europe/Paris", "admin_email": "admin@rhone.example" }), "admin_email"),
        ] {
            let (status, e) = call(http.post(format!("{gw}/api/platform/companies")).json(&bad), &operator).await;
            assert!(status == 400 || status == 409, "{bad}: {e}");
            assert_eq!(e["error"]["details"]["field"], field, "{bad}: {e}");
        }
        let (_, list) = call(http.get(format!("{gw}/api/platform/companies")), &operator).await;
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().filter_map(|c| c["company"]["name"].as_str()).collect();
        assert_eq!(names.iter().filter(|n| **n == "X").count(), 0, "{list}");
        assert_eq!(testing::count_rows(mesh.db_url(Component::Dispatch), "company", "1 = 1").await.unwrap(), 1);
        mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn atmr_company_create_prints_the_first_admins_login_once() {
    for backend in backends() {
        let mesh = start(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let env = |pairs: &[(&str, &str)]| kit::Env::from_pairs(pairs.iter().copied());
        let args = atmr::company::CreateCompany {
            name: "Transports Vaud".into(),
            time_zone: "Europe/Zurich".into(),
            admin_email: "admin@vaud.example".into(),
            gateway: Some(gw.clone()),
        };
        let operator = env(&[("ATMR_OPERATOR_EMAIL", OPERATOR_EMAIL), ("ATMR_OPERATOR_PASSWORD", OPERATOR_PASSWORD)]);
        let created = atmr::company::create(&args, &operator).await.unwrap();
        let lines = created.lines();
        assert!(lines.contains(&created.admin_password) && lines.contains("admin@vaud.example"), "{lines}");
        let admin = login(&http, &gw, "admin@vaud.example", &created.admin_password).await;
        let (_, me) = call(http.get(format!("{gw}/api/auth/me")), &admin).await;
        assert_eq!(me["company_id"].as_i64(), Some(created.company_id));

        let again = atmr::company::create(&args, &operator).await.unwrap_err().to_string();
        assert!(again.contains("409") && again.contains("exists already"), "{again}");
        let wrong = env(&[("ATMR_OPERATOR_EMAIL", OPERATOR_EMAIL), ("ATMR_OPERATOR_PASSWORD", "not the passphrase")]);
        let refused = atmr::company::create(&args, &wrong).await.unwrap_err().to_string();
        assert!(refused.contains("refused the operator's login"), "{refused}");
        let unset = atmr::company::create(&args, &env(&[])).await.unwrap_err().to_string();
        assert!(unset.contains("ATMR_OPERATOR_EMAIL"), "{unset}");
        let closed = format!("http://127.0.0.1:{}", testing::free_port());
        let away = atmr::company::CreateCompany { gateway: Some(closed.clone()), ..args.clone() };
        let unreachable = atmr::company::create(&away, &operator).await.unwrap_err();
        assert!(format!("{unreachable:#}").contains(&format!("cannot reach the gateway at {closed}")), "{unreachable:#}");
        mesh.gateway.stop().await.unwrap();
    }
}
