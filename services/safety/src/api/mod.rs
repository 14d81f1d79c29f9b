//! IN: the `atmr.safety.v1.SafetyService` implementation, the only place with
//! the service's proto types. Each handler checks the caller's role (the
//! company always comes from the token), checks the request (`input.rs` and
//! the domain's parsers), calls the core, and converts its answer
//! (`convert.rs`); errors become statuses in `status.rs`.

mod convert;
mod input;
mod status;

use atmr_proto::safety::v1::{self as pb, safety_service_server::SafetyService};
use kit::{
    auth::{Claims, Role, require_role},
    convert::timestamp as ts,
};
use tonic::{Request, Response, Status};

use crate::{
    core::{Decision, Safety},
    domain::{
        input::{Completion, NewAction, parse_notes},
        limits::parse_action_type,
    },
    error::Error,
    store::Action,
};

/// Who may run autonomous actions: the components acting for a company, and admins.
const ACTORS: &[Role] = &[Role::Admin, Role::Service];
/// Who may read the audit trail and its stats: admins.
const REVIEWERS: &[Role] = &[Role::Admin];

pub struct SafetyApi {
    safety: Safety,
}

impl SafetyApi {
    pub fn new(safety: Safety) -> Self {
        Self { safety }
    }
}

fn reviewer_name(c: &Claims) -> String {
    if c.email.is_empty() { format!("user:{}", c.sub) } else { c.email.clone() }
}

/// Who authorised an action, as its hash records it: the token's role and
/// subject (`service:dispatch`, `admin:4`).
fn caller_name(c: &Claims) -> String {
    format!("{}:{}", c.role.as_str(), c.sub)
}

/// An action's answer; a status stored outside its vocabulary is a database error.
fn action(m: Action) -> Result<pb::Action, Error> {
    convert::action(m).map_err(Error::from)
}

#[tonic::async_trait]
impl SafetyService for SafetyApi {
    async fn authorize_action(&self, req: Request<pb::AuthorizeActionRequest>) -> Result<Response<pb::AuthorizeActionResponse>, Status> {
        let claims = require_role(&req, ACTORS)?;
        let (company_id, caller) = (claims.company_id, caller_name(claims));
        let r = req.into_inner();
        let action = NewAction::parse(&input::raw_action(&r))?;
        let response = match self.safety.authorize(company_id, action, caller).await? {
            Decision::Allowed { action } => {
                pb::AuthorizeActionResponse { allowed: true, action_id: action.id, blocked_by: None, retry_after: None }
            }
            Decision::Blocked { usage, retry_after } => pb::AuthorizeActionResponse {
                allowed: false,
                action_id: 0,
                blocked_by: Some(convert::usage(&usage, retry_after)),
                retry_after: retry_after.map(ts),
            },
        };
        Ok(Response::new(response))
    }

    async fn complete_action(&self, req: Request<pb::CompleteActionRequest>) -> Result<Response<pb::CompleteActionResponse>, Status> {
        let company_id = require_role(&req, ACTORS)?.company_id;
        let r = req.into_inner();
        let completion = Completion::parse(r.action_id, r.success, r.error_message.as_deref(), r.execution_time_ms)?;
        let done = self.safety.complete(company_id, completion).await?;
        Ok(Response::new(pb::CompleteActionResponse { action: Some(action(done)?) }))
    }

