//! Moving bookings onto drivers' days: `ReassignBooking` (one booking, which
//! `force` may put where it breaks rules) and the autonomous manager's
//! reassignments and swaps (two bookings exchanged between two drivers: both
//! or neither).
//!
//! Each target driver's day is read, the moving bookings inserted at their
//! best feasible places (the planned rest re-timed), the result checked by
//! the independent checker and written, all in one transaction that holds
//! those days (`Store::lock_days`): a second move into the same day waits and
//! then plans on what the first wrote, so two moves that each fit alone never
//! both land when they do not fit together. Travel times are asked of the
//! router before the lock, over the places the days had when read without
//! it; under the lock they are reused when they cover the places the days
//! have now. Only a day that keeps changing under contention makes the last
//! attempt ask the router while holding the lock.

use std::{collections::HashMap, sync::Arc};

use chrono::NaiveDate;
use kit::clock::SharedClock;

use crate::{
    board::Board,
    domain::{
        AssignmentStatus, BookingStatus, DriverStatus, Mobility, UnknownValue, VehicleKind,
        geo::Point,
        plan::{Forced, Move},
    },
    error::Error,
    planning::{self, Frame},
    routing::{Matrix, Router},
    run::Planner,
    solver::{Plan, Problem, Route, Stop, Unassigned, check, insertion},
    store::entities::{assignment, booking},
    store::{
        Store, StoreError,
        day::{Days, NewDays},
    },
};

/// Attempts at finding travel times that cover a day read under the lock; the
/// last one asks the router under the lock.
const ATTEMPTS: usize = 3;

/// What a move wrote.
#[derive(Clone, Debug)]
pub(crate) struct Moved {
    pub created: Vec<assignment::Model>,
    /// The checker's findings on a forced reassignment (empty otherwise).
    pub violations: Vec<check::Violation>,
}

/// Why a move did not happen, and what is known of the database.
#[derive(Debug)]
pub(crate) enum MoveError {
    /// Nothing was written.
    NotDone(Error),
    /// The commit's answer was lost and reading back did not tell whether it
    /// landed.
    Unknown(Error),
}

impl From<Error> for MoveError {
    fn from(e: Error) -> Self {
        MoveError::NotDone(e)
    }
}

impl From<StoreError> for MoveError {
    fn from(e: StoreError) -> Self {
        MoveError::NotDone(e.into())
    }
}

/// Moves bookings between drivers' days, with what that needs.
#[derive(Clone)]
pub(crate) struct Reassign {
    pub store: Store,
    /// Its router and ride limit plan the new days.
    pub planner: Arc<Planner>,
    pub clock: SharedClock,
    /// Where the changed assignments are published.
    pub board: Board,
}

impl Reassign {
    /// Puts each booking of `moves` into its driver's day, all or none. When
    /// `forced` (a single move only), a booking that fits nowhere goes where
    /// its pickup time puts it, the checker's violations are returned, and the
    /// reason and its author are kept on the moved booking's assignment.
    pub(crate) async fn move_bookings(&self, company_id: i64, moves: &[Move], forced: Option<&Forced>) -> Result<Moved, MoveError> {
        let force = forced.is_some();
        debug_assert!(!force || moves.len() == 1, "only a single reassignment is forced");
        let tz = self.store.time_zone(company_id).await?;
        let seen = self.store.days(company_id, moves).await?;
        ready(&seen, moves)?;
        let mut travel = Travel::of(&self.planner.router, places(&seen)).await;
        for attempt in 1..=ATTEMPTS {
            let (lock, days) = self.store.lock_days(company_id, moves).await?;
            ready(&days, moves)?;
            let wanted = places(&days);
            let matrix = match travel.over(&wanted) {
                Some(m) => m,
                None if attempt < ATTEMPTS => {
                    // The days changed since they were read: route the new places without holding them.
                    lock.release().await?;
                    travel = Travel::of(&self.planner.router, wanted).await;
                    continue;
                }
                None => {
                    travel = Travel::of(&self.planner.router, wanted.clone()).await;
                    travel.over(&wanted).expect("a matrix covers its own places")
                }
            };
            let now = self.clock.now();
            let day = NaiveDate::parse_from_str(&days.moving[0].service_day, "%Y-%m-%d").expect("ready() read the day");
            let frame = Frame { limit: self.planner.ride, tz, day, not_before: now };
            let planned = plan(frame, &days, moves, matrix, force)?;
            let replaced: Vec<i64> = days
                .live
                .iter()
                .filter(|a| a.status == AssignmentStatus::Planned.as_str() && planned.rows.iter().any(|r| r.booking_id == a.booking_id))
                .map(|a| a.id)
                .collect();
            let (created, superseded) =
                lock.write(company_id, NewDays { moves, rows: &planned.rows, replaced: &replaced, forced }, now).await?;
            let ids: Vec<i64> = created.iter().map(|a| a.id).collect();
            if let Err(e) = lock.commit().await {
                // The commit may have landed before its answer was lost: read back.
                match self.store.assignments_exist(&ids).await {
                    Ok(true) => tracing::warn!(error = %e, "a move's commit answered an error but landed"),
                    Ok(false) => return Err(MoveError::NotDone(Error::Db(e))),
                    Err(_) => return Err(MoveError::Unknown(Error::Db(e))),
                }
            }
            for m in moves {
                tracing::info!(
                    booking_id = m.booking_id,
                    driver_id = m.driver_id,
                    forced = !planned.violations.is_empty(),
                    "booking reassigned"
                );
            }
            let service_day = days.moving[0].service_day.clone();
            self.board.publish(company_id, &service_day, "superseded", superseded);
            self.board.publish(company_id, &service_day, "created", created.clone());
            return Ok(Moved { created, violations: planned.violations });
        }
        unreachable!("the last attempt routes under the lock")
    }
}

