//! The gateway's own tests: its [`atmr_gateway::router`] driven with tower's
//! `oneshot` against the four services started on ephemeral ports, each on a
//! fresh database (SQLite, and PostgreSQL too with `TEST_DATABASE_URL`):
//! readiness, a login and an authenticated call through to a service, a role
//! refusal, the shape of a validation error, and a driver account linked to
//! its driver reaching only its own day; `api/actions.rs`, the autonomous
//! actions as the admin pages read them; `api/exports.rs`, the CSV exports;
//! `api/privacy.rs`, a patient's export and erasure; `api/auth.rs`, refresh
//! tokens, the login limit and the client's address; `api/users.rs`, the
//! account rules (no lock-out), dispatch's settings checked without saving and
//! the drift checks by state and by day; `api/status_page.rs`, the public
//! status page's settings and a monitor's incidents; `api/notify_routes.rs`,
//! a routing rule edited and disabled; `api/bugs.rs`, a bug's history and its
//! reports per day; `api/alerts.rs`, Alertmanager's webhook receiver.

#[path = "api/actions.rs"]
mod actions;
#[path = "api/alerts.rs"]
mod alerts;
#[path = "api/auth.rs"]
mod auth;
#[path = "api/bugs.rs"]
mod bugs;
#[path = "api/exports.rs"]
mod exports;
#[path = "api/notify_routes.rs"]
mod notify_routes;
#[path = "api/privacy.rs"]
mod privacy;
#[path = "api/status_page.rs"]
mod status_page;
#[path = "api/users.rs"]
mod users;

use std::net::SocketAddr;

use atmr_gateway::Started;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt as _;
use kit::{
    Component, Env, Lifecycle,
    auth::Role,
    testing::{self, Spawned, TestBackend, TestDb},
};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "a-long-test-password";

/// A gateway built as `serve` builds it, minus its listener, in front of the
/// four services.
struct Gateway {
    app: Router,
    /// Its configuration, for a second replica on the same database.
    cfg: atmr_gateway::Config,
    started: Started,
    life: Lifecycle,
    services: Vec<(Component, Spawned)>,
    _dbs: Vec<TestDb>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.life.shutdown();
    }
}

