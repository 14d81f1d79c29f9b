//! The dispatch day through the optimizer: bookings and drivers become the
//! compact `Model` (pickup window, appointment as the drop-off's deadline,
//! seats / wheelchair / stretcher places, vehicle kinds, shifts, maximum ride
//! time), `sisr` searches within the run's time budget, and the best plan
//! comes back with its schedule and a reason for every booking left out.
//!
//! Kept routes (a "pending only" run) stay on their drivers: their bookings are
//! pinned, and new ones may be inserted around them. A kept route that is no
//! longer feasible is re-planned like the rest.

use super::{
    insertion,
    model::{Job, Kind, Model, Node, Objective, Vehicle},
    problem::{Budget, Plan, Problem, Reason, Route, Solver, Stop, Unassigned},
    sisr::{self, Limits, Solution},
};
use crate::domain::Load;

/// What a dispatch day is optimised for, after serving as many bookings as possible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Goal {
    /// Kilometres driven.
    #[default]
    Distance,
    /// Time driven.
    Duration,
    /// Drivers used, then kilometres.
    Vehicles,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Optimizer {
    pub goal: Goal,
}

impl Solver for Optimizer {
    fn name(&self) -> &'static str {
        "sisr"
    }

    fn solve(&self, p: &Problem, budget: Budget) -> Plan {
        let (m, initial) = model_of(p, self.goal);
        let limits = Limits { time: budget.time, iterations: None, patience: Some(patience(&m)), seed: budget.seed };
        let (solution, stats) = sisr::solve(&m, Some(initial), limits);
        tracing::debug!(
            jobs = m.jobs.len(),
            construction_ms = stats.construction.as_millis() as u64,
            iterations = stats.iterations,
            improvement = stats.construction_cost - stats.best_cost,
            "optimizer done"
        );
        plan_of(p, &m, &solution)
    }
}

/// The same, stopping after `iterations` (deterministic, for tests and benchmarks).
pub fn solve_iterations(p: &Problem, goal: Goal, iterations: u64, seed: u64) -> Plan {
    let limits = Limits { time: std::time::Duration::from_secs(3600), iterations: Some(iterations), patience: None, seed };
    solve_with(p, goal, limits).0
}

/// The same under explicit limits (benchmarks: the whole budget, no early stop).
pub fn solve_with(p: &Problem, goal: Goal, limits: Limits) -> (Plan, sisr::Stats) {
    let (m, initial) = model_of(p, goal);
    let (solution, stats) = sisr::solve(&m, Some(initial), limits);
    (plan_of(p, &m, &solution), stats)
}

/// Iterations without improvement after which a run stops before its budget.
fn patience(m: &Model) -> u64 {
    (20 * m.jobs.len() as u64).max(2_000)
}

fn amount(l: Load) -> [i32; 3] {
    [l.seats, l.wheelchairs, l.stretchers]
}

/// The model of `p` and the kept routes that are still feasible, as a start.
pub(crate) fn model_of(p: &Problem, goal: Goal) -> (Model, Solution) {
    let n = p.travel.len();
    let mut time = vec![0; n * n];
    let mut cost = vec![0; n * n];
    for a in 0..n {
        for b in 0..n {
            // The matrix holds 32-bit seconds and metres already.
            time[a * n + b] = p.travel.secs(a, b) as i32;
            cost[a * n + b] = (if goal == Goal::Duration { p.travel.secs(a, b) } else { p.travel.metres(a, b) }) as i32;
        }
    }
    let never = p.vehicles.iter().map(|v| v.end).max().unwrap_or(0) + 86_400;
    let mut nodes = Vec::with_capacity(2 * p.requests.len());
    let mut jobs = Vec::with_capacity(p.requests.len());
    for (j, r) in p.requests.iter().enumerate() {
        let load = amount(r.load);
        nodes.push(Node { loc: r.pickup, early: r.earliest, late: r.latest, service: r.service, load, job: j, kind: Kind::Pickup });
        nodes.push(Node {
            loc: r.dropoff,
            early: r.earliest,
            late: r.deadline.unwrap_or(never),
            service: r.service,
            load: load.map(|x| -x),
            job: j,
            kind: Kind::Delivery,
        });
        let vehicles = p.vehicles.iter().map(|v| r.mobility.fits(v.kind) && r.load.fits_in(v.capacity)).collect();
        jobs.push(Job { nodes: vec![2 * j, 2 * j + 1], max_ride: Some(r.max_ride), vehicles: Some(vehicles), pinned: None });
    }
    let vehicles = p
        .vehicles
        .iter()
        .map(|v| Vehicle { start: v.depot, end: v.depot, early: v.start, late: v.end, capacity: amount(v.capacity), max_duration: None })
        .collect();
    let objective = if goal == Goal::Vehicles { Objective::Vehicles } else { Objective::Distance };
    let mut m = Model { nodes, jobs, vehicles, time, cost, locations: n, objective };
    m.tighten_windows();
    let mut initial = Solution { routes: vec![Vec::new(); p.vehicles.len()], unassigned: Vec::new() };
    for kept in &p.keep {
        let nodes: Vec<usize> = kept.stops.iter().map(|s| 2 * s.request + usize::from(!s.pickup)).collect();
        let fresh = initial.routes.get(kept.vehicle).is_some_and(Vec::is_empty);
        if fresh && m.schedule(kept.vehicle, &nodes).is_some() {
            for s in &kept.stops {
                m.jobs[s.request].pinned = Some(kept.vehicle);
            }
            initial.routes[kept.vehicle] = nodes;
        }
    }
    (m, initial)
}

fn plan_of(p: &Problem, m: &Model, solution: &Solution) -> Plan {
    let mut plan = Plan::default();
    for (vehicle, nodes) in solution.routes.iter().enumerate() {
        if nodes.is_empty() {
            continue;
        }
        let schedule = m.schedule(vehicle, nodes).expect("the optimizer keeps every route feasible");
        let stops = nodes
            .iter()
            .zip(&schedule.starts)
            .map(|(&n, &time)| Stop { request: m.nodes[n].job, pickup: m.nodes[n].kind == Kind::Pickup, time })
            .collect();
        plan.routes.push(Route { vehicle, stops });
    }
    for &j in &solution.unassigned {
        let fitting: Vec<usize> = (0..p.vehicles.len()).filter(|&v| p.requests[j].mobility.fits(p.vehicles[v].kind)).collect();
        plan.unassigned.push(insertion::impossible(p, j, &fitting).unwrap_or_else(|| Unassigned {
            request: j,
            reason: Reason::FleetFull,
            detail: format!("feasible alone, but no fitting driver's day has room for it ({} fitting drivers)", fitting.len()),
        }));
    }
    plan.unassigned.sort_by_key(|u| p.requests[u.request].id);
    plan
}
