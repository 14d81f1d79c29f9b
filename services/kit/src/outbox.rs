//! The transactional outbox of a service's notices. A service writes a
//! [`Notice`] with [`Outbox::enqueue`] in the transaction of the change that
//! caused it, in its own database (`<component>_notice_outbox`), so the alert
//! exists exactly when the change does; once committed, it wakes the relay.
//! The relay ([`start`]) hands every row to notify's `Send`, retrying with
//! capped exponential backoff and jitter for as long as notify is away, and
//! marks it delivered once notify has it: delivery is at least once, and the
//! row's idempotency key makes notify store it once.
//!
//! Claims are safe across replicas: due rows are leased in one statement
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the database write lock on
//! SQLite) by moving their next attempt to the end of the lease, so a relay
//! that dies mid-hand-over loses nothing: the lease runs out and the row is due
//! again. Delivered rows are kept for a retention (a notice raised again
//! within it is stored once here too) and then pruned. Times come from the
//! service's `Clock`, so tests move a manual clock instead of sleeping. A row
//! keeps the trace context of the change that raised it, and its hand-overs
//! join that trace.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, SubsecRound as _, Utc};
use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement, Value};
use tokio::sync::Notify;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{
    Component, ConfigError, Env, Lifecycle,
    auth::ComponentSigner,
    backoff::Backoff,
    clock::SharedClock,
    notify::{Field, Notice, Sender, Severity, transient},
};

/// How often delivered rows older than the retention are deleted.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// How the relay works (`ATMR_OUTBOX_*`).
#[derive(Clone, Debug)]
pub struct OutboxConfig {
    /// How often an idle relay looks for due rows (`ATMR_OUTBOX_POLL_MS`, 1,000);
    /// an enqueue wakes it at once.
    pub poll: Duration,
    /// Rows claimed at once (`ATMR_OUTBOX_BATCH`, 32).
    pub batch: u64,
    /// The wait after a failed hand-over: from `ATMR_OUTBOX_BACKOFF_BASE_MS`
    /// (1,000), doubling to `ATMR_OUTBOX_BACKOFF_MAX_SECS` (60), with jitter.
    pub backoff: Backoff,
    /// How long a claim holds a row before another relay may take it
    /// (`ATMR_OUTBOX_LEASE_SECS`, 60); a hand-over is bounded by half of it.
    pub lease: Duration,
    /// How long delivered rows are kept (`ATMR_OUTBOX_RETENTION_HOURS`, 24).
    pub retention: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            batch: 32,
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            lease: Duration::from_secs(60),
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

impl OutboxConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            poll: env.millis_in("ATMR_OUTBOX_POLL_MS", Duration::from_secs(1), 10..=60_000)?,
            batch: env.u64_in("ATMR_OUTBOX_BATCH", 32, 1..=1_000)?,
            backoff: Backoff::new(
                env.millis_in("ATMR_OUTBOX_BACKOFF_BASE_MS", Duration::from_secs(1), 1..=600_000)?,
                Duration::from_secs(env.u64_in("ATMR_OUTBOX_BACKOFF_MAX_SECS", 60, 1..=86_400)?),
            ),
            lease: Duration::from_secs(env.u64_in("ATMR_OUTBOX_LEASE_SECS", 60, 2..=3_600)?),
            retention: Duration::from_secs(3600 * env.u64_in("ATMR_OUTBOX_RETENTION_HOURS", 24, 1..=24 * 90)?),
        })
    }
}

/// The name of `component`'s outbox table.
pub fn table_of(component: Component) -> String {
    format!("{}_notice_outbox", component.name())
}

/// A service's handle on its outbox: where notices are written, and the bell
/// that wakes its relay.
#[derive(Clone, Debug)]
pub struct Outbox {
    table: Arc<str>,
    wake: Arc<Notify>,
}

impl Outbox {
    /// `component`'s outbox, without a relay (see [`start`]).
    pub fn of(component: Component) -> Self {
        Self { table: table_of(component).into(), wake: Arc::new(Notify::new()) }
    }

