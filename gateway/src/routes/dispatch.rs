//! The dispatcher's routes, served by the dispatch service: the company,
//! drivers, patients (`/api/clients`), bookings (one or a bulk import, status,
//! reassignment), dispatch runs and assignments. Admins and dispatchers only.

use super::openapi::{Failures, WriteFailures, field};
use atmr_proto::{
    common::v1::{GeoPoint, PageRequest},
    dispatch::v1::{self as pb, dispatch_service_client::DispatchServiceClient},
};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kit::auth::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::{Array, Object};

use super::{Body, Caller, Page, Params, name_of, number_of, positive_id, rfc3339, timestamp};
use crate::{error::ApiError, state::AppState};

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// JSON names of the vocabularies, in proto order (index = enum number).
const VEHICLE_KINDS: [&str; 4] = ["unspecified", "car", "wheelchair_van", "stretcher"];
const MOBILITIES: [&str; 4] = ["unspecified", "ambulatory", "wheelchair", "stretcher"];
const DRIVER_STATUSES: [&str; 5] = ["unspecified", "available", "on_duty", "off_duty", "inactive"];
const BOOKING_STATUSES: [&str; 8] = ["unspecified", "pending", "assigned", "en_route", "picked_up", "completed", "cancelled", "no_show"];
const RUN_MODES: [&str; 3] = ["unspecified", "full", "pending_only"];
const RUN_STATUSES: [&str; 4] = ["unspecified", "running", "completed", "failed"];
const ASSIGNMENT_STATUSES: [&str; 5] = ["unspecified", "planned", "active", "done", "superseded"];
const ROUTING_SOURCES: [&str; 3] = ["unspecified", "osrm", "haversine"];

// The schemas of the vocabularies (the dispatch service's checks are in its `input.rs`).
fn vehicle_kind() -> Object {
    field::one_of(&VEHICLE_KINDS)
}
fn vehicle_kinds() -> Array {
    field::list_of(&VEHICLE_KINDS)
}
fn mobility() -> Object {
    field::one_of(&MOBILITIES)
}
fn mobilities() -> Array {
    field::list_of(&MOBILITIES)
}
fn driver_status() -> Object {
    field::one_of(&DRIVER_STATUSES)
}
fn driver_statuses() -> Array {
    field::list_of(&DRIVER_STATUSES)
}
fn booking_status() -> Object {
    field::one_of(&BOOKING_STATUSES)
}
fn booking_statuses() -> Array {
    field::list_of(&BOOKING_STATUSES)
}
fn run_mode() -> Object {
    field::one_of(&RUN_MODES)
}
fn assignment_statuses() -> Array {
    field::list_of(&ASSIGNMENT_STATUSES)
}

pub(super) fn dispatch_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("dispatch", &status)
}

fn client(state: &AppState) -> DispatchServiceClient<crate::downstream::Guarded> {
    state.dispatch.clone()
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    #[schema(minimum = -90.0, maximum = 90.0)]
    latitude: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    longitude: f64,
}

impl From<Point> for GeoPoint {
    fn from(p: Point) -> Self {
        GeoPoint { latitude: p.latitude, longitude: p.longitude }
    }
}

fn point(p: Option<GeoPoint>) -> Option<Point> {
    p.map(|p| Point { latitude: p.latitude, longitude: p.longitude })
}

pub(super) fn page_request(page: Option<i32>, per_page: Option<i32>) -> Option<PageRequest> {
    Some(PageRequest { page: page.unwrap_or(1), per_page: per_page.unwrap_or(20) })
}

/// A comma-separated list of names (`?status=pending,assigned`).
pub(super) fn numbers(field: &str, names: &[&str], raw: Option<&str>) -> Result<Vec<i32>, ApiError> {
    raw.map(|r| r.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|v| number_of(field, names, v)).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

fn optional_number(field: &str, names: &[&str], raw: Option<&str>) -> Result<i32, ApiError> {
    raw.map(|v| number_of(field, names, v)).transpose().map(Option::unwrap_or_default)
}

/// The keys of a PATCH body, as update-mask paths, and the body as `T`.
fn patch<T: serde::de::DeserializeOwned>(body: Map<String, Value>) -> Result<(Vec<String>, T), ApiError> {
    let paths = body.keys().cloned().collect();
    let parsed = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument", e.to_string()))?;
    Ok((paths, parsed))
}

fn mask(paths: Vec<String>) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths })
}

