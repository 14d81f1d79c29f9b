//! The whole mesh in one test process: a REST call crosses the gateway to a
//! service over gRPC with the caller's token; a stopped service is named in a 503.
//!
//! One file past 500 lines: each test is one story across the whole mesh, and
//! they share the start-up and sign-in helpers at the top.

use kit::{
    Component,
    testing::{self, Spawned, TestDb, backends},
};
use serde_json::{Value, json};

pub(crate) const ADMIN_EMAIL: &str = "admin@example.com";
pub(crate) const ADMIN_PASSWORD: &str = "a-long-test-password";

pub(crate) struct Mesh {
    pub(crate) services: Vec<(Component, Spawned)>,
    pub(crate) gateway: Spawned,
    /// What the gateway was started with: another replica starts the same way.
    gateway_env: kit::Env,
    _dbs: Vec<TestDb>,
}

impl Mesh {
    /// The database URL a service of the mesh runs on.
    pub(crate) fn db_url(&self, component: Component) -> &str {
        let i = Component::SERVICES.iter().position(|c| *c == component).expect("a service of the mesh");
        &self._dbs[i].url
    }

    /// The gateway's database URL.
    pub(crate) fn gateway_db_url(&self) -> &str {
        &self._dbs.last().expect("the gateway's database is the last").url
    }

    /// Handles on the databases (a service's each in `Component::SERVICES`'
    /// order, then the gateway's), which the mesh keeps owning.
    pub(crate) fn dbs(&self) -> Vec<TestDb> {
        self._dbs.iter().map(|db| TestDb::borrowed(&db.url)).collect()
    }

    /// Stops every component and hands back the databases, kept.
    pub(crate) async fn stop(self) -> Vec<TestDb> {
        self.gateway.stop().await.unwrap();
        for (_, svc) in self.services {
            svc.stop().await.unwrap();
        }
        self._dbs
    }

    /// Another gateway replica on the same database and services.
    async fn gateway_replica(&self) -> Spawned {
        let env = self.gateway_env.clone();
        testing::spawn(move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await }).await.unwrap()
    }
}

async fn start_mesh(backend: testing::TestBackend) -> Mesh {
    start_mesh_with(backend, &[]).await
}

/// The mesh with extra settings for the gateway.
pub(crate) async fn start_mesh_with(backend: testing::TestBackend, gateway_env: &[(&str, &str)]) -> Mesh {
    start_mesh_configured(backend, gateway_env, &[]).await
}

/// The mesh with extra settings for the gateway and for the services (each
/// reads its own: `NOTIFY_MAX_ATTEMPTS` is notify's).
pub(crate) async fn start_mesh_configured(
    backend: testing::TestBackend,
    gateway_env: &[(&str, &str)],
    services_env: &[(&str, &str)],
) -> Mesh {
    let mut dbs = Vec::new();
    for _ in 0..=Component::SERVICES.len() {
        dbs.push(TestDb::new(backend).await.unwrap());
    }
    start_mesh_on(dbs, gateway_env, services_env).await
}

