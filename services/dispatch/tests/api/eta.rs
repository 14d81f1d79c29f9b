//! The drift check: one that retrains keeps the new model's error and bias
//! beside the old one's, the run list filters by state, and the checks are
//! summed by local day. A corrupt stored ETA model is our defect, not the
//! caller's: the drift check that meets it fails with the generic `internal
//! error (ref …)` and the parser's text stays in the log.

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

/// 30 trips completed an hour before the service's clock (2026-12-01 06:00
/// UTC), each taking 1.6 times the routing estimate of 10 minutes.
async fn slow_trips(db: &sea_orm::DatabaseConnection) {
    for i in 0..30 {
        db.execute_unprepared(&format!(
            "INSERT INTO trip_observation (company_id, booking_id, model_version, hour, zone, base_seconds, predicted_seconds, \
             actual_seconds, picked_up_at, completed_at) VALUES (1, {}, 0, 5, '924:123', 600, 600, 960, \
             '2026-12-01T04:00:00+00:00', '2026-12-01T05:00:00+00:00')",
            1000 + i
        ))
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_retraining_check_keeps_the_error_before_and_after_and_the_days_sum_the_checks() {
    for backend in kit::testing::backends() {
        let t = start_with(backend, &[("DISPATCH_AUTONOMY_TICK_MS", "0")]).await;
        let db = kit::db::connect(&t.db.url).await.unwrap();
        slow_trips(&db).await;
        // A failed check eleven days ago (Zurich time 2026-11-20 13:00), recorded as the schedule would.
        db.execute_unprepared(
            "INSERT INTO drift_check (company_id, started_at, state, attempts, model_version, trips, mae_minutes, bias_minutes, \
             drift_detected, retrained_version, error) VALUES (1, '2026-11-20T12:00:00+00:00', 'failed', 3, 0, 0, 0, 0, false, NULL, 'x')",
        )
        .await
        .unwrap();
        let mut autonomy = AutonomyServiceClient::connect(t.svc.url()).await.unwrap();
        let admin = |msg| kit::grpc::request(msg, &t.svc.token(1, Role::Admin));

        let first = autonomy.run_drift_check(admin(pb::RunDriftCheckRequest {})).await.unwrap().into_inner().check.unwrap();
        assert_eq!((first.trips, first.retrained_version, first.state()), (30, Some(1), pb::DriftCheckState::Completed), "{backend:?}");
        assert!((first.mae_minutes - 6.0).abs() < 1e-9 && (first.bias_minutes + 6.0).abs() < 1e-9, "{first:?}");
        let (after, bias_after) = (first.mae_after_minutes.expect("a retrain's error after"), first.bias_after_minutes.expect("and bias"));
        assert!(after < 0.01 && bias_after.abs() < 0.01, "the new model fits the slow trips: {first:?}");
        let second = autonomy.run_drift_check(admin(pb::RunDriftCheckRequest {})).await.unwrap().into_inner().check.unwrap();
        assert_eq!((second.retrained_version, second.mae_after_minutes, second.bias_after_minutes), (None, None, None), "{second:?}");

        // The list by state, newest first; the figures after retraining read back.
        let list = |states: Vec<pb::DriftCheckState>| pb::ListDriftChecksRequest {
            page: None,
            states: states.into_iter().map(|s| s as i32).collect(),
        };
        let completed = autonomy.list_drift_checks(t.req(1, list(vec![pb::DriftCheckState::Completed]))).await.unwrap().into_inner();
        assert_eq!(completed.checks.iter().map(|c| c.id).collect::<Vec<_>>(), [second.id, first.id], "{backend:?}");
        assert_eq!(completed.checks[1].mae_after_minutes, first.mae_after_minutes);
        let failed = autonomy.list_drift_checks(t.req(1, list(vec![pb::DriftCheckState::Failed]))).await.unwrap().into_inner();
        assert_eq!((failed.checks.len(), failed.checks[0].attempts), (1, 3));
        let all = autonomy.list_drift_checks(t.req(1, list(vec![]))).await.unwrap().into_inner();
        assert_eq!(all.page.unwrap().total, 3);
        let bad = pb::ListDriftChecksRequest { page: None, states: vec![99] };
        assert_eq!(kit::error::field_of(&autonomy.list_drift_checks(t.req(1, bad)).await.unwrap_err()), Some("states[0]"));

        // A month of days in Zurich, oldest first, empty days included.
        let summary = |days| t.req(1, pb::SummarizeDriftChecksRequest { days });
        let month = autonomy.summarize_drift_checks(summary(0)).await.unwrap().into_inner();
        assert_eq!((month.days.len(), month.time_zone.as_str()), (30, "Europe/Zurich"), "{backend:?}");
        assert_eq!((month.days[0].date.as_str(), month.days[29].date.as_str()), ("2026-11-02", "2026-12-01"));
        let today = &month.days[29];
        assert_eq!((today.checks, today.measured, today.retrained, today.failed), (2, 2, 1, 0), "{backend:?}: {today:?}");
        let mean = today.mean_mae_minutes.unwrap();
        assert!((mean - (6.0 + second.mae_minutes) / 2.0).abs() < 1e-9, "{today:?}");
        assert_eq!(today.max_mae_minutes, Some(first.mae_minutes));
        assert_eq!(today.mean_mae_after_minutes, first.mae_after_minutes);
        let failed_day = month.days.iter().find(|d| d.date == "2026-11-20").unwrap();
        assert_eq!((failed_day.checks, failed_day.failed, failed_day.measured, failed_day.mean_mae_minutes), (1, 1, 0, None));
        assert_eq!(month.days.iter().map(|d| d.checks).sum::<i64>(), 3);
        let week = autonomy.summarize_drift_checks(summary(7)).await.unwrap().into_inner();
        assert_eq!((week.days.len(), week.days.iter().map(|d| d.checks).sum::<i64>()), (7, 2), "the failed check is older than a week");
        let refused = autonomy.summarize_drift_checks(summary(91)).await.unwrap_err();
        assert_eq!(kit::error::field_of(&refused), Some("days"));
        db.close().await.unwrap();
        t.svc.stop().await.unwrap();
    }
}

#[tokio::test]
async fn autonomy_settings_only_checked_are_answered_and_not_saved() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let mut autonomy = AutonomyServiceClient::connect(t.svc.url()).await.unwrap();
    let admin = |msg| kit::grpc::request(msg, &t.svc.token(1, Role::Admin));
    let before = autonomy.get_autonomy_settings(t.req(1, pb::GetAutonomySettingsRequest {})).await.unwrap().into_inner().settings.unwrap();
    let changed = pb::AutonomySettings { drift_mae_threshold_minutes: 7.5, mode: pb::AutonomyMode::Suggest as i32, ..before };
    let bad = pb::AutonomySettings { drift_check_interval_seconds: 2, ..changed };
    let refused = autonomy
        .update_autonomy_settings(admin(pb::UpdateAutonomySettingsRequest { settings: Some(bad), validate_only: true }))
        .await
        .unwrap_err();
    assert_eq!(kit::error::field_of(&refused), Some("settings.drift_check_interval_seconds"));
    let checked = autonomy
        .update_autonomy_settings(admin(pb::UpdateAutonomySettingsRequest { settings: Some(changed), validate_only: true }))
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    assert_eq!(checked, changed, "answered as it would be");
    let stored = autonomy.get_autonomy_settings(t.req(1, pb::GetAutonomySettingsRequest {})).await.unwrap().into_inner().settings.unwrap();
    assert_eq!(stored, before, "and not saved");
    autonomy
        .update_autonomy_settings(admin(pb::UpdateAutonomySettingsRequest { settings: Some(changed), validate_only: false }))
        .await
        .unwrap();
    let stored = autonomy.get_autonomy_settings(t.req(1, pb::GetAutonomySettingsRequest {})).await.unwrap().into_inner().settings.unwrap();
    assert_eq!(stored, changed);
}
