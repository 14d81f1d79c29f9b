//! The safety service's state and its use cases, in plain types: authorize
//! and complete actions (through the admission engine), read and replace the
//! limits (a person's change recorded in the chain), check them without
//! acting, list, read and review the trail, its stats (over a period or
//! bucket by bucket), append and list the
//! human audit records, and verify the chain. The caller (the API) has checked who is asking
//! and what they sent.

use std::{path::PathBuf, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use kit::{
    audit_trail::{Actor, Change},
    clock::SharedClock,
};
use sea_orm::{DatabaseConnection, TransactionTrait as _};

use crate::{
    domain::{
        buckets::Bucketing,
        chain::Verification,
        checkpoint::KnownKeys,
        human::{AuditFilter, HumanRecord, StoredHuman},
        input::{Completion, NewAction},
        limits::{EffectiveLimits, LimitDefaults, Override, Scope},
        windows::{Counts, Usage, Window, first_full, slot_frees_at},
    },
    engine::Engine,
    error::Error,
    store::{
        self, Action,
        actions::ActionFilter,
        human::Appended,
        stats::{Bucket, Stats},
    },
};

pub use crate::engine::Decision;

/// What the use cases are built from.
pub struct Deps {
    pub db: DatabaseConnection,
    pub defaults: LimitDefaults,
    pub engine: Arc<Engine>,
    pub clock: SharedClock,
    /// The public keys checkpoints are verified with.
    pub known_keys: KnownKeys,
    /// The witness file the checkpoints are also compared with.
    pub witness_file: Option<PathBuf>,
}

/// What CheckLimits answers: whether an action would be admitted now, and
/// each window it must fit in, with when a full one frees a slot.
pub struct LimitCheck {
    pub would_allow: bool,
    pub usages: Vec<(Usage, Option<DateTime<Utc>>)>,
}

/// The service: the database, the admission engine, the clock and the keys.
pub struct Safety {
    db: DatabaseConnection,
    defaults: LimitDefaults,
    engine: Arc<Engine>,
    clock: SharedClock,
    known_keys: KnownKeys,
    witness_file: Option<PathBuf>,
}

impl Safety {
    pub fn new(d: Deps) -> Self {
        Self { db: d.db, defaults: d.defaults, engine: d.engine, clock: d.clock, known_keys: d.known_keys, witness_file: d.witness_file }
    }

    /// Admits `action` if every window has room, recording it in the same
    /// batch; `caller` (`service:dispatch`) is hashed with it.
    pub async fn authorize(&self, company_id: i64, action: NewAction, caller: String) -> Result<Decision, Error> {
        self.engine.authorize(company_id, action, caller).await
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
        Ok(self.limits_in_full(company_id).await?.0)
    }

    /// The limits in force, and what they are made of: the configured
    /// defaults and the company's overrides as stored.
    pub async fn limits_in_full(&self, company_id: i64) -> Result<(EffectiveLimits, LimitDefaults, Vec<Override>), Error> {
        let overrides = store::limits::overrides(&self.db, company_id).await?;
        Ok((EffectiveLimits::resolve(self.defaults, &overrides), self.defaults, overrides))
    }

    /// Replaces every override of the company and answers the limits now in
    /// force (with the defaults and overrides they come from); a person's change (`actor`) enters the company's chain in the
    /// same transaction, with each limit before and after.
    pub async fn set_limits(
        &self,
        company_id: i64,
        actor: Option<&Actor>,
        overrides: &[Override],
    ) -> Result<(EffectiveLimits, LimitDefaults, Vec<Override>), Error> {
        let record = match actor {
            Some(actor) => {
                let before = store::limits::overrides(&self.db, company_id).await?;
                let change = limits_change(company_id, &before, overrides);
                Some(human_record(actor, change, self.clock.now()))
            }
            None => None,
        };
        store::limits::replace_overrides(&self.db, company_id, overrides, record).await?;
        let user = actor.map_or("service", |a| a.user_id.as_str());
        tracing::info!(company_id, user = %user, overrides = overrides.len(), "safety limits replaced");
        self.limits_in_full(company_id).await
    }

    /// Appends delivered human records to the company's chain, each once.
    pub async fn record_human(&self, company_id: i64, records: Vec<HumanRecord>) -> Result<Appended, Error> {
        let txn = self.db.begin().await?;
        let appended = store::human::append(&txn, company_id, records, self.clock.now()).await?;
        txn.commit().await?;
        Ok(appended)
    }

    /// One page of the company's human audit log, newest first, and how many match.
    pub async fn audit_log(
        &self,
        company_id: i64,
        filter: &AuditFilter,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<StoredHuman>, u64), Error> {
        Ok(store::human::list(&self.db, company_id, filter, page, per_page).await?)
    }

    /// One page of the company's actions, newest first, and how many match.
    pub async fn list(&self, company_id: i64, filter: &ActionFilter, page: u64, per_page: u64) -> Result<(Vec<Action>, u64), Error> {
        Ok(store::actions::list_actions(&self.db, company_id, filter, page, per_page).await?)
    }

    /// The stats of the last `length`, and where they start.
    pub async fn stats(&self, company_id: i64, length: Duration) -> Result<(Stats, DateTime<Utc>), Error> {
        let since = self.clock.now() - length;
        Ok((store::stats::stats(&self.db, company_id, since).await?, since))
    }

    /// The stats bucket by bucket, and in total over the buckets' span: the
    /// buckets' boundaries (oldest first) and their counts.
    pub async fn bucketed_stats(&self, company_id: i64, b: Bucketing) -> Result<(Stats, Vec<DateTime<Utc>>, Vec<Bucket>), Error> {
        let edges = b.edges(self.clock.now());
        let stats = store::stats::stats(&self.db, company_id, edges[0]).await?;
        let buckets = store::stats::buckets(&self.db, company_id, &edges).await?;
        Ok((stats, edges, buckets))
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

    /// Verifies the company's trail against its chain, its checkpoints and the
    /// witness file (when configured: the same check as `atmr audit verify`);
    /// also answers when the last checkpoint was signed.
    pub async fn verify(&self, company_id: i64) -> Result<(Verification, Option<DateTime<Utc>>), Error> {
        let witnessed = match &self.witness_file {
            Some(path) => Some(crate::audit::witness::read(path).map_err(|e| sea_orm::DbErr::Custom(format!("{e:#}")))?),
            None => None,
        };
        let v = crate::audit::verify_company(&self.db, company_id, witnessed.as_deref(), &self.known_keys).await?;
        let last = store::checkpoints::last(&self.db, company_id).await?.map(|c| c.signed_at);
        if !v.breaks.is_empty() {
            tracing::error!(company_id, breaks = v.breaks.len(), "audit chain verification found tampering");
        }
        Ok((v, last))
    }
}

/// A person's change made in safety itself, as a record of the chain.
fn human_record(actor: &Actor, change: Change, now: DateTime<Utc>) -> HumanRecord {
    HumanRecord {
        record_id: uuid::Uuid::new_v4().to_string(),
        occurred_at: now,
        source: "safety".to_owned(),
        actor_user_id: actor.user_id.clone(),
        actor_email: actor.email.clone(),
        actor_role: actor.role.clone(),
        client_address: actor.address.clone(),
        resource: change.resource,
        resource_id: change.resource_id,
        action: change.action,
        changes: kit::audit_trail::fields_json(&change.fields),
    }
}

/// The limits' change: each window's limit by scope (`company.max_per_hour`,
/// `type:reassign.max_per_day`, …) before and after.
fn limits_change(company_id: i64, before: &[Override], after: &[Override]) -> Change {
    fn flat(overrides: &[Override]) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        for o in overrides {
            for (window, value) in [("max_per_hour", o.per_hour), ("max_per_day", o.per_day)] {
                if let Some(v) = value {
                    let scope = match &o.scope {
                        Scope::Company => "company".to_owned(),
                        Scope::DefaultType => "default_type".to_owned(),
                        Scope::Type(t) => format!("type:{t}"),
                    };
                    out.insert(format!("{scope}.{window}"), v.to_string());
                }
            }
        }
        out
    }
    let (before, after) = (flat(before), flat(after));
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut change = Change::new("safety_limits", company_id, "update");
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        if b != a {
            change.push_values(key, b.cloned(), a.cloned(), false);
        }
    }
    change
}
