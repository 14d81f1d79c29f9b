//! Each company's chain head (`audit_chain_head`): the last position and hash
//! of its audit chain, and the version of its limits. Locking it orders every
//! write of the company: admission batches, and limit changes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, DatabaseTransaction, DbBackend, DbErr, EntityTrait as _,
    QueryFilter as _, QuerySelect as _, Set, sea_query::Expr, sea_query::OnConflict,
};

use super::entities::audit_chain_head;
use crate::domain::chain::GENESIS;

/// A company's chain head, as locked.
pub type Head = audit_chain_head::Model;

/// Creates the company's chain head if it does not exist yet.
pub async fn ensure(txn: &DatabaseTransaction, company_id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    audit_chain_head::Entity::insert(audit_chain_head::ActiveModel {
        company_id: Set(company_id),
        seq: Set(0),
        head_hash: Set(GENESIS.to_owned()),
        updated_at: Set(now),
        limits_version: Set(0),
    })
    .on_conflict(OnConflict::column(audit_chain_head::Column::CompanyId).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await
    .map(|_| ())
}

/// Locks the company's chain head for the rest of the transaction, creating it
/// on first use. `known` skips the creation attempt when this process has seen
/// the head before.
pub async fn lock(txn: &DatabaseTransaction, company_id: i64, now: DateTime<Utc>, known: bool) -> Result<Head, DbErr> {
    let select = || audit_chain_head::Entity::find_by_id(company_id).lock_exclusive().one(txn);
    if txn.get_database_backend() == DbBackend::Sqlite {
        // SQLite has no row locks: a first write takes the database write lock
        // before anything is read. The no-op insert is that write.
        ensure(txn, company_id, now).await?;
    } else if known && let Some(head) = select().await? {
        return Ok(head);
    } else {
        ensure(txn, company_id, now).await?;
    }
    select().await?.ok_or_else(|| DbErr::RecordNotFound(format!("audit chain head of company {company_id}")))
}

/// Moves the locked head to chain position `seq` with hash `hash`.
pub async fn advance(txn: &DatabaseTransaction, company_id: i64, seq: i64, hash: String, now: DateTime<Utc>) -> Result<(), DbErr> {
    audit_chain_head::ActiveModel {
        company_id: Set(company_id),
        seq: Set(seq),
        head_hash: Set(hash),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await
    .map(|_| ())
}

/// Counts a change of the company's limits, so that admission caches reread them.
pub async fn bump_limits_version(txn: &DatabaseTransaction, company_id: i64) -> Result<(), DbErr> {
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::LimitsVersion, Expr::col(audit_chain_head::Column::LimitsVersion).add(1))
        .filter(audit_chain_head::Column::CompanyId.eq(company_id))
        .exec(txn)
        .await
        .map(|_| ())
}

/// Every chain head that has moved from genesis.
pub async fn moved(db: &impl sea_orm::ConnectionTrait) -> Result<Vec<Head>, DbErr> {
    audit_chain_head::Entity::find().filter(audit_chain_head::Column::Seq.gt(0)).all(db).await
}
