//! `Send` and the outbox as admins see it: a notification routed to the
//! company's channels (or the one asked for) and stored once per idempotency
//! key; one read with its attempts, lists, a retry, a replay of the dead.
//! Whatever is queued wakes the delivery workers.

use std::sync::Arc;

use kit::clock::SharedClock;
use tokio::sync::Notify;

use crate::{
    domain::{
        channel::{LOG_CHANNEL, channels_for},
        notification::{Field, NewNotification, Severity},
    },
    error::Error,
    metrics::NotifyMetrics,
    store::{
        Store,
        entities::{notification, notification_attempt},
        notifications::Filter,
    },
};

/// A notification to send, its fields checked.
pub struct Outgoing {
    pub event_type: String,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    pub fields: Vec<Field>,
    /// Empty: a fresh one, so the notification is never taken for another.
    pub idempotency_key: String,
    /// One channel, as the caller gave it; empty: the company's routes.
    pub channel_id: String,
}

pub struct Notifications {
    pub store: Store,
    pub clock: SharedClock,
    pub wake: Arc<Notify>,
    pub metrics: NotifyMetrics,
}

impl Notifications {
    /// Stores one notification per channel and wakes the workers; a key seen
    /// before returns the first notifications and `true`, and queues nothing.
    pub async fn send(&self, company_id: i64, o: Outgoing) -> Result<(Vec<notification::Model>, bool), Error> {
        let new = NewNotification {
            fields: serde_json::to_string(&o.fields).map_err(kit::error::Internal::log)?,
            idempotency_key: if o.idempotency_key.is_empty() { uuid::Uuid::new_v4().to_string() } else { o.idempotency_key },
            event_type: o.event_type,
            title: o.title,
            body: o.body,
            severity: o.severity,
        };
        let channels = match o.channel_id.trim() {
            // No rule matches: the log, which needs no configuration.
            "" => channels_for(&self.store.rules(company_id).await?, &new.event_type, new.severity),
            LOG_CHANNEL => vec![LOG_CHANNEL.to_owned()],
            id => {
                self.store.channel(company_id, id).await.map_err(|e| match e {
                    Error::NotFound(_) => Error::invalid("channel_id", format!("unknown channel {id:?}")),
                    other => other,
                })?;
                vec![id.to_owned()]
            }
        };
        let (rows, duplicate) = self.store.enqueue(company_id, &new, &channels, self.clock.now()).await?;
        self.metrics.sent.with_label_values(&[if duplicate { "duplicate" } else { "queued" }]).inc();
        if !duplicate {
            self.wake.notify_waiters();
        }
        Ok((rows, duplicate))
    }

    /// A notification of the company with its attempts, first to last.
    pub async fn get(&self, company_id: i64, id: &str) -> Result<(notification::Model, Vec<notification_attempt::Model>), Error> {
        self.store.get(company_id, id).await
    }

    /// A page of the company's notifications, newest first, and how many match.
    pub async fn list(&self, company_id: i64, filter: &Filter, page: (u64, u64)) -> Result<(Vec<notification::Model>, u64), Error> {
        Ok(self.store.list(company_id, filter, page).await?)
    }

    /// Puts a pending or dead notification back in the queue, due now.
    pub async fn retry(&self, company_id: i64, id: &str) -> Result<notification::Model, Error> {
        let n = self.store.retry(company_id, id, self.clock.now()).await?;
        self.wake.notify_waiters();
        Ok(n)
    }

    /// Puts every dead notification matching `filter` back in the queue; how many.
    pub async fn replay_dead(&self, company_id: i64, filter: &Filter) -> Result<u64, Error> {
        let replayed = self.store.replay_dead(company_id, filter, self.clock.now()).await?;
        self.wake.notify_waiters();
        Ok(replayed)
    }
}
