//! One autonomous action (`/admin/actions/{id}`): what was done and to
//! whom, its data in words (and as stored), the limit windows it consumed,
//! its place in the company's hash chain (positions and hashes of its
//! authorization, completion and review), who authorised it, and its review:
//! who, when and with which notes, or the form to review it, once. A second
//! review is safety's to refuse, and the page says it did.

use askama::Template;
use atmr_proto::safety::v1 as pb;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse as _, Response},
};
use serde::Deserialize;

use super::{
    Web,
    actions::{ADMINS, names},
    actions_words::{Consumed, DataLine, STATUSES, consumed, data_lines, data_raw, type_word, when_exact},
    context::Console,
    error::Failure,
    form::{self, Errors},
    page::Page,
    timeline,
};
use crate::ApiError;

/// A hash of the chain and the position it was written at.
#[derive(Debug)]
struct Link {
    /// Its message id (`actions-chain-authorize`, …).
    what: &'static str,
    seq: Option<i64>,
    hash: String,
}

#[derive(Template)]
#[template(path = "actions_detail.html")]
struct DetailPage {
    page: Page,
    a: pb::Action,
    what: String,
    status: &'static str,
    booking: String,
    drivers: String,
    created: String,
    updated: String,
    reviewed_at: String,
    duration: String,
    confidence: String,
    minutes: String,
    lines: Option<Vec<DataLine>>,
    raw: String,
    windows: Vec<Consumed>,
    links: Vec<Link>,
    notes: String,
    errors: Errors,
    /// What the last review attempt came to: (`ok` or `error`, words).
    outcome: Option<(&'static str, String)>,
}

/// The detail page of `a`, with the review form's state.
async fn detail_page(
    state: &Web,
    console: &Console,
    a: pb::Action,
    notes: String,
    errors: Errors,
    outcome: Option<(&'static str, String)>,
) -> Result<DetailPage, Failure> {
    let names = names(state, console, std::slice::from_ref(&a)).await;
    let fmt = &console.fmt;
    let links = vec![
        Link { what: "actions-chain-prev", seq: (a.chain_seq > 1).then_some(a.chain_seq - 1), hash: a.prev_hash.clone() },
        Link { what: "actions-chain-authorize", seq: Some(a.chain_seq), hash: a.row_hash.clone() },
        Link { what: "actions-chain-complete", seq: a.completion_seq, hash: a.completion_hash.clone().unwrap_or_default() },
        Link { what: "actions-chain-review", seq: a.review_seq, hash: a.review_hash.clone().unwrap_or_default() },
    ];
    Ok(DetailPage {
        page: Page::new(console, "/admin/actions", "actions-detail-title"),
        what: type_word(fmt, &a.action_type),
        status: timeline::name(&STATUSES, a.status),
        booking: a.booking_id.map(|b| names.booking(b)).unwrap_or_default(),
        drivers: names.drivers_of(a.driver_id, &a.action_data),
        created: when_exact(fmt, a.create_time.as_ref()),
        updated: when_exact(fmt, a.update_time.as_ref()),
        reviewed_at: when_exact(fmt, a.reviewed_at.as_ref()),
        duration: a.execution_time_ms.map(|ms| format!("{} ms", fmt.number(ms, 0))).unwrap_or_default(),
        confidence: a.confidence_score.map(|c| format!("{} %", fmt.number(c * 100.0, 0))).unwrap_or_default(),
        minutes: a.expected_improvement_minutes.map(|m| fmt.number(m, 1)).unwrap_or_default(),
        lines: data_lines(fmt, &names, &a.action_data),
        raw: data_raw(&a.action_data),
        windows: a.consumed_windows.iter().map(|w| consumed(fmt, w)).collect(),
        links,
        notes,
        errors,
        outcome,
        a,
    })
}

async fn get(state: &Web, console: &Console, id: i64) -> Result<pb::Action, Failure> {
    let req = pb::GetActionRequest { action_id: id };
    let res = state.safety.clone().get_action(kit::grpc::request(req, &console.token)).await;
    Ok(res.map_err(|s| console.fail_status("safety", &s))?.into_inner().action.unwrap_or_default())
}

fn html(console: &Console, status: StatusCode, page: &DetailPage) -> Result<Response, Failure> {
    let body = page.render().map_err(|e| console.fail(ApiError::from_status("gateway", &kit::error::internal(e))))?;
    Ok((status, Html(body)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    /// Set after a review went through: the page says so.
    #[serde(default)]
    reviewed: String,
}

/// `GET /admin/actions/{id}`
pub async fn show(State(state): State<Web>, console: Console, Path(id): Path<i64>, Query(q): Query<Shown>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let a = get(&state, &console, id).await?;
    let outcome = (!q.reviewed.is_empty() && a.reviewed_by_admin).then(|| ("ok", console.fmt.t("actions-review-done")));
    let page = detail_page(&state, &console, a, String::new(), Errors::default(), outcome).await?;
    html(&console, StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct Review {
    #[serde(default)]
    notes: String,
}

/// `POST /admin/actions/{id}/review`: marks the action reviewed with the
/// notes, in safety; then the detail as it now is. Notes safety refuses are
/// named beside their box; a review safety refuses because one was made
/// already is said above the page, which then shows that review.
pub async fn review(State(state): State<Web>, console: Console, Path(id): Path<i64>, Form(r): Form<Review>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = pb::ReviewActionRequest { action_id: id, notes: r.notes.clone() };
    match state.safety.clone().review_action(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            // The REST API's cached stats count it at once too.
            state.cache.invalidate(crate::response_cache::Family::ActionStats, console.company_id).await;
            tracing::info!(user_id = console.user_id, action_id = id, "autonomous action reviewed from the console");
            Ok(form::redirect(&console, &format!("/admin/actions/{id}?reviewed=1")))
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(&console.fmt, &ApiError::from_status("safety", &status), |f| (f == "notes").then_some("notes"));
            let a = get(&state, &console, id).await?;
            let page = detail_page(&state, &console, a, r.notes, errors, None).await?;
            html(&console, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            let a = get(&state, &console, id).await?;
            let why = ("error", console.fmt.t("actions-review-refused"));
            let page = detail_page(&state, &console, a, String::new(), Errors::default(), Some(why)).await?;
            html(&console, StatusCode::CONFLICT, &page)
        }
        Err(status) => Err(console.fail_status("safety", &status)),
    }
}
