//! The admin's console pages of the company (#26): users, company settings,
//! the audit log and the drift checks. Over plain HTTP on both backends: only
//! admins open them, changes need the session's CSRF token, a form that one
//! of dispatch's two calls would refuse saves nothing and names every bad
//! input, the account rules refuse a self-demotion, the audit log's export
//! streams with the session, a check run now is listed. In headless Chromium:
//! an admin's afternoon with each page, and the four pages in French.

use std::time::{Duration, Instant};

use chrono::Utc;
use kit::{
    Component,
    testing::{TestBackend, backends},
};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::{
    browser::{Browser, screenshot_dir},
    console::sign_in,
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, admin_token, login, start_mesh_with},
};

/// How long the audit trail may take to reach safety (its outbox's relay).
const RELAY: Duration = Duration::from_secs(30);

/// The value after `marker` up to the next `"`, `&` or `<` in `html`.
fn scrape<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("{marker} in the page")) + marker.len();
    let rest = &html[start..];
    &rest[..rest.find(['"', '&', '<']).unwrap_or(rest.len())]
}

/// Dispatch's database prepared for the drift page: the company's settings
/// with the scheduled check a day away (so only the test runs checks), 30
/// trips completed an hour ago that took 1.6 times the estimate (a drift),
/// and three weeks of earlier runs (one failed, one retried a day).
async fn seed_drift(mesh: &Mesh) {
    let db = kit::db::connect(mesh.db_url(Component::Dispatch)).await.unwrap();
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let now = Utc::now();
    db.execute_unprepared(&format!(
        "INSERT INTO autonomy_settings (company_id, mode, lateness_threshold_minutes, drift_mae_threshold_minutes, \
         drift_check_interval_seconds, cycle_interval_seconds, cycle_lease_until, drift_lease_until, updated_at) \
         VALUES (1, 'off', 10, 3.0, 86400, 60, '{0}', '{1}', '{0}')",
        at(now),
        at(now + chrono::Duration::days(1)),
    ))
    .await
    .unwrap();
    for i in 0..30 {
        db.execute_unprepared(&format!(
            "INSERT INTO trip_observation (company_id, booking_id, model_version, hour, zone, base_seconds, predicted_seconds, \
             actual_seconds, picked_up_at, completed_at) VALUES (1, {}, 0, 9, '924:123', 600, 600, 960, '{}', '{}')",
            900_000 + i,
            at(now - chrono::Duration::minutes(90)),
            at(now - chrono::Duration::minutes(60)),
        ))
        .await
        .unwrap();
    }
    for back in 1..=21_i64 {
        for (hour, state, attempts, mae) in [(8, "completed", 1, 1.0), (12, "completed", 1, 1.4), (16, "retried", 2, 1.8)] {
            let mae = mae + (back % 5) as f64 * 0.1;
            let started = at((now - chrono::Duration::days(back)).date_naive().and_hms_opt(hour, 0, 0).unwrap().and_utc());
            db.execute_unprepared(&format!(
                "INSERT INTO drift_check (company_id, started_at, state, attempts, model_version, trips, mae_minutes, bias_minutes, \
                 drift_detected, retrained_version, error) VALUES (1, '{started}', '{state}', {attempts}, 0, 25, {mae}, -0.4, false, NULL, NULL)"
            ))
            .await
            .unwrap();
        }
    }
    let failed = at(now - chrono::Duration::days(3));
    db.execute_unprepared(&format!(
        "INSERT INTO drift_check (company_id, started_at, state, attempts, model_version, trips, mae_minutes, bias_minutes, \
         drift_detected, retrained_version, error) VALUES (1, '{failed}', 'failed', 3, 0, 0, 0, 0, false, NULL, \
         'the dispatch service is unavailable')"
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
}

/// A signed-in console session over HTTP.
struct Session<'a> {
    http: &'a reqwest::Client,
    gw: String,
    cookie: String,
    csrf: String,
}

impl<'a> Session<'a> {
    async fn open(http: &'a reqwest::Client, gw: &str, email: &str, password: &str) -> Self {
        let cookie = sign_in(http, gw, email, password).await;
        let html = http.get(format!("{gw}/board")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let csrf = scrape(&html, "x-csrf-token&#34;:&#34;").to_owned();
        Self { http, gw: gw.to_owned(), cookie, csrf }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let res = self.http.get(format!("{}{path}", self.gw)).header("cookie", &self.cookie).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)], csrf: bool) -> (u16, String) {
        let mut req = self.http.post(format!("{}{path}", self.gw)).header("cookie", &self.cookie).form(form);
        if csrf {
            req = req.header("x-csrf-token", &self.csrf);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

/// The company's settings form as the page fills it, with `changes`.
fn company_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("name", "Ambulances du Léman"),
        ("time_zone", "Europe/Zurich"),
        ("erase_completed_after_days", "0"),
        ("autonomy_mode", "off"),
        ("lateness_threshold_minutes", "10"),
        ("drift_mae_threshold_minutes", "3"),
        ("drift_check_interval_seconds", "86400"),
        ("cycle_interval_seconds", "60"),
    ];
    for (k, v) in changes {
        form.iter_mut().find(|(name, _)| name == k).expect("an input of the form").1 = v;
    }
    form
}

#[tokio::test]
async fn the_admin_pages_are_for_admins_save_whole_forms_and_keep_the_admin_in() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[]).await;
        seed_drift(&mesh).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let admin = Session::open(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;

        // A dispatcher made here, with a generated password shown once.
        let (status, html) =
            admin.post("/admin/users", &[("email", "dora@example.com"), ("role", "dispatcher"), ("password", "")], true).await;
        assert_eq!(status, 201, "{backend:?}");
        let password = scrape(&html, "<output id=\"one-time-password\">").to_owned();
        assert_eq!(password.len(), 20, "{backend:?}: a generated password, shown once");
        let (status, html) = admin.post("/admin/users", &[("email", "dora@example.com"), ("role", "dispatcher")], true).await;
        assert_eq!(status, 409, "{backend:?}");
        assert!(html.contains("id=\"email-error\""), "{backend:?}: the taken email is named beside its input");

        // Every admin page refuses the dispatcher; a change without the token is refused too.
        let dora = Session::open(&http, &gw, "dora@example.com", &password).await;
        for path in ["/admin/users", "/admin/users/1", "/admin/company", "/admin/audit-log", "/admin/audit-log/export", "/admin/drift"] {
            assert_eq!(dora.get(path).await.0, 403, "{backend:?}: {path}");
        }
        assert_eq!(dora.post("/admin/drift/run", &[], true).await.0, 403, "{backend:?}");
        assert_eq!(admin.post("/admin/company", &company_form(&[]), false).await.0, 403, "{backend:?}: no csrf token");

        // A bad zone (dispatch's UpdateCompany) and a bad interval (UpdateAutonomySettings):
        // both named, and the new name sent with them is not saved either.
        let bad = company_form(&[("name", "Renamed"), ("time_zone", "Mars/Olympus"), ("cycle_interval_seconds", "1")]);
        let (status, html) = admin.post("/admin/company", &bad, true).await;
        assert_eq!(status, 422, "{backend:?}");
        assert!(html.contains("id=\"time_zone-error\"") && html.contains("id=\"cycle_interval_seconds-error\""), "{backend:?}");
        assert!(!html.contains("id=\"name-error\""), "{backend:?}: only the bad inputs are marked");
        let token = admin_token(&http, &gw).await;
        let company: Value = http.get(format!("{gw}/api/company")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            (company["name"].as_str(), company["time_zone"].as_str()),
            (Some("Company 1"), Some("Europe/Zurich")),
            "{backend:?}: {company}"
        );
        let ok = company_form(&[("name", "Renamed"), ("time_zone", "America/New_York"), ("drift_mae_threshold_minutes", "2,5")]);
        let (status, html) = admin.post("/admin/company", &ok, true).await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(html.contains("id=\"company-outcome\""), "{backend:?}");
        let company: Value = http.get(format!("{gw}/api/company")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(company["time_zone"], "America/New_York", "{backend:?}");
        let settings: Value =
            http.get(format!("{gw}/api/dispatch/autonomy/settings")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["drift_mae_threshold_minutes"], 2.5, "{backend:?}: a decimal comma is read");

        // The admin cannot demote themself from the page either.
        let me: Value = http.get(format!("{gw}/api/auth/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let mine = format!("/admin/users/{}/role", me["id"].as_str().unwrap());
        let (status, html) = admin.post(&mine, &[("role", "dispatcher"), ("driver_id", "")], true).await;
        assert_eq!(status, 409, "{backend:?}");
        assert!(html.contains("votre propre compte"), "{backend:?}: the rule is said (in French: sign_in chose it)");

        // A check run now is said and listed first.
        let (status, html) = admin.post("/admin/drift/run", &[], true).await;
        assert_eq!(status, 200, "{backend:?}");
        let said = scrape(&html, "id=\"drift-outcome\">");
        assert!(said.contains("réentraîné en version 1"), "{backend:?}: {said}");
        assert!(html.contains("class=\"run-completed fresh\""), "{backend:?}: the new run is marked");

        // The audit log's export, with the session: the admin's own changes, as CSV.
        let deadline = Instant::now() + RELAY;
        let csv = loop {
            let res = http
                .get(format!("{gw}/admin/audit-log/export?person={ADMIN_EMAIL}&resource=user"))
                .header("cookie", &admin.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{backend:?}");
            assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
            let body = res.text().await.unwrap();
            if body.contains("dora@example.com") || Instant::now() > deadline {
                break body;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(csv.starts_with("occurred_at,recorded_at,chain_seq"), "{backend:?}: {csv}");
        assert!(csv.contains(",user,") && csv.contains(",create,"), "{backend:?}: {csv}");
        let (status, _) = admin.get("/admin/audit-log?from=yesterday").await;
        assert_eq!(status, 400, "{backend:?}: a day that is no date is named");
    }
}

/// Reloads `path` until `script` is true on it (the audit trail reaches
/// safety through a relay), within [`RELAY`].
async fn until_after_reload(b: &Browser, path: &str, what: &str, script: &str) {
    let deadline = Instant::now() + RELAY;
    loop {
        b.goto(path).await;
        b.find("main h1").await;
        let v = b.client.execute(&format!("return Boolean({script});"), Vec::new()).await;
        if matches!(v, Ok(Value::Bool(true))) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what} on {path}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn an_admin_manages_accounts_settings_the_audit_trail_and_the_eta_model() {
    // The story signs in as the new account after each change: more than the default 5 a minute.
    let mesh = start_mesh_with(TestBackend::Sqlite, &[("ATMR_LOGIN_RATE_PER_MINUTE", "60")]).await;
    seed_drift(&mesh).await;
    let gw = mesh.gateway.url();
    let http = reqwest::Client::new();
    // A driver of the company with an account, to show the link.
    let token = admin_token(&http, &gw).await;
    let driver = json!({ "name": "Ana Duarte", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 420,
                         "shift_end_minute": 1080, "depot": { "latitude": 46.2, "longitude": 6.1 } });
    let driver: Value =
        http.post(format!("{gw}/api/drivers")).bearer_auth(&token).json(&driver).send().await.unwrap().json().await.unwrap();
    let account =
        json!({ "email": "ana.driver@example.com", "password": "a-long-driver-password", "role": "driver", "driver_id": driver["id"] });
    assert_eq!(http.post(format!("{gw}/api/admin/users")).bearer_auth(&token).json(&account).send().await.unwrap().status(), 201);

    let b = Browser::start(&gw, "en-GB").await;
    b.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "en").await;

    // A new dispatcher, with a generated password shown once.
    b.goto("/admin/users").await;
    b.click("a[href='/admin/users/new']").await;
    b.fill("#email", "bea@example.com").await;
    b.find("#role option[value='dispatcher']").await.click().await.unwrap();
    b.click("#new-user button[type=submit]").await;
    let first = b.text("#one-time-password").await;
    assert_eq!(first.len(), 20, "{first}");
    assert_eq!(login(&http, &gw, "bea@example.com", &first).await.status(), 200, "the shown password opens the account");
    b.shot("users-created").await;
    // Their role changed.
    b.find("#role option[value='reporter']").await.click().await.unwrap();
    b.click("form.role-form button[type=submit]").await;
    b.until(
        "the role changed",
        "document.querySelector('#account-outcome.ok') && document.querySelector('#account-role').textContent.includes('Reporter')",
    )
    .await;
    // Their password reset, confirmed on its own page.
    b.click("#reset-password").await;
    b.click("#confirm button[type=submit]").await;
    let second = b.text("#one-time-password").await;
    assert_ne!(second, first);
    assert_eq!(login(&http, &gw, "bea@example.com", &first).await.status(), 401, "the old password no longer opens it");
    assert_eq!(login(&http, &gw, "bea@example.com", &second).await.status(), 200);
    // Deactivated, confirmed on its own page.
    b.click("#deactivate").await;
    assert!(b.text("#confirm").await.contains("bea@example.com"), "the confirmation names the account");
    b.click("#confirm button.danger").await;
    b.until("deactivated", "document.querySelector('#account-state')?.textContent.includes('Deactivated')").await;
    assert_eq!(login(&http, &gw, "bea@example.com", &second).await.status(), 401, "a deactivated account cannot sign in");
    // The admin's own account: demoting it is refused, and said.
    b.goto("/admin/users").await;
    let mine = b.find("tr[data-user] td").await;
    assert!(mine.text().await.unwrap().contains("admin@example.com"), "the list is by email");
    b.click("tr[data-user]:first-child a").await;
    b.find("#role option[value='dispatcher']").await.click().await.unwrap();
    b.click("form.role-form button[type=submit]").await;
    b.until("the refusal", "document.querySelector('#account-outcome.error')?.textContent.includes('your own account')").await;
    assert!(b.text("#account-role").await.contains("Admin"), "still an admin");
    b.shot("users-refused").await;
    b.goto("/admin/users").await;
    assert!(b.text("#users tbody").await.contains("Ana Duarte"), "the driver account shows its driver");
    b.shot("users").await;

    // The company's zone: the times shown follow it; a zone that does not exist is named.
    b.goto("/admin/company").await;
    b.fill("#time_zone", "Asia/Tokyo").await;
    b.fill("#drift_mae_threshold_minutes", "2.5").await;
    b.click("#company form button[type=submit]").await;
    b.until("saved", "document.querySelector('#company-outcome.ok') !== null").await;
    let shown = b.text("#company-now").await;
    // Tokyo keeps UTC+9 all year.
    let tokyo = |m: i64| {
        let offset = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
        (Utc::now() + chrono::Duration::minutes(m)).with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string()
    };
    assert!(shown == tokyo(0) || shown == tokyo(-1), "Tokyo's time now: {shown}");
    b.shot("company").await;
    b.fill("#time_zone", "Mars/Olympus").await;
    b.click("#company form button[type=submit]").await;
    b.find("#time_zone-error").await;
    assert!(b.text("#time_zone-error").await.contains("IANA"), "the zone is named beside its input");
    assert_eq!(b.all("#company-outcome").await.len(), 0, "nothing saved");
    b.shot("company-bad-zone").await;

    // The audit log, filtered by the admin: their own changes just made; the CSV downloads.
    let path = format!("/admin/audit-log?person={}", ADMIN_EMAIL.replace('@', "%40"));
    until_after_reload(
        &b,
        &path,
        "the admin's changes",
        "document.querySelector('#audit-log tbody').textContent.includes('reset_password')",
    )
    .await;
    let rows = b.text("#audit-log tbody").await;
    for action in ["update_role", "deactivate", "create"] {
        assert!(rows.contains(action), "{action} in {rows}");
    }
    let only_theirs =
        "[...document.querySelectorAll('#audit-log tbody td:nth-child(2)')].every(td => td.textContent.includes('admin@example.com'))";
    assert_eq!(
        b.client.execute(&format!("return {only_theirs};"), Vec::new()).await.unwrap(),
        Value::Bool(true),
        "only the admin's changes"
    );
    b.shot("audit-log").await;
    let downloads = tempfile::tempdir().unwrap();
    b.cdp("Browser.setDownloadBehavior", json!({ "behavior": "allow", "downloadPath": downloads.path().display().to_string() })).await;
    b.click("#audit-export").await;
    let file = downloads.path().join("audit-log.csv");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.is_file() {
        assert!(
            Instant::now() < deadline,
            "the export did not download: {:?}",
            std::fs::read_dir(downloads.path()).unwrap().collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("occurred_at,") && csv.contains("update_role"), "{csv}");

    // The drift checks: a run now retrains, is listed first with its figures, and the chart has its line.
    b.goto("/admin/drift").await;
    assert!(b.all("figure.chart svg polyline").await.len() >= 2, "the days' lines are drawn");
    b.click("#run-check").await;
    b.until("the run said", "document.querySelector('#drift-outcome.ok') !== null").await;
    let said = b.text("#drift-outcome").await;
    assert!(said.contains("retrained to version 1"), "{said}");
    let fresh = b.text("tr.fresh").await;
    assert!(fresh.contains("v0 → v1") && fresh.contains("Completed"), "{fresh}");
    assert!(b.text("#drift-threshold").await.contains("2.50"), "the threshold set on the company page");
    b.find("figure.chart g.rule line").await;
    b.shot("drift").await;

    // In French, once: each page speaks it.
    b.click("header.top button[lang=fr]").await;
    b.until("French", "document.documentElement.lang === 'fr'").await;
    for (path, title) in [
        ("/admin/users", "Utilisateurs"),
        ("/admin/company", "Entreprise"),
        ("/admin/audit-log", "Journal d’audit"),
        ("/admin/drift", "Contrôles de dérive"),
    ] {
        b.goto(path).await;
        assert_eq!(b.text("main h1").await, title, "{path}");
    }
    assert!(b.text("figure.chart").await.contains("MAE moyenne"), "the chart's legend in French");
    b.shot("drift-fr").await;
    b.close().await;
    assert!(screenshot_dir().join("drift.png").is_file());
}
