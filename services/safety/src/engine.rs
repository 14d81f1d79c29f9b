//! The admission engine: `AuthorizeAction` and `CompleteAction` for one company
//! go through one queue, and the queue is drained in batches, each batch one
//! transaction (group commit). Inside the transaction the company's chain-head
//! row is locked first — `SELECT … FOR UPDATE` on PostgreSQL, the database write
//! lock on SQLite — so however many callers and replicas there are, the window
//! counts a batch reads are exact and no window ever admits more than its limit.
//! The same lock orders the audit chain. A batch waits a moment (at most half
//! the last commit) for the callers the previous one answered, so that looping
//! callers share one commit rather than alternate between two.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use kit::clock::SharedClock;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, Statement, TransactionTrait as _, sea_query::OnConflict,
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    domain::{
        chain::{AuthorizeEvent, CompleteEvent, GENESIS},
        input::{Completion, NewAction},
        limits::{EffectiveLimits, LimitDefaults},
        windows::{Counts, LimitScope, Usage, Window, consumed_windows, first_full, slot_frees_at},
    },
    entities::{audit_chain_head, autonomous_action, safety_block, status},
    metrics::SafetyMetrics,
    peers, store,
};

/// Most requests one transaction carries.
const MAX_BATCH: usize = 256;
/// In-flight actions remembered per company before the memory is dropped
/// (completions then read their row from the database).
const MAX_INFLIGHT: usize = 100_000;
/// Requests waiting per company before callers wait for room.
const QUEUE_DEPTH: usize = 4096;
/// Connections the fast path keeps outside the pool: as many companies'
/// batches can be in flight at once (each company sends one at a time).
const DIRECT_CONNECTIONS: usize = 4;
/// Run on each fast-path connection. The fast path reaches every row by key
/// (the chain head, the actions it completes), and its statements are prepared
/// once: a generic plan made while `autonomous_action` was small (a sequential
/// scan joined by hash) was kept as the table grew, and each batch then read
/// the whole table (BENCHMARKS.md, "Safety").
const FAST_PATH_SETUP: &str = "SET enable_seqscan = off";
/// The longest a batch waits for the callers it expects (see `drain`).
const MAX_LINGER: Duration = Duration::from_millis(2);

/// What `AuthorizeAction` decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Allowed { action: Box<autonomous_action::Model> },
    Blocked { usage: Usage, retry_after: Option<DateTime<Utc>> },
}

/// Why a request could not be carried out.
#[derive(Clone, Debug, thiserror::Error)]
pub enum EngineError {
    #[error("action {0} not found")]
    NotFound(i64),
    #[error("action {id} is already {status}")]
    AlreadyCompleted { id: i64, status: String },
    #[error("storage: {0}")]
    Storage(Arc<DbErr>),
    #[error("the safety engine stopped")]
    Stopped,
}

impl From<DbErr> for EngineError {
    fn from(e: DbErr) -> Self {
        Self::Storage(Arc::new(e))
    }
}

enum Request {
    Authorize(NewAction),
    Complete(Completion),
}

enum Outcome {
    Decided(Decision),
    Completed(Box<autonomous_action::Model>),
    Failed(EngineError),
}

struct Job {
    request: Request,
    reply: oneshot::Sender<Outcome>,
}

/// The per-company queues and what the batches need.
pub struct Engine {
    db: DatabaseConnection,
    /// On PostgreSQL, the connections the fast path's statements go through.
    direct: Option<kit::db::DirectPg>,
    clock: SharedClock,
    defaults: LimitDefaults,
    /// Where "limit reached" is committed with the block that reached it.
    outbox: kit::outbox::Outbox,
    metrics: SafetyMetrics,
    queues: Mutex<HashMap<i64, mpsc::Sender<Job>>>,
}

