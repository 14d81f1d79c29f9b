//! From rows to a solver problem and from a plan back to assignment rows. Pure:
//! the store loads, this translates, the solver solves, the store writes.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{
    domain::{
        DriverStatus, Load, Mobility, VehicleKind,
        geo::Point,
        plan::{NewAssignment, local_minute},
    },
    routing::{Matrix, Router},
    solver::{Problem, Request, Route, Stop, Vehicle},
    store::entities::{assignment, booking, driver},
};

/// How long a patient may be on board: `direct × factor + extra`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RideLimit {
    pub factor: f64,
    pub extra: Duration,
}

impl RideLimit {
    pub fn max_ride_secs(&self, direct_secs: i64) -> i64 {
        (direct_secs as f64 * self.factor).round() as i64 + self.extra.num_seconds()
    }
}

/// The problem of planning `bookings` on `drivers` for `day`, nothing before
/// `not_before` (now: a re-plan at 10 a.m. does not schedule 8 a.m. pickups).
/// Bookings without a window (will-call returns not yet called) must not be passed.
pub async fn build(
    router: &Router,
    limit: RideLimit,
    tz: Tz,
    day: NaiveDate,
    not_before: DateTime<Utc>,
    drivers: &[driver::Model],
    bookings: &[booking::Model],
) -> (Problem, crate::routing::Source) {
    let (travel, source): (Matrix, _) = router.matrix(&points(drivers, bookings)).await;
    (problem(Frame { limit, tz, day, not_before }, drivers, bookings, travel), source)
}

/// The day a problem is planned in: its ride limit, time zone and day, and
/// the instant before which nothing is scheduled.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub limit: RideLimit,
    pub tz: Tz,
    pub day: NaiveDate,
    pub not_before: DateTime<Utc>,
}

/// The drivers a problem has a vehicle for: those whose vehicle kind is known.
fn vehicles_of(drivers: &[driver::Model]) -> impl Iterator<Item = (&driver::Model, VehicleKind)> {
    drivers.iter().filter_map(|d| VehicleKind::parse(&d.vehicle_kind).map(|k| (d, k)))
}

/// The bookings a problem has a request for: those with a window and a known mobility.
fn trips_of(bookings: &[booking::Model]) -> impl Iterator<Item = (&booking::Model, Mobility, DateTime<Utc>, DateTime<Utc>)> {
    bookings.iter().filter_map(|b| Some((b, Mobility::parse(&b.mobility)?, b.pickup_earliest?, b.pickup_latest?)))
}

/// The places of a problem over `drivers` and `bookings`, in the order of its
/// travel matrix: each driver's depot, then each booking's pickup and drop-off
/// (bookings without a window have no place).
pub fn points(drivers: &[driver::Model], bookings: &[booking::Model]) -> Vec<Point> {
    let mut points: Vec<Point> = Vec::with_capacity(drivers.len() + 2 * bookings.len());
    points.extend(vehicles_of(drivers).map(|(d, _)| Point { lat: d.depot_lat, lon: d.depot_lon }));
    for (b, ..) in trips_of(bookings) {
        points.extend([Point { lat: b.pickup_lat, lon: b.pickup_lon }, Point { lat: b.dropoff_lat, lon: b.dropoff_lon }]);
    }
    points
}