    /// Writes `notice` for `company_id` on `conn` — the transaction of the
    /// change that caused it — due at once. A notice whose key is already in
    /// the outbox is not written again. Call [`wake`](Self::wake) after the
    /// commit. A notice whose event type or key is malformed is an error (the
    /// caller's code is wrong) and the transaction should not commit.
    pub async fn enqueue<C: ConnectionTrait>(&self, conn: &C, company_id: i64, notice: &Notice, now: DateTime<Utc>) -> Result<(), DbErr> {
        let n = notice.fitted().map_err(|e| DbErr::Custom(format!("notice {}: {e}", notice.event_type)))?;
        let fields = serde_json::to_string(&n.fields).map_err(|e| DbErr::Custom(format!("notice fields: {e}")))?;
        let sql = format!(
            "INSERT INTO {} (company_id, event_type, severity, title, body, fields, idempotency_key, created_at, attempts, next_attempt_at, \
             traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $8, $9) ON CONFLICT (company_id, idempotency_key) DO NOTHING",
            self.table
        );
        let values: Vec<Value> = vec![
            company_id.into(),
            n.event_type.into(),
            n.severity.rank().into(),
            n.title.into(),
            n.body.into(),
            fields.into(),
            n.idempotency_key.into(),
            now.into(),
            crate::telemetry::current_traceparent().into(),
        ];
        conn.execute(Statement::from_sql_and_values(conn.get_database_backend(), sql, values)).await?;
        Ok(())
    }

    /// Tells the relay a notice was committed, so it need not wait for its poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// What a relay is started with.
pub struct RelaySetup<'a> {
    pub component: Component,
    /// The component's database (the one its outbox rows are committed to).
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub config: OutboxConfig,
    /// Where notify answers (`NOTIFY_URL`).
    pub notify_url: &'a str,
    /// How to reach it over TLS, when configured.
    pub tls: &'a crate::tls::TlsConfig,
    /// Signs the hand-overs to notify as this component.
    pub signer: Arc<ComponentSigner>,
    /// The component's registry, for the outbox's metrics.
    pub registry: &'a Registry,
    pub life: Lifecycle,
}

/// Starts `component`'s relay, which runs until `life` stops, and returns the
/// outbox its notices are written to.
pub fn start(setup: RelaySetup<'_>) -> anyhow::Result<Outbox> {
    let outbox = Outbox::of(setup.component);
    let relay = Relay {
        outbox: outbox.clone(),
        sender: Sender::connect(setup.notify_url, setup.config.lease / 2, setup.tls, setup.signer)?,
        metrics: OutboxMetrics::register(setup.registry)?,
        db: setup.db,
        clock: setup.clock,
        config: setup.config,
    };
    tokio::spawn(relay.run(setup.life));
    Ok(outbox)
}

/// The outbox's figures, on the component's `/metrics`.
#[derive(Clone)]
struct OutboxMetrics {
    pending: IntGauge,
    oldest: Gauge,
    handed_over: IntCounter,
    failures: IntCounterVec,
}

impl OutboxMetrics {
    fn register(registry: &Registry) -> anyhow::Result<Self> {
        let m = Self {
            pending: IntGauge::new("notice_outbox_pending", "notices committed and not yet handed to notify")?,
            oldest: Gauge::new("notice_outbox_oldest_pending_seconds", "age of the oldest notice not yet handed to notify (0: none)")?,
            handed_over: IntCounter::new("notice_outbox_handed_over_total", "notices notify took from this process's relay")?,
            failures: IntCounterVec::new(
                Opts::new("notice_outbox_failed_handovers_total", "hand-overs to notify that failed and will be retried, by gRPC code"),
                &["code"],
            )?,
        };
        registry.register(Box::new(m.pending.clone()))?;
        registry.register(Box::new(m.oldest.clone()))?;
        registry.register(Box::new(m.handed_over.clone()))?;
        registry.register(Box::new(m.failures.clone()))?;
        Ok(m)
    }
}

struct Relay {
    outbox: Outbox,
    db: DatabaseConnection,
    clock: SharedClock,
    config: OutboxConfig,
    sender: Sender,
    metrics: OutboxMetrics,
}

/// A row the relay holds.
struct Claimed {
    id: i64,
    company_id: i64,
    notice: Notice,
    /// Hand-overs tried, this one included.
    attempts: i32,
    /// The trace of the change that raised it.
    traceparent: Option<String>,
}

