//! `atmr.notify.v1.MonitorService`: monitors, heartbeats, uptime and
//! maintenance windows, for admins of the caller's company (and the list
//! of monitors for the gateway's public status page). Each handler
//! checks the role, checks the request, calls `core` and converts the answer.

use std::sync::Arc;

use atmr_proto::notify::v1::{self as pb, monitor_service_server::MonitorService};
use kit::{
    auth::{Role, require_role},
    convert::timestamp as ts,
};
use tonic::{Request, Response, Status};

use crate::{
    api::{convert, input, monitors_input},
    core::Core,
};

const ADMINS: &[Role] = &[Role::Admin];
/// `ListMonitors` also answers the gateway's call token (the only call of the
/// service's table it may make here): a company's public status page shows
/// its monitors' names and states.
const ADMINS_OR_GATEWAY: &[Role] = &[Role::Admin, Role::Service];

pub struct MonitorApi {
    core: Arc<Core>,
}

impl MonitorApi {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }
}

#[tonic::async_trait]
impl MonitorService for MonitorApi {
    async fn create_monitor(&self, req: Request<pb::CreateMonitorRequest>) -> Result<Response<pb::CreateMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let draft = input::monitor(req.get_ref().monitor.as_ref())?;
        let saved = self.core.monitors.create(company_id, &draft).await?;
        Ok(Response::new(pb::CreateMonitorResponse { monitor: Some(convert::monitor(saved)?) }))
    }

    async fn get_monitor(&self, req: Request<pb::GetMonitorRequest>) -> Result<Response<pb::GetMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let m = self.core.monitors.get(company_id, &req.get_ref().monitor_id).await?;
        Ok(Response::new(pb::GetMonitorResponse { monitor: Some(convert::monitor(m)?) }))
    }

    async fn list_monitors(&self, req: Request<pb::ListMonitorsRequest>) -> Result<Response<pb::ListMonitorsResponse>, Status> {
        let company_id = require_role(&req, ADMINS_OR_GATEWAY)?.company_id;
        let rows = self.core.monitors.list(company_id).await?;
        Ok(Response::new(pb::ListMonitorsResponse { monitors: rows.into_iter().map(convert::monitor).collect::<Result<_, _>>()? }))
    }

    async fn update_monitor(&self, req: Request<pb::UpdateMonitorRequest>) -> Result<Response<pb::UpdateMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let draft = input::monitor(req.get_ref().monitor.as_ref())?;
        let saved = self.core.monitors.update(company_id, &draft).await?;
        Ok(Response::new(pb::UpdateMonitorResponse { monitor: Some(convert::monitor(saved)?) }))
    }

    async fn delete_monitor(&self, req: Request<pb::DeleteMonitorRequest>) -> Result<Response<pb::DeleteMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        self.core.monitors.delete(company_id, &req.get_ref().monitor_id).await?;
        Ok(Response::new(pb::DeleteMonitorResponse {}))
    }

    async fn pause_monitor(&self, req: Request<pb::PauseMonitorRequest>) -> Result<Response<pb::PauseMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let saved = self.core.monitors.pause(company_id, &req.get_ref().monitor_id).await?;
        Ok(Response::new(pb::PauseMonitorResponse { monitor: Some(convert::monitor(saved)?) }))
    }

    async fn resume_monitor(&self, req: Request<pb::ResumeMonitorRequest>) -> Result<Response<pb::ResumeMonitorResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let saved = self.core.monitors.resume(company_id, &req.get_ref().monitor_id).await?;
        Ok(Response::new(pb::ResumeMonitorResponse { monitor: Some(convert::monitor(saved)?) }))
    }

    async fn list_heartbeats(&self, req: Request<pb::ListHeartbeatsRequest>) -> Result<Response<pb::ListHeartbeatsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        // The monitor is found before the query is checked, as it always was.
        let m = self.core.monitors.get(company_id, &r.monitor_id).await?;
        let query = input::heartbeats(r)?;
        let rows = self.core.monitors.heartbeats(&m.id, query).await?;
        Ok(Response::new(pb::ListHeartbeatsResponse { heartbeats: rows.into_iter().map(convert::heartbeat).collect::<Result<_, _>>()? }))
    }

    async fn get_uptime(&self, req: Request<pb::GetUptimeRequest>) -> Result<Response<pb::GetUptimeResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let uptime = self.core.monitors.uptime(company_id, &req.get_ref().monitor_id).await?;
        Ok(Response::new(convert::uptime(uptime)))
    }

    async fn create_maintenance_window(
        &self,
        req: Request<pb::CreateMaintenanceWindowRequest>,
    ) -> Result<Response<pb::CreateMaintenanceWindowResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let draft = input::window(req.get_ref().window.as_ref())?;
        let saved = self.core.monitors.create_window(company_id, draft).await?;
        Ok(Response::new(pb::CreateMaintenanceWindowResponse { window: Some(convert::window(saved)) }))
    }

    async fn list_maintenance_windows(
        &self,
        req: Request<pb::ListMaintenanceWindowsRequest>,
    ) -> Result<Response<pb::ListMaintenanceWindowsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let rows = self.core.monitors.windows(company_id).await?;
        Ok(Response::new(pb::ListMaintenanceWindowsResponse { windows: rows.into_iter().map(convert::window).collect() }))
    }

    async fn delete_maintenance_window(
        &self,
        req: Request<pb::DeleteMaintenanceWindowRequest>,
    ) -> Result<Response<pb::DeleteMaintenanceWindowResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        self.core.monitors.delete_window(company_id, &req.get_ref().window_id).await?;
        Ok(Response::new(pb::DeleteMaintenanceWindowResponse {}))
    }
    async fn list_recent_heartbeats(
        &self,
        req: Request<pb::ListRecentHeartbeatsRequest>,
    ) -> Result<Response<pb::ListRecentHeartbeatsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let ids = monitors_input::monitor_ids(&r.monitor_ids)?;
        let limit = monitors_input::recent_limit(r.limit)?;
        let found = self.core.monitors.recent_heartbeats(company_id, &ids, limit).await?;
        let mut monitors = Vec::with_capacity(found.len());
        for (monitor_id, beats) in found {
            let heartbeats = beats.into_iter().map(convert::heartbeat).collect::<Result<_, _>>()?;
            monitors.push(pb::MonitorHeartbeats { monitor_id, heartbeats });
        }
        Ok(Response::new(pb::ListRecentHeartbeatsResponse { monitors }))
    }

    async fn get_uptimes(&self, req: Request<pb::GetUptimesRequest>) -> Result<Response<pb::GetUptimesResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let ids = monitors_input::monitor_ids(&req.get_ref().monitor_ids)?;
        let uptimes = self.core.monitors.uptimes(company_id, &ids).await?;
        Ok(Response::new(pb::GetUptimesResponse {
            uptimes: uptimes
                .into_iter()
                .map(|(monitor_id, u)| pb::MonitorUptime {
                    monitor_id,
                    uptime_24h: u.day,
                    uptime_30d: u.month,
                    avg_latency_ms_24h: u.avg_latency_ms_day,
                })
                .collect(),
        }))
    }

    async fn list_incidents(&self, req: Request<pb::ListIncidentsRequest>) -> Result<Response<pb::ListIncidentsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let query = monitors_input::incidents(r)?;
        let found = self.core.monitors.incidents(company_id, &r.monitor_id, query).await?;
        let incidents = found
            .into_iter()
            .map(|i| pb::Incident { start_time: Some(ts(i.start)), end_time: i.end.map(ts), message: i.message })
            .collect();
        Ok(Response::new(pb::ListIncidentsResponse { incidents }))
    }
}
