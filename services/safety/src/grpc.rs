//! The `atmr.safety.v1.SafetyService` implementation: the only module that sees
//! proto types. It checks the caller and the input, then calls the store.

use std::{collections::BTreeSet, sync::Arc};

use atmr_proto::{
    common::v1 as common,
    safety::v1::{self as pb, safety_service_server::SafetyService},
};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use kit::convert::timestamp as ts;
use kit::{
    auth::{Claims, Role, require_role},
    clock::SharedClock,
    stored::UnknownValue,
};
use prost_types::Timestamp;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::{
    audit,
    domain::{
        input::{Completion, NewAction, RawAction, parse_notes},
        limits::{EffectiveLimits, Invalid, LimitDefaults, Override, Scope, parse_action_type, parse_limit},
        windows::{Counts, Usage, Window, first_full, slot_frees_at},
    },
    engine::{Decision, Engine},
    error::Error,
    store::{
        self,
        entities::{autonomous_action, status},
    },
};

/// The largest page of the admin list.
const MAX_PER_PAGE: i32 = 100;

pub struct SafetyApi {
    db: DatabaseConnection,
    defaults: LimitDefaults,
    engine: Arc<Engine>,
    clock: SharedClock,
    signing_key: SigningKey,
}

impl SafetyApi {
    pub fn new(db: DatabaseConnection, defaults: LimitDefaults, engine: Arc<Engine>, clock: SharedClock, signing_key: SigningKey) -> Self {
        Self { db, defaults, engine, clock, signing_key }
    }

    async fn effective(&self, company_id: i64) -> Result<EffectiveLimits, Status> {
        let overrides = store::limits::overrides(&self.db, company_id).await.map_err(|e| kit::error::database(&e))?;
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

fn db_status(e: &sea_orm::DbErr) -> Status {
    kit::error::database(e)
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(e) => e.into(),
            Error::NotFound(id) => Status::not_found(format!("action {id} not found")),
            Error::AlreadyCompleted { id, status } => {
                Status::failed_precondition(format!("action {id} is already {status}; an action is completed once"))
            }
            Error::AlreadyReviewed { id, by, at } => Status::failed_precondition(format!(
                "action {} was already reviewed by {} at {}; a review is not overwritten",
                id,
                by.unwrap_or_else(|| "an admin".into()),
                at.map_or_else(|| "an earlier time".into(), |t| t.to_rfc3339())
            )),
            Error::Storage(db) => kit::error::database(&db),
            Error::Stopped => Status::unavailable("the safety engine is stopping"),
        }
    }
}

fn from_ts(field: &str, t: &Timestamp) -> Result<DateTime<Utc>, Status> {
    kit::convert::time(t).map_err(|m| kit::error::invalid_argument(field, m))
}

fn window_proto(w: Window) -> i32 {
    match w {
        Window::Hour => pb::LimitWindow::Hour as i32,
        Window::Day => pb::LimitWindow::Day as i32,
    }
}

fn usage_proto(u: &Usage, frees_at: Option<DateTime<Utc>>) -> pb::LimitUsage {
    pb::LimitUsage {
        scope: u.scope.label().to_owned(),
        window: window_proto(u.window),
        limit: u.limit as i32,
        used: u.used as i32,
        remaining: u.remaining() as i32,
        frees_at: frees_at.map(ts),
    }
}

/// An action's answer; a status stored outside its vocabulary is an error
/// naming the row, never shown as failed (and a list with such a row fails).
fn action_proto(m: autonomous_action::Model) -> Result<pb::Action, UnknownValue> {
    let status = match m.status.as_str() {
        status::AUTHORIZED => pb::ActionStatus::Authorized,
        status::SUCCEEDED => pb::ActionStatus::Succeeded,
        status::FAILED => pb::ActionStatus::Failed,
        other => return Err(UnknownValue::new("autonomous_action", "status", m.id, other)),
    };
    Ok(pb::Action {
        id: m.id,
        company_id: m.company_id,
        booking_id: m.booking_id,
        driver_id: m.driver_id,
        action_type: m.action_type,
        action_description: m.action_description,
        action_data: m.action_data.unwrap_or_default(),
        success: m.success,
        error_message: m.error_message,
        execution_time_ms: m.execution_time_ms,
        confidence_score: m.confidence_score,
        expected_improvement_minutes: m.expected_improvement_minutes,
        trigger_source: m.trigger_source.unwrap_or_default(),
        reviewed_by_admin: m.reviewed_by_admin,
        reviewed_at: m.reviewed_at.map(ts),
        admin_notes: m.admin_notes,
        create_time: Some(ts(m.created_at)),
        update_time: Some(ts(m.updated_at)),
        status: status as i32,
        reviewed_by: m.reviewed_by,
        consumed_windows: m.consumed_windows.split(';').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        chain_hash: m.completion_hash.unwrap_or(m.row_hash),
    })
}

