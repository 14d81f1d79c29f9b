//! The autonomous actions for admins (`/admin/actions`): safety's trail,
//! newest first, filtered by type, state, review and period and read a page
//! at a time; each row says what was done, to which booking and driver (named
//! by dispatch), how it ended and how long it took. "Verify the chain" runs
//! safety's verification and names each break it reports. The detail and its
//! review are `actions_detail.rs`, the stats `actions_stats.rs`.

use std::collections::BTreeSet;

use askama::Template;
use atmr_proto::{
    common::v1::{PageRequest, TimeRange},
    dispatch::v1 as dpb,
    safety::v1 as pb,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse as _, Response},
};
use chrono::{Duration, NaiveDate};
use futures::future::join_all;
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web,
    actions_words::{Names, STATUSES, TYPES, named_ids, type_word, when},
    board::render,
    context::Console,
    error::Failure,
    form::{self, Errors},
    page::Page,
    timeline,
};

/// Who reviews the autonomous actions.
pub const ADMINS: &[Role] = &[Role::Admin];
/// Rows per page of the list.
const PER_PAGE: i32 = 50;

/// The list's filters as the form sends them (every one optional).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default, rename = "type")]
    pub action_type: String,
    #[serde(default)]
    pub status: String,
    /// `yes`, `no` or empty.
    #[serde(default)]
    pub reviewed: String,
    /// Local days, YYYY-MM-DD, both included.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: String,
}

impl Filters {
    /// The query string of these filters on page `n`.
    fn link(&self, n: i64) -> String {
        let q = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
        format!(
            "/admin/actions?type={}&status={}&reviewed={}&from={}&to={}&page={n}",
            q(&self.action_type),
            q(&self.status),
            q(&self.reviewed),
            q(&self.from),
            q(&self.to)
        )
    }

    /// The safety request these filters ask for; an input that cannot be read
    /// is marked in `errors` (and the list is not asked for).
    fn request(&self, console: &Console, errors: &mut Errors) -> (pb::ListActionsRequest, i32) {
        let fmt = &console.fmt;
        let status = match self.status.as_str() {
            "" => pb::ActionStatus::Unspecified,
            "authorized" => pb::ActionStatus::Authorized,
            "succeeded" => pb::ActionStatus::Succeeded,
            "failed" => pb::ActionStatus::Failed,
            _ => {
                errors.add("status", fmt.t("form-bad-choice"));
                pb::ActionStatus::Unspecified
            }
        };
        let reviewed = match self.reviewed.as_str() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.add("reviewed", fmt.t("form-bad-choice"));
                None
            }
        };
        let mut day = |raw: &str, input: &str| -> Option<NaiveDate> {
            if raw.trim().is_empty() {
                return None;
            }
            form::date(raw).or_else(|| {
                errors.add(input, fmt.t("form-bad-date"));
                None
            })
        };
        let (from, to) = (day(&self.from, "from"), day(&self.to, "to"));
        let page_no = match self.page.trim() {
            "" => 1,
            p => p.parse::<i32>().ok().filter(|p| *p >= 1).unwrap_or_else(|| {
                errors.add("page", fmt.t("form-bad-number"));
                1
            }),
        };
        // A day runs from its local midnight to the next one.
        let midnight = |d: NaiveDate| form::local_instant(fmt, d, "00:00").or_else(|| form::local_instant(fmt, d, "01:00"));
        let stamp = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 };
        let created = (from.is_some() || to.is_some()).then(|| TimeRange {
            start_time: from.and_then(midnight).map(stamp),
            end_time: to.and_then(|d| midnight(d + Duration::days(1))).map(stamp),
        });
        let req = pb::ListActionsRequest {
            page: Some(PageRequest { page: page_no, per_page: PER_PAGE }),
            action_type: Some(self.action_type.trim().to_owned()).filter(|t| !t.is_empty()),
            reviewed,
            created,
            status: status as i32,
            ..Default::default()
        };
        (req, page_no)
    }
}

/// A row of the list.
#[derive(Debug)]
struct Row {
    id: i64,
    when: String,
    what: String,
    booking: String,
    drivers: String,
    status: &'static str,
    error: String,
    duration: String,
    reviewed: bool,
    reviewer: String,
}

