//! The autonomous manager: from drivers' last positions and each booking's
//! progress it predicts, with the ETA model, when every remaining stop of the
//! day will be served; a pickup or appointment missed by more than the
//! company's threshold is late, and the manager proposes what would help —
//! give the booking to another driver, swap it with another driver's next
//! booking, re-time it later within its window, or tell the dispatcher — each
//! with a confidence score and the expected improvement in minutes.
//!
//! Per company, a mode: `off`; `suggest` (proposals are stored as open
//! suggestions); `autonomous` (each proposal is first authorized by the
//! safety service, executed only if allowed, then reported with its outcome
//! and execution time). A blocked proposal becomes a suggestion and a
//! notification; with safety unreachable nothing is executed and the
//! dispatcher is told (fail closed).
//!
//! The scheduler runs each company's cycle at its interval and soon after
//! position reports, never two at once for a company (a lease in its settings
//! row, so across replicas too), and each company's drift check at its own
//! interval (`drift.rs`).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use atmr_proto::safety::v1::{AuthorizeActionRequest, CompleteActionRequest, safety_service_client::SafetyServiceClient};
use chrono::{DateTime, Timelike as _, Utc};
use kit::{
    Lifecycle,
    auth::TokenKeys,
    notify::{Field, Notice, Severity},
};
use tonic::{Code, Status, transport::Channel};

use crate::{
    domain::{
        AssignmentStatus, BookingStatus, Load, Mobility, UnknownValue, VehicleKind,
        autonomy::{Mode, Proposal},
        geo::Point,
    },
    eta::{self, Factors},
    grpc::DispatchApi,
    reassign::MoveError,
    routing::{Matrix, Router},
    store::entities::{assignment, booking, driver},
    store::{
        autonomy::{Lease, SettingsDefaults},
        day::Move,
    },
};

/// A position older than this is not used to predict.
const POSITION_MAX_AGE: chrono::Duration = chrono::Duration::minutes(30);
/// At most one cycle per company this often, whatever triggers it.
const MIN_CYCLE_GAP: chrono::Duration = chrono::Duration::seconds(5);
/// A cycle holds its lease at most this long (a crashed holder's lease runs out).
const CYCLE_LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// What triggers an autonomous action, in the audit trail.
const TRIGGER: &str = "autonomous_manager";

/// What the manager needs beside the dispatch service's own parts.
pub struct Autonomy {
    pub safety: SafetyServiceClient<Channel>,
    /// Where the dispatcher's notices and drift alerts are committed.
    pub outbox: kit::outbox::Outbox,
    pub keys: Arc<TokenKeys>,
    pub defaults: SettingsDefaults,
    pub drift: crate::drift::DriftConfig,
    /// Companies whose drivers reported positions since their last cycle.
    pub moved: Mutex<BTreeSet<i64>>,
    pub wake: tokio::sync::Notify,
}

/// What one cycle saw and did.
#[derive(Clone, Debug, Default)]
pub struct CycleReport {
    pub late_bookings: usize,
    pub suggestions: Vec<crate::store::entities::autonomy_suggestion::Model>,
    pub executed: usize,
    pub blocked: usize,
}

/// What executing an authorized action did, as safety must hear it.
#[derive(Debug)]
enum Outcome {
    /// Everything it writes was committed.
    Done,
    /// Nothing was written.
    Failed(Status),
    /// Whether it was written is not known (a commit whose answer was lost).
    Unknown(Status),
}

/// A stop still to serve on a driver's day.
#[derive(Clone, Copy, Debug)]
struct Stop<'a> {
    booking: &'a booking::Model,
    pickup: bool,
}

/// A booking's predicted pickup start (none if already aboard), drop-off, and
/// lateness in seconds (the worse of pickup window and appointment).
type Predicted = (Option<DateTime<Utc>>, DateTime<Utc>, i64);

/// The predicted service of each stop of a route, by booking id.
#[derive(Clone, Debug, Default)]
struct Forecast {
    bookings: HashMap<i64, Predicted>,
}

impl Forecast {
    /// Minutes late in total, counting only what exceeds the threshold.
    fn excess(&self, threshold: i64) -> i64 {
        self.bookings.values().map(|b| (b.2 - threshold).max(0)).sum()
    }
}