/// The problem over `drivers` and `bookings` with `travel`, a matrix over
/// [`points`] of the same rows. A row whose vehicle kind or mobility is not a
/// known value is left out, with an error logged, rather than planned as some
/// default (the store's loaders refuse such rows before a run or a
/// reassignment plans; this keeps any other caller from guessing).
pub fn problem(frame: Frame, drivers: &[driver::Model], bookings: &[booking::Model], travel: Matrix) -> Problem {
    let Frame { limit, tz, day, not_before } = frame;
    for d in drivers {
        if let Err(e) = VehicleKind::stored("driver", "vehicle_kind", d.id, &d.vehicle_kind) {
            tracing::error!(driver_id = d.id, value = %e.value, "driver left out of planning: unknown vehicle kind stored");
        }
    }
    for b in bookings {
        if let Err(e) = Mobility::stored("booking", "mobility", b.id, &b.mobility) {
            tracing::error!(booking_id = b.id, value = %e.value, "booking left out of planning: unknown mobility stored");
        }
    }
    let mut vehicles = Vec::with_capacity(drivers.len());
    for (depot, (d, kind)) in vehicles_of(drivers).enumerate() {
        vehicles.push(Vehicle {
            id: d.id,
            kind,
            capacity: Load::of_vehicle(kind, d.seats, d.wheelchair_places),
            start: local_minute(tz, day, d.shift_start_minute).max(not_before).timestamp(),
            end: local_minute(tz, day, d.shift_end_minute).timestamp(),
            depot,
        });
    }
    let mut requests = Vec::with_capacity(bookings.len());
    let mut next = vehicles.len();
    for (b, mobility, earliest, latest) in trips_of(bookings) {
        let (pickup, dropoff) = (next, next + 1);
        next += 2;
        requests.push(Request {
            id: b.id,
            pickup,
            dropoff,
            earliest: earliest.timestamp(),
            latest: latest.timestamp(),
            deadline: b.appointment_time.map(|t| t.timestamp()),
            load: Load::of_trip(mobility, b.passengers),
            mobility,
            service: i64::from(b.boarding_minutes) * 60,
            // The direct trip as the routing sees it.
            max_ride: limit.max_ride_secs(travel.secs(pickup, dropoff)),
        });
    }
    Problem { vehicles, requests, travel, keep: Vec::new() }
}

/// Drivers a run may plan. One whose stored status is not a known value is
/// not, and the error is logged.
pub fn plannable(d: &driver::Model) -> bool {
    match DriverStatus::stored("driver", "status", d.id, &d.status) {
        Ok(status) => status.plannable(),
        Err(e) => {
            tracing::error!(driver_id = d.id, value = %e.value, "driver left out of planning: unknown status stored");
            false
        }
    }
}

/// Routes rebuilt from live assignments: each driver's stops in planned-time
/// order (a pickup before a drop-off at the same instant). Assignments whose
/// booking or driver is not in the problem are left out.
pub fn routes_of(p: &Problem, live: &[assignment::Model]) -> Vec<Route> {
    let vehicle_of: HashMap<i64, usize> = p.vehicles.iter().enumerate().map(|(i, v)| (v.id, i)).collect();
    let request_of: HashMap<i64, usize> = p.requests.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut by_vehicle: HashMap<usize, Vec<Stop>> = HashMap::new();
    for a in live {
        let (Some(&v), Some(&r)) = (vehicle_of.get(&a.driver_id), request_of.get(&a.booking_id)) else { continue };
        let stops = by_vehicle.entry(v).or_default();
        stops.push(Stop { request: r, pickup: true, time: a.planned_pickup_at.timestamp() });
        stops.push(Stop { request: r, pickup: false, time: a.planned_dropoff_at.timestamp() });
    }
    let mut routes: Vec<Route> = by_vehicle
        .into_iter()
        .map(|(vehicle, mut stops)| {
            stops.sort_by_key(|s| (s.time, !s.pickup));
            Route { vehicle, stops }
        })
        .collect();
    routes.sort_by_key(|r| r.vehicle);
    routes
}

