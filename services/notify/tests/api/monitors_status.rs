//! The status page's reads: several monitors' heartbeats and uptimes in one
//! call, a monitor's incidents, and what the gateway's call token may read
//! for a public status page (the list of monitors, nothing else).

use atmr_proto::notify::v1 as pb;
use kit::{
    Component,
    testing::{TestBackend, TestDb, backends},
};
use tonic::Code;

use crate::monitors::{Mesh, Target, http_monitor, start_on};

impl Mesh {
    async fn recent(&self, ids: &[&str], limit: i32, token: &str) -> Result<pb::ListRecentHeartbeatsResponse, tonic::Status> {
        let r = pb::ListRecentHeartbeatsRequest { monitor_ids: ids.iter().map(|s| (*s).to_owned()).collect(), limit };
        self.monitors.clone().list_recent_heartbeats(kit::grpc::request(r, token)).await.map(|r| r.into_inner())
    }

    async fn uptimes(&self, ids: &[&str], token: &str) -> Result<pb::GetUptimesResponse, tonic::Status> {
        let r = pb::GetUptimesRequest { monitor_ids: ids.iter().map(|s| (*s).to_owned()).collect() };
        self.monitors.clone().get_uptimes(kit::grpc::request(r, token)).await.map(|r| r.into_inner())
    }

    async fn incidents(&self, r: pb::ListIncidentsRequest) -> Result<Vec<pb::Incident>, tonic::Status> {
        self.monitors.clone().list_incidents(kit::grpc::request(r, &self.s.admin(1))).await.map(|r| r.into_inner().incidents)
    }
}

fn incidents_of(id: &str) -> pb::ListIncidentsRequest {
    pb::ListIncidentsRequest { monitor_id: id.to_owned(), ..Default::default() }
}

#[tokio::test]
async fn a_status_page_reads_every_monitors_bars_and_uptimes_at_once_and_an_outage_as_an_incident() {
    for backend in backends() {
        let m = start_on(TestDb::new(backend).await.unwrap(), &[], |_| {}).await;
        let (web, db) = (Target::start().await, Target::start().await);
        let a = m.create(http_monitor("web", &web.url, 0)).await.unwrap();
        let b = m.create(http_monitor("database", &db.url, 0)).await.unwrap();
        let ids = [a.id.as_str(), b.id.as_str()];
        m.until_rounds(&ids, 1).await;
        web.set(false);
        m.round(&ids, 2).await;
        m.round(&ids, 3).await;
        web.set(true);
        m.round(&ids, 4).await;
        let admin = m.s.admin(1);

        // Bars: each monitor's newest checks, newest first, in the order asked.
        let recent = m.recent(&[b.id.as_str(), a.id.as_str()], 3, &admin).await.unwrap();
        let order: Vec<&str> = recent.monitors.iter().map(|h| h.monitor_id.as_str()).collect();
        assert_eq!(order, [b.id.as_str(), a.id.as_str()], "{backend:?}");
        let web_beats: Vec<bool> = recent.monitors[1].heartbeats.iter().map(|h| h.up).collect();
        assert_eq!(web_beats, [true, false, false], "{backend:?}: three newest, newest first");
        assert_eq!(recent.monitors[1].heartbeats[1].state(), pb::MonitorState::Down);
        assert_eq!(m.recent(&ids, 0, &admin).await.unwrap().monitors[0].heartbeats.len(), 4, "all four (up to 90)");

        // Uptimes: what GetUptime says of each.
        let uptimes = m.uptimes(&ids, &admin).await.unwrap().uptimes;
        let one = m
            .monitors
            .clone()
            .get_uptime(kit::grpc::request(pb::GetUptimeRequest { monitor_id: a.id.clone() }, &admin))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((uptimes[0].uptime_24h, uptimes[0].uptime_30d), (one.uptime_24h, one.uptime_30d), "{backend:?}");
        assert!((uptimes[0].uptime_24h - 50.0).abs() < 1e-9, "two of four checks up: {uptimes:?}");
        assert_eq!((uptimes[1].monitor_id.as_str(), uptimes[1].uptime_30d), (b.id.as_str(), 100.0));
        assert!(uptimes[1].avg_latency_ms_24h > 0.0, "{uptimes:?}");

        // The outage: from the first failing check to the first good one.
        let found = m.incidents(incidents_of(&a.id)).await.unwrap();
        assert_eq!(found.len(), 1, "{backend:?}: {found:?}");
        let (start, end) = (found[0].start_time.unwrap().seconds, found[0].end_time.unwrap().seconds);
        assert_eq!(end - start, 20, "down for two intervals");
        assert_eq!(found[0].message, "HTTP 503 Service Unavailable");
        assert!(m.incidents(incidents_of(&b.id)).await.unwrap().is_empty());

        // Down again: the newest incident is open; paused meanwhile, it ends then.
        web.set(false);
        m.round(&ids, 5).await;
        let found = m.incidents(incidents_of(&a.id)).await.unwrap();
        assert_eq!((found.len(), found[0].end_time), (2, None), "{backend:?}: newest first, still down");
        let paused = m
            .monitors
            .clone()
            .pause_monitor(kit::grpc::request(pb::PauseMonitorRequest { monitor_id: a.id.clone() }, &admin))
            .await
            .unwrap()
            .into_inner()
            .monitor
            .unwrap();
        let found = m.incidents(pb::ListIncidentsRequest { limit: 1, ..incidents_of(&a.id) }).await.unwrap();
        assert_eq!((found.len(), found[0].end_time), (1, paused.state_since), "{backend:?}");
    }
}

