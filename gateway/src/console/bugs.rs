//! Bugs (`/bugs`), in the manner of Sentry and GlitchTip: the list of a
//! company's bugs with their status, severity, priority, reports, first and
//! last seen (in the company's zone) and a 14-day sparkline of their reports,
//! searched and filtered by everything ListBugs offers (`bugs_filter.rs`),
//! paged. A bug's page is `bugs_detail.rs`, the summary and trends
//! `bugs_trends.rs`. The bugs service's readers (admins, dispatchers and
//! reporters) see the list and the bugs; only its triagers change them — and
//! reporters have no other page of the console.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{Html, IntoResponse as _, Response},
};
use fluent_bundle::FluentValue;
use kit::auth::Role;

use super::{
    Web,
    bugs_filter::{Bad, Filters, PRIORITIES, SEVERITIES, SORTS, STATUSES},
    chart::Sparkline,
    context::Console,
    error::{Failure, explain},
    format::{Fmt, utc},
    page::Page,
    timeline::name,
};
use crate::ApiError;

/// Who reads bugs (the service's READERS) and who triages them (its TRIAGERS).
pub const READERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Reporter];
pub const TRIAGERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// A time as the lists show it, in the company's zone: `07.03.2026 14:05`
/// in French, `2026-03-07 14:05` in English; empty when absent.
pub fn when(fmt: &Fmt, t: Option<&prost_types::Timestamp>) -> String {
    let Some(t) = utc(t) else { return String::new() };
    let day = match fmt.locale {
        super::i18n::Locale::Fr => fmt.local(t).format("%d.%m.%Y"),
        super::i18n::Locale::En => fmt.local(t).format("%Y-%m-%d"),
    };
    format!("{day} {}", fmt.time(t))
}

/// A page in the user's words, with `status`.
pub fn render_as(console: &Console, status: StatusCode, t: &impl Template) -> Result<Response, Failure> {
    let html = t.render().map_err(|e| console.fail(ApiError::from_status("gateway", &kit::error::internal(e))))?;
    Ok((status, Html(html)).into_response())
}

/// A service's refusal of what the user asked, in their words.
pub fn refusal(console: &Console, status: &tonic::Status) -> String {
    explain(&console.fmt, &ApiError::from_status("bugs", status))
}

/// One row of the list.
#[derive(Debug)]
struct Row {
    id: i64,
    title: String,
    category: String,
    environment: String,
    tags: Vec<String>,
    status: &'static str,
    severity: &'static str,
    priority: &'static str,
    reports: String,
    regressions: i32,
    first_seen: String,
    last_seen: String,
    assignee: String,
    spark: Sparkline,
}

#[derive(Template)]
#[template(path = "bugs.html")]
struct ListPage {
    page: Page,
    f: Filters,
    /// Triagers see the link to the summary and trends.
    triager: bool,
    statuses: &'static [&'static str],
    severities: &'static [&'static str],
    priorities: &'static [&'static str],
    sorts: &'static [&'static str],
    rows: Vec<Row>,
    /// "12 bugs", or "more than 1,000" when the search stopped counting.
    count: String,
    /// What could not be read or was refused, and the input it names.
    error: Option<(String, &'static str)>,
    page_no: i32,
    prev: Option<String>,
    next: Option<String>,
}

impl ListPage {
    /// Whether the input `name` is the one the error is about.
    fn invalid(&self, name: &str) -> bool {
        self.error.as_ref().is_some_and(|(_, input)| *input == name)
    }
}

/// The input of the form a refusal of ListBugs names, by the API's field.
fn input_of(field: &str) -> &'static str {
    match field.split('[').next().unwrap_or(field) {
        "statuses" => "status",
        "severities" => "severity",
        "priorities" => "priority",
        "category" => "category",
        "environment" => "environment",
        "tag" => "tag",
        "assignee" => "assignee",
        "reporter" => "reporter",
        "query" => "q",
        f if f.starts_with("created.start") => "from",
        f if f.starts_with("created") => "to",
        _ => "",
    }
}

/// What is wrong with a filter, naming it.
fn bad_filter(fmt: &Fmt, bad: &Bad) -> String {
    let label = fmt.t(&format!("bugs-filter-{}", bad.input));
    fmt.t_with("bugs-filter-bad", &[("field", FluentValue::from(label)), ("value", FluentValue::from(bad.value.clone()))])
}

/// The sparkline of a bug's last days, named for a screen reader.
fn spark(fmt: &Fmt, days: &[i64], through: &str) -> Sparkline {
    let counts = days.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let label = fmt.t_with(
        "bugs-spark",
        &[("days", FluentValue::from(days.len() as i64)), ("through", FluentValue::from(through.to_owned())), ("counts", counts.into())],
    );
    Sparkline::bars(&days.iter().map(|d| *d as f64).collect::<Vec<_>>(), label)
}

