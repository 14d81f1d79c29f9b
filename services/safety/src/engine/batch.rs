//! The batch queue: `AuthorizeAction` and `CompleteAction` for one company go
//! through one queue, and the queue is drained in batches, each batch one
//! transaction (group commit). Inside the transaction the company's chain-head
//! row is locked first — `SELECT … FOR UPDATE` on PostgreSQL, the database write
//! lock on SQLite — so however many callers and replicas there are, the window
//! counts a batch reads are exact and no window ever admits more than its limit.
//! The same lock orders the audit chain. A batch waits a moment (at most half
//! the last commit) for the callers the previous one answered, so that looping
//! callers share one commit rather than alternate between two. On PostgreSQL,
//! a batch this process can decide from memory takes the store's fast path
//! (one statement) instead.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use kit::clock::SharedClock;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait as _};
use tokio::sync::{mpsc, oneshot};

use super::{
    plan::{Decision, Ids, Outcome, Plan, PlanInput, Request, plan},
    window::WindowState,
};
use crate::{
    domain::{
        input::{Completion, NewAction},
        limits::{EffectiveLimits, LimitDefaults},
        windows::{LimitScope, Usage, Window},
    },
    error::Error,
    metrics::SafetyMetrics,
    peers,
    store::{
        self, Action,
        entities::status,
        fast_path::{FastPath, Swap},
    },
};

/// Most requests one transaction carries.
const MAX_BATCH: usize = 256;
/// In-flight actions remembered per company before the memory is dropped
/// (completions then read their row from the database).
const MAX_INFLIGHT: usize = 100_000;
/// Requests waiting per company before callers wait for room.
const QUEUE_DEPTH: usize = 4096;
/// Action ids reserved at once from PostgreSQL's sequence: one round trip
/// for this many authorizations.
const ID_BLOCK: usize = 256;
/// The longest a batch waits for the callers it expects (see `drain`).
const MAX_LINGER: Duration = Duration::from_millis(2);

struct Job {
    request: Request,
    reply: oneshot::Sender<Outcome>,
}

/// The per-company queues and what the batches need.
pub struct Engine {
    db: DatabaseConnection,
    /// On PostgreSQL, the connections the fast path's statements go through.
    direct: Option<FastPath>,
    clock: SharedClock,
    defaults: LimitDefaults,
    /// Where "limit reached" is committed with the block that reached it.
    outbox: kit::outbox::Outbox,
    metrics: SafetyMetrics,
    queues: Mutex<HashMap<i64, mpsc::Sender<Job>>>,
    /// On PostgreSQL, action ids taken from the sequence and not used yet.
    ids: Mutex<Vec<i64>>,
}

/// What a company's queue remembers between batches.
struct CompanyCache {
    window: WindowState,
    /// Authorized, not yet completed actions this process wrote, by id.
    inflight: HashMap<i64, Action>,
    /// The limits and the version they were read at.
    limits: Option<(i64, EffectiveLimits)>,
}

/// A committed batch, for `finish`: its plan, the rows its inserts returned,
/// and the state the next batch starts from.
struct Committed {
    plan: Plan,
    inserted: Vec<Action>,
    window: WindowState,
    inflight: HashMap<i64, Action>,
    limits_version: i64,
    limits: EffectiveLimits,
}

struct BatchResult {
    outcomes: Vec<Outcome>,
}

