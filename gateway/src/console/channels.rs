//! Where notifications go (`/admin/notifications/channels`), for admins: the
//! company's channels (webhook, Discord, email, and the built-in log) with
//! their state, each enabled or disabled, sent a test, or deleted; and the
//! routing rules that pick them by event type and severity, created,
//! disabled and enabled, deleted (edited on `channels_form.rs`'s page).
//! Every change is notify's call in the admin's name.

use askama::Template;
use atmr_proto::notify::v1 as pb;
use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{
    Web,
    board::render,
    channels_form::{CHANNELS, KINDS, RouteFields, choice, refusal},
    context::Console,
    error::{Failure, explain},
    form::Errors,
    notifications::{ADMINS, LOG_CHANNEL, SEVERITIES, channel_name, when},
    page::Page,
};
use crate::ApiError;

/// A channel as the list shows it.
#[derive(Debug)]
struct ChannelLine {
    id: String,
    name: String,
    kind: &'static str,
    /// Where it delivers: a URL's origin (the rest of a webhook's URL is
    /// often its credential) or the email addresses.
    target: String,
    has_secret: bool,
    enabled: bool,
    created: String,
}

/// A routing rule as the list shows it.
#[derive(Debug)]
struct RouteLine {
    id: String,
    event_type: String,
    min_severity: &'static str,
    channel: String,
    enabled: bool,
}

/// What the last action did: its kind (`ok`, `error`), its words, and a link
/// to what it made (a test's notification), empty when none.
type Outcome = (&'static str, String, String);

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    page: Page,
    sub: &'static str,
    channels: Vec<ChannelLine>,
    routes: Vec<RouteLine>,
    /// The channels a route may send to: (id, name).
    targets: Vec<(String, String)>,
    severities: &'static [&'static str],
    route: RouteFields,
    errors: Errors,
    outcome: Option<Outcome>,
}

/// `https://discord.com/api/webhooks/1/secret` → `https://discord.com`.
fn origin(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return String::new() };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

async fn page(state: &Web, console: &Console, route: RouteFields, errors: Errors, outcome: Option<Outcome>) -> Result<Response, Failure> {
    let fmt = console.fmt;
    let notify = state.notify.clone();
    let (channels, routes) = futures::future::try_join(
        notify.clone().list_channels(kit::grpc::request(pb::ListChannelsRequest {}, &console.token)),
        notify.clone().list_routes(kit::grpc::request(pb::ListRoutesRequest {}, &console.token)),
    )
    .await
    .map_err(|s| console.fail_status("notify", &s))?;
    let (channels, routes) = (channels.into_inner().channels, routes.into_inner().routes);
    let targets: Vec<(String, String)> = channels.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
    let log = ChannelLine {
        id: LOG_CHANNEL.to_owned(),
        name: fmt.t("notifications-log-channel"),
        kind: "log",
        target: String::new(),
        has_secret: false,
        enabled: true,
        created: String::new(),
    };
    let lines = channels.into_iter().map(|c| ChannelLine {
        kind: KINDS.get(c.kind as usize).copied().unwrap_or("unspecified"),
        target: if c.recipients.is_empty() { origin(&c.url) } else { c.recipients.join(", ") },
        has_secret: c.has_secret,
        enabled: c.enabled,
        created: when(&fmt, c.create_time.as_ref()),
        id: c.id,
        name: c.name,
    });
    let routes = routes
        .into_iter()
        .map(|r| RouteLine {
            min_severity: SEVERITIES.get(r.min_severity as usize).copied().unwrap_or("unspecified"),
            channel: channel_name(&fmt, &targets, &r.channel_id),
            enabled: r.enabled,
            id: r.id,
            event_type: r.event_type,
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ChannelsPage {
        page: Page::new(console, "/admin/notifications", "channels-title"),
        sub: "channels",
        channels: std::iter::once(log).chain(lines).collect(),
        routes,
        targets,
        severities: &SEVERITIES[1..],
        route: RouteFields { min_severity: if route.min_severity.is_empty() { "warning".into() } else { route.min_severity }, ..route },
        errors,
        outcome,
    };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    // After an action posted from the page, the address bar shows the page.
    res.headers_mut().insert("hx-push-url", HeaderValue::from_static(CHANNELS));
    Ok(res)
}

/// The page after an action, saying what it did.
async fn done(state: &Web, console: &Console, outcome: Outcome) -> Result<Response, Failure> {
    page(state, console, RouteFields::default(), Errors::default(), Some(outcome)).await
}

/// A refusal of an action on the page, in the user's words (its target was
/// deleted meanwhile, …): said on the page, which shows things as they are.
async fn refused(state: &Web, console: &Console, status: &tonic::Status) -> Result<Response, Failure> {
    if matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::Internal | tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
    ) {
        return Err(console.fail_status("notify", status));
    }
    done(state, console, ("error", explain(&console.fmt, &ApiError::from_status("notify", status)), String::new())).await
}

/// `GET /admin/notifications/channels`
pub async fn list(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    page(&state, &console, RouteFields::default(), Errors::default(), None).await
}

/// A switch's new position.
#[derive(Debug, Deserialize)]
pub struct Switch {
    enabled: bool,
}

/// `POST /admin/notifications/channels/{id}/enabled` (`enabled=true|false`)
pub async fn switch_channel(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<String>,
    Form(s): Form<Switch>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = pb::UpdateChannelRequest { channel_id: id.clone(), enabled: Some(s.enabled), ..Default::default() };
    match state.notify.clone().update_channel(kit::grpc::request(req, &console.token)).await {
        Ok(res) => {
            let name = res.into_inner().channel.unwrap_or_default().name;
            tracing::info!(user_id = console.user_id, channel_id = %id, enabled = s.enabled, "notification channel switched from the console");
            let id = if s.enabled { "channels-enabled-done" } else { "channels-disabled-done" };
            done(&state, &console, ("ok", format!("{} {name}", console.fmt.t(id)), String::new())).await
        }
        Err(status) => refused(&state, &console, &status).await,
    }
}

/// `POST /admin/notifications/channels/{id}/test`: a test notification
/// through the channel, as the REST API's `…/{id}/test` sends it, in the
/// admin's language.
pub async fn test_channel(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let fmt = console.fmt;
    let req = pb::SendRequest {
        channel_id: id.clone(),
        event_type: "notify.test".into(),
        title: fmt.t("channels-test-title"),
        body: fmt.t_with("channels-test-body", &[("who", console.email.clone().into())]),
        severity: pb::Severity::Info as i32,
        fields: Vec::new(),
        idempotency_key: String::new(),
    };
    match state.notify.clone().send(kit::grpc::request(req, &console.token)).await {
        Ok(res) => {
            let sent = res.into_inner().notifications.into_iter().next().map(|n| n.id).unwrap_or_default();
            tracing::info!(user_id = console.user_id, channel_id = %id, notification_id = %sent, "test notification sent from the console");
            let link = if sent.is_empty() { String::new() } else { format!("/admin/notifications/{sent}") };
            done(&state, &console, ("ok", fmt.t("channels-test-queued"), link)).await
        }
        Err(status) => refused(&state, &console, &status).await,
    }
}

/// `POST /admin/notifications/channels/{id}/delete`: the channel and its
/// routes; its notifications stay in the outbox, for the record.
pub async fn delete_channel(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = pb::DeleteChannelRequest { channel_id: id.clone() };
    match state.notify.clone().delete_channel(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, channel_id = %id, "notification channel deleted from the console");
            done(&state, &console, ("ok", console.fmt.t("channels-deleted"), String::new())).await
        }
        Err(status) => refused(&state, &console, &status).await,
    }
}

