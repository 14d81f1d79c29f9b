//! End-to-end tests of the mesh: components started on ephemeral ports with
//! fresh databases, called over real gRPC and HTTP. Each database test runs on
//! SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL.

mod audit_trail;
mod audit_verify;
mod autonomy;
mod backup;
mod backup_s3;
mod browser;
mod console;
mod console_actions;
mod console_admin;
mod console_bugs;
mod console_notifications;
mod console_status;
mod contract;
mod deploy;
mod deploy_trace;
mod driver;
mod egress;
mod health;
mod isolation;
mod leaks;
mod mesh;
mod metrics;
mod outbox;
mod people_day;
mod revocation;
mod seed;
mod tidy;
mod tokens;
mod tracing_hop;

use kit::{Component, Env, testing};

/// Starts `component` alone with its own fresh database.
pub async fn spawn_one(component: Component, db: &testing::TestDb, extra: &[(&str, &str)]) -> testing::Spawned {
    testing::init_logging();
    let mut env = testing::env_for(component, &db.url);
    // The tests' webhook receivers and monitor targets listen on 127.0.0.1,
    // which notify refuses unless the operator allows it (as here, explicitly).
    if component == Component::Notify {
        env.set("NOTIFY_EGRESS_ALLOW", "127.0.0.1/32");
    }
    for (k, v) in extra {
        env.set(k, *v);
    }
    testing::spawn(move |listeners, life| async move { atmr::serve(component, &env, listeners, life).await })
        .await
        .unwrap_or_else(|e| panic!("{component} did not start: {e:#}"))
}

/// The gateway's environment: the fixed test keys, then `pairs`.
pub fn env_with(pairs: &[(String, String)]) -> Env {
    let mut env = Env::default();
    testing::keys().configure(&mut env, Component::Gateway);
    for (k, v) in pairs {
        env.set(k, v.clone());
    }
    env
}
