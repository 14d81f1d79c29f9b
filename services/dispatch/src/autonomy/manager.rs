//! The autonomous manager's cycle and its scheduler. Per company, a mode:
//! `off`; `suggest` (proposals are stored as open suggestions); `autonomous`
//! (each proposal is first authorized by the safety service, executed only if
//! allowed, then reported with its outcome and execution time). A blocked
//! proposal becomes a suggestion and a notification; with safety unreachable
//! nothing is executed and the dispatcher is told (fail closed).
//!
//! The path of one autonomous action: `schedule` (here) -> `cycle` ->
//! `propose::propose` -> `peers::safety::Safety::authorize` -> `execute`
//! (`reassign::Reassign` or the store) -> `Safety::complete` -> the
//! suggestion row (`store::autonomy`).
//!
//! The scheduler runs each company's cycle at its interval and soon after
//! position reports, never two at once for a company (a lease in its settings
//! row, so across replicas too), and each company's drift check at its own
//! interval (`eta::drift`).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use kit::{Lifecycle, clock::SharedClock, outbox::Outbox};
use tonic::{Code, Status};

use super::{
    forecast::{Day, Places, positions},
    propose::{propose, readable},
};
use crate::{
    board::Board,
    domain::{
        autonomy::{Mode, Proposal},
        plan::Move,
    },
    error::Error,
    eta::{drift::Drift, model::Factors},
    metrics::DispatchMetrics,
    peers::{notify, safety::Safety},
    reassign::{MoveError, Reassign},
    store::{
        Store,
        autonomy::{Lease, SettingsDefaults},
        entities::{autonomy_settings, autonomy_suggestion, booking},
    },
};

/// At most one cycle per company this often, whatever triggers it.
const MIN_CYCLE_GAP: chrono::Duration = chrono::Duration::seconds(5);
/// A cycle holds its lease at most this long (a crashed holder's lease runs out).
const CYCLE_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The manager with what it needs.
pub(crate) struct Manager {
    pub store: Store,
    pub clock: SharedClock,
    pub metrics: DispatchMetrics,
    /// Where a re-timed assignment is published.
    pub board: Board,
    /// Executes reassignments and swaps; its planner's router gives the forecasts' travel times.
    pub reassign: Reassign,
    pub safety: Safety,
    /// Where the dispatcher's notices are committed.
    pub outbox: Outbox,
    pub defaults: SettingsDefaults,
    /// The drift check the scheduler runs.
    pub drift: Drift,
    /// Companies whose drivers reported positions since their last cycle.
    pub moved: Mutex<BTreeSet<i64>>,
    pub wake: tokio::sync::Notify,
}

/// What one cycle saw and did.
#[derive(Clone, Debug, Default)]
pub struct CycleReport {
    pub late_bookings: usize,
    pub suggestions: Vec<autonomy_suggestion::Model>,
    pub executed: usize,
    pub blocked: usize,
}

/// What executing an authorized action did, as safety must hear it: the
/// status a client would get for the same error (`api/status.rs`).
#[derive(Debug)]
enum Outcome {
    /// Everything it writes was committed.
    Done,
    /// Nothing was written.
    Failed(Status),
    /// Whether it was written is not known (a commit whose answer was lost).
    Unknown(Status),
}

impl Manager {
    /// One manager cycle for `company_id` now. Fails with ABORTED when another
    /// cycle of the company is running (here or on another replica).
    pub(crate) async fn cycle(&self, company_id: i64) -> Result<CycleReport, Error> {
        let now = self.clock.now();
        let settings = self.store.autonomy_settings(company_id, self.defaults, now).await?;
        if !self.store.try_lease(company_id, Lease::Cycle, now, now + CYCLE_LEASE).await? {
            return Err(Error::Aborted(format!("an autonomy cycle of company {company_id} is running; try again")));
        }
        let started = Instant::now();
        let result = self.cycle_holding_lease(company_id, &settings).await;
        self.store.release_lease(company_id, Lease::Cycle, self.clock.now()).await?;
        self.metrics.autonomy_cycle.observe(started.elapsed().as_secs_f64());
        result
    }

