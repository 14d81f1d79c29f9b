//! The `atmr.notify.v1.MonitorService` implementation: monitors, heartbeats,
//! uptime and maintenance windows, for admins of the caller's company.

use atmr_proto::notify::v1::{self as pb, monitor_service_server::MonitorService};
use chrono::{DateTime, Duration, Utc};
use kit::convert::timestamp as ts;
use kit::{
    auth::{Role, require_role},
    clock::SharedClock,
    stored::UnknownValue,
};
use prost_types::Timestamp;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, IntoActiveModel as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Set,
};
use tonic::{Request, Response, Status};

use crate::{
    domain::monitor::{State, uptime},
    store::{
        entities::{heartbeat, maintenance_window, monitor},
        monitors::new_monitor,
    },
};

const ADMINS: &[Role] = &[Role::Admin];
pub const MIN_INTERVAL_SECS: i32 = 10;

pub struct MonitorApi {
    db: DatabaseConnection,
    clock: SharedClock,
    egress: crate::outbox::egress::Egress,
}

impl MonitorApi {
    pub fn new(db: DatabaseConnection, clock: SharedClock, egress: crate::outbox::egress::Egress) -> Self {
        Self { db, clock, egress }
    }

    async fn find(&self, company_id: i64, id: &str) -> Result<monitor::Model, Status> {
        monitor::Entity::find_by_id(id.trim().to_owned())
            .filter(monitor::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await
            .map_err(|e| db(&e))?
            .ok_or_else(|| Status::not_found(format!("monitor {id} not found")))
    }

    /// Checks a monitor's configuration; `id` is the monitor being updated (for cycles).
    async fn config(&self, company_id: i64, m: &pb::Monitor, id: Option<&str>) -> Result<Config, Status> {
        let name = kit::input::required_line("monitor.name", &m.name, 100)?;
        let kind = match pb::MonitorKind::try_from(m.kind) {
            Ok(pb::MonitorKind::Http) => "http",
            Ok(pb::MonitorKind::GrpcHealth) => "grpc_health",
            Ok(pb::MonitorKind::Tcp) => "tcp",
            _ => return Err(invalid("monitor.kind", "must be HTTP, GRPC_HEALTH or TCP")),
        };
        let target = m.target.trim();
        if kind == "http" {
            let url = reqwest::Url::parse(target).map_err(|e| invalid("monitor.target", format!("is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(invalid("monitor.target", "must be an http:// or https:// URL"));
            }
            self.egress.check_url(&url).map_err(|e| invalid("monitor.target", e))?;
        } else {
            let (host, port) = target.rsplit_once(':').ok_or_else(|| invalid("monitor.target", "must be host:port"))?;
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(invalid("monitor.target", "must be host:port"));
            }
            self.egress.check_host(host).map_err(|e| invalid("monitor.target", e))?;
        }
        let interval = if m.interval_seconds == 0 { 30 } else { m.interval_seconds };
        if !(MIN_INTERVAL_SECS..=86_400).contains(&interval) {
            return Err(invalid("monitor.interval_seconds", format!("must be between {MIN_INTERVAL_SECS} and 86400, got {interval}")));
        }
        let timeout = if m.timeout_seconds == 0 { (interval * 4 / 5).min(48) } else { m.timeout_seconds };
        if !(1..=interval).contains(&timeout) {
            return Err(invalid("monitor.timeout_seconds", format!("must be between 1 and the interval ({interval}), got {timeout}")));
        }
        if !(0..=10).contains(&m.retries) {
            return Err(invalid("monitor.retries", "must be between 0 and 10"));
        }
        let recovery = if m.recovery_checks == 0 { 1 } else { m.recovery_checks };
        if !(1..=10).contains(&recovery) {
            return Err(invalid("monitor.recovery_checks", "must be between 1 and 10"));
        }
        if m.expected_status != 0 && !(100..=599).contains(&m.expected_status) {
            return Err(invalid("monitor.expected_status", "must be 0 (any 2xx) or an HTTP status"));
        }
        // The keyword is matched as given (not trimmed), and may span lines.
        let keyword = kit::input::long_text("monitor.keyword", &m.keyword, 200)?;
        let grpc_service = kit::input::optional_line("monitor.grpc_service", &m.grpc_service, 200)?;
        let parent = match m.parent_id.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => {
                // The parent exists in the company, and is not the monitor or one of its descendants.
                let mut cursor = Some(p.to_owned());
                for _ in 0..16 {
                    let Some(c) = cursor else { break };
                    if Some(c.as_str()) == id {
                        return Err(invalid("monitor.parent_id", "would make the monitor its own ancestor"));
                    }
                    let found = monitor::Entity::find_by_id(c.clone())
                        .filter(monitor::Column::CompanyId.eq(company_id))
                        .one(&self.db)
                        .await
                        .map_err(|e| db(&e))?
                        .ok_or_else(|| invalid("monitor.parent_id", format!("monitor {c} not found")))?;
                    cursor = found.parent_id;
                }
                Some(p.to_owned())
            }
        };
        Ok(Config {
            name,
            kind,
            target: target.to_owned(),
            expected_status: m.expected_status,
            keyword,
            grpc_service,
            interval,
            timeout,
            retries: m.retries,
            recovery,
            parent,
        })
    }
}

struct Config {
    name: String,
    kind: &'static str,
    target: String,
    expected_status: i32,
    keyword: String,
    grpc_service: String,
    interval: i32,
    timeout: i32,
    retries: i32,
    recovery: i32,
    parent: Option<String>,
}

impl Config {
    fn apply(self, row: &mut monitor::ActiveModel) {
        row.name = Set(self.name);
        row.kind = Set(self.kind.to_owned());
        row.target = Set(self.target);
        row.expected_status = Set(self.expected_status);
        row.keyword = Set(self.keyword);
        row.grpc_service = Set(self.grpc_service);
        row.interval_secs = Set(self.interval);
        row.timeout_secs = Set(self.timeout);
        row.retries = Set(self.retries);
        row.recovery_checks = Set(self.recovery);
        row.parent_id = Set(self.parent);
    }
}

fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    kit::error::invalid_argument(field, message)
}

