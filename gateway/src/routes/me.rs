//! `/api/me/…`: a driver's own day, for the `driver` role alone — the
//! manifest of a day, a batch of positions from the phone, and a status change
//! of one of their current trips. The driver is the token's (claim `drv`),
//! never a parameter; dispatch checks everything again and names the field it
//! refuses (`positions[3].time`).

use atmr_proto::{common::v1::GeoPoint, dispatch::v1 as pb};
use axum::{
    Json,
    extract::{Path, State},
};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    routes::{
        convert::{name_of, number_of, rfc3339, timestamp},
        dispatch::shared::{BOOKING_STATUSES, MOBILITIES, Point, client, dispatch_error, point},
        extract::{Body, Caller, Params, positive_id},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

const DRIVERS: &[Role] = &[Role::Driver];

/// One stop of the driver's day.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stop {
    booking_id: i64,
    /// `pickup` or `dropoff`.
    kind: &'static str,
    planned_time: Option<String>,
    address: String,
    position: Option<Point>,
    /// First name and last initial ("Marie D.").
    patient: String,
    phone: String,
    mobility: &'static str,
    passengers: i32,
    boarding_notes: String,
    /// The trip's status (`assigned`, `en_route`, `picked_up`, `completed`, `no_show`, …).
    status: &'static str,
    pickup_earliest: Option<String>,
    pickup_latest: Option<String>,
    appointment_time: Option<String>,
}

impl From<pb::DriverStop> for Stop {
    fn from(s: pb::DriverStop) -> Self {
        Self {
            booking_id: s.booking_id,
            kind: if s.pickup { "pickup" } else { "dropoff" },
            planned_time: rfc3339(s.planned_time),
            address: s.address,
            position: point(s.position),
            patient: s.patient,
            phone: s.phone,
            mobility: name_of(&MOBILITIES, s.mobility),
            passengers: s.passengers,
            boarding_notes: s.boarding_notes,
            status: name_of(&BOOKING_STATUSES, s.status),
            pickup_earliest: rfc3339(s.pickup_earliest),
            pickup_latest: rfc3339(s.pickup_latest),
            appointment_time: rfc3339(s.appointment_time),
        }
    }
}

/// The driver's stops of a day, in the route's order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Manifest {
    driver_id: i64,
    driver_name: String,
    service_day: String,
    stops: Vec<Stop>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ManifestQuery {
    /// YYYY-MM-DD; the company's today when absent.
    #[param(schema_with = field::date)]
    day: Option<String>,
}

#[utoipa::path(
    operation_id = "me_manifest",
    get,
    path = "/api/me/manifest",
    tag = "driver",
    params(ManifestQuery),
    responses((status = 200, description = "OK", body = Manifest), Failures),
    security(("bearer" = ["driver"]))
)]
/// `GET /api/me/manifest?day=`: the driver's stops of the day, in order; of
/// each patient the first name and last initial, phone, mobility and the
/// trip's boarding notes.
pub async fn manifest(State(state): State<AppState>, caller: Caller, Params(q): Params<ManifestQuery>) -> Result<Json<Manifest>, ApiError> {
    caller.require(DRIVERS)?;
    let day = q.day.unwrap_or_default();
    if !day.is_empty() && chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").is_err() {
        return Err(ApiError::invalid("day", format!("day must be a date YYYY-MM-DD, got {day:?}")));
    }
    let req = pb::GetDriverManifestRequest { service_day: day };
    let m = client(&state).get_driver_manifest(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Manifest {
        driver_id: m.driver_id,
        driver_name: m.driver_name,
        service_day: m.service_day,
        stops: m.stops.into_iter().map(Stop::from).collect(),
    }))
}

/// One position as the phone took it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    position: Point,
    /// When the phone took it (RFC 3339): at most a minute in the future, at most 24 hours ago.
    #[schema(schema_with = field::date_time)]
    time: String,
    /// The accuracy radius, metres (0 to 10000).
    #[schema(minimum = 0.0, maximum = 10000.0)]
    accuracy_m: f64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "positions": [
    { "position": { "latitude": 46.2044, "longitude": 6.1432 }, "time": "2026-03-02T08:15:00Z", "accuracy_m": 12.5 }
] }))]
pub struct Positions {
    /// 1 to 600 positions; one bad position refuses the batch (nothing recorded).
    #[schema(min_items = 1, max_items = 600)]
    positions: Vec<Position>,
}

