//! The feasibility checker: validates a plan against its problem from the plan's
//! own times, sharing no code with the solvers. Every plan a run writes passes
//! it; `ReassignBooking` reports what it finds.

use std::collections::HashMap;

use super::problem::{Plan, Problem};
use crate::domain::Load;

/// One broken rule, in words a dispatcher can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule, as a stable code a client words itself (`outside_window`).
    pub rule: &'static str,
    /// The driver id of the route, if the rule is about one.
    pub driver: Option<i64>,
    /// The booking id, if the rule is about one.
    pub booking: Option<i64>,
    pub message: String,
}

/// Every rule `plan` breaks; empty when it is feasible.
pub fn violations(p: &Problem, plan: &Plan) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut bad = |rule: &'static str, driver: Option<i64>, booking: Option<i64>, message: String| {
        out.push(Violation { rule, driver, booking, message });
    };
    // Each request once: in one route (pickup then drop-off) or unassigned.
    let mut seen: HashMap<usize, u32> = HashMap::new();
    for u in &plan.unassigned {
        *seen.entry(u.request).or_default() += 2;
    }
    let mut used = vec![false; p.vehicles.len()];
    for route in &plan.routes {
        let Some(v) = p.vehicles.get(route.vehicle) else {
            bad("unknown_route", None, None, format!("route of unknown vehicle index {}", route.vehicle));
            continue;
        };
        let driver = Some(v.id);
        if std::mem::replace(&mut used[route.vehicle], true) {
            bad("two_routes", driver, None, "the driver has two routes".to_owned());
        }
        let mut aboard: HashMap<usize, i64> = HashMap::new();
        let mut load = Load::default();
        let (mut free_at, mut at) = (v.start, v.depot);
        for stop in &route.stops {
            let Some(r) = p.requests.get(stop.request) else {
                bad("unknown_stop", driver, None, format!("stop of unknown request index {}", stop.request));
                continue;
            };
            let booking = Some(r.id);
            let node = if stop.pickup { r.pickup } else { r.dropoff };
            let reachable = free_at + p.travel.secs(at, node);
            if stop.time < reachable {
                bad("unreachable", driver, booking, format!("planned at {} but cannot be there before {}", stop.time, reachable));
            }
            if stop.pickup {
                *seen.entry(stop.request).or_default() += 1;
                if !r.mobility.fits(v.kind) {
                    bad("wrong_vehicle", driver, booking, format!("a {} patient cannot ride in a {}", r.mobility, v.kind));
                }
                if stop.time < r.earliest || stop.time > r.latest {
                    bad(
                        "outside_window",
                        driver,
                        booking,
                        format!("pickup at {} is outside its window [{}, {}]", stop.time, r.earliest, r.latest),
                    );
                }
                if aboard.insert(stop.request, stop.time + r.service).is_some() {
                    bad("picked_up_twice", driver, booking, "picked up twice".to_owned());
                }
                load = load + r.load;
                if !load.fits_in(v.capacity) {
                    bad("over_capacity", driver, booking, format!("load {load:?} exceeds the vehicle's {:?}", v.capacity));
                }
            } else {
                *seen.entry(stop.request).or_default() += 1;
                match aboard.remove(&stop.request) {
                    None => bad("not_picked_up", driver, booking, "dropped off without being picked up first".to_owned()),
                    Some(boarded) => {
                        if stop.time - boarded > r.max_ride {
                            bad(
                                "ride_too_long",
                                driver,
                                booking,
                                format!("{} min on board, more than the {} min allowed", (stop.time - boarded) / 60, r.max_ride / 60),
                            );
                        }
                        load = load - r.load;
                    }
                }
                if let Some(deadline) = r.deadline.filter(|&d| stop.time > d) {
                    bad("after_appointment", driver, booking, format!("drop-off at {} is after the appointment at {deadline}", stop.time));
                }
            }
            free_at = stop.time + r.service;
            at = node;
        }
        for request in aboard.keys() {
            bad("never_dropped_off", driver, Some(p.requests[*request].id), "picked up but never dropped off".to_owned());
        }
        let back = free_at + p.travel.secs(at, v.depot);
        if !route.stops.is_empty() && back > v.end {
            bad("after_shift", driver, None, format!("back at the depot at {back}, after the shift ends at {}", v.end));
        }
    }
    for (i, r) in p.requests.iter().enumerate() {
        match seen.get(&i).copied().unwrap_or(0) {
            2 => {}
            0 => bad("not_planned", None, Some(r.id), "neither planned nor reported unassigned".to_owned()),
            1 => bad("half_planned", None, Some(r.id), "only one of its two stops is planned".to_owned()),
            _ => bad("planned_twice", None, Some(r.id), "planned or reported more than once".to_owned()),
        }
    }
    out
}
