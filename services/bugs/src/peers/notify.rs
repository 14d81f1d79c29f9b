//! What the team is told about bugs, through notify: a new critical bug, and a
//! regression (a fixed bug reported again). The store commits the notice to the
//! outbox in the transaction that created or reopened the bug, keyed per event
//! so that notify stores it once.

use kit::notify::{Field, Notice, Severity as NoticeSeverity};

use crate::domain::{Bug, Grouping, Ranked as _, Severity};

/// The notice `grouping` of `bug` raises, if any (the store's `NoticeOf`).
pub fn notice(bug: &Bug, grouping: Grouping) -> Option<Notice> {
    let (event, title, key, severity) = match grouping {
        Grouping::Created if bug.severity == Severity::Critical => (
            "bugs.critical_created",
            format!("Critical bug #{}: {}", bug.id, bug.title),
            format!("bugs.critical_created:{}", bug.id),
            NoticeSeverity::Critical,
        ),
        Grouping::Regression => (
            "bugs.regression",
            format!("Regression of bug #{}: {}", bug.id, bug.title),
            format!("bugs.regression:{}:{}", bug.id, bug.regression_count),
            NoticeSeverity::Error,
        ),
        _ => return None,
    };
    Some(Notice {
        event_type: event.to_owned(),
        severity,
        title,
        body: truncate(&bug.description, 1_000),
        fields: vec![
            Field::new("Severity", bug.severity.label(), true),
            Field::new("Environment", bug.environment.clone(), true),
            Field::new("Release", if bug.release.is_empty() { "-".to_owned() } else { bug.release.clone() }, true),
            Field::new("Occurrences", bug.occurrence_count.to_string(), true),
            Field::new("Reporter", bug.reporter.clone(), true),
        ],
        idempotency_key: key,
    })
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
