//! The autonomous actions' stats (`/admin/actions/stats`), by hour, day,
//! week or month in the company's zone, from safety's buckets: the actions
//! per bucket stacked by outcome or by type, the attempts the limits
//! blocked, the success rate, and the span's actions by type; SVG drawn by
//! `chart.rs`, with the figures beside for those who do not read charts.

use askama::Template;
use atmr_proto::safety::v1 as pb;
use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::Datelike as _;
use serde::Deserialize;

use super::{
    Web,
    actions::ADMINS,
    actions_words::type_word,
    board::render,
    chart::{Chart, Series, Style},
    context::Console,
    error::Failure,
    format::{Fmt, utc},
    page::Page,
};
use crate::ApiError;

/// The bucket sizes the selector offers.
const UNITS: [&str; 4] = ["hour", "day", "week", "month"];
/// How the actions chart is stacked.
const STACKS: [&str; 2] = ["outcome", "type"];
/// Types drawn in their own colour; the others are summed as "other".
const TYPE_CLASSES: [&str; 5] = ["s-1", "s-2", "s-3", "s-4", "s-5"];

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    by: String,
    #[serde(default)]
    stack: String,
}

/// One type's line of the table.
#[derive(Debug)]
struct TypeLine {
    words: String,
    total: i64,
    succeeded: i64,
    failed: i64,
    rate: String,
}

#[derive(Template)]
#[template(path = "actions_stats.html")]
struct StatsPage {
    page: Page,
    by: &'static str,
    stack: &'static str,
    units: &'static [&'static str],
    stacks: &'static [&'static str],
    s: pb::GetActionStatsResponse,
    rate: String,
    avg: String,
    p95: String,
    span: String,
    actions: Chart,
    blocked: Chart,
    success: Chart,
    types: Chart,
    lines: Vec<TypeLine>,
}

/// `GET /admin/actions/stats?by=hour|day|week|month&stack=outcome|type`
pub async fn page(State(state): State<Web>, console: Console, Query(q): Query<StatsQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let pick = |v: &str, of: &'static [&'static str], default: &'static str, field: &str| match v {
        "" => Ok(default),
        v => of
            .iter()
            .copied()
            .find(|o| *o == v)
            .ok_or_else(|| console.fail(ApiError::invalid(field, format!("{field} must be one of {of:?}")))),
    };
    let by = pick(&q.by, &UNITS, "day", "by")?;
    let stack = pick(&q.stack, &STACKS, "outcome", "stack")?;
    let bucket = match by {
        "hour" => pb::StatsPeriod::Hour,
        "week" => pb::StatsPeriod::Week,
        "month" => pb::StatsPeriod::Month,
        _ => pb::StatsPeriod::Day,
    };
    let req = pb::GetActionStatsRequest { bucket: bucket as i32, time_zone: console.fmt.tz.name().to_owned(), ..Default::default() };
    let s = state
        .safety
        .clone()
        .get_action_stats(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("safety", &s))?
        .into_inner();
    let fmt = &console.fmt;
    let x: Vec<String> = s.buckets.iter().map(|b| x_label(fmt, by, b.start_time.as_ref())).collect();
    let (actions_series, actions_label) = match stack {
        "type" => (by_type(fmt, &s.buckets), "actions-chart-by-type"),
        _ => (by_outcome(fmt, &s.buckets), "actions-chart-by-outcome"),
    };
    let actions = Chart::new(fmt, fmt.t(actions_label), &x, actions_series, Style::Stacked, None, 0);
    let blocked_values = s.buckets.iter().map(|b| b.blocked as f64);
    let blocked = Chart::new(
        fmt,
        fmt.t("actions-chart-blocked"),
        &x,
        vec![Series::new(fmt.t("actions-blocked"), "s-warn", blocked_values)],
        Style::Bars,
        None,
        0,
    );
    let success = Chart::new(
        fmt,
        fmt.t("actions-chart-success"),
        &x,
        vec![Series::with_gaps(fmt.t("actions-success-rate"), "s-ok", rates(&s.buckets))],
        Style::Lines,
        None,
        0,
    );
    let type_x: Vec<String> = s.by_type.iter().map(|t| type_word(fmt, &t.action_type)).collect();
    let pending = |t: &pb::ActionTypeStats| (t.total - t.succeeded - t.failed).max(0) as f64;
    let types = Chart::new(
        fmt,
        fmt.t("actions-chart-types"),
        &type_x,
        vec![
            Series::new(fmt.t("actions-status-succeeded"), "s-ok", s.by_type.iter().map(|t| t.succeeded as f64)),
            Series::new(fmt.t("actions-status-failed"), "s-bad", s.by_type.iter().map(|t| t.failed as f64)),
            Series::new(fmt.t("actions-status-authorized"), "s-muted", s.by_type.iter().map(pending)),
        ],
        Style::Stacked,
        None,
        0,
    );
    let percent = |r: f64| format!("{} %", fmt.number(r * 100.0, 0));
    let lines = s
        .by_type
        .iter()
        .map(|t| TypeLine {
            words: type_word(fmt, &t.action_type),
            total: t.total,
            succeeded: t.succeeded,
            failed: t.failed,
            rate: if t.succeeded + t.failed == 0 { "—".into() } else { percent(t.succeeded as f64 / (t.succeeded + t.failed) as f64) },
        })
        .collect();
    let span = match (s.buckets.first(), s.buckets.last()) {
        (Some(first), Some(_)) => {
            fmt.t_with("actions-stats-span", &[("since", super::actions_words::when(fmt, first.start_time.as_ref()).into())])
        }
        _ => String::new(),
    };
    let page = StatsPage {
        page: Page::new(&console, "/admin/actions", "actions-stats-title"),
        by,
        stack,
        units: &UNITS,
        stacks: &STACKS,
        rate: if s.succeeded + s.failed == 0 { "—".into() } else { percent(s.success_rate) },
        avg: format!("{} ms", fmt.number(s.avg_execution_time_ms, 0)),
        p95: format!("{} ms", fmt.number(s.p95_execution_time_ms, 0)),
        span,
        actions,
        blocked,
        success,
        types,
        lines,
        s,
    };
    render(&console, &page)
}

