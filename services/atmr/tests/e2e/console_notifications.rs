//! The outbox and its channels in the console (`/admin/notifications`, in the
//! manner of Flower): over plain HTTP on both backends, every change needs the
//! session's CSRF token, a channel URL notify's egress policy refuses is named
//! beside its input with nothing written, a bad filter or route is named
//! beside its input, and a dispatcher is refused; in headless Chromium, an
//! admin creates a webhook channel and tests it while the webhook answers
//! 500, sees the tests dead with their attempts, fixes the webhook, replays
//! the dead ones through a confirmation that names how many, and sees them
//! delivered; routing rules are added and disabled; the outbox in French.

use std::sync::{
    Arc,
    atomic::{AtomicU16, AtomicUsize, Ordering},
};

use kit::{
    auth::Role,
    testing::{TestBackend, backends},
};
use serde_json::Value;

use crate::{
    browser::{Browser, screenshot_dir},
    console::sign_in,
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, admin_token, start_mesh_configured},
};

/// notify gives up after two attempts, retried within a tenth of a second,
/// and looks for due notifications often: a notification is dead in moments.
const NOTIFY_FAST: &[(&str, &str)] =
    &[("NOTIFY_MAX_ATTEMPTS", "2"), ("NOTIFY_BACKOFF_BASE_MS", "50"), ("NOTIFY_BACKOFF_MAX_SECS", "1"), ("NOTIFY_POLL_MS", "50")];

/// A webhook receiver on 127.0.0.1 (which the test mesh's egress policy
/// allows) answering every request with the status the test sets.
struct Hook {
    url: String,
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
}

