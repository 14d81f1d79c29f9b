//! A dispatch run from start to finish: open the run (one per company and day
//! at a time), load, build the problem, solve, check the plan with the
//! independent checker, write. Timings of each part are kept on the run.

use std::{sync::Arc, time::Instant};

use chrono::NaiveDate;

use crate::{
    domain::RunMode,
    planning::{self, RideLimit},
    routing::Router,
    solver::{Budget, Solver, check},
    store::entities::{assignment, dispatch_run},
    store::{
        Store, StoreError,
        runs::{NewRun, RunOutcome, RunStats, UnassignedRow},
    },
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

/// What a caller asks of a run.
#[derive(Clone, Copy, Debug)]
pub struct RunRequest<'a> {
    pub company_id: i64,
    pub day: NaiveDate,
    pub mode: RunMode,
    /// Milliseconds for the solver; 0: the default budget.
    pub budget_ms: u32,
    pub seed: u64,
    /// Who asked (the caller's e-mail, else its subject), kept on the run.
    pub created_by: &'a str,
}

pub struct Finished {
    pub run: dispatch_run::Model,
    pub created: Vec<assignment::Model>,
    pub superseded: Vec<assignment::Model>,
}

/// Runs dispatch for `company_id` on `day`. A failure after the run opened
/// closes it as failed with the reason, and is returned; an internal failure
/// (the solver panicked) is stored and returned as `internal error (ref …)`
/// only, its detail being in the log under that reference.
pub async fn run(store: &Store, planner: &Planner, clock: &kit::clock::SharedClock, req: RunRequest<'_>) -> Result<Finished, StoreError> {
    if !planner.unclosed.is_empty() {
        planner.unclosed.close(store, clock).await;
    }
    let new = NewRun { company_id: req.company_id, day: req.day, mode: req.mode, seed: req.seed, created_by: req.created_by };
    let run = store.start_run(new, clock.now(), planner.stale_after).await?;
    match plan_and_write(store, planner, clock, &run, &req).await {
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

async fn plan_and_write(
    store: &Store,
    planner: &Planner,
    clock: &kit::clock::SharedClock,
    run: &dispatch_run::Model,
    req: &RunRequest<'_>,
) -> Result<Finished, StoreError> {
    let RunRequest { day, mode, budget_ms, seed, .. } = *req;
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
    // A panic is a bug here, not something the caller did: its text goes to
    // the log under a reference; the caller and the run's row get the reference.
    .map_err(|e| kit::error::Internal::log(format_args!("the {} solver stopped on run {}: {e}", planner.solver.name(), run.id)))?;
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::TimeZone as _;
    use tracing_subscriber::{
        filter::{LevelFilter, filter_fn},
        layer::SubscriberExt as _,
    };

    use super::*;
    use crate::{
        routing::Haversine,
        solver::{Plan, Problem},
    };

    const PANIC_TEXT: &str = "solver scratch state: route 7 of 3 at matrix row 41";

    /// A solver with a bug: it panics whatever it is given.
    struct Panicking;

    impl Solver for Panicking {
        fn name(&self) -> &'static str {
            "panicking"
        }

        fn solve(&self, _: &Problem, _: Budget) -> Plan {
            panic!("{PANIC_TEXT}")
        }
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_solver_panic_answers_internal_with_a_reference_and_stores_only_that() {
        let captured = Captured::default();
        let writer = captured.clone();
        // Events only: a span handed to sqlx's SQLite worker thread could be
        // closed there, through that thread's dispatcher (see e2e::tracing_hop).
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false))
            .with(LevelFilter::INFO)
            .with(filter_fn(|meta| meta.is_event()));
        // A global subscriber that is never interested keeps a callsite another
        // test reaches first from being cached as "never" (see e2e::tracing_hop).
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LevelFilter::OFF));
        // One thread: the run's code logs through this subscriber.
        let _guard = tracing::subscriber::set_default(subscriber);

        for backend in kit::testing::backends() {
            let db = kit::testing::TestDb::new(backend).await.unwrap();
            let conn = kit::db::connect(&db.url).await.unwrap();
            atmr_migrations::run("dispatch", atmr_migrations::Operation::Up, &conn).await.unwrap();
            let store = Store::new(conn, chrono_tz::Europe::Zurich);
            let planner = Planner {
                router: Router::new(Haversine::default()),
                solver: Arc::new(Panicking),
                ride: RideLimit { factor: 1.5, extra: chrono::Duration::minutes(15) },
                default_budget: std::time::Duration::from_millis(50),
                max_budget: std::time::Duration::from_millis(50),
                stale_after: chrono::Duration::minutes(5),
                unclosed: Unclosed::default(),
            };
            let clock: kit::clock::SharedClock =
                Arc::new(kit::clock::ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap()));
            let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();

            let req = RunRequest { company_id: 1, day, mode: RunMode::Full, budget_ms: 0, seed: 1, created_by: "dispatcher@example.com" };
            let Err(err) = run(&store, &planner, &clock, req).await else {
                panic!("a panicking solver cannot finish a run");
            };
            let status = tonic::Status::from(err);
            assert_eq!(status.code(), tonic::Code::Internal, "{backend:?}: {status:?}");
            let internal = kit::error::Internal::parse(status.message())
                .unwrap_or_else(|| panic!("the generic message with a reference, nothing else: {:?}", status.message()));
            assert!(!status.message().contains("route 7"), "{}", status.message());

            let (runs, _) = store.list_runs(1, Some(day), (1, 10)).await.unwrap();
            assert_eq!(runs.len(), 1);
            assert_eq!(runs[0].status, "failed");
            assert_eq!(runs[0].error.as_deref(), Some(status.message()), "the run keeps the generic message, not the panic's");

            let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            let line = log.lines().find(|l| l.contains(internal.reference())).unwrap_or_else(|| panic!("the reference is logged:\n{log}"));
            assert!(line.contains(PANIC_TEXT) && line.contains("ERROR"), "the log line has the detail: {line}");
        }
    }
}
