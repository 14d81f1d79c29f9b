//! The ETA model's drift checks (`/admin/drift`), in the manner of Prefect's
//! run list: each run with its state (completed, retried, failed), its
//! attempts, the error and bias before retraining and after (when it
//! retrained), the model it checked and the one it trained, the error of a
//! failed run; filtered by state, a page at a time. Above it, the daily mean
//! and largest error of the last 30 days (dispatch's `SummarizeDriftChecks`)
//! against the company's threshold, and "run a check now", whose result is
//! said and its run marked in the list.

use askama::Template;
use atmr_proto::{common::v1::PageRequest, dispatch::v1 as pb};
use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::{Datelike as _, NaiveDate};
use serde::Deserialize;

use super::{
    Web,
    board::render,
    chart::{Chart, Series, Style},
    context::Console,
    error::Failure,
    format::{Fmt, utc},
    page::Page,
    users::{ADMINS, shown_at, when},
};
use crate::error::ApiError;

/// Dispatch's drift-check states, in proto order (index = enum number).
const STATES: [&str; 4] = ["unspecified", "completed", "failed", "retried"];
/// Runs per page.
const PER_PAGE: i32 = 25;
/// The chart's days.
const DAYS: i32 = 30;

#[derive(Debug, Default, Deserialize)]
pub struct RunQuery {
    /// `completed`, `retried`, `failed`, or empty for all.
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: String,
}

/// A run as the list shows it.
#[derive(Debug)]
struct Run {
    id: i64,
    started: String,
    state: &'static str,
    attempts: i32,
    trips: i64,
    mae: String,
    bias: String,
    /// After retraining: the new model's error and bias.
    after: Option<(String, String)>,
    model: i64,
    retrained: Option<i64>,
    drift: bool,
    error: String,
    /// Just started here.
    fresh: bool,
}

#[derive(Template)]
#[template(path = "drift.html")]
struct DriftPage {
    page: Page,
    chart: Chart,
    /// The last 30 days: runs, failures, retrains.
    totals: (i64, i64, i64),
    threshold: String,
    /// How often the scheduled check runs, in words.
    interval: String,
    /// The current model: version, error, when trained.
    model: (i64, String, String),
    runs: Vec<Run>,
    total: i64,
    state: String,
    states: &'static [&'static str],
    prev: Option<String>,
    next: Option<String>,
    outcome: Option<(&'static str, String)>,
}

fn minutes(fmt: &Fmt, v: f64) -> String {
    fmt.number(v, 2)
}

fn run(fmt: &Fmt, c: pb::DriftCheck) -> Run {
    let after = c.mae_after_minutes.map(|mae| (minutes(fmt, mae), minutes(fmt, c.bias_after_minutes.unwrap_or_default())));
    Run {
        id: c.id,
        started: utc(c.start_time.as_ref()).map(|t| when(fmt, t)).unwrap_or_default(),
        state: STATES.get(c.state as usize).copied().unwrap_or("unspecified"),
        attempts: c.attempts,
        trips: c.trips,
        mae: minutes(fmt, c.mae_minutes),
        bias: minutes(fmt, c.bias_minutes),
        after,
        model: c.model_version,
        retrained: c.retrained_version,
        drift: c.drift_detected,
        error: c.error.unwrap_or_default(),
        fresh: false,
    }
}

/// The chart of the days' mean and largest error, and the retrained models'
/// error, with the threshold drawn across.
fn chart(fmt: &Fmt, days: &[pb::DriftCheckDay], threshold: f64) -> Chart {
    let labels: Vec<String> = days
        .iter()
        .map(|d| match NaiveDate::parse_from_str(&d.date, "%Y-%m-%d") {
            Ok(date) => fmt.t_with("drift-day", &[("day", date.day().into()), ("month", date.month().into())]),
            Err(_) => d.date.clone(),
        })
        .collect();
    let series = vec![
        Series::with_gaps(fmt.t("drift-series-mean"), "s-1", days.iter().map(|d| d.mean_mae_minutes).collect()),
        Series::with_gaps(fmt.t("drift-series-max"), "s-3", days.iter().map(|d| d.max_mae_minutes).collect()),
        Series::with_gaps(fmt.t("drift-series-after"), "s-ok", days.iter().map(|d| d.mean_mae_after_minutes).collect()),
    ];
    let threshold_label = fmt.t_with("drift-threshold-line", &[("threshold", minutes(fmt, threshold).into())]);
    let label = fmt.t_with("drift-chart-label", &[("days", days.len().into()), ("threshold", minutes(fmt, threshold).into())]);
    Chart::new(fmt, label, &labels, series, Style::Lines, Some((threshold, threshold_label)), 1)
}

