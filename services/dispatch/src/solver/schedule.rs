//! Route evaluation for the solvers: is a sequence of stops feasible for a
//! vehicle, and when does each service start.
//!
//! The forward pass gives the earliest times; then every stop is pushed as late
//! as the next one allows, so that waiting happens before a pickup (with nobody
//! aboard who did not have to be) rather than with a patient on board — the idea
//! of Cordeau & Laporte's schedule evaluation. If that schedule breaks a ride
//! time, the earliest schedule is tried too.

use super::problem::{Problem, Reason, Vehicle};

/// A stop to evaluate: a request index and whether it is its pickup.
pub(crate) type StopRef = (usize, bool);

/// Fills `times` with the service start of each stop and returns the driven
/// seconds depot to depot; or the first rule the sequence breaks.
pub(crate) fn evaluate(p: &Problem, v: &Vehicle, seq: &[StopRef], times: &mut Vec<i64>) -> Result<i64, Reason> {
    times.clear();
    let mut t = v.start;
    let mut at = v.depot;
    let mut load = crate::domain::Load::default();
    let mut travel = 0;
    for &(ri, pickup) in seq {
        let r = &p.requests[ri];
        let node = if pickup { r.pickup } else { r.dropoff };
        let leg = p.travel.secs(at, node);
        travel += leg;
        let arrive = t + leg;
        let start = if pickup {
            let start = arrive.max(r.earliest);
            if start > r.latest {
                return Err(Reason::TimeWindow);
            }
            load = load + r.load;
            if !load.fits_in(v.capacity) {
                return Err(Reason::Capacity);
            }
            start
        } else {
            if r.deadline.is_some_and(|d| arrive > d) {
                return Err(Reason::TimeWindow);
            }
            load = load - r.load;
            arrive
        };
        times.push(start);
        t = start + r.service;
        at = node;
    }
    let back = p.travel.secs(at, v.depot);
    travel += back;
    if t + back > v.end {
        return Err(Reason::Shift);
    }
    if seq.is_empty() {
        return Ok(0);
    }
    let earliest = times.clone();
    // Push late: each stop as late as its own window and the next stop allow.
    for k in (0..seq.len() - 1).rev() {
        let (ri, pickup) = seq[k];
        let r = &p.requests[ri];
        let node = if pickup { r.pickup } else { r.dropoff };
        let (nri, npickup) = seq[k + 1];
        let next = &p.requests[nri];
        let next_node = if npickup { next.pickup } else { next.dropoff };
        let bound = if pickup { r.latest } else { r.deadline.unwrap_or(i64::MAX) };
        times[k] = bound.min(times[k + 1] - r.service - p.travel.secs(node, next_node));
    }
    if rides_fit(p, seq, times) {
        return Ok(travel);
    }
    times.copy_from_slice(&earliest);
    if rides_fit(p, seq, times) { Ok(travel) } else { Err(Reason::RideTime) }
}

/// The earliest service start of each stop, rules aside: lower bounds on when
/// anything inserted after a stop can start.
pub(crate) fn earliest_starts(p: &Problem, v: &Vehicle, seq: &[StopRef], times: &mut Vec<i64>) {
    times.clear();
    let (mut t, mut at) = (v.start, v.depot);
    for &(ri, pickup) in seq {
        let r = &p.requests[ri];
        let node = if pickup { r.pickup } else { r.dropoff };
        let arrive = t + p.travel.secs(at, node);
        let start = if pickup { arrive.max(r.earliest) } else { arrive };
        times.push(start);
        t = start + r.service;
        at = node;
    }
}

fn rides_fit(p: &Problem, seq: &[StopRef], times: &[i64]) -> bool {
    seq.iter().enumerate().filter(|(_, s)| !s.1).all(|(k, &(ri, _))| {
        let r = &p.requests[ri];
        seq[..k].iter().rposition(|&(pi, pickup)| pickup && pi == ri).is_none_or(|pk| times[k] - (times[pk] + r.service) <= r.max_ride)
    })
}
