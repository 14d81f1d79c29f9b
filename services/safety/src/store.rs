//! The queries of the safety service outside the admission engine: limit
//! overrides, the admin list, stats and review, and the chain for verification.

use chrono::{DateTime, Utc};
use kit::stored::UnknownValue;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set, TransactionTrait as _, sea_query::Expr,
};

use crate::{
    domain::limits::{Override, Scope},
    entities::{audit_chain_head, audit_checkpoint, autonomous_action, safety_block, safety_limit, status},
};

/// Every override of one company, in scope order.
pub async fn overrides(db: &impl ConnectionTrait, company_id: i64) -> Result<Vec<Override>, DbErr> {
    let rows = safety_limit::Entity::find().filter(safety_limit::Column::CompanyId.eq(company_id)).all(db).await?;
    let mut out: Vec<Override> = rows
        .into_iter()
        .map(|r| Override {
            scope: Scope::from_key(&r.scope),
            per_hour: r.max_per_hour.map(|v| v as u32),
            per_day: r.max_per_day.map(|v| v as u32),
        })
        .collect();
    out.sort_by(|a, b| a.scope.cmp(&b.scope));
    Ok(out)
}

/// Replaces every override of one company in one transaction: readers see the
/// old set or the new one, never a mix.
pub async fn replace_overrides(db: &DatabaseConnection, company_id: i64, overrides: &[Override]) -> Result<(), DbErr> {
    let now = Utc::now();
    let rows: Vec<safety_limit::ActiveModel> = overrides
        .iter()
        .map(|o| safety_limit::ActiveModel {
            company_id: Set(company_id),
            scope: Set(o.scope.key().to_owned()),
            max_per_hour: Set(o.per_hour.map(|v| v as i32)),
            max_per_day: Set(o.per_day.map(|v| v as i32)),
            updated_at: Set(now),
        })
        .collect();
    let txn = db.begin().await?;
    // Under the company's chain-head lock: admission batches see the old limits or
    // the new ones, and the version tells their caches to reread.
    crate::engine::ensure_head(&txn, company_id, now).await?;
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::LimitsVersion, Expr::col(audit_chain_head::Column::LimitsVersion).add(1))
        .filter(audit_chain_head::Column::CompanyId.eq(company_id))
        .exec(&txn)
        .await?;
    safety_limit::Entity::delete_many().filter(safety_limit::Column::CompanyId.eq(company_id)).exec(&txn).await?;
    if !rows.is_empty() {
        safety_limit::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await
}

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

/// Why a review was not recorded.
#[derive(Debug)]
pub enum ReviewError {
    NotFound,
    AlreadyReviewed { by: Option<String>, at: Option<DateTime<Utc>> },
    Db(DbErr),
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
) -> Result<autonomous_action::Model, ReviewError> {
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
        .await
        .map_err(ReviewError::Db)?;
    let row = get_action(db, company_id, id).await.map_err(ReviewError::Db)?.ok_or(ReviewError::NotFound)?;
    if res.rows_affected == 1 { Ok(row) } else { Err(ReviewError::AlreadyReviewed { by: row.reviewed_by, at: row.reviewed_at }) }
}

/// Aggregates over a company's actions since `since`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
    pub reviewed: i64,
    pub blocked: i64,
    /// (action type, total, succeeded, failed), by type name.
    pub by_type: Vec<(String, i64, i64, i64)>,
    pub avg_execution_ms: f64,
    pub p95_execution_ms: f64,
}

pub async fn stats(db: &DatabaseConnection, company_id: i64, since: DateTime<Utc>) -> Result<Stats, DbErr> {
    use autonomous_action::Column as C;
    let grouped: Vec<(String, String, bool, i64)> = autonomous_action::Entity::find()
        .select_only()
        .column(C::ActionType)
        .column(C::Status)
        .column(C::ReviewedByAdmin)
        .column_as(C::Id.count(), "n")
        .filter(C::CompanyId.eq(company_id))
        .filter(C::CreatedAt.gte(since))
        .group_by(C::ActionType)
        .group_by(C::Status)
        .group_by(C::ReviewedByAdmin)
        .into_tuple()
        .all(db)
        .await?;
    let mut s = Stats::default();
    let mut by_type: std::collections::BTreeMap<String, (i64, i64, i64)> = std::collections::BTreeMap::new();
    for (action_type, st, reviewed, n) in grouped {
        s.total += n;
        if reviewed {
            s.reviewed += n;
        }
        let t = by_type.entry(action_type).or_default();
        t.0 += n;
        match st.as_str() {
            status::SUCCEEDED => {
                s.succeeded += n;
                t.1 += n;
            }
            status::FAILED => {
                s.failed += n;
                t.2 += n;
            }
            status::AUTHORIZED => s.pending += n,
            other => {
                // Not counted as pending, nor as anything: the stats fail, naming a row.
                let row: Option<i64> = autonomous_action::Entity::find()
                    .select_only()
                    .column(C::Id)
                    .filter(C::CompanyId.eq(company_id))
                    .filter(C::Status.eq(other))
                    .into_tuple()
                    .one(db)
                    .await?;
                let row = row.map_or_else(|| "?".to_owned(), |id| id.to_string());
                return Err(UnknownValue::new("autonomous_action", "status", row, other).into());
            }
        }
    }
    s.by_type = by_type.into_iter().map(|(k, (a, b, c))| (k, a, b, c)).collect();
    s.blocked = safety_block::Entity::find()
        .filter(safety_block::Column::CompanyId.eq(company_id))
        .filter(safety_block::Column::CreatedAt.gte(since))
        .count(db)
        .await? as i64;
    // Execution times of the period (bounded by the daily limits), for the mean and
    // an exact nearest-rank p95 on either backend.
    let times: Vec<f64> = autonomous_action::Entity::find()
        .select_only()
        .column(C::ExecutionTimeMs)
        .filter(C::CompanyId.eq(company_id))
        .filter(C::CreatedAt.gte(since))
        .filter(C::ExecutionTimeMs.is_not_null())
        .order_by_asc(C::ExecutionTimeMs)
        .into_tuple::<Option<f64>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    if !times.is_empty() {
        s.avg_execution_ms = times.iter().sum::<f64>() / times.len() as f64;
        let rank = ((0.95 * times.len() as f64).ceil() as usize).clamp(1, times.len());
        s.p95_execution_ms = times[rank - 1];
    }
    Ok(s)
}

/// A company's rows in chain order, and its checkpoints, for verification.
pub async fn chain_of(
    db: &DatabaseConnection,
    company_id: i64,
) -> Result<(Vec<autonomous_action::Model>, Vec<audit_checkpoint::Model>), DbErr> {
    let rows = autonomous_action::Entity::find()
        .filter(autonomous_action::Column::CompanyId.eq(company_id))
        .order_by_asc(autonomous_action::Column::ChainSeq)
        .all(db)
        .await?;
    let checkpoints = audit_checkpoint::Entity::find()
        .filter(audit_checkpoint::Column::CompanyId.eq(company_id))
        .order_by_asc(audit_checkpoint::Column::Seq)
        .all(db)
        .await?;
    Ok((rows, checkpoints))
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
