//! 2-opt* for dial-a-ride: two routes exchange their tails (Potvin &
//! Rousseau's 2-opt*, as the dial-a-ride local searches use it).
//!
//! Ruin and recreate moves a few jobs at a time, so it rarely shifts a whole
//! stretch of day from one vehicle to another; with a route duration limit
//! (a driver's shift) that is what moves a vehicle's working hours. Two moves:
//!
//! - `exchange_tails` cuts where nobody is aboard: a random route and every
//!   other route (one empty route per class of identical vehicles), every
//!   exchange priced in O(1), the cheapest that passes the exact time test.
//! - `cross_aboard` cuts anywhere: a random route after a random stop, each
//!   other route where its day stands at that hour. The passengers riding
//!   across a cut leave both routes and are recreated like a ruin's jobs.
//!   Busy routes (capacity 6, long rides) may have nobody aboard only at their
//!   ends, where the first move finds nowhere to cut.
//!
//! The annealing decides whether the plan either gives is kept, as for ruin
//! and recreate.

use rand::Rng as _;

use super::{Route, Search, State};
use crate::solver::model::Kind;

/// How many of the cheapest exchanges are tested exactly before giving up.
const EXACT_TESTS: usize = 16;
/// How many of the cheapest crossings with passengers aboard are tested exactly.
const CROSS_TESTS: usize = 8;

/// Where a route may be cut: positions with nobody aboard, and what its
/// edges cost up to each one.
struct Cuts {
    /// Positions c (0..=q) where no pickup of `nodes[..c]` waits for its drop-off.
    at: Vec<usize>,
    /// `before[i]`: cost from the start through `nodes[i - 1]` (0 for i = 0).
    before: Vec<i64>,
    /// `leave[i]`: the earliest the vehicle can leave `nodes[i - 1]` by
    /// windows and travel alone (for i = 0, its start): a bound that holds
    /// whatever follows, unlike the route's exact earliest times, which a
    /// duration limit ties to the rest of the route.
    leave: Vec<i64>,
}

