//! A company's limit overrides (`safety_limit`): read in scope order, and
//! replaced as a whole under the company's chain-head lock, with the
//! person's change appended to the chain in the same transaction.

use chrono::Utc;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, Set, TransactionTrait as _,
};

use super::{entities::safety_limit, heads, human};
use crate::domain::{
    human::HumanRecord,
    limits::{Override, Scope},
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
/// old set or the new one, never a mix. `record`, the person's change, is
/// appended to the company's chain in the same transaction.
pub async fn replace_overrides(
    db: &DatabaseConnection,
    company_id: i64,
    overrides: &[Override],
    record: Option<HumanRecord>,
) -> Result<(), DbErr> {
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
    heads::ensure(&txn, company_id, now).await?;
    heads::bump_limits_version(&txn, company_id).await?;
    safety_limit::Entity::delete_many().filter(safety_limit::Column::CompanyId.eq(company_id)).exec(&txn).await?;
    if !rows.is_empty() {
        safety_limit::Entity::insert_many(rows).exec(&txn).await?;
    }
    if let Some(record) = record {
        human::append(&txn, company_id, vec![record], now).await?;
    }
    txn.commit().await
}
