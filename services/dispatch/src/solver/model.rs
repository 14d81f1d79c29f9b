//! The optimizer's own compact model of a routing problem, shared by the
//! dispatch day (bookings and drivers) and the public benchmarks (Solomon,
//! Li & Lim, Cordeau): jobs of one node (a VRPTW customer) or two (a pickup and
//! its drop-off on the same route, pickup first), time windows on every node,
//! service times, loads in up to three dimensions, vehicles with their own
//! start and end places, working hours, capacity and maximum route duration,
//! job–vehicle compatibility, and a maximum ride time per job.
//!
//! Times and costs are integers in the model's unit (seconds for dispatch,
//! millionths of a distance unit for the benchmarks, rounded up so that a
//! schedule feasible here is feasible in real numbers).
//!
//! Whether a route keeps its time rules is decided exactly (`timing.rs`). Its
//! schedule is then made as Cordeau & Laporte's tabu search does (2003, with
//! the ride-time correction of later work): earliest times first, then the
//! departure and each pickup are delayed by their forward time slack, so that
//! waiting happens before a pickup rather than with a passenger aboard, and
//! ride times and route durations are as short as the windows allow.

/// Load dimensions: seats, wheelchair places, stretcher places.
pub const DIMS: usize = 3;
pub type Amount = [i32; DIMS];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pickup,
    Delivery,
    /// A job of one node (a VRPTW delivery from the depot: its load counts
    /// from the start of the route to the end).
    Single,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub loc: usize,
    pub early: i64,
    pub late: i64,
    pub service: i64,
    /// Added to the load at this node (negative at a drop-off).
    pub load: Amount,
    pub job: usize,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub struct Job {
    /// One node, or pickup then delivery.
    pub nodes: Vec<usize>,
    /// Longest time from the end of service at the pickup to the start of
    /// service at the delivery.
    pub max_ride: Option<i64>,
    /// The vehicles that may serve it; `None`: any.
    pub vehicles: Option<Vec<bool>>,
    /// Kept on this vehicle: never removed by the search.
    pub pinned: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Vehicle {
    pub start: usize,
    pub end: usize,
    pub early: i64,
    pub late: i64,
    pub capacity: Amount,
    /// Longest time from leaving the start to arriving at the end.
    pub max_duration: Option<i64>,
}

/// What the search minimises after serving as many jobs as it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Total cost (distance, or driving time) only.
    Distance,
    /// Vehicles used first, then total cost.
    Vehicles,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub nodes: Vec<Node>,
    pub jobs: Vec<Job>,
    pub vehicles: Vec<Vehicle>,
    /// Locations × locations, row-major; 32 bits per entry (a 2,000-booking
    /// day has 4,000 locations: 64 MB per matrix), sums in 64.
    pub time: Vec<i32>,
    pub cost: Vec<i32>,
    pub locations: usize,
    pub objective: Objective,
}

impl Model {
    #[inline]
    pub fn t(&self, a: usize, b: usize) -> i64 {
        i64::from(self.time[a * self.locations + b])
    }

    #[inline]
    pub fn c(&self, a: usize, b: usize) -> i64 {
        i64::from(self.cost[a * self.locations + b])
    }

    pub fn can_serve(&self, vehicle: usize, job: usize) -> bool {
        let j = &self.jobs[job];
        j.vehicles.as_ref().is_none_or(|v| v[vehicle]) && j.pinned.is_none_or(|p| p == vehicle)
    }

    /// The driving cost of a route: start, its nodes in order, end.
    pub fn route_cost(&self, vehicle: usize, nodes: &[usize]) -> i64 {
        if nodes.is_empty() {
            return 0;
        }
        let v = &self.vehicles[vehicle];
        let mut at = v.start;
        let mut total = 0;
        for &n in nodes {
            total += self.c(at, self.nodes[n].loc);
            at = self.nodes[n].loc;
        }
        total + self.c(at, v.end)
    }

