//! The ETA model's drift check, as the source's scheduled flow with retries,
//! but measuring instead of drawing a random number: the current model's mean
//! absolute error and bias on the company's recent completed trips. Above the
//! company's threshold it retrains on those trips and stores the new version
//! together with a notice giving the figures (one transaction), and records the
//! run; every run is kept with its state (completed, retried, failed) and figures.
//!
//! After a retrain the current model is the new one, so the next check measures
//! the new model: one drift, one alert.

use std::time::Duration;

use kit::notify::{Field, Notice, Severity};
use sea_orm::{NotSet, Set};
use tonic::Status;

use crate::{
    eta::{Factors, Trip},
    grpc::DispatchApi,
    store::entities::{drift_check, eta_model, trip_observation},
};

/// How the drift check runs (`DISPATCH_DRIFT_*`).
#[derive(Clone, Copy, Debug)]
pub struct DriftConfig {
    /// The trips measured: completed within this window ...
    pub window: chrono::Duration,
    /// ... at most this many, newest first.
    pub max_trips: u64,
    /// Fewer trips than this: measured, never retrained on.
    pub min_trips: usize,
    /// Further attempts after a failed one, and the pause before each.
    pub retries: u32,
    pub retry_delay: Duration,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self { window: chrono::Duration::hours(24), max_trips: 2_000, min_trips: 20, retries: 2, retry_delay: Duration::from_secs(5) }
    }
}

/// What one attempt found.
struct Finding {
    version: i64,
    trips: i64,
    mae: f64,
    bias: f64,
    drift: bool,
    retrained: Option<eta_model::Model>,
}

fn trips_of(rows: &[trip_observation::Model]) -> Vec<Trip<'_>> {
    rows.iter()
        .filter_map(|r| {
            r.actual_seconds.map(|actual| Trip {
                hour: r.hour.clamp(0, 23) as u32,
                zone: &r.zone,
                base: r.base_seconds as f64,
                actual: actual as f64,
            })
        })
        .collect()
}

impl DispatchApi {
    /// Runs the company's drift check now, with its retries, and records it.
    pub(crate) async fn drift_check(&self, company_id: i64) -> Result<drift_check::Model, Status> {
        let cfg = self.autonomy.drift;
        let started = self.now();
        let settings = self.store.autonomy_settings(company_id, self.autonomy.defaults, started).await?;
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            match self.drift_attempt(company_id, settings.drift_mae_threshold_minutes).await {
                Ok(found) => break Ok(found),
                Err(e) if attempts <= cfg.retries => {
                    tracing::warn!(company_id, attempt = attempts, error = %e.message(), "drift check attempt failed; retrying");
                    tokio::time::sleep(cfg.retry_delay).await;
                }
                Err(e) => break Err(e),
            }
        };
        let state = match (&outcome, attempts) {
            (Err(_), _) => "failed",
            (Ok(_), 1) => "completed",
            (Ok(_), _) => "retried",
        };
        self.metrics.drift_checks.with_label_values(&[state]).inc();
        let row = match &outcome {
            Ok(f) => {
                self.metrics.eta_mae.set(f.retrained.as_ref().map_or(f.mae, |m| m.mae_minutes));
                drift_check::ActiveModel {
                    id: NotSet,
                    company_id: Set(company_id),
                    started_at: Set(started),
                    state: Set(state.to_owned()),
                    attempts: Set(attempts as i32),
                    model_version: Set(f.version),
                    trips: Set(f.trips),
                    mae_minutes: Set(f.mae),
                    bias_minutes: Set(f.bias),
                    drift_detected: Set(f.drift),
                    retrained_version: Set(f.retrained.as_ref().map(|m| m.version)),
                    error: Set(None),
                }
            }
            Err(e) => drift_check::ActiveModel {
                id: NotSet,
                company_id: Set(company_id),
                started_at: Set(started),
                state: Set(state.to_owned()),
                attempts: Set(attempts as i32),
                model_version: Set(0),
                trips: Set(0),
                mae_minutes: Set(0.0),
                bias_minutes: Set(0.0),
                drift_detected: Set(false),
                retrained_version: Set(None),
                error: Set(Some(e.message().chars().take(1000).collect())),
            },
        };
        Ok(self.store.insert_drift_check(row).await?)
    }

    async fn drift_attempt(&self, company_id: i64, threshold: f64) -> Result<Finding, Status> {
        let cfg = self.autonomy.drift;
        let now = self.now();
        let current = self.store.eta_model(company_id).await?;
        let (version, factors) = match &current {
            Some(m) => (m.version, Factors::from_stored(m.version, &m.factors)?),
            None => (0, Factors::identity()),
        };
        let rows = self.store.completed_trips(company_id, now - cfg.window, cfg.max_trips).await?;
        let trips = trips_of(&rows);
        let Some((mae, bias)) = factors.error(&trips) else {
            return Ok(Finding { version, trips: 0, mae: 0.0, bias: 0.0, drift: false, retrained: None });
        };
        let drift = mae > threshold && trips.len() >= cfg.min_trips;
        let mut found = Finding { version, trips: trips.len() as i64, mae, bias, drift, retrained: None };
        if drift {
            let new = Factors::train(&trips);
            let (new_mae, new_bias) = new.error(&trips).unwrap_or((0.0, 0.0));
            let row = eta_model::ActiveModel {
                id: NotSet,
                company_id: Set(company_id),
                version: Set(version + 1),
                trained_at: Set(now),
                trained_on_trips: Set(trips.len() as i64),
                mae_minutes: Set(new_mae),
                bias_minutes: Set(new_bias),
                factors: Set(serde_json::to_string(&new).map_err(kit::error::internal)?),
            };
            let new = self.store.insert_retrained_model(&self.autonomy.outbox, row, |new| drift_notice(threshold, &found, new)).await?;
            found.retrained = Some(new);
        }
        Ok(found)
    }
}

/// The alert of a drift `found` by a check at `threshold`, retrained as `new`.
fn drift_notice(threshold: f64, found: &Finding, new: &eta_model::Model) -> Notice {
    let Finding { version, trips, mae, bias, .. } = found;
    let field = |name: &str, value: String| Field::new(name, value, true);
    Notice {
        event_type: "eta.drift".to_owned(),
        severity: Severity::Warning,
        title: format!("ETA model drift: {mae:.1} min mean error (threshold {threshold:.1})"),
        body: format!(
            "Over the last {trips} completed trips, model v{version} was off by {mae:.1} min on average (bias {bias:+.1} min). \
             Retrained as v{}: {:.1} min on the same trips.",
            new.version, new.mae_minutes
        ),
        fields: vec![
            field("MAE before", format!("{mae:.2} min")),
            field("Bias before", format!("{bias:+.2} min")),
            field("MAE after", format!("{:.2} min", new.mae_minutes)),
            field("Trips", trips.to_string()),
            field("Model", format!("v{version} → v{}", new.version)),
        ],
        idempotency_key: format!("eta.drift:{}:{}", new.company_id, new.version),
    }
}
