//! Monitors as admins configure them: a configuration checked (a target of
//! its kind that the egress policy allows, intervals and counts in range, a
//! parent of the company that is not the monitor itself or below it), pause
//! and resume, heartbeats (several monitors' at once for a status page),
//! uptime, incidents, maintenance windows. No request makes a
//! monitor internal (one of the mesh's own, checked past the egress policy):
//! only the system registers those, and an edit of what one checks makes it
//! an ordinary monitor, its new target held to the policy.

use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt as _, TryStreamExt as _};
use kit::clock::SharedClock;

use crate::{
    domain::monitor::{Incident, MonitorConfig, MonitorKind, State, Timing, incidents, uptime},
    error::Error,
    outbox::egress::Egress,
    store::{
        Store,
        entities::{heartbeat, maintenance_window, monitor},
        heartbeats::HeartbeatQuery,
        maintenance::NewWindow,
    },
};

/// A monitor as asked, before its checks. Fields are named `monitor.<field>`
/// in errors.
pub struct MonitorDraft {
    /// The monitor to update (ignored on create).
    pub id: String,
    pub name: String,
    /// `None`: not one this service checks.
    pub kind: Option<MonitorKind>,
    pub target: String,
    pub expected_status: i32,
    pub keyword: String,
    pub grpc_service: String,
    /// 0: the default.
    pub interval_seconds: i32,
    /// 0: the default.
    pub timeout_seconds: i32,
    pub retries: i32,
    /// 0: the default.
    pub recovery_checks: i32,
    pub parent_id: Option<String>,
}

/// A maintenance window, its times checked.
pub struct WindowDraft {
    pub monitor_ids: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

/// How many monitors one batch read names at most.
pub const MAX_BATCH: usize = 100;

/// Which incidents of a monitor to list: those seen in `[from, to)` (the
/// last 30 days by default), the newest `limit`.
#[derive(Debug)]
pub struct IncidentQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// A monitor's uptime, in percent, and its mean latency when up.
pub struct Uptime {
    pub day: f64,
    pub month: f64,
    pub avg_latency_ms_day: f64,
}

pub struct Monitors {
    pub store: Store,
    pub clock: SharedClock,
    pub egress: Egress,
}

impl Monitors {
    pub async fn create(&self, company_id: i64, d: &MonitorDraft) -> Result<monitor::Model, Error> {
        let cfg = self.config(d, None).await?;
        self.store.create_monitor(company_id, cfg, self.clock.now()).await
    }

    /// Monitor `id` of the company.
    pub async fn get(&self, company_id: i64, id: &str) -> Result<monitor::Model, Error> {
        self.store.monitor(company_id, id).await
    }

    pub async fn list(&self, company_id: i64) -> Result<Vec<monitor::Model>, Error> {
        Ok(self.store.monitors(company_id).await?)
    }

    /// Rewrites monitor `d.id`'s configuration; its state and tally stay.
    pub async fn update(&self, company_id: i64, d: &MonitorDraft) -> Result<monitor::Model, Error> {
        let current = self.store.monitor(company_id, &d.id).await?;
        let cfg = self.config(d, Some(&current)).await?;
        self.store.update_monitor(&current, cfg, self.clock.now()).await
    }

    pub async fn delete(&self, company_id: i64, id: &str) -> Result<(), Error> {
        let m = self.store.monitor(company_id, id).await?;
        Ok(self.store.delete_monitor(m.id).await?)
    }

    /// Pauses monitor `id` (one paused already is left as it is).
    pub async fn pause(&self, company_id: i64, id: &str) -> Result<monitor::Model, Error> {
        self.store.pause_monitor(company_id, id, self.clock.now()).await
    }

    /// Resumes monitor `id` from pending (one not paused is left as it is).
    pub async fn resume(&self, company_id: i64, id: &str) -> Result<monitor::Model, Error> {
        self.store.resume_monitor(company_id, id, self.clock.now()).await
    }

