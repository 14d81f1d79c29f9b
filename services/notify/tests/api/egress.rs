//! Private targets refused by default: every spelling of an internal address
//! refused when saved (naming the field, storing nothing), a name resolving
//! to one and a redirect to one failing the check or the attempt with nothing
//! sent there, and the mesh's own monitors (registered by the system as
//! internal) the only exception. Names resolve through a table the test
//! injects, so `rebound.test` is 127.0.0.1 without touching `/etc/hosts`.

use std::{
    collections::HashMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use atmr_proto::notify::v1 as pb;
use kit::testing::{TestDb, backends};
use tonic::Code;

use crate::{
    harness::event,
    monitors::{Mesh, Target, http_monitor, start_on},
};

/// Names resolved from a table, as a test's DNS.
struct Table(HashMap<String, IpAddr>);

impl atmr_notify::Lookup for Table {
    fn lookup(&self, host: &str, port: u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        let found = self.0.get(host).map(|ip| vec![SocketAddr::new(*ip, port)]);
        Box::pin(async move { found.ok_or_else(|| std::io::Error::other("no such name")) })
    }
}

fn dns(names: &[(&str, &str)]) -> impl FnOnce(&mut atmr_notify::Config) {
    let table = Table(names.iter().map(|(n, ip)| ((*n).to_owned(), ip.parse().unwrap())).collect());
    move |cfg| cfg.egress = cfg.egress.clone().with_lookup(Arc::new(table))
}

/// A listener on `ip` that only counts the connections made to it (an HTTP
/// request, a gRPC call and a TCP check all start with one), answering
/// redirects to `location` when given. Its address and its count.
async fn listener(ip: &str, location: Option<String>) -> (SocketAddr, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            if let Some(to) = &location {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let answer = format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        }
    });
    (addr, hits)
}

fn monitor(name: &str, kind: pb::MonitorKind, target: &str) -> pb::Monitor {
    pb::Monitor { kind: kind as i32, target: target.into(), ..http_monitor(name, "", 0) }
}

impl Mesh {
    async fn list_monitors(&self) -> Vec<pb::Monitor> {
        let r = kit::grpc::request(pb::ListMonitorsRequest {}, &self.s.admin(1));
        self.monitors.clone().list_monitors(r).await.unwrap().into_inner().monitors
    }

    async fn get(&self, id: &str) -> pb::Monitor {
        let r = kit::grpc::request(pb::GetMonitorRequest { monitor_id: id.to_owned() }, &self.s.admin(1));
        self.monitors.clone().get_monitor(r).await.unwrap().into_inner().monitor.unwrap()
    }

    async fn update(&self, m: pb::Monitor) -> Result<pb::Monitor, tonic::Status> {
        let r = kit::grpc::request(pb::UpdateMonitorRequest { monitor: Some(m) }, &self.s.admin(1));
        self.monitors.clone().update_monitor(r).await.map(|r| r.into_inner().monitor.unwrap())
    }

    async fn channels(&self) -> Vec<pb::Channel> {
        let r = kit::grpc::request(pb::ListChannelsRequest {}, &self.s.admin(1));
        self.s.client.clone().list_channels(r).await.unwrap().into_inner().channels
    }

    /// Moves the clock `secs` on and waits for monitor `id`'s `n`th heartbeat.
    async fn round_of(&self, secs: i64, id: &str, n: usize) {
        self.clock.advance(chrono::Duration::seconds(secs));
        self.until_rounds(&[id], n).await;
    }

    /// The latest heartbeat of monitor `id` after its first round.
    async fn first_beat(&self, id: &str) -> pb::Heartbeat {
        self.until_rounds(&[id], 1).await;
        self.heartbeats(id).await.remove(0)
    }
}

fn assert_refused(err: &tonic::Status, field: &str, what: &str) {
    assert_eq!((err.code(), kit::error::field_of(err)), (Code::InvalidArgument, Some(field)), "{what}: {err:?}");
    assert!(err.message().contains("NOTIFY_EGRESS_ALLOW"), "{what}: the message says how to allow it: {err:?}");
}

