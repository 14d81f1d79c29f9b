//! The dispatch service's state and its use cases, in plain types: the
//! company, drivers, clients, bookings and templates, dispatch runs (`run`),
//! reassignments (`reassign`), positions, the live board, the ETA-recording of
//! status changes (`eta::trips`) and the autonomous manager's settings,
//! suggestions, cycles and drift checks (`autonomy::manager`, `eta::drift`).
//! The caller (the API) has checked who is asking and what they sent; each use
//! case takes the time from the service's clock, publishes what it changed on
//! the board and counts it in the metrics. Patient names, phones and addresses
//! never reach the log: only ids are logged.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use kit::{clock::SharedClock, outbox::Outbox};
use tokio::sync::broadcast;

use crate::{
    autonomy::manager::{CycleReport, Manager},
    board::Board,
    domain::{
        BookingStatus, Invalid, Mobility,
        autonomy::Mode,
        filters::{AssignmentFilter, BookingFilter, DriverFilter},
        input::{BookingInput, ClientInput, DriverInput, TemplateInput},
        plan::{Forced, Move},
        positions::{self, Fix, Thinned},
    },
    error::Error,
    eta::{
        self,
        drift::{Drift, DriftConfig},
        trips::Trips,
    },
    metrics::DispatchMetrics,
    peers::safety::Safety,
    reassign::{MoveError, Moved, Reassign},
    run::{self, Finished, Planner, RunRequest},
    store::{
        Page, Store,
        assignments::BoardChange,
        autonomy::SettingsDefaults,
        driver_day::DriverDay,
        drivers::PositionBatch,
        entities::{
            assignment, autonomy_settings, autonomy_suggestion, booking, client, company, dispatch_run, drift_check, driver, eta_model,
            recurring_template,
        },
    },
};

/// The service: its store, its planner, its clock, the board, its metrics and
/// the parts that act on their own (the manager, reassignment, trip recording).
pub(crate) struct Dispatch {
    pub store: Store,
    pub planner: Arc<Planner>,
    pub clock: SharedClock,
    pub board: Board,
    pub metrics: DispatchMetrics,
    pub manager: Arc<Manager>,
    pub reassign: Reassign,
    pub trips: Trips,
}

/// What `serve` builds the service from.
pub(crate) struct Parts {
    /// On the counted connection: the data path.
    pub store: Store,
    pub planner: Planner,
    pub clock: SharedClock,
    pub board: Board,
    pub metrics: DispatchMetrics,
    pub safety: Safety,
    /// Where the dispatcher's notices and drift alerts are committed.
    pub outbox: Outbox,
    pub defaults: SettingsDefaults,
    pub drift: DriftConfig,
}

/// A company's autonomy settings as an admin sets them (checked).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SettingsChange {
    pub mode: Mode,
    pub lateness_threshold_minutes: i32,
    pub drift_mae_threshold_minutes: f64,
    pub drift_check_interval_seconds: i32,
    pub cycle_interval_seconds: i32,
}

