//! The baseline solver: cheapest feasible insertion. Bookings are taken in
//! order of their earliest pickup and each goes where it adds the least
//! driving, in any fitting vehicle, at any pair of positions that keeps every
//! rule; a booking that fits nowhere is reported with the reason.
//!
//! Deterministic (ties go to the lower vehicle, then the earlier position). The
//! optimizer issue replaces it with something much stronger behind the same trait.

use super::{
    problem::{Budget, Plan, Problem, Reason, Request, Route, Solver, Stop, Unassigned},
    schedule::{StopRef, earliest_starts, evaluate},
};

pub struct Insertion;

impl Solver for Insertion {
    fn name(&self) -> &'static str {
        "insertion"
    }

    fn solve(&self, p: &Problem, _budget: Budget) -> Plan {
        let mut routes: Vec<Vec<StopRef>> = vec![Vec::new(); p.vehicles.len()];
        let mut driven = vec![0_i64; p.vehicles.len()];
        let mut unassigned = Vec::new();
        let mut times = Vec::new();
        let mut kept = vec![false; p.requests.len()];
        for route in &p.keep {
            let seq: Vec<StopRef> = route.stops.iter().map(|s| (s.request, s.pickup)).collect();
            let fresh = routes.get(route.vehicle).is_some_and(Vec::is_empty);
            if fresh && let Ok(total) = evaluate(p, &p.vehicles[route.vehicle], &seq, &mut times) {
                for &(ri, _) in &seq {
                    kept[ri] = true;
                }
                routes[route.vehicle] = seq;
                driven[route.vehicle] = total;
            }
        }
        let mut order: Vec<usize> = (0..p.requests.len()).filter(|&i| !kept[i]).collect();
        order.sort_by_key(|&i| (p.requests[i].earliest, p.requests[i].id));
        let mut scratch = Scratch::default();
        for ri in order {
            let r = &p.requests[ri];
            let fitting: Vec<usize> = (0..p.vehicles.len()).filter(|&v| r.mobility.fits(p.vehicles[v].kind)).collect();
            if let Some(u) = impossible(p, ri, &fitting) {
                unassigned.push(u);
                continue;
            }
            let mut best: Option<(i64, usize, usize, usize)> = None;
            for &vi in &fitting {
                if let Some((delta, i, j)) = best_position(p, vi, &routes[vi], driven[vi], ri, &mut scratch)
                    && best.is_none_or(|b| delta < b.0)
                {
                    best = Some((delta, vi, i, j));
                }
            }
            match best {
                Some((delta, vi, i, j)) => {
                    let route = &mut routes[vi];
                    route.insert(j, (ri, false));
                    route.insert(i, (ri, true));
                    driven[vi] += delta;
                }
                None => unassigned.push(Unassigned {
                    request: ri,
                    reason: Reason::FleetFull,
                    detail: format!("feasible alone, but no fitting driver's day has room for it ({} fitting drivers)", fitting.len()),
                }),
            }
        }
        let mut plan = Plan { routes: Vec::new(), unassigned };
        for (vi, seq) in routes.into_iter().enumerate() {
            if seq.is_empty() {
                continue;
            }
            evaluate(p, &p.vehicles[vi], &seq, &mut times).expect("every insertion kept the route feasible");
            let stops = seq.iter().zip(&times).map(|(&(request, pickup), &time)| Stop { request, pickup, time }).collect();
            plan.routes.push(Route { vehicle: vi, stops });
        }
        plan.unassigned.sort_by_key(|u| p.requests[u.request].id);
        plan
    }
}

/// Reusable buffers of `best_position`.
#[derive(Default)]
struct Scratch {
    starts: Vec<i64>,
    times: Vec<i64>,
    candidate: Vec<StopRef>,
}

