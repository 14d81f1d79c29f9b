//! `/api/recurring-templates`: bookings that come back every week, and the
//! generation of a day's bookings from them (`/api/bookings/generate`).

use atmr_proto::dispatch::v1::{self as pb};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::Array;

use super::bookings::Booking;
use super::shared::{DISPATCHERS, MOBILITIES, Point, client, dispatch_error, mobility, optional_number, point};
use crate::{
    error::ApiError,
    routes::{
        convert::name_of,
        extract::{Body, Caller, Params, positive_id},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

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
