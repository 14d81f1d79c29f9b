//! The problem a solver takes and the plan it returns: vehicles, requests,
//! stops and routes, why a request stays unplanned, the budget, and the
//! `Solver` trait.

use std::time::Duration;

use crate::{
    domain::{Load, Mobility, VehicleKind},
    routing::Matrix,
};

/// One driver's vehicle for the day.
#[derive(Clone, Debug)]
pub struct Vehicle {
    /// The driver id.
    pub id: i64,
    pub kind: VehicleKind,
    pub capacity: Load,
    /// Leaves the depot no earlier than `start`, is back by `end`.
    pub start: i64,
    pub end: i64,
    /// Matrix index of the depot.
    pub depot: usize,
}

/// One booking: a pickup and a drop-off served by the same vehicle.
#[derive(Clone, Debug)]
pub struct Request {
    /// The booking id.
    pub id: i64,
    pub pickup: usize,
    pub dropoff: usize,
    /// The pickup window: service at the pickup starts within [earliest, latest].
    pub earliest: i64,
    pub latest: i64,
    /// The latest drop-off (an appointment), if any.
    pub deadline: Option<i64>,
    pub load: Load,
    pub mobility: Mobility,
    /// Boarding time at the pickup and alighting time at the drop-off, seconds.
    pub service: i64,
    /// Longest time on board: from the end of boarding to the drop-off.
    pub max_ride: i64,
}

#[derive(Clone, Debug)]
pub struct Problem {
    pub vehicles: Vec<Vehicle>,
    pub requests: Vec<Request>,
    pub travel: Matrix,
    /// Routes already planned that a solver keeps and may insert into (a
    /// "pending only" run). A kept route that is no longer feasible is re-planned.
    pub keep: Vec<Route>,
}

/// A stop of a route: the pickup or drop-off of a request, and when its service starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// Index into `Problem::requests`.
    pub request: usize,
    pub pickup: bool,
    pub time: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// Index into `Problem::vehicles`.
    pub vehicle: usize,
    pub stops: Vec<Stop>,
}

/// Why a request is not in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// No plannable vehicle of a kind that can carry the patient.
    NoVehicleOfKind,
    /// The trip needs more places than any fitting vehicle has.
    Capacity,
    /// No fitting vehicle can meet the pickup window or the appointment, even empty.
    TimeWindow,
    /// The maximum ride time cannot be met.
    RideTime,
    /// The trip does not fit any fitting driver's shift.
    Shift,
    /// Feasible alone, but every fitting vehicle's day is full around it.
    FleetFull,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoVehicleOfKind => "no_vehicle_of_kind",
            Reason::Capacity => "capacity",
            Reason::TimeWindow => "time_window",
            Reason::RideTime => "ride_time",
            Reason::Shift => "shift",
            Reason::FleetFull => "fleet_full",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unassigned {
    pub request: usize,
    pub reason: Reason,
    pub detail: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Non-empty routes only.
    pub routes: Vec<Route>,
    pub unassigned: Vec<Unassigned>,
}

impl Plan {
    /// Total driven metres and minutes on duty (depot to depot) of all routes.
    pub fn totals(&self, p: &Problem) -> (i64, i64) {
        let (mut metres, mut secs) = (0, 0);
        for r in &self.routes {
            let v = &p.vehicles[r.vehicle];
            let mut at = v.depot;
            for s in &r.stops {
                let node = p.node(s);
                metres += p.travel.metres(at, node);
                at = node;
            }
            metres += p.travel.metres(at, v.depot);
            if let (Some(first), Some(last)) = (r.stops.first(), r.stops.last()) {
                let leave = first.time - p.travel.secs(v.depot, p.node(first));
                let back = last.time + p.requests[last.request].service + p.travel.secs(p.node(last), v.depot);
                secs += back - leave;
            }
        }
        (metres, secs / 60)
    }
}

impl Problem {
    /// The matrix index of a stop.
    pub fn node(&self, s: &Stop) -> usize {
        let r = &self.requests[s.request];
        if s.pickup { r.pickup } else { r.dropoff }
    }
}

/// What a solver is asked.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub time: Duration,
    pub seed: u64,
}

/// A dial-a-ride solver. Implementations return plans that `check::violations`
/// accepts; the caller checks anyway.
pub trait Solver: Send + Sync {
    fn name(&self) -> &'static str;
    fn solve(&self, problem: &Problem, budget: Budget) -> Plan;
}
