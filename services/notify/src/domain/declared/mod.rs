//! The monitors file's shape (`ATMR_MONITORS_FILE`, YAML) and its checks, free
//! of I/O: per company, its channels, routes, monitors and maintenance
//! windows, each named (a route by its event type and channel), each either
//! declared or marked `removed: true`. A bad entry is an error naming the
//! entry (`companies[0].monitors[2]`) and the field; the whole file is refused.

use std::{collections::HashSet, path::PathBuf};

use chrono::{DateTime, Utc};

mod raw;
#[cfg(test)]
mod tests;

use raw::{RawChannel, RawCompany, RawDocument, RawMonitor, RawRoute, RawWindow};

use crate::domain::{
    channel::ChannelKind,
    monitor::{MonitorConfig, MonitorKind, Timing},
    notification::Severity,
};

/// What is wrong with a monitors document: where (`entry`, `field`) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{entry}: {field} {message}")]
pub struct EntryError {
    pub entry: String,
    pub field: String,
    pub message: String,
}

impl EntryError {
    pub fn new(entry: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { entry: entry.into(), field: field.into(), message: message.into() }
    }
}

/// A checked monitors document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    pub companies: Vec<CompanyDecl>,
}

/// What one company declares. Company 0 is the platform's operator: its
/// routes send the `platform.alert` events of Alertmanager's receiver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompanyDecl {
    pub company_id: i64,
    pub channels: Vec<ChannelDecl>,
    pub routes: Vec<RouteDecl>,
    pub monitors: Vec<MonitorDecl>,
    pub windows: Vec<WindowDecl>,
}

/// A channel by name; its credentials are read from files when applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelDecl {
    /// `companies[i].channels[j]`, for errors.
    pub entry: String,
    pub name: String,
    pub removed: bool,
    pub kind: ChannelKind,
    pub url: Option<Secret>,
    pub secret: Option<Secret>,
    pub recipients: Vec<String>,
}

/// A value given inline (not a credential) or read from a file (a credential).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    Inline(String),
    File(PathBuf),
}

/// A route by its event type (empty: every type) and channel name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecl {
    pub entry: String,
    pub event_type: String,
    pub channel: String,
    pub min_severity: Severity,
    pub removed: bool,
}

/// A monitor by name (`config.name`); its parent by name (declared here or
/// already stored), which becomes `config.parent_id` when the file is applied.
/// `config.internal` (checked past the egress policy: the operator's own
/// components and dependencies on private addresses) only this file sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorDecl {
    pub entry: String,
    pub removed: bool,
    pub parent: Option<String>,
    pub config: MonitorConfig,
}

/// A maintenance window by name; its monitors by name (none: all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowDecl {
    pub entry: String,
    pub name: String,
    pub removed: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub monitors: Vec<String>,
    pub reason: String,
}

