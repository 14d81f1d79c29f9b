//! The status page: the mesh watching its own components (the monitors
//! `atmr up` registers, made quick for the test), a component stopped and
//! started again on the same port and its monitor seen going down and up on
//! the open page without a reload, the downtime in the bars and as an
//! incident, a maintenance window, and the public page; over plain HTTP, who
//! may open what, the forms' checks, and what the public page shows and hides.

use std::time::{Duration, Instant};

use kit::{
    Component,
    auth::Role,
    testing::{TestBackend, backends},
};
use serde_json::{Value, json};

use crate::{
    browser::{Browser, screenshot_dir},
    console::sign_in,
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, admin_token, start_mesh_with},
};

/// What every test here starts the gateway with: sign-ins not limited (the
/// tests sign in several people from one address).
const GATEWAY_ENV: &[(&str, &str)] = &[("ATMR_LOGIN_RATE_PER_MINUTE", "0")];
/// A monitor's interval in these tests: notify's shortest.
const INTERVAL: i64 = 10;

/// The mesh's own monitors, as `atmr up` registers them for company 1, then
/// made quick (checked every 10 s, down at the first failure), the services
/// under the gateway, and started at once. Returns their ids by name.
async fn watch_the_mesh(mesh: &Mesh, http: &reqwest::Client, token: &str) -> std::collections::HashMap<String, String> {
    let gw = mesh.gateway.url();
    let mut targets: Vec<atmr_notify::MeshTarget> = mesh
        .services
        .iter()
        .map(|(c, s)| atmr_notify::MeshTarget { name: c.name().to_owned(), target: s.addr.to_string(), grpc: true })
        .collect();
    targets.push(atmr_notify::MeshTarget { name: "gateway".into(), target: format!("{gw}/health/ready"), grpc: false });
    let registered = atmr_notify::register_mesh_monitors(mesh.db_url(Component::Notify), 1, &targets).await.unwrap();
    assert_eq!(registered, 5);
    let list: Value = http.get(format!("{gw}/api/monitors")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let ids: std::collections::HashMap<String, String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_owned(), m["id"].as_str().unwrap().to_owned()))
        .collect();
    for m in list["items"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let parent = (name != "gateway").then(|| ids["gateway"].clone());
        let body = json!({ "name": name, "kind": m["kind"], "target": m["target"], "interval_seconds": INTERVAL,
                           "timeout_seconds": 2, "retries": 0, "recovery_checks": 1, "parent_id": parent });
        let id = &ids[name];
        let put = http.put(format!("{gw}/api/monitors/{id}")).bearer_auth(token).json(&body).send().await.unwrap();
        assert_eq!(put.status(), 200, "{name}: {}", put.text().await.unwrap());
        let resumed = http.post(format!("{gw}/api/monitors/{id}/resume")).bearer_auth(token).send().await.unwrap();
        assert_eq!(resumed.status(), 200);
    }
    ids
}

/// Stops `component` and returns how to start it again on the same port and database.
async fn stop(mesh: &mut Mesh, component: Component) -> std::net::SocketAddr {
    let at = mesh.services.iter().position(|(c, _)| *c == component).unwrap();
    let (_, svc) = mesh.services.remove(at);
    let addr = svc.addr;
    svc.stop().await.unwrap();
    addr
}

