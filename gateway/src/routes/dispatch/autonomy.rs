//! The autonomous manager and the ETA model over REST: settings (admins
//! change them), suggestions, a cycle on request, the current model and its
//! drift checks. Calls go to dispatch's `AutonomyService` behind dispatch's breaker.

use atmr_proto::dispatch::v1::{self as pb, autonomy_service_client::AutonomyServiceClient};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use super::shared::{ValidateOnly, dispatch_error, numbers, page_request};
use crate::routes::{
    convert::{Page, name_of, number_of, rfc3339},
    extract::{Body, Caller, Params, positive_id},
    failures::{Conflicts, Failures, WriteFailures},
    field,
};
use crate::{error::ApiError, state::AppState};

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
const MODES: [&str; 4] = ["unspecified", "off", "suggest", "autonomous"];
const KINDS: [&str; 5] = ["unspecified", "reassign", "swap", "delay", "notify_dispatcher"];
const STATES: [&str; 8] = ["unspecified", "open", "blocked", "safety_unavailable", "executed", "expired", "accepted", "dismissed"];
const CHECK_STATES: [&str; 4] = ["unspecified", "completed", "failed", "retried"];

fn mode() -> utoipa::openapi::Object {
    field::one_of(&MODES)
}
fn states() -> utoipa::openapi::Array {
    field::list_of(&STATES)
}
fn check_states() -> utoipa::openapi::Array {
    field::list_of(&CHECK_STATES)
}

fn client(state: &AppState) -> AutonomyServiceClient<crate::downstream::Guarded> {
    state.autonomy.clone()
}

/// A company's autonomy settings.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `off`, `suggest` (proposals only) or `autonomous` (executed under the safety limits).
    #[schema(schema_with = mode)]
    mode: String,
    /// Predicted lateness (minutes) above which the manager acts (1–240).
    #[schema(minimum = 1, maximum = 240)]
    lateness_threshold_minutes: i32,
    /// The ETA model's mean absolute error (minutes) above which the drift check alerts and retrains.
    #[schema(minimum = 0.1, maximum = 120.0)]
    drift_mae_threshold_minutes: f64,
    #[schema(minimum = 5, maximum = 86400)]
    drift_check_interval_seconds: i32,
    #[schema(minimum = 5, maximum = 3600)]
    cycle_interval_seconds: i32,
}

