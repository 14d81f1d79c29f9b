//! What the team is told about bugs: a new critical bug, and a regression
//! (a fixed bug reported again). The store commits the notice to the outbox
//! in the transaction that created or reopened the bug, keyed per event so
//! that notify stores it once.

use kit::notify::{Field, Notice, Severity as NoticeSeverity};

use crate::{
    domain::{Ranked, Severity},
    entities::bug_reports,
    store::Grouping,
};

/// The notice `grouping` of `bug` raises, if any.
pub fn of(bug: &bug_reports::Model, grouping: Grouping) -> Option<Notice> {
    let (event, title, key, severity) = match grouping {
        Grouping::Created if bug.severity == Severity::Critical.rank() => (
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
            Field::new("Severity", label_of_rank::<Severity>(bug.severity), true),
            Field::new("Environment", bug.environment.clone(), true),
            Field::new("Release", if bug.release_version.is_empty() { "-".to_owned() } else { bug.release_version.clone() }, true),
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

fn label_of_rank<T: Ranked>(rank: i16) -> String {
    T::from_rank(rank.into()).map_or_else(|| rank.to_string(), |v| v.label().to_owned())
}