/// Where the manager's forecasts go: every driver's position and every
/// booking's pickup and drop-off, with the travel matrix over them (the
/// service's router: OSRM when configured, else the haversine model).
pub(crate) struct Places {
    matrix: Matrix,
    index: Index,
}

/// The matrix position of each driver, pickup and drop-off.
struct Index {
    coords: Vec<Point>,
    driver: HashMap<i64, usize>,
    pickup: HashMap<i64, usize>,
    dropoff: HashMap<i64, usize>,
}

impl Index {
    /// The places of `positions` (driver id → position) and `bookings`.
    fn new(positions: &[(i64, Point)], bookings: &HashMap<i64, booking::Model>) -> Self {
        let mut index = Self {
            coords: Vec::with_capacity(positions.len() + 2 * bookings.len()),
            driver: HashMap::new(),
            pickup: HashMap::new(),
            dropoff: HashMap::new(),
        };
        for &(id, p) in positions {
            index.driver.insert(id, index.coords.len());
            index.coords.push(p);
        }
        let mut ids: Vec<&i64> = bookings.keys().collect();
        ids.sort_unstable();
        for id in ids {
            let b = &bookings[id];
            index.pickup.insert(b.id, index.coords.len());
            index.coords.push(Point { lat: b.pickup_lat, lon: b.pickup_lon });
            index.dropoff.insert(b.id, index.coords.len());
            index.coords.push(Point { lat: b.dropoff_lat, lon: b.dropoff_lon });
        }
        index
    }
}

impl Places {
    pub(crate) async fn routed(router: &Router, positions: &[(i64, Point)], bookings: &HashMap<i64, booking::Model>) -> Self {
        let index = Index::new(positions, bookings);
        let (matrix, _) = router.matrix(&index.coords).await;
        Self { matrix, index }
    }

    #[cfg(test)]
    fn haversine(positions: &[(i64, Point)], bookings: &HashMap<i64, booking::Model>) -> Self {
        let index = Index::new(positions, bookings);
        Self { matrix: crate::routing::Haversine::default().matrix(&index.coords), index }
    }
}

/// The day as the manager sees it.
struct Day<'a> {
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    factors: &'a Factors,
    places: &'a Places,
}

impl Day<'_> {
    fn travel(&self, from: usize, to: usize, at: DateTime<Utc>) -> i64 {
        let base = self.places.matrix.secs(from, to) as f64;
        let hour = at.with_timezone(&self.tz).hour();
        let p = self.places.index.coords[from];
        self.factors.predict(base, hour, &eta::zone(p.lat, p.lon)).round() as i64
    }

    /// Serves `stops` in order from place `start` at `now`.
    fn forecast(&self, start: usize, stops: &[Stop<'_>]) -> Forecast {
        let mut f = Forecast::default();
        let (mut t, mut at) = (self.now, start);
        for s in stops {
            let b = s.booking;
            let place = if s.pickup { self.places.index.pickup[&b.id] } else { self.places.index.dropoff[&b.id] };
            let arrive = t + chrono::Duration::seconds(self.travel(at, place, t));
            let boarding = chrono::Duration::minutes(i64::from(b.boarding_minutes));
            if s.pickup {
                let start = b.pickup_earliest.map_or(arrive, |e| arrive.max(e));
                let late = b.pickup_latest.map_or(0, |l| (start - l).num_seconds());
                f.bookings.insert(b.id, (Some(start), start, late));
                t = start + boarding;
            } else {
                let entry = f.bookings.entry(b.id).or_insert((None, arrive, 0));
                entry.1 = arrive;
                if let Some(appointment) = b.appointment_time {
                    entry.2 = entry.2.max((arrive - appointment).num_seconds());
                }
                t = arrive + boarding;
            }
            at = place;
        }
        f
    }
}

/// The drivers with a recent position, and where.
fn positions(now: DateTime<Utc>, drivers: &[driver::Model]) -> Vec<(i64, Point)> {
    drivers
        .iter()
        .filter_map(|d| match (d.last_lat, d.last_lon, d.last_position_at) {
            (Some(lat), Some(lon), Some(at)) if now - at <= POSITION_MAX_AGE => Some((d.id, Point { lat, lon })),
            _ => None,
        })
        .collect()
}

