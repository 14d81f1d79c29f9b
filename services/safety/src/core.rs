//! The safety service's state and its use cases, in plain types: authorize
//! and complete actions (through the admission engine), read and replace the
//! limits, check them without acting, list, read and review the trail, its
//! stats, and verify its chain. The caller (the API) has checked who is asking
//! and what they sent.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use kit::clock::SharedClock;
use sea_orm::DatabaseConnection;

use crate::{
    domain::{
        chain::{self, Verification},
        input::{Completion, NewAction},
        limits::{EffectiveLimits, LimitDefaults, Override},
        windows::{Counts, Usage, Window, first_full, slot_frees_at},
    },
    engine::Engine,
    error::Error,
    store::{self, Action, actions::ActionFilter, stats::Stats},
};

pub use crate::engine::Decision;

/// What the use cases are built from.
pub struct Deps {
    pub db: DatabaseConnection,
    pub defaults: LimitDefaults,
    pub engine: Arc<Engine>,
    pub clock: SharedClock,
    /// Checkpoints are verified with its public half.
    pub signing_key: SigningKey,
}

/// What CheckLimits answers: whether an action would be admitted now, and
/// each window it must fit in, with when a full one frees a slot.
pub struct LimitCheck {
    pub would_allow: bool,
    pub usages: Vec<(Usage, Option<DateTime<Utc>>)>,
}

/// The service: the database, the admission engine, the clock and the key.
pub struct Safety {
    db: DatabaseConnection,
    defaults: LimitDefaults,
    engine: Arc<Engine>,
    clock: SharedClock,
    signing_key: SigningKey,
}

impl Safety {
    pub fn new(d: Deps) -> Self {
        Self { db: d.db, defaults: d.defaults, engine: d.engine, clock: d.clock, signing_key: d.signing_key }
    }

    /// Admits `action` if every window has room, recording it in the same batch.
    pub async fn authorize(&self, company_id: i64, action: NewAction) -> Result<Decision, Error> {
        self.engine.authorize(company_id, action).await
    }

    /// Records how an action ended; a failure frees its slot.
    pub async fn complete(&self, company_id: i64, completion: Completion) -> Result<Action, Error> {
        let action = self.engine.complete(company_id, completion).await?;
        if !action.success {
            tracing::info!(company_id, action_id = action.id, action_type = %action.action_type, "autonomous action failed; its slot is freed");
        }
        Ok(action)
    }

    /// The windows an action of `action_type` must fit in, as of now.
    pub async fn check_limits(&self, company_id: i64, action_type: &str) -> Result<LimitCheck, Error> {
        let now = self.clock.now();
        let limits = self.limits(company_id).await?;
        let counted = store::actions::counted_since(&self.db, company_id, Window::Day.start(now)).await?;
        let mut counts = Counts::default();
        for (t, at) in &counted {
            counts.add(t, *at, now);
        }
        let usages = counts.usages(&limits, action_type);
        let would_allow = first_full(&usages).is_none();
        let usages = usages
            .iter()
            .map(|u| {
                let frees = u.is_full().then(|| slot_frees_at(counted.iter().map(|(t, at)| (t.as_str(), *at)), u, now)).flatten();
                (u.clone(), frees)
            })
            .collect();
        Ok(LimitCheck { would_allow, usages })
    }

    /// The limits in force for the company: the defaults under its overrides.
    pub async fn limits(&self, company_id: i64) -> Result<EffectiveLimits, Error> {
        let overrides = store::limits::overrides(&self.db, company_id).await?;
        Ok(EffectiveLimits::resolve(self.defaults, &overrides))
    }

    /// Replaces every override of the company (`user` asked) and answers the
    /// limits now in force.
    pub async fn set_limits(&self, company_id: i64, user: &str, overrides: &[Override]) -> Result<EffectiveLimits, Error> {
        store::limits::replace_overrides(&self.db, company_id, overrides).await?;
        tracing::info!(company_id, user = %user, overrides = overrides.len(), "safety limits replaced");
        self.limits(company_id).await
    }

    /// One page of the company's actions, newest first, and how many match.
    pub async fn list(&self, company_id: i64, filter: &ActionFilter, page: u64, per_page: u64) -> Result<(Vec<Action>, u64), Error> {
        Ok(store::actions::list_actions(&self.db, company_id, filter, page, per_page).await?)
    }

    /// The stats of the last `length`.
    pub async fn stats(&self, company_id: i64, length: Duration) -> Result<Stats, Error> {
        Ok(store::stats::stats(&self.db, company_id, self.clock.now() - length).await?)
    }

    pub async fn get(&self, company_id: i64, id: i64) -> Result<Action, Error> {
        store::actions::get_action(&self.db, company_id, id).await?.ok_or(Error::NotFound(id))
    }

    /// Marks an action reviewed by `reviewer`, once.
    pub async fn review(&self, company_id: i64, id: i64, reviewer: &str, notes: &str) -> Result<Action, Error> {
        let row = store::actions::review(&self.db, company_id, id, reviewer, notes, self.clock.now()).await?;
        tracing::info!(company_id, action_id = row.id, reviewer = %reviewer, "autonomous action reviewed");
        Ok(row)
    }

    /// Verifies the company's trail against its chain and checkpoints; also
    /// answers when the last checkpoint was signed.
    pub async fn verify(&self, company_id: i64) -> Result<(Verification, Option<DateTime<Utc>>), Error> {
        let (rows, checkpoints) = store::checkpoints::chain_of(&self.db, company_id).await?;
        let last = checkpoints.last().map(|c| c.signed_at);
        let v = chain::verify(&rows, &checkpoints, &self.signing_key.verifying_key());
        if !v.breaks.is_empty() {
            tracing::error!(company_id, breaks = v.breaks.len(), "audit chain verification found tampering");
        }
        Ok((v, last))
    }
}