/// Who may run autonomous actions: the components acting for a company, and admins.
const ACTORS: &[Role] = &[Role::Admin];
/// Who may read the audit trail and its stats: admins (and service tokens).
const REVIEWERS: &[Role] = &[Role::Admin];

fn reviewer_name(c: &Claims) -> String {
    if c.email.is_empty() { format!("user:{}", c.sub) } else { c.email.clone() }
}

#[tonic::async_trait]
impl SafetyService for SafetyApi {
    async fn authorize_action(&self, req: Request<pb::AuthorizeActionRequest>) -> Result<Response<pb::AuthorizeActionResponse>, Status> {
        let company_id = require_role(&req, ACTORS)?.company_id;
        let r = req.into_inner();
        let action = NewAction::parse(&RawAction {
            booking_id: r.booking_id,
            driver_id: r.driver_id,
            action_type: &r.action_type,
            description: &r.action_description,
            data: &r.action_data,
            confidence_score: r.confidence_score,
            expected_improvement_minutes: r.expected_improvement_minutes,
            trigger_source: &r.trigger_source,
        })?;
        let response = match self.engine.authorize(company_id, action).await? {
            Decision::Allowed { action } => {
                pb::AuthorizeActionResponse { allowed: true, action_id: action.id, blocked_by: None, retry_after: None }
            }
            Decision::Blocked { usage, retry_after } => pb::AuthorizeActionResponse {
                allowed: false,
                action_id: 0,
                blocked_by: Some(usage_proto(&usage, retry_after)),
                retry_after: retry_after.map(ts),
            },
        };
        Ok(Response::new(response))
    }

    async fn complete_action(&self, req: Request<pb::CompleteActionRequest>) -> Result<Response<pb::CompleteActionResponse>, Status> {
        let company_id = require_role(&req, ACTORS)?.company_id;
        let r = req.into_inner();
        let completion = Completion::parse(r.action_id, r.success, r.error_message.as_deref(), r.execution_time_ms)?;
        let action = self.engine.complete(company_id, completion).await?;
        if !action.success {
            tracing::info!(company_id, action_id = action.id, action_type = %action.action_type, "autonomous action failed; its slot is freed");
        }
        Ok(Response::new(pb::CompleteActionResponse { action: Some(action_proto(action)?) }))
    }

