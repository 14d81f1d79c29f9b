//! What the notify component is configured with, read from the environment:
//! the delivery workers' retry policy, the SMTP server, the egress policy,
//! the monitor scheduler's tick and the operator's monitors file.

use std::{path::PathBuf, time::Duration};

use kit::{
    Component, ConfigError, Env, ServiceConfig,
    clock::{self, SharedClock},
};

use crate::outbox::{delivery::email::SmtpConfig, egress::Egress, worker::Policy};

/// Everything the notify component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    /// `NOTIFY_MAX_ATTEMPTS` (8), `NOTIFY_BACKOFF_BASE_MS` (2000),
    /// `NOTIFY_BACKOFF_MAX_SECS` (3600), `NOTIFY_LEASE_SECS` (60),
    /// `NOTIFY_POLL_MS` (1000), `NOTIFY_BATCH` (32).
    pub policy: Policy,
    /// Delivery workers in this process (`NOTIFY_WORKERS`, 1).
    pub workers: usize,
    /// Per-attempt HTTP and SMTP timeout (`NOTIFY_HTTP_TIMEOUT_MS`, 10000).
    pub http_timeout: Duration,
    /// Which addresses webhooks, Discord and monitors may reach (see `outbox::egress`).
    pub egress: Egress,
    /// The SMTP server email channels send through; `None` without `NOTIFY_SMTP_HOST`.
    pub smtp: Option<SmtpConfig>,
    /// How often the monitor scheduler looks for due checks (`NOTIFY_MONITOR_TICK_MS`, 1000).
    pub monitor_tick: Duration,
    /// How often the backlog gauges (`notify_backlog`, `…_oldest_seconds`) are refreshed.
    pub backlog_refresh: Duration,
    /// The operator's monitors, channels, routes and maintenance windows,
    /// applied at start (`ATMR_MONITORS_FILE`, none by default; see `declared`).
    pub monitors_file: Option<PathBuf>,
    /// Where "now" comes from; tests move it.
    pub clock: SharedClock,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(Component::Notify, env)?;
        let egress = Egress::from_env(env)?;
        Ok(Self {
            service,
            policy: Policy {
                max_attempts: env.u64_in("NOTIFY_MAX_ATTEMPTS", 8, 1..=100)? as u32,
                base_backoff: Duration::from_millis(env.u64_in("NOTIFY_BACKOFF_BASE_MS", 2_000, 1..=3_600_000)?),
                max_backoff: Duration::from_secs(env.u64_in("NOTIFY_BACKOFF_MAX_SECS", 3_600, 1..=86_400)?),
                lease: Duration::from_secs(env.u64_in("NOTIFY_LEASE_SECS", 60, 1..=3_600)?),
                poll: Duration::from_millis(env.u64_in("NOTIFY_POLL_MS", 1_000, 10..=60_000)?),
                batch: env.u64_in("NOTIFY_BATCH", 32, 1..=1_000)?,
            },
            workers: env.u64_in("NOTIFY_WORKERS", 1, 0..=64)? as usize,
            http_timeout: Duration::from_millis(env.u64_in("NOTIFY_HTTP_TIMEOUT_MS", 10_000, 100..=120_000)?),
            egress,
            smtp: SmtpConfig::from_env(env)?,
            monitor_tick: Duration::from_millis(env.u64_in("NOTIFY_MONITOR_TICK_MS", 1_000, 10..=60_000)?),
            backlog_refresh: Duration::from_millis(env.u64_in("NOTIFY_BACKLOG_REFRESH_MS", 10_000, 10..=600_000)?),
            monitors_file: env.get("ATMR_MONITORS_FILE").map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from),
            clock: clock::system(),
        })
    }
}
