//! The outbox in the manner of Celery's Flower (`/admin/notifications`), for
//! admins: notify's notifications by delivery status with a count per status,
//! filtered by channel, event type and period and read a page at a time, each
//! with its detail and attempts (`/admin/notifications/{id}`), which an admin
//! may retry. While something waits or is being sent, the page refreshes
//! itself. Everything comes from notify's own calls in the admin's name.

use askama::Template;
use atmr_proto::{
    common::v1::PageRequest,
    notify::v1::{self as pb},
};
use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode},
    response::Response,
};
use kit::auth::Role;
use tonic::Status;

use super::{
    Web,
    board::render,
    context::Console,
    error::{Failure, explain},
    form::{Errors, api_field},
    format::{Fmt, utc},
    notifications_filter::{Filter, FilterQuery, STATUSES},
    page::Page,
};
use crate::ApiError;

pub(super) const ADMINS: &[Role] = &[Role::Admin];
/// Rows per page: hundreds of notifications stay readable a page at a time.
const PER_PAGE: i32 = 50;
/// The tabs, "every status" first.
const TABS: [&str; 5] = ["", "pending", "sending", "delivered", "dead"];
pub(super) const SEVERITIES: [&str; 5] = ["unspecified", "info", "warning", "error", "critical"];
/// What the built-in log channel is called by notify.
pub(super) const LOG_CHANNEL: &str = "log";

/// A notification's row in the list.
#[derive(Debug)]
pub(super) struct Row {
    pub id: String,
    pub created: String,
    pub status: &'static str,
    pub event_type: String,
    pub title: String,
    pub channel: String,
    pub severity: &'static str,
    pub attempts: i32,
    pub last_error: String,
    pub retryable: bool,
}

/// A status tab with its count.
#[derive(Debug)]
struct Tab {
    /// Empty: every status.
    key: &'static str,
    /// The count, grouped by thousands in the user's language.
    count: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct ListPage {
    page: Page,
    /// The sub-navigation's current page.
    sub: &'static str,
    q: FilterQuery,
    errors: Errors,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    /// The channels a filter may pick: (id, name).
    channels: Vec<(String, String)>,
    total: i64,
    page_no: i32,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    /// This page's own link, for the refresh while something is under way.
    here: String,
    /// Something waits or is being sent: the page refreshes itself.
    live: bool,
    dead: i64,
    replay_href: String,
    outcome: Option<(&'static str, String)>,
}

/// A time as the outbox shows it: the date and the time to the second, in the company's zone.
pub(super) fn when(fmt: &Fmt, t: Option<&prost_types::Timestamp>) -> String {
    utc(t).map(|t| fmt.local(t).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

fn name_of<'a>(names: &[&'a str], n: i32) -> &'a str {
    usize::try_from(n).ok().and_then(|i| names.get(i)).copied().unwrap_or("unspecified")
}

/// The company's channels by id and name, the built-in log first.
pub(super) async fn channel_names(state: &Web, console: &Console) -> Result<Vec<(String, String)>, Status> {
    let req = kit::grpc::request(pb::ListChannelsRequest {}, &console.token);
    let channels = state.notify.clone().list_channels(req).await?.into_inner().channels;
    let log = (LOG_CHANNEL.to_owned(), console.fmt.t("notifications-log-channel"));
    Ok(std::iter::once(log).chain(channels.into_iter().map(|c| (c.id, c.name))).collect())
}

/// A channel's name, or what is left of one that was deleted.
pub(super) fn channel_name(fmt: &Fmt, channels: &[(String, String)], id: &str) -> String {
    channels
        .iter()
        .find(|(c, _)| c == id)
        .map_or_else(|| format!("{} ({id})", fmt.t("notifications-channel-deleted")), |(_, name)| name.clone())
}

/// notify's list request for `filter`, with `status` and a page.
pub(super) fn request(f: &Filter, statuses: Vec<pb::DeliveryStatus>, page: i32, per_page: i32) -> pb::ListNotificationsRequest {
    pb::ListNotificationsRequest {
        page: Some(PageRequest { page, per_page }),
        statuses: statuses.into_iter().map(|s| s as i32).collect(),
        channel_id: f.channel_id.clone(),
        event_type: f.event_type.clone(),
        created: f.created,
        field: None,
    }
}

pub(super) fn row(fmt: &Fmt, channels: &[(String, String)], n: pb::Notification) -> Row {
    let status = name_of(&STATUSES, n.status);
    Row {
        created: when(fmt, n.create_time.as_ref()),
        status,
        channel: channel_name(fmt, channels, &n.channel_id),
        severity: name_of(&SEVERITIES, n.severity),
        attempts: n.attempts,
        last_error: n.last_error.unwrap_or_default(),
        retryable: matches!(status, "pending" | "dead"),
        id: n.id,
        event_type: n.event_type,
        title: n.title,
    }
}

/// The input of the filter a refusal of notify's is about (its field
/// without the message's prefix, as `form::api_field` gives it).
fn filter_input(field: &str) -> Option<&'static str> {
    Some(match field {
        "event_type" => "event",
        "channel_id" => "channel",
        f if f.starts_with("statuses") => "status",
        "start_time" => "from",
        "end_time" => "to",
        _ => return None,
    })
}

