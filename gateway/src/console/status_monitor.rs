//! One monitor's page (`/status/monitors/{id}`): what it checks and how
//! often, its state and since when, its parent and children, its uptime, its
//! last 90 checks, its response time over the last 200 checks as a chart, and
//! its incidents of the last 30 days (when it went down, for how long, what
//! the first failing check said); pause and resume.

use askama::Template;
use atmr_proto::notify::v1 as pb;
use axum::{
    extract::{Path, State},
    response::Response,
};
use chrono::Utc;
use kit::auth::Role;

use super::{
    Web,
    board::render,
    chart::{Chart, Series, Style},
    context::Console,
    error::Failure,
    format::utc,
    page::Page,
    status_data,
    status_view::{self, Strip},
};

const ADMINS: &[Role] = &[Role::Admin];
/// Checks the response-time chart draws.
const CHART_CHECKS: i32 = 200;

/// A monitor as its page shows it.
#[derive(Debug)]
struct Detail {
    id: String,
    name: String,
    kind: &'static str,
    target: String,
    /// For an HTTP monitor: the expected status and keyword, when set.
    expects: String,
    interval: i64,
    timeout: i64,
    retries: i32,
    recovery: i32,
    state: &'static str,
    since: String,
    paused: bool,
}

/// An incident as the list shows it.
#[derive(Debug)]
struct IncidentLine {
    start: String,
    /// Empty while it lasts.
    end: String,
    duration: String,
    message: String,
}

#[derive(Template)]
#[template(path = "status_monitor.html")]
struct MonitorPage {
    page: Page,
    m: Detail,
    parent: Option<(String, String)>,
    /// (id, name, state).
    children: Vec<(String, String, &'static str)>,
    day: (String, &'static str),
    month: (String, &'static str),
    avg: String,
    strip: Strip,
    chart: Chart,
    incidents: Vec<IncidentLine>,
}

/// `GET /status/monitors/{id}`
pub async fn page(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let token = console.token.as_str();
    let fail = |s: tonic::Status| console.fail_status("notify", &s);
    let mut client = state.monitors.clone();
    let monitor = client.get_monitor(kit::grpc::request(pb::GetMonitorRequest { monitor_id: id.clone() }, token)).await.map_err(fail)?;
    let m = monitor.into_inner().monitor.unwrap_or_default();
    let (mut c1, mut c2, mut c3) = (client.clone(), client.clone(), client.clone());
    let beats = pb::ListHeartbeatsRequest { monitor_id: m.id.clone(), range: None, limit: CHART_CHECKS };
    let (beats, uptime, incidents, all) = tokio::join!(
        c1.list_heartbeats(kit::grpc::request(beats, token)),
        c2.get_uptime(kit::grpc::request(pb::GetUptimeRequest { monitor_id: m.id.clone() }, token)),
        c3.list_incidents(kit::grpc::request(pb::ListIncidentsRequest { monitor_id: m.id.clone(), range: None, limit: 100 }, token)),
        status_data::monitors(&state, &console),
    );
    let beats = beats.map_err(fail)?.into_inner().heartbeats;
    let uptime = uptime.map_err(fail)?.into_inner();
    let incidents = incidents.map_err(fail)?.into_inner().incidents;
    let all = all?;
    let fmt = &console.fmt;
    let now = Utc::now();
    let lines = incidents
        .into_iter()
        .filter_map(|i| {
            let start = utc(i.start_time.as_ref())?;
            let end = utc(i.end_time.as_ref());
            Some(IncidentLine {
                start: status_view::when(fmt, start, now),
                end: end.map(|e| status_view::when(fmt, e, now)).unwrap_or_default(),
                duration: status_view::duration(fmt, (end.unwrap_or(now) - start).num_seconds()),
                message: i.message,
            })
        })
        .collect();
    // The chart: oldest left; a failed check is a gap (it has no response time).
    let oldest_first: Vec<&pb::Heartbeat> = beats.iter().rev().collect();
    let x: Vec<String> = oldest_first.iter().map(|b| utc(b.time.as_ref()).map(|t| fmt.time(t)).unwrap_or_default()).collect();
    let values = oldest_first.iter().map(|b| b.up.then_some(b.latency_ms)).collect();
    let series = Series::with_gaps(fmt.t("uptime-response-ms"), "s-1", values);
    let chart = Chart::new(fmt, fmt.t("uptime-response-chart"), &x, vec![series], Style::Lines, None, 0);
    let mut expects = Vec::new();
    if m.expected_status != 0 {
        expects.push(format!("HTTP {}", m.expected_status));
    }
    if !m.keyword.is_empty() {
        expects.push(format!("« {} »", m.keyword));
    }
    let parent = m.parent_id.as_ref().and_then(|p| all.iter().find(|x| &x.id == p)).map(|p| (p.id.clone(), p.name.clone()));
    let mut children: Vec<(String, String, &'static str)> = all
        .iter()
        .filter(|c| c.parent_id.as_deref() == Some(m.id.as_str()))
        .map(|c| (c.id.clone(), c.name.clone(), status_view::state_name(c.state)))
        .collect();
    children.sort_by_key(|(_, name, _)| name.to_lowercase());
    let mut page = Page::new(&console, "/status", "uptime-title");
    page.title.clone_from(&m.name);
    let view = MonitorPage {
        page,
        strip: status_view::strip(fmt, &beats, status_view::STRIP_CHECKS),
        day: status_view::uptime(fmt, uptime.uptime_24h),
        month: status_view::uptime(fmt, uptime.uptime_30d),
        avg: format!("{} ms", fmt.number(uptime.avg_latency_ms_24h, 0)),
        m: Detail {
            kind: status_view::kind_name(m.kind),
            state: status_view::state_name(m.state),
            since: utc(m.state_since.as_ref()).map(|t| status_view::when(fmt, t, now)).unwrap_or_default(),
            paused: m.state == pb::MonitorState::Paused as i32,
            expects: expects.join(" · "),
            interval: m.interval_seconds.into(),
            timeout: m.timeout_seconds.into(),
            retries: m.retries,
            recovery: m.recovery_checks,
            id: m.id,
            name: m.name,
            target: m.target,
        },
        parent,
        children,
        chart,
        incidents: lines,
    };
    render(&console, &view)
}
