//! The monitor scheduler: every tick it claims the due monitors, checks them
//! concurrently (`probe.rs`) and records each result parents first
//! (`Store::record_check`, which applies `domain::check`'s rules and queues
//! alerts on changes only); once an hour it prunes old heartbeats.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use kit::{Lifecycle, clock::SharedClock};
use tokio::sync::Notify;

use crate::{
    domain::check::CheckResult,
    error::Error,
    monitors::probe::{Reach, check},
    store::{Store, entities::monitor},
};

pub struct Scheduler {
    pub store: Store,
    /// Which addresses checks may reach.
    pub reach: Reach,
    pub clock: SharedClock,
    /// How often the scheduler looks for due monitors.
    pub tick: Duration,
    /// Wakes the delivery workers when an alert is queued.
    pub wake: Arc<Notify>,
}

impl Scheduler {
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
                match self.store.prune_heartbeats(now).await {
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
    pub async fn round(&self) -> Result<(), Error> {
        let now = self.clock.now();
        let due = self.store.claim_due_monitors(now).await?;
        if due.is_empty() {
            return Ok(());
        }
        let results = futures::future::join_all(due.iter().map(|m| check(&self.reach, m))).await;
        let mut checked: Vec<(monitor::Model, CheckResult)> = due.into_iter().zip(results).collect();
        checked.sort_by_key(|(m, _)| m.parent_id.is_some());
        for (m, result) in checked {
            if let Err(e) = self.record(&m, &result, now).await {
                tracing::warn!(monitor = %m.name, error = %e, "could not record a monitor check");
            }
        }
        Ok(())
    }

    /// Records one check of `m`, and wakes the workers when it raised an alert.
    async fn record(&self, m: &monitor::Model, result: &CheckResult, now: DateTime<Utc>) -> Result<(), Error> {
        let rules = self.store.rules(m.company_id).await?;
        if self.store.record_check(&m.id, result, now, &rules).await? {
            self.wake.notify_waiters();
        }
        Ok(())
    }
}
