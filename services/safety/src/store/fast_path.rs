//! The PostgreSQL fast path of the admission engine: connections outside the
//! pool (kit's `DirectPg`) and the one statement a batch needs when this
//! process knows where the company's chain head is.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait as _, DatabaseConnection, DbBackend, DbErr, Set, Statement, TryIntoModel as _, Value};

use super::{actions, entities::autonomous_action};

/// Connections the fast path keeps outside the pool: as many companies'
/// batches can be in flight at once (each company sends one at a time).
const DIRECT_CONNECTIONS: usize = 4;
/// Run on each fast-path connection. The fast path reaches every row by key
/// (the chain head, the actions it completes), and its statements are prepared
/// once: a generic plan made while `autonomous_action` was small (a sequential
/// scan joined by hash) was kept as the table grew, and each batch then read
/// the whole table (BENCHMARKS.md, "Safety").
const FAST_PATH_SETUP: &str = "SET enable_seqscan = off";

/// The fast path's connections: PostgreSQL only.
pub struct FastPath {
    direct: kit::db::DirectPg,
}

/// What one fast-path statement writes: the head moves from where this process
/// left it (`from_seq`, `from_hash`, `limits_version`) to `seq` and `hash`,
/// with the batch's new rows and completions.
#[derive(Clone, Copy)]
pub struct Swap<'a> {
    pub company_id: i64,
    pub from_seq: i64,
    pub from_hash: &'a str,
    pub limits_version: i64,
    pub seq: i64,
    pub hash: &'a str,
    pub inserts: &'a [autonomous_action::ActiveModel],
    pub updates: &'a [autonomous_action::Model],
    pub now: DateTime<Utc>,
}

impl FastPath {
    /// The fast path of `db` when it is PostgreSQL; None for SQLite. Its
    /// statement's time goes to `queries` as `fast_path_swap`.
    pub fn of(db: &DatabaseConnection, queries: &kit::db::QueryMetrics) -> Option<Self> {
        kit::db::DirectPg::of(db, DIRECT_CONNECTIONS, FAST_PATH_SETUP).map(|direct| Self { direct: direct.observed_by(queries) })
    }