/// The id of company `company_id`'s maintenance window `name` from the file:
/// the same on every start, so that the window is found again by its name
/// (a stored window has none). A UUID of the custom version (8).
pub fn window_id(company_id: i64, name: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("atmr-monitors-file\0{company_id}\0{name}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

/// Parses and checks a monitors document.
pub fn parse(text: &str) -> Result<Document, EntryError> {
    let raw: RawDocument = serde_yaml_ng::from_str(text).map_err(|e| EntryError::new("document", "", e.to_string()))?;
    let mut seen = HashSet::new();
    let mut companies = Vec::with_capacity(raw.companies.len());
    for (i, c) in raw.companies.into_iter().enumerate() {
        let entry = format!("companies[{i}]");
        if c.company < 0 {
            return Err(EntryError::new(entry, "company", format!("must be 0 (the platform) or a company id, got {}", c.company)));
        }
        if !seen.insert(c.company) {
            return Err(EntryError::new(entry, "company", format!("{} is declared twice", c.company)));
        }
        companies.push(company(&entry, c)?);
    }
    Ok(Document { companies })
}

fn company(at: &str, c: RawCompany) -> Result<CompanyDecl, EntryError> {
    let channels = named(at, "channels", c.channels, channel, |d| &d.name)?;
    let monitors = named(at, "monitors", c.monitors, monitor, |d| &d.config.name)?;
    let windows = named(at, "maintenance", c.maintenance, window, |d| &d.name)?;
    let mut routes = Vec::with_capacity(c.routes.len());
    let mut keys = HashSet::new();
    for (j, r) in c.routes.into_iter().enumerate() {
        let entry = format!("{at}.routes[{j}]");
        let d = route(&entry, r)?;
        if channels.iter().any(|ch| ch.name == d.channel && ch.removed) && !d.removed {
            return Err(EntryError::new(entry, "channel", format!("{:?} is marked removed", d.channel)));
        }
        if !keys.insert((d.event_type.clone(), d.channel.clone())) {
            return Err(EntryError::new(entry, "event_type", "and channel are declared twice"));
        }
        routes.push(d);
    }
    for m in monitors.iter().filter(|m| !m.removed) {
        let Some(parent) = &m.parent else { continue };
        if parent == &m.config.name {
            return Err(EntryError::new(&m.entry, "parent", "would make the monitor its own parent"));
        }
        if monitors.iter().any(|p| &p.config.name == parent && p.removed) {
            return Err(EntryError::new(&m.entry, "parent", format!("{parent:?} is marked removed")));
        }
        // A chain through the declared monitors that comes back is a cycle.
        let mut cursor = Some(parent.clone());
        for _ in 0..=monitors.len() {
            let Some(name) = cursor else { break };
            if name == m.config.name {
                return Err(EntryError::new(&m.entry, "parent", "would make the monitor its own ancestor"));
            }
            cursor = monitors.iter().find(|p| p.config.name == name).and_then(|p| p.parent.clone());
        }
    }
    for w in windows.iter().filter(|w| !w.removed) {
        if let Some(name) = w.monitors.iter().find(|n| monitors.iter().any(|m| &&m.config.name == n && m.removed)) {
            return Err(EntryError::new(&w.entry, "monitors", format!("{name:?} is marked removed")));
        }
    }
    Ok(CompanyDecl { company_id: c.company, channels, routes, monitors, windows })
}

/// Checks each entry of a named list, and that no name is used twice.
fn named<R, D>(
    at: &str,
    list: &str,
    raw: Vec<R>,
    check: impl Fn(&str, R) -> Result<D, EntryError>,
    name: impl Fn(&D) -> &String,
) -> Result<Vec<D>, EntryError> {
    let mut out: Vec<D> = Vec::with_capacity(raw.len());
    for (j, r) in raw.into_iter().enumerate() {
        let entry = format!("{at}.{list}[{j}]");
        let d = check(&entry, r)?;
        if out.iter().any(|o| name(o) == name(&d)) {
            return Err(EntryError::new(entry, "name", format!("{:?} is declared twice", name(&d))));
        }
        out.push(d);
    }
    Ok(out)
}

fn name(entry: &str, value: &str) -> Result<String, EntryError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 100 || v.contains(['\n', '\r']) {
        return Err(EntryError::new(entry, "name", "must be one line of 1 to 100 characters"));
    }
    Ok(v.to_owned())
}

fn channel(entry: &str, r: RawChannel) -> Result<ChannelDecl, EntryError> {
    let name = name(entry, &r.name)?;
    // A removed channel is named only.
    let kind = match ChannelKind::parse(r.kind.trim()).filter(|k| *k != ChannelKind::Log) {
        Some(kind) => kind,
        None if r.removed => ChannelKind::Log,
        None => return Err(EntryError::new(entry, "kind", format!("must be discord, email or webhook, got {:?}", r.kind))),
    };
    let mut d = ChannelDecl { entry: entry.to_owned(), name, removed: r.removed, kind, url: None, secret: None, recipients: vec![] };
    if r.removed {
        return Ok(d);
    }
    let file = |field: &str, p: Option<PathBuf>| match p {
        Some(p) if p.as_os_str().is_empty() => Err(EntryError::new(entry, field, "must be a path")),
        other => Ok(other.map(Secret::File)),
    };
    let (url_file, secret_file) = (file("url_file", r.url_file)?, file("secret_file", r.secret_file)?);
    match kind {
        ChannelKind::Discord => {
            if r.url.is_some() {
                return Err(EntryError::new(entry, "url", "a Discord webhook URL is a credential: give url_file, never the URL inline"));
            }
            d.url = Some(url_file.ok_or_else(|| EntryError::new(entry, "url_file", "is required for a discord channel"))?);
        }
        ChannelKind::Webhook => {
            d.url = match (r.url, url_file) {
                (Some(_), Some(_)) => return Err(EntryError::new(entry, "url", "and url_file are both given: give one")),
                (Some(u), None) => Some(Secret::Inline(u)),
                (None, f @ Some(_)) => f,
                (None, None) => return Err(EntryError::new(entry, "url", "or url_file is required for a webhook channel")),
            };
            if r.secret.is_some() {
                return Err(EntryError::new(entry, "secret", "is a credential: give secret_file, never the secret inline"));
            }
            d.secret = secret_file;
        }
        ChannelKind::Email | ChannelKind::Log => {
            if r.url.is_some() || r.secret.is_some() || url_file.is_some() || secret_file.is_some() {
                return Err(EntryError::new(entry, "recipients", "are all an email channel takes (no url or secret)"));
            }
            if r.recipients.is_empty() || r.recipients.len() > 50 {
                return Err(EntryError::new(entry, "recipients", "must list 1 to 50 addresses"));
            }
            for (i, v) in r.recipients.iter().enumerate() {
                v.trim()
                    .parse::<lettre::message::Mailbox>()
                    .map_err(|e| EntryError::new(entry, format!("recipients[{i}]"), format!("{v:?} is not an email address: {e}")))?;
            }
            d.recipients = r.recipients.iter().map(|v| v.trim().to_owned()).collect();
        }
    }
    Ok(d)
}

fn route(entry: &str, r: RawRoute) -> Result<RouteDecl, EntryError> {
    let event_type = r.event_type.trim().to_owned();
    if event_type.len() > 100 || !event_type.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err(EntryError::new(entry, "event_type", format!("{event_type:?} may only hold a-z, 0-9, '.', '_' and '-' (100 at most)")));
    }
    let min_severity = [Severity::Info, Severity::Warning, Severity::Error, Severity::Critical]
        .into_iter()
        .find(|s| s.label() == r.min_severity.trim())
        .ok_or_else(|| {
            EntryError::new(entry, "min_severity", format!("must be info, warning, error or critical, got {:?}", r.min_severity))
        })?;
    let channel = name(entry, &r.channel).map_err(|e| EntryError { field: "channel".into(), ..e })?;
    Ok(RouteDecl { entry: entry.to_owned(), event_type, channel, min_severity, removed: r.removed })
}

