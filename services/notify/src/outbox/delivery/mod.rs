//! Sends one notification to one channel and says how it went: the log here,
//! and one transport per other channel kind beside it — `webhook.rs`,
//! `discord.rs`, `email.rs` — each answering an `outcome::Outcome`, the one
//! module they all share (so none of them imports another).

pub mod discord;
pub mod email;
pub mod outcome;
pub mod webhook;

use std::time::Duration;

use crate::{
    domain::{
        channel::ChannelKind,
        notification::{Field, Severity},
    },
    outbox::{
        delivery::{discord::Discord, email::Mailer, outcome::Outcome, webhook::Webhook},
        egress::Egress,
    },
    store::entities::{notification, notify_channel},
};

/// Every channel kind's transport, built once and shared by the workers.
pub struct Deliverer {
    webhook: Webhook,
    discord: Discord,
    mailer: Option<Mailer>,
}

impl Deliverer {
    pub fn new(timeout: Duration, mailer: Option<Mailer>, egress: &Egress) -> anyhow::Result<Self> {
        let builder = reqwest::Client::builder().timeout(timeout).user_agent(concat!("atmr-notify/", env!("CARGO_PKG_VERSION")));
        // One client, and so one connection pool, for webhooks and Discord.
        let http = egress.http_client(builder).build()?;
        Ok(Self { webhook: Webhook::new(http.clone(), egress.clone()), discord: Discord::new(http, egress.clone()), mailer })
    }

    pub async fn deliver(&self, channel: &notify_channel::Model, n: &notification::Model) -> Outcome {
        // A severity or fields stored outside what this version reads is not
        // sent as some default (a critical alert as "info"): the attempt fails
        // for good, saying why, and the error is logged with the row.
        let Some(severity) = Severity::from_rank(n.severity.into()) else {
            return Outcome::unreadable(kit::stored::UnknownValue::new("notification", "severity", &n.id, n.severity));
        };
        let Ok(fields) = serde_json::from_str::<Vec<Field>>(&n.fields) else {
            return Outcome::unreadable(kit::stored::UnknownValue::new("notification", "fields", &n.id, &n.fields));
        };
        match ChannelKind::parse(&channel.kind) {
            Some(ChannelKind::Log) => {
                tracing::info!(
                    target: "atmr::notification",
                    company_id = n.company_id,
                    id = %n.id,
                    event_type = %n.event_type,
                    severity = severity.label(),
                    title = %n.title,
                    body = %n.body,
                    fields = %n.fields,
                    "notification"
                );
                Outcome::delivered(None)
            }
            Some(ChannelKind::Webhook) => self.webhook.send(channel, n, severity, &fields).await,
            Some(ChannelKind::Discord) => self.discord.send(channel, n, severity, &fields).await,
            Some(ChannelKind::Email) => match &self.mailer {
                Some(mailer) => mailer.deliver(channel, n, severity, &fields).await,
                None => Outcome { error: Some("no SMTP server is configured (NOTIFY_SMTP_HOST)".into()), ..Outcome::default() },
            },
            None => Outcome::permanent(format!("channel kind {:?} cannot deliver in this version", channel.kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_with_an_unknown_severity_fails_for_good_and_is_not_sent_as_info() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let channel = notify_channel::Model {
            id: "log".into(),
            company_id: 1,
            name: "log".into(),
            kind: "log".into(),
            url: None,
            recipients: String::new(),
            secret: None,
            enabled: true,
            created_at: at,
            updated_at: at,
        };
        let n = notification::Model {
            id: "n-1".into(),
            company_id: 1,
            channel_id: "log".into(),
            event_type: "bugs.critical_created".into(),
            title: "t".into(),
            body: String::new(),
            severity: 4,
            fields: "[]".into(),
            idempotency_key: "k".into(),
            status: "sending".into(),
            attempts: 1,
            next_attempt_at: at,
            lease_until: None,
            created_at: at,
            delivered_at: None,
            last_error: None,
        };
        let d = Deliverer::new(Duration::from_secs(1), None, &Egress::new(Default::default())).unwrap();
        assert!(d.deliver(&channel, &n).await.success);
        let out = d.deliver(&channel, &notification::Model { severity: 7, ..n.clone() }).await;
        assert!(!out.success && out.permanent, "{out:?}");
        assert!(out.error.as_deref().is_some_and(|e| e.contains("notification.severity of row n-1 holds \"7\"")), "{out:?}");
        let out = d.deliver(&channel, &notification::Model { fields: "{oops".into(), ..n }).await;
        assert!(!out.success && out.permanent && out.error.as_deref().is_some_and(|e| e.contains("notification.fields")), "{out:?}");
    }
}
