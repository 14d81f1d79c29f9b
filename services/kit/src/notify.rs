//! Handing notifications to the `notify` service. Delivery is notify's job (a
//! durable outbox with retries); a caller only hands the notification over, in
//! the background, so its own request never waits on it or fails because of it.
//! A hand-over that meets an unreachable or overloaded notify is retried with
//! backoff for about two minutes (a restart, a deploy); callers give every
//! notification an idempotency key, so a retried hand-over never alerts twice.
//! Beyond that the notification is logged as lost: the hand-over itself is not
//! durable.

use std::{sync::Arc, time::Duration};

use atmr_proto::notify::v1::{SendRequest, notify_service_client::NotifyServiceClient};
use tonic::transport::Channel;

use crate::auth::TokenKeys;

/// Hand-over attempts, the first retry's delay, and the longest delay: with
/// jitter, about two minutes in all.
const HANDOVER_ATTEMPTS: u32 = 10;
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Worth another try: notify was unreachable, overloaded or slow.
fn retryable(code: tonic::Code) -> bool {
    matches!(code, tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::ResourceExhausted | tonic::Code::Aborted)
}

#[derive(Clone)]
pub struct Notifier {
    client: NotifyServiceClient<Channel>,
    keys: Arc<TokenKeys>,
    /// The component the notifications come from (the service token's subject).
    component: &'static str,
}

impl Notifier {
    /// A notifier talking to notify at `url` (connected on first use).
    pub fn connect(url: &str, request_timeout: Duration, keys: Arc<TokenKeys>, component: &'static str) -> anyhow::Result<Self> {
        Ok(Self { client: NotifyServiceClient::new(crate::grpc::lazy_channel(url, request_timeout)?), keys, component })
    }

    /// Sends `request` for `company_id` without waiting for it, retrying while
    /// notify is unreachable; a hand-over that finally fails is logged with the
    /// event type and key.
    pub fn send(&self, company_id: i64, request: SendRequest) {
        let (mut client, keys, component) = (self.client.clone(), self.keys.clone(), self.component);
        // The hand-over outlives the caller's request but belongs to its trace.
        let span = tracing::info_span!("notify.handover", event = %request.event_type);
        let handover = async move {
            let (event, key) = (request.event_type.clone(), request.idempotency_key.clone());
            let mut delay = FIRST_RETRY;
            for attempt in 1..=HANDOVER_ATTEMPTS {
                // A fresh token each time: a long retry outlives a short one.
                let token = keys.service_token(component, company_id);
                match client.send(crate::grpc::request(request.clone(), &token)).await {
                    Ok(_) => return,
                    Err(status) if attempt < HANDOVER_ATTEMPTS && retryable(status.code()) => {
                        tracing::debug!(company_id, event, attempt, code = ?status.code(), "notify unreachable; retrying the hand-over");
                        tokio::time::sleep(delay.mul_f64(0.5 + 0.5 * rand::random::<f64>())).await;
                        delay = (delay * 2).min(MAX_RETRY);
                    }
                    Err(status) => {
                        tracing::warn!(company_id, event, key, attempt, code = ?status.code(), error = status.message(), "notification not handed to notify");
                        return;
                    }
                }
            }
        };
        tokio::spawn(tracing::Instrument::instrument(handover, span));
    }
}
