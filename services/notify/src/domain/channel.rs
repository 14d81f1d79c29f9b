//! Channels and routing: the channel kinds, the built-in log channel, and the
//! rules that send an event type at a severity to the company's channels.

use crate::domain::notification::Severity;

/// The built-in channel every company has: the service log.
pub const LOG_CHANNEL: &str = "log";

/// How a channel delivers, as stored in `notify_channel.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Log,
    Discord,
    Email,
    Webhook,
}

impl ChannelKind {
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Log => "log",
            ChannelKind::Discord => "discord",
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ChannelKind::Log, ChannelKind::Discord, ChannelKind::Email, ChannelKind::Webhook].into_iter().find(|k| k.label() == s)
    }

    /// The kind stored in `notify_channel` row `row_id`: an unknown one is an
    /// error naming the row.
    pub fn stored(row_id: &str, s: &str) -> Result<Self, kit::stored::UnknownValue> {
        kit::stored::parse("notify_channel", "kind", row_id, s, Self::parse)
    }
}

/// Where a channel delivers, checked: the URL (Discord, webhooks), the
/// signing secret (webhooks) and the recipients (email, comma-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelTarget {
    pub url: Option<String>,
    pub secret: Option<String>,
    pub recipients: String,
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

/// [`route`], or the log when no rule matches: the log needs no configuration,
/// so nothing raised is ever dropped for want of a rule.
pub fn channels_for(rules: &[Rule], event_type: &str, severity: Severity) -> Vec<String> {
    let routed = route(rules, event_type, severity);
    if routed.is_empty() { vec![LOG_CHANNEL.to_owned()] } else { routed }
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
        assert_eq!(channels_for(&rules[3..], "safety.limit_reached", Severity::Error), [LOG_CHANNEL]);
    }

    #[test]
    fn a_stored_kind_is_one_of_the_four_or_an_error_naming_the_row() {
        for k in [ChannelKind::Log, ChannelKind::Discord, ChannelKind::Email, ChannelKind::Webhook] {
            assert_eq!(ChannelKind::stored("c-1", k.label()), Ok(k));
        }
        let e = ChannelKind::stored("c-1", "pigeon").unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str(), e.value.as_str()), ("notify_channel", "kind", "c-1", "pigeon"));
    }
}
