//! Exact time feasibility of a route for the search: whether service start
//! times exist that keep every window, every ride time and the route duration,
//! and the earliest and latest such times of each stop.
//!
//! A route's time rules are difference constraints on a chain: each stop starts
//! at least `service + travel` after the one before it, within its window, and
//! a ride (or the whole route) spans at most its limit. The earliest feasible
//! times are the least solution: a forward pass along the chain, then every
//! ride that is too long pulls its pickup later, and the chain is passed again
//! from there, until nothing moves (Bellman–Ford on this graph, which settles in
//! a few passes because rides are short). The latest times are the mirror
//! image. A pair whose stops are farther apart along the chain than its limit
//! is a positive cycle: refused at once, so the passes always end.
//!
//! This decides feasibility exactly (the 8-step schedule of `Model::schedule`
//! is a heuristic that can miss a feasible schedule), in O(q) per pass without
//! allocating, so the search can afford it for every candidate it considers.
//! `tighten_windows` adds the windows these rules imply to each dial-a-ride
//! stop (Cordeau's preprocessing), so that the O(1) window tests of the search
//! already see most of what a ride time forbids.

use super::model::{DIMS, Kind, Model, Schedule};

/// Reusable buffers: a test allocates nothing once they have grown.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// Earliest feasible start per position (0 = leaving the start, q + 1 = arriving at the end).
    pub lo: Vec<i64>,
    /// Latest feasible start per position (filled by `Model::bounds` only).
    pub hi: Vec<i64>,
    /// The windows per position.
    early: Vec<i64>,
    late: Vec<i64>,
    /// Minimum time from position i to i + 1: service at i plus travel.
    gap: Vec<i64>,
    /// Sum of `gap` before position i.
    chain: Vec<i64>,
    /// (from, to, limit): x[to] - x[from] <= limit.
    spans: Vec<(usize, usize, i64)>,
    /// Position of each node in the route being tested (valid where `nodes[at[n] - 1] == n`).
    at: Vec<usize>,
}

impl Model {
    /// The service start of every node of `nodes` on `vehicle` and the time the
    /// vehicle leaves its start, if the route keeps every rule (decided exactly,
    /// below): Cordeau & Laporte's schedule (waiting before pickups, ride
    /// times minimised) where it finds one, else the earliest feasible times.
    pub fn schedule(&self, vehicle: usize, nodes: &[usize]) -> Option<Schedule> {
        let mut scratch = Scratch::default();
        if !self.feasible(vehicle, nodes, &mut scratch) {
            return None;
        }
        self.eight_step(vehicle, nodes).or_else(|| {
            let lo = &scratch.lo;
            Some(Schedule { depart: lo[0], starts: lo[1..=nodes.len()].to_vec(), back: lo[nodes.len() + 1] })
        })
    }

    /// Whether `nodes` on `vehicle` keeps capacity, precedence, windows, ride
    /// times and duration; if so, `scratch.lo` holds the earliest feasible times.
    pub fn feasible(&self, vehicle: usize, nodes: &[usize], scratch: &mut Scratch) -> bool {
        self.prepare(vehicle, nodes, scratch) && least(scratch)
    }

    /// `feasible`, and then `scratch.hi` holds the latest feasible times too.
    pub fn bounds(&self, vehicle: usize, nodes: &[usize], scratch: &mut Scratch) -> bool {
        self.prepare(vehicle, nodes, scratch) && least(scratch) && greatest(scratch)
    }