#[tokio::test]
async fn every_form_of_a_private_address_is_refused_when_saved_and_nothing_is_stored() {
    for backend in backends() {
        let m = start_on(TestDb::new(backend).await.unwrap(), &[("NOTIFY_EGRESS_ALLOW", "")], |_| {}).await;
        let port = m.s.svc.addr.port();
        let mut refused = Vec::new();
        for url in [
            "http://127.0.0.1/health".to_owned(),
            "http://2130706433/".to_owned(),
            "http://0177.0.0.1/".to_owned(),
            "http://0x7f.1/".to_owned(),
            "http://127.1/".to_owned(),
            "http://[::1]/".to_owned(),
            "http://[::ffff:127.0.0.1]/".to_owned(),
            "http://[::127.0.0.1]/".to_owned(),
            "http://[64:ff9b::a9fe:a9fe]/".to_owned(),
            "http://[2002:7f00:1::]/".to_owned(),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://[fd00:ec2::254]/latest/meta-data/".to_owned(),
            "http://0.0.0.0/".to_owned(),
            "http://[::]/".to_owned(),
            "http://10.0.0.7/".to_owned(),
            "http://100.64.0.1/".to_owned(),
            "http://224.0.0.1/".to_owned(),
            "http://255.255.255.255/".to_owned(),
            "http://192.0.2.1/".to_owned(),
            "http://localhost:8080/health".to_owned(),
            "http://LOCALHOST./".to_owned(),
        ] {
            // With a keyword: the answer's body would be read back.
            refused.push(pb::Monitor { keyword: "ami-id".into(), ..monitor("http", pb::MonitorKind::Http, &url) });
        }
        for target in ["127.0.0.1:22", "2130706433:5432", "0177.0.0.1:6379", "0x7f.1:22", "[::1]:6379", "10.0.0.7:5432", "localhost:5432"] {
            refused.push(monitor("tcp", pb::MonitorKind::Tcp, target));
        }
        for target in [format!("127.0.0.1:{port}"), format!("[::ffff:127.0.0.1]:{port}"), format!("169.254.169.254:{port}")] {
            refused.push(monitor("grpc", pb::MonitorKind::GrpcHealth, &target));
        }
        for mon in refused {
            let err = m.create(mon.clone()).await.unwrap_err();
            assert_refused(&err, "monitor.target", &format!("{backend:?} {}", mon.target));
        }
        for (kind, url) in [
            (pb::ChannelKind::Webhook, "http://192.168.1.10/hook"),
            (pb::ChannelKind::Webhook, "http://2130706433/hook"),
            (pb::ChannelKind::Webhook, "http://0177.0.0.1/hook"),
            (pb::ChannelKind::Webhook, "http://[fd00:ec2::254]/hook"),
            (pb::ChannelKind::Discord, "http://[::ffff:127.0.0.1]/api/webhooks/1/x"),
            (pb::ChannelKind::Discord, "http://169.254.169.254/api/webhooks/1/x"),
        ] {
            let req = pb::CreateChannelRequest { name: "internal".into(), kind: kind as i32, url: url.into(), ..Default::default() };
            let err = m.s.create_channel(req).await.unwrap_err();
            assert_refused(&err, "url", url);
        }
        assert!(m.list_monitors().await.is_empty(), "{backend:?}: no monitor stored");
        assert!(m.channels().await.iter().all(|c| c.name != "internal"), "{backend:?}: no channel stored");
    }
}

/// A monitor allowed by name cannot be moved onto a private address by an
/// edit: the update is refused and the monitor is as it was.
#[tokio::test]
async fn an_edit_onto_a_private_address_is_refused_and_changes_nothing() {
    for backend in backends() {
        let target = Target::start().await;
        let named = target.url.replace("127.0.0.1", "status.internal");
        let resolve = dns(&[("status.internal", "127.0.0.1")]);
        let m = start_on(TestDb::new(backend).await.unwrap(), &[("NOTIFY_EGRESS_ALLOW", "status.internal")], resolve).await;
        let created = m.create(http_monitor("status page", &named, 0)).await.unwrap();
        assert!(m.first_beat(&created.id).await.up, "{backend:?}: a name the operator allowed is reached");
        let before = m.get(&created.id).await;
        let port = target.url.rsplit(':').next().unwrap();
        for onto in [format!("http://0x7f.1:{port}"), "http://169.254.169.254/latest/meta-data/".to_owned()] {
            let err = m.update(pb::Monitor { target: onto.clone(), keyword: "all good".into(), ..before.clone() }).await.unwrap_err();
            assert_refused(&err, "monitor.target", &onto);
        }
        assert_eq!(m.get(&created.id).await, before, "{backend:?}: unchanged");
    }
}

