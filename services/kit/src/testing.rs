//! The test harness: a fresh database per test (a SQLite file, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` is set), components started on
//! ephemeral ports and awaited until ready — never slept for.

use std::{
    future::Future,
    net::SocketAddr,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use atmr_proto::notify::v1 as pb;
use sea_orm::{ConnectionTrait as _, Database};
use tokio::task::JoinHandle;

use crate::{
    auth::{Role, fixture::FixedKeys},
    config::{Component, Env},
    lifecycle::{Lifecycle, Listeners},
};

/// The keys every test component holds (fixed seeds: see [`FixedKeys`]).
pub fn keys() -> FixedKeys {
    FixedKeys::get()
}

/// Where a test's data lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server of a test that needs one (two instances on one
/// database, a PostgreSQL-only path). Such a test is marked
/// `#[ignore = "needs PostgreSQL: …"]`, so that without the server it shows as
/// ignored instead of passing; run with `-- --include-ignored` (as `.ci/run`
/// does where the servers exist), a missing `TEST_DATABASE_URL` fails it here.
pub fn postgres_url() -> String {
    required("TEST_DATABASE_URL", "PostgreSQL")
}

/// The Redis server of a test that needs one; see [`postgres_url`].
pub fn redis_url() -> String {
    required("TEST_REDIS_URL", "Redis")
}

fn required(var: &str, server: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("this test needs {server}: set {var} (it runs only with --include-ignored)"),
    }
}

/// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set. Tests loop over
/// these so the same assertions run on both.
pub fn backends() -> Vec<TestBackend> {
    let mut all = vec![TestBackend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        all.push(TestBackend::Postgres);
    }
    all
}

/// A free loopback port for a process that is told its port rather than
/// handed a listener. Chosen below the kernel's ephemeral range (32768 and up
/// by default), so that no `bind(0)` and no outgoing connection elsewhere can
/// take it between this check and the process binding it; and never one this
/// process handed out before, since a port is only checked, not held, until
/// its process binds it (a mesh of five components asks for ten at once: two
/// of them alike made one component fail to listen).
pub fn free_port() -> u16 {
    use rand::Rng as _;
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = rand::rng().random_range(20_000..32_000);
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
}

/// Sends the services' log to the test's output, which the test harness
/// shows only when the test fails: warnings and errors by default (a failure
/// in CI then says what the service saw, an internal error's cause
/// included), everything from info up with `TEST_LOG=1`, or any filter such
/// as `TEST_LOG=atmr_dispatch=debug`.
pub fn init_logging() {
    let filter = match std::env::var("TEST_LOG") {
        Ok(v) if v == "1" => "info".to_owned(),
        Ok(v) if !v.is_empty() => v,
        _ => "warn".to_owned(),
    };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().with_ansi(false).try_init();
}

/// A database that exists for one test and is removed after it.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: TestBackend,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: TestBackend) -> anyhow::Result<Self> {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Ok(Self { url, backend, _dir: Some(dir), pg_admin: None })
            }
            TestBackend::Postgres => {
                let base = std::env::var("TEST_DATABASE_URL")
                    .ok()
                    .filter(|url| !url.trim().is_empty())
                    .ok_or_else(|| anyhow::anyhow!("a PostgreSQL test database needs TEST_DATABASE_URL"))?;
                let name = format!("atmr_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&base).await?;
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
                admin.close().await?;
                Ok(Self { url: with_database(&base, &name), backend, _dir: None, pg_admin: Some((base, name)) })
            }
        }
    }
}