/// A bucket's label under the chart: `14:00`, `02.03`, or `mars 2026`.
fn x_label(fmt: &Fmt, by: &str, start: Option<&prost_types::Timestamp>) -> String {
    let Some(t) = utc(start) else { return String::new() };
    let local = fmt.local(t);
    match by {
        "hour" => local.format("%H:00").to_string(),
        "month" => format!("{} {}", fmt.t(&format!("month-{}", local.month())), local.year()),
        _ => local.format("%d.%m").to_string(),
    }
}

/// Succeeded, failed and still pending, per bucket.
fn by_outcome(fmt: &Fmt, buckets: &[pb::ActionStatsBucket]) -> Vec<Series> {
    vec![
        Series::new(fmt.t("actions-status-succeeded"), "s-ok", buckets.iter().map(|b| b.succeeded as f64)),
        Series::new(fmt.t("actions-status-failed"), "s-bad", buckets.iter().map(|b| b.failed as f64)),
        Series::new(fmt.t("actions-status-authorized"), "s-muted", buckets.iter().map(|b| b.pending as f64)),
    ]
}

/// Each type's actions per bucket, the busiest five in their own colours
/// and the rest together as "other".
fn by_type(fmt: &Fmt, buckets: &[pb::ActionStatsBucket]) -> Vec<Series> {
    let mut totals: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for t in buckets.iter().flat_map(|b| &b.by_type) {
        *totals.entry(t.action_type.as_str()).or_default() += t.total;
    }
    let mut ranked: Vec<(&str, i64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let own = ranked.len().min(TYPE_CLASSES.len());
    let count = |b: &pb::ActionStatsBucket, t: &str| b.by_type.iter().find(|s| s.action_type == t).map_or(0.0, |s| s.total as f64);
    let mut series: Vec<Series> = ranked[..own]
        .iter()
        .zip(TYPE_CLASSES)
        .map(|((t, _), class)| Series::new(type_word(fmt, t), class, buckets.iter().map(|b| count(b, t))))
        .collect();
    if ranked.len() > own {
        let rest: Vec<&str> = ranked[own..].iter().map(|(t, _)| *t).collect();
        series.push(Series::new(fmt.t("actions-other-types"), "s-muted", buckets.iter().map(|b| rest.iter().map(|t| count(b, t)).sum())));
    }
    series
}

/// The success rate of each bucket in percent; a gap where nothing finished.
fn rates(buckets: &[pb::ActionStatsBucket]) -> Vec<Option<f64>> {
    buckets.iter().map(|b| (b.succeeded + b.failed > 0).then_some(b.success_rate * 100.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn fmt() -> Fmt {
        Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich }
    }

    fn bucket(types: &[(&str, i64)], succeeded: i64, failed: i64) -> pb::ActionStatsBucket {
        pb::ActionStatsBucket {
            total: types.iter().map(|t| t.1).sum(),
            succeeded,
            failed,
            success_rate: if succeeded + failed == 0 { 0.0 } else { succeeded as f64 / (succeeded + failed) as f64 },
            by_type: types.iter().map(|(t, n)| pb::ActionTypeStats { action_type: (*t).into(), total: *n, ..Default::default() }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_busiest_five_types_have_their_colours_and_the_rest_is_other() {
        let b = [bucket(&[("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5), ("f", 6), ("g", 7)], 0, 0), bucket(&[("a", 10)], 0, 0)];
        let s = by_type(&fmt(), &b);
        assert_eq!(s.len(), 6, "five and the rest");
        assert_eq!(s[0].name, "a", "the busiest over the span first (11)");
        assert_eq!(s[0].values, [Some(1.0), Some(10.0)]);
        assert_eq!(s[5].class, "s-muted");
        assert_eq!(s[5].values, [Some(5.0), Some(0.0)], "b (2) and c (3) together, the least busy");
        assert_eq!(type_word(&fmt(), "reassign"), by_type(&fmt(), &[bucket(&[("reassign", 1)], 0, 0)])[0].name, "types in words");
    }

    #[test]
    fn a_bucket_where_nothing_finished_has_no_rate() {
        let b = [bucket(&[("a", 2)], 1, 1), bucket(&[("a", 1)], 0, 0), bucket(&[], 0, 0)];
        assert_eq!(rates(&b), [Some(50.0), None, None]);
        let o = by_outcome(&fmt(), &b);
        assert_eq!(o.iter().map(|s| s.class).collect::<Vec<_>>(), ["s-ok", "s-bad", "s-muted"]);
    }

    #[test]
    fn buckets_are_labelled_in_the_companys_zone() {
        let t = prost_types::Timestamp { seconds: 1_772_438_400, nanos: 0 }; // 2026-03-02T08:00:00Z
        assert_eq!(x_label(&fmt(), "hour", Some(&t)), "09:00");
        assert_eq!(x_label(&fmt(), "day", Some(&t)), "02.03");
        assert_eq!(x_label(&fmt(), "month", Some(&t)), format!("{} 2026", fmt().t("month-3")));
    }
}