#[tokio::test]
async fn batch_reads_name_their_bad_fields_and_hide_other_companies_monitors() {
    let m = start_on(TestDb::new(TestBackend::Sqlite).await.unwrap(), &[], |_| {}).await;
    let target = Target::start().await;
    let a = m.create(http_monitor("web", &target.url, 0)).await.unwrap();
    let other = m.s.admin(2);
    let absent = "00000000-0000-4000-8000-000000000000";
    for ids in [[a.id.as_str()], [absent]] {
        let theirs = m.recent(&ids, 0, &other).await.unwrap_err();
        assert_eq!((theirs.code(), theirs.message()), (Code::NotFound, format!("monitor {} not found", ids[0]).as_str()));
        assert_eq!(m.uptimes(&ids, &other).await.unwrap_err().code(), Code::NotFound);
    }
    let admin = m.s.admin(1);
    let bad = [
        (m.recent(&[], 0, &admin).await.unwrap_err(), "monitor_ids"),
        (m.recent(&[a.id.as_str()], 101, &admin).await.unwrap_err(), "limit"),
        (m.uptimes(&[a.id.as_str(), " "], &admin).await.unwrap_err(), "monitor_ids[1]"),
        (m.incidents(pb::ListIncidentsRequest { limit: -1, ..incidents_of(&a.id) }).await.unwrap_err(), "limit"),
    ];
    for (err, field) in bad {
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(field)), "{err:?}");
    }
    let theirs = m.monitors.clone().list_incidents(kit::grpc::request(incidents_of(&a.id), &other)).await.unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound);
}

#[tokio::test]
async fn the_gateways_call_token_lists_a_companys_monitors_and_nothing_more() {
    let m = start_on(TestDb::new(TestBackend::Sqlite).await.unwrap(), &[], |_| {}).await;
    let target = Target::start().await;
    let mine = m.create(http_monitor("web", &target.url, 0)).await.unwrap();
    let r = pb::CreateMonitorRequest { monitor: Some(http_monitor("theirs", &target.url, 0)) };
    m.monitors.clone().create_monitor(kit::grpc::request(r, &m.s.admin(2))).await.unwrap();

    let gateway = m.s.svc.keys.call_token(Component::Gateway, Component::Notify, 1);
    let list = m.monitors.clone().list_monitors(kit::grpc::request(pb::ListMonitorsRequest {}, &gateway)).await.unwrap().into_inner();
    let names: Vec<&str> = list.monitors.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["web"], "the token's company only");

    // Anything else is refused to it, reads included.
    let mut mn = m.monitors.clone();
    let req = |msg| kit::grpc::request(msg, &gateway);
    let refused = [
        mn.create_monitor(req(pb::CreateMonitorRequest { monitor: Some(http_monitor("x", &target.url, 0)) })).await.map(drop),
        mn.get_monitor(kit::grpc::request(pb::GetMonitorRequest { monitor_id: mine.id.clone() }, &gateway)).await.map(drop),
        mn.pause_monitor(kit::grpc::request(pb::PauseMonitorRequest { monitor_id: mine.id.clone() }, &gateway)).await.map(drop),
        mn.list_heartbeats(kit::grpc::request(pb::ListHeartbeatsRequest { monitor_id: mine.id.clone(), ..Default::default() }, &gateway))
            .await
            .map(drop),
        mn.get_uptimes(kit::grpc::request(pb::GetUptimesRequest { monitor_ids: vec![mine.id.clone()] }, &gateway)).await.map(drop),
        mn.list_maintenance_windows(kit::grpc::request(pb::ListMaintenanceWindowsRequest {}, &gateway)).await.map(drop),
    ];
    for outcome in refused {
        assert_eq!(outcome.unwrap_err().code(), Code::PermissionDenied);
    }
    // Another component may not list them at all.
    let bugs = m.s.svc.keys.call_token(Component::Bugs, Component::Notify, 1);
    let err = mn.list_monitors(kit::grpc::request(pb::ListMonitorsRequest {}, &bugs)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}