    async fn check_limits(&self, req: Request<pb::CheckLimitsRequest>) -> Result<Response<pb::CheckLimitsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin, Role::Dispatcher])?.company_id;
        let action_type = parse_action_type("action_type", &req.get_ref().action_type)?;
        let now = self.clock.now();
        let limits = self.effective(company_id).await?;
        let counted = store::actions::counted_since(&self.db, company_id, Window::Day.start(now)).await.map_err(|e| db_status(&e))?;
        let mut counts = Counts::default();
        for (t, at) in &counted {
            counts.add(t, *at, now);
        }
        let usages = counts.usages(&limits, &action_type);
        let would_allow = first_full(&usages).is_none();
        let usages = usages
            .iter()
            .map(|u| {
                let frees = u.is_full().then(|| slot_frees_at(counted.iter().map(|(t, at)| (t.as_str(), *at)), u, now)).flatten();
                usage_proto(u, frees)
            })
            .collect();
        Ok(Response::new(pb::CheckLimitsResponse { would_allow, usages }))
    }

    async fn get_limits(&self, req: Request<pb::GetLimitsRequest>) -> Result<Response<pb::GetLimitsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin, Role::Dispatcher])?.company_id;
        let limits = self.effective(company_id).await?;
        Ok(Response::new(pb::GetLimitsResponse { limits: Some(to_proto(&limits)), overridden: limits.overridden }))
    }

    async fn set_limits(&self, req: Request<pb::SetLimitsRequest>) -> Result<Response<pb::SetLimitsResponse>, Status> {
        let claims = require_role(&req, &[Role::Admin])?.clone();
        let limits = req.into_inner().limits.ok_or_else(|| kit::error::invalid_argument("limits", "is required"))?;
        let overrides = parse_overrides(&limits)?;
        store::limits::replace_overrides(&self.db, claims.company_id, &overrides).await.map_err(|e| db_status(&e))?;
        tracing::info!(company_id = claims.company_id, user = %claims.sub, overrides = overrides.len(), "safety limits replaced");
        let limits = self.effective(claims.company_id).await?;
        Ok(Response::new(pb::SetLimitsResponse { limits: Some(to_proto(&limits)), overridden: limits.overridden }))
    }

    async fn list_actions(&self, req: Request<pb::ListActionsRequest>) -> Result<Response<pb::ListActionsResponse>, Status> {
        let claims = require_role(&req, REVIEWERS)?.clone();
        let r = req.into_inner();
        let company_id = match r.company_id {
            Some(c) if claims.role == Role::Service => c,
            _ => claims.company_id,
        };
        let (page, per_page) = paging(r.page.as_ref())?;
        let mut filter = store::actions::ActionFilter {
            action_type: r.action_type.filter(|t| !t.is_empty()),
            success: r.success,
            reviewed: r.reviewed,
            trigger_source: r.trigger_source.filter(|t| !t.is_empty()),
            ..Default::default()
        };
        if let Some(range) = &r.created {
            filter.created_from = range.start_time.as_ref().map(|t| from_ts("created.start_time", t)).transpose()?;
            filter.created_to = range.end_time.as_ref().map(|t| from_ts("created.end_time", t)).transpose()?;
        }
        let (rows, total) = store::actions::list_actions(&self.db, company_id, &filter, page, per_page).await.map_err(|e| db_status(&e))?;
        Ok(Response::new(pb::ListActionsResponse {
            actions: rows.into_iter().map(action_proto).collect::<Result<_, _>>()?,
            page: Some(kit::convert::page_info((page, per_page), total, false)),
        }))
    }

    async fn get_action_stats(&self, req: Request<pb::GetActionStatsRequest>) -> Result<Response<pb::GetActionStatsResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let period = req.get_ref().period();
        let length = match period {
            pb::StatsPeriod::Hour => Duration::hours(1),
            pb::StatsPeriod::Day | pb::StatsPeriod::Unspecified => Duration::days(1),
            pb::StatsPeriod::Week => Duration::weeks(1),
            pb::StatsPeriod::Month => Duration::days(30),
        };
        let s = store::stats::stats(&self.db, company_id, self.clock.now() - length).await.map_err(|e| db_status(&e))?;
        let finished = s.succeeded + s.failed;
        Ok(Response::new(pb::GetActionStatsResponse {
            period: if period == pb::StatsPeriod::Unspecified { pb::StatsPeriod::Day as i32 } else { period as i32 },
            total: s.total,
            succeeded: s.succeeded,
            failed: s.failed,
            pending: s.pending,
            success_rate: if finished == 0 { 0.0 } else { s.succeeded as f64 / finished as f64 },
            by_type: s
                .by_type
                .into_iter()
                .map(|(action_type, total, succeeded, failed)| pb::ActionTypeStats { action_type, total, succeeded, failed })
                .collect(),
            blocked: s.blocked,
            avg_execution_time_ms: s.avg_execution_ms,
            p95_execution_time_ms: s.p95_execution_ms,
            reviewed: s.reviewed,
        }))
    }

    async fn get_action(&self, req: Request<pb::GetActionRequest>) -> Result<Response<pb::GetActionResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let id = req.get_ref().action_id;
        if id <= 0 {
            return Err(kit::error::invalid_argument("action_id", format!("must be a positive id, got {id}")));
        }
        let row = store::actions::get_action(&self.db, company_id, id).await.map_err(|e| db_status(&e))?;
        let row = row.ok_or_else(|| Status::not_found(format!("action {id} not found")))?;
        Ok(Response::new(pb::GetActionResponse { action: Some(action_proto(row)?) }))
    }

    async fn review_action(&self, req: Request<pb::ReviewActionRequest>) -> Result<Response<pb::ReviewActionResponse>, Status> {
        let claims = require_role(&req, &[Role::Admin])?.clone();
        let r = req.into_inner();
        if r.action_id <= 0 {
            return Err(kit::error::invalid_argument("action_id", format!("must be a positive id, got {}", r.action_id)));
        }
        let notes = parse_notes(&r.notes)?;
        let reviewer = reviewer_name(&claims);
        let row = store::actions::review(&self.db, claims.company_id, r.action_id, &reviewer, &notes, self.clock.now()).await?;
        tracing::info!(company_id = claims.company_id, action_id = row.id, reviewer = %reviewer, "autonomous action reviewed");
        Ok(Response::new(pb::ReviewActionResponse { action: Some(action_proto(row)?) }))
    }

    async fn verify_audit_chain(
        &self,
        req: Request<pb::VerifyAuditChainRequest>,
    ) -> Result<Response<pb::VerifyAuditChainResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let (v, last) = audit::verify(&self.db, &self.signing_key, company_id).await.map_err(|e| db_status(&e))?;
        if !v.breaks.is_empty() {
            tracing::error!(company_id, breaks = v.breaks.len(), "audit chain verification found tampering");
        }
        Ok(Response::new(pb::VerifyAuditChainResponse {
            intact: v.breaks.is_empty(),
            rows_checked: v.rows_checked,
            checkpoints_checked: v.checkpoints_checked,
            breaks: v
                .breaks
                .into_iter()
                .map(|b| pb::ChainBreak { action_id: b.action_id, kind: b.kind.as_str().to_owned(), detail: b.detail })
                .collect(),
            last_checkpoint_time: last.map(ts),
        }))
    }
}

