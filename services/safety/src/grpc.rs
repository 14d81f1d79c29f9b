//! The `atmr.safety.v1.SafetyService` implementation: the only module that sees
//! proto types. It checks the caller and the input, then calls the store.

use std::collections::BTreeSet;

use atmr_proto::safety::v1::{self as pb, safety_service_server::SafetyService};
use kit::auth::{Role, require_role};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::{
    domain::{EffectiveLimits, Invalid, LimitDefaults, Override, Scope, parse_action_type, parse_limit},
    store,
};

pub struct SafetyApi {
    db: DatabaseConnection,
    defaults: LimitDefaults,
}

impl SafetyApi {
    pub fn new(db: DatabaseConnection, defaults: LimitDefaults) -> Self {
        Self { db, defaults }
    }

    async fn effective(&self, company_id: i64) -> Result<EffectiveLimits, Status> {
        let overrides = store::overrides(&self.db, company_id).await.map_err(|e| kit::error::database(&e))?;
        Ok(EffectiveLimits::resolve(self.defaults, &overrides))
    }
}

fn to_proto(l: &EffectiveLimits) -> pb::SafetyLimits {
    let n = |v: u32| Some(v as i32);
    pb::SafetyLimits {
        max_actions_per_hour: n(l.per_hour),
        max_actions_per_day: n(l.per_day),
        default_type_max_per_hour: n(l.type_per_hour),
        default_type_max_per_day: n(l.type_per_day),
        action_types: l
            .types
            .iter()
            .map(|(t, (h, d))| pb::ActionTypeLimits { action_type: t.clone(), max_per_hour: n(*h), max_per_day: n(*d) })
            .collect(),
    }
}

impl From<Invalid> for Status {
    fn from(e: Invalid) -> Self {
        kit::error::invalid_argument(&e.field, e.message)
    }
}

/// The overrides a SetLimits request asks for, checked field by field.
fn parse_overrides(limits: &pb::SafetyLimits) -> Result<Vec<Override>, Invalid> {
    let mut out = Vec::new();
    let company = Override {
        scope: Scope::Company,
        per_hour: parse_limit("limits.max_actions_per_hour", limits.max_actions_per_hour)?,
        per_day: parse_limit("limits.max_actions_per_day", limits.max_actions_per_day)?,
    };
    let default_type = Override {
        scope: Scope::DefaultType,
        per_hour: parse_limit("limits.default_type_max_per_hour", limits.default_type_max_per_hour)?,
        per_day: parse_limit("limits.default_type_max_per_day", limits.default_type_max_per_day)?,
    };
    for o in [company, default_type] {
        if o.per_hour.is_some() || o.per_day.is_some() {
            out.push(o);
        }
    }
    let mut seen = BTreeSet::new();
    for (i, t) in limits.action_types.iter().enumerate() {
        let field = format!("limits.action_types[{i}]");
        let action_type = parse_action_type(&format!("{field}.action_type"), &t.action_type)?;
        if !seen.insert(action_type.clone()) {
            return Err(Invalid { field: format!("{field}.action_type"), message: format!("{action_type:?} is listed twice") });
        }
        out.push(Override {
            scope: Scope::Type(action_type),
            per_hour: parse_limit(&format!("{field}.max_per_hour"), t.max_per_hour)?,
            per_day: parse_limit(&format!("{field}.max_per_day"), t.max_per_day)?,
        });
    }
    Ok(out)
}

#[tonic::async_trait]
impl SafetyService for SafetyApi {
    async fn get_limits(&self, req: Request<pb::GetLimitsRequest>) -> Result<Response<pb::GetLimitsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin, Role::Dispatcher])?.company_id;
        let limits = self.effective(company_id).await?;
        Ok(Response::new(pb::GetLimitsResponse { limits: Some(to_proto(&limits)), overridden: limits.overridden }))
    }

    async fn set_limits(&self, req: Request<pb::SetLimitsRequest>) -> Result<Response<pb::SetLimitsResponse>, Status> {
        let claims = require_role(&req, &[Role::Admin])?.clone();
        let limits = req.into_inner().limits.ok_or_else(|| kit::error::invalid_argument("limits", "is required"))?;
        let overrides = parse_overrides(&limits)?;
        store::replace_overrides(&self.db, claims.company_id, &overrides).await.map_err(|e| kit::error::database(&e))?;
        tracing::info!(company_id = claims.company_id, user = %claims.sub, overrides = overrides.len(), "safety limits replaced");
        let limits = self.effective(claims.company_id).await?;
        Ok(Response::new(pb::SetLimitsResponse { limits: Some(to_proto(&limits)), overridden: limits.overridden }))
    }
}
