//! `GET /api/admin/audit-log` and `GET /api/admin/audit-log/export`: the
//! human audit trail (every change a person made, kept in safety's hash
//! chain beside the autonomous actions), filtered by actor, resource,
//! resource id, action and time; the export is CSV, streamed: the gateway
//! reads safety's pages one after another and writes each as it arrives, so
//! an export of any size never holds more than a page. The console's audit
//! log page lists and exports through the same functions.

use atmr_proto::safety::v1 as pb;
use axum::{Json, extract::State, response::Response};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use crate::routes::{
    convert::{Page, rfc3339, time_range},
    csv::{self, Row, text},
    extract::{Caller, Params},
    failures::Failures,
    field,
};
use crate::{error::ApiError, state::AppState};

/// The page an export reads from safety at a time.
const EXPORT_PAGE: i32 = 1_000;

/// One field a person changed; a patient's personal field is `masked`, without values.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditChange {
    field: String,
    before: Option<String>,
    after: Option<String>,
    masked: bool,
}

/// One change a person made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// The record's UUID.
    record_id: String,
    /// When the change was committed.
    occurred_at: Option<String>,
    /// When it entered the chain.
    recorded_at: Option<String>,
    chain_seq: i64,
    chain_hash: String,
    /// The component that owns the changed data.
    source: String,
    actor_user_id: String,
    actor_email: String,
    actor_role: String,
    /// The client's address as the gateway saw it.
    client_address: Option<String>,
    resource: String,
    resource_id: String,
    action: String,
    changes: Vec<AuditChange>,
}

impl From<pb::HumanRecord> for AuditRecord {
    fn from(r: pb::HumanRecord) -> Self {
        Self {
            record_id: r.record_id,
            occurred_at: rfc3339(r.occur_time),
            recorded_at: rfc3339(r.record_time),
            chain_seq: r.chain_seq,
            chain_hash: r.chain_hash,
            source: r.source,
            actor_user_id: r.actor_user_id,
            actor_email: r.actor_email,
            actor_role: r.actor_role,
            client_address: Some(r.client_address).filter(|a| !a.is_empty()),
            resource: r.resource,
            resource_id: r.resource_id,
            action: r.action,
            changes: r
                .changes
                .into_iter()
                .map(|c| AuditChange { field: c.field, before: c.before, after: c.after, masked: c.masked })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// From 1 (the default; the export ignores it).
    #[param(minimum = 1)]
    pub(crate) page: Option<i32>,
    /// 1 to 100 (20 when absent; the export ignores it).
    #[param(minimum = 1, maximum = 100)]
    pub(crate) per_page: Option<i32>,
    /// A user id or an email.
    #[param(schema_with = field::optional_line::<254>)]
    pub(crate) actor: Option<String>,
    /// e.g. `booking`, `client`, `driver`, `user`, `safety_limits`.
    #[param(schema_with = field::optional_line::<64>)]
    pub(crate) resource: Option<String>,
    #[param(schema_with = field::optional_line::<128>)]
    pub(crate) resource_id: Option<String>,
    /// e.g. `create`, `update`, `cancel`, `reassign`.
    #[param(schema_with = field::optional_line::<32>)]
    pub(crate) action: Option<String>,
    /// RFC 3339; inclusive.
    #[param(schema_with = field::date_time)]
    pub(crate) from: Option<String>,
    /// RFC 3339; exclusive.
    #[param(schema_with = field::date_time)]
    pub(crate) to: Option<String>,
}

impl AuditQuery {
    /// The list's request for page `page` of `per_page` records.
    pub(crate) fn request(&self, page: i32, per_page: i32) -> Result<pb::ListAuditLogRequest, ApiError> {
        Ok(pb::ListAuditLogRequest {
            page: Some(atmr_proto::common::v1::PageRequest { page, per_page }),
            actor: self.actor.clone(),
            resource: self.resource.clone(),
            resource_id: self.resource_id.clone(),
            action: self.action.clone(),
            occurred: time_range(self.from.as_deref(), self.to.as_deref())?,
            max_chain_seq: None,
        })
    }
}

pub(crate) async fn list_page(state: &AppState, token: &str, req: pb::ListAuditLogRequest) -> Result<pb::ListAuditLogResponse, ApiError> {
    state
        .safety
        .clone()
        .list_audit_log(kit::grpc::request(req, token))
        .await
        .map(tonic::Response::into_inner)
        .map_err(|s| ApiError::from_status("safety", &s))
}

#[utoipa::path(
    operation_id = "audit_log_list",
    get,
    path = "/api/admin/audit-log",
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, description = "OK: newest first", body = Page<AuditRecord>), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/admin/audit-log`: one page of the changes people made, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AuditQuery>,
) -> Result<Json<Page<AuditRecord>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let per_page = q.per_page.unwrap_or(20);
    if !(1..=100).contains(&per_page) {
        return Err(ApiError::invalid("per_page", format!("per_page must be from 1 to 100, got {per_page}")));
    }
    let res = list_page(&state, &caller.token, q.request(q.page.unwrap_or(1), per_page)?).await?;
    Ok(Json(Page::new(res.records.into_iter().map(AuditRecord::from).collect(), res.page)))
}

/// The export's columns.
const HEADER: &[&str] = &[
    "occurred_at",
    "recorded_at",
    "chain_seq",
    "record_id",
    "source",
    "actor_user_id",
    "actor_email",
    "actor_role",
    "client_address",
    "resource",
    "resource_id",
    "action",
    "changes",
];

/// A record's changes in one cell: `field: before -> after`, `;`-separated;
/// a masked field says only `changed`.
fn changes_cell(changes: &[pb::HumanChange]) -> String {
    changes
        .iter()
        .map(|c| {
            if c.masked {
                format!("{}: changed", c.field)
            } else {
                format!("{}: {} -> {}", c.field, c.before.as_deref().unwrap_or(""), c.after.as_deref().unwrap_or(""))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One CSV row per record, in [`HEADER`]'s order; every text cell made inert
/// for a spreadsheet (`csv::text`): an email, an id or a value a person typed
/// may start with `=`.
fn rows(records: Vec<pb::HumanRecord>) -> Vec<Row> {
    records
        .into_iter()
        .map(|r| {
            vec![
                rfc3339(r.occur_time).unwrap_or_default(),
                rfc3339(r.record_time).unwrap_or_default(),
                r.chain_seq.to_string(),
                text(&r.record_id),
                text(&r.source),
                text(&r.actor_user_id),
                text(&r.actor_email),
                text(&r.actor_role),
                text(&r.client_address),
                text(&r.resource),
                text(&r.resource_id),
                text(&r.action),
                text(&changes_cell(&r.changes)),
            ]
        })
        .collect()
}

/// Where an export is: the next page to read, and the chain position it is pinned at.
struct Cursor {
    state: AppState,
    token: String,
    query: AuditQuery,
    next_page: i32,
    pinned: Option<i64>,
    done: bool,
}

#[utoipa::path(
    operation_id = "audit_log_export",
    get,
    path = "/api/admin/audit-log/export",
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, description = "CSV with a header row, newest first, streamed", content_type = "text/csv", body = String), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/admin/audit-log/export`: the same filters as the list, every
/// matching record as CSV. The first page is read before the answer starts
/// (a refusal is an ordinary error); the export is pinned at the chain
/// position of its first record, so records added meanwhile do not shift its
/// pages. A failure after the first page cuts the stream (the client sees an
/// incomplete body, never a silently short file).
pub async fn export(State(state): State<AppState>, caller: Caller, Params(q): Params<AuditQuery>) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin])?;
    export_csv(state, caller.token, q).await
}

