//! The forms of the channels page: a channel created or edited (webhook,
//! Discord, email or log: the fields notify takes; a webhook's secret is
//! never shown back, only whether there is one) and a routing rule edited.
//! notify checks every value; its refusal is shown beside the input it names,
//! in the user's words: an address its egress policy does not reach is said
//! to be private, not merely "not accepted".

use askama::Template;
use atmr_proto::notify::v1 as pb;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use fluent_bundle::FluentValue;
use serde::Deserialize;
use tonic::{Code, Status};

use super::{
    Web,
    board::render,
    context::Console,
    error::{Failure, explain},
    form::{self, Errors, api_field},
    format::Fmt,
    notifications::{ADMINS, SEVERITIES, channel_names},
    page::Page,
};
use crate::ApiError;

/// Channel kinds in proto order (index = enum number).
pub(super) const KINDS: [&str; 5] = ["unspecified", "log", "discord", "email", "webhook"];
/// The kinds a new channel may have, in the order the form offers them.
const NEW_KINDS: [&str; 4] = ["webhook", "discord", "email", "log"];
/// The rule notify names when its egress policy refuses an address.
const EGRESS_REFUSED: &str = "egress_refused";
/// Where the channels page is.
pub(super) const CHANNELS: &str = "/admin/notifications/channels";

/// A channel's form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ChannelFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    url: String,
    /// A webhook's signing secret: empty keeps the current one.
    #[serde(default)]
    secret: String,
    /// Set: the webhook's secret is removed.
    #[serde(default)]
    clear_secret: Option<String>,
    /// Email addresses, one per line (or separated by commas).
    #[serde(default)]
    recipients: String,
}

#[derive(Template)]
#[template(path = "channels_form.html")]
struct ChannelForm {
    page: Page,
    /// Empty for a new channel.
    id: String,
    v: ChannelFields,
    errors: Errors,
    kinds: &'static [&'static str],
    has_secret: bool,
}

/// A route's form as typed (the new route's on the channels page, and the edit's).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RouteFields {
    #[serde(default)]
    pub(super) event_type: String,
    #[serde(default)]
    pub(super) min_severity: String,
    #[serde(default)]
    pub(super) channel_id: String,
    /// The edit's check box (absent: disabled).
    #[serde(default)]
    pub(super) enabled: Option<String>,
}

#[derive(Template)]
#[template(path = "channels_route.html")]
struct RouteForm {
    page: Page,
    id: String,
    v: RouteFields,
    errors: Errors,
    severities: &'static [&'static str],
    channels: Vec<(String, String)>,
}

/// The proto number of `name` in `names`, or an error beside `input`.
pub(super) fn choice(fmt: &Fmt, names: &[&str], raw: &str, input: &str, errors: &mut Errors) -> i32 {
    match names.iter().skip(1).position(|n| *n == raw.trim()) {
        Some(i) => i as i32 + 1,
        None => {
            errors.add(input, fmt.t("form-bad-choice"));
            0
        }
    }
}

fn recipients(raw: &str) -> Vec<String> {
    raw.split(['\n', ',']).map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect()
}

/// The input notify's field is about and what to say there; a refusal
/// naming no input of these forms is `None`.
fn field_error(fmt: &Fmt, status: &Status) -> Option<(&'static str, String)> {
    if status.code() == Code::AlreadyExists {
        return Some(("name", fmt.t("channels-name-taken")));
    }
    let field = api_field(kit::error::field_of(status)?);
    Some(match field.as_str() {
        "name" => ("name", fmt.t("channels-bad-name")),
        "kind" => ("kind", fmt.t("form-bad-choice")),
        "url" if kit::error::rules_of(status).contains(&EGRESS_REFUSED) => ("url", fmt.t("channels-url-private")),
        "url" => ("url", fmt.t("channels-bad-url")),
        "secret" => ("secret", fmt.t("channels-bad-secret")),
        "recipients" => ("recipients", fmt.t("channels-bad-recipients")),
        f if f.starts_with("recipients[") => {
            let n = f["recipients[".len()..].trim_end_matches(']').parse::<i64>().map_or(0, |i| i + 1);
            ("recipients", fmt.t_with("channels-bad-recipient", &[("n", FluentValue::from(n))]))
        }
        "event_type" => ("event_type", fmt.t("notifications-bad-event-type")),
        "min_severity" => ("min_severity", fmt.t("form-bad-choice")),
        "channel_id" => ("channel_id", fmt.t("channels-bad-channel")),
        _ => return None,
    })
}