impl Relay {
    async fn run(self, life: Lifecycle) {
        let mut next_prune = self.clock.now();
        loop {
            let now = self.clock.now();
            if now >= next_prune {
                next_prune = now + PRUNE_EVERY;
                if let Err(e) = self.prune(now).await {
                    tracing::warn!(table = %self.outbox.table, error = %e, "pruning delivered notices failed");
                }
            }
            let claimed = match self.survey(now).await {
                Ok(true) => self.claim(now).await.unwrap_or_else(|e| {
                    tracing::warn!(table = %self.outbox.table, error = %e, "claiming notices failed; retrying");
                    Vec::new()
                }),
                Ok(false) => Vec::new(),
                Err(e) => {
                    tracing::warn!(table = %self.outbox.table, error = %e, "reading the notice outbox failed; retrying");
                    Vec::new()
                }
            };
            if !claimed.is_empty() {
                // A claimed batch is finished even during shutdown: its leases
                // would otherwise hold the rows until they run out.
                futures::future::join_all(claimed.into_iter().map(|row| self.hand_over(row))).await;
                continue;
            }
            tokio::select! {
                () = self.outbox.wake.notified() => {}
                () = tokio::time::sleep(self.config.poll) => {}
                () = life.stopping() => return,
            }
        }
    }

    /// Refreshes the metrics and says whether a row is due.
    async fn survey(&self, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let sql = format!(
            "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest, MIN(next_attempt_at) AS next_due FROM {} WHERE delivered_at IS NULL",
            self.outbox.table
        );
        let backend = self.db.get_database_backend();
        let row = self.db.query_one(Statement::from_string(backend, sql)).await?.ok_or_else(|| DbErr::Custom("no survey row".into()))?;
        let oldest: Option<DateTime<Utc>> = row.try_get("", "oldest")?;
        let next_due: Option<DateTime<Utc>> = row.try_get("", "next_due")?;
        self.metrics.pending.set(row.try_get::<i64>("", "pending")?);
        self.metrics.oldest.set(oldest.map_or(0.0, |at| (now - at).num_milliseconds().max(0) as f64 / 1000.0));
        Ok(next_due.is_some_and(|at| at <= now))
    }

    /// Leases up to a batch of due rows until `now + lease`, counting the attempt.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, DbErr> {
        let backend = self.db.get_database_backend();
        let lock = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE {t} SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM {t} WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING id, company_id, event_type, severity, title, body, fields, idempotency_key, attempts, traceparent",
            t = self.outbox.table
        );
        let lease_until = now + chrono_duration(self.config.lease);
        let values: Vec<Value> = vec![lease_until.into(), now.into(), (self.config.batch as i64).into()];
        let rows = self.db.query_all(Statement::from_sql_and_values(backend, sql, values)).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                // A row this code did not write: left leased (and logged again
                // whenever its lease runs out) rather than stopping the others.
                claimed(r).inspect_err(|e| tracing::error!(table = %self.outbox.table, error = %e, "unreadable notice in the outbox")).ok()
            })
            .collect())
    }

    async fn hand_over(&self, row: Claimed) {
        let table = &*self.outbox.table;
        let (company_id, event, key) = (row.company_id, &row.notice.event_type, &row.notice.idempotency_key);
        // Each hand-over is a span of the trace that raised the notice, so
        // notify's side shows in that trace too.
        let span = tracing::info_span!("notify.handover", otel.kind = "client", table, event = %event, attempt = row.attempts);
        if let Some(traceparent) = &row.traceparent {
            let _ = span.set_parent(crate::telemetry::context_of(traceparent));
        }
        let status = match self.sender.send(row.company_id, &row.notice).instrument(span).await {
            Ok(()) => {
                self.metrics.handed_over.inc();
                if let Err(e) = self.delivered(row.id).await {
                    // Notify has it; the lease runs out and the next hand-over
                    // is a repeat notify recognises by its key.
                    tracing::warn!(table, id = row.id, error = %e, "could not mark a notice handed over; it will be handed over again");
                }
                tracing::debug!(table, company_id, event, key, attempts = row.attempts, "notice handed to notify");
                return;
            }
            Err(status) => status,
        };
        self.metrics.failures.with_label_values(&[&format!("{:?}", status.code())]).inc();
        let wait = self.config.backoff.jittered(row.attempts.max(1) as u32);
        let retry_at = (self.clock.now() + chrono_duration(wait)).trunc_subsecs(6);
        let (code, error) = (status.code(), status.message());
        if !transient(code) {
            tracing::error!(
                table,
                company_id,
                event,
                key,
                attempts = row.attempts,
                ?code,
                error,
                "notify refused a notice; it stays in the outbox and is retried"
            );
        } else if row.attempts == 1 {
            tracing::warn!(
                table,
                company_id,
                event,
                key,
                ?code,
                error,
                "notify unreachable; the notice stays in the outbox and is retried"
            );
        } else {
            tracing::debug!(table, company_id, event, key, attempts = row.attempts, ?code, "notify still unreachable");
        }
        if let Err(e) = self.retry_at(&row, retry_at, &format!("{code:?}: {error}")).await {
            tracing::warn!(table, id = row.id, error = %e, "could not schedule a notice's next hand-over; its lease will run out");
        }
    }

    async fn delivered(&self, id: i64) -> Result<(), DbErr> {
        let sql = format!("UPDATE {} SET delivered_at = $1, last_error = NULL WHERE id = $2 AND delivered_at IS NULL", self.outbox.table);
        self.exec(sql, vec![self.clock.now().into(), id.into()]).await
    }

    /// Schedules the next hand-over, if this relay still holds the row (no
    /// other claim counted an attempt since).
    async fn retry_at(&self, row: &Claimed, at: DateTime<Utc>, error: &str) -> Result<(), DbErr> {
        let sql = format!(
            "UPDATE {} SET next_attempt_at = $1, last_error = $2 WHERE id = $3 AND attempts = $4 AND delivered_at IS NULL",
            self.outbox.table
        );
        let error: String = error.chars().take(1000).collect();
        self.exec(sql, vec![at.into(), error.into(), row.id.into(), row.attempts.into()]).await
    }

    /// Deletes rows delivered more than the retention ago.
    async fn prune(&self, now: DateTime<Utc>) -> Result<(), DbErr> {
        let sql = format!("DELETE FROM {} WHERE delivered_at IS NOT NULL AND delivered_at < $1", self.outbox.table);
        self.exec(sql, vec![(now - chrono_duration(self.config.retention)).into()]).await
    }

    async fn exec(&self, sql: String, values: Vec<Value>) -> Result<(), DbErr> {
        self.db.execute(Statement::from_sql_and_values(self.db.get_database_backend(), sql, values)).await.map(|_| ())
    }
}

