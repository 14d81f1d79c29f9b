//! A notification as the rules see it: its severity, its fields, what `Send`
//! stores, the delivery statuses, and what one delivery attempt came to.

use chrono::{DateTime, Utc};

/// A notification's severity, stored as its rank (1 info .. 4 critical).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info = 1,
    Warning = 2,
    Error = 3,
    Critical = 4,
}

impl Severity {
    pub fn from_rank(rank: i32) -> Option<Self> {
        [Severity::Info, Severity::Warning, Severity::Error, Severity::Critical].into_iter().find(|s| *s as i32 == rank)
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// The embed colour Discord shows on the left edge.
    pub fn discord_colour(self) -> u32 {
        match self {
            Severity::Info => 0x3498db,
            Severity::Warning => 0xf1c40f,
            Severity::Error => 0xe67e22,
            Severity::Critical => 0xe74c3c,
        }
    }
}

/// One field of a notification (a Discord embed field, a webhook's `fields`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub inline: bool,
}

/// A notification as Send gives it, checked.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub event_type: String,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    /// JSON array of fields.
    pub fields: String,
    pub idempotency_key: String,
}

/// The delivery statuses, as stored.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const DELIVERED: &str = "delivered";
    pub const DEAD: &str = "dead";
}

/// What one delivery attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub started_at: DateTime<Utc>,
    pub duration_ms: f64,
    pub success: bool,
    pub response_code: Option<i32>,
    pub error: Option<String>,
}

/// Where a notification goes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    Dead,
}