impl TestDb {
    /// Another handle on a database some other `TestDb` owns (and drops).
    pub fn borrowed(url: &str) -> Self {
        let backend = if url.starts_with("sqlite") { TestBackend::Sqlite } else { TestBackend::Postgres };
        Self { url: url.to_owned(), backend, _dir: None, pg_admin: None }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.pg_admin.take() else { return };
        // Drop runs outside async context; a short-lived runtime on its own thread
        // removes the database so test runs do not accumulate them.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&base).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The environment a test component runs with: its database, the fixed test
/// keys (no revocation feed; safety's audit key given, never generated into a
/// data directory), short drain deadlines.
pub fn env_for(component: Component, database_url: &str) -> Env {
    let mut env = Env::default();
    env.set(&format!("{}_DATABASE_URL", component.env_prefix()), database_url);
    keys().configure(&mut env, component);
    env.set("ATMR_DRAIN_DEADLINE_MS", "5000");
    env
}

/// Inserts into one table made to fail, so a test can see what a failed write
/// leaves behind (nothing, when it is one transaction); see [`fail_inserts`].
#[derive(Debug)]
pub struct FailingInserts {
    db: sea_orm::DatabaseConnection,
    table: String,
}

/// Makes every insert into `table` of the database at `url` fail, with a
/// trigger that raises, until [`FailingInserts::remove`].
pub async fn fail_inserts(url: &str, table: &str) -> anyhow::Result<FailingInserts> {
    let db = crate::db::connect(url).await?;
    let trigger = format!("atmr_test_fail_{table}");
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {trigger} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ))
        .await?;
    } else {
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION atmr_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
        )
        .await?;
        db.execute_unprepared(&format!("CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION atmr_test_fail()"))
            .await?;
    }
    Ok(FailingInserts { db, table: table.to_owned() })
}

impl FailingInserts {
    /// Inserts into the table work again.
    pub async fn remove(self) -> anyhow::Result<()> {
        let trigger = format!("atmr_test_fail_{}", self.table);
        let sql = match self.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => format!("DROP TRIGGER {trigger}"),
            _ => format!("DROP TRIGGER {trigger} ON {}", self.table),
        };
        self.db.execute_unprepared(&sql).await?;
        self.db.close().await?;
        Ok(())
    }
}

/// How many rows of `table` in the database at `url` match `filter` (SQL).
pub async fn count_rows(url: &str, table: &str, filter: &str) -> anyhow::Result<i64> {
    let db = crate::db::connect(url).await?;
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}");
    let row = db.query_one(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await?;
    let n = row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0);
    db.close().await?;
    Ok(n)
}

/// A component running in this test.
#[derive(Debug)]
pub struct Spawned {
    /// The main listener (gRPC for services, HTTP for the gateway).
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub life: Lifecycle,
    pub task: JoinHandle<anyhow::Result<()>>,
    pub keys: FixedKeys,
}

impl Spawned {
    /// `http://addr` of the main listener.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// A valid token for a user of `company_id` in `role`.
    pub fn token(&self, company_id: i64, role: Role) -> String {
        self.keys.issue("1", "tester@example.com", company_id, role, Duration::from_secs(600))
    }

    /// Stops the component and waits for it to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.life.shutdown();
        self.task.await?
    }
}

/// Binds ephemeral listeners, runs `run` on them and waits until it reports ready.
pub async fn spawn<F, Fut>(run: F) -> anyhow::Result<Spawned>
where
    F: FnOnce(Listeners, Lifecycle) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let spawned = spawn_unready(run).await?;
    let mut spawned = spawned;
    // A generous bound so a broken component fails the test instead of hanging it;
    // nothing is asserted about how long start-up takes.
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::select! {
            ready = spawned.life.ready() => Ok(ready),
            joined = &mut spawned.task => Err(match joined {
                Ok(Ok(())) => anyhow::anyhow!("component exited before it was ready"),
                Ok(Err(e)) => e.context("component failed before it was ready"),
                Err(e) => anyhow::anyhow!("component panicked before it was ready: {e}"),
            }),
        }
    })
    .await;
    match waited {
        Ok(Ok(true)) => Ok(spawned),
        Ok(Ok(false)) => anyhow::bail!("component shut down before it was ready"),
        Ok(Err(e)) => Err(e),
        Err(_) => anyhow::bail!("component not ready after 60 s"),
    }
}

/// Like [`spawn`], without waiting for readiness.
pub async fn spawn_unready<F, Fut>(run: F) -> anyhow::Result<Spawned>
where
    F: FnOnce(Listeners, Lifecycle) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    spawn_unready_on(Listeners::ephemeral().await?, run).await
}

