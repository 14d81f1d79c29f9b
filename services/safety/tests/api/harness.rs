//! Starts the safety service with a manual clock and chosen limits.

use std::sync::Arc;

use atmr_proto::safety::v1::{self as pb, safety_service_client::SafetyServiceClient};
use atmr_safety::{Config, LimitDefaults};
use chrono::{DateTime, Utc};
use kit::{
    Component,
    auth::Role,
    clock::ManualClock,
    testing::{self, Spawned, TestBackend, TestDb},
};
use tonic::transport::Channel;

pub const LIMITS: LimitDefaults = LimitDefaults { per_hour: 5, per_day: 8, type_per_hour: 3, type_per_day: 6 };

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z").unwrap().with_timezone(&Utc)
}

pub struct TestService {
    pub svc: Spawned,
    pub client: SafetyServiceClient<Channel>,
    pub clock: ManualClock,
    pub db: TestDb,
    pub cfg: Config,
}

pub async fn start(backend: TestBackend, limits: LimitDefaults) -> TestService {
    start_with(backend, limits, &[]).await
}

pub async fn start_with(backend: TestBackend, limits: LimitDefaults, extra: &[(&str, &str)]) -> TestService {
    let db = TestDb::new(backend).await.unwrap();
    start_on(db, limits, extra, ManualClock::new(t0())).await
}

/// Starts an instance on an existing database (several instances may share one).
pub async fn start_on(db: TestDb, limits: LimitDefaults, extra: &[(&str, &str)], clock: ManualClock) -> TestService {
    testing::init_logging();
    let mut env = testing::env_for(Component::Safety, &db.url);
    // Nothing answers on port 1: notices wait in the outbox.
    env.set("NOTIFY_URL", "http://127.0.0.1:1");
    for (k, v) in extra {
        env.set(k, *v);
    }
    let mut cfg = Config::from_env(&env).unwrap();
    cfg.defaults = limits;
    cfg.clock = Arc::new(clock.clone());
    let run_cfg = cfg.clone();
    let svc = testing::spawn(move |listeners, life| atmr_safety::serve(run_cfg, listeners, life)).await.unwrap();
    let client = SafetyServiceClient::connect(svc.url()).await.unwrap();
    TestService { svc, client, clock, db, cfg }
}

impl TestService {
    /// A token of the dispatch service acting for `company`.
    pub fn service_token(&self, company: i64) -> String {
        self.svc.keys.call_token(kit::Component::Dispatch, kit::Component::Safety, company)
    }

    pub fn admin_token(&self, company: i64) -> String {
        self.svc.token(company, Role::Admin)
    }

    pub fn raw(action_type: &str) -> pb::AuthorizeActionRequest {
        pb::AuthorizeActionRequest {
            booking_id: Some(42),
            driver_id: Some(7),
            action_type: action_type.to_owned(),
            action_description: format!("{action_type} booking 42"),
            action_data: r#"{"from_driver": 3, "to_driver": 7}"#.to_owned(),
            confidence_score: Some(0.85),
            expected_improvement_minutes: Some(12.5),
            trigger_source: "autonomous_manager".to_owned(),
        }
    }

    pub async fn authorize(&self, company: i64, action_type: &str) -> pb::AuthorizeActionResponse {
        self.try_authorize(company, Self::raw(action_type)).await.unwrap()
    }

    pub async fn try_authorize(&self, company: i64, req: pb::AuthorizeActionRequest) -> Result<pb::AuthorizeActionResponse, tonic::Status> {
        self.client.clone().authorize_action(kit::grpc::request(req, &self.service_token(company))).await.map(|r| r.into_inner())
    }

    pub async fn complete(&self, company: i64, action_id: i64, success: bool, error: Option<&str>) -> Result<pb::Action, tonic::Status> {
        let req = pb::CompleteActionRequest {
            action_id,
            success,
            error_message: error.map(str::to_owned),
            execution_time_ms: Some(if success { 120.0 } else { 35.0 }),
        };
        self.client
            .clone()
            .complete_action(kit::grpc::request(req, &self.service_token(company)))
            .await
            .map(|r| r.into_inner().action.unwrap())
    }

    pub async fn check(&self, company: i64, action_type: &str) -> pb::CheckLimitsResponse {
        let req = pb::CheckLimitsRequest { action_type: action_type.to_owned() };
        self.client.clone().check_limits(kit::grpc::request(req, &self.admin_token(company))).await.unwrap().into_inner()
    }

    /// (used, limit) of one window in a CheckLimits answer.
    pub async fn usage(&self, company: i64, action_type: &str, scope: &str, window: pb::LimitWindow) -> (i32, i32) {
        let res = self.check(company, action_type).await;
        let u = res.usages.iter().find(|u| u.scope == scope && u.window == window as i32).unwrap();
        (u.used, u.limit)
    }

    pub async fn get(&self, company: i64, id: i64) -> Result<pb::Action, tonic::Status> {
        let req = pb::GetActionRequest { action_id: id };
        self.client.clone().get_action(kit::grpc::request(req, &self.admin_token(company))).await.map(|r| r.into_inner().action.unwrap())
    }

    pub async fn list(&self, company: i64, req: pb::ListActionsRequest) -> Result<pb::ListActionsResponse, tonic::Status> {
        self.client.clone().list_actions(kit::grpc::request(req, &self.admin_token(company))).await.map(|r| r.into_inner())
    }

    pub async fn stats(&self, company: i64, period: pb::StatsPeriod) -> pb::GetActionStatsResponse {
        let req = pb::GetActionStatsRequest { period: period as i32, ..Default::default() };
        self.client.clone().get_action_stats(kit::grpc::request(req, &self.admin_token(company))).await.unwrap().into_inner()
    }

    pub async fn verify(&self, company: i64) -> pb::VerifyAuditChainResponse {
        let req = pb::VerifyAuditChainRequest {};
        self.client.clone().verify_audit_chain(kit::grpc::request(req, &self.admin_token(company))).await.unwrap().into_inner()
    }

    pub async fn connection(&self) -> sea_orm::DatabaseConnection {
        kit::db::connect(&self.db.url).await.unwrap()
    }
}
