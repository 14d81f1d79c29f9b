//! The solver interface: a dial-a-ride problem (paired pickups and drop-offs
//! with time windows, appointment deadlines, loads in three dimensions, vehicle
//! kinds, shifts, a maximum ride time per patient) in, a plan out.
//!
//! Times are seconds since the Unix epoch; places are indexes into the travel
//! matrix. `insertion` is the baseline solver; `check` is the independent
//! feasibility checker every plan goes through before it is written.

pub mod check;
pub mod day;
pub mod insertion;
pub mod instances;
pub mod model;
pub mod optimizer;
mod problem;
mod schedule;
pub mod sisr;
pub mod timing;

pub use problem::*;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

    use super::*;
    use crate::{
        domain::{Load, Mobility, VehicleKind, geo::Point},
        routing::Haversine,
    };

    const DAY: i64 = 1_800_000_000 - 1_800_000_000 % 86_400;

    fn vehicle(id: i64, kind: VehicleKind, depot: usize) -> Vehicle {
        Vehicle { id, kind, capacity: Load::of_vehicle(kind, 4, 2), start: DAY + 6 * 3600, end: DAY + 20 * 3600, depot }
    }

    /// `n` random trips around Geneva over a day, `k` mixed vehicles at one depot.
    fn instance(seed: u64, n: usize, k: usize) -> Problem {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut points = vec![Point { lat: 46.2, lon: 6.14 }];
        let h = Haversine::default();
        let mut requests = Vec::new();
        for i in 0..n {
            let mut p = || Point { lat: 46.15 + rng.random::<f64>() * 0.15, lon: 6.0 + rng.random::<f64>() * 0.3 };
            let (a, b) = (p(), p());
            points.extend([a, b]);
            let earliest = DAY + 7 * 3600 + rng.random_range(0..10 * 3600);
            let mobility = [Mobility::Ambulatory, Mobility::Ambulatory, Mobility::Wheelchair][rng.random_range(0..3)];
            let direct = h.secs(a, b);
            requests.push(Request {
                id: 100 + i as i64,
                pickup: 1 + 2 * i,
                dropoff: 2 + 2 * i,
                earliest,
                latest: earliest + 20 * 60,
                deadline: rng.random_bool(0.5).then_some(earliest + 20 * 60 + direct + 30 * 60),
                load: Load::of_trip(mobility, rng.random_range(1..=2)),
                mobility,
                service: 180,
                max_ride: direct * 3 / 2 + 15 * 60,
            });
        }
        let kinds = [VehicleKind::Car, VehicleKind::WheelchairVan];
        let vehicles = (0..k).map(|v| vehicle(v as i64 + 1, kinds[v % 2], 0)).collect();
        Problem { vehicles, requests, travel: h.matrix(&points), keep: Vec::new() }
    }

    fn budget() -> Budget {
        Budget { time: Duration::from_secs(1), seed: 7 }
    }

    type Solve = Box<dyn Fn(&Problem) -> Plan>;

    /// The baseline and the optimizer (deterministic: an iteration budget).
    fn solvers() -> Vec<(&'static str, Solve)> {
        vec![
            ("insertion", Box::new(|p: &Problem| insertion::Insertion.solve(p, budget()))),
            ("sisr", Box::new(|p: &Problem| optimizer::solve_iterations(p, optimizer::Goal::Distance, 300, 7))),
        ]
    }

    #[test]
    fn the_optimizer_serves_at_least_as_many_and_drives_less() {
        for seed in 0..4 {
            let p = instance(seed, 60, 5);
            let base = insertion::Insertion.solve(&p, budget());
            let best = optimizer::solve_iterations(&p, optimizer::Goal::Distance, 400, seed);
            assert_eq!(check::violations(&p, &best), vec![], "seed {seed}");
            let served = |plan: &Plan| plan.routes.iter().map(|r| r.stops.len() / 2).sum::<usize>();
            assert!(served(&best) >= served(&base), "seed {seed}: {} < {}", served(&best), served(&base));
            if served(&best) == served(&base) {
                assert!(best.totals(&p).0 <= base.totals(&p).0, "seed {seed}");
            }
            assert_eq!(best, optimizer::solve_iterations(&p, optimizer::Goal::Distance, 400, seed), "deterministic");
        }
    }

    #[test]
    fn insertion_plans_pass_the_checker() {
        for seed in 0..5 {
            let p = instance(seed, 60, 6);
            let plan = insertion::Insertion.solve(&p, budget());
            assert_eq!(check::violations(&p, &plan), vec![], "seed {seed}");
            let served: usize = plan.routes.iter().map(|r| r.stops.len() / 2).sum();
            assert!(served >= 45, "seed {seed}: only {served} of 60 served");
            assert_eq!(served + plan.unassigned.len(), 60);
            assert_eq!(plan, insertion::Insertion.solve(&p, budget()), "deterministic");
        }
    }

    #[test]
    fn every_goal_serves_first_and_vehicles_uses_no_more_drivers() {
        let p = instance(1, 60, 8);
        let plan = |goal| optimizer::solve_iterations(&p, goal, 600, 3);
        let (distance, duration, vehicles) =
            (plan(optimizer::Goal::Distance), plan(optimizer::Goal::Duration), plan(optimizer::Goal::Vehicles));
        for q in [&distance, &duration, &vehicles] {
            assert_eq!(check::violations(&p, q), vec![]);
        }
        let served = |plan: &Plan| plan.routes.iter().map(|r| r.stops.len()).sum::<usize>();
        assert_eq!((served(&duration), served(&vehicles)), (served(&distance), served(&distance)), "serving comes first");
        assert!(vehicles.routes.len() <= distance.routes.len());
    }

    #[test]
    fn kept_routes_are_kept_and_extended() {
        for (name, solve) in solvers() {
            let p = instance(4, 30, 4);
            let first = solve(&Problem { requests: p.requests[..20].to_vec(), ..p.clone() });
            let q = Problem { keep: first.routes.clone(), ..p };
            let plan = solve(&q);
            assert!(check::violations(&q, &plan).is_empty(), "{name}");
            for kept in &first.routes {
                let now = plan.routes.iter().find(|r| r.vehicle == kept.vehicle).unwrap();
                for s in &kept.stops {
                    assert!(
                        now.stops.iter().any(|x| x.request == s.request && x.pickup == s.pickup),
                        "{name}: kept stop {s:?} still planned"
                    );
                }
            }
        }
    }

    #[test]
    fn unassigned_bookings_say_why() {
        let mut p = instance(1, 3, 1); // one car
        p.requests[0].mobility = Mobility::Wheelchair;
        p.requests[0].load = Load::of_trip(Mobility::Wheelchair, 1);
        p.requests[1].load = Load::of_trip(Mobility::Ambulatory, 9);
        p.requests[1].mobility = Mobility::Ambulatory;
        p.requests[2].mobility = Mobility::Ambulatory;
        p.requests[2].load = Load::of_trip(Mobility::Ambulatory, 1);
        p.requests[2].deadline = Some(p.requests[2].earliest + 60);
        p.vehicles[0].kind = VehicleKind::Car;
        for (name, solve) in solvers() {
            let plan = solve(&p);
            let reasons: Vec<_> = plan.unassigned.iter().map(|u| u.reason).collect();
            assert_eq!(reasons, [Reason::NoVehicleOfKind, Reason::Capacity, Reason::TimeWindow], "{name}");
            assert!(check::violations(&p, &plan).is_empty(), "{name}");
        }
    }

    #[test]
    fn waiting_happens_before_the_pickup_not_on_board() {
        // One trip whose pickup window opens long after the shift starts: the
        // vehicle waits at the depot side, not with the patient aboard; and a
        // second patient with a late window is not picked up early to wait aboard.
        let mut p = instance(3, 2, 1);
        p.vehicles[0].kind = VehicleKind::WheelchairVan;
        for (_, solve) in solvers() {
            let plan = solve(&p);
            assert!(check::violations(&p, &plan).is_empty());
            for route in &plan.routes {
                for s in route.stops.iter().filter(|s| !s.pickup) {
                    let r = &p.requests[s.request];
                    let pick = route.stops.iter().find(|x| x.pickup && x.request == s.request).unwrap();
                    assert!(s.time - (pick.time + r.service) <= r.max_ride);
                }
            }
        }
    }

    #[test]
    fn the_checker_catches_broken_plans() {
        let p = instance(2, 10, 2);
        let plan = insertion::Insertion.solve(&p, budget());
        assert!(check::violations(&p, &plan).is_empty());
        let route = plan.routes.iter().position(|r| !r.stops.is_empty()).unwrap();

        let mut early = plan.clone();
        early.routes[route].stops[0].time -= 3 * 3600;
        assert!(!check::violations(&p, &early).is_empty(), "a pickup before its window or before the van can be there");

        let mut missing = plan.clone();
        let dropped = missing.routes[route].stops.remove(1);
        let v = check::violations(&p, &missing);
        assert!(
            v.iter().any(|x| x.message.contains("never dropped off") || x.message.contains("only one")),
            "{v:?} after removing {dropped:?}"
        );

        let mut twice = plan.clone();
        twice.unassigned.push(Unassigned {
            request: plan.routes[route].stops[0].request,
            reason: Reason::FleetFull,
            detail: String::new(),
        });
        assert!(check::violations(&p, &twice).iter().any(|x| x.message.contains("more than once")));

        let mut wrong_kind = plan.clone();
        let wheelchair = p.requests.iter().position(|r| r.mobility == Mobility::Wheelchair).unwrap();
        let car = p.vehicles.iter().position(|v| v.kind == VehicleKind::Car).unwrap();
        wrong_kind.routes.retain(|r| r.stops.iter().all(|s| s.request != wheelchair));
        wrong_kind.unassigned.retain(|u| u.request != wheelchair);
        let t = p.requests[wheelchair].earliest;
        let stops = vec![Stop { request: wheelchair, pickup: true, time: t }, Stop { request: wheelchair, pickup: false, time: t + 7200 }];
        match wrong_kind.routes.iter_mut().find(|r| r.vehicle == car) {
            Some(r) => r.stops.extend(stops),
            None => wrong_kind.routes.push(Route { vehicle: car, stops }),
        }
        assert!(check::violations(&p, &wrong_kind).iter().any(|x| x.message.contains("cannot ride in a car")));
    }
}
