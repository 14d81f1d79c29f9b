//! The web console: its sessions and CSRF checks over plain HTTP on both
//! backends, and a dispatcher's day in headless Chromium against the mesh with
//! the demo company's data.

use chrono::NaiveDate;
use kit::{
    Component,
    auth::Role,
    testing::{TestBackend, backends},
};
use serde_json::json;

use crate::{
    browser::{Browser, screenshot_dir},
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, start_mesh_with},
    seed::{FAR, NEAR, Seed},
};

const DISPATCHER: &str = "dispatcher@demo.example";
const SECOND_DISPATCHER: &str = "second@demo.example";

/// The mesh with the demo company (40 drivers, 500 bookings on `day`) and two
/// dispatchers; returns their passwords.
async fn demo_mesh(backend: TestBackend, day: NaiveDate) -> (Mesh, [String; 2]) {
    let mesh = start_mesh_with(backend, &[]).await;
    let db = kit::db::connect(mesh.db_url(Component::Dispatch)).await.unwrap();
    atmr_dispatch::demo::seed(&db, 1, day).await.unwrap();
    db.close().await.unwrap();
    let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
    let mut passwords = Vec::new();
    for email in [DISPATCHER, SECOND_DISPATCHER] {
        passwords.push(atmr_gateway::users::ensure_user(&db, email, Role::Dispatcher, 1).await.unwrap().expect("a new account"));
    }
    db.close().await.unwrap();
    (mesh, passwords.try_into().expect("two passwords"))
}

/// The value after `marker` up to the next `"` or `&` in `html`.
fn scrape<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("{marker} in the page")) + marker.len();
    let rest = &html[start..];
    &rest[..rest.find(['"', '&']).unwrap_or(rest.len())]
}

