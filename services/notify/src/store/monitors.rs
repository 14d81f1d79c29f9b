//! Monitors: their configuration as admins write it, the scheduler's claim of
//! due checks and the recording of one check — the monitor's tally, its
//! heartbeat and the alert it raises, in one transaction. The operator's
//! declared monitors (the mesh's own among them) are applied by `declared.rs`.
//!
//! Claiming is safe across replicas as the outbox's is: due monitors are
//! picked with `FOR UPDATE SKIP LOCKED` (the write lock on SQLite) and moved
//! on to their next check in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Select, Set, Statement, TransactionTrait as _,
};

use super::audit;
use crate::{
    domain::{
        channel::{Rule, channels_for},
        check::{Alert, CheckResult, Standing, Subject, Verdict, judge},
        monitor::{MonitorConfig, State},
    },
    error::Error,
    store::{
        Store,
        entities::monitor,
        heartbeats::{self, Beat},
        maintenance,
        notifications::enqueue_in,
    },
};

/// A monitor that starts checking at once, in the pending state.
pub(super) fn new_monitor(company_id: i64, now: DateTime<Utc>) -> monitor::ActiveModel {
    monitor::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        company_id: Set(company_id),
        paused: Set(false),
        internal: Set(false),
        state: Set(State::Pending.label().to_owned()),
        state_since: Set(now),
        fail_streak: Set(0),
        ok_streak: Set(0),
        down_since: Set(None),
        alerted_down: Set(false),
        held_down: Set(false),
        next_check_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The query for monitor `id` (as given) of the company.
fn company_monitor(company_id: i64, id: &str) -> Select<monitor::Entity> {
    monitor::Entity::find_by_id(id.trim().to_owned()).filter(monitor::Column::CompanyId.eq(company_id))
}

/// Monitor `id` of the company, read under its row lock (the write lock on
/// SQLite) for the rest of `txn`.
async fn locked(txn: &DatabaseTransaction, company_id: i64, id: &str) -> Result<monitor::Model, Error> {
    kit::db::lock_for_write(txn, "monitor").await?;
    company_monitor(company_id, id).lock_exclusive().one(txn).await?.ok_or_else(|| Error::NotFound(format!("monitor {id}")))
}

/// Waits until no other transaction of the company is setting a monitor's
/// parent, until `txn` ends: a PostgreSQL advisory lock per company, taken
/// before any row lock so that two such updates cannot deadlock; SQLite's
/// write lock (`kit::db::lock_for_write`, taken next) already serialises them.
pub(super) async fn one_parent_change_at_a_time(txn: &DatabaseTransaction, company_id: i64) -> Result<(), DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        let sql = "SELECT pg_advisory_xact_lock(hashtext('notify.monitor_parent'), ($1 % 2147483647)::int4)";
        txn.query_one(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, [company_id.into()])).await?;
    }
    Ok(())
}

/// That `parent` is a monitor of the company and that monitor `id` (absent
/// for a new one) is not among its ancestors. An update that sets a parent
/// calls it after [`one_parent_change_at_a_time`], so two admins making each
/// of two monitors the other's parent at once cannot both pass (a cycle of
/// failing parents would hold back every alert in it).
async fn check_parent(txn: &DatabaseTransaction, company_id: i64, id: Option<&str>, parent: &str) -> Result<(), Error> {
    let mut cursor = Some(parent.to_owned());
    for _ in 0..16 {
        let Some(c) = cursor else { break };
        if Some(c.as_str()) == id {
            return Err(Error::invalid("monitor.parent_id", "would make the monitor its own ancestor"));
        }
        let above = company_monitor(company_id, &c).one(txn).await?;
        cursor = above.ok_or_else(|| Error::invalid("monitor.parent_id", format!("monitor {c} not found")))?.parent_id;
    }
    Ok(())
}

impl Store {
    /// Monitor `id` of the company (`id` as given, in the error).
    pub async fn monitor(&self, company_id: i64, id: &str) -> Result<monitor::Model, Error> {
        company_monitor(company_id, id).one(&self.db).await?.ok_or_else(|| Error::NotFound(format!("monitor {id}")))
    }

    /// The company's monitors by name.
    pub async fn monitors(&self, company_id: i64) -> Result<Vec<monitor::Model>, DbErr> {
        monitor::Entity::find().filter(monitor::Column::CompanyId.eq(company_id)).order_by_asc(monitor::Column::Name).all(&self.db).await
    }

    /// The monitors of `ids` that are the company's, in no particular order.
    pub async fn monitors_among(&self, company_id: i64, ids: &[String]) -> Result<Vec<monitor::Model>, DbErr> {
        monitor::Entity::find()
            .filter(monitor::Column::CompanyId.eq(company_id))
            .filter(monitor::Column::Id.is_in(ids.iter().map(String::as_str)))
            .all(&self.db)
            .await
    }

