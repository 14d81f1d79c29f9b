//! Blocked attempts (`safety_block`): one row per refused authorization, and
//! whether a block is the first of its window (the one that tells people).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait as _, DatabaseTransaction, DbErr, EntityTrait as _, QueryFilter as _, Set};

use super::entities::safety_block;
use crate::domain::windows::Usage;

/// A refused authorization: its action type, the full window that refused it,
/// and when that window has room again (if ever).
pub type Block = (String, Usage, Option<DateTime<Utc>>);

/// The blocks in this batch that are the first of their window (no block of the
/// same scope and window in the window's length before): one notice each.
pub async fn first_of_window(
    txn: &DatabaseTransaction,
    company_id: i64,
    blocks: &[Block],
    now: DateTime<Utc>,
) -> Result<Vec<(Usage, Option<DateTime<Utc>>)>, DbErr> {
    let mut firsts: Vec<(Usage, Option<DateTime<Utc>>)> = Vec::new();
    for (_, usage, retry_after) in blocks {
        if firsts.iter().any(|(u, _)| u.scope == usage.scope && u.window == usage.window) {
            continue;
        }
        let earlier = safety_block::Entity::find()
            .filter(safety_block::Column::CompanyId.eq(company_id))
            .filter(safety_block::Column::Scope.eq(usage.scope.key()))
            .filter(safety_block::Column::Window.eq(usage.window.name()))
            .filter(safety_block::Column::CreatedAt.gt(usage.window.start(now)))
            .one(txn)
            .await?;
        if earlier.is_none() {
            firsts.push((usage.clone(), *retry_after));
        }
    }
    Ok(firsts)
}

/// Records a batch's blocks (none is a no-op).
pub async fn insert(txn: &DatabaseTransaction, company_id: i64, blocks: &[Block], now: DateTime<Utc>) -> Result<(), DbErr> {
    if blocks.is_empty() {
        return Ok(());
    }
    let rows = blocks.iter().map(|(action_type, u, _)| safety_block::ActiveModel {
        company_id: Set(company_id),
        action_type: Set(action_type.clone()),
        scope: Set(u.scope.key()),
        window: Set(u.window.name().to_owned()),
        limit_value: Set(u.limit as i32),
        used: Set(u.used as i32),
        created_at: Set(now),
        ..Default::default()
    });
    safety_block::Entity::insert_many(rows).exec_without_returning(txn).await.map(|_| ())
}
