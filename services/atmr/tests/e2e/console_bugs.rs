//! The console's bugs (`/bugs`) against the mesh: a triager resolves a bug on
//! its page, the same crash is reported again and the regression shows on the
//! bug's page and in the trends (headless Chromium, with screenshots); a
//! reporter lands on the bugs, in French, and is refused every other page.
//! Over plain HTTP on both backends: the filters and search narrow the list
//! and a bad one is named; a change needs the CSRF token and a triager.

use kit::{
    auth::Role,
    testing::{TestBackend, backends},
};
use serde_json::{Value, json};

use crate::{
    browser::{Browser, screenshot_dir},
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, start_mesh_configured},
};

const DISPATCHER: &str = "triage@demo.example";
const REPORTER: &str = "reporter@demo.example";

/// The panic the story's main bug is about; its fingerprint comes from it.
const ETA_PANIC: &str = concat!(
    "thread 'tokio-runtime-worker' panicked at services/dispatch/src/eta.rs:88:14:\n",
    "called `Option::unwrap()` on a `None` value\n",
    "stack backtrace:\n",
    "   0: rust_begin_unwind\n",
    "   1: core::panicking::panic_fmt\n",
    "   2: core::option::unwrap_failed\n",
    "   3: atmr_dispatch::eta::Factors::minutes_between\n",
    "             at ./services/dispatch/src/eta.rs:88:14\n",
    "   4: atmr_dispatch::solver::insert::best_slot\n",
    "             at ./services/dispatch/src/solver/insert.rs:142:23\n",
    "   5: atmr_dispatch::core::Dispatch::plan_day\n",
    "             at ./services/dispatch/src/core.rs:311:9",
);

/// The mesh (a report of a resolved bug is a regression at once: no grace
/// period) with a dispatcher and a reporter; returns their passwords.
async fn bugs_mesh(backend: TestBackend) -> (Mesh, String, String) {
    let mesh = start_mesh_configured(backend, &[("ATMR_RATE_LIMIT_PER_MINUTE", "0")], &[("BUGS_REGRESSION_GRACE_SECS", "0")]).await;
    let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
    let dispatcher = atmr_gateway::users::ensure_user(&db, DISPATCHER, Role::Dispatcher, 1).await.unwrap().expect("a new account");
    let reporter = atmr_gateway::users::ensure_user(&db, REPORTER, Role::Reporter, 1).await.unwrap().expect("a new account");
    db.close().await.unwrap();
    (mesh, dispatcher, reporter)
}

/// A REST access token.
async fn token(http: &reqwest::Client, gw: &str, email: &str, password: &str) -> String {
    let res = http.post(format!("{gw}/api/auth/login")).json(&json!({ "email": email, "password": password })).send().await.unwrap();
    assert_eq!(res.status(), 200, "login of {email}");
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// Files a report through the REST API; the bug and what grouping did.
async fn report(http: &reqwest::Client, gw: &str, token: &str, body: Value) -> (i64, String) {
    let res = http.post(format!("{gw}/api/bugs")).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let v: Value = res.json().await.unwrap();
    (v["bug"]["id"].as_i64().unwrap(), v["grouping"].as_str().unwrap().to_owned())
}

/// The value after `marker` up to the next `"` or `&` in `html`.
fn scrape<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("{marker} in the page")) + marker.len();
    let rest = &html[start..];
    &rest[..rest.find(['"', '&']).unwrap_or(rest.len())]
}