    /// Fills the chain, windows and spans of `nodes`; false if capacity,
    /// pairing or a span shorter than its own chain already rule it out.
    fn prepare(&self, vehicle: usize, nodes: &[usize], s: &mut Scratch) -> bool {
        let v = &self.vehicles[vehicle];
        let q = nodes.len();
        s.early.clear();
        s.late.clear();
        s.gap.clear();
        s.chain.clear();
        s.spans.clear();
        if s.at.len() < self.nodes.len() {
            s.at.resize(self.nodes.len(), 0);
        }
        s.early.push(v.early);
        s.late.push(v.late);
        s.chain.push(0);
        let (mut loc, mut service) = (v.start, 0);
        let mut load = [0_i32; DIMS];
        for (i, &n) in nodes.iter().enumerate() {
            let node = &self.nodes[n];
            s.gap.push(service + self.t(loc, node.loc));
            s.chain.push(s.chain[i] + s.gap[i]);
            s.early.push(node.early);
            s.late.push(node.late);
            for ((total, add), cap) in load.iter_mut().zip(node.load).zip(v.capacity) {
                *total += add;
                if *total > cap || *total < 0 {
                    return false;
                }
            }
            s.at[n] = i + 1;
            if node.kind == Kind::Delivery {
                let job = &self.jobs[node.job];
                let pickup = job.nodes[0];
                let from = s.at[pickup];
                if from == 0 || from > i || nodes[from - 1] != pickup {
                    return false; // delivered before (or without) its pickup
                }
                if let Some(limit) = job.max_ride {
                    let span = limit + self.nodes[pickup].service;
                    if s.chain[i + 1] - s.chain[from] > span {
                        return false;
                    }
                    s.spans.push((from, i + 1, span));
                }
            }
            loc = node.loc;
            service = node.service;
        }
        s.gap.push(service + self.t(loc, v.end));
        s.chain.push(s.chain[q] + s.gap[q]);
        s.early.push(v.early);
        s.late.push(v.late);
        if let Some(limit) = v.max_duration {
            if s.chain[q + 1] > limit {
                return false;
            }
            s.spans.push((0, q + 1, limit));
        }
        // A pickup whose delivery is missing breaks pairing as surely as the reverse.
        nodes.iter().all(|&n| {
            let node = &self.nodes[n];
            node.kind != Kind::Pickup || {
                let delivery = self.jobs[node.job].nodes[1];
                let at = s.at[delivery];
                at > s.at[n] && at <= q && nodes[at - 1] == delivery
            }
        })
    }

    /// Narrows each dial-a-ride node's window to what its pair, its ride time
    /// and the vehicles that may serve it allow (Cordeau's preprocessing). The
    /// set of feasible routes does not change; jobs without a ride limit are
    /// left as they are.
    pub fn tighten_windows(&mut self) {
        for j in 0..self.jobs.len() {
            let job = &self.jobs[j];
            let (Some(limit), &[p, d]) = (job.max_ride, &job.nodes[..]) else { continue };
            let serving: Vec<usize> = (0..self.vehicles.len()).filter(|&v| self.can_serve(v, j)).collect();
            if serving.is_empty() {
                continue;
            }
            for n in [p, d] {
                let loc = self.nodes[n].loc;
                let service = self.nodes[n].service;
                let early = serving.iter().map(|&v| self.vehicles[v].early + self.t(self.vehicles[v].start, loc)).min().unwrap_or(i64::MIN);
                let late =
                    serving.iter().map(|&v| self.vehicles[v].late - service - self.t(loc, self.vehicles[v].end)).max().unwrap_or(i64::MAX);
                let node = &mut self.nodes[n];
                node.early = node.early.max(early);
                node.late = node.late.min(late);
            }
            let (sp, direct) = (self.nodes[p].service, self.t(self.nodes[p].loc, self.nodes[d].loc));
            for _ in 0..2 {
                let (pe, pl, de, dl) = (self.nodes[p].early, self.nodes[p].late, self.nodes[d].early, self.nodes[d].late);
                self.nodes[d].early = de.max(pe + sp + direct);
                self.nodes[d].late = dl.min(pl + sp + limit);
                self.nodes[p].early = pe.max(self.nodes[d].early - sp - limit);
                self.nodes[p].late = pl.min(self.nodes[d].late - sp - direct);
            }
        }
    }
}

/// The least solution into `s.lo`; false if there is none.
fn least(s: &mut Scratch) -> bool {
    let n = s.early.len();
    s.lo.clear();
    s.lo.extend_from_slice(&s.early);
    if s.lo[0] > s.late[0] {
        return false;
    }
    let mut from = 1;
    // Without positive cycles (ruled out in `prepare`) each pass settles at least
    // one more span for good; the bound only guards against a bug looping forever.
    for _ in 0..=n + s.spans.len() {
        for i in from..n {
            let t = s.lo[i].max(s.lo[i - 1] + s.gap[i - 1]);
            if t > s.late[i] {
                return false;
            }
            s.lo[i] = t;
        }
        let mut first = usize::MAX;
        for &(a, b, limit) in &s.spans {
            if s.lo[b] - s.lo[a] > limit {
                s.lo[a] = s.lo[b] - limit;
                if s.lo[a] > s.late[a] {
                    return false;
                }
                first = first.min(a);
            }
        }
        if first == usize::MAX {
            return true;
        }
        from = first + 1;
    }
    false
}

