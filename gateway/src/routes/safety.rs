//! `GET|PUT /api/admin/safety-limits`: the company's safety limits, served by the
//! safety service.

use atmr_proto::safety::v1 as pb;
use axum::{Json, extract::State};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use super::{Body, Caller};
use crate::{AppState, error::ApiError};

/// The limits as JSON. In a PUT, an absent value means "use the default".
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyLimits {
    #[serde(default)]
    max_actions_per_hour: Option<i32>,
    #[serde(default)]
    max_actions_per_day: Option<i32>,
    #[serde(default)]
    default_type_max_per_hour: Option<i32>,
    #[serde(default)]
    default_type_max_per_day: Option<i32>,
    #[serde(default)]
    action_types: Vec<ActionTypeLimits>,
    /// Read-only: whether the company has overrides.
    #[serde(default, skip_deserializing)]
    overridden: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionTypeLimits {
    action_type: String,
    #[serde(default)]
    max_per_hour: Option<i32>,
    #[serde(default)]
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

pub async fn get_limits(State(state): State<AppState>, caller: Caller) -> Result<Json<SafetyLimits>, ApiError> {
    caller.require(&[Role::Admin])?;
    let res = state
        .safety
        .clone()
        .get_limits(kit::grpc::request(pb::GetLimitsRequest {}, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    let mut limits: SafetyLimits = res.limits.unwrap_or_default().into();
    limits.overridden = res.overridden;
    Ok(Json(limits))
}

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
    let mut limits: SafetyLimits = res.limits.unwrap_or_default().into();
    limits.overridden = res.overridden;
    Ok(Json(limits))
}
