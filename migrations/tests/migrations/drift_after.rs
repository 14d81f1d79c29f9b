//! Dispatch's m0012: a drift check that retrained before the figures after
//! retraining were kept takes them from its model's row; one that did not
//! retrain has none.

use atmr_migrations::{Operation, run};
use kit::testing::{TestDb, backends};
use sea_orm::{ConnectionTrait as _, Statement};

#[tokio::test]
async fn checks_that_retrained_before_m0012_take_their_models_figures() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        run("dispatch", Operation::Up, &db).await.unwrap();
        let down = run("dispatch", Operation::Down(1), &db).await.unwrap();
        assert_eq!(down.iter().filter(|m| !m.applied).map(|m| m.name.as_str()).collect::<Vec<_>>(), ["m0012_drift_after_retraining"]);
        for sql in [
            "INSERT INTO eta_model (company_id, version, trained_at, trained_on_trips, mae_minutes, bias_minutes, factors) \
             VALUES (4, 1, '2026-12-01T05:00:00+00:00', 30, 0.4, -0.1, '{}')",
            "INSERT INTO drift_check (company_id, started_at, state, attempts, model_version, trips, mae_minutes, bias_minutes, \
             drift_detected, retrained_version, error) VALUES (4, '2026-12-01T05:00:00+00:00', 'completed', 1, 0, 30, 6.0, -6.0, true, 1, NULL)",
            "INSERT INTO drift_check (company_id, started_at, state, attempts, model_version, trips, mae_minutes, bias_minutes, \
             drift_detected, retrained_version, error) VALUES (4, '2026-12-01T06:00:00+00:00', 'completed', 1, 1, 30, 0.4, -0.1, false, NULL, NULL)",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }
        run("dispatch", Operation::Up, &db).await.unwrap();
        let rows = db
            .query_all(Statement::from_string(
                db.get_database_backend(),
                "SELECT mae_after_minutes, bias_after_minutes FROM drift_check ORDER BY id",
            ))
            .await
            .unwrap();
        let figures: Vec<(Option<f64>, Option<f64>)> =
            rows.iter().map(|r| (r.try_get("", "mae_after_minutes").unwrap(), r.try_get("", "bias_after_minutes").unwrap())).collect();
        assert_eq!(figures, [(Some(0.4), Some(-0.1)), (None, None)], "{backend:?}");
    }
}
