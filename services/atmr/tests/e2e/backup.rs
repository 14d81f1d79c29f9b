//! A backup taken from a loaded mesh is restored with nothing lost. Data goes
//! in through the running mesh (drivers, a patient and bookings, a dispatch
//! run, autonomous actions in safety's audit chain, bugs, a notification
//! still pending because its webhook answers 503); the mesh stops; `atmr
//! backup`; the databases are dropped (PostgreSQL) or deleted (SQLite, the
//! files `atmr up` keeps, copied with the online backup API); a restore from a
//! backup with one byte changed is refused and writes nothing; `atmr restore`;
//! every table's count matches, the migrations are current, a second restore
//! without `--force` is refused naming what it found; the mesh starts again on
//! the restored databases, the audit chain verifies and the pending
//! notification reaches the webhook once it answers. A backup taken while
//! the mesh runs is whole, and the next one with a retention of one removes it.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use atmr_proto::{
    bugs::v1::{self as bugs_pb, bug_service_client::BugServiceClient},
    dispatch::v1::{self as pb, dispatch_service_client::DispatchServiceClient},
    safety::v1::{self as safety_pb, safety_service_client::SafetyServiceClient},
};
use kit::{
    Component, Env,
    auth::Role,
    testing::{self, Spawned, TestBackend, TestDb},
};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::{
    mesh::{Mesh, admin_token, start_mesh_configured, start_mesh_on},
    seed::{NEAR, Seed},
};

/// Notify retries the webhook often, and never gives up during the test.
pub(super) const NOTIFY: &[(&str, &str)] =
    &[("NOTIFY_MAX_ATTEMPTS", "100"), ("NOTIFY_BACKOFF_BASE_MS", "50"), ("NOTIFY_BACKOFF_MAX_SECS", "1"), ("NOTIFY_POLL_MS", "20")];

/// A webhook receiver on 127.0.0.1 that answers 503 until `open`, then 204,
/// counting the deliveries it accepted.
pub(super) struct Webhook {
    url: String,
    open: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
}

impl Webhook {
    pub(super) async fn start() -> Self {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (open, accepted) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (is_open, count) = (open.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 65536];
                let _ = stream.read(&mut buf).await;
                let answer = if is_open.load(Ordering::SeqCst) {
                    count.fetch_add(1, Ordering::SeqCst);
                    "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"
                } else {
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                };
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        Self { url, open, accepted }
    }
}

fn service(mesh: &Mesh, component: Component) -> &Spawned {
    &mesh.services.iter().find(|(c, _)| *c == component).expect("a service of the mesh").1
}

/// The environment `atmr backup` and `atmr restore` read: each component's database.
pub(super) fn env_of(dbs: &[TestDb]) -> Env {
    let mut env = Env::default();
    for (component, db) in Component::SERVICES.into_iter().chain([Component::Gateway]).zip(dbs) {
        env.set(&format!("{}_DATABASE_URL", component.env_prefix()), db.url.clone());
    }
    env
}

