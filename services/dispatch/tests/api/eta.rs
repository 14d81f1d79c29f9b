//! A corrupt stored ETA model is our defect, not the caller's: the drift check
//! that meets it fails with the generic `internal error (ref …)` and the
//! parser's text stays in the log.

use atmr_proto::dispatch::v1::{self as pb, autonomy_service_client::AutonomyServiceClient};
use kit::auth::Role;
use sea_orm::ConnectionTrait as _;

use crate::harness::*;

#[tokio::test]
async fn a_corrupt_eta_model_fails_the_drift_check_with_a_generic_error() {
    for backend in kit::testing::backends() {
        // No retries: a corrupt row does not heal, and the test must not wait for one.
        let t = start_with(backend, &[("DISPATCH_DRIFT_RETRIES", "0"), ("DISPATCH_AUTONOMY_TICK_MS", "0")]).await;
        let db = kit::db::connect(&t.db.url).await.unwrap();
        // Cut off mid-document: serde would say "EOF while parsing a list at line 1 column 26".
        db.execute_unprepared(
            "INSERT INTO eta_model (company_id, version, trained_at, trained_on_trips, mae_minutes, bias_minutes, factors) \
             VALUES (1, 1, '2026-12-01T05:00:00+00:00', 30, 1.5, 0.2, '{\"global\": 1.2, \"hours\": [1.0')",
        )
        .await
        .unwrap();
        db.close().await.unwrap();

        let mut autonomy = AutonomyServiceClient::connect(t.svc.url()).await.unwrap();
        let request = kit::grpc::request(pb::RunDriftCheckRequest {}, &t.svc.token(1, Role::Admin));
        let check = autonomy.run_drift_check(request).await.unwrap().into_inner().check.unwrap();
        assert_eq!(check.state(), pb::DriftCheckState::Failed, "{backend:?}: {check:?}");
        let error = check.error.as_deref().unwrap_or_default();
        assert!(kit::error::Internal::parse(error).is_some(), "{backend:?}: the generic message with a reference only: {error:?}");
        for piece in ["EOF", "parsing", "line 1", "ETA model"] {
            assert!(!error.contains(piece), "{backend:?}: {piece:?} reached the client: {error:?}");
        }
        t.svc.stop().await.unwrap();
    }
}