/// Whether the bookings of `moves` may move and their drivers take them.
/// Every row the move plans from must hold known values: a day with a row
/// that does not is refused (the error logged), never planned around it.
fn ready(days: &Days, moves: &[Move]) -> Result<(), Error> {
    for d in &days.drivers {
        VehicleKind::stored("driver", "vehicle_kind", d.id, &d.vehicle_kind)?;
    }
    for b in days.on_route.iter().chain(&days.moving) {
        Mobility::stored("booking", "mobility", b.id, &b.mobility)?;
        NaiveDate::parse_from_str(&b.service_day, "%Y-%m-%d")
            .map_err(|_| UnknownValue::new("booking", "service_day", b.id, &b.service_day))?;
    }
    for a in &days.live {
        AssignmentStatus::stored("assignment", "status", a.id, &a.status)?;
    }
    for b in &days.moving {
        let status = BookingStatus::stored("booking", "status", b.id, &b.status)?;
        if !status.not_started() {
            return Err(Error::FailedPrecondition(format!(
                "booking {} is {status}; only pending or assigned bookings can be reassigned",
                b.id
            )));
        }
        if b.pickup_earliest.is_none() || b.pickup_latest.is_none() {
            return Err(Error::FailedPrecondition(format!("booking {} is a will-call return without a pickup window yet", b.id)));
        }
    }
    for m in moves {
        let d = days.drivers.iter().find(|d| d.id == m.driver_id).expect("the store read every target driver");
        if !DriverStatus::stored("driver", "status", d.id, &d.status)?.plannable() {
            return Err(Error::FailedPrecondition(format!(
                "driver {} is {}; only available or on-duty drivers take bookings",
                d.id, d.status
            )));
        }
    }
    Ok(())
}

/// The bookings of a move's problem: those on the target drivers' days and
/// the moving ones, once each, in id order.
fn bookings_of(days: &Days) -> Vec<booking::Model> {
    let on_targets: Vec<i64> =
        days.live.iter().filter(|a| days.drivers.iter().any(|d| d.id == a.driver_id)).map(|a| a.booking_id).collect();
    let mut rows: Vec<booking::Model> = days.on_route.iter().filter(|b| on_targets.contains(&b.id)).cloned().collect();
    rows.extend(days.moving.iter().cloned());
    rows.sort_by_key(|b| b.id);
    rows.dedup_by_key(|b| b.id);
    rows
}

fn places(days: &Days) -> Vec<Point> {
    planning::points(&days.drivers, &bookings_of(days))
}

/// A move's new routes and what they write.
struct Planned {
    rows: Vec<crate::domain::plan::NewAssignment>,
    violations: Vec<check::Violation>,
}

