//! The admin's autonomous-action and safety-limit pages against the mesh,
//! with real actions authorised and completed through safety with dispatch's
//! call token (as the autonomous manager does), naming a booking and drivers
//! dispatch knows. Over plain HTTP on both backends: the filters, the roles
//! refused, the review's CSRF token and its once-only rule, the stats, the
//! verification, and a bad limit named with nothing saved. In headless
//! Chromium: an admin reviews an action and sees it counted; a row changed
//! in safety's database is named by "verify the chain" (in French); a
//! reporter is refused.

use atmr_proto::safety::v1::{self as pb, safety_service_client::SafetyServiceClient};
use kit::{
    Component,
    auth::Role,
    testing::{TestBackend, backends},
};
use sea_orm::ConnectionTrait as _;

use crate::{
    browser::{Browser, screenshot_dir},
    console::sign_in,
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, start_mesh_with},
    seed::{FAR, NEAR, Seed},
};

const REPORTER: &str = "reporter@example.com";

/// The company's trail: actions on one booking between two named drivers.
struct Trail {
    mesh: Mesh,
    booking: i64,
    /// reassign (succeeded), swap (failed), delay (pending), reassign (succeeded).
    ids: [i64; 4],
    /// Attempts the limits refused (a reassign limit of 2 an hour, tried twice more).
    blocked: i64,
    reporter_password: String,
}

async fn trail(backend: TestBackend) -> Trail {
    let mesh = start_mesh_with(backend, &[]).await;
    let (_, dispatch) = mesh.services.iter().find(|(c, _)| *c == Component::Dispatch).expect("dispatch in the mesh");
    let seed = Seed { dispatch, now: chrono::Utc::now() };
    let from = seed.driver("Far Away", FAR.0, FAR.1).await;
    let to = seed.driver("Close By", NEAR.0, NEAR.1).await;
    let patient = seed.patient().await;
    let booking = seed.booking(patient, 0, 12, 46.211).await;

    let (_, safety) = mesh.services.iter().find(|(c, _)| *c == Component::Safety).expect("safety in the mesh");
    let mut client = SafetyServiceClient::connect(safety.url()).await.unwrap();
    let admin = safety.token(1, Role::Admin);
    let limits = pb::SafetyLimits {
        action_types: vec![pb::ActionTypeLimits { action_type: "reassign".into(), max_per_hour: Some(2), max_per_day: None }],
        ..Default::default()
    };
    client.set_limits(kit::grpc::request(pb::SetLimitsRequest { limits: Some(limits) }, &admin)).await.unwrap();
    let call = mesh.gateway.keys.call_token(Component::Dispatch, Component::Safety, 1);
    let act = |kind: &'static str, outcome: Option<bool>| {
        let (mut client, call) = (client.clone(), call.clone());
        async move {
            let data = serde_json::json!({ "kind": kind, "booking_id": booking, "from_driver_id": from, "to_driver_id": to });
            let req = pb::AuthorizeActionRequest {
                booking_id: Some(booking),
                driver_id: Some(to),
                action_type: kind.into(),
                action_description: format!("{kind} booking {booking}"),
                action_data: data.to_string(),
                confidence_score: Some(0.82),
                expected_improvement_minutes: Some(9.5),
                trigger_source: "autonomous_manager".into(),
            };
            let answer = client.authorize_action(kit::grpc::request(req, &call)).await.unwrap().into_inner();
            if let (true, Some(success)) = (answer.allowed, outcome) {
                let error_message = (!success).then(|| "the driver did not confirm".to_owned());
                let req = pb::CompleteActionRequest { action_id: answer.action_id, success, error_message, execution_time_ms: Some(140.0) };
                client.complete_action(kit::grpc::request(req, &call)).await.unwrap();
            }
            answer
        }
    };
    let mut ids = [0; 4];
    for (i, (kind, outcome)) in
        [("reassign", Some(true)), ("swap", Some(false)), ("delay", None), ("reassign", Some(true))].into_iter().enumerate()
    {
        let answer = act(kind, outcome).await;
        assert!(answer.allowed, "{kind} admitted");
        ids[i] = answer.action_id;
    }
    let mut blocked = 0;
    for _ in 0..2 {
        assert!(!act("reassign", Some(true)).await.allowed, "the third reassign of the hour is blocked");
        blocked += 1;
    }
    let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
    // Made a dispatcher, so it can sign in whatever page reporters land on;
    // `make_reporter` turns it into a reporter once it has its session.
    let reporter_password = atmr_gateway::users::ensure_user(&db, REPORTER, Role::Dispatcher, 1).await.unwrap().expect("a new account");
    db.close().await.unwrap();
    Trail { mesh, booking, ids, blocked, reporter_password }
}

