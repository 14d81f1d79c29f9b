//! `/api/bugs/{bug_id}/comments…`: commenting on a bug, listing and deleting
//! its comments.

use crate::routes::{
    failures::{Failures, WriteFailures},
    field,
};
use atmr_proto::{
    bugs::v1::{self as pb},
    common::v1::PageRequest,
};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;

use crate::routes::{
    convert::Page,
    extract::{Body, Caller, Params, positive_id},
};
use crate::{error::ApiError, state::AppState};

use super::shared::{Comment, READERS, TRIAGERS, bugs_error};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(schema_with = field::required_text::<10000>)]
    body: String,
}

#[utoipa::path(
    operation_id = "bugs_add_comment",
    post,
    path = "/api/bugs/{bug_id}/comments",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id")),
    request_body = NewComment,
    responses((status = 201, description = "created", body = Comment), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bugs/{bug_id}/comments`
pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(c): Body<NewComment>,
) -> Result<(StatusCode, Json<Comment>), ApiError> {
    caller.require(TRIAGERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let req = pb::AddCommentRequest { bug_id, body: c.body };
    let res = state.bugs.clone().add_comment(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    Ok((StatusCode::CREATED, Json(res.comment.unwrap_or_default().into())))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
}

#[utoipa::path(
    operation_id = "bugs_list_comments",
    get,
    path = "/api/bugs/{bug_id}/comments",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id"), PageQuery),
    responses((status = 200, description = "OK", body = Page<Comment>), Failures),
    security(("bearer" = ["admin", "dispatcher", "reporter"]))
)]
/// `GET /api/bugs/{bug_id}/comments`
pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Json<Page<Comment>>, ApiError> {
    caller.require(READERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let req = pb::ListCommentsRequest { bug_id, page: Some(PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }) };
    let res = state.bugs.clone().list_comments(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    Ok(Json(Page::new(res.comments.into_iter().map(Comment::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "bugs_delete_comment",
    delete,
    path = "/api/bugs/{bug_id}/comments/{comment_id}",
    tag = "bugs",
    params(
        ("bug_id" = i64, Path, minimum = 1, description = "the bug id"),
        ("comment_id" = i64, Path, minimum = 1, description = "the comment id")
    ),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `DELETE /api/bugs/{bug_id}/comments/{comment_id}`: the author or an admin.
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((bug, comment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(TRIAGERS)?;
    let req = pb::DeleteCommentRequest { bug_id: positive_id("bug_id", &bug)?, comment_id: positive_id("comment_id", &comment)? };
    state.bugs.clone().delete_comment(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?;
    Ok(StatusCode::NO_CONTENT)
}
