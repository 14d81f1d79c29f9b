//! The status page (`/status`), in the manner of Uptime Kuma, for admins:
//! every monitor of the company with its state, its last 90 checks as
//! coloured cells, its uptime over 24 hours and 30 days and its response time,
//! children under their parent; pause and resume; the maintenance windows
//! (`status_maintenance.rs`) and the public page's settings
//! (`status_public.rs`) beside them.
//!
//! A change shows without a reload: the board asks for itself again every
//! few seconds (htmx `every 5s`) with the version it shows, and the gateway
//! answers 204 (nothing to swap) while nothing it would draw has changed.
//! Polling rather than Server-Sent Events: notify has no feed of monitor
//! changes (its checks run on whichever replica claims them), so a stream
//! would itself have to poll notify for every open page; a poll costs the
//! same two reads, holds no connection, checks the session every time (a
//! signed-out page stops at its next request) and needs no state in the
//! gateway beyond a short memory of uptimes.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use askama::Template;
use atmr_proto::notify::v1 as pb;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse as _, Response},
};
use chrono::Utc;
use kit::auth::Role;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::{
    Web,
    board::render,
    chart::Sparkline,
    context::Console,
    error::Failure,
    form,
    format::utc,
    page::Page,
    status_data,
    status_maintenance::{self, Maintenance},
    status_public::{self, PublicCache, PublicForm},
    status_view::{self, STATES, Strip},
};
use crate::error::ApiError;

pub const ADMINS: &[Role] = &[Role::Admin];
/// Rows of the board per page.
const PER_PAGE: usize = 50;
/// How often an open board asks whether anything changed.
const POLL_SECS: u64 = 5;
/// How long a monitor's uptime is remembered: a month of checks is counted
/// by the database on each read, and the figures move slowly.
const UPTIME_TTL: Duration = Duration::from_secs(30);

/// What the status pages remember between requests.
#[derive(Debug, Default)]
pub struct StatusMemory {
    uptimes: Mutex<HashMap<(i64, String), (pb::MonitorUptime, Instant)>>,
    /// The public pages' monitors, by company.
    pub public: PublicCache,
}

/// The board's filters and page, as the query (or a form) says.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    /// The version the page shows (a poll's).
    #[serde(default)]
    v: String,
    /// Where a pause or resume came from: `detail` goes back to the monitor's page.
    #[serde(default)]
    back: String,
}

