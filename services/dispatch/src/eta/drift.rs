//! The ETA model's drift check, as the source's scheduled flow with retries,
//! but measuring instead of drawing a random number: the current model's mean
//! absolute error and bias on the company's recent completed trips. Above the
//! company's threshold it retrains on those trips and stores the new version
//! together with a notice giving the figures (one transaction), and records the
//! run; every run is kept with its state (completed, retried, failed) and
//! figures, a retrain's with the new model's error and bias on the same trips.
//!
//! After a retrain the current model is the new one, so the next check measures
//! the new model: one drift, one alert.

use std::time::Duration;

use kit::{clock::SharedClock, error::Internal, outbox::Outbox};
use sea_orm::{NotSet, Set};
use tonic::Status;

use super::{model::Factors, trips};
use crate::{
    error::Error,
    metrics::DispatchMetrics,
    peers::notify::{self, DriftFound},
    store::{
        Store,
        autonomy::SettingsDefaults,
        entities::{drift_check, eta_model},
    },
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

/// The drift check with what it needs.
#[derive(Clone)]
pub(crate) struct Drift {
    pub store: Store,
    pub clock: SharedClock,
    pub metrics: DispatchMetrics,
    /// Where the drift alert is committed with the new model.
    pub outbox: Outbox,
    pub defaults: SettingsDefaults,
    pub cfg: DriftConfig,
}

impl Drift {
    /// Runs the company's drift check now, with its retries, and records it.
    pub(crate) async fn check(&self, company_id: i64) -> Result<drift_check::Model, Error> {
        let cfg = self.cfg;
        let started = self.clock.now();
        let settings = self.store.autonomy_settings(company_id, self.defaults, started).await?;
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            // A failed attempt is kept as the status a client would get (`api/status.rs`).
            match self.attempt(company_id, settings.drift_mae_threshold_minutes).await.map_err(Status::from) {
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
                    // The new model's figures are measured on the same trips as the old one's.
                    mae_after_minutes: Set(f.retrained.as_ref().map(|m| m.mae_minutes)),
                    bias_after_minutes: Set(f.retrained.as_ref().map(|m| m.bias_minutes)),
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
                mae_after_minutes: Set(None),
                bias_after_minutes: Set(None),
            },
        };
        Ok(self.store.insert_drift_check(row).await?)
    }

    async fn attempt(&self, company_id: i64, threshold: f64) -> Result<Finding, Error> {
        let cfg = self.cfg;
        let now = self.clock.now();
        let current = self.store.eta_model(company_id).await?;
        let (version, factors) = match &current {
            Some(m) => (m.version, Factors::from_stored(m.version, &m.factors)?),
            None => (0, Factors::identity()),
        };
        let rows = self.store.completed_trips(company_id, now - cfg.window, cfg.max_trips).await?;
        let trips = trips::of(&rows);
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
                factors: Set(serde_json::to_string(&new).map_err(Internal::log)?),
            };
            let figures = DriftFound { version, trips: found.trips, mae, bias };
            let new = self.store.insert_retrained_model(&self.outbox, row, |new| notify::drift(threshold, &figures, new)).await?;
            found.retrained = Some(new);
        }
        Ok(found)
    }
}