/// A name that resolves to a private address is saved (a name is not an
/// address) but never connected to: each check fails saying what the name
/// resolved to, and each delivery fails for good, nothing reaching the
/// listener. The same name allowed by the operator is reached.
#[tokio::test]
async fn a_name_resolving_to_a_private_address_fails_with_nothing_sent() {
    for backend in backends() {
        let (addr, hits) = listener("127.0.0.1", None).await;
        let port = addr.port();
        let names = [("rebound.test", "127.0.0.1"), ("metadata.test", "169.254.169.254")];
        let m =
            start_on(TestDb::new(backend).await.unwrap(), &[("NOTIFY_EGRESS_ALLOW", ""), ("NOTIFY_MAX_ATTEMPTS", "3")], dns(&names)).await;
        let mons = [
            pb::Monitor {
                keyword: "secret".into(),
                ..monitor("http", pb::MonitorKind::Http, &format!("http://rebound.test:{port}/admin"))
            },
            monitor("tcp", pb::MonitorKind::Tcp, &format!("rebound.test:{port}")),
            monitor("grpc", pb::MonitorKind::GrpcHealth, &format!("rebound.test:{port}")),
            monitor("metadata", pb::MonitorKind::Http, "http://metadata.test/latest/meta-data/"),
        ];
        for mon in mons {
            let created = m.create(mon).await.unwrap();
            let beat = m.first_beat(&created.id).await;
            assert!(!beat.up, "{backend:?} {}: {beat:?}", created.target);
            let expected = if created.name == "metadata" { "169.254.169.254 (link-local" } else { "127.0.0.1 (loopback)" };
            assert!(beat.message.starts_with("refused: ") && beat.message.contains(expected), "{}: {}", created.target, beat.message);
        }
        for (kind, path) in [(pb::ChannelKind::Webhook, "hook"), (pb::ChannelKind::Discord, "api/webhooks/1/x")] {
            let url = format!("http://rebound.test:{port}/{path}");
            let req = pb::CreateChannelRequest { name: format!("{kind:?}"), kind: kind as i32, url, ..Default::default() };
            let channel = m.s.create_channel(req).await.unwrap();
            let sent = m.s.send(pb::SendRequest { channel_id: channel.id.clone(), ..event("Rebound") }).await.unwrap();
            let got = m.s.until_status(&sent.notifications[0].id, pb::DeliveryStatus::Dead).await;
            assert_eq!(got.attempts.len(), 1, "{kind:?}: refused for good, not retried: {got:?}");
            let error = got.attempts[0].error.clone().unwrap_or_default();
            assert!(error.starts_with("refused: ") && error.contains("127.0.0.1 (loopback)"), "{kind:?}: {error}");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 0, "{backend:?}: nothing reached the private address");

        // The control: the operator allows the name, and the same check connects.
        let allowed = start_on(TestDb::new(backend).await.unwrap(), &[("NOTIFY_EGRESS_ALLOW", "rebound.test")], dns(&names)).await;
        let tcp = allowed.create(monitor("tcp", pb::MonitorKind::Tcp, &format!("rebound.test:{port}"))).await.unwrap();
        assert!(allowed.first_beat(&tcp.id).await.up, "{backend:?}");
        assert!(hits.load(Ordering::SeqCst) > 0);
    }
}

/// An allowed server that redirects to a private one: the redirect is not
/// followed, by a monitor or a webhook.
#[tokio::test]
async fn a_redirect_to_a_private_address_is_not_followed() {
    for backend in backends() {
        // All of 127.0.0.0/8 is loopback; only 127.0.0.1 is allowed.
        let (inside, inside_hits) = listener("127.0.0.2", None).await;
        let (front, front_hits) = listener("127.0.0.1", Some(format!("http://{inside}/admin"))).await;
        let m =
            start_on(TestDb::new(backend).await.unwrap(), &[("NOTIFY_EGRESS_ALLOW", "127.0.0.1/32"), ("NOTIFY_MAX_ATTEMPTS", "3")], |_| {})
                .await;
        let mon =
            m.create(pb::Monitor { keyword: "secret".into(), ..http_monitor("front", &format!("http://{front}/"), 0) }).await.unwrap();
        let beat = m.first_beat(&mon.id).await;
        assert!(!beat.up && beat.message.contains(&format!("redirect to http://{inside}/admin refused")), "{backend:?}: {}", beat.message);
        let req = pb::CreateChannelRequest {
            name: "front".into(),
            kind: pb::ChannelKind::Webhook as i32,
            url: format!("http://{front}/hook"),
            ..Default::default()
        };
        let channel = m.s.create_channel(req).await.unwrap();
        let sent = m.s.send(pb::SendRequest { channel_id: channel.id.clone(), ..event("Redirected") }).await.unwrap();
        let got = m.s.until_status(&sent.notifications[0].id, pb::DeliveryStatus::Dead).await;
        let error = got.attempts[0].error.clone().unwrap_or_default();
        assert!(error.starts_with("refused: redirect to"), "{backend:?}: {error}");
        assert_eq!(front_hits.load(Ordering::SeqCst), 2, "the allowed server was asked, once by each");
        assert_eq!(inside_hits.load(Ordering::SeqCst), 0, "{backend:?}: nothing reached the private address");
    }
}