async fn page(
    state: &Web,
    console: &Console,
    q: &RunQuery,
    outcome: Option<(&'static str, String)>,
    fresh: Option<i64>,
) -> Result<Response, Failure> {
    let fmt = &console.fmt;
    let page_no = match q.page.trim() {
        "" => 1,
        p => p
            .parse::<i32>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| console.fail(ApiError::invalid("page", format!("page must be a whole number from 1, got {p:?}"))))?,
    };
    let wanted = q.state.trim();
    let states = match STATES.iter().skip(1).position(|s| *s == wanted) {
        Some(i) => vec![i as i32 + 1],
        None if wanted.is_empty() => Vec::new(),
        None => return Err(console.fail(ApiError::invalid("state", format!("state must be completed, retried or failed, got {wanted:?}")))),
    };
    let token = console.token.as_str();
    let mut clients = [0; 4].map(|_| state.autonomy.clone());
    let [c1, c2, c3, c4] = &mut clients;
    let (settings, model, days, checks) = tokio::join!(
        c1.get_autonomy_settings(kit::grpc::request(pb::GetAutonomySettingsRequest {}, token)),
        c2.get_eta_model(kit::grpc::request(pb::GetEtaModelRequest {}, token)),
        c3.summarize_drift_checks(kit::grpc::request(pb::SummarizeDriftChecksRequest { days: DAYS }, token)),
        c4.list_drift_checks(kit::grpc::request(
            pb::ListDriftChecksRequest { page: Some(PageRequest { page: page_no, per_page: PER_PAGE }), states },
            token
        )),
    );
    let fail = |s: tonic::Status| console.fail_status("dispatch", &s);
    let settings = settings.map_err(fail)?.into_inner().settings.unwrap_or_default();
    let model = model.map_err(fail)?.into_inner().model.unwrap_or_default();
    let days = days.map_err(fail)?.into_inner().days;
    let checks = checks.map_err(fail)?.into_inner();
    let threshold = settings.drift_mae_threshold_minutes;
    let info = checks.page.unwrap_or_default();
    let link = |n: i32| format!("/admin/drift?state={wanted}&page={n}");
    let more = i64::from(page_no) * i64::from(PER_PAGE) < info.total;
    let page = DriftPage {
        page: Page::new(console, "/admin/drift", "drift-title"),
        chart: chart(fmt, &days, threshold),
        totals: days.iter().fold((0, 0, 0), |(n, f, r), d| (n + d.checks, f + d.failed, r + d.retrained)),
        threshold: minutes(fmt, threshold),
        interval: {
            let every = i64::from(settings.drift_check_interval_seconds);
            fmt.t_with("drift-every", &[("count", every.into()), ("shown", fmt.number(every as f64, 0).into())])
        },
        model: (model.version, minutes(fmt, model.mae_minutes), utc(model.train_time.as_ref()).map(|t| when(fmt, t)).unwrap_or_default()),
        runs: checks.checks.into_iter().map(|c| Run { fresh: Some(c.id) == fresh, ..run(fmt, c) }).collect(),
        total: info.total,
        state: wanted.to_owned(),
        states: &STATES[1..],
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: more.then(|| link(page_no + 1)),
        outcome,
    };
    Ok(shown_at(console, render(console, &page)?, "/admin/drift"))
}

/// `GET /admin/drift?state=&page=`
pub async fn list(State(state): State<Web>, console: Console, Query(q): Query<RunQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    page(&state, &console, &q, None, None).await
}

