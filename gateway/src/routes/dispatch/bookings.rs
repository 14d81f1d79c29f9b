//! `/api/bookings`: trips, one or a bulk import, their status and their
//! reassignment to another driver, for admins and dispatchers.

use atmr_proto::dispatch::v1::{self as pb};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::runs::Assignment;
use super::shared::{
    BOOKING_STATUSES, DISPATCHERS, MOBILITIES, Point, booking_status, booking_statuses, client, dispatch_error, mask, mobility, numbers,
    optional_number, page_request, patch, point,
};
use crate::{
    error::ApiError,
    routes::{
        convert::{Page, name_of, number_of, rfc3339, timestamp},
        extract::{Body, Caller, Params, positive_id},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Booking {
    id: i64,
    client_id: i64,
    pickup_address: String,
    pickup: Option<Point>,
    dropoff_address: String,
    dropoff: Option<Point>,
    pickup_earliest: Option<String>,
    pickup_latest: Option<String>,
    appointment_time: Option<String>,
    passengers: i32,
    mobility: &'static str,
    boarding_minutes: i32,
    return_of: Option<i64>,
    will_call: bool,
    notes: String,
    status: &'static str,
    service_day: String,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<pb::Booking> for Booking {
    fn from(b: pb::Booking) -> Self {
        Self {
            id: b.id,
            client_id: b.client_id,
            mobility: name_of(&MOBILITIES, b.mobility),
            status: name_of(&BOOKING_STATUSES, b.status),
            pickup_address: b.pickup_address,
            pickup: point(b.pickup),
            dropoff_address: b.dropoff_address,
            dropoff: point(b.dropoff),
            pickup_earliest: rfc3339(b.pickup_earliest),
            pickup_latest: rfc3339(b.pickup_latest),
            appointment_time: rfc3339(b.appointment_time),
            passengers: b.passengers,
            boarding_minutes: b.boarding_minutes,
            return_of: b.return_of,
            will_call: b.will_call,
            notes: b.notes,
            service_day: b.service_day,
            created_at: rfc3339(b.create_time),
            updated_at: rfc3339(b.update_time),
        }
    }
}

/// A booking as sent: the required fields and any other for POST, the fields
/// a PATCH may change (one at least) for PATCH (`BookingPatch`). The pickup
/// window (`pickup_earliest` to `pickup_latest`, at most 12 hours) is required
/// except for a will-call return (`return_of` and `will_call`), which gives its
/// `service_day` instead.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = booking_example)]
pub struct BookingBody {
    /// The patient.
    #[schema(minimum = 1, required = true)]
    client_id: i64,
    #[schema(schema_with = field::line::<300>, required = true)]
    pickup_address: String,
    #[schema(value_type = Point, required = true)]
    pickup: Option<Point>,
    #[schema(schema_with = field::line::<300>, required = true)]
    dropoff_address: String,
    #[schema(value_type = Point, required = true)]
    dropoff: Option<Point>,
    #[schema(schema_with = field::date_time)]
    pickup_earliest: Option<String>,
    /// Not before `pickup_earliest`, at most 12 hours after it.
    #[schema(schema_with = field::date_time)]
    pickup_latest: Option<String>,
    /// After `pickup_earliest`.
    #[schema(schema_with = field::date_time)]
    appointment_time: Option<String>,
    /// 1 when absent.
    #[schema(value_type = i32, minimum = 1, maximum = 8)]
    passengers: Option<i32>,
    /// The patient's when absent.
    #[schema(schema_with = mobility)]
    mobility: Option<String>,
    #[schema(minimum = 0, maximum = 60)]
    boarding_minutes: i32,
    /// The outbound booking this one returns from.
    #[schema(value_type = i64, minimum = 1)]
    return_of: Option<i64>,
    /// A return whose pickup time the patient calls in (needs `return_of`).
    will_call: bool,
    /// Derived from the pickup window when it is given.
    #[schema(schema_with = field::date)]
    service_day: String,
    #[schema(schema_with = field::text::<2000>)]
    notes: String,
}

impl BookingBody {
    fn into_pb(self, id: i64, field: &str) -> Result<pb::Booking, ApiError> {
        let named = |f: &str| format!("{field}{f}");
        Ok(pb::Booking {
            id,
            client_id: self.client_id,
            pickup_address: self.pickup_address,
            pickup: self.pickup.map(Into::into),
            dropoff_address: self.dropoff_address,
            dropoff: self.dropoff.map(Into::into),
            pickup_earliest: timestamp(&named("pickup_earliest"), self.pickup_earliest.as_deref())?,
            pickup_latest: timestamp(&named("pickup_latest"), self.pickup_latest.as_deref())?,
            appointment_time: timestamp(&named("appointment_time"), self.appointment_time.as_deref())?,
            passengers: self.passengers.unwrap_or(1),
            mobility: optional_number(&named("mobility"), &MOBILITIES, self.mobility.as_deref())?,
            boarding_minutes: self.boarding_minutes,
            return_of: self.return_of,
            will_call: self.will_call,
            service_day: self.service_day,
            notes: self.notes,
            ..Default::default()
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookingQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    #[param(schema_with = field::date)]
    service_day: Option<String>,
    /// Comma-separated.
    #[param(schema_with = booking_statuses, style = Form, explode = false)]
    status: Option<String>,
    #[param(minimum = 1)]
    client_id: Option<i64>,
    #[param(minimum = 1)]
    driver_id: Option<i64>,
}

#[utoipa::path(
    operation_id = "dispatch_list_bookings",
    get,
    path = "/api/bookings",
    tag = "dispatch",
    params(BookingQuery),
    responses((status = 200, description = "OK", body = Page<Booking>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/bookings?service_day=&status=&client_id=&driver_id=`
pub async fn list_bookings(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<BookingQuery>,
) -> Result<Json<Page<Booking>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListBookingsRequest {
        page: page_request(q.page, q.per_page),
        service_day: q.service_day,
        statuses: numbers("status", &BOOKING_STATUSES, q.status.as_deref())?,
        client_id: q.client_id,
        driver_id: q.driver_id,
    };
    let res = client(&state).list_bookings(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.bookings.into_iter().map(Booking::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "dispatch_create_booking",
    post,
    path = "/api/bookings",
    tag = "dispatch",
    request_body = BookingBody,
    responses((status = 201, description = "created", body = Booking), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bookings`
pub async fn create_booking(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<BookingBody>,
) -> Result<(StatusCode, Json<Booking>), ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::CreateBookingRequest { booking: Some(b.into_pb(0, "")?) };
    let res = client(&state).create_booking(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok((StatusCode::CREATED, Json(res.into_inner().booking.unwrap_or_default().into())))
}

/// A booking to the hospital, as the examples show it.
fn booking_example() -> Value {
    serde_json::json!({
        "client_id": 1, "pickup_address": "Rue de Carouge 12, 1205 Genève", "pickup": {"latitude": 46.195, "longitude": 6.14},
        "dropoff_address": "HUG, Rue Gabrielle-Perret-Gentil 4, 1205 Genève", "dropoff": {"latitude": 46.1935, "longitude": 6.149},
        "pickup_earliest": "2030-01-07T08:00:00Z", "pickup_latest": "2030-01-07T08:30:00Z", "appointment_time": "2030-01-07T09:00:00Z",
        "passengers": 1, "boarding_minutes": 3, "notes": "Ring twice"
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "bookings": [booking_example()] }))]
pub struct BulkBookings {
    /// 1 to 5,000 bookings.
    #[schema(min_items = 1, max_items = 5000)]
    bookings: Vec<BookingBody>,
}

#[utoipa::path(
    operation_id = "dispatch_create_bookings",
    post,
    path = "/api/bookings/batch",
    tag = "dispatch",
    request_body = BulkBookings,
    responses((status = 201, description = "created", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bookings/batch` `{bookings: [...]}`: all or nothing; every bad row is named.
pub async fn create_bookings(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<BulkBookings>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(DISPATCHERS)?;
    let bookings =
        b.bookings.into_iter().enumerate().map(|(i, b)| b.into_pb(0, &format!("bookings[{i}]."))).collect::<Result<Vec<_>, _>>()?;
    let req = pb::CreateBookingsRequest { bookings };
    let res = client(&state).create_bookings(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let created: Vec<Booking> = res.bookings.into_iter().map(Booking::from).collect();
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "bookings": created }))))
}

#[utoipa::path(
    operation_id = "dispatch_get_booking",
    get,
    path = "/api/bookings/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the booking's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/bookings/{id}`: the booking and its live assignment.
pub async fn get_booking(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GetBookingRequest { booking_id: positive_id("booking_id", &id)? };
    let res = client(&state).get_booking(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(serde_json::json!({
        "booking": Booking::from(res.booking.unwrap_or_default()),
        "assignment": res.assignment.map(Assignment::from),
    })))
}

#[utoipa::path(
    operation_id = "dispatch_update_booking",
    patch,
    path = "/api/bookings/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the booking's id")),
    request_body = ref("#/components/schemas/BookingPatch"),
    responses((status = 200, description = "OK", body = Booking), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `PATCH /api/bookings/{id}`: a booking not started yet; a planned one whose trip changes goes back to pending.
pub async fn update_booking(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Booking>, ApiError> {
    caller.require(DISPATCHERS)?;
    let id = positive_id("booking_id", &id)?;
    let (paths, b): (_, BookingBody) = patch(body)?;
    let req = pb::UpdateBookingRequest { booking: Some(b.into_pb(id, "")?), update_mask: mask(paths) };
    let res = client(&state).update_booking(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().booking.unwrap_or_default().into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "status": "cancelled", "reason": "the patient called to cancel" }))]
pub struct StatusBody {
    #[schema(schema_with = booking_status)]
    status: String,
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<300>)]
    reason: String,
    /// When it happened, if not now (RFC 3339; within the last 24 hours): a
    /// driver's app syncing after a dead zone. Trip times are measured between these.
    #[serde(default)]
    #[schema(schema_with = field::date_time)]
    occurred_at: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_update_booking_status",
    post,
    path = "/api/bookings/{id}/status",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, example = 2, description = "the booking's id")),
    request_body = StatusBody,
    responses((status = 200, description = "OK", body = Booking), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bookings/{id}/status` `{status, reason?, occurred_at?}`: transitions are checked.
pub async fn update_booking_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<StatusBody>,
) -> Result<Json<Booking>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::UpdateBookingStatusRequest {
        booking_id: positive_id("booking_id", &id)?,
        status: number_of("status", &BOOKING_STATUSES, &b.status)?,
        reason: b.reason,
        occurred_time: timestamp("occurred_at", b.occurred_at.as_deref())?,
    };
    let res = client(&state).update_booking_status(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().booking.unwrap_or_default().into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "driver_id": 5, "force": true, "reason": "the patient asked for this driver" }))]
pub struct ReassignBody {
    #[schema(minimum = 1)]
    driver_id: i64,
    #[serde(default)]
    force: bool,
    /// Why the booking is forced past the checker; kept with the assignment,
    /// with who forced it. Ignored without `force`.
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: String,
}

#[utoipa::path(
    operation_id = "dispatch_reassign_booking",
    post,
    path = "/api/bookings/{id}/reassign",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, example = 3, description = "the booking's id")),
    request_body = ReassignBody,
    responses((status = 200, description = "OK", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bookings/{id}/reassign` `{driver_id, force?, reason?}`: checked
/// for feasibility unless forced; the answer lists what a forced move breaks,
/// each with its rule.
pub async fn reassign_booking(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ReassignBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ReassignBookingRequest {
        booking_id: positive_id("booking_id", &id)?,
        driver_id: b.driver_id,
        force: b.force,
        reason: b.reason,
    };
    let res = client(&state).reassign_booking(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let details: Vec<Value> = res
        .violation_details
        .into_iter()
        .map(|v| serde_json::json!({ "rule": v.rule, "booking_id": v.booking_id, "driver_id": v.driver_id, "message": v.message }))
        .collect();
    Ok(Json(serde_json::json!({
        "assignment": res.assignment.map(Assignment::from),
        "violations": res.violations,
        "violation_details": details,
    })))
}