    async fn cycle_holding_lease(&self, company_id: i64, settings: &autonomy_settings::Model) -> Result<CycleReport, Error> {
        let now = self.clock.now();
        let mode = Mode::stored(settings.id, &settings.mode)?;
        let tz = self.store.time_zone(company_id).await?;
        let (drivers, bookings, live) = self.store.live_day(company_id, now.with_timezone(&tz).date_naive()).await?;
        // The manager acts on the whole day or not at all: a row it cannot read stops the cycle.
        readable(&drivers, &bookings, &live)?;
        let (factors, mae) = match self.store.eta_model(company_id).await? {
            // A corrupt model is logged (from_stored); the cycle goes on with the routing estimate.
            Some(m) => (Factors::from_stored(m.version, &m.factors).unwrap_or_else(|_| Factors::identity()), m.mae_minutes),
            None => (Factors::identity(), 5.0),
        };
        let bookings: HashMap<i64, booking::Model> = bookings.into_iter().map(|b| (b.id, b)).collect();
        let threshold = i64::from(settings.lateness_threshold_minutes) * 60;
        let places = Places::routed(&self.reassign.planner.router, &positions(now, &drivers), &bookings).await;
        let day = Day { now, tz, factors: &factors, places: &places };
        let (late, proposals) = propose(&day, threshold, mae, &drivers, &bookings, &live);
        let mut report = CycleReport { late_bookings: late, ..CycleReport::default() };
        if mode == Mode::Off {
            return Ok(report);
        }
        // Open suggestions nobody proposes any more expire; none is stored twice.
        let open = self.store.open_suggestions(company_id).await?;
        let same = |s: &autonomy_suggestion::Model, p: &Proposal| {
            s.kind == p.kind && s.booking_id == p.booking_id && s.to_driver_id == p.to_driver_id && s.other_booking_id == p.other_booking_id
        };
        let stale: Vec<i64> = open.iter().filter(|s| !proposals.iter().any(|p| same(s, p))).map(|s| s.id).collect();
        self.store.expire_suggestions(&stale, now).await?;
        let mut safety_down: Option<String> = None;
        for p in proposals {
            if mode == Mode::Suggest {
                if !open.iter().any(|s| same(s, &p)) {
                    report.suggestions.push(self.store.insert_suggestion(company_id, &p, "open", None, now).await?);
                }
                continue;
            }
            if safety_down.is_some() {
                report.suggestions.push(self.store.insert_suggestion(company_id, &p, "safety_unavailable", None, now).await?);
                continue;
            }
            match self.safety.authorize(company_id, &p).await {
                Ok(Some(action_id)) => {
                    let t = Instant::now();
                    let outcome = self.execute(company_id, &p).await;
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    self.complete(company_id, action_id, &outcome, ms).await;
                    let (state, label) = match &outcome {
                        Outcome::Done => {
                            report.executed += 1;
                            ("executed", "executed")
                        }
                        Outcome::Failed(e) => {
                            tracing::warn!(company_id, booking_id = p.booking_id, kind = p.kind, error = %e.message(), "autonomous action failed, nothing written; left as a suggestion");
                            ("open", "failed")
                        }
                        Outcome::Unknown(e) => {
                            tracing::warn!(company_id, booking_id = p.booking_id, kind = p.kind, error = %e.message(), "autonomous action's outcome unknown; left as a suggestion");
                            ("open", "unknown")
                        }
                    };
                    self.metrics.autonomy_actions.with_label_values(&[p.kind, label]).inc();
                    report.suggestions.push(self.store.insert_suggestion(company_id, &p, state, Some(action_id), now).await?);
                }
                Ok(None) => {
                    report.blocked += 1;
                    self.metrics.autonomy_actions.with_label_values(&[p.kind, "blocked"]).inc();
                    let title = format!("Blocked by the safety limits: {}", p.description);
                    let row = self
                        .store
                        .insert_suggestion_with_notice(&self.outbox, company_id, &p, "blocked", now, |row| {
                            notify::dispatcher("dispatch.autonomy_blocked", title, format!("autonomy.blocked:{}", row.id), &p)
                        })
                        .await?;
                    report.suggestions.push(row);
                }
                Err(status) => {
                    self.metrics.autonomy_actions.with_label_values(&[p.kind, "safety_unavailable"]).inc();
                    tracing::warn!(company_id, code = ?status.code(), error = %status.message(), "safety unreachable: no autonomous action this cycle");
                    let notice = notify::dispatcher(
                        "dispatch.autonomy_safety_unavailable",
                        "The safety service cannot be reached: the autonomous manager acts on nothing until it is back".to_owned(),
                        format!("autonomy.safety_unavailable:{company_id}:{}", now.timestamp() / 600),
                        &p,
                    );
                    safety_down = Some(status.message().to_owned());
                    let row = self
                        .store
                        .insert_suggestion_with_notice(&self.outbox, company_id, &p, "safety_unavailable", now, |_| notice)
                        .await?;
                    report.suggestions.push(row);
                }
            }
        }
        Ok(report)
    }

