//! What every bug contributes to its company's aggregates: the counters of
//! `bug_counts` (by status, severity, priority, category, open critical, time
//! to resolve) and a day's row of `bug_metrics`, and how a write moves them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::vocabulary::{BugStatus, Priority, Ranked as _, Severity};

/// What of a bug the counters depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub status: BugStatus,
    pub severity: Severity,
    pub priority: Priority,
    pub category: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Counter names, as stored in `bug_counts`.
pub mod counter {
    pub const TOTAL: &str = "total";
    pub const OPEN_CRITICAL: &str = "open_critical";
    /// Fixed bugs with a resolve time, and the sum of their times to resolve.
    pub const TTR_COUNT: &str = "ttr_count";
    pub const TTR_SECONDS: &str = "ttr_seconds";
    pub const STATUS: &str = "status:";
    pub const SEVERITY: &str = "severity:";
    pub const PRIORITY: &str = "priority:";
    pub const CATEGORY: &str = "category:";
}

impl Shape {
    /// The counters this bug adds to its company's totals.
    pub fn counters(&self) -> Vec<(String, i64)> {
        let mut out = vec![
            (counter::TOTAL.to_owned(), 1),
            (format!("{}{}", counter::STATUS, self.status.label()), 1),
            (format!("{}{}", counter::SEVERITY, self.severity.label()), 1),
            (format!("{}{}", counter::PRIORITY, self.priority.label()), 1),
            (format!("{}{}", counter::CATEGORY, self.category), 1),
        ];
        if self.status.is_active() && self.severity == Severity::Critical {
            out.push((counter::OPEN_CRITICAL.to_owned(), 1));
        }
        if let (true, Some(resolved)) = (self.status.is_fixed(), self.resolved_at) {
            out.push((counter::TTR_COUNT.to_owned(), 1));
            out.push((counter::TTR_SECONDS.to_owned(), (resolved - self.created_at).num_seconds()));
        }
        out
    }
}

/// The change to the counters when a bug goes from `old` to `new` (None: did
/// not exist), without zero entries, in key order (the order rows are locked in).
pub fn counter_delta(old: Option<&Shape>, new: Option<&Shape>) -> BTreeMap<String, i64> {
    let mut delta = BTreeMap::new();
    for (key, v) in new.map(Shape::counters).unwrap_or_default() {
        *delta.entry(key).or_insert(0) += v;
    }
    for (key, v) in old.map(Shape::counters).unwrap_or_default() {
        *delta.entry(key).or_insert(0) -= v;
    }
    delta.retain(|_, v| *v != 0);
    delta
}

/// What one write adds to its day's row in `bug_metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayDelta {
    pub opened: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub occurrences: i64,
    /// Opened, by severity rank - 1.
    pub opened_by_severity: [i64; 4],
}

impl DayDelta {
    pub fn opened(severity: Severity) -> Self {
        let mut d = Self { opened: 1, ..Self::default() };
        d.opened_by_severity[severity.rank() as usize - 1] = 1;
        d
    }

    /// A status change: leaving the active set is a resolution, coming back a reopening.
    pub fn transition(from: BugStatus, to: BugStatus) -> Self {
        match (from.is_active(), to.is_active()) {
            (true, false) => Self { resolved: 1, ..Self::default() },
            (false, true) => Self { reopened: 1, ..Self::default() },
            _ => Self::default(),
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    pub fn plus(mut self, other: Self) -> Self {
        self.opened += other.opened;
        self.resolved += other.resolved;
        self.reopened += other.reopened;
        self.occurrences += other.occurrences;
        for (a, b) in self.opened_by_severity.iter_mut().zip(other.opened_by_severity) {
            *a += b;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(status: BugStatus, severity: Severity) -> Shape {
        let created = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Shape {
            status,
            severity,
            priority: Priority::High,
            category: "ui".into(),
            created_at: created,
            resolved_at: (!status.is_active()).then(|| created + chrono::Duration::hours(5)),
        }
    }

    #[test]
    fn resolving_a_critical_bug_moves_the_counters() {
        let open = shape(BugStatus::Open, Severity::Critical);
        let fixed = shape(BugStatus::Resolved, Severity::Critical);
        let delta = counter_delta(Some(&open), Some(&fixed));
        assert_eq!(
            delta.into_iter().collect::<Vec<_>>(),
            vec![
                ("open_critical".to_owned(), -1),
                ("status:open".to_owned(), -1),
                ("status:resolved".to_owned(), 1),
                ("ttr_count".to_owned(), 1),
                ("ttr_seconds".to_owned(), 5 * 3600),
            ]
        );
        assert!(counter_delta(Some(&open), Some(&open)).is_empty());
        assert_eq!(counter_delta(None, Some(&open)).get("total"), Some(&1));
    }

    #[test]
    fn wont_fix_is_not_counted_as_resolved_time() {
        let c = shape(BugStatus::WontFix, Severity::Low).counters();
        assert!(!c.iter().any(|(k, _)| k.starts_with("ttr")), "{c:?}");
    }

    #[test]
    fn day_deltas() {
        assert_eq!(DayDelta::transition(BugStatus::InProgress, BugStatus::Duplicate).resolved, 1);
        assert_eq!(DayDelta::transition(BugStatus::Closed, BugStatus::Open).reopened, 1);
        assert!(DayDelta::transition(BugStatus::Resolved, BugStatus::Closed).is_zero());
        assert_eq!(DayDelta::opened(Severity::High).opened_by_severity, [0, 0, 1, 0]);
    }
}
