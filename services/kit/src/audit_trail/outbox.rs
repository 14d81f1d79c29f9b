//! The audit outbox: a record is written with [`record`] (or [`record_as`])
//! in the transaction of the change, in the component's own database
//! (`<component>_audit_outbox`), so it exists exactly when the change does. A
//! relay ([`start`]) hands the records to safety's `RecordHumanChanges` with a
//! service token of their company, retrying with `kit::backoff`'s schedule for
//! as long as safety is away, and marks them delivered once safety has them;
//! safety stores a record once per id, so delivery at least once is enough.
//! Claims, leases and pruning work as the notice outbox's (`crate::outbox`),
//! under the same settings (`ATMR_OUTBOX_*`).

use std::{collections::BTreeMap, sync::Arc};

use tokio::sync::Notify;

use atmr_proto::safety::v1::{self as pb, safety_service_client::SafetyServiceClient};
use chrono::{DateTime, SubsecRound as _, Utc};
use prometheus::{IntCounter, IntGauge, Registry};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};
use tonic::transport::Channel;

use super::{Actor, AuditOutbox, Change, Record, scope::current_for_record};
use crate::{Component, Lifecycle, auth::ComponentSigner, clock::SharedClock, outbox::OutboxConfig};

/// How often delivered rows older than the retention are deleted.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The name of `component`'s audit outbox table.
pub fn table_of(component: Component) -> String {
    format!("{}_audit_outbox", component.name())
}

/// Records `change` by the actor of the call being served, on `conn` (the
/// change's transaction) in `component`'s audit outbox. Outside a person's
/// call (the autonomous manager, a job) it records nothing: such changes are
/// audited as actions. A change that names no field is recorded all the same
/// (a cancellation, a run started).
pub async fn record<C: ConnectionTrait>(conn: &C, component: Component, change: Change, now: DateTime<Utc>) -> Result<(), DbErr> {
    match current_for_record() {
        Some(actor) => record_as(conn, component, &actor, change, now).await,
        None => Ok(()),
    }
}

/// Records `change` by `actor` on `conn`, in `component`'s audit outbox. Wake
/// the relay after the commit ([`AuditOutbox::wake`]).
pub async fn record_as<C: ConnectionTrait>(
    conn: &C,
    component: Component,
    actor: &Actor,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    insert(conn, component, actor, vec![change], now).await
}

/// [`record`] for many changes at once (a bulk import), in statements of
/// up to 200 rows.
pub async fn record_all<C: ConnectionTrait>(conn: &C, component: Component, changes: Vec<Change>, now: DateTime<Utc>) -> Result<(), DbErr> {
    match current_for_record() {
        Some(actor) if !changes.is_empty() => insert(conn, component, &actor, changes, now).await,
        _ => Ok(()),
    }
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    component: Component,
    actor: &Actor,
    changes: Vec<Change>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let occurred_at = now.trunc_subsecs(6);
    let mut changes = changes.into_iter().peekable();
    while changes.peek().is_some() {
        let mut rows = Vec::new();
        let mut values: Vec<Value> = vec![occurred_at.into()];
        for change in changes.by_ref().take(200) {
            let record = Record {
                record_id: uuid::Uuid::new_v4().to_string(),
                company_id: actor.company_id,
                occurred_at,
                source: component.name().to_owned(),
                actor: actor.clone(),
                change,
            };
            let json = serde_json::to_string(&record).map_err(|e| DbErr::Custom(format!("audit record: {e}")))?;
            let n = values.len();
            rows.push(format!("(${}, ${}, ${}, $1, 0, $1)", n + 1, n + 2, n + 3));
            values.extend([record.record_id.into(), record.company_id.into(), json.into()]);
        }
        let sql = format!(
            "INSERT INTO {} (record_id, company_id, record, created_at, attempts, next_attempt_at) VALUES {}",
            table_of(component),
            rows.join(", ")
        );
        conn.execute(Statement::from_sql_and_values(conn.get_database_backend(), sql, values)).await?;
    }
    Ok(())
}

/// What a relay is started with.
pub struct RelaySetup<'a> {
    /// The outbox it relays (whose bell wakes it).
    pub outbox: AuditOutbox,
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub config: OutboxConfig,
    /// Where safety answers (`SAFETY_URL`).
    pub safety_url: &'a str,
    /// How to reach it over TLS, when configured.
    pub tls: &'a crate::tls::TlsConfig,
    /// Signs the hand-overs to safety as this component.
    pub signer: Arc<ComponentSigner>,
    pub registry: &'a Registry,
    pub life: Lifecycle,
}

