//! The autonomous manager's suggestions (`/autonomy`): each open one with its
//! reason, confidence and expected minutes saved, the booking and the drivers
//! it names; the dispatcher accepts it (dispatch executes it as a manual
//! change would be, checked) or dismisses it. A cycle can be run on request.

use std::collections::HashMap;

use askama::Template;
use atmr_proto::{common::v1::PageRequest, dispatch::v1 as pb};
use axum::{
    extract::{Path, State},
    http::HeaderValue,
    response::Response,
};
use kit::auth::Role;

use super::{
    Web,
    board::render,
    context::Console,
    data::{all_pages, people},
    error::{Failure, explain},
    page::Page,
    timeline,
};
use crate::error::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// The states a dispatcher may still decide on.
const UNDECIDED: [pb::SuggestionState; 3] =
    [pb::SuggestionState::Open, pb::SuggestionState::Blocked, pb::SuggestionState::SafetyUnavailable];
const KINDS: [&str; 5] = ["unspecified", "reassign", "swap", "delay", "notify_dispatcher"];
const STATES: [&str; 8] = ["unspecified", "open", "blocked", "safety_unavailable", "executed", "expired", "accepted", "dismissed"];

/// A suggestion as the dispatcher reads it.
#[derive(Debug)]
struct Line {
    id: i64,
    kind: &'static str,
    state: &'static str,
    booking_id: i64,
    patient: String,
    window: String,
    from: String,
    to: String,
    reason: String,
    confidence: String,
    minutes: String,
    created: String,
}

#[derive(Template)]
#[template(path = "autonomy.html")]
struct AutonomyPage {
    page: Page,
    lines: Vec<Line>,
    /// What the last action did (after an accept, a dismiss or a cycle).
    outcome: Option<(&'static str, String)>,
}

async fn page(state: &Web, console: &Console, outcome: Option<(&'static str, String)>) -> Result<Response, Failure> {
    let token = console.token.as_str();
    let suggestions = all_pages(|page: PageRequest| async move {
        let req = pb::ListSuggestionsRequest { page: Some(page), states: UNDECIDED.iter().map(|s| *s as i32).collect() };
        let res = state.autonomy.clone().list_suggestions(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.suggestions, res.page))
    })
    .await
    .map_err(|s| console.fail_status("dispatch", &s))?;
    let (patients, drivers) = people(state, console).await?;
    let mut bookings = HashMap::new();
    for id in suggestions.iter().map(|s| s.booking_id) {
        if let std::collections::hash_map::Entry::Vacant(slot) = bookings.entry(id) {
            let req = pb::GetBookingRequest { booking_id: id };
            if let Ok(res) = state.dispatch.clone().get_booking(kit::grpc::request(req, token)).await {
                slot.insert(res.into_inner().booking.unwrap_or_default());
            }
        }
    }
    let patient = |id: i64| patients.iter().find(|p| p.id == id).map_or_else(|| format!("#{id}"), |p| p.name.clone());
    let driver = |id: Option<i64>| id.map(|id| drivers.iter().find(|d| d.id == id).map_or_else(|| format!("#{id}"), |d| d.name.clone()));
    let fmt = &console.fmt;
    let lines = suggestions
        .into_iter()
        .map(|s| {
            let b = bookings.get(&s.booking_id);
            Line {
                id: s.id,
                kind: timeline::name(&KINDS, s.kind),
                state: timeline::name(&STATES, s.state),
                booking_id: s.booking_id,
                patient: b.map(|b| patient(b.client_id)).unwrap_or_default(),
                window: b
                    .map(|b| format!("{}–{}", fmt.time_pb(b.pickup_earliest.as_ref()), fmt.time_pb(b.pickup_latest.as_ref())))
                    .unwrap_or_default(),
                from: driver(s.from_driver_id).unwrap_or_default(),
                to: driver(s.to_driver_id).unwrap_or_default(),
                reason: reason(console, &s, &driver),
                confidence: format!("{} %", fmt.number(s.confidence_score * 100.0, 0)),
                minutes: fmt.number(s.expected_improvement_minutes, 0),
                created: fmt.time_pb(s.create_time.as_ref()),
            }
        })
        .collect();
    render(console, &AutonomyPage { page: Page::new(console, "/autonomy", "autonomy-title"), lines, outcome })
}

/// Why the manager proposes it, in the user's words: by the kind of action,
/// with the drivers and the other trip it names (the stored description is
/// dispatch's English, not shown).
fn reason(console: &Console, s: &pb::Suggestion, driver: &impl Fn(Option<i64>) -> Option<String>) -> String {
    let from = driver(s.from_driver_id).unwrap_or_default();
    let to = driver(s.to_driver_id).unwrap_or_default();
    let other = s.other_booking_id.map(|b| format!("#{b}")).unwrap_or_default();
    console.fmt.t_with(
        &format!("reason-why-{}", timeline::name(&KINDS, s.kind)),
        &[("from", from.into()), ("to", to.into()), ("other", other.into())],
    )
}

/// `GET /autonomy`
pub async fn list(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    page(&state, &console, None).await
}

/// After a decision: the list again with what happened, and the board told.
async fn decided(state: &Web, console: &Console, outcome: (&'static str, String)) -> Result<Response, Failure> {
    let mut res = page(state, console, Some(outcome)).await?;
    res.headers_mut().insert("hx-trigger", HeaderValue::from_static("board-changed"));
    Ok(res)
}

/// `POST /autonomy/{id}/accept`
pub async fn accept(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let req = pb::AcceptSuggestionRequest { suggestion_id: id };
    match state.autonomy.clone().accept_suggestion(kit::grpc::request(req, &console.token)).await {
        Ok(_) => decided(&state, &console, ("ok", console.fmt.t("autonomy-accepted"))).await,
        // Refused by the checker or decided meanwhile: said, and the list as it now is.
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            let why = explain(&console.fmt, &ApiError::from_status("dispatch", &status));
            let rules: Vec<String> = kit::error::rules_of(&status).iter().map(|r| console.fmt.t(&format!("violation-{r}"))).collect();
            let message = if rules.is_empty() { why } else { format!("{} {}", console.fmt.t("autonomy-refused"), rules.join("; ")) };
            page(&state, &console, Some(("error", message))).await
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
}

/// `POST /autonomy/{id}/dismiss`
pub async fn dismiss(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let req = pb::DismissSuggestionRequest { suggestion_id: id };
    state
        .autonomy
        .clone()
        .dismiss_suggestion(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?;
    decided(&state, &console, ("ok", console.fmt.t("autonomy-dismissed"))).await
}

/// `POST /autonomy/cycle`: one manager cycle now.
pub async fn cycle(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let res = state
        .autonomy
        .clone()
        .run_autonomy_cycle(kit::grpc::request(pb::RunAutonomyCycleRequest {}, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    let said = console.fmt.t_with(
        "autonomy-cycle-done",
        &[
            ("late", i64::from(res.late_bookings).into()),
            ("proposed", (res.proposals.len() as i64).into()),
            ("executed", i64::from(res.executed).into()),
        ],
    );
    decided(&state, &console, ("ok", said)).await
}