pub fn assignments_of(p: &Problem, routes: &[Route]) -> Vec<NewAssignment> {
    let mut out = Vec::new();
    for route in routes {
        let driver_id = p.vehicles[route.vehicle].id;
        for (sequence, (k, s)) in (1..).zip(route.stops.iter().enumerate().filter(|(_, s)| s.pickup)) {
            let drop = route.stops[k..].iter().find(|d| !d.pickup && d.request == s.request).expect("a checked plan drops off everyone");
            out.push(NewAssignment {
                booking_id: p.requests[s.request].id,
                driver_id,
                sequence,
                pickup_at: DateTime::from_timestamp(s.time, 0).expect("a plan's times are valid"),
                dropoff_at: DateTime::from_timestamp(drop.time, 0).expect("a plan's times are valid"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[tokio::test]
    async fn a_re_plan_schedules_nothing_before_now() {
        use crate::solver::{Budget, Reason, Solver as _, insertion::Insertion};
        let tz: Tz = "Europe/Zurich".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let t = |h: u32| tz.from_local_datetime(&day.and_hms_opt(h, 0, 0).unwrap()).unwrap().with_timezone(&Utc);
        let now = t(10);
        let driver = driver::Model {
            id: 1,
            company_id: 1,
            name: "D".into(),
            phone: String::new(),
            vehicle_kind: "car".into(),
            seats: 4,
            wheelchair_places: 0,
            shift_start_minute: 6 * 60,
            shift_end_minute: 20 * 60,
            depot_lat: 46.2,
            depot_lon: 6.14,
            status: "available".into(),
            last_lat: None,
            last_lon: None,
            last_position_at: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let booking = |id: i64, h: u32| booking::Model {
            id,
            company_id: 1,
            client_id: 1,
            pickup_address: "a".into(),
            pickup_lat: 46.19,
            pickup_lon: 6.13,
            dropoff_address: "b".into(),
            dropoff_lat: 46.2,
            dropoff_lon: 6.15,
            pickup_earliest: Some(t(h)),
            pickup_latest: Some(t(h) + Duration::minutes(20)),
            appointment_time: None,
            scheduled_time: t(h),
            service_day: day.to_string(),
            passengers: 1,
            mobility: "ambulatory".into(),
            boarding_minutes: 2,
            return_of: None,
            will_call: false,
            recurring_template_id: None,
            recurring_leg: None,
            notes: String::new(),
            status: "pending".into(),
            status_reason: String::new(),
            created_at: now,
            updated_at: now,
            anonymised_at: None,
        };
        let limit = RideLimit { factor: 1.5, extra: Duration::minutes(15) };
        let router = Router::new(crate::routing::Haversine::default());
        let (p, _) = build(&router, limit, tz, day, now, std::slice::from_ref(&driver), &[booking(1, 8), booking(2, 14)]).await;
        assert_eq!(p.vehicles[0].start, now.timestamp(), "the shift started at 6, but it is 10 now");
        let plan = Insertion.solve(&p, Budget { time: std::time::Duration::from_secs(1), seed: 1 });
        assert_eq!(plan.unassigned.len(), 1);
        assert_eq!(
            (p.requests[plan.unassigned[0].request].id, plan.unassigned[0].reason),
            (1, Reason::TimeWindow),
            "the 8 o'clock pickup is past"
        );

        // A vehicle kind or a mobility that is not a known value is left out,
        // never planned as a car or an ambulatory patient, and the places agree.
        let bus = driver::Model { id: 2, vehicle_kind: "bus".into(), ..driver.clone() };
        let hovercraft = booking::Model { mobility: "hovercraft".into(), ..booking(3, 15) };
        let (drivers, bookings) = ([bus, driver], [hovercraft, booking(2, 14)]);
        let (p, _) = build(&router, limit, tz, day, now, &drivers, &bookings).await;
        assert_eq!(p.vehicles.iter().map(|v| v.id).collect::<Vec<_>>(), [1]);
        assert_eq!(p.requests.iter().map(|r| r.id).collect::<Vec<_>>(), [2]);
        assert_eq!(points(&drivers, &bookings).len(), p.travel.len());
        assert_eq!((p.vehicles[0].depot, p.requests[0].pickup, p.requests[0].dropoff), (0, 1, 2));
        let mut odd = drivers[1].clone();
        odd.status = "asleep".into();
        assert!(!plannable(&odd) && plannable(&drivers[1]));
    }
}