/// Starts the relay of `setup.outbox`, which runs until `life` stops.
pub fn start(setup: RelaySetup<'_>) -> anyhow::Result<()> {
    let outbox = setup.outbox;
    let pending = IntGauge::new("audit_outbox_pending", "human audit records committed and not yet handed to safety")?;
    let handed_over = IntCounter::new("audit_outbox_handed_over_total", "human audit records safety took from this process's relay")?;
    let failures = IntCounter::new("audit_outbox_failed_handovers_total", "hand-overs to safety that failed and will be retried")?;
    setup.registry.register(Box::new(pending.clone()))?;
    setup.registry.register(Box::new(handed_over.clone()))?;
    setup.registry.register(Box::new(failures.clone()))?;
    let relay = Relay {
        table: table_of(outbox.component),
        wake: outbox.wake.clone(),
        client: SafetyServiceClient::new(crate::grpc::lazy_channel(setup.safety_url, setup.config.lease / 2, setup.tls)?),
        signer: setup.signer,
        db: setup.db,
        clock: setup.clock,
        config: setup.config,
        pending,
        handed_over,
        failures,
    };
    tokio::spawn(relay.run(setup.life));
    Ok(())
}

struct Relay {
    table: String,
    wake: Arc<Notify>,
    client: SafetyServiceClient<Channel>,
    signer: Arc<ComponentSigner>,
    db: DatabaseConnection,
    clock: SharedClock,
    config: OutboxConfig,
    pending: IntGauge,
    handed_over: IntCounter,
    failures: IntCounter,
}

/// A claimed row: its id, the attempt count and the record.
struct Claimed {
    id: i64,
    attempts: i32,
    record: Record,
}