    /// The PostgreSQL fast path: one statement that moves the chain head from where
    /// this process left it (`seq`, `hash`, limits version) to the plan's, and writes
    /// the plan's rows only if that compare-and-swap succeeded. A statement is atomic,
    /// and the head row's lock orders it against every other writer. Returns the
    /// inserted rows, or None when another writer had moved the head.
    pub async fn swap(&self, plan: &Swap<'_>) -> Result<Option<Vec<autonomous_action::Model>>, DbErr> {
        let Swap { company_id, from_seq: seq, from_hash: hash, limits_version, now, .. } = *plan;
        let mut values: Vec<Value> = vec![
            plan.seq.into(),
            plan.hash.to_owned().into(),
            now.into(),
            company_id.into(),
            seq.into(),
            hash.to_owned().into(),
            limits_version.into(),
        ];
        let param = |values: &mut Vec<Value>, v: Value| {
            values.push(v);
            format!("${}", values.len())
        };
        let mut sql = String::from(
            "WITH cas AS (UPDATE audit_chain_head SET seq = $1, head_hash = $2, updated_at = $3 \
             WHERE company_id = $4 AND seq = $5 AND head_hash = $6 AND limits_version = $7 RETURNING company_id)",
        );
        let insert_columns = [
            "id",
            "company_id",
            "booking_id",
            "driver_id",
            "action_type",
            "action_description",
            "action_data",
            "success",
            "error_message",
            "execution_time_ms",
            "confidence_score",
            "expected_improvement_minutes",
            "trigger_source",
            "reviewed_by_admin",
            "reviewed_at",
            "admin_notes",
            "created_at",
            "updated_at",
            "status",
            "reviewed_by",
            "consumed_windows",
            "chain_seq",
            "prev_hash",
            "row_hash",
            "completion_seq",
            "completion_hash",
            "hash_version",
            "authorized_by",
            "review_seq",
            "review_hash",
        ];
        if !plan.inserts.is_empty() {
            let mut tuples = Vec::with_capacity(plan.inserts.len());
            for row in plan.inserts {
                let cells: Vec<String> = insert_columns
                    .iter()
                    .map(|c| {
                        let col = <autonomous_action::Column as std::str::FromStr>::from_str(c).expect("known column");
                        let v = row.get(col).into_value().expect("every inserted column is set");
                        param(&mut values, v)
                    })
                    .collect();
                tuples.push(format!("({})", cells.join(", ")));
            }
            let numbered: Vec<String> = (1..=insert_columns.len()).map(|i| format!("column{i}")).collect();
            sql.push_str(&format!(
                ", ins AS (INSERT INTO autonomous_action ({}) SELECT {} FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM cas) RETURNING id, chain_seq)",
                insert_columns.join(", "),
                numbered.join(", "),
                tuples.join(", ")
            ));
        }
        if !plan.updates.is_empty() {
            let mut tuples = Vec::with_capacity(plan.updates.len());
            for r in plan.updates {
                let cells: Vec<String> = actions::completion_cells(r).into_iter().map(|v| param(&mut values, v)).collect();
                tuples.push(format!("({})", cells.join(", ")));
            }
            sql.push_str(&format!(
                ", upd AS (UPDATE autonomous_action SET {} FROM (VALUES {}) AS v \
                 WHERE autonomous_action.id = v.column1 AND EXISTS (SELECT 1 FROM cas) RETURNING autonomous_action.id)",
                actions::COMPLETION_SET,
                tuples.join(", ")
            ));
        }
        let updated = if plan.updates.is_empty() { "0::bigint" } else { "(SELECT COUNT(*) FROM upd)" };
        if plan.inserts.is_empty() {
            sql.push_str(&format!(" SELECT (SELECT COUNT(*) FROM cas) AS cas_applied, {updated} AS cas_updated"));
        } else {
            sql.push_str(&format!(
                " SELECT c.cas_applied, {updated} AS cas_updated, i.id, i.chain_seq FROM (SELECT COUNT(*) AS cas_applied FROM cas) AS c LEFT JOIN ins AS i ON true"
            ));
        }
        let rows = self.direct.query_all("fast_path_swap", Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        let first = rows.first().ok_or_else(|| DbErr::Custom("the batch statement returned no row".into()))?;
        if first.try_get::<i64>("", "cas_applied")? == 0 {
            return Ok(None);
        }
        let updated: i64 = first.try_get("", "cas_updated")?;
        if updated != plan.updates.len() as i64 {
            return Err(DbErr::Custom(format!("completed {updated} of {} actions", plan.updates.len())));
        }
        // Only the ids come back: every other column is what the plan wrote (times
        // are already at PostgreSQL's microsecond precision).
        let mut ids = HashMap::with_capacity(plan.inserts.len());
        for row in &rows {
            if let Some(id) = row.try_get::<Option<i64>>("", "id")? {
                ids.insert(row.try_get::<i64>("", "chain_seq")?, id);
            }
        }
        let mut inserted = Vec::with_capacity(plan.inserts.len());
        for row in plan.inserts {
            let Some(&id) = row.chain_seq.try_as_ref().and_then(|seq| ids.get(seq)) else { continue };
            let mut row = row.clone();
            row.id = Set(id);
            inserted.push(row.try_into_model()?);
        }
        Ok(Some(inserted))
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait as _;

    use super::*;

    /// On a small table, where a sequential scan joined by hash costs least
    /// (the plan PostgreSQL kept for the fast path's statement while the table
    /// was young), the fast path's connections still complete actions through
    /// the primary key.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
    async fn the_fast_path_completes_actions_by_key_even_on_a_small_table() {
        let test_db = kit::testing::TestDb::new(kit::testing::TestBackend::Postgres).await.unwrap();
        let db = kit::db::connect_and_migrate::<atmr_migrations::safety::Migrator>(&test_db.url, true).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO autonomous_action (company_id, action_type, action_description, success, created_at, updated_at, status, \
             consumed_windows, chain_seq, prev_hash, row_hash) \
             SELECT 1, 'reassign', 'seed', false, now(), now(), 'authorized', '', n, '', '' FROM generate_series(1, 30) AS n; \
             ANALYZE autonomous_action",
        )
        .await
        .unwrap();
        let values: Vec<String> = (1..=7)
            .map(|id| format!("({id}::bigint, true, 'succeeded', NULL::text, 1.0::float8, now(), {}::bigint, 'h')", id + 30))
            .collect();
        let explain = format!(
            "EXPLAIN UPDATE autonomous_action SET {} FROM (VALUES {}) AS v WHERE autonomous_action.id = v.column1",
            actions::COMPLETION_SET,
            values.join(", ")
        );
        let plan = |direct: kit::db::DirectPg| {
            let explain = Statement::from_string(DbBackend::Postgres, explain.clone());
            async move {
                let rows = direct.query_all("explain", explain).await.unwrap();
                rows.iter().map(|r| r.try_get::<String>("", "QUERY PLAN").unwrap()).collect::<Vec<_>>().join("\n")
            }
        };
        let fast = plan(kit::db::DirectPg::of(&db, 1, FAST_PATH_SETUP).unwrap()).await;
        assert!(fast.contains("Index Scan using autonomous_action_pkey") && !fast.contains("Seq Scan"), "{fast}");
        // What the setup is for: without it, this table is scanned whole.
        let plain = plan(kit::db::DirectPg::of(&db, 1, "").unwrap()).await;
        assert!(plain.contains("Seq Scan on autonomous_action"), "{plain}");
    }
}