/// What became of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// Positions kept: at most one per second of the driver.
    accepted: i64,
    /// Positions dropped: their second had one already.
    dropped: i64,
    /// Kept positions older than the latest one stored, which stays the latest.
    late: i64,
}

#[utoipa::path(
    operation_id = "me_positions",
    post,
    path = "/api/me/positions",
    tag = "driver",
    request_body = Positions,
    responses((status = 200, description = "OK", body = Recorded), Failures, WriteFailures),
    security(("bearer" = ["driver"]))
)]
/// `POST /api/me/positions` `{positions: [{position, time, accuracy_m}]}`:
/// the driver's positions, the newest becoming their position on the board
/// and for the autonomous manager.
pub async fn positions(State(state): State<AppState>, caller: Caller, Body(b): Body<Positions>) -> Result<Json<Recorded>, ApiError> {
    caller.require(DRIVERS)?;
    let req = pb::RecordDriverPositionsRequest { positions: positions_pb(b)? };
    let r = client(&state).record_driver_positions(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Recorded::from(r)))
}

/// A batch as dispatch takes it (the console's position queue sends the same body).
pub(crate) fn positions_pb(b: Positions) -> Result<Vec<pb::DriverPosition>, ApiError> {
    b.positions
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(pb::DriverPosition {
                position: Some(GeoPoint::from(p.position)),
                time: timestamp(&format!("positions[{i}].time"), Some(&p.time))?,
                accuracy_m: p.accuracy_m,
            })
        })
        .collect()
}

impl From<pb::RecordDriverPositionsResponse> for Recorded {
    fn from(r: pb::RecordDriverPositionsResponse) -> Self {
        Self { accepted: r.accepted, dropped: r.dropped, late: r.late }
    }
}

/// The statuses a driver sets.
fn trip_status() -> utoipa::openapi::Object {
    field::one_of(&["en_route", "picked_up", "completed", "no_show"])
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "status": "no_show", "reason": "nobody answered the door or the phone" }))]
pub struct TripStatusBody {
    #[schema(schema_with = trip_status)]
    status: String,
    /// Required for `no_show`.
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<500>)]
    reason: String,
    /// When it happened, if reported late (RFC 3339; within the last 24 hours).
    #[serde(default)]
    #[schema(schema_with = field::date_time)]
    occurred_at: Option<String>,
}

/// The trip's new status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TripStatus {
    booking_id: i64,
    status: &'static str,
    updated_at: Option<String>,
}

#[utoipa::path(
    operation_id = "me_trip_status",
    post,
    path = "/api/me/trips/{booking_id}/status",
    tag = "driver",
    params(("booking_id" = i64, Path, minimum = 1, description = "the trip's booking id")),
    request_body = TripStatusBody,
    responses((status = 200, description = "OK", body = TripStatus), Failures, WriteFailures),
    security(("bearer" = ["driver"]))
)]
/// `POST /api/me/trips/{booking_id}/status` `{status, reason?, occurred_at?}`:
/// only the driver's own current trips (any other is 404).
pub async fn trip_status_change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<TripStatusBody>,
) -> Result<Json<TripStatus>, ApiError> {
    caller.require(DRIVERS)?;
    let req = pb::UpdateTripStatusRequest {
        booking_id: positive_id("booking_id", &id)?,
        status: number_of("status", &BOOKING_STATUSES, &b.status)?,
        reason: b.reason,
        occurred_time: timestamp("occurred_at", b.occurred_at.as_deref())?,
    };
    let res = client(&state).update_trip_status(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    let booking = res.into_inner().booking.unwrap_or_default();
    Ok(Json(TripStatus {
        booking_id: booking.id,
        status: name_of(&BOOKING_STATUSES, booking.status),
        updated_at: rfc3339(booking.update_time),
    }))
}
