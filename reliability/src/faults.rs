//! The scenarios: the workload on its own, then the same workload while a
//! fault happens, each judged by what the users saw and by what is in the
//! databases afterwards.
//!
//! One file past 500 lines: the scenarios read as one list, each run and judged
//! through the same workload and checks.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use kit::Component;
use serde_json::{Value, json};

use crate::{
    Profile,
    load::{self, Sample, Workload},
    procs::{Backend, DRAIN, Mesh, PATIENCE, PRE_STOP},
    report::Section,
};

/// The workload's routes served by the bugs service.
const BUG_ROUTES: [&str; 4] = ["POST /api/bugs", "GET /api/bugs", "GET /api/bugs/{id}", "GET /api/bugs/metrics/summary"];

fn spawn_load(wl: &Arc<Workload>, rate: f64, duration: Duration) -> tokio::task::JoinHandle<Vec<Sample>> {
    let wl = wl.clone();
    tokio::spawn(async move { wl.run(rate, duration).await })
}

/// Answers the workload must have had since its start before a fault strikes.
const WARM: usize = 10;

/// Polls `probe` every 50 ms until it holds or `within` passes; the time it took.
async fn until<F, Fut>(within: Duration, mut probe: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < within {
        if probe().await {
            return Some(start.elapsed());
        }
        // The polling interval.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Waits until the workload, started when it had `from` answers, has had
/// [`WARM`] more, so that the fault strikes a mesh under load.
async fn under_load(wl: &Workload, from: usize, s: &mut Section) {
    let flowing = until(PATIENCE, || {
        let n = wl.answered();
        async move { n >= from + WARM }
    })
    .await;
    s.check(
        "the workload is being answered before the fault",
        flowing.is_some(),
        format!("{} answers, {flowing:?} after the start", wl.answered().saturating_sub(from)),
    );
}

/// Failures grouped by route and status, each with its first answer.
fn describe(samples: &[&Sample]) -> String {
    let mut by: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    for s in samples {
        let entry =
            by.entry(format!("{} → {}", s.route, s.status.map_or("no response".to_owned(), |c| c.to_string()))).or_insert((0, &s.detail));
        entry.0 += 1;
    }
    by.iter()
        .map(|(k, (n, first))| format!("{k} ×{n} (first: {})", first.chars().take(200).collect::<String>()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The mixed workload at a fixed rate, nothing broken: every request succeeds.
pub async fn steady_load(mesh: &Mesh, wl: &Arc<Workload>, profile: &Profile) -> Section {
    let mut s = Section::new("Load: the mixed workload at a fixed rate", mesh.backend.name());
    let started = Instant::now();
    let samples = wl.run(profile.rate, profile.load).await;
    let elapsed = started.elapsed();
    s.figures = load::figures(&samples, elapsed);
    let errors: Vec<&Sample> = samples.iter().filter(|x| !x.ok()).collect();
    s.check(
        format!("{} requests at {} req/s for {:?}, none failed", samples.len(), profile.rate, profile.load),
        errors.is_empty(),
        if errors.is_empty() { "0 errors".to_owned() } else { describe(&errors) },
    );
    s
}

/// kill -9 of the bugs service under load.
pub async fn kill_a_service(mesh: &mut Mesh, wl: &Arc<Workload>, profile: &Profile) -> Section {
    let mut s = Section::new("Fault: kill -9 of the bugs service under load", mesh.backend.name());
    let (gw, http, token) = (mesh.gateway(), mesh.http.clone(), wl.token.clone());
    let bug_id = wl.bugs.lock().expect("bugs")[0].0;
    let from = wl.answered();
    let load = spawn_load(wl, profile.rate, profile.fault + Duration::from_secs(2));
    under_load(wl, from, &mut s).await;

    let killed_at = Instant::now();
    mesh.take(Component::Bugs).kill().await;
    // Its routes answer 503, naming it.
    let named = Arc::new(Mutex::new(None));
    let seen = until(Duration::from_secs(10), || {
        let req = http.get(format!("{gw}/api/bugs/{bug_id}")).bearer_auth(&token).send();
        let named = named.clone();
        async move {
            let Ok(res) = req.await else { return false };
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let service = body["error"]["details"]["service"].clone();
            *named.lock().expect("named") = Some((status, service.clone()));
            status == 503 && service == "bugs"
        }
    })
    .await;
    let named = named.lock().expect("named").clone();
    s.check("its routes answer 503 naming the service", seen.is_some(), format!("last answer: {named:?}, after {seen:?}"));

    // The fault itself: the service stays down for `profile.fault`.
    tokio::time::sleep(profile.fault.saturating_sub(killed_at.elapsed())).await;
    let restarted = mesh.restart(Component::Bugs).await;
    let back_at = Instant::now();
    s.check("the service starts again on its port and database", restarted.is_ok(), format!("{restarted:?}"));
    let recovered = until(Duration::from_secs(20), || {
        let req = http.get(format!("{gw}/api/bugs/{bug_id}")).bearer_auth(&token).send();
        async move { req.await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    s.check(
        "the gateway recovers by itself (breaker half-open, channel reconnects)",
        recovered.is_some(),
        format!("first 200 {recovered:?} after the restart"),
    );

    let samples = load.await.unwrap_or_default();
    let others: Vec<&Sample> = samples.iter().filter(|x| !BUG_ROUTES.contains(&x.route) && !x.ok()).collect();
    s.check(
        "every other route kept answering",
        others.is_empty(),
        if others.is_empty() {
            format!("{} requests to other routes, 0 failed", samples.iter().filter(|x| !BUG_ROUTES.contains(&x.route)).count())
        } else {
            describe(&others)
        },
    );
    let down_window = |x: &&Sample| x.at >= killed_at && x.at < back_at;
    let unclean: Vec<&Sample> = samples
        .iter()
        .filter(|x| BUG_ROUTES.contains(&x.route) && !x.ok())
        .filter(|x| !(x.status == Some(503) && x.detail.contains("bugs")))
        .collect();
    s.check(
        "bug routes failed only with 503 naming bugs",
        unclean.is_empty(),
        format!(
            "{} bug-route requests while it was down, {} answered 503; other failures: {}",
            samples.iter().filter(|x| BUG_ROUTES.contains(&x.route)).filter(down_window).count(),
            samples.iter().filter(|x| BUG_ROUTES.contains(&x.route)).filter(down_window).filter(|x| x.status == Some(503)).count(),
            if unclean.is_empty() { "none".to_owned() } else { describe(&unclean) }
        ),
    );
    let settle = back_at + recovered.unwrap_or_default() + Duration::from_millis(100);
    let late: Vec<&Sample> = samples.iter().filter(|x| x.at > settle && !x.ok()).collect();
    s.check("after recovery nothing fails", late.is_empty(), describe(&late));
    s
}

/// SIGTERM to the gateway under load: in-flight requests finish, new ones get
/// 503, the process exits within its drain deadline.
pub async fn terminate_the_gateway(mesh: &mut Mesh, wl: &Arc<Workload>, profile: &Profile) -> Section {
    let mut s = Section::new("Fault: SIGTERM to the gateway under load", mesh.backend.name());
    let from = wl.answered();
    let load = spawn_load(wl, profile.rate, Duration::from_millis(1_500) + PRE_STOP + DRAIN);
    under_load(wl, from, &mut s).await;
    // A slow request in flight when the signal comes: a dispatch run of a busy
    // day with a one-second budget, signalled once dispatch has opened it.
    let day = (chrono::Utc::now() + chrono::Duration::days(50)).date_naive().to_string();
    let busy: Vec<Value> = (0..60)
        .map(|i| {
            let (lat, lon) = (46.15 + f64::from(i % 10) * 0.01, 6.05 + f64::from(i / 10) * 0.02);
            json!({
                "client_id": wl.client(i as usize), "pickup_address": "Rue du Lac 3", "pickup": { "latitude": lat, "longitude": lon },
                "dropoff_address": "HUG", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
                "pickup_earliest": format!("{day}T{:02}:00:00Z", 8 + i % 9), "pickup_latest": format!("{day}T{:02}:45:00Z", 8 + i % 9)
            })
        })
        .collect();
    let filled = mesh
        .http
        .post(format!("{}/api/bookings/batch", mesh.gateway()))
        .bearer_auth(&wl.token)
        .json(&json!({ "bookings": busy }))
        .send()
        .await;
    let filled = match filled {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    };
    s.check("a busy day to plan", filled.0 == 201, format!("{} {}", filled.0, filled.1.chars().take(200).collect::<String>()));
    let run = {
        let req = mesh
            .http
            .post(format!("{}/api/dispatch/runs", mesh.gateway()))
            .bearer_auth(&wl.token)
            .json(&json!({ "service_day": day, "time_budget_ms": 1000 }));
        tokio::spawn(async move {
            let res = req.send().await;
            (res.map(|r| r.status().as_u16()).map_err(|e| e.to_string()), Instant::now())
        })
    };
    // The signal comes once the run is in flight: dispatch has opened it.
    let in_flight = until(PATIENCE, || {
        let req = mesh.http.get(format!("{}/api/dispatch/runs?service_day={day}", mesh.gateway())).bearer_auth(&wl.token).send();
        async move {
            let Ok(res) = req.await else { return false };
            let runs: Value = res.json().await.unwrap_or(Value::Null);
            runs["items"].as_array().is_some_and(|runs| runs.iter().any(|r| r["status"] == "running"))
        }
    })
    .await;
    s.check("the dispatch run is in flight before the signal", in_flight.is_some(), format!("running {in_flight:?} after it was sent"));
    let signalled = Instant::now();
    let exit = mesh.take(Component::Gateway).terminate().await;
    let deadline = PRE_STOP + DRAIN + Duration::from_secs(1);
    match &exit {
        Ok((status, took)) => s.check(
            format!("exits cleanly within pre-stop + drain ({deadline:?})"),
            status.success() && *took <= deadline,
            format!("{status} after {took:?}"),
        ),
        Err(e) => s.check("exits after SIGTERM", false, e.to_string()),
    }
    let (run, answered) = run.await.unwrap_or_else(|e| (Err(e.to_string()), Instant::now()));
    s.check(
        "the dispatch run in flight at the signal completed",
        run.as_ref().is_ok_and(|c| (200..300).contains(c)) && answered > signalled,
        format!("{run:?}, answered {:?} after the signal", answered.saturating_duration_since(signalled)),
    );
    let samples = load.await.unwrap_or_default();
    // In flight = sent at least ARRIVAL before the signal (so the gateway had it)
    // and not yet answered. A request sent just before the signal may reach
    // the gateway after it, and is then rightly refused like any later one.
    const ARRIVAL: Duration = Duration::from_millis(100);
    let in_flight: Vec<&Sample> = samples.iter().filter(|x| x.at + ARRIVAL <= signalled && x.at + x.latency > signalled).collect();
    let cut: Vec<&Sample> = in_flight.iter().filter(|x| !x.ok()).copied().collect();
    s.check(
        "requests in flight at the signal completed",
        cut.is_empty(),
        format!("{} in flight, {} failed: {}", in_flight.len(), cut.len(), describe(&cut)),
    );
    let boundary: Vec<&Sample> = samples.iter().filter(|x| x.at < signalled && x.at + ARRIVAL > signalled).collect();
    let wrong_boundary: Vec<&Sample> =
        boundary.iter().filter(|x| !(x.ok() || x.status == Some(503) && x.detail.contains("shutting down"))).copied().collect();
    s.check(
        format!("requests sent within {ARRIVAL:?} of the signal are served or refused with 503"),
        wrong_boundary.is_empty(),
        format!(
            "{} sent, {} refused; other: {}",
            boundary.len(),
            boundary.iter().filter(|x| x.status == Some(503)).count(),
            describe(&wrong_boundary)
        ),
    );
    let after: Vec<&Sample> = samples.iter().filter(|x| x.at >= signalled).collect();
    let refused_503 = after.iter().filter(|x| x.status == Some(503)).count();
    let refused_closed = after.iter().filter(|x| x.status.is_none() && is_connect_error(&x.detail)).count();
    let served = after.iter().filter(|x| x.ok()).count();
    let wrong: Vec<&&Sample> =
        after.iter().filter(|x| !x.ok() && x.status != Some(503) && !(x.status.is_none() && is_connect_error(&x.detail))).collect();
    s.check(
        "new requests get 503 while draining, then find the port closed",
        wrong.is_empty() && refused_503 > 0,
        format!(
            "{} after the signal: {served} answered (accepted before the listener closed), {refused_503} × 503, {refused_closed} refused connections; other: {}",
            after.len(),
            if wrong.is_empty() { "none".to_owned() } else { describe(&wrong.iter().map(|x| **x).collect::<Vec<_>>()) }
        ),
    );
    let back = mesh.restart(Component::Gateway).await;
    s.check("the gateway starts again", back.is_ok(), format!("{back:?}"));
    s
}

fn is_connect_error(detail: &str) -> bool {
    detail.contains("Connection refused") || detail.contains("error sending request") || detail.contains("connection closed")
}

/// A webhook receiver on loopback: which notification ids arrived, when.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Receiver {
    async fn start(delay: Duration) -> anyhow::Result<(Self, String)> {
        let me = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let me = me.clone();
                move |headers: http::HeaderMap| async move {
                    let id = headers.get("x-atmr-notification-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    me.seen.lock().expect("seen").push((id, Instant::now()));
                    // A slow receiver, so that deliveries are in flight when notify dies.
                    tokio::time::sleep(delay).await;
                    http::StatusCode::OK
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((me, url))
    }

    fn counts(&self) -> BTreeMap<String, Vec<Instant>> {
        let mut by: BTreeMap<String, Vec<Instant>> = BTreeMap::new();
        for (id, at) in self.seen.lock().expect("seen").iter() {
            by.entry(id.clone()).or_default().push(*at);
        }
        by
    }
}

/// kill -9 of notify while it delivers to a webhook: every accepted
/// notification arrives afterwards, each id once (a repeat only for an
/// attempt in flight at the kill, with the same id, which receivers drop).
pub async fn kill_notify_mid_delivery(mesh: &mut Mesh, wl: &Arc<Workload>, profile: &Profile) -> Section {
    let mut s = Section::new("Fault: kill -9 of notify mid-delivery", mesh.backend.name());
    let (gw, http, token) = (mesh.gateway(), mesh.http.clone(), wl.token.clone());
    let (receiver, url) = match Receiver::start(Duration::from_millis(100)).await {
        Ok(r) => r,
        Err(e) => {
            s.check("a local webhook receiver", false, e.to_string());
            return s;
        }
    };
    let channel: Value = match http
        .post(format!("{gw}/api/notification-channels"))
        .bearer_auth(&token)
        .json(&json!({ "name": "reliability webhook", "kind": "webhook", "url": url }))
        .send()
        .await
    {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let Some(channel_id) = channel["id"].as_str().map(str::to_owned) else {
        s.check("a webhook channel is created", false, channel.to_string());
        return s;
    };
    let mut accepted = Vec::new();
    for n in 0..profile.notifications {
        let res = http
            .post(format!("{gw}/api/notifications"))
            .bearer_auth(&token)
            .json(&json!({ "channel_id": channel_id, "event_type": "reliability.delivery", "title": format!("Livraison {n}"), "severity": "info" }))
            .send()
            .await;
        if let Ok(res) = res
            && res.status() == 202
            && let Ok(body) = res.json::<Value>().await
        {
            accepted.extend(body["notifications"].as_array().into_iter().flatten().filter_map(|n| n["id"].as_str().map(str::to_owned)));
        }
    }
    s.check("every send is accepted", accepted.len() == profile.notifications, format!("{} of {}", accepted.len(), profile.notifications));

    // Kill it once a quarter has arrived.
    let quarter = accepted.len().div_ceil(4).max(1);
    let started = until(PATIENCE, || {
        let n = receiver.seen.lock().expect("seen").len();
        async move { n >= quarter }
    })
    .await;
    let killed_at = Instant::now();
    mesh.take(Component::Notify).kill().await;
    let before_kill = receiver.seen.lock().expect("seen").len();
    s.note(format!("killed after {before_kill} receipts ({started:?} after the sends)"));
    let restarted = mesh.restart(Component::Notify).await;
    s.check("notify starts again", restarted.is_ok(), format!("{restarted:?}"));

    let all_in = until(PATIENCE, || {
        let counts = receiver.counts();
        let done = accepted.iter().all(|id| counts.contains_key(id));
        async move { done }
    })
    .await;
    let counts = receiver.counts();
    let missing: Vec<&String> = accepted.iter().filter(|id| !counts.contains_key(*id)).collect();
    s.check(
        "every accepted notification reaches the webhook",
        missing.is_empty(),
        format!(
            "{} of {} ids received, {all_in:?} after the restart; missing: {missing:?}",
            accepted.len() - missing.len(),
            accepted.len()
        ),
    );
    let repeats: Vec<(&String, &Vec<Instant>)> = counts.iter().filter(|(_, at)| at.len() > 1).collect();
    let unexplained: Vec<&String> = repeats.iter().filter(|(_, at)| at.len() > 2 || at[0] > killed_at).map(|(id, _)| *id).collect();
    s.check(
        "each id arrives once, or twice only when its first attempt was in flight at the kill",
        unexplained.is_empty(),
        format!(
            "{} repeats, all of an attempt cut by the kill, with the same x-atmr-notification-id; unexplained: {unexplained:?}",
            repeats.len()
        ),
    );
    let stray: Vec<&String> = counts.keys().filter(|id| !accepted.contains(id)).collect();
    s.check("nothing arrives that was not sent", stray.is_empty(), format!("{stray:?}"));
    // The outbox agrees: every one is delivered.
    let mut undelivered = Vec::new();
    for id in &accepted {
        let status = until(Duration::from_secs(10), || {
            let req = http.get(format!("{gw}/api/notifications/{id}")).bearer_auth(&token).send();
            async move {
                match req.await {
                    Ok(r) => r.json::<Value>().await.is_ok_and(|v| v["notification"]["status"] == "delivered"),
                    Err(_) => false,
                }
            }
        })
        .await;
        if status.is_none() {
            undelivered.push(id.clone());
        }
    }
    s.check("the outbox shows every one delivered", undelivered.is_empty(), format!("not delivered: {undelivered:?}"));
    s
}

/// Redis goes away under load: the gateway limits and caches in process, no 5xx.
pub async fn lose_redis(mesh: &mut Mesh, wl: &Arc<Workload>, profile: &Profile) -> Section {
    let mut s = Section::new("Fault: Redis unreachable under load", mesh.backend.name());
    let Backend::Postgres { redis, .. } = &mesh.backend else { return s };
    let metrics = format!("{}/metrics", mesh.admin_url(Component::Gateway));
    let memory_before = decisions(&mesh.http, &metrics, "memory").await;
    let from = wl.answered();
    let load = spawn_load(wl, profile.rate, profile.fault + Duration::from_secs(2));
    under_load(wl, from, &mut s).await;
    let cut_at = Instant::now();
    redis.cut();
    // Readiness says so once its next check has run.
    let ready_url = format!("{}/health/ready", mesh.admin_url(Component::Gateway));
    let last = Arc::new(Mutex::new(Value::Null));
    let reported = until(PATIENCE, || {
        let (req, last) = (mesh.http.get(&ready_url).send(), last.clone());
        async move {
            let ready: Value = match req.await {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(e) => json!({ "error": e.to_string() }),
            };
            let redis_dep =
                ready["dependencies"].as_array().into_iter().flatten().find(|d| d["name"] == "redis").cloned().unwrap_or(Value::Null);
            let seen = ready["ready"] == true && redis_dep["ok"] == false;
            *last.lock().expect("last") = json!({ "ready": ready["ready"], "redis": redis_dep });
            seen
        }
    })
    .await;
    let last = last.lock().expect("last").clone();
    s.check(
        "the gateway stays ready and reports Redis down",
        reported.is_some(),
        format!("{reported:?} after the cut; last: ready={}, redis={}", last["ready"], last["redis"]),
    );
    // The fault itself: Redis stays unreachable for `profile.fault`.
    tokio::time::sleep(profile.fault.saturating_sub(cut_at.elapsed())).await;
    let memory_during = decisions(&mesh.http, &metrics, "memory").await;
    redis.restore();
    let restored_at = Instant::now();
    let redis_at_restore = decisions(&mesh.http, &metrics, "redis").await;
    let samples = load.await.unwrap_or_default();
    // Requests (one per poll once the load is over) until Redis decides one:
    // the gateway reconnects at its own pace.
    let back = until(PATIENCE, || {
        let probe = mesh.http.get(format!("{}/api/bugs?per_page=1", mesh.gateway())).bearer_auth(&wl.token).send();
        let (http, metrics) = (&mesh.http, &metrics);
        async move {
            let _ = probe.await;
            decisions(http, metrics, "redis").await > redis_at_restore
        }
    })
    .await;
    let redis_after = decisions(&mesh.http, &metrics, "redis").await;
    let failed: Vec<&Sample> = samples.iter().filter(|x| !x.ok()).collect();
    let during = samples.iter().filter(|x| x.at >= cut_at && x.at < restored_at).count();
    s.check(
        "no request failed",
        failed.is_empty(),
        format!("{} requests, {during} while Redis was unreachable; failed: {}", samples.len(), describe(&failed)),
    );
    s.check(
        "rate limiting fell back to the in-process limiter",
        memory_during > memory_before,
        format!("in-process decisions: {memory_before} before, {memory_during} during the outage"),
    );
    s.check(
        "Redis decides again once it is back",
        back.is_some(),
        format!("Redis decisions: {redis_at_restore} at the restore, {redis_after} {back:?} after the load"),
    );
    s
}

/// The sum of `gateway_rate_limit_decisions_total` decided by `store`.
async fn decisions(http: &reqwest::Client, metrics: &str, store: &str) -> f64 {
    let Ok(res) = http.get(metrics).send().await else { return 0.0 };
    let text = res.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("gateway_rate_limit_decisions_total{") && l.contains(&format!("store=\"{store}\"")))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum::<f64>()
        // An empty sum is -0.
        + 0.0
}

/// PostgreSQL unreachable under load: readiness drops, calls fail cleanly, and
/// afterwards every acknowledged write is there and no batch is half-written.
pub async fn lose_postgres(mesh: &mut Mesh, wl: &Arc<Workload>, profile: &Profile) -> Section {
    let mut s = Section::new("Fault: PostgreSQL unreachable under load", mesh.backend.name());
    let Backend::Postgres { postgres, .. } = &mesh.backend else { return s };
    let (gw, http, token) = (mesh.gateway(), mesh.http.clone(), wl.token.clone());
    let ready_url = format!("{}/health/ready", mesh.admin_url(Component::Gateway));
    let from = wl.answered();
    let load = spawn_load(wl, profile.rate, profile.fault + Duration::from_secs(4));
    // Batches of bookings all along, each all-or-nothing: marked in their notes.
    let answered_batches = Arc::new(AtomicUsize::new(0));
    let day = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive().to_string();
    let batches = {
        let (gw, http, token, day, answered) = (gw.clone(), http.clone(), token.clone(), day.clone(), answered_batches.clone());
        let clients = wl_clients(&http, &gw, &token).await;
        let until_at = Instant::now() + profile.fault + Duration::from_secs(3);
        tokio::spawn(async move {
            let mut sent: Vec<(String, Option<u16>)> = Vec::new();
            let mut k = 0;
            while Instant::now() < until_at {
                let marker = format!("batch-{k}");
                let bookings: Vec<Value> = (0..5)
                    .map(|i| {
                        json!({
                            "client_id": clients[i % clients.len().max(1)], "pickup_address": "Av. de la Gare 1, Lausanne",
                            "pickup": { "latitude": 46.517, "longitude": 6.629 }, "dropoff_address": "CHUV",
                            "dropoff": { "latitude": 46.525, "longitude": 6.642 }, "notes": marker,
                            "pickup_earliest": format!("{day}T{:02}:00:00Z", 8 + i), "pickup_latest": format!("{day}T{:02}:30:00Z", 8 + i)
                        })
                    })
                    .collect();
                let res =
                    http.post(format!("{gw}/api/bookings/batch")).bearer_auth(&token).json(&json!({ "bookings": bookings })).send().await;
                sent.push((marker, res.ok().map(|r| r.status().as_u16())));
                answered.fetch_add(1, Ordering::SeqCst);
                k += 1;
                // The batches' pace (about ten a second), not a wait for an outcome.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            sent
        })
    };
    under_load(wl, from, &mut s).await;
    let batching = until(PATIENCE, || {
        let n = answered_batches.load(Ordering::SeqCst);
        async move { n >= 2 }
    })
    .await;
    s.check("batches are being written before the cut", batching.is_some(), format!("2 batches answered {batching:?} after the start"));
    let cut_at = Instant::now();
    postgres.cut();
    let unready = until(profile.fault, || {
        let req = http.get(&ready_url).send();
        async move { req.await.is_ok_and(|r| r.status() == 503) }
    })
    .await;
    s.check("readiness drops", unready.is_some(), format!("503 from /health/ready {unready:?} after the cut"));
    // The fault itself: PostgreSQL stays unreachable for `profile.fault`.
    tokio::time::sleep(profile.fault.saturating_sub(cut_at.elapsed())).await;
    postgres.restore();
    let restored_at = Instant::now();
    let ready = until(PATIENCE, || {
        let req = http.get(&ready_url).send();
        async move { req.await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    s.check("readiness returns by itself", ready.is_some(), format!("{ready:?} after PostgreSQL came back"));
    let samples = load.await.unwrap_or_default();
    let sent = batches.await.unwrap_or_default();

    let during: Vec<&Sample> = samples.iter().filter(|x| x.at >= cut_at && x.at < restored_at).collect();
    let unclean: Vec<&Sample> = samples.iter().filter(|x| !x.ok() && !matches!(x.status, Some(503 | 504))).collect();
    s.check(
        "calls fail cleanly (503/504 with an error body), never 500 or a dropped connection",
        unclean.is_empty(),
        format!(
            "{} requests during the outage, {} failed with 503/504; unclean: {}",
            during.len(),
            during.iter().filter(|x| matches!(x.status, Some(503 | 504))).count(),
            if unclean.is_empty() { "none".to_owned() } else { describe(&unclean) }
        ),
    );
    let settle = restored_at + ready.unwrap_or_default() + Duration::from_millis(500);
    let late: Vec<&Sample> = samples.iter().filter(|x| x.at > settle && !x.ok()).collect();
    s.check("after recovery nothing fails", late.is_empty(), describe(&late));

    // Every acknowledged write is there.
    let bugs = wl.bugs.lock().expect("bugs").clone();
    let mut lost = Vec::new();
    for (id, title) in &bugs {
        let (status, got) = settled_get(&http, &format!("{gw}/api/bugs/{id}"), &token).await;
        if got["bug"]["title"].as_str() != Some(title) {
            lost.push(format!("bug {id} ({status:?})"));
        }
    }
    let bookings = wl.bookings.lock().expect("bookings").clone();
    for id in &bookings {
        let (status, _) = settled_get(&http, &format!("{gw}/api/bookings/{id}"), &token).await;
        if status != Some(200) {
            lost.push(format!("booking {id} ({status:?})"));
        }
    }
    s.check(
        "every write acknowledged before, during or after the outage is there",
        lost.is_empty(),
        format!("{} bugs and {} bookings checked by id; missing: {lost:?}", bugs.len(), bookings.len()),
    );
    // Every batch is all or nothing, and all when acknowledged.
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    let mut half = Vec::new();
    let mut page = 1;
    loop {
        let (status, listed) = settled_get(&http, &format!("{gw}/api/bookings?service_day={day}&per_page=100&page={page}"), &token).await;
        if status != Some(200) {
            half.push(format!("the day's bookings could not be listed: {status:?} {listed}"));
            break;
        }
        let items = listed["items"].as_array().cloned().unwrap_or_default();
        for b in &items {
            *stored.entry(b["notes"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
        if items.len() < 100 {
            break;
        }
        page += 1;
    }
    half.extend(sent.iter().filter_map(|(marker, status)| {
        let n = stored.get(marker).copied().unwrap_or(0);
        let ok = if *status == Some(201) { n == 5 } else { n == 0 || n == 5 };
        (!ok).then(|| format!("{marker}: answered {status:?}, {n} of 5 stored"))
    }));
    let refused = sent.iter().filter(|(_, st)| *st != Some(201)).count();
    s.check(
        "no batch is half-written",
        half.is_empty(),
        format!("{} batches of 5, {refused} refused during the outage; partial: {half:?}", sent.len()),
    );
    s
}

/// GET `url` until the answer is definitive — anything but 503, 504 or a
/// transport error, which say the mesh is still settling after the fault, not
/// what is stored — or PATIENCE runs out: the last status and body.
async fn settled_get(http: &reqwest::Client, url: &str, token: &str) -> (Option<u16>, Value) {
    let last = Arc::new(Mutex::new((None, Value::Null)));
    until(PATIENCE, || {
        let (req, last) = (http.get(url).bearer_auth(token).send(), last.clone());
        async move {
            let (status, body) = match req.await {
                Ok(r) => (Some(r.status().as_u16()), r.json().await.unwrap_or(Value::Null)),
                Err(e) => (None, json!({ "transport": e.to_string() })),
            };
            let settled = !matches!(status, None | Some(503 | 504));
            *last.lock().expect("last") = (status, body);
            settled
        }
    })
    .await;
    last.lock().expect("last").clone()
}

async fn wl_clients(http: &reqwest::Client, gw: &str, token: &str) -> Vec<i64> {
    let listed: Value = match http.get(format!("{gw}/api/clients?per_page=20")).bearer_auth(token).send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    listed["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_i64()).collect()
}

/// Components whose logs show a panic, checked after every scenario.
pub fn no_panics(mesh: &Mesh, s: &mut Section) {
    let panics = mesh.panics();
    s.check("no component panicked", panics.is_empty(), if panics.is_empty() { "none".to_owned() } else { format!("{panics:?}") });
}