/// The mesh's own monitors, registered by the system, are checked on
/// loopback with nothing allowed; a company admin can neither create one nor
/// turn one to another target or to reading a page, and an edit of its name
/// keeps it what it is.
#[tokio::test]
async fn the_mesh_monitors_are_internal_and_the_only_exception() {
    for backend in backends() {
        let db = TestDb::new(backend).await.unwrap();
        let url = db.url.clone();
        let m = start_on(db, &[("NOTIFY_EGRESS_ALLOW", "")], |_| {}).await;
        let gateway = Target::start().await;
        let notify = format!("127.0.0.1:{}", m.s.svc.addr.port());
        let targets = [
            atmr_notify::MeshTarget { name: "notify".into(), target: notify.clone(), grpc: true },
            atmr_notify::MeshTarget { name: "gateway".into(), target: gateway.url.clone(), grpc: false },
        ];
        assert_eq!(atmr_notify::register_mesh_monitors(&url, 1, &targets).await.unwrap(), 2);
        // Registered as due at the wall clock's now; the service's clock is
        // moved there, then by their interval (30 s) for each round.
        m.clock.set(chrono::Utc::now() + chrono::Duration::seconds(1));
        let mut mons = m.list_monitors().await;
        mons.sort_by(|a, b| a.name.cmp(&b.name));
        let (gw, nt) = (mons[0].clone(), mons[1].clone());
        for mon in [&gw, &nt] {
            assert!(m.first_beat(&mon.id).await.up, "{backend:?} {}: internal monitors reach loopback", mon.name);
        }

        // The same target asked for by an admin is refused.
        let err = m.create(monitor("mine", pb::MonitorKind::GrpcHealth, &notify)).await.unwrap_err();
        assert_refused(&err, "monitor.target", "an admin's copy of an internal monitor");
        // Moved, or made to read the page with a keyword, it is an ordinary
        // monitor: refused, and unchanged.
        let moved = pb::Monitor { target: notify.replace("127.0.0.1", "127.0.0.2"), ..nt.clone() };
        assert_refused(&m.update(moved).await.unwrap_err(), "monitor.target", "moved");
        let reading = pb::Monitor { keyword: "all good".into(), ..gw.clone() };
        assert_refused(&m.update(reading).await.unwrap_err(), "monitor.target", "a keyword");
        assert_eq!((m.get(&nt.id).await.target, m.get(&gw.id).await.keyword), (nt.target.clone(), String::new()));
        // Renamed, it is still one of the mesh's own, and still checked.
        m.update(pb::Monitor { name: "gateway (edge)".into(), ..gw.clone() }).await.unwrap();
        m.round_of(30, &gw.id, 2).await;
        assert!(m.heartbeats(&gw.id).await[0].up, "{backend:?}: renamed, still internal");

        // A later start applies the mesh's monitors again by name (the
        // monitors file's mechanism): "notify" is marked internal again (here
        // cleared by hand, as before the flag existed); "gateway", renamed,
        // is declared anew.
        let db = kit::db::connect(&url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&db, "UPDATE monitor SET internal = false").await.unwrap();
        m.round_of(30, &nt.id, 3).await;
        let beat = m.heartbeats(&nt.id).await.remove(0);
        assert!(!beat.up && beat.message.contains("refused"), "{backend:?}: not internal, refused: {}", beat.message);
        assert_eq!(atmr_notify::register_mesh_monitors(&url, 1, &targets).await.unwrap(), 1);
        assert_eq!(m.list_monitors().await.len(), 3);
        assert_eq!(atmr_notify::register_mesh_monitors(&url, 1, &targets).await.unwrap(), 0, "{backend:?}: nothing twice");
        m.round_of(30, &nt.id, 4).await;
        assert!(m.heartbeats(&nt.id).await[0].up, "{backend:?}: internal again");
    }
}
