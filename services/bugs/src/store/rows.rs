//! Stored rows read back as the domain's types. A status, severity or priority
//! stored outside its vocabulary is an error naming the row, never read as some
//! default: the write that needed it fails and nothing is written, and a list
//! with such a row fails rather than leave the bug out of the triage queue.

use kit::stored::{self, UnknownValue};

use super::entities::{bug_comments, bug_reports};
use crate::domain::{Bug, BugStatus, Comment, Priority, Ranked as _, Severity, Shape};

/// What a bug counts as in the aggregates.
pub fn shape(m: &bug_reports::Model) -> Result<Shape, UnknownValue> {
    Ok(Shape {
        status: stored::parse("bug_reports", "status", m.id, &m.status, BugStatus::parse)?,
        severity: Severity::from_rank(m.severity.into()).ok_or_else(|| UnknownValue::new("bug_reports", "severity", m.id, m.severity))?,
        priority: Priority::from_rank(m.priority.into()).ok_or_else(|| UnknownValue::new("bug_reports", "priority", m.id, m.priority))?,
        category: m.category.clone(),
        created_at: m.created_at,
        resolved_at: m.resolved_at,
    })
}

/// The bug a row holds; its tags are stored sorted and comma-separated.
pub fn bug(m: bug_reports::Model) -> Result<Bug, UnknownValue> {
    let Shape { status, severity, priority, .. } = shape(&m)?;
    Ok(Bug {
        id: m.id,
        company_id: m.company_id,
        title: m.title,
        description: m.description,
        severity,
        priority,
        category: m.category,
        status,
        reporter: m.reporter,
        assignee: m.assignee,
        environment: m.environment,
        release: m.release_version,
        stack_trace: m.stack_trace,
        tags: m.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        fingerprint: m.fingerprint,
        occurrence_count: m.occurrence_count,
        regression_count: m.regression_count,
        first_seen: m.first_seen,
        last_seen: m.last_seen,
        resolved_at: m.resolved_at,
        duplicate_of: m.duplicate_of,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub fn comment(c: bug_comments::Model) -> Comment {
    Comment { id: c.id, bug_id: c.bug_id, author_id: c.author_id, author: c.author, body: c.body, created_at: c.created_at }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    #[test]
    fn a_shape_is_read_only_from_known_values() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let bug_row = bug_reports::Model {
            id: 9,
            company_id: 1,
            title: "t".into(),
            description: String::new(),
            severity: 4,
            priority: 1,
            category: "default".into(),
            status: "in_progress".into(),
            reporter: "r@x.ch".into(),
            assignee: None,
            environment: "production".into(),
            release_version: String::new(),
            stack_trace: String::new(),
            tags: "eta,gps".into(),
            fingerprint: "f".into(),
            occurrence_count: 1,
            regression_count: 0,
            first_seen: at,
            last_seen: at,
            resolved_at: None,
            duplicate_of: None,
            created_at: at,
            updated_at: at,
        };
        let s = shape(&bug_row).unwrap();
        assert_eq!((s.status, s.severity, s.priority), (BugStatus::InProgress, Severity::Critical, Priority::Low));
        assert_eq!(bug(bug_row.clone()).unwrap().tags, ["eta", "gps"]);
        assert!(bug(bug_reports::Model { tags: String::new(), ..bug_row.clone() }).unwrap().tags.is_empty());
        // Not open, not medium: an error naming the row and the value.
        let e = shape(&bug_reports::Model { status: "forgotten".into(), ..bug_row.clone() }).unwrap_err();
        assert_eq!((e.column, e.row_id.as_str(), e.value.as_str()), ("status", "9", "forgotten"));
        let e = shape(&bug_reports::Model { severity: 0, ..bug_row.clone() }).unwrap_err();
        assert_eq!((e.column, e.value.as_str()), ("severity", "0"));
        let e = bug(bug_reports::Model { priority: 5, ..bug_row }).unwrap_err();
        assert_eq!((e.column, e.value.as_str()), ("priority", "5"));
    }
}