fn monitor(entry: &str, r: RawMonitor) -> Result<MonitorDecl, EntryError> {
    let name = name(entry, &r.name)?;
    let bad = |field: &str, message: String| EntryError::new(entry, field, message);
    // A removed monitor is named only.
    let kind = match MonitorKind::parse(r.kind.trim()) {
        Some(kind) => kind,
        None if r.removed => MonitorKind::Tcp,
        None => return Err(bad("kind", format!("must be http, grpc_health or tcp, got {:?}", r.kind))),
    };
    let target = r.target.trim().to_owned();
    let timing = Timing {
        interval_secs: r.interval_seconds.unwrap_or(0),
        timeout_secs: r.timeout_seconds.unwrap_or(0),
        retries: r.retries,
        recovery_checks: r.recovery_checks.unwrap_or(0),
        expected_status: r.expected_status,
    };
    let mut d = MonitorDecl {
        entry: entry.to_owned(),
        removed: r.removed,
        parent: r.parent.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        config: MonitorConfig {
            name,
            kind,
            target,
            expected_status: timing.expected_status,
            keyword: r.keyword,
            grpc_service: r.grpc_service.trim().to_owned(),
            interval_secs: timing.interval_secs,
            timeout_secs: timing.timeout_secs,
            retries: timing.retries,
            recovery_checks: timing.recovery_checks,
            parent_id: None,
            internal: r.internal,
        },
    };
    if d.removed {
        return Ok(d);
    }
    let c = &mut d.config;
    if kind == MonitorKind::Http {
        let url = reqwest::Url::parse(&c.target).map_err(|e| bad("target", format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(bad("target", "must be an http:// or https:// URL".into()));
        }
    } else {
        let ok = c.target.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !ok {
            return Err(bad("target", format!("must be host:port, got {:?}", c.target)));
        }
    }
    let checked = timing.checked().map_err(|(field, message)| bad(field, message))?;
    (c.interval_secs, c.timeout_secs, c.recovery_checks) = (checked.interval_secs, checked.timeout_secs, checked.recovery_checks);
    if c.keyword.chars().count() > 200 || c.grpc_service.chars().count() > 200 {
        return Err(bad(if c.keyword.chars().count() > 200 { "keyword" } else { "grpc_service" }, "is longer than 200 characters".into()));
    }
    Ok(d)
}

fn window(entry: &str, r: RawWindow) -> Result<WindowDecl, EntryError> {
    let name = name(entry, &r.name)?;
    let time = |field: &str, v: &str| {
        DateTime::parse_from_rfc3339(v.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| EntryError::new(entry, field, format!("{v:?} is not an RFC 3339 time: {e}")))
    };
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let (starts_at, ends_at) = if r.removed { (epoch, epoch) } else { (time("starts_at", &r.starts_at)?, time("ends_at", &r.ends_at)?) };
    if !r.removed && ends_at <= starts_at {
        return Err(EntryError::new(entry, "ends_at", "must be after starts_at"));
    }
    if r.reason.chars().count() > 500 {
        return Err(EntryError::new(entry, "reason", "is longer than 500 characters"));
    }
    let monitors = r.monitors.iter().map(|m| m.trim().to_owned()).collect();
    Ok(WindowDecl { entry: entry.to_owned(), name, removed: r.removed, starts_at, ends_at, monitors, reason: r.reason.trim().to_owned() })
}
