//! Replaying the dead notifications by filter, in two steps: the confirmation
//! (`GET /admin/notifications/replay?…`) counts the dead ones the filter
//! matches with notify's own list and shows the first of them; the replay
//! (`POST`) asks notify to put them back in the queue and says how many it
//! did, and how that differs from the count confirmed when the outbox
//! changed in between (a retry, another admin's replay, a new dead one).

use askama::Template;
use atmr_proto::notify::v1 as pb;
use axum::{
    Form,
    extract::{Query, State},
    http::HeaderValue,
    response::Response,
};
use fluent_bundle::FluentValue;
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    error::Failure,
    form::Errors,
    format::Fmt,
    notifications::{ADMINS, Row, channel_names, list_page, request, row},
    notifications_filter::FilterQuery,
    page::Page,
};
use crate::ApiError;

/// The most dead notifications the confirmation lists by name.
const PREVIEW: i32 = 20;

#[derive(Template)]
#[template(path = "notifications_replay.html")]
struct ConfirmPage {
    page: Page,
    q: FilterQuery,
    /// The filter in words, one line per part (empty: every dead notification).
    filter: Vec<(String, String)>,
    count: i64,
    rows: Vec<Row>,
    back: String,
}

/// The filter as the confirmation says it: the channel's name, the event
/// type, the days.
fn in_words(console: &Console, q: &FilterQuery, channels: &[(String, String)]) -> Vec<(String, String)> {
    let fmt = console.fmt;
    let mut out = Vec::new();
    if !q.channel.trim().is_empty() {
        out.push((fmt.t("notifications-channel"), super::notifications::channel_name(&fmt, channels, q.channel.trim())));
    }
    for (id, value) in [("notifications-event-type", &q.event), ("notifications-from", &q.from), ("notifications-to", &q.to)] {
        if !value.trim().is_empty() {
            out.push((fmt.t(id), value.trim().to_owned()));
        }
    }
    out
}

/// `GET /admin/notifications/replay?channel=&event=&from=&to=`: how many dead
/// notifications the filter matches, and a button to replay exactly those.
pub async fn confirm(State(state): State<Web>, console: Console, Query(mut q): Query<FilterQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let fmt = console.fmt;
    // A replay is of the dead ones, whatever tab the admin came from.
    (q.status, q.page) = ("dead".to_owned(), String::new());
    let mut errors = Errors::default();
    let f = q.read(&fmt, &mut errors);
    if let Some((input, message)) = errors.fields().next() {
        return Err(console.fail(ApiError::invalid(input, message)));
    }
    let channels = channel_names(&state, &console).await.map_err(|s| console.fail_status("notify", &s))?;
    let req = kit::grpc::request(request(&f, vec![pb::DeliveryStatus::Dead], 1, PREVIEW), &console.token);
    let listed = state.notify.clone().list_notifications(req).await.map_err(|s| console.fail_status("notify", &s))?.into_inner();
    let page = ConfirmPage {
        page: Page::new(&console, "/admin/notifications", "notifications-replay-title"),
        filter: in_words(&console, &q, &channels),
        count: listed.page.unwrap_or_default().total,
        rows: listed.notifications.into_iter().map(|n| row(&fmt, &channels, n)).collect(),
        back: format!("/admin/notifications{}", q.link("dead", 1)),
        q,
    };
    render(&console, &page)
}

/// The confirmed replay: the filter, and how many dead ones it matched then.
#[derive(Debug, Default, Deserialize)]
pub struct Confirmed {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    counted: String,
}

/// What a replay did, in words: how many went back in the queue, and the
/// count confirmed when it was not that.
fn said(fmt: &Fmt, replayed: i64, counted: Option<i64>) -> String {
    let done = fmt.t_with("notifications-replayed", &[("count", FluentValue::from(replayed))]);
    match counted {
        Some(c) if c != replayed => {
            format!("{done} {}", fmt.t_with("notifications-replayed-differs", &[("counted", FluentValue::from(c))]))
        }
        _ => done,
    }
}

/// `POST /admin/notifications/replay`: every dead notification the filter
/// matches now, back in the queue; the outbox with what was done.
pub async fn replay(State(state): State<Web>, console: Console, Form(c): Form<Confirmed>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let q = FilterQuery { channel: c.channel, event: c.event, from: c.from, to: c.to, ..Default::default() };
    let mut errors = Errors::default();
    let f = q.read(&console.fmt, &mut errors);
    if let Some((input, message)) = errors.fields().next() {
        return Err(console.fail(ApiError::invalid(input, message)));
    }
    let req = pb::ReplayDeadNotificationsRequest { channel_id: f.channel_id, event_type: f.event_type, created: f.created };
    let replayed = state
        .notify
        .clone()
        .replay_dead_notifications(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("notify", &s))?
        .into_inner()
        .replayed;
    let counted = c.counted.trim().parse::<i64>().ok();
    tracing::info!(user_id = console.user_id, replayed, counted, "dead notifications replayed from the console");
    let outcome = ("ok", said(&console.fmt, replayed, counted));
    let here = format!("/admin/notifications{}", q.link("", 1));
    let mut res = list_page(&state, &console, q, Some(outcome)).await?;
    if let Ok(v) = HeaderValue::from_str(&here) {
        res.headers_mut().insert("hx-push-url", v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    #[test]
    fn a_replay_says_how_many_and_when_the_count_moved_meanwhile() {
        let fmt = Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich };
        let same = said(&fmt, 3, Some(3));
        assert!(same.contains('3') && !same.contains("counted"), "{same}");
        let moved = said(&fmt, 2, Some(3));
        assert!(moved.contains('2') && moved.contains('3'), "both numbers are said: {moved}");
        let fr = said(&Fmt { locale: Locale::Fr, ..fmt }, 2, Some(3));
        assert_ne!(fr, moved, "in French too");
    }
}