/// The greatest solution into `s.hi`; false if there is none.
fn greatest(s: &mut Scratch) -> bool {
    let n = s.late.len();
    s.hi.clear();
    s.hi.extend_from_slice(&s.late);
    if s.hi[n - 1] < s.early[n - 1] {
        return false;
    }
    let mut to = n - 1;
    for _ in 0..=n + s.spans.len() {
        for i in (0..to).rev() {
            let t = s.hi[i].min(s.hi[i + 1] - s.gap[i]);
            if t < s.early[i] {
                return false;
            }
            s.hi[i] = t;
        }
        let mut last = 0;
        for &(a, b, limit) in &s.spans {
            if s.hi[b] - s.hi[a] > limit {
                s.hi[b] = s.hi[a] + limit;
                if s.hi[b] < s.early[b] {
                    return false;
                }
                last = last.max(b);
            }
        }
        if last == 0 {
            return true;
        }
        to = last;
    }
    false
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::SliceRandom as _};

    use super::*;
    use crate::solver::model::{Job, Node, Objective, Vehicle};

    /// A random dial-a-ride model on a 30 × 30 grid: `n` requests, windows on
    /// one end of some, ride limits, a shift with a duration limit, 3 seats.
    fn model(rng: &mut StdRng, n: usize) -> Model {
        let locations = 2 * n + 1;
        let xy: Vec<(i64, i64)> = (0..locations).map(|_| (rng.random_range(0..30), rng.random_range(0..30))).collect();
        let mut time = vec![0; locations * locations];
        for a in 0..locations {
            for b in 0..locations {
                let (dx, dy) = ((xy[a].0 - xy[b].0) as f64, (xy[a].1 - xy[b].1) as f64);
                time[a * locations + b] = dx.hypot(dy).ceil() as i32;
            }
        }
        let mut nodes = Vec::new();
        let mut jobs = Vec::new();
        for j in 0..n {
            let (mut pe, mut pl, mut de, mut dl) = (0, 400, 0, 400);
            let start = rng.random_range(0..300);
            match rng.random_range(0..3) {
                0 => (pe, pl) = (start, start + rng.random_range(5..40)),
                1 => (de, dl) = (start, start + rng.random_range(5..40)),
                _ => {}
            }
            let load = rng.random_range(1..=2);
            let service = rng.random_range(0..4);
            nodes.push(Node { loc: 1 + 2 * j, early: pe, late: pl, service, load: [load, 0, 0], job: j, kind: Kind::Pickup });
            nodes.push(Node { loc: 2 + 2 * j, early: de, late: dl, service, load: [-load, 0, 0], job: j, kind: Kind::Delivery });
            let max_ride = rng.random_bool(0.8).then(|| rng.random_range(20..80));
            jobs.push(Job { nodes: vec![2 * j, 2 * j + 1], max_ride, vehicles: None, pinned: None });
        }
        let max_duration = rng.random_bool(0.5).then(|| rng.random_range(150..400));
        let vehicle = Vehicle { start: 0, end: 0, early: 0, late: 420, capacity: [3, 0, 0], max_duration };
        Model { nodes, jobs, vehicles: vec![vehicle], cost: time.clone(), time, locations, objective: Objective::Distance }
    }

    /// A random order of the given jobs with each pickup before its delivery.
    fn route(rng: &mut StdRng, m: &Model, jobs: &[usize]) -> Vec<usize> {
        let mut route: Vec<usize> = Vec::new();
        for &j in jobs {
            let p = rng.random_range(0..=route.len());
            route.insert(p, m.jobs[j].nodes[0]);
            let d = rng.random_range(p + 1..=route.len());
            route.insert(d, m.jobs[j].nodes[1]);
        }
        route
    }

    /// The reference: Bellman–Ford over the route's difference constraints.
    fn reference(m: &Model, nodes: &[usize]) -> bool {
        let v = &m.vehicles[0];
        let mut load = 0;
        for &n in nodes {
            load += m.nodes[n].load[0];
            if load > v.capacity[0] {
                return false;
            }
        }
        let q = nodes.len();
        // Variables: 0 origin, 1 + position (0 = start, q + 1 = end).
        let mut edges: Vec<(usize, usize, i64)> = Vec::new();
        let window = |x: usize, e: i64, l: i64, edges: &mut Vec<(usize, usize, i64)>| {
            edges.push((0, x, l));
            edges.push((x, 0, -e));
        };
        window(1, v.early, v.late, &mut edges);
        window(q + 2, v.early, v.late, &mut edges);
        let (mut loc, mut service) = (v.start, 0);
        for (i, &n) in nodes.iter().enumerate() {
            let node = &m.nodes[n];
            window(i + 2, node.early, node.late, &mut edges);
            edges.push((i + 2, i + 1, -(service + m.t(loc, node.loc))));
            (loc, service) = (node.loc, node.service);
            if node.kind == Kind::Delivery {
                let job = &m.jobs[node.job];
                let p = nodes.iter().position(|&x| x == job.nodes[0]).unwrap();
                if let Some(limit) = job.max_ride {
                    edges.push((p + 2, i + 2, limit + m.nodes[job.nodes[0]].service));
                }
            }
        }
        edges.push((q + 2, q + 1, -(service + m.t(loc, v.end))));
        if let Some(limit) = v.max_duration {
            edges.push((1, q + 2, limit));
        }
        let mut dist = vec![0_i64; q + 3];
        for _ in 0..q + 3 {
            let mut changed = false;
            for &(a, b, w) in &edges {
                if dist[a] + w < dist[b] {
                    dist[b] = dist[a] + w;
                    changed = true;
                }
            }
            if !changed {
                return true;
            }
        }
        false
    }

    /// Every rule of the route holds at `times` (positions 0 ..= q + 1).
    fn keeps_every_rule(m: &Model, nodes: &[usize], times: &[i64]) -> bool {
        let v = &m.vehicles[0];
        let q = nodes.len();
        let loc = |i: usize| if i == 0 || i == q + 1 { v.start } else { m.nodes[nodes[i - 1]].loc };
        let service = |i: usize| if i == 0 || i == q + 1 { 0 } else { m.nodes[nodes[i - 1]].service };
        let window =
            |i: usize| if i == 0 || i == q + 1 { (v.early, v.late) } else { (m.nodes[nodes[i - 1]].early, m.nodes[nodes[i - 1]].late) };
        (0..=q + 1).all(|i| (window(i).0..=window(i).1).contains(&times[i]))
            && (1..=q + 1).all(|i| times[i] >= times[i - 1] + service(i - 1) + m.t(loc(i - 1), loc(i)))
            && v.max_duration.is_none_or(|d| times[q + 1] - times[0] <= d)
            && (1..=q).all(|i| {
                let node = &m.nodes[nodes[i - 1]];
                let job = &m.jobs[node.job];
                node.kind != Kind::Delivery
                    || job.max_ride.is_none_or(|l| {
                        let p = nodes.iter().position(|&x| x == job.nodes[0]).unwrap() + 1;
                        times[i] - times[p] - service(p) <= l
                    })
            })
    }

    #[test]
    fn the_exact_test_agrees_with_bellman_ford_on_random_routes() {
        let mut rng = StdRng::seed_from_u64(28);
        let mut scratch = Scratch::default();
        let (mut feasible, mut schedule_missed) = (0, 0);
        for _ in 0..3_000 {
            let n = rng.random_range(1..7);
            let m = model(&mut rng, n);
            let mut jobs: Vec<usize> = (0..n).collect();
            jobs.shuffle(&mut rng);
            let take = rng.random_range(1..=n);
            let nodes = route(&mut rng, &m, &jobs[..take]);
            let expected = reference(&m, &nodes);
            assert_eq!(m.feasible(0, &nodes, &mut scratch), expected, "{nodes:?}");
            assert_eq!(m.bounds(0, &nodes, &mut scratch), expected, "{nodes:?}");
            if expected {
                feasible += 1;
                assert!(keeps_every_rule(&m, &nodes, &scratch.lo), "earliest times {:?} for {nodes:?}", scratch.lo);
                assert!(keeps_every_rule(&m, &nodes, &scratch.hi), "latest times {:?} for {nodes:?}", scratch.hi);
                assert!(scratch.lo.iter().zip(&scratch.hi).all(|(a, b)| a <= b));
                schedule_missed += usize::from(m.eight_step(0, &nodes).is_none());
                let schedule = m.schedule(0, &nodes).expect("a schedule wherever one exists");
                let times: Vec<i64> = [schedule.depart].into_iter().chain(schedule.starts).chain([schedule.back]).collect();
                assert!(keeps_every_rule(&m, &nodes, &times), "schedule {times:?} for {nodes:?}");
            } else {
                assert!(m.eight_step(0, &nodes).is_none(), "the 8-step schedule never finds what does not exist");
                assert!(m.schedule(0, &nodes).is_none());
            }
            // The tightened model accepts exactly the same routes.
            let mut tight = m.clone();
            tight.tighten_windows();
            assert_eq!(tight.feasible(0, &nodes, &mut scratch), expected, "tightened {nodes:?}");
        }
        assert!(feasible > 600, "enough feasible cases to mean something: {feasible}");
        eprintln!("{feasible} feasible routes, the 8-step schedule missed {schedule_missed}");
    }

    #[test]
    fn a_delivery_before_its_pickup_or_alone_is_refused() {
        let mut rng = StdRng::seed_from_u64(3);
        let m = model(&mut rng, 2);
        let mut scratch = Scratch::default();
        assert!(!m.feasible(0, &[1, 0], &mut scratch));
        assert!(!m.feasible(0, &[0], &mut scratch));
        assert!(!m.feasible(0, &[1], &mut scratch));
        assert!(!m.feasible(0, &[0, 2, 1], &mut scratch), "job 1's delivery missing");
    }
}
