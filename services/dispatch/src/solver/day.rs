//! The real-day benchmark format: a dispatch day's `Problem` (drivers with
//! their vehicles and shifts, bookings with windows, appointments, loads and
//! ride limits, the travel matrix) as one JSON file, and a plan for it, so
//! that `vrp-bench` and an outside solver (`scripts/darp-peer.py`) solve the
//! same day and the dispatch checker (`check::violations`) judges both.
//!
//! Times are seconds after `origin` (the day's local midnight as a Unix
//! time); places are indexes into the matrix, whose identical places (one
//! hospital for many trips) are merged. `compatible` lists, per request, the
//! vehicles that may carry it (kind and capacity): written for outside
//! solvers, checked against the rules when read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::problem::{Plan, Problem, Reason, Request, Route, Stop, Unassigned, Vehicle};
use crate::{
    domain::{Load, Mobility, VehicleKind},
    routing::Matrix,
};

const FORMAT: &str = "atmr-day/1";

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    name: String,
    origin: i64,
    vehicles: Vec<FileVehicle>,
    requests: Vec<FileRequest>,
    /// Seconds and metres from row to column.
    durations: Vec<Vec<i32>>,
    distances: Vec<Vec<i32>>,
}

#[derive(Serialize, Deserialize)]
struct FileVehicle {
    id: i64,
    kind: String,
    /// Seats, wheelchair places, stretchers.
    capacity: [i32; 3],
    start: i64,
    end: i64,
    depot: usize,
}

