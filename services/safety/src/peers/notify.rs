//! What people are told, through the `notify` service, when a limit starts
//! refusing actions: the notice the engine commits to the outbox with the first
//! block of a window, keyed per window so that it is stored and sent once.

use chrono::{DateTime, Utc};
use kit::notify::{Field, Notice, Severity};

use crate::domain::windows::Usage;

/// "Limit reached" for `company_id`: `usage` is full until `retry_after`.
pub fn limit_reached(company_id: i64, usage: &Usage, retry_after: Option<DateTime<Utc>>) -> Notice {
    let window = usage.window.name();
    let scope = usage.scope.label().to_owned();
    let frees = retry_after.map_or_else(|| "never (the limit is 0)".to_owned(), |t| t.to_rfc3339());
    Notice {
        event_type: "safety.limit_reached".to_owned(),
        severity: Severity::Warning,
        title: format!("Autonomous actions paused: {scope} limit per {window} reached"),
        body: format!(
            "The {scope} limit of {} action(s) per {window} is reached; further autonomous actions are refused and become suggestions until a slot frees up.",
            usage.limit
        ),
        fields: vec![
            Field::new("Company", company_id.to_string(), true),
            Field::new("Limit", format!("{}/{window}", usage.limit), true),
            Field::new("Next slot", frees, false),
        ],
        idempotency_key: format!(
            "safety.limit_reached:{company_id}:{}:{window}:{}",
            usage.scope.key(),
            retry_after.map_or(0, |t| t.timestamp())
        ),
    }
}
