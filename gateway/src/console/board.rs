//! The day board (`/board?day=`): every driver's day as a timeline, the
//! unassigned bookings beside it, "plan the day" with its progress and summary,
//! and the trip panel (reassign, status). Changes made anywhere reach an open
//! board through dispatch's assignment stream within a second.

use std::{collections::HashMap, convert::Infallible, sync::Mutex, time::Duration};

use askama::Template;
use atmr_proto::dispatch::v1 as pb;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::HeaderValue,
    response::{Html, IntoResponse, Response, sse},
};
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt as _;
use kit::auth::Role;
use serde::Deserialize;

use super::Web;
use super::{
    context::Console,
    data,
    error::{Failure, explain, flash},
    form,
    page::Page,
    timeline::{self, Timeline},
};
use crate::error::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];

#[derive(Debug, Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

/// The day asked for (`form::service_day`: today when absent).
fn service_day(console: &Console, raw: Option<&str>) -> Result<NaiveDate, Failure> {
    form::service_day(console, raw.unwrap_or_default())
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    page: Page,
    day: String,
    day_label: String,
    prev: String,
    next: String,
    timeline: Timeline,
    /// The unassigned list is in the page itself, not swapped in beside it.
    oob: bool,
}

#[derive(Template)]
#[template(path = "partials/timeline.html")]
struct TimelinePart {
    page: Page,
    day: String,
    timeline: Timeline,
    /// The unassigned list rides along and replaces the page's own (htmx out of band).
    oob: bool,
}

async fn load(state: &Web, console: &Console, day: NaiveDate) -> Result<Timeline, Failure> {
    let data = data::day(state, console, &day.to_string()).await.map_err(|s| console.fail_status("dispatch", &s))?;
    Ok(timeline::build(&data, &console.fmt, day))
}

/// `GET /board?day=`
pub async fn page(State(state): State<Web>, console: Console, Query(q): Query<DayQuery>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, q.day.as_deref())?;
    let timeline = load(&state, &console, day).await?;
    let page = BoardPage {
        page: Page::new(&console, "/board", "board-title").with_script("board.js"),
        day: day.to_string(),
        day_label: console.fmt.date_long(day),
        prev: (day - chrono::Days::new(1)).to_string(),
        next: (day + chrono::Days::new(1)).to_string(),
        timeline,
        oob: false,
    };
    render(&console, &page)
}

/// `GET /board/timeline?day=`: the timeline and the unassigned list alone,
/// which the page fetches again whenever the day changes.
pub async fn timeline(State(state): State<Web>, console: Console, Query(q): Query<DayQuery>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, q.day.as_deref())?;
    let timeline = load(&state, &console, day).await?;
    render(&console, &TimelinePart { page: Page::new(&console, "/board", "board-title"), day: day.to_string(), timeline, oob: true })
}

pub fn render(console: &Console, t: &impl Template) -> Result<Response, Failure> {
    t.render().map(|html| Html(html).into_response()).map_err(|e| console.fail(ApiError::from_status("gateway", &kit::error::internal(e))))
}