/// A `Set-Cookie` header's `name=value` part for `name`.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Signs in through the console's form; returns the session cookie (`name=value`).
pub(crate) async fn sign_in(http: &reqwest::Client, gw: &str, email: &str, password: &str) -> String {
    let form = http.get(format!("{gw}/login?lang=fr")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let login_cookie = set_cookie(&form, "atmr_login").expect("the sign-in form sets its double-submit cookie");
    let html = form.text().await.unwrap();
    assert!(html.contains("Connexion"), "the sign-in page is in French");
    let csrf = scrape(&html, "name=\"_csrf\" value=\"").to_owned();
    let res = http
        .post(format!("{gw}/login"))
        .header("cookie", &login_cookie)
        .form(&[("email", email), ("password", password), ("_csrf", &csrf), ("next", ""), ("lang", "fr")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed in");
    assert_eq!(res.headers()["location"], "/board");
    let cookie = set_cookie(&res, "atmr_session").expect("a session cookie");
    let header = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .find_map(|v| v.to_str().ok().filter(|v| v.starts_with("atmr_session=")))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(attr), "{header} has {attr}");
    }
    cookie
}

#[tokio::test]
async fn console_sessions_end_at_sign_out_or_deactivation_and_forms_need_their_token() {
    for backend in backends() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mesh = start_mesh_with(backend, &[]).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

        // Unknown visitors are sent to the sign-in page, coming back after.
        let res = http.get(format!("{gw}/board?day={day}")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login?next=%2Fboard%3Fday%3D2026%2D12%2D07");

        // The sign-in form refuses a post without its double-submit cookie.
        let forged = http
            .post(format!("{gw}/login"))
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("_csrf", "guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert!(set_cookie(&forged, "atmr_session").is_none());

        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let board = http.get(format!("{gw}/board?day={day}")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(board.status(), 200);
        let h = board.headers().clone();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        let html = board.text().await.unwrap();
        assert!(!html.contains("<script>") && !html.contains(" style="), "no inline script or style");
        let csrf = scrape(&html, "x-csrf-token&#34;:&#34;").to_owned();
        assert_eq!(csrf.len(), 43, "the page carries the session's csrf token");

        // A state-changing request without the token is refused, and changes nothing.
        let plan = |token: Option<&str>| {
            let mut req = http.post(format!("{gw}/board/plan")).header("cookie", &cookie).form(&[("day", "2026-12-07"), ("mode", "full")]);
            if let Some(t) = token {
                req = req.header("x-csrf-token", t);
            }
            req.send()
        };
        assert_eq!(plan(None).await.unwrap().status(), 403);
        assert_eq!(plan(Some("not-the-token")).await.unwrap().status(), 403);

        // Signed out: the same cookie opens nothing.
        let out = http.post(format!("{gw}/logout")).header("cookie", &cookie).header("x-csrf-token", &csrf).send().await.unwrap();
        assert_eq!(out.status(), 303);
        let again = http.get(format!("{gw}/board")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(again.status(), 303, "the old cookie is refused after sign-out");

        // A deactivated account's session ends as its tokens do.
        let admin_token = {
            let res = http
                .post(format!("{gw}/api/auth/login"))
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
                .await
                .unwrap();
            res.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        };
        let created = http
            .post(format!("{gw}/api/admin/users"))
            .bearer_auth(&admin_token)
            .json(&json!({"email": "ana@example.com", "password": "ana-password-long", "role": "dispatcher"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let ana_id = created.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
        let ana = sign_in(&http, &gw, "ana@example.com", "ana-password-long").await;
        assert_eq!(http.get(format!("{gw}/board")).header("cookie", &ana).send().await.unwrap().status(), 200);
        let off = http.delete(format!("{gw}/api/admin/users/{ana_id}")).bearer_auth(&admin_token).send().await.unwrap();
        assert!(off.status().is_success(), "{}", off.status());
        assert_eq!(http.get(format!("{gw}/board")).header("cookie", &ana).send().await.unwrap().status(), 303, "deactivated");
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn a_dispatcher_plans_the_demo_day_in_french_and_another_session_sees_it_live() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let (mesh, [password, second]) = demo_mesh(TestBackend::Sqlite, day).await;
    let gw = mesh.gateway.url();

    let ana = Browser::start(&gw, "fr-CH").await;
    ana.sign_in(DISPATCHER, &password, "fr").await;
    ana.goto(&format!("/board?day={day}")).await;
    assert!(ana.text("h1").await.starts_with("Tableau lundi 7 décembre 2026"), "the board in French");
    assert_eq!(ana.all("rect.trip").await.len(), 0, "nothing planned yet");
    assert!(ana.text("#waiting h2").await.contains("(500)"));

    // A second dispatcher watches the same day.
    let tom = Browser::start(&gw, "en-GB").await;
    tom.sign_in(SECOND_DISPATCHER, &second, "en").await;
    tom.goto(&format!("/board?day={day}")).await;
    tom.until("the live stream", "document.querySelector('[sse-connect]') !== null").await;

    ana.click("form.plan button[value=full]").await;
    ana.until("the run's progress", "document.querySelector('.plan-progress, .plan-result') !== null").await;
    ana.shot("board-planning").await;
    ana.find(".plan-result .flash.ok").await;
    let summary = ana.text(".plan-result .flash.ok").await;
    assert!(summary.contains("/ 500"), "{summary}");
    ana.until("the board filled", "document.querySelectorAll('rect.trip').length > 300").await;
    ana.shot("board").await;
    // A 10-inch tablet held upright: the same board, the side panel below.
    ana.client.set_window_size(800, 1280).await.unwrap();
    ana.until("the board at tablet width", "document.querySelectorAll('rect.trip').length > 300").await;
    ana.shot("board-tablet").await;
    ana.client.set_window_size(1280, 720).await.unwrap();

    // The other session was not reloaded, yet shows the plan.
    tom.until("the change pushed to the second session", "document.querySelectorAll('rect.trip').length > 300").await;
    tom.shot("board-live-en").await;

    // A trip's panel opens from the board.
    ana.click("rect.trip").await;
    ana.find(".trip-panel h2").await;
    assert!(ana.text(".trip-panel h2").await.starts_with("Course #"));
    ana.shot("board-trip-panel").await;

    // The day's manifests: one sheet per driver, stops in order, a print button.
    ana.goto(&format!("/manifest?day={day}")).await;
    assert!(ana.text("h1").await.starts_with("Feuilles de route"));
    ana.shot("manifests").await;
    ana.click("table.list tbody a").await;
    ana.find("table.sheet tbody tr").await;
    assert!(!ana.all("table.sheet tbody tr.pickup").await.is_empty(), "the sheet lists the driver's pickups");
    assert!(ana.all("[data-print]").await.len() == 1, "the sheet has its print button");
    ana.shot("manifest").await;

    // The map draws the day's stops and routes without any tile server.
    ana.goto(&format!("/map?day={day}")).await;
    ana.until("the stops drawn", "document.querySelectorAll('svg.map circle').length > 500").await;
    assert!(ana.all("svg.map polyline").await.len() > 10, "the drivers' routes are drawn");
    ana.shot("map").await;

    // Bookings: the day's list, then a CSV with one bad row imports nothing and names that row.
    ana.goto(&format!("/bookings?day={day}")).await;
    assert!(ana.text(".counts").await.contains("500"), "the day's 500 bookings");
    ana.shot("bookings").await;
    let csv = tempfile::NamedTempFile::with_suffix(".csv").unwrap();
    std::fs::write(
        csv.path(),
        format!(
            "patient_id,day,pickup_from,pickup_until,dropoff_address,dropoff_lat,dropoff_lon\n\
             1,{day},08:00,08:15,Hôpital cantonal,46.193,6.149\n\
             2,{day},25:00,09:15,Hôpital cantonal,46.193,6.149\n"
        ),
    )
    .unwrap();
    ana.find("#import-file").await.send_keys(&csv.path().display().to_string()).await.unwrap();
    ana.click(".import button[type=submit]").await;
    ana.find("#import-outcome .problems li").await;
    let problems = ana.text("#import-outcome").await;
    assert!(problems.contains("Ligne 3, pickup_from"), "the bad row is named by line and column: {problems}");
    assert!(!problems.contains("Ligne 2"), "the good row is not blamed: {problems}");
    assert!(ana.text(".counts").await.contains("500"), "nothing was imported");
    ana.shot("bookings-import-refused").await;

    // A booking form without its pickup times says so next to those fields, and saves nothing.
    ana.goto(&format!("/bookings/new?day={day}")).await;
    ana.find("#client_id option[value='1']").await.click().await.unwrap();
    ana.fill("#dropoff_address", "Hôpital cantonal").await;
    ana.fill("#dropoff_lat", "46,193").await;
    ana.fill("#dropoff_lon", "6.149").await;
    ana.click("form button[type=submit]").await;
    ana.find("#pickup_latest-error").await;
    assert!(ana.all("#pickup_latest[aria-invalid=true]").await.len() == 1, "the field is marked for assistive technology");
    ana.shot("booking-form-errors").await;

    // Patients and drivers.
    ana.goto("/clients?q=a").await;
    ana.find("table.list tbody tr").await;
    ana.shot("patients").await;
    ana.goto("/drivers").await;
    assert!(ana.text(".counts").await.contains("40"), "the demo's 40 drivers");

    ana.close().await;
    tom.close().await;
    assert!(screenshot_dir().join("board.png").is_file());
}

/// A `multipart/form-data` body with the list's `day` and one file, and its content type.
fn multipart(day: &str, csv: &str) -> (String, String) {
    let boundary = "atmr-test-boundary-7d1c";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"day\"\r\n\r\n{day}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"day.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --{boundary}--\r\n"
    );
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test]
async fn console_forms_save_whole_records_or_nothing_and_name_what_is_wrong() {
    for backend in backends() {
        let day = "2026-12-07";
        let mesh = start_mesh_with(backend, &[("ATMR_MAP_TILES_URL", "https://tiles.example.org/osm/{z}/{x}/{y}.png")]).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let page = |path: String| {
            let (http, cookie, gw) = (&http, &cookie, &gw);
            async move {
                let res = http.get(format!("{gw}{path}")).header("cookie", cookie).send().await.unwrap();
                assert_eq!(res.status(), 200, "{path}");
                res.text().await.unwrap()
            }
        };
        let csrf = scrape(&page("/clients".into()).await, "x-csrf-token&#34;:&#34;").to_owned();
        let post = |path: &str, form: &[(&str, &str)]| {
            http.post(format!("{gw}{path}")).header("cookie", &cookie).header("x-csrf-token", &csrf).form(form).send()
        };

        // A patient form with a bad coordinate: 422, the error beside that field, nothing saved.
        let patient =
            [("name", "Anne Martin"), ("phone", "+41 79 555 01 02"), ("address", "Rue du Lac 3, 1800 Vevey"), ("mobility", "wheelchair")];
        let bad = post("/clients", &[&patient[..], &[("lat", "46,46"), ("lon", "east")]].concat()).await.unwrap();
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains("id=\"lon-error\"") && !html.contains("id=\"lat-error\""), "only the bad field is marked");
        assert!(page("/clients".into()).await.contains("Aucun patient"), "nothing saved");
        // Corrected (a decimal comma is fine), it is saved.
        let ok = post("/clients", &[&patient[..], &[("lat", "46,46"), ("lon", "6.84")]].concat()).await.unwrap();
        assert_eq!(ok.status(), 303);
        let list = page("/clients".into()).await;
        let id = scrape(&list, "<td class=\"actions\"><a href=\"/clients/").split('/').next().unwrap().to_owned();
        assert!(list.contains("Anne Martin") && list.contains("Fauteuil roulant"), "listed with its mobility");

        // A booking refused by dispatch (drop-off latitude out of range) shows the refusal beside the field.
        let booking = [
            ("client_id", id.as_str()),
            ("day", day),
            ("pickup_earliest", "08:00"),
            ("pickup_latest", "08:20"),
            ("dropoff_address", "Hôpital Riviera"),
            ("dropoff_lon", "6.90"),
        ];
        let refused = post("/bookings", &[&booking[..], &[("dropoff_lat", "146.5")]].concat()).await.unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("id=\"dropoff_lat-error\""),
            "dispatch's refusal lands on its field: {}",
            &html[html.find("<main").unwrap()..][..1500]
        );
        let created = post("/bookings", &[&booking[..], &[("dropoff_lat", "46.47")]].concat()).await.unwrap();
        assert_eq!(created.status(), 303, "the patient's home is the pickup");
        assert!(page(format!("/bookings?day={day}")).await.contains("Rue du Lac 3, 1800 Vevey"));

        // An import with one row dispatch refuses (an unknown patient) imports nothing and names that row.
        let header = "patient_id,day,pickup_from,pickup_until,dropoff_address,dropoff_lat,dropoff_lon,notes";
        let csv = format!(
            "{header},pickup_address,pickup_lat,pickup_lon\n\
             {id},{day},09:00,09:15,CHUV,46.525,6.642,,Gare de Vevey,46.463,6.843\n\
             999999,{day},10:00,10:15,CHUV,46.525,6.642,\"second, quoted\",Gare de Vevey,46.463,6.843\n"
        );
        let (body, content_type) = multipart(day, &csv);
        let import = |body: String| {
            http.post(format!("{gw}/bookings/import"))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .header("content-type", &content_type)
                .body(body)
                .send()
        };
        let html = import(body).await.unwrap().text().await.unwrap();
        let outcome = html.find("import-outcome").map_or("", |i| &html[i..][..600.min(html.len() - i)]);
        assert!(html.contains("Ligne 3, patient_id"), "the refused row is named by line and column: {outcome}");
        // Two rows dispatch refuses: both named.
        let csv = format!(
            "{header},pickup_address,pickup_lat,pickup_lon\n\
             999998,{day},09:00,09:15,CHUV,46.525,6.642,,Gare de Vevey,46.463,6.843\n\
             {id},{day},09:30,09:45,CHUV,46.525,6.642,,Gare de Vevey,46.463,6.843\n\
             999999,{day},10:00,10:15,CHUV,46.525,6.642,,Gare de Vevey,46.463,6.843\n"
        );
        let html = import(multipart(day, &csv).0).await.unwrap().text().await.unwrap();
        assert!(html.contains("Ligne 2, patient_id") && html.contains("Ligne 4, patient_id"), "every refused row is named");
        assert!(!html.contains("Ligne 3,"), "the good row is not blamed");
        assert!(page(format!("/bookings?day={day}")).await.contains("Une réservation"), "nothing was imported");
        // Rows the console cannot read are all named, and nothing goes to dispatch.
        let csv = format!("{header}\n{id},{day},9h,09:15,CHUV,46.525,6.642,\n{id},{day},10:00,10:15,CHUV,north,6.642,\n");
        let html = import(multipart(day, &csv).0).await.unwrap().text().await.unwrap();
        assert!(html.contains("Ligne 2, pickup_from") && html.contains("Ligne 3, dropoff_lat"), "every bad row is named");
        // A clean file is imported whole.
        let csv = format!("{header}\n{id},{day},09:00,09:15,CHUV,46.525,6.642,\n{id},{day},16:00,16:15,Rue du Lac 3,46.46,6.84,retour\n");
        let html = import(multipart(day, &csv).0).await.unwrap().text().await.unwrap();
        assert!(html.contains("2 réservations importées"), "imported");
        assert!(page(format!("/bookings?day={day}")).await.contains("3 réservations"));

        // A recurring trip without a weekday is refused beside the days; with them it is kept.
        let template = [
            ("client_id", id.as_str()),
            ("pickup_earliest", "07:00"),
            ("pickup_latest", "07:20"),
            ("return_earliest", "11:00"),
            ("return_latest", "11:30"),
            ("valid_from", day),
            ("dropoff_address", "Centre de dialyse"),
            ("dropoff_lat", "46.47"),
            ("dropoff_lon", "6.85"),
        ];
        let refused = post("/templates", &template).await.unwrap();
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("id=\"wd1-error\""), "the days are named");
        let kept = post("/templates", &[&template[..], &[("wd1", "on"), ("wd3", "on"), ("wd5", "on")]].concat()).await.unwrap();
        assert_eq!(kept.status(), 303);
        assert!(page("/templates".into()).await.contains("lundi, mercredi, vendredi"));
        // Generating the Monday creates the trip and its return, once.
        let generate = || post("/templates/generate", &[("day", day)]);
        let first = generate().await.unwrap().text().await.unwrap();
        assert!(first.contains("2 réservations créées, 0 déjà présentes"), "{first}");
        let again = generate().await.unwrap().text().await.unwrap();
        assert!(again.contains("aucune nouvelle réservation, 2 déjà présentes"), "{again}");
        assert!(page(format!("/bookings?day={day}")).await.contains("5 réservations"));

        // With a tile server configured, the map draws its tiles and only that page may load them.
        let map = http.get(format!("{gw}/map?day={day}")).header("cookie", &cookie).send().await.unwrap();
        let csp = map.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("img-src 'self' data: https://tiles.example.org;"), "{csp}");
        assert!(map.text().await.unwrap().contains("<image href=\"https://tiles.example.org/osm/"), "tiles behind the map");
        let bookings = http.get(format!("{gw}/bookings?day={day}")).header("cookie", &cookie).send().await.unwrap();
        assert!(
            !bookings.headers()["content-security-policy"].to_str().unwrap().contains("tiles.example.org"),
            "other pages keep the strict policy"
        );
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn a_dispatcher_drags_a_trip_where_it_does_not_fit_forces_it_with_a_reason_then_accepts_a_suggestion() {
    let mesh = start_mesh_with(TestBackend::Sqlite, &[]).await;
    let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
    let password = atmr_gateway::users::ensure_user(&db, DISPATCHER, Role::Dispatcher, 1).await.unwrap().expect("a new account");
    db.close().await.unwrap();
    let (_, dispatch) = mesh.services.iter().find(|(c, _)| *c == Component::Dispatch).expect("dispatch in the mesh");
    // A trip whose window closes in 12 minutes near Geneva's station; one
    // driver in Lausanne, one next to the station; the company's day at
    // midday whenever this runs (the shifts end at 23:59).
    let seed = Seed { dispatch, now: chrono::Utc::now() };
    seed.at_midday().await;
    let far = seed.driver("Far Away", FAR.0, FAR.1).await;
    let near = seed.driver("Close By", NEAR.0, NEAR.1).await;
    let patient = seed.patient().await;
    let booking = seed.booking(patient, 0, 12, 46.211).await;

    let ana = Browser::start(&mesh.gateway.url(), "fr-CH").await;
    ana.sign_in(DISPATCHER, &password, "fr").await;
    ana.goto("/board").await;
    // Dragged onto the driver in Lausanne, who cannot make the window: refused, the rule said in French.
    ana.drag(&format!("#waiting [data-booking='{booking}']"), &format!("g.row[data-driver='{far}'] text.driver")).await;
    ana.find(".trip-panel .violations li").await;
    let refused = ana.text(".trip-panel").await;
    assert!(refused.contains("rien n'a été déplacé"), "{refused}");
    ana.shot("board-reassign-refused").await;
    // Forced, with a reason, which the panel then shows with its author.
    ana.find(&format!("#driver_id option[value='{far}']")).await.click().await.unwrap();
    ana.fill("#reason", "Le patient demande ce chauffeur").await;
    ana.click("form.reassign button.danger").await;
    ana.until("the forced assignment's reason", "document.querySelector('.trip-panel dd.forced') !== null").await;
    let forced = ana.text(".trip-panel dd.forced").await;
    assert!(forced.contains("Le patient demande ce chauffeur") && forced.contains(DISPATCHER), "{forced}");
    ana.shot("board-forced").await;

    // The manager, in suggest mode, proposes the driver next to the station; the dispatcher accepts.
    seed.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;
    seed.settings(atmr_proto::dispatch::v1::AutonomyMode::Suggest).await;
    ana.goto("/autonomy").await;
    ana.click(".list-head button").await;
    ana.find("tr[data-suggestion] td").await;
    assert!(ana.text("tbody").await.contains("Close By"), "the suggestion names the near driver");
    ana.shot("autonomy").await;
    ana.click("tr[data-suggestion] td.actions button:not(.secondary)").await;
    ana.until("the acceptance said", "document.querySelector('#autonomy-outcome.ok')?.textContent.includes('acceptée')").await;
    assert!(ana.all("tr[data-suggestion]").await.is_empty(), "no suggestion left to decide");
    ana.shot("autonomy-accepted").await;
    let mut client = atmr_proto::dispatch::v1::dispatch_service_client::DispatchServiceClient::connect(dispatch.url()).await.unwrap();
    let req = kit::grpc::request(atmr_proto::dispatch::v1::GetBookingRequest { booking_id: booking }, &dispatch.token(1, Role::Dispatcher));
    let now = client.get_booking(req).await.unwrap().into_inner();
    assert_eq!(now.assignment.unwrap().driver_id, near, "the accepted suggestion moved the trip");
    ana.close().await;
}
