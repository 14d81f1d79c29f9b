//! A patient's data rights, across services: `GET /api/clients/{id}/export`
//! gathers everything the platform holds about one patient (dispatch's
//! record, the audit trail's history of the patient and of each of their
//! trips, status changes included, then the notifications that named their
//! trips) as one JSON
//! document; `POST /api/clients/{id}/erase` erases their personal fields for
//! good. Admins only: a data subject's request is the company's to answer.
//!
//! Notify's notifications name trips by booking id only (the dispatcher's
//! alerts carry ids, never a patient's name), so an erasure has nothing to
//! erase there; the answer says so.

use atmr_proto::{
    common::v1::PageRequest,
    dispatch::v1 as pb,
    notify::v1::{FieldMatch, ListNotificationsRequest},
    safety::v1::ListAuditLogRequest,
};
use axum::{
    Json,
    extract::{Path, State},
};
use kit::auth::Role;
use serde::Serialize;
use serde_json::Value;

use crate::{
    error::ApiError,
    routes::{
        audit::{AuditRecord, list_page},
        convert::rfc3339,
        dispatch::{
            bookings::Booking,
            clients::Client,
            runs::Assignment,
            shared::{client, dispatch_error},
            templates::Template,
        },
        extract::{Caller, positive_id},
        failures::{Failures, WriteFailures},
        notify::shared::{notification_json, notify_error},
    },
    state::AppState,
};

const ADMINS: &[Role] = &[Role::Admin];
/// Booking ids asked of notify per call, and notifications per page.
const IDS_PER_CALL: usize = 500;
const PER_PAGE: i32 = 100;

/// Everything the platform holds about one patient.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatientExport {
    /// `atmr.patient-export.v1`.
    format: &'static str,
    exported_at: String,
    /// The admin who asked for it.
    exported_by: String,
    patient: Client,
    /// When the patient was erased: what is left is anonymous.
    erased_at: Option<String>,
    erasure_reference: Option<String>,
    deleted_at: Option<String>,
    bookings: Vec<Booking>,
    /// Every assignment of those bookings, superseded ones included.
    assignments: Vec<Assignment>,
    recurring_templates: Vec<Template>,
    /// Pickup and completion times as observed.
    trips: Vec<ObservedTrip>,
    /// The audit trail's records of the patient and of each of their trips,
    /// oldest first: who changed what and when, status changes included (a
    /// patient's personal fields only as changed).
    history: Vec<AuditRecord>,
    /// The notifications that named one of the patient's bookings.
    #[schema(value_type = Vec<Object>)]
    notifications: Vec<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ObservedTrip {
    booking_id: i64,
    picked_up_at: Option<String>,
    completed_at: Option<String>,
}

/// What an erasure did, service by service.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    client_id: i64,
    /// What the patient's trips are known by from now on.
    erasure_reference: String,
    erased_at: Option<String>,
    /// The patient's fields erased (or, for the location, made coarse).
    client_fields: Vec<String>,
    bookings_anonymised: i32,
    booking_fields: Vec<String>,
    recurring_templates_removed: i32,
    forced_reasons_erased: i32,
    /// What the notification service holds: nothing personal to erase.
    notifications: &'static str,
}

