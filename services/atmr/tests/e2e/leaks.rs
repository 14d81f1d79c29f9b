//! What the gateway lets out when something is wrong: the public readiness
//! names the dependencies that are down but never their errors (those stay on
//! the admin port).

use std::time::Duration;

use kit::{
    Component,
    testing::{self, Spawned, TestBackend, TestDb},
};
use serde_json::Value;

/// Nothing listens on port 1: every peer is refused.
const NOWHERE: &str = "http://127.0.0.1:1";

/// Starts the gateway alone without waiting for readiness (its services may be
/// absent), then waits, with a deadline, until it has started.
async fn gateway(db: &TestDb, extra: &[(&str, &str)]) -> Spawned {
    testing::init_logging();
    let mut env = testing::env_for(Component::Gateway, &db.url);
    for (k, v) in extra {
        env.set(k, *v);
    }
    let svc = testing::spawn_unready(move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await })
        .await
        .unwrap();
    let startup = format!("{}/health/startup", svc.admin_url());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if reqwest::get(&startup).await.is_ok_and(|r| r.status() == 200) {
            return svc;
        }
        assert!(!svc.task.is_finished(), "the gateway stopped before it started");
        assert!(tokio::time::Instant::now() < deadline, "the gateway did not start within 60 s");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_public_readiness_names_what_is_down_and_not_why() {
    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    let peers = [("DISPATCH_URL", NOWHERE), ("SAFETY_URL", NOWHERE), ("BUGS_URL", NOWHERE), ("NOTIFY_URL", NOWHERE)];
    let gw = gateway(&db, &peers).await;

    let admin = reqwest::get(format!("{}/health/ready", gw.admin_url())).await.unwrap();
    assert_eq!(admin.status(), 503);
    let admin: Value = admin.json().await.unwrap();
    let dependencies = admin["dependencies"].as_array().unwrap();
    let dispatch = dependencies.iter().find(|d| d["name"] == "dispatch").unwrap();
    let error = dispatch["error"].as_str().unwrap_or_else(|| panic!("the admin port says why: {admin}"));
    assert!(error.contains("connect"), "a recognisable piece of the refused connection: {error}");

    for path in ["/health/ready", "/health"] {
        let public = reqwest::get(format!("{}{path}", gw.url())).await.unwrap();
        assert_eq!(public.status(), 503, "{path}");
        let text = public.text().await.unwrap();
        assert!(!text.contains(error) && !text.contains("connect") && !text.contains("127.0.0.1"), "{path} says why: {text}");
        if path == "/health/ready" {
            let body: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(body, serde_json::json!({ "status": "not_ready", "not_ready": ["dispatch", "safety", "bugs", "notify"] }));
        }
    }
    gw.stop().await.unwrap();
}
