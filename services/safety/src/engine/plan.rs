//! A batch decided in memory: each request in order, against the window and
//! the actions in flight, each event chained to the one before. The result is
//! what the batch writes (rows to insert, completions, blocks, the new head)
//! and what each caller is answered.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use chrono::{DateTime, Utc};

use super::window::WindowState;
use crate::{
    domain::{
        chain::{AuthorizeEvent, CompleteEvent, HASH_V2},
        input::{Completion, NewAction},
        limits::EffectiveLimits,
        windows::{Usage, consumed_windows, first_full},
    },
    error::Error,
    store::{
        Action, actions,
        blocks::Block,
        entities::{autonomous_action, status},
    },
};

/// What `AuthorizeAction` decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Allowed { action: Box<Action> },
    Blocked { usage: Usage, retry_after: Option<DateTime<Utc>> },
}

/// One request of a batch.
pub enum Request {
    /// An action, and the caller whose token asks for it (`service:dispatch`).
    Authorize(NewAction, String),
    Complete(Completion),
}

impl Request {
    pub fn is_authorize(&self) -> bool {
        matches!(self, Self::Authorize(..))
    }
}

/// How one request of a batch ended.
pub enum Outcome {
    Decided(Decision),
    Completed(Box<autonomous_action::Model>),
    Failed(Error),
}

/// What a batch will write, decided in memory.
pub struct Plan {
    pub outcomes: Vec<Option<Outcome>>,
    pub inserts: Vec<autonomous_action::ActiveModel>,
    /// (request index, chain position) of each admitted action.
    pub admitted: Vec<(usize, i64)>,
    pub updates: Vec<autonomous_action::Model>,
    pub blocks: Vec<Block>,
    pub seq: i64,
    pub hash: String,
}

/// What a batch is decided from, besides the window and the rows in flight.
#[derive(Clone, Copy)]
pub struct PlanInput<'a> {
    pub company_id: i64,
    pub requests: &'a [Request],
    pub limits: &'a EffectiveLimits,
    /// Where the chain head is before the batch.
    pub head_seq: i64,
    pub head_hash: &'a str,
    pub now: DateTime<Utc>,
    pub optimistic: bool,
}

/// The ids reserved for a batch's new rows (one per authorization it carries):
/// a row's hash covers its id, so the id is known before the insert.
pub type Ids = VecDeque<i64>;

/// Decides every request of a batch in order, from the window and the in-flight
/// actions (`rows`), chaining each event to the previous. With `optimistic`, gives up
/// (None) on anything the locked path must decide from the database: a block
/// (it needs "first of its window") or an action it does not know.
pub fn plan(
    input: &PlanInput<'_>,
    window: &mut WindowState,
    rows: &mut HashMap<i64, autonomous_action::Model>,
    ids: &mut Ids,
) -> Option<Plan> {
    let PlanInput { company_id, requests, limits, head_seq, head_hash, now, optimistic } = *input;
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
            Request::Authorize(a, caller) => {
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
                let Some(action_id) = ids.pop_front() else {
                    let missing = sea_orm::DbErr::Custom("no action id was reserved for an authorization".into());
                    p.outcomes.push(Some(Outcome::Failed(Error::Storage(Arc::new(missing)))));
                    continue;
                };
                p.seq += 1;
                let event = AuthorizeEvent {
                    version: HASH_V2,
                    company_id,
                    seq: p.seq,
                    action_id,
                    authorized_by: caller.clone(),
                    action: a.clone(),
                    created_at: now,
                    consumed_windows: consumed_windows(&usages),
                };
                let row_hash = event.hash(&p.hash);
                p.inserts.push(actions::new_row(&event, &p.hash, &row_hash));
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
                    p.outcomes.push(Some(Outcome::Failed(Error::NotFound(c.action_id))));
                    continue;
                };
                if row.status != status::AUTHORIZED {
                    p.outcomes.push(Some(Outcome::Failed(Error::AlreadyCompleted { id: row.id, status: row.status.clone() })));
                    continue;
                }
                p.seq += 1;
                let status = if c.success { status::SUCCEEDED } else { status::FAILED };
                let event = CompleteEvent {
                    version: row.hash_version,
                    company_id,
                    seq: p.seq,
                    action_id: row.id,
                    action_seq: row.chain_seq,
                    success: c.success,
                    status: status.to_owned(),
                    error_message: c.error_message.clone(),
                    execution_time_ms: c.execution_time_ms,
                    completed_at: now,
                };
                let completion_hash = event.hash(&p.hash);
                row.success = c.success;
                row.status = status.to_owned();
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