fn claimed(r: &QueryResult) -> Result<Claimed, DbErr> {
    let rank: i16 = r.try_get("", "severity")?;
    let fields: String = r.try_get("", "fields")?;
    Ok(Claimed {
        id: r.try_get("", "id")?,
        company_id: r.try_get("", "company_id")?,
        notice: Notice {
            event_type: r.try_get("", "event_type")?,
            severity: Severity::from_rank(rank).ok_or_else(|| DbErr::Custom(format!("notice severity {rank} is not 1..=4")))?,
            title: r.try_get("", "title")?,
            body: r.try_get("", "body")?,
            fields: serde_json::from_str::<Vec<Field>>(&fields).map_err(|e| DbErr::Custom(format!("notice fields: {e}")))?,
            idempotency_key: r.try_get("", "idempotency_key")?,
        },
        attempts: r.try_get("", "attempts")?,
        traceparent: r.try_get("", "traceparent")?,
    })
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_is_configured_from_the_environment_with_defaults() {
        let cfg = OutboxConfig::from_env(&Env::default()).unwrap();
        let default = OutboxConfig::default();
        assert_eq!(
            (cfg.poll, cfg.batch, cfg.backoff, cfg.lease, cfg.retention),
            (default.poll, default.batch, default.backoff, default.lease, default.retention)
        );
        let env = Env::from_pairs([("ATMR_OUTBOX_BACKOFF_MAX_SECS", "300"), ("ATMR_OUTBOX_POLL_MS", "50")]);
        let cfg = OutboxConfig::from_env(&env).unwrap();
        assert_eq!((cfg.backoff.max, cfg.poll), (Duration::from_secs(300), Duration::from_millis(50)));
        let err = OutboxConfig::from_env(&Env::from_pairs([("ATMR_OUTBOX_LEASE_SECS", "1")])).unwrap_err();
        assert_eq!(err.var, "ATMR_OUTBOX_LEASE_SECS");
        assert_eq!(table_of(Component::Safety), "safety_notice_outbox");
    }
}
