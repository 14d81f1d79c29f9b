//! A dispatch run from start to finish: open the run (one per company and day
//! at a time), load, build the problem, solve, check the plan with the
//! independent checker, write. Timings of each part are kept on the run.

use std::{sync::Arc, time::Instant};

use chrono::NaiveDate;

use crate::{
    domain::RunMode,
    entities::{assignment, dispatch_run},
    planning::{self, RideLimit},
    routing::Router,
    solver::{Budget, Solver, check},
    store::{RunOutcome, RunStats, Store, StoreError, UnassignedRow},
};

/// What a run needs besides the store.
#[derive(Clone)]
pub struct Planner {
    pub router: Router,
    pub solver: Arc<dyn Solver>,
    pub ride: RideLimit,
    pub default_budget: std::time::Duration,
    pub max_budget: std::time::Duration,
    /// A run still `running` after this long is taken for dead.
    pub stale_after: chrono::Duration,
    /// Runs of this process that failed while the database could not record
    /// it: closed as soon as it answers again (see [`Unclosed`]).
    pub unclosed: Unclosed,
}

/// Failed runs this process could not close because the database was down
/// when they failed. Left alone, each would block its day for `stale_after`
/// (25 minutes by default) after the database returned; instead a background
/// task retries every half second, and the next run of this process closes
/// them first.
#[derive(Clone, Default)]
pub struct Unclosed(Arc<std::sync::Mutex<Vec<(dispatch_run::Model, String)>>>);

impl Unclosed {
    const RETRY: std::time::Duration = std::time::Duration::from_millis(500);

    /// Keeps `run` to close, and retries in the background for up to `give_up`.
    fn keep(
        &self,
        store: &Store,
        clock: &kit::clock::SharedClock,
        run: dispatch_run::Model,
        message: String,
        give_up: std::time::Duration,
    ) {
        self.0.lock().expect("unclosed runs").push((run, message));
        let (me, store, clock) = (self.clone(), store.clone(), clock.clone());
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + give_up;
            while tokio::time::Instant::now() < deadline && !me.is_empty() {
                tokio::time::sleep(Self::RETRY).await;
                me.close(&store, &clock).await;
            }
        });
    }

    fn is_empty(&self) -> bool {
        self.0.lock().expect("unclosed runs").is_empty()
    }

    /// Closes every kept run the database now accepts.
    async fn close(&self, store: &Store, clock: &kit::clock::SharedClock) {
        let pending = std::mem::take(&mut *self.0.lock().expect("unclosed runs"));
        for (run, message) in pending {
            match store.fail_run(&run, &message, clock.now()).await {
                Ok(_) => tracing::info!(run_id = run.id, "closed a dispatch run that failed while the database was down"),
                Err(_) => self.0.lock().expect("unclosed runs").push((run, message)),
            }
        }
    }
}

pub struct Finished {
    pub run: dispatch_run::Model,
    pub created: Vec<assignment::Model>,
    pub superseded: Vec<assignment::Model>,
}

/// Runs dispatch for `company_id` on `day`. A failure after the run opened
/// closes it as failed with the reason, and is returned.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    store: &Store,
    planner: &Planner,
    clock: &kit::clock::SharedClock,
    company_id: i64,
    day: NaiveDate,
    mode: RunMode,
    budget_ms: u32,
    seed: u64,
    created_by: &str,
) -> Result<Finished, StoreError> {
    if !planner.unclosed.is_empty() {
        planner.unclosed.close(store, clock).await;
    }
    let run = store.start_run(company_id, day, mode, seed, created_by, clock.now(), planner.stale_after).await?;
    match plan_and_write(store, planner, clock, &run, day, mode, budget_ms, seed).await {
        Ok(done) => Ok(done),
        Err(e) => {
            let message = match &e {
                StoreError::Db(_) => "database error while running (see the service log)".to_owned(),
                other => other.to_string(),
            };
            if let Err(close) = store.fail_run(&run, &message, clock.now()).await {
                tracing::error!(run_id = run.id, error = %close, "could not close a failed dispatch run; retrying until the database answers");
                let give_up = planner.stale_after.to_std().unwrap_or_default();
                planner.unclosed.keep(store, clock, run, message, give_up);
            }
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn plan_and_write(
    store: &Store,
    planner: &Planner,
    clock: &kit::clock::SharedClock,
    run: &dispatch_run::Model,
    day: NaiveDate,
    mode: RunMode,
    budget_ms: u32,
    seed: u64,
) -> Result<Finished, StoreError> {
    let started = Instant::now();
    let tz = store.time_zone(run.company_id).await?;
    let inputs = store.run_inputs(run.company_id, day).await?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let solve_started = Instant::now();
    let drivers: Vec<_> = inputs.drivers.into_iter().filter(planning::plannable).collect();
    // A full re-plan reconsiders every not-started booking; a pending-only run
    // keeps the planned routes (re-timed) and inserts the other bookings into them.
    let (mut problem, source) = planning::build(&planner.router, planner.ride, tz, day, clock.now(), &drivers, &inputs.bookings).await;
    if mode == RunMode::PendingOnly {
        problem.keep = planning::routes_of(&problem, &inputs.live);
    }

    let budget =
        if budget_ms == 0 { planner.default_budget } else { std::time::Duration::from_millis(budget_ms.into()).min(planner.max_budget) };
    let solver = planner.solver.clone();
    let (problem, plan) = tokio::task::spawn_blocking(move || {
        let plan = solver.solve(&problem, Budget { time: budget, seed });
        (problem, plan)
    })
    .await
    .map_err(|e| StoreError::FailedPrecondition(format!("the solver stopped: {e}")))?;
    let solver_ms = solve_started.elapsed().as_secs_f64() * 1000.0;

    let violations = check::violations(&problem, &plan);
    if !violations.is_empty() {
        tracing::error!(run_id = run.id, count = violations.len(), first = ?violations[0], "the solver returned an infeasible plan");
        return Err(StoreError::FailedPrecondition(format!(
            "the {} solver returned a plan that breaks {} rules (first: {}); nothing was written",
            planner.solver.name(),
            violations.len(),
            violations[0].message
        )));
    }
    let write_started = Instant::now();
    let (metres, minutes) = plan.totals(&problem);
    let assignments = planning::assignments_of(&problem, &plan.routes);
    let unassigned_rows: Vec<UnassignedRow> = plan
        .unassigned
        .iter()
        .map(|u| UnassignedRow {
            booking_id: problem.requests[u.request].id,
            reason: u.reason.as_str().to_owned(),
            detail: u.detail.clone(),
        })
        .collect();
    // Every considered booking's plan is rewritten: kept routes get their new times.
    let considered: Vec<i64> = problem.requests.iter().map(|r| r.id).collect();
    let outcome = RunOutcome {
        unassigned: unassigned_rows.iter().map(|u| u.booking_id).collect(),
        stats: RunStats {
            load_ms,
            solver_ms,
            considered: problem.requests.len() as i32,
            drivers_used: plan.routes.len() as i32,
            distance_km: metres as f64 / 1000.0,
            duration_minutes: minutes as f64,
            unassigned: unassigned_rows,
            routing_source: source.as_str(),
            solver: planner.solver.name(),
        },
        assignments,
    };
    let (run, created, superseded) = store.finish_run(run, &considered, &outcome, clock.now(), write_started).await?;
    Ok(Finished { run, created, superseded })
}