impl From<pb::AutonomySettings> for Settings {
    fn from(s: pb::AutonomySettings) -> Self {
        Self {
            mode: name_of(&MODES, s.mode).to_owned(),
            lateness_threshold_minutes: s.lateness_threshold_minutes,
            drift_mae_threshold_minutes: s.drift_mae_threshold_minutes,
            drift_check_interval_seconds: s.drift_check_interval_seconds,
            cycle_interval_seconds: s.cycle_interval_seconds,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    id: i64,
    /// `reassign`, `swap`, `delay` or `notify_dispatcher`.
    kind: &'static str,
    booking_id: i64,
    from_driver_id: Option<i64>,
    to_driver_id: Option<i64>,
    other_booking_id: Option<i64>,
    description: String,
    confidence_score: f64,
    expected_improvement_minutes: f64,
    /// `open`, `blocked`, `safety_unavailable`, `executed`, `expired`,
    /// `accepted` or `dismissed`.
    state: &'static str,
    /// The safety service's action (its audit trail) when it was authorized.
    action_id: Option<i64>,
    created_at: Option<String>,
    /// Who accepted or dismissed it, and when.
    decided_by: Option<String>,
    decided_at: Option<String>,
}

impl From<pb::Suggestion> for Suggestion {
    fn from(s: pb::Suggestion) -> Self {
        Self {
            id: s.id,
            kind: name_of(&KINDS, s.kind),
            booking_id: s.booking_id,
            from_driver_id: s.from_driver_id,
            to_driver_id: s.to_driver_id,
            other_booking_id: s.other_booking_id,
            description: s.description,
            confidence_score: s.confidence_score,
            expected_improvement_minutes: s.expected_improvement_minutes,
            state: name_of(&STATES, s.state),
            action_id: s.action_id,
            created_at: rfc3339(s.create_time),
            decided_by: (!s.decided_by.is_empty()).then_some(s.decided_by),
            decided_at: rfc3339(s.decide_time),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CycleReport {
    late_bookings: i32,
    proposals: Vec<Suggestion>,
    executed: i32,
    blocked: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EtaModel {
    /// 0: no model trained yet (the routing estimate as is).
    version: i64,
    trained_at: Option<String>,
    trained_on_trips: i64,
    mae_minutes: f64,
    bias_minutes: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DriftCheck {
    id: i64,
    started_at: Option<String>,
    /// `completed`, `retried` (completed after a failed attempt) or `failed`.
    state: &'static str,
    attempts: i32,
    model_version: i64,
    trips: i64,
    mae_minutes: f64,
    bias_minutes: f64,
    drift_detected: bool,
    retrained_version: Option<i64>,
    error: Option<String>,
    /// The retrained model's mean absolute error and bias (minutes) on the
    /// same trips; present exactly when the check retrained.
    mae_after_minutes: Option<f64>,
    bias_after_minutes: Option<f64>,
}

/// One day of drift checks in the company's time zone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DriftCheckDay {
    /// `YYYY-MM-DD`.
    date: String,
    checks: i64,
    failed: i64,
    retrained: i64,
    /// The checks that measured trips (not failed, at least one trip).
    measured: i64,
    /// Over the measured checks; absent when none measured.
    mean_mae_minutes: Option<f64>,
    max_mae_minutes: Option<f64>,
    /// Over the checks that retrained: the new models' error.
    mean_mae_after_minutes: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DriftCheckDays {
    /// Oldest first, days without a check included.
    days: Vec<DriftCheckDay>,
    /// The zone the days are counted in (the company's).
    time_zone: String,
}

impl From<pb::DriftCheck> for DriftCheck {
    fn from(c: pb::DriftCheck) -> Self {
        Self {
            id: c.id,
            started_at: rfc3339(c.start_time),
            state: name_of(&CHECK_STATES, c.state),
            attempts: c.attempts,
            model_version: c.model_version,
            trips: c.trips,
            mae_minutes: c.mae_minutes,
            bias_minutes: c.bias_minutes,
            drift_detected: c.drift_detected,
            retrained_version: c.retrained_version,
            error: c.error,
            mae_after_minutes: c.mae_after_minutes,
            bias_after_minutes: c.bias_after_minutes,
        }
    }
}

#[utoipa::path(
    operation_id = "autonomy_get_settings",
    get,
    path = "/api/dispatch/autonomy/settings",
    tag = "autonomy",
    responses((status = 200, description = "OK", body = Settings), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/autonomy/settings`
pub async fn get_settings(State(state): State<AppState>, caller: Caller) -> Result<Json<Settings>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = kit::grpc::request(pb::GetAutonomySettingsRequest {}, &caller.token);
    let res = client(&state).get_autonomy_settings(req).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(res.settings.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "autonomy_update_settings",
    put,
    path = "/api/dispatch/autonomy/settings",
    tag = "autonomy",
    params(ValidateOnly),
    request_body = Settings,
    responses((status = 200, description = "OK", body = Settings), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PUT /api/dispatch/autonomy/settings` (admins): every field; with
/// `?validate_only=true`, checked and answered, not saved.
pub async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ValidateOnly>,
    Body(b): Body<Settings>,
) -> Result<Json<Settings>, ApiError> {
    caller.require(&[Role::Admin])?;
    let settings = pb::AutonomySettings {
        mode: number_of("mode", &MODES, &b.mode)?,
        lateness_threshold_minutes: b.lateness_threshold_minutes,
        drift_mae_threshold_minutes: b.drift_mae_threshold_minutes,
        drift_check_interval_seconds: b.drift_check_interval_seconds,
        cycle_interval_seconds: b.cycle_interval_seconds,
    };
    let req = pb::UpdateAutonomySettingsRequest { settings: Some(settings), validate_only: q.validate_only.unwrap_or(false) };
    let req = kit::grpc::request(req, &caller.token);
    let res = client(&state).update_autonomy_settings(req).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(res.settings.unwrap_or_default().into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Comma-separated states, e.g. `open,blocked`; all when absent.
    #[param(schema_with = states, style = Form, explode = false)]
    state: Option<String>,
}

#[utoipa::path(
    operation_id = "autonomy_list_suggestions",
    get,
    path = "/api/dispatch/autonomy/suggestions",
    tag = "autonomy",
    params(SuggestionQuery),
    responses((status = 200, description = "OK", body = Page<Suggestion>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/autonomy/suggestions?state=open,blocked`
pub async fn list_suggestions(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<SuggestionQuery>,
) -> Result<Json<Page<Suggestion>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let states = numbers("state", &STATES, q.state.as_deref())?;
    let req = kit::grpc::request(pb::ListSuggestionsRequest { page: page_request(q.page, q.per_page), states }, &caller.token);
    let res = client(&state).list_suggestions(req).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.suggestions.into_iter().map(Suggestion::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "autonomy_accept_suggestion",
    post,
    path = "/api/dispatch/autonomy/suggestions/{id}/accept",
    tag = "autonomy",
    params(("id" = i64, Path, minimum = 1, example = 3, description = "the suggestion's id")),
    responses((status = 200, description = "Accepted and executed", body = Suggestion), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/dispatch/autonomy/suggestions/{id}/accept`: executed as a manual
/// change would be (a reassignment checked like `POST /api/bookings/{id}/reassign`);
/// refused (`failed_precondition`, saying why), it stays as it was.
pub async fn accept_suggestion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Suggestion>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = kit::grpc::request(pb::AcceptSuggestionRequest { suggestion_id: positive_id("id", &id)? }, &caller.token);
    let res = client(&state).accept_suggestion(req).await.map_err(dispatch_error)?.into_inner();
    res.suggestion
        .map(|s| Json(Suggestion::from(s)))
        .ok_or_else(|| ApiError::from_status("dispatch", &kit::error::internal("dispatch answered no suggestion")))
}

#[utoipa::path(
    operation_id = "autonomy_dismiss_suggestion",
    post,
    path = "/api/dispatch/autonomy/suggestions/{id}/dismiss",
    tag = "autonomy",
    params(("id" = i64, Path, minimum = 1, example = 3, description = "the suggestion's id")),
    responses((status = 200, description = "Dismissed", body = Suggestion), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/dispatch/autonomy/suggestions/{id}/dismiss`
pub async fn dismiss_suggestion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Suggestion>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = kit::grpc::request(pb::DismissSuggestionRequest { suggestion_id: positive_id("id", &id)? }, &caller.token);
    let res = client(&state).dismiss_suggestion(req).await.map_err(dispatch_error)?.into_inner();
    res.suggestion
        .map(|s| Json(Suggestion::from(s)))
        .ok_or_else(|| ApiError::from_status("dispatch", &kit::error::internal("dispatch answered no suggestion")))
}

#[utoipa::path(
    operation_id = "autonomy_run_cycle",
    post,
    path = "/api/dispatch/autonomy/cycles",
    tag = "autonomy",
    responses((status = 200, description = "What the cycle found and did", body = CycleReport), Failures, Conflicts),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/dispatch/autonomy/cycles`: one manager cycle now (409 while one runs).
pub async fn run_cycle(State(state): State<AppState>, caller: Caller) -> Result<Json<CycleReport>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = kit::grpc::request(pb::RunAutonomyCycleRequest {}, &caller.token);
    let r = client(&state).run_autonomy_cycle(req).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(CycleReport {
        late_bookings: r.late_bookings,
        proposals: r.proposals.into_iter().map(Suggestion::from).collect(),
        executed: r.executed,
        blocked: r.blocked,
    }))
}

#[utoipa::path(
    operation_id = "autonomy_get_eta_model",
    get,
    path = "/api/dispatch/eta-model",
    tag = "autonomy",
    responses((status = 200, description = "OK", body = EtaModel), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/eta-model`: the current version and its error.
pub async fn get_eta_model(State(state): State<AppState>, caller: Caller) -> Result<Json<EtaModel>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = kit::grpc::request(pb::GetEtaModelRequest {}, &caller.token);
    let m = client(&state).get_eta_model(req).await.map_err(dispatch_error)?.into_inner().model.unwrap_or_default();
    Ok(Json(EtaModel {
        version: m.version,
        trained_at: rfc3339(m.train_time),
        trained_on_trips: m.trained_on_trips,
        mae_minutes: m.mae_minutes,
        bias_minutes: m.bias_minutes,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Comma-separated states, e.g. `failed,retried`; all when absent.
    #[param(schema_with = check_states, style = Form, explode = false)]
    state: Option<String>,
}

#[utoipa::path(
    operation_id = "autonomy_list_drift_checks",
    get,
    path = "/api/dispatch/drift-checks",
    tag = "autonomy",
    params(CheckQuery),
    responses((status = 200, description = "OK", body = Page<DriftCheck>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/drift-checks?state=failed,retried`: newest first.
pub async fn list_drift_checks(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<CheckQuery>,
) -> Result<Json<Page<DriftCheck>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let states = numbers("state", &CHECK_STATES, q.state.as_deref())?;
    let req = kit::grpc::request(pb::ListDriftChecksRequest { page: page_request(q.page, q.per_page), states }, &caller.token);
    let res = client(&state).list_drift_checks(req).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.checks.into_iter().map(DriftCheck::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "autonomy_run_drift_check",
    post,
    path = "/api/dispatch/drift-checks",
    tag = "autonomy",
    responses((status = 201, description = "The check, recorded", body = DriftCheck), Failures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/dispatch/drift-checks` (admins): one drift check now.
pub async fn run_drift_check(State(state): State<AppState>, caller: Caller) -> Result<(StatusCode, Json<DriftCheck>), ApiError> {
    caller.require(&[Role::Admin])?;
    let req = kit::grpc::request(pb::RunDriftCheckRequest {}, &caller.token);
    let c = client(&state).run_drift_check(req).await.map_err(dispatch_error)?.into_inner().check.unwrap_or_default();
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// How many days back, today included: 1 to 90 (30 when absent).
    #[param(minimum = 1, maximum = 90)]
    days: Option<i32>,
}

#[utoipa::path(
    operation_id = "autonomy_drift_check_days",
    get,
    path = "/api/dispatch/drift-checks/days",
    tag = "autonomy",
    params(DaysQuery),
    responses((status = 200, description = "OK", body = DriftCheckDays), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/drift-checks/days?days=30`: the checks summed by day
/// in the company's time zone (runs, failures, retrains, mean and largest error).
pub async fn drift_check_days(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DaysQuery>,
) -> Result<Json<DriftCheckDays>, ApiError> {
    caller.require(DISPATCHERS)?;
    let days = match q.days {
        None => 30,
        Some(d) if (1..=90).contains(&d) => d,
        Some(d) => return Err(ApiError::invalid("days", format!("days must be from 1 to 90, got {d}"))),
    };
    let req = kit::grpc::request(pb::SummarizeDriftChecksRequest { days }, &caller.token);
    let res = client(&state).summarize_drift_checks(req).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(DriftCheckDays {
        days: res
            .days
            .into_iter()
            .map(|d| DriftCheckDay {
                date: d.date,
                checks: d.checks,
                failed: d.failed,
                retrained: d.retrained,
                measured: d.measured,
                mean_mae_minutes: d.mean_mae_minutes,
                max_mae_minutes: d.max_mae_minutes,
                mean_mae_after_minutes: d.mean_mae_after_minutes,
            })
            .collect(),
        time_zone: res.time_zone,
    }))
}
