//! Heartbeats: one row per check of a monitor, listed newest first, counted
//! for uptime over a period, read back as changes of state for incidents, and
//! pruned after the longest period.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, FromQueryResult, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set, Statement, sea_query::Expr,
};

use crate::{
    domain::{
        check::CheckResult,
        monitor::{Checks, HEARTBEAT_RETENTION_DAYS, State},
    },
    store::{Store, entities::heartbeat},
};

/// Which heartbeats of a monitor to list: the newest `limit` in `[from, to)`.
pub struct HeartbeatQuery {
    pub limit: u64,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn heartbeats(&self, monitor_id: &str, q: HeartbeatQuery) -> Result<Vec<heartbeat::Model>, DbErr> {
        let mut select = heartbeat::Entity::find().filter(heartbeat::Column::MonitorId.eq(monitor_id));
        if let Some(from) = q.from {
            select = select.filter(heartbeat::Column::CheckedAt.gte(from));
        }
        if let Some(to) = q.to {
            select = select.filter(heartbeat::Column::CheckedAt.lt(to));
        }
        select.order_by_desc(heartbeat::Column::CheckedAt).order_by_desc(heartbeat::Column::Id).limit(q.limit).all(&self.db).await
    }

    /// The checks of each monitor of `ids` after `since`, counted in the
    /// database (a month of checks is tens of thousands of rows): those made
    /// outside maintenance, those of them that were up, and the mean latency
    /// of those. A monitor without a check is absent.
    pub async fn counts(&self, ids: &[String], since: DateTime<Utc>) -> Result<HashMap<String, (Checks, Option<f64>)>, DbErr> {
        let rows: Vec<CountsRow> = heartbeat::Entity::find()
            .select_only()
            .column(heartbeat::Column::MonitorId)
            .column_as(Expr::cust("SUM(CASE WHEN in_maintenance THEN 0 ELSE 1 END)"), "counted")
            .column_as(Expr::cust("SUM(CASE WHEN up AND NOT in_maintenance THEN 1 ELSE 0 END)"), "up_count")
            .column_as(Expr::cust("AVG(CASE WHEN up AND NOT in_maintenance THEN latency_ms END)"), "latency")
            .filter(heartbeat::Column::MonitorId.is_in(ids.iter().map(String::as_str)))
            .filter(heartbeat::Column::CheckedAt.gt(since))
            .group_by(heartbeat::Column::MonitorId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, counted, up, latency)| {
                let checks = Checks { counted: counted.unwrap_or(0).max(0) as u64, up: up.unwrap_or(0).max(0) as u64 };
                (id, (checks, latency))
            })
            .collect())
    }

    /// The checks of a monitor in `[from, to)` (no end: all since `from`) whose state differs from the
    /// check before (the first check of the range included), oldest first:
    /// the changes incidents are read from, found by the database.
    pub async fn state_changes(&self, monitor_id: &str, from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Result<Vec<StateChange>, DbErr> {
        // No end: up to the newest check (one made this very instant included).
        let (end, mut values): (&str, Vec<sea_orm::Value>) = match to {
            Some(to) => (" AND checked_at < $3", vec![to.into()]),
            None => ("", Vec::new()),
        };
        values.splice(0..0, [monitor_id.into(), from.into()]);
        let sql = format!(
            "SELECT id, checked_at, state, message FROM ( \
               SELECT id, checked_at, state, message, LAG(state) OVER (ORDER BY checked_at, id) AS prev \
               FROM heartbeat WHERE monitor_id = $1 AND checked_at >= $2{end}) changes \
             WHERE prev IS NULL OR prev <> state ORDER BY checked_at, id"
        );
        StateChange::find_by_statement(Statement::from_sql_and_values(self.db.get_database_backend(), sql, values)).all(&self.db).await
    }

    /// Deletes heartbeats older than the retention; returns how many.
    pub async fn prune_heartbeats(&self, now: DateTime<Utc>) -> Result<u64, DbErr> {
        let cutoff = now - chrono::Duration::days(HEARTBEAT_RETENTION_DAYS);
        Ok(heartbeat::Entity::delete_many().filter(heartbeat::Column::CheckedAt.lt(cutoff)).exec(&self.db).await?.rows_affected)
    }
}

/// A monitor's counts as the database sums them: id, counted, up, mean latency.
type CountsRow = (String, Option<i64>, Option<i64>, Option<f64>);

/// A check whose state differs from the one before it.
#[derive(Debug, FromQueryResult)]
pub struct StateChange {
    pub id: i64,
    pub checked_at: DateTime<Utc>,
    pub state: String,
    pub message: String,
}

/// What one check of a monitor leaves on record.
pub struct Beat<'a> {
    pub monitor_id: &'a str,
    pub at: DateTime<Utc>,
    pub result: &'a CheckResult,
    /// The state the check left the monitor in.
    pub state: State,
    pub in_maintenance: bool,
}

/// Records one check, on `conn` (the check's transaction).
pub async fn insert(conn: &impl ConnectionTrait, b: Beat<'_>) -> Result<(), DbErr> {
    heartbeat::ActiveModel {
        monitor_id: Set(b.monitor_id.to_owned()),
        checked_at: Set(b.at),
        up: Set(b.result.up),
        latency_ms: Set(b.result.latency_ms),
        message: Set(b.result.message.chars().take(500).collect()),
        state: Set(b.state.label().to_owned()),
        in_maintenance: Set(b.in_maintenance),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