/// What a run found, in a sentence.
fn said(fmt: &Fmt, c: &pb::DriftCheck, threshold: f64) -> (&'static str, String) {
    let mut args: Vec<(&str, fluent_bundle::FluentValue<'_>)> = vec![
        ("id", c.id.into()),
        ("attempts", i64::from(c.attempts).into()),
        ("trips", c.trips.into()),
        ("mae", minutes(fmt, c.mae_minutes).into()),
        ("threshold", minutes(fmt, threshold).into()),
    ];
    let (kind, id) = match (STATES.get(c.state as usize).copied(), c.retrained_version, c.mae_after_minutes) {
        (Some("failed"), _, _) => {
            args.push(("error", c.error.clone().unwrap_or_default().into()));
            ("error", "drift-run-failed")
        }
        (_, Some(version), Some(after)) => {
            args.push(("version", version.into()));
            args.push(("after", minutes(fmt, after).into()));
            ("ok", "drift-run-retrained")
        }
        _ if c.trips == 0 => ("ok", "drift-run-no-trips"),
        _ => ("ok", "drift-run-measured"),
    };
    (kind, fmt.t_with(id, &args))
}

/// `POST /admin/drift/run`: one check now (with its retries), then the list
/// with what it found.
pub async fn run_now(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = kit::grpc::request(pb::RunDriftCheckRequest {}, &console.token);
    let check = state
        .autonomy
        .clone()
        .run_drift_check(req)
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .check
        .unwrap_or_default();
    let threshold = state
        .autonomy
        .clone()
        .get_autonomy_settings(kit::grpc::request(pb::GetAutonomySettingsRequest {}, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .settings
        .unwrap_or_default()
        .drift_mae_threshold_minutes;
    tracing::info!(user_id = console.user_id, check_id = check.id, "drift check run from the console");
    let outcome = said(&console.fmt, &check, threshold);
    page(&state, &console, &RunQuery::default(), Some(outcome), Some(check.id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn fmt(locale: Locale) -> Fmt {
        Fmt { locale, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn the_chart_draws_the_measured_days_and_the_threshold() {
        let day = |date: &str, mean: Option<f64>| pb::DriftCheckDay {
            date: date.into(),
            mean_mae_minutes: mean,
            max_mae_minutes: mean.map(|m| m + 1.0),
            ..Default::default()
        };
        let days = [day("2026-11-30", Some(1.5)), day("2026-12-01", None), day("2026-12-02", Some(6.0))];
        let c = chart(&fmt(Locale::Fr), &days, 3.0);
        assert_eq!(c.x_ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["30.11.", "1.12.", "2.12."]);
        assert_eq!(c.series[0].dots.len(), 2, "a day without a measure is a gap: {:?}", c.series[0]);
        assert!(c.rule.as_ref().unwrap().label.contains("3,00"), "{:?}", c.rule);
        assert!(c.label.contains("3,00"), "the accessible name says the threshold: {}", c.label);
        assert!(chart(&fmt(Locale::En), &[day("2026-12-01", None)], 3.0).empty, "no measure: said, not drawn");
    }

    #[test]
    fn a_run_is_said_by_what_it_found() {
        let mut c = pb::DriftCheck { id: 7, state: 1, attempts: 1, trips: 30, mae_minutes: 6.0, ..Default::default() };
        c.retrained_version = Some(2);
        c.mae_after_minutes = Some(0.4);
        let (kind, text) = said(&fmt(Locale::En), &c, 3.0);
        assert_eq!(kind, "ok");
        assert!(text.contains("#7") && text.contains("6.00") && text.contains('2') && text.contains("0.40"), "{text}");
        let failed = pb::DriftCheck { id: 8, state: 2, attempts: 3, error: Some("internal error (ref x)".into()), ..Default::default() };
        let (kind, text) = said(&fmt(Locale::Fr), &failed, 3.0);
        assert_eq!(kind, "error");
        assert!(text.contains("internal error (ref x)") && text.contains('3'), "{text}");
    }
}
