//! The human audit trail (`/admin/audit-log`), for the company's admins:
//! every change a person made (safety's `ListAuditLog`, through the REST
//! route's own request), filtered by person, resource, action and period
//! (days in the company's zone), newest first, a page at a time; and its CSV
//! export (`/admin/audit-log/export`), the REST export's stream through
//! `routes/csv.rs` with the session instead of a bearer token.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use chrono::{Duration, NaiveDate, TimeZone as _};
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    error::{Failure, explain},
    form::{self, Errors},
    format::{Fmt, utc},
    page::Page,
    users::{ADMINS, ROLES, when},
};
use crate::routes::{audit, users::accounts};

/// Records per page.
const PER_PAGE: i32 = 50;
/// The resources people change, offered as suggestions (any other may be typed).
const RESOURCES: [&str; 10] =
    ["booking", "client", "driver", "user", "company", "autonomy_settings", "safety_limits", "template", "channel", "route"];

/// The filters as the form sends them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filters {
    /// An account's email or id.
    #[serde(default)]
    person: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    action: String,
    /// Days, `YYYY-MM-DD`, both included.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

impl Filters {
    /// The query string of these filters (without the page), for links.
    fn query(&self) -> String {
        let enc = |v: &str| percent_encoding::utf8_percent_encode(v.trim(), percent_encoding::NON_ALPHANUMERIC).to_string();
        [
            ("person", &self.person),
            ("resource", &self.resource),
            ("resource_id", &self.resource_id),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The REST route's query for these filters: the days read in the
    /// company's zone (from the first one's start to the last one's end); a
    /// day that is not a date is named in `errors`.
    fn audit_query(&self, fmt: &Fmt, errors: &mut Errors) -> audit::AuditQuery {
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut day = |raw: &str, input: &str, after: i64| -> Option<String> {
            if raw.trim().is_empty() {
                return None;
            }
            let Some(d) = form::date(raw) else {
                errors.add(input, fmt.t("form-bad-date"));
                return None;
            };
            Some(start_of(fmt, d + Duration::days(after)).to_rfc3339())
        };
        let (from, to) = (day(&self.from, "from", 0), day(&self.to, "to", 1));
        audit::AuditQuery {
            actor: text(&self.person),
            resource: text(&self.resource),
            resource_id: text(&self.resource_id),
            action: text(&self.action),
            from,
            to,
            ..Default::default()
        }
    }
}

/// When `day` starts in the company's zone (its first instant, should the
/// clocks skip midnight).
fn start_of(fmt: &Fmt, day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    let mut at = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    loop {
        if let Some(t) = fmt.tz.from_local_datetime(&at).earliest() {
            return t.to_utc();
        }
        at += Duration::minutes(15);
    }
}

/// A record as the list shows it.
#[derive(Debug)]
struct Line {
    when: String,
    email: String,
    role: String,
    action: String,
    resource: String,
    resource_id: String,
    /// `field: before → after`; a patient's field says only that it changed.
    changes: Vec<(String, Option<(String, String)>)>,
    address: String,
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct AuditPage {
    page: Page,
    f: Filters,
    errors: Errors,
    people: Vec<String>,
    resources: &'static [&'static str],
    lines: Vec<Line>,
    total: i64,
    export: String,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /admin/audit-log?person=&resource=&resource_id=&action=&from=&to=&page=`
pub async fn list(State(state): State<Web>, console: Console, Query(f): Query<Filters>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let page_no = match f.page.trim() {
        "" => 1,
        p => p.parse::<i32>().ok().filter(|p| *p >= 1).unwrap_or_else(|| {
            errors.add("page", console.fmt.t("form-bad-number"));
            1
        }),
    };
    let q = f.audit_query(&console.fmt, &mut errors);
    let (mut lines, mut total, mut more) = (Vec::new(), 0, false);
    if errors.is_empty() {
        match q.request(page_no, PER_PAGE) {
            Ok(req) => match audit::list_page(&state, &console.token, req).await {
                Ok(res) => {
                    let info = res.page.unwrap_or_default();
                    (total, more) = (info.total, info.total_capped && res.records.len() == PER_PAGE as usize);
                    lines = res.records.into_iter().map(|r| line(&console.fmt, r)).collect();
                }
                // A filter safety refuses (too long a value) is said above the list.
                Err(e) if e.status == StatusCode::BAD_REQUEST => errors.general = Some(explain(&console.fmt, &e)),
                Err(e) => return Err(console.fail(e)),
            },
            Err(e) => errors.general = Some(explain(&console.fmt, &e)),
        }
    }
    let (accounts, _) = accounts::list(&state, console.company_id, (1, 1_000)).await.map_err(|e| console.fail(e))?;
    let query = f.query();
    let link = |n: i32| format!("/admin/audit-log?{query}{}page={n}", if query.is_empty() { "" } else { "&" });
    let more = more || i64::from(page_no) * i64::from(PER_PAGE) < total;
    let page = AuditPage {
        page: Page::new(&console, "/admin/audit-log", "audit-title"),
        people: accounts.into_iter().map(|a| a.email).collect(),
        resources: &RESOURCES,
        lines,
        total,
        export: format!("/admin/audit-log/export{}{query}", if query.is_empty() { "" } else { "?" }),
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: more.then(|| link(page_no + 1)),
        errors,
        f,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let mut res = render(&console, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

fn line(fmt: &Fmt, r: atmr_proto::safety::v1::HumanRecord) -> Line {
    Line {
        when: utc(r.occur_time.as_ref()).map(|t| when(fmt, t)).unwrap_or_default(),
        email: r.actor_email,
        // A role of the accounts in the user's words; another (the operator's) as it is.
        role: if ROLES.contains(&r.actor_role.as_str()) { fmt.t(&format!("users-role-{}", r.actor_role)) } else { r.actor_role },
        action: r.action,
        resource: r.resource,
        resource_id: r.resource_id,
        changes: r
            .changes
            .into_iter()
            .map(|c| {
                let values = (!c.masked).then(|| (c.before.unwrap_or_default(), c.after.unwrap_or_default()));
                (c.field, values)
            })
            .collect(),
        address: r.client_address,
    }
}

/// `GET /admin/audit-log/export?…`: every record the filters select, as the
/// REST export writes them (CSV, streamed, formula-inert cells).
pub async fn export(State(state): State<Web>, console: Console, Query(f): Query<Filters>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let q = f.audit_query(&console.fmt, &mut errors);
    if let Some((input, _)) = errors.fields().next() {
        return Err(console.fail(crate::ApiError::invalid(input, format!("{input} must be a date YYYY-MM-DD"))));
    }
    tracing::info!(user_id = console.user_id, "audit log exported from the console");
    audit::export_csv((*state).clone(), console.token.clone(), q).await.map_err(|e| console.fail(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    #[test]
    fn the_period_is_whole_days_in_the_companys_zone() {
        let fmt = Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich };
        let f = Filters { from: "2026-12-01".into(), to: "2026-12-02".into(), person: " ana@example.com ".into(), ..Filters::default() };
        let mut errors = Errors::default();
        let q = f.audit_query(&fmt, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(q.from.as_deref(), Some("2026-11-30T23:00:00+00:00"), "Zurich's midnight in winter");
        assert_eq!(q.to.as_deref(), Some("2026-12-02T23:00:00+00:00"), "the last day included");
        assert_eq!(q.actor.as_deref(), Some("ana@example.com"));
        assert_eq!(f.query(), "person=ana%40example%2Ecom&from=2026%2D12%2D01&to=2026%2D12%2D02");
        let bad = Filters { to: "tomorrow".into(), ..Filters::default() };
        bad.audit_query(&fmt, &mut errors);
        assert!(errors.of("to").is_some());
    }
}