impl Dispatch {
    /// The service and the parts that act on their own, sharing its store, planner, clock and board.
    pub fn assemble(p: Parts) -> Self {
        let Parts { store, planner, clock, board, metrics, safety, outbox, defaults, drift } = p;
        let planner = Arc::new(planner);
        let reassign = Reassign { store: store.clone(), planner: planner.clone(), clock: clock.clone(), board: board.clone() };
        let late = metrics.late_pickups.clone();
        let trips = Trips { store: store.clone(), planner: planner.clone(), clock: clock.clone(), defaults, late };
        let drift =
            Drift { store: store.clone(), clock: clock.clone(), metrics: metrics.clone(), outbox: outbox.clone(), defaults, cfg: drift };
        let manager = Arc::new(Manager {
            store: store.clone(),
            clock: clock.clone(),
            metrics: metrics.clone(),
            board: board.clone(),
            reassign: reassign.clone(),
            safety,
            outbox,
            defaults,
            drift,
            moved: Default::default(),
            wake: tokio::sync::Notify::new(),
        });
        Self { store, planner, clock, board, metrics, manager, reassign, trips }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn publish(&self, company_id: i64, service_day: &str, change: &'static str, rows: impl IntoIterator<Item = assignment::Model>) {
        self.board.publish(company_id, service_day, change, rows.into_iter().collect());
    }

    // ---- the company -------------------------------------------------------

    pub async fn company(&self, company_id: i64) -> Result<company::Model, Error> {
        Ok(self.store.company(company_id, self.now()).await?)
    }

    /// Reads the company, applies `change` (which checks what it sets) and
    /// saves it; with `validate_only`, answers it as it would be, unsaved.
    pub async fn update_company(
        &self,
        company_id: i64,
        validate_only: bool,
        change: impl FnOnce(&mut company::Model) -> Result<(), Invalid>,
    ) -> Result<company::Model, Error> {
        let now = self.now();
        let mut company = self.store.company(company_id, now).await?;
        let before = company.clone();
        change(&mut company)?;
        company.updated_at = now;
        if validate_only {
            return Ok(company);
        }
        Ok(self.store.save_company(&before, company).await?)
    }

    /// Registers a company (the platform operator's; name and zone checked by the caller).
    pub async fn create_company(&self, name: &str, tz: chrono_tz::Tz) -> Result<company::Model, Error> {
        let row = self.store.create_company(name, tz, self.now()).await?;
        tracing::info!(company_id = row.id, "company registered");
        Ok(row)
    }

    /// Every company with its health now.
    pub async fn companies_health(&self) -> Result<Vec<crate::store::companies::CompanyHealth>, Error> {
        Ok(self.store.companies_health(self.now()).await?)
    }

    // ---- drivers and clients -----------------------------------------------

    pub async fn create_driver(&self, company_id: i64, d: DriverInput) -> Result<driver::Model, Error> {
        let row = self.store.create_driver(company_id, d, self.now()).await?;
        tracing::info!(driver_id = row.id, "driver created");
        Ok(row)
    }

    pub async fn driver(&self, company_id: i64, id: i64) -> Result<driver::Model, Error> {
        Ok(self.store.driver(company_id, id).await?)
    }

    pub async fn list_drivers(&self, company_id: i64, f: &DriverFilter, page: (u64, u64)) -> Result<Page<driver::Model>, Error> {
        Ok(self.store.list_drivers(company_id, f, page).await?)
    }

    pub async fn update_driver(&self, company_id: i64, id: i64, d: DriverInput) -> Result<driver::Model, Error> {
        Ok(self.store.update_driver(company_id, id, d, self.now()).await?)
    }

    pub async fn delete_driver(&self, company_id: i64, id: i64) -> Result<(), Error> {
        Ok(self.store.delete_driver(company_id, id, self.now()).await?)
    }

    pub async fn create_client(&self, company_id: i64, c: ClientInput) -> Result<client::Model, Error> {
        let row = self.store.create_client(company_id, c, self.now()).await?;
        tracing::info!(client_id = row.id, "client created");
        Ok(row)
    }

    pub async fn client(&self, company_id: i64, id: i64) -> Result<client::Model, Error> {
        Ok(self.store.client(company_id, id).await?)
    }

    pub async fn list_clients(
        &self,
        company_id: i64,
        mobilities: &[Mobility],
        query: Option<&str>,
        page: (u64, u64),
    ) -> Result<Page<client::Model>, Error> {
        Ok(self.store.list_clients(company_id, mobilities, query, page).await?)
    }

    pub async fn update_client(&self, company_id: i64, id: i64, c: ClientInput) -> Result<client::Model, Error> {
        Ok(self.store.update_client(company_id, id, c, self.now()).await?)
    }

    pub async fn delete_client(&self, company_id: i64, id: i64) -> Result<(), Error> {
        Ok(self.store.delete_client(company_id, id, self.now()).await?)
    }

    // ---- bookings and templates --------------------------------------------

    /// Creates one booking.
    pub async fn create_booking(&self, company_id: i64, b: BookingInput) -> Result<booking::Model, Error> {
        let mut rows = self.store.create_bookings(company_id, vec![b], self.now()).await?;
        let row = rows.pop().expect("one booking in, one out");
        tracing::info!(booking_id = row.id, client_id = row.client_id, "booking created");
        Ok(row)
    }

    /// Creates every booking of `rows` or none.
    pub async fn create_bookings(&self, company_id: i64, rows: Vec<BookingInput>) -> Result<Vec<booking::Model>, Error> {
        let created = self.store.create_bookings(company_id, rows, self.now()).await?;
        tracing::info!(count = created.len(), "bookings created");
        Ok(created)
    }

    /// A booking and its live assignment, if any.
    pub async fn booking(&self, company_id: i64, id: i64) -> Result<(booking::Model, Option<assignment::Model>), Error> {
        let booking = self.store.booking(company_id, id).await?;
        let assignment = self.store.live_assignment(id).await?;
        Ok((booking, assignment))
    }

    pub async fn booking_row(&self, company_id: i64, id: i64) -> Result<booking::Model, Error> {
        Ok(self.store.booking(company_id, id).await?)
    }

    pub async fn list_bookings(&self, company_id: i64, f: &BookingFilter, page: (u64, u64)) -> Result<Page<booking::Model>, Error> {
        Ok(self.store.list_bookings(company_id, f, page).await?)
    }

    /// Rewrites a booking not yet started; an assignment it no longer fits is
    /// superseded, on the board too.
    pub async fn update_booking(&self, company_id: i64, id: i64, b: BookingInput) -> Result<booking::Model, Error> {
        let (row, superseded) = self.store.update_booking(company_id, id, b, self.now()).await?;
        self.publish(company_id, &row.service_day, "superseded", superseded);
        Ok(row)
    }

    /// Moves a booking along its life cycle at `now` (the trip recorded for
    /// the ETA model as having happened `at`), and its assignment with it.
    pub async fn update_booking_status(
        &self,
        company_id: i64,
        id: i64,
        (to, reason): (BookingStatus, &str),
        now: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<booking::Model, Error> {
        self.change_status(company_id, None, id, (to, reason), (now, at)).await
    }

    /// A status change by the driver `driver_id` of one of their current
    /// trips (another's, or none, is NotFound), as [`update_booking_status`](Self::update_booking_status).
    pub async fn update_trip_status(
        &self,
        (company_id, driver_id): (i64, i64),
        id: i64,
        change: (BookingStatus, &str),
        (now, at): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<booking::Model, Error> {
        self.change_status(company_id, Some(driver_id), id, change, (now, at)).await
    }

    async fn change_status(
        &self,
        company_id: i64,
        driver: Option<i64>,
        id: i64,
        (to, reason): (BookingStatus, &str),
        (now, at): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<booking::Model, Error> {
        let (row, changed) = self.store.update_status_of(company_id, driver, id, (to, reason), now).await?;
        tracing::info!(booking_id = id, status = %to, driver_id = driver, "booking status changed");
        self.trips.observe(company_id, &row, to, at).await;
        self.publish(company_id, &row.service_day, "status_changed", changed);
        Ok(row)
    }

    pub async fn create_template(&self, company_id: i64, t: TemplateInput) -> Result<recurring_template::Model, Error> {
        let row = self.store.create_template(company_id, t, self.now()).await?;
        tracing::info!(template_id = row.id, client_id = row.client_id, "recurring template created");
        Ok(row)
    }

    pub async fn list_templates(&self, company_id: i64, client_id: Option<i64>) -> Result<Vec<recurring_template::Model>, Error> {
        Ok(self.store.list_templates(company_id, client_id).await?)
    }

    pub async fn delete_template(&self, company_id: i64, id: i64) -> Result<(), Error> {
        Ok(self.store.delete_template(company_id, id, self.now()).await?)
    }

    /// The bookings the templates call for on `day`, and how many legs were already there.
    pub async fn generate_recurring(&self, company_id: i64, day: NaiveDate) -> Result<(Vec<booking::Model>, i32), Error> {
        let (created, already_present) = self.store.generate_recurring(company_id, day, self.now()).await?;
        tracing::info!(service_day = %day, created = created.len(), already_present, "recurring bookings generated");
        Ok((created, already_present))
    }

    // ---- runs, assignments, reassignment -----------------------------------

    /// One dispatch run, counted, logged and published on the board.
    pub async fn run_dispatch(&self, req: RunRequest<'_>) -> Result<Finished, Error> {
        let company_id = req.company_id;
        let started = std::time::Instant::now();
        let done = match run::run(&self.store, &self.planner, &self.clock, req).await {
            Ok(done) => done,
            Err(e) => {
                self.metrics.runs.with_label_values(&["failed"]).inc();
                return Err(e.into());
            }
        };
        self.metrics.runs.with_label_values(&["completed"]).inc();
        self.metrics.observe_run(started.elapsed(), [done.run.load_ms, done.run.solver_ms, done.run.write_ms]);
        self.metrics.unassigned.inc_by(done.run.bookings_considered.saturating_sub(done.run.bookings_assigned) as u64);
        // The run was just written with this list; one that does not parse counts as none.
        let unassigned: Vec<crate::store::runs::UnassignedRow> = serde_json::from_str(&done.run.unassigned).unwrap_or_default();
        let yesterday = (self.now() - chrono::Duration::days(1)).date_naive().to_string();
        self.metrics.unassigned_now.record(company_id, &done.run.service_day, &yesterday, unassigned.iter().map(|u| u.reason.as_str()));
        tracing::info!(
            run_id = done.run.id,
            considered = done.run.bookings_considered,
            assigned = done.run.bookings_assigned,
            load_ms = done.run.load_ms,
            solver_ms = done.run.solver_ms,
            write_ms = done.run.write_ms,
            "dispatch run completed"
        );
        let day = done.run.service_day.clone();
        self.publish(company_id, &day, "superseded", done.superseded.iter().cloned());
        self.publish(company_id, &day, "created", done.created.iter().cloned());
        Ok(done)
    }

    pub async fn run(&self, company_id: i64, id: i64) -> Result<dispatch_run::Model, Error> {
        Ok(self.store.run(company_id, id).await?)
    }

    pub async fn list_runs(&self, company_id: i64, day: Option<NaiveDate>, page: (u64, u64)) -> Result<Page<dispatch_run::Model>, Error> {
        Ok(self.store.list_runs(company_id, day, page).await?)
    }

    pub async fn list_assignments(
        &self,
        company_id: i64,
        f: &AssignmentFilter,
        page: (u64, u64),
    ) -> Result<Page<assignment::Model>, Error> {
        Ok(self.store.list_assignments(company_id, f, page).await?)
    }

    /// Puts booking `m.booking_id` on driver `m.driver_id`'s day; with `force`,
    /// also where it breaks rules (the checker's findings returned).
    pub async fn reassign(&self, company_id: i64, m: Move, forced: Option<Forced>) -> Result<Moved, MoveError> {
        self.reassign.move_bookings(company_id, &[m], forced.as_ref()).await
    }

    // ---- positions and the board --------------------------------------------

    /// Writes a batch of positions; `(accepted, rejected)` reports, those of
    /// drivers not in the caller's company being rejected.
    pub async fn record_positions(&self, company_id: i64, batch: &mut PositionBatch) -> Result<(i64, i64), Error> {
        Ok(batch.flush(&self.store, company_id).await?)
    }

    /// Counts a stream's reports; drivers that moved bring their company's next cycle closer.
    pub fn positions_reported(&self, company_id: i64, accepted: i64, rejected: i64) {
        self.metrics.positions.with_label_values(&["accepted"]).inc_by(accepted as u64);
        self.metrics.positions.with_label_values(&["rejected"]).inc_by(rejected as u64);
        if accepted > 0 {
            self.manager.positions_moved(company_id);
        }
    }

    /// The driver's day (`day`, or the company's today) and the company's time zone.
    pub async fn driver_day(&self, company_id: i64, driver_id: i64, day: Option<NaiveDate>) -> Result<(NaiveDate, Tz, DriverDay), Error> {
        let tz = self.store.time_zone(company_id).await?;
        let day = day.unwrap_or_else(|| self.now().with_timezone(&tz).date_naive());
        Ok((day, tz, self.store.driver_day(company_id, driver_id, day).await?))
    }

    /// A batch of the driver's own positions, checked already: thinned to one
    /// a second (the rest dropped and counted), the newest written as the
    /// driver's latest position unless a newer one is stored (the same
    /// write as the position stream's, which the manager reads).
    pub async fn record_driver_positions(&self, company_id: i64, driver_id: i64, fixes: Vec<Fix>) -> Result<Thinned, Error> {
        let driver = self.store.driver(company_id, driver_id).await?;
        let thinned = positions::thin(fixes, driver.last_position_at);
        if let Some(f) = thinned.newest {
            let mut batch = PositionBatch::default();
            batch.add(driver_id, f.point.lat, f.point.lon, f.at);
            self.record_positions(company_id, &mut batch).await?;
        }
        self.metrics.positions_dropped.with_label_values(&["rate"]).inc_by(thinned.dropped as u64);
        self.metrics.positions.with_label_values(&["accepted"]).inc_by(thinned.kept.len() as u64);
        if thinned.newest.is_some() {
            self.manager.positions_moved(company_id);
        }
        tracing::debug!(driver_id, kept = thinned.kept.len(), dropped = thinned.dropped, late = thinned.late, "driver positions recorded");
        Ok(thinned)
    }

    /// Counts the positions of a batch refused for a bad one.
    pub fn positions_refused(&self, count: usize) {
        self.metrics.positions_dropped.with_label_values(&["refused"]).inc_by(count as u64);
    }

    /// Every change on every board from now on.
    pub fn watch(&self) -> broadcast::Receiver<BoardChange> {
        self.board.subscribe()
    }

    // ---- the autonomous manager and the ETA model ----------------------------

    pub async fn autonomy_settings(&self, company_id: i64) -> Result<autonomy_settings::Model, Error> {
        Ok(self.store.autonomy_settings(company_id, self.manager.defaults, self.now()).await?)
    }

    /// Saves the settings; with `validate_only`, answers them as they would be, unsaved.
    pub async fn update_autonomy_settings(
        &self,
        company_id: i64,
        s: SettingsChange,
        validate_only: bool,
    ) -> Result<autonomy_settings::Model, Error> {
        let now = self.now();
        let mut row = self.store.autonomy_settings(company_id, self.manager.defaults, now).await?;
        row.mode = s.mode.as_str().to_owned();
        row.lateness_threshold_minutes = s.lateness_threshold_minutes;
        row.drift_mae_threshold_minutes = s.drift_mae_threshold_minutes;
        row.drift_check_interval_seconds = s.drift_check_interval_seconds;
        row.cycle_interval_seconds = s.cycle_interval_seconds;
        row.updated_at = now;
        if validate_only {
            return Ok(row);
        }
        let saved = self.store.save_autonomy_settings(row).await?;
        tracing::info!(company_id, mode = %saved.mode, "autonomy settings changed");
        Ok(saved)
    }

    pub async fn list_suggestions(
        &self,
        company_id: i64,
        states: &[&str],
        page: (u64, u64),
    ) -> Result<Page<autonomy_suggestion::Model>, Error> {
        Ok(self.store.list_suggestions(company_id, states, page).await?)
    }

    /// One manager cycle now (ABORTED while another of the company runs).
    pub async fn accept_suggestion(&self, company_id: i64, id: i64, by: &str) -> Result<autonomy_suggestion::Model, Error> {
        self.manager.accept(company_id, id, by).await
    }

    pub async fn dismiss_suggestion(&self, company_id: i64, id: i64, by: &str) -> Result<autonomy_suggestion::Model, Error> {
        self.manager.dismiss(company_id, id, by).await
    }

    pub async fn autonomy_cycle(&self, company_id: i64) -> Result<CycleReport, Error> {
        self.manager.cycle(company_id).await
    }

    pub async fn eta_model(&self, company_id: i64) -> Result<Option<eta_model::Model>, Error> {
        Ok(self.store.eta_model(company_id).await?)
    }

    pub async fn list_drift_checks(&self, company_id: i64, states: &[&str], page: (u64, u64)) -> Result<Page<drift_check::Model>, Error> {
        Ok(self.store.list_drift_checks(company_id, states, page).await?)
    }

    /// The company's drift checks of the last `days` local days, a summary a day, and its zone.
    pub async fn drift_days(&self, company_id: i64, days: u32) -> Result<(Vec<eta::days::Day>, Tz), Error> {
        let (tz, now) = (self.store.time_zone(company_id).await?, self.now());
        let (dates, since) = eta::days::window(tz, now, days);
        Ok((eta::days::fold(tz, &dates, &self.store.drift_check_quarters(company_id, since, now).await?), tz))
    }

    /// The company's drift check now, with its retries, recorded.
    pub async fn drift_check(&self, company_id: i64) -> Result<drift_check::Model, Error> {
        self.manager.drift.check(company_id).await
    }
}