/// notify's refusal of a form: beside the input it names, or above the
/// form (an email channel without an SMTP server, another code).
pub(super) fn refusal(fmt: &Fmt, status: &Status, email: bool) -> Errors {
    let mut errors = Errors::default();
    match field_error(fmt, status) {
        Some((input, message)) => errors.add(input, message),
        None if status.code() == Code::FailedPrecondition && email => errors.general = Some(fmt.t("channels-email-needs-smtp")),
        None => errors.general = Some(explain(fmt, &ApiError::from_status("notify", status))),
    }
    errors
}

/// Whether notify's refusal belongs on a form (else it is a failure page).
fn on_form(status: &Status) -> bool {
    matches!(status.code(), Code::InvalidArgument | Code::AlreadyExists | Code::FailedPrecondition)
}

fn channel_form(console: &Console, id: String, v: ChannelFields, errors: Errors, has_secret: bool) -> Result<Response, Failure> {
    let title = if id.is_empty() { "channels-new-title" } else { "channels-edit-title" };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ChannelForm { page: Page::new(console, "/admin/notifications", title), id, v, errors, kinds: &NEW_KINDS, has_secret };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /admin/notifications/channels/new`
pub async fn new_channel(console: Console) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    channel_form(&console, String::new(), ChannelFields { kind: "webhook".into(), ..Default::default() }, Errors::default(), false)
}

/// `POST /admin/notifications/channels`
pub async fn create_channel(State(state): State<Web>, console: Console, Form(v): Form<ChannelFields>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let kind = choice(&console.fmt, &KINDS, &v.kind, "kind", &mut errors);
    if !errors.is_empty() {
        return channel_form(&console, String::new(), v, errors, false);
    }
    let req = pb::CreateChannelRequest {
        name: v.name.clone(),
        kind,
        url: v.url.trim().to_owned(),
        recipients: recipients(&v.recipients),
        secret: v.secret.clone(),
    };
    match state.notify.clone().create_channel(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, CHANNELS)),
        Err(status) if on_form(&status) => {
            let errors = refusal(&console.fmt, &status, v.kind == "email");
            channel_form(&console, String::new(), ChannelFields { secret: String::new(), ..v }, errors, false)
        }
        Err(status) => Err(console.fail_status("notify", &status)),
    }
}

/// The company's channel `id`, or 404.
pub(super) async fn find_channel(state: &Web, console: &Console, id: &str) -> Result<pb::Channel, Failure> {
    let req = kit::grpc::request(pb::ListChannelsRequest {}, &console.token);
    let channels = state.notify.clone().list_channels(req).await.map_err(|s| console.fail_status("notify", &s))?.into_inner().channels;
    let missing = || console.fail(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("channel {id} not found")));
    channels.into_iter().find(|c| c.id == id).ok_or_else(missing)
}

/// `GET /admin/notifications/channels/{id}/edit`
pub async fn edit_channel(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let c = find_channel(&state, &console, &id).await?;
    let kind = KINDS.get(c.kind as usize).copied().unwrap_or("unspecified");
    let v = ChannelFields { name: c.name, kind: kind.to_owned(), url: c.url, recipients: c.recipients.join("\n"), ..Default::default() };
    channel_form(&console, id, v, Errors::default(), c.has_secret)
}

/// `POST /admin/notifications/channels/{id}`: what the kind of channel has
/// (its kind itself stays); an empty secret keeps the current one.
pub async fn update_channel(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<String>,
    Form(mut v): Form<ChannelFields>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let current = find_channel(&state, &console, &id).await?;
    v.kind = KINDS.get(current.kind as usize).copied().unwrap_or("unspecified").to_owned();
    let listed = recipients(&v.recipients);
    // notify reads an empty list as "unchanged": an email channel emptied here would keep its addresses unsaid.
    if v.kind == "email" && listed.is_empty() {
        let mut errors = Errors::default();
        errors.add("recipients", console.fmt.t("channels-bad-recipients"));
        return channel_form(&console, id, v, errors, current.has_secret);
    }
    let req = pb::UpdateChannelRequest {
        channel_id: id.clone(),
        name: Some(v.name.clone()),
        url: matches!(v.kind.as_str(), "webhook" | "discord").then(|| v.url.trim().to_owned()),
        recipients: if v.kind == "email" { listed } else { Vec::new() },
        enabled: None,
        secret: match (v.kind.as_str(), v.clear_secret.is_some(), v.secret.is_empty()) {
            ("webhook", true, _) => Some(String::new()),
            ("webhook", false, false) => Some(v.secret.clone()),
            _ => None,
        },
    };
    match state.notify.clone().update_channel(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, channel_id = %id, "notification channel edited from the console");
            Ok(form::redirect(&console, CHANNELS))
        }
        Err(status) if on_form(&status) => {
            let errors = refusal(&console.fmt, &status, false);
            channel_form(&console, id, ChannelFields { secret: String::new(), ..v }, errors, current.has_secret)
        }
        Err(status) => Err(console.fail_status("notify", &status)),
    }
}

async fn route_form(state: &Web, console: &Console, id: String, v: RouteFields, errors: Errors) -> Result<Response, Failure> {
    let channels = channel_names(state, console).await.map_err(|s| console.fail_status("notify", &s))?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    // A route sends to one of the company's channels, not to the built-in log.
    let channels = channels.into_iter().skip(1).collect();
    let page = RouteForm {
        page: Page::new(console, "/admin/notifications", "channels-route-edit-title"),
        id,
        v,
        errors,
        severities: &SEVERITIES[1..],
        channels,
    };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /admin/notifications/routes/{id}/edit`
pub async fn edit_route(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = kit::grpc::request(pb::ListRoutesRequest {}, &console.token);
    let routes = state.notify.clone().list_routes(req).await.map_err(|s| console.fail_status("notify", &s))?.into_inner().routes;
    let Some(r) = routes.into_iter().find(|r| r.id == id) else {
        return Err(console.fail(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("route {id} not found"))));
    };
    let v = RouteFields {
        event_type: r.event_type,
        min_severity: SEVERITIES.get(r.min_severity as usize).copied().unwrap_or("info").to_owned(),
        channel_id: r.channel_id,
        enabled: r.enabled.then(|| "on".to_owned()),
    };
    route_form(&state, &console, id, v, Errors::default()).await
}

