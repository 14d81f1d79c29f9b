//! The operator's monitors file (`ATMR_MONITORS_FILE`), applied at notify's
//! start: the document parsed and checked (`domain::declared`), its monitors'
//! targets held to the egress policy unless marked `internal`, its channels'
//! credentials read from their files and checked, then everything written in
//! one transaction (`store::declared`). A bad file stops the start with an
//! error naming the file, the entry and the field; nothing of it is applied.
//! `atmr up` applies its mesh monitors as a generated document the same way.
//!
//! `internal: true` is the operator's to give, here only: the file is mounted
//! by whoever deploys notify, as trusted as `NOTIFY_EGRESS_ALLOW`, and lets
//! the monitors of the deployment's own components and databases reach their
//! private addresses without opening those addresses to every tenant's
//! webhooks. No request sets the flag.

use std::path::Path;

use anyhow::Context as _;

use crate::{
    domain::{
        channel::{ChannelKind, ChannelTarget},
        declared::{ChannelDecl, Document, EntryError, MonitorDecl, Secret, parse},
        monitor::MonitorKind,
    },
    error::Error,
    outbox::egress::Egress,
    store::{
        Store,
        declared::{Applied, Plan},
    },
};

/// Reads and checks the monitors file at `path` as notify's start would,
/// without reading the channels' credential files (a deployment mounts them
/// where this check may not run). The error names the file, entry and field.
pub fn check_file(path: &Path, egress: &Egress) -> anyhow::Result<Document> {
    let text = std::fs::read_to_string(path).with_context(|| format!("monitors file {}: cannot read it", path.display()))?;
    check(&text, egress).map_err(|e| anyhow::anyhow!("monitors file {}: {e}", path.display()))
}

/// Parses `text` and holds its monitors' targets to `egress`.
pub fn check(text: &str, egress: &Egress) -> Result<Document, EntryError> {
    let doc = parse(text)?;
    for m in doc.companies.iter().flat_map(|c| &c.monitors).filter(|m| !m.removed) {
        monitor_reach(m, egress)?;
    }
    Ok(doc)
}

/// Applies the monitors file at `path` (see the module's note). `email`:
/// whether an SMTP server is configured, which email channels need.
pub async fn apply_file(
    store: &Store,
    path: &Path,
    egress: &Egress,
    email: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Applied> {
    let doc = check_file(path, egress)?;
    apply(store, &doc, egress, email, now).await.map_err(|e| anyhow::anyhow!("monitors file {}: {e:#}", path.display()))
}

/// Applies a checked document in one transaction.
pub async fn apply(
    store: &Store,
    doc: &Document,
    egress: &Egress,
    email: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Applied> {
    let mut plans = Vec::with_capacity(doc.companies.len());
    for company in &doc.companies {
        let targets = company.channels.iter().map(|c| channel_target(c, egress, email)).collect::<Result<Vec<_>, _>>()?;
        plans.push(Plan { company, targets });
    }
    store.apply_declared(&plans, now).await.map_err(|e| match e {
        // The store names the field as `<entry>.<field>`.
        Error::Invalid(i) => anyhow::anyhow!("{}: {}", i.field, i.message),
        other => anyhow::Error::new(other).context("cannot apply it"),
    })
}

/// Refuses a monitor whose target the egress policy forbids on its face,
/// unless the operator marked it internal.
fn monitor_reach(m: &MonitorDecl, egress: &Egress) -> Result<(), EntryError> {
    if m.config.internal {
        return Ok(());
    }
    let refused = |e: crate::outbox::egress::Refused| {
        EntryError::new(
            &m.entry,
            "target",
            format!(
                "is refused by the egress policy ({e}); or mark the monitor `internal: true` if it watches one of the deployment's own components"
            ),
        )
    };
    match m.config.kind {
        MonitorKind::Http => {
            let url =
                reqwest::Url::parse(&m.config.target).map_err(|e| EntryError::new(&m.entry, "target", format!("is not a URL: {e}")))?;
            egress.check_url(&url).map_err(refused)
        }
        MonitorKind::GrpcHealth | MonitorKind::Tcp => egress.check_target(&m.config.target).map_err(refused),
    }
}

/// A channel's target: its credentials read from their files, its URL checked.
fn channel_target(c: &ChannelDecl, egress: &Egress, email: bool) -> Result<ChannelTarget, EntryError> {
    if c.removed {
        return Ok(ChannelTarget::default());
    }
    let read = |field: &str, s: &Secret| match s {
        Secret::Inline(v) => Ok(v.trim().to_owned()),
        Secret::File(path) => match std::fs::read_to_string(path) {
            Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            Ok(_) => Err(EntryError::new(&c.entry, field, format!("{} is empty", path.display()))),
            Err(e) => Err(EntryError::new(&c.entry, field, format!("cannot read {}: {e}", path.display()))),
        },
    };
    let field = |s: &Secret| if matches!(s, Secret::File(_)) { "url_file" } else { "url" };
    match c.kind {
        ChannelKind::Email => {
            if !email {
                return Err(EntryError::new(&c.entry, "kind", "email needs an SMTP server: set NOTIFY_SMTP_HOST (and NOTIFY_SMTP_*)"));
            }
            Ok(ChannelTarget { url: None, secret: None, recipients: c.recipients.join(",") })
        }
        ChannelKind::Discord | ChannelKind::Webhook => {
            let Some(source) = &c.url else { return Err(EntryError::new(&c.entry, "url_file", "is required")) };
            let value = read(field(source), source)?;
            // The message never repeats the URL: it may hold a token.
            let url =
                reqwest::Url::parse(&value).map_err(|e| EntryError::new(&c.entry, field(source), format!("does not hold a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
                return Err(EntryError::new(&c.entry, field(source), "does not hold an http:// or https:// URL with a host"));
            }
            egress
                .check_url(&url)
                .map_err(|e| EntryError::new(&c.entry, field(source), format!("holds a URL the egress policy refuses ({e})")))?;
            let secret = c.secret.as_ref().map(|s| read("secret_file", s)).transpose()?;
            Ok(ChannelTarget { url: Some(url.to_string()), secret, recipients: String::new() })
        }
        ChannelKind::Log => Ok(ChannelTarget::default()),
    }
}
