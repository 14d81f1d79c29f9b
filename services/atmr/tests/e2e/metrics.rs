//! The source document's metric families on every component's `/metrics`,
//! after real work through the gateway: the database's pool and statements
//! everywhere, the gateway's response cache and board streams, a dispatch
//! run's phases and unassigned bookings, a notification's delivery time and
//! safety's actions by outcome; each with its labels and a changed value.

use std::time::Duration;

use kit::{Component, auth::Role, testing};
use serde_json::{Value, json};

use crate::mesh::{Mesh, admin_token, board_until, hug_trip, start_mesh_with, van_and_patient};

/// A scrape of one admin port.
struct Scrape(String);

impl Scrape {
    async fn of(http: &reqwest::Client, admin_url: String) -> Self {
        Self(http.get(format!("{admin_url}/metrics")).send().await.unwrap().text().await.unwrap())
    }

    /// The samples of `name` whose labels include every one of `labels`.
    fn samples<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> impl Iterator<Item = f64> + 'a {
        self.0.lines().filter_map(move |line| {
            let rest = line.strip_prefix(name)?;
            let (set, value) = match rest.strip_prefix('{') {
                Some(r) => r.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            labels.iter().all(|(k, v)| set.split(',').any(|pair| pair == format!("{k}=\"{v}\""))).then(|| value.parse().unwrap())
        })
    }

    /// The sum of `name`'s samples with `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples(name, labels).sum()
    }

    /// The labels `label` takes on `name`'s samples with a value above 0.
    fn values_of(&self, name: &str, label: &str) -> Vec<String> {
        let prefix = format!("{label}=\"");
        self.0
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) && !l.ends_with(" 0"))
            .filter_map(|l| {
                l.split(['{', ',', '}']).find_map(|p| p.strip_prefix(prefix.as_str())).map(|v| v.trim_end_matches('"').to_owned())
            })
            .collect()
    }
}

fn admin_url(mesh: &Mesh, component: Component) -> String {
    match component {
        Component::Gateway => mesh.gateway.admin_url(),
        c => mesh.services.iter().find(|(s, _)| *s == c).expect("a service of the mesh").1.admin_url(),
    }
}