/// Like [`spawn`], on listeners bound beforehand (a component whose address
/// others are given before it starts: the gateway the services read keys and
/// revocations from).
pub async fn spawn_on<F, Fut>(listeners: Listeners, run: F) -> anyhow::Result<Spawned>
where
    F: FnOnce(Listeners, Lifecycle) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut spawned = spawn_unready_on(listeners, run).await?;
    tokio::select! {
        ready = spawned.life.ready() => anyhow::ensure!(ready, "component shut down before it was ready"),
        joined = &mut spawned.task => anyhow::bail!("component exited before it was ready: {joined:?}"),
    }
    Ok(spawned)
}

async fn spawn_unready_on<F, Fut>(listeners: Listeners, run: F) -> anyhow::Result<Spawned>
where
    F: FnOnce(Listeners, Lifecycle) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let addr = listeners.main.local_addr()?;
    let admin_addr = listeners.admin.local_addr()?;
    let life = Lifecycle::new();
    let task = tokio::spawn(run(listeners, life.clone()));
    Ok(Spawned { addr, admin_addr, life, task, keys: keys() })
}

/// A stand-in for the notify service that records every notification it is
/// handed (with the token it came with), so tests can assert what was sent.
pub struct NotifyRecorder {
    /// Where the recorder listens: the value for `NOTIFY_URL`.
    pub url: String,
    received: tokio::sync::mpsc::UnboundedReceiver<(atmr_proto::notify::v1::SendRequest, crate::auth::Claims)>,
}

struct Recorder {
    tx: tokio::sync::mpsc::UnboundedSender<(atmr_proto::notify::v1::SendRequest, crate::auth::Claims)>,
    verifier: std::sync::Arc<crate::auth::Verifier>,
    /// Calls still to refuse with UNAVAILABLE, as a notify that is restarting.
    refuse: AtomicUsize,
}

/// The recorder's refusals' shapes, short enough for one line each.
type Req<T> = tonic::Request<T>;
type Res<T> = Result<tonic::Response<T>, tonic::Status>;

#[tonic::async_trait]
impl pb::notify_service_server::NotifyService for Recorder {
    async fn send(
        &self,
        req: tonic::Request<atmr_proto::notify::v1::SendRequest>,
    ) -> Result<tonic::Response<atmr_proto::notify::v1::SendResponse>, tonic::Status> {
        let header = req.metadata().get("authorization").and_then(|v| v.to_str().ok());
        let claims = self
            .verifier
            .verify_call(header, "/atmr.notify.v1.NotifyService/Send")
            .await
            .map_err(|e| tonic::Status::unauthenticated(format!("notification without a valid token: {e:?}")))?;
        let refused = self.refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if refused {
            return Err(tonic::Status::unavailable("restarting"));
        }
        let _ = self.tx.send((req.into_inner(), claims));
        Ok(tonic::Response::new(Default::default()))
    }

    // The rest of notify's contract is not what the services under test call:
    // the recorder says so instead of pretending to be notify.
    async fn get_notification(&self, _: Req<pb::GetNotificationRequest>) -> Res<pb::GetNotificationResponse> {
        Err(send_only("GetNotification"))
    }

    async fn list_notifications(&self, _: Req<pb::ListNotificationsRequest>) -> Res<pb::ListNotificationsResponse> {
        Err(send_only("ListNotifications"))
    }

    async fn retry_notification(&self, _: Req<pb::RetryNotificationRequest>) -> Res<pb::RetryNotificationResponse> {
        Err(send_only("RetryNotification"))
    }

    async fn replay_dead_notifications(&self, _: Req<pb::ReplayDeadNotificationsRequest>) -> Res<pb::ReplayDeadNotificationsResponse> {
        Err(send_only("ReplayDeadNotifications"))
    }

    async fn create_channel(&self, _: Req<pb::CreateChannelRequest>) -> Res<pb::CreateChannelResponse> {
        Err(send_only("CreateChannel"))
    }

