//! `grpc.health.v1` and the admin probes follow the component's real state.

use kit::{
    Component,
    testing::{self, TestBackend, TestDb},
};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::spawn_one;

#[tokio::test]
async fn health_is_serving_then_not_serving_on_shutdown() {
    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    // A pre-stop delay keeps the server up while it reports NOT_SERVING.
    let svc = spawn_one(Component::Safety, &db, &[("ATMR_PRE_STOP_DELAY_MS", "1000"), ("ATMR_DRAIN_DEADLINE_MS", "1000")]).await;
    let channel = tonic::transport::Endpoint::from_shared(svc.url()).unwrap().connect().await.unwrap();
    let mut client = HealthClient::new(channel);
    for service in ["", "atmr.safety.v1.SafetyService"] {
        let res = client.check(HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(res.status(), ServingStatus::Serving, "{service:?}");
    }
    let mut watch = client.watch(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner();
    assert_eq!(watch.message().await.unwrap().unwrap().status(), ServingStatus::Serving);

    svc.life.shutdown();
    assert_eq!(watch.message().await.unwrap().unwrap().status(), ServingStatus::NotServing);
    let ready = reqwest::get(format!("{}/health/ready", svc.admin_url())).await.unwrap();
    assert_eq!(ready.status(), 503, "readiness drops as soon as draining starts");
    let live = reqwest::get(format!("{}/health/live", svc.admin_url())).await.unwrap();
    assert_eq!(live.status(), 200, "liveness does not");
    drop(watch);
    svc.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn readiness_is_false_while_the_database_is_unreachable() {
    testing::init_logging();
    // Nothing listens on port 1: the database never answers.
    let mut env = testing::env_for(Component::Bugs, "postgres://postgres@127.0.0.1:1/none");
    env.set("ATMR_MIGRATE", "true");
    let svc = testing::spawn_unready(move |listeners, life| async move { atmr::serve(Component::Bugs, &env, listeners, life).await })
        .await
        .unwrap();
    let ready = reqwest::get(format!("{}/health/ready", svc.admin_url())).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["dependencies"][0]["name"], "database");
    assert_eq!(body["dependencies"][0]["ok"], false);
    assert_eq!(reqwest::get(format!("{}/health/startup", svc.admin_url())).await.unwrap().status(), 503);
    assert_eq!(reqwest::get(format!("{}/health/live", svc.admin_url())).await.unwrap().status(), 200);
    assert!(!svc.life.is_ready());
    svc.life.shutdown();
    let err = svc.task.await.unwrap().unwrap_err();
    assert!(format!("{err:#}").contains("stopped before the database answered"), "{err:#}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
async fn readiness_drops_when_the_database_goes_away() {
    let db = TestDb::new(TestBackend::Postgres).await.unwrap();
    let svc = spawn_one(Component::Notify, &db, &[]).await;
    assert_eq!(reqwest::get(format!("{}/health/ready", svc.admin_url())).await.unwrap().status(), 200);
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let admin = sea_orm::Database::connect(testing::postgres_url()).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
    let ready = reqwest::get(format!("{}/health/ready", svc.admin_url())).await.unwrap();
    assert_eq!(ready.status(), 503);
    svc.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_count_calls_by_method_and_code() {
    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    let svc = spawn_one(Component::Safety, &db, &[]).await;
    let mut client = atmr_proto::safety::v1::safety_service_client::SafetyServiceClient::connect(svc.url()).await.unwrap();
    let _ = client.get_limits(atmr_proto::safety::v1::GetLimitsRequest {}).await;
    let text = reqwest::get(format!("{}/metrics", svc.admin_url())).await.unwrap().text().await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("grpc_server_requests_total")
            && l.contains("/atmr.safety.v1.SafetyService/GetLimits")
            && l.contains("code=\"Unauthenticated\"")),
        "{text}"
    );
    svc.stop().await.unwrap();
}
