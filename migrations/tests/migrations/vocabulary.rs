//! Closed vocabularies: a value outside one is refused on insert and on
//! update, in every component's set, on SQLite (triggers) and PostgreSQL
//! (CHECK constraints); and a database that already holds one stops the
//! migration with a message naming the table, the column, the row and the value.

use atmr_migrations::{COMPONENTS, MigratorTrait as _, Operation, run};
use kit::testing::{TestDb, backends};
use sea_orm::{ConnectionTrait as _, DatabaseConnection};

const AT: &str = "'2026-01-01T00:00:00Z'";

/// One column under test per component: its constraint, a good and a bad
/// value, and a row of its table with a given value in that column.
struct Case {
    component: &'static str,
    constraint: &'static str,
    good: &'static str,
    bad: &'static str,
    insert: fn(&str) -> String,
    update: &'static str,
}

const CASES: [Case; 5] = [
    Case {
        component: "dispatch",
        constraint: "ck_driver_vehicle_kind",
        good: "car",
        bad: "bus",
        insert: |v| {
            format!(
                "INSERT INTO driver (company_id, name, phone, vehicle_kind, seats, wheelchair_places, shift_start_minute, \
                 shift_end_minute, depot_lat, depot_lon, status, created_at, updated_at) \
                 VALUES (1, 'D', '', '{v}', 4, 0, 360, 1200, 46.2, 6.1, 'available', {AT}, {AT})"
            )
        },
        update: "UPDATE driver SET vehicle_kind = 'bus'",
    },
    Case {
        component: "safety",
        constraint: "ck_autonomous_action_status",
        good: "failed",
        bad: "maybe",
        insert: |v| {
            format!(
                "INSERT INTO autonomous_action (company_id, action_type, action_description, success, created_at, updated_at, \
                 status, consumed_windows, chain_seq, prev_hash, row_hash) \
                 VALUES (1, 'reassign', 'd', FALSE, {AT}, {AT}, '{v}', '', 1, 'p', 'r')"
            )
        },
        update: "UPDATE autonomous_action SET status = 'maybe'",
    },
    Case {
        component: "bugs",
        constraint: "ck_bug_reports_severity",
        good: "2",
        bad: "9",
        insert: |v| {
            format!(
                "INSERT INTO bug_reports (company_id, title, description, severity, priority, category, status, reporter, \
                 environment, release_version, stack_trace, tags, fingerprint, occurrence_count, first_seen, last_seen, \
                 created_at, updated_at) \
                 VALUES (1, 't', 'd', {v}, 2, 'default', 'open', 'r@x.ch', 'production', '1', '', '', 'f', 1, {AT}, {AT}, {AT}, {AT})"
            )
        },
        update: "UPDATE bug_reports SET severity = 0",
    },
    Case {
        component: "notify",
        constraint: "ck_notify_channel_kind",
        good: "log",
        bad: "pigeon",
        insert: |v| {
            format!(
                "INSERT INTO notify_channel (id, company_id, name, kind, recipients, enabled, created_at, updated_at) \
                 VALUES ('c1', 1, 'c', '{v}', '', TRUE, {AT}, {AT})"
            )
        },
        update: "UPDATE notify_channel SET kind = 'pigeon'",
    },
    Case {
        component: "gateway",
        constraint: "ck_users_role",
        good: "admin",
        bad: "root",
        insert: |v| {
            format!(
                "INSERT INTO users (email, password_hash, role, company_id, active, created_at, updated_at) \
                 VALUES ('a@x.ch', 'h', '{v}', 1, TRUE, {AT}, {AT})"
            )
        },
        update: "UPDATE users SET role = 'root'",
    },
];

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

#[tokio::test]
async fn every_set_refuses_a_value_outside_its_vocabulary() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        for component in COMPONENTS {
            run(component, Operation::Up, &db).await.unwrap();
        }
        for c in &CASES {
            let err = exec(&db, &(c.insert)(c.bad)).await.expect_err(&format!("{backend:?} {}: a bad insert is refused", c.component));
            assert!(err.to_string().contains(c.constraint), "{backend:?} {}: {err}", c.component);
            exec(&db, &(c.insert)(c.good)).await.unwrap_or_else(|e| panic!("{backend:?} {}: a good row goes in: {e}", c.component));
            let err = exec(&db, c.update).await.expect_err(&format!("{backend:?} {}: a bad update is refused", c.component));
            assert!(err.to_string().contains(c.constraint), "{backend:?} {}: {err}", c.component);
        }
    }
}