/// `GET /board/events?day=`: an event `changed` whenever an assignment of the
/// day changes (dispatch's stream, whoever made the change); the page then
/// fetches its timeline again.
pub async fn events(
    State(state): State<Web>,
    console: Console,
    Query(q): Query<DayQuery>,
) -> Result<sse::Sse<impl futures::Stream<Item = Result<sse::Event, Infallible>>>, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, q.day.as_deref())?;
    let req = pb::WatchAssignmentsRequest { service_day: Some(day.to_string()) };
    let stream = state
        .dispatch
        .clone()
        .watch_assignments(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    let open = state.http.streams.open("console");
    let events = stream.map(move |item| {
        open.sent(item.is_err());
        Ok(match item {
            Ok(change) => sse::Event::default().event("changed").data(change.change),
            // A watcher that fell behind reloads: the page fetches the whole day again.
            Err(_) => sse::Event::default().event("changed").data("reload"),
        })
    });
    Ok(sse::Sse::new(events).keep_alive(sse::KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The runs this gateway started and has not yet seen finish, by company and
/// day: a run's failure before dispatch stored it is shown from here.
#[derive(Debug, Default)]
pub struct Plans {
    started: Mutex<HashMap<(i64, String), PlanState>>,
}

#[derive(Clone, Debug)]
enum PlanState {
    Running { since: DateTime<Utc> },
    Failed { error: String },
}

#[derive(Debug, Deserialize)]
pub struct PlanForm {
    day: String,
    mode: String,
}

#[derive(Template)]
#[template(path = "partials/plan.html")]
struct PlanPart {
    page: Page,
    day: String,
    /// Still working: the part asks again in a moment.
    running: bool,
    elapsed: String,
    run: Option<RunSummary>,
    error: Option<String>,
}

/// A finished run as the dispatcher reads it.
#[derive(Debug)]
struct RunSummary {
    failed: bool,
    assigned: i32,
    considered: i32,
    drivers: i32,
    km: String,
    solver_s: String,
    routing: String,
}

fn summary(console: &Console, run: &pb::DispatchRun) -> RunSummary {
    let routing = match pb::RoutingSource::try_from(run.routing_source) {
        Ok(pb::RoutingSource::Osrm) => "routing-osrm",
        _ => "routing-haversine",
    };
    RunSummary {
        failed: run.status == pb::RunStatus::Failed as i32,
        assigned: run.bookings_assigned,
        considered: run.bookings_considered,
        drivers: run.drivers_used,
        km: console.fmt.number(run.total_distance_km, 1),
        solver_s: console.fmt.number(run.solver_ms / 1000.0, 1),
        routing: console.fmt.t(routing),
    }
}

/// `POST /board/plan`: starts a run of the day (full or pending only) and
/// answers at once with its progress, which then asks `/board/plan?day=`
/// until the run is done and shows its summary.
pub async fn plan(State(state): State<Web>, console: Console, Form(form): Form<PlanForm>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, Some(&form.day))?.to_string();
    let mode = match form.mode.as_str() {
        "full" => pb::RunMode::Full,
        "pending_only" => pb::RunMode::PendingOnly,
        other => {
            return Err(console.fail(ApiError::invalid("mode", format!("mode must be full or pending_only, got {other:?}"))));
        }
    };
    let key = (console.company_id, day.clone());
    let since = Utc::now();
    state.plans.started.lock().expect("plans lock").insert(key.clone(), PlanState::Running { since });
    let req = pb::RunDispatchRequest { service_day: day.clone(), mode: mode as i32, ..Default::default() };
    let (state2, token, fmt) = (state.clone(), console.token.clone(), console.fmt);
    tokio::spawn(async move {
        let outcome = state2.dispatch.clone().run_dispatch(kit::grpc::request(req, &token)).await;
        let mut started = state2.plans.started.lock().expect("plans lock");
        match outcome {
            Ok(_) => {
                started.remove(&key);
            }
            Err(status) => {
                let error = explain(&fmt, &ApiError::from_status("dispatch", &status));
                started.insert(key, PlanState::Failed { error });
            }
        }
    });
    tracing::info!(user_id = console.user_id, day = %day, mode = ?mode, "dispatch run started from the console");
    progress(&state, &console, day).await
}

/// `GET /board/plan?day=`: the run's progress, or its summary once done.
pub async fn plan_status(State(state): State<Web>, console: Console, Query(q): Query<DayQuery>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, q.day.as_deref())?.to_string();
    progress(&state, &console, day).await
}

async fn progress(state: &Web, console: &Console, day: String) -> Result<Response, Failure> {
    let mine = state.plans.started.lock().expect("plans lock").get(&(console.company_id, day.clone())).cloned();
    let mut part = PlanPart {
        page: Page::new(console, "/board", "board-title"),
        day: day.clone(),
        running: false,
        elapsed: String::new(),
        run: None,
        error: None,
    };
    match mine {
        Some(PlanState::Failed { error }) => {
            state.plans.started.lock().expect("plans lock").remove(&(console.company_id, day));
            part.error = Some(error);
        }
        Some(PlanState::Running { since }) => {
            part.running = true;
            part.elapsed = console.fmt.number((Utc::now() - since).num_milliseconds() as f64 / 1000.0, 1);
        }
        None => {
            let req = pb::ListDispatchRunsRequest {
                page: Some(atmr_proto::common::v1::PageRequest { page: 1, per_page: 1 }),
                service_day: Some(day),
            };
            let last = state
                .dispatch
                .clone()
                .list_dispatch_runs(kit::grpc::request(req, &console.token))
                .await
                .map_err(|s| console.fail_status("dispatch", &s))?
                .into_inner()
                .runs
                .into_iter()
                .next();
            part.run = last.as_ref().map(|r| summary(console, r));
        }
    }
    let done = !part.running;
    let mut res = render(console, &part)?;
    if done {
        // The board reloads its timeline when a run is over.
        res.headers_mut().insert("hx-trigger", HeaderValue::from_static("board-changed"));
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "partials/trip.html")]
struct TripPart {
    page: Page,
    booking: pb::Booking,
    patient: String,
    phone: String,
    window: String,
    appointment: String,
    status: &'static str,
    mobility: &'static str,
    driver_id: i64,
    drivers: Vec<(i64, String)>,
    /// The statuses this booking can move to next.
    next_statuses: Vec<&'static str>,
    violations: Vec<String>,
    error: Option<String>,
    /// Why the current assignment was forced past the checker, and by whom.
    forced: Option<(String, String)>,
}

/// The statuses a booking may move to from `status` (the transitions dispatch
/// enforces, offered as buttons; dispatch still checks them).
fn next_statuses(status: &str) -> Vec<&'static str> {
    match status {
        "pending" => vec!["cancelled"],
        "assigned" => vec!["en_route", "picked_up", "no_show", "cancelled"],
        "en_route" => vec!["picked_up", "no_show", "cancelled"],
        "picked_up" => vec!["completed"],
        _ => Vec::new(),
    }
}