// ---- company --------------------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Company {
    id: i64,
    name: String,
    time_zone: String,
}

impl From<pb::Company> for Company {
    fn from(c: pb::Company) -> Self {
        Self { id: c.id, name: c.name, time_zone: c.time_zone }
    }
}

#[utoipa::path(
    operation_id = "dispatch_get_company",
    get,
    path = "/api/company",
    tag = "dispatch",
    responses((status = 200, description = "OK", body = Company), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/company`
pub async fn get_company(State(state): State<AppState>, caller: Caller) -> Result<Json<Company>, ApiError> {
    caller.require(DISPATCHERS)?;
    let res = client(&state).get_company(kit::grpc::request(pb::GetCompanyRequest {}, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().company.unwrap_or_default().into()))
}

/// The fields to change (one at least).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct CompanyPatch {
    #[schema(schema_with = field::line::<200>)]
    name: String,
    /// An IANA time zone such as `Europe/Zurich`.
    #[schema(pattern = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", max_length = 64)]
    time_zone: String,
}

#[utoipa::path(
    operation_id = "dispatch_update_company",
    patch,
    path = "/api/company",
    tag = "dispatch",
    request_body = CompanyPatch,
    responses((status = 200, description = "OK", body = Company), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PATCH /api/company` `{name?, time_zone?}` (admins).
pub async fn update_company(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Company>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (paths, p): (_, CompanyPatch) = patch(body)?;
    let req = pb::UpdateCompanyRequest {
        company: Some(pb::Company { name: p.name, time_zone: p.time_zone, ..Default::default() }),
        update_mask: mask(paths),
    };
    let res = client(&state).update_company(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().company.unwrap_or_default().into()))
}

// ---- drivers --------------------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Driver {
    id: i64,
    name: String,
    phone: String,
    vehicle_kind: &'static str,
    seats: i32,
    wheelchair_places: i32,
    shift_start_minute: i32,
    shift_end_minute: i32,
    depot: Option<Point>,
    status: &'static str,
    last_position: Option<Point>,
    last_position_at: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<pb::Driver> for Driver {
    fn from(d: pb::Driver) -> Self {
        Self {
            id: d.id,
            vehicle_kind: name_of(&VEHICLE_KINDS, d.vehicle_kind),
            status: name_of(&DRIVER_STATUSES, d.status),
            name: d.name,
            phone: d.phone,
            seats: d.seats,
            wheelchair_places: d.wheelchair_places,
            shift_start_minute: d.shift_start_minute,
            shift_end_minute: d.shift_end_minute,
            depot: point(d.depot),
            last_position: point(d.last_position),
            last_position_at: rfc3339(d.last_position_time),
            created_at: rfc3339(d.create_time),
            updated_at: rfc3339(d.update_time),
        }
    }
}

/// A driver as sent: the required fields and any other for POST, any of them
/// (one at least) for PATCH (`DriverPatch`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({
    "name": "Ana Duarte", "phone": "+41 79 555 01 02", "vehicle_kind": "wheelchair_van", "seats": 3, "wheelchair_places": 1,
    "shift_start_minute": 420, "shift_end_minute": 1080, "depot": {"latitude": 46.2044, "longitude": 6.1432}
}))]
pub struct DriverBody {
    #[schema(schema_with = field::line::<200>, required = true)]
    name: String,
    #[schema(schema_with = field::optional_line::<40>)]
    phone: String,
    #[schema(schema_with = vehicle_kind, required = true)]
    vehicle_kind: Option<String>,
    #[schema(minimum = 0, maximum = 60)]
    seats: i32,
    /// At least 1 for a `wheelchair_van`.
    #[schema(minimum = 0, maximum = 10)]
    wheelchair_places: i32,
    /// Minutes after midnight.
    #[schema(minimum = 0, maximum = 1440)]
    shift_start_minute: i32,
    /// Minutes after midnight, after `shift_start_minute`.
    #[schema(minimum = 1, maximum = 1440, required = true)]
    shift_end_minute: i32,
    #[schema(value_type = Point, required = true)]
    depot: Option<Point>,
    /// `available` when absent.
    #[schema(schema_with = driver_status)]
    status: Option<String>,
}