#[tokio::test]
async fn a_stored_value_outside_its_vocabulary_stops_the_migration_and_is_named() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        // Everything but the vocabularies, then rows no version of the code writes.
        atmr_migrations::dispatch::Migrator::up(&db, Some(3)).await.unwrap();
        atmr_migrations::gateway::Migrator::up(&db, Some(2)).await.unwrap();
        let client = |id: i64, mobility: &str| {
            format!(
                "INSERT INTO client (id, company_id, name, phone, address, lat, lon, mobility, notes, created_at, updated_at) \
                 VALUES ({id}, 1, 'P', '', 'a', 46.2, 6.1, '{mobility}', '', {AT}, {AT})"
            )
        };
        exec(&db, &client(7, "ambulatory")).await.unwrap();
        exec(&db, &client(8, "hovercraft")).await.unwrap();
        exec(&db, &(CASES[4].insert)("root")).await.unwrap();

        let err = run("dispatch", Operation::Up, &db).await.expect_err("the dispatch vocabularies are refused");
        let message = err.to_string();
        assert!(
            message.contains("client.mobility") && message.contains("row 8") && message.contains("\"hovercraft\""),
            "{backend:?}: {message}"
        );
        assert!(!message.contains("row 7"), "{backend:?}: only the bad row is named: {message}");
        let err = run("gateway", Operation::Up, &db).await.expect_err("the gateway vocabulary is refused");
        assert!(err.to_string().contains("users.role") && err.to_string().contains("\"root\""), "{backend:?}: {err}");
        // Nothing was constrained: a bad value still goes in.
        exec(&db, &client(9, "levitating")).await.unwrap();

        exec(&db, "DELETE FROM client WHERE id IN (8, 9)").await.unwrap();
        exec(&db, "UPDATE users SET role = 'reporter'").await.unwrap();
        let applied = run("dispatch", Operation::Up, &db).await.unwrap();
        assert!(applied.iter().all(|m| m.applied), "{backend:?}: {applied:?}");
        run("gateway", Operation::Up, &db).await.unwrap();
        let err = exec(&db, &client(10, "hovercraft")).await.expect_err("refused once constrained");
        assert!(err.to_string().contains("ck_client_mobility"), "{backend:?}: {err}");
    }
}

#[tokio::test]
async fn a_driver_account_has_its_driver_and_no_other_account_has_one() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        run("gateway", Operation::Up, &db).await.unwrap();
        let user = |email: &str, role: &str, driver: &str| {
            format!(
                "INSERT INTO users (email, password_hash, role, company_id, active, created_at, updated_at, driver_id) \
                 VALUES ('{email}', 'h', '{role}', 1, TRUE, {AT}, {AT}, {driver})"
            )
        };
        exec(&db, &user("d1@x.ch", "driver", "7")).await.unwrap_or_else(|e| panic!("{backend:?}: a driver with its driver: {e}"));
        exec(&db, &user("a@x.ch", "admin", "NULL")).await.unwrap();
        for (what, sql) in [
            ("a driver without a driver", user("d2@x.ch", "driver", "NULL")),
            ("an admin with a driver", user("a2@x.ch", "admin", "8")),
            ("a driver's role taken away without its link", "UPDATE users SET role = 'dispatcher' WHERE email = 'd1@x.ch'".to_owned()),
            ("a link given to an admin", "UPDATE users SET driver_id = 9 WHERE email = 'a@x.ch'".to_owned()),
        ] {
            let err = exec(&db, &sql).await.expect_err(&format!("{backend:?}: {what} is refused"));
            assert!(err.to_string().contains("ck_users_driver_link"), "{backend:?} {what}: {err}");
        }
        let err = exec(&db, &user("d3@x.ch", "driver", "7")).await.expect_err("a second account for one driver");
        assert!(err.to_string().to_lowercase().contains("unique"), "{backend:?}: {err}");
        exec(&db, "UPDATE users SET role = 'dispatcher', driver_id = NULL WHERE email = 'd1@x.ch'").await.unwrap();
        let err = exec(&db, &user("r@x.ch", "root", "NULL")).await.expect_err("the role vocabulary still holds");
        assert!(err.to_string().contains("ck_users_role"), "{backend:?}: {err}");
    }
}
