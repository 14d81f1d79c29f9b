//! The public benchmark formats (Solomon and Gehring & Homberger VRPTW, Li & Lim
//! PDPTW, Cordeau 2006 dial-a-ride), read into one `Instance`, turned into the
//! optimizer's `Model`, and an independent feasibility checker that works in
//! real numbers on node ids, as anyone recomputing a `.sol` file would.
//!
//! Conventions of the sets: Euclidean distances in double precision, travel
//! time equal to distance, waiting allowed before a window opens, service must
//! start within the window, cost = total distance.

use super::model::{self, Kind, Model, Objective};

/// Model units per instance unit: times and costs are integers in millionths.
pub const SCALE: f64 = 1e6;
/// Tolerance of the checker, in instance units.
const EPS: f64 = 1e-6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Solomon,
    LiLim,
    Cordeau,
}

#[derive(Clone, Debug)]
pub struct Site {
    /// The node id of the file.
    pub id: usize,
    pub x: f64,
    pub y: f64,
    pub demand: i32,
    pub ready: f64,
    pub due: f64,
    pub service: f64,
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub format: Format,
    /// Indexed by node id; the depot is 0 (Cordeau's end depot is 2n+1).
    pub sites: Vec<Site>,
    /// Jobs by node ids: one customer, or (pickup, delivery).
    pub jobs: Vec<Vec<usize>>,
    pub vehicles: usize,
    pub capacity: i32,
    pub start: usize,
    pub end: usize,
    pub max_ride: Option<f64>,
    pub max_duration: Option<f64>,
}