    /// Creates a monitor that starts checking at once; a name the company
    /// uses already is refused.
    pub async fn create_monitor(&self, company_id: i64, cfg: MonitorConfig, now: DateTime<Utc>) -> Result<monitor::Model, Error> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "monitor").await?;
        if let Some(parent) = &cfg.parent_id {
            check_parent(&txn, company_id, None, parent).await?;
        }
        let mut row = new_monitor(company_id, now);
        apply(cfg, &mut row);
        let row = row.insert(&txn).await.map_err(name_taken)?;
        audit::record(&txn, audit::diff("monitor", &row.id, "create", None, Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Writes `cfg` (checked against `current`) over the monitor as it
    /// stands when the write takes its row lock, so the audit record's
    /// "before" is what was overwritten, even after another admin's change;
    /// a name the company uses already is refused.
    pub async fn update_monitor(&self, current: &monitor::Model, cfg: MonitorConfig, now: DateTime<Utc>) -> Result<monitor::Model, Error> {
        let txn = self.db.begin().await?;
        if cfg.parent_id.is_some() {
            one_parent_change_at_a_time(&txn, current.company_id).await?;
        }
        let before = locked(&txn, current.company_id, &current.id).await?;
        if let Some(parent) = &cfg.parent_id {
            check_parent(&txn, current.company_id, Some(&before.id), parent).await?;
        }
        let mut row = before.clone().into_active_model();
        apply(cfg, &mut row);
        row.updated_at = Set(now);
        let row = row.update(&txn).await.map_err(name_taken)?;
        audit::record(&txn, audit::diff("monitor", &row.id, "update", Some(&before), Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Deletes a monitor; its heartbeats go with it (the foreign key cascades).
    pub async fn delete_monitor(&self, id: String) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        monitor::Entity::delete_by_id(id.clone()).exec(&txn).await?;
        audit::record(&txn, kit::audit_trail::Change::new("monitor", id, "delete"), Utc::now()).await?;
        txn.commit().await
    }

    /// Stops checking monitor `id` of the company: paused, from now. One
    /// that is paused already stays as it is (since when, and no record).
    pub async fn pause_monitor(&self, company_id: i64, id: &str, now: DateTime<Utc>) -> Result<monitor::Model, Error> {
        let txn = self.db.begin().await?;
        let m = locked(&txn, company_id, id).await?;
        if m.paused {
            return Ok(m);
        }
        let mut row = m.into_active_model();
        row.paused = Set(true);
        row.state = Set(State::Paused.label().to_owned());
        row.state_since = Set(now);
        row.updated_at = Set(now);
        let row = row.update(&txn).await?;
        audit::record(&txn, kit::audit_trail::Change::new("monitor", &row.id, "pause").with("paused", Some(false), Some(true)), now)
            .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Checks paused monitor `id` of the company again at once, its tally
    /// started afresh from pending. One that is not paused stays as it is: a
    /// resume must not wipe a running monitor's state (a monitor down and
    /// alerted would alert again).
    pub async fn resume_monitor(&self, company_id: i64, id: &str, now: DateTime<Utc>) -> Result<monitor::Model, Error> {
        let txn = self.db.begin().await?;
        let m = locked(&txn, company_id, id).await?;
        if !m.paused {
            return Ok(m);
        }
        let mut row = m.into_active_model();
        row.paused = Set(false);
        row.state = Set(State::Pending.label().to_owned());
        row.state_since = Set(now);
        row.fail_streak = Set(0);
        row.ok_streak = Set(0);
        row.down_since = Set(None);
        row.alerted_down = Set(false);
        row.held_down = Set(false);
        row.next_check_at = Set(now);
        row.updated_at = Set(now);
        let row = row.update(&txn).await?;
        audit::record(&txn, kit::audit_trail::Change::new("monitor", &row.id, "resume").with("paused", Some(true), Some(false)), now)
            .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The due, unpaused monitors, each moved to its next check time (claimed:
    /// another replica's scheduler skips them).
    pub async fn claim_due_monitors(&self, now: DateTime<Utc>) -> Result<Vec<monitor::Model>, DbErr> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "monitor").await?;
        let due = monitor::Entity::find()
            .filter(monitor::Column::Paused.eq(false))
            .filter(monitor::Column::NextCheckAt.lte(now))
            .order_by_asc(monitor::Column::NextCheckAt)
            .limit(500)
            .lock_with_behavior(sea_orm::sea_query::LockType::Update, sea_orm::sea_query::LockBehavior::SkipLocked)
            .all(&txn)
            .await?;
        for m in &due {
            let mut row = m.clone().into_active_model();
            row.next_check_at = Set(now + chrono::Duration::seconds(m.interval_secs.into()));
            row.update(&txn).await?;
        }
        txn.commit().await?;
        Ok(due)
    }

    /// Records one check of monitor `id` at `now` and what it changed, in one
    /// transaction under the monitor's row lock: its tally and state
    /// (`domain::check::judge`), a heartbeat, and the alert it raises, routed
    /// by `rules` — so an alert is stored with the state change it reports.
    /// A monitor deleted or paused meanwhile is left alone. Returns whether
    /// an alert was queued.
    pub async fn record_check(&self, id: &str, result: &CheckResult, now: DateTime<Utc>, rules: &[Rule]) -> Result<bool, DbErr> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "monitor").await?;
        let Some(m) = monitor::Entity::find_by_id(id.to_owned()).lock_exclusive().one(&txn).await? else { return Ok(false) };
        if m.paused {
            return Ok(false);
        }
        let in_maintenance = maintenance::covers(&txn, &m, now).await?;
        let verdict = if in_maintenance {
            Verdict::maintenance()
        } else {
            // A monitor whose state cannot be read is not judged (its check fails, logged).
            let state = State::stored("monitor", &m.id, &m.state)?;
            let parent_failing = parent_failing(&txn, &m).await?;
            judge(&standing(&m, state), result.up, parent_failing, now)
        };
        let alert = match verdict.alert {
            None => None,
            Some(alert) => {
                let children = match alert {
                    Alert::Down { .. } => children(&txn, &m.id).await?,
                    Alert::Up { .. } => Vec::new(),
                };
                let subject = Subject { id: &m.id, name: &m.name, target: &m.target };
                Some(alert.notice(subject, &result.message, &children, now))
            }
        };
        let mut row = m.clone().into_active_model();
        row.fail_streak = Set(verdict.fail_streak as i32);
        row.ok_streak = Set(verdict.ok_streak as i32);
        row.down_since = Set(verdict.down_since);
        row.alerted_down = Set(verdict.alerted_down);
        row.held_down = Set(verdict.held_down);
        if verdict.state.label() != m.state {
            row.state = Set(verdict.state.label().to_owned());
            row.state_since = Set(now);
        }
        row.updated_at = Set(now);
        row.update(&txn).await?;
        let beat = Beat { monitor_id: &m.id, at: now, result, state: verdict.state, in_maintenance };
        heartbeats::insert(&txn, beat).await?;
        if let Some(n) = &alert {
            enqueue_in(&txn, m.company_id, n, &channels_for(rules, &n.event_type, n.severity), now).await?;
        }
        txn.commit().await?;
        Ok(alert.is_some())
    }
}

/// Writes a checked configuration into a monitor's row.
pub(super) fn apply(cfg: MonitorConfig, row: &mut monitor::ActiveModel) {
    row.name = Set(cfg.name);
    row.kind = Set(cfg.kind.label().to_owned());
    row.target = Set(cfg.target);
    row.expected_status = Set(cfg.expected_status);
    row.keyword = Set(cfg.keyword);
    row.grpc_service = Set(cfg.grpc_service);
    row.interval_secs = Set(cfg.interval_secs);
    row.timeout_secs = Set(cfg.timeout_secs);
    row.retries = Set(cfg.retries);
    row.recovery_checks = Set(cfg.recovery_checks);
    row.parent_id = Set(cfg.parent_id);
    row.internal = Set(cfg.internal);
}

/// A monitor's name is unique in its company.
fn name_taken(e: DbErr) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyExists("a monitor with this name exists already".to_owned()),
        _ => Error::Db(e),
    }
}