impl Relay {
    async fn run(self, life: Lifecycle) {
        let mut next_prune = self.clock.now();
        loop {
            let now = self.clock.now();
            if now >= next_prune {
                next_prune = now + PRUNE_EVERY;
                let cutoff = now - chrono::Duration::from_std(self.config.retention).unwrap_or(chrono::Duration::MAX);
                let sql = format!("DELETE FROM {} WHERE delivered_at IS NOT NULL AND delivered_at < $1", self.table);
                if let Err(e) = self.exec(sql, vec![cutoff.into()]).await {
                    tracing::warn!(table = %self.table, error = %e, "pruning delivered audit records failed");
                }
            }
            let claimed = match self.claim(now).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(table = %self.table, error = %e, "claiming audit records failed; retrying");
                    Vec::new()
                }
            };
            if !claimed.is_empty() {
                let mut by_company: BTreeMap<i64, Vec<Claimed>> = BTreeMap::new();
                for row in claimed {
                    by_company.entry(row.record.company_id).or_default().push(row);
                }
                futures::future::join_all(by_company.into_iter().map(|(company, rows)| self.hand_over(company, rows))).await;
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.config.poll) => {}
                () = life.stopping() => return,
            }
        }
    }

    /// Leases up to a batch of due rows until `now + lease`, counting the attempt.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, DbErr> {
        let backend = self.db.get_database_backend();
        let count = format!("SELECT COUNT(*) AS pending FROM {} WHERE delivered_at IS NULL", self.table);
        if let Some(row) = self.db.query_one(Statement::from_string(backend, count)).await? {
            self.pending.set(row.try_get::<i64>("", "pending")?);
        }
        let lock = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE {t} SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM {t} WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING id, attempts, record",
            t = self.table
        );
        let lease_until = now + chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX);
        let values: Vec<Value> = vec![lease_until.into(), now.into(), (self.config.batch as i64).into()];
        let rows = self.db.query_all(Statement::from_sql_and_values(backend, sql, values)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (id, attempts, text): (i64, i32, String) = (r.try_get("", "id")?, r.try_get("", "attempts")?, r.try_get("", "record")?);
            match serde_json::from_str::<Record>(&text) {
                Ok(record) => out.push(Claimed { id, attempts, record }),
                // Left leased (and logged whenever its lease runs out) rather than stopping the others.
                Err(e) => tracing::error!(table = %self.table, id, error = %e, "unreadable audit record in the outbox"),
            }
        }
        Ok(out)
    }

    /// Hands a company's rows over in one call. A refusal that is not
    /// safety being away (a record it will not take) is retried one record
    /// per call at once, so one bad record does not hold back the others.
    async fn hand_over(&self, company_id: i64, rows: Vec<Claimed>) {
        if rows.len() > 1
            && let Err(code) = self.try_hand_over(company_id, &rows).await
            && !crate::notify::transient(code)
        {
            for row in rows {
                let _ = self.try_hand_over(company_id, std::slice::from_ref(&row)).await;
            }
            return;
        }
        if rows.len() == 1 {
            let _ = self.try_hand_over(company_id, &rows).await;
        }
    }

    /// One call to safety for `rows`: marks them delivered, or schedules their next try.
    async fn try_hand_over(&self, company_id: i64, rows: &[Claimed]) -> Result<(), tonic::Code> {
        let request = pb::RecordHumanChangesRequest { records: rows.iter().map(|r| to_proto(&r.record)).collect() };
        // A token good for this call: a record may wait longer than a token lives.
        let token = self.signer.token_for(Component::Safety, company_id);
        let table = &*self.table;
        match self.client.clone().record_human_changes(crate::grpc::request(request, &token)).await {
            Ok(_) => {
                self.handed_over.inc_by(rows.len() as u64);
                let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
                let sql = format!("UPDATE {table} SET delivered_at = $1, last_error = NULL WHERE id IN ({})", ids.join(", "));
                if let Err(e) = self.exec(sql, vec![self.clock.now().into()]).await {
                    // Safety has them; the next hand-over is a repeat it recognises by id.
                    tracing::warn!(table, error = %e, "could not mark audit records handed over; they will be handed over again");
                }
                Ok(())
            }
            Err(status) => {
                self.failures.inc();
                let (code, message) = (status.code(), status.message().to_owned());
                let attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(1);
                if !crate::notify::transient(code) {
                    tracing::error!(table, company_id, attempts, ?code, error = %message, "safety refused audit records; they stay in the outbox");
                } else if attempts == 1 {
                    tracing::warn!(table, company_id, ?code, error = %message, "safety did not take audit records; they stay in the outbox");
                } else {
                    tracing::debug!(table, company_id, attempts, ?code, "safety still did not take audit records");
                }
                let error: String = format!("{code:?}: {message}").chars().take(1000).collect();
                for row in rows {
                    let wait = self.config.backoff.jittered(row.attempts.max(1) as u32);
                    let at = (self.clock.now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)).trunc_subsecs(6);
                    let sql = format!(
                        "UPDATE {table} SET next_attempt_at = $1, last_error = $2 WHERE id = $3 AND attempts = $4 AND delivered_at IS NULL"
                    );
                    if let Err(e) = self.exec(sql, vec![at.into(), error.clone().into(), row.id.into(), row.attempts.into()]).await {
                        tracing::warn!(table, id = row.id, error = %e, "could not schedule an audit record's next hand-over");
                    }
                }
                Err(code)
            }
        }
    }

    async fn exec(&self, sql: String, values: Vec<Value>) -> Result<(), DbErr> {
        self.db.execute(Statement::from_sql_and_values(self.db.get_database_backend(), sql, values)).await.map(|_| ())
    }
}

/// A record as safety's contract carries it.
pub fn to_proto(r: &Record) -> pb::HumanRecord {
    pb::HumanRecord {
        record_id: r.record_id.clone(),
        occur_time: Some(crate::convert::timestamp(r.occurred_at)),
        source: r.source.clone(),
        actor_user_id: r.actor.user_id.clone(),
        actor_email: r.actor.email.clone(),
        actor_role: r.actor.role.clone(),
        client_address: r.actor.address.clone().unwrap_or_default(),
        resource: r.change.resource.clone(),
        resource_id: r.change.resource_id.clone(),
        action: r.change.action.clone(),
        changes: r
            .change
            .fields
            .iter()
            .map(|f| pb::HumanChange { field: f.field.clone(), before: f.before.clone(), after: f.after.clone(), masked: f.masked })
            .collect(),
        chain_seq: 0,
        chain_hash: String::new(),
        record_time: None,
    }
}
