//! `GET|PUT /api/admin/safety-limits`: the company's safety limits, served by
//! the safety service: those in force, and (read-only) the configured defaults
//! and the company's overrides they are made of.

use atmr_proto::safety::v1 as pb;
use axum::{Json, extract::State};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    routes::{
        extract::{Body, Caller},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

/// The limits as JSON. In a PUT, an absent value means "use the default".
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyLimits {
    #[serde(default)]
    #[schema(minimum = 0)]
    max_actions_per_hour: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0)]
    max_actions_per_day: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0)]
    default_type_max_per_hour: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0)]
    default_type_max_per_day: Option<i32>,
    /// One entry per action type; a type listed twice is refused.
    #[serde(default)]
    action_types: Vec<ActionTypeLimits>,
    /// Read-only: whether the company has overrides (ignored in a PUT).
    #[serde(default)]
    #[schema(read_only)]
    overridden: bool,
    /// Read-only: the configured defaults (ignored in a PUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    defaults: Option<LimitValues>,
    /// Read-only: the company's overrides as stored, only the values it set
    /// (ignored in a PUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    overrides: Option<LimitValues>,
}

/// Limits as configured or stored: a value absent is not set there.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitValues {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_actions_per_hour: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_actions_per_day: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_type_max_per_hour: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_type_max_per_day: Option<i32>,
    #[serde(default)]
    action_types: Vec<ActionTypeLimits>,
}

impl From<pb::SafetyLimits> for LimitValues {
    fn from(l: pb::SafetyLimits) -> Self {
        let SafetyLimits {
            max_actions_per_hour,
            max_actions_per_day,
            default_type_max_per_hour,
            default_type_max_per_day,
            action_types,
            ..
        } = l.into();
        Self { max_actions_per_hour, max_actions_per_day, default_type_max_per_hour, default_type_max_per_day, action_types }
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionTypeLimits {
    /// 1 to 50 characters; `*` is reserved.
    #[schema(schema_with = field::line::<50>)]
    action_type: String,
    #[serde(default)]
    #[schema(minimum = 0)]
    max_per_hour: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0)]
    max_per_day: Option<i32>,
}

impl From<pb::SafetyLimits> for SafetyLimits {
    fn from(l: pb::SafetyLimits) -> Self {
        Self {
            max_actions_per_hour: l.max_actions_per_hour,
            max_actions_per_day: l.max_actions_per_day,
            default_type_max_per_hour: l.default_type_max_per_hour,
            default_type_max_per_day: l.default_type_max_per_day,
            action_types: l
                .action_types
                .into_iter()
                .map(|t| ActionTypeLimits { action_type: t.action_type, max_per_hour: t.max_per_hour, max_per_day: t.max_per_day })
                .collect(),
            overridden: false,
            defaults: None,
            overrides: None,
        }
    }
}

impl From<SafetyLimits> for pb::SafetyLimits {
    fn from(l: SafetyLimits) -> Self {
        Self {
            max_actions_per_hour: l.max_actions_per_hour,
            max_actions_per_day: l.max_actions_per_day,
            default_type_max_per_hour: l.default_type_max_per_hour,
            default_type_max_per_day: l.default_type_max_per_day,
            action_types: l
                .action_types
                .into_iter()
                .map(|t| pb::ActionTypeLimits { action_type: t.action_type, max_per_hour: t.max_per_hour, max_per_day: t.max_per_day })
                .collect(),
        }
    }
}

#[utoipa::path(
    operation_id = "safety_get_limits",
    get,
    path = "/api/admin/safety-limits",
    tag = "safety",
    responses((status = 200, description = "OK", body = SafetyLimits), Failures),
    security(("bearer" = ["admin"]))
)]
pub async fn get_limits(State(state): State<AppState>, caller: Caller) -> Result<Json<SafetyLimits>, ApiError> {
    caller.require(&[Role::Admin])?;
    let res = state
        .safety
        .clone()
        .get_limits(kit::grpc::request(pb::GetLimitsRequest {}, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    Ok(Json(answer(res.limits, res.overridden, res.defaults, res.overrides)))
}

/// GetLimits' and SetLimits' answer as JSON.
fn answer(
    limits: Option<pb::SafetyLimits>,
    overridden: bool,
    defaults: Option<pb::SafetyLimits>,
    overrides: Option<pb::SafetyLimits>,
) -> SafetyLimits {
    SafetyLimits {
        overridden,
        defaults: defaults.map(LimitValues::from),
        overrides: overrides.map(LimitValues::from),
        ..limits.unwrap_or_default().into()
    }
}

#[utoipa::path(
    operation_id = "safety_set_limits",
    put,
    path = "/api/admin/safety-limits",
    tag = "safety",
    request_body = SafetyLimits,
    responses((status = 200, description = "OK", body = SafetyLimits), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
pub async fn set_limits(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<SafetyLimits>,
) -> Result<Json<SafetyLimits>, ApiError> {
    caller.require(&[Role::Admin])?;
    let res = state
        .safety
        .clone()
        .set_limits(kit::grpc::request(pb::SetLimitsRequest { limits: Some(body.into()) }, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    Ok(Json(answer(res.limits, res.overridden, res.defaults, res.overrides)))
}
