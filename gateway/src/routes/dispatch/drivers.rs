//! `/api/drivers`: the company's drivers, their vehicles and shifts, for admins and dispatchers.

use atmr_proto::dispatch::v1::{self as pb};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::shared::{
    DISPATCHERS, DRIVER_STATUSES, Point, VEHICLE_KINDS, client, dispatch_error, driver_status, driver_statuses, mask, numbers,
    optional_number, page_request, patch, point, vehicle_kind, vehicle_kinds,
};
use crate::{
    error::ApiError,
    routes::{
        convert::{Page, name_of, rfc3339},
        extract::{Body, Caller, Params, positive_id},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

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