/// A parse error naming the line.
#[derive(Debug, thiserror::Error)]
#[error("{file}: line {line}: {message}")]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Instance {
    /// Reads any of the three formats, told apart by their content.
    pub fn parse(name: &str, text: &str) -> Result<Self, ParseError> {
        let lines: Vec<(usize, Vec<&str>)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.split_whitespace().collect::<Vec<_>>()))
            .filter(|(_, w)| !w.is_empty())
            .collect();
        let err = |line: usize, message: String| ParseError { file: name.to_owned(), line, message };
        let Some((first_line, first)) = lines.first() else { return Err(err(1, "empty file".into())) };
        if lines.iter().any(|(_, w)| w[0].eq_ignore_ascii_case("VEHICLE")) {
            return Self::solomon(name, &lines).map_err(|(l, m)| err(l, m));
        }
        match first.len() {
            3 => Self::li_lim(name, &lines).map_err(|(l, m)| err(l, m)),
            5 => Self::cordeau(name, &lines).map_err(|(l, m)| err(l, m)),
            n => Err(err(*first_line, format!("not Solomon (no VEHICLE block), Li & Lim (3 header fields) or Cordeau (5); {n} fields"))),
        }
    }

    fn solomon(name: &str, lines: &[(usize, Vec<&str>)]) -> Result<Self, (usize, String)> {
        let at = lines.iter().position(|(_, w)| w[0].eq_ignore_ascii_case("VEHICLE")).unwrap();
        let (line, fleet) = lines.get(at + 2).ok_or((lines[at].0, "VEHICLE block without its NUMBER CAPACITY line".to_owned()))?;
        let vehicles = num::<usize>(fleet, 0, *line)?;
        let capacity = num::<i32>(fleet, 1, *line)?;
        let mut sites = Vec::new();
        for (line, w) in lines.iter().skip(at + 3) {
            if w[0].parse::<usize>().is_err() {
                continue; // CUSTOMER, the column titles
            }
            sites.push(site(w, [0, 1, 2, 3, 4, 5, 6], *line, sites.len())?);
        }
        let jobs = (1..sites.len()).map(|i| vec![i]).collect();
        let end = 0;
        Ok(Self {
            name: name.to_owned(),
            format: Format::Solomon,
            sites,
            jobs,
            vehicles,
            capacity,
            start: 0,
            end,
            max_ride: None,
            max_duration: None,
        })
    }

    fn li_lim(name: &str, lines: &[(usize, Vec<&str>)]) -> Result<Self, (usize, String)> {
        let (line, head) = &lines[0];
        let vehicles = num::<usize>(head, 0, *line)?;
        let capacity = num::<i32>(head, 1, *line)?;
        let mut sites = Vec::new();
        let mut jobs = Vec::new();
        for (line, w) in &lines[1..] {
            if w.len() != 9 {
                return Err((*line, format!("expected 9 fields (id x y demand ready due service pickup delivery), found {}", w.len())));
            }
            sites.push(site(w, [0, 1, 2, 3, 4, 5, 6], *line, sites.len())?);
            let (pickup, delivery) = (num::<usize>(w, 7, *line)?, num::<usize>(w, 8, *line)?);
            if pickup == 0 && delivery != 0 {
                jobs.push(vec![sites.len() - 1, delivery]);
            }
        }
        for j in &jobs {
            if j[1] >= sites.len() {
                return Err((lines[j[0] + 1].0, format!("delivery {} is not a node", j[1])));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            format: Format::LiLim,
            sites,
            jobs,
            vehicles,
            capacity,
            start: 0,
            end: 0,
            max_ride: None,
            max_duration: None,
        })
    }

    fn cordeau(name: &str, lines: &[(usize, Vec<&str>)]) -> Result<Self, (usize, String)> {
        let (line, head) = &lines[0];
        let vehicles = num::<usize>(head, 0, *line)?;
        let n = num::<usize>(head, 1, *line)?;
        let max_duration = num::<f64>(head, 2, *line)?;
        let capacity = num::<i32>(head, 3, *line)?;
        let max_ride = num::<f64>(head, 4, *line)?;
        let mut sites = Vec::new();
        for (line, w) in &lines[1..] {
            if w.len() != 7 {
                return Err((*line, format!("expected 7 fields (id x y service load early late), found {}", w.len())));
            }
            // id x y service load early late
            sites.push(site(w, [0, 1, 2, 4, 5, 6, 3], *line, sites.len())?);
        }
        if sites.len() != 2 * n + 2 {
            return Err((lines.last().unwrap().0, format!("{} nodes for {n} requests; expected {}", sites.len(), 2 * n + 2)));
        }
        let jobs = (1..=n).map(|i| vec![i, n + i]).collect();
        Ok(Self {
            name: name.to_owned(),
            format: Format::Cordeau,
            sites,
            jobs,
            vehicles,
            capacity,
            start: 0,
            end: 2 * n + 1,
            max_ride: Some(max_ride),
            max_duration: Some(max_duration),
        })
    }

    pub fn distance(&self, a: usize, b: usize) -> f64 {
        let (p, q) = (&self.sites[a], &self.sites[b]);
        (p.x - q.x).hypot(p.y - q.y)
    }

    /// The optimizer's model: one location per node id.
    pub fn model(&self, objective: Objective) -> Model {
        let n = self.sites.len();
        let mut time = vec![0; n * n];
        let mut cost = vec![0; n * n];
        for a in 0..n {
            for b in 0..n {
                let d = self.distance(a, b);
                // Up for travel (feasible here ⇒ feasible in real numbers), nearest for cost.
                time[a * n + b] = (d * SCALE).ceil() as i64;
                cost[a * n + b] = (d * SCALE).round() as i64;
            }
        }
        let scaled = |x: f64| (x * SCALE).round() as i64;
        let mut nodes = Vec::new();
        let mut jobs = Vec::new();
        for (j, ids) in self.jobs.iter().enumerate() {
            let first = nodes.len();
            for (k, &id) in ids.iter().enumerate() {
                let s = &self.sites[id];
                let kind = match (ids.len(), k) {
                    (1, _) => Kind::Single,
                    (_, 0) => Kind::Pickup,
                    _ => Kind::Delivery,
                };
                // Li & Lim and Cordeau carry signed loads already; Solomon's demand is delivered (counts from the start).
                let load = if kind == Kind::Delivery { -self.sites[ids[0]].demand.abs() } else { s.demand.abs() };
                nodes.push(model::Node {
                    loc: id,
                    early: scaled(s.ready),
                    late: scaled(s.due),
                    service: scaled(s.service),
                    load: [load, 0, 0],
                    job: j,
                    kind,
                });
            }
            jobs.push(model::Job {
                nodes: (first..nodes.len()).collect(),
                max_ride: self.max_ride.filter(|_| ids.len() == 2).map(scaled),
                vehicles: None,
                pinned: None,
            });
        }
        let (start, end) = (&self.sites[self.start], &self.sites[self.end]);
        let vehicle = model::Vehicle {
            start: self.start,
            end: self.end,
            early: scaled(start.ready),
            late: scaled(end.due),
            capacity: [self.capacity, 0, 0],
            max_duration: self.max_duration.map(scaled),
        };
        Model { nodes, jobs, vehicles: vec![vehicle; self.vehicles], time, cost, locations: n, objective }
    }

    /// Routes of the model's solution as node ids, empty routes left out.
    pub fn routes_of(&self, m: &Model, routes: &[Vec<usize>]) -> Vec<Vec<usize>> {
        routes.iter().filter(|r| !r.is_empty()).map(|r| r.iter().map(|&n| m.nodes[n].loc).collect()).collect()
    }

    /// Checks `routes` (node ids, depots excluded) against every rule of the
    /// instance, in real numbers, and returns the total distance. Times are
    /// checked exactly: the constraints of a route (travel, windows, ride
    /// times, duration) are difference constraints, feasible iff their graph
    /// has no negative cycle (Bellman–Ford), so no schedule heuristic is trusted.
    pub fn check(&self, routes: &[Vec<usize>]) -> Result<f64, Vec<String>> {
        let mut problems = Vec::new();
        if routes.len() > self.vehicles {
            problems.push(format!("{} routes for {} vehicles", routes.len(), self.vehicles));
        }
        let mut seen = vec![0_usize; self.sites.len()];
        let mut route_of = vec![usize::MAX; self.sites.len()];
        let mut position = vec![0_usize; self.sites.len()];
        let mut total = 0.0;
        for (ri, route) in routes.iter().enumerate() {
            for (k, &id) in route.iter().enumerate() {
                if id >= self.sites.len() || id == self.start || id == self.end {
                    problems.push(format!("route {ri}: {id} is not a customer node"));
                    continue;
                }
                seen[id] += 1;
                route_of[id] = ri;
                position[id] = k;
            }
            if route.iter().any(|&id| id >= self.sites.len()) {
                continue;
            }
            let mut at = self.start;
            let mut load = 0;
            for &id in route {
                total += self.distance(at, id);
                // Li & Lim and Cordeau loads are signed; Solomon's demands are
                // all aboard from the start, so their running total is the check.
                load += self.sites[id].demand;
                if load > self.capacity || load < 0 {
                    problems.push(format!("route {ri}: load {load} at node {id} (capacity {})", self.capacity));
                }
                at = id;
            }
            total += self.distance(at, self.end);
            if let Err(e) = self.times_feasible(route) {
                problems.push(format!("route {ri}: {e}"));
            }
        }
        for job in &self.jobs {
            for &id in job {
                if seen[id] != 1 {
                    problems.push(format!("node {id} visited {} times", seen[id]));
                }
            }
            if let [p, d] = job[..]
                && seen[p] == 1
                && seen[d] == 1
                && (route_of[p] != route_of[d] || position[p] > position[d])
            {
                problems.push(format!("pickup {p} and delivery {d} are not on one route in that order"));
            }
        }
        if problems.is_empty() { Ok(total) } else { Err(problems) }
    }

    /// Whether service start times exist for `route` meeting every time rule.
    fn times_feasible(&self, route: &[usize]) -> Result<(), String> {
        // Variables: 0 = a fixed origin "time zero", 1 = leaving the start
        // depot, 2..=q+1 = service starts, q+2 = arrival at the end depot.
        // An edge (u, v, w) means x[v] - x[u] <= w.
        let q = route.len();
        let var = |k: usize| k + 2; // route position -> variable
        let end = q + 2;
        let mut edges: Vec<(usize, usize, f64)> = Vec::new();
        let window = |v: usize, ready: f64, due: f64, edges: &mut Vec<(usize, usize, f64)>| {
            edges.push((0, v, due));
            edges.push((v, 0, -ready));
        };
        let (start, finish) = (&self.sites[self.start], &self.sites[self.end]);
        window(1, start.ready, start.due, &mut edges);
        window(end, finish.ready, finish.due, &mut edges);
        let mut prev = (1, self.start, 0.0);
        for (k, &id) in route.iter().enumerate() {
            let s = &self.sites[id];
            window(var(k), s.ready, s.due, &mut edges);
            // x[k] >= x[prev] + service(prev) + travel  <=>  x[prev] - x[k] <= -(...)
            edges.push((var(k), prev.0, -(prev.2 + self.distance(prev.1, id))));
            prev = (var(k), id, s.service);
        }
        edges.push((end, prev.0, -(prev.2 + self.distance(prev.1, self.end))));
        if let Some(limit) = self.max_duration {
            edges.push((1, end, limit));
        }
        if let Some(limit) = self.max_ride {
            for job in self.jobs.iter().filter(|j| j.len() == 2) {
                let (Some(p), Some(d)) = (route.iter().position(|&x| x == job[0]), route.iter().position(|&x| x == job[1])) else {
                    continue;
                };
                // x[d] - (x[p] + service(p)) <= L
                edges.push((var(p), var(d), limit + self.sites[job[0]].service));
            }
        }
        let n = q + 3;
        let mut dist = vec![0.0_f64; n];
        for _ in 0..n {
            let mut changed = false;
            for &(u, v, w) in &edges {
                if dist[u] + w < dist[v] - EPS {
                    dist[v] = dist[u] + w;
                    changed = true;
                }
            }
            if !changed {
                return Ok(());
            }
        }
        Err("no schedule meets its time windows, ride times and duration".to_owned())
    }
}

fn num<T: std::str::FromStr>(w: &[&str], i: usize, line: usize) -> Result<T, (usize, String)> {
    let raw = w.get(i).ok_or((line, format!("field {} missing", i + 1)))?;
    raw.parse().map_err(|_| (line, format!("field {} is {raw:?}, not a number of the expected kind", i + 1)))
}

/// A node from fields at `cols` = [id, x, y, demand, ready, due, service].
fn site(w: &[&str], cols: [usize; 7], line: usize, expected_id: usize) -> Result<Site, (usize, String)> {
    let id = num::<usize>(w, cols[0], line)?;
    if id != expected_id {
        return Err((line, format!("node {id} where node {expected_id} was expected (ids must be consecutive from 0)")));
    }
    let s = Site {
        id,
        x: num(w, cols[1], line)?,
        y: num(w, cols[2], line)?,
        demand: num::<f64>(w, cols[3], line)? as i32,
        ready: num(w, cols[4], line)?,
        due: num(w, cols[5], line)?,
        service: num(w, cols[6], line)?,
    };
    if s.ready > s.due {
        return Err((line, format!("window [{}, {}] closes before it opens", s.ready, s.due)));
    }
    Ok(s)
}