/// A console session through the sign-in form in `lang`: the session cookie
/// (`name=value`) and where the sign-in sent the user.
async fn session(http: &reqwest::Client, gw: &str, email: &str, password: &str, lang: &str) -> (String, String) {
    let cookie_of = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    };
    let form = http.get(format!("{gw}/login?lang={lang}")).send().await.unwrap();
    let login_cookie = cookie_of(&form, "atmr_login").expect("the form's cookie");
    let csrf = scrape(&form.text().await.unwrap(), "name=\"_csrf\" value=\"").to_owned();
    let res = http
        .post(format!("{gw}/login"))
        .header("cookie", &login_cookie)
        .form(&[("email", email), ("password", password), ("_csrf", &csrf), ("next", ""), ("lang", lang)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{email} signed in");
    let landing = res.headers()["location"].to_str().unwrap().to_owned();
    (cookie_of(&res, "atmr_session").expect("a session"), landing)
}

/// The ids of the bug rows of a list page, in order.
fn rows(html: &str) -> Vec<i64> {
    html.match_indices("<tr data-bug=\"").map(|(at, m)| scrape(&html[at..], m).parse().unwrap()).collect()
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn a_triager_resolves_a_bug_and_sees_it_come_back_as_a_regression() {
    let (mesh, dispatcher_password, reporter_password) = bugs_mesh(TestBackend::Sqlite).await;
    let gw = mesh.gateway.url();
    let http = reqwest::Client::new();
    let rita = token(&http, &gw, REPORTER, &reporter_password).await;
    let admin = token(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // A company's bugs: the crash reported three times, and a few others.
    let crash = json!({
        "title": "ETA panics when a stop has no coordinates", "description": "Planning the day stops half-way; the board shows no trips.",
        "severity": "critical", "priority": "urgent", "category": "dispatch", "release": "2.3.1", "tags": ["eta", "solver"],
        "stack_trace": ETA_PANIC,
    });
    let (bug, grouping) = report(&http, &gw, &rita, crash.clone()).await;
    assert_eq!(grouping, "created");
    for _ in 0..2 {
        assert_eq!(report(&http, &gw, &rita, crash.clone()).await, (bug, "grouped".to_owned()));
    }
    let others = [
        json!({ "title": "Map tiles stay grey near Lausanne", "severity": "low", "priority": "low", "category": "ui", "tags": ["map"] }),
        json!({ "title": "SMS reminder sent twice", "description": "Patients get two texts the evening before.", "severity": "high", "priority": "high", "category": "notify", "tags": ["sms"] }),
        json!({ "title": "Invoice total off by one cent", "severity": "medium", "category": "billing", "environment": "staging", "tags": ["vat"] }),
        json!({ "title": "Board freezes when dragging with 500 trips", "severity": "high", "priority": "urgent", "category": "ui", "tags": ["board"] }),
    ];
    for (i, body) in others.into_iter().enumerate() {
        let (id, _) = report(&http, &gw, &rita, body.clone()).await;
        if i == 1 {
            report(&http, &gw, &rita, body).await;
            let patch = json!({ "status": "in_progress", "assignee": "ana@demo.example" });
            let res = http.patch(format!("{gw}/api/bugs/{id}")).bearer_auth(&admin).json(&patch).send().await.unwrap();
            assert_eq!(res.status(), 200);
        }
    }

    // The triager's list of what is unresolved, the most reported first.
    // A window tall enough for the list under its filters.
    let ana = Browser::start_sized(&gw, "en-GB", (1280, 900)).await;
    ana.sign_in(DISPATCHER, &dispatcher_password, "en").await;
    ana.goto("/bugs?status=open&status=in_progress&sort=occurrences").await;
    ana.find(&format!("tr[data-bug='{bug}'] svg.sparkline")).await;
    assert_eq!(ana.text("h1").await, "Bugs");
    assert!(ana.text("#bugs-count").await.starts_with("5 bugs"), "{}", ana.text("#bugs-count").await);
    let first_row = ana.find("table.bugs-list tbody tr").await.attr("data-bug").await.unwrap();
    assert_eq!(first_row.as_deref(), Some(bug.to_string().as_str()), "the most reported first");
    let spark = ana.find(&format!("tr[data-bug='{bug}'] svg.sparkline")).await.attr("aria-label").await.unwrap().unwrap_or_default();
    assert!(spark.ends_with(": 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3"), "today's three reports: {spark}");
    ana.shot("bugs-list").await;

    // Resolved on its page.
    ana.click(&format!("tr[data-bug='{bug}'] td.bug-title a")).await;
    ana.find("form.triage").await;
    assert!(ana.text("pre.stack").await.contains("atmr_dispatch::eta::Factors::minutes_between"));
    ana.find("#t-status").await.select_by_value("resolved").await.unwrap();
    ana.click("form.triage button[type=submit]").await;
    ana.until("the bug resolved", "document.querySelector('#bug-status')?.textContent.trim() === 'Resolved'").await;
    assert!(ana.text("ol.history li.ev-status_changed").await.contains(&format!("{DISPATCHER} changed the status from Open to Resolved")));

    // The same crash, reported again in the next release: a regression.
    let again = json!({ "title": "ETA panic", "release": "2.3.2", "stack_trace": ETA_PANIC.replace("88:14", "91:14") });
    assert_eq!(report(&http, &gw, &rita, again).await, (bug, "regression".to_owned()));
    ana.goto(&format!("/bugs/{bug}")).await;
    ana.find("ol.history li.ev-regressed").await;
    assert_eq!(ana.text("#bug-status").await, "Open", "reopened");
    let regressed = ana.text("ol.history li.ev-regressed").await;
    assert!(
        regressed.contains(&format!("Regression: reported again by {REPORTER} while Resolved")) && regressed.contains("2.3.2"),
        "{regressed}"
    );
    assert_eq!(ana.text("#bug-reports").await, "4");
    ana.goto(&format!("/bugs/{bug}?history=regressions")).await;
    assert_eq!(ana.all("ol.history li").await.len(), 1, "the regressions alone");
    ana.goto(&format!("/bugs/{bug}")).await;
    ana.find("ol.history li.ev-regressed").await;
    ana.shot("bugs-detail").await;

    // The trends count it as reopened today.
    ana.goto("/bugs/trends").await;
    ana.find("#bugs-flow svg").await;
    let today = chrono::Utc::now().date_naive().format("%-d %b").to_string();
    let script = format!(
        "Array.from(document.querySelectorAll('#bugs-flow .series.s-bad rect title')).some(t => t.textContent === 'Reopened · {today}: 1')"
    );
    ana.until("the regression in the trend's reopened bars", &script).await;
    let reopened =
        ana.client.execute("return document.querySelector('#bugs-days tbody tr td:nth-of-type(3)').textContent", vec![]).await.unwrap();
    assert_eq!(reopened, json!("1"), "today's row of the figures");
    assert_eq!(ana.text("#bugs-open-critical").await, "1", "the crash is open and critical again");
    ana.shot("bugs-trends").await;
    ana.close().await;

    // The reporter, in French: the bugs are their one page; the board refuses them.
    let rita_browser = Browser::start(&gw, "fr-CH").await;
    rita_browser.sign_in(REPORTER, &reporter_password, "fr").await;
    rita_browser.until("the reporter's landing", "location.pathname === '/bugs'").await;
    assert_eq!(rita_browser.all("header.top nav a").await.len(), 1, "one page in the navigation");
    assert!(rita_browser.text("#bugs-count").await.starts_with("5 bugs"));
    assert!(rita_browser.text("table.bugs-list thead").await.contains("Dernière occurrence"), "the list in French");
    rita_browser.goto(&format!("/bugs/{bug}")).await;
    rita_browser.find("ol.history li.ev-regressed").await;
    assert!(
        rita_browser.all("form.triage").await.is_empty() && rita_browser.all("form.comment-form").await.is_empty(),
        "no triage for a reporter"
    );
    assert!(rita_browser.text("ol.history li.ev-regressed .what").await.starts_with("Régression"));
    rita_browser.goto("/board").await;
    assert_eq!(rita_browser.text("[role=alert]").await, "Vous n'avez pas le droit de faire cela.");
    rita_browser.click("main a[href='/']").await;
    rita_browser.until("back on the bugs", "location.pathname === '/bugs'").await;
    rita_browser.find("table.bugs-list").await;
    rita_browser.close().await;
    assert!(screenshot_dir().join("bugs-list.png").is_file());
}

#[tokio::test]
async fn the_bug_list_is_searched_and_filtered_as_the_api_filters() {
    for backend in backends() {
        let (mesh, _, reporter_password) = bugs_mesh(backend).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let admin = token(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let specs = [
            ("Login loops on Safari", "high", "urgent", "ui", "production", &["login", "safari"][..]),
            ("VAT line rounds wrongly", "medium", "high", "billing", "staging", &["vat"][..]),
            ("Solver stuck at 99 percent", "critical", "urgent", "dispatch", "production", &["solver"][..]),
            ("Login button hidden on phones", "low", "low", "ui", "production", &["login"][..]),
        ];
        let mut ids = Vec::new();
        for (title, severity, priority, category, environment, tags) in specs {
            let body = json!({ "title": title, "severity": severity, "priority": priority, "category": category, "environment": environment, "tags": tags });
            ids.push(report(&http, &gw, &admin, body).await.0);
        }
        let res = http
            .patch(format!("{gw}/api/bugs/{}", ids[2]))
            .bearer_auth(&admin)
            .json(&json!({ "status": "resolved" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        // Many more, for the pages.
        for i in 0..24 {
            report(
                &http,
                &gw,
                &admin,
                json!({ "title": format!("Filler report {}", ["alpha", "beta", "gamma"][i % 3].repeat(i / 3 + 1)), "severity": "low" }),
            )
            .await;
        }
        let (cookie, landing) = session(&http, &gw, REPORTER, &reporter_password, "en").await;
        assert_eq!(landing, "/bugs", "a reporter lands on the bugs");
        let list = |query: &str| {
            let (http, cookie, gw) = (&http, &cookie, &gw);
            let url = format!("{gw}/bugs{query}");
            async move {
                let res = http.get(&url).header("cookie", cookie).send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };
        let ids_of = |query: &str| {
            let list = &list;
            let query = query.to_owned();
            async move {
                let (status, html) = list(&query).await;
                assert_eq!(status, 200, "{query}: {html}");
                rows(&html)
            }
        };
        let created_order = |mut v: Vec<i64>| {
            v.sort_unstable();
            v
        };
        assert_eq!(created_order(ids_of("?q=login").await), [ids[0], ids[3]], "{backend:?}: the text search");
        assert_eq!(ids_of("?q=LOGIN&severity=high").await, [ids[0]]);
        assert_eq!(ids_of("?status=resolved").await, [ids[2]]);
        assert_eq!(created_order(ids_of("?status=open&priority=urgent").await), [ids[0]]);
        assert_eq!(created_order(ids_of("?severity=critical&severity=medium").await), [ids[1], ids[2]]);
        assert_eq!(created_order(ids_of("?tag=login&category=ui").await), [ids[0], ids[3]]);
        assert_eq!(ids_of("?environment=staging").await, [ids[1]]);
        assert_eq!(ids_of("?reporter=nobody%40example.com").await, Vec::<i64>::new());
        assert_eq!(ids_of(&format!("?reporter={}&q=VAT", ADMIN_EMAIL.replace('@', "%40"))).await, [ids[1]]);
        assert_eq!(ids_of("?sort=severity&q=o&status=open").await.first(), Some(&ids[0]), "the highest severity first");
        // The console reads days in the company's zone: near midnight UTC, Zurich is already on the next day.
        let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Zurich).date_naive();
        assert_eq!(ids_of(&format!("?from={}&q=Solver", today.succ_opt().unwrap())).await, Vec::<i64>::new(), "created before that day");
        assert_eq!(ids_of(&format!("?from={}&to={}&q=Solver", today.pred_opt().unwrap(), today.succ_opt().unwrap())).await, [ids[2]]);

        // 28 bugs, 25 a page.
        let (_, first) = list("?sort=created&order=asc").await;
        assert!(first.contains("28 bugs"), "{backend:?}");
        assert_eq!(rows(&first)[..4], ids[..], "oldest first");
        assert!(first.contains("href=\"/bugs?sort=created&#38;order=asc&#38;page=2\" rel=\"next\""), "the pager keeps the filters");
        let (_, second) = list("?sort=created&order=asc&page=2").await;
        assert_eq!(rows(&second).len(), 3);
        assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));

        // A filter that cannot be read is named, and nothing is listed.
        let (status, html) = list("?severity=huge").await;
        assert_eq!(status, 400);
        assert!(html.contains("Check “Severity”: “huge” is not accepted."), "{html}");
        assert!(rows(&html).is_empty());
        let (status, html) = list("?from=2026-03-05&to=2026-03-01").await;
        assert_eq!(status, 400);
        assert!(html.contains("Created until") && html.contains("more-filters\" open"), "the filter shown open: {html}");
        // The service's own refusal, beside its filter.
        let (status, html) = list(&format!("?category={}", "x".repeat(60))).await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("field invalid\"><label for=\"bf-category\""), "{html}");
    }
}

#[tokio::test]
async fn only_a_triager_changes_a_bug_and_only_with_the_csrf_token() {
    for backend in backends() {
        let (mesh, dispatcher_password, reporter_password) = bugs_mesh(backend).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let rita = token(&http, &gw, REPORTER, &reporter_password).await;
        let (bug, _) = report(&http, &gw, &rita, json!({ "title": "Door code missing on the sheet", "severity": "medium" })).await;
        let status_of = || {
            let (http, gw, rita) = (&http, &gw, &rita);
            async move {
                let v: Value = http.get(format!("{gw}/api/bugs/{bug}")).bearer_auth(rita).send().await.unwrap().json().await.unwrap();
                v["bug"]["status"].as_str().unwrap().to_owned()
            }
        };
        let get = |cookie: &str, path: &str| http.get(format!("{gw}{path}")).header("cookie", cookie).send();
        let resolve = [("status", "resolved"), ("was_status", "open"), ("severity", "medium"), ("was_severity", "medium")];

        // The reporter reads the bug, without the triage form, and may not change it.
        let (reporter, landing) = session(&http, &gw, REPORTER, &reporter_password, "fr").await;
        assert_eq!(landing, "/bugs");
        let home = get(&reporter, "/").await.unwrap();
        assert_eq!(
            (home.status().as_u16(), home.headers()["location"].to_str().unwrap()),
            (303, "/bugs"),
            "/ sends a reporter to the bugs"
        );
        let page = get(&reporter, &format!("/bugs/{bug}")).await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Signalé par reporter@demo.example") && !html.contains("/triage\""), "{backend:?}: read, no form");
        let reporter_csrf = scrape(&html, "x-csrf-token&#34;:&#34;").to_owned();
        let post = |cookie: &str, csrf: Option<&str>, path: String, form: &[(&str, &str)]| {
            let mut req = http.post(format!("{gw}{path}")).header("cookie", cookie).header("hx-request", "true").form(form);
            if let Some(t) = csrf {
                req = req.header("x-csrf-token", t);
            }
            req.send()
        };
        let refused = post(&reporter, Some(&reporter_csrf), format!("/bugs/{bug}/triage"), &resolve).await.unwrap();
        assert_eq!(refused.status(), 403, "a reporter may not triage");
        let refused = post(&reporter, Some(&reporter_csrf), format!("/bugs/{bug}/comments"), &[("body", "me too")]).await.unwrap();
        assert_eq!(refused.status(), 403, "nor comment");
        for path in ["/board", "/bookings", "/clients", "/drivers", "/autonomy", "/manifest", "/map", "/templates", "/bugs/trends"] {
            assert_eq!(get(&reporter, path).await.unwrap().status(), 403, "{path} refuses a reporter");
        }

        // A triager: without the token nothing changes; with it the bug is resolved.
        let (dispatcher, _) = session(&http, &gw, DISPATCHER, &dispatcher_password, "en").await;
        let page = get(&dispatcher, &format!("/bugs/{bug}")).await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("hx-post=\"/bugs/{bug}/triage\"")), "the triage form");
        let csrf = scrape(&page, "x-csrf-token&#34;:&#34;").to_owned();
        assert_eq!(post(&dispatcher, None, format!("/bugs/{bug}/triage"), &resolve).await.unwrap().status(), 403);
        assert_eq!(post(&dispatcher, Some("forged"), format!("/bugs/{bug}/triage"), &resolve).await.unwrap().status(), 403);
        assert_eq!(post(&dispatcher, None, format!("/bugs/{bug}/comments"), &[("body", "looking")]).await.unwrap().status(), 403);
        assert_eq!(status_of().await, "open", "{backend:?}: nothing changed");
        let done = post(&dispatcher, Some(&csrf), format!("/bugs/{bug}/triage"), &resolve).await.unwrap();
        assert_eq!((done.status().as_u16(), done.headers()["hx-redirect"].to_str().unwrap()), (204, format!("/bugs/{bug}").as_str()));
        assert_eq!(status_of().await, "resolved");
        let events: Value = http.get(format!("{gw}/api/bugs/{bug}/events")).bearer_auth(&rita).send().await.unwrap().json().await.unwrap();
        assert_eq!((&events["items"][0]["kind"], &events["items"][0]["actor"]), (&json!("status_changed"), &json!(DISPATCHER)));

        // A move the service refuses is said beside the form: a resolved bug cannot become "won't fix".
        let wont = [("status", "wont_fix"), ("was_status", "resolved")];
        let refused = post(&dispatcher, Some(&csrf), format!("/bugs/{bug}/triage"), &wont).await.unwrap();
        assert_eq!(refused.status(), 400);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("id=\"triage-outcome\"")
                && html.contains("A bug that is “Resolved” cannot become “Won&#39;t fix”: reopen it first."),
            "{html}"
        );
        assert_eq!(status_of().await, "resolved");

        // Comments: added by the triager, an empty one refused by the service and said.
        let added = post(&dispatcher, Some(&csrf), format!("/bugs/{bug}/comments"), &[("body", "Fixed in 2.3.2")]).await.unwrap();
        assert_eq!(added.status(), 204);
        let empty = post(&dispatcher, Some(&csrf), format!("/bugs/{bug}/comments"), &[("body", "  ")]).await.unwrap();
        assert_eq!(empty.status(), 400);
        assert!(empty.text().await.unwrap().contains("id=\"comment-outcome\""));
        let page = get(&dispatcher, &format!("/bugs/{bug}")).await.unwrap().text().await.unwrap();
        assert!(page.contains("Fixed in 2.3.2") && page.contains(&format!("{DISPATCHER} commented")), "the comment and its event");
        // Its author may delete it; the reporter may not even ask.
        let comment = scrape(&page, "<li class=\"comment\" id=\"comment-").to_owned();
        let path = format!("/bugs/{bug}/comments/{comment}/delete");
        assert_eq!(post(&reporter, Some(&reporter_csrf), path.clone(), &[]).await.unwrap().status(), 403);
        assert_eq!(post(&dispatcher, Some(&csrf), path, &[]).await.unwrap().status(), 204);
        assert!(!get(&dispatcher, &format!("/bugs/{bug}")).await.unwrap().text().await.unwrap().contains("Fixed in 2.3.2"));
    }
}
