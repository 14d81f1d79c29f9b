//! The bugs' summary and trends (`/bugs/trends`), for triagers (the service
//! gives its metrics to them alone): the counts by status, severity, priority
//! and category, the open critical bugs and the mean time to resolve
//! (MetricsSummary), and the last 30 days (Trends: opened, resolved, reopened
//! — regressions included — and the open backlog) as SVG charts, with the
//! days' figures in a table for whoever cannot read a chart.

use askama::Template;
use atmr_proto::bugs::v1 as pb;
use axum::{extract::State, http::StatusCode, response::Response};
use chrono::NaiveDate;
use fluent_bundle::FluentValue;

use super::{
    Web,
    bugs::{TRIAGERS, render_as},
    chart::{Chart, Series, Style},
    context::Console,
    error::Failure,
    format::Fmt,
    i18n::Locale,
    page::Page,
};

/// How many days the trends cover.
pub const TREND_DAYS: i32 = 30;
/// The categories drawn (the largest); the rest are summed as "others".
const MAX_CATEGORIES: usize = 8;

/// One day of the trend, as the table shows it.
#[derive(Debug)]
struct Day {
    label: String,
    opened: i64,
    resolved: i64,
    reopened: i64,
    backlog: i64,
}

#[derive(Template)]
#[template(path = "bugs_trends.html")]
struct TrendsPage {
    page: Page,
    total: String,
    open_critical: String,
    mean_time_to_resolve: String,
    by_status: Chart,
    by_severity: Chart,
    by_priority: Chart,
    by_category: Chart,
    flow: Chart,
    backlog: Chart,
    days: Vec<Day>,
}

/// A trend day (`YYYY-MM-DD`) as an axis label: `07.03` / `7 Mar`.
fn day_label(fmt: &Fmt, day: &str) -> String {
    let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else { return day.to_owned() };
    match fmt.locale {
        Locale::Fr => d.format("%d.%m").to_string(),
        Locale::En => d.format("%-d %b").to_string(),
    }
}

/// A mean time to resolve in hours, in the user's words: hours under two
/// days, days beyond; "none yet" without a resolved bug.
fn duration(fmt: &Fmt, hours: f64) -> String {
    if hours <= 0.0 {
        fmt.t("bugs-mttr-none")
    } else if hours < 48.0 {
        fmt.t_with("bugs-mttr-hours", &[("hours", FluentValue::from(fmt.number(hours, 1)))])
    } else {
        fmt.t_with("bugs-mttr-days", &[("days", FluentValue::from(fmt.number(hours / 24.0, 1)))])
    }
}

/// A bar chart of counts by key, each key in the user's words (`prefix-key`,
/// or the key itself when `prefix` is empty).
fn counts_chart(fmt: &Fmt, label: String, prefix: &str, counts: &[pb::CountByKey]) -> Chart {
    let x: Vec<String> =
        counts.iter().map(|c| if prefix.is_empty() { c.key.clone() } else { fmt.t(&format!("{prefix}-{}", c.key)) }).collect();
    let values = counts.iter().map(|c| c.count as f64);
    Chart::new(fmt, label, &x, vec![Series::new(fmt.t("bugs-chart-bugs"), "s-1", values)], Style::Bars, None, 0)
}

/// The largest categories, the others summed under one key.
fn top_categories(fmt: &Fmt, mut counts: Vec<pb::CountByKey>) -> Vec<pb::CountByKey> {
    if counts.len() > MAX_CATEGORIES {
        let rest: i64 = counts.drain(MAX_CATEGORIES - 1..).map(|c| c.count).sum();
        counts.push(pb::CountByKey { key: fmt.t("bugs-chart-others"), count: rest });
    }
    counts
}

