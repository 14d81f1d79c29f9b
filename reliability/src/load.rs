//! The workload: a mix of what a company's users do all day, sent through the
//! gateway at a fixed rate (open loop: a slow answer does not slow the
//! arrivals, so queueing shows in the latencies instead of hiding).

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::procs::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// Requests in flight beyond this are not sent and are counted as errors: the
/// generator never hides an overload by waiting.
const MAX_IN_FLIGHT: usize = 512;
/// Days ahead the bookings spread over, so each dispatch run plans a bounded day.
const DAYS: i64 = 14;
const SEVERITIES: [&str; 3] = ["low", "medium", "high"];

/// The routes of the mix, in the order they are reported.
pub const ROUTES: [&str; 9] = [
    "POST /api/auth/login",
    "POST /api/bugs",
    "GET /api/bugs",
    "GET /api/bugs/{id}",
    "GET /api/bugs/metrics/summary",
    "POST /api/bookings",
    "POST /api/dispatch/runs",
    "GET /api/admin/autonomous-actions/stats",
    "POST /api/notifications",
];

/// One request: which route, when it left, how long it took, how it ended.
#[derive(Clone, Debug)]
pub struct Sample {
    pub route: &'static str,
    pub at: Instant,
    pub latency: Duration,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The response body of a non-2xx answer, or the transport error.
    pub detail: String,
}

impl Sample {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What the workload needs: where to send, as whom, and what it created.
pub struct Workload {
    pub http: reqwest::Client,
    pub gateway: String,
    pub token: String,
    clients: Vec<i64>,
    /// Every bug the gateway acknowledged (201), with its title.
    pub bugs: Mutex<Vec<(i64, String)>>,
    /// Every booking the gateway acknowledged (201).
    pub bookings: Mutex<Vec<i64>>,
    /// Requests answered so far, whatever the answer: a scenario waits for
    /// these to grow before its fault, so that the fault strikes under load.
    answered: AtomicUsize,
}

impl Workload {
    /// Creates the company's drivers and patients the bookings need, and one bug,
    /// so that the first reads of a bug have an acknowledged id to ask for.
    pub async fn prepare(http: reqwest::Client, gateway: String, token: String) -> anyhow::Result<Arc<Self>> {
        for n in 0..8 {
            let driver = json!({
                "name": format!("Chauffeur {n}"), "vehicle_kind": if n % 3 == 0 { "wheelchair_van" } else { "car" },
                "seats": 3, "wheelchair_places": if n % 3 == 0 { 1 } else { 0 },
                "shift_start_minute": 420, "shift_end_minute": 1140,
                "depot": { "latitude": 46.20 + f64::from(n) * 0.01, "longitude": 6.14 }
            });
            expect_created(http.post(format!("{gateway}/api/drivers")).bearer_auth(&token).json(&driver).send().await?).await?;
        }
        let mut clients = Vec::new();
        for n in 0..10 {
            let patient = json!({
                "name": format!("Patient·e {n} «d'Ouchy»"), "address": format!("Rue du Lac {n}, 1006 Lausanne"),
                "location": { "latitude": 46.19 + f64::from(n) * 0.004, "longitude": 6.13 + f64::from(n) * 0.003 },
                "mobility": if n % 4 == 0 { "wheelchair" } else { "ambulatory" }
            });
            let created =
                expect_created(http.post(format!("{gateway}/api/clients")).bearer_auth(&token).json(&patient).send().await?).await?;
            clients.push(created["id"].as_i64().unwrap_or_default());
        }
        let bug = json!({ "title": "Seed bug: the planning board freezes", "description": "Filed before the load.", "severity": "low" });
        let created = expect_created(http.post(format!("{gateway}/api/bugs")).bearer_auth(&token).json(&bug).send().await?).await?;
        let seed = match (created["bug"]["id"].as_i64(), created["bug"]["title"].as_str()) {
            (Some(id), Some(title)) => (id, title.to_owned()),
            _ => anyhow::bail!("a created bug without an id or a title: {created}"),
        };
        Ok(Arc::new(Self {
            http,
            gateway,
            token,
            clients,
            bugs: Mutex::new(vec![seed]),
            bookings: Mutex::new(Vec::new()),
            answered: AtomicUsize::new(0),
        }))
    }

