//! The stats of a company's actions over a period: counts by outcome and by
//! type, blocked attempts, and execution times (mean and nearest-rank p95);
//! and the same counts bucket by bucket, grouped in one statement each for
//! the actions and the blocks (the buckets joined as a VALUES list, which
//! PostgreSQL and SQLite both read).

use chrono::{DateTime, Utc};
use kit::stored::UnknownValue;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DatabaseConnection, DbBackend, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Statement, Value,
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

/// One bucket's counts: the actions created in it by outcome, review and
/// type, and the attempts the limits refused in it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bucket {
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
    pub reviewed: i64,
    pub blocked: i64,
    /// (action type, total, succeeded, failed), by type name.
    pub by_type: Vec<(String, i64, i64, i64)>,
}

/// The counts of each bucket between consecutive `edges` (bucket `i` from
/// `edges[i]` inclusive to `edges[i + 1]` exclusive), every bucket present.
pub async fn buckets(db: &DatabaseConnection, company_id: i64, edges: &[DateTime<Utc>]) -> Result<Vec<Bucket>, DbErr> {
    let n = edges.len().saturating_sub(1);
    let mut out = vec![Bucket::default(); n];
    if n == 0 {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let actions = bucket_sql(
        backend,
        n,
        "SELECT b.column1 AS bucket, a.action_type AS action_type, a.status AS status, a.reviewed_by_admin AS reviewed, COUNT(*) AS n \
         FROM autonomous_action a JOIN {buckets} ON a.created_at >= b.column2 AND a.created_at < b.column3 \
         WHERE a.company_id = {company} GROUP BY b.column1, a.action_type, a.status, a.reviewed_by_admin",
    );
    let mut by_type: Vec<std::collections::BTreeMap<String, (i64, i64, i64)>> = vec![Default::default(); n];
    for row in db.query_all(Statement::from_sql_and_values(backend, actions, bucket_values(company_id, edges))).await? {
        let (i, action_type, st, reviewed, count): (i64, String, String, bool, i64) = (
            row.try_get("", "bucket")?,
            row.try_get("", "action_type")?,
            row.try_get("", "status")?,
            row.try_get("", "reviewed")?,
            row.try_get("", "n")?,
        );
        let (Some(b), Some(t)) = (out.get_mut(i as usize), by_type.get_mut(i as usize)) else { continue };
        b.total += count;
        if reviewed {
            b.reviewed += count;
        }
        let t = t.entry(action_type).or_default();
        t.0 += count;
        match st.as_str() {
            status::SUCCEEDED => {
                b.succeeded += count;
                t.1 += count;
            }
            status::FAILED => {
                b.failed += count;
                t.2 += count;
            }
            status::AUTHORIZED => b.pending += count,
            other => return Err(UnknownValue::new("autonomous_action", "status", "?", other).into()),
        }
    }
    for (b, types) in out.iter_mut().zip(by_type) {
        b.by_type = types.into_iter().map(|(k, (a, s, f))| (k, a, s, f)).collect();
    }
    let blocks = bucket_sql(
        backend,
        n,
        "SELECT b.column1 AS bucket, COUNT(*) AS n FROM safety_block s JOIN {buckets} \
         ON s.created_at >= b.column2 AND s.created_at < b.column3 WHERE s.company_id = {company} GROUP BY b.column1",
    );
    for row in db.query_all(Statement::from_sql_and_values(backend, blocks, bucket_values(company_id, edges))).await? {
        let (i, count): (i64, i64) = (row.try_get("", "bucket")?, row.try_get("", "n")?);
        if let Some(b) = out.get_mut(i as usize) {
            b.blocked = count;
        }
    }
    Ok(out)
}

/// `template` with `{buckets}` as `(VALUES (i, start, end), …) AS b` and
/// `{company}` as the last placeholder, in the backend's placeholder style.
fn bucket_sql(backend: DbBackend, n: usize, template: &str) -> String {
    let mut k = 0;
    let mut next = || {
        k += 1;
        if backend == DbBackend::Postgres { format!("${k}") } else { "?".to_owned() }
    };
    let rows: Vec<String> = (0..n).map(|_| format!("({}, {}, {})", next(), next(), next())).collect();
    let buckets = format!("(VALUES {}) AS b", rows.join(", "));
    let company = next();
    template.replace("{buckets}", &buckets).replace("{company}", &company)
}

/// The values [`bucket_sql`]'s placeholders take, in order.
fn bucket_values(company_id: i64, edges: &[DateTime<Utc>]) -> Vec<Value> {
    let mut values: Vec<Value> = edges.windows(2).enumerate().flat_map(|(i, w)| [(i as i64).into(), w[0].into(), w[1].into()]).collect();
    values.push(company_id.into());
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buckets_are_numbered_in_placeholder_order() {
        let sql = bucket_sql(DbBackend::Postgres, 2, "x JOIN {buckets} WHERE c = {company}");
        assert_eq!(sql, "x JOIN (VALUES ($1, $2, $3), ($4, $5, $6)) AS b WHERE c = $7");
        let sql = bucket_sql(DbBackend::Sqlite, 1, "x JOIN {buckets} WHERE c = {company}");
        assert_eq!(sql, "x JOIN (VALUES (?, ?, ?)) AS b WHERE c = ?");
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(bucket_values(4, &[t, t, t]).len(), 7);
    }
}
