//! The operator's monitors file (`ATMR_MONITORS_FILE`) applied at start:
//! twice without duplicates, a change applied by name, an entry marked
//! removed removed, and a bad file refused with nothing of it applied.

use std::path::{Path, PathBuf};

use kit::{
    Component,
    testing::{self, Spawned, TestDb, backends},
};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};

/// A directory of its own for one test's files, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("atmr-monitors-file-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts notify on `db` with the monitors file at `path`, the egress policy
/// at its default (nothing private allowed).
async fn start(db: &TestDb, path: &Path) -> anyhow::Result<Spawned> {
    testing::init_logging();
    let mut env = testing::env_for(Component::Notify, &db.url);
    env.set("ATMR_MONITORS_FILE", path.display().to_string());
    let cfg = atmr_notify::Config::from_env(&env)?;
    testing::spawn(move |listeners, life| atmr_notify::serve(cfg, listeners, life)).await
}

fn document(dir: &Dir, notify_interval: u32, severity: &str, removed: bool) -> String {
    // The webhook's token follows the severity, so that a change of one changes the other.
    let discord = dir.write("discord-url", &format!("https://discord.com/api/webhooks/1/token-{severity}\n"));
    format!(
        r#"
companies:
  - company: 0
    channels:
      - name: ops-discord
        kind: discord
        url_file: {discord}
    routes:
      - event_type: platform.alert
        min_severity: {severity}
        channel: ops-discord
    monitors:
      - name: notify
        kind: grpc_health
        target: 127.0.0.1:9094
        interval_seconds: {notify_interval}
        parent: postgres
        internal: true
      - name: postgres
        kind: tcp
        target: 127.0.0.1:5432
        internal: true
      - name: public-site
        kind: http
        target: https://example.org/
        removed: {removed}
    maintenance:
      - name: upgrade
        starts_at: 2026-12-06T02:00:00Z
        ends_at: 2026-12-06T03:00:00Z
        monitors: [notify]
        reason: PostgreSQL upgrade
        removed: {removed}
"#,
        discord = discord.display()
    )
}

/// The company's monitors by name: id, name, target, interval, internal, parent id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    id: String,
    name: String,
    target: String,
    interval: i32,
    internal: bool,
    parent: Option<String>,
}

async fn query(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap()
}

async fn monitors(db: &DatabaseConnection) -> Vec<Row> {
    let sql = "SELECT id, name, target, interval_secs, internal, parent_id FROM monitor WHERE company_id = 0 ORDER BY name";
    query(db, sql)
        .await
        .iter()
        .map(|r| Row {
            id: r.try_get("", "id").unwrap(),
            name: r.try_get("", "name").unwrap(),
            target: r.try_get("", "target").unwrap(),
            interval: r.try_get("", "interval_secs").unwrap(),
            internal: r.try_get("", "internal").unwrap(),
            parent: r.try_get("", "parent_id").unwrap(),
        })
        .collect()
}

fn named<'a>(rows: &'a [Row], name: &str) -> &'a Row {
    rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no monitor {name}: {rows:?}"))
}

async fn count(db: &DatabaseConnection, table: &str) -> usize {
    query(db, &format!("SELECT id FROM {table} WHERE company_id = 0")).await.len()
}

/// The company's channels: id and URL.
async fn channels(db: &DatabaseConnection) -> Vec<(String, String)> {
    let found = query(db, "SELECT id, url FROM notify_channel WHERE company_id = 0").await;
    found.iter().map(|r| (r.try_get("", "id").unwrap(), r.try_get::<Option<String>>("", "url").unwrap().unwrap_or_default())).collect()
}

/// The company's routes: event type and minimum severity.
async fn routes(db: &DatabaseConnection) -> Vec<(String, i16)> {
    let found = query(db, "SELECT event_type, min_severity FROM notify_route WHERE company_id = 0").await;
    found.iter().map(|r| (r.try_get("", "event_type").unwrap(), r.try_get("", "min_severity").unwrap())).collect()
}

