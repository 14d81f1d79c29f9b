//! CSV exports of bookings, assignments and dispatch runs for a day or a
//! range of days (`from`, `to`: service days, both included), with the
//! lists' filters, streamed from dispatch's export streams (`routes/csv.rs`).
//! Times are RFC 3339 in UTC, as in the JSON answers; vocabularies by name.

use atmr_proto::dispatch::v1::{self as pb};
use axum::{extract::State, response::Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::shared::{
    ASSIGNMENT_STATUSES, BOOKING_STATUSES, DISPATCHERS, MOBILITIES, ROUTING_SOURCES, RUN_MODES, RUN_STATUSES, assignment_statuses,
    booking_statuses, client, dispatch_error, numbers,
};
use crate::{
    error::ApiError,
    routes::{
        convert::{name_of, rfc3339},
        csv::{self, Row, optional, text},
        extract::{Caller, Params},
        failures::Failures,
        field,
    },
    state::AppState,
};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookingExportQuery {
    /// The first service day, included (no bound when absent).
    #[param(schema_with = field::date)]
    from: Option<String>,
    /// The last service day, included (no bound when absent).
    #[param(schema_with = field::date)]
    to: Option<String>,
    /// Comma-separated.
    #[param(schema_with = booking_statuses, style = Form, explode = false)]
    status: Option<String>,
    #[param(minimum = 1)]
    client_id: Option<i64>,
    #[param(minimum = 1)]
    driver_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentExportQuery {
    /// The first service day, included (no bound when absent).
    #[param(schema_with = field::date)]
    from: Option<String>,
    /// The last service day, included (no bound when absent).
    #[param(schema_with = field::date)]
    to: Option<String>,
    #[param(minimum = 1)]
    run_id: Option<i64>,
    #[param(minimum = 1)]
    driver_id: Option<i64>,
    /// Comma-separated.
    #[param(schema_with = assignment_statuses, style = Form, explode = false)]
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunExportQuery {
    /// The first service day, included (no bound when absent).
    #[param(schema_with = field::date)]
    from: Option<String>,
    /// The last service day, included (no bound when absent).
    #[param(schema_with = field::date)]
    to: Option<String>,
}

const BOOKING_COLUMNS: &[&str] = &[
    "id",
    "service_day",
    "status",
    "client_id",
    "pickup_address",
    "pickup_latitude",
    "pickup_longitude",
    "dropoff_address",
    "dropoff_latitude",
    "dropoff_longitude",
    "pickup_earliest",
    "pickup_latest",
    "appointment_time",
    "passengers",
    "mobility",
    "boarding_minutes",
    "return_of",
    "will_call",
    "recurring_template_id",
    "notes",
    "created_at",
    "updated_at",
];

const ASSIGNMENT_COLUMNS: &[&str] = &[
    "id",
    "booking_id",
    "driver_id",
    "dispatch_run_id",
    "sequence",
    "planned_pickup_time",
    "planned_dropoff_time",
    "status",
    "created_at",
    "forced_reason",
    "forced_by",
];

const RUN_COLUMNS: &[&str] = &[
    "id",
    "service_day",
    "mode",
    "status",
    "started_at",
    "finished_at",
    "bookings_considered",
    "bookings_assigned",
    "bookings_unassigned",
    "drivers_used",
    "total_distance_km",
    "total_duration_minutes",
    "routing_source",
    "solver",
    "load_ms",
    "solver_ms",
    "write_ms",
    "error",
];

#[utoipa::path(
    operation_id = "dispatch_export_bookings",
    get,
    path = "/api/bookings/export",
    tag = "dispatch",
    params(BookingExportQuery),
    responses((status = 200, description = "The bookings as CSV, by scheduled time, a header line first", content_type = "text/csv", body = String), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/bookings/export?from=&to=&status=&client_id=&driver_id=`
pub async fn export_bookings(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<BookingExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ExportBookingsRequest {
        days: Some(days(q.from.as_deref(), q.to.as_deref())?),
        statuses: numbers("status", &BOOKING_STATUSES, q.status.as_deref())?,
        client_id: q.client_id,
        driver_id: q.driver_id,
    };
    let stream = client(&state).export_bookings(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let name = filename("bookings", q.from.as_deref(), q.to.as_deref());
    csv::export(&name, BOOKING_COLUMNS, stream, |m| m.bookings.into_iter().map(booking_row).collect(), dispatch_error).await
}

#[utoipa::path(
    operation_id = "dispatch_export_assignments",
    get,
    path = "/api/dispatch/assignments/export",
    tag = "dispatch",
    params(AssignmentExportQuery),
    responses((status = 200, description = "The assignments as CSV, by planned pickup, a header line first", content_type = "text/csv", body = String), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/assignments/export?from=&to=&run_id=&driver_id=&status=`
pub async fn export_assignments(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AssignmentExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ExportAssignmentsRequest {
        days: Some(days(q.from.as_deref(), q.to.as_deref())?),
        run_id: q.run_id,
        driver_id: q.driver_id,
        statuses: numbers("status", &ASSIGNMENT_STATUSES, q.status.as_deref())?,
    };
    let stream = client(&state).export_assignments(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let name = filename("assignments", q.from.as_deref(), q.to.as_deref());
    csv::export(&name, ASSIGNMENT_COLUMNS, stream, |m| m.assignments.into_iter().map(assignment_row).collect(), dispatch_error).await
}

#[utoipa::path(
    operation_id = "dispatch_export_runs",
    get,
    path = "/api/dispatch/runs/export",
    tag = "dispatch",
    params(RunExportQuery),
    responses((status = 200, description = "The dispatch runs as CSV, oldest first, a header line first", content_type = "text/csv", body = String), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs/export?from=&to=`
pub async fn export_runs(State(state): State<AppState>, caller: Caller, Params(q): Params<RunExportQuery>) -> Result<Response, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ExportDispatchRunsRequest { days: Some(days(q.from.as_deref(), q.to.as_deref())?) };
    let stream = client(&state).export_dispatch_runs(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let name = filename("dispatch-runs", q.from.as_deref(), q.to.as_deref());
    csv::export(&name, RUN_COLUMNS, stream, |m| m.runs.into_iter().map(run_row).collect(), dispatch_error).await
}

/// `from` and `to` checked here, so that a bad one is named as the caller
/// sent it.
fn days(from: Option<&str>, to: Option<&str>) -> Result<pb::DayRange, ApiError> {
    let parse = |name: &str, raw: Option<&str>| {
        raw.map(|r| {
            NaiveDate::parse_from_str(r, "%Y-%m-%d")
                .map_err(|_| ApiError::invalid(name, format!("{name} must be a date as YYYY-MM-DD, got {r:?}")))
        })
        .transpose()
    };
    let (first, last) = (parse("from", from)?, parse("to", to)?);
    if let (Some(f), Some(t)) = (first, last)
        && t < f
    {
        return Err(ApiError::invalid("to", format!("to ({t}) is before from ({f})")));
    }
    Ok(pb::DayRange { from_day: first.map(|d| d.to_string()), to_day: last.map(|d| d.to_string()) })
}

/// `bookings_2026-12-01_2026-12-05.csv`, `bookings_all.csv`.
fn filename(what: &str, from: Option<&str>, to: Option<&str>) -> String {
    match (from, to) {
        (None, None) => format!("{what}_all.csv"),
        (f, t) if f == t => format!("{what}_{}.csv", f.unwrap_or_default()),
        (f, t) => format!("{what}_{}_{}.csv", f.unwrap_or("start"), t.unwrap_or("end")),
    }
}

fn booking_row(b: pb::Booking) -> Row {
    let (pickup, dropoff) = (b.pickup.unwrap_or_default(), b.dropoff.unwrap_or_default());
    vec![
        b.id.to_string(),
        b.service_day,
        name_of(&BOOKING_STATUSES, b.status).to_owned(),
        b.client_id.to_string(),
        text(&b.pickup_address),
        pickup.latitude.to_string(),
        pickup.longitude.to_string(),
        text(&b.dropoff_address),
        dropoff.latitude.to_string(),
        dropoff.longitude.to_string(),
        optional(rfc3339(b.pickup_earliest)),
        optional(rfc3339(b.pickup_latest)),
        optional(rfc3339(b.appointment_time)),
        b.passengers.to_string(),
        name_of(&MOBILITIES, b.mobility).to_owned(),
        b.boarding_minutes.to_string(),
        optional(b.return_of),
        b.will_call.to_string(),
        optional(b.recurring_template_id),
        text(&b.notes),
        optional(rfc3339(b.create_time)),
        optional(rfc3339(b.update_time)),
    ]
}

fn assignment_row(a: pb::Assignment) -> Row {
    vec![
        a.id.to_string(),
        a.booking_id.to_string(),
        a.driver_id.to_string(),
        optional((a.dispatch_run_id > 0).then_some(a.dispatch_run_id)),
        a.sequence.to_string(),
        optional(rfc3339(a.planned_pickup_time)),
        optional(rfc3339(a.planned_dropoff_time)),
        name_of(&ASSIGNMENT_STATUSES, a.status).to_owned(),
        optional(rfc3339(a.create_time)),
        text(&a.forced_reason),
        text(&a.forced_by),
    ]
}

fn run_row(r: pb::DispatchRun) -> Row {
    vec![
        r.id.to_string(),
        r.service_day,
        name_of(&RUN_MODES, r.mode).to_owned(),
        name_of(&RUN_STATUSES, r.status).to_owned(),
        optional(rfc3339(r.start_time)),
        optional(rfc3339(r.finish_time)),
        r.bookings_considered.to_string(),
        r.bookings_assigned.to_string(),
        r.unassigned.len().to_string(),
        r.drivers_used.to_string(),
        format!("{:.3}", r.total_distance_km),
        format!("{:.1}", r.total_duration_minutes),
        name_of(&ROUTING_SOURCES, r.routing_source).to_owned(),
        r.solver,
        format!("{:.1}", r.load_ms),
        format!("{:.1}", r.solver_ms),
        format!("{:.1}", r.write_ms),
        text(r.error.as_deref().unwrap_or_default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_named_as_sent_and_a_backward_range_is_refused() {
        assert_eq!(days(Some("2026-12-01"), Some("2026-12-05")).unwrap().to_day.as_deref(), Some("2026-12-05"));
        assert_eq!(days(Some("12/01/2026"), None).unwrap_err().message, "from must be a date as YYYY-MM-DD, got \"12/01/2026\"");
        assert!(days(Some("2026-12-05"), Some("2026-12-01")).unwrap_err().message.contains("to (2026-12-01) is before from"));
        assert_eq!(days(None, None).unwrap(), pb::DayRange::default());
    }

    #[test]
    fn a_file_is_named_by_its_days() {
        assert_eq!(filename("bookings", Some("2026-12-05"), Some("2026-12-05")), "bookings_2026-12-05.csv");
        assert_eq!(filename("bookings", Some("2026-12-01"), None), "bookings_2026-12-01_end.csv");
        assert_eq!(filename("bookings", None, None), "bookings_all.csv");
    }

    #[test]
    fn a_booking_row_has_a_cell_per_column_and_inert_notes() {
        let row = booking_row(pb::Booking { id: 7, notes: "=cmd()".into(), status: 1, mobility: 2, ..Default::default() });
        assert_eq!(row.len(), BOOKING_COLUMNS.len());
        assert_eq!(row[2], "pending");
        assert_eq!(row[14], "wheelchair");
        assert_eq!(row[19], "'=cmd()");
    }
}
