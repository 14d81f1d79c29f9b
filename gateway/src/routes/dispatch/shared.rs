//! What the dispatcher's routes share: the roles that may use them, the JSON
//! names of dispatch's vocabularies and their schemas, the client and its
//! error mapping, points, pages, lists of names, PATCH bodies and `validate_only`.

use atmr_proto::{
    common::v1::{GeoPoint, PageRequest},
    dispatch::v1::dispatch_service_client::DispatchServiceClient,
};
use axum::http::StatusCode;
use kit::auth::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::{Array, Object};

use crate::{
    error::ApiError,
    routes::{convert::number_of, field},
    state::AppState,
};

pub(super) const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// `?validate_only=true`: the change is checked and answered as it would be,
/// and nothing is saved (AIP-163).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValidateOnly {
    /// `true`: check only (false when absent).
    pub(super) validate_only: Option<bool>,
}

/// JSON names of the vocabularies, in proto order (index = enum number).
pub(super) const VEHICLE_KINDS: [&str; 4] = ["unspecified", "car", "wheelchair_van", "stretcher"];
pub(crate) const MOBILITIES: [&str; 4] = ["unspecified", "ambulatory", "wheelchair", "stretcher"];
pub(super) const DRIVER_STATUSES: [&str; 5] = ["unspecified", "available", "on_duty", "off_duty", "inactive"];
pub(crate) const BOOKING_STATUSES: [&str; 8] =
    ["unspecified", "pending", "assigned", "en_route", "picked_up", "completed", "cancelled", "no_show"];
pub(super) const RUN_MODES: [&str; 3] = ["unspecified", "full", "pending_only"];
pub(super) const RUN_STATUSES: [&str; 4] = ["unspecified", "running", "completed", "failed"];
pub(super) const ASSIGNMENT_STATUSES: [&str; 5] = ["unspecified", "planned", "active", "done", "superseded"];
pub(super) const ROUTING_SOURCES: [&str; 3] = ["unspecified", "osrm", "haversine"];

// The schemas of the vocabularies (the dispatch service's checks are in its `input.rs`).
pub(super) fn vehicle_kind() -> Object {
    field::one_of(&VEHICLE_KINDS)
}
pub(super) fn vehicle_kinds() -> Array {
    field::list_of(&VEHICLE_KINDS)
}
pub(crate) fn mobility() -> Object {
    field::one_of(&MOBILITIES)
}
pub(super) fn mobilities() -> Array {
    field::list_of(&MOBILITIES)
}
pub(super) fn driver_status() -> Object {
    field::one_of(&DRIVER_STATUSES)
}
pub(super) fn driver_statuses() -> Array {
    field::list_of(&DRIVER_STATUSES)
}
pub(super) fn booking_status() -> Object {
    field::one_of(&BOOKING_STATUSES)
}
pub(super) fn booking_statuses() -> Array {
    field::list_of(&BOOKING_STATUSES)
}
pub(super) fn run_mode() -> Object {
    field::one_of(&RUN_MODES)
}
pub(super) fn assignment_statuses() -> Array {
    field::list_of(&ASSIGNMENT_STATUSES)
}

pub(crate) fn dispatch_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("dispatch", &status)
}

pub(crate) fn client(state: &AppState) -> DispatchServiceClient<crate::downstream::Guarded> {
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

pub(crate) fn point(p: Option<GeoPoint>) -> Option<Point> {
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

pub(super) fn optional_number(field: &str, names: &[&str], raw: Option<&str>) -> Result<i32, ApiError> {
    raw.map(|v| number_of(field, names, v)).transpose().map(Option::unwrap_or_default)
}

/// The keys of a PATCH body, as update-mask paths, and the body as `T`.
pub(super) fn patch<T: serde::de::DeserializeOwned>(body: Map<String, Value>) -> Result<(Vec<String>, T), ApiError> {
    let paths = body.keys().cloned().collect();
    let parsed = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument", e.to_string()))?;
    Ok((paths, parsed))
}

pub(super) fn mask(paths: Vec<String>) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths })
}