/// The export of the records `q` selects, read with `token` (an admin's):
/// the REST route's and the console's.
pub(crate) async fn export_csv(state: AppState, token: String, q: AuditQuery) -> Result<Response, ApiError> {
    let first = list_page(&state, &token, q.request(1, EXPORT_PAGE)?).await?;
    let pinned = first.records.first().map(|r| r.chain_seq);
    let last_page = first.records.len() < EXPORT_PAGE as usize;
    let cursor = Cursor { state, token, query: q, next_page: 2, pinned, done: last_page };
    let rest = futures::stream::unfold(cursor, |mut c| async move {
        if c.done {
            return None;
        }
        let mut req = match c.query.request(c.next_page, EXPORT_PAGE) {
            Ok(req) => req,
            Err(_) => return None,
        };
        req.max_chain_seq = c.pinned;
        let page = match list_page(&c.state, &c.token, req).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(page = c.next_page, error = ?e, "audit log export cut: a page could not be read");
                c.done = true;
                return Some((Err(tonic::Status::unavailable("the audit log could not be read")), c));
            }
        };
        c.next_page += 1;
        c.done = page.records.len() < EXPORT_PAGE as usize;
        if page.records.is_empty() {
            return None;
        }
        Some((Ok(page.records), c))
    });
    // The first page was read above (a refusal is an ordinary answer); the
    // rest streams, cut off on a failure (routes/csv.rs).
    let pages = futures::StreamExt::chain(futures::stream::iter([Ok(first.records)]), rest);
    csv::export("audit-log.csv", HEADER, Box::pin(pages), rows, |s| ApiError::from_status("safety", &s)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_csv_row_with_masked_fields_named_without_values() {
        let r = pb::HumanRecord {
            record_id: "r1".into(),
            actor_email: "a@x.ch".into(),
            resource: "client".into(),
            resource_id: "7".into(),
            action: "update".into(),
            changes: vec![
                pb::HumanChange { field: "phone".into(), before: None, after: None, masked: true },
                pb::HumanChange {
                    field: "mobility".into(),
                    before: Some("walking".into()),
                    after: Some("wheelchair, folding".into()),
                    masked: false,
                },
            ],
            ..Default::default()
        };
        let row = rows(vec![r]).remove(0);
        assert_eq!(row.len(), HEADER.len());
        assert_eq!(row[9..].join("|"), "client|7|update|phone: changed; mobility: walking -> wheelchair, folding");
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_made_inert() {
        let r = pb::HumanRecord {
            actor_email: "=cmd|' /C calc'!A0@x.ch".into(),
            resource_id: "+41 22 000 00 00".into(),
            action: "update".into(),
            ..Default::default()
        };
        let row = rows(vec![r]).remove(0);
        assert_eq!((row[6].as_str(), row[10].as_str()), ("'=cmd|' /C calc'!A0@x.ch", "'+41 22 000 00 00"));
    }
}
