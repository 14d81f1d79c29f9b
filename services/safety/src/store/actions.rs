//! The actions of the audit trail (`autonomous_action`): the admin list, a
//! single action and its review, the counted actions of the windows, and the
//! locked batch's reads and writes (its inserts, its completions in one
//! statement, the rows it needs).

use chrono::{DateTime, SubsecRound as _, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, Statement, TransactionTrait as _, sea_query::Expr,
};

use super::{
    entities::{autonomous_action, status},
    heads,
};
use crate::{
    domain::chain::{AuthorizeEvent, ReviewEvent},
    error::Error,
};

/// Filters of the admin list.
#[derive(Clone, Debug, Default)]
pub struct ActionFilter {
    pub action_type: Option<String>,
    pub success: Option<bool>,
    pub reviewed: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub trigger_source: Option<String>,
    /// One of `entities::status`.
    pub status: Option<&'static str>,
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
    if let Some(s) = f.status {
        q = q.filter(C::Status.eq(s));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_desc(C::CreatedAt).order_by_desc(C::Id).offset((page - 1) * per_page).limit(per_page).all(db).await?;
    Ok((rows, total))
}

pub async fn get_action(db: &impl ConnectionTrait, company_id: i64, id: i64) -> Result<Option<autonomous_action::Model>, DbErr> {
    autonomous_action::Entity::find_by_id(id).filter(autonomous_action::Column::CompanyId.eq(company_id)).one(db).await
}

/// Marks an action reviewed, once, as an event of the company's chain: under
/// the chain-head lock (so two admins reviewing at once are ordered, and the
/// second is told who was first), the review's fields are hashed after the
/// head, written to the row with their position and hash, and the head moves.
pub async fn review(
    db: &DatabaseConnection,
    company_id: i64,
    id: i64,
    reviewer: &str,
    notes: &str,
    now: DateTime<Utc>,
) -> Result<autonomous_action::Model, Error> {
    use autonomous_action::Column as C;
    let now = now.trunc_subsecs(6);
    let txn = db.begin().await?;
    let head = heads::lock(&txn, company_id, now, false).await?;
    let row = get_action(&txn, company_id, id).await?.ok_or(Error::NotFound(id))?;
    if row.reviewed_by_admin {
        return Err(Error::AlreadyReviewed { id, by: row.reviewed_by, at: row.reviewed_at });
    }
    let event = ReviewEvent {
        company_id,
        seq: head.seq + 1,
        action_id: id,
        action_seq: row.chain_seq,
        reviewed_by: reviewer.to_owned(),
        reviewed_at: now,
        notes: notes.to_owned(),
    };
    let hash = event.hash(&head.head_hash);
    autonomous_action::Entity::update_many()
        .col_expr(C::ReviewedByAdmin, Expr::value(true))
        .col_expr(C::ReviewedAt, Expr::value(now))
        .col_expr(C::ReviewedBy, Expr::value(reviewer))
        .col_expr(C::AdminNotes, Expr::value(notes))
        .col_expr(C::ReviewSeq, Expr::value(event.seq))
        .col_expr(C::ReviewHash, Expr::value(hash.clone()))
        .filter(C::Id.eq(id))
        .filter(C::CompanyId.eq(company_id))
        .exec(&txn)
        .await?;
    heads::advance(&txn, company_id, event.seq, hash, now).await?;
    let row = get_action(&txn, company_id, id).await?.ok_or(Error::NotFound(id))?;
    txn.commit().await?;
    Ok(row)
}

/// Ids for `n` new rows, taken before the rows are hashed (a version 2 hash
/// covers the row id). PostgreSQL: from the table's sequence, anywhere.
/// SQLite: after the largest id, so only inside the write-locked transaction
/// that inserts them.
pub async fn reserve_ids(conn: &impl ConnectionTrait, n: usize) -> Result<Vec<i64>, DbErr> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        let sql = "SELECT nextval(pg_get_serial_sequence('autonomous_action', 'id')) AS id FROM generate_series(1, $1)";
        let rows = conn.query_all(Statement::from_sql_and_values(backend, sql, [(n as i64).into()])).await?;
        return rows.iter().map(|r| r.try_get::<i64>("", "id")).collect();
    }
    let row = conn
        .query_one(Statement::from_string(backend, "SELECT COALESCE(MAX(id), 0) AS id FROM autonomous_action"))
        .await?
        .ok_or_else(|| DbErr::Custom("no largest action id".into()))?;
    let max: i64 = row.try_get("", "id")?;
    Ok((1..=n as i64).map(|i| max + i).collect())
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
        id: Set(e.action_id),
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
        hash_version: Set(e.version),
        authorized_by: Set(Some(e.authorized_by.clone())),
        review_seq: Set(None),
        review_hash: Set(None),
    }
}