#[utoipa::path(
    operation_id = "dispatch_export_client",
    get,
    path = "/api/clients/{id}/export",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "The patient (a deleted or erased one too)")),
    responses((status = 200, description = "Everything held about the patient", body = PatientExport), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/clients/{id}/export`
pub async fn export_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<PatientExport>, ApiError> {
    caller.require(ADMINS)?;
    let id = positive_id("id", &id)?;
    let req = pb::ExportClientRequest { client_id: id };
    let r = client(&state).export_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let booking_ids: Vec<String> = r.bookings.iter().map(|b| b.id.to_string()).collect();
    let notifications = notifications_naming(&state, &caller.token, &booking_ids).await?;
    let history = history(&state, &caller.token, id, &booking_ids).await?;
    Ok(Json(PatientExport {
        format: "atmr.patient-export.v1",
        exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        exported_by: caller.claims.email.clone(),
        patient: Client::from(r.client.unwrap_or_default()),
        erased_at: rfc3339(r.erase_time),
        erasure_reference: Some(r.erasure_reference).filter(|s| !s.is_empty()),
        deleted_at: rfc3339(r.delete_time),
        bookings: r.bookings.into_iter().map(Booking::from).collect(),
        assignments: r.assignments.into_iter().map(Assignment::from).collect(),
        recurring_templates: r.templates.into_iter().map(Template::from).collect(),
        trips: r
            .trips
            .into_iter()
            .map(|t| ObservedTrip {
                booking_id: t.booking_id,
                picked_up_at: rfc3339(t.pickup_time),
                completed_at: rfc3339(t.completion_time),
            })
            .collect(),
        history,
        notifications,
    }))
}

/// Every audit record of the patient `client_id` and of the trips `bookings`,
/// oldest first, page by page.
async fn history(state: &AppState, token: &str, client_id: i64, bookings: &[String]) -> Result<Vec<AuditRecord>, ApiError> {
    const PAGE: i32 = 1_000;
    let mut found = Vec::new();
    let subjects = std::iter::once(("client", client_id.to_string())).chain(bookings.iter().map(|b| ("booking", b.clone())));
    for (resource, id) in subjects {
        for page in 1.. {
            let req = ListAuditLogRequest {
                page: Some(PageRequest { page, per_page: PAGE }),
                resource: Some(resource.to_owned()),
                resource_id: Some(id.clone()),
                ..Default::default()
            };
            let records = list_page(state, token, req).await?.records;
            let got = records.len();
            found.extend(records);
            if got < PAGE as usize {
                break;
            }
        }
    }
    found.sort_by_key(|r| r.chain_seq);
    Ok(found.into_iter().map(AuditRecord::from).collect())
}

/// Every notification with a `Booking` field naming one of `ids`, page by page.
async fn notifications_naming(state: &AppState, token: &str, ids: &[String]) -> Result<Vec<Value>, ApiError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(IDS_PER_CALL) {
        for page in 1.. {
            let req = ListNotificationsRequest {
                page: Some(PageRequest { page, per_page: PER_PAGE }),
                field: Some(FieldMatch { name: "Booking".to_owned(), values: chunk.to_vec() }),
                ..Default::default()
            };
            let res = state.notify.clone().list_notifications(kit::grpc::request(req, token)).await.map_err(notify_error)?.into_inner();
            let got = res.notifications.len();
            found.extend(res.notifications.into_iter().map(notification_json));
            if got < PER_PAGE as usize {
                break;
            }
        }
    }
    Ok(found)
}

#[utoipa::path(
    operation_id = "dispatch_erase_client",
    post,
    path = "/api/clients/{id}/erase",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "The patient")),
    responses(
        (status = 200, description = "Erased for good; what was erased (400 `failed_precondition` while a trip of the patient is not finished, or once erased)", body = Erasure),
        Failures, WriteFailures
    ),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/clients/{id}/erase`
pub async fn erase_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Erasure>, ApiError> {
    caller.require(ADMINS)?;
    let id = positive_id("id", &id)?;
    let req = pb::EraseClientRequest { client_id: id };
    let e = client(&state).erase_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Erasure {
        client_id: e.client_id,
        erasure_reference: e.erasure_reference,
        erased_at: rfc3339(e.erase_time),
        client_fields: e.client_fields,
        bookings_anonymised: e.bookings_anonymised,
        booking_fields: e.booking_fields,
        recurring_templates_removed: e.templates_removed,
        forced_reasons_erased: e.assignment_reasons_erased,
        notifications: "notifications name trips by booking id only; nothing personal to erase",
    }))
}
