//! Uptime monitors: the scheduler that checks due monitors (HTTP status and
//! keyword, `grpc.health.v1`, TCP connect), records a heartbeat per check, moves
//! each monitor through pending/down/up (`monitor_rules`), and alerts through the
//! outbox on state changes only. A child whose parent is failing has its alert
//! held back: the parent's alert names the root cause and what depends on it.
//! Maintenance windows silence alerts and are left out of uptime.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use kit::{Lifecycle, clock::SharedClock};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait as _, IntoActiveModel as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
};
use tokio::sync::Notify;

use crate::{
    domain::{
        channel::channels_for,
        monitor::{Change, State, Tally, human_duration, observe},
        notification::{Field, NewNotification, Severity},
    },
    store::{
        Store,
        entities::{heartbeat, maintenance_window, monitor},
        notifications::enqueue_in,
    },
};

/// What one check found.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub up: bool,
    pub latency_ms: f64,
    pub message: String,
}

pub struct Monitors {
    pub db: DatabaseConnection,
    pub store: Store,
    pub http: reqwest::Client,
    /// Which addresses checks may reach; `http` is built under the same policy.
    pub egress: crate::outbox::egress::Egress,
    pub clock: SharedClock,
    /// How often the scheduler looks for due monitors.
    pub tick: Duration,
    /// Wakes the delivery workers when an alert is queued.
    pub wake: Arc<Notify>,
}