/// `GET /bugs?q=&status=…&severity=…&priority=…&category=&environment=&tag=&assignee=&reporter=&from=&to=&sort=&order=&page=`
pub async fn list(State(state): State<Web>, console: Console, RawQuery(raw): RawQuery) -> Result<Response, Failure> {
    console.require(READERS)?;
    let fmt = console.fmt;
    let f = Filters::parse(raw.as_deref().unwrap_or_default());
    let mut view = ListPage {
        page: Page::new(&console, "/bugs", "bugs-title"),
        page_no: f.page_no().unwrap_or(1),
        f,
        triager: TRIAGERS.contains(&console.role),
        statuses: &STATUSES[1..],
        severities: &SEVERITIES[1..],
        priorities: &PRIORITIES[1..],
        sorts: &SORTS,
        rows: Vec::new(),
        count: String::new(),
        error: None,
        prev: None,
        next: None,
    };
    let req = match view.f.request(&fmt) {
        Ok(req) => req,
        Err(bad) => {
            view.error = Some((bad_filter(&fmt, &bad), bad.input));
            return render_as(&console, StatusCode::BAD_REQUEST, &view);
        }
    };
    let res = match state.bugs.clone().list_bugs(kit::grpc::request(req, &console.token)).await {
        Ok(res) => res.into_inner(),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let field = kit::error::field_of(&status).unwrap_or_default();
            view.error = Some((refusal(&console, &status), input_of(field)));
            return render_as(&console, StatusCode::BAD_REQUEST, &view);
        }
        Err(status) => return Err(console.fail_status("bugs", &status)),
    };
    let info = res.page.unwrap_or_default();
    view.count = if info.total_capped {
        fmt.t_with("bugs-count-capped", &[("count", FluentValue::from(fmt.number(info.total as f64, 0)))])
    } else {
        fmt.t_with("bugs-count", &[("count", FluentValue::from(info.total))])
    };
    let more = i64::from(view.page_no) * i64::from(info.per_page.max(1)) < info.total || (info.total_capped && !res.bugs.is_empty());
    view.prev = (view.page_no > 1).then(|| view.f.link(view.page_no - 1));
    view.next = more.then(|| view.f.link(view.page_no + 1));
    view.rows = res
        .bugs
        .into_iter()
        .map(|b| Row {
            id: b.id,
            status: name(&STATUSES, b.status),
            severity: name(&SEVERITIES, b.severity),
            priority: name(&PRIORITIES, b.priority),
            reports: fmt.number(b.occurrence_count as f64, 0),
            regressions: b.regression_count,
            first_seen: when(&fmt, b.first_seen.as_ref()),
            last_seen: when(&fmt, b.last_seen.as_ref()),
            assignee: b.assignee.unwrap_or_default(),
            spark: spark(&fmt, &b.daily_occurrences, &res.occurrences_through),
            title: b.title,
            category: b.category,
            environment: b.environment,
            tags: b.tags,
        })
        .collect();
    render_as(&console, StatusCode::OK, &view)
}

/// The status, severity and priority words a bug's pages use (`bugs-status-open` …).
#[cfg(test)]
pub fn vocabulary_ids() -> Vec<String> {
    let mut ids = Vec::new();
    for (prefix, names) in [("bugs-status", &STATUSES[..]), ("bugs-severity", &SEVERITIES[..]), ("bugs-priority", &PRIORITIES[..])] {
        ids.extend(names.iter().map(|n| format!("{prefix}-{n}")));
    }
    ids.extend(SORTS.iter().map(|s| format!("bugs-sort-{s}")));
    ids.extend(
        [
            "q",
            "status",
            "severity",
            "priority",
            "category",
            "environment",
            "tag",
            "assignee",
            "reporter",
            "from",
            "to",
            "sort",
            "page",
            "duplicate_of",
        ]
        .map(|i| format!("bugs-filter-{i}")),
    );
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    #[test]
    fn a_refusal_lands_on_the_filter_it_names() {
        assert_eq!(input_of("statuses[2]"), "status");
        assert_eq!(input_of("created.start_time"), "from");
        assert_eq!(input_of("created.end_time"), "to");
        assert_eq!(input_of("query"), "q");
        assert_eq!(input_of("page.per_page"), "");
    }

    #[test]
    fn times_are_shown_in_the_companys_zone() {
        let t =
            prost_types::Timestamp { seconds: chrono::DateTime::parse_from_rfc3339("2026-07-06T22:30:00Z").unwrap().timestamp(), nanos: 0 };
        let fr = Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich };
        assert_eq!(when(&fr, Some(&t)), "07.07.2026 00:30", "summer time: UTC+2");
        let en = Fmt { locale: Locale::En, tz: chrono_tz::America::New_York };
        assert_eq!(when(&en, Some(&t)), "2026-07-06 18:30");
        assert_eq!(when(&en, None), "");
    }
}