/// A driver's remaining stops in planned order.
fn stops_of<'a>(driver_id: i64, live: &[assignment::Model], bookings: &'a HashMap<i64, booking::Model>) -> Vec<(Stop<'a>, DateTime<Utc>)> {
    let mut stops = Vec::new();
    for a in live.iter().filter(|a| a.driver_id == driver_id) {
        let Some(b) = bookings.get(&a.booking_id) else { continue };
        let aboard = b.status == BookingStatus::PickedUp.as_str();
        if !aboard {
            stops.push((Stop { booking: b, pickup: true }, a.planned_pickup_at));
        }
        stops.push((Stop { booking: b, pickup: false }, a.planned_dropoff_at));
    }
    stops.sort_by_key(|(s, at)| (*at, !s.pickup, s.booking.id));
    stops
}

/// Every stored value the manager reads is a known one (`propose` may then
/// rely on them), or the first that is not.
fn readable(drivers: &[driver::Model], bookings: &[booking::Model], live: &[assignment::Model]) -> Result<(), UnknownValue> {
    for d in drivers {
        VehicleKind::stored("driver", "vehicle_kind", d.id, &d.vehicle_kind)?;
    }
    for b in bookings {
        Mobility::stored("booking", "mobility", b.id, &b.mobility)?;
        BookingStatus::stored("booking", "status", b.id, &b.status)?;
    }
    for a in live {
        AssignmentStatus::stored("assignment", "status", a.id, &a.status)?;
    }
    Ok(())
}

/// Whether driver `d` can carry booking `b` (values checked by [`readable`]).
fn fits(b: &booking::Model, d: &driver::Model) -> bool {
    let (Some(mobility), Some(kind)) = (Mobility::parse(&b.mobility), VehicleKind::parse(&d.vehicle_kind)) else { return false };
    mobility.fits(kind) && Load::of_trip(mobility, b.passengers).fits_in(Load::of_vehicle(kind, d.seats, d.wheelchair_places))
}

fn confidence(gain_minutes: f64, mae_minutes: f64) -> f64 {
    (gain_minutes / (gain_minutes + mae_minutes + 1.0)).clamp(0.05, 0.99)
}

