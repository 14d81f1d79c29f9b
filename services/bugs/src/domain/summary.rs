//! Summaries and trends, computed from the aggregates alone: the counters a
//! company has now, and its last days with the open backlog at the end of each.

use std::{collections::BTreeMap, ops::Bound};

use chrono::{Duration, NaiveDate};

use super::{
    counters::{DayDelta, counter},
    vocabulary::{BugStatus, Priority, Ranked as _, Severity},
};

/// The current counts of one company, by counter name.
pub type Counts = BTreeMap<String, i64>;

/// MetricsSummary's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub total: i64,
    /// Every status in life-cycle order, zeros included; so are severities and priorities.
    pub by_status: Vec<(String, i64)>,
    pub by_severity: Vec<(String, i64)>,
    pub by_priority: Vec<(String, i64)>,
    /// Every category with bugs, largest first.
    pub by_category: Vec<(String, i64)>,
    pub open_critical: i64,
    /// Over the fixed bugs that have a resolve time; 0 when there is none.
    pub mean_time_to_resolve_hours: f64,
}

impl Summary {
    pub fn of(counts: &Counts) -> Self {
        let get = |k: &str| counts.get(k).copied().unwrap_or(0);
        let statuses: Vec<&str> = BugStatus::ALL.iter().map(|s| s.label()).collect();
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.label()).collect();
        let priorities: Vec<&str> = Priority::ALL.iter().map(|s| s.label()).collect();
        let ttr_count = get(counter::TTR_COUNT);
        Self {
            total: get(counter::TOTAL),
            by_status: count_by(counts, counter::STATUS, &statuses),
            by_severity: count_by(counts, counter::SEVERITY, &severities),
            by_priority: count_by(counts, counter::PRIORITY, &priorities),
            by_category: count_by(counts, counter::CATEGORY, &[]),
            open_critical: get(counter::OPEN_CRITICAL),
            mean_time_to_resolve_hours: if ttr_count == 0 { 0.0 } else { get(counter::TTR_SECONDS) as f64 / ttr_count as f64 / 3600.0 },
        }
    }
}

/// The counters under `prefix`, keyed without it: those of `order` in that
/// order, or, when `order` is empty, every one there is.
fn count_by(counts: &Counts, prefix: &str, order: &[&str]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> =
        order.iter().map(|k| ((*k).to_owned(), counts.get(&format!("{prefix}{k}")).copied().unwrap_or(0))).collect();
    if order.is_empty() {
        // Free-form keys (categories): every non-zero one, largest first.
        out = counts.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|key| (key.to_owned(), *v))).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    out
}

/// One day of the trend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendDay {
    pub day: NaiveDate,
    pub opened: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub open_backlog: i64,
}

/// The first day of a trend of `days` days that ends `today`.
pub fn first_day(today: NaiveDate, days: u32) -> NaiveDate {
    today - Duration::days(i64::from(days) - 1)
}

/// The `days` days up to `today`, oldest first, from the counters now and the
/// day rows (keyed `YYYY-MM-DD`) from the first day on, read in one snapshot:
/// the open backlog at the end of each day is the active count now, minus what
/// each later day added.
pub fn trend(counts: &Counts, by_day: &BTreeMap<String, DayDelta>, today: NaiveDate, days: u32) -> Vec<TrendDay> {
    let active = |s: BugStatus| counts.get(&format!("{}{}", counter::STATUS, s.label())).copied().unwrap_or(0);
    let mut backlog = active(BugStatus::Open) + active(BugStatus::InProgress);
    // Days after today (a clock that moved back) still changed the backlog.
    let today_key = today.format("%Y-%m-%d").to_string();
    for later in by_day.range::<str, _>((Bound::Excluded(today_key.as_str()), Bound::Unbounded)).map(|(_, r)| r) {
        backlog -= later.opened + later.reopened - later.resolved;
    }
    let first = first_day(today, days);
    let mut out = Vec::with_capacity(days as usize);
    let mut day = today;
    while day >= first {
        let row = by_day.get(&day.format("%Y-%m-%d").to_string());
        let (opened, resolved, reopened) = row.map_or((0, 0, 0), |r| (r.opened, r.resolved, r.reopened));
        out.push(TrendDay { day, opened, resolved, reopened, open_backlog: backlog });
        backlog -= opened + reopened - resolved;
        day -= Duration::days(1);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_come_largest_first_and_the_vocabularies_in_order() {
        let counts: Counts = [("category:ui", 2), ("category:api", 2), ("category:db", 5), ("status:resolved", 3), ("ttr_count", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain([("ttr_seconds".to_owned(), 3 * 3600)])
            .collect();
        let s = Summary::of(&counts);
        let keys = |v: &[(String, i64)]| v.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(" ");
        assert_eq!(keys(&s.by_category), "db=5 api=2 ui=2");
        assert_eq!(keys(&s.by_status), "open=0 in_progress=0 resolved=3 closed=0 wont_fix=0 duplicate=0");
        assert_eq!(s.mean_time_to_resolve_hours, 1.5);
        assert_eq!(Summary::of(&Counts::new()).mean_time_to_resolve_hours, 0.0);
    }

    #[test]
    fn the_backlog_walks_back_from_the_count_now() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let counts: Counts = [("status:open".to_owned(), 3), ("status:in_progress".to_owned(), 1)].into();
        let d = |opened, resolved, reopened| DayDelta { opened, resolved, reopened, ..DayDelta::default() };
        // Today 2 opened and 1 resolved; the day before 1 opened; tomorrow (a
        // clock that moved back) 1 more opened, already in the count now.
        let by_day = [("2026-03-04".to_owned(), d(1, 0, 0)), ("2026-03-05".to_owned(), d(2, 1, 0)), ("2026-03-06".to_owned(), d(1, 0, 0))]
            .into_iter()
            .collect();
        let t = trend(&counts, &by_day, today, 3);
        let got: Vec<(String, i64, i64)> = t.iter().map(|p| (p.day.to_string(), p.opened, p.open_backlog)).collect();
        assert_eq!(got, [("2026-03-03".to_owned(), 0, 1), ("2026-03-04".to_owned(), 1, 2), ("2026-03-05".to_owned(), 2, 3)]);
        assert_eq!(first_day(today, 1), today);
    }
}
