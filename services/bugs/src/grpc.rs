//! The `atmr.bugs.v1.BugService` implementation: checks the caller and the input,
//! calls the store, and maps rows to messages.

use std::collections::BTreeMap;

use atmr_proto::{
    bugs::v1::{self as pb, bug_service_server::BugService},
    common::v1 as common,
};
use chrono::{DateTime, Utc};
use kit::convert::timestamp as ts;
use kit::{
    auth::{Claims, Role, require_role},
    clock::SharedClock,
    stored::UnknownValue,
};
use sea_orm::Order;
use tonic::{Request, Response, Status};

use crate::{
    domain::{BugStatus, Invalid, Priority, Ranked, Severity, counter},
    entities::{bug_comments, bug_reports},
    input::{self, NewBug},
    metrics::BugMetrics,
    store::{Actor, BugFilter, Grouping, SortField, Store, Total},
};

/// How many comments GetBug returns with the bug (the oldest); ListComments pages the rest.
pub const COMMENTS_WITH_BUG: u64 = 100;

/// Who may file and read bugs: everyone with an account.
const READERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Reporter];
/// Who may triage (update, comment) and read the metrics.
const TRIAGERS: &[Role] = &[Role::Admin, Role::Dispatcher];

pub struct BugApi {
    store: Store,
    clock: SharedClock,
    metrics: BugMetrics,
}

impl BugApi {
    pub fn new(store: Store, clock: SharedClock, metrics: BugMetrics) -> Self {
        Self { store, clock, metrics }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

fn actor(c: &Claims) -> Actor {
    Actor {
        company_id: c.company_id,
        id: c.sub.clone(),
        name: if c.email.is_empty() { format!("user:{}", c.sub) } else { c.email.clone() },
        is_admin: matches!(c.role, Role::Admin | Role::Service),
    }
}

/// A bug's answer; a status, severity or priority stored outside its
/// vocabulary is an error naming the row (and a list with such a row fails
/// rather than leave the bug out of the triage queue).
fn bug_proto(m: bug_reports::Model) -> Result<pb::Bug, UnknownValue> {
    let shape = crate::store::shape(&m)?;
    Ok(pb::Bug {
        id: m.id,
        company_id: m.company_id,
        title: m.title,
        description: m.description,
        severity: i32::from(shape.severity.rank()),
        priority: i32::from(shape.priority.rank()),
        category: m.category,
        status: input::status_proto(shape.status) as i32,
        reporter: m.reporter,
        assignee: m.assignee,
        environment: m.environment,
        release: m.release_version,
        stack_trace: m.stack_trace,
        tags: m.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        fingerprint: m.fingerprint,
        occurrence_count: m.occurrence_count,
        first_seen: Some(ts(m.first_seen)),
        last_seen: Some(ts(m.last_seen)),
        resolve_time: m.resolved_at.map(ts),
        duplicate_of: m.duplicate_of,
        create_time: Some(ts(m.created_at)),
        update_time: Some(ts(m.updated_at)),
        regression_count: m.regression_count,
    })
}

fn comment_proto(c: bug_comments::Model) -> pb::Comment {
    pb::Comment { id: c.id, bug_id: c.bug_id, author: c.author, body: c.body, create_time: Some(ts(c.created_at)) }
}

fn page_info((page, per_page): (u64, u64), total: Total) -> Option<common::PageInfo> {
    Some(kit::convert::page_info((page, per_page), total.count, total.capped))
}

fn grouping_proto(g: Grouping) -> pb::Grouping {
    match g {
        Grouping::Created => pb::Grouping::Created,
        Grouping::Grouped => pb::Grouping::Grouped,
        Grouping::Regression => pb::Grouping::Regression,
        Grouping::GroupedWithinGrace => pb::Grouping::GroupedWithinGrace,
    }
}

/// An optional exact-match filter: absent or blank means no filter.
fn filter_text(field: &str, value: Option<&str>, max: usize, lowercase: bool) -> Result<Option<String>, Invalid> {
    let v = input::optional_line(field, value.unwrap_or_default(), max)?;
    Ok((!v.is_empty()).then(|| if lowercase { v.to_lowercase() } else { v }))
}

fn parse_filter(r: &pb::ListBugsRequest) -> Result<BugFilter, Invalid> {
    let statuses = r.statuses.iter().enumerate().map(|(i, s)| input::status(&format!("statuses[{i}]"), *s)).collect::<Result<_, _>>()?;
    let severities =
        r.severities.iter().enumerate().map(|(i, s)| input::ranked(&format!("severities[{i}]"), *s, None)).collect::<Result<_, _>>()?;
    let priorities =
        r.priorities.iter().enumerate().map(|(i, s)| input::ranked(&format!("priorities[{i}]"), *s, None)).collect::<Result<_, _>>()?;
    let range = r.created.unwrap_or_default();
    let created_from = range.start_time.as_ref().map(|t| input::time("created.start_time", t)).transpose()?;
    let created_to = range.end_time.as_ref().map(|t| input::time("created.end_time", t)).transpose()?;
    if let (Some(from), Some(to)) = (created_from, created_to)
        && from > to
    {
        return Err(Invalid::new("created.end_time", "is before created.start_time"));
    }
    Ok(BugFilter {
        statuses,
        severities,
        priorities,
        category: filter_text("category", r.category.as_deref(), input::MAX_LABEL, true)?,
        assignee: filter_text("assignee", r.assignee.as_deref(), input::MAX_PERSON, false)?,
        reporter: filter_text("reporter", r.reporter.as_deref(), input::MAX_PERSON, false)?,
        tag: filter_text("tag", r.tag.as_deref(), input::MAX_LABEL, true)?,
        environment: filter_text("environment", r.environment.as_deref(), input::MAX_LABEL, true)?,
        created_from,
        created_to,
        query: filter_text("query", r.query.as_deref(), input::MAX_QUERY, false)?,
    })
}

fn parse_sort(r: &pb::ListBugsRequest) -> Result<(SortField, Order), Invalid> {
    let field = match pb::BugSortField::try_from(r.sort_by) {
        Ok(pb::BugSortField::Unspecified | pb::BugSortField::CreateTime) => SortField::Created,
        Ok(pb::BugSortField::UpdateTime) => SortField::Updated,
        Ok(pb::BugSortField::LastSeen) => SortField::LastSeen,
        Ok(pb::BugSortField::Severity) => SortField::Severity,
        Ok(pb::BugSortField::Priority) => SortField::Priority,
        Ok(pb::BugSortField::Occurrences) => SortField::Occurrences,
        Err(_) => return Err(Invalid::new("sort_by", format!("{} is not a sort field", r.sort_by))),
    };
    let order = match common::SortDirection::try_from(r.sort_direction) {
        Ok(common::SortDirection::Unspecified | common::SortDirection::Descending) => Order::Desc,
        Ok(common::SortDirection::Ascending) => Order::Asc,
        Err(_) => return Err(Invalid::new("sort_direction", format!("{} is not a sort direction", r.sort_direction))),
    };
    Ok((field, order))
}

fn count_by(counts: &BTreeMap<String, i64>, prefix: &str, order: &[&str]) -> Vec<pb::CountByKey> {
    let mut out: Vec<pb::CountByKey> = order
        .iter()
        .map(|k| pb::CountByKey { key: (*k).to_owned(), count: counts.get(&format!("{prefix}{k}")).copied().unwrap_or(0) })
        .collect();
    if order.is_empty() {
        // Free-form keys (categories): every non-zero one, largest first.
        out = counts
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|key| pb::CountByKey { key: key.to_owned(), count: *v }))
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    }
    out
}