async fn trip_part(
    state: &Web,
    console: &Console,
    booking_id: i64,
    violations: Vec<String>,
    error: Option<String>,
) -> Result<TripPart, Failure> {
    let mut client = state.dispatch.clone();
    let booking = client
        .get_booking(kit::grpc::request(pb::GetBookingRequest { booking_id }, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .booking
        .ok_or_else(|| console.fail(ApiError::new(http::StatusCode::NOT_FOUND, "not_found", "no such booking")))?;
    let patient = client
        .get_client(kit::grpc::request(pb::GetClientRequest { client_id: booking.client_id }, &console.token))
        .await
        .map(|r| r.into_inner().client.unwrap_or_default())
        .unwrap_or_default();
    let token = console.token.as_str();
    let drivers = data::all_pages(|page| {
        let mut client = client.clone();
        async move {
            let req = pb::ListDriversRequest {
                page: Some(page),
                statuses: vec![pb::DriverStatus::Available as i32, pb::DriverStatus::OnDuty as i32],
                ..Default::default()
            };
            let res = client.list_drivers(kit::grpc::request(req, token)).await?.into_inner();
            Ok((res.drivers, res.page))
        }
    })
    .await
    .map_err(|s| console.fail_status("dispatch", &s))?;
    let assignment = client
        .list_assignments(kit::grpc::request(
            pb::ListAssignmentsRequest {
                page: Some(atmr_proto::common::v1::PageRequest { page: 1, per_page: 100 }),
                service_day: Some(booking.service_day.clone()),
                statuses: vec![pb::AssignmentStatus::Planned as i32, pb::AssignmentStatus::Active as i32],
                ..Default::default()
            },
            token,
        ))
        .await
        .ok()
        .and_then(|r| r.into_inner().assignments.into_iter().find(|a| a.booking_id == booking_id));
    let mut drivers: Vec<(i64, String)> = drivers.into_iter().map(|d| (d.id, d.name)).collect();
    drivers.sort_by(|a, b| a.1.cmp(&b.1));
    let status = timeline::name(&timeline::BOOKING_STATUSES, booking.status);
    let fmt = &console.fmt;
    Ok(TripPart {
        page: Page::new(console, "/board", "board-title"),
        patient: patient.name,
        phone: patient.phone,
        window: format!("{}–{}", fmt.time_pb(booking.pickup_earliest.as_ref()), fmt.time_pb(booking.pickup_latest.as_ref())),
        appointment: fmt.time_pb(booking.appointment_time.as_ref()),
        status,
        mobility: timeline::name(&timeline::MOBILITIES, booking.mobility),
        driver_id: assignment.as_ref().map_or(0, |a| a.driver_id),
        forced: assignment.filter(|a| !a.forced_by.is_empty()).map(|a| (a.forced_reason, a.forced_by)),
        drivers,
        next_statuses: next_statuses(status),
        booking,
        violations,
        error,
    })
}

/// `GET /board/trips/{id}`: the trip's panel.
pub async fn trip(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let part = trip_part(&state, &console, id, Vec::new(), None).await?;
    render(&console, &part)
}

#[derive(Debug, Deserialize)]
pub struct ReassignForm {
    driver_id: i64,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    reason: String,
}

/// `POST /board/trips/{id}/reassign`: the booking into the driver's day,
/// checked by dispatch; a refusal shows the rules the day would break, and
/// the dispatcher may force it with a reason, which dispatch keeps with the
/// assignment (and who forced it).
pub async fn reassign(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(form): Form<ReassignForm>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let reason = form.reason.trim().to_owned();
    if form.force && reason.chars().count() < 3 {
        let message = console.fmt.t("trip-force-reason-needed");
        let part = trip_part(&state, &console, id, Vec::new(), Some(message)).await?;
        let mut res = render(&console, &part)?;
        *res.status_mut() = http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    let req = pb::ReassignBookingRequest { booking_id: id, driver_id: form.driver_id, force: form.force, reason };
    match state.dispatch.clone().reassign_booking(kit::grpc::request(req, &console.token)).await {
        Ok(res) => {
            let res = res.into_inner();
            let violations = res.violation_details.iter().map(|v| rule_words(&console, &v.rule)).collect();
            let part = trip_part(&state, &console, id, violations, None).await?;
            let mut res = render(&console, &part)?;
            res.headers_mut().insert("hx-trigger", HeaderValue::from_static("board-changed"));
            Ok(res)
        }
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            let violations = kit::error::rules_of(&status).into_iter().map(|r| rule_words(&console, r)).collect();
            let refusal = console.fmt.t("trip-does-not-fit");
            let part = trip_part(&state, &console, id, violations, Some(refusal)).await?;
            render(&console, &part)
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
}

/// A checker rule in the user's words (`violation-<rule>`); a rule the
/// catalogue does not know yet is shown as its code.
fn rule_words(console: &Console, rule: &str) -> String {
    let id = format!("violation-{rule}");
    if super::i18n::has(console.fmt.locale, &id) { console.fmt.t(&id) } else { rule.replace('_', " ") }
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    reason: String,
}

/// `POST /board/trips/{id}/status`
pub async fn status(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let Some(n) = timeline::BOOKING_STATUSES.iter().skip(1).position(|s| *s == form.status) else {
        return Err(console.fail(ApiError::invalid("status", format!("unknown status {:?}", form.status))));
    };
    let req = pb::UpdateBookingStatusRequest { booking_id: id, status: n as i32 + 1, reason: form.reason, occurred_time: None };
    state
        .dispatch
        .clone()
        .update_booking_status(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?;
    let part = trip_part(&state, &console, id, Vec::new(), None).await?;
    let mut res = render(&console, &part)?;
    res.headers_mut().insert("hx-trigger", HeaderValue::from_static("board-changed"));
    let _ = flash;
    Ok(res)
}