/// `POST /admin/notifications/routes/{id}`: the route as the form says it.
pub async fn update_route(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<String>,
    Form(v): Form<RouteFields>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let min_severity = choice(&console.fmt, &SEVERITIES, &v.min_severity, "min_severity", &mut errors);
    if !errors.is_empty() {
        return route_form(&state, &console, id, v, errors).await;
    }
    let req = pb::UpdateRouteRequest {
        route_id: id.clone(),
        event_type: Some(v.event_type.trim().to_owned()),
        min_severity: Some(min_severity),
        channel_id: Some(v.channel_id.clone()),
        enabled: Some(v.enabled.is_some()),
    };
    match state.notify.clone().update_route(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, route_id = %id, "notification route edited from the console");
            Ok(form::redirect(&console, CHANNELS))
        }
        Err(status) if on_form(&status) => route_form(&state, &console, id, v, refusal(&console.fmt, &status, false)).await,
        Err(status) => Err(console.fail_status("notify", &status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::{Locale, has};

    fn fmt() -> Fmt {
        Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn an_address_the_egress_policy_refuses_is_said_to_be_private_beside_the_url() {
        let mut private = kit::error::invalid_argument("url", "10.0.0.7 is a private address");
        private.metadata_mut().insert(kit::error::RULES_METADATA, EGRESS_REFUSED.parse().unwrap());
        let errors = refusal(&fmt(), &private, false);
        assert_eq!(errors.of("url"), Some(fmt().t("channels-url-private").as_str()));
        let malformed = refusal(&fmt(), &kit::error::invalid_argument("url", "is not a URL"), false);
        assert_eq!(malformed.of("url"), Some(fmt().t("channels-bad-url").as_str()));
        let second = refusal(&fmt(), &kit::error::invalid_argument("recipients[1]", "not an address"), false);
        assert!(second.of("recipients").is_some_and(|m| m.contains('2')), "the address is counted from one: {second:?}");
        let taken = refusal(&fmt(), &Status::already_exists("a channel with this name exists already"), false);
        assert!(taken.of("name").is_some());
        let smtp = refusal(&fmt(), &Status::failed_precondition("email channels need an SMTP server"), true);
        assert_eq!(smtp.general, Some(fmt().t("channels-email-needs-smtp")));
    }

    #[test]
    fn recipients_are_read_one_per_line_or_by_commas() {
        assert_eq!(
            recipients("ops@example.com\n\n ana@example.com, bob@example.com "),
            ["ops@example.com", "ana@example.com", "bob@example.com"]
        );
        assert!(recipients(" \n").is_empty());
    }

    #[test]
    fn the_kinds_and_severities_are_in_both_catalogues() {
        let ids = KINDS.iter().map(|k| format!("channels-kind-{k}")).chain(SEVERITIES.iter().map(|s| format!("notif-severity-{s}")));
        for id in ids {
            for locale in Locale::ALL {
                assert!(has(locale, &id), "{id} is missing from the {} catalogue", locale.code());
            }
        }
    }
}