/// The proposals for a day: pure, so that tests and the benchmark can drive it.
fn propose(
    day: &Day<'_>,
    threshold: i64,
    mae_minutes: f64,
    drivers: &[driver::Model],
    bookings: &HashMap<i64, booking::Model>,
    live: &[assignment::Model],
) -> (usize, Vec<Proposal>) {
    let routes: HashMap<i64, (usize, Vec<Stop<'_>>)> = drivers
        .iter()
        .filter_map(|d| {
            let stops: Vec<Stop<'_>> = stops_of(d.id, live, bookings).into_iter().map(|(s, _)| s).collect();
            day.places.index.driver.get(&d.id).map(|&p| (d.id, (p, stops)))
        })
        .collect();
    let forecasts: HashMap<i64, Forecast> = routes.iter().map(|(&d, (p, stops))| (d, day.forecast(*p, stops))).collect();
    let planned: HashMap<i64, &assignment::Model> = live.iter().map(|a| (a.booking_id, a)).collect();
    let mut late: Vec<(i64, i64, i64)> = Vec::new(); // (lateness, booking, driver)
    let mut delays = Vec::new();
    for (&driver_id, f) in &forecasts {
        for (&booking_id, &(pickup, dropoff, lateness)) in &f.bookings {
            if lateness > threshold {
                late.push((lateness, booking_id, driver_id));
            } else if let (Some(pickup), Some(a)) = (pickup, planned.get(&booking_id))
                && (pickup - a.planned_pickup_at).num_seconds() > threshold
            {
                delays.push((booking_id, driver_id, pickup, dropoff, (pickup - a.planned_pickup_at).num_seconds()));
            }
        }
    }
    late.sort_by_key(|&(l, b, _)| (std::cmp::Reverse(l), b));
    delays.sort_by_key(|d| d.0);
    let mut touched: BTreeSet<i64> = BTreeSet::new();
    let mut proposals = Vec::new();
    for &(lateness, booking_id, from) in &late {
        let b = &bookings[&booking_id];
        let minutes = lateness as f64 / 60.0;
        let movable = b.status == BookingStatus::Assigned.as_str() && !touched.contains(&from);
        let mut best: Option<(i64, Proposal)> = None;
        if movable {
            let (start, stops) = &routes[&from];
            let without: Vec<Stop<'_>> = stops.iter().copied().filter(|s| s.booking.id != booking_id).collect();
            let before_from = forecasts[&from].excess(threshold);
            let after_from = day.forecast(*start, &without).excess(threshold);
            for d in drivers.iter().filter(|d| d.id != from && !touched.contains(&d.id) && fits(b, d)) {
                let Some((p, theirs)) = routes.get(&d.id) else { continue };
                let before = forecasts[&d.id].excess(threshold);
                // The booking at every place of their day (pickup then drop-off right after, or later).
                for i in 0..=theirs.len() {
                    for j in i..=theirs.len() {
                        let mut seq = theirs.clone();
                        seq.insert(j, Stop { booking: b, pickup: false });
                        seq.insert(i, Stop { booking: b, pickup: true });
                        let after = day.forecast(*p, &seq).excess(threshold);
                        let gain = (before_from + before) - (after_from + after);
                        if gain > 60 && best.as_ref().is_none_or(|(g, _)| gain > *g) {
                            let gain_min = gain as f64 / 60.0;
                            best = Some((
                                gain,
                                Proposal {
                                    kind: "reassign",
                                    booking_id,
                                    from_driver_id: Some(from),
                                    to_driver_id: Some(d.id),
                                    other_booking_id: None,
                                    description: format!(
                                        "Booking {booking_id} is {minutes:.0} min late with driver {from}; driver {} can take it, saving {gain_min:.0} min of lateness",
                                        d.id
                                    ),
                                    confidence: confidence(gain_min, mae_minutes),
                                    improvement_minutes: gain_min,
                                    retime: None,
                                },
                            ));
                        }
                    }
                }
                // A swap with their next booking not yet started.
                if let Some(next) = theirs.iter().find(|s| s.pickup && s.booking.status == BookingStatus::Assigned.as_str())
                    && let Some(from_driver) = drivers.iter().find(|x| x.id == from)
                    && fits(next.booking, from_driver)
                {
                    let replace = |seq: &[Stop<'_>], out: i64, inn: &booking::Model| -> Vec<(i64, bool)> {
                        seq.iter().map(|s| if s.booking.id == out { (inn.id, s.pickup) } else { (s.booking.id, s.pickup) }).collect()
                    };
                    let to_stops = |ids: Vec<(i64, bool)>| -> Vec<Stop<'_>> {
                        ids.into_iter().map(|(id, pickup)| Stop { booking: &bookings[&id], pickup }).collect()
                    };
                    let mine = to_stops(replace(stops, booking_id, next.booking));
                    let yours = to_stops(replace(theirs, next.booking.id, b));
                    let after = day.forecast(*start, &mine).excess(threshold) + day.forecast(*p, &yours).excess(threshold);
                    let gain = (before_from + before) - after;
                    if gain > 60 && best.as_ref().is_none_or(|(g, _)| gain > *g) {
                        let gain_min = gain as f64 / 60.0;
                        best = Some((
                            gain,
                            Proposal {
                                kind: "swap",
                                booking_id,
                                from_driver_id: Some(from),
                                to_driver_id: Some(d.id),
                                other_booking_id: Some(next.booking.id),
                                description: format!(
                                    "Booking {booking_id} is {minutes:.0} min late with driver {from}; swapping it with booking {} of driver {} saves {gain_min:.0} min",
                                    next.booking.id, d.id
                                ),
                                confidence: confidence(gain_min, mae_minutes),
                                improvement_minutes: gain_min,
                                retime: None,
                            },
                        ));
                    }
                }
            }
        }
        match best {
            Some((_, p)) => {
                touched.insert(from);
                touched.extend(p.to_driver_id);
                proposals.push(p);
            }
            None => proposals.push(Proposal {
                kind: "notify_dispatcher",
                booking_id,
                from_driver_id: Some(from),
                to_driver_id: None,
                other_booking_id: None,
                description: format!(
                    "Booking {booking_id} will be {minutes:.0} min late with driver {from}; no other driver can do better"
                ),
                confidence: confidence(minutes, mae_minutes),
                improvement_minutes: 0.0,
                retime: None,
            }),
        }
    }
    for (booking_id, driver_id, pickup, dropoff, behind) in delays {
        if touched.contains(&driver_id) {
            continue;
        }
        let minutes = behind as f64 / 60.0;
        proposals.push(Proposal {
            kind: "delay",
            booking_id,
            from_driver_id: Some(driver_id),
            to_driver_id: None,
            other_booking_id: None,
            description: format!(
                "Booking {booking_id}: driver {driver_id} will pick up {minutes:.0} min after plan, still within the window; re-time it"
            ),
            confidence: confidence(minutes, mae_minutes),
            improvement_minutes: minutes,
            retime: Some((pickup, dropoff)),
        });
    }
    (late.len(), proposals)
}