impl Engine {
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        defaults: LimitDefaults,
        outbox: kit::outbox::Outbox,
        metrics: SafetyMetrics,
    ) -> Arc<Self> {
        let direct = kit::db::DirectPg::of(&db, DIRECT_CONNECTIONS, FAST_PATH_SETUP);
        Arc::new(Self { db, direct, clock, defaults, outbox, metrics, queues: Mutex::default() })
    }

    pub async fn authorize(self: &Arc<Self>, company_id: i64, action: NewAction) -> Result<Decision, EngineError> {
        match self.submit(company_id, Request::Authorize(action)).await? {
            Outcome::Decided(d) => Ok(d),
            Outcome::Failed(e) => Err(e),
            Outcome::Completed(_) => unreachable!("an authorization is answered with a decision"),
        }
    }

    pub async fn complete(self: &Arc<Self>, company_id: i64, completion: Completion) -> Result<autonomous_action::Model, EngineError> {
        match self.submit(company_id, Request::Complete(completion)).await? {
            Outcome::Completed(m) => Ok(*m),
            Outcome::Failed(e) => Err(e),
            Outcome::Decided(_) => unreachable!("a completion is answered with the action"),
        }
    }

    async fn submit(self: &Arc<Self>, company_id: i64, request: Request) -> Result<Outcome, EngineError> {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue(company_id);
        queue.send(Job { request, reply }).await.map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    fn queue(self: &Arc<Self>, company_id: i64) -> mpsc::Sender<Job> {
        let mut queues = self.queues.lock().expect("queue map lock");
        queues
            .entry(company_id)
            .or_insert_with(|| {
                let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
                tokio::spawn(self.clone().drain(company_id, rx));
                tx
            })
            .clone()
    }

    /// Takes whatever is waiting (up to a batch) and runs it as one transaction.
    async fn drain(self: Arc<Self>, company_id: i64, mut rx: mpsc::Receiver<Job>) {
        // The company's counted actions, valid while the chain head is still where
        // the last batch of this process left it.
        let mut cache: Option<CompanyCache> = None;
        // How many requests the next batch waits a moment for: the callers the
        // last batch answered (a caller in a loop calls again at once) plus the
        // requests that were already waiting when it ended. Without this, callers
        // split into two halves that alternate between half-sized commits (at 8
        // callers, 4 requests per commit instead of 8); the wait lasts at most
        // half the last commit, and never more than MAX_LINGER.
        let mut expected = 1usize;
        let mut last_commit = Duration::ZERO;
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            if jobs.len() < expected.min(MAX_BATCH) {
                let deadline = tokio::time::Instant::now() + (last_commit / 2).min(MAX_LINGER);
                while jobs.len() < expected.min(MAX_BATCH) {
                    tokio::select! {
                        job = rx.recv() => match job { Some(job) => jobs.push(job), None => break },
                        _ = tokio::time::sleep_until(deadline) => break,
                    }
                }
            }
            let started = Instant::now();
            self.metrics.batch_size.observe(jobs.len() as f64);
            let (requests, replies): (Vec<Request>, Vec<oneshot::Sender<Outcome>>) = jobs.into_iter().map(|j| (j.request, j.reply)).unzip();
            let run = std::panic::AssertUnwindSafe(self.run_batch(company_id, &requests, &mut cache));
            match futures::FutureExt::catch_unwind(run).await.unwrap_or_else(|_| Err(DbErr::Custom("a safety batch panicked".into()))) {
                Ok(batch) => {
                    last_commit = started.elapsed();
                    expected = batch.outcomes.len() + rx.len();
                    for (reply, outcome) in replies.into_iter().zip(batch.outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                Err(e) => {
                    let e = EngineError::from(e);
                    tracing::error!(company_id, error = %e, "safety batch failed; nothing of it was written");
                    for reply in replies {
                        let _ = reply.send(Outcome::Failed(e.clone()));
                    }
                }
            }
        }
    }

    async fn run_batch(&self, company_id: i64, requests: &[Request], cache: &mut Option<CompanyCache>) -> Result<BatchResult, DbErr> {
        let now = self.clock.now();
        // Taken out: if this batch fails, the next one starts from the database.
        let mut cached = cache.take();
        if let Some(conn) = &self.direct
            && let Some(c) = cached.as_mut()
            && let Some((version, limits)) = c.limits.clone()
        {
            c.window.prune(now);
            let (head_seq, head_hash) = (c.window.seq, c.window.hash.clone());
            if let Some(plan) = plan(company_id, requests, &mut c.window, &mut c.inflight, &limits, head_seq, &head_hash, now, true) {
                match swap_head(conn, company_id, &plan, head_seq, &head_hash, version, now).await? {
                    Some(inserted) => {
                        let c = cached.take().expect("checked above");
                        return Ok(self.finish(plan, inserted, c.window, c.inflight, version, limits, cache));
                    }
                    // Another writer moved the head: what this process remembers is stale.
                    None => cached = None,
                }
            } else {
                // A block or an unknown action: the locked path decides, from the database.
                cached = None;
            }
        }

        let txn = self.db.begin().await?;
        let head = lock_head(&txn, company_id, now, cached.is_some()).await?;
        // What this process remembers is only trusted if nobody else wrote since.
        let (mut window, mut inflight, limits) = match cached {
            Some(c) if c.window.seq == head.seq => {
                let limits = match c.limits {
                    Some((version, limits)) if version == head.limits_version => limits,
                    _ => EffectiveLimits::resolve(self.defaults, &store::overrides(&txn, company_id).await?),
                };
                (c.window, c.inflight, limits)
            }
            _ => (
                WindowState::load(&txn, company_id, &head, now).await?,
                HashMap::new(),
                EffectiveLimits::resolve(self.defaults, &store::overrides(&txn, company_id).await?),
            ),
        };
        window.prune(now);

        let unknown: Vec<i64> = requests
            .iter()
            .filter_map(|r| match r {
                Request::Complete(c) if !inflight.contains_key(&c.action_id) => Some(c.action_id),
                _ => None,
            })
            .collect();
        if !unknown.is_empty() {
            let found = autonomous_action::Entity::find()
                .filter(autonomous_action::Column::CompanyId.eq(company_id))
                .filter(autonomous_action::Column::Id.is_in(unknown))
                .all(&txn)
                .await?;
            inflight.extend(found.into_iter().map(|m| (m.id, m)));
        }
        let plan = plan(company_id, requests, &mut window, &mut inflight, &limits, head.seq, &head.head_hash, now, false)
            .expect("a locked plan always completes");
        for (action_type, full, _) in &plan.blocks {
            log_block(company_id, action_type, full);
        }

        // "Limit reached" is committed with the block that reached it, or not at all.
        let first_blocks = first_blocks_of_window(&txn, company_id, &plan.blocks, now).await?;
        for (usage, retry_after) in &first_blocks {
            self.outbox.enqueue(&txn, company_id, &peers::notify::limit_reached(company_id, usage, *retry_after), now).await?;
        }
        let inserted = if plan.inserts.is_empty() {
            Vec::new()
        } else {
            autonomous_action::Entity::insert_many(plan.inserts.clone()).exec_with_returning_many(&txn).await?
        };
        complete_rows(&txn, &plan.updates).await?;
        if !plan.blocks.is_empty() {
            let rows = plan.blocks.iter().map(|(action_type, u, _)| safety_block::ActiveModel {
                company_id: Set(company_id),
                action_type: Set(action_type.clone()),
                scope: Set(u.scope.key()),
                window: Set(u.window.name().to_owned()),
                limit_value: Set(u.limit as i32),
                used: Set(u.used as i32),
                created_at: Set(now),
                ..Default::default()
            });
            safety_block::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        }
        if plan.seq != head.seq {
            audit_chain_head::ActiveModel {
                company_id: Set(company_id),
                seq: Set(plan.seq),
                head_hash: Set(plan.hash.clone()),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
        txn.commit().await?;
        if !first_blocks.is_empty() {
            self.outbox.wake();
        }
        Ok(self.finish(plan, inserted, window, inflight, head.limits_version, limits, cache))
    }

    /// After a commit: answers, remembered state, metrics.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        plan: Plan,
        inserted: Vec<autonomous_action::Model>,
        mut window: WindowState,
        mut inflight: HashMap<i64, autonomous_action::Model>,
        limits_version: i64,
        limits: EffectiveLimits,
        cache: &mut Option<CompanyCache>,
    ) -> BatchResult {
        let Plan { mut outcomes, admitted, updates, seq, hash, .. } = plan;
        let mut by_seq: HashMap<i64, autonomous_action::Model> = inserted.into_iter().map(|m| (m.chain_seq, m)).collect();
        let mut new_inflight = Vec::with_capacity(admitted.len());
        for (index, row_seq) in admitted {
            // The insert returned every row it wrote; a missing one is a bug, and
            // the caller learns its action id is unknown rather than a wrong one.
            let outcome = match by_seq.remove(&row_seq) {
                Some(action) => {
                    new_inflight.push(action.clone());
                    Outcome::Decided(Decision::Allowed { action: Box::new(action) })
                }
                None => Outcome::Failed(EngineError::Storage(Arc::new(DbErr::Custom(format!("chain position {row_seq} not returned"))))),
            };
            outcomes[index] = Some(outcome);
        }
        window.seq = seq;
        window.hash = hash;
        for row in &updates {
            inflight.remove(&row.id);
        }
        // Rows read for a completion that was refused need not stay.
        inflight.retain(|_, m| m.status == status::AUTHORIZED);
        if inflight.len() + new_inflight.len() > MAX_INFLIGHT {
            inflight.clear();
        }
        inflight.extend(new_inflight.into_iter().map(|m| (m.id, m)));
        *cache = Some(CompanyCache { window, inflight, limits: Some((limits_version, limits)) });

        let outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.expect("every request has an outcome")).collect();
        for o in &outcomes {
            match o {
                Outcome::Decided(Decision::Allowed { .. }) => self.metrics.decisions.with_label_values(&["allowed", "", ""]).inc(),
                Outcome::Decided(Decision::Blocked { usage, .. }) => {
                    let scope = if usage.scope == LimitScope::Company { "company" } else { "action_type" };
                    self.metrics.decisions.with_label_values(&["blocked", scope, usage.window.name()]).inc();
                }
                Outcome::Completed(m) => self.metrics.completions.with_label_values(&[&m.status]).inc(),
                Outcome::Failed(_) => {}
            }
        }
        BatchResult { outcomes }
    }
}

/// What a batch will write, decided in memory.
struct Plan {
    outcomes: Vec<Option<Outcome>>,
    inserts: Vec<autonomous_action::ActiveModel>,
    /// (request index, chain position) of each admitted action.
    admitted: Vec<(usize, i64)>,
    updates: Vec<autonomous_action::Model>,
    blocks: Vec<(String, Usage, Option<DateTime<Utc>>)>,
    seq: i64,
    hash: String,
}

/// Decides every request of a batch in order, from the window and the in-flight
/// actions, chaining each event to the previous. With `optimistic`, gives up
/// (None) on anything the locked path must decide from the database: a block
/// (it needs "first of its window") or an action it does not know.
#[allow(clippy::too_many_arguments)]
fn plan(
    company_id: i64,
    requests: &[Request],
    window: &mut WindowState,
    rows: &mut HashMap<i64, autonomous_action::Model>,
    limits: &EffectiveLimits,
    head_seq: i64,
    head_hash: &str,
    now: DateTime<Utc>,
    optimistic: bool,
) -> Option<Plan> {
    let mut p = Plan {
        outcomes: Vec::with_capacity(requests.len()),
        inserts: Vec::new(),
        admitted: Vec::new(),
        updates: Vec::new(),
        blocks: Vec::new(),
        seq: head_seq,
        hash: head_hash.to_owned(),
    };
    for request in requests {
        match request {
            Request::Authorize(a) => {
                let usages = window.usages(limits, &a.action_type, now);
                if let Some(full) = first_full(&usages) {
                    if optimistic {
                        return None;
                    }
                    let retry_after = window.frees_at(&usages, now);
                    p.blocks.push((a.action_type.clone(), full.clone(), retry_after));
                    p.outcomes.push(Some(Outcome::Decided(Decision::Blocked { usage: full.clone(), retry_after })));
                    continue;
                }
                p.seq += 1;
                let event = AuthorizeEvent {
                    company_id,
                    seq: p.seq,
                    action: a.clone(),
                    created_at: now,
                    consumed_windows: consumed_windows(&usages),
                };
                let row_hash = event.hash(&p.hash);
                p.inserts.push(new_row(&event, &p.hash, &row_hash));
                p.hash = row_hash;
                window.admit(&a.action_type, now, p.seq);
                p.admitted.push((p.outcomes.len(), p.seq));
                p.outcomes.push(None);
            }
            Request::Complete(c) => {
                let Some(row) = rows.get_mut(&c.action_id) else {
                    if optimistic {
                        return None;
                    }
                    p.outcomes.push(Some(Outcome::Failed(EngineError::NotFound(c.action_id))));
                    continue;
                };
                if row.status != status::AUTHORIZED {
                    p.outcomes.push(Some(Outcome::Failed(EngineError::AlreadyCompleted { id: row.id, status: row.status.clone() })));
                    continue;
                }
                p.seq += 1;
                let event = CompleteEvent {
                    company_id,
                    seq: p.seq,
                    action_seq: row.chain_seq,
                    success: c.success,
                    error_message: c.error_message.clone(),
                    execution_time_ms: c.execution_time_ms,
                    completed_at: now,
                };
                let completion_hash = event.hash(&p.hash);
                row.success = c.success;
                row.status = if c.success { status::SUCCEEDED } else { status::FAILED }.to_owned();
                row.error_message = c.error_message.clone();
                row.execution_time_ms = c.execution_time_ms;
                row.updated_at = now;
                row.completion_seq = Some(p.seq);
                row.completion_hash = Some(completion_hash.clone());
                p.hash = completion_hash;
                if !c.success {
                    // A failed action frees its slot, for this batch too.
                    window.release(row.chain_seq, &row.action_type, row.created_at);
                }
                p.updates.push(row.clone());
                p.outcomes.push(Some(Outcome::Completed(Box::new(row.clone()))));
            }
        }
    }
    Some(p)
}

/// The PostgreSQL fast path: one statement that moves the chain head from where
/// this process left it (`seq`, `hash`, limits version) to the plan's, and writes
/// the plan's rows only if that compare-and-swap succeeded. A statement is atomic,
/// and the head row's lock orders it against every other writer. Returns the
/// inserted rows, or None when another writer had moved the head.
async fn swap_head(
    conn: &kit::db::DirectPg,
    company_id: i64,
    plan: &Plan,
    seq: i64,
    hash: &str,
    limits_version: i64,
    now: DateTime<Utc>,
) -> Result<Option<Vec<autonomous_action::Model>>, DbErr> {
    use sea_orm::{TryIntoModel as _, Value};
    let mut values: Vec<Value> = vec![
        plan.seq.into(),
        plan.hash.clone().into(),
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
    ];
    if !plan.inserts.is_empty() {
        let mut tuples = Vec::with_capacity(plan.inserts.len());
        for row in &plan.inserts {
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
        for r in &plan.updates {
            let cells: Vec<String> = completion_cells(r).into_iter().map(|v| param(&mut values, v)).collect();
            tuples.push(format!("({})", cells.join(", ")));
        }
        sql.push_str(&format!(
            ", upd AS (UPDATE autonomous_action SET {COMPLETION_SET} FROM (VALUES {}) AS v \
             WHERE autonomous_action.id = v.column1 AND EXISTS (SELECT 1 FROM cas) RETURNING autonomous_action.id)",
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
    let rows = conn.query_all(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
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
    for row in &plan.inserts {
        let Some(&id) = row.chain_seq.try_as_ref().and_then(|seq| ids.get(seq)) else { continue };
        let mut row = row.clone();
        row.id = Set(id);
        inserted.push(row.try_into_model()?);
    }
    Ok(Some(inserted))
}

struct BatchResult {
    outcomes: Vec<Outcome>,
}

fn log_block(company_id: i64, action_type: &str, full: &Usage) {
    tracing::warn!(
        blocked_by_limits = true,
        company_id,
        action_type,
        scope = full.scope.label(),
        window = full.window.name(),
        limit = full.limit,
        used = full.used,
        "action blocked_by_limits: limit reached"
    );
}

/// Creates the company's chain head if it does not exist yet.
pub(crate) async fn ensure_head(txn: &DatabaseTransaction, company_id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    audit_chain_head::Entity::insert(audit_chain_head::ActiveModel {
        company_id: Set(company_id),
        seq: Set(0),
        head_hash: Set(GENESIS.to_owned()),
        updated_at: Set(now),
        limits_version: Set(0),
    })
    .on_conflict(OnConflict::column(audit_chain_head::Column::CompanyId).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await
    .map(|_| ())
}

/// Locks the company's chain head for the rest of the transaction, creating it
/// on first use. `known` skips the creation attempt when this process has seen
/// the head before.
async fn lock_head(txn: &DatabaseTransaction, company_id: i64, now: DateTime<Utc>, known: bool) -> Result<audit_chain_head::Model, DbErr> {
    let select = || audit_chain_head::Entity::find_by_id(company_id).lock_exclusive().one(txn);
    if txn.get_database_backend() == DbBackend::Sqlite {
        // SQLite has no row locks: a first write takes the database write lock
        // before anything is read. The no-op insert is that write.
        ensure_head(txn, company_id, now).await?;
    } else if known && let Some(head) = select().await? {
        return Ok(head);
    } else {
        ensure_head(txn, company_id, now).await?;
    }
    select().await?.ok_or_else(|| DbErr::RecordNotFound(format!("audit chain head of company {company_id}")))
}

/// What a company's queue remembers between batches.
struct CompanyCache {
    window: WindowState,
    /// Authorized, not yet completed actions this process wrote, by id.
    inflight: HashMap<i64, autonomous_action::Model>,
    /// The limits and the version they were read at.
    limits: Option<(i64, EffectiveLimits)>,
}

/// Writes a completion from `v`, a VALUES row laid out by [`completion_cells`]
/// (VALUES columns are named column1.. on both PostgreSQL and SQLite).
const COMPLETION_SET: &str = "success = v.column2, status = v.column3, error_message = v.column4, execution_time_ms = v.column5, \
     updated_at = v.column6, completion_seq = v.column7, completion_hash = v.column8";

/// A completed row's VALUES cells, in the order [`COMPLETION_SET`] reads them.
fn completion_cells(r: &autonomous_action::Model) -> [sea_orm::Value; 8] {
    [
        r.id.into(),
        r.success.into(),
        r.status.clone().into(),
        r.error_message.clone().into(),
        r.execution_time_ms.into(),
        r.updated_at.into(),
        r.completion_seq.into(),
        r.completion_hash.clone().into(),
    ]
}

/// Writes the completions of a batch in one statement.
async fn complete_rows(txn: &DatabaseTransaction, rows: &[autonomous_action::Model]) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let mut values = Vec::with_capacity(rows.len() * 8);
    let mut tuples = Vec::with_capacity(rows.len());
    for r in rows {
        let cells: Vec<String> = completion_cells(r)
            .into_iter()
            .map(|v| {
                values.push(v);
                if backend == DbBackend::Postgres { format!("${}", values.len()) } else { "?".to_owned() }
            })
            .collect();
        tuples.push(format!("({})", cells.join(", ")));
    }
    let sql = format!(
        "UPDATE autonomous_action SET {COMPLETION_SET} FROM (VALUES {}) AS v WHERE autonomous_action.id = v.column1",
        tuples.join(", ")
    );
    let res = txn.execute(Statement::from_sql_and_values(backend, sql, values)).await?;
    if res.rows_affected() != rows.len() as u64 {
        return Err(DbErr::Custom(format!("completed {} of {} actions", res.rows_affected(), rows.len())));
    }
    Ok(())
}

/// The counted (authorized or succeeded) actions of a company's last 24 hours,
/// oldest first, as of chain position `seq`: per company and per action type, so
/// every window count is a binary search.
#[derive(Clone)]
struct WindowState {
    seq: i64,
    /// The chain head's hash at `seq`.
    hash: String,
    /// (created_at, chain_seq)
    company: VecDeque<(DateTime<Utc>, i64)>,
    by_type: HashMap<String, VecDeque<(DateTime<Utc>, i64)>>,
}

impl WindowState {
    async fn load(txn: &DatabaseTransaction, company_id: i64, head: &audit_chain_head::Model, now: DateTime<Utc>) -> Result<Self, DbErr> {
        let rows: Vec<(i64, String, DateTime<Utc>)> = autonomous_action::Entity::find()
            .select_only()
            .columns([autonomous_action::Column::ChainSeq, autonomous_action::Column::ActionType, autonomous_action::Column::CreatedAt])
            .filter(autonomous_action::Column::CompanyId.eq(company_id))
            .filter(autonomous_action::Column::Status.ne(status::FAILED))
            .filter(autonomous_action::Column::CreatedAt.gt(Window::Day.start(now)))
            .order_by_asc(autonomous_action::Column::CreatedAt)
            .order_by_asc(autonomous_action::Column::ChainSeq)
            .into_tuple()
            .all(txn)
            .await?;
        let mut state =
            Self { seq: head.seq, hash: head.head_hash.clone(), company: VecDeque::with_capacity(rows.len()), by_type: HashMap::new() };
        for (row_seq, action_type, at) in rows {
            state.push(&action_type, at, row_seq);
        }
        Ok(state)
    }

    fn push(&mut self, action_type: &str, at: DateTime<Utc>, seq: i64) {
        self.company.push_back((at, seq));
        self.by_type.entry(action_type.to_owned()).or_default().push_back((at, seq));
    }

    /// Forgets what left the 24-hour window.
    fn prune(&mut self, now: DateTime<Utc>) {
        let start = Window::Day.start(now);
        while self.company.front().is_some_and(|(at, _)| *at <= start) {
            self.company.pop_front();
        }
        self.by_type.retain(|_, q| {
            while q.front().is_some_and(|(at, _)| *at <= start) {
                q.pop_front();
            }
            !q.is_empty()
        });
    }

    fn in_window(q: &VecDeque<(DateTime<Utc>, i64)>, window: Window, now: DateTime<Utc>) -> u32 {
        let start = window.start(now);
        (q.len() - q.partition_point(|(at, _)| *at <= start)) as u32
    }

    fn usages(&self, limits: &EffectiveLimits, action_type: &str, now: DateTime<Utc>) -> [Usage; 4] {
        let empty = VecDeque::new();
        let typed = self.by_type.get(action_type).unwrap_or(&empty);
        let counts = Counts {
            company: [Self::in_window(&self.company, Window::Hour, now), Self::in_window(&self.company, Window::Day, now)],
            by_type: HashMap::from([(
                action_type.to_owned(),
                [Self::in_window(typed, Window::Hour, now), Self::in_window(typed, Window::Day, now)],
            )]),
        };
        counts.usages(limits, action_type)
    }

    fn admit(&mut self, action_type: &str, now: DateTime<Utc>, seq: i64) {
        self.push(action_type, now, seq);
    }

    /// A failed action leaves the windows (it was counted while in flight).
    fn release(&mut self, seq: i64, action_type: &str, created_at: DateTime<Utc>) {
        let remove = |q: &mut VecDeque<(DateTime<Utc>, i64)>| {
            let from = q.partition_point(|(at, _)| *at < created_at);
            if let Some(pos) = q.iter().skip(from).position(|(_, s)| *s == seq) {
                q.remove(from + pos);
            }
        };
        remove(&mut self.company);
        if let Some(q) = self.by_type.get_mut(action_type) {
            remove(q);
        }
    }

    /// When every full window among `usages` has a free slot again, if ever.
    fn frees_at(&self, usages: &[Usage], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut latest: Option<DateTime<Utc>> = None;
        for u in usages.iter().filter(|u| u.is_full()) {
            let rows: Vec<(&str, DateTime<Utc>)> = match &u.scope {
                LimitScope::Company => self.company.iter().map(|(at, _)| ("", *at)).collect(),
                LimitScope::Type(t) => self.by_type.get(t).map(|q| q.iter().map(|(at, _)| (t.as_str(), *at)).collect()).unwrap_or_default(),
            };
            let frees = slot_frees_at(rows, u, now)?;
            latest = Some(latest.map_or(frees, |l| l.max(frees)));
        }
        latest
    }
}

/// The blocks in this batch that are the first of their window (no block of the
/// same scope and window in the window's length before): one notice each.
async fn first_blocks_of_window(
    txn: &DatabaseTransaction,
    company_id: i64,
    blocks: &[(String, Usage, Option<DateTime<Utc>>)],
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

fn new_row(e: &AuthorizeEvent, prev_hash: &str, row_hash: &str) -> autonomous_action::ActiveModel {
    let a = &e.action;
    autonomous_action::ActiveModel {
        company_id: Set(e.company_id),
        booking_id: Set(a.booking_id),
        driver_id: Set(a.driver_id),
        action_type: Set(a.action_type.clone()),
        action_description: Set(a.description.clone()),
        action_data: Set(a.data.clone()),
        success: Set(false),
        error_message: Set(None),
        execution_time_ms: Set(None),
        confidence_score: Set(a.confidence_score),
        expected_improvement_minutes: Set(a.expected_improvement_minutes),
        trigger_source: Set(a.trigger_source.clone()),
        reviewed_by_admin: Set(false),
        reviewed_at: Set(None),
        admin_notes: Set(None),
        created_at: Set(e.created_at),
        updated_at: Set(e.created_at),
        status: Set(status::AUTHORIZED.to_owned()),
        reviewed_by: Set(None),
        consumed_windows: Set(e.consumed_windows.clone()),
        chain_seq: Set(e.seq),
        prev_hash: Set(prev_hash.to_owned()),
        row_hash: Set(row_hash.to_owned()),
        completion_seq: Set(None),
        completion_hash: Set(None),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
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
            "EXPLAIN UPDATE autonomous_action SET {COMPLETION_SET} FROM (VALUES {}) AS v WHERE autonomous_action.id = v.column1",
            values.join(", ")
        );
        let plan = |direct: kit::db::DirectPg| {
            let explain = Statement::from_string(DbBackend::Postgres, explain.clone());
            async move {
                let rows = direct.query_all(explain).await.unwrap();
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