    /// Requests answered so far, by every run of the workload.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// One of the company's patients.
    pub fn client(&self, n: usize) -> i64 {
        self.clients[n % self.clients.len()]
    }

    /// Sends `rate` requests per second for `duration` and returns every sample.
    pub async fn run(self: &Arc<Self>, rate: f64, duration: Duration) -> Vec<Sample> {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        let interval = Duration::from_secs_f64(1.0 / rate);
        let start = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let mut n: u64 = 0;
        while start.elapsed() < duration {
            let route = pick(n);
            n += 1;
            match in_flight.clone().try_acquire_owned() {
                Ok(permit) => {
                    let (me, samples) = (self.clone(), samples.clone());
                    tasks.spawn(async move {
                        let sample = me.send(route, n).await;
                        samples.lock().expect("samples").push(sample);
                        me.answered.fetch_add(1, Ordering::SeqCst);
                        drop(permit);
                    });
                }
                Err(_) => samples.lock().expect("samples").push(Sample {
                    route,
                    at: Instant::now(),
                    latency: Duration::ZERO,
                    status: None,
                    detail: format!("not sent: {MAX_IN_FLIGHT} requests already in flight"),
                }),
            }
            // The arrival schedule of an open loop, not a wait for an outcome.
            tokio::time::sleep_until(start + interval.mul_f64(n as f64)).await;
        }
        while tasks.join_next().await.is_some() {}
        let mut all = std::mem::take(&mut *samples.lock().expect("samples"));
        all.sort_by_key(|s| s.at);
        all
    }

