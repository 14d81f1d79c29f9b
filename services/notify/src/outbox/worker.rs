//! The delivery loop: claim due notifications under a lease, deliver them
//! concurrently, record every attempt, and schedule the next one with
//! exponential backoff and jitter (or what a 429 asked for), until delivered or
//! dead. `Send` wakes the loop at once; otherwise it polls, which also picks up
//! retries that came due and rows whose worker died mid-delivery.

use std::{sync::Arc, time::Duration};

use kit::{Lifecycle, clock::SharedClock};
use tokio::sync::Notify;

use crate::{
    domain::{
        channel::{ChannelKind, LOG_CHANNEL},
        notification::{AttemptRecord, Next},
    },
    outbox::delivery::{Deliverer, outcome::Outcome},
    store::{
        Store,
        channels::log_channel,
        entities::{notification, notify_channel},
    },
};

/// How the loop retries.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts before a notification is dead.
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How long a claim holds a row before another worker may take it.
    pub lease: Duration,
    /// How often to look for due rows when nothing wakes the loop.
    pub poll: Duration,
    /// Rows claimed at once.
    pub batch: u64,
}

pub struct Worker {
    pub store: Store,
    pub deliverer: Arc<Deliverer>,
    pub policy: Policy,
    pub clock: SharedClock,
    pub wake: Arc<Notify>,
    pub metrics: crate::metrics::NotifyMetrics,
}

impl Worker {
    pub async fn run(self: Arc<Self>, life: Lifecycle) {
        loop {
            if life.is_shutting_down() {
                return;
            }
            let claimed = match self.store.claim(self.clock.now(), chrono_duration(self.policy.lease), self.policy.batch).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming notifications failed; retrying");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(self.policy.poll) => {}
                    () = life.stopping() => return,
                }
                continue;
            }
            // A claimed batch is finished even during shutdown: its leases would
            // otherwise hold the rows until they run out.
            futures::future::join_all(claimed.into_iter().map(|n| self.attempt(n))).await;
        }
    }

    async fn attempt(&self, n: notification::Model) {
        let started_at = self.clock.now();
        let timer = std::time::Instant::now();
        let (outcome, kind) = match self.channel_of(&n).await {
            Ok(channel) => {
                let kind = ChannelKind::parse(&channel.kind).map_or("other", ChannelKind::label);
                (self.deliverer.deliver(&channel, &n).await, kind)
            }
            Err(outcome) => (outcome, "other"),
        };
        let record = AttemptRecord {
            started_at,
            duration_ms: timer.elapsed().as_secs_f64() * 1000.0,
            success: outcome.success,
            response_code: outcome.code,
            error: outcome.error.clone(),
        };
        let next = self.next(&n, &outcome);
        let label = match next {
            Next::Delivered => "delivered",
            Next::RetryAt(_) => "retry",
            Next::Dead => "dead",
        };
        self.metrics.attempts.with_label_values(&[label]).inc();
        if next == Next::Delivered {
            // From the moment Send queued it, retries included.
            let waited = (self.clock.now() - n.created_at).to_std().unwrap_or_default();
            self.metrics.delivery.with_label_values(&[kind]).observe(waited.as_secs_f64());
        }
        match self.store.finish(&n, &record, next).await {
            Ok(true) => {
                if next == Next::Dead {
                    tracing::warn!(id = %n.id, company_id = n.company_id, attempts = n.attempts, error = ?outcome.error, "notification dead after its last attempt");
                }
            }
            Ok(false) => tracing::warn!(id = %n.id, "notification lease lost before the attempt was recorded; another worker has it"),
            Err(e) => {
                tracing::warn!(id = %n.id, error = %e, "could not record a delivery attempt; the lease will run out and it will be retried")
            }
        }
    }

    async fn channel_of(&self, n: &notification::Model) -> Result<notify_channel::Model, Outcome> {
        if n.channel_id == LOG_CHANNEL {
            return Ok(log_channel(n.company_id));
        }
        match self.store.channel_by_id(&n.channel_id).await {
            Ok(Some(c)) if c.enabled => Ok(c),
            Ok(Some(_)) => Err(Outcome { permanent: true, error: Some("the channel is disabled".into()), ..Outcome::default() }),
            Ok(None) => Err(Outcome { permanent: true, error: Some("the channel was deleted".into()), ..Outcome::default() }),
            Err(e) => Err(Outcome { error: Some(format!("could not read the channel: {e}")), ..Outcome::default() }),
        }
    }

    fn next(&self, n: &notification::Model, outcome: &Outcome) -> Next {
        if outcome.success {
            return Next::Delivered;
        }
        if outcome.permanent || n.attempts as u32 >= self.policy.max_attempts {
            return Next::Dead;
        }
        let wait = outcome
            .retry_after
            .unwrap_or_else(|| kit::backoff::Backoff::new(self.policy.base_backoff, self.policy.max_backoff).jittered(n.attempts as u32));
        Next::RetryAt(self.clock.now() + chrono_duration(wait))
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