    async fn check_limits(&self, req: Request<pb::CheckLimitsRequest>) -> Result<Response<pb::CheckLimitsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin, Role::Dispatcher])?.company_id;
        let action_type = parse_action_type("action_type", &req.get_ref().action_type)?;
        let check = self.safety.check_limits(company_id, &action_type).await?;
        Ok(Response::new(pb::CheckLimitsResponse {
            would_allow: check.would_allow,
            usages: check.usages.iter().map(|(u, frees)| convert::usage(u, *frees)).collect(),
        }))
    }

    async fn get_limits(&self, req: Request<pb::GetLimitsRequest>) -> Result<Response<pb::GetLimitsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin, Role::Dispatcher])?.company_id;
        let (limits, defaults, overrides) = self.safety.limits_in_full(company_id).await?;
        Ok(Response::new(pb::GetLimitsResponse {
            limits: Some(convert::limits(&limits)),
            overridden: limits.overridden,
            defaults: Some(convert::defaults(defaults)),
            overrides: Some(convert::overrides(&overrides)),
        }))
    }

    async fn set_limits(&self, req: Request<pb::SetLimitsRequest>) -> Result<Response<pb::SetLimitsResponse>, Status> {
        let claims = require_role(&req, &[Role::Admin])?.clone();
        let actor = kit::audit_trail::scope::actor_of(&req);
        let limits = input::required_limits(req.into_inner().limits)?;
        let overrides = input::overrides(&limits)?;
        let (limits, defaults, overrides) = self.safety.set_limits(claims.company_id, actor.as_ref(), &overrides).await?;
        Ok(Response::new(pb::SetLimitsResponse {
            limits: Some(convert::limits(&limits)),
            overridden: limits.overridden,
            defaults: Some(convert::defaults(defaults)),
            overrides: Some(convert::overrides(&overrides)),
        }))
    }

    async fn list_actions(&self, req: Request<pb::ListActionsRequest>) -> Result<Response<pb::ListActionsResponse>, Status> {
        let claims = require_role(&req, REVIEWERS)?.clone();
        let r = req.into_inner();
        // The company is the caller's, always (the request's `company_id` is ignored).
        let company_id = claims.company_id;
        let (page, per_page) = input::paging(r.page.as_ref())?;
        let filter = input::filter(&r)?;
        let (rows, total) = self.safety.list(company_id, &filter, page, per_page).await?;
        Ok(Response::new(pb::ListActionsResponse {
            actions: rows.into_iter().map(action).collect::<Result<_, _>>()?,
            page: Some(kit::convert::page_info((page, per_page), total, false)),
        }))
    }

    async fn get_action_stats(&self, req: Request<pb::GetActionStatsRequest>) -> Result<Response<pb::GetActionStatsResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let r = req.into_inner();
        let answer = match input::stats_ask(&r)? {
            input::StatsAsk::Period(length) => {
                let (stats, since) = self.safety.stats(company_id, length).await?;
                convert::stats(r.period(), stats, since, Vec::new())
            }
            input::StatsAsk::Buckets(b) => {
                let (stats, edges, buckets) = self.safety.bucketed_stats(company_id, b).await?;
                let buckets = edges.windows(2).zip(buckets).map(|(w, b)| convert::bucket(w[0], w[1], b)).collect();
                convert::stats(r.period(), stats, edges[0], buckets)
            }
        };
        Ok(Response::new(answer))
    }

    async fn get_action(&self, req: Request<pb::GetActionRequest>) -> Result<Response<pb::GetActionResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let id = input::action_id(req.get_ref().action_id)?;
        let row = self.safety.get(company_id, id).await?;
        Ok(Response::new(pb::GetActionResponse { action: Some(action(row)?) }))
    }

    async fn review_action(&self, req: Request<pb::ReviewActionRequest>) -> Result<Response<pb::ReviewActionResponse>, Status> {
        let claims = require_role(&req, &[Role::Admin])?.clone();
        let r = req.into_inner();
        let id = input::action_id(r.action_id)?;
        let notes = parse_notes(&r.notes)?;
        let reviewer = reviewer_name(&claims);
        let row = self.safety.review(claims.company_id, id, &reviewer, &notes).await?;
        Ok(Response::new(pb::ReviewActionResponse { action: Some(action(row)?) }))
    }

    async fn verify_audit_chain(
        &self,
        req: Request<pb::VerifyAuditChainRequest>,
    ) -> Result<Response<pb::VerifyAuditChainResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let (v, last) = self.safety.verify(company_id).await?;
        Ok(Response::new(convert::verification(v, last)))
    }

    async fn record_human_changes(
        &self,
        req: Request<pb::RecordHumanChangesRequest>,
    ) -> Result<Response<pb::RecordHumanChangesResponse>, Status> {
        let claims = kit::auth::caller(&req)?;
        if claims.role != Role::Service {
            return Err(Status::permission_denied("only components deliver human audit records"));
        }
        let company_id = claims.company_id;
        let records = input::human_records(req.into_inner().records)?;
        let done = self.safety.record_human(company_id, records).await?;
        Ok(Response::new(pb::RecordHumanChangesResponse { recorded: done.recorded as i32, already_recorded: done.already as i32 }))
    }

    async fn list_audit_log(&self, req: Request<pb::ListAuditLogRequest>) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        let company_id = require_role(&req, REVIEWERS)?.company_id;
        let r = req.into_inner();
        let (page, per_page) = input::paging_up_to(r.page.as_ref(), input::MAX_AUDIT_PER_PAGE)?;
        let filter = input::audit_filter(&r)?;
        let (rows, total) = self.safety.audit_log(company_id, &filter, page, per_page).await?;
        Ok(Response::new(pb::ListAuditLogResponse {
            records: rows.into_iter().map(convert::human).collect(),
            page: Some(kit::convert::page_info((page, per_page), total, false)),
        }))
    }
}