    /// Reports an executed action's outcome: a success only when all it
    /// writes was committed, a failure only when nothing was written. When
    /// that is not known, nothing is reported: the action stays "authorized"
    /// in the audit trail, counted against the limits, which is the safe
    /// side. A failure to report is logged likewise.
    async fn complete(&self, company_id: i64, action_id: i64, outcome: &Outcome, ms: f64) {
        let failure = match outcome {
            Outcome::Done => None,
            Outcome::Failed(e) => Some(e.message().to_owned()),
            Outcome::Unknown(e) => {
                tracing::warn!(company_id, action_id, error = %e.message(), "an autonomous action's outcome is unknown: not reported, it stays authorized");
                return;
            }
        };
        if let Err(e) = self.safety.complete(company_id, action_id, failure, ms).await {
            tracing::warn!(company_id, action_id, code = ?e.code(), error = %e.message(), "could not report an autonomous action's outcome");
        }
    }

    async fn execute(&self, company_id: i64, p: &Proposal) -> Outcome {
        let moves = match (p.kind, moves_of(p)) {
            (_, Some(moves)) => moves,
            ("reassign" | "swap", None) => {
                return Outcome::Failed(Status::internal(format!("a {} without its drivers and bookings", p.kind)));
            }
            ("delay", ..) => return self.delay(company_id, p).await,
            ("notify_dispatcher", ..) => {
                let now = self.clock.now();
                let key = format!("autonomy.late:{}:{}", p.booking_id, now.timestamp() / 900);
                let notice = notify::dispatcher("dispatch.late_booking", p.description.clone(), key, p);
                // One statement: an error wrote nothing unless the connection broke under it.
                return match self.store.enqueue_notice(&self.outbox, company_id, &notice, now).await {
                    Ok(()) => Outcome::Done,
                    Err(e) => {
                        let status = Status::from(Error::from(e));
                        if status.code() == Code::Unavailable { Outcome::Unknown(status) } else { Outcome::Failed(status) }
                    }
                };
            }
            (other, ..) => return Outcome::Failed(Status::internal(format!("unknown action {other}"))),
        };
        match self.reassign.move_bookings(company_id, &moves, None).await {
            Ok(_) => Outcome::Done,
            Err(MoveError::NotDone(e)) => Outcome::Failed(e.into()),
            Err(MoveError::Unknown(e)) => Outcome::Unknown(e.into()),
        }
    }

    /// Re-times a booking's planned assignment: one statement, so an error
    /// wrote nothing unless the connection broke under it.
    async fn delay(&self, company_id: i64, p: &Proposal) -> Outcome {
        let Some((pickup, dropoff)) = p.retime else { return Outcome::Failed(Status::internal("a delay without its times")) };
        match self.store.retime(company_id, p.booking_id, pickup, dropoff, self.clock.now()).await {
            Ok(Some(row)) => {
                match self.store.booking(company_id, p.booking_id).await {
                    Ok(b) => self.board.publish(company_id, &b.service_day, "retimed", vec![row]),
                    Err(e) => tracing::warn!(booking_id = p.booking_id, error = %e, "a re-timed assignment was not published to the board"),
                }
                Outcome::Done
            }
            Ok(None) => {
                Outcome::Failed(Status::failed_precondition(format!("booking {} has no planned assignment any more", p.booking_id)))
            }
            Err(e) => {
                let status = Status::from(Error::from(e));
                if status.code() == Code::Unavailable { Outcome::Unknown(status) } else { Outcome::Failed(status) }
            }
        }
    }