/// One monitor as the board shows it.
#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub name: String,
    /// 0 for a root; capped at 5 for the indentation's classes.
    pub depth: usize,
    /// The parent's name, for screen readers (the indentation shows it).
    pub parent: String,
    pub kind: &'static str,
    pub target: String,
    pub state: &'static str,
    pub since: String,
    pub paused: bool,
    pub strip: Strip,
    pub spark: Sparkline,
    pub avg: String,
    pub day: (String, &'static str),
    pub month: (String, &'static str),
}

/// The board: the rows of one page, the counts by state, the paging.
#[derive(Debug)]
pub struct Board {
    pub rows: Vec<Row>,
    /// Every monitor's state, counted (not only this page's).
    pub summary: Vec<(&'static str, usize)>,
    pub monitors: usize,
    /// Rows the filters keep.
    pub matching: usize,
    pub page_no: usize,
    pub pages: usize,
    pub state: String,
    pub q: String,
    /// The query of this page without its version (for the poll and the pager).
    pub query: String,
    pub version: String,
    /// Seconds between the page's questions.
    pub poll: u64,
}

impl Board {
    /// How many rows the filters keep, for the plural.
    pub fn matching_count(&self) -> i64 {
        self.matching as i64
    }

    /// The query of page `n` with the same filters.
    pub fn page_query(&self, n: usize) -> String {
        encode(&self.state, &self.q, n)
    }
}

fn encode(state: &str, q: &str, page: usize) -> String {
    let e = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("state={}&q={}&page={page}", e(state), e(q))
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    page: Page,
    board: Board,
    maint: Maintenance,
    public: PublicForm,
    states: &'static [&'static str],
}

#[derive(Template)]
#[template(path = "status_board.html")]
struct BoardPart {
    page: Page,
    board: Board,
}

/// The uptimes of `ids`: remembered ones, the others read in one call.
async fn uptimes(state: &Web, console: &Console, ids: &[String]) -> Result<HashMap<String, pb::MonitorUptime>, tonic::Status> {
    let now = Instant::now();
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    {
        let memory = state.status.uptimes.lock().expect("uptimes lock");
        for id in ids {
            match memory.get(&(console.company_id, id.clone())) {
                Some((u, at)) if now.duration_since(*at) < UPTIME_TTL => {
                    found.insert(id.clone(), u.clone());
                }
                _ => missing.push(id.clone()),
            }
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let req = kit::grpc::request(pb::GetUptimesRequest { monitor_ids: missing }, &console.token);
    let read = state.monitors.clone().get_uptimes(req).await?.into_inner().uptimes;
    let mut memory = state.status.uptimes.lock().expect("uptimes lock");
    memory.retain(|_, (_, at)| now.duration_since(*at) < UPTIME_TTL);
    for u in read {
        memory.insert((console.company_id, u.monitor_id.clone()), (u.clone(), now));
        found.insert(u.monitor_id.clone(), u);
    }
    Ok(found)
}

/// Reads and draws the board of `all` (the company's monitors) asked for by `q`.
async fn board(state: &Web, console: &Console, q: &BoardQuery, all: &[pb::Monitor]) -> Result<Board, Failure> {
    let filter = q.state.trim();
    if !filter.is_empty() && !STATES[1..].contains(&filter) {
        return Err(console.fail(ApiError::invalid("state", format!("unknown state {filter:?}"))));
    }
    let mut summary: Vec<(&'static str, usize)> =
        STATES[1..].iter().map(|s| (*s, all.iter().filter(|m| status_view::state_name(m.state) == *s).count())).collect();
    summary.retain(|(_, n)| *n > 0);
    let needle = q.q.trim().to_lowercase();
    let order: Vec<(usize, usize)> = status_view::tree_order(all)
        .into_iter()
        .filter(|&(i, _)| filter.is_empty() || status_view::state_name(all[i].state) == filter)
        .filter(|&(i, _)| needle.is_empty() || all[i].name.to_lowercase().contains(&needle))
        .collect();
    let pages = order.len().div_ceil(PER_PAGE).max(1);
    let page_no = q.page.trim().parse::<usize>().unwrap_or(1).clamp(1, pages);
    let shown: Vec<(usize, usize)> = order.iter().copied().skip((page_no - 1) * PER_PAGE).take(PER_PAGE).collect();
    let ids: Vec<String> = shown.iter().map(|&(i, _)| all[i].id.clone()).collect();
    let (mut beats, ups) = if ids.is_empty() {
        (HashMap::new(), HashMap::new())
    } else {
        let req = kit::grpc::request(pb::ListRecentHeartbeatsRequest { monitor_ids: ids.clone(), limit: 0 }, &console.token);
        let mut client = state.monitors.clone();
        let (recent, ups) = tokio::join!(client.list_recent_heartbeats(req), uptimes(state, console, &ids));
        let recent = recent.map_err(|s| console.fail_status("notify", &s))?.into_inner();
        let beats: HashMap<String, Vec<pb::Heartbeat>> = recent.monitors.into_iter().map(|m| (m.monitor_id, m.heartbeats)).collect();
        (beats, ups.map_err(|s| console.fail_status("notify", &s))?)
    };
    let fmt = &console.fmt;
    let now = Utc::now();
    let rows = shown
        .into_iter()
        .map(|(i, depth)| {
            let m = &all[i];
            let hb = beats.remove(&m.id).unwrap_or_default();
            let up = ups.get(&m.id).cloned().unwrap_or_default();
            let lat = status_view::latencies(&hb, status_view::STRIP_CHECKS);
            let spark_label = fmt.t_with("uptime-spark-label", &[("avg", fmt.number(up.avg_latency_ms_24h, 0).into())]);
            Row {
                id: m.id.clone(),
                name: m.name.clone(),
                depth: depth.min(5),
                parent: m.parent_id.as_ref().and_then(|p| all.iter().find(|x| &x.id == p)).map(|p| p.name.clone()).unwrap_or_default(),
                kind: status_view::kind_name(m.kind),
                target: m.target.clone(),
                state: status_view::state_name(m.state),
                since: utc(m.state_since.as_ref()).map(|t| status_view::when(fmt, t, now)).unwrap_or_default(),
                paused: m.state == pb::MonitorState::Paused as i32,
                strip: status_view::strip(fmt, &hb, status_view::STRIP_CHECKS),
                spark: Sparkline::line(&lat, spark_label),
                avg: format!("{} ms", fmt.number(up.avg_latency_ms_24h, 0)),
                day: status_view::uptime(fmt, if ups.contains_key(&m.id) { up.uptime_24h } else { 100.0 }),
                month: status_view::uptime(fmt, if ups.contains_key(&m.id) { up.uptime_30d } else { 100.0 }),
            }
        })
        .collect::<Vec<_>>();
    let query = encode(filter, q.q.trim(), page_no);
    let digest = Sha256::digest(format!("{rows:?}{summary:?}{query}{}", fmt.locale.code()).as_bytes());
    Ok(Board {
        rows,
        summary,
        monitors: all.len(),
        matching: order.len(),
        page_no,
        pages,
        state: filter.to_owned(),
        q: q.q.trim().to_owned(),
        query,
        version: hex::encode(&digest[..8]),
        poll: POLL_SECS,
    })
}

/// `GET /status`
pub async fn page(State(state): State<Web>, console: Console, Query(q): Query<BoardQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let all = status_data::monitors(&state, &console).await?;
    let board = board(&state, &console, &q, &all).await?;
    let maint = status_maintenance::load(&state, &console, &all).await?;
    let public = status_public::settings(&state, &console).await?;
    render(&console, &StatusPage { page: Page::new(&console, "/status", "uptime-title"), board, maint, public, states: &STATES[1..] })
}

/// `GET /status/board?state=&q=&page=&v=`: the board alone; 204 when it
/// would be drawn as the version `v` the page shows.
pub async fn board_part(State(state): State<Web>, console: Console, Query(q): Query<BoardQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let all = status_data::monitors(&state, &console).await?;
    let board = board(&state, &console, &q, &all).await?;
    if !q.v.is_empty() && q.v == board.version {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    render(&console, &BoardPart { page: Page::new(&console, "/status", "uptime-title"), board })
}

/// `POST /status/monitors/{id}/pause`
pub async fn pause(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<String>,
    Form(q): Form<BoardQuery>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = kit::grpc::request(pb::PauseMonitorRequest { monitor_id: id.clone() }, &console.token);
    state.monitors.clone().pause_monitor(req).await.map_err(|s| console.fail_status("notify", &s))?;
    tracing::info!(user_id = console.user_id, monitor_id = %id, "monitor paused from the console");
    after_change(&state, &console, &id, q).await
}

/// `POST /status/monitors/{id}/resume`
pub async fn resume(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<String>,
    Form(q): Form<BoardQuery>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = kit::grpc::request(pb::ResumeMonitorRequest { monitor_id: id.clone() }, &console.token);
    state.monitors.clone().resume_monitor(req).await.map_err(|s| console.fail_status("notify", &s))?;
    tracing::info!(user_id = console.user_id, monitor_id = %id, "monitor resumed from the console");
    after_change(&state, &console, &id, q).await
}

/// After a pause or a resume: the board as it now is, or the monitor's page.
async fn after_change(state: &Web, console: &Console, id: &str, q: BoardQuery) -> Result<Response, Failure> {
    if q.back == "detail" {
        let to = format!("/status/monitors/{}", percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC));
        return Ok(form::redirect(console, &to));
    }
    let all = status_data::monitors(state, console).await?;
    let board = board(state, console, &BoardQuery { v: String::new(), ..q }, &all).await?;
    render(console, &BoardPart { page: Page::new(console, "/status", "uptime-title"), board })
}