impl Monitors {
    pub async fn run(self: Arc<Self>, life: Lifecycle) {
        let mut last_prune: Option<DateTime<Utc>> = None;
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.tick) => {}
                () = life.stopping() => return,
            }
            if let Err(e) = self.round().await {
                tracing::warn!(error = %e, "monitor round failed; retrying next tick");
            }
            let now = self.clock.now();
            if last_prune.is_none_or(|t| now - t >= chrono::Duration::hours(1)) {
                match prune_heartbeats(&self.db, now).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "old heartbeats pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning heartbeats failed; retrying in an hour"),
                }
                last_prune = Some(now);
            }
        }
    }

    /// Checks every due monitor once: parents before children, so that a child
    /// sees its parent's state from the same round.
    pub async fn round(&self) -> Result<(), DbErr> {
        let now = self.clock.now();
        let due = self.claim_due(now).await?;
        if due.is_empty() {
            return Ok(());
        }
        let results = futures::future::join_all(due.iter().map(|m| check(&self.http, self.egress, m))).await;
        let mut checked: Vec<(monitor::Model, CheckResult)> = due.into_iter().zip(results).collect();
        checked.sort_by_key(|(m, _)| m.parent_id.is_some());
        for (m, result) in checked {
            if let Err(e) = self.apply(&m.id, result, now, m.company_id).await {
                tracing::warn!(monitor = %m.name, error = %e, "could not record a monitor check");
            }
        }
        Ok(())
    }

    /// The due, unpaused monitors, each moved to its next check time (claimed:
    /// another replica's scheduler skips them).
    async fn claim_due(&self, now: DateTime<Utc>) -> Result<Vec<monitor::Model>, DbErr> {
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

    /// Records one check of monitor `id` and acts on what changed.
    async fn apply(&self, id: &str, result: CheckResult, now: DateTime<Utc>, company_id: i64) -> Result<(), DbErr> {
        let rules = match self.store.rules(company_id).await {
            Ok(rules) => rules,
            Err(crate::store::StoreError::Db(e)) => return Err(e),
            Err(e) => return Err(DbErr::Custom(e.to_string())),
        };
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "monitor").await?;
        let Some(m) = monitor::Entity::find_by_id(id.to_owned()).lock_exclusive().one(&txn).await? else { return Ok(()) };
        if m.paused {
            return Ok(());
        }
        let in_maintenance = in_maintenance(&txn, &m, now).await?;
        let mut row = m.clone().into_active_model();
        let mut alert = None;
        let state = if in_maintenance {
            // Silenced, and the tally starts afresh when the window ends.
            row.fail_streak = Set(0);
            row.ok_streak = Set(0);
            row.down_since = Set(None);
            row.alerted_down = Set(false);
            row.held_down = Set(false);
            State::Maintenance
        } else {
            // A monitor whose state cannot be read is not judged (its check fails, logged).
            let current = match State::stored("monitor", &m.id, &m.state)? {
                State::Maintenance | State::Paused => State::Pending,
                s => s,
            };
            let tally = Tally { state: current, fail_streak: m.fail_streak as u32, ok_streak: m.ok_streak as u32 };
            let (next, change) = observe(tally, result.up, m.retries as u32, m.recovery_checks as u32);
            row.fail_streak = Set(next.fail_streak as i32);
            row.ok_streak = Set(next.ok_streak as i32);
            let parent_failing = parent_failing(&txn, &m).await?;
            match change {
                Some(Change::WentDown) => {
                    row.down_since = Set(Some(now));
                    if parent_failing {
                        row.held_down = Set(true);
                    } else {
                        row.alerted_down = Set(true);
                        alert = Some(self.down_alert(&txn, &m, &result, now).await?);
                    }
                }
                Some(Change::CameBack) => {
                    if m.alerted_down {
                        alert = Some(up_alert(&m, now));
                    }
                    row.down_since = Set(None);
                    row.alerted_down = Set(false);
                    row.held_down = Set(false);
                }
                // Still down with its alert held, and the parent is fine now: the
                // outage is its own.
                None if next.state == State::Down && m.held_down && !parent_failing => {
                    row.held_down = Set(false);
                    row.alerted_down = Set(true);
                    alert = Some(self.down_alert(&txn, &m, &result, m.down_since.unwrap_or(now)).await?);
                }
                None => {}
            }
            next.state
        };
        if state.label() != m.state {
            row.state = Set(state.label().to_owned());
            row.state_since = Set(now);
        }
        row.updated_at = Set(now);
        row.update(&txn).await?;
        heartbeat::ActiveModel {
            monitor_id: Set(m.id.clone()),
            checked_at: Set(now),
            up: Set(result.up),
            latency_ms: Set(result.latency_ms),
            message: Set(result.message.chars().take(500).collect()),
            state: Set(state.label().to_owned()),
            in_maintenance: Set(in_maintenance),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        // The alert is stored with the state change it reports, in one transaction.
        if let Some((n, severity)) = &alert {
            let channels = channels_for(&rules, &n.event_type, *severity);
            enqueue_in(&txn, m.company_id, n, &channels, now).await?;
        }
        txn.commit().await?;
        if alert.is_some() {
            self.wake.notify_waiters();
        }
        Ok(())
    }

    /// "X is down", naming what depends on it.
    async fn down_alert(
        &self,
        txn: &DatabaseTransaction,
        m: &monitor::Model,
        result: &CheckResult,
        since: DateTime<Utc>,
    ) -> Result<(NewNotification, Severity), DbErr> {
        let children: Vec<String> = monitor::Entity::find()
            .filter(monitor::Column::ParentId.eq(m.id.as_str()))
            .order_by_asc(monitor::Column::Name)
            .all(txn)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let mut fields = vec![
            Field { name: "Target".into(), value: m.target.clone(), inline: true },
            Field { name: "Since".into(), value: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), inline: true },
        ];
        if !children.is_empty() {
            fields.push(Field { name: "Also affected (alerts held)".into(), value: children.join(", "), inline: false });
        }
        let n = NewNotification {
            event_type: "monitor.down".into(),
            title: format!("{} is down", m.name),
            body: result.message.clone(),
            severity: Severity::Critical,
            fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()),
            idempotency_key: format!("monitor.down:{}:{}", m.id, since.timestamp()),
        };
        Ok((n, Severity::Critical))
    }
}

fn up_alert(m: &monitor::Model, now: DateTime<Utc>) -> (NewNotification, Severity) {
    let since = m.down_since.unwrap_or(now);
    let downtime = human_duration(now - since);
    let fields = vec![
        Field { name: "Target".into(), value: m.target.clone(), inline: true },
        Field { name: "Downtime".into(), value: downtime.clone(), inline: true },
    ];
    let n = NewNotification {
        event_type: "monitor.up".into(),
        title: format!("{} is up again", m.name),
        body: format!("Down for {downtime}."),
        severity: Severity::Info,
        fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()),
        idempotency_key: format!("monitor.up:{}:{}", m.id, since.timestamp()),
    };
    (n, Severity::Info)
}

/// Whether any ancestor of `m` is down or failing (pending after a failure).
async fn parent_failing(txn: &DatabaseTransaction, m: &monitor::Model) -> Result<bool, DbErr> {
    let mut next = m.parent_id.clone();
    for _ in 0..16 {
        let Some(id) = next else { return Ok(false) };
        let Some(p) = monitor::Entity::find_by_id(id).one(txn).await? else { return Ok(false) };
        let state = State::stored("monitor", &p.id, &p.state)?;
        if state == State::Down || (state == State::Pending && p.fail_streak > 0) {
            return Ok(true);
        }
        next = p.parent_id;
    }
    Ok(false)
}

