//! Starts the notify service, and a local HTTP server that plays Discord and a
//! generic webhook with scripted answers, recording what it receives.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use atmr_proto::notify::v1::{self as pb, notify_service_client::NotifyServiceClient};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use kit::{
    Component,
    auth::Role,
    testing::{self, Spawned, TestBackend, TestDb},
};
use tonic::transport::Channel;

/// What the tests' configuration lets notify reach besides public addresses:
/// this machine, where the fake receivers and targets listen.
pub const LOOPBACK_ALLOWED: &str = "127.0.0.1/32,::1/128,localhost";

pub struct TestService {
    pub svc: Spawned,
    pub client: NotifyServiceClient<Channel>,
    pub db: TestDb,
}

/// Starts the service with fast retries; `extra` overrides.
pub async fn start(backend: TestBackend, extra: &[(&str, &str)]) -> TestService {
    let db = TestDb::new(backend).await.unwrap();
    start_on(db, extra).await
}

/// Starts an instance on an existing database (several may share one).
pub async fn start_on(db: TestDb, extra: &[(&str, &str)]) -> TestService {
    start_with_clock(db, extra, None).await
}

/// Starts an instance whose "now" is `clock` when given.
pub async fn start_with_clock(db: TestDb, extra: &[(&str, &str)], clock: Option<kit::clock::ManualClock>) -> TestService {
    start_configured(db, extra, |cfg| {
        if let Some(clock) = clock {
            cfg.clock = std::sync::Arc::new(clock);
        }
    })
    .await
}

/// Starts an instance with `configure` applied to its configuration (a
/// clock, a resolver). The local receivers and targets are on loopback, which
/// the egress policy refuses by default: the test configuration allows it
/// explicitly, as an operator would (`extra` may set another list).
pub async fn start_configured(db: TestDb, extra: &[(&str, &str)], configure: impl FnOnce(&mut atmr_notify::Config)) -> TestService {
    testing::init_logging();
    let mut env = testing::env_for(Component::Notify, &db.url);
    for (k, v) in [
        ("NOTIFY_BACKOFF_BASE_MS", "20"),
        ("NOTIFY_BACKOFF_MAX_SECS", "1"),
        ("NOTIFY_POLL_MS", "20"),
        ("NOTIFY_MAX_ATTEMPTS", "5"),
        ("NOTIFY_EGRESS_ALLOW", LOOPBACK_ALLOWED),
    ] {
        env.set(k, v);
    }
    for (k, v) in extra {
        env.set(k, *v);
    }
    let mut cfg = atmr_notify::Config::from_env(&env).unwrap();
    configure(&mut cfg);
    let svc = testing::spawn(move |listeners, life| atmr_notify::serve(cfg, listeners, life)).await.unwrap();
    let client = NotifyServiceClient::connect(svc.url()).await.unwrap();
    TestService { svc, client, db }
}

impl TestService {
    pub fn admin(&self, company: i64) -> String {
        self.svc.token(company, Role::Admin)
    }

    /// Sends as the bugs service would, for company 1.
    pub async fn send(&self, r: pb::SendRequest) -> Result<pb::SendResponse, tonic::Status> {
        let token = self.svc.keys.call_token(kit::Component::Bugs, kit::Component::Notify, 1);
        self.client.clone().send(kit::grpc::request(r, &token)).await.map(|r| r.into_inner())
    }

    pub async fn create_channel(&self, r: pb::CreateChannelRequest) -> Result<pb::Channel, tonic::Status> {
        self.client.clone().create_channel(kit::grpc::request(r, &self.admin(1))).await.map(|r| r.into_inner().channel.unwrap())
    }

    /// A webhook channel named `name` posting to `receiver`'s `/hook`.
    pub async fn webhook(&self, name: &str, receiver: &Receiver) -> pb::Channel {
        let r = pb::CreateChannelRequest {
            name: name.into(),
            kind: pb::ChannelKind::Webhook as i32,
            url: format!("{}/hook", receiver.url),
            ..Default::default()
        };
        self.create_channel(r).await.unwrap()
    }

    pub async fn create_route(&self, r: pb::CreateRouteRequest) -> Result<pb::Route, tonic::Status> {
        self.client.clone().create_route(kit::grpc::request(r, &self.admin(1))).await.map(|r| r.into_inner().route.unwrap())
    }

    pub async fn get(&self, id: &str) -> pb::GetNotificationResponse {
        let r = pb::GetNotificationRequest { notification_id: id.to_owned() };
        self.client.clone().get_notification(kit::grpc::request(r, &self.admin(1))).await.unwrap().into_inner()
    }

    pub async fn list(&self, r: pb::ListNotificationsRequest) -> pb::ListNotificationsResponse {
        self.client.clone().list_notifications(kit::grpc::request(r, &self.admin(1))).await.unwrap().into_inner()
    }

    /// Waits until the notification reaches `status` (a bound turns a hang into a failure).
    pub async fn until_status(&self, id: &str, status: pb::DeliveryStatus) -> pb::GetNotificationResponse {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.get(id).await;
            if got.notification.as_ref().unwrap().status() == status {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "notification {id} never became {status:?}: {got:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A request the fake receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    pub raw: Bytes,
}

#[derive(Clone, Default)]
struct Script {
    /// Answers to give, in order; when empty, the default.
    answers: Arc<Mutex<VecDeque<(u16, String)>>>,
    default: Arc<Mutex<(u16, String)>>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A local HTTP receiver on an ephemeral port: answers from its script, then its default.
pub struct Receiver {
    pub url: String,
    script: Script,
}

impl Receiver {
    pub async fn start() -> Self {
        let script = Script { default: Arc::new(Mutex::new((204, String::new()))), ..Script::default() };
        async fn handle(State(s): State<Script>, headers: HeaderMap, raw: Bytes) -> Response {
            let body = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
            s.received.lock().unwrap().push(Received { headers, body, raw });
            let (code, body) = s.answers.lock().unwrap().pop_front().unwrap_or_else(|| s.default.lock().unwrap().clone());
            let mut res = (StatusCode::from_u16(code).unwrap(), body).into_response();
            if code == 429 {
                res.headers_mut().insert("retry-after", "1".parse().unwrap());
                res.headers_mut().insert("content-type", "application/json".parse().unwrap());
            }
            res
        }
        let app = Router::new().route("/{*path}", post(handle)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script }
    }

    /// Queues answers (status, body) for the next requests.
    pub fn answer(&self, answers: &[(u16, &str)]) {
        self.script.answers.lock().unwrap().extend(answers.iter().map(|(c, b)| (*c, (*b).to_owned())));
    }

    pub fn set_default(&self, code: u16) {
        *self.script.default.lock().unwrap() = (code, String::new());
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.received.lock().unwrap().clone()
    }
}

pub fn event(title: &str) -> pb::SendRequest {
    pb::SendRequest {
        event_type: "bugs.regression".into(),
        title: title.into(),
        body: "It came back.".into(),
        severity: pb::Severity::Error as i32,
        fields: vec![pb::Field { name: "Environment".into(), value: "production".into(), inline: true }],
        ..Default::default()
    }
}
