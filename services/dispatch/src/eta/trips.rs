//! The trips the ETA model learns from: as a booking is picked up, its trip is
//! recorded with the model's prediction and version (from the same routing
//! estimate the manager's forecasts correct), and a pickup later than the
//! company tolerates is counted; as it completes, the time it actually took.
//! Read back, the completed ones are the model's `Trip`s.

use std::sync::Arc;

use chrono::{DateTime, Timelike as _, Utc};
use kit::clock::SharedClock;

use super::model::{self, Factors, Trip};
use crate::{
    domain::{BookingStatus, geo::Point},
    run::Planner,
    store::{
        Store, StoreError,
        autonomy::SettingsDefaults,
        entities::{booking, trip_observation},
    },
};

/// Records trips as bookings move along.
#[derive(Clone)]
pub(crate) struct Trips {
    pub store: Store,
    /// Its router gives the routing estimate.
    pub planner: Arc<Planner>,
    pub clock: SharedClock,
    pub defaults: SettingsDefaults,
    /// `dispatch_late_pickups_total`.
    pub late: prometheus::IntCounter,
}

impl Trips {
    /// Records a trip's pickup (with the ETA model's prediction and version) or
    /// its completion (the actual time); the model learns from these. A failure
    /// here is logged, never the status change's failure.
    pub async fn observe(&self, company_id: i64, b: &booking::Model, to: BookingStatus, at: DateTime<Utc>) {
        let result = match to {
            BookingStatus::PickedUp => self.record_pickup(company_id, b, at).await,
            BookingStatus::Completed => self.store.record_completion(b.id, at).await.map(|_| ()),
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(booking_id = b.id, error = %e, "trip not recorded for the ETA model");
        }
    }

    async fn record_pickup(&self, company_id: i64, b: &booking::Model, at: DateTime<Utc>) -> Result<(), StoreError> {
        let from = Point { lat: b.pickup_lat, lon: b.pickup_lon };
        let to = Point { lat: b.dropoff_lat, lon: b.dropoff_lon };
        // The routing estimate the manager corrects: the same router as its forecasts.
        let base = self.planner.router.matrix(&[from, to]).await.0.secs(0, 1);
        let hour = at.with_timezone(&self.store.time_zone(company_id).await?).hour();
        let zone = model::zone(b.pickup_lat, b.pickup_lon);
        let (version, factors) = match self.store.eta_model(company_id).await? {
            // A corrupt model is logged (from_stored); the pickup is still
            // recorded, predicted by the routing estimate as version 0.
            Some(m) => Factors::from_stored(m.version, &m.factors).map_or_else(|_| (0, Factors::identity()), |f| (m.version, f)),
            None => (0, Factors::identity()),
        };
        let predicted = factors.predict(base as f64, hour, &zone).round() as i64;
        // The drift check's schedule starts with the company's first trip.
        let settings = self.store.autonomy_settings(company_id, self.defaults, self.clock.now()).await?;
        if is_late(b.pickup_latest.unwrap_or(b.scheduled_time), at, settings.lateness_threshold_minutes) {
            self.late.inc();
        }
        self.store
            .record_pickup(trip_observation::ActiveModel {
                id: sea_orm::NotSet,
                company_id: sea_orm::Set(company_id),
                booking_id: sea_orm::Set(b.id),
                model_version: sea_orm::Set(version),
                hour: sea_orm::Set(hour as i32),
                zone: sea_orm::Set(zone),
                base_seconds: sea_orm::Set(base),
                predicted_seconds: sea_orm::Set(predicted),
                actual_seconds: sea_orm::Set(None),
                picked_up_at: sea_orm::Set(at),
                completed_at: sea_orm::Set(None),
            })
            .await
    }
}

/// The completed trips among `rows`, as the model sees them.
pub(crate) fn of(rows: &[trip_observation::Model]) -> Vec<Trip<'_>> {
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

/// Late as the autonomous manager's forecasts measure it: picked up after
/// `due` (the end of the pickup window; the scheduled time when there is none)
/// by more than the company's threshold.
fn is_late(due: DateTime<Utc>, picked_up: DateTime<Utc>, threshold_minutes: i32) -> bool {
    picked_up - due > chrono::Duration::minutes(i64::from(threshold_minutes))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_pickup_is_late_past_its_window_and_the_threshold() {
        let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2026, 12, 5, h, m, 0).unwrap();
        assert!(!is_late(at(9, 15), at(9, 20), 5), "within the threshold after the window");
        assert!(is_late(at(9, 15), at(9, 21), 5));
        assert!(!is_late(at(9, 15), at(9, 0), 0), "early is never late");
    }
}
