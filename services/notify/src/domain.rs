//! The rules of delivery, free of storage and transport: severities, routing,
//! Discord's limits, and webhook signatures (retry schedules are
//! `kit::backoff`'s).

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

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

/// A routing rule: an event type (empty: every type) at or above a severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub event_type: String,
    pub min_severity: Severity,
    pub channel_id: String,
}

/// The channels `event_type` at `severity` goes to, each once, in rule order.
pub fn route(rules: &[Rule], event_type: &str, severity: Severity) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rules {
        if (r.event_type.is_empty() || r.event_type == event_type) && severity >= r.min_severity && !out.contains(&r.channel_id) {
            out.push(r.channel_id.clone());
        }
    }
    out
}

/// Discord's limits on one message's embed.
pub mod discord {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    /// Title, description, field names and values together.
    pub const TOTAL: usize = 6000;
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One embed field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub inline: bool,
}

/// Title, description and fields cut to Discord's limits: each part to its own,
/// then fields dropped from the end and the description shortened until the
/// whole embed fits in 6,000 characters.
pub fn fit_discord(title: &str, description: &str, fields: &[Field]) -> (String, String, Vec<Field>) {
    let title = truncate(title, discord::TITLE);
    let mut description = truncate(description, discord::DESCRIPTION);
    let mut fields: Vec<Field> = fields
        .iter()
        .take(discord::FIELDS)
        .map(|f| Field {
            name: truncate(if f.name.is_empty() { "-" } else { &f.name }, discord::FIELD_NAME),
            value: truncate(if f.value.is_empty() { "-" } else { &f.value }, discord::FIELD_VALUE),
            inline: f.inline,
        })
        .collect();
    let size = |d: &str, fs: &[Field]| {
        title.chars().count() + d.chars().count() + fs.iter().map(|f| f.name.chars().count() + f.value.chars().count()).sum::<usize>()
    };
    while size(&description, &fields) > discord::TOTAL {
        let over = size(&description, &fields) - discord::TOTAL;
        let len = description.chars().count();
        if len > 100 {
            description = truncate(&description, len.saturating_sub(over).max(100));
        } else if fields.pop().is_none() {
            description = truncate(&description, len.saturating_sub(over));
        }
    }
    (title, description, fields)
}

/// The generic webhook's signature: hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_matches_type_and_severity_once_per_channel() {
        let rule = |t: &str, s: Severity, c: &str| Rule { event_type: t.into(), min_severity: s, channel_id: c.into() };
        let rules = [
            rule("bugs.regression", Severity::Info, "a"),
            rule("", Severity::Error, "b"),
            rule("", Severity::Info, "a"),
            rule("safety.limit_reached", Severity::Critical, "c"),
        ];
        assert_eq!(route(&rules, "bugs.regression", Severity::Error), ["a", "b"]);
        assert_eq!(route(&rules, "safety.limit_reached", Severity::Warning), ["a"]);
        assert!(route(&rules[3..], "safety.limit_reached", Severity::Error).is_empty());
    }

    #[test]
    fn discord_limits_are_respected() {
        let fields: Vec<Field> = (0..30).map(|i| Field { name: format!("f{i}"), value: "v".repeat(1500), inline: false }).collect();
        let (t, d, f) = fit_discord(&"t".repeat(300), &"d".repeat(5000), &fields);
        assert_eq!(t.chars().count(), 256);
        assert!(t.ends_with('…'));
        assert!(f.len() <= 25 && f.iter().all(|x| x.value.chars().count() <= 1024));
        let total =
            t.chars().count() + d.chars().count() + f.iter().map(|x| x.name.chars().count() + x.value.chars().count()).sum::<usize>();
        assert!(total <= 6000, "{total}");
        let (t, d, f) = fit_discord("short", "small", &fields[..2]);
        assert_eq!((t.as_str(), d.as_str(), f.len()), ("short", "small", 2));
    }

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
        assert_eq!(sign("key", 1_700_000_000, br#"{"a":1}"#), "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
    }
}