/// notify's refusal of a filter, beside the input it is about: the event
/// type in words of its rule, another in the words of its code.
fn filter_errors(fmt: &Fmt, status: &Status) -> Errors {
    let error = ApiError::from_status("notify", status);
    let mut errors = Errors::from_api(fmt, &error, filter_input);
    if let Some(field) = kit::error::field_of(status)
        && filter_input(&api_field(field)) == Some("event")
    {
        errors = Errors::default();
        errors.add("event", fmt.t("notifications-bad-event-type"));
    }
    errors
}

/// The outbox page for the filter `q`, with what the last action did.
pub(super) async fn list_page(
    state: &Web,
    console: &Console,
    q: FilterQuery,
    outcome: Option<(&'static str, String)>,
) -> Result<Response, Failure> {
    let fmt = console.fmt;
    let mut errors = Errors::default();
    let f = q.read(&fmt, &mut errors);
    let channels = channel_names(state, console).await.map_err(|s| console.fail_status("notify", &s))?;
    let mut page = ListPage {
        page: Page::new(console, "/admin/notifications", "notifications-title"),
        sub: "outbox",
        tabs: Vec::new(),
        rows: Vec::new(),
        channels,
        total: 0,
        page_no: f.page,
        pages: 0,
        prev: None,
        next: None,
        here: format!("/admin/notifications{}", q.link(q.status.trim(), f.page)),
        live: false,
        dead: 0,
        replay_href: format!("/admin/notifications/replay{}", q.replay_query()),
        outcome,
        errors: Errors::default(),
        q,
    };
    if !errors.is_empty() {
        page.errors = errors;
        return with_status(render(console, &page), StatusCode::BAD_REQUEST);
    }
    let notify = state.notify.clone();
    let call = |r: pb::ListNotificationsRequest| {
        let mut client = notify.clone();
        let token = console.token.clone();
        async move { client.list_notifications(kit::grpc::request(r, &token)).await.map(tonic::Response::into_inner) }
    };
    let counted = |s: pb::DeliveryStatus| call(request(&f, vec![s], 1, 1));
    let answers = futures::future::try_join5(
        call(request(&f, f.status.into_iter().collect(), f.page, PER_PAGE)),
        counted(pb::DeliveryStatus::Pending),
        counted(pb::DeliveryStatus::Sending),
        counted(pb::DeliveryStatus::Delivered),
        counted(pb::DeliveryStatus::Dead),
    )
    .await;
    let (listed, pending, sending, delivered, dead) = match answers {
        Ok(a) => a,
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            page.errors = filter_errors(&fmt, &status);
            return with_status(render(console, &page), StatusCode::BAD_REQUEST);
        }
        Err(status) => return Err(console.fail_status("notify", &status)),
    };
    let total_of = |r: &pb::ListNotificationsResponse| r.page.unwrap_or_default().total;
    let counts = [total_of(&pending), total_of(&sending), total_of(&delivered), total_of(&dead)];
    let all: i64 = counts.iter().sum();
    page.tabs = TABS
        .iter()
        .zip(std::iter::once(all).chain(counts))
        .map(|(&key, count)| Tab {
            key,
            count: fmt.number(count as f64, 0),
            href: format!("/admin/notifications{}", page.q.link(key, 1)),
            current: page.q.status.trim() == key,
        })
        .collect();
    page.total = total_of(&listed);
    page.pages = (page.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE);
    let status = page.q.status.trim().to_owned();
    page.prev = (f.page > 1).then(|| format!("/admin/notifications{}", page.q.link(&status, f.page - 1)));
    page.next = (i64::from(f.page) < page.pages).then(|| format!("/admin/notifications{}", page.q.link(&status, f.page + 1)));
    page.live = counts[0] + counts[1] > 0;
    page.dead = counts[3];
    page.rows = listed.notifications.into_iter().map(|n| row(&fmt, &page.channels, n)).collect();
    render(console, &page)
}

fn with_status(res: Result<Response, Failure>, status: StatusCode) -> Result<Response, Failure> {
    res.map(|mut r| {
        *r.status_mut() = status;
        r
    })
}

