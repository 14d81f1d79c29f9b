//! The actions of the audit trail (`autonomous_action`): the admin list, a
//! single action and its review, the counted actions of the windows, and the
//! locked batch's reads and writes (its inserts, its completions in one
//! statement, the rows it needs).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, Statement, sea_query::Expr,
};

use super::entities::{autonomous_action, status};
use crate::{domain::chain::AuthorizeEvent, error::Error};

/// Filters of the admin list.
#[derive(Clone, Debug, Default)]
pub struct ActionFilter {
    pub action_type: Option<String>,
    pub success: Option<bool>,
    pub reviewed: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub trigger_source: Option<String>,
}

/// One page of a company's actions, newest first, and how many match in all.
pub async fn list_actions(
    db: &DatabaseConnection,
    company_id: i64,
    f: &ActionFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<autonomous_action::Model>, u64), DbErr> {
    use autonomous_action::Column as C;
    let mut q = autonomous_action::Entity::find().filter(C::CompanyId.eq(company_id));
    if let Some(t) = &f.action_type {
        q = q.filter(C::ActionType.eq(t.as_str()));
    }
    if let Some(s) = f.success {
        q = q.filter(C::Success.eq(s));
    }
    if let Some(r) = f.reviewed {
        q = q.filter(C::ReviewedByAdmin.eq(r));
    }
    if let Some(from) = f.created_from {
        q = q.filter(C::CreatedAt.gte(from));
    }
    if let Some(to) = f.created_to {
        q = q.filter(C::CreatedAt.lt(to));
    }
    if let Some(t) = &f.trigger_source {
        q = q.filter(C::TriggerSource.eq(t.as_str()));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_desc(C::CreatedAt).order_by_desc(C::Id).offset((page - 1) * per_page).limit(per_page).all(db).await?;
    Ok((rows, total))
}

pub async fn get_action(db: &DatabaseConnection, company_id: i64, id: i64) -> Result<Option<autonomous_action::Model>, DbErr> {
    autonomous_action::Entity::find_by_id(id).filter(autonomous_action::Column::CompanyId.eq(company_id)).one(db).await
}

/// Marks an action reviewed, once: the update only applies to an unreviewed row,
/// so two admins reviewing at once cannot overwrite each other.
pub async fn review(
    db: &DatabaseConnection,
    company_id: i64,
    id: i64,
    reviewer: &str,
    notes: &str,
    now: DateTime<Utc>,
) -> Result<autonomous_action::Model, Error> {
    use autonomous_action::Column as C;
    let res = autonomous_action::Entity::update_many()
        .col_expr(C::ReviewedByAdmin, Expr::value(true))
        .col_expr(C::ReviewedAt, Expr::value(now))
        .col_expr(C::ReviewedBy, Expr::value(reviewer))
        .col_expr(C::AdminNotes, Expr::value(notes))
        .filter(C::Id.eq(id))
        .filter(C::CompanyId.eq(company_id))
        .filter(C::ReviewedByAdmin.eq(false))
        .exec(db)
        .await?;
    let row = get_action(db, company_id, id).await?.ok_or(Error::NotFound(id))?;
    if res.rows_affected == 1 { Ok(row) } else { Err(Error::AlreadyReviewed { id, by: row.reviewed_by, at: row.reviewed_at }) }
}

/// (action type, created_at) of a company's counted actions since `since`.
pub async fn counted_since(db: &DatabaseConnection, company_id: i64, since: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    use autonomous_action::Column as C;
    autonomous_action::Entity::find()
        .select_only()
        .columns([C::ActionType, C::CreatedAt])
        .filter(C::CompanyId.eq(company_id))
        .filter(C::Status.ne(status::FAILED))
        .filter(C::CreatedAt.gt(since))
        .into_tuple()
        .all(db)
        .await
}

/// (chain position, action type, created_at) of a company's counted actions
/// since `since`, oldest first: what the admission windows are loaded from.
pub async fn window_rows(
    txn: &DatabaseTransaction,
    company_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<(i64, String, DateTime<Utc>)>, DbErr> {
    autonomous_action::Entity::find()
        .select_only()
        .columns([autonomous_action::Column::ChainSeq, autonomous_action::Column::ActionType, autonomous_action::Column::CreatedAt])
        .filter(autonomous_action::Column::CompanyId.eq(company_id))
        .filter(autonomous_action::Column::Status.ne(status::FAILED))
        .filter(autonomous_action::Column::CreatedAt.gt(since))
        .order_by_asc(autonomous_action::Column::CreatedAt)
        .order_by_asc(autonomous_action::Column::ChainSeq)
        .into_tuple()
        .all(txn)
        .await
}

/// The company's actions among `ids` (those a batch completes but does not remember).
pub async fn by_ids(txn: &DatabaseTransaction, company_id: i64, ids: Vec<i64>) -> Result<Vec<autonomous_action::Model>, DbErr> {
    autonomous_action::Entity::find()
        .filter(autonomous_action::Column::CompanyId.eq(company_id))
        .filter(autonomous_action::Column::Id.is_in(ids))
        .all(txn)
        .await
}

/// Inserts a batch's authorized actions and returns them as written (none is a no-op).
pub async fn insert(txn: &DatabaseTransaction, rows: Vec<autonomous_action::ActiveModel>) -> Result<Vec<autonomous_action::Model>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    autonomous_action::Entity::insert_many(rows).exec_with_returning_many(txn).await
}

/// Writes a completion from `v`, a VALUES row laid out by [`completion_cells`]
/// (VALUES columns are named column1.. on both PostgreSQL and SQLite).
pub const COMPLETION_SET: &str = "success = v.column2, status = v.column3, error_message = v.column4, execution_time_ms = v.column5, \
     updated_at = v.column6, completion_seq = v.column7, completion_hash = v.column8";

/// A completed row's VALUES cells, in the order [`COMPLETION_SET`] reads them.
pub fn completion_cells(r: &autonomous_action::Model) -> [sea_orm::Value; 8] {
    [
        r.id.into(),
        r.success.into(),
        r.status.clone().into(),
        r.error_message.clone().into(),
        r.execution_time_ms.into(),
        r.updated_at.into(),
        r.completion_seq.into(),
        r.completion_hash.clone().into(),
    ]
}

/// Writes the completions of a batch in one statement (none is a no-op).
pub async fn complete(txn: &DatabaseTransaction, rows: &[autonomous_action::Model]) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let mut values = Vec::with_capacity(rows.len() * 8);
    let mut tuples = Vec::with_capacity(rows.len());
    for r in rows {
        let cells: Vec<String> = completion_cells(r)
            .into_iter()
            .map(|v| {
                values.push(v);
                if backend == DbBackend::Postgres { format!("${}", values.len()) } else { "?".to_owned() }
            })
            .collect();
        tuples.push(format!("({})", cells.join(", ")));
    }
    let sql = format!(
        "UPDATE autonomous_action SET {COMPLETION_SET} FROM (VALUES {}) AS v WHERE autonomous_action.id = v.column1",
        tuples.join(", ")
    );
    let res = txn.execute(Statement::from_sql_and_values(backend, sql, values)).await?;
    if res.rows_affected() != rows.len() as u64 {
        return Err(DbErr::Custom(format!("completed {} of {} actions", res.rows_affected(), rows.len())));
    }
    Ok(())
}