#[derive(Template)]
#[template(path = "actions.html")]
struct ListPage {
    page: Page,
    f: Filters,
    errors: Errors,
    /// The types the filter offers: the manager's, and any the company used this month.
    types: Vec<(String, String)>,
    statuses: &'static [&'static str],
    rows: Vec<Row>,
    total: i64,
    page_no: i32,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /admin/actions?type=&status=&reviewed=&from=&to=&page=`
pub async fn list(State(state): State<Web>, console: Console, Query(f): Query<Filters>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let (req, page_no) = f.request(&console, &mut errors);
    let types = filter_types(&state, &console, &f.action_type).await;
    let mut page = ListPage {
        page: Page::new(&console, "/admin/actions", "actions-title"),
        f: f.clone(),
        errors,
        types,
        statuses: &STATUSES,
        rows: Vec::new(),
        total: 0,
        page_no,
        pages: 1,
        prev: None,
        next: None,
    };
    if !page.errors.is_empty() {
        let html = page.render().map_err(|e| console.fail(crate::ApiError::from_status("gateway", &kit::error::internal(e))))?;
        return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
    }
    let res = state
        .safety
        .clone()
        .list_actions(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("safety", &s))?
        .into_inner();
    let info = res.page.unwrap_or_default();
    let names = names(&state, &console, &res.actions).await;
    page.total = info.total;
    page.pages = ((info.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).max(1);
    page.prev = (page_no > 1).then(|| f.link(i64::from(page_no) - 1));
    page.next = (i64::from(page_no) < page.pages).then(|| f.link(i64::from(page_no) + 1));
    let fmt = &console.fmt;
    page.rows = res
        .actions
        .into_iter()
        .map(|a| Row {
            id: a.id,
            when: when(fmt, a.create_time.as_ref()),
            what: type_word(fmt, &a.action_type),
            booking: a.booking_id.map(|b| names.booking(b)).unwrap_or_default(),
            drivers: names.drivers_of(a.driver_id, &a.action_data),
            status: timeline::name(&STATUSES, a.status),
            error: a.error_message.clone().unwrap_or_default(),
            duration: a.execution_time_ms.map(|ms| format!("{} ms", fmt.number(ms, 0))).unwrap_or_default(),
            reviewed: a.reviewed_by_admin,
            reviewer: a.reviewed_by.clone().unwrap_or_default(),
        })
        .collect();
    render(&console, &page)
}

/// The filter's types: the manager's four, those the company used in the
/// last month (safety's stats), and the one asked for; (value, words).
async fn filter_types(state: &Web, console: &Console, asked: &str) -> Vec<(String, String)> {
    let mut types: BTreeSet<String> = TYPES.iter().map(|t| (*t).to_owned()).collect();
    let req = pb::GetActionStatsRequest { period: pb::StatsPeriod::Month as i32, ..Default::default() };
    match state.safety.clone().get_action_stats(kit::grpc::request(req, &console.token)).await {
        Ok(res) => types.extend(res.into_inner().by_type.into_iter().map(|t| t.action_type)),
        Err(status) => tracing::warn!(code = ?status.code(), "cannot read the month's action types; the filter offers the manager's"),
    }
    if !asked.trim().is_empty() {
        types.insert(asked.trim().to_owned());
    }
    types
        .into_iter()
        .map(|t| {
            let words = type_word(&console.fmt, &t);
            (t, words)
        })
        .collect()
}

/// The names of the bookings' patients and of the drivers `actions` name,
/// asked of dispatch side by side; what it cannot name stays an id.
pub async fn names(state: &Web, console: &Console, actions: &[pb::Action]) -> Names {
    let (mut bookings, mut drivers) = (BTreeSet::new(), BTreeSet::new());
    for a in actions {
        let (b, d) = named_ids(a.booking_id, a.driver_id, &a.action_data);
        bookings.extend(b);
        drivers.extend(d);
    }
    let token = console.token.as_str();
    let booking = |id: i64| async move {
        let req = dpb::GetBookingRequest { booking_id: id };
        state.dispatch.clone().get_booking(kit::grpc::request(req, token)).await.ok()?.into_inner().booking.map(|b| (id, b.client_id))
    };
    let driver = |id: i64| async move {
        let req = dpb::GetDriverRequest { driver_id: id };
        state.dispatch.clone().get_driver(kit::grpc::request(req, token)).await.ok()?.into_inner().driver.map(|d| (id, d.name))
    };
    let (patients_of, drivers) =
        futures::join!(join_all(bookings.iter().map(|id| booking(*id))), join_all(drivers.iter().map(|id| driver(*id))));
    let patients_of: Vec<(i64, i64)> = patients_of.into_iter().flatten().collect();
    let clients: BTreeSet<i64> = patients_of.iter().map(|(_, c)| *c).collect();
    let client = |id: i64| async move {
        let req = dpb::GetClientRequest { client_id: id };
        state.dispatch.clone().get_client(kit::grpc::request(req, token)).await.ok()?.into_inner().client.map(|c| (id, c.name))
    };
    let clients: std::collections::HashMap<i64, String> =
        join_all(clients.iter().map(|id| client(*id))).await.into_iter().flatten().collect();
    Names {
        bookings: patients_of.into_iter().filter_map(|(b, c)| clients.get(&c).map(|n| (b, n.clone()))).collect(),
        drivers: drivers.into_iter().flatten().collect(),
    }
}

/// A break of the chain as the page lists it.
#[derive(Debug)]
struct BreakLine {
    action_id: i64,
    record_id: String,
    chain_seq: i64,
    kind: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "actions_verify.html")]
struct Verified {
    page: Page,
    intact: bool,
    summary: String,
    last_checkpoint: String,
    breaks: Vec<BreakLine>,
}

/// `POST /admin/actions/verify`: safety's verification of the company's
/// chain, as the fragment under the button (each break with its row).
pub async fn verify(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let v = state
        .safety
        .clone()
        .verify_audit_chain(kit::grpc::request(pb::VerifyAuditChainRequest {}, &console.token))
        .await
        .map_err(|s| console.fail_status("safety", &s))?
        .into_inner();
    let fmt = &console.fmt;
    let breaks: Vec<BreakLine> = v
        .breaks
        .into_iter()
        .map(|b| BreakLine {
            action_id: b.action_id,
            record_id: b.record_id,
            chain_seq: b.chain_seq,
            kind: if super::actions_words::BREAKS.contains(&b.kind.as_str()) {
                fmt.t(&format!("actions-break-{}", b.kind))
            } else {
                b.kind
            },
            detail: b.detail,
        })
        .collect();
    tracing::info!(user_id = console.user_id, intact = v.intact, "audit chain verified from the console");
    let page = Verified {
        page: Page::new(&console, "/admin/actions", "actions-title"),
        intact: v.intact,
        summary: if v.intact {
            fmt.t_with("actions-chain-intact", &[("rows", v.rows_checked.into()), ("checkpoints", v.checkpoints_checked.into())])
        } else {
            fmt.t_with("actions-chain-broken", &[("count", (breaks.len() as i64).into()), ("rows", v.rows_checked.into())])
        },
        last_checkpoint: when(fmt, v.last_checkpoint_time.as_ref()),
        breaks,
    };
    render(&console, &page)
}