impl Hook {
    async fn start(status: u16) -> Self {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (status, hits) = (Arc::new(AtomicU16::new(status)), Arc::new(AtomicUsize::new(0)));
        let (answer, counted) = (status.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (answer, counted) = (answer.clone(), counted.clone());
                tokio::spawn(async move {
                    // The whole request (headers, then the body its length says) before answering.
                    let mut got = Vec::new();
                    let mut buf = [0u8; 8192];
                    loop {
                        let Ok(n) = stream.read(&mut buf).await else { return };
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&got);
                        let Some(end) = text.find("\r\n\r\n") else { continue };
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + length {
                            break;
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let code = answer.load(Ordering::SeqCst);
                    let reply = format!("HTTP/1.1 {code} Test\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        Self { url, status, hits }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// The session's CSRF token, as the page carries it for htmx.
fn csrf_of(html: &str) -> String {
    let marker = "x-csrf-token&#34;:&#34;";
    let start = html.find(marker).expect("the page carries the csrf token") + marker.len();
    html[start..].split('&').next().unwrap().to_owned()
}

/// The company's channels and routes over REST: what was written.
async fn written(http: &reqwest::Client, gw: &str, token: &str) -> (Vec<Value>, Vec<Value>) {
    let get = |path: &str| http.get(format!("{gw}{path}")).bearer_auth(token).send();
    let channels: Value = get("/api/notification-channels").await.unwrap().json().await.unwrap();
    let routes: Value = get("/api/notification-routes").await.unwrap().json().await.unwrap();
    (channels["items"].as_array().unwrap().clone(), routes["items"].as_array().unwrap().clone())
}

#[tokio::test]
async fn console_channel_forms_need_their_token_and_name_a_refused_url_beside_it_writing_nothing() {
    for backend in backends() {
        let mesh: Mesh = start_mesh_configured(backend, &[], NOTIFY_FAST).await;
        let gw = mesh.gateway.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let token = admin_token(&http, &gw).await;
        let cookie = sign_in(&http, &gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let get = |path: &str| http.get(format!("{gw}{path}")).header("cookie", &cookie).send();
        let page = get("/admin/notifications/channels").await.unwrap();
        assert_eq!(page.status(), 200, "{backend:?}");
        let html = page.text().await.unwrap();
        assert!(html.contains("Canaux et routage") && html.contains("Journal (intégré)"), "in French, with the built-in log");
        let csrf = csrf_of(&html);
        let post = |path: &str, token: Option<&str>, form: &[(&str, &str)]| {
            let mut req = http.post(format!("{gw}{path}")).header("cookie", &cookie).form(form);
            if let Some(t) = token {
                req = req.header("x-csrf-token", t);
            }
            req.send()
        };
        let hook = Hook::start(204).await;
        let channel = [("name", "Ops webhook"), ("kind", "webhook"), ("url", hook.url.as_str())];

        // Without the session's token, or with another, nothing is written.
        assert_eq!(post("/admin/notifications/channels", None, &channel).await.unwrap().status(), 403);
        assert_eq!(post("/admin/notifications/channels", Some("not-the-token"), &channel).await.unwrap().status(), 403);
        assert_eq!(post("/admin/notifications/routes", None, &[("min_severity", "error")]).await.unwrap().status(), 403);
        assert_eq!(written(&http, &gw, &token).await, (vec![], vec![]), "{backend:?}: nothing written without the token");

        // A private address: notify's egress policy refuses it, said beside the URL; nothing written.
        let private = [("name", "Ops webhook"), ("kind", "webhook"), ("url", "http://10.0.0.7/hook"), ("secret", "s3cret-key")];
        let refused = post("/admin/notifications/channels", Some(&csrf), &private).await.unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        let beside = html.split("id=\"url-error\">").nth(1).expect("an error beside the URL").split('<').next().unwrap();
        assert!(beside.contains("notify refuse cette adresse : elle est privée"), "the policy's refusal, in French: {beside}");
        assert!(!html.contains("id=\"name-error\"") && !html.contains("s3cret-key"), "only the URL is marked; the secret is not sent back");
        assert!(html.contains("value=\"http://10.0.0.7/hook\""), "what was typed is kept");
        // Not a URL at all: said beside it too.
        let malformed =
            post("/admin/notifications/channels", Some(&csrf), &[("name", "Ops"), ("kind", "webhook"), ("url", "ops hook")]).await.unwrap();
        assert_eq!(malformed.status(), 422);
        assert!(malformed.text().await.unwrap().contains("Saisissez une URL complète"));
        // An email channel without an SMTP server: notify's precondition, above the form.
        let email = post(
            "/admin/notifications/channels",
            Some(&csrf),
            &[("name", "Ops mail"), ("kind", "email"), ("recipients", "ops@example.com")],
        )
        .await
        .unwrap();
        assert_eq!(email.status(), 422);
        assert!(email.text().await.unwrap().contains("NOTIFY_SMTP_HOST"));
        assert_eq!(written(&http, &gw, &token).await, (vec![], vec![]), "{backend:?}: nothing written by refused forms");

        // Corrected, it is saved; its secret is never shown back.
        let saved = post(
            "/admin/notifications/channels",
            Some(&csrf),
            &[("name", "Ops webhook"), ("kind", "webhook"), ("url", &hook.url), ("secret", "s3cret-key")],
        )
        .await
        .unwrap();
        assert_eq!(saved.status(), 303);
        let (channels, _) = written(&http, &gw, &token).await;
        assert_eq!((channels.len(), &channels[0]["has_secret"]), (1, &Value::Bool(true)));
        let id = channels[0]["id"].as_str().unwrap().to_owned();
        let edit = get(&format!("/admin/notifications/channels/{id}/edit")).await.unwrap().text().await.unwrap();
        assert!(!edit.contains("s3cret-key") && edit.contains("Ce webhook a un secret"), "only that it has one");

        // A route with a bad event type is named beside it; nothing written.
        let route = [("event_type", "Bugs Regression"), ("min_severity", "error"), ("channel_id", id.as_str())];
        let refused = post("/admin/notifications/routes", Some(&csrf), &route).await.unwrap();
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("id=\"event_type-error\""));
        assert!(written(&http, &gw, &token).await.1.is_empty(), "{backend:?}: no route written");

        // A bad period is named beside its input; the replay with nothing dead says so.
        let bad = get("/admin/notifications?from=7%20d%C3%A9c").await.unwrap();
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("id=\"from-error\""));
        let confirm = get("/admin/notifications/replay").await.unwrap().text().await.unwrap();
        assert!(confirm.contains("Aucune notification morte ne correspond"), "nothing to replay");

        // A dispatcher is refused the pages.
        let db = kit::db::connect(mesh.gateway_db_url()).await.unwrap();
        let password =
            atmr_gateway::users::ensure_user(&db, "disp@demo.example", Role::Dispatcher, 1).await.unwrap().expect("a new account");
        db.close().await.unwrap();
        let dispatcher = sign_in(&http, &gw, "disp@demo.example", &password).await;
        for path in ["/admin/notifications", "/admin/notifications/channels"] {
            let res = http.get(format!("{gw}{path}")).header("cookie", &dispatcher).send().await.unwrap();
            assert_eq!(res.status(), 403, "{path}");
        }
    }
}

/// The id of the channel row named `name` on the channels page.
async fn channel_row(b: &Browser, name: &str) -> String {
    b.until(
        "the channel listed",
        &format!("[...document.querySelectorAll('tr[data-channel]')].some(r => r.cells[0].textContent.includes('{name}'))"),
    )
    .await;
    let script = format!(
        "return [...document.querySelectorAll('tr[data-channel]')].find(r => r.cells[0].textContent.includes('{name}')).dataset.channel;"
    );
    b.client.execute(&script, Vec::new()).await.unwrap().as_str().unwrap().to_owned()
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; run with --include-ignored"]
async fn an_admin_sees_dead_notifications_with_their_500s_fixes_the_webhook_and_replays_them() {
    let hook = Hook::start(500).await;
    let mesh = start_mesh_configured(TestBackend::Sqlite, &[], NOTIFY_FAST).await;
    let gw = mesh.gateway.url();
    let admin = Browser::start(&gw, "en-GB").await;
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "en").await;

    // A webhook channel, first onto a private address (refused beside the URL), then onto the receiver.
    admin.goto("/admin/notifications/channels").await;
    admin.click("a.button[href='/admin/notifications/channels/new']").await;
    admin.fill("#name", "Ops webhook").await;
    admin.find("#kind option[value='webhook']").await.click().await.unwrap();
    admin.fill("#url", "http://10.0.0.7/hook").await;
    admin.fill("#secret", "s3cret-key").await;
    admin.click("form button[type=submit]").await;
    assert!(admin.text("#url-error").await.contains("notify refuses this address: it is private"), "the egress policy's refusal");
    admin.shot("channels-url-refused").await;
    admin.fill("#url", &hook.url).await;
    admin.fill("#secret", "s3cret-key").await;
    admin.click("form button[type=submit]").await;
    let channel = channel_row(&admin, "Ops webhook").await;
    let row = format!("tr[data-channel='{channel}']");
    assert!(admin.text(&row).await.contains("Has a secret"));

    // Two tests through it while it answers 500: each is tried twice, then dead.
    let mut sent = Vec::new();
    for _ in 0..2 {
        admin.click(&format!("{row} button.test")).await;
        let seen = sent.iter().map(|h: &String| format!(" && a.getAttribute('href') !== '{h}'")).collect::<String>();
        admin.until("the test queued", &format!("(a => a !== null{seen})(document.querySelector('#outcome a'))")).await;
        sent.push(admin.find("#outcome a").await.attr("href").await.unwrap().unwrap());
    }
    admin.click("#outcome a").await;
    admin.until("the notification dead after its attempts", "document.querySelector('#notification[data-status=dead]') !== null").await;
    let attempts = admin.all("table.attempts tbody tr.failed").await;
    assert_eq!(attempts.len(), 2, "two attempts, both failed");
    assert_eq!(admin.text("table.attempts tbody tr td.code").await, "500");
    assert!(admin.text("dl.facts").await.contains("HTTP 500"), "the last error");
    admin.shot("notifications-detail").await;

    // The outbox under "dead": both, counted in their tab.
    admin.goto("/admin/notifications?status=dead").await;
    admin.find("tr[data-status=dead]").await;
    assert_eq!(admin.all("tbody tr[data-status=dead]").await.len(), 2);
    assert_eq!(admin.text("nav.tabs a[data-status=dead] .count").await, "2");
    assert_eq!(admin.text("nav.tabs a[aria-current=page]").await.split_whitespace().next(), Some("Dead"));
    admin.shot("notifications").await;
    let before = hook.hits.load(Ordering::SeqCst);
    assert_eq!(before, 4, "two attempts each");

    // Fixed, the dead ones are replayed through the confirmation, which names how many.
    hook.answer(200);
    admin.click("#replay").await;
    let count = admin.text("#replay-count").await;
    assert!(count.starts_with("2 dead notifications will be put back"), "{count}");
    assert_eq!(admin.all("table.outbox tbody tr").await.len(), 2, "the ones to replay are listed");
    admin.shot("notifications-replay-confirm").await;
    admin.click("#replay-confirm").await;
    admin.until("the replay said", "document.querySelector('#outcome')?.textContent.includes('2 dead notifications were put back')").await;
    admin
        .until(
            "both delivered, the page refreshing itself",
            "document.querySelector('nav.tabs a[data-status=delivered] .count')?.textContent.trim() === '2'",
        )
        .await;
    assert_eq!(admin.text("nav.tabs a[data-status=dead] .count").await, "0");
    assert_eq!(hook.hits.load(Ordering::SeqCst), before + 2, "one more attempt each, delivered");

    // Routing rules: one added for regressions of error and above, then disabled.
    admin.goto("/admin/notifications/channels").await;
    admin.fill("#event_type", "bugs.regression").await;
    admin.find("#min_severity option[value='error']").await.click().await.unwrap();
    admin.click("form.route-form button[type=submit]").await;
    admin.until("the rule listed", "document.querySelector('tr[data-route]') !== null").await;
    assert!(admin.text("tr[data-route]").await.contains("Ops webhook"));
    admin.click("tr[data-route] button.switch").await;
    admin.until("the rule disabled", "document.querySelector('tr[data-route].off') !== null").await;
    assert!(admin.text("#outcome").await.contains("Routing rule disabled"));
    admin.shot("channels").await;
    admin.close().await;

    // The outbox in French.
    let fr = Browser::start(&gw, "fr-CH").await;
    fr.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "fr").await;
    fr.goto("/admin/notifications?status=delivered").await;
    fr.find("tr[data-status=delivered]").await;
    assert!(fr.text("nav.tabs").await.contains("Livrées"), "the tabs in French");
    assert!(fr.text("tbody").await.contains("Livrée"));
    fr.click("tr[data-status=delivered] td a").await;
    fr.find("table.attempts").await;
    assert!(fr.text("main").await.contains("Tentatives"), "the detail in French");
    fr.shot("notifications-fr").await;
    fr.close().await;
    assert!(screenshot_dir().join("notifications.png").is_file());
}