async fn get(http: &reqwest::Client, url: String, token: &str) -> Value {
    http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// Waits until the notification `id` has `status`.
async fn notification_reaches(http: &reqwest::Client, gw: &str, token: &str, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let d = get(http, format!("{gw}/api/notifications/{id}"), token).await;
        let attempted = d["attempts"].as_array().is_some_and(|a| !a.is_empty());
        if d["notification"]["status"] == status && (status != "pending" || attempted) {
            return d;
        }
        assert!(tokio::time::Instant::now() < deadline, "notification {id} never {status}: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Data in every component, through the running mesh; answers the pending notification's id.
pub(super) async fn load(mesh: &Mesh, webhook: &Webhook) -> String {
    let http = reqwest::Client::new();
    let gw = mesh.gateway.url();
    let token = admin_token(&http, &gw).await;

    let dispatch = service(mesh, Component::Dispatch);
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let seed = Seed { dispatch, now: day.and_hms_opt(9, 0, 0).unwrap().and_utc() };
    let drivers = [seed.driver("Ana", NEAR.0, NEAR.1).await, seed.driver("Ben", NEAR.0, NEAR.1).await];
    let patient = seed.patient().await;
    for i in 0..6 {
        seed.booking(patient, 30 * i, 30 * i + 45, NEAR.0).await;
    }
    let run = pb::RunDispatchRequest { service_day: day.to_string(), seed: 7, ..Default::default() };
    let run = kit::grpc::request(run, &dispatch.token(1, Role::Admin));
    DispatchServiceClient::connect(dispatch.url()).await.unwrap().run_dispatch(run).await.unwrap();
    assert_eq!(drivers.len(), 2);

    let safety = service(mesh, Component::Safety);
    let mut safety_client = SafetyServiceClient::connect(safety.url()).await.unwrap();
    for booking in 1..=4 {
        let req = safety_pb::AuthorizeActionRequest {
            action_type: "reassign".into(),
            action_description: format!("move booking {booking} to driver {}", drivers[0]),
            action_data: json!({ "booking": booking }).to_string(),
            trigger_source: "autonomous_manager".into(),
            ..Default::default()
        };
        let call_token = mesh.gateway.keys.call_token(Component::Dispatch, Component::Safety, 1);
        safety_client.authorize_action(kit::grpc::request(req, &call_token)).await.unwrap();
    }

    let bugs = service(mesh, Component::Bugs);
    let bug_client = BugServiceClient::connect(bugs.url()).await.unwrap();
    for (title, severity) in [("the board freezes", bugs_pb::Severity::Critical), ("a typo on the login page", bugs_pb::Severity::Low)] {
        let r = bugs_pb::CreateBugRequest {
            title: title.into(),
            description: format!("{title}, seen in production"),
            severity: severity as i32,
            stack_trace: format!("at {title}"),
            ..Default::default()
        };
        bug_client.clone().create_bug(kit::grpc::request(r, &bugs.token(1, Role::Reporter))).await.unwrap();
    }

    let channel = json!({ "name": "on call", "kind": "webhook", "url": webhook.url });
    let channel: Value =
        http.post(format!("{gw}/api/notification-channels")).bearer_auth(&token).json(&channel).send().await.unwrap().json().await.unwrap();
    let channel = channel["id"].as_str().unwrap_or_else(|| panic!("{channel}"));
    let sent = http.post(format!("{gw}/api/notification-channels/{channel}/test")).bearer_auth(&token).send().await.unwrap();
    let sent: Value = sent.json().await.unwrap();
    let id = sent["id"].as_str().unwrap_or_else(|| panic!("{sent}")).to_owned();
    notification_reaches(&http, &gw, &token, &id, "pending").await;
    id
}

/// Every table's row count, per database.
pub(super) async fn counts(dbs: &[TestDb], manifest: &atmr::backup::Manifest) -> Vec<(String, String, i64)> {
    let mut all = Vec::new();
    for (db, entry) in dbs.iter().zip(&manifest.databases) {
        for table in &entry.tables {
            let n = testing::count_rows(&db.url, &format!("\"{}\"", table.name), "1 = 1").await.unwrap();
            all.push((entry.components.join("+"), table.name.clone(), n));
        }
    }
    all
}

/// Removes each database: DROP DATABASE and an empty one created again, or the SQLite file deleted.
pub(super) async fn drop_all(dbs: &[TestDb]) {
    for db in dbs {
        match db.backend {
            TestBackend::Postgres => {
                let name = db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
                let admin = kit::db::connect(&testing::postgres_url()).await.unwrap();
                admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
                admin.close().await.unwrap();
            }
            TestBackend::Sqlite => {
                let path = kit::db::sqlite_path(&db.url).unwrap();
                for suffix in ["", "-wal", "-shm"] {
                    let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
                    if file.exists() {
                        std::fs::remove_file(&file).unwrap();
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn a_backup_of_a_loaded_mesh_is_restored_with_nothing_lost() {
    for backend in testing::backends() {
        let webhook = Webhook::start().await;
        let mesh = start_mesh_configured(backend, &[], NOTIFY).await;
        let pending = load(&mesh, &webhook).await;
        let target = tempfile::tempdir().unwrap();
        let args = atmr::backup::BackupArgs { to: Some(target.path().display().to_string()), ..Default::default() };
        // Online, while every component runs (and notify retries the webhook).
        let online = atmr::backup::backup(&args, &env_of(&mesh.dbs()), chrono::Utc::now()).await.unwrap();
        assert_eq!(online.manifest.databases.len(), 5, "{backend:?}");
        let dbs = mesh.stop().await;
        let env = env_of(&dbs);

        // Keeping one backup and no days of them, the online one goes once this one is whole.
        let keep_one = atmr::backup::BackupArgs { keep: Some(1), keep_days: Some(0), ..args };
        let started = std::time::Instant::now();
        let written = atmr::backup::backup(&keep_one, &env, chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap();
        let backup_took = started.elapsed();
        assert_eq!(written.removed, vec![online.dir.clone()], "{backend:?}");
        assert!(!online.dir.exists() && written.dir.exists(), "{backend:?}");
        let manifest = written.manifest;
        assert_eq!(manifest.databases.len(), 5, "{backend:?}: one database per component");
        let before = counts(&dbs, &manifest).await;
        let rows = |table: &str| before.iter().find(|(_, t, _)| t == table).map_or(0, |(_, _, n)| *n);
        for table in ["booking", "dispatch_run", "autonomous_action", "bug_reports", "notification", "notification_attempt", "users"] {
            assert!(rows(table) > 0, "{backend:?}: {table} is loaded: {before:?}");
        }
        for ((db, table, n), entry) in before.iter().zip(manifest.databases.iter().flat_map(|d| &d.tables)) {
            assert_eq!(*n as u64, entry.rows, "{backend:?}: {db}.{table} in the manifest");
        }

        drop_all(&dbs).await;
        // One byte changed in a copy of the backup: refused before anything is written.
        let tampered = tempfile::tempdir().unwrap();
        let copy = tampered.path().join("copy");
        copy_dir(&written.dir, &copy);
        let victim = copy.join(&manifest.databases[1].files[0].path);
        let mut bytes = std::fs::read(&victim).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        std::fs::write(&victim, bytes).unwrap();
        let refused = atmr::backup::restore(&restore_args(&copy, false), &env).await.unwrap_err();
        assert!(format!("{refused:#}").contains(&manifest.databases[1].files[0].path), "{backend:?}: {refused:#}");
        let safety_url = &dbs[1].url;
        assert_eq!(table_count(safety_url).await, 0, "{backend:?}: nothing written by a refused restore");

        let started = std::time::Instant::now();
        atmr::backup::restore(&restore_args(target.path(), false), &env).await.unwrap();
        // Printed for README's "Backups" (recovery time), never asserted.
        eprintln!("{backend:?}: backup {backup_took:?}, restore {:?}", started.elapsed());
        assert_eq!(counts(&dbs, &manifest).await, before, "{backend:?}: every table's count");
        for (component, db) in Component::SERVICES.into_iter().chain([Component::Gateway]).zip(&dbs) {
            let conn = kit::db::connect(&db.url).await.unwrap();
            let status = atmr_migrations::run(component.name(), atmr_migrations::Operation::Status, &conn).await.unwrap();
            assert!(status.iter().all(|m| m.applied), "{backend:?} {component}: {status:?}");
            conn.close().await.unwrap();
        }
        let again = atmr::backup::restore(&restore_args(target.path(), false), &env).await.unwrap_err();
        let again = format!("{again:#}");
        assert!(again.contains("not empty") && again.contains("booking (6 rows)"), "{backend:?}: {again}");

        webhook.open.store(true, Ordering::SeqCst);
        let mesh = start_mesh_on(dbs, &[], NOTIFY).await;
        let safety = service(&mesh, Component::Safety);
        let verify = kit::grpc::request(safety_pb::VerifyAuditChainRequest {}, &safety.token(1, Role::Admin));
        let chain = SafetyServiceClient::connect(safety.url()).await.unwrap().verify_audit_chain(verify).await.unwrap().into_inner();
        assert!(chain.intact && chain.rows_checked >= 4, "{backend:?}: {chain:?}");
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        notification_reaches(&http, &gw, &token, &pending, "delivered").await;
        assert!(webhook.accepted.load(Ordering::SeqCst) >= 1, "{backend:?}");
        mesh.stop().await;
    }
}

fn restore_args(from: &std::path::Path, force: bool) -> atmr::backup::RestoreArgs {
    atmr::backup::RestoreArgs { from: from.to_owned(), components: Vec::new(), force }
}

/// How many tables the database at `url` holds (none once dropped, or its file deleted).
pub(super) async fn table_count(url: &str) -> usize {
    if let Some(path) = kit::db::sqlite_path(url)
        && !path.exists()
    {
        return 0;
    }
    let db = kit::db::connect(url).await.unwrap();
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        _ => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
    };
    let n = db.query_all(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap().len();
    db.close().await.unwrap();
    n
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
