//! The domain's answers as `atmr.bugs.v1` messages, and the proto status enum
//! both ways.

use atmr_proto::{bugs::v1 as pb, common::v1 as common};
use kit::convert::timestamp as ts;

use crate::domain::{Bug, BugStatus, Comment, Event, EventKind, Grouping, Page, Ranked as _, Summary, Total, TrendDay};

pub fn bug(b: Bug) -> pb::Bug {
    pb::Bug {
        id: b.id,
        company_id: b.company_id,
        title: b.title,
        description: b.description,
        severity: i32::from(b.severity.rank()),
        priority: i32::from(b.priority.rank()),
        category: b.category,
        status: status_proto(b.status) as i32,
        reporter: b.reporter,
        assignee: b.assignee,
        environment: b.environment,
        release: b.release,
        stack_trace: b.stack_trace,
        tags: b.tags,
        fingerprint: b.fingerprint,
        occurrence_count: b.occurrence_count,
        first_seen: Some(ts(b.first_seen)),
        last_seen: Some(ts(b.last_seen)),
        resolve_time: b.resolved_at.map(ts),
        duplicate_of: b.duplicate_of,
        create_time: Some(ts(b.created_at)),
        update_time: Some(ts(b.updated_at)),
        regression_count: b.regression_count,
        daily_occurrences: Vec::new(),
    }
}

pub fn comment(c: Comment) -> pb::Comment {
    pb::Comment { id: c.id, bug_id: c.bug_id, author: c.author, body: c.body, create_time: Some(ts(c.created_at)) }
}

pub fn page_info(page: Page, total: Total) -> Option<common::PageInfo> {
    Some(kit::convert::page_info(page, total.count, total.capped))
}

pub fn grouping(g: Grouping) -> pb::Grouping {
    match g {
        Grouping::Created => pb::Grouping::Created,
        Grouping::Grouped => pb::Grouping::Grouped,
        Grouping::Regression => pb::Grouping::Regression,
        Grouping::GroupedWithinGrace => pb::Grouping::GroupedWithinGrace,
    }
}

pub fn summary(s: Summary) -> pb::MetricsSummaryResponse {
    let counts = |v: Vec<(String, i64)>| v.into_iter().map(|(key, count)| pb::CountByKey { key, count }).collect();
    pb::MetricsSummaryResponse {
        total: s.total,
        by_status: counts(s.by_status),
        by_severity: counts(s.by_severity),
        by_priority: counts(s.by_priority),
        by_category: counts(s.by_category),
        open_critical: s.open_critical,
        mean_time_to_resolve_hours: s.mean_time_to_resolve_hours,
    }
}

pub fn trend_point(p: TrendDay) -> pb::TrendPoint {
    pb::TrendPoint {
        day: p.day.format("%Y-%m-%d").to_string(),
        opened: p.opened,
        resolved: p.resolved,
        reopened: p.reopened,
        open_backlog: p.open_backlog,
    }
}

/// The status a request names; None for UNSPECIFIED.
pub fn status_of(s: pb::Status) -> Option<BugStatus> {
    Some(match s {
        pb::Status::Unspecified => return None,
        pb::Status::Open => BugStatus::Open,
        pb::Status::InProgress => BugStatus::InProgress,
        pb::Status::Resolved => BugStatus::Resolved,
        pb::Status::Closed => BugStatus::Closed,
        pb::Status::WontFix => BugStatus::WontFix,
        pb::Status::Duplicate => BugStatus::Duplicate,
    })
}

pub fn status_proto(s: BugStatus) -> pb::Status {
    match s {
        BugStatus::Open => pb::Status::Open,
        BugStatus::InProgress => pb::Status::InProgress,
        BugStatus::Resolved => pb::Status::Resolved,
        BugStatus::Closed => pb::Status::Closed,
        BugStatus::WontFix => pb::Status::WontFix,
        BugStatus::Duplicate => pb::Status::Duplicate,
    }
}

pub fn event(e: Event) -> pb::BugEvent {
    pb::BugEvent {
        id: e.id,
        bug_id: e.bug_id,
        kind: event_kind_proto(e.kind) as i32,
        from_value: e.from,
        to_value: e.to,
        actor: e.actor,
        environment: e.environment,
        release: e.release,
        create_time: Some(ts(e.at)),
    }
}

/// The event kind a request names; None for UNSPECIFIED.
pub fn event_kind_of(k: pb::BugEventKind) -> Option<EventKind> {
    Some(match k {
        pb::BugEventKind::Unspecified => return None,
        pb::BugEventKind::Created => EventKind::Created,
        pb::BugEventKind::Grouped => EventKind::Grouped,
        pb::BugEventKind::Regressed => EventKind::Regressed,
        pb::BugEventKind::StatusChanged => EventKind::StatusChanged,
        pb::BugEventKind::AssigneeChanged => EventKind::AssigneeChanged,
        pb::BugEventKind::SeverityChanged => EventKind::SeverityChanged,
        pb::BugEventKind::PriorityChanged => EventKind::PriorityChanged,
        pb::BugEventKind::Commented => EventKind::Commented,
    })
}

pub fn event_kind_proto(k: EventKind) -> pb::BugEventKind {
    match k {
        EventKind::Created => pb::BugEventKind::Created,
        EventKind::Grouped => pb::BugEventKind::Grouped,
        EventKind::Regressed => pb::BugEventKind::Regressed,
        EventKind::StatusChanged => pb::BugEventKind::StatusChanged,
        EventKind::AssigneeChanged => pb::BugEventKind::AssigneeChanged,
        EventKind::SeverityChanged => pb::BugEventKind::SeverityChanged,
        EventKind::PriorityChanged => pb::BugEventKind::PriorityChanged,
        EventKind::Commented => pb::BugEventKind::Commented,
    }
}