impl DispatchApi {
    /// One manager cycle for `company_id` now. Fails with ABORTED when another
    /// cycle of the company is running (here or on another replica).
    pub(crate) async fn autonomy_cycle(&self, company_id: i64) -> Result<CycleReport, Status> {
        let now = self.now();
        let a = &self.autonomy;
        let settings = self.store.autonomy_settings(company_id, a.defaults, now).await?;
        if !self.store.try_lease(company_id, Lease::Cycle, now, now + CYCLE_LEASE).await? {
            return Err(Status::aborted(format!("an autonomy cycle of company {company_id} is running; try again")));
        }
        let started = Instant::now();
        let result = self.cycle_holding_lease(company_id, &settings).await;
        self.store.release_lease(company_id, Lease::Cycle, self.now()).await?;
        self.metrics.autonomy_cycle.observe(started.elapsed().as_secs_f64());
        result
    }

    async fn cycle_holding_lease(
        &self,
        company_id: i64,
        settings: &crate::store::entities::autonomy_settings::Model,
    ) -> Result<CycleReport, Status> {
        let now = self.now();
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
        let places = Places::routed(&self.planner.router, &positions(now, &drivers), &bookings).await;
        let day = Day { now, tz, factors: &factors, places: &places };
        let (late, proposals) = propose(&day, threshold, mae, &drivers, &bookings, &live);
        let mut report = CycleReport { late_bookings: late, ..CycleReport::default() };
        if mode == Mode::Off {
            return Ok(report);
        }
        // Open suggestions nobody proposes any more expire; none is stored twice.
        let open = self.store.open_suggestions(company_id).await?;
        let same = |s: &crate::store::entities::autonomy_suggestion::Model, p: &Proposal| {
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
            match self.authorize(company_id, &p).await {
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
                        .insert_suggestion_with_notice(&self.autonomy.outbox, company_id, &p, "blocked", now, |row| {
                            dispatcher_notice("dispatch.autonomy_blocked", title, format!("autonomy.blocked:{}", row.id), &p)
                        })
                        .await?;
                    report.suggestions.push(row);
                }
                Err(status) => {
                    self.metrics.autonomy_actions.with_label_values(&[p.kind, "safety_unavailable"]).inc();
                    tracing::warn!(company_id, code = ?status.code(), error = %status.message(), "safety unreachable: no autonomous action this cycle");
                    let notice = dispatcher_notice(
                        "dispatch.autonomy_safety_unavailable",
                        "The safety service cannot be reached: the autonomous manager acts on nothing until it is back".to_owned(),
                        format!("autonomy.safety_unavailable:{company_id}:{}", now.timestamp() / 600),
                        &p,
                    );
                    safety_down = Some(status.message().to_owned());
                    let row = self
                        .store
                        .insert_suggestion_with_notice(&self.autonomy.outbox, company_id, &p, "safety_unavailable", now, |_| notice)
                        .await?;
                    report.suggestions.push(row);
                }
            }
        }
        Ok(report)
    }

    fn safety_request<T>(&self, company_id: i64, message: T) -> tonic::Request<T> {
        let token = self.autonomy.keys.service_token("dispatch", company_id);
        let mut req = kit::grpc::request(message, &token);
        req.set_timeout(Duration::from_secs(3));
        req
    }

    /// The action id when safety allows `p`, `None` when a limit blocks it.
    async fn authorize(&self, company_id: i64, p: &Proposal) -> Result<Option<i64>, Status> {
        let data = serde_json::json!({
            "kind": p.kind,
            "booking_id": p.booking_id,
            "from_driver_id": p.from_driver_id,
            "to_driver_id": p.to_driver_id,
            "other_booking_id": p.other_booking_id,
        });
        let request = AuthorizeActionRequest {
            booking_id: Some(p.booking_id),
            driver_id: p.to_driver_id.or(p.from_driver_id),
            action_type: p.kind.to_owned(),
            action_description: p.description.chars().take(500).collect(),
            action_data: data.to_string(),
            confidence_score: Some(p.confidence),
            expected_improvement_minutes: Some(p.improvement_minutes),
            trigger_source: TRIGGER.to_owned(),
        };
        let answer = self.autonomy.safety.clone().authorize_action(self.safety_request(company_id, request)).await?.into_inner();
        Ok(answer.allowed.then_some(answer.action_id))
    }

    /// Reports an executed action's outcome: a success only when all it
    /// writes was committed, a failure only when nothing was written. When
    /// that is not known, nothing is reported: the action stays "authorized"
    /// in the audit trail, counted against the limits, which is the safe
    /// side. A failure to report is logged likewise.
    async fn complete(&self, company_id: i64, action_id: i64, outcome: &Outcome, ms: f64) {
        let (success, error_message) = match outcome {
            Outcome::Done => (true, None),
            Outcome::Failed(e) => (false, Some(e.message().to_owned())),
            Outcome::Unknown(e) => {
                tracing::warn!(company_id, action_id, error = %e.message(), "an autonomous action's outcome is unknown: not reported, it stays authorized");
                return;
            }
        };
        let request = CompleteActionRequest { action_id, success, error_message, execution_time_ms: Some(ms) };
        if let Err(e) = self.autonomy.safety.clone().complete_action(self.safety_request(company_id, request)).await {
            tracing::warn!(company_id, action_id, code = ?e.code(), error = %e.message(), "could not report an autonomous action's outcome");
        }
    }

    async fn execute(&self, company_id: i64, p: &Proposal) -> Outcome {
        let moves = match (p.kind, p.to_driver_id, p.from_driver_id, p.other_booking_id) {
            ("reassign", Some(to), _, _) => vec![Move { booking_id: p.booking_id, driver_id: to }],
            // Both legs in one transaction that re-checks both days: both or neither.
            ("swap", Some(to), Some(from), Some(other)) => {
                vec![Move { booking_id: p.booking_id, driver_id: to }, Move { booking_id: other, driver_id: from }]
            }
            ("reassign" | "swap", ..) => {
                return Outcome::Failed(Status::internal(format!("a {} without its drivers and bookings", p.kind)));
            }
            ("delay", ..) => return self.delay(company_id, p).await,
            ("notify_dispatcher", ..) => {
                let now = self.now();
                let key = format!("autonomy.late:{}:{}", p.booking_id, now.timestamp() / 900);
                let notice = dispatcher_notice("dispatch.late_booking", p.description.clone(), key, p);
                // One statement: an error wrote nothing unless the connection broke under it.
                return match self.store.enqueue_notice(&self.autonomy.outbox, company_id, &notice, now).await {
                    Ok(()) => Outcome::Done,
                    Err(e) => {
                        let status = Status::from(e);
                        if status.code() == Code::Unavailable { Outcome::Unknown(status) } else { Outcome::Failed(status) }
                    }
                };
            }
            (other, ..) => return Outcome::Failed(Status::internal(format!("unknown action {other}"))),
        };
        match self.move_bookings(company_id, &moves, false).await {
            Ok(_) => Outcome::Done,
            Err(MoveError::NotDone(e)) => Outcome::Failed(e),
            Err(MoveError::Unknown(e)) => Outcome::Unknown(e),
        }
    }

    /// Re-times a booking's planned assignment: one statement, so an error
    /// wrote nothing unless the connection broke under it.
    async fn delay(&self, company_id: i64, p: &Proposal) -> Outcome {
        let Some((pickup, dropoff)) = p.retime else { return Outcome::Failed(Status::internal("a delay without its times")) };
        match self.store.retime(company_id, p.booking_id, pickup, dropoff, self.now()).await {
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
                let status = Status::from(e);
                if status.code() == Code::Unavailable { Outcome::Unknown(status) } else { Outcome::Failed(status) }
            }
        }
    }

    /// Marks that `company_id`'s drivers moved: its next cycle comes soon.
    pub(crate) fn positions_moved(&self, company_id: i64) {
        self.autonomy.moved.lock().expect("not poisoned").insert(company_id);
        self.autonomy.wake.notify_one();
    }
}