#[derive(Serialize, Deserialize)]
struct FileRequest {
    id: i64,
    pickup: usize,
    dropoff: usize,
    earliest: i64,
    latest: i64,
    deadline: Option<i64>,
    load: [i32; 3],
    mobility: String,
    service: i64,
    max_ride: i64,
    compatible: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
struct FilePlan {
    routes: Vec<FileRoute>,
    unassigned: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
struct FileRoute {
    vehicle: usize,
    stops: Vec<FileStop>,
}

#[derive(Serialize, Deserialize)]
struct FileStop {
    request: usize,
    pickup: bool,
    time: i64,
}

/// A day read from its file.
#[derive(Clone, Debug)]
pub struct Day {
    pub name: String,
    pub origin: i64,
    /// Times relative to `origin`.
    pub problem: Problem,
}

fn amount(l: Load) -> [i32; 3] {
    [l.seats, l.wheelchairs, l.stretchers]
}

fn load([seats, wheelchairs, stretchers]: [i32; 3]) -> Load {
    Load { seats, wheelchairs, stretchers }
}

fn compatible(p: &Problem, r: &Request) -> Vec<usize> {
    (0..p.vehicles.len()).filter(|&v| r.mobility.fits(p.vehicles[v].kind) && r.load.fits_in(p.vehicles[v].capacity)).collect()
}

/// The file of `p` (times in Unix seconds) with times after `origin`.
pub fn write(name: &str, origin: i64, p: &Problem) -> String {
    // Merge places whose rows and columns are the same in both tables.
    let n = p.travel.len();
    let t = &p.travel;
    let same = |a: usize, b: usize| {
        (0..n).all(|c| {
            (t.secs(a, c), t.secs(c, a), t.metres(a, c), t.metres(c, a)) == (t.secs(b, c), t.secs(c, b), t.metres(b, c), t.metres(c, b))
        })
    };
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut place = vec![0; n];
    let mut kept: Vec<usize> = Vec::new();
    for (a, slot) in place.iter_mut().enumerate() {
        let mut h = std::hash::DefaultHasher::new();
        for c in 0..n {
            std::hash::Hash::hash(&(t.secs(a, c), t.secs(c, a), t.metres(a, c), t.metres(c, a)), &mut h);
        }
        let bucket = by_hash.entry(std::hash::Hasher::finish(&h)).or_default();
        *slot = match bucket.iter().find(|&&k| same(kept[k], a)) {
            Some(&k) => k,
            None => {
                bucket.push(kept.len());
                kept.push(a);
                kept.len() - 1
            }
        };
    }
    let table = |f: &dyn Fn(usize, usize) -> i64| -> Vec<Vec<i32>> {
        kept.iter().map(|&a| kept.iter().map(|&b| f(a, b) as i32).collect()).collect()
    };
    let file = File {
        format: FORMAT.to_owned(),
        name: name.to_owned(),
        origin,
        vehicles: p
            .vehicles
            .iter()
            .map(|v| FileVehicle {
                id: v.id,
                kind: v.kind.as_str().to_owned(),
                capacity: amount(v.capacity),
                start: v.start - origin,
                end: v.end - origin,
                depot: place[v.depot],
            })
            .collect(),
        requests: p
            .requests
            .iter()
            .map(|r| FileRequest {
                id: r.id,
                pickup: place[r.pickup],
                dropoff: place[r.dropoff],
                earliest: r.earliest - origin,
                latest: r.latest - origin,
                deadline: r.deadline.map(|d| d - origin),
                load: amount(r.load),
                mobility: r.mobility.as_str().to_owned(),
                service: r.service,
                max_ride: r.max_ride,
                compatible: compatible(p, r),
            })
            .collect(),
        durations: table(&|a, b| p.travel.secs(a, b)),
        distances: table(&|a, b| p.travel.metres(a, b)),
    };
    serde_json::to_string(&file).expect("plain data serialises")
}

/// A day's file, every index and rule checked; the error names what is wrong.
pub fn read(text: &str) -> Result<Day, String> {
    let f: File = serde_json::from_str(text).map_err(|e| format!("not a day file: {e}"))?;
    if f.format != FORMAT {
        return Err(format!("format {:?}, expected {FORMAT:?}", f.format));
    }
    let n = f.durations.len();
    if f.distances.len() != n || f.durations.iter().chain(&f.distances).any(|row| row.len() != n) {
        return Err(format!("durations and distances must both be {n} × {n}"));
    }
    let place = |what: &str, i: usize| if i < n { Ok(i) } else { Err(format!("{what}: place {i} is not in the {n} × {n} matrix")) };
    let mut vehicles = Vec::with_capacity(f.vehicles.len());
    for (i, v) in f.vehicles.iter().enumerate() {
        let kind = VehicleKind::parse(&v.kind).ok_or_else(|| format!("vehicle {i}: unknown kind {:?}", v.kind))?;
        if v.end < v.start {
            return Err(format!("vehicle {i}: shift ends at {} before it starts at {}", v.end, v.start));
        }
        vehicles.push(Vehicle {
            id: v.id,
            kind,
            capacity: load(v.capacity),
            start: v.start,
            end: v.end,
            depot: place(&format!("vehicle {i}"), v.depot)?,
        });
    }
    let durations = f.durations.into_iter().flatten().collect();
    let distances = f.distances.into_iter().flatten().collect();
    let travel = Matrix::new(n, durations, distances).ok_or("matrix size")?;
    let mut problem = Problem { vehicles, requests: Vec::with_capacity(f.requests.len()), travel, keep: Vec::new() };
    for (i, r) in f.requests.iter().enumerate() {
        let what = format!("request {i} (id {})", r.id);
        let mobility = Mobility::parse(&r.mobility).ok_or_else(|| format!("{what}: unknown mobility {:?}", r.mobility))?;
        if r.latest < r.earliest || r.service < 0 || r.max_ride < 0 {
            return Err(format!(
                "{what}: window [{}, {}], service {} and ride limit {} must be ordered and not negative",
                r.earliest, r.latest, r.service, r.max_ride
            ));
        }
        let request = Request {
            id: r.id,
            pickup: place(&what, r.pickup)?,
            dropoff: place(&what, r.dropoff)?,
            earliest: r.earliest,
            latest: r.latest,
            deadline: r.deadline,
            load: load(r.load),
            mobility,
            service: r.service,
            max_ride: r.max_ride,
        };
        if compatible(&problem, &request) != r.compatible {
            return Err(format!(
                "{what}: compatible vehicles {:?}, but its kind and load fit {:?}",
                r.compatible,
                compatible(&problem, &request)
            ));
        }
        problem.requests.push(request);
    }
    Ok(Day { name: f.name, origin: f.origin, problem })
}

/// A plan's file (times relative to the day's origin, as in the day file).
pub fn write_plan(plan: &Plan) -> String {
    let file = FilePlan {
        routes: plan
            .routes
            .iter()
            .map(|r| FileRoute {
                vehicle: r.vehicle,
                stops: r.stops.iter().map(|s| FileStop { request: s.request, pickup: s.pickup, time: s.time }).collect(),
            })
            .collect(),
        unassigned: plan.unassigned.iter().map(|u| u.request).collect(),
    };
    serde_json::to_string(&file).expect("plain data serialises")
}

/// A plan from its file; what it breaks is for `check::violations` to say.
pub fn read_plan(text: &str) -> Result<Plan, String> {
    let f: FilePlan = serde_json::from_str(text).map_err(|e| format!("not a plan file: {e}"))?;
    Ok(Plan {
        routes: f
            .routes
            .into_iter()
            .map(|r| Route {
                vehicle: r.vehicle,
                stops: r.stops.into_iter().map(|s| Stop { request: s.request, pickup: s.pickup, time: s.time }).collect(),
            })
            .collect(),
        unassigned: f
            .unassigned
            .into_iter()
            .map(|request| Unassigned { request, reason: Reason::FleetFull, detail: "left out by the plan's solver".to_owned() })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::geo::Point,
        routing::Haversine,
        solver::{
            check,
            optimizer::Optimizer,
            problem::{Budget, Solver as _},
        },
    };

    const ORIGIN: i64 = 1_800_000_000 - 1_800_000_000 % 86_400;

    /// Three trips around Geneva (two to one hospital), a car and a van from one depot.
    fn problem() -> Problem {
        let hospital = Point { lat: 46.1935, lon: 6.149 };
        let points = [
            Point { lat: 46.21, lon: 6.12 },
            Point { lat: 46.22, lon: 6.10 },
            hospital,
            Point { lat: 46.18, lon: 6.16 },
            hospital,
            Point { lat: 46.20, lon: 6.13 },
            Point { lat: 46.23, lon: 6.15 },
        ];
        let travel = Haversine::default().matrix(&points);
        let trip = |id: i64, pickup: usize, minute: i64, mobility: Mobility| Request {
            id,
            pickup,
            dropoff: pickup + 1,
            earliest: ORIGIN + minute * 60,
            latest: ORIGIN + minute * 60 + 1200,
            deadline: (id == 2).then_some(ORIGIN + minute * 60 + 3600),
            load: Load::of_trip(mobility, 1),
            mobility,
            service: 180,
            max_ride: 2400,
        };
        let vehicle = |id: i64, kind: VehicleKind| Vehicle {
            id,
            kind,
            capacity: Load::of_vehicle(kind, 3, i32::from(kind == VehicleKind::WheelchairVan)),
            start: ORIGIN + 7 * 3600,
            end: ORIGIN + 18 * 3600,
            depot: 0,
        };
        Problem {
            vehicles: vec![vehicle(1, VehicleKind::Car), vehicle(2, VehicleKind::WheelchairVan)],
            requests: vec![
                trip(1, 1, 480, Mobility::Ambulatory),
                trip(2, 3, 500, Mobility::Wheelchair),
                trip(3, 5, 600, Mobility::Ambulatory),
            ],
            travel,
            keep: Vec::new(),
        }
    }

    #[test]
    fn a_day_goes_through_its_file_and_back() {
        let p = problem();
        let text = write("three", ORIGIN, &p);
        let day = read(&text).unwrap();
        assert_eq!((day.name.as_str(), day.origin), ("three", ORIGIN));
        // The two hospital drop-offs are one place: 6 places, not 7.
        assert_eq!(day.problem.travel.len(), 6);
        let q = &day.problem;
        for (a, b) in p.requests.iter().zip(&q.requests) {
            assert_eq!((a.earliest - ORIGIN, a.latest - ORIGIN, a.deadline.map(|d| d - ORIGIN)), (b.earliest, b.latest, b.deadline));
            assert_eq!((a.id, a.load, a.mobility, a.service, a.max_ride), (b.id, b.load, b.mobility, b.service, b.max_ride));
            for (x, y) in [(a.pickup, b.pickup), (a.dropoff, b.dropoff)] {
                for (u, v) in [(a.pickup, b.pickup), (a.dropoff, b.dropoff), (p.vehicles[0].depot, q.vehicles[0].depot)] {
                    assert_eq!((p.travel.secs(x, u), p.travel.metres(u, x)), (q.travel.secs(y, v), q.travel.metres(v, y)));
                }
            }
        }
        // A plan of the day read back from its file keeps every rule of the day.
        let plan = Optimizer::default().solve(q, Budget { time: std::time::Duration::from_millis(200), seed: 1 });
        assert!(plan.unassigned.is_empty());
        let again = read_plan(&write_plan(&plan)).unwrap();
        assert_eq!(again.routes, plan.routes);
        assert_eq!(check::violations(q, &again), vec![]);
        // The same plan with a pickup an hour early breaks its window: the checker says so.
        let mut early = again.clone();
        early.routes[0].stops[0].time -= 3600;
        assert!(!check::violations(q, &early).is_empty());
    }

    #[test]
    fn a_bad_day_file_says_what_is_wrong() {
        let text = write("three", ORIGIN, &problem());
        let broken = |from: &str, to: &str| read(&text.replacen(from, to, 1)).unwrap_err();
        assert!(broken("\"kind\":\"car\"", "\"kind\":\"bus\"").contains("vehicle 0: unknown kind \"bus\""));
        assert!(
            broken("\"kind\":\"wheelchair_van\"", "\"kind\":\"car\"")
                .contains("request 1 (id 2): compatible vehicles [1], but its kind and load fit []")
        );
        assert!(broken("\"pickup\":1,", "\"pickup\":9,").contains("place 9 is not in the 6 × 6 matrix"));
        assert!(broken("atmr-day/1", "atmr-day/0").contains("expected \"atmr-day/1\""));
        assert!(read("{}").unwrap_err().contains("not a day file"));
    }
}
