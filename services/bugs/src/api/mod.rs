//! IN: the `atmr.bugs.v1.BugService` implementation, the only place with the
//! service's proto types. Each handler checks the caller's role (the company
//! always comes from the token), checks the request (`input.rs`), calls the
//! core, and converts its answer (`convert.rs`); errors become statuses in
//! `status.rs`.

mod convert;
mod input;
mod status;

use atmr_proto::bugs::v1::{self as pb, bug_service_server::BugService};
use kit::auth::{Role, require_role};
use tonic::{Request, Response, Status};

use crate::core::Bugs;

/// Who may file and read bugs (and their history): everyone with an account.
const READERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Reporter];
/// Who may triage (update, comment) and read the metrics.
const TRIAGERS: &[Role] = &[Role::Admin, Role::Dispatcher];

pub struct BugApi {
    bugs: Bugs,
}

impl BugApi {
    pub fn new(bugs: Bugs) -> Self {
        Self { bugs }
    }
}

#[tonic::async_trait]
impl BugService for BugApi {
    async fn create_bug(&self, req: Request<pb::CreateBugRequest>) -> Result<Response<pb::CreateBugResponse>, Status> {
        let actor = input::actor(require_role(&req, READERS)?);
        let new = input::new_bug(req.get_ref())?;
        let (bug, grouping) = self.bugs.report(&actor, new).await?;
        Ok(Response::new(pb::CreateBugResponse { bug: Some(convert::bug(bug)), grouping: convert::grouping(grouping) as i32 }))
    }

    async fn list_bugs(&self, req: Request<pb::ListBugsRequest>) -> Result<Response<pb::ListBugsResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let r = req.get_ref();
        let page = input::page("page", r.page.as_ref())?;
        let (filter, sort) = (input::filter(r)?, input::sort(r)?);
        let listed = self.bugs.list(company_id, &filter, sort, page).await?;
        let mut occurrences = listed.occurrences;
        Ok(Response::new(pb::ListBugsResponse {
            bugs: listed
                .bugs
                .into_iter()
                .map(|b| {
                    let daily = occurrences.remove(&b.id).unwrap_or_default();
                    pb::Bug { daily_occurrences: daily, ..convert::bug(b) }
                })
                .collect(),
            page: convert::page_info(page, listed.total),
            occurrences_through: listed.through.format("%Y-%m-%d").to_string(),
        }))
    }

    async fn get_bug(&self, req: Request<pb::GetBugRequest>) -> Result<Response<pb::GetBugResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let bug_id = input::id("bug_id", req.get_ref().bug_id)?;
        let (bug, comments) = self.bugs.get(company_id, bug_id).await?;
        Ok(Response::new(pb::GetBugResponse {
            bug: Some(convert::bug(bug)),
            comments: comments.into_iter().map(convert::comment).collect(),
        }))
    }

    async fn update_bug(&self, req: Request<pb::UpdateBugRequest>) -> Result<Response<pb::UpdateBugResponse>, Status> {
        let actor = input::actor(require_role(&req, TRIAGERS)?);
        let r = req.get_ref();
        let bug = input::updated(r)?;
        let bug_id = input::id("bug.id", bug.id)?;
        let changes = input::changes(bug, r.update_mask.as_ref())?;
        let updated = self.bugs.update(&actor, bug_id, &changes).await?;
        Ok(Response::new(pb::UpdateBugResponse { bug: Some(convert::bug(updated)) }))
    }

    async fn add_comment(&self, req: Request<pb::AddCommentRequest>) -> Result<Response<pb::AddCommentResponse>, Status> {
        let actor = input::actor(require_role(&req, TRIAGERS)?);
        let r = req.get_ref();
        let bug_id = input::id("bug_id", r.bug_id)?;
        let body = input::comment_body(&r.body)?;
        let comment = self.bugs.add_comment(&actor, bug_id, body).await?;
        Ok(Response::new(pb::AddCommentResponse { comment: Some(convert::comment(comment)) }))
    }

    async fn list_comments(&self, req: Request<pb::ListCommentsRequest>) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let r = req.get_ref();
        let bug_id = input::id("bug_id", r.bug_id)?;
        let page = input::page("page", r.page.as_ref())?;
        let (comments, total) = self.bugs.comments(company_id, bug_id, page).await?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: comments.into_iter().map(convert::comment).collect(),
            page: convert::page_info(page, total),
        }))
    }

    async fn delete_comment(&self, req: Request<pb::DeleteCommentRequest>) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        let actor = input::actor(require_role(&req, TRIAGERS)?);
        let r = req.get_ref();
        let (bug_id, comment_id) = (input::id("bug_id", r.bug_id)?, input::id("comment_id", r.comment_id)?);
        self.bugs.delete_comment(&actor, bug_id, comment_id).await?;
        Ok(Response::new(pb::DeleteCommentResponse {}))
    }

    async fn metrics_summary(&self, req: Request<pb::MetricsSummaryRequest>) -> Result<Response<pb::MetricsSummaryResponse>, Status> {
        let company_id = require_role(&req, TRIAGERS)?.company_id;
        Ok(Response::new(convert::summary(self.bugs.summary(company_id).await?)))
    }

    async fn trends(&self, req: Request<pb::TrendsRequest>) -> Result<Response<pb::TrendsResponse>, Status> {
        let company_id = require_role(&req, TRIAGERS)?.company_id;
        let days = input::trend_days(req.get_ref().days)?;
        let points = self.bugs.trends(company_id, days).await?;
        Ok(Response::new(pb::TrendsResponse { points: points.into_iter().map(convert::trend_point).collect() }))
    }

    async fn list_bug_events(&self, req: Request<pb::ListBugEventsRequest>) -> Result<Response<pb::ListBugEventsResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let r = req.get_ref();
        let bug_id = input::id("bug_id", r.bug_id)?;
        let page = input::page("page", r.page.as_ref())?;
        let kinds = input::event_kinds(&r.kinds)?;
        let (events, total) = self.bugs.events(company_id, bug_id, &kinds, page).await?;
        Ok(Response::new(pb::ListBugEventsResponse {
            events: events.into_iter().map(convert::event).collect(),
            page: convert::page_info(page, total),
        }))
    }
}