/// Starts `component` on a fresh database with its own serve function.
async fn spawn_service(component: Component, db: &TestDb) -> Spawned {
    let env = testing::env_for(component, &db.url);
    testing::spawn(move |listeners, life| async move {
        match component {
            Component::Dispatch => atmr_dispatch::serve(atmr_dispatch::Config::from_env(&env)?, listeners, life).await,
            Component::Safety => atmr_safety::serve(atmr_safety::Config::from_env(&env)?, listeners, life).await,
            Component::Bugs => atmr_bugs::serve(atmr_bugs::Config::from_env(&env)?, listeners, life).await,
            Component::Notify => atmr_notify::serve(atmr_notify::Config::from_env(&env)?, listeners, life).await,
            Component::Gateway => unreachable!("the gateway is not one of the services"),
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{component} did not start: {e:#}"))
}

/// The services, then the gateway on its own database with `extra` settings.
async fn gateway(backend: TestBackend, extra: &[(&str, &str)]) -> Gateway {
    testing::init_logging();
    let mut env = Env::default();
    testing::keys().configure(&mut env, Component::Gateway);
    let (mut services, mut dbs) = (Vec::new(), Vec::new());
    for component in Component::SERVICES {
        let db = TestDb::new(backend).await.unwrap();
        let svc = spawn_service(component, &db).await;
        env.set(&format!("{}_URL", component.env_prefix()), svc.url());
        services.push((component, svc));
        dbs.push(db);
    }
    let db = TestDb::new(backend).await.unwrap();
    env.set("GATEWAY_DATABASE_URL", db.url.clone());
    env.set("ATMR_ADMIN_EMAIL", ADMIN_EMAIL);
    env.set("ATMR_ADMIN_PASSWORD", ADMIN_PASSWORD);
    for (k, v) in extra {
        env.set(k, *v);
    }
    dbs.push(db);
    let cfg = atmr_gateway::Config::from_env(&env).unwrap();
    let life = Lifecycle::new();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let started = atmr_gateway::start(&cfg, admin, &life).await.unwrap();
    let app = atmr_gateway::router(started.state.clone());
    Gateway { app, cfg, started, life, services, _dbs: dbs }
}

impl Gateway {
    /// One request through the whole router, from a client at 127.0.0.1 as
    /// the real listener would see it; the status and the JSON body.
    async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        call_app(&self.app, method, uri, token, body, &[], [127, 0, 0, 1]).await
    }

    /// [`Self::call`] with more request headers, from 127.0.0.1.
    async fn call_with(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        call_app(&self.app, method, uri, token, body, headers, [127, 0, 0, 1]).await
    }

    /// The access token a login as `email` / `password` answers.
    async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self.call("POST", "/api/auth/login", None, Some(json!({ "email": email, "password": password }))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("an access token").to_owned()
    }

    /// Stops `component` and waits until it is gone.
    async fn stop(&mut self, component: Component) {
        let i = self.services.iter().position(|(c, _)| *c == component).expect("a service of the mesh");
        self.services.remove(i).1.stop().await.unwrap();
    }
}

/// One request through `app` from a client at `peer` (port 40000), with
/// `headers`; the status and the JSON body.
async fn call_app(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
    peer: [u8; 4],
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let mut req = req.body(body).unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((peer, 40_000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (status, json)
}

#[tokio::test]
async fn readiness_follows_the_services_and_never_says_why_on_the_public_port() {
    for backend in testing::backends() {
        let mut gw = gateway(backend, &[]).await;
        let (status, ready) = gw.call("GET", "/health/ready", None, None).await;
        assert_eq!((status, ready), (StatusCode::OK, json!({ "status": "ready", "not_ready": [] })));
        let (status, health) = gw.call("GET", "/health", None, None).await;
        assert_eq!((status, &health["status"]), (StatusCode::OK, &json!("ok")));
        let names: Vec<&str> = health["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["database", "dispatch", "safety", "bugs", "notify"], "the database first, then every service");

        gw.stop(Component::Safety).await;
        let (status, ready) = gw.call("GET", "/health/ready", None, None).await;
        assert_eq!((status, ready), (StatusCode::SERVICE_UNAVAILABLE, json!({ "status": "not_ready", "not_ready": ["safety"] })));
        let (status, health) = gw.call("GET", "/health", None, None).await;
        assert_eq!((status, &health["status"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("degraded")));
        let safety = health["checks"].as_array().unwrap().iter().find(|c| c["name"] == "safety").unwrap();
        assert_eq!((&safety["ok"], safety.get("error")), (&json!(false), None), "no error text on the public port: {safety}");
        // Liveness does not look at dependencies.
        assert_eq!(gw.call("GET", "/health/live", None, None).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_login_opens_a_call_through_to_a_service() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let (status, refused) = gw.call("POST", "/api/auth/login", None, Some(json!({ "email": ADMIN_EMAIL, "password": "wrong" }))).await;
        assert_eq!((status, &refused["error"]["code"]), (StatusCode::UNAUTHORIZED, &json!("unauthenticated")));
        let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

        let (status, me) = gw.call("GET", "/api/auth/me", Some(&token), None).await;
        assert_eq!((status, &me["email"], &me["role"]), (StatusCode::OK, &json!(ADMIN_EMAIL), &json!("admin")));
        // Answered by the safety service, with the caller's token.
        let (status, limits) = gw.call("GET", "/api/admin/safety-limits", Some(&token), None).await;
        assert_eq!((status, &limits["max_actions_per_hour"]), (StatusCode::OK, &json!(50)), "{limits}");
        let put = json!({ "max_actions_per_hour": 12 });
        let (status, limits) = gw.call("PUT", "/api/admin/safety-limits", Some(&token), Some(put)).await;
        assert_eq!((status, &limits["max_actions_per_hour"]), (StatusCode::OK, &json!(12)), "{limits}");
        let (_, limits) = gw.call("GET", "/api/admin/safety-limits", Some(&token), None).await;
        assert_eq!(limits["max_actions_per_hour"], 12, "the service kept it");

        let (status, body) = gw.call("GET", "/api/admin/safety-limits", None, None).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::UNAUTHORIZED, &json!("unauthenticated")));
    }
}

#[tokio::test]
async fn a_role_the_api_does_not_document_is_refused_before_the_body_is_read() {
    let gw = gateway(TestBackend::Sqlite, &[]).await;
    let email = "dispatcher@example.com";
    let password =
        atmr_gateway::users::ensure_user(&gw.started.runtime.db, email, Role::Dispatcher, 1).await.unwrap().expect("a new account");
    let token = gw.login(email, &password).await;

    let (status, body) = gw.call("GET", "/api/admin/users", Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({ "error": { "code": "permission_denied", "message": "role dispatcher may not use this route" } }));
    // A body that would be refused for its shape is not even read: the role comes first.
    let (status, body) = gw.call("PUT", "/api/admin/safety-limits", Some(&token), Some(json!({ "max_per_week": 1 }))).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::FORBIDDEN, &json!("permission_denied")));
    // A route the dispatcher may use still answers.
    let (status, _) = gw.call("GET", "/api/drivers", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn invalid_input_is_answered_in_the_error_format_naming_the_field() {
    let gw = gateway(TestBackend::Sqlite, &[]).await;
    let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Checked by the service, named by its field.
    let (status, body) = gw.call("PUT", "/api/admin/safety-limits", Some(&token), Some(json!({ "max_actions_per_hour": -1 }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = body["error"].as_object().unwrap();
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "details", "message"], "{body}");
    assert_eq!(
        (&body["error"]["code"], &body["error"]["details"]),
        (&json!("invalid_argument"), &json!({ "field": "limits.max_actions_per_hour" }))
    );
    // Checked by the gateway before any call.
    let (status, body) = gw.call("GET", "/api/admin/autonomous-actions/abc", Some(&token), None).await;
    assert_eq!((status, &body["error"]["details"]), (StatusCode::BAD_REQUEST, &json!({ "field": "id" })));
    // A body of another shape is 422, in the same format.
    let (status, body) = gw.call("PUT", "/api/admin/safety-limits", Some(&token), Some(json!({ "max_per_week": 1 }))).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid_argument")));
}

#[tokio::test]
#[ignore = "needs Redis: set TEST_REDIS_URL and run with --include-ignored"]
async fn redis_is_reported_but_not_decisive() {
    let redis = testing::redis_url();
    let gw = gateway(TestBackend::Sqlite, &[("REDIS_URL", &redis)]).await;
    let (status, health) = gw.call("GET", "/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let redis = health["checks"].as_array().unwrap().iter().find(|c| c["name"] == "redis").expect("redis is reported");
    assert_eq!((&redis["ok"], &redis["required"]), (&json!(true), &json!(false)), "{redis}");
}

#[tokio::test]
async fn a_driver_account_is_linked_to_one_driver_of_the_company_and_reaches_only_its_day() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let driver = json!({ "name": "Ana Duarte", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 420,
                             "shift_end_minute": 1080, "depot": { "latitude": 46.2, "longitude": 6.1 } });
        let (status, created) = gw.call("POST", "/api/drivers", Some(&admin), Some(driver.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_i64().unwrap();
        let other_company = gw.services[0].1.keys.issue("9", "x@example.com", 2, Role::Admin, std::time::Duration::from_secs(60));
        let (_, foreign) = gw.call("POST", "/api/drivers", Some(&other_company), Some(driver)).await;

        let account = |role: &str, driver_id: Value| json!({ "email": "ana@example.com", "password": "a-long-driver-password", "role": role, "driver_id": driver_id });
        for (what, body) in [
            ("a driver without its driver", account("driver", Value::Null)),
            ("a dispatcher with a driver", account("dispatcher", json!(id))),
            ("another company's driver", account("driver", foreign["id"].clone())),
            ("a driver that does not exist", account("driver", json!(999_999))),
        ] {
            let (status, body) = gw.call("POST", "/api/admin/users", Some(&admin), Some(body)).await;
            assert_eq!(
                (status, &body["error"]["details"]["field"]),
                (StatusCode::BAD_REQUEST, &json!("driver_id")),
                "{backend:?} {what}: {body}"
            );
        }
        let (status, user) = gw.call("POST", "/api/admin/users", Some(&admin), Some(account("driver", json!(id)))).await;
        assert_eq!((status, &user["role"], &user["driver_id"]), (StatusCode::CREATED, &json!("driver"), &json!(id)), "{user}");
        let mut second = account("driver", json!(id));
        second["email"] = json!("ana2@example.com");
        let (status, body) = gw.call("POST", "/api/admin/users", Some(&admin), Some(second)).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::CONFLICT, &json!("already_exists")), "{backend:?}: one account a driver");

        let token = gw.login("ana@example.com", "a-long-driver-password").await;
        let (_, me) = gw.call("GET", "/api/auth/me", Some(&token), None).await;
        assert_eq!((&me["role"], &me["driver_id"]), (&json!("driver"), &json!(id)), "{me}");
        let (status, body) = gw.call("GET", "/api/me/manifest?day=tomorrow", Some(&token), None).await;
        assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("day")), "{body}");
        let (status, manifest) = gw.call("GET", "/api/me/manifest?day=2030-01-07", Some(&token), None).await;
        assert_eq!((status, &manifest["driver_id"], &manifest["stops"]), (StatusCode::OK, &json!(id), &json!([])), "{manifest}");
        let at = chrono::Utc::now().to_rfc3339();
        let fix = |lat: f64| json!({ "position": { "latitude": lat, "longitude": 6.14 }, "time": at, "accuracy_m": 12.0 });
        let (status, body) =
            gw.call("POST", "/api/me/positions", Some(&token), Some(json!({ "positions": [fix(46.2), fix(123.0)] }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["details"]["field"], "positions[1].position.latitude", "{body}");
        let (status, body) = gw.call("POST", "/api/me/positions", Some(&token), Some(json!({ "positions": [fix(46.2)] }))).await;
        assert_eq!((status, &body["accepted"]), (StatusCode::OK, &json!(1)), "{body}");
        let (_, seen) = gw.call("GET", &format!("/api/drivers/{id}"), Some(&admin), None).await;
        assert_eq!(seen["last_position"]["latitude"], 46.2, "{seen}");
        let (status, body) = gw.call("POST", "/api/me/trips/999999/status", Some(&token), Some(json!({ "status": "en_route" }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

        // The driver reaches nothing else; nobody else reaches the driver's routes.
        for (method, uri) in [("GET", "/api/drivers"), ("GET", "/api/bookings"), ("GET", "/api/company"), ("GET", "/api/bugs")] {
            let (status, body) = gw.call(method, uri, Some(&token), None).await;
            assert_eq!((status, &body["error"]["code"]), (StatusCode::FORBIDDEN, &json!("permission_denied")), "{uri}");
        }
        let (status, _) = gw.call("POST", "/api/bookings/1/status", Some(&token), Some(json!({ "status": "en_route" }))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = gw.call("GET", "/api/me/manifest", Some(&admin), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "an admin has no day of their own");

        // Leaving the role drops the link and revokes the driver's tokens.
        let uri = format!("/api/admin/users/{}", user["id"]);
        let (status, changed) = gw.call("PATCH", &uri, Some(&admin), Some(json!({ "role": "dispatcher" }))).await;
        assert_eq!((status, &changed["driver_id"]), (StatusCode::OK, &Value::Null), "{changed}");
        assert_eq!(gw.call("GET", "/api/me/manifest", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);
        let (status, body) = gw.call("PATCH", &uri, Some(&admin), Some(json!({ "role": "driver" }))).await;
        assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("driver_id")), "{body}");
        let (status, back) = gw.call("PATCH", &uri, Some(&admin), Some(json!({ "role": "driver", "driver_id": id }))).await;
        assert_eq!((status, &back["driver_id"]), (StatusCode::OK, &json!(id)), "{back}");
    }
}