/// The account `REPORTER` becomes a reporter in the gateway's database, its
/// session kept: what a reporter's session opens is then checked page by page.
async fn make_reporter(mesh: &Mesh) {
    let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
    db.execute_unprepared(&format!("UPDATE users SET role = 'reporter' WHERE email = '{REPORTER}'")).await.unwrap();
    db.close().await.unwrap();
}

/// The value after `marker` up to the next `"` or `&` in `html`.
fn after<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("{marker} in the page")) + marker.len();
    let rest = &html[start..];
    &rest[..rest.find(['"', '&']).unwrap_or(rest.len())]
}

/// The rows' action ids of a list page, in order.
fn rows(html: &str) -> Vec<i64> {
    html.match_indices("<tr data-action=\"").map(|(at, m)| after(&html[at..], m).parse().unwrap()).collect()
}

#[tokio::test]
async fn the_action_pages_filter_review_once_with_their_token_and_refuse_other_roles() {
    for backend in backends() {
        let t = trail(backend).await;
        let [first, swap, delay, second] = t.ids;
        let gw = t.mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let get = |path: String| {
            let (http, cookie, gw) = (&http, &cookie, &gw);
            async move {
                let res = http.get(format!("{gw}{path}")).header("cookie", cookie).send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };

        // The list, newest first, each row with its booking's patient and its drivers by name.
        let (status, all) = get("/admin/actions".into()).await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(rows(&all), [second, delay, swap, first], "{backend:?}");
        assert!(all.contains("4 actions correspondent"), "signed in in French");
        assert!(all.contains(&format!("#{} · A. Patient", t.booking)), "the booking by its patient's name");
        assert!(all.contains("Far Away → Close By"), "the drivers by name");
        assert!(all.contains("Course confiée à un autre chauffeur") && all.contains("140 ms"), "what was done, in words, and how long");
        let csrf = after(&all, "x-csrf-token&#34;:&#34;").to_owned();

        // Filters: by outcome, by type and review, by period; a bad day is named and nothing listed.
        assert_eq!(rows(&get("/admin/actions?status=failed".into()).await.1), [swap]);
        assert_eq!(rows(&get("/admin/actions?type=reassign&reviewed=no".into()).await.1), [second, first]);
        // Days in the company's zone: yesterday to tomorrow (UTC) holds today wherever it is.
        let today = chrono::Utc::now().date_naive();
        let (yesterday, tomorrow) = (today - chrono::Duration::days(1), today + chrono::Duration::days(1));
        assert_eq!(rows(&get(format!("/admin/actions?from={yesterday}&to={tomorrow}")).await.1).len(), 4);
        assert!(rows(&get(format!("/admin/actions?from={}", today + chrono::Duration::days(2))).await.1).is_empty());
        assert!(rows(&get(format!("/admin/actions?to={}", today - chrono::Duration::days(2))).await.1).is_empty());
        let (status, bad) = get("/admin/actions?from=2026-13-45".into()).await;
        assert_eq!(status, 400);
        assert!(bad.contains("id=\"from-error\"") && rows(&bad).is_empty(), "the bad day is named beside its input");
        let (status, paged) = get("/admin/actions?page=2".into()).await;
        assert_eq!((status, rows(&paged).len()), (200, 0), "one page holds the four");

        // A review without the page's token is refused and changes nothing.
        let review = |id: i64, notes: &str, token: Option<&str>| {
            let mut req = http.post(format!("{gw}/admin/actions/{id}/review")).header("cookie", &cookie).form(&[("notes", notes)]);
            if let Some(t) = token {
                req = req.header("x-csrf-token", t);
            }
            req.send()
        };
        assert_eq!(review(swap, "vu", None).await.unwrap().status(), 403);
        assert_eq!(review(swap, "vu", Some("not-the-token")).await.unwrap().status(), 403);
        assert!(get(format!("/admin/actions/{swap}")).await.1.contains("id=\"notes\""), "still to review");
        // Empty notes are safety's to refuse, named beside the box.
        let empty = review(swap, "  ", Some(&csrf)).await.unwrap();
        assert_eq!(empty.status(), 422);
        assert!(empty.text().await.unwrap().contains("id=\"notes-error\""));
        // Reviewed once; the detail then shows who, when and the notes, and no form.
        let done = review(swap, "Chauffeur injoignable, vérifié avec lui.", Some(&csrf)).await.unwrap();
        assert_eq!(
            (done.status().as_u16(), done.headers()["location"].to_str().unwrap()),
            (303, format!("/admin/actions/{swap}?reviewed=1").as_str())
        );
        let (_, detail) = get(format!("/admin/actions/{swap}?reviewed=1")).await;
        assert!(
            detail.contains("id=\"review-state\"") && detail.contains(ADMIN_EMAIL) && detail.contains("Chauffeur injoignable"),
            "{backend:?}"
        );
        assert!(!detail.contains("id=\"notes\""), "no second form");
        assert!(detail.contains("Revue enregistrée."));
        // The detail says what the action's data means and where it sits in the chain.
        assert!(detail.contains("Du chauffeur") && detail.contains("Far Away") && detail.contains("Au chauffeur"), "the data in words");
        assert!(detail.contains("Place prise") && detail.contains("60 dernières minutes"), "the windows it consumed");
        assert!(detail.contains("<code class=\"hash\">") && detail.contains("service:"), "its hashes and who authorised it");
        // A second review is safety's to refuse, and the page says so.
        let again = review(swap, "autre avis", Some(&csrf)).await.unwrap();
        assert_eq!(again.status(), 409);
        let again = again.text().await.unwrap();
        assert!(again.contains("id=\"review-outcome\"") && again.contains("déjà été revue") && !again.contains("autre avis"), "refused");
        assert_eq!(rows(&get("/admin/actions?reviewed=yes".into()).await.1), [swap], "the list counts it as reviewed");

        // The stats count it, and the blocked attempts, per bucket in SVG charts.
        let (status, stats) = get("/admin/actions/stats?by=hour&stack=type".into()).await;
        assert_eq!(status, 200);
        assert!(stats.contains("id=\"stat-reviewed\">1<") && stats.contains(&format!("id=\"stat-blocked\">{}<", t.blocked)), "{backend:?}");
        assert!(stats.contains("id=\"stat-total\">4<"));
        assert_eq!(stats.matches("<svg").count(), 4, "actions, blocked, success rate, by type");
        assert_eq!(get("/admin/actions/stats?by=year".into()).await.0, 400);

        // The chain verifies, with the review in it.
        let verify =
            |token: &str| http.post(format!("{gw}/admin/actions/verify")).header("cookie", &cookie).header("x-csrf-token", token).send();
        assert_eq!(verify("wrong").await.unwrap().status(), 403);
        let verified = verify(&csrf).await.unwrap().text().await.unwrap();
        assert!(verified.contains("data-intact=\"true\""), "{verified}");

        // Other roles are refused with the console's 403 page.
        let reporter = sign_in(&http, &gw, REPORTER, &t.reporter_password).await;
        assert_eq!(http.get(format!("{gw}/admin/actions")).header("cookie", &reporter).send().await.unwrap().status(), 403, "a dispatcher");
        make_reporter(&t.mesh).await;
        for path in ["/admin/actions", "/admin/actions/stats", &format!("/admin/actions/{first}"), "/admin/limits"] {
            let res = http.get(format!("{gw}{path}")).header("cookie", &reporter).send().await.unwrap();
            assert_eq!(res.status(), 403, "{path}");
            assert!(!res.text().await.unwrap().contains("data-action"), "nothing of the trail shown");
        }
        t.mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_long_trail_is_read_a_page_at_a_time_with_its_filters_kept() {
    for backend in backends() {
        let t = trail(backend).await;
        let (_, safety) = t.mesh.services.iter().find(|(c, _)| *c == Component::Safety).unwrap();
        let mut client = SafetyServiceClient::connect(safety.url()).await.unwrap();
        let roomy = pb::SafetyLimits { max_actions_per_hour: Some(1000), default_type_max_per_hour: Some(1000), ..Default::default() };
        client.set_limits(kit::grpc::request(pb::SetLimitsRequest { limits: Some(roomy) }, &safety.token(1, Role::Admin))).await.unwrap();
        let call = t.mesh.gateway.keys.call_token(Component::Dispatch, Component::Safety, 1);
        for i in 0..116 {
            let req = pb::AuthorizeActionRequest {
                action_type: if i % 2 == 0 { "delay" } else { "notify_dispatcher" }.into(),
                action_description: format!("action {i}"),
                trigger_source: "autonomous_manager".into(),
                ..Default::default()
            };
            assert!(client.authorize_action(kit::grpc::request(req, &call)).await.unwrap().into_inner().allowed);
        }
        let gw = t.mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let get = |path: &str| {
            let req = http.get(format!("{gw}{path}")).header("cookie", &cookie);
            async move { req.send().await.unwrap().text().await.unwrap() }
        };
        let first = get("/admin/actions").await;
        assert!(first.contains("120 actions correspondent") && first.contains("Page 1 / 3"), "{backend:?}");
        assert_eq!(rows(&first).len(), 50);
        let last = get("/admin/actions?page=3").await;
        assert_eq!(rows(&last).len(), 20, "{backend:?}");
        assert_eq!(*rows(&last).last().unwrap(), t.ids[0], "the oldest last");
        // 59 delays (58 and the trail's one): two pages, the filter carried by the pager.
        let delays = get("/admin/actions?type=delay").await;
        assert!(delays.contains("59 actions correspondent") && delays.contains("Page 1 / 2"), "{backend:?}");
        let next = delays[delays.find("rel=\"next\"").map(|i| delays[..i].rfind("href=\"").unwrap() + 6).unwrap()..]
            .split('"')
            .next()
            .unwrap()
            .replace("&#38;", "&");
        assert!(next.contains("type=delay") && next.contains("page=2"), "{next}");
        assert_eq!(rows(&get(&next).await).len(), 9, "{next}");
        t.mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_bad_limit_is_named_beside_its_input_and_nothing_is_saved() {
    for backend in backends() {
        let t = trail(backend).await;
        let gw = t.mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let page =
            || async { http.get(format!("{gw}/admin/limits")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap() };
        let before = page().await;
        let csrf = after(&before, "x-csrf-token&#34;:&#34;").to_owned();
        // The gauges: the company's two windows and each type's, as safety counts them.
        assert!(before.contains("<meter min=\"0\" max=\"50\" value=\"3\""), "3 counted actions of 50 this hour: {backend:?}");
        assert!(before.contains("<meter min=\"0\" max=\"2\" value=\"2\""), "the reassign hour is full");
        assert!(before.contains("value=\"reassign\"") && before.contains("id=\"t0_hour\" name=\"t0_hour\" value=\"2\""), "the override");
        let post = |form: &[(&str, &str)]| {
            http.post(format!("{gw}/admin/limits")).header("cookie", &cookie).header("x-csrf-token", &csrf).form(form).send()
        };
        let line = [("t0_name", "reassign"), ("t0_hour", "2"), ("t0_day", ""), ("t1_name", ""), ("t1_hour", ""), ("t1_day", "")];

        // Not a number: named by the console, nothing sent.
        let bad = post(&[&line[..], &[("company_hour", "beaucoup"), ("company_day", "400")]].concat()).await.unwrap();
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains("id=\"company_hour-error\"") && !html.contains("id=\"company_day-error\""), "only the bad input");
        assert!(html.contains("value=\"beaucoup\""), "what was typed is kept");
        // Negative: safety refuses it, naming the field, placed beside its input.
        let negative = post(&[&line[..], &[("company_hour", ""), ("company_day", "-4")]].concat()).await.unwrap();
        assert_eq!(negative.status(), 422);
        assert!(negative.text().await.unwrap().contains("id=\"company_day-error\""), "{backend:?}");
        // The same type twice: safety names the second line.
        let twice = post(&[&line[..], &[("t1_name", "reassign"), ("t1_day", "9")]].concat()).await.unwrap();
        assert!(twice.text().await.unwrap().contains("id=\"t1_name-error\""));
        let after_refusals = page().await;
        assert!(!after_refusals.contains("value=\"400\"") && !after_refusals.contains("value=\"-4\""), "nothing was saved");

        // A good form saves the overrides as a whole.
        let ok = post(&[&line[..], &[("company_hour", "30"), ("company_day", "")]].concat()).await.unwrap();
        assert_eq!((ok.status().as_u16(), ok.headers()["location"].to_str().unwrap()), (303, "/admin/limits?saved=1"));
        let saved = page().await;
        assert!(saved.contains("id=\"company_hour\" name=\"company_hour\" value=\"30\"") && saved.contains("max=\"30\""), "{backend:?}");
        t.mesh.gateway.stop().await.unwrap();
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn an_admin_reviews_an_action_and_sees_it_reviewed_and_counted() {
    let t = trail(TestBackend::Sqlite).await;
    let swap = t.ids[1];
    let ana = Browser::start(&t.mesh.gateway.url(), "en-GB").await;
    ana.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "en").await;

    ana.goto("/admin/actions").await;
    ana.find("tr[data-action]").await;
    assert!(ana.text("#actions-count").await.contains("4 actions match"));
    assert!(ana.text("tbody").await.contains("Far Away → Close By"));
    ana.shot("actions-list").await;

    // The failed swap, opened from the list, reviewed with a note.
    ana.click(&format!("tr[data-action='{swap}'] .review-state a")).await;
    ana.find("#notes").await;
    ana.fill("#notes", "The driver's phone was off; checked with him by radio.").await;
    ana.click(".review-form button[type=submit]").await;
    ana.find("#review-state").await;
    let state = ana.text("#review-state").await;
    assert!(state.contains(ADMIN_EMAIL) && state.contains("checked with him by radio"), "{state}");
    assert!(ana.all("#notes").await.is_empty(), "no second review form");
    // Tall enough for the whole detail: its data, windows and place in the chain.
    ana.client.set_window_size(1280, 1500).await.unwrap();
    ana.until("the chain's hashes", "document.querySelectorAll('table.chain code.hash').length === 4").await;
    ana.shot("actions-review").await;

    // The list marks it reviewed; the stats count it.
    ana.goto("/admin/actions?reviewed=yes").await;
    ana.find("tr[data-action]").await;
    assert_eq!(ana.all("tr[data-action]").await.len(), 1);
    assert!(ana.text(&format!("tr[data-action='{swap}'] .review-state")).await.contains("Reviewed"));
    ana.goto("/admin/actions/stats?by=hour").await;
    ana.find("#stat-reviewed").await;
    assert_eq!(ana.text("#stat-reviewed").await, "1");
    assert_eq!(ana.text("#stat-blocked").await, t.blocked.to_string());
    assert_eq!(ana.all("figure.chart svg").await.len(), 4);
    ana.client.set_window_size(1280, 1100).await.unwrap();
    ana.until("the charts at the new size", "document.querySelectorAll('figure.chart svg').length === 4").await;
    ana.shot("actions-stats").await;
    // Stacked by type instead, from the selector.
    ana.click(".segmented a[href*='stack=type']").await;
    ana.until("the chart by type", "location.search.includes('stack=type') && document.querySelectorAll('figure.chart svg').length === 4")
        .await;

    // The limits: gauges, then a bad value named beside its input.
    ana.client.set_window_size(1280, 1200).await.unwrap();
    ana.goto("/admin/limits").await;
    ana.find("table.gauges meter").await;
    ana.shot("limits").await;
    ana.fill("#company_day", "lots").await;
    ana.click("form[action='/admin/limits'] button[type=submit]").await;
    ana.find("#company_day-error").await;
    assert!(ana.all("#company_day[aria-invalid=true]").await.len() == 1);
    ana.client.execute("document.getElementById('company_day').scrollIntoView({block: 'center'});", Vec::new()).await.unwrap();
    ana.shot("limits-refused").await;
    ana.close().await;
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn verifying_the_chain_names_the_row_changed_in_the_database_and_a_reporter_is_refused() {
    let t = trail(TestBackend::Sqlite).await;
    let delay = t.ids[2];
    // Someone edits the pending action's description in safety's database.
    let db = kit::db::connect(t.mesh.db_url(Component::Safety)).await.unwrap();
    db.execute_unprepared(&format!("UPDATE autonomous_action SET action_description = 'nothing happened' WHERE id = {delay}"))
        .await
        .unwrap();
    let seq: i64 = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT chain_seq FROM autonomous_action WHERE id = {delay}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "chain_seq")
        .unwrap();
    db.close().await.unwrap();

    let ana = Browser::start(&t.mesh.gateway.url(), "fr-CH").await;
    ana.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "fr").await;
    ana.goto("/admin/actions").await;
    assert_eq!(ana.text("h1").await, "Actions autonomes");
    ana.click("#verify-chain").await;
    ana.find("#verify-outcome[data-intact=false]").await;
    let row = ana.text(&format!("#verify-outcome tr[data-break-action='{delay}']")).await;
    assert!(row.contains(&format!("Action #{delay}")) && row.contains(&seq.to_string()), "the row and its position: {row}");
    assert!(row.contains("Contenu modifié depuis son écriture"), "what is wrong, in French: {row}");
    ana.shot("actions-verify-broken").await;
    ana.close().await;

    // A reporter who opens the page is refused.
    let rita = Browser::start(&t.mesh.gateway.url(), "en-GB").await;
    rita.sign_in(REPORTER, &t.reporter_password, "en").await;
    make_reporter(&t.mesh).await;
    rita.goto("/admin/actions").await;
    rita.find("main p[role=alert]").await;
    assert!(rita.text("main p[role=alert]").await.contains("not allowed"), "the 403 page");
    assert!(rita.all("tr[data-action]").await.is_empty());
    rita.close().await;
    assert!(screenshot_dir().join("actions-verify-broken.png").is_file());
}