/// Inserts each moving booking into its driver's day (without the moving
/// bookings), then checks the new routes with the independent checker.
fn plan(frame: Frame, days: &Days, moves: &[Move], travel: Matrix, force: bool) -> Result<Planned, Error> {
    let mut problem = planning::problem(frame, &days.drivers, &bookings_of(days), travel);
    let request_of = |id: i64| problem.requests.iter().position(|q| q.id == id).expect("the booking is in the problem");
    let moving: Vec<usize> = moves.iter().map(|m| request_of(m.booking_id)).collect();
    let mut routes: Vec<Route> = (0..problem.vehicles.len()).map(|vehicle| Route { vehicle, stops: Vec::new() }).collect();
    for r in planning::routes_of(&problem, &days.live) {
        let vehicle = r.vehicle;
        routes[vehicle].stops = r.stops.into_iter().filter(|s| !moving.contains(&s.request)).collect();
    }
    for (m, &ri) in moves.iter().zip(&moving) {
        let vi = problem.vehicles.iter().position(|v| v.id == m.driver_id).expect("the driver is in the problem");
        if let Some(route) = insertion::insert_into(&problem, vi, &routes[vi].stops, ri) {
            routes[vi] = route;
            continue;
        }
        // No feasible place: the booking goes where its pickup time puts it.
        routes[vi] = at_its_time(&problem, &routes[vi], ri);
        if !force {
            let found = findings(&mut problem, &routes);
            let which = if moves.len() == 1 { "pass force to assign anyway" } else { "nothing was moved" };
            return Err(Error::Unfit {
                message: format!("booking {} does not fit driver {}'s day: {}; {which}", m.booking_id, m.driver_id, words(&found)),
                rules: rules(&found),
            });
        }
    }
    // Every day written passes the checker, which shares no code with the insertion.
    let violations = findings(&mut problem, &routes);
    if !violations.is_empty() {
        if !force {
            return Err(Error::Unfit {
                message: format!("the new day breaks a rule: {}; nothing was moved", words(&violations)),
                rules: rules(&violations),
            });
        }
        tracing::warn!(
            booking_id = moves[0].booking_id,
            driver_id = moves[0].driver_id,
            violations = violations.len(),
            "forced reassignment despite violations"
        );
    }
    let started: Vec<i64> = days.live.iter().filter(|a| a.status != AssignmentStatus::Planned.as_str()).map(|a| a.booking_id).collect();
    let rows = planning::assignments_of(&problem, &routes).into_iter().filter(|a| !started.contains(&a.booking_id)).collect();
    Ok(Planned { rows, violations })
}

/// `route` with request `ri` at its earliest pickup and its drop-off right after.
fn at_its_time(problem: &Problem, route: &Route, ri: usize) -> Route {
    let mut stops = route.stops.clone();
    let q = &problem.requests[ri];
    let at = stops.iter().position(|s| s.time > q.earliest).unwrap_or(stops.len());
    stops.insert(at, Stop { request: ri, pickup: true, time: q.earliest });
    let drop_time = q.earliest + q.service + problem.travel.secs(q.pickup, q.dropoff);
    stops.insert(at + 1, Stop { request: ri, pickup: false, time: drop_time });
    Route { vehicle: route.vehicle, stops }
}

/// The checker's findings in its words, as a refusal says them.
fn words(found: &[check::Violation]) -> String {
    found.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join("; ")
}

/// The rules broken, each once, in the order first found.
fn rules(found: &[check::Violation]) -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = Vec::new();
    for v in found {
        if !rules.contains(&v.rule) {
            rules.push(v.rule);
        }
    }
    rules
}

/// What the checker finds in `routes`, the requests on none of them counted unassigned.
fn findings(problem: &mut Problem, routes: &[Route]) -> Vec<check::Violation> {
    problem.keep = Vec::new();
    let plan = Plan {
        routes: routes.iter().filter(|r| !r.stops.is_empty()).cloned().collect(),
        unassigned: (0..problem.requests.len())
            .filter(|i| !routes.iter().any(|r| r.stops.iter().any(|s| s.request == *i)))
            .map(|request| Unassigned { request, reason: crate::solver::Reason::FleetFull, detail: String::new() })
            .collect(),
    };
    check::violations(problem, &plan)
}

/// Travel times over some places.
struct Travel {
    places: Vec<Point>,
    matrix: Matrix,
}

impl Travel {
    async fn of(router: &Router, places: Vec<Point>) -> Self {
        let (matrix, _) = router.matrix(&places).await;
        Self { places, matrix }
    }

    /// The matrix over `wanted`, if each of them is one of these places.
    fn over(&self, wanted: &[Point]) -> Option<Matrix> {
        let key = |p: &Point| (p.lat.to_bits(), p.lon.to_bits());
        let index: HashMap<(u64, u64), usize> = self.places.iter().enumerate().map(|(i, p)| (key(p), i)).collect();
        let indexes: Option<Vec<usize>> = wanted.iter().map(|p| index.get(&key(p)).copied()).collect();
        indexes.map(|i| self.matrix.select(&i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::Haversine;

    #[test]
    fn travel_times_are_reused_only_for_places_they_cover() {
        let p = |lat: f64| Point { lat, lon: 6.1 };
        let haversine = Haversine::default();
        let known = Travel { places: vec![p(46.1), p(46.2), p(46.3)], matrix: haversine.matrix(&[p(46.1), p(46.2), p(46.3)]) };
        let sub = known.over(&[p(46.3), p(46.1), p(46.3)]).expect("covered");
        assert_eq!(sub, haversine.matrix(&[p(46.3), p(46.1), p(46.3)]), "the same times as routing the subset");
        assert!(known.over(&[p(46.1), p(46.25)]).is_none(), "a new place needs the router");
        assert!(known.over(&[]).is_some_and(|m| m.is_empty()));
    }
}