/// The mesh on existing databases: one per service in `Component::SERVICES`'
/// order, then the gateway's (what [`Mesh::stop`] hands back).
pub(crate) async fn start_mesh_on(dbs: Vec<TestDb>, gateway_env: &[(&str, &str)], services_env: &[(&str, &str)]) -> Mesh {
    testing::init_logging();
    assert_eq!(dbs.len(), Component::SERVICES.len() + 1, "a database per service and the gateway's");
    let mut services = Vec::new();
    let mut peers = Vec::new();
    // The services read the gateway's keys and revocations as in a
    // deployment: its JWKS and its gRPC feed, at an address bound first.
    let gateway_listeners = kit::Listeners::ephemeral().await.unwrap();
    let gateway_url = format!("http://{}", gateway_listeners.main.local_addr().unwrap());
    let jwks = format!("{gateway_url}/.well-known/jwks.json");
    let wired = [("GATEWAY_URL", gateway_url.as_str()), ("ATMR_JWKS_URL", jwks.as_str()), ("ATMR_REVOCATION_FEED", "gateway")];
    for (component, db) in Component::SERVICES.into_iter().zip(&dbs) {
        let env: Vec<(&str, &str)> = wired.iter().chain(services_env).copied().collect();
        services.push((component, crate::spawn_one(component, db, &env).await));
    }
    for (component, svc) in &services {
        peers.push((format!("{}_URL", component.env_prefix()), svc.url()));
    }
    peers.push(("GATEWAY_DATABASE_URL".into(), dbs[Component::SERVICES.len()].url.clone()));
    peers.push(("ATMR_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()));
    peers.push(("ATMR_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()));
    peers.extend(gateway_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let gateway_env = crate::env_with(&peers);
    let env = gateway_env.clone();
    let gateway =
        testing::spawn_on(
            gateway_listeners,
            move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await },
        )
        .await
        .unwrap();
    Mesh { services, gateway, gateway_env, _dbs: dbs }
}

/// GET `url` with `token`, as JSON.
async fn get_json(http: &reqwest::Client, url: String, token: &str) -> Value {
    http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// The bootstrapped admin's access token.
pub(crate) async fn admin_token(http: &reqwest::Client, gateway: &str) -> String {
    let body: Value = login(http, gateway, ADMIN_EMAIL, ADMIN_PASSWORD).await.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Anne Favre's wheelchair van (07:00–18:00, a depot in Geneva) and her
/// patient Marie Perrin, made over REST: (the driver's id, the patient).
pub(crate) async fn van_and_patient(http: &reqwest::Client, gateway: &str, token: &str) -> (i64, Value) {
    let post = |path: &str, body: Value| http.post(format!("{gateway}{path}")).bearer_auth(token).json(&body).send();
    let driver = json!({
        "name": "Anne Favre", "phone": "+41 79 123 45 67", "vehicle_kind": "wheelchair_van", "seats": 3, "wheelchair_places": 2,
        "shift_start_minute": 420, "shift_end_minute": 1080, "depot": { "latitude": 46.21, "longitude": 6.12 }
    });
    let created = post("/api/drivers", driver).await.unwrap();
    assert_eq!(created.status(), 201);
    let driver_id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let patient = json!({
        "name": "Marie Perrin", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12, 1205 Genève",
        "location": { "latitude": 46.195, "longitude": 6.14 }, "mobility": "wheelchair"
    });
    (driver_id, post("/api/clients", patient).await.unwrap().json().await.unwrap())
}

/// A booking of `patient` from home to HUG on `day`, picked up between
/// `hour`:00 and `hour`:20 UTC.
pub(crate) fn hug_trip(patient: &Value, day: &str, hour: u32) -> Value {
    json!({
        "client_id": patient["id"], "pickup_address": "Rue de Carouge 12", "pickup": { "latitude": 46.195, "longitude": 6.14 },
        "dropoff_address": "HUG", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
        "pickup_earliest": format!("{day}T{hour:02}:00:00Z"), "pickup_latest": format!("{day}T{hour:02}:20:00Z"),
        "boarding_minutes": 5
    })
}

/// What the live board's stream `board` sent until `needle` had come `count` times.
pub(crate) async fn board_until(board: &mut reqwest::Response, needle: &str, count: usize) -> String {
    let mut seen = String::new();
    while seen.matches(needle).count() < count {
        let chunk = board.chunk().await.unwrap().expect("the board stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

pub(crate) async fn login(http: &reqwest::Client, gateway: &str, email: &str, password: &str) -> reqwest::Response {
    http.post(format!("{gateway}/api/auth/login")).json(&json!({ "email": email, "password": password })).send().await.unwrap()
}

#[tokio::test]
async fn a_rest_call_crosses_the_gateway_to_a_service() {
    for backend in backends() {
        let mesh = start_mesh(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();

        let ready: Value = http.get(format!("{gw}/health/ready")).send().await.unwrap().json().await.unwrap();
        assert_eq!(ready, json!({ "status": "ready", "not_ready": [] }));
        let ready: Value = http.get(format!("{}/health/ready", mesh.gateway.admin_url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(ready["ready"], true, "{ready}");
        assert_eq!(ready["dependencies"].as_array().unwrap().len(), 5, "database and four services: {ready}");

        let wrong_password = login(&http, &gw, ADMIN_EMAIL, "not-the-password").await;
        assert_eq!(wrong_password.status(), 401);
        let wrong_password: Value = wrong_password.json().await.unwrap();
        let unknown_email: Value = login(&http, &gw, "nobody@example.com", ADMIN_PASSWORD).await.json().await.unwrap();
        assert_eq!(wrong_password, unknown_email, "a wrong email and a wrong password answer the same");

        let res = login(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        let token = body["access_token"].as_str().unwrap().to_owned();

        let me = get_json(&http, format!("{gw}/api/auth/me"), &token).await;
        assert_eq!((me["email"].as_str(), me["role"].as_str()), (Some(ADMIN_EMAIL), Some("admin")));

        let unauthenticated = http.get(format!("{gw}/api/admin/safety-limits")).send().await.unwrap();
        assert_eq!(unauthenticated.status(), 401);
        assert_eq!(unauthenticated.json::<Value>().await.unwrap()["error"]["code"], "unauthenticated");

        let limits = http.get(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(limits.status(), 200);
        assert!(limits.headers().contains_key("x-request-id"));
        assert_eq!(limits.json::<Value>().await.unwrap()["max_actions_per_hour"], 50);

        let put = http
            .put(format!("{gw}/api/admin/safety-limits"))
            .bearer_auth(&token)
            .json(&json!({ "max_actions_per_hour": 12, "action_types": [{ "action_type": "reassign", "max_per_hour": 2 }] }))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200);
        let put: Value = put.json().await.unwrap();
        assert_eq!((put["max_actions_per_hour"].as_i64(), put["overridden"].as_bool()), (Some(12), Some(true)));

        let bad = http
            .put(format!("{gw}/api/admin/safety-limits"))
            .bearer_auth(&token)
            .json(&json!({ "max_actions_per_hour": -1 }))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.json::<Value>().await.unwrap()["error"]["details"]["field"], "limits.max_actions_per_hour");
        let unknown_field =
            http.put(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).json(&json!({ "max_per_week": 1 })).send().await.unwrap();
        assert_eq!(unknown_field.status(), 422);
        let malformed = http
            .put(format!("{gw}/api/admin/safety-limits"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), 400);

        // An autonomous action, authorized by a component with a service token, is
        // then reviewed by the admin through the REST API.
        let safety_url = mesh.services.iter().find(|(c, _)| *c == Component::Safety).unwrap().1.url();
        let mut safety = atmr_proto::safety::v1::safety_service_client::SafetyServiceClient::connect(safety_url).await.unwrap();
        let service_token = mesh.gateway.keys.call_token(Component::Dispatch, Component::Safety, 1);
        let req = atmr_proto::safety::v1::AuthorizeActionRequest {
            action_type: "reassign".into(),
            action_description: "move booking 12 to driver 4".into(),
            action_data: r#"{"booking": 12}"#.into(),
            trigger_source: "autonomous_manager".into(),
            ..Default::default()
        };
        let id = safety.authorize_action(kit::grpc::request(req, &service_token)).await.unwrap().into_inner().action_id;
        let refused = http.get(format!("{gw}/api/admin/autonomous-actions")).bearer_auth(&service_token).send().await.unwrap();
        assert_eq!(refused.status(), 401, "a call token is not a person's: refused at the REST door");

        let list = get_json(&http, format!("{gw}/api/admin/autonomous-actions?per_page=10"), &token).await;
        assert_eq!((list["total"].as_i64(), list["items"][0]["id"].as_i64()), (Some(1), Some(id)), "{list}");
        assert_eq!(list["items"][0]["action_data"]["booking"], 12);
        assert_eq!(list["items"][0]["status"], "authorized");
        let action = get_json(&http, format!("{gw}/api/admin/autonomous-actions/{id}"), &token).await;
        assert_eq!(action["action_description"], "move booking 12 to driver 4");
        let review = |notes: &str| {
            http.post(format!("{gw}/api/admin/autonomous-actions/{id}/review")).bearer_auth(&token).json(&json!({ "notes": notes })).send()
        };
        let reviewed: Value = review("Action validée - Tout est OK").await.unwrap().json().await.unwrap();
        assert_eq!((reviewed["reviewed_by_admin"].as_bool(), reviewed["reviewed_by"].as_str()), (Some(true), Some(ADMIN_EMAIL)));
        let twice = review("again").await.unwrap();
        assert_eq!(twice.status(), 400, "a second review is refused, not an overwrite");
        assert_eq!(twice.json::<Value>().await.unwrap()["error"]["code"], "failed_precondition");
        let stats = get_json(&http, format!("{gw}/api/admin/autonomous-actions/stats?period=week"), &token).await;
        assert_eq!((stats["total"].as_i64(), stats["reviewed"].as_i64()), (Some(1), Some(1)), "{stats}");
        let bad_period = http.get(format!("{gw}/api/admin/autonomous-actions/stats?period=year")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(bad_period.status(), 400);
        assert_eq!(http.get(format!("{gw}/api/admin/autonomous-actions/abc")).bearer_auth(&token).send().await.unwrap().status(), 400);
        assert_eq!(http.get(format!("{gw}/api/admin/autonomous-actions/999999")).bearer_auth(&token).send().await.unwrap().status(), 404);
        let verify = get_json(&http, format!("{gw}/api/admin/autonomous-actions/verify"), &token).await;
        // The action, and the admin's change of the limits (a human record of the same chain).
        assert_eq!((verify["intact"].as_bool(), verify["rows_checked"].as_i64()), (Some(true), Some(2)), "{verify}");

        // Stop the safety service: its route answers 503 naming it, readiness drops
        // and names it; the other routes still answer.
        let Mesh { services, gateway, _dbs, .. } = mesh;
        for (component, svc) in services {
            if component == Component::Safety {
                svc.stop().await.unwrap();
            }
        }
        let down = http.get(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(down.status(), 503);
        assert_eq!(down.json::<Value>().await.unwrap()["error"]["details"]["service"], "safety");
        let ready = http.get(format!("{gw}/health/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 503);
        assert_eq!(ready.json::<Value>().await.unwrap(), json!({ "status": "not_ready", "not_ready": ["safety"] }));
        let ready: Value = http.get(format!("{}/health/ready", gateway.admin_url())).send().await.unwrap().json().await.unwrap();
        let safety = ready["dependencies"].as_array().unwrap().iter().find(|d| d["name"] == "safety").unwrap().clone();
        assert_eq!((safety["ok"].clone(), safety["required"].clone()), (json!(false), json!(true)), "{ready}");
        let bugs = http.get(format!("{gw}/api/bugs")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(bugs.status(), 200, "the other services' routes still answer");
        gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn the_bug_tracker_over_rest() {
    for backend in backends() {
        let mesh = start_mesh(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

        // The source's example report, then the same problem again.
        let report = json!({
            "title": "Test bug après Phase 2",
            "description": "Vérification API bug tracking",
            "severity": "high",
            "category": "backend",
            "stack_trace": "Traceback:\n  File \"/app/api.py\", line 12, in create\nKeyError: 'id'",
            "tags": ["phase2"]
        });
        let created = send(http.post(format!("{gw}/api/bugs/")).json(&report)).await.unwrap();
        assert_eq!(created.status(), 201, "{backend:?}");
        let created: Value = created.json().await.unwrap();
        assert_eq!((created["grouping"].as_str(), created["bug"]["severity"].as_str()), (Some("created"), Some("high")), "{created}");
        let id = created["bug"]["id"].as_i64().unwrap();
        let again = send(http.post(format!("{gw}/api/bugs")).json(&report)).await.unwrap();
        assert_eq!(again.status(), 200);
        let again: Value = again.json().await.unwrap();
        assert_eq!((again["grouping"].as_str(), again["bug"]["occurrence_count"].as_i64()), (Some("grouped"), Some(2)));

        let list = get_json(&http, format!("{gw}/api/bugs?status=open,in_progress&severity=high&q=phase&sort=-severity"), &token).await;
        assert_eq!((list["total"].as_i64(), list["items"][0]["id"].as_i64()), (Some(1), Some(id)), "{list}");
        let bad = send(http.get(format!("{gw}/api/bugs?status=fixed"))).await.unwrap();
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.json::<Value>().await.unwrap()["error"]["details"]["field"], "status");

        let patched = send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "status": "resolved", "assignee": "ana@example.com" })))
            .await
            .unwrap();
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!((patched["status"].as_str(), patched["assignee"].as_str()), (Some("resolved"), Some("ana@example.com")));
        assert!(patched["resolved_at"].as_str().unwrap().ends_with('Z'), "{patched}");
        let cleared: Value =
            send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "assignee": null }))).await.unwrap().json().await.unwrap();
        assert_eq!(cleared["assignee"], Value::Null);
        let closed_to_resolved = send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "status": "closed" }))).await.unwrap();
        assert_eq!(closed_to_resolved.status(), 200);
        let refused = send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "status": "resolved" }))).await.unwrap();
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "failed_precondition");
        let unknown = send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "reporter": "me" }))).await.unwrap();
        assert_eq!(unknown.status(), 422);
        let bad_severity = send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "severity": "huge" }))).await.unwrap();
        assert_eq!(bad_severity.json::<Value>().await.unwrap()["error"]["details"]["field"], "severity");
        let null_title = send(http.patch(format!("{gw}/api/bugs/{id}")).json(&json!({ "title": null }))).await.unwrap();
        assert_eq!(null_title.status(), 400);

        let comment = send(http.post(format!("{gw}/api/bugs/{id}/comments")).json(&json!({ "body": "Corrigé en 2.1" }))).await.unwrap();
        assert_eq!(comment.status(), 201);
        let comment_id = comment.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let detail = get_json(&http, format!("{gw}/api/bugs/{id}"), &token).await;
        assert_eq!((detail["bug"]["status"].as_str(), detail["comments"][0]["body"].as_str()), (Some("closed"), Some("Corrigé en 2.1")));
        let comments = get_json(&http, format!("{gw}/api/bugs/{id}/comments?per_page=5"), &token).await;
        assert_eq!(comments["total"], 1);
        let deleted = send(http.delete(format!("{gw}/api/bugs/{id}/comments/{comment_id}"))).await.unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(send(http.get(format!("{gw}/api/bugs/999999"))).await.unwrap().status(), 404);
        assert_eq!(send(http.get(format!("{gw}/api/bugs/abc"))).await.unwrap().status(), 400);

        let summary = get_json(&http, format!("{gw}/api/bugs/metrics/summary"), &token).await;
        assert_eq!((summary["total"].as_i64(), summary["by_status"]["closed"].as_i64()), (Some(1), Some(1)), "{summary}");
        assert_eq!(summary["by_category"]["backend"], 1);
        let trends = get_json(&http, format!("{gw}/api/bugs/metrics/trends?days=7"), &token).await;
        let points = trends["points"].as_array().unwrap();
        assert_eq!(points.len(), 7);
        assert_eq!(
            (points[6]["opened"].as_i64(), points[6]["resolved"].as_i64(), points[6]["open_backlog"].as_i64()),
            (Some(1), Some(1), Some(0))
        );
        let too_long = send(http.get(format!("{gw}/api/bugs/metrics/trends?days=400"))).await.unwrap();
        assert_eq!(too_long.json::<Value>().await.unwrap()["error"]["details"]["field"], "days");

        // Summaries come from the response cache until a write changes them.
        let again = get_json(&http, format!("{gw}/api/bugs/metrics/summary"), &token).await;
        assert_eq!(again, summary);
        let metrics = http.get(format!("{}/metrics", mesh.gateway.admin_url())).send().await.unwrap().text().await.unwrap();
        assert!(
            metrics.lines().any(|l| l.starts_with("gateway_cache_lookups_total") && l.contains("result=\"hit\"") && !l.ends_with(" 0")),
            "{metrics}"
        );
        let another = json!({ "title": "Une autre panne", "description": "Encore", "severity": "low", "category": "ui" });
        assert_eq!(send(http.post(format!("{gw}/api/bugs")).json(&another)).await.unwrap().status(), 201);
        let after = get_json(&http, format!("{gw}/api/bugs/metrics/summary"), &token).await;
        assert_eq!(after["total"], 2, "the write left the cached summary behind: {after}");
        let trends = get_json(&http, format!("{gw}/api/bugs/metrics/trends?days=7"), &token).await;
        assert_eq!(trends["points"][6]["opened"], 2);
        mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn logins_are_rate_limited_per_account_and_address() {
    let mesh = start_mesh(testing::TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    // Five attempts a minute per account (and per address): the sixth waits, even
    // with the right password; the answer says how long.
    for _ in 0..5 {
        assert_eq!(login(&http, &gw, ADMIN_EMAIL, "wrong password").await.status(), 401);
    }
    let limited = login(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=13).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "resource_exhausted");
    assert_eq!(body["error"]["details"]["retry_after_secs"], retry_after);
    // Another account from the same address is limited too.
    assert_eq!(login(&http, &gw, "someone@example.com", "x").await.status(), 429);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn admins_configure_channels_and_read_the_outbox_over_rest() {
    let mesh = start_mesh(testing::TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

    let bad = send(http.post(format!("{gw}/api/notification-channels")).json(&json!({ "name": "x", "kind": "pager" }))).await.unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["details"]["field"], "kind");
    let created =
        send(http.post(format!("{gw}/api/notification-channels")).json(&json!({ "name": "ops log", "kind": "log" }))).await.unwrap();
    assert_eq!(created.status(), 201);
    let channel: Value = created.json().await.unwrap();
    let id = channel["id"].as_str().unwrap().to_owned();
    let route = send(
        http.post(format!("{gw}/api/notification-routes"))
            .json(&json!({ "event_type": "bugs.regression", "min_severity": "warning", "channel_id": id })),
    )
    .await
    .unwrap();
    assert_eq!(route.status(), 201);
    let routes = get_json(&http, format!("{gw}/api/notification-routes"), &token).await;
    assert_eq!(routes["items"][0]["min_severity"], "warning");

    let tested = send(http.post(format!("{gw}/api/notification-channels/{id}/test"))).await.unwrap();
    assert_eq!(tested.status(), 202);
    let sent: Value = tested.json().await.unwrap();
    let nid = sent["id"].as_str().unwrap().to_owned();
    // The outbox delivers in the background: wait for it (bounded).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let detail = loop {
        let d = get_json(&http, format!("{gw}/api/notifications/{nid}"), &token).await;
        if d["notification"]["status"] == "delivered" {
            break d;
        }
        assert!(tokio::time::Instant::now() < deadline, "never delivered: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(detail["attempts"][0]["success"], true);
    let listed = get_json(&http, format!("{gw}/api/notifications?status=delivered&event_type=notify.test"), &token).await;
    assert_eq!(listed["total"], 1, "{listed}");
    let bad_status = send(http.get(format!("{gw}/api/notifications?status=lost"))).await.unwrap();
    assert_eq!(bad_status.status(), 400);
    let channels = get_json(&http, format!("{gw}/api/notification-channels"), &token).await;
    assert_eq!(channels["items"][0]["name"], "ops log");
    let retry_delivered = send(http.post(format!("{gw}/api/notifications/{nid}/retry"))).await.unwrap();
    assert_eq!(retry_delivered.status(), 400, "a delivered notification is not retried");
    assert_eq!(send(http.delete(format!("{gw}/api/notification-channels/{id}"))).await.unwrap().status(), 204);
    assert_eq!(send(http.delete(format!("{gw}/api/notification-channels/{id}"))).await.unwrap().status(), 404);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn admins_manage_monitors_over_rest() {
    let mesh = start_mesh(testing::TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

    let too_fast = json!({ "name": "gateway", "kind": "http", "target": format!("{gw}/health/live"), "interval_seconds": 5 });
    let bad = send(http.post(format!("{gw}/api/monitors")).json(&too_fast)).await.unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["details"]["field"], "monitor.interval_seconds");
    let monitor = json!({ "name": "gateway", "kind": "http", "target": format!("{gw}/health/live") });
    let created = send(http.post(format!("{gw}/api/monitors")).json(&monitor)).await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!((created["interval_seconds"].as_i64(), created["state"].as_str()), (Some(30), Some("pending")), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // The first check runs at once (the scheduler ticks every second); wait for it, bounded.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let beats = loop {
        let b = get_json(&http, format!("{gw}/api/monitors/{id}/heartbeats"), &token).await;
        if !b["items"].as_array().unwrap().is_empty() {
            break b;
        }
        assert!(tokio::time::Instant::now() < deadline, "no heartbeat: {b}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(beats["items"][0]["up"], true, "{beats}");
    assert_eq!(get_json(&http, format!("{gw}/api/monitors/{id}"), &token).await["state"], "up");
    assert_eq!(get_json(&http, format!("{gw}/api/monitors/{id}/uptime"), &token).await["uptime_24h"], 100.0);

    let paused: Value = send(http.post(format!("{gw}/api/monitors/{id}/pause"))).await.unwrap().json().await.unwrap();
    assert_eq!(paused["state"], "paused");
    let resumed: Value = send(http.post(format!("{gw}/api/monitors/{id}/resume"))).await.unwrap().json().await.unwrap();
    assert_eq!(resumed["state"], "pending");
    let window =
        json!({ "monitor_ids": [id], "start_time": "2026-12-01T02:00:00Z", "end_time": "2026-12-01T03:00:00Z", "reason": "upgrade" });
    let w = send(http.post(format!("{gw}/api/maintenance-windows")).json(&window)).await.unwrap();
    assert_eq!(w.status(), 201);
    let wid = w.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(get_json(&http, format!("{gw}/api/maintenance-windows"), &token).await["items"][0]["reason"], "upgrade");
    assert_eq!(send(http.delete(format!("{gw}/api/maintenance-windows/{wid}"))).await.unwrap().status(), 204);
    assert_eq!(send(http.delete(format!("{gw}/api/monitors/{id}"))).await.unwrap().status(), 204);
    assert_eq!(send(http.get(format!("{gw}/api/monitors/{id}"))).await.unwrap().status(), 404);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn a_dispatcher_plans_a_day_over_rest() {
    // Tomorrow (UTC): every window below is in the future, whenever this runs.
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    for backend in backends() {
        let mesh = start_mesh(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

        let company = get_json(&http, format!("{gw}/api/company"), &token).await;
        assert_eq!(company["time_zone"], "Europe/Zurich", "{company}");
        let (driver_id, patient) = van_and_patient(&http, &gw, &token).await;
        let trip = |hour: u32| hug_trip(&patient, &day, hour);
        let mut bad = trip(10);
        bad["pickup"]["latitude"] = json!(123.0);
        let refused = send(http.post(format!("{gw}/api/bookings/batch")).json(&json!({ "bookings": [trip(8), bad] }))).await.unwrap();
        assert_eq!(refused.status(), 400, "{backend:?}");
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["details"]["field"], "bookings[1].pickup.latitude");
        let listed = get_json(&http, format!("{gw}/api/bookings?service_day={day}"), &token).await;
        assert_eq!(listed["total"], 0, "all or nothing: {listed}");
        let created =
            send(http.post(format!("{gw}/api/bookings/batch")).json(&json!({ "bookings": [trip(8), trip(10), trip(14)] }))).await.unwrap();
        assert_eq!(created.status(), 201);

        // The live board, watched while the run happens.
        let board = send(http.get(format!("{gw}/api/dispatch/board?service_day={day}"))).await.unwrap();
        assert_eq!(board.headers()["content-type"], "text/event-stream");
        let mut board = board;
        let run = send(http.post(format!("{gw}/api/dispatch/runs")).json(&json!({ "service_day": day }))).await.unwrap();
        assert_eq!(run.status(), 201, "{backend:?}");
        let seen = board_until(&mut board, "event: created", 3).await;
        assert!(seen.contains("\"status\":\"planned\""), "{seen}");
        let metrics = http.get(format!("{}/metrics", mesh.gateway.admin_url())).send().await.unwrap().text().await.unwrap();
        assert!(metrics.lines().any(|l| l.starts_with("gateway_open_streams") && l.ends_with(" 1")), "{metrics}");
        drop(board);
        let run: Value = run.json().await.unwrap();
        assert_eq!((run["run"]["status"].as_str(), run["run"]["bookings_assigned"].as_i64()), (Some("completed"), Some(3)), "{run}");
        assert_eq!(run["run"]["routing_source"], "haversine");
        assert!(run["assignments"].as_array().unwrap().iter().all(|a| a["driver_id"].as_i64() == Some(driver_id)));
        let run_id = run["run"]["id"].as_i64().unwrap();
        let assignments = get_json(&http, format!("{gw}/api/dispatch/assignments?run_id={run_id}&status=planned"), &token).await;
        assert_eq!(assignments["total"], 3, "{assignments}");
        let booking_id = assignments["items"][0]["booking_id"].as_i64().unwrap();
        let moved =
            send(http.post(format!("{gw}/api/bookings/{booking_id}/status")).json(&json!({ "status": "picked_up" }))).await.unwrap();
        assert_eq!(moved.status(), 400, "a planned trip is en route before its patient is picked up");
        assert_eq!(moved.json::<Value>().await.unwrap()["error"]["code"], "failed_precondition");
        let moved: Value = send(http.post(format!("{gw}/api/bookings/{booking_id}/status")).json(&json!({ "status": "en_route" })))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(moved["status"], "en_route");
        let detail = get_json(&http, format!("{gw}/api/bookings/{booking_id}"), &token).await;
        assert_eq!(detail["assignment"]["status"], "active", "{detail}");

        // The autonomous manager and the ETA model over REST.
        let settings = get_json(&http, format!("{gw}/api/dispatch/autonomy/settings"), &token).await;
        assert_eq!((settings["mode"].as_str(), settings["lateness_threshold_minutes"].as_i64()), (Some("off"), Some(10)), "{settings}");
        let mut wanted = settings.clone();
        wanted["mode"] = json!("suggest");
        let saved = send(http.put(format!("{gw}/api/dispatch/autonomy/settings")).json(&wanted)).await.unwrap();
        assert_eq!(saved.status(), 200);
        assert_eq!(saved.json::<Value>().await.unwrap()["mode"], "suggest");
        wanted["mode"] = json!("reckless");
        let refused = send(http.put(format!("{gw}/api/dispatch/autonomy/settings")).json(&wanted)).await.unwrap();
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["details"]["field"], "mode");
        let cycle = send(http.post(format!("{gw}/api/dispatch/autonomy/cycles"))).await.unwrap();
        assert_eq!(cycle.status(), 200);
        let cycle: Value = cycle.json().await.unwrap();
        assert_eq!(cycle["executed"], 0, "suggest mode executes nothing: {cycle}");
        let suggestions = get_json(&http, format!("{gw}/api/dispatch/autonomy/suggestions?state=open,blocked"), &token).await;
        assert!(suggestions["items"].is_array(), "{suggestions}");
        let model = get_json(&http, format!("{gw}/api/dispatch/eta-model"), &token).await;
        assert_eq!(model["version"], 0, "no trips yet, no model: {model}");
        let check = send(http.post(format!("{gw}/api/dispatch/drift-checks"))).await.unwrap();
        assert_eq!(check.status(), 201);
        assert_eq!(check.json::<Value>().await.unwrap()["drift_detected"], false);
        let checks = get_json(&http, format!("{gw}/api/dispatch/drift-checks"), &token).await;
        assert_eq!(checks["total"], 1, "{checks}");
        mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn admins_manage_their_companys_accounts() {
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &[("ATMR_REVOCATION_RELOAD_SECS", "1")]).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

    let new = json!({ "email": "Ana@Example.com", "password": "a-dispatcher-password", "role": "dispatcher" });
    let created = send(http.post(format!("{gw}/api/admin/users")).json(&new)).await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        (created["email"].as_str(), created["role"].as_str(), created["company_id"].as_i64()),
        (Some("ana@example.com"), Some("dispatcher"), Some(1))
    );
    assert!(created.get("password_hash").is_none(), "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(send(http.post(format!("{gw}/api/admin/users")).json(&new)).await.unwrap().status(), 409);
    let weak = send(
        http.post(format!("{gw}/api/admin/users")).json(&json!({ "email": "b@example.com", "password": "short", "role": "dispatcher" })),
    )
    .await
    .unwrap();
    assert_eq!(weak.json::<Value>().await.unwrap()["error"]["details"]["field"], "password");
    let bad_role = send(
        http.post(format!("{gw}/api/admin/users"))
            .json(&json!({ "email": "b@example.com", "password": "long-enough-pass", "role": "root" })),
    )
    .await
    .unwrap();
    assert_eq!(bad_role.json::<Value>().await.unwrap()["error"]["details"]["field"], "role");

    // The new dispatcher logs in, and is not an admin.
    let login_res: Value = login(&http, &gw, "ana@example.com", "a-dispatcher-password").await.json().await.unwrap();
    let ana = login_res["access_token"].as_str().unwrap().to_owned();
    assert_eq!(http.get(format!("{gw}/api/admin/users")).bearer_auth(&ana).send().await.unwrap().status(), 403);
    let list = get_json(&http, format!("{gw}/api/admin/users"), &token).await;
    assert_eq!(list["total"], 2, "{list}");

    // A second gateway replica on the same database, reloading revocations every second.
    let replica = mesh.gateway_replica().await;
    let me_on = |gateway: String, t: &str| http.get(format!("{gateway}/api/auth/me")).bearer_auth(t.to_owned()).send();
    assert_eq!(me_on(replica.url(), &ana).await.unwrap().status(), 200);

    // A new role revokes the dispatcher token at once on this replica, and within
    // a reload on the other; a fresh login carries the new role.
    let patched: Value =
        send(http.patch(format!("{gw}/api/admin/users/{id}")).json(&json!({ "role": "reporter" }))).await.unwrap().json().await.unwrap();
    assert_eq!(patched["role"], "reporter");
    let refused = me_on(gw.clone(), &ana).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["message"], "token revoked");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while me_on(replica.url(), &ana).await.unwrap().status() != 401 {
        assert!(std::time::Instant::now() < deadline, "the other replica still accepts the revoked token");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let relogin: Value = login(&http, &gw, "ana@example.com", "a-dispatcher-password").await.json().await.unwrap();
    let ana = relogin["access_token"].as_str().unwrap().to_owned();
    for gateway in [gw.clone(), replica.url()] {
        let me: Value = me_on(gateway, &ana).await.unwrap().json().await.unwrap();
        assert_eq!(me["role"], "reporter", "{me}");
    }
    // The admin's own token was never concerned.
    assert_eq!(me_on(gw.clone(), &token).await.unwrap().status(), 200);

    // Deactivated: the token stops at once, and so does the login.
    assert_eq!(send(http.delete(format!("{gw}/api/admin/users/{id}"))).await.unwrap().status(), 204);
    assert_eq!(me_on(gw.clone(), &ana).await.unwrap().status(), 401);
    assert_eq!(login(&http, &gw, "ana@example.com", "a-dispatcher-password").await.status(), 401);
    // A replica started after the change knows it from the start.
    let late = mesh.gateway_replica().await;
    assert_eq!(me_on(late.url(), &ana).await.unwrap().status(), 401);
    late.stop().await.unwrap();
    replica.stop().await.unwrap();

    // No lock-out: an admin cannot demote or deactivate themself.
    let me: Value = get_json(&http, format!("{gw}/api/auth/me"), &token).await;
    let my_id = me["id"].as_str().unwrap();
    let demote = send(http.patch(format!("{gw}/api/admin/users/{my_id}")).json(&json!({ "role": "dispatcher" }))).await.unwrap();
    assert_eq!(demote.status(), 409);
    assert_eq!(send(http.delete(format!("{gw}/api/admin/users/{my_id}"))).await.unwrap().status(), 409);
    assert_eq!(send(http.patch(format!("{gw}/api/admin/users/9999")).json(&json!({ "active": true }))).await.unwrap().status(), 404);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn every_api_route_is_rate_limited_per_user_and_address() {
    // Three requests of burst, then one every ten seconds (slow enough that a
    // slow debug-build login on a loaded machine does not refill the bucket
    // between the calls); with Redis when the tests have one.
    let redis = std::env::var("TEST_REDIS_URL").ok();
    let mut env =
        vec![("ATMR_RATE_LIMIT_PER_MINUTE", "6"), ("ATMR_RATE_LIMIT_BURST", "3"), ("ATMR_TRUSTED_PROXIES", "127.0.0.1/32,::1/128")];
    if let Some(url) = &redis {
        env.push(("REDIS_URL", url.as_str()));
    }
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &env).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    // A fresh client address per run, so a shared Redis holds no earlier run's bucket.
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() ^ u128::from(std::process::id());
    let address = format!("10.{}.{}.{}", (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff);
    let login = http
        .post(format!("{gw}/api/auth/login"))
        .header("x-forwarded-for", &address)
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["ratelimit-remaining"], "2", "the login is one of the address's three");
    let token = login.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let me = |t: &str| http.get(format!("{gw}/api/auth/me")).header("x-forwarded-for", &address).bearer_auth(t.to_owned()).send();
    let first = me(&token).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit-limit"], "3");
    let remaining: u32 = first.headers()["ratelimit-remaining"].to_str().unwrap().parse().unwrap();
    assert!(remaining <= 1, "{remaining}");
    let mut limited = None;
    for _ in 0..3 {
        let res = me(&token).await.unwrap();
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
    }
    let limited = limited.expect("the burst runs out");
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    assert_eq!(limited.json::<Value>().await.unwrap()["error"]["code"], "resource_exhausted");
    // Probes are never limited.
    assert_eq!(http.get(format!("{gw}/health/live")).send().await.unwrap().status(), 200);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn a_failing_service_opens_its_breaker_and_is_named() {
    let env = [("ATMR_BREAKER_FAILURES", "2"), ("ATMR_BREAKER_COOLDOWN_MS", "600000")];
    let mut mesh = start_mesh_with(testing::TestBackend::Sqlite, &env).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();
    assert_eq!(send(http.get(format!("{gw}/api/bugs"))).await.unwrap().status(), 200);

    let at = mesh.services.iter().position(|(c, _)| *c == Component::Bugs).unwrap();
    let (_, bugs) = mesh.services.remove(at);
    bugs.stop().await.unwrap();
    for _ in 0..2 {
        let res = send(http.get(format!("{gw}/api/bugs"))).await.unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["details"]["service"], "bugs");
    }
    // Open: answered at once, without trying the service.
    let res = send(http.get(format!("{gw}/api/bugs"))).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["details"]["service"], "bugs");
    assert!(body["error"]["details"]["reason"].as_str().unwrap().contains("circuit open"), "{body}");
    let metrics = http.get(format!("{}/metrics", mesh.gateway.admin_url())).send().await.unwrap().text().await.unwrap();
    // The admission state: 1 open for bugs, 0 closed for the others.
    let state = |service: &str, value: &str| {
        metrics.lines().any(|l| {
            l.starts_with("gateway_circuit_breaker_state{")
                && l.contains(&format!("service=\"{service}\""))
                && l.ends_with(&format!(" {value}"))
        })
    };
    assert!(state("bugs", "1") && state("safety", "0"), "{metrics}");
    let served = |status: &str| {
        metrics.lines().any(|l| {
            l.starts_with("http_requests_total") && l.contains("route=\"/api/bugs\"") && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(served("200") && served("503"), "the HTTP families count by route template and status: {metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket") && metrics.contains("http_response_size_bytes_bucket"));
    // The other services are not affected.
    assert_eq!(send(http.get(format!("{gw}/api/admin/safety-limits"))).await.unwrap().status(), 200);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn every_route_family_checks_tokens_roles_and_the_company() {
    use kit::auth::Role;
    // Many calls from one address: request limits (tested on their own) are off here.
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0")]).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let keys = testing::keys();
    let token = |company: i64, role: Role| keys.issue("77", "user@example.com", company, role, std::time::Duration::from_secs(600));
    let status = |path: &'static str, token: Option<String>| {
        let req = http.get(format!("{gw}{path}"));
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        async move { req.send().await.unwrap().status().as_u16() }
    };

    // A driver's token names its driver.
    let driver: Value = http
        .post(format!("{gw}/api/drivers"))
        .bearer_auth(token(1, Role::Admin))
        .json(&json!({ "name": "Dora", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 420, "shift_end_minute": 960,
                       "depot": { "latitude": 46.2, "longitude": 6.1 } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let holder = kit::auth::Holder {
        subject: "78",
        email: "dora@example.com",
        company_id: 1,
        role: Role::Driver,
        generation: 0,
        driver_id: driver["id"].as_i64(),
    };
    let driver_token = keys.issue_to(&holder, std::time::Duration::from_secs(600));

    // (route, admin, dispatcher, reporter, driver)
    let families: [(&str, u16, u16, u16, u16); 15] = [
        ("/api/admin/autonomous-actions", 200, 403, 403, 403),
        ("/api/admin/safety-limits", 200, 403, 403, 403),
        ("/api/notifications", 200, 403, 403, 403),
        ("/api/monitors", 200, 403, 403, 403),
        ("/api/admin/users", 200, 403, 403, 403),
        ("/api/drivers", 200, 200, 403, 403),
        ("/api/bookings", 200, 200, 403, 403),
        ("/api/dispatch/runs", 200, 200, 403, 403),
        ("/api/dispatch/autonomy/suggestions", 200, 200, 403, 403),
        ("/api/dispatch/eta-model", 200, 200, 403, 403),
        ("/api/dispatch/drift-checks", 200, 200, 403, 403),
        ("/api/company", 200, 200, 403, 403),
        ("/api/bugs", 200, 200, 200, 403),
        ("/api/bugs/metrics/summary", 200, 200, 403, 403),
        ("/api/me/manifest", 403, 403, 403, 200),
    ];
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| serde_json::json!({"sub": "77", "company_id": 1, "role": "admin", "iss": "atmr", "iat": now, "exp": exp});
    let tampered = {
        let t = token(1, Role::Reporter);
        // The payload says reporter; claim admin with the same signature.
        let (head, rest) = t.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now + 600)).unwrap());
        format!("{head}.{payload}.{sig}")
    };
    for (path, admin, dispatcher, reporter, driver) in families {
        assert_eq!(status(path, None).await, 401, "{path} without a token");
        assert_eq!(status(path, Some(tampered.clone())).await, 401, "{path} with a tampered token");
        let none = crate::tokens::forge(serde_json::json!({"alg": "none"}), claims(now + 600), b"");
        assert_eq!(status(path, Some(none)).await, 401, "{path} with alg none");
        let expired = crate::tokens::signed(&claims(now - 600));
        assert_eq!(status(path, Some(expired)).await, 401, "{path} with an expired token");
        assert_eq!(status(path, Some(token(1, Role::Admin))).await, admin, "{path} as admin");
        assert_eq!(status(path, Some(token(1, Role::Dispatcher))).await, dispatcher, "{path} as dispatcher");
        assert_eq!(status(path, Some(token(1, Role::Reporter))).await, reporter, "{path} as reporter");
        assert_eq!(status(path, Some(driver_token.clone())).await, driver, "{path} as driver");
    }
    // Reporters file bugs.
    let filed = http
        .post(format!("{gw}/api/bugs"))
        .bearer_auth(token(1, Role::Reporter))
        .json(&json!({ "title": "La carte ne charge pas", "description": "Écran blanc", "severity": "medium" }))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    let bug_id = filed.json::<Value>().await.unwrap()["bug"]["id"].as_i64().unwrap();

    // Another company sees none of company 1's rows.
    let driver = json!({ "name": "Léa", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 420, "shift_end_minute": 960,
                         "depot": { "latitude": 46.2, "longitude": 6.1 } });
    let created: Value = http
        .post(format!("{gw}/api/drivers"))
        .bearer_auth(token(1, Role::Dispatcher))
        .json(&driver)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = token(2, Role::Admin);
    let drivers: Value = http.get(format!("{gw}/api/drivers")).bearer_auth(&other).send().await.unwrap().json().await.unwrap();
    assert_eq!(drivers["total"], 0);
    // Another company's driver is answered as one that does not exist (a 403 would say it does).
    let theirs = http.get(format!("{gw}/api/drivers/{}", created["id"])).bearer_auth(&other).send().await.unwrap();
    assert_eq!(theirs.status(), 404);
    let missing = http.get(format!("{gw}/api/drivers/999999")).bearer_auth(&other).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let (theirs, missing): (Value, Value) = (theirs.json().await.unwrap(), missing.json().await.unwrap());
    assert_eq!(theirs["error"]["code"], missing["error"]["code"]);
    let bug = http.get(format!("{gw}/api/bugs/{bug_id}")).bearer_auth(&other).send().await.unwrap();
    assert_eq!(bug.status(), 404);
    let bugs: Value = http.get(format!("{gw}/api/bugs")).bearer_auth(&other).send().await.unwrap().json().await.unwrap();
    assert_eq!(bugs["total"], 0);
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn the_api_describes_itself_at_openapi_json_and_docs() {
    let mesh = start_mesh(testing::TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let doc: Value = http.get(format!("{gw}/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/auth/login", "post"),
        ("/api/dispatch/runs", "post"),
        ("/api/bookings/batch", "post"),
        ("/api/bugs/{bug_id}", "patch"),
        ("/api/admin/autonomous-actions/{id}/review", "post"),
        ("/api/monitors/{id}/uptime", "get"),
        ("/api/admin/users", "post"),
        ("/api/dispatch/autonomy/settings", "put"),
        ("/api/dispatch/drift-checks", "post"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
    }
    // What schemathesis found once: the documents must describe the bodies as sent.
    let schemas = &doc["components"]["schemas"];
    assert!(!schemas["ErrorDetail"]["required"].as_array().unwrap().contains(&json!("details")), "details are optional");
    assert!(schemas["SafetyLimits"]["properties"]["overridden"].is_object(), "a read-only field is still described");
    assert!(paths["/api/dispatch/runs"]["post"]["requestBody"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Booking"]["properties"]["pickup_earliest"].is_object());
    // The 84 operations of the router (as of this test) are all in the document.
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert!(operations >= 84, "{operations} operations");
    let docs = http.get(format!("{gw}/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"));
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn a_dispatcher_sends_a_notification_once_per_key() {
    use kit::auth::Role;
    let mesh = start_mesh(testing::TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let dispatcher = testing::keys().issue("5", "d@example.com", 1, Role::Dispatcher, std::time::Duration::from_secs(600));
    let note = json!({ "event_type": "dispatch.delay", "title": "Retard course 42", "body": "Bouchons à Cornavin", "severity": "warning",
                       "fields": [{ "name": "booking", "value": "42" }], "idempotency_key": "delay-42" });
    let sent = http.post(format!("{gw}/api/notifications")).bearer_auth(&dispatcher).json(&note).send().await.unwrap();
    assert_eq!(sent.status(), 202);
    let sent: Value = sent.json().await.unwrap();
    let id = sent["notifications"][0]["id"].as_str().unwrap().to_owned();
    let again = http.post(format!("{gw}/api/notifications")).bearer_auth(&dispatcher).json(&note).send().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!((again["duplicate"].as_bool(), again["notifications"][0]["id"].as_str()), (Some(true), Some(id.as_str())));
    let bad = http
        .post(format!("{gw}/api/notifications"))
        .bearer_auth(&dispatcher)
        .json(&json!({ "event_type": "x", "title": "t", "severity": "loud" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["details"]["field"], "severity");
    // Reading the outbox stays an admin's job.
    assert_eq!(http.get(format!("{gw}/api/notifications")).bearer_auth(&dispatcher).send().await.unwrap().status(), 403);
    let admin = admin_token(&http, &gw).await;
    let got = get_json(&http, format!("{gw}/api/notifications/{id}"), &admin).await;
    assert_eq!(got["notification"]["title"], "Retard course 42", "{got}");
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn the_gateway_drains_on_shutdown() {
    let env = [("ATMR_PRE_STOP_DELAY_MS", "1500"), ("ATMR_DRAIN_DEADLINE_MS", "2000")];
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &env).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    assert_eq!(http.get(format!("{gw}/api/auth/me")).bearer_auth(&token).send().await.unwrap().status(), 200);

    mesh.gateway.life.shutdown();
    // During the pre-stop delay the listener is still open: new work is refused
    // with 503, readiness is down, liveness is not.
    let refused = http.get(format!("{gw}/api/auth/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("shutting down"));
    assert_eq!(http.get(format!("{gw}/health/ready")).send().await.unwrap().status(), 503);
    assert_eq!(http.get(format!("{gw}/health/live")).send().await.unwrap().status(), 200);
    // And it ends by itself, within the delay and the drain deadline.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), mesh.gateway.task).await;
    ended.expect("the gateway stops within its deadlines").unwrap().unwrap();
}

#[tokio::test]
async fn a_stopped_service_answers_503_and_recovers_after_restart() {
    let mut mesh = start_mesh(testing::TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();
    let created: Value = send(http.post(format!("{gw}/api/bugs")).json(&json!({ "title": "Persistant", "description": "d" })))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["bug"]["id"].as_i64().unwrap();

    let at = mesh.services.iter().position(|(c, _)| *c == Component::Bugs).unwrap();
    let (_, bugs) = mesh.services.remove(at);
    let addr = bugs.addr;
    bugs.stop().await.unwrap();
    let down = send(http.get(format!("{gw}/api/bugs/{id}"))).await.unwrap();
    assert_eq!(down.status(), 503);
    assert_eq!(down.json::<Value>().await.unwrap()["error"]["details"]["service"], "bugs");

    // The same service again, on the same address and database: the gateway
    // reconnects by itself and the bug written before is there.
    let db = &mesh._dbs[Component::SERVICES.iter().position(|c| *c == Component::Bugs).unwrap()];
    let env = {
        let mut env = testing::env_for(Component::Bugs, &db.url);
        env.set("NOTIFY_URL", "http://127.0.0.1:1");
        env
    };
    let listeners = kit::Listeners::bind(addr, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let life = kit::Lifecycle::new();
    let task = tokio::spawn({
        let life = life.clone();
        async move { atmr::serve(Component::Bugs, &env, listeners, life).await }
    });
    assert!(life.ready().await, "the bugs service starts again");
    let back = send(http.get(format!("{gw}/api/bugs/{id}"))).await.unwrap();
    assert_eq!(back.status(), 200);
    assert_eq!(back.json::<Value>().await.unwrap()["bug"]["title"], "Persistant");
    life.shutdown();
    task.await.unwrap().unwrap();
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn every_documented_operation_refuses_a_missing_or_expired_token() {
    let mesh = start_mesh_with(testing::TestBackend::Sqlite, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0")]).await;
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let doc: Value = http.get(format!("{gw}/openapi.json")).send().await.unwrap().json().await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let expired =
        crate::tokens::signed(&json!({"sub": "77", "company_id": 1, "role": "admin", "iss": "atmr", "iat": now - 1200, "exp": now - 600}));
    // The only routes open without a token.
    let public = ["/api/auth/login", "/api/auth/refresh"];
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        if public.contains(&path.as_str()) || !path.starts_with("/api/") {
            continue;
        }
        // Every path parameter as 1: the token is checked before anything is looked up.
        let concrete: String = path.split('/').map(|part| if part.starts_with('{') { "1" } else { part }).collect::<Vec<_>>().join("/");
        for method in operations.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for token in [None, Some(expired.as_str())] {
                let mut req = http.request(method.clone(), format!("{gw}{concrete}")).json(&json!({}));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                assert_eq!(status, 401, "{method} {path} with {}: {body}", if token.is_some() { "an expired token" } else { "no token" });
                assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}: {body}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * 80, "{checked} calls");
    mesh.gateway.stop().await.unwrap();
}

#[tokio::test]
async fn hostile_text_is_stored_and_returned_unchanged_and_huge_bodies_are_refused() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0")]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        let edge = [
            "'; DROP TABLE bug_reports; --",
            "Robert'); DELETE FROM driver WHERE ('1'='1",
            "%_\\ LIKE wildcards and a backslash",
            "Zoë Müller-Ågård — 救急車 🚑 \u{202e}txet lanoitcerid\u{202c}",
            "e\u{301} (combining accent) and \u{200d}\u{fe0f} joiners",
            "<script>alert('x')</script> & \"quotes\"",
        ];
        for (i, text) in edge.iter().enumerate() {
            // A bug: title, description, stack trace (categories are a lower-cased vocabulary).
            let bug = json!({ "title": text, "description": format!("{text}\nline two"), "severity": "low", "stack_trace": text });
            let created = http.post(format!("{gw}/api/bugs")).bearer_auth(&token).json(&bug).send().await.unwrap();
            assert_eq!(created.status(), 201, "{backend:?} {text:?}");
            let id = created.json::<Value>().await.unwrap()["bug"]["id"].as_i64().unwrap();
            let read = get_json(&http, format!("{gw}/api/bugs/{id}"), &token).await;
            assert_eq!((read["bug"]["title"].as_str(), read["bug"]["stack_trace"].as_str()), (Some(*text), Some(*text)), "{backend:?}");
            assert_eq!(read["bug"]["description"].as_str(), Some(format!("{text}\nline two").as_str()));
            // A driver and a patient: names, phone-free notes, addresses.
            let driver = json!({ "name": text, "vehicle_kind": "car", "seats": 4, "shift_start_minute": 420, "shift_end_minute": 960,
                                 "depot": { "latitude": 46.2, "longitude": 6.1 } });
            let d: Value =
                http.post(format!("{gw}/api/drivers")).bearer_auth(&token).json(&driver).send().await.unwrap().json().await.unwrap();
            assert_eq!(d["name"].as_str(), Some(*text), "{d}");
            let patient = json!({ "name": text, "address": text, "notes": text, "location": { "latitude": 46.195, "longitude": 6.14 },
                                  "mobility": "ambulatory", "phone": format!("+41 22 555 12 {i:02}") });
            let c: Value =
                http.post(format!("{gw}/api/clients")).bearer_auth(&token).json(&patient).send().await.unwrap().json().await.unwrap();
            let c = get_json(&http, format!("{gw}/api/clients/{}", c["id"]), &token).await;
            assert_eq!((c["name"].as_str(), c["address"].as_str(), c["notes"].as_str()), (Some(*text), Some(*text), Some(*text)), "{c}");
        }
        // A search with SQL metacharacters finds the text, and nothing else breaks.
        let found = get_json(&http, format!("{gw}/api/bugs?q=DROP%20TABLE"), &token).await;
        assert_eq!(found["total"], 1, "{found}");

        // Over 2 MiB: refused with 413 before anything is stored.
        let huge = json!({ "title": "big", "description": "x".repeat(3 << 20), "severity": "low" });
        let refused = http.post(format!("{gw}/api/bugs")).bearer_auth(&token).json(&huge).send().await.unwrap();
        assert_eq!(refused.status(), 413, "{backend:?}");
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
        let all = get_json(&http, format!("{gw}/api/bugs"), &token).await;
        assert_eq!(all["total"], edge.len(), "{all}");
        mesh.gateway.stop().await.unwrap();
    }
}