    async fn send(&self, route: &'static str, n: u64) -> Sample {
        let (gw, http) = (&self.gateway, &self.http);
        let day = (chrono::Utc::now() + chrono::Duration::days(1 + (n as i64 % DAYS))).date_naive();
        let req = match route {
            "POST /api/auth/login" => http.post(format!("{gw}/api/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
            "POST /api/bugs" => http.post(format!("{gw}/api/bugs")).bearer_auth(&self.token).json(&json!({
                // Letters, not digits: the bug service groups titles that differ only by numbers.
                "title": format!("Load bug {}: l'écran « planning » gèle", letters(n)), "description": "Reproduced by the reliability harness.",
                "severity": SEVERITIES[n as usize % 3]
            })),
            "GET /api/bugs" => http.get(format!("{gw}/api/bugs?per_page=20")).bearer_auth(&self.token),
            "GET /api/bugs/{id}" => {
                let id = {
                    // Never empty: `prepare` filed the first.
                    let bugs = self.bugs.lock().expect("bugs");
                    bugs[n as usize % bugs.len()].0
                };
                http.get(format!("{gw}/api/bugs/{id}")).bearer_auth(&self.token)
            }
            "GET /api/bugs/metrics/summary" => http.get(format!("{gw}/api/bugs/metrics/summary")).bearer_auth(&self.token),
            "POST /api/bookings" => {
                let client = self.clients[n as usize % self.clients.len()];
                let hour = 8 + n % 9;
                let minute = n % 4 * 10;
                http.post(format!("{gw}/api/bookings")).bearer_auth(&self.token).json(&json!({
                    "client_id": client, "pickup_address": "Rue du Lac 3, Lausanne", "pickup": { "latitude": 46.20, "longitude": 6.14 },
                    "dropoff_address": "HUG, Genève", "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
                    "pickup_earliest": format!("{day}T{hour:02}:{minute:02}:00Z"), "pickup_latest": format!("{day}T{hour:02}:{:02}:00Z", minute + 20),
                    "boarding_minutes": 5
                }))
            }
            "POST /api/dispatch/runs" => http
                .post(format!("{gw}/api/dispatch/runs"))
                .bearer_auth(&self.token)
                .json(&json!({ "service_day": day.to_string(), "time_budget_ms": 300 })),
            "GET /api/admin/autonomous-actions/stats" => {
                http.get(format!("{gw}/api/admin/autonomous-actions/stats?period=day")).bearer_auth(&self.token)
            }
            "POST /api/notifications" => http.post(format!("{gw}/api/notifications")).bearer_auth(&self.token).json(&json!({
                "event_type": "reliability.load", "title": format!("Charge {n}"), "body": "Sent by the reliability harness.", "severity": "info"
            })),
            other => unreachable!("not a workload route: {other}"),
        };
        let at = Instant::now();
        let res = req.send().await;
        let (status, body) = match res {
            Ok(res) => {
                let status = res.status().as_u16();
                (Some(status), res.text().await.unwrap_or_default())
            }
            Err(e) => (None, format!("{e:#}")),
        };
        let latency = at.elapsed();
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        if ok && status == Some(201) {
            self.remember(route, &body);
        }
        Sample { route, at, latency, status, detail: if ok { String::new() } else { body.chars().take(300).collect() } }
    }

    /// Records an acknowledged write, to look for it after a fault.
    fn remember(&self, route: &str, body: &str) {
        let Ok(v) = serde_json::from_str::<Value>(body) else { return };
        match route {
            "POST /api/bugs" => {
                if let (Some(id), Some(title)) = (v["bug"]["id"].as_i64(), v["bug"]["title"].as_str()) {
                    self.bugs.lock().expect("bugs").push((id, title.to_owned()));
                }
            }
            "POST /api/bookings" => {
                if let Some(id) = v["id"].as_i64() {
                    self.bookings.lock().expect("bookings").push(id);
                }
            }
            _ => {}
        }
    }
}

/// The mix, out of 40 requests: reads dominate, as on a dispatcher's day; a
/// dispatch run (with a 300 ms budget) every 80th request.
fn pick(n: u64) -> &'static str {
    if n.is_multiple_of(80) {
        return "POST /api/dispatch/runs";
    }
    match n % 40 {
        0 => "GET /api/bugs/{id}",
        1 | 2 => "POST /api/auth/login",
        3..=8 => "POST /api/bugs",
        9..=14 => "GET /api/bugs",
        15..=22 => "GET /api/bugs/{id}",
        23..=26 => "GET /api/bugs/metrics/summary",
        27..=32 => "POST /api/bookings",
        33..=35 => "GET /api/admin/autonomous-actions/stats",
        _ => "POST /api/notifications",
    }
}

/// `n` in base 26, as lower-case letters.
fn letters(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

async fn expect_created(res: reqwest::Response) -> anyhow::Result<Value> {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status == 201, "expected 201, got {status}: {body}");
    Ok(body)
}

/// Per-route figures of a run.
#[derive(Clone, Debug)]
pub struct RouteFigures {
    pub route: String,
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The first error, for the report.
    pub first_error: Option<String>,
}

/// Figures per route over `samples`, which span `elapsed`.
pub fn figures(samples: &[Sample], elapsed: Duration) -> Vec<RouteFigures> {
    let mut by_route: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by_route.entry(s.route).or_default().push(s);
    }
    let mut rows: Vec<RouteFigures> = ROUTES.iter().filter_map(|route| by_route.get(route).map(|s| summarize(route, s, elapsed))).collect();
    let all: Vec<&Sample> = samples.iter().collect();
    if !all.is_empty() {
        rows.push(summarize("all", &all, elapsed));
    }
    rows
}

fn summarize(route: &str, samples: &[&Sample], elapsed: Duration) -> RouteFigures {
    let mut ms: Vec<f64> = samples.iter().filter(|s| s.status.is_some()).map(|s| s.latency.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let errors: Vec<&&Sample> = samples.iter().filter(|s| !s.ok()).collect();
    RouteFigures {
        route: route.to_owned(),
        requests: samples.len(),
        errors: errors.len(),
        per_second: samples.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_ms: percentile(&ms, 0.50),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        first_error: errors.first().map(|s| format!("{} {}", s.status.map_or("no response".to_owned(), |c| c.to_string()), s.detail)),
    }
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn letters_count_in_base_26() {
        assert_eq!(letters(0), "a");
        assert_eq!(letters(25), "z");
        assert_eq!(letters(26), "ba");
    }

    #[test]
    fn the_mix_covers_every_route() {
        let seen: std::collections::BTreeSet<&str> = (0..80).map(pick).collect();
        assert_eq!(seen, ROUTES.iter().copied().collect());
    }
}