impl Search<'_> {
    /// Makes the cheapest feasible tail exchange between a random route and
    /// the others in `s` (which may cost more than `s` did: the annealing
    /// judges). Returns the change in cost as priced before the exact test,
    /// or `None`, with `s` unchanged, when no exchange is feasible.
    pub(super) fn exchange_tails(&mut self, s: &mut State) -> Option<i64> {
        self.touched.fill(false);
        let a = self.random_used(s)?;
        let cuts_a = self.cuts(&s.routes[a]);
        let mut offers: Vec<(i64, usize, usize, usize)> = Vec::new();
        for b in self.partners(s, a) {
            let rb = &s.routes[b];
            let cuts_b = self.cuts(rb);
            let ra = &s.routes[a];
            // From which position on each route's tail may go to the other vehicle.
            let movable_a = self.movable_from(ra, rb.vehicle);
            let movable_b = self.movable_from(rb, ra.vehicle);
            let old = ra.cost + rb.cost;
            for &ca in cuts_a.at.iter().filter(|&&c| c >= movable_a) {
                for &cb in cuts_b.at.iter().filter(|&&c| c >= movable_b) {
                    let (qa, qb) = (ra.nodes.len(), rb.nodes.len());
                    // Nothing moves, or two whole routes change vehicles.
                    if (ca == qa && cb == qb) || (ca == 0 && cb == 0) {
                        continue;
                    }
                    if let Some(new) = self.exchanged_cost(ra, &cuts_a, ca, rb, &cuts_b, cb) {
                        offers.push((new - old, b, ca, cb));
                    }
                }
            }
        }
        offers.sort_unstable();
        let mut first = Vec::new();
        let mut second = Vec::new();
        for &(delta, b, ca, cb) in offers.iter().take(EXACT_TESTS) {
            let (ra, rb) = (&s.routes[a], &s.routes[b]);
            first.clear();
            first.extend_from_slice(&ra.nodes[..ca]);
            first.extend_from_slice(&rb.nodes[cb..]);
            second.clear();
            second.extend_from_slice(&rb.nodes[..cb]);
            second.extend_from_slice(&ra.nodes[ca..]);
            if self.replace_if_feasible(s, (a, &mut first), (b, &mut second)) {
                s.cost = self.total(&s.routes, s.unassigned.len());
                return Some(delta);
            }
        }
        None
    }

    /// 2-opt* with passengers aboard: a random route is cut after a random
    /// stop, each other route where its own day stands at that hour, and the
    /// cheapest pairing (priced before anyone leaves) whose routes then pass
    /// the exact time test exchanges tails. The jobs riding across either cut
    /// (picked up before it, dropped off after) leave both routes: they are
    /// returned, with the jobs that were left out, for the recreate to place.
    /// `None`, with `s` unchanged, when no pairing is feasible.
    pub(super) fn cross_aboard(&mut self, s: &mut State) -> Option<Vec<usize>> {
        let m = self.m;
        self.touched.fill(false);
        let a = self.random_used(s)?;
        let qa = s.routes[a].nodes.len();
        let ca = self.rng.random_range(1..=qa);
        let cuts_a = self.cuts(&s.routes[a]);
        let when = cuts_a.leave[ca];
        let mut offers: Vec<(i64, usize, usize)> = Vec::new();
        for b in self.partners(s, a) {
            let rb = &s.routes[b];
            let cuts_b = self.cuts(rb);
            let ra = &s.routes[a];
            let qb = rb.nodes.len();
            // The stops b has left by then stay with b; one either side too.
            let mid = cuts_b.leave[1..].partition_point(|&l| l <= when);
            let old = ra.cost + rb.cost;
            for cb in mid.saturating_sub(1)..=(mid + 1).min(qb) {
                if ca == qa && cb == qb {
                    continue;
                }
                if let Some(new) = self.exchanged_cost(ra, &cuts_a, ca, rb, &cuts_b, cb) {
                    offers.push((new - old, b, cb));
                }
            }
        }
        offers.sort_unstable();
        let mut aboard = Vec::new();
        let (mut first, mut second) = (Vec::new(), Vec::new());
        for &(_, b, cb) in offers.iter().take(CROSS_TESTS) {
            let (ra, rb) = (&s.routes[a], &s.routes[b]);
            aboard.clear();
            riding_across(m, &ra.nodes, ca, &mut aboard);
            riding_across(m, &rb.nodes, cb, &mut aboard);
            if aboard.iter().any(|&j| m.jobs[j].pinned.is_some()) {
                continue;
            }
            let stays = |n: &usize| !aboard.contains(&m.nodes[*n].job);
            // Whoever changes vehicle must be allowed on the other one.
            let may_go = |nodes: &[usize], vehicle: usize| {
                nodes.iter().filter(|n| stays(n)).all(|&n| {
                    let job = m.nodes[n].job;
                    m.jobs[job].pinned.is_none() && m.can_serve(vehicle, job)
                })
            };
            if !may_go(&ra.nodes[ca..], rb.vehicle) || !may_go(&rb.nodes[cb..], ra.vehicle) {
                continue;
            }
            first.clear();
            first.extend(ra.nodes[..ca].iter().chain(&rb.nodes[cb..]).copied().filter(|n| stays(n)));
            second.clear();
            second.extend(rb.nodes[..cb].iter().chain(&ra.nodes[ca..]).copied().filter(|n| stays(n)));
            if self.replace_if_feasible(s, (a, &mut first), (b, &mut second)) {
                return Some(std::mem::take(&mut aboard));
            }
        }
        None
    }

    /// A random route with stops, if any.
    fn random_used(&mut self, s: &State) -> Option<usize> {
        let used: Vec<usize> = (0..s.routes.len()).filter(|&r| !s.routes[r].nodes.is_empty()).collect();
        (!used.is_empty()).then(|| used[self.rng.random_range(0..used.len())])
    }

    /// The routes route `a` may exchange with: every other, but only one
    /// empty route per class of identical vehicles.
    fn partners(&self, s: &State, a: usize) -> Vec<usize> {
        let mut tried_empty = Vec::new();
        (0..s.routes.len())
            .filter(|&b| {
                let rb = &s.routes[b];
                if b == a {
                    return false;
                }
                if rb.nodes.is_empty() {
                    let class = self.class[rb.vehicle];
                    if tried_empty.contains(&class) {
                        return false;
                    }
                    tried_empty.push(class);
                }
                true
            })
            .collect()
    }

    /// The cost of both routes after `ra` (cut at `ca`) and `rb` (cut at
    /// `cb`) exchange tails, or `None` when a head cannot reach the other's
    /// tail in time.
    fn exchanged_cost(&self, ra: &Route, cuts_a: &Cuts, ca: usize, rb: &Route, cuts_b: &Cuts, cb: usize) -> Option<i64> {
        (self.joins(ra, cuts_a, ca, rb, cb) && self.joins(rb, cuts_b, cb, ra, ca))
            .then(|| self.joined_cost(ra, cuts_a, ca, rb, cuts_b, cb) + self.joined_cost(rb, cuts_b, cb, ra, cuts_a, ca))
    }

    /// Routes `a` and `b` become `first` and `second` (taken) on their own
    /// vehicles if both pass the exact time test; whether they did.
    fn replace_if_feasible(&mut self, s: &mut State, (a, first): (usize, &mut Vec<usize>), (b, second): (usize, &mut Vec<usize>)) -> bool {
        let m = self.m;
        let (va, vb) = (s.routes[a].vehicle, s.routes[b].vehicle);
        let fits = |search: &mut Self, vehicle: usize, nodes: &[usize]| nodes.is_empty() || m.feasible(vehicle, nodes, &mut search.scratch);
        if !(fits(self, va, first) && fits(self, vb, second)) {
            return false;
        }
        s.routes[a] = self.route(va, std::mem::take(first));
        s.routes[b] = self.route(vb, std::mem::take(second));
        self.touched[a] = true;
        self.touched[b] = true;
        true
    }

    fn cuts(&self, r: &Route) -> Cuts {
        let m = self.m;
        let v = &m.vehicles[r.vehicle];
        let mut at = vec![0];
        let mut before = Vec::with_capacity(r.nodes.len() + 1);
        let mut leave = Vec::with_capacity(r.nodes.len() + 1);
        before.push(0);
        leave.push(v.early);
        let (mut open, mut loc, mut cost, mut t) = (0_i32, v.start, 0, v.early);
        for (i, &n) in r.nodes.iter().enumerate() {
            let node = &m.nodes[n];
            cost += m.c(loc, node.loc);
            t = (t + m.t(loc, node.loc)).max(node.early) + node.service;
            loc = node.loc;
            before.push(cost);
            leave.push(t);
            match node.kind {
                Kind::Pickup => open += 1,
                Kind::Delivery => open -= 1,
                Kind::Single => {}
            }
            if open == 0 {
                at.push(i + 1);
            }
        }
        Cuts { at, before, leave }
    }

    /// The first position from which every job of `r`'s tail may ride on `vehicle`.
    fn movable_from(&self, r: &Route, vehicle: usize) -> usize {
        let m = self.m;
        let mut from = r.nodes.len();
        while from > 0 {
            let job = m.nodes[r.nodes[from - 1]].job;
            if m.jobs[job].pinned.is_some() || !m.can_serve(vehicle, job) {
                break;
            }
            from -= 1;
        }
        from
    }

    /// Whether `x`'s head (before `cx`) can reach the first stop of `y`'s tail
    /// (from `cy`) within that stop's window: a test that never refuses a
    /// feasible exchange, done before pricing it.
    fn joins(&self, x: &Route, cuts_x: &Cuts, cx: usize, y: &Route, cy: usize) -> bool {
        let m = self.m;
        if cy == y.nodes.len() {
            return true;
        }
        let from = if cx == 0 { m.vehicles[x.vehicle].start } else { m.nodes[x.nodes[cx - 1]].loc };
        let head = &m.nodes[y.nodes[cy]];
        cuts_x.leave[cx] + m.t(from, head.loc) <= head.late
    }

    /// The cost of `x`'s head (before `cx`) followed by `y`'s tail (from `cy`)
    /// on `x`'s vehicle, the vehicle's own cost included if the route is used.
    fn joined_cost(&self, x: &Route, cuts_x: &Cuts, cx: usize, y: &Route, cuts_y: &Cuts, cy: usize) -> i64 {
        let m = self.m;
        let v = &m.vehicles[x.vehicle];
        let qy = y.nodes.len();
        if cx == 0 && cy == qy {
            return 0;
        }
        let (head, from) = if cx == 0 { (0, v.start) } else { (cuts_x.before[cx], m.nodes[x.nodes[cx - 1]].loc) };
        let rest = if cy == qy {
            m.c(from, v.end)
        } else {
            let tail_inside = cuts_y.before[qy] - cuts_y.before[cy + 1];
            m.c(from, m.nodes[y.nodes[cy]].loc) + tail_inside + m.c(m.nodes[y.nodes[qy - 1]].loc, v.end)
        };
        head + rest + self.vehicle_cost
    }
}

