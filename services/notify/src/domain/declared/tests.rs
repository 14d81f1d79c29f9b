//! The monitors file's checks, entry by entry.

use super::*;

const GOOD: &str = r#"
companies:
  - company: 0
    channels:
      - {name: ops-discord, kind: discord, url_file: /run/secrets/discord-url}
      - {name: ops-mail, kind: email, recipients: [oncall@example.org]}
      - {name: ops-hook, kind: webhook, url: "https://hooks.example.org/atmr", secret_file: /run/secrets/hook-secret}
    routes:
      - {event_type: platform.alert, min_severity: warning, channel: ops-discord}
      - {channel: ops-mail}
    monitors:
      - {name: gateway, kind: http, target: "http://gateway:8080/health/ready", parent: postgres, internal: true}
      - {name: postgres, kind: tcp, target: "postgres:5432", internal: true, interval_seconds: 60}
      - {name: old, removed: true}
    maintenance:
      - {name: upgrade, starts_at: "2026-12-06T02:00:00Z", ends_at: "2026-12-06T04:00:00+01:00", monitors: [postgres]}
"#;

fn refused(text: &str) -> (String, String) {
    let e = parse(text).unwrap_err();
    (e.entry, e.field)
}

/// `GOOD` with `from` replaced by `to` (which must be there).
fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn a_good_document_is_read_with_the_defaults() {
    let doc = parse(GOOD).unwrap();
    let c = &doc.companies[0];
    assert_eq!((c.company_id, c.channels.len(), c.routes.len(), c.monitors.len(), c.windows.len()), (0, 3, 2, 3, 1));
    assert_eq!(c.channels[0].url, Some(Secret::File("/run/secrets/discord-url".into())));
    assert_eq!(c.channels[2].url, Some(Secret::Inline("https://hooks.example.org/atmr".into())));
    assert_eq!((c.routes[1].event_type.as_str(), c.routes[1].min_severity), ("", Severity::Info), "every event, from info");
    let gw = &c.monitors[0].config;
    assert_eq!((gw.kind, gw.interval_secs, gw.timeout_secs, gw.retries, gw.recovery_checks), (MonitorKind::Http, 30, 24, 0, 1));
    assert_eq!((c.monitors[0].parent.as_deref(), gw.internal, gw.parent_id.as_deref()), (Some("postgres"), true, None));
    assert_eq!((c.monitors[1].config.interval_secs, c.monitors[1].config.timeout_secs), (60, 48));
    assert!(c.monitors[2].removed, "a removed entry is named only");
    assert_eq!(c.windows[0].ends_at - c.windows[0].starts_at, chrono::Duration::hours(1), "offsets are honoured");
    assert_eq!(parse("").unwrap(), Document::default(), "an empty file declares nothing");
}

#[test]
fn each_bad_entry_is_named_with_its_field() {
    let m = "companies[0].monitors[1]";
    for (text, entry, field) in [
        (with("target: \"postgres:5432\"", "target: postgres"), m, "target"),
        (with("kind: tcp", "kind: icmp"), m, "kind"),
        (with("interval_seconds: 60", "interval_seconds: 5"), m, "interval_seconds"),
        (with("interval_seconds: 60", "interval_seconds: 60, timeout_seconds: 61"), m, "timeout_seconds"),
        (with("interval_seconds: 60", "retries: 11"), m, "retries"),
        (with("target: \"http://gateway:8080/health/ready\"", "target: \"ftp://gateway\""), "companies[0].monitors[0]", "target"),
        (with("parent: postgres", "parent: gateway"), "companies[0].monitors[0]", "parent"),
        (with("parent: postgres", "parent: old"), "companies[0].monitors[0]", "parent"),
        (with("name: old,", "name: postgres,"), "companies[0].monitors[2]", "name"),
        (with("url_file: /run/secrets/discord-url", "url: \"https://discord.com/api/webhooks/1/t\""), "companies[0].channels[0]", "url"),
        (with(", secret_file: /run/secrets/hook-secret", ", secret: s3cret"), "companies[0].channels[2]", "secret"),
        (with("[oncall@example.org]", "[not an address]"), "companies[0].channels[1]", "recipients[0]"),
        (with("kind: email", "kind: pigeon"), "companies[0].channels[1]", "kind"),
        (with("min_severity: warning", "min_severity: loud"), "companies[0].routes[0]", "min_severity"),
        (with("event_type: platform.alert", "event_type: Platform Alert"), "companies[0].routes[0]", "event_type"),
        (with("{channel: ops-mail}", "{channel: ops-discord, event_type: platform.alert}"), "companies[0].routes[1]", "event_type"),
        (with("ends_at: \"2026-12-06T04:00:00+01:00\"", "ends_at: \"2026-12-06T01:00:00Z\""), "companies[0].maintenance[0]", "ends_at"),
        (with("starts_at: \"2026-12-06T02:00:00Z\"", "starts_at: tomorrow"), "companies[0].maintenance[0]", "starts_at"),
        (with("company: 0", "company: -1"), "companies[0]", "company"),
    ] {
        assert_eq!(refused(&text), (entry.to_owned(), field.to_owned()), "{text}");
    }
    // A cycle through several declared monitors.
    let cycle = with("target: \"postgres:5432\", internal: true", "target: \"postgres:5432\", parent: gateway");
    assert_eq!(refused(&cycle).1, "parent");
    // The same company twice, an unknown field: the whole document is refused.
    assert_eq!(refused(&format!("{GOOD}  - company: 0\n")), ("companies[1]".to_owned(), "company".to_owned()));
    let unknown = parse(&with("internal: true, interval_seconds", "internal: true, colour: red, interval_seconds")).unwrap_err();
    assert!(unknown.message.contains("unknown field `colour`"), "{unknown}");
}

#[test]
fn a_window_id_is_the_same_for_the_same_name_and_company_only() {
    assert_eq!(window_id(0, "upgrade"), window_id(0, "upgrade"));
    assert_ne!(window_id(0, "upgrade"), window_id(1, "upgrade"));
    assert_ne!(window_id(0, "upgrade"), window_id(0, "upgrade2"));
    assert_eq!(window_id(0, "upgrade").len(), 36, "fits the id columns");
}