fn db(e: &DbErr) -> Status {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Status::already_exists("a monitor with this name exists already"),
        _ => kit::error::database(e),
    }
}

fn state_proto(table: &'static str, row_id: impl std::fmt::Display, s: &str) -> Result<i32, UnknownValue> {
    Ok((match State::stored(table, row_id, s)? {
        State::Up => pb::MonitorState::Up,
        State::Pending => pb::MonitorState::Pending,
        State::Down => pb::MonitorState::Down,
        State::Paused => pb::MonitorState::Paused,
        State::Maintenance => pb::MonitorState::Maintenance,
    }) as i32)
}

/// A monitor's answer; a kind or state stored outside its vocabulary is an
/// error naming the row (and a list with such a row fails).
fn monitor_proto(m: monitor::Model) -> Result<pb::Monitor, UnknownValue> {
    let kind = match m.kind.as_str() {
        "http" => pb::MonitorKind::Http,
        "grpc_health" => pb::MonitorKind::GrpcHealth,
        "tcp" => pb::MonitorKind::Tcp,
        other => return Err(UnknownValue::new("monitor", "kind", &m.id, other)),
    };
    Ok(pb::Monitor {
        state: state_proto("monitor", &m.id, &m.state)?,
        id: m.id,
        name: m.name,
        kind: kind as i32,
        target: m.target,
        expected_status: m.expected_status,
        keyword: m.keyword,
        grpc_service: m.grpc_service,
        interval_seconds: m.interval_secs,
        timeout_seconds: m.timeout_secs,
        retries: m.retries,
        recovery_checks: m.recovery_checks,
        parent_id: m.parent_id,
        state_since: Some(ts(m.state_since)),
        create_time: Some(ts(m.created_at)),
    })
}

fn window_proto(w: maintenance_window::Model) -> pb::MaintenanceWindow {
    pb::MaintenanceWindow {
        id: w.id,
        monitor_ids: w.monitor_ids.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        start_time: Some(ts(w.starts_at)),
        end_time: Some(ts(w.ends_at)),
        reason: w.reason,
    }
}

fn time(field: &str, t: Option<&Timestamp>) -> Result<DateTime<Utc>, Status> {
    crate::grpc::time(field, t.ok_or_else(|| invalid(field, "is required"))?)
}

