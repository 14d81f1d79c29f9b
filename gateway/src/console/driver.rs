//! The driver's page (`/driver`), made for a phone: the day's stops in the
//! route's order, with one big button per status change the trip can take
//! next (en route, picked up, completed; a no-show with its reason), and the
//! phone's position shared while the page is open (`assets/driver.js`:
//! the Geolocation API's `watchPosition`, queued in `localStorage` and sent to
//! `POST /driver/positions` when the network is there). Only the `driver`
//! role reaches it; dispatch decides what the driver sees and may change.

use askama::Template;
use atmr_proto::dispatch::v1 as pb;
use axum::{
    Json,
    extract::{Path, Query, State},
    response::Response,
};
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    error::Failure,
    form::{self, DayQuery},
    format::utc,
    page::Page,
    timeline::{self, BOOKING_STATUSES, MOBILITIES},
};
use crate::{
    error::ApiError,
    routes::{
        extract::Body,
        me::{Positions, Recorded, positions_pb},
    },
};

const DRIVERS: &[Role] = &[Role::Driver];

/// A status change a stop offers: the status and its button's message id.
#[derive(Debug, PartialEq)]
struct Action {
    status: &'static str,
    label: &'static str,
}

/// One stop as the driver reads it.
#[derive(Debug)]
struct Stop {
    booking_id: i64,
    pickup: bool,
    time: String,
    window: String,
    patient: String,
    phone: String,
    address: String,
    mobility: &'static str,
    passengers: i32,
    notes: String,
    status: &'static str,
    /// Nothing is left to do at this stop.
    done: bool,
    actions: Vec<Action>,
    /// The trip may be reported a no-show from here (with a reason).
    no_show: bool,
}

#[derive(Template)]
#[template(path = "driver.html")]
struct DriverPage {
    page: Page,
    driver: String,
    day: String,
    day_label: String,
    stops: Vec<Stop>,
}

/// What a stop offers next, from its trip's status: the pickup takes the
/// trip en route and then on board (or to a no-show), the drop-off completes it.
fn actions(pickup: bool, status: &str) -> (Vec<Action>, bool, bool) {
    let act = |status, label| Action { status, label };
    match (pickup, status) {
        (true, "assigned") => (vec![act("en_route", "driver-en-route")], true, false),
        (true, "en_route") => (vec![act("picked_up", "driver-picked-up")], true, false),
        (true, _) => (Vec::new(), false, true),
        (false, "picked_up") => (vec![act("completed", "driver-completed")], false, false),
        (false, s) => (Vec::new(), false, matches!(s, "completed" | "no_show" | "cancelled")),
    }
}

/// `GET /driver?day=`: the driver's day.
pub async fn page(State(state): State<Web>, mut console: Console, Query(q): Query<DayQuery>) -> Result<Response, Failure> {
    console.require(DRIVERS)?;
    let day = match q.day.trim() {
        "" => String::new(),
        d => form::date(d)
            .ok_or_else(|| console.fail(ApiError::invalid("day", format!("day must be a date YYYY-MM-DD, got {d:?}"))))?
            .to_string(),
    };
    let req = pb::GetDriverManifestRequest { service_day: day };
    let m = state
        .dispatch
        .clone()
        .get_driver_manifest(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    if let Ok(tz) = m.time_zone.parse() {
        console.fmt.tz = tz;
    }
    let fmt = console.fmt;
    let stops = m
        .stops
        .into_iter()
        .map(|s| {
            let status = timeline::name(&BOOKING_STATUSES, s.status);
            let (actions, no_show, done) = actions(s.pickup, status);
            let window = match (utc(s.pickup_earliest.as_ref()), utc(s.pickup_latest.as_ref())) {
                (Some(a), Some(b)) => format!("{}–{}", fmt.time(a), fmt.time(b)),
                _ => String::new(),
            };
            Stop {
                booking_id: s.booking_id,
                pickup: s.pickup,
                time: fmt.time_pb(s.planned_time.as_ref()),
                window,
                patient: s.patient,
                phone: s.phone,
                address: s.address,
                mobility: timeline::name(&MOBILITIES, s.mobility),
                passengers: s.passengers,
                notes: s.boarding_notes,
                status,
                done,
                actions,
                no_show,
            }
        })
        .collect();
    let day_label = form::date(&m.service_day).map(|d| fmt.date_long(d)).unwrap_or_default();
    let page = DriverPage {
        page: Page::new(&console, "/driver", "driver-title").with_script("driver.js"),
        driver: m.driver_name,
        day: m.service_day,
        day_label,
        stops,
    };
    render(&console, &page)
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    reason: String,
    /// The day the page showed, to come back to.
    #[serde(default)]
    day: String,
}

/// `POST /driver/trips/{id}/status` (htmx, with the CSRF header): one tap,
/// then the day again.
pub async fn status(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<StatusForm>,
) -> Result<Response, Failure> {
    console.require(DRIVERS)?;
    let Some(n) = BOOKING_STATUSES.iter().position(|s| *s == f.status).filter(|n| *n > 0) else {
        return Err(console.fail(ApiError::invalid("status", format!("unknown status {:?}", f.status))));
    };
    let req = pb::UpdateTripStatusRequest { booking_id: id, status: n as i32, reason: f.reason, occurred_time: None };
    state
        .dispatch
        .clone()
        .update_trip_status(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?;
    let back = match form::date(&f.day) {
        Some(d) => format!("/driver?day={d}"),
        None => "/driver".to_owned(),
    };
    Ok(form::redirect(&console, &back))
}

/// `POST /driver/positions` (JSON, with the CSRF header): what the page
/// queued, as `POST /api/me/positions` takes it.
pub async fn positions(State(state): State<Web>, console: Console, Body(b): Body<Positions>) -> Result<Json<Recorded>, Failure> {
    console.require(DRIVERS)?;
    let req = pb::RecordDriverPositionsRequest { positions: positions_pb(b).map_err(|e| console.fail(e))? };
    let r = state
        .dispatch
        .clone()
        .record_driver_positions(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    Ok(Json(Recorded::from(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stop_offers_only_the_changes_its_trip_can_take_next() {
        let statuses = |pickup, status| actions(pickup, status).0.into_iter().map(|a| a.status).collect::<Vec<_>>();
        assert_eq!(statuses(true, "assigned"), ["en_route"]);
        assert_eq!(statuses(true, "en_route"), ["picked_up"]);
        assert!(statuses(true, "picked_up").is_empty());
        assert_eq!(statuses(false, "picked_up"), ["completed"]);
        assert!(statuses(false, "en_route").is_empty(), "a drop-off waits for the pickup");
        assert!(actions(true, "assigned").1 && actions(true, "en_route").1, "a no-show before the patient is on board");
        assert!(!actions(true, "picked_up").1);
        assert!(actions(true, "picked_up").2 && actions(false, "completed").2 && !actions(false, "picked_up").2);
    }
}