    /// Monitor `monitor_id`'s heartbeats, newest first (the monitor is the company's: see [`Self::get`]).
    pub async fn heartbeats(&self, monitor_id: &str, q: HeartbeatQuery) -> Result<Vec<heartbeat::Model>, Error> {
        Ok(self.store.heartbeats(monitor_id, q).await?)
    }

    /// Uptime over the last 24 hours and 30 days, maintenance left out (100
    /// when nothing was checked), and the mean latency of the day's good checks.
    pub async fn uptime(&self, company_id: i64, id: &str) -> Result<Uptime, Error> {
        let m = self.store.monitor(company_id, id).await?;
        Ok(self.uptimes_of(vec![m.id]).await?.remove(0).1)
    }

    /// [`Self::uptime`] of each monitor of `ids` (1 to [`MAX_BATCH`], the
    /// company's, in that order; the first one that is not is NOT_FOUND).
    pub async fn uptimes(&self, company_id: i64, ids: &[String]) -> Result<Vec<(String, Uptime)>, Error> {
        let found = self.company_monitors(company_id, ids).await?;
        self.uptimes_of(found.into_iter().map(|m| m.id).collect()).await
    }

    async fn uptimes_of(&self, ids: Vec<String>) -> Result<Vec<(String, Uptime)>, Error> {
        let now = self.clock.now();
        let mut day = self.store.counts(&ids, now - Duration::hours(24)).await?;
        let mut month = self.store.counts(&ids, now - Duration::days(30)).await?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let (d, latency) = day.remove(&id).unwrap_or_default();
                let (m, _) = month.remove(&id).unwrap_or_default();
                let u = Uptime {
                    day: uptime(d).unwrap_or(100.0),
                    month: uptime(m).unwrap_or(100.0),
                    avg_latency_ms_day: latency.unwrap_or(0.0),
                };
                (id, u)
            })
            .collect())
    }

    /// The newest `limit` heartbeats of each monitor of `ids` (1 to
    /// [`MAX_BATCH`], the company's, in that order).
    pub async fn recent_heartbeats(
        &self,
        company_id: i64,
        ids: &[String],
        limit: u64,
    ) -> Result<Vec<(String, Vec<heartbeat::Model>)>, Error> {
        let found = self.company_monitors(company_id, ids).await?;
        // One indexed read per monitor, a few at a time: each stops at its limit.
        let reads = found.into_iter().map(|m| async move {
            let beats = self.store.heartbeats(&m.id, HeartbeatQuery { limit, from: None, to: None }).await?;
            Ok::<_, Error>((m.id, beats))
        });
        futures::stream::iter(reads).buffered(4).try_collect().await
    }

    /// Monitor `id`'s incidents seen in `[from, to)`, newest first, at most
    /// `limit`. One under way when the range starts begins there; one still
    /// open when the monitor was paused ends when it was.
    pub async fn incidents(&self, company_id: i64, id: &str, q: IncidentQuery) -> Result<Vec<Incident>, Error> {
        let m = self.store.monitor(company_id, id).await?;
        let from = q.from.unwrap_or_else(|| q.to.unwrap_or_else(|| self.clock.now()) - Duration::days(30));
        let changes = self.store.state_changes(&m.id, from, q.to).await?;
        let mut read = Vec::with_capacity(changes.len());
        for c in changes {
            read.push((c.checked_at, State::stored("heartbeat", c.id, &c.state)?, c.message));
        }
        let mut found = incidents(read);
        if let Some(last) = found.last_mut().filter(|i| i.end.is_none())
            && State::stored("monitor", &m.id, &m.state)? != State::Down
        {
            last.end = Some(m.state_since);
        }
        found.reverse();
        found.truncate(q.limit);
        Ok(found)
    }

    /// The company's monitors of `ids`, in that order; the first that is not
    /// one of them is NOT_FOUND, worded as for any missing monitor.
    async fn company_monitors(&self, company_id: i64, ids: &[String]) -> Result<Vec<monitor::Model>, Error> {
        let mut found = self.store.monitors_among(company_id, ids).await?;
        let mut ordered = Vec::with_capacity(ids.len());
        for id in ids {
            let at = found.iter().position(|m| &m.id == id).ok_or_else(|| Error::NotFound(format!("monitor {id}")))?;
            ordered.push(found.swap_remove(at));
        }
        Ok(ordered)
    }

    /// A window over the company's monitors listed (none: all of them).
    pub async fn create_window(&self, company_id: i64, w: WindowDraft) -> Result<maintenance_window::Model, Error> {
        for (i, id) in w.monitor_ids.iter().enumerate() {
            self.store
                .monitor(company_id, id)
                .await
                .map_err(|_| Error::invalid(format!("window.monitor_ids[{i}]"), format!("monitor {id} not found")))?;
        }
        let new = NewWindow {
            company_id,
            monitor_ids: w.monitor_ids,
            starts_at: w.start,
            ends_at: w.end,
            reason: w.reason,
            now: self.clock.now(),
        };
        Ok(self.store.create_window(new).await?)
    }

    pub async fn windows(&self, company_id: i64) -> Result<Vec<maintenance_window::Model>, Error> {
        Ok(self.store.windows(company_id).await?)
    }

    pub async fn delete_window(&self, company_id: i64, id: &str) -> Result<(), Error> {
        self.store.delete_window(company_id, id).await
    }

    /// Checks a monitor's configuration; `current` is the monitor being
    /// updated (whether it stays internal).
    async fn config(&self, m: &MonitorDraft, current: Option<&monitor::Model>) -> Result<MonitorConfig, Error> {
        let name = kit::input::required_line("monitor.name", &m.name, 100)?;
        let kind = m.kind.ok_or_else(|| Error::invalid("monitor.kind", "must be HTTP, GRPC_HEALTH or TCP"))?;
        let target = m.target.trim();
        // The keyword is matched as given (not trimmed), and may span lines.
        let keyword = kit::input::long_text("monitor.keyword", &m.keyword, 200)?;
        let grpc_service = kit::input::optional_line("monitor.grpc_service", &m.grpc_service, 200)?;
        // One of the mesh's own monitors stays internal while what it checks is
        // what the system registered; its name, interval or parent may change.
        let internal = current.is_some_and(|c| {
            c.internal
                && c.kind == kind.label()
                && c.target == target
                && c.expected_status == m.expected_status
                && c.keyword == keyword
                && c.grpc_service == grpc_service
        });
        let egress = if internal { self.egress.system() } else { self.egress.clone() };
        if kind == MonitorKind::Http {
            let url = reqwest::Url::parse(target).map_err(|e| Error::invalid("monitor.target", format!("is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(Error::invalid("monitor.target", "must be an http:// or https:// URL"));
            }
            egress.check_url(&url).map_err(|e| Error::invalid("monitor.target", e))?;
        } else {
            let (host, port) = target.rsplit_once(':').ok_or_else(|| Error::invalid("monitor.target", "must be host:port"))?;
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(Error::invalid("monitor.target", "must be host:port"));
            }
            egress.check_target(target).map_err(|e| Error::invalid("monitor.target", e))?;
        }
        let timing = Timing {
            interval_secs: m.interval_seconds,
            timeout_secs: m.timeout_seconds,
            retries: m.retries,
            recovery_checks: m.recovery_checks,
            expected_status: m.expected_status,
        }
        .checked()
        .map_err(|(field, message)| Error::invalid(format!("monitor.{field}"), message))?;
        // That the parent is the company's and not the monitor or one of its
        // descendants is checked in the transaction that writes the monitor,
        // one parent change at a time (`Store::create_monitor`, `Store::update_monitor`).
        let parent_id = m.parent_id.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        Ok(MonitorConfig {
            name,
            kind,
            target: target.to_owned(),
            expected_status: m.expected_status,
            keyword,
            grpc_service,
            interval_secs: timing.interval_secs,
            timeout_secs: timing.timeout_secs,
            retries: timing.retries,
            recovery_checks: timing.recovery_checks,
            parent_id,
            internal,
        })
    }
}
