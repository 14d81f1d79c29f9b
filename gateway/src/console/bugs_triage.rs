//! What a triager changes on a bug's page: its status (with the bug it
//! duplicates), assignee, severity and priority in one form, and its
//! comments (add; delete, which the service allows the author or an admin).
//! The form sends only the fields the user changed (it carries the values it
//! was shown with), so two triagers editing different fields do not undo each
//! other. The bugs service checks every rule (transitions, duplicates, who
//! may delete); a refusal is shown on the page beside the form it answers.

use atmr_proto::bugs::v1 as pb;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use fluent_bundle::FluentValue;
use serde::Deserialize;
use tonic::Code;

use super::{
    Web,
    bugs::{TRIAGERS, refusal, render_as},
    bugs_detail::{DetailQuery, TriageForm, load},
    bugs_filter::{Bad, PRIORITIES, SEVERITIES, STATUSES},
    context::Console,
    error::Failure,
    form,
};
use crate::ApiError;

/// The update the form asks for: the bug with the changed values and their
/// field mask; the first value that cannot be read, otherwise.
fn update_of(id: i64, f: &TriageForm) -> Result<(pb::Bug, Vec<String>), Bad> {
    let number = |input: &'static str, names: &[&str], v: &str| {
        names.iter().skip(1).position(|n| *n == v).map(|i| i as i32 + 1).ok_or_else(|| Bad { input, value: v.to_owned() })
    };
    let mut bug = pb::Bug { id, ..Default::default() };
    let mut paths = Vec::new();
    let (status, was_status) = (f.status.trim(), f.was_status.trim());
    bug.status = number("status", &STATUSES, status)?;
    let (dup, was_dup) = (f.duplicate_of.trim(), f.was_duplicate_of.trim());
    let duplicate_of = match dup {
        "" => None,
        d => Some(d.parse::<i64>().ok().filter(|d| *d > 0).ok_or_else(|| Bad { input: "duplicate_of", value: d.to_owned() })?),
    };
    if status != was_status {
        paths.push("status".to_owned());
    }
    // A duplicate names its original with its status; a link typed without
    // the status is sent too, for the service to refuse by name.
    let names_original = if status == "duplicate" { status != was_status || dup != was_dup } else { dup != was_dup && !dup.is_empty() };
    if names_original {
        bug.duplicate_of = duplicate_of;
        if !paths.iter().any(|p| p == "status") && status == "duplicate" {
            paths.push("status".to_owned());
        }
        paths.push("duplicate_of".to_owned());
    }
    if f.assignee.trim() != f.was_assignee.trim() {
        bug.assignee = Some(f.assignee.trim().to_owned()).filter(|a| !a.is_empty());
        paths.push("assignee".to_owned());
    }
    if f.severity.trim() != f.was_severity.trim() {
        bug.severity = number("severity", &SEVERITIES, f.severity.trim())?;
        paths.push("severity".to_owned());
    }
    if f.priority.trim() != f.was_priority.trim() {
        bug.priority = number("priority", &PRIORITIES, f.priority.trim())?;
        paths.push("priority".to_owned());
    }
    Ok((bug, paths))
}

/// The bug's page again, with what the form typed and `message` at `place`.
async fn again(
    state: &Web,
    console: &Console,
    id: i64,
    typed: (TriageForm, String),
    (place, kind, message): (&'static str, &'static str, String),
    status: StatusCode,
) -> Result<Response, Failure> {
    let detail = load(state, console, id, &DetailQuery::default(), Some(typed), Some((place, kind, message))).await?;
    render_as(console, status, &detail)
}

/// Whether a refusal is about what was asked (shown beside the form) rather than a failure.
fn answerable(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::InvalidArgument | Code::FailedPrecondition | Code::PermissionDenied | Code::Aborted)
}

/// `POST /bugs/{id}/triage`
pub async fn triage(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(f): Form<TriageForm>,
) -> Result<Response, Failure> {
    console.require(TRIAGERS)?;
    let fmt = console.fmt;
    let (bug, paths) = match update_of(id, &f) {
        Ok(update) => update,
        Err(bad) => {
            let label = fmt.t(&format!("bugs-filter-{}", bad.input));
            let message = fmt.t_with("bugs-filter-bad", &[("field", FluentValue::from(label)), ("value", FluentValue::from(bad.value))]);
            return again(&state, &console, id, (f, String::new()), ("triage", "error", message), StatusCode::BAD_REQUEST).await;
        }
    };
    if paths.is_empty() {
        return again(&state, &console, id, (f, String::new()), ("triage", "ok", fmt.t("bugs-triage-unchanged")), StatusCode::OK).await;
    }
    let req = pb::UpdateBugRequest { bug: Some(bug), update_mask: Some(prost_types::FieldMask { paths: paths.clone() }) };
    match state.bugs.clone().update_bug(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, bug_id = id, fields = ?paths, "bug triaged from the console");
            Ok(form::redirect(&console, &format!("/bugs/{id}")))
        }
        Err(status) if answerable(&status) => {
            let message = if status.code() == Code::FailedPrecondition && paths.iter().any(|p| p == "status") {
                let word = |s: &str| fmt.t(&format!("bugs-status-{s}"));
                fmt.t_with(
                    "bugs-triage-transition",
                    &[("from", FluentValue::from(word(f.was_status.trim()))), ("to", FluentValue::from(word(f.status.trim())))],
                )
            } else {
                refusal(&console, &status)
            };
            let code = ApiError::from_status("bugs", &status).status;
            again(&state, &console, id, (f, String::new()), ("triage", "error", message), code).await
        }
        Err(status) => Err(console.fail_status("bugs", &status)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
}