#[tonic::async_trait]
impl MonitorService for MonitorApi {
    async fn create_monitor(&self, req: Request<pb::CreateMonitorRequest>) -> Result<Response<pb::CreateMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = req.get_ref().monitor.clone().ok_or_else(|| invalid("monitor", "is required"))?;
        let cfg = self.config(company_id, &m, None).await?;
        let mut row = new_monitor(company_id, self.clock.now());
        cfg.apply(&mut row);
        let saved = row.insert(&self.db).await.map_err(|e| db(&e))?;
        Ok(Response::new(pb::CreateMonitorResponse { monitor: Some(monitor_proto(saved)?) }))
    }

    async fn get_monitor(&self, req: Request<pb::GetMonitorRequest>) -> Result<Response<pb::GetMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = self.find(company_id, &req.get_ref().monitor_id).await?;
        Ok(Response::new(pb::GetMonitorResponse { monitor: Some(monitor_proto(m)?) }))
    }

    async fn list_monitors(&self, req: Request<pb::ListMonitorsRequest>) -> Result<Response<pb::ListMonitorsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let rows = monitor::Entity::find()
            .filter(monitor::Column::CompanyId.eq(company_id))
            .order_by_asc(monitor::Column::Name)
            .all(&self.db)
            .await
            .map_err(|e| db(&e))?;
        Ok(Response::new(pb::ListMonitorsResponse { monitors: rows.into_iter().map(monitor_proto).collect::<Result<_, _>>()? }))
    }

    async fn update_monitor(&self, req: Request<pb::UpdateMonitorRequest>) -> Result<Response<pb::UpdateMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = req.get_ref().monitor.clone().ok_or_else(|| invalid("monitor", "is required"))?;
        let current = self.find(company_id, &m.id).await?;
        let cfg = self.config(company_id, &m, Some(&current.id)).await?;
        let mut row = current.into_active_model();
        cfg.apply(&mut row);
        row.updated_at = Set(self.clock.now());
        let saved = row.update(&self.db).await.map_err(|e| db(&e))?;
        Ok(Response::new(pb::UpdateMonitorResponse { monitor: Some(monitor_proto(saved)?) }))
    }

    async fn delete_monitor(&self, req: Request<pb::DeleteMonitorRequest>) -> Result<Response<pb::DeleteMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = self.find(company_id, &req.get_ref().monitor_id).await?;
        monitor::Entity::delete_by_id(m.id).exec(&self.db).await.map_err(|e| db(&e))?;
        Ok(Response::new(pb::DeleteMonitorResponse {}))
    }

    async fn pause_monitor(&self, req: Request<pb::PauseMonitorRequest>) -> Result<Response<pb::PauseMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = self.find(company_id, &req.get_ref().monitor_id).await?;
        let now = self.clock.now();
        let mut row = m.into_active_model();
        row.paused = Set(true);
        row.state = Set(State::Paused.label().to_owned());
        row.state_since = Set(now);
        row.updated_at = Set(now);
        let saved = row.update(&self.db).await.map_err(|e| db(&e))?;
        Ok(Response::new(pb::PauseMonitorResponse { monitor: Some(monitor_proto(saved)?) }))
    }

    async fn resume_monitor(&self, req: Request<pb::ResumeMonitorRequest>) -> Result<Response<pb::ResumeMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = self.find(company_id, &req.get_ref().monitor_id).await?;
        let now = self.clock.now();
        let mut row = m.into_active_model();
        row.paused = Set(false);
        row.state = Set(State::Pending.label().to_owned());
        row.state_since = Set(now);
        row.fail_streak = Set(0);
        row.ok_streak = Set(0);
        row.down_since = Set(None);
        row.alerted_down = Set(false);
        row.held_down = Set(false);
        row.next_check_at = Set(now);
        row.updated_at = Set(now);
        let saved = row.update(&self.db).await.map_err(|e| db(&e))?;
        Ok(Response::new(pb::ResumeMonitorResponse { monitor: Some(monitor_proto(saved)?) }))
    }

    async fn list_heartbeats(&self, req: Request<pb::ListHeartbeatsRequest>) -> Result<Response<pb::ListHeartbeatsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let m = self.find(company_id, &r.monitor_id).await?;
        let limit = if r.limit == 0 { 100 } else { r.limit };
        if !(1..=1000).contains(&limit) {
            return Err(invalid("limit", "must be between 1 and 1000"));
        }
        let mut q = heartbeat::Entity::find().filter(heartbeat::Column::MonitorId.eq(m.id));
        if let Some(range) = &r.range {
            if let Some(s) = &range.start_time {
                q = q.filter(heartbeat::Column::CheckedAt.gte(time("range.start_time", Some(s))?));
            }
            if let Some(e) = &range.end_time {
                q = q.filter(heartbeat::Column::CheckedAt.lt(time("range.end_time", Some(e))?));
            }
        }
        let rows = q
            .order_by_desc(heartbeat::Column::CheckedAt)
            .order_by_desc(heartbeat::Column::Id)
            .limit(limit as u64)
            .all(&self.db)
            .await
            .map_err(|e| db(&e))?;
        Ok(Response::new(pb::ListHeartbeatsResponse {
            heartbeats: rows
                .into_iter()
                .map(|h| {
                    Ok(pb::Heartbeat {
                        state: state_proto("heartbeat", h.id, &h.state)?,
                        time: Some(ts(h.checked_at)),
                        up: h.up,
                        latency_ms: h.latency_ms,
                        message: h.message,
                    })
                })
                .collect::<Result<_, UnknownValue>>()?,
        }))
    }

    async fn get_uptime(&self, req: Request<pb::GetUptimeRequest>) -> Result<Response<pb::GetUptimeResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = self.find(company_id, &req.get_ref().monitor_id).await?;
        let now = self.clock.now();
        let since = |d: Duration| {
            heartbeat::Entity::find()
                .select_only()
                .column(heartbeat::Column::Up)
                .column(heartbeat::Column::InMaintenance)
                .column(heartbeat::Column::LatencyMs)
                .filter(heartbeat::Column::MonitorId.eq(m.id.as_str()))
                .filter(heartbeat::Column::CheckedAt.gt(now - d))
                .into_tuple::<(bool, bool, f64)>()
                .all(&self.db)
        };
        let day = since(Duration::hours(24)).await.map_err(|e| db(&e))?;
        let month = since(Duration::days(30)).await.map_err(|e| db(&e))?;
        let latencies: Vec<f64> = day.iter().filter(|(up, maintenance, _)| *up && !maintenance).map(|(_, _, l)| *l).collect();
        Ok(Response::new(pb::GetUptimeResponse {
            uptime_24h: uptime(day.iter().map(|(u, m, _)| (*u, *m))).unwrap_or(100.0),
            uptime_30d: uptime(month.iter().map(|(u, m, _)| (*u, *m))).unwrap_or(100.0),
            avg_latency_ms_24h: if latencies.is_empty() { 0.0 } else { latencies.iter().sum::<f64>() / latencies.len() as f64 },
        }))
    }

    async fn create_maintenance_window(
        &self,
        req: Request<pb::CreateMaintenanceWindowRequest>,
    ) -> Result<Response<pb::CreateMaintenanceWindowResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let w = req.get_ref().window.clone().ok_or_else(|| invalid("window", "is required"))?;
        let start = time("window.start_time", w.start_time.as_ref())?;
        let end = time("window.end_time", w.end_time.as_ref())?;
        if end <= start {
            return Err(invalid("window.end_time", "must be after the start"));
        }
        if w.reason.chars().count() > 500 {
            return Err(invalid("window.reason", "is longer than 500 characters"));
        }
        for (i, id) in w.monitor_ids.iter().enumerate() {
            self.find(company_id, id).await.map_err(|_| invalid(&format!("window.monitor_ids[{i}]"), format!("monitor {id} not found")))?;
        }
        let saved = maintenance_window::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            company_id: Set(company_id),
            monitor_ids: Set(w.monitor_ids.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",")),
            starts_at: Set(start),
            ends_at: Set(end),
            reason: Set(w.reason.trim().to_owned()),
            created_at: Set(self.clock.now()),
        }
        .insert(&self.db)
        .await
        .map_err(|e| db(&e))?;
        Ok(Response::new(pb::CreateMaintenanceWindowResponse { window: Some(window_proto(saved)) }))
    }

    async fn list_maintenance_windows(
        &self,
        req: Request<pb::ListMaintenanceWindowsRequest>,
    ) -> Result<Response<pb::ListMaintenanceWindowsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let rows = maintenance_window::Entity::find()
            .filter(maintenance_window::Column::CompanyId.eq(company_id))
            .order_by_asc(maintenance_window::Column::StartsAt)
            .all(&self.db)
            .await
            .map_err(|e| db(&e))?;
        Ok(Response::new(pb::ListMaintenanceWindowsResponse { windows: rows.into_iter().map(window_proto).collect() }))
    }

    async fn delete_maintenance_window(
        &self,
        req: Request<pb::DeleteMaintenanceWindowRequest>,
    ) -> Result<Response<pb::DeleteMaintenanceWindowResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let done = maintenance_window::Entity::delete_many()
            .filter(maintenance_window::Column::CompanyId.eq(company_id))
            .filter(maintenance_window::Column::Id.eq(req.get_ref().window_id.trim()))
            .exec(&self.db)
            .await
            .map_err(|e| db(&e))?;
        if done.rows_affected == 0 {
            return Err(Status::not_found(format!("maintenance window {} not found", req.get_ref().window_id)));
        }
        Ok(Response::new(pb::DeleteMaintenanceWindowResponse {}))
    }
}