/// What the rules read of `m`, whose stored state reads as `state`.
fn standing(m: &monitor::Model, state: State) -> Standing {
    Standing {
        state,
        fail_streak: m.fail_streak as u32,
        ok_streak: m.ok_streak as u32,
        retries: m.retries as u32,
        recovery_checks: m.recovery_checks as u32,
        down_since: m.down_since,
        alerted_down: m.alerted_down,
        held_down: m.held_down,
    }
}

/// Whether any ancestor of `m` is failing (down, or pending after a failure).
async fn parent_failing(txn: &DatabaseTransaction, m: &monitor::Model) -> Result<bool, DbErr> {
    let mut next = m.parent_id.clone();
    for _ in 0..16 {
        let Some(id) = next else { return Ok(false) };
        let Some(p) = monitor::Entity::find_by_id(id).one(txn).await? else { return Ok(false) };
        if State::stored("monitor", &p.id, &p.state)?.is_failing(p.fail_streak) {
            return Ok(true);
        }
        next = p.parent_id;
    }
    Ok(false)
}

/// The names of the monitors whose parent is `id`, for "also affected".
async fn children(txn: &DatabaseTransaction, id: &str) -> Result<Vec<String>, DbErr> {
    Ok(monitor::Entity::find()
        .filter(monitor::Column::ParentId.eq(id))
        .order_by_asc(monitor::Column::Name)
        .all(txn)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect())
}