/// `POST /bugs/{id}/comments`
pub async fn comment(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(c): Form<CommentForm>,
) -> Result<Response, Failure> {
    console.require(TRIAGERS)?;
    let req = pb::AddCommentRequest { bug_id: id, body: c.body.clone() };
    match state.bugs.clone().add_comment(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, &format!("/bugs/{id}#comments"))),
        Err(status) if answerable(&status) => {
            let code = ApiError::from_status("bugs", &status).status;
            let message =
                if kit::error::field_of(&status) == Some("body") { console.fmt.t("bugs-comment-bad") } else { refusal(&console, &status) };
            again(&state, &console, id, (TriageForm::default(), c.body), ("comment", "error", message), code).await
        }
        Err(status) => Err(console.fail_status("bugs", &status)),
    }
}

/// `POST /bugs/{id}/comments/{comment_id}/delete`
pub async fn delete_comment(
    State(state): State<Web>,
    console: Console,
    Path((id, comment_id)): Path<(i64, i64)>,
) -> Result<Response, Failure> {
    console.require(TRIAGERS)?;
    let req = pb::DeleteCommentRequest { bug_id: id, comment_id };
    match state.bugs.clone().delete_comment(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, bug_id = id, comment_id, "bug comment deleted from the console");
            Ok(form::redirect(&console, &format!("/bugs/{id}#comments")))
        }
        Err(status) if answerable(&status) => {
            let code = ApiError::from_status("bugs", &status).status;
            again(&state, &console, id, (TriageForm::default(), String::new()), ("comment", "error", refusal(&console, &status)), code)
                .await
        }
        Err(status) => Err(console.fail_status("bugs", &status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(status: &str) -> TriageForm {
        TriageForm {
            status: status.into(),
            severity: "high".into(),
            priority: "medium".into(),
            was_status: status.into(),
            was_severity: "high".into(),
            was_priority: "medium".into(),
            ..TriageForm::default()
        }
    }

    #[test]
    fn only_the_fields_the_user_changed_are_sent() {
        let f = TriageForm { status: "resolved".into(), assignee: " ana@example.com ".into(), ..shown("open") };
        let (bug, paths) = update_of(7, &f).unwrap();
        assert_eq!(paths, ["status", "assignee"]);
        assert_eq!((bug.id, bug.status, bug.assignee.as_deref()), (7, pb::Status::Resolved as i32, Some("ana@example.com")));
        assert!(update_of(7, &shown("open")).unwrap().1.is_empty(), "nothing changed, nothing sent");
        let unassign = TriageForm { was_assignee: "ana@example.com".into(), ..shown("open") };
        let (bug, paths) = update_of(7, &unassign).unwrap();
        assert_eq!((paths, bug.assignee), (vec!["assignee".to_owned()], None));
    }

    #[test]
    fn a_duplicate_names_its_original_with_its_status() {
        let f = TriageForm { status: "duplicate".into(), duplicate_of: "3".into(), ..shown("open") };
        let (bug, paths) = update_of(7, &f).unwrap();
        assert_eq!((paths, bug.duplicate_of), (vec!["status".to_owned(), "duplicate_of".to_owned()], Some(3)));
        let retarget = TriageForm { duplicate_of: "4".into(), was_duplicate_of: "3".into(), ..shown("duplicate") };
        assert_eq!(update_of(7, &retarget).unwrap().1, ["status", "duplicate_of"]);
        let stray = TriageForm { duplicate_of: "4".into(), ..shown("open") };
        assert_eq!(update_of(7, &stray).unwrap().1, ["duplicate_of"], "sent for the service to refuse by name");
        let bad = TriageForm { status: "duplicate".into(), duplicate_of: "three".into(), ..shown("open") };
        assert_eq!(update_of(7, &bad).unwrap_err(), Bad { input: "duplicate_of", value: "three".into() });
        assert_eq!(update_of(7, &TriageForm { status: "fixed".into(), ..shown("open") }).unwrap_err().input, "status");
    }
}
