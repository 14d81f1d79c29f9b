//! The OSRM client against a local server that answers in OSRM's format (from
//! the haversine model doubled, so its figures are recognisable), including
//! its error responses, `null` entries and the table size limit.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use atmr_dispatch::{
    domain::geo::Point,
    routing::{
        Haversine, Router, Source,
        osrm::{Osrm, OsrmConfig, OsrmError},
    },
};
use atmr_proto::dispatch::v1 as pb;
use axum::{
    Json, Router as Http,
    extract::{Path, Query, State},
    http::StatusCode,
};
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
    if let Some((status, code)) = f.fail {
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

fn client(url: String, max_table: usize) -> Arc<Osrm> {
    let cfg =
        OsrmConfig { url, max_table, timeout: Duration::from_secs(5), breaker_failures: 3, breaker_cooldown: Duration::from_secs(60) };
    Arc::new(Osrm::new(cfg, Haversine::default(), None).unwrap())
}

fn points(n: usize) -> Vec<Point> {
    (0..n).map(|i| Point { lat: 46.15 + i as f64 * 0.01, lon: 6.05 + (i * 7 % 11) as f64 * 0.01 }).collect()
}

#[tokio::test]
async fn large_matrices_are_split_to_the_servers_limit() {
    let requests = Arc::new(AtomicUsize::new(0));
    let url = fake(Fake { requests: requests.clone(), max_table: 4, fail: None, null_corner: false }).await;
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
    let url = fake(Fake { requests: Arc::default(), max_table: 100, fail: None, null_corner: true }).await;
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
    })
    .await;
    let osrm = client(url.clone(), 100);
    for _ in 0..3 {
        let err = osrm.matrix(&points(3)).await.unwrap_err();
        assert!(matches!(&err, OsrmError::Refused { code, message } if code == "InvalidQuery" && message.contains("says no")), "{err:?}");
    }
    assert!(osrm.breaker_open());
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

#[tokio::test]
async fn a_run_says_which_routing_it_used() {
    let url = fake(Fake { requests: Arc::default(), max_table: 100, fail: None, null_corner: false }).await;
    let t = start_with(kit::testing::TestBackend::Sqlite, &[("DISPATCH_OSRM_URL", url.as_str())]).await;
    t.driver(1, car("Car")).await;
    let p = t.patient(1, patient("P")).await;
    t.bookings(1, day_of_trips(p.id, 3)).await;
    let run = t.run(1, pb::RunMode::Full).await.unwrap().run.unwrap();
    assert_eq!((run.routing_source(), run.bookings_assigned), (pb::RoutingSource::Osrm, 3));
}