    /// A dispatcher accepts suggestion `id`: claimed first (of two accepting
    /// at once, one wins), then executed as a manual change — a reassignment
    /// or swap through the checked path of `ReassignBooking`, a re-timing to
    /// the proposed times, a note acknowledged. Refused, the suggestion is
    /// back as it was and the refusal is the answer.
    pub(crate) async fn accept(&self, company_id: i64, id: i64, by: &str) -> Result<autonomy_suggestion::Model, Error> {
        let row = self.store.suggestion(company_id, id).await?;
        let before = reviewable(&row)?;
        if !self.store.decide_suggestion(id, before, "accepted", by, self.clock.now()).await? {
            return Err(Error::FailedPrecondition(format!("suggestion {id} was decided meanwhile")));
        }
        let p = proposal_of(&row)?;
        let done = match p.kind {
            "notify_dispatcher" => Ok(()),
            "delay" => match p.retime {
                Some((pickup, dropoff)) => match self.store.retime(company_id, p.booking_id, pickup, dropoff, self.clock.now()).await {
                    Ok(Some(assignment)) => {
                        let day = self.store.booking(company_id, p.booking_id).await.map(|b| b.service_day);
                        if let Ok(day) = day {
                            self.board.publish(company_id, &day, "retimed", vec![assignment]);
                        }
                        Ok(())
                    }
                    Ok(None) => Err(Error::FailedPrecondition(format!("booking {} has no planned assignment any more", p.booking_id))),
                    Err(e) => Err(e.into()),
                },
                None => Err(Error::FailedPrecondition(format!("suggestion {id} was stored without the times it proposes"))),
            },
            _ => match moves_of(&p) {
                Some(moves) => self.reassign.move_bookings(company_id, &moves, None).await.map(|_| ()).map_err(|e| match e {
                    MoveError::NotDone(e) | MoveError::Unknown(e) => e,
                }),
                None => Err(Error::FailedPrecondition(format!("suggestion {id} names no driver to move to"))),
            },
        };
        if let Err(e) = done {
            self.store.undo_decision(id, before, self.clock.now()).await?;
            return Err(e);
        }
        tracing::info!(company_id, suggestion_id = id, kind = p.kind, by, "suggestion accepted");
        Ok(self.store.suggestion(company_id, id).await?)
    }

    /// A dispatcher dismisses suggestion `id`; nothing else changes.
    pub(crate) async fn dismiss(&self, company_id: i64, id: i64, by: &str) -> Result<autonomy_suggestion::Model, Error> {
        let row = self.store.suggestion(company_id, id).await?;
        let before = reviewable(&row)?;
        if !self.store.decide_suggestion(id, before, "dismissed", by, self.clock.now()).await? {
            return Err(Error::FailedPrecondition(format!("suggestion {id} was decided meanwhile")));
        }
        tracing::info!(company_id, suggestion_id = id, by, "suggestion dismissed");
        Ok(self.store.suggestion(company_id, id).await?)
    }

    /// Marks that `company_id`'s drivers moved: its next cycle comes soon.
    pub(crate) fn positions_moved(&self, company_id: i64) {
        self.moved.lock().expect("not poisoned").insert(company_id);
        self.wake.notify_one();
    }
}