    async fn list_channels(&self, _: Req<pb::ListChannelsRequest>) -> Res<pb::ListChannelsResponse> {
        Err(send_only("ListChannels"))
    }

    async fn update_channel(&self, _: Req<pb::UpdateChannelRequest>) -> Res<pb::UpdateChannelResponse> {
        Err(send_only("UpdateChannel"))
    }

    async fn delete_channel(&self, _: Req<pb::DeleteChannelRequest>) -> Res<pb::DeleteChannelResponse> {
        Err(send_only("DeleteChannel"))
    }

    async fn create_route(&self, _: Req<pb::CreateRouteRequest>) -> Res<pb::CreateRouteResponse> {
        Err(send_only("CreateRoute"))
    }

    async fn list_routes(&self, _: Req<pb::ListRoutesRequest>) -> Res<pb::ListRoutesResponse> {
        Err(send_only("ListRoutes"))
    }

    async fn delete_route(&self, _: Req<pb::DeleteRouteRequest>) -> Res<pb::DeleteRouteResponse> {
        Err(send_only("DeleteRoute"))
    }

    async fn update_route(&self, _: Req<pb::UpdateRouteRequest>) -> Res<pb::UpdateRouteResponse> {
        Err(send_only("UpdateRoute"))
    }
}

/// Notify's verifier as the recorder needs it: every component may send.
fn recorder_verifier() -> std::sync::Arc<crate::auth::Verifier> {
    use crate::auth::{CallTable, RevocationView, Verifier, verify::PeerKeys, verify::UserKeys};
    const SEND: &str = "/atmr.notify.v1.NotifyService/Send";
    const SENDERS: CallTable =
        CallTable { calls: &[(Component::Dispatch, SEND), (Component::Safety, SEND), (Component::Bugs, SEND), (Component::Gateway, SEND)] };
    let fixed = keys();
    let peers = PeerKeys::new(Component::ALL.into_iter().map(|c| (c, fixed.component_key(c).public())));
    std::sync::Arc::new(Verifier::new(Component::Notify, std::sync::Arc::new(UserKeys::fixed(&[])), peers, SENDERS, RevocationView::off()))
}

fn send_only(rpc: &str) -> tonic::Status {
    tonic::Status::unimplemented(format!("the notify recorder of the tests records Send only, not {rpc}"))
}

impl NotifyRecorder {
    /// Starts a recorder on an ephemeral port; it runs until the test ends.
    pub async fn start() -> anyhow::Result<Self> {
        Self::refusing(0).await
    }

    /// A recorder that answers UNAVAILABLE to its first `refuse` calls.
    pub async fn refusing(refuse: usize) -> anyhow::Result<Self> {
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let service = atmr_proto::notify::v1::notify_service_server::NotifyServiceServer::new(Recorder {
            tx,
            verifier: recorder_verifier(),
            refuse: AtomicUsize::new(refuse),
        });
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        Ok(Self { url, received })
    }

    /// The next notification and the verified claims it came with; the bound only
    /// turns a hang into a failure.
    pub async fn next(&mut self) -> (atmr_proto::notify::v1::SendRequest, crate::auth::Claims) {
        tokio::time::timeout(Duration::from_secs(30), self.received.recv())
            .await
            .expect("a notification within 30 s")
            .expect("the recorder runs")
    }

    /// Whatever has arrived and not been taken yet, without waiting.
    pub fn pending(&mut self) -> Vec<atmr_proto::notify::v1::SendRequest> {
        std::iter::from_fn(|| self.received.try_recv().ok()).map(|(r, _)| r).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{free_port, with_database};

    /// Ports are checked, not held: one process asking many times must still
    /// get a different port each time (2,000 of 12,000 drawn at random would
    /// repeat one almost surely).
    #[test]
    fn a_process_never_gets_one_port_twice() {
        let mut ports: Vec<u16> = (0..2_000).map(|_| free_port()).collect();
        ports.sort_unstable();
        let before = ports.len();
        ports.dedup();
        assert_eq!(ports.len(), before, "a port handed out twice");
    }

    #[test]
    fn database_names_are_swapped() {
        assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