/// The row an authorization inserts, chained after `prev_hash`.
pub fn new_row(e: &AuthorizeEvent, prev_hash: &str, row_hash: &str) -> autonomous_action::ActiveModel {
    let a = &e.action;
    autonomous_action::ActiveModel {
        company_id: Set(e.company_id),
        booking_id: Set(a.booking_id),
        driver_id: Set(a.driver_id),
        action_type: Set(a.action_type.clone()),
        action_description: Set(a.description.clone()),
        action_data: Set(a.data.clone()),
        success: Set(false),
        error_message: Set(None),
        execution_time_ms: Set(None),
        confidence_score: Set(a.confidence_score),
        expected_improvement_minutes: Set(a.expected_improvement_minutes),
        trigger_source: Set(a.trigger_source.clone()),
        reviewed_by_admin: Set(false),
        reviewed_at: Set(None),
        admin_notes: Set(None),
        created_at: Set(e.created_at),
        updated_at: Set(e.created_at),
        status: Set(status::AUTHORIZED.to_owned()),
        reviewed_by: Set(None),
        consumed_windows: Set(e.consumed_windows.clone()),
        chain_seq: Set(e.seq),
        prev_hash: Set(prev_hash.to_owned()),
        row_hash: Set(row_hash.to_owned()),
        completion_seq: Set(None),
        completion_hash: Set(None),
        ..Default::default()
    }
}