/// `component` again on `addr`, as the mesh started it.
async fn restart(
    mesh: &Mesh,
    component: Component,
    addr: std::net::SocketAddr,
) -> (kit::Lifecycle, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let gw = mesh.gateway.url();
    let mut env = kit::testing::env_for(component, mesh.db_url(component));
    let notify = mesh.services.iter().find(|(c, _)| *c == Component::Notify).unwrap().1.url();
    for (k, v) in [
        ("GATEWAY_URL", gw.clone()),
        ("ATMR_JWKS_URL", format!("{gw}/.well-known/jwks.json")),
        ("ATMR_REVOCATION_FEED", "gateway".to_owned()),
        ("NOTIFY_URL", notify),
    ] {
        env.set(k, v);
    }
    let listeners = kit::Listeners::bind(addr, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let life = kit::Lifecycle::new();
    let task = tokio::spawn({
        let life = life.clone();
        async move { atmr::serve(component, &env, listeners, life).await }
    });
    assert!(life.ready().await, "{component} starts again");
    (life, task)
}

/// Waits up to `within` for `script` to be true in the page (a monitor's
/// interval and the page's poll are longer than `Browser::until`'s bound).
async fn until_within(b: &Browser, what: &str, script: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let v = b.client.execute(&format!("return Boolean({script});"), Vec::new()).await;
        if matches!(v, Ok(Value::Bool(true))) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what} ({script}); last answer {v:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The script that says whether monitor `name`'s row shows `state`.
fn row_is(name: &str, state: &str) -> String {
    format!("document.querySelector('tr[data-monitor=\"{name}\"]')?.dataset.state === '{state}'")
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn an_admin_watches_a_stopped_component_go_down_and_come_back_then_plans_maintenance_and_publishes_the_page() {
    let mut mesh = start_mesh_with(TestBackend::Sqlite, GATEWAY_ENV).await;
    let gw = mesh.gateway.url();
    let http = reqwest::Client::new();
    let token = admin_token(&http, &gw).await;
    let ids = watch_the_mesh(&mesh, &http, &token).await;
    // A check (interval), the page's poll (5 s), and margin for a loaded machine.
    let soon = Duration::from_secs(INTERVAL as u64 * 3 + 10);

    let admin = Browser::start(&gw, "en-GB").await;
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "en").await;
    admin.goto("/status").await;
    assert_eq!(admin.text("h1").await, "Status");
    for name in ["gateway", "dispatch", "safety", "bugs", "notify"] {
        until_within(&admin, &format!("{name} up"), &row_is(name, "up"), soon).await;
    }
    // The services sit under the gateway, the tree drawn by indentation.
    assert_eq!(admin.all("tr.depth-1").await.len(), 4);
    let first = admin.client.execute("return document.querySelector('tbody tr').dataset.monitor;", vec![]).await.unwrap();
    assert_eq!(first, json!("gateway"), "the parent first, its children under it");
    // A few checks on the bars for the picture.
    until_within(&admin, "three checks of bugs", "document.querySelectorAll('tr[data-monitor=\"bugs\"] rect.hb-up').length >= 3", soon)
        .await;
    admin.shot("status").await;

    // Bugs stops: the open page shows it down, without being reloaded.
    admin.client.execute("window.__notReloaded = true; return true;", vec![]).await.unwrap();
    let addr = stop(&mut mesh, Component::Bugs).await;
    until_within(&admin, "bugs down", &row_is("bugs", "down"), soon).await;
    assert_eq!(admin.client.execute("return window.__notReloaded === true;", vec![]).await.unwrap(), json!(true), "no navigation");
    assert!(!admin.all("tr[data-monitor=\"bugs\"] rect.hb-down").await.is_empty(), "a failed check in its bars");
    let summary = admin.text(".status-summary").await;
    assert!(summary.contains("Down"), "{summary}");
    admin.shot("status-down").await;

    // Started again on the same port: up again, the downtime still in its bars.
    let (life, task) = restart(&mesh, Component::Bugs, addr).await;
    until_within(&admin, "bugs up again", &row_is("bugs", "up"), soon).await;
    assert_eq!(admin.client.execute("return window.__notReloaded === true;", vec![]).await.unwrap(), json!(true), "no navigation");
    let cells = admin.all("tr[data-monitor=\"bugs\"] rect.hb-down").await;
    assert!(!cells.is_empty(), "the downtime stays in the bars");
    let hover = cells[0].find(fantoccini::Locator::Css("title")).await.unwrap().html(true).await.unwrap();
    assert!(hover.contains(" ms"), "a check's time, latency and message on hover: {hover}");

    // The monitor's page: the outage as an incident, with its downtime.
    admin.click("tr[data-monitor=\"bugs\"] td.mon-name a").await;
    admin.find("table.incidents tbody tr.incident").await;
    assert_eq!(admin.text("h1 .badge").await, "Up");
    let incident = admin.text("table.incidents tbody tr.incident").await;
    assert!(incident.contains(" s") || incident.contains(" min"), "the downtime is shown: {incident}");
    assert!(admin.all("tr.incident.ongoing").await.is_empty(), "it is over");
    let uptime = admin.text("#uptime-24h").await;
    assert!(!uptime.starts_with("100"), "the downtime counts against the day's uptime: {uptime}");
    assert!(!admin.all("figure.chart svg polyline, figure.chart svg circle").await.is_empty(), "the response-time chart");
    admin.shot("status-monitor").await;

    // A maintenance window for bugs: an end before the start is refused beside the end.
    admin.goto("/status").await;
    let set_times =
        "document.getElementById('start').value = arguments[0]; document.getElementById('end').value = arguments[1]; return true;";
    admin.find(&format!("#monitor_ids option[value='{}']", ids["bugs"])).await.click().await.unwrap();
    admin.client.execute(set_times, vec![json!("2030-01-07T23:00"), json!("2030-01-07T22:00")]).await.unwrap();
    admin.fill("#reason", "Database upgrade").await;
    admin.click("#maint-form button[type=submit]").await;
    admin.find("#end-error").await;
    assert!(admin.all("#end[aria-invalid=true]").await.len() == 1, "the end is marked for assistive technology");
    assert!(admin.all("#start-error").await.is_empty(), "only the end is blamed");
    assert!(!admin.all(&format!("#monitor_ids option[value='{}']:checked", ids["bugs"])).await.is_empty(), "the choice is kept");
    // From an hour ago for three hours (the browser's clock, in the company's zone here): under way at once.
    let local = "const p = n => String(n).padStart(2, '0'); \
                 const f = d => `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; \
                 return [f(new Date(Date.now() - 3600e3)), f(new Date(Date.now() + 2 * 3600e3))];";
    let times = admin.client.execute(local, vec![]).await.unwrap();
    admin.client.execute(set_times, vec![times[0].clone(), times[1].clone()]).await.unwrap();
    admin.click("#maint-form button[type=submit]").await;
    admin.find("#maint-outcome.ok").await;
    assert!(admin.text("ul.windows").await.contains("Database upgrade"), "listed");
    assert!(admin.text("ul.windows").await.contains("Under way"));
    until_within(&admin, "bugs in maintenance", &row_is("bugs", "maintenance"), soon).await;
    // Tall enough for the board and the window under way in one picture.
    admin.client.set_window_size(1280, 1400).await.unwrap();
    admin.client.execute("window.scrollTo(0, 0); return true;", vec![]).await.unwrap();
    admin.shot("status-maintenance").await;
    admin.client.set_window_size(1280, 720).await.unwrap();
    // Deleted after a confirmation.
    admin.click("ul.windows button.danger").await;
    admin.client.accept_alert().await.unwrap();
    admin.find("#maint-none").await;

    // The public page: a bad address is named beside its input, then published.
    admin.fill("#slug", "Acme Transport").await;
    admin.fill("#title", "Acme Transport").await;
    admin.click("#enabled").await;
    admin.click("#public-form button[type=submit]").await;
    admin.find("#slug-error").await;
    admin.fill("#slug", "acme-transport").await;
    admin.click("#public-form button[type=submit]").await;
    admin.find("#public-url a").await;
    assert_eq!(admin.text("#public-url a").await, "/status/acme-transport");

    // Anyone, not signed in, in French: the names and states, nothing else.
    let visitor = Browser::start(&gw, "fr-CH").await;
    visitor.goto("/status/acme-transport").await;
    visitor.find("ul.public-monitors li").await;
    assert_eq!(visitor.text("h1").await, "Acme Transport");
    assert_eq!(visitor.all("ul.public-monitors li").await.len(), 5);
    let text = visitor.text("main").await;
    assert!(text.contains("Opérationnel"), "in French: {text}");
    for hidden in ["127.0.0.1", " ms", ADMIN_EMAIL, ids["bugs"].as_str()] {
        assert!(!visitor.client.source().await.unwrap().contains(hidden), "the public page shows {hidden:?}");
    }
    assert!(visitor.all("header.top").await.is_empty(), "no navigation, no account");
    visitor.shot("status-public").await;
    visitor.close().await;
    admin.close().await;
    life.shutdown();
    task.await.unwrap().unwrap();
    assert!(screenshot_dir().join("status.png").is_file());
}

/// `GET` with the session's cookie: status and body.
async fn get(http: &reqwest::Client, url: String, cookie: &str) -> (u16, String) {
    let res = http.get(url).header("cookie", cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The page's CSRF token.
fn csrf_of(html: &str) -> String {
    let marker = "x-csrf-token&#34;:&#34;";
    let at = html.find(marker).expect("the page carries its csrf token") + marker.len();
    html[at..].split('&').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_status_pages_are_for_admins_their_forms_are_checked_and_the_public_page_shows_names_and_states_only() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, GATEWAY_ENV).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let token = admin_token(&http, &gw).await;
        let ids = watch_the_mesh(&mesh, &http, &token).await;
        let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
        let dispatcher = atmr_gateway::users::ensure_user(&db, "d@example.com", Role::Dispatcher, 1).await.unwrap().unwrap();
        let other_admin = atmr_gateway::users::ensure_user(&db, "admin@other.example", Role::Admin, 2).await.unwrap().unwrap();
        db.close().await.unwrap();

        // Who may open it.
        let anonymous = http.get(format!("{gw}/status")).send().await.unwrap();
        assert_eq!((anonymous.status().as_u16(), anonymous.headers()["location"].to_str().unwrap()), (303, "/login?next=%2Fstatus"));
        let d = sign_in(&http, &gw, "d@example.com", &dispatcher).await;
        assert_eq!(get(&http, format!("{gw}/status"), &d).await.0, 403, "{backend:?}: a dispatcher is refused");
        assert_eq!(get(&http, format!("{gw}/status/monitors/{}", ids["bugs"]), &d).await.0, 403);
        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, html) = get(&http, format!("{gw}/status"), &cookie).await;
        assert_eq!(status, 200, "{backend:?}: {html}");
        for name in ["gateway", "dispatch", "safety", "bugs", "notify"] {
            assert!(html.contains(&format!("data-monitor=\"{name}\"")), "{backend:?}: {name} listed");
        }
        assert!(html.contains("État des services"), "the admin signed in in French");
        let csrf = csrf_of(&html);
        let post = |path: &str, form: &[(&str, &str)], token: Option<&str>| {
            let mut req = http.post(format!("{gw}{path}")).header("cookie", &cookie).form(form);
            if let Some(t) = token {
                req = req.header("x-csrf-token", t);
            }
            req.send()
        };

        // The board's poll: 204 while nothing it draws changed (every monitor
        // paused: no check comes in), the board once something did.
        for id in ids.values() {
            let paused = http.post(format!("{gw}/api/monitors/{id}/pause")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(paused.status(), 200);
        }
        let version_of = |html: &str| html.split("data-version=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let poll = |v: String| {
            let (http, cookie, gw) = (&http, &cookie, &gw);
            async move { get(http, format!("{gw}/status/board?state=&q=&page=1&v={v}"), cookie).await }
        };
        let still = version_of(&get(&http, format!("{gw}/status/board"), &cookie).await.1);
        assert_eq!(poll(still.clone()).await.0, 204, "{backend:?}: nothing changed");
        let resume = format!("/status/monitors/{}/resume", ids["safety"]);
        assert_eq!(post(&resume, &[], None).await.unwrap().status(), 403, "no csrf token");
        let resumed = post(&resume, &[("page", "1")], Some(&csrf)).await.unwrap();
        assert_eq!(resumed.status(), 200);
        assert!(resumed.text().await.unwrap().contains("data-monitor=\"safety\" data-state=\"pending\""));
        let (status, board) = poll(still).await;
        assert_eq!(status, 200, "{backend:?}: the resumption is a change");
        assert!(
            board.contains("data-monitor=\"safety\" data-state=\"pending\"") || board.contains("data-monitor=\"safety\" data-state=\"up\"")
        );
        let paused = post(&format!("/status/monitors/{}/pause", ids["safety"]), &[], Some(&csrf)).await.unwrap();
        let now = version_of(&paused.text().await.unwrap());
        assert_eq!(poll(now).await.0, 204, "{backend:?}: nothing new since");
        let (status, filtered) = get(&http, format!("{gw}/status/board?state=paused&q=SAF"), &cookie).await;
        assert_eq!(status, 200);
        assert!(filtered.contains("data-monitor=\"safety\"") && !filtered.contains("data-monitor=\"bugs\""), "filtered by state and name");
        assert_eq!(get(&http, format!("{gw}/status/board?state=sideways"), &cookie).await.0, 400);

        // A maintenance window: a date that is not one, then an end before the start (notify's refusal), each beside its input.
        let bad = post("/status/maintenance", &[("start", "tomorrow"), ("end", "2030-01-07T23:00"), ("reason", "r")], Some(&csrf));
        let bad = bad.await.unwrap();
        assert_eq!(bad.status(), 422);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("id=\"start-error\"") && !bad.contains("id=\"end-error\""), "{backend:?}");
        let backwards = [("monitor_ids", ids["bugs"].as_str()), ("start", "2030-01-07T23:00"), ("end", "2030-01-07T22:00")];
        let backwards = post("/status/maintenance", &backwards, Some(&csrf)).await.unwrap();
        assert_eq!(backwards.status(), 422);
        let backwards = backwards.text().await.unwrap();
        assert!(backwards.contains("id=\"end-error\"") && backwards.contains("selected>bugs"), "the choice is kept: {backend:?}");
        let windows: Value =
            http.get(format!("{gw}/api/maintenance-windows")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(windows["items"].as_array().unwrap().len(), 0, "nothing saved");
        let form = [("monitor_ids", ids["bugs"].as_str()), ("monitor_ids", ids["notify"].as_str()), ("start", "2030-01-07T22:00")];
        let ok = post("/status/maintenance", &[&form[..], &[("end", "2030-01-07T23:30"), ("reason", "Mise à jour")]].concat(), Some(&csrf));
        let ok = ok.await.unwrap().text().await.unwrap();
        assert!(
            ok.contains("2030-01-07 22:00 – 2030-01-07 23:30") && ok.contains("Mise à jour"),
            "{backend:?}: listed in the company's time"
        );
        let windows: Value =
            http.get(format!("{gw}/api/maintenance-windows")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(windows["items"][0]["start_time"], "2030-01-07T21:00:00.000000Z", "22:00 in Zurich");
        assert_eq!(windows["items"][0]["monitor_ids"].as_array().unwrap().len(), 2);

        // The public page: off or unknown, the same 404; bad and taken addresses refused beside the input.
        let public = |slug: &str| http.get(format!("{gw}/status/{slug}")).send();
        let unknown = public("acme").await.unwrap();
        assert_eq!(unknown.status(), 404);
        let unknown = unknown.text().await.unwrap();
        for (slug, why) in [("Acme", "uptime-public-slug-format"), ("monitors", "reserved"), ("", "required")] {
            let refused = post("/status/public", &[("slug", slug), ("title", "Acme"), ("enabled", "on")], Some(&csrf)).await.unwrap();
            assert_eq!(refused.status(), 422, "{why}");
            assert!(refused.text().await.unwrap().contains("id=\"slug-error\""), "{why}");
        }
        let saved = post("/status/public", &[("slug", "acme"), ("title", "Acme Transport")], Some(&csrf)).await.unwrap();
        assert_eq!(saved.status(), 200);
        assert_eq!(public("acme").await.unwrap().text().await.unwrap(), unknown, "{backend:?}: saved but off: as unknown");
        let saved = post("/status/public", &[("slug", "acme"), ("title", "Acme Transport"), ("enabled", "on")], Some(&csrf)).await.unwrap();
        assert!(saved.text().await.unwrap().contains("href=\"/status/acme\""));
        let other = sign_in(&http, &gw, "admin@other.example", &other_admin).await;
        let other_csrf = csrf_of(&get(&http, format!("{gw}/status"), &other).await.1);
        let taken = http
            .post(format!("{gw}/status/public"))
            .header("cookie", &other)
            .header("x-csrf-token", &other_csrf)
            .form(&[("slug", "acme"), ("title", "Other"), ("enabled", "on")])
            .send()
            .await
            .unwrap();
        assert_eq!(taken.status(), 422, "{backend:?}: another company's address");
        assert!(taken.text().await.unwrap().contains("autre entreprise"), "said in the admin's French");

        // Without sign-in: the five names and their states, and nothing else of theirs.
        let page = public("acme?lang=en").await.unwrap();
        assert_eq!(page.status(), 200, "{backend:?}");
        let html = page.text().await.unwrap();
        assert_eq!(html.matches("<li data-state=").count(), 5, "{backend:?}");
        assert!(html.contains("<h1>Acme Transport</h1>"));
        let monitors: Value = http.get(format!("{gw}/api/monitors")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        for m in monitors["items"].as_array().unwrap() {
            assert!(html.contains(m["name"].as_str().unwrap()));
            for hidden in [&m["id"], &m["target"]] {
                assert!(!html.contains(hidden.as_str().unwrap()), "{backend:?}: the public page shows {hidden}");
            }
        }
        for hidden in [" ms", "127.0.0.1", ADMIN_EMAIL, "x-csrf-token", "/status/monitors/", "connection refused"] {
            assert!(!html.contains(hidden), "{backend:?}: the public page shows {hidden:?}");
        }

        // The same over REST: the settings, a taken slug (409) and a bad one (400, naming it); incidents.
        let put = |token: &str, body: Value| http.put(format!("{gw}/api/status-page")).bearer_auth(token).json(&body).send();
        let mine: Value = http.get(format!("{gw}/api/status-page")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(mine, json!({ "slug": "acme", "title": "Acme Transport", "enabled": true, "path": "/status/acme" }));
        let company2 = mesh.gateway.keys.issue("77", "admin@other.example", 2, Role::Admin, Duration::from_secs(300));
        let taken = put(&company2, json!({ "slug": "acme", "title": "Other", "enabled": true })).await.unwrap();
        assert_eq!(taken.status(), 409);
        assert_eq!(taken.json::<Value>().await.unwrap()["error"]["details"]["field"], "slug");
        let bad = put(&company2, json!({ "slug": "a", "title": "Other", "enabled": true })).await.unwrap();
        assert_eq!(bad.status(), 400);
        let off = put(&token, json!({ "slug": "acme", "title": "Acme Transport", "enabled": false })).await.unwrap();
        assert_eq!(off.status(), 200);
        assert_eq!(public("acme").await.unwrap().status(), 404, "turned off");
        let dispatcher_token = mesh.gateway.keys.issue("78", "d@example.com", 1, Role::Dispatcher, Duration::from_secs(300));
        assert_eq!(put(&dispatcher_token, json!({ "slug": "x-y-z", "title": "t", "enabled": true })).await.unwrap().status(), 403);
        let incidents = http.get(format!("{gw}/api/monitors/{}/incidents", ids["bugs"])).bearer_auth(&token).send().await.unwrap();
        assert_eq!(incidents.status(), 200);
        assert!(incidents.json::<Value>().await.unwrap()["items"].is_array());
        mesh.gateway.stop().await.unwrap();
    }
}

/// An anonymous visitor cannot make the gateway read notify on every
/// request (the company's monitors are remembered a few seconds), nor send
/// requests without end (their address spends the rate limit).
#[tokio::test]
async fn the_public_page_is_cached_and_rate_limited() {
    let env = [("ATMR_LOGIN_RATE_PER_MINUTE", "0"), ("ATMR_RATE_LIMIT_PER_MINUTE", "60"), ("ATMR_RATE_LIMIT_BURST", "12")];
    let mesh = start_mesh_with(TestBackend::Sqlite, &env).await;
    let gw = mesh.gateway.url();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Monitors straight through notify (the REST API shares the rate limit with the visitor).
    let notify = mesh.services.iter().find(|(c, _)| *c == Component::Notify).unwrap().1.url();
    let mut monitors = atmr_proto::notify::v1::monitor_service_client::MonitorServiceClient::connect(notify).await.unwrap();
    let admin = mesh.gateway.keys.issue("1", ADMIN_EMAIL, 1, Role::Admin, Duration::from_secs(300));
    let target = mesh.services.iter().find(|(c, _)| *c == Component::Bugs).unwrap().1.addr.to_string();
    let m = atmr_proto::notify::v1::Monitor {
        name: "bugs".into(),
        kind: atmr_proto::notify::v1::MonitorKind::GrpcHealth as i32,
        target,
        interval_seconds: 60,
        ..Default::default()
    };
    let req = atmr_proto::notify::v1::CreateMonitorRequest { monitor: Some(m) };
    let created = monitors.create_monitor(kit::grpc::request(req, &admin)).await.unwrap().into_inner().monitor.unwrap();
    let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = csrf_of(&get(&http, format!("{gw}/status"), &cookie).await.1);
    let form = [("slug", "acme"), ("title", "Acme"), ("enabled", "on")];
    let saved = http.post(format!("{gw}/status/public")).header("cookie", &cookie).header("x-csrf-token", &csrf).form(&form).send().await;
    assert_eq!(saved.unwrap().status(), 200);

    let first = http.get(format!("{gw}/status/acme?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(first.contains("data-state=\"pending\"") || first.contains("data-state=\"up\""), "{first}");
    // Paused in notify: the page still shows what it read a moment ago (not read again).
    let pause = atmr_proto::notify::v1::PauseMonitorRequest { monitor_id: created.id.clone() };
    monitors.pause_monitor(kit::grpc::request(pause, &admin)).await.unwrap();
    let again = http.get(format!("{gw}/status/acme?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains("data-state=\"paused\""), "remembered, not read again");

    // Hammered from one address: refused once its burst is spent.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(http.get(format!("{gw}/status/acme")).send().await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    mesh.gateway.stop().await.unwrap();
}