/// Runs due cycles and drift checks until `life` stops. `polling` reads the
/// work list and takes the drift leases: a connection outside the counted data
/// path, so that a run's statement count stays its own.
/// The moves a reassignment or a swap makes (a swap's two legs go in one
/// transaction that re-checks both days: both or neither); None for other
/// kinds, or when the drivers and bookings are missing.
fn moves_of(p: &Proposal) -> Option<Vec<Move>> {
    match (p.kind, p.to_driver_id, p.from_driver_id, p.other_booking_id) {
        ("reassign", Some(to), _, _) => Some(vec![Move { booking_id: p.booking_id, driver_id: to }]),
        ("swap", Some(to), Some(from), Some(other)) => {
            Some(vec![Move { booking_id: p.booking_id, driver_id: to }, Move { booking_id: other, driver_id: from }])
        }
        _ => None,
    }
}

/// The state a suggestion a dispatcher may still decide on is in.
fn reviewable(row: &autonomy_suggestion::Model) -> Result<&'static str, Error> {
    match row.state.as_str() {
        "open" => Ok("open"),
        "blocked" => Ok("blocked"),
        "safety_unavailable" => Ok("safety_unavailable"),
        other => Err(Error::FailedPrecondition(format!("suggestion {} is {other}; only an open one can be decided", row.id))),
    }
}

/// The proposal a stored suggestion is.
fn proposal_of(row: &autonomy_suggestion::Model) -> Result<Proposal, Error> {
    let kind = match row.kind.as_str() {
        "reassign" => "reassign",
        "swap" => "swap",
        "delay" => "delay",
        "notify_dispatcher" => "notify_dispatcher",
        other => return Err(kit::stored::UnknownValue::new("autonomy_suggestion", "kind", row.id, other).into()),
    };
    Ok(Proposal {
        kind,
        booking_id: row.booking_id,
        from_driver_id: row.from_driver_id,
        to_driver_id: row.to_driver_id,
        other_booking_id: row.other_booking_id,
        description: row.description.clone(),
        confidence: row.confidence_score,
        improvement_minutes: row.expected_improvement_minutes,
        retime: row.retime_pickup_at.zip(row.retime_dropoff_at),
    })
}

pub(crate) async fn schedule(manager: Arc<Manager>, polling: Store, every: Duration, life: Lifecycle) {
    let mut last_cycle: HashMap<i64, DateTime<Utc>> = HashMap::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = manager.wake.notified() => {}
            () = life.stopping() => return,
        }
        let moved = std::mem::take(&mut *manager.moved.lock().expect("not poisoned"));
        let companies = match polling.all_autonomy_settings().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "autonomy scheduler: reading settings failed");
                continue;
            }
        };
        for s in companies {
            let now = manager.clock.now();
            if s.drift_lease_until <= now {
                let next = now + chrono::Duration::seconds(i64::from(s.drift_check_interval_seconds));
                if matches!(polling.try_lease(s.company_id, Lease::Drift, now, next).await, Ok(true))
                    && let Err(e) = manager.drift.check(s.company_id).await
                {
                    let e = Status::from(e);
                    tracing::warn!(company_id = s.company_id, error = %e.message(), "scheduled drift check failed");
                }
            }
            match Mode::stored(s.id, &s.mode) {
                Ok(Mode::Off) => continue,
                Ok(_) => {}
                Err(e) => {
                    // The other companies' cycles go on.
                    tracing::error!(company_id = s.company_id, value = %e.value, "autonomy settings hold an unknown mode: no cycle for the company");
                    continue;
                }
            }
            let interval = chrono::Duration::seconds(i64::from(s.cycle_interval_seconds));
            let last = *last_cycle.entry(s.company_id).or_insert(now);
            let due = now - last >= interval || (moved.contains(&s.company_id) && now - last >= MIN_CYCLE_GAP);
            if !due {
                continue;
            }
            last_cycle.insert(s.company_id, now);
            match manager.cycle(s.company_id).await {
                Ok(r) => tracing::debug!(
                    company_id = s.company_id,
                    late = r.late_bookings,
                    executed = r.executed,
                    blocked = r.blocked,
                    "autonomy cycle"
                ),
                Err(Error::Aborted(_)) => {}
                Err(e) => {
                    let e = Status::from(e);
                    tracing::warn!(company_id = s.company_id, error = %e.message(), "autonomy cycle failed");
                }
            }
        }
    }
}
