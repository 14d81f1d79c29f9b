//! One bug's page (`/bugs/{id}`): what it is (description, stack trace,
//! tags, environment and release, reports, first and last seen), its history
//! newest first — its creation, each report grouped into it, its regressions,
//! each triage change and comment, filtered to the changes or the regressions
//! and paged — its comments, and for triagers the forms that change it
//! (`bugs_triage.rs` answers them). Everything is read from the bugs service
//! in the user's name; a reader who may not triage sees no form.

use askama::Template;
use atmr_proto::{bugs::v1 as pb, common::v1::PageRequest};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use fluent_bundle::FluentValue;
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web,
    bugs::{READERS, TRIAGERS, render_as, when},
    bugs_filter::{PRIORITIES, SEVERITIES, STATUSES},
    context::Console,
    error::Failure,
    format::Fmt,
    page::Page,
    timeline::name,
};

/// The JSON names of the history's kinds, in proto order (index = enum number).
pub const EVENT_KINDS: [&str; 9] = [
    "unspecified",
    "created",
    "grouped",
    "regressed",
    "status_changed",
    "assignee_changed",
    "severity_changed",
    "priority_changed",
    "commented",
];
/// The history's views: everything, the changes (without the stream of
/// grouped reports), the regressions alone.
pub const HISTORY_VIEWS: [&str; 3] = ["all", "changes", "regressions"];
const EVENTS_PER_PAGE: i32 = 20;
const COMMENTS_PER_PAGE: i32 = 50;

/// The page's query: which history view and which pages.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    pub history: String,
    #[serde(default)]
    pub hpage: Option<i32>,
    #[serde(default)]
    pub cpage: Option<i32>,
}

/// The bug as the page shows it.
#[derive(Debug, Default)]
pub struct BugView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub status: &'static str,
    pub severity: &'static str,
    pub priority: &'static str,
    pub category: String,
    pub environment: String,
    pub release: String,
    pub tags: Vec<String>,
    pub reporter: String,
    pub assignee: String,
    pub reports: String,
    pub regressions: i32,
    pub first_seen: String,
    pub last_seen: String,
    pub created: String,
    pub resolved: String,
    pub fingerprint: String,
    pub duplicate_of: Option<i64>,
    /// The stack trace's lines.
    pub trace: Vec<String>,
}

/// One line of the history.
#[derive(Debug)]
pub struct EventRow {
    pub at: String,
    pub kind: &'static str,
    pub text: String,
    /// The report's environment and release (`production · 1.4.2`), if any.
    pub build: String,
}

#[derive(Debug)]
pub struct CommentRow {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub at: String,
    /// The user may delete it (their own, or any as an admin; the service decides).
    pub deletable: bool,
}

/// What the triage form shows: the bug's values, or what was typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TriageForm {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub duplicate_of: String,
    /// The values the form was shown with: only what the user changed is sent.
    #[serde(default)]
    pub was_status: String,
    #[serde(default)]
    pub was_assignee: String,
    #[serde(default)]
    pub was_severity: String,
    #[serde(default)]
    pub was_priority: String,
    #[serde(default)]
    pub was_duplicate_of: String,
}

#[derive(Template)]
#[template(path = "bugs_detail.html")]
pub struct Detail {
    pub page: Page,
    pub bug: BugView,
    pub triager: bool,
    pub events: Vec<EventRow>,
    pub history: &'static str,
    pub history_views: &'static [&'static str],
    pub history_count: String,
    pub history_prev: Option<String>,
    pub history_next: Option<String>,
    pub comments: Vec<CommentRow>,
    pub comments_prev: Option<String>,
    pub comments_next: Option<String>,
    pub form: TriageForm,
    pub statuses: &'static [&'static str],
    pub severities: &'static [&'static str],
    pub priorities: &'static [&'static str],
    /// A comment typed and refused, shown again.
    pub comment_body: String,
    /// What the last change did, and where it is shown (`triage`, `comment`).
    pub outcome: Option<(&'static str, &'static str, String)>,
}

impl Detail {
    /// The outcome shown at `place`, with its kind (`ok`, `error`).
    fn outcome_at(&self, place: &str) -> Option<(&'static str, &str)> {
        self.outcome.as_ref().filter(|(p, _, _)| *p == place).map(|(_, kind, m)| (*kind, m.as_str()))
    }
}

/// The kinds a history view asks for (every kind for `all`).
fn kinds_of(view: &str) -> Vec<i32> {
    use pb::BugEventKind as K;
    match view {
        "changes" => [K::Created, K::Regressed, K::StatusChanged, K::AssigneeChanged, K::SeverityChanged, K::PriorityChanged, K::Commented]
            .iter()
            .map(|k| *k as i32)
            .collect(),
        "regressions" => vec![K::Regressed as i32],
        _ => Vec::new(),
    }
}