/// `POST /admin/notifications/routes`: a new routing rule; a refusal beside
/// the input it names, nothing created.
pub async fn create_route(State(state): State<Web>, console: Console, Form(v): Form<RouteFields>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let min_severity = choice(&console.fmt, &SEVERITIES, &v.min_severity, "min_severity", &mut errors);
    if !errors.is_empty() {
        return page(&state, &console, v, errors, None).await;
    }
    let req = pb::CreateRouteRequest { event_type: v.event_type.trim().to_owned(), min_severity, channel_id: v.channel_id.clone() };
    match state.notify.clone().create_route(kit::grpc::request(req, &console.token)).await {
        Ok(_) => done(&state, &console, ("ok", console.fmt.t("channels-route-created"), String::new())).await,
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = refusal(&console.fmt, &status, false);
            page(&state, &console, v, errors, None).await
        }
        Err(status) => Err(console.fail_status("notify", &status)),
    }
}

/// `POST /admin/notifications/routes/{id}/enabled` (`enabled=true|false`)
pub async fn switch_route(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<String>,
    Form(s): Form<Switch>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = pb::UpdateRouteRequest { route_id: id.clone(), enabled: Some(s.enabled), ..Default::default() };
    match state.notify.clone().update_route(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, route_id = %id, enabled = s.enabled, "notification route switched from the console");
            let id = if s.enabled { "channels-route-enabled" } else { "channels-route-disabled" };
            done(&state, &console, ("ok", console.fmt.t(id), String::new())).await
        }
        Err(status) => refused(&state, &console, &status).await,
    }
}

/// `POST /admin/notifications/routes/{id}/delete`
pub async fn delete_route(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = pb::DeleteRouteRequest { route_id: id.clone() };
    match state.notify.clone().delete_route(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, route_id = %id, "notification route deleted from the console");
            done(&state, &console, ("ok", console.fmt.t("channels-route-deleted"), String::new())).await
        }
        Err(status) => refused(&state, &console, &status).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhooks_url_is_shown_by_its_origin_only() {
        assert_eq!(origin("https://discord.com/api/webhooks/1/s3cret"), "https://discord.com");
        assert_eq!(origin("http://127.0.0.1:8080/hook?token=x"), "http://127.0.0.1:8080");
        assert_eq!(origin(""), "");
    }
}
