//! `/api/bugs/{bug_id}/events`: a bug's history, newest first — its creation,
//! every report grouped into it, its regressions, each triage change and
//! comment, with who and when. Everyone who may read bugs may read it.

use atmr_proto::{
    bugs::v1::{self as pb},
    common::v1::PageRequest,
};
use axum::{
    Json,
    extract::{Path, State},
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::Array;

use crate::routes::{
    convert::{Page, name_of, rfc3339},
    extract::{Caller, Params, positive_id},
    failures::Failures,
    field,
};
use crate::{error::ApiError, state::AppState};

use super::shared::{EVENT_KINDS, READERS, bugs_error, numbers_of};

fn kinds() -> Array {
    field::list_of(&EVENT_KINDS)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Only these kinds, comma-separated (`regressed,status_changed`); every kind when absent.
    #[param(schema_with = kinds, style = Form, explode = false)]
    kind: Option<String>,
}

/// One thing that happened to a bug.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BugEvent)]
pub struct Event {
    id: i64,
    bug_id: i64,
    /// created, grouped, regressed, status_changed, assignee_changed, severity_changed, priority_changed or commented.
    kind: &'static str,
    /// The value before (a status, a person, a severity, a priority); empty when none.
    from: String,
    /// The value after; for a report, the bug's status after it.
    to: String,
    /// Who: the reporter of a report, the triager of a change.
    actor: String,
    /// For created, grouped and regressed: the report's environment and release.
    environment: String,
    release: String,
    created_at: Option<String>,
}

impl From<pb::BugEvent> for Event {
    fn from(e: pb::BugEvent) -> Self {
        Self {
            id: e.id,
            bug_id: e.bug_id,
            kind: name_of(&EVENT_KINDS, e.kind),
            from: e.from_value,
            to: e.to_value,
            actor: e.actor,
            environment: e.environment,
            release: e.release,
            created_at: rfc3339(e.create_time),
        }
    }
}

#[utoipa::path(
    operation_id = "bugs_list_events",
    get,
    path = "/api/bugs/{bug_id}/events",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id"), EventsQuery),
    responses((status = 200, description = "OK, newest first", body = Page<Event>), Failures),
    security(("bearer" = ["admin", "dispatcher", "reporter"]))
)]
/// `GET /api/bugs/{bug_id}/events?kind=regressed,status_changed`
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<EventsQuery>,
) -> Result<Json<Page<Event>>, ApiError> {
    caller.require(READERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let req = pb::ListBugEventsRequest {
        bug_id,
        page: Some(PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }),
        kinds: numbers_of("kind", &EVENT_KINDS, q.kind.as_deref())?,
    };
    let res = state.bugs.clone().list_bug_events(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    Ok(Json(Page::new(res.events.into_iter().map(Event::from).collect(), res.page)))
}