impl DriverBody {
    fn into_pb(self, id: i64) -> Result<pb::Driver, ApiError> {
        Ok(pb::Driver {
            id,
            name: self.name,
            phone: self.phone,
            vehicle_kind: optional_number("vehicle_kind", &VEHICLE_KINDS, self.vehicle_kind.as_deref())?,
            seats: self.seats,
            wheelchair_places: self.wheelchair_places,
            shift_start_minute: self.shift_start_minute,
            shift_end_minute: self.shift_end_minute,
            depot: self.depot.map(Into::into),
            status: optional_number("status", &DRIVER_STATUSES, self.status.as_deref())?,
            ..Default::default()
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DriverQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Comma-separated.
    #[param(schema_with = driver_statuses, style = Form, explode = false)]
    status: Option<String>,
    /// Comma-separated.
    #[param(schema_with = vehicle_kinds, style = Form, explode = false)]
    vehicle_kind: Option<String>,
    /// Text search over the name and the phone.
    #[param(schema_with = field::optional_line::<100>)]
    q: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_list_drivers",
    get,
    path = "/api/drivers",
    tag = "dispatch",
    params(DriverQuery),
    responses((status = 200, description = "OK", body = Page<Driver>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/drivers?status=&vehicle_kind=&q=`
pub async fn list_drivers(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DriverQuery>,
) -> Result<Json<Page<Driver>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListDriversRequest {
        page: page_request(q.page, q.per_page),
        statuses: numbers("status", &DRIVER_STATUSES, q.status.as_deref())?,
        vehicle_kinds: numbers("vehicle_kind", &VEHICLE_KINDS, q.vehicle_kind.as_deref())?,
        query: q.q,
    };
    let res = client(&state).list_drivers(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.drivers.into_iter().map(Driver::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "dispatch_create_driver",
    post,
    path = "/api/drivers",
    tag = "dispatch",
    request_body = DriverBody,
    responses((status = 201, description = "created", body = Driver), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/drivers`
pub async fn create_driver(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<DriverBody>,
) -> Result<(StatusCode, Json<Driver>), ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::CreateDriverRequest { driver: Some(b.into_pb(0)?) };
    let res = client(&state).create_driver(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok((StatusCode::CREATED, Json(res.into_inner().driver.unwrap_or_default().into())))
}

#[utoipa::path(
    operation_id = "dispatch_get_driver",
    get,
    path = "/api/drivers/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the driver's id")),
    responses((status = 200, description = "OK", body = Driver), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/drivers/{id}`
pub async fn get_driver(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Driver>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GetDriverRequest { driver_id: positive_id("driver_id", &id)? };
    let res = client(&state).get_driver(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().driver.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "dispatch_update_driver",
    patch,
    path = "/api/drivers/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the driver's id")),
    request_body = ref("#/components/schemas/DriverPatch"),
    responses((status = 200, description = "OK", body = Driver), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `PATCH /api/drivers/{id}`: the fields present in the body.
pub async fn update_driver(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Driver>, ApiError> {
    caller.require(DISPATCHERS)?;
    let id = positive_id("driver_id", &id)?;
    let (paths, b): (_, DriverBody) = patch(body)?;
    let req = pb::UpdateDriverRequest { driver: Some(b.into_pb(id)?), update_mask: mask(paths) };
    let res = client(&state).update_driver(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().driver.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "dispatch_delete_driver",
    delete,
    path = "/api/drivers/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the driver's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `DELETE /api/drivers/{id}`
pub async fn delete_driver(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::DeleteDriverRequest { driver_id: positive_id("driver_id", &id)? };
    client(&state).delete_driver(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- clients (patients) ---------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Client {
    id: i64,
    name: String,
    phone: String,
    address: String,
    location: Option<Point>,
    mobility: &'static str,
    notes: String,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<pb::Client> for Client {
    fn from(c: pb::Client) -> Self {
        Self {
            id: c.id,
            mobility: name_of(&MOBILITIES, c.mobility),
            name: c.name,
            phone: c.phone,
            address: c.address,
            location: point(c.location),
            notes: c.notes,
            created_at: rfc3339(c.create_time),
            updated_at: rfc3339(c.update_time),
        }
    }
}

/// A patient as sent: the required fields and any other for POST, any of them
/// (one at least) for PATCH (`ClientPatch`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jeanne Martin", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12, 1205 Genève",
    "location": {"latitude": 46.195, "longitude": 6.14}, "mobility": "wheelchair", "notes": "Third floor, lift"
}))]
pub struct ClientBody {
    #[schema(schema_with = field::line::<200>, required = true)]
    name: String,
    #[schema(schema_with = field::optional_line::<40>)]
    phone: String,
    #[schema(schema_with = field::line::<300>, required = true)]
    address: String,
    #[schema(value_type = Point, required = true)]
    location: Option<Point>,
    /// `ambulatory` when absent.
    #[schema(schema_with = mobility)]
    mobility: Option<String>,
    #[schema(schema_with = field::text::<2000>)]
    notes: String,
}

impl ClientBody {
    fn into_pb(self, id: i64) -> Result<pb::Client, ApiError> {
        Ok(pb::Client {
            id,
            name: self.name,
            phone: self.phone,
            address: self.address,
            location: self.location.map(Into::into),
            mobility: optional_number("mobility", &MOBILITIES, self.mobility.as_deref())?,
            notes: self.notes,
            ..Default::default()
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Comma-separated.
    #[param(schema_with = mobilities, style = Form, explode = false)]
    mobility: Option<String>,
    /// Text search over the name, the phone and the address.
    #[param(schema_with = field::optional_line::<100>)]
    q: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_list_clients",
    get,
    path = "/api/clients",
    tag = "dispatch",
    params(ClientQuery),
    responses((status = 200, description = "OK", body = Page<Client>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/clients?mobility=&q=`
pub async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ClientQuery>,
) -> Result<Json<Page<Client>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListClientsRequest {
        page: page_request(q.page, q.per_page),
        mobilities: numbers("mobility", &MOBILITIES, q.mobility.as_deref())?,
        query: q.q,
    };
    let res = client(&state).list_clients(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.clients.into_iter().map(Client::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "dispatch_create_client",
    post,
    path = "/api/clients",
    tag = "dispatch",
    request_body = ClientBody,
    responses((status = 201, description = "created", body = Client), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/clients`
pub async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<ClientBody>,
) -> Result<(StatusCode, Json<Client>), ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::CreateClientRequest { client: Some(b.into_pb(0)?) };
    let res = client(&state).create_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok((StatusCode::CREATED, Json(res.into_inner().client.unwrap_or_default().into())))
}

#[utoipa::path(
    operation_id = "dispatch_get_client",
    get,
    path = "/api/clients/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the patient's id")),
    responses((status = 200, description = "OK", body = Client), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/clients/{id}`
pub async fn get_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Client>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GetClientRequest { client_id: positive_id("client_id", &id)? };
    let res = client(&state).get_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().client.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "dispatch_update_client",
    patch,
    path = "/api/clients/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the patient's id")),
    request_body = ref("#/components/schemas/ClientPatch"),
    responses((status = 200, description = "OK", body = Client), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `PATCH /api/clients/{id}`
pub async fn update_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Client>, ApiError> {
    caller.require(DISPATCHERS)?;
    let id = positive_id("client_id", &id)?;
    let (paths, b): (_, ClientBody) = patch(body)?;
    let req = pb::UpdateClientRequest { client: Some(b.into_pb(id)?), update_mask: mask(paths) };
    let res = client(&state).update_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().client.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "dispatch_delete_client",
    delete,
    path = "/api/clients/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the patient's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `DELETE /api/clients/{id}`
pub async fn delete_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::DeleteClientRequest { client_id: positive_id("client_id", &id)? };
    client(&state).delete_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- bookings -------------------------------------------------------------

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
#[schema(example = json!({ "driver_id": 5, "force": true }))]
pub struct ReassignBody {
    #[schema(minimum = 1)]
    driver_id: i64,
    #[serde(default)]
    force: bool,
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
/// `POST /api/bookings/{id}/reassign` `{driver_id, force?}`: checked for feasibility unless forced.
pub async fn reassign_booking(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ReassignBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ReassignBookingRequest { booking_id: positive_id("booking_id", &id)?, driver_id: b.driver_id, force: b.force };
    let res = client(&state).reassign_booking(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(serde_json::json!({ "assignment": res.assignment.map(Assignment::from), "violations": res.violations })))
}

// ---- runs and assignments -------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Assignment {
    id: i64,
    booking_id: i64,
    driver_id: i64,
    dispatch_run_id: Option<i64>,
    sequence: i32,
    planned_pickup_time: Option<String>,
    planned_dropoff_time: Option<String>,
    status: &'static str,
    created_at: Option<String>,
}

impl From<pb::Assignment> for Assignment {
    fn from(a: pb::Assignment) -> Self {
        Self {
            id: a.id,
            booking_id: a.booking_id,
            driver_id: a.driver_id,
            dispatch_run_id: (a.dispatch_run_id > 0).then_some(a.dispatch_run_id),
            sequence: a.sequence,
            planned_pickup_time: rfc3339(a.planned_pickup_time),
            planned_dropoff_time: rfc3339(a.planned_dropoff_time),
            status: name_of(&ASSIGNMENT_STATUSES, a.status),
            created_at: rfc3339(a.create_time),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Run {
    id: i64,
    service_day: String,
    mode: &'static str,
    status: &'static str,
    started_at: Option<String>,
    finished_at: Option<String>,
    load_ms: f64,
    solver_ms: f64,
    write_ms: f64,
    bookings_considered: i32,
    bookings_assigned: i32,
    drivers_used: i32,
    total_distance_km: f64,
    total_duration_minutes: f64,
    unassigned: Vec<Value>,
    routing_source: &'static str,
    solver: String,
    error: Option<String>,
}

impl From<pb::DispatchRun> for Run {
    fn from(r: pb::DispatchRun) -> Self {
        Self {
            id: r.id,
            mode: name_of(&RUN_MODES, r.mode),
            status: name_of(&RUN_STATUSES, r.status),
            routing_source: name_of(&ROUTING_SOURCES, r.routing_source),
            service_day: r.service_day,
            started_at: rfc3339(r.start_time),
            finished_at: rfc3339(r.finish_time),
            load_ms: r.load_ms,
            solver_ms: r.solver_ms,
            write_ms: r.write_ms,
            bookings_considered: r.bookings_considered,
            bookings_assigned: r.bookings_assigned,
            drivers_used: r.drivers_used,
            total_distance_km: r.total_distance_km,
            total_duration_minutes: r.total_duration_minutes,
            unassigned: r
                .unassigned
                .into_iter()
                .map(|u| serde_json::json!({ "booking_id": u.booking_id, "reason": u.reason, "detail": u.detail }))
                .collect(),
            solver: r.solver,
            error: r.error,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "service_day": "2030-01-07", "mode": "full", "time_budget_ms": 500 }))]
pub struct RunBody {
    #[schema(schema_with = field::date)]
    service_day: String,
    /// The solver's time; 0 or absent: the service's default
    /// (`DISPATCH_SOLVER_BUDGET_MS`), and never more than its maximum
    /// (`DISPATCH_SOLVER_MAX_BUDGET_MS`).
    #[serde(default)]
    #[schema(minimum = 0)]
    time_budget_ms: i32,
    /// full (default) or pending_only.
    #[serde(default)]
    #[schema(schema_with = run_mode)]
    mode: Option<String>,
    #[serde(default)]
    seed: u64,
}

#[utoipa::path(
    operation_id = "dispatch_run_dispatch",
    post,
    path = "/api/dispatch/runs",
    tag = "dispatch",
    request_body = RunBody,
    responses((status = 201, description = "created", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/dispatch/runs` `{service_day, mode?, time_budget_ms?, seed?}`: plans the day.
pub async fn run_dispatch(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<RunBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::RunDispatchRequest {
        service_day: b.service_day,
        time_budget_ms: b.time_budget_ms,
        mode: optional_number("mode", &RUN_MODES, b.mode.as_deref())?,
        seed: b.seed,
    };
    let res = client(&state).run_dispatch(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let assignments: Vec<Assignment> = res.assignments.into_iter().map(Assignment::from).collect();
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "run": Run::from(res.run.unwrap_or_default()), "assignments": assignments }))))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    #[param(schema_with = field::date)]
    service_day: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_list_runs",
    get,
    path = "/api/dispatch/runs",
    tag = "dispatch",
    params(RunQuery),
    responses((status = 200, description = "OK", body = Page<Run>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs?service_day=`
pub async fn list_runs(State(state): State<AppState>, caller: Caller, Params(q): Params<RunQuery>) -> Result<Json<Page<Run>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListDispatchRunsRequest { page: page_request(q.page, q.per_page), service_day: q.service_day };
    let res = client(&state).list_dispatch_runs(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.runs.into_iter().map(Run::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "dispatch_get_run",
    get,
    path = "/api/dispatch/runs/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the run's id")),
    responses((status = 200, description = "OK", body = Run), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs/{id}`
pub async fn get_run(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Run>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GetDispatchRunRequest { run_id: positive_id("run_id", &id)? };
    let res = client(&state).get_dispatch_run(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().run.unwrap_or_default().into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    #[param(minimum = 1)]
    run_id: Option<i64>,
    #[param(minimum = 1)]
    driver_id: Option<i64>,
    #[param(schema_with = field::date)]
    service_day: Option<String>,
    /// Comma-separated.
    #[param(schema_with = assignment_statuses, style = Form, explode = false)]
    status: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_run_assignments",
    get,
    path = "/api/dispatch/runs/{id}/assignments",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the run's id"), AssignmentQuery),
    responses((status = 200, description = "OK", body = Page<Assignment>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs/{id}/assignments?page=&per_page=&status=`
pub async fn run_assignments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<AssignmentQuery>,
) -> Result<Json<Page<Assignment>>, ApiError> {
    let run_id = positive_id("run_id", &id)?;
    list_assignments(State(state), caller, Params(AssignmentQuery { run_id: Some(run_id), ..q })).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    #[param(schema_with = field::date)]
    service_day: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_board",
    get,
    path = "/api/dispatch/board",
    tag = "dispatch",
    params(BoardQuery),
    responses((status = 200, description = "Server-Sent Events", content_type = "text/event-stream"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/board?service_day=`: Server-Sent Events, one per
/// assignment change (`event: created | superseded | status_changed`, the
/// assignment as data), for a live board. A watcher too slow to keep up gets
/// an `error` event and should reload with `/api/dispatch/assignments`.
pub async fn board(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<BoardQuery>,
) -> Result<axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt as _;
    caller.require(DISPATCHERS)?;
    let req = pb::WatchAssignmentsRequest { service_day: q.service_day };
    let stream = client(&state).watch_assignments(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let open = crate::http_metrics::StreamGuard::new(&state.http.streams);
    let events = stream.map(move |item| {
        let _counted = &open;
        Ok(match item {
            Ok(change) => {
                let data = serde_json::json!({ "change": change.change, "assignment": change.assignment.map(Assignment::from), "time": rfc3339(change.time) });
                Event::default().event(change.change).data(data.to_string())
            }
            Err(status) => Event::default().event("error").data(serde_json::json!({ "message": status.message() }).to_string()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

#[utoipa::path(
    operation_id = "dispatch_list_assignments",
    get,
    path = "/api/dispatch/assignments",
    tag = "dispatch",
    params(AssignmentQuery),
    responses((status = 200, description = "OK", body = Page<Assignment>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/assignments?run_id=&driver_id=&service_day=&status=`
pub async fn list_assignments(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AssignmentQuery>,
) -> Result<Json<Page<Assignment>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListAssignmentsRequest {
        page: page_request(q.page, q.per_page),
        run_id: q.run_id,
        driver_id: q.driver_id,
        service_day: q.service_day,
        statuses: numbers("status", &ASSIGNMENT_STATUSES, q.status.as_deref())?,
    };
    let res = client(&state).list_assignments(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.assignments.into_iter().map(Assignment::from).collect(), res.page)))
}

// ---- recurring templates --------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Template {
    id: i64,
    client_id: i64,
    weekdays: Vec<i32>,
    pickup_address: String,
    pickup: Option<Point>,
    dropoff_address: String,
    dropoff: Option<Point>,
    pickup_earliest_minute: i32,
    pickup_latest_minute: i32,
    appointment_minute: Option<i32>,
    return_earliest_minute: Option<i32>,
    return_latest_minute: Option<i32>,
    passengers: i32,
    mobility: &'static str,
    boarding_minutes: i32,
    valid_from: String,
    valid_until: Option<String>,
    notes: String,
}

impl From<pb::RecurringTemplate> for Template {
    fn from(t: pb::RecurringTemplate) -> Self {
        Self {
            id: t.id,
            client_id: t.client_id,
            weekdays: t.weekdays,
            pickup_address: t.pickup_address,
            pickup: point(t.pickup),
            dropoff_address: t.dropoff_address,
            dropoff: point(t.dropoff),
            pickup_earliest_minute: t.pickup_earliest_minute,
            pickup_latest_minute: t.pickup_latest_minute,
            appointment_minute: t.appointment_minute,
            return_earliest_minute: t.return_earliest_minute,
            return_latest_minute: t.return_latest_minute,
            passengers: t.passengers,
            mobility: name_of(&MOBILITIES, t.mobility),
            boarding_minutes: t.boarding_minutes,
            valid_from: t.valid_from,
            valid_until: Some(t.valid_until).filter(|u| !u.is_empty()),
            notes: t.notes,
        }
    }
}

/// A weekly trip. Times are minutes after midnight in the company's time
/// zone: the pickup window (latest not before earliest), an appointment after
/// the window opens, and a return window (both ends or neither) that starts
/// after the outbound window opens.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({
    "client_id": 1, "weekdays": [1, 3, 5], "pickup_address": "Rue de Carouge 12, 1205 Genève", "pickup": {"latitude": 46.195, "longitude": 6.14},
    "dropoff_address": "HUG, Rue Gabrielle-Perret-Gentil 4, 1205 Genève", "dropoff": {"latitude": 46.1935, "longitude": 6.149},
    "pickup_earliest_minute": 450, "pickup_latest_minute": 480, "appointment_minute": 510,
    "return_earliest_minute": 690, "return_latest_minute": 720, "valid_from": "2030-01-07", "notes": "Dialysis"
}))]
pub struct TemplateBody {
    /// The patient.
    #[schema(minimum = 1, required = true)]
    client_id: i64,
    /// ISO weekdays, 1 = Monday; one at least.
    #[schema(schema_with = weekdays, required = true)]
    weekdays: Vec<i32>,
    #[schema(schema_with = field::line::<300>, required = true)]
    pickup_address: String,
    #[schema(value_type = Point, required = true)]
    pickup: Option<Point>,
    #[schema(schema_with = field::line::<300>, required = true)]
    dropoff_address: String,
    #[schema(value_type = Point, required = true)]
    dropoff: Option<Point>,
    #[schema(minimum = 0, maximum = 1439)]
    pickup_earliest_minute: i32,
    #[schema(minimum = 0, maximum = 1439)]
    pickup_latest_minute: i32,
    #[schema(value_type = i32, minimum = 0, maximum = 1439)]
    appointment_minute: Option<i32>,
    #[schema(value_type = i32, minimum = 0, maximum = 1439)]
    return_earliest_minute: Option<i32>,
    #[schema(value_type = i32, minimum = 0, maximum = 1439)]
    return_latest_minute: Option<i32>,
    /// 1 when absent.
    #[schema(value_type = i32, minimum = 1, maximum = 8)]
    passengers: Option<i32>,
    /// The patient's when absent.
    #[schema(schema_with = mobility)]
    mobility: Option<String>,
    #[schema(minimum = 0, maximum = 60)]
    boarding_minutes: i32,
    #[schema(schema_with = field::date, required = true)]
    valid_from: String,
    /// Not before `valid_from`; open-ended when absent.
    #[schema(schema_with = field::date)]
    valid_until: Option<String>,
    #[schema(schema_with = field::text::<2000>)]
    notes: String,
}

/// ISO weekdays, 1 (Monday) to 7; one at least.
fn weekdays() -> Array {
    let day = utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer).minimum(Some(1)).maximum(Some(7)).build();
    utoipa::openapi::schema::ArrayBuilder::new().items(day).min_items(Some(1)).build()
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    #[param(minimum = 1)]
    client_id: Option<i64>,
}

#[utoipa::path(
    operation_id = "dispatch_list_templates",
    get,
    path = "/api/recurring-templates",
    tag = "dispatch",
    params(TemplateQuery),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/recurring-templates?client_id=`
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<TemplateQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListRecurringTemplatesRequest { client_id: q.client_id };
    let res = client(&state).list_recurring_templates(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let items: Vec<Template> = res.templates.into_iter().map(Template::from).collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

#[utoipa::path(
    operation_id = "dispatch_create_template",
    post,
    path = "/api/recurring-templates",
    tag = "dispatch",
    request_body = TemplateBody,
    responses((status = 201, description = "created", body = Template), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/recurring-templates`
pub async fn create_template(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<TemplateBody>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    caller.require(DISPATCHERS)?;
    let template = pb::RecurringTemplate {
        client_id: b.client_id,
        weekdays: b.weekdays,
        pickup_address: b.pickup_address,
        pickup: b.pickup.map(Into::into),
        dropoff_address: b.dropoff_address,
        dropoff: b.dropoff.map(Into::into),
        pickup_earliest_minute: b.pickup_earliest_minute,
        pickup_latest_minute: b.pickup_latest_minute,
        appointment_minute: b.appointment_minute,
        return_earliest_minute: b.return_earliest_minute,
        return_latest_minute: b.return_latest_minute,
        passengers: b.passengers.unwrap_or(1),
        mobility: optional_number("mobility", &MOBILITIES, b.mobility.as_deref())?,
        boarding_minutes: b.boarding_minutes,
        valid_from: b.valid_from,
        valid_until: b.valid_until.unwrap_or_default(),
        notes: b.notes,
        ..Default::default()
    };
    let req = pb::CreateRecurringTemplateRequest { template: Some(template) };
    let res = client(&state).create_recurring_template(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok((StatusCode::CREATED, Json(res.into_inner().template.unwrap_or_default().into())))
}

#[utoipa::path(
    operation_id = "dispatch_delete_template",
    delete,
    path = "/api/recurring-templates/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the template's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `DELETE /api/recurring-templates/{id}`: stops the template; its bookings stay.
pub async fn delete_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::DeleteRecurringTemplateRequest { template_id: positive_id("template_id", &id)? };
    client(&state).delete_recurring_template(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "service_day": "2030-01-07" }))]
pub struct GenerateBody {
    #[schema(schema_with = field::date)]
    service_day: String,
}

#[utoipa::path(
    operation_id = "dispatch_generate_bookings",
    post,
    path = "/api/bookings/generate",
    tag = "dispatch",
    request_body = GenerateBody,
    responses((status = 200, description = "OK", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bookings/generate` `{service_day}`: the day's bookings from the templates, once.
pub async fn generate_bookings(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<GenerateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GenerateRecurringBookingsRequest { service_day: b.service_day };
    let res =
        client(&state).generate_recurring_bookings(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let created: Vec<Booking> = res.bookings.into_iter().map(Booking::from).collect();
    Ok(Json(serde_json::json!({ "bookings": created, "already_present": res.already_present })))
}