/// How long heartbeats are kept: the longest uptime period (30 days) and a day.
pub const HEARTBEAT_RETENTION_DAYS: i64 = 31;

/// Deletes heartbeats older than the retention; returns how many.
pub async fn prune_heartbeats(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let cutoff = now - chrono::Duration::days(HEARTBEAT_RETENTION_DAYS);
    Ok(heartbeat::Entity::delete_many().filter(heartbeat::Column::CheckedAt.lt(cutoff)).exec(db).await?.rows_affected)
}

/// Whether a maintenance window of the company covers `m` at `now`.
pub async fn in_maintenance(txn: &impl sea_orm::ConnectionTrait, m: &monitor::Model, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let windows = maintenance_window::Entity::find()
        .filter(maintenance_window::Column::CompanyId.eq(m.company_id))
        .filter(maintenance_window::Column::StartsAt.lte(now))
        .filter(maintenance_window::Column::EndsAt.gt(now))
        .all(txn)
        .await?;
    Ok(windows.iter().any(|w| w.monitor_ids.is_empty() || w.monitor_ids.split(',').any(|id| id == m.id)))
}

/// Runs one check of `m`, within its timeout.
pub async fn check(http: &reqwest::Client, egress: crate::outbox::egress::Egress, m: &monitor::Model) -> CheckResult {
    let timeout = Duration::from_secs(m.timeout_secs.max(1) as u64);
    let started = std::time::Instant::now();
    let outcome: Result<String, String> = match tokio::time::timeout(timeout, probe(http, egress, m, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(message) => CheckResult { up: true, latency_ms, message },
        Err(message) => CheckResult { up: false, latency_ms, message },
    }
}

async fn probe(
    http: &reqwest::Client,
    egress: crate::outbox::egress::Egress,
    m: &monitor::Model,
    timeout: Duration,
) -> Result<String, String> {
    match m.kind.as_str() {
        "http" => {
            let url = reqwest::Url::parse(&m.target).map_err(|e| format!("bad target: {e}"))?;
            egress.check_url(&url).map_err(|e| format!("refused: {e}"))?;
            let res = http.get(url).timeout(timeout).send().await.map_err(|e| format!("request failed: {e}"))?;
            let status = res.status();
            let expected = u16::try_from(m.expected_status).unwrap_or(0);
            let status_ok = if expected == 0 { status.is_success() } else { status.as_u16() == expected };
            if !status_ok {
                return Err(format!("HTTP {status}"));
            }
            if !m.keyword.is_empty() {
                let body = res.text().await.map_err(|e| format!("reading the body: {e}"))?;
                if !body.contains(&m.keyword) {
                    return Err(format!("HTTP {status}, but {:?} is not in the body", m.keyword));
                }
            }
            Ok(format!("HTTP {status}"))
        }
        "grpc_health" => {
            // Connects to the address that was checked, not to a second lookup's,
            // while the requests still name the target's host (its `:authority`).
            let addr = egress.resolve(&m.target).await?[0];
            let origin = format!("http://{}", m.target).parse().map_err(|e| format!("bad target: {e}"))?;
            let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .map_err(|e| format!("bad target: {e}"))?
                .origin(origin)
                .connect_timeout(timeout)
                .timeout(timeout);
            let channel = endpoint.connect().await.map_err(|e| format!("could not connect: {e}"))?;
            let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
            let res = client
                .check(tonic_health::pb::HealthCheckRequest { service: m.grpc_service.clone() })
                .await
                .map_err(|s| format!("health check failed: {} {}", s.code(), s.message()))?;
            let status = tonic_health::pb::health_check_response::ServingStatus::try_from(res.into_inner().status)
                .unwrap_or(tonic_health::pb::health_check_response::ServingStatus::Unknown);
            if status == tonic_health::pb::health_check_response::ServingStatus::Serving {
                Ok("SERVING".to_owned())
            } else {
                Err(status.as_str_name().to_owned())
            }
        }
        "tcp" => {
            let addrs = egress.resolve(&m.target).await?;
            tokio::net::TcpStream::connect(&addrs[..]).await.map_err(|e| format!("could not connect: {e}"))?;
            Ok("connected".to_owned())
        }
        other => Err(format!("unknown monitor kind {other:?}")),
    }
}