    /// Cordeau & Laporte's eight-step evaluation: a heuristic that can miss a
    /// feasible schedule, but whose schedules wait before pickups.
    pub(crate) fn eight_step(&self, vehicle: usize, nodes: &[usize]) -> Option<Schedule> {
        let v = &self.vehicles[vehicle];
        if !self.loads_fit(vehicle, nodes) {
            return None;
        }
        // Positions 0 (start) ..= q + 1 (end).
        let q = nodes.len();
        let node = |i: usize| &self.nodes[nodes[i - 1]];
        let loc = |i: usize| {
            if i == 0 {
                v.start
            } else if i == q + 1 {
                v.end
            } else {
                node(i).loc
            }
        };
        let early = |i: usize| if i == 0 || i == q + 1 { v.early } else { node(i).early };
        let late = |i: usize| if i == 0 || i == q + 1 { v.late } else { node(i).late };
        let service = |i: usize| if i == 0 || i == q + 1 { 0 } else { node(i).service };
        // For a delivery at i, the position of its pickup.
        let mut pickup_of = vec![usize::MAX; q + 2];
        for i in 1..=q {
            if node(i).kind == Kind::Delivery {
                let p = self.jobs[node(i).job].nodes[0];
                pickup_of[i] = nodes[..i - 1].iter().position(|&x| x == p)? + 1;
            }
        }
        let max_ride = |i: usize| self.jobs[node(i).job].max_ride;
        let mut a = vec![0_i64; q + 2];
        let mut b = vec![0_i64; q + 2];
        let mut w = vec![0_i64; q + 2];
        b[0] = v.early;
        // Earliest times from position `from` on, given b[from - 1].
        let forward = |from: usize, a: &mut [i64], b: &mut [i64], w: &mut [i64]| -> bool {
            for i in from..=q + 1 {
                a[i] = b[i - 1] + service(i - 1) + self.t(loc(i - 1), loc(i));
                b[i] = a[i].max(early(i));
                w[i] = b[i] - a[i];
                if b[i] > late(i) {
                    return false;
                }
            }
            true
        };
        if !forward(1, &mut a, &mut b, &mut w) {
            return None;
        }
        let ride = |i: usize, b: &[i64]| b[i] - (b[pickup_of[i]] + service(pickup_of[i]));
        // Forward time slack at position `from`: how far its service can move
        // later without breaking a later window, nor the ride time of a
        // passenger already aboard (picked up before `from`).
        let slack = |from: usize, b: &[i64], w: &[i64]| -> i64 {
            let (mut waited, mut best) = (0, i64::MAX);
            for j in from..=q + 1 {
                if j > from {
                    waited += w[j];
                }
                let mut room = late(j) - b[j];
                if (1..=q).contains(&j)
                    && pickup_of[j] < from
                    && let Some(limit) = max_ride(j)
                {
                    room = room.min(limit - ride(j, b));
                }
                best = best.min(waited + room.max(0));
            }
            best
        };
        let waiting_after = |from: usize, w: &[i64]| -> i64 { w[from + 1..=q].iter().sum() };
        let rides_ok = |b: &[i64]| (1..=q).all(|i| pickup_of[i] == usize::MAX || max_ride(i).is_none_or(|l| ride(i, b) <= l));
        let duration_ok = |a: &[i64], b: &[i64]| v.max_duration.is_none_or(|d| a[q + 1] - b[0] <= d);
        if q > 0 {
            // Leave as late as the slack allows: the shortest working day.
            let delay = slack(0, &b, &w).min(waiting_after(0, &w));
            b[0] += delay;
            if !forward(1, &mut a, &mut b, &mut w) {
                return None;
            }
        }
        if !(rides_ok(&b) && duration_ok(&a, &b)) {
            // Delay each pickup by its slack: passengers board later and ride less.
            for j in 1..=q {
                if node(j).kind != Kind::Pickup {
                    continue;
                }
                let delay = slack(j, &b, &w).min(waiting_after(j, &w));
                if delay > 0 {
                    w[j] += delay;
                    b[j] += delay;
                    if !forward(j + 1, &mut a, &mut b, &mut w) {
                        return None;
                    }
                }
            }
            if !(rides_ok(&b) && duration_ok(&a, &b)) {
                return None;
            }
        }
        Some(Schedule { depart: b[0], starts: b[1..=q].to_vec(), back: a[q + 1] })
    }

    /// Every prefix load within the vehicle's capacity, never negative.
    fn loads_fit(&self, vehicle: usize, nodes: &[usize]) -> bool {
        let cap = self.vehicles[vehicle].capacity;
        let mut load = [0_i32; DIMS];
        for &n in nodes {
            for d in 0..DIMS {
                load[d] += self.nodes[n].load[d];
                if load[d] > cap[d] || load[d] < 0 {
                    return false;
                }
            }
        }
        true
    }
}

/// When a route's services start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// When the vehicle leaves its start.
    pub depart: i64,
    /// The service start of each node, in route order.
    pub starts: Vec<i64>,
    /// When it is back at its end.
    pub back: i64,
}