/// Adds to `out` the jobs of `nodes` picked up before position `cut` and
/// dropped off at or after it.
fn riding_across(m: &crate::solver::model::Model, nodes: &[usize], cut: usize, out: &mut Vec<usize>) {
    for &n in &nodes[cut..] {
        let node = &m.nodes[n];
        if node.kind == Kind::Delivery && nodes[..cut].contains(&m.jobs[node.job].nodes[0]) {
            out.push(node.job);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Search, State, tests::random_darp};
    use crate::solver::model::Objective;

    fn served(m: &crate::solver::model::Model, s: &State) -> Vec<usize> {
        let mut jobs: Vec<usize> = s.routes.iter().flat_map(|r| r.nodes.iter().map(|&n| m.nodes[n].job)).collect();
        jobs.sort_unstable();
        jobs
    }

    /// Every exchange made keeps each route feasible (by the instance's own
    /// checker) and every job where it was served, and its O(1) price is the
    /// real change in the plan's cost.
    #[test]
    fn an_exchange_is_feasible_and_priced_exactly() {
        let mut made = 0;
        for seed in 0..30 {
            let instance = random_darp(seed, 8 + seed as usize % 8, 3);
            for objective in [Objective::Distance, Objective::Vehicles] {
                let model = instance.model(objective);
                let mut search = Search::new(&model, seed);
                let mut state = search.construct(None);
                let mut partial = instance.clone();
                partial.jobs.retain(|j| !state.unassigned.iter().any(|&u| instance.jobs[u] == *j));
                for _ in 0..20 {
                    let (before, jobs) = (state.cost, served(&model, &state));
                    let Some(delta) = search.exchange_tails(&mut state) else { continue };
                    made += 1;
                    assert_eq!(state.cost - before, delta, "seed {seed} {objective:?}: priced as it costs");
                    assert_eq!(served(&model, &state), jobs, "seed {seed}: the same jobs, each once");
                    let routes: Vec<Vec<usize>> = state.routes.iter().map(|r| r.nodes.clone()).collect();
                    partial.check(&instance.routes_of(&model, &routes)).unwrap_or_else(|e| panic!("seed {seed} {objective:?}: {e:?}"));
                }
            }
        }
        assert!(made > 100, "enough exchanges to mean something: {made}");
    }

    /// A crossing keeps both routes feasible, and every job it took off a
    /// route is one that rode across a cut: served before, returned now, and
    /// served nowhere else.
    #[test]
    fn a_crossing_is_feasible_and_returns_exactly_the_jobs_riding_across() {
        let (mut made, mut returned) = (0, 0);
        for seed in 0..30 {
            let instance = random_darp(seed, 8 + seed as usize % 8, 3);
            let model = instance.model(Objective::Distance);
            let mut search = Search::new(&model, seed);
            let mut state = search.construct(None);
            let mut partial = instance.clone();
            partial.jobs.retain(|j| !state.unassigned.iter().any(|&u| instance.jobs[u] == *j));
            for _ in 0..20 {
                let before = served(&model, &state);
                let routes_before: Vec<Vec<usize>> = state.routes.iter().map(|r| r.nodes.clone()).collect();
                let Some(aboard) = search.cross_aboard(&mut state) else { continue };
                made += 1;
                returned += aboard.len();
                for &j in &aboard {
                    let pickup = model.jobs[j].nodes[0];
                    let delivery = model.jobs[j].nodes[1];
                    let route = routes_before.iter().find(|r| r.contains(&pickup)).expect("it was served");
                    let at = |n| route.iter().position(|&x| x == n).unwrap();
                    assert!(at(pickup) < at(delivery), "seed {seed}: job {j}");
                }
                let mut now = served(&model, &state);
                now.extend(aboard.iter().flat_map(|&j| [j, j])); // a pickup and a drop-off each
                now.sort_unstable();
                assert_eq!(now, before, "seed {seed}: every job once, on a route or returned");
                let routes: Vec<Vec<usize>> = state.routes.iter().map(|r| r.nodes.clone()).collect();
                let mut left = partial.clone();
                left.jobs.retain(|job| !aboard.iter().any(|&j| instance.jobs[j] == *job));
                left.check(&instance.routes_of(&model, &routes)).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
                // Put them back for the next crossing.
                search.recreate(&mut state, aboard);
                partial.jobs.retain(|j| !state.unassigned.iter().any(|&u| instance.jobs[u] == *j));
            }
        }
        assert!(made > 100, "enough crossings to mean something: {made}");
        assert!(returned > 50, "some with passengers aboard: {returned}");
    }
}
