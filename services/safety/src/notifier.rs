//! Tells people, through the `notify` service, when a limit starts refusing
//! actions. Delivery is notify's job (a durable outbox); this side only hands the
//! notification over, in the background, with an idempotency key per window so a
//! retry never alerts twice.

use atmr_proto::notify::v1 as pb;
use chrono::{DateTime, Utc};

use crate::domain::windows::Usage;

#[derive(Clone)]
pub struct Notifier(kit::notify::Notifier);

impl Notifier {
    pub fn new(inner: kit::notify::Notifier) -> Self {
        Self(inner)
    }

    /// Sends "limit reached" for `company_id` without waiting for it.
    pub fn limit_reached(&self, company_id: i64, usage: &Usage, retry_after: Option<DateTime<Utc>>) {
        let window = usage.window.name();
        let scope = usage.scope.label().to_owned();
        let frees = retry_after.map_or_else(|| "never (the limit is 0)".to_owned(), |t| t.to_rfc3339());
        let key = format!("safety.limit_reached:{company_id}:{}:{window}:{}", usage.scope.key(), retry_after.map_or(0, |t| t.timestamp()));
        let request = pb::SendRequest {
            channel_id: String::new(),
            event_type: "safety.limit_reached".to_owned(),
            title: format!("Autonomous actions paused: {scope} limit per {window} reached"),
            body: format!(
                "The {scope} limit of {} action(s) per {window} is reached; further autonomous actions are refused and become suggestions until a slot frees up.",
                usage.limit
            ),
            severity: pb::Severity::Warning as i32,
            fields: vec![
                pb::Field { name: "Company".into(), value: company_id.to_string(), inline: true },
                pb::Field { name: "Limit".into(), value: format!("{}/{window}", usage.limit), inline: true },
                pb::Field { name: "Next slot".into(), value: frees, inline: false },
            ],
            idempotency_key: key,
        };
        self.0.send(company_id, request);
    }
}