#[tokio::test]
async fn every_component_exports_the_source_families_after_real_work() {
    // Tomorrow (UTC): the windows below are in the future, whenever this runs.
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    for backend in testing::backends() {
        let mesh = start_mesh_with(backend, &[]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let components = [Component::Gateway, Component::Dispatch, Component::Safety, Component::Bugs, Component::Notify];
        let mut before = Vec::new();
        for c in components {
            before.push(Scrape::of(&http, admin_url(&mesh, c)).await);
        }
        let token = admin_token(&http, &gw).await;
        let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

        // The response cache: a miss, then a hit.
        for _ in 0..2 {
            assert_eq!(send(http.get(format!("{gw}/api/bugs/metrics/summary"))).await.unwrap().status(), 200);
        }

        // A day planned while the board is watched; one trip at 03:00, before the driver's shift.
        let (_, patient) = van_and_patient(&http, &gw, &token).await;
        let trip = |hour: u32| hug_trip(&patient, &day, hour);
        let batch = json!({ "bookings": [trip(8), trip(10), trip(14), trip(2)] });
        assert_eq!(send(http.post(format!("{gw}/api/bookings/batch")).json(&batch)).await.unwrap().status(), 201);
        let mut board = send(http.get(format!("{gw}/api/dispatch/board?service_day={day}"))).await.unwrap();
        let run = send(http.post(format!("{gw}/api/dispatch/runs")).json(&json!({ "service_day": day }))).await.unwrap();
        assert_eq!(run.status(), 201, "{backend:?}");
        board_until(&mut board, "event: created", 3).await;
        let open = Scrape::of(&http, mesh.gateway.admin_url()).await;
        assert_eq!(open.sum("websocket_connections_active", &[("stream", "api"), ("component", "gateway")]), 1.0, "{}", open.0);
        assert!(open.sum("websocket_messages_sent_total", &[("stream", "api")]) >= 3.0, "{}", open.0);
        drop(board);

        // An autonomous action authorized by dispatch's call token.
        let safety_url = mesh.services.iter().find(|(c, _)| *c == Component::Safety).unwrap().1.url();
        let mut safety = atmr_proto::safety::v1::safety_service_client::SafetyServiceClient::connect(safety_url).await.unwrap();
        let call = mesh.gateway.keys.call_token(Component::Dispatch, Component::Safety, 1);
        let req = atmr_proto::safety::v1::AuthorizeActionRequest {
            action_type: "reassign".into(),
            action_description: "move booking 12 to driver 4".into(),
            trigger_source: "autonomous_manager".into(),
            ..Default::default()
        };
        safety.authorize_action(kit::grpc::request(req, &call)).await.unwrap();

        // A notification, delivered by the built-in log channel.
        let dispatcher = testing::keys().issue("5", "d@example.com", 1, Role::Dispatcher, Duration::from_secs(600));
        let note = json!({ "event_type": "dispatch.delay", "title": "Retard course 42", "severity": "warning", "idempotency_key": "m-42" });
        let sent: Value =
            http.post(format!("{gw}/api/notifications")).bearer_auth(&dispatcher).json(&note).send().await.unwrap().json().await.unwrap();
        let id = sent["notifications"][0]["id"].as_str().unwrap().to_owned();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got: Value = send(http.get(format!("{gw}/api/notifications/{id}"))).await.unwrap().json().await.unwrap();
            if got["notification"]["status"] == "delivered" {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "not delivered: {got}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let mut after = Vec::new();
        for c in components {
            after.push(Scrape::of(&http, admin_url(&mesh, c)).await);
        }
        // Every component: its pool, read when scraped, and its statements by a fixed name.
        for ((c, was), now) in components.iter().zip(&before).zip(&after) {
            let me = [("component", c.name())];
            let text = &now.0;
            assert!(now.sum("db_connection_pool_size", &me) >= 1.0, "{c:?}: {text}");
            assert!((0.0..=now.sum("db_connection_pool_size", &me)).contains(&now.sum("db_connection_pool_available", &me)), "{text}");
            let statements = |s: &Scrape| s.sum("db_query_duration_seconds_count", &me);
            assert!(statements(now) > statements(was), "{c:?} timed no statement: {text}");
            for operation in now.values_of("db_query_duration_seconds_count", "operation") {
                assert!(
                    operation.len() <= kit::db::OPERATION_BUF
                        && operation.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{c:?}: {operation:?} is not a fixed name"
                );
            }
        }
        let [gateway, dispatch, safety, _, notify] = &after[..] else { unreachable!() };
        assert!(dispatch.values_of("db_query_duration_seconds_count", "operation").iter().any(|o| o == "insert_booking"), "{}", dispatch.0);

        // The gateway's response cache, by cache and backend.
        let backend_name =
            if gateway.sum("cache_hits_total", &[("cache", "responses"), ("backend", "redis")]) > 0.0 { "redis" } else { "memory" };
        let responses = [("cache", "responses"), ("backend", backend_name), ("component", "gateway")];
        assert_eq!(
            (gateway.sum("cache_misses_total", &responses), gateway.sum("cache_hits_total", &responses)),
            (1.0, 1.0),
            "{}",
            gateway.0
        );
        assert!(gateway.sum("cache_latency_seconds_count", &responses) >= 3.0, "two reads and a write: {}", gateway.0);
        if backend_name == "memory" {
            assert!(gateway.sum("cache_size_bytes", &responses) > 0.0, "{}", gateway.0);
        }
        for family in ["cache_evictions_total", "cache_expirations_total"] {
            assert!(gateway.samples(family, &[("cache", "responses")]).next().is_some(), "{family}: {}", gateway.0);
        }
        assert_eq!(gateway.sum("websocket_connections_active", &[("stream", "api")]), 0.0, "the stream closed: {}", gateway.0);

        // Dispatch: the run's phases, the trip it could not plan, the late pickups' counter.
        for phase in ["load", "solve", "write", "total"] {
            assert_eq!(dispatch.sum("dispatch_run_duration_seconds_count", &[("phase", phase)]), 1.0, "{phase}: {}", dispatch.0);
        }
        assert_eq!(dispatch.sum("dispatch_bookings_unassigned", &[]), 1.0, "{}", dispatch.0);
        assert!(dispatch.samples("dispatch_late_pickups_total", &[("component", "dispatch")]).next().is_some(), "{}", dispatch.0);

        assert!(notify.sum("notify_delivery_seconds_count", &[("kind", "log")]) >= 1.0, "{}", notify.0);
        assert_eq!(safety.sum("safety_actions_total", &[("outcome", "allowed")]), 1.0, "{}", safety.0);
        mesh.gateway.stop().await.unwrap();
    }
}