#[tonic::async_trait]
impl BugService for BugApi {
    async fn create_bug(&self, req: Request<pb::CreateBugRequest>) -> Result<Response<pb::CreateBugResponse>, Status> {
        let actor = actor(require_role(&req, READERS)?);
        let new = NewBug::parse(req.get_ref())?;
        let (bug, grouping) = self.store.create(&actor, new, self.now()).await?;
        self.metrics.reports.with_label_values(&[grouping_label(grouping)]).inc();
        Ok(Response::new(pb::CreateBugResponse { bug: Some(bug_proto(bug)?), grouping: grouping_proto(grouping) as i32 }))
    }

    async fn list_bugs(&self, req: Request<pb::ListBugsRequest>) -> Result<Response<pb::ListBugsResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let r = req.get_ref();
        let page = input::page("page", r.page.as_ref())?;
        let (filter, sort) = (parse_filter(r)?, parse_sort(r)?);
        let (bugs, total) = self.store.list(company_id, &filter, sort, page).await?;
        Ok(Response::new(pb::ListBugsResponse {
            bugs: bugs.into_iter().map(bug_proto).collect::<Result<_, _>>()?,
            page: page_info(page, total),
        }))
    }

    async fn get_bug(&self, req: Request<pb::GetBugRequest>) -> Result<Response<pb::GetBugResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let bug_id = input::id("bug_id", req.get_ref().bug_id)?;
        let (bug, comments) = self.store.get_with_comments(company_id, bug_id, COMMENTS_WITH_BUG as usize).await?;
        Ok(Response::new(pb::GetBugResponse { bug: Some(bug_proto(bug)?), comments: comments.into_iter().map(comment_proto).collect() }))
    }

    async fn update_bug(&self, req: Request<pb::UpdateBugRequest>) -> Result<Response<pb::UpdateBugResponse>, Status> {
        let company_id = require_role(&req, TRIAGERS)?.company_id;
        let r = req.get_ref();
        let bug = r.bug.as_ref().ok_or_else(|| kit::error::invalid_argument("bug", "is required"))?;
        let bug_id = input::id("bug.id", bug.id)?;
        let changes = input::changes(bug, r.update_mask.as_ref())?;
        let updated = self.store.update(company_id, bug_id, &changes, self.now()).await?;
        Ok(Response::new(pb::UpdateBugResponse { bug: Some(bug_proto(updated)?) }))
    }

    async fn add_comment(&self, req: Request<pb::AddCommentRequest>) -> Result<Response<pb::AddCommentResponse>, Status> {
        let actor = actor(require_role(&req, TRIAGERS)?);
        let r = req.get_ref();
        let bug_id = input::id("bug_id", r.bug_id)?;
        let body = input::long_text("body", r.body.trim(), input::MAX_COMMENT)?;
        if body.is_empty() {
            return Err(kit::error::invalid_argument("body", "is required"));
        }
        let comment = self.store.add_comment(&actor, bug_id, body, self.now()).await?;
        Ok(Response::new(pb::AddCommentResponse { comment: Some(comment_proto(comment)) }))
    }

    async fn list_comments(&self, req: Request<pb::ListCommentsRequest>) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let company_id = require_role(&req, READERS)?.company_id;
        let r = req.get_ref();
        let bug_id = input::id("bug_id", r.bug_id)?;
        let page = input::page("page", r.page.as_ref())?;
        let (comments, count) = self.store.comments(company_id, bug_id, page).await?;
        let total = Total { count, capped: false };
        Ok(Response::new(pb::ListCommentsResponse {
            comments: comments.into_iter().map(comment_proto).collect(),
            page: page_info(page, total),
        }))
    }

    async fn delete_comment(&self, req: Request<pb::DeleteCommentRequest>) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        let actor = actor(require_role(&req, TRIAGERS)?);
        let r = req.get_ref();
        let (bug_id, comment_id) = (input::id("bug_id", r.bug_id)?, input::id("comment_id", r.comment_id)?);
        self.store.delete_comment(&actor, bug_id, comment_id).await?;
        Ok(Response::new(pb::DeleteCommentResponse {}))
    }

    async fn metrics_summary(&self, req: Request<pb::MetricsSummaryRequest>) -> Result<Response<pb::MetricsSummaryResponse>, Status> {
        let company_id = require_role(&req, TRIAGERS)?.company_id;
        let counts = self.store.counts(company_id).await?;
        let get = |k: &str| counts.get(k).copied().unwrap_or(0);
        let statuses: Vec<&str> = BugStatus::ALL.iter().map(|s| s.label()).collect();
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.label()).collect();
        let priorities: Vec<&str> = Priority::ALL.iter().map(|s| s.label()).collect();
        let ttr_count = get(counter::TTR_COUNT);
        Ok(Response::new(pb::MetricsSummaryResponse {
            total: get(counter::TOTAL),
            by_status: count_by(&counts, counter::STATUS, &statuses),
            by_severity: count_by(&counts, counter::SEVERITY, &severities),
            by_priority: count_by(&counts, counter::PRIORITY, &priorities),
            by_category: count_by(&counts, counter::CATEGORY, &[]),
            open_critical: get(counter::OPEN_CRITICAL),
            mean_time_to_resolve_hours: if ttr_count == 0 { 0.0 } else { get(counter::TTR_SECONDS) as f64 / ttr_count as f64 / 3600.0 },
        }))
    }

    async fn trends(&self, req: Request<pb::TrendsRequest>) -> Result<Response<pb::TrendsResponse>, Status> {
        let company_id = require_role(&req, TRIAGERS)?.company_id;
        let days = req.get_ref().days;
        if !(1..=input::MAX_TREND_DAYS).contains(&days) {
            return Err(kit::error::invalid_argument("days", format!("must be between 1 and {}, got {days}", input::MAX_TREND_DAYS)));
        }
        let points = self.store.trends(company_id, days as u32, self.now().date_naive()).await?;
        Ok(Response::new(pb::TrendsResponse {
            points: points
                .into_iter()
                .map(|p| pb::TrendPoint {
                    day: p.day.format("%Y-%m-%d").to_string(),
                    opened: p.opened,
                    resolved: p.resolved,
                    reopened: p.reopened,
                    open_backlog: p.open_backlog,
                })
                .collect(),
        }))
    }
}

pub fn grouping_label(g: Grouping) -> &'static str {
    match g {
        Grouping::Created => "created",
        Grouping::Grouped => "grouped",
        Grouping::Regression => "regression",
        Grouping::GroupedWithinGrace => "grouped_within_grace",
    }
}