#[tokio::test]
async fn the_file_is_applied_by_name_twice_without_duplicates_and_removes_only_what_it_marks() {
    for backend in backends() {
        let db = TestDb::new(backend).await.unwrap();
        let dir = Dir::new();
        // A monitor another file declared: the main file does not name it, so leaves it alone.
        let other = dir.write(
            "other.yaml",
            "companies:\n  - company: 0\n    monitors:\n      - {name: kept, kind: tcp, target: db.example.org:5432}\n",
        );
        drop(start(&db, &other).await.unwrap());
        let path = dir.write("monitors.yaml", &document(&dir, 30, "warning", false));
        let _first = start(&db, &path).await.unwrap();
        let conn = kit::db::connect(&db.url).await.unwrap();
        let first = monitors(&conn).await;
        let names: Vec<&str> = first.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["kept", "notify", "postgres", "public-site"], "{backend:?}");
        let (notify, postgres, site) = (named(&first, "notify"), named(&first, "postgres"), named(&first, "public-site"));
        assert_eq!(notify.parent.as_ref(), Some(&postgres.id), "{backend:?}: the parent, declared after its child, found by name");
        assert_eq!(
            (notify.internal, postgres.internal, site.internal),
            (true, true, false),
            "{backend:?}: internal only where the file says"
        );
        assert_eq!((notify.target.as_str(), notify.interval), ("127.0.0.1:9094", 30), "{backend:?}");
        let channel = channels(&conn).await;
        assert_eq!(channel.len(), 1, "{backend:?}");
        assert_eq!(channel[0].1, "https://discord.com/api/webhooks/1/token-warning", "{backend:?}: read from its file, trimmed");
        assert_eq!(routes(&conn).await, [("platform.alert".to_owned(), 2)], "{backend:?}");
        let window = query(&conn, "SELECT monitor_ids FROM maintenance_window WHERE company_id = 0").await;
        let ids: Vec<String> = window.iter().map(|r| r.try_get("", "monitor_ids").unwrap()).collect();
        assert_eq!(ids, std::slice::from_ref(&notify.id), "{backend:?}: the window's monitor by name");

        // Again, as a restart or a second replica does: nothing new.
        let _second = start(&db, &path).await.unwrap();
        assert_eq!(monitors(&conn).await, first, "{backend:?}: the same monitors, same ids");
        let counts = (count(&conn, "notify_channel").await, count(&conn, "notify_route").await, count(&conn, "maintenance_window").await);
        assert_eq!(counts, (1, 1, 1), "{backend:?}: nothing duplicated");

        // One monitor's interval and the route's severity changed: updated in place.
        std::fs::write(&path, document(&dir, 60, "error", false)).unwrap();
        let _third = start(&db, &path).await.unwrap();
        let changed = monitors(&conn).await;
        assert_eq!(named(&changed, "notify"), &Row { interval: 60, ..notify.clone() }, "{backend:?}: updated, same id");
        assert_eq!(named(&changed, "postgres"), postgres, "{backend:?}: the others untouched");
        assert_eq!(routes(&conn).await, [("platform.alert".to_owned(), 3)], "{backend:?}: one route, its severity changed");
        let rotated = channels(&conn).await;
        let expected = (channel[0].0.clone(), "https://discord.com/api/webhooks/1/token-error".to_owned());
        assert_eq!(rotated, [expected], "{backend:?}: the new URL, same channel");

        // Marked removed: removed; what the file does not name stays.
        std::fs::write(&path, document(&dir, 60, "error", true)).unwrap();
        let _fourth = start(&db, &path).await.unwrap();
        let left: Vec<String> = monitors(&conn).await.into_iter().map(|m| m.name).collect();
        assert_eq!(left, ["kept", "notify", "postgres"], "{backend:?}");
        assert_eq!(count(&conn, "maintenance_window").await, 0, "{backend:?}: the window marked removed");
    }
}

#[tokio::test]
async fn a_bad_file_is_refused_naming_file_entry_and_field_and_nothing_of_it_is_applied() {
    for backend in backends() {
        let db = TestDb::new(backend).await.unwrap();
        let dir = Dir::new();
        let head =
            "companies:\n  - company: 0\n    monitors:\n      - name: extra\n        kind: tcp\n        target: db.example.org:5432\n";
        let cases = [
            ("      - name: broken\n        kind: tcp\n        target: nowhere\n", "companies[0].monitors[1]: target must be host:port"),
            (
                "      - name: inside\n        kind: tcp\n        target: 10.0.0.5:5432\n",
                "companies[0].monitors[1]: target is refused by the egress policy",
            ),
            // Found bad only while writing: the transaction is undone.
            (
                "      - name: orphan\n        kind: tcp\n        target: db.example.org:5433\n        parent: ghost\n",
                "companies[0].monitors[1].parent: no monitor \"ghost\"",
            ),
            ("      - name: x\n        kind: tcp\n        target: a.example.org:1\n        colour: red\n", "unknown field `colour`"),
        ];
        for (i, (tail, expected)) in cases.iter().enumerate() {
            let path = dir.write(&format!("bad-{i}.yaml"), &format!("{head}{tail}"));
            let Err(err) = start(&db, &path).await else { panic!("{backend:?} case {i}: a bad file stops the start") };
            let err = format!("{err:#}");
            assert!(err.contains(&path.display().to_string()), "{backend:?}: names the file: {err}");
            assert!(err.contains(expected), "{backend:?}: {expected:?} in {err}");
            let conn = kit::db::connect(&db.url).await.unwrap();
            assert!(monitors(&conn).await.is_empty(), "{backend:?} case {i}: nothing applied, not even the good entry");
        }
        let missing = dir.0.join("absent.yaml");
        let Err(err) = start(&db, &missing).await else { panic!("{backend:?}: a missing file stops the start") };
        let err = format!("{err:#}");
        assert!(err.contains("absent.yaml") && err.contains("cannot read"), "{err}");
    }
}