impl Engine {
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        defaults: LimitDefaults,
        outbox: kit::outbox::Outbox,
        metrics: SafetyMetrics,
    ) -> Arc<Self> {
        let direct = FastPath::of(&db, &metrics.queries);
        Arc::new(Self { db, direct, clock, defaults, outbox, metrics, queues: Mutex::default(), ids: Mutex::default() })
    }

    /// Admits or blocks `action`; `caller` (`service:dispatch`) enters its hash.
    pub async fn authorize(self: &Arc<Self>, company_id: i64, action: NewAction, caller: String) -> Result<Decision, Error> {
        match self.submit(company_id, Request::Authorize(action, caller)).await? {
            Outcome::Decided(d) => Ok(d),
            Outcome::Failed(e) => Err(e),
            Outcome::Completed(_) => unreachable!("an authorization is answered with a decision"),
        }
    }

    pub async fn complete(self: &Arc<Self>, company_id: i64, completion: Completion) -> Result<Action, Error> {
        match self.submit(company_id, Request::Complete(completion)).await? {
            Outcome::Completed(m) => Ok(*m),
            Outcome::Failed(e) => Err(e),
            Outcome::Decided(_) => unreachable!("a completion is answered with the action"),
        }
    }

    async fn submit(self: &Arc<Self>, company_id: i64, request: Request) -> Result<Outcome, Error> {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue(company_id);
        queue.send(Job { request, reply }).await.map_err(|_| Error::Stopped)?;
        answer.await.map_err(|_| Error::Stopped)
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
                    let e = Error::from(e);
                    tracing::error!(company_id, error = %e, "safety batch failed; nothing of it was written");
                    for reply in replies {
                        let _ = reply.send(Outcome::Failed(e.clone()));
                    }
                }
            }
        }
    }

    /// `n` action ids from PostgreSQL's sequence, a block at a time.
    async fn pg_ids(&self, n: usize) -> Result<Ids, DbErr> {
        let take = |pool: &mut Vec<i64>| -> Option<Ids> { (pool.len() >= n).then(|| pool.drain(..n).collect()) };
        if let Some(ids) = take(&mut self.ids.lock().expect("id pool lock")) {
            return Ok(ids);
        }
        let fresh = store::actions::reserve_ids(&self.db, n.max(ID_BLOCK)).await?;
        let mut pool = self.ids.lock().expect("id pool lock");
        pool.extend(fresh);
        Ok(take(&mut pool).expect("the pool was just filled"))
    }

    /// Ids a plan did not use go back to the pool (they were never inserted).
    fn unused_ids(&self, ids: Ids) {
        if self.direct.is_some() {
            self.ids.lock().expect("id pool lock").extend(ids);
        }
    }

    async fn run_batch(&self, company_id: i64, requests: &[Request], cache: &mut Option<CompanyCache>) -> Result<BatchResult, DbErr> {
        let now = self.clock.now();
        let authorizations = requests.iter().filter(|r| r.is_authorize()).count();
        // Taken out: if this batch fails, the next one starts from the database.
        let mut cached = cache.take();
        if let Some(conn) = &self.direct
            && let Some(c) = cached.as_mut()
            && let Some((version, limits)) = c.limits.clone()
        {
            c.window.prune(now);
            let (head_seq, head_hash) = (c.window.seq, c.window.hash.clone());
            let input = PlanInput { company_id, requests, limits: &limits, head_seq, head_hash: &head_hash, now, optimistic: true };
            let mut ids = self.pg_ids(authorizations).await?;
            let planned = plan(&input, &mut c.window, &mut c.inflight, &mut ids);
            self.unused_ids(ids);
            if let Some(plan) = planned {
                let swap = Swap {
                    company_id,
                    from_seq: head_seq,
                    from_hash: &head_hash,
                    limits_version: version,
                    seq: plan.seq,
                    hash: &plan.hash,
                    inserts: &plan.inserts,
                    updates: &plan.updates,
                    now,
                };
                match conn.swap(&swap).await? {
                    Some(inserted) => {
                        let c = cached.take().expect("checked above");
                        let committed =
                            Committed { plan, inserted, window: c.window, inflight: c.inflight, limits_version: version, limits };
                        return Ok(self.finish(committed, cache));
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
        let head = store::heads::lock(&txn, company_id, now, cached.is_some()).await?;
        // What this process remembers is only trusted if nobody else wrote since.
        let (mut window, mut inflight, limits) = match cached {
            Some(c) if c.window.seq == head.seq => {
                let limits = match c.limits {
                    Some((version, limits)) if version == head.limits_version => limits,
                    _ => EffectiveLimits::resolve(self.defaults, &store::limits::overrides(&txn, company_id).await?),
                };
                (c.window, c.inflight, limits)
            }
            _ => (
                WindowState::from_rows(
                    head.seq,
                    head.head_hash.clone(),
                    store::actions::window_rows(&txn, company_id, Window::Day.start(now)).await?,
                ),
                HashMap::new(),
                EffectiveLimits::resolve(self.defaults, &store::limits::overrides(&txn, company_id).await?),
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
            let found = store::actions::by_ids(&txn, company_id, unknown).await?;
            inflight.extend(found.into_iter().map(|m| (m.id, m)));
        }
        let input =
            PlanInput { company_id, requests, limits: &limits, head_seq: head.seq, head_hash: &head.head_hash, now, optimistic: false };
        let mut ids = if self.direct.is_some() {
            self.pg_ids(authorizations).await?
        } else {
            store::actions::reserve_ids(&txn, authorizations).await?.into()
        };
        let plan = plan(&input, &mut window, &mut inflight, &mut ids).expect("a locked plan always completes");
        self.unused_ids(ids);
        for (action_type, full, _) in &plan.blocks {
            log_block(company_id, action_type, full);
        }

        // "Limit reached" is committed with the block that reached it, or not at all.
        let first_blocks = store::blocks::first_of_window(&txn, company_id, &plan.blocks, now).await?;
        for (usage, retry_after) in &first_blocks {
            self.outbox.enqueue(&txn, company_id, &peers::notify::limit_reached(company_id, usage, *retry_after), now).await?;
        }
        let inserted = store::actions::insert(&txn, plan.inserts.clone()).await?;
        store::actions::complete(&txn, &plan.updates).await?;
        store::blocks::insert(&txn, company_id, &plan.blocks, now).await?;
        if plan.seq != head.seq {
            store::heads::advance(&txn, company_id, plan.seq, plan.hash.clone(), now).await?;
        }
        txn.commit().await?;
        if !first_blocks.is_empty() {
            self.outbox.wake();
        }
        let committed = Committed { plan, inserted, window, inflight, limits_version: head.limits_version, limits };
        Ok(self.finish(committed, cache))
    }

    /// After a commit: answers, remembered state, metrics.
    fn finish(&self, committed: Committed, cache: &mut Option<CompanyCache>) -> BatchResult {
        let Committed { plan, inserted, mut window, mut inflight, limits_version, limits } = committed;
        let Plan { mut outcomes, admitted, updates, seq, hash, .. } = plan;
        let mut by_seq: HashMap<i64, Action> = inserted.into_iter().map(|m| (m.chain_seq, m)).collect();
        let mut new_inflight = Vec::with_capacity(admitted.len());
        for (index, row_seq) in admitted {
            // The insert returned every row it wrote; a missing one is a bug, and
            // the caller learns its action id is unknown rather than a wrong one.
            let outcome = match by_seq.remove(&row_seq) {
                Some(action) => {
                    new_inflight.push(action.clone());
                    Outcome::Decided(Decision::Allowed { action: Box::new(action) })
                }
                None => Outcome::Failed(Error::Storage(Arc::new(DbErr::Custom(format!("chain position {row_seq} not returned"))))),
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
            let outcome = match o {
                Outcome::Decided(Decision::Allowed { .. }) => {
                    self.metrics.decisions.with_label_values(&["allowed", "", ""]).inc();
                    "allowed"
                }
                Outcome::Decided(Decision::Blocked { usage, .. }) => {
                    let scope = if usage.scope == LimitScope::Company { "company" } else { "action_type" };
                    self.metrics.decisions.with_label_values(&["blocked", scope, usage.window.name()]).inc();
                    "blocked"
                }
                Outcome::Completed(m) => {
                    self.metrics.completions.with_label_values(&[&m.status]).inc();
                    if m.status == status::SUCCEEDED { "succeeded" } else { "failed" }
                }
                Outcome::Failed(_) => "error",
            };
            self.metrics.actions.with_label_values(&[outcome]).inc();
        }
        BatchResult { outcomes }
    }
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