/// Page and page size, checked: page ≥ 1 (0 means 1), per_page 1..=100 (0 means 20).
fn paging(p: Option<&common::PageRequest>) -> Result<(u64, u64), Status> {
    let (page, per_page) = p.map_or((0, 0), |p| (p.page, p.per_page));
    if page < 0 {
        return Err(kit::error::invalid_argument("page.page", format!("must be 1 or more, got {page}")));
    }
    if !(0..=MAX_PER_PAGE).contains(&per_page) {
        return Err(kit::error::invalid_argument("page.per_page", format!("must be from 1 to {MAX_PER_PAGE}, got {per_page}")));
    }
    Ok((page.max(1) as u64, if per_page == 0 { 20 } else { per_page as u64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_is_answered_only_with_a_known_status() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let action = |status: &str| autonomous_action::Model {
            id: 12,
            company_id: 1,
            booking_id: Some(3),
            driver_id: None,
            action_type: "reassign".into(),
            action_description: "d".into(),
            action_data: None,
            success: false,
            error_message: None,
            execution_time_ms: None,
            confidence_score: None,
            expected_improvement_minutes: None,
            trigger_source: None,
            reviewed_by_admin: false,
            reviewed_at: None,
            admin_notes: None,
            created_at: at,
            updated_at: at,
            status: status.into(),
            reviewed_by: None,
            consumed_windows: String::new(),
            chain_seq: 1,
            prev_hash: "p".into(),
            row_hash: "r".into(),
            completion_seq: None,
            completion_hash: None,
        };
        assert_eq!(action_proto(action("succeeded")).unwrap().status(), pb::ActionStatus::Succeeded);
        assert_eq!(action_proto(action("failed")).unwrap().status(), pb::ActionStatus::Failed);
        // Not shown as failed: an error naming the row and the value.
        let e = action_proto(action("maybe")).unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str(), e.value.as_str()), ("autonomous_action", "status", "12", "maybe"));
    }
}