/// What the dispatcher is told about proposal `p`.
fn dispatcher_notice(event: &str, title: String, key: String, p: &Proposal) -> Notice {
    let field = |name: &str, value: String| Field::new(name, value, true);
    let mut fields = vec![field("Booking", p.booking_id.to_string()), field("Action", p.kind.to_owned())];
    fields.extend(p.from_driver_id.map(|d| field("Driver", d.to_string())));
    fields.extend(p.to_driver_id.map(|d| field("Proposed driver", d.to_string())));
    fields.push(field("Confidence", format!("{:.0} %", p.confidence * 100.0)));
    Notice {
        event_type: event.to_owned(),
        severity: Severity::Warning,
        title: title.chars().take(200).collect(),
        body: p.description.clone(),
        fields,
        idempotency_key: key,
    }
}

/// Runs due cycles and drift checks until `life` stops. `polling` reads the
/// work list and takes the drift leases: a connection outside the counted data
/// path, so that a run's statement count stays its own.
pub async fn schedule(api: DispatchApi, polling: crate::store::Store, every: Duration, life: Lifecycle) {
    let mut last_cycle: HashMap<i64, DateTime<Utc>> = HashMap::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = api.autonomy.wake.notified() => {}
            () = life.stopping() => return,
        }
        let moved = std::mem::take(&mut *api.autonomy.moved.lock().expect("not poisoned"));
        let companies = match polling.all_autonomy_settings().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "autonomy scheduler: reading settings failed");
                continue;
            }
        };
        for s in companies {
            let now = api.now();
            if s.drift_lease_until <= now {
                let next = now + chrono::Duration::seconds(i64::from(s.drift_check_interval_seconds));
                if matches!(polling.try_lease(s.company_id, Lease::Drift, now, next).await, Ok(true))
                    && let Err(e) = api.drift_check(s.company_id).await
                {
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
            match api.autonomy_cycle(s.company_id).await {
                Ok(r) => tracing::debug!(
                    company_id = s.company_id,
                    late = r.late_bookings,
                    executed = r.executed,
                    blocked = r.blocked,
                    "autonomy cycle"
                ),
                Err(e) if e.code() == Code::Aborted => {}
                Err(e) => tracing::warn!(company_id = s.company_id, error = %e.message(), "autonomy cycle failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn driver(id: i64, lat: f64, lon: f64) -> driver::Model {
        driver::Model {
            id,
            company_id: 1,
            name: format!("d{id}"),
            phone: String::new(),
            vehicle_kind: "wheelchair_van".into(),
            seats: 4,
            wheelchair_places: 1,
            shift_start_minute: 0,
            shift_end_minute: 1440,
            depot_lat: lat,
            depot_lon: lon,
            status: "on_duty".into(),
            last_lat: Some(lat),
            last_lon: Some(lon),
            last_position_at: Some(at(0)),
            created_at: at(-600),
            updated_at: at(-600),
            deleted_at: None,
        }
    }

    fn booking(id: i64, pickup: (f64, f64), window: (i64, i64)) -> booking::Model {
        booking::Model {
            id,
            company_id: 1,
            client_id: 1,
            pickup_address: String::new(),
            pickup_lat: pickup.0,
            pickup_lon: pickup.1,
            dropoff_address: String::new(),
            dropoff_lat: pickup.0 + 0.02,
            dropoff_lon: pickup.1,
            pickup_earliest: Some(at(window.0)),
            pickup_latest: Some(at(window.1)),
            appointment_time: None,
            scheduled_time: at(window.0),
            service_day: "2027-01-15".into(),
            passengers: 1,
            mobility: "ambulatory".into(),
            boarding_minutes: 2,
            return_of: None,
            will_call: false,
            recurring_template_id: None,
            recurring_leg: None,
            notes: String::new(),
            status: "assigned".into(),
            status_reason: String::new(),
            created_at: at(-600),
            updated_at: at(-600),
        }
    }

    fn planned(id: i64, booking_id: i64, driver_id: i64, pickup: i64) -> assignment::Model {
        assignment::Model {
            id,
            company_id: 1,
            booking_id,
            driver_id,
            dispatch_run_id: None,
            sequence: 0,
            planned_pickup_at: at(pickup),
            planned_dropoff_at: at(pickup + 10),
            status: "planned".into(),
            created_at: at(-60),
            updated_at: at(-60),
        }
    }

    #[test]
    fn a_far_driver_s_booking_goes_to_the_near_one_and_a_small_slip_is_retimed() {
        let factors = Factors::identity();
        // Driver 1 is ~30 km away from booking 10's pickup (window closes in 10 min);
        // driver 2 is at the door.
        let drivers = vec![driver(1, 46.5, 6.6), driver(2, 46.2, 6.14)];
        let bookings: HashMap<i64, booking::Model> =
            [booking(10, (46.2, 6.14), (0, 10)), booking(11, (46.21, 6.6), (30, 60))].into_iter().map(|b| (b.id, b)).collect();
        let places = Places::haversine(&positions(at(0), &drivers), &bookings);
        let day = Day { now: at(0), tz: chrono_tz::Europe::Zurich, factors: &factors, places: &places };
        let live = vec![planned(1, 10, 1, 5), planned(2, 11, 2, 40)];
        let (late, proposals) = propose(&day, 5 * 60, 2.0, &drivers, &bookings, &live);
        assert_eq!(late, 1);
        let p = proposals.iter().find(|p| p.booking_id == 10).unwrap();
        assert_eq!((p.kind, p.from_driver_id, p.to_driver_id), ("reassign", Some(1), Some(2)), "{p:?}");
        assert!(p.improvement_minutes > 10.0 && p.confidence > 0.5 && p.confidence < 1.0, "{p:?}");

        // Alone and a little behind plan but inside its window: re-time it.
        let bookings: HashMap<i64, booking::Model> = [booking(12, (46.25, 6.14), (0, 60))].into_iter().map(|b| (b.id, b)).collect();
        let places = Places::haversine(&positions(at(0), &drivers[1..]), &bookings);
        let day = Day { places: &places, ..day };
        let (late, proposals) = propose(&day, 5 * 60, 2.0, &drivers[1..], &bookings, &[planned(3, 12, 2, 0)]);
        assert_eq!(late, 0);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].kind, "delay");
        let (pickup, _) = proposals[0].retime.unwrap();
        assert!(pickup > at(5) && pickup < at(60), "{pickup}");
    }

    #[test]
    fn the_manager_reads_only_known_values() {
        assert_eq!(Mode::stored(1, "autonomous"), Ok(Mode::Autonomous));
        let e = Mode::stored(1, "reckless").unwrap_err();
        assert_eq!((e.table, e.column, e.value.as_str()), ("autonomy_settings", "mode", "reckless"), "not off, not anything");
        let drivers = vec![driver(1, 46.5, 6.6)];
        let mut b = booking(10, (46.2, 6.14), (0, 10));
        let live = vec![planned(1, 10, 1, 5)];
        assert_eq!(readable(&drivers, std::slice::from_ref(&b), &live), Ok(()));
        b.mobility = "hovercraft".into();
        let e = readable(&drivers, std::slice::from_ref(&b), &live).unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str()), ("booking", "mobility", "10"));
        let mut odd = live.clone();
        odd[0].status = "paused".into();
        assert_eq!(readable(&drivers, &[booking(10, (46.2, 6.14), (0, 10))], &odd).unwrap_err().column, "status");
    }

    #[test]
    fn with_nobody_better_placed_the_dispatcher_is_told() {
        let factors = Factors::identity();
        let drivers = vec![driver(1, 46.5, 6.6)];
        let bookings: HashMap<i64, booking::Model> = [booking(10, (46.2, 6.14), (0, 10))].into_iter().map(|b| (b.id, b)).collect();
        let places = Places::haversine(&positions(at(0), &drivers), &bookings);
        let day = Day { now: at(0), tz: chrono_tz::Europe::Zurich, factors: &factors, places: &places };
        let (late, proposals) = propose(&day, 5 * 60, 2.0, &drivers, &bookings, &[planned(1, 10, 1, 5)]);
        assert_eq!((late, proposals.len(), proposals[0].kind), (1, 1, "notify_dispatcher"));
        // A stale position predicts nothing.
        let mut stale = drivers.clone();
        stale[0].last_position_at = Some(at(-45));
        let places = Places::haversine(&positions(at(0), &stale), &bookings);
        let day = Day { places: &places, ..day };
        assert_eq!(propose(&day, 5 * 60, 2.0, &stale, &bookings, &[planned(1, 10, 1, 5)]).0, 0);
    }
}
