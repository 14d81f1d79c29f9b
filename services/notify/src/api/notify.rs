//! `atmr.notify.v1.NotifyService`: `Send` and the outbox, channels and
//! routes. Each handler checks the caller's role (the company comes from the
//! token), checks the request, calls `core` and converts the answer.

use std::sync::Arc;

use atmr_proto::notify::v1::{self as pb, notify_service_server::NotifyService};
use kit::auth::{Role, require_role};
use tonic::{Request, Response, Status};

use crate::{
    api::{convert, input},
    core::Core,
};

/// Who may send: the components (service tokens always pass), admins and
/// dispatchers (a delay, a message to the team).
const SENDERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Service];
/// Who configures channels and routes and reads the outbox.
const ADMINS: &[Role] = &[Role::Admin];

pub struct NotifyApi {
    core: Arc<Core>,
}

impl NotifyApi {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }
}

#[tonic::async_trait]
impl NotifyService for NotifyApi {
    async fn send(&self, req: Request<pb::SendRequest>) -> Result<Response<pb::SendResponse>, Status> {
        let company_id = require_role(&req, SENDERS)?.company_id;
        let outgoing = input::send(req.get_ref())?;
        let (rows, duplicate) = self.core.notifications.send(company_id, outgoing).await?;
        Ok(Response::new(pb::SendResponse { notifications: convert::notifications(rows)?, duplicate }))
    }

    async fn get_notification(&self, req: Request<pb::GetNotificationRequest>) -> Result<Response<pb::GetNotificationResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let id = input::notification_id(&req.get_ref().notification_id)?;
        let (n, attempts) = self.core.notifications.get(company_id, &id).await?;
        Ok(Response::new(pb::GetNotificationResponse {
            notification: Some(convert::notification(n)?),
            attempts: attempts.into_iter().map(convert::attempt).collect(),
        }))
    }

    async fn list_notifications(
        &self,
        req: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let page = input::page(r.page.as_ref())?;
        let mut f = input::filter(&r.statuses, r.channel_id.as_deref(), r.event_type.as_deref(), r.created.as_ref())?;
        f.field = input::field_match(r.field.as_ref())?;
        let (rows, total) = self.core.notifications.list(company_id, &f, page).await?;
        Ok(Response::new(pb::ListNotificationsResponse {
            notifications: convert::notifications(rows)?,
            page: Some(kit::convert::page_info(page, total, false)),
        }))
    }

    async fn retry_notification(
        &self,
        req: Request<pb::RetryNotificationRequest>,
    ) -> Result<Response<pb::RetryNotificationResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let id = input::notification_id(&req.get_ref().notification_id)?;
        let n = self.core.notifications.retry(company_id, &id).await?;
        Ok(Response::new(pb::RetryNotificationResponse { notification: Some(convert::notification(n)?) }))
    }

    async fn replay_dead_notifications(
        &self,
        req: Request<pb::ReplayDeadNotificationsRequest>,
    ) -> Result<Response<pb::ReplayDeadNotificationsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let f = input::filter(&[], r.channel_id.as_deref(), r.event_type.as_deref(), r.created.as_ref())?;
        let replayed = self.core.notifications.replay_dead(company_id, &f).await?;
        Ok(Response::new(pb::ReplayDeadNotificationsResponse { replayed: replayed as i64 }))
    }

    async fn create_channel(&self, req: Request<pb::CreateChannelRequest>) -> Result<Response<pb::CreateChannelResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let draft = input::channel(req.get_ref())?;
        let c = self.core.channels.create(company_id, draft).await?;
        Ok(Response::new(pb::CreateChannelResponse { channel: Some(convert::channel(c)?) }))
    }

    async fn list_channels(&self, req: Request<pb::ListChannelsRequest>) -> Result<Response<pb::ListChannelsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let channels = self.core.channels.list(company_id).await?;
        Ok(Response::new(pb::ListChannelsResponse { channels: channels.into_iter().map(convert::channel).collect::<Result<_, _>>()? }))
    }

    async fn update_channel(&self, req: Request<pb::UpdateChannelRequest>) -> Result<Response<pb::UpdateChannelResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let c = self.core.channels.update(company_id, &r.channel_id, input::channel_patch(r)).await?;
        Ok(Response::new(pb::UpdateChannelResponse { channel: Some(convert::channel(c)?) }))
    }

    async fn delete_channel(&self, req: Request<pb::DeleteChannelRequest>) -> Result<Response<pb::DeleteChannelResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        self.core.channels.delete(company_id, &req.get_ref().channel_id).await?;
        Ok(Response::new(pb::DeleteChannelResponse {}))
    }

    async fn create_route(&self, req: Request<pb::CreateRouteRequest>) -> Result<Response<pb::CreateRouteResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let (event_type, min_severity) = input::route(r)?;
        let route = self.core.channels.create_route(company_id, event_type, min_severity, &r.channel_id).await?;
        Ok(Response::new(pb::CreateRouteResponse { route: Some(convert::route(route)?) }))
    }

    async fn list_routes(&self, req: Request<pb::ListRoutesRequest>) -> Result<Response<pb::ListRoutesResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let routes = self.core.channels.routes(company_id).await?;
        Ok(Response::new(pb::ListRoutesResponse { routes: routes.into_iter().map(convert::route).collect::<Result<_, _>>()? }))
    }

    async fn delete_route(&self, req: Request<pb::DeleteRouteRequest>) -> Result<Response<pb::DeleteRouteResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        self.core.channels.delete_route(company_id, &req.get_ref().route_id).await?;
        Ok(Response::new(pb::DeleteRouteResponse {}))
    }

    async fn update_route(&self, req: Request<pb::UpdateRouteRequest>) -> Result<Response<pb::UpdateRouteResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let patch = input::route_patch(r)?;
        let route = self.core.channels.update_route(company_id, &r.route_id, patch).await?;
        Ok(Response::new(pb::UpdateRouteResponse { route: Some(convert::route(route)?) }))
    }
}