/// `GET /admin/notifications?status=&channel=&event=&from=&to=&page=`
pub async fn list(State(state): State<Web>, console: Console, Query(q): Query<FilterQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    list_page(&state, &console, q, None).await
}

/// One delivery attempt as the detail shows it.
#[derive(Debug)]
struct AttemptLine {
    number: i32,
    start: String,
    duration: String,
    success: bool,
    code: String,
    error: String,
}

#[derive(Template)]
#[template(path = "notifications_detail.html")]
struct DetailPage {
    page: Page,
    n: Row,
    body: String,
    fields: Vec<(String, String)>,
    idempotency_key: String,
    delivered: String,
    next_attempt: String,
    attempts: Vec<AttemptLine>,
    live: bool,
    outcome: Option<(&'static str, String)>,
}

async fn detail_page(state: &Web, console: &Console, id: &str, outcome: Option<(&'static str, String)>) -> Result<Response, Failure> {
    let fmt = console.fmt;
    let req = kit::grpc::request(pb::GetNotificationRequest { notification_id: id.to_owned() }, &console.token);
    let got = state.notify.clone().get_notification(req).await.map_err(|s| console.fail_status("notify", &s))?.into_inner();
    let channels = channel_names(state, console).await.map_err(|s| console.fail_status("notify", &s))?;
    let n = got.notification.unwrap_or_default();
    let (body, fields, key) =
        (n.body.clone(), n.fields.iter().map(|f| (f.name.clone(), f.value.clone())).collect(), n.idempotency_key.clone());
    let (delivered, next_attempt) = (when(&fmt, n.delivered_time.as_ref()), when(&fmt, n.next_attempt_time.as_ref()));
    let n = row(&fmt, &channels, n);
    let attempts = got
        .attempts
        .into_iter()
        .map(|a| AttemptLine {
            number: a.number,
            start: when(&fmt, a.start_time.as_ref()),
            duration: format!("{} ms", fmt.number(a.duration_ms, 0)),
            success: a.success,
            code: a.response_code.map(|c| c.to_string()).unwrap_or_default(),
            error: a.error.unwrap_or_default(),
        })
        .collect();
    let page = DetailPage {
        page: Page::new(console, "/admin/notifications", "notifications-detail-title"),
        live: matches!(n.status, "pending" | "sending"),
        n,
        body,
        fields,
        idempotency_key: key,
        delivered,
        next_attempt,
        attempts,
        outcome,
    };
    render(console, &page)
}

/// `GET /admin/notifications/{id}`
pub async fn detail(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    detail_page(&state, &console, &id, None).await
}

/// `POST /admin/notifications/{id}/retry`: a pending or dead notification, due again now.
pub async fn retry(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = kit::grpc::request(pb::RetryNotificationRequest { notification_id: id.clone() }, &console.token);
    let outcome = match state.notify.clone().retry_notification(req).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, notification_id = %id, "notification retried from the console");
            ("ok", console.fmt.t("notifications-retried"))
        }
        // Delivered or being sent meanwhile: said, with the notification as it now is.
        Err(status) if status.code() == tonic::Code::FailedPrecondition => ("error", console.fmt.t("notifications-retry-refused")),
        Err(status) => ("error", explain(&console.fmt, &ApiError::from_status("notify", &status))),
    };
    let mut res = detail_page(&state, &console, &id, Some(outcome)).await?;
    if let Ok(v) = HeaderValue::from_str(&format!("/admin/notifications/{id}")) {
        res.headers_mut().insert("hx-push-url", v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::{Locale, has};

    /// Every word of notify's vocabularies the outbox pages name by prefix
    /// (`page.tk("notif-status", …)`) is in both catalogues.
    #[test]
    fn the_vocabularies_are_in_both_catalogues() {
        let words = STATUSES.iter().map(|s| format!("notif-status-{s}")).chain(SEVERITIES.iter().map(|s| format!("notif-severity-{s}")));
        let tabs = TABS.iter().map(|t| format!("notifications-tab-{}", if t.is_empty() { "all" } else { t }));
        for id in words.chain(tabs) {
            for locale in Locale::ALL {
                assert!(has(locale, &id), "{id} is missing from the {} catalogue", locale.code());
            }
        }
    }

    #[test]
    fn a_refusal_of_the_filter_lands_beside_its_input() {
        assert_eq!(filter_input("event_type"), Some("event"));
        assert_eq!(filter_input("statuses[0]"), Some("status"));
        assert_eq!(filter_input(&api_field("created.end_time")), Some("to"));
        assert_eq!(filter_input("page.per_page"), None);
    }
}
