//! The whole mesh in one test process: a REST call crosses the gateway to a
//! service over gRPC with the caller's token; a stopped service is named in a 503.

use kit::{
    Component,
    testing::{self, Spawned, TestDb, backends},
};
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "a-long-test-password";

struct Mesh {
    services: Vec<(Component, Spawned)>,
    gateway: Spawned,
    _dbs: Vec<TestDb>,
}

async fn start_mesh(backend: testing::TestBackend) -> Mesh {
    testing::init_logging();
    let mut dbs = Vec::new();
    let mut services = Vec::new();
    let mut peers = Vec::new();
    for component in Component::SERVICES {
        let db = TestDb::new(backend).await.unwrap();
        services.push((component, crate::spawn_one(component, &db, &[]).await));
        dbs.push(db);
    }
    for (component, svc) in &services {
        peers.push((format!("{}_URL", component.env_prefix()), svc.url()));
    }
    let db = TestDb::new(backend).await.unwrap();
    peers.push(("GATEWAY_DATABASE_URL".into(), db.url.clone()));
    peers.push(("ATMR_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()));
    peers.push(("ATMR_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()));
    dbs.push(db);
    let env = crate::env_with(&peers);
    let gateway =
        testing::spawn(move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await }).await.unwrap();
    Mesh { services, gateway, _dbs: dbs }
}

/// GET `url` with `token`, as JSON.
async fn get_json(http: &reqwest::Client, url: String, token: &str) -> Value {
    http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

async fn login(http: &reqwest::Client, gateway: &str, email: &str, password: &str) -> reqwest::Response {
    http.post(format!("{gateway}/api/auth/login")).json(&json!({ "email": email, "password": password })).send().await.unwrap()
}

#[tokio::test]
async fn a_rest_call_crosses_the_gateway_to_a_service() {
    for backend in backends() {
        let mesh = start_mesh(backend).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();

        let ready: Value = http.get(format!("{gw}/health/ready")).send().await.unwrap().json().await.unwrap();
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
        let service_token = mesh.gateway.keys.service_token("dispatch", 1);
        let req = atmr_proto::safety::v1::AuthorizeActionRequest {
            action_type: "reassign".into(),
            action_description: "move booking 12 to driver 4".into(),
            action_data: r#"{"booking": 12}"#.into(),
            trigger_source: "autonomous_manager".into(),
            ..Default::default()
        };
        let id = safety.authorize_action(kit::grpc::request(req, &service_token)).await.unwrap().into_inner().action_id;
        let refused = http.get(format!("{gw}/api/admin/autonomous-actions")).bearer_auth(&service_token).send().await.unwrap();
        assert_eq!(refused.status(), 403, "service tokens are not accepted from outside");

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
        assert_eq!((verify["intact"].as_bool(), verify["rows_checked"].as_i64()), (Some(true), Some(1)), "{verify}");

        // Stop the safety service: its route answers 503 naming it, readiness drops.
        let Mesh { services, gateway, _dbs } = mesh;
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
        gateway.stop().await.unwrap();
    }
}
