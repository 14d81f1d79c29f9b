//! The stats of a company's actions over a period: counts by outcome and by
//! type, blocked attempts, and execution times (mean and nearest-rank p95).

use chrono::{DateTime, Utc};
use kit::stored::UnknownValue;
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use super::entities::{autonomous_action, safety_block, status};

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