/// The cheapest feasible positions `(added seconds, i, j)` to put request `ri`'s
/// pickup before stop `i` and its drop-off before stop `j` of `route` (a route
/// of vehicle `vi` that drives `driven` seconds now), if any.
fn best_position(p: &Problem, vi: usize, route: &[StopRef], driven: i64, ri: usize, s: &mut Scratch) -> Option<(i64, usize, usize)> {
    let v = &p.vehicles[vi];
    let r = &p.requests[ri];
    // Service starts of the current route (earliest schedule): a pickup placed
    // after a stop that starts past the window cannot be on time, nor a drop-off
    // placed after one that starts past the appointment.
    earliest_starts(p, v, route, &mut s.starts);
    let mut best: Option<(i64, usize, usize)> = None;
    for i in 0..=route.len() {
        if i > 0 && s.starts[i - 1] > r.latest {
            break;
        }
        for j in i..=route.len() {
            if j > i && r.deadline.is_some_and(|d| s.starts[j - 1] > d) {
                break;
            }
            s.candidate.clear();
            s.candidate.extend_from_slice(&route[..i]);
            s.candidate.push((ri, true));
            s.candidate.extend_from_slice(&route[i..j]);
            s.candidate.push((ri, false));
            s.candidate.extend_from_slice(&route[j..]);
            if let Ok(total) = evaluate(p, v, &s.candidate, &mut s.times)
                && best.is_none_or(|b| total - driven < b.0)
            {
                best = Some((total - driven, i, j));
            }
        }
    }
    best
}

/// `route` of vehicle `vi` with request `ri` inserted where it adds the least
/// driving, with its new times; None if it fits nowhere (ReassignBooking).
pub fn insert_into(p: &Problem, vi: usize, route: &[Stop], ri: usize) -> Option<Route> {
    let mut seq: Vec<StopRef> = route.iter().map(|s| (s.request, s.pickup)).collect();
    let mut s = Scratch::default();
    let driven = evaluate(p, &p.vehicles[vi], &seq, &mut s.times).ok()?;
    let (_, i, j) = best_position(p, vi, &seq, driven, ri, &mut s)?;
    seq.insert(j, (ri, false));
    seq.insert(i, (ri, true));
    evaluate(p, &p.vehicles[vi], &seq, &mut s.times).ok()?;
    let stops = seq.iter().zip(&s.times).map(|(&(request, pickup), &time)| Stop { request, pickup, time }).collect();
    Some(Route { vehicle: vi, stops })
}

/// Why `ri` cannot be served by any of `fitting` even with nothing else to do, if so.
pub(crate) fn impossible(p: &Problem, ri: usize, fitting: &[usize]) -> Option<Unassigned> {
    let r: &Request = &p.requests[ri];
    let unassigned = |reason, detail: String| Some(Unassigned { request: ri, reason, detail });
    if fitting.is_empty() {
        return unassigned(Reason::NoVehicleOfKind, format!("no plannable vehicle can carry a {} patient", r.mobility));
    }
    if !fitting.iter().any(|&v| r.load.fits_in(p.vehicles[v].capacity)) {
        return unassigned(Reason::Capacity, format!("needs {:?}; no fitting vehicle has that many places", r.load));
    }
    let solo = [(ri, true), (ri, false)];
    let mut times = Vec::new();
    let mut reasons: Vec<Reason> = Vec::new();
    for &v in fitting {
        match evaluate(p, &p.vehicles[v], &solo, &mut times) {
            Ok(_) => return None,
            Err(reason) => reasons.push(reason),
        }
    }
    reasons.sort();
    // The reason most fitting vehicles give.
    let mut best = (reasons[0], 0);
    let mut k = 0;
    while k < reasons.len() {
        let run = reasons[k..].iter().take_while(|&&x| x == reasons[k]).count();
        if run > best.1 {
            best = (reasons[k], run);
        }
        k += run;
    }
    let detail = match best.0 {
        Reason::TimeWindow => "the pickup window or the appointment cannot be met even by an empty vehicle".to_owned(),
        Reason::RideTime => format!("no schedule keeps the ride under {} min", r.max_ride / 60),
        Reason::Shift => "the trip does not fit in any fitting driver's shift".to_owned(),
        Reason::Capacity => format!("needs {:?}; too many places", r.load),
        other => other.as_str().to_owned(),
    };
    unassigned(best.0, detail)
}