/// `GET /bugs/trends`
pub async fn page(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(TRIAGERS)?;
    let fmt = console.fmt;
    let token = console.token.as_str();
    let (mut a, mut b) = (state.bugs.clone(), state.bugs.clone());
    let (summary, trends) = tokio::join!(
        a.metrics_summary(kit::grpc::request(pb::MetricsSummaryRequest {}, token)),
        b.trends(kit::grpc::request(pb::TrendsRequest { days: TREND_DAYS }, token)),
    );
    let fail = |s: tonic::Status| console.fail_status("bugs", &s);
    let s = summary.map_err(fail)?.into_inner();
    let points = trends.map_err(fail)?.into_inner().points;
    let x: Vec<String> = points.iter().map(|p| day_label(&fmt, &p.day)).collect();
    let series =
        |id: &str, class: &'static str, f: fn(&pb::TrendPoint) -> i64| Series::new(fmt.t(id), class, points.iter().map(|p| f(p) as f64));
    let flow = Chart::new(
        &fmt,
        fmt.t_with("bugs-chart-flow", &[("days", FluentValue::from(i64::from(TREND_DAYS)))]),
        &x,
        vec![
            series("bugs-trend-opened", "s-1", |p| p.opened),
            series("bugs-trend-resolved", "s-ok", |p| p.resolved),
            series("bugs-trend-reopened", "s-bad", |p| p.reopened),
        ],
        Style::Bars,
        None,
        0,
    );
    let backlog = Chart::new(
        &fmt,
        fmt.t_with("bugs-chart-backlog", &[("days", FluentValue::from(i64::from(TREND_DAYS)))]),
        &x,
        vec![series("bugs-trend-backlog", "s-3", |p| p.open_backlog)],
        Style::Lines,
        None,
        0,
    );
    let days = points
        .iter()
        .zip(&x)
        .rev()
        .map(|(p, label)| Day {
            label: label.clone(),
            opened: p.opened,
            resolved: p.resolved,
            reopened: p.reopened,
            backlog: p.open_backlog,
        })
        .collect();
    let view = TrendsPage {
        page: Page::new(&console, "/bugs", "bugs-trends-title"),
        total: fmt.number(s.total as f64, 0),
        open_critical: fmt.number(s.open_critical as f64, 0),
        mean_time_to_resolve: duration(&fmt, s.mean_time_to_resolve_hours),
        by_status: counts_chart(&fmt, fmt.t("bugs-chart-status"), "bugs-status", &s.by_status),
        by_severity: counts_chart(&fmt, fmt.t("bugs-chart-severity"), "bugs-severity", &s.by_severity),
        by_priority: counts_chart(&fmt, fmt.t("bugs-chart-priority"), "bugs-priority", &s.by_priority),
        by_category: counts_chart(&fmt, fmt.t("bugs-chart-category"), "", &top_categories(&fmt, s.by_category)),
        flow,
        backlog,
        days,
    };
    render_as(&console, StatusCode::OK, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(locale: Locale) -> Fmt {
        Fmt { locale, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn days_and_durations_are_written_in_the_users_language() {
        assert_eq!(day_label(&fmt(Locale::Fr), "2026-03-07"), "07.03");
        assert_eq!(day_label(&fmt(Locale::En), "2026-03-07"), "7 Mar");
        assert_eq!(duration(&fmt(Locale::Fr), 6.5), "6,5 h");
        assert_eq!(duration(&fmt(Locale::En), 72.0), "3.0 days");
        assert_eq!(duration(&fmt(Locale::En), 0.0), "none yet");
    }

    #[test]
    fn the_largest_categories_are_drawn_and_the_others_summed() {
        let counts: Vec<pb::CountByKey> = (0..10).map(|i| pb::CountByKey { key: format!("c{i}"), count: 10 - i }).collect();
        let top = top_categories(&fmt(Locale::En), counts);
        assert_eq!(top.len(), MAX_CATEGORIES);
        assert_eq!(top.last().map(|c| c.count), Some(3 + 2 + 1), "c7, c8 and c9");
        let c = counts_chart(&fmt(Locale::En), "by category".into(), "", &top);
        assert_eq!(c.series[0].bars.len(), MAX_CATEGORIES);
    }
}
