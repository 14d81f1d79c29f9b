//! What the gateway lets out when something is wrong: the public readiness
//! names the dependencies that are down but never their errors (those stay on
//! the admin port), a generated admin password never goes through the log, and
//! production refuses to start without the first admin's password.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use kit::{
    Component,
    testing::{self, Spawned, TestBackend, TestDb},
};
use serde_json::Value;
use tracing_subscriber::{
    filter::{LevelFilter, filter_fn},
    layer::SubscriberExt as _,
};

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

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_generated_admin_password_is_shown_on_the_terminal_and_never_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Events only, at every level: nothing a span could carry to another thread.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false))
        .with(LevelFilter::TRACE)
        .with(filter_fn(|meta| meta.is_event()));
    // See tracing_hop: a global subscriber that is never interested keeps
    // callsites other tests reach first from being cached as "never".
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LevelFilter::OFF));
    // One thread: the components' tasks log through this subscriber too.
    let _guard = tracing::subscriber::set_default(subscriber);

    // `atmr up` creates the first admin before it starts the gateway, and
    // prints the generated password in its start-up lines.
    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    let env = testing::env_for(Component::Gateway, &db.url);
    let cfg = atmr_gateway::Config::from_env(&env).unwrap();
    let login = atmr::first_admin(&cfg).await.unwrap().expect("no admin yet: one is created");
    let password = login.generated_password.clone().expect("no ATMR_ADMIN_PASSWORD: one is generated");
    assert!(atmr::login_line(Some(&login)).contains(&password), "the terminal line shows it");
    let log = captured.text();
    assert!(log.contains("created the first admin account"), "the log was captured: {log}");
    assert!(!log.contains(&password), "the generated password reached the log:\n{log}");

    // `serve gateway` never generates one: in development it waits for
    // ATMR_ADMIN_PASSWORD, and nothing about a password reaches the log.
    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    let gw = gateway(&db, &[]).await;
    gw.stop().await.unwrap();
    let log = captured.text();
    assert!(!log.contains(&password), "{log}");
    assert!(!log.lines().any(|l| l.contains("password=")), "a password field reached the log:\n{log}");
    assert!(log.contains("no admin account yet"), "{log}");
}

#[tokio::test]
async fn production_without_the_first_admins_password_does_not_start() {
    let production = [("ATMR_ENV", "production")];
    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    let mut env = testing::env_for(Component::Gateway, &db.url);
    env.set("ATMR_ENV", "production");
    env.set("ATMR_ADMIN_PASSWORD", "");

    // `atmr up` and `atmr serve gateway` alike.
    let cfg = atmr_gateway::Config::from_env(&env).unwrap();
    let err = atmr::first_admin(&cfg).await.expect_err("no admin and no password in production");
    let line = format!("{err:#}");
    assert!(line.contains("ATMR_ADMIN_PASSWORD") && !line.contains('\n'), "one line naming the variable: {line}");
    let svc = testing::spawn_unready(move |listeners, life| async move { atmr::serve(Component::Gateway, &env, listeners, life).await })
        .await
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(60), svc.task).await.expect("start-up stops").unwrap().unwrap_err();
    let line = format!("{err:#}");
    assert!(line.contains("ATMR_ADMIN_PASSWORD") && line.contains("production") && !line.contains('\n'), "{line}");

    // Once an admin exists, production starts without the variable.
    let cfg = atmr_gateway::Config::from_env(&{
        let mut env = testing::env_for(Component::Gateway, &db.url);
        env.set("ATMR_ADMIN_PASSWORD", "a-long-first-password");
        env
    })
    .unwrap();
    assert!(atmr::first_admin(&cfg).await.unwrap().is_some());
    let gw = gateway(&db, &production).await;
    gw.stop().await.unwrap();
}
