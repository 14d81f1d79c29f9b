//! The OSRM client against a local server that answers in OSRM's format (from
//! the haversine model doubled, so its figures are recognisable), including
//! its error responses, `null` entries and the table size limit, and its
//! circuit breaker on a manual clock.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use atmr_dispatch::{
    domain::geo::Point,
    routing::{
        Haversine, Router, Source,
        osrm::{self, Osrm, OsrmConfig, OsrmError},
    },
};
use atmr_proto::dispatch::v1 as pb;
use axum::{
    Json, Router as Http,
    extract::{Path, Query, State},
    http::StatusCode,
};
use kit::breaker::{BreakerState, ManualTicker};
use prometheus::core::Collector as _;
use serde_json::{Value, json};

use crate::harness::*;

#[derive(Clone)]
struct Fake {
    requests: Arc<AtomicUsize>,
    max_table: usize,
    /// Answer every request with this error.
    fail: Option<(StatusCode, &'static str)>,
    /// Leave the entry from the first source to the last destination unroutable.
    null_corner: bool,
    /// Told at run time: take requests and never answer, or answer this error.
    switch: Arc<Controls>,
}

#[derive(Default)]
struct Controls {
    switch: Mutex<Switch>,
    /// Told when a request is taken and left hanging.
    hung: tokio::sync::Notify,
}

#[derive(Clone, Copy, Default)]
enum Switch {
    #[default]
    Off,
    Hang,
    Fail(StatusCode, &'static str),
}

fn ids(raw: Option<&String>, n: usize) -> Vec<usize> {
    raw.map_or_else(|| (0..n).collect(), |s| s.split(';').map(|v| v.parse().unwrap()).collect())
}

async fn table(
    State(f): State<Fake>,
    Path(coords): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    f.requests.fetch_add(1, Ordering::SeqCst);
    let switch = *f.switch.switch.lock().unwrap();
    let fail = match switch {
        Switch::Off => f.fail,
        Switch::Hang => {
            f.switch.hung.notify_one();
            std::future::pending().await
        }
        Switch::Fail(status, code) => Some((status, code)),
    };
    if let Some((status, code)) = fail {
        return (status, Json(json!({ "code": code, "message": "the fake says no" })));
    }
    let points: Vec<Point> = coords
        .split(';')
        .map(|c| {
            let (lon, lat) = c.split_once(',').unwrap();
            Point { lat: lat.parse().unwrap(), lon: lon.parse().unwrap() }
        })
        .collect();
    if points.len() > f.max_table {
        return (StatusCode::BAD_REQUEST, Json(json!({ "code": "TooBig", "message": "Too many table coordinates" })));
    }
    assert_eq!(q.get("annotations").map(String::as_str), Some("duration,distance"));
    let (sources, destinations) = (ids(q.get("sources"), points.len()), ids(q.get("destinations"), points.len()));
    let h = Haversine::default();
    let cell = |i: usize, j: usize, metres: bool| -> Value {
        if f.null_corner && i == sources[0] && j == *destinations.last().unwrap() && i != j {
            return Value::Null;
        }
        let (a, b) = (points[i], points[j]);
        if metres { json!(h.metres(a, b) * 2.0) } else { json!(h.secs(a, b) as f64 * 2.0 + 0.4) }
    };
    let durations: Vec<Vec<Value>> = sources.iter().map(|&i| destinations.iter().map(|&j| cell(i, j, false)).collect()).collect();
    let distances: Vec<Vec<Value>> = sources.iter().map(|&i| destinations.iter().map(|&j| cell(i, j, true)).collect()).collect();
    (StatusCode::OK, Json(json!({ "code": "Ok", "durations": durations, "distances": distances })))
}

async fn fake(f: Fake) -> String {
    let app = Http::new().route("/table/v1/driving/{coords}", axum::routing::get(table)).with_state(f);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn config(url: String, max_table: usize) -> OsrmConfig {
    OsrmConfig { url, max_table, timeout: Duration::from_secs(5), breaker_failures: 3, breaker_cooldown: Duration::from_secs(60) }
}

fn client(url: String, max_table: usize) -> Arc<Osrm> {
    Arc::new(Osrm::new(config(url, max_table), Haversine::default(), None).unwrap())
}

fn points(n: usize) -> Vec<Point> {
    (0..n).map(|i| Point { lat: 46.15 + i as f64 * 0.01, lon: 6.05 + (i * 7 % 11) as f64 * 0.01 }).collect()
}

#[tokio::test]
async fn large_matrices_are_split_to_the_servers_limit() {
    let requests = Arc::new(AtomicUsize::new(0));
    let url = fake(Fake { requests: requests.clone(), max_table: 4, fail: None, null_corner: false, switch: Arc::default() }).await;
    let p = points(7);
    let whole = client(url.clone(), 100);
    // The server refuses 7 coordinates when its limit is 4 ...
    let err = whole.matrix(&p).await.unwrap_err();
    assert!(matches!(&err, OsrmError::Refused { code, .. } if code == "TooBig"), "{err:?}");
    // ... so a client told the limit asks for 2 × 2 blocks: 4 × 4 requests.
    requests.store(0, Ordering::SeqCst);
    let m = client(url, 4).matrix(&p).await.unwrap();
    assert_eq!(requests.load(Ordering::SeqCst), 16);
    let h = Haversine::default();
    for i in 0..7 {
        for j in 0..7 {
            assert_eq!(m.secs(i, j), h.secs(p[i], p[j]) * 2, "({i}, {j}) rounded from OSRM's seconds");
            assert_eq!(m.metres(i, j), (h.metres(p[i], p[j]) * 2.0).round() as i64);
        }
    }
}

#[tokio::test]
async fn unroutable_pairs_fall_back_to_the_model() {
    let url = fake(Fake { requests: Arc::default(), max_table: 100, fail: None, null_corner: true, switch: Arc::default() }).await;
    let p = points(3);
    let m = client(url, 100).matrix(&p).await.unwrap();
    let h = Haversine::default();
    assert_eq!(m.secs(0, 2), h.secs(p[0], p[2]), "null in OSRM's answer: the haversine estimate");
    assert_eq!(m.secs(0, 1), h.secs(p[0], p[1]) * 2, "the rest is OSRM's");
}

#[tokio::test]
async fn errors_open_the_breaker_and_the_router_falls_back() {
    let requests = Arc::new(AtomicUsize::new(0));
    let url = fake(Fake {
        requests: requests.clone(),
        max_table: 100,
        fail: Some((StatusCode::BAD_REQUEST, "InvalidQuery")),
        null_corner: false,
        switch: Arc::default(),
    })
    .await;
    let osrm = client(url.clone(), 100);
    for _ in 0..3 {
        let err = osrm.matrix(&points(3)).await.unwrap_err();
        assert!(matches!(&err, OsrmError::Refused { code, message } if code == "InvalidQuery" && message.contains("says no")), "{err:?}");
    }
    assert_eq!(osrm.breaker_state(), BreakerState::Open);
    assert!(matches!(osrm.matrix(&points(3)).await.unwrap_err(), OsrmError::Open));
    assert_eq!(requests.load(Ordering::SeqCst), 3, "an open breaker sends nothing");

    let cfg =
        OsrmConfig { url, max_table: 100, timeout: Duration::from_secs(5), breaker_failures: 3, breaker_cooldown: Duration::from_secs(60) };
    let router = Router::new(Haversine::default()).with_osrm(Osrm::new(cfg, Haversine::default(), None).unwrap());
    let (m, source) = router.matrix(&points(3)).await;
    assert_eq!(source, Source::Haversine);
    assert_eq!(m.secs(0, 1), Haversine::default().secs(points(3)[0], points(3)[1]));

    // Nothing listening: a connection error, the same fallback.
    let gone = Router::new(Haversine::default()).with_osrm(
        Osrm::new(
            OsrmConfig {
                url: "http://127.0.0.1:9".into(),
                max_table: 100,
                timeout: Duration::from_secs(2),
                breaker_failures: 3,
                breaker_cooldown: Duration::from_secs(60),
            },
            Haversine::default(),
            None,
        )
        .unwrap(),
    );
    assert_eq!(gone.matrix(&points(2)).await.1, Source::Haversine);
}

/// A trial matrix whose run is dropped mid-request (the run was cancelled)
/// counts as failed; after the cooldown the next matrix probes OSRM again and,
/// answered, closes the breaker: runs use OSRM again. The exported state follows.
#[tokio::test]
async fn a_trial_dropped_mid_request_is_followed_by_another_after_the_cooldown() {
    let requests = Arc::new(AtomicUsize::new(0));
    let controls = Arc::new(Controls { switch: Mutex::new(Switch::Fail(StatusCode::SERVICE_UNAVAILABLE, "Busy")), ..Controls::default() });
    let url = fake(Fake { requests: requests.clone(), max_table: 100, fail: None, null_corner: false, switch: controls.clone() }).await;
    let set = |to: Switch| *controls.switch.lock().unwrap() = to;
    let ticker = ManualTicker::default();
    let cooldown = Duration::from_secs(60);
    let osrm = Arc::new(Osrm::new(config(url, 100), Haversine::default(), None).unwrap().with_ticker(Arc::new(ticker.clone())));
    let gauge = osrm::state_gauge().unwrap();
    gauge.track(&[], osrm.breaker().clone());
    let exported = || gauge.collect()[0].get_metric()[0].get_gauge().get_value();
    let router = Router::new(Haversine::default()).with_primary(Arc::new(osrm.clone()));
    assert_eq!(exported(), 0.0);
    for _ in 0..3 {
        assert_eq!(router.matrix(&points(3)).await.1, Source::Haversine);
    }
    assert_eq!((osrm.breaker_state(), exported()), (BreakerState::Open, 1.0));

    ticker.advance(cooldown);
    assert_eq!((osrm.breaker_state(), exported()), (BreakerState::HalfOpen, 2.0));
    set(Switch::Hang);
    let trial = tokio::spawn({
        let router = router.clone();
        async move { router.matrix(&points(3)).await }
    });
    // The bound only turns a hang into a failure.
    tokio::time::timeout(Duration::from_secs(30), controls.hung.notified()).await.expect("the trial reaches OSRM");
    assert_eq!(exported(), 2.0, "the trial is in flight");
    trial.abort();
    assert!(trial.await.unwrap_err().is_cancelled());
    assert_eq!((osrm.breaker_state(), exported()), (BreakerState::Open, 1.0), "the dropped trial failed");

    ticker.advance(cooldown);
    set(Switch::Off);
    assert_eq!(router.matrix(&points(3)).await.1, Source::Osrm, "the next matrix probes OSRM and gets it");
    assert_eq!((osrm.breaker_state(), exported()), (BreakerState::Closed, 0.0));
    assert_eq!(router.matrix(&points(3)).await.1, Source::Osrm);
}

#[tokio::test]
async fn a_run_says_which_routing_it_used() {
    let url = fake(Fake { requests: Arc::default(), max_table: 100, fail: None, null_corner: false, switch: Arc::default() }).await;
    let t = start_with(kit::testing::TestBackend::Sqlite, &[("DISPATCH_OSRM_URL", url.as_str())]).await;
    t.driver(1, car("Car")).await;
    let p = t.patient(1, patient("P")).await;
    t.bookings(1, day_of_trips(p.id, 3)).await;
    let run = t.run(1, pb::RunMode::Full).await.unwrap().run.unwrap();
    assert_eq!((run.routing_source(), run.bookings_assigned), (pb::RoutingSource::Osrm, 3));
}
