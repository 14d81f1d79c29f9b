//! A bug's history, free of storage: the kinds of event (created, grouped,
//! regressed, each triage change, comments), the events a report or an update
//! records, and the daily occurrence series of a list's bugs.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{
    bug::Grouping,
    vocabulary::{BugStatus, Priority, Ranked as _, Severity},
};

/// How many days of occurrences each bug of a list carries (today last).
pub const OCCURRENCE_DAYS: u32 = 14;

/// What happened to a bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    Created,
    Grouped,
    Regressed,
    StatusChanged,
    AssigneeChanged,
    SeverityChanged,
    PriorityChanged,
    Commented,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::Created,
        EventKind::Grouped,
        EventKind::Regressed,
        EventKind::StatusChanged,
        EventKind::AssigneeChanged,
        EventKind::SeverityChanged,
        EventKind::PriorityChanged,
        EventKind::Commented,
    ];

    /// As stored in `bug_events.kind`.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Grouped => "grouped",
            EventKind::Regressed => "regressed",
            EventKind::StatusChanged => "status_changed",
            EventKind::AssigneeChanged => "assignee_changed",
            EventKind::SeverityChanged => "severity_changed",
            EventKind::PriorityChanged => "priority_changed",
            EventKind::Commented => "commented",
        }
    }

    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.label() == label)
    }

    /// The event a report records, from what grouping did with it.
    pub fn of_report(grouping: Grouping) -> Self {
        match grouping {
            Grouping::Created => EventKind::Created,
            Grouping::Grouped | Grouping::GroupedWithinGrace => EventKind::Grouped,
            Grouping::Regression => EventKind::Regressed,
        }
    }
}

/// An event as stored and read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub bug_id: i64,
    pub kind: EventKind,
    pub from: String,
    pub to: String,
    pub actor: String,
    pub environment: String,
    pub release: String,
    pub at: DateTime<Utc>,
}

/// An event to record with the write that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub from: String,
    pub to: String,
    /// The report's environment and release; empty for a triage change.
    pub environment: String,
    pub release: String,
}

impl NewEvent {
    /// A triage change from `from` to `to`.
    pub fn change(kind: EventKind, from: impl Into<String>, to: impl Into<String>) -> Self {
        Self { kind, from: from.into(), to: to.into(), environment: String::new(), release: String::new() }
    }

    /// A report: what grouping did with it, the bug's status before and after.
    pub fn report(grouping: Grouping, before: Option<BugStatus>, after: BugStatus, environment: &str, release: &str) -> Self {
        Self {
            kind: EventKind::of_report(grouping),
            from: before.map_or("", BugStatus::label).to_owned(),
            to: after.label().to_owned(),
            environment: environment.to_owned(),
            release: release.to_owned(),
        }
    }
}

/// What an update's triage fields were and became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triage {
    pub status: BugStatus,
    pub assignee: Option<String>,
    pub severity: Severity,
    pub priority: Priority,
}

/// The events an update records: one per triage field it changed, in the
/// order status, assignee, severity, priority; nothing for a field set to
/// the value it had.
pub fn changes(before: &Triage, after: &Triage) -> Vec<NewEvent> {
    let mut out = Vec::new();
    if before.status != after.status {
        out.push(NewEvent::change(EventKind::StatusChanged, before.status.label(), after.status.label()));
    }
    if before.assignee != after.assignee {
        let person = |p: &Option<String>| p.clone().unwrap_or_default();
        out.push(NewEvent::change(EventKind::AssigneeChanged, person(&before.assignee), person(&after.assignee)));
    }
    if before.severity != after.severity {
        out.push(NewEvent::change(EventKind::SeverityChanged, before.severity.label(), after.severity.label()));
    }
    if before.priority != after.priority {
        out.push(NewEvent::change(EventKind::PriorityChanged, before.priority.label(), after.priority.label()));
    }
    out
}

/// The key of `t`'s UTC day (`YYYY-MM-DD`), as `bug_daily_occurrences` and
/// `bug_metrics` store it.
pub fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The first day of a series of `days` days ending `last`.
pub fn series_start(last: NaiveDate, days: u32) -> NaiveDate {
    last - Duration::days(i64::from(days.max(1)) - 1)
}

/// Each of `bugs`' reports per day over the `days` days ending `last`, oldest
/// first, from the stored `(bug, day, count)` rows (a day without a row is 0;
/// rows outside the span are ignored).
pub fn daily_series(bugs: &[i64], rows: &[(i64, String, i64)], last: NaiveDate, days: u32) -> HashMap<i64, Vec<i64>> {
    let first = series_start(last, days);
    let mut out: HashMap<i64, Vec<i64>> = bugs.iter().map(|b| (*b, vec![0; days as usize])).collect();
    for (bug, day, count) in rows {
        let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else { continue };
        let Ok(i) = usize::try_from((d - first).num_days()) else { continue };
        if let Some(slot) = out.get_mut(bug).and_then(|s| s.get_mut(i)) {
            *slot += count;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triage(status: BugStatus, assignee: Option<&str>) -> Triage {
        Triage { status, assignee: assignee.map(str::to_owned), severity: Severity::High, priority: Priority::Medium }
    }

    #[test]
    fn an_update_records_each_triage_field_it_changed() {
        let before = triage(BugStatus::Open, None);
        let after = Triage { priority: Priority::Urgent, ..triage(BugStatus::Resolved, Some("ana@example.com")) };
        let got: Vec<(EventKind, String, String)> = changes(&before, &after).into_iter().map(|e| (e.kind, e.from, e.to)).collect();
        assert_eq!(
            got,
            [
                (EventKind::StatusChanged, "open".into(), "resolved".into()),
                (EventKind::AssigneeChanged, String::new(), "ana@example.com".into()),
                (EventKind::PriorityChanged, "medium".into(), "urgent".into()),
            ]
        );
        assert!(changes(&before, &before).is_empty(), "setting a field to its value records nothing");
    }

    #[test]
    fn a_report_is_named_by_what_grouping_did() {
        let back = NewEvent::report(Grouping::Regression, Some(BugStatus::Resolved), BugStatus::Open, "production", "1.4.2");
        assert_eq!(
            (back.kind, back.from.as_str(), back.to.as_str(), back.release.as_str()),
            (EventKind::Regressed, "resolved", "open", "1.4.2")
        );
        assert_eq!(EventKind::of_report(Grouping::GroupedWithinGrace), EventKind::Grouped);
        assert_eq!(NewEvent::report(Grouping::Created, None, BugStatus::Open, "", "").from, "");
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.label()), Some(*k));
        }
    }

    #[test]
    fn the_daily_series_puts_each_row_on_its_day_and_zeros_elsewhere() {
        let last = NaiveDate::from_ymd_opt(2026, 3, 14).unwrap();
        let rows = vec![
            (1, "2026-03-14".to_owned(), 5),
            (1, "2026-03-01".to_owned(), 2),
            (1, "2026-02-28".to_owned(), 9),
            (2, "2026-03-10".to_owned(), 1),
            (3, "2026-03-10".to_owned(), 7),
        ];
        let s = daily_series(&[1, 2], &rows, last, 14);
        assert_eq!(s[&1], [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5], "the day before the span is left out");
        assert_eq!(s[&2][9], 1);
        assert_eq!(s[&2].iter().sum::<i64>(), 1);
        assert!(!s.contains_key(&3), "only the bugs asked for");
        assert_eq!(series_start(last, 14), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
    }
}
