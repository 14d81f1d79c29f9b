//! Uptime monitors against local targets, on a manual clock: each advance of
//! the interval is one round of checks.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use atmr_proto::notify::v1::{self as pb, ListNotificationsRequest, monitor_service_client::MonitorServiceClient};
use axum::{Router, extract::State, http::StatusCode, routing::get};
use chrono::{DateTime, Utc};
use kit::{
    clock::ManualClock,
    testing::{TestBackend, TestDb, backends},
};
use tonic::{Code, transport::Channel};

use crate::harness::{TestService, start_configured};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z").unwrap().with_timezone(&Utc)
}

/// A local HTTP target answering 200 "all good" or 503, as switched.
pub(crate) struct Target {
    pub url: String,
    up: Arc<AtomicBool>,
}

impl Target {
    pub async fn start() -> Self {
        let up = Arc::new(AtomicBool::new(true));
        async fn health(State(up): State<Arc<AtomicBool>>) -> (StatusCode, &'static str) {
            if up.load(Ordering::SeqCst) { (StatusCode::OK, "all good") } else { (StatusCode::SERVICE_UNAVAILABLE, "draining") }
        }
        let app = Router::new().route("/health", get(health)).with_state(up.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, up }
    }

    pub fn set(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

pub(crate) struct Mesh {
    pub s: TestService,
    pub monitors: MonitorServiceClient<Channel>,
    pub clock: ManualClock,
}

async fn start(backend: TestBackend) -> Mesh {
    start_on(TestDb::new(backend).await.unwrap(), &[], |_| {}).await
}

/// Monitors on a manual clock, with `configure` applied (a resolver).
pub(crate) async fn start_on(db: TestDb, extra: &[(&str, &str)], configure: impl FnOnce(&mut atmr_notify::Config)) -> Mesh {
    let clock = ManualClock::new(t0());
    let mut env = vec![("NOTIFY_MONITOR_TICK_MS", "10")];
    env.extend_from_slice(extra);
    let manual = clock.clone();
    let s = start_configured(db, &env, move |cfg| {
        cfg.clock = Arc::new(manual);
        configure(cfg);
    })
    .await;
    let monitors = MonitorServiceClient::connect(s.svc.url()).await.unwrap();
    Mesh { s, monitors, clock }
}

impl Mesh {
    pub async fn create(&self, m: pb::Monitor) -> Result<pb::Monitor, tonic::Status> {
        let r = pb::CreateMonitorRequest { monitor: Some(m) };
        self.monitors.clone().create_monitor(kit::grpc::request(r, &self.s.admin(1))).await.map(|r| r.into_inner().monitor.unwrap())
    }

    pub async fn heartbeats(&self, id: &str) -> Vec<pb::Heartbeat> {
        let r = pb::ListHeartbeatsRequest { monitor_id: id.to_owned(), ..Default::default() };
        self.monitors.clone().list_heartbeats(kit::grpc::request(r, &self.s.admin(1))).await.unwrap().into_inner().heartbeats
    }

    /// Waits until every monitor in `ids` has `n` heartbeats (one round each per interval).
    pub async fn until_rounds(&self, ids: &[&str], n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        for id in ids {
            while self.heartbeats(id).await.len() < n {
                assert!(tokio::time::Instant::now() < deadline, "monitor {id} never reached {n} heartbeats");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// Moves the clock one interval on and waits for that round.
    pub async fn round(&self, ids: &[&str], n: usize) {
        self.clock.advance(chrono::Duration::seconds(10));
        self.until_rounds(ids, n).await;
    }

    pub async fn state(&self, id: &str) -> pb::MonitorState {
        let r = pb::GetMonitorRequest { monitor_id: id.to_owned() };
        self.monitors.clone().get_monitor(kit::grpc::request(r, &self.s.admin(1))).await.unwrap().into_inner().monitor.unwrap().state()
    }

    /// The monitor alerts queued so far, oldest first, as (event type, title).
    async fn alerts(&self) -> Vec<pb::Notification> {
        let mut all = self.s.list(ListNotificationsRequest { page: None, ..Default::default() }).await.notifications;
        all.retain(|n| n.event_type.starts_with("monitor."));
        all.reverse();
        all
    }
}

pub(crate) fn http_monitor(name: &str, url: &str, retries: i32) -> pb::Monitor {
    pb::Monitor {
        name: name.into(),
        kind: pb::MonitorKind::Http as i32,
        target: url.into(),
        interval_seconds: 10,
        timeout_seconds: 5,
        retries,
        recovery_checks: 1,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_monitor_goes_down_after_its_retries_and_up_again_with_two_alerts() {
    for backend in backends() {
        let m = start(backend).await;
        let target = Target::start().await;
        let mon = m.create(http_monitor("dispatch API", &target.url, 1)).await.unwrap();
        let id = mon.id.as_str();
        m.until_rounds(&[id], 1).await;
        assert_eq!(m.state(id).await, pb::MonitorState::Up, "{backend:?}");

        target.set(false);
        m.round(&[id], 2).await;
        assert_eq!(m.state(id).await, pb::MonitorState::Pending, "one failure: pending (1 retry)");
        m.round(&[id], 3).await;
        assert_eq!(m.state(id).await, pb::MonitorState::Down);
        m.round(&[id], 4).await;
        target.set(true);
        m.round(&[id], 5).await;
        assert_eq!(m.state(id).await, pb::MonitorState::Up);

        let alerts = m.alerts().await;
        let kinds: Vec<(&str, &str)> = alerts.iter().map(|n| (n.event_type.as_str(), n.title.as_str())).collect();
        assert_eq!(kinds, [("monitor.down", "dispatch API is down"), ("monitor.up", "dispatch API is up again")], "{backend:?}");
        assert_eq!(alerts[0].body, "HTTP 503 Service Unavailable");
        assert!(alerts[1].fields.iter().any(|f| f.name == "Downtime" && f.value == "20 s"), "{:?}", alerts[1].fields);
        let beats = m.heartbeats(id).await;
        assert_eq!(beats.iter().map(|b| b.up).collect::<Vec<_>>(), [true, false, false, false, true], "newest first");
        let uptime = m
            .monitors
            .clone()
            .get_uptime(kit::grpc::request(pb::GetUptimeRequest { monitor_id: id.to_owned() }, &m.s.admin(1)))
            .await
            .unwrap()
            .into_inner();
        assert!((uptime.uptime_24h - 40.0).abs() < 1e-9, "{uptime:?}");
    }
}

/// Resuming a monitor that is not paused, or pausing one twice, changes
/// nothing: a down monitor that has alerted stays down and does not alert
/// again, and the audit trail records one pause and one resume. (Resume used
/// to start any monitor's tally afresh: down and alerted, it alerted again.)
#[tokio::test]
async fn a_resume_without_a_pause_and_a_second_pause_change_nothing() {
    for backend in backends() {
        let m = start(backend).await;
        let target = Target::start().await;
        let mon = m.create(http_monitor("billing", &target.url, 0)).await.unwrap();
        let id = mon.id.as_str();
        m.until_rounds(&[id], 1).await;
        target.set(false);
        m.round(&[id], 2).await;
        assert_eq!(m.state(id).await, pb::MonitorState::Down, "{backend:?}");
        assert_eq!(m.alerts().await.len(), 1, "{backend:?}: one down alert");

        let admin = m.s.admin(1);
        let resume = || pb::ResumeMonitorRequest { monitor_id: id.to_owned() };
        let pause = || pb::PauseMonitorRequest { monitor_id: id.to_owned() };
        let resumed = m.monitors.clone().resume_monitor(kit::grpc::request(resume(), &admin)).await.unwrap().into_inner();
        assert_eq!(resumed.monitor.unwrap().state(), pb::MonitorState::Down, "{backend:?}: not paused, so nothing to resume");
        m.round(&[id], 3).await;
        assert_eq!(m.state(id).await, pb::MonitorState::Down, "{backend:?}");
        assert_eq!(m.alerts().await.len(), 1, "{backend:?}: still down, no second alert");

        let first = m.monitors.clone().pause_monitor(kit::grpc::request(pause(), &admin)).await.unwrap().into_inner().monitor.unwrap();
        m.clock.advance(chrono::Duration::seconds(10));
        let second = m.monitors.clone().pause_monitor(kit::grpc::request(pause(), &admin)).await.unwrap().into_inner().monitor.unwrap();
        assert_eq!(second.state(), pb::MonitorState::Paused);
        assert_eq!(second.state_since, first.state_since, "{backend:?}: paused since the first pause");
        let resumed = m.monitors.clone().resume_monitor(kit::grpc::request(resume(), &admin)).await.unwrap().into_inner();
        assert_eq!(resumed.monitor.unwrap().state(), pb::MonitorState::Pending, "{backend:?}");

        let url = m.s.db.url.clone();
        let records = |action: &str| {
            let filter = format!("record LIKE '%\"resource_id\":\"{id}\"%' AND record LIKE '%\"action\":\"{action}\"%'");
            let url = url.clone();
            async move { kit::testing::count_rows(&url, "notify_audit_outbox", &filter).await.unwrap() }
        };
        assert_eq!((records("pause").await, records("resume").await), (1, 1), "{backend:?}: one pause and one resume recorded");
    }
}

#[tokio::test]
async fn a_parent_and_its_children_down_together_make_one_alert() {
    for backend in backends() {
        let m = start(backend).await;
        let (router, api, db) = (Target::start().await, Target::start().await, Target::start().await);
        let parent = m.create(http_monitor("router", &router.url, 0)).await.unwrap();
        let child = |name: &str, url: &str| pb::Monitor { parent_id: Some(parent.id.clone()), ..http_monitor(name, url, 0) };
        let a = m.create(child("api", &api.url)).await.unwrap();
        let b = m.create(child("database", &db.url)).await.unwrap();
        let ids = [parent.id.as_str(), a.id.as_str(), b.id.as_str()];
        m.until_rounds(&ids, 1).await;

        for t in [&router, &api, &db] {
            t.set(false);
        }
        m.round(&ids, 2).await;
        m.round(&ids, 3).await;
        for id in ids {
            assert_eq!(m.state(id).await, pb::MonitorState::Down, "{backend:?}");
        }
        let alerts = m.alerts().await;
        assert_eq!(alerts.len(), 1, "{backend:?}: one alert for the outage: {alerts:?}");
        assert_eq!(alerts[0].title, "router is down", "it names the root cause");
        assert!(alerts[0].fields.iter().any(|f| f.value == "api, database"), "and what depends on it: {:?}", alerts[0].fields);

        for t in [&router, &api, &db] {
            t.set(true);
        }
        m.round(&ids, 4).await;
        let titles: Vec<String> = m.alerts().await.into_iter().map(|n| n.title).collect();
        assert_eq!(titles, ["router is down", "router is up again"], "children whose alerts were held do not announce their return");
    }
}

#[tokio::test]
async fn maintenance_silences_alerts_and_is_left_out_of_uptime() {
    let m = start(TestBackend::Sqlite).await;
    let target = Target::start().await;
    let mon = m.create(http_monitor("billing", &target.url, 0)).await.unwrap();
    let id = mon.id.as_str();
    m.until_rounds(&[id], 1).await;
    let ts = |t: DateTime<Utc>| Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 });
    let window = pb::MaintenanceWindow {
        monitor_ids: vec![mon.id.clone()],
        start_time: ts(t0()),
        end_time: ts(t0() + chrono::Duration::seconds(25)),
        reason: "database upgrade".into(),
        ..Default::default()
    };
    let r = pb::CreateMaintenanceWindowRequest { window: Some(window) };
    m.monitors.clone().create_maintenance_window(kit::grpc::request(r, &m.s.admin(1))).await.unwrap();
    target.set(false);
    m.round(&[id], 2).await;
    m.round(&[id], 3).await;
    assert_eq!(m.state(id).await, pb::MonitorState::Maintenance);
    assert!(m.alerts().await.is_empty(), "silenced");
    let req = pb::GetUptimeRequest { monitor_id: id.to_owned() };
    let uptime = m.monitors.clone().get_uptime(kit::grpc::request(req.clone(), &m.s.admin(1))).await.unwrap().into_inner();
    assert_eq!(uptime.uptime_24h, 100.0, "checks in maintenance do not count");
    // The window ends; still down: now it alerts.
    m.round(&[id], 4).await;
    assert_eq!(m.state(id).await, pb::MonitorState::Down);
    assert_eq!(m.alerts().await.len(), 1);

    // Paused: no checks.
    let paused =
        m.monitors.clone().pause_monitor(kit::grpc::request(pb::PauseMonitorRequest { monitor_id: id.to_owned() }, &m.s.admin(1))).await;
    assert_eq!(paused.unwrap().into_inner().monitor.unwrap().state(), pb::MonitorState::Paused);
    m.clock.advance(chrono::Duration::seconds(10));
    let resumed =
        m.monitors.clone().resume_monitor(kit::grpc::request(pb::ResumeMonitorRequest { monitor_id: id.to_owned() }, &m.s.admin(1))).await;
    assert_eq!(resumed.unwrap().into_inner().monitor.unwrap().state(), pb::MonitorState::Pending);
    m.until_rounds(&[id], 5).await;
}

/// gRPC health monitors by address and by name: the service's own health
/// service answers SERVING (the check resolves the name itself and connects to
/// the address it checked, keeping the name as the request's authority).
#[tokio::test]
async fn a_grpc_health_monitor_is_up_by_address_and_by_name() {
    let m = start(TestBackend::Sqlite).await;
    let port = m.s.svc.addr.port();
    let grpc = |name: &str, target: String| pb::Monitor { kind: pb::MonitorKind::GrpcHealth as i32, target, ..http_monitor(name, "", 0) };
    let by_addr = m.create(grpc("by address", format!("127.0.0.1:{port}"))).await.unwrap();
    let by_name = m.create(grpc("by name", format!("localhost:{port}"))).await.unwrap();
    let ids = [by_addr.id.as_str(), by_name.id.as_str()];
    m.until_rounds(&ids, 1).await;
    for id in ids {
        assert_eq!(m.state(id).await, pb::MonitorState::Up, "{id}");
    }
}

#[tokio::test]
async fn bad_monitors_name_the_field() {
    let m = start(TestBackend::Sqlite).await;
    let ok = http_monitor("ok", "http://127.0.0.1:1/health", 0);
    let cases: Vec<(pb::Monitor, &str)> = vec![
        (pb::Monitor { interval_seconds: 5, ..ok.clone() }, "monitor.interval_seconds"),
        (pb::Monitor { target: "not a url".into(), ..ok.clone() }, "monitor.target"),
        (pb::Monitor { kind: pb::MonitorKind::Tcp as i32, target: "no-port".into(), ..ok.clone() }, "monitor.target"),
        (pb::Monitor { name: String::new(), ..ok.clone() }, "monitor.name"),
        (pb::Monitor { kind: 0, ..ok.clone() }, "monitor.kind"),
        (pb::Monitor { timeout_seconds: 11, ..ok.clone() }, "monitor.timeout_seconds"),
        (pb::Monitor { retries: 11, ..ok.clone() }, "monitor.retries"),
        (pb::Monitor { parent_id: Some("nope".into()), ..ok.clone() }, "monitor.parent_id"),
    ];
    for (mon, which) in cases {
        let err = m.create(mon).await.unwrap_err();
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(which)), "{err:?}");
    }
    let list = m.monitors.clone().list_monitors(kit::grpc::request(pb::ListMonitorsRequest {}, &m.s.admin(1))).await.unwrap().into_inner();
    assert!(list.monitors.is_empty(), "nothing stored");
    let created = m.create(ok.clone()).await.unwrap();
    assert_eq!(m.create(ok).await.unwrap_err().code(), Code::AlreadyExists);
    // A monitor cannot become its own ancestor.
    let mut update = created.clone();
    update.parent_id = Some(created.id.clone());
    let err = m
        .monitors
        .clone()
        .update_monitor(kit::grpc::request(pb::UpdateMonitorRequest { monitor: Some(update) }, &m.s.admin(1)))
        .await
        .unwrap_err();
    assert_eq!(kit::error::field_of(&err), Some("monitor.parent_id"));
}

/// Two admins making each of two monitors the other's parent at the same
/// moment: one is saved, the other is told the monitor would be its own
/// ancestor (a cycle of failing parents would hold back every alert in it).
#[tokio::test]
async fn two_monitors_cannot_become_each_other_s_parent_at_once() {
    for backend in backends() {
        let m = start(backend).await;
        let a = m.create(http_monitor("a", "http://127.0.0.1:1/health", 0)).await.unwrap();
        let b = m.create(http_monitor("b", "http://127.0.0.1:1/health", 0)).await.unwrap();
        let admin = m.s.admin(1);
        let update = |mon: &pb::Monitor, parent: Option<&String>| {
            let monitor = pb::Monitor { parent_id: parent.cloned(), ..mon.clone() };
            let mut client = m.monitors.clone();
            let request = kit::grpc::request(pb::UpdateMonitorRequest { monitor: Some(monitor) }, &admin);
            async move { client.update_monitor(request).await }
        };
        for round in 0..20 {
            update(&a, None).await.unwrap();
            update(&b, None).await.unwrap();
            let (x, y) = tokio::join!(update(&a, Some(&b.id)), update(&b, Some(&a.id)));
            assert!(x.is_ok() != y.is_ok(), "{backend:?}, round {round}: {x:?} {y:?}");
            let refused = x.err().or(y.err()).unwrap();
            assert_eq!((refused.code(), kit::error::field_of(&refused)), (Code::InvalidArgument, Some("monitor.parent_id")), "{refused:?}");
        }
    }
}

#[tokio::test]
async fn heartbeats_older_than_the_retention_are_pruned() {
    let m = start(TestBackend::Sqlite).await;
    let target = Target::start().await;
    let mon = m.create(http_monitor("old", &target.url, 0)).await.unwrap();
    let id = mon.id.as_str();
    m.until_rounds(&[id], 1).await;
    m.round(&[id], 2).await;
    // 31 days and more later, the next round's heartbeat is the only one kept.
    m.clock.advance(chrono::Duration::days(32));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let beats = m.heartbeats(id).await;
        if beats.len() == 1 && beats[0].time.unwrap().seconds > (t0() + chrono::Duration::days(31)).timestamp() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "old heartbeats never pruned: {} left", beats.len());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
