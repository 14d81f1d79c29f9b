//! Every component's migration set goes up, all the way down and up again, on
//! SQLite and (with `TEST_DATABASE_URL`) PostgreSQL, and sets never touch each
//! other's tables; closed vocabularies are enforced (`vocabulary`); data a
//! migration fills in is right (`drift_after`); a hand-made schema is stamped
//! and an empty database migrated up to one version (`stamp`).

mod drift_after;
mod stamp;
mod vocabulary;

use atmr_migrations::{COMPONENTS, Operation, run};
use kit::testing::{TestDb, backends};
use sea_orm::{ConnectionTrait as _, Statement};

async fn table_names(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    };
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn every_set_goes_up_down_and_up_again() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        // Each operation on a connection of its own, as `atmr migrate` runs one
        // operation per process. (On SQLite, with one pool for up, down and up
        // again, a pooled connection once still saw a dropped index: 1 run in ~17.)
        let fresh = || kit::db::connect(&test_db.url);
        for component in COMPONENTS {
            let db = fresh().await.unwrap();
            let up = run(component, Operation::Up, &db).await.unwrap();
            assert!(up.iter().all(|m| m.applied), "{backend:?} {component}: {up:?}");
            let tables_up = table_names(&db).await;
            assert!(tables_up.contains(&format!("seaql_migrations_{component}")), "{backend:?}: {tables_up:?}");
            db.close().await.unwrap();

            let db = fresh().await.unwrap();
            let down = run(component, Operation::Down(up.len() as u32), &db).await.unwrap();
            assert!(down.iter().all(|m| !m.applied), "{backend:?} {component}: {down:?}");
            db.close().await.unwrap();

            let db = fresh().await.unwrap();
            let again = run(component, Operation::Up, &db).await.unwrap();
            assert_eq!(again, up, "{backend:?} {component}: a second up restores the same state");
            assert_eq!(table_names(&db).await, tables_up, "{backend:?} {component}: the same tables after down and up");
            db.close().await.unwrap();
        }
        let status = run("gateway", Operation::Status, &fresh().await.unwrap()).await.unwrap();
        assert_eq!(status.first().map(|m| m.name.as_str()), Some("m0001_users"));
    }
}

#[tokio::test]
async fn rolling_back_one_set_leaves_the_others_alone() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        run("gateway", Operation::Up, &db).await.unwrap();
        let applied = run("safety", Operation::Up, &db).await.unwrap().len() as u32;
        run("safety", Operation::Down(applied), &db).await.unwrap();
        let tables = table_names(&db).await;
        assert!(tables.contains(&"users".to_owned()), "{backend:?}: {tables:?}");
        assert!(!tables.contains(&"safety_limit".to_owned()), "{backend:?}: {tables:?}");
    }
}

#[tokio::test]
async fn an_unknown_component_is_named_in_the_error() {
    let test_db = TestDb::new(kit::testing::TestBackend::Sqlite).await.unwrap();
    let db = kit::db::connect(&test_db.url).await.unwrap();
    let err = run("billing", Operation::Up, &db).await.unwrap_err();
    assert!(err.to_string().contains("\"billing\""), "{err}");
}
