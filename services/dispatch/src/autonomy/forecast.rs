//! The day as the autonomous manager foresees it: where each driver is (a
//! recent position), the places of the day's stops and the travel times
//! between them, and when every remaining stop will be served, predicted with
//! the ETA model. Pure, like the proposals built on it (`propose.rs`).

use std::collections::HashMap;

use chrono::{DateTime, Timelike as _, Utc};

use crate::{
    domain::{BookingStatus, geo::Point},
    eta::model::{self, Factors},
    routing::{Matrix, Router},
    store::entities::{assignment, booking, driver},
};

/// A position older than this is not used to predict.
pub(super) const POSITION_MAX_AGE: chrono::Duration = chrono::Duration::minutes(30);

/// A stop still to serve on a driver's day.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stop<'a> {
    pub(super) booking: &'a booking::Model,
    pub(super) pickup: bool,
}

/// A booking's predicted pickup start (none if already aboard), drop-off, and
/// lateness in seconds (the worse of pickup window and appointment).
type Predicted = (Option<DateTime<Utc>>, DateTime<Utc>, i64);

/// The predicted service of each stop of a route, by booking id.
#[derive(Clone, Debug, Default)]
pub(super) struct Forecast {
    pub(super) bookings: HashMap<i64, Predicted>,
}

impl Forecast {
    /// Minutes late in total, counting only what exceeds the threshold.
    pub(super) fn excess(&self, threshold: i64) -> i64 {
        self.bookings.values().map(|b| (b.2 - threshold).max(0)).sum()
    }
}

/// Where the manager's forecasts go: every driver's position and every
/// booking's pickup and drop-off, with the travel matrix over them (the
/// service's router: OSRM when configured, else the haversine model).
pub(crate) struct Places {
    pub(super) matrix: Matrix,
    pub(super) index: Index,
}

/// The matrix position of each driver, pickup and drop-off.
pub(super) struct Index {
    pub(super) coords: Vec<Point>,
    pub(super) driver: HashMap<i64, usize>,
    pub(super) pickup: HashMap<i64, usize>,
    pub(super) dropoff: HashMap<i64, usize>,
}

impl Index {
    /// The places of `positions` (driver id → position) and `bookings`.
    pub(super) fn new(positions: &[(i64, Point)], bookings: &HashMap<i64, booking::Model>) -> Self {
        let mut index = Self {
            coords: Vec::with_capacity(positions.len() + 2 * bookings.len()),
            driver: HashMap::new(),
            pickup: HashMap::new(),
            dropoff: HashMap::new(),
        };
        for &(id, p) in positions {
            index.driver.insert(id, index.coords.len());
            index.coords.push(p);
        }
        let mut ids: Vec<&i64> = bookings.keys().collect();
        ids.sort_unstable();
        for id in ids {
            let b = &bookings[id];
            index.pickup.insert(b.id, index.coords.len());
            index.coords.push(Point { lat: b.pickup_lat, lon: b.pickup_lon });
            index.dropoff.insert(b.id, index.coords.len());
            index.coords.push(Point { lat: b.dropoff_lat, lon: b.dropoff_lon });
        }
        index
    }
}

impl Places {
    pub(crate) async fn routed(router: &Router, positions: &[(i64, Point)], bookings: &HashMap<i64, booking::Model>) -> Self {
        let index = Index::new(positions, bookings);
        let (matrix, _) = router.matrix(&index.coords).await;
        Self { matrix, index }
    }

    #[cfg(test)]
    pub(super) fn haversine(positions: &[(i64, Point)], bookings: &HashMap<i64, booking::Model>) -> Self {
        let index = Index::new(positions, bookings);
        Self { matrix: crate::routing::Haversine::default().matrix(&index.coords), index }
    }
}

/// The day as the manager sees it.
pub(crate) struct Day<'a> {
    pub now: DateTime<Utc>,
    pub tz: chrono_tz::Tz,
    pub factors: &'a Factors,
    pub places: &'a Places,
}

impl Day<'_> {
    pub(super) fn travel(&self, from: usize, to: usize, at: DateTime<Utc>) -> i64 {
        let base = self.places.matrix.secs(from, to) as f64;
        let hour = at.with_timezone(&self.tz).hour();
        let p = self.places.index.coords[from];
        self.factors.predict(base, hour, &model::zone(p.lat, p.lon)).round() as i64
    }

    /// Serves `stops` in order from place `start` at `now`.
    pub(super) fn forecast(&self, start: usize, stops: &[Stop<'_>]) -> Forecast {
        let mut f = Forecast::default();
        let (mut t, mut at) = (self.now, start);
        for s in stops {
            let b = s.booking;
            let place = if s.pickup { self.places.index.pickup[&b.id] } else { self.places.index.dropoff[&b.id] };
            let arrive = t + chrono::Duration::seconds(self.travel(at, place, t));
            let boarding = chrono::Duration::minutes(i64::from(b.boarding_minutes));
            if s.pickup {
                let start = b.pickup_earliest.map_or(arrive, |e| arrive.max(e));
                let late = b.pickup_latest.map_or(0, |l| (start - l).num_seconds());
                f.bookings.insert(b.id, (Some(start), start, late));
                t = start + boarding;
            } else {
                let entry = f.bookings.entry(b.id).or_insert((None, arrive, 0));
                entry.1 = arrive;
                if let Some(appointment) = b.appointment_time {
                    entry.2 = entry.2.max((arrive - appointment).num_seconds());
                }
                t = arrive + boarding;
            }
            at = place;
        }
        f
    }
}

/// The drivers with a recent position, and where.
pub(crate) fn positions(now: DateTime<Utc>, drivers: &[driver::Model]) -> Vec<(i64, Point)> {
    drivers
        .iter()
        .filter_map(|d| match (d.last_lat, d.last_lon, d.last_position_at) {
            (Some(lat), Some(lon), Some(at)) if now - at <= POSITION_MAX_AGE => Some((d.id, Point { lat, lon })),
            _ => None,
        })
        .collect()
}

/// A driver's remaining stops in planned order.
pub(super) fn stops_of<'a>(
    driver_id: i64,
    live: &[assignment::Model],
    bookings: &'a HashMap<i64, booking::Model>,
) -> Vec<(Stop<'a>, DateTime<Utc>)> {
    let mut stops = Vec::new();
    for a in live.iter().filter(|a| a.driver_id == driver_id) {
        let Some(b) = bookings.get(&a.booking_id) else { continue };
        let aboard = b.status == BookingStatus::PickedUp.as_str();
        if !aboard {
            stops.push((Stop { booking: b, pickup: true }, a.planned_pickup_at));
        }
        stops.push((Stop { booking: b, pickup: false }, a.planned_dropoff_at));
    }
    stops.sort_by_key(|(s, at)| (*at, !s.pickup, s.booking.id));
    stops
}