/// A value of the history in the user's words: a status, severity or
/// priority by its word, a person as named, nobody said so.
fn word(fmt: &Fmt, kind: &str, value: &str) -> String {
    let prefix = match kind {
        "status_changed" | "grouped" | "regressed" | "created" => "bugs-status",
        "severity_changed" => "bugs-severity",
        "priority_changed" => "bugs-priority",
        "assignee_changed" if value.is_empty() => return fmt.t("bugs-nobody"),
        _ => return value.to_owned(),
    };
    if value.is_empty() { String::new() } else { fmt.t(&format!("{prefix}-{value}")) }
}

/// A history line in the user's words.
pub fn event_row(fmt: &Fmt, e: pb::BugEvent) -> EventRow {
    let kind = name(&EVENT_KINDS, e.kind);
    let args = [
        ("actor", FluentValue::from(e.actor.clone())),
        ("from", FluentValue::from(word(fmt, kind, &e.from_value))),
        ("to", FluentValue::from(word(fmt, kind, &e.to_value))),
    ];
    let build = [e.environment.as_str(), e.release.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ");
    EventRow { at: when(fmt, e.create_time.as_ref()), kind, text: fmt.t_with(&format!("bugs-event-{kind}"), &args), build }
}

/// The bug `b` as the page shows it.
fn view(fmt: &Fmt, b: pb::Bug) -> BugView {
    BugView {
        id: b.id,
        status: name(&STATUSES, b.status),
        severity: name(&SEVERITIES, b.severity),
        priority: name(&PRIORITIES, b.priority),
        reports: fmt.number(b.occurrence_count as f64, 0),
        regressions: b.regression_count,
        first_seen: when(fmt, b.first_seen.as_ref()),
        last_seen: when(fmt, b.last_seen.as_ref()),
        created: when(fmt, b.create_time.as_ref()),
        resolved: when(fmt, b.resolve_time.as_ref()),
        assignee: b.assignee.unwrap_or_default(),
        trace: b.stack_trace.lines().map(str::to_owned).collect(),
        title: b.title,
        description: b.description,
        category: b.category,
        environment: b.environment,
        release: b.release,
        tags: b.tags,
        reporter: b.reporter,
        fingerprint: b.fingerprint,
        duplicate_of: b.duplicate_of,
    }
}

impl TriageForm {
    /// The form as the bug now is.
    fn of(b: &BugView) -> Self {
        let dup = b.duplicate_of.map(|d| d.to_string()).unwrap_or_default();
        Self {
            status: b.status.to_owned(),
            assignee: b.assignee.clone(),
            severity: b.severity.to_owned(),
            priority: b.priority.to_owned(),
            duplicate_of: dup.clone(),
            was_status: b.status.to_owned(),
            was_assignee: b.assignee.clone(),
            was_severity: b.severity.to_owned(),
            was_priority: b.priority.to_owned(),
            was_duplicate_of: dup,
        }
    }
}

/// A page link of the bug keeping the other list's page.
fn link(id: i64, history: &str, hpage: i32, cpage: i32) -> String {
    format!("/bugs/{id}?history={history}&hpage={hpage}&cpage={cpage}")
}

/// The page of bug `id` for `q`; `form` and `comment_body` replace what the
/// forms show (after a refusal), `outcome` says what the last change did.
pub async fn load(
    state: &Web,
    console: &Console,
    id: i64,
    q: &DetailQuery,
    typed: Option<(TriageForm, String)>,
    outcome: Option<(&'static str, &'static str, String)>,
) -> Result<Detail, Failure> {
    let fmt = console.fmt;
    let history = HISTORY_VIEWS.iter().copied().find(|v| *v == q.history).unwrap_or("all");
    let (hpage, cpage) = (q.hpage.unwrap_or(1).max(1), q.cpage.unwrap_or(1).max(1));
    let token = console.token.as_str();
    let events_req = pb::ListBugEventsRequest {
        bug_id: id,
        page: Some(PageRequest { page: hpage, per_page: EVENTS_PER_PAGE }),
        kinds: kinds_of(history),
    };
    let comments_req = pb::ListCommentsRequest { bug_id: id, page: Some(PageRequest { page: cpage, per_page: COMMENTS_PER_PAGE }) };
    let (mut a, mut b, mut c) = (state.bugs.clone(), state.bugs.clone(), state.bugs.clone());
    let (bug, events, comments) = tokio::join!(
        a.get_bug(kit::grpc::request(pb::GetBugRequest { bug_id: id }, token)),
        b.list_bug_events(kit::grpc::request(events_req, token)),
        c.list_comments(kit::grpc::request(comments_req, token)),
    );
    let fail = |s: tonic::Status| console.fail_status("bugs", &s);
    let bug = view(&fmt, bug.map_err(fail)?.into_inner().bug.unwrap_or_default());
    let events = events.map_err(fail)?.into_inner();
    let comments = comments.map_err(fail)?.into_inner();
    let (einfo, cinfo) = (events.page.unwrap_or_default(), comments.page.unwrap_or_default());
    let more = |page: i32, per: i32, total: i64| i64::from(page) * i64::from(per) < total;
    let admin = console.role == Role::Admin;
    let (form, comment_body) = typed.unwrap_or_else(|| (TriageForm::of(&bug), String::new()));
    Ok(Detail {
        page: Page::new(console, "/bugs", "bugs-detail-title"),
        triager: TRIAGERS.contains(&console.role),
        events: events.events.into_iter().map(|e| event_row(&fmt, e)).collect(),
        history,
        history_views: &HISTORY_VIEWS,
        history_count: fmt.t_with("bugs-history-count", &[("count", FluentValue::from(einfo.total))]),
        history_prev: (hpage > 1).then(|| link(id, history, hpage - 1, cpage)),
        history_next: more(hpage, EVENTS_PER_PAGE, einfo.total).then(|| link(id, history, hpage + 1, cpage)),
        comments: comments
            .comments
            .into_iter()
            .map(|c| CommentRow {
                deletable: admin || c.author == console.email,
                at: when(&fmt, c.create_time.as_ref()),
                id: c.id,
                author: c.author,
                body: c.body,
            })
            .collect(),
        comments_prev: (cpage > 1).then(|| link(id, history, hpage, cpage - 1)),
        comments_next: more(cpage, COMMENTS_PER_PAGE, cinfo.total).then(|| link(id, history, hpage, cpage + 1)),
        form,
        statuses: &STATUSES[1..],
        severities: &SEVERITIES[1..],
        priorities: &PRIORITIES[1..],
        comment_body,
        outcome,
        bug,
    })
}

/// `GET /bugs/{id}?history=all|changes|regressions&hpage=&cpage=`
pub async fn page(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, Failure> {
    console.require(READERS)?;
    let detail = load(&state, &console, id, &q, None, None).await?;
    render_as(&console, StatusCode::OK, &detail)
}

/// Every message id the bug pages build from a vocabulary (checked in both catalogues).
#[cfg(test)]
fn event_ids() -> Vec<String> {
    let mut ids: Vec<String> = EVENT_KINDS.iter().skip(1).map(|k| format!("bugs-event-{k}")).collect();
    ids.extend(HISTORY_VIEWS.iter().map(|v| format!("bugs-history-{v}")));
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::{Locale, has};

    fn fmt(locale: Locale) -> Fmt {
        Fmt { locale, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn every_word_of_the_bug_pages_vocabularies_is_in_both_catalogues() {
        let mut ids = event_ids();
        ids.extend(super::super::bugs::vocabulary_ids());
        for locale in Locale::ALL {
            let missing: Vec<_> = ids.iter().filter(|id| !has(locale, id)).collect();
            assert!(missing.is_empty(), "missing from the {} catalogue: {missing:?}", locale.code());
        }
    }

    #[test]
    fn a_history_line_says_what_happened_in_the_users_words() {
        let e = pb::BugEvent {
            kind: pb::BugEventKind::Regressed as i32,
            from_value: "resolved".into(),
            to_value: "open".into(),
            actor: "rita@example.com".into(),
            environment: "production".into(),
            release: "1.4.1".into(),
            ..Default::default()
        };
        let fr = event_row(&fmt(Locale::Fr), e.clone());
        assert_eq!((fr.kind, fr.build.as_str()), ("regressed", "production · 1.4.1"));
        assert!(fr.text.contains("Résolu") && fr.text.contains("rita@example.com"), "{}", fr.text);
        let unassigned = pb::BugEvent {
            kind: pb::BugEventKind::AssigneeChanged as i32,
            from_value: "ana@example.com".into(),
            to_value: String::new(),
            environment: String::new(),
            release: String::new(),
            ..e
        };
        let en = event_row(&fmt(Locale::En), unassigned);
        assert_eq!(en.text, "rita@example.com changed the assignee from ana@example.com to nobody");
        assert!(en.build.is_empty(), "a triage change has no build");
    }

    #[test]
    fn the_history_views_ask_for_their_kinds() {
        assert!(kinds_of("all").is_empty(), "every kind");
        assert!(!kinds_of("changes").contains(&(pb::BugEventKind::Grouped as i32)), "without the stream of reports");
        assert_eq!(kinds_of("regressions"), [pb::BugEventKind::Regressed as i32]);
    }
}
