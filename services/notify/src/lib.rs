//! The `notify` component owns the notification outbox and the uptime
//! monitors. `Send` stores one row per routed channel (the log when no rule
//! matches) and returns at once; workers claim due rows under a lease and
//! deliver them to the log, Discord, signed webhooks or email, with retries,
//! dead letters and replay. Monitors check HTTP, gRPC health and TCP targets
//! and alert through the same outbox.
//!
//! `serve` only assembles: `api/` (the gRPC services, the only place with
//! protos) over `core/` (the use cases); `outbox/` (workers and transports)
//! and `monitors/` (the scheduler and its probes) run beside them, after
//! `declared` has applied the operator's monitors file; all SQL is in
//! `store/`, the pure rules in `domain/`.

mod api;
mod config;
mod core;
mod declared;
mod domain;
mod error;
mod metrics;
mod monitors;
mod outbox;
mod store;

use std::sync::Arc;

use atmr_proto::notify::v1::{
    monitor_service_server::{self, MonitorServiceServer},
    notify_service_server::{self, NotifyServiceServer},
};
use kit::{Lifecycle, Listeners, audit_trail::scope::Actors, service::ServiceRuntime};
use tonic::service::Routes;

pub use config::Config;
pub use declared::{check as check_monitors, check_file as check_monitors_file};
pub use domain::signature::sign as webhook_signature;
pub use domain::{
    declared::{CompanyDecl, Document as MonitorsDocument, EntryError, MonitorDecl},
    monitor::{MeshTarget, MonitorConfig, MonitorKind},
};
pub use outbox::egress::{Egress, Lookup};
pub use outbox::{delivery::webhook::headers as webhook_headers, worker::Policy};
pub use store::declared::Applied;

/// Runs the notify component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::notify::Migrator>(cfg.service.clone(), listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let metrics = metrics::NotifyMetrics::register(&rt.metrics.registry)?;
    let store = store::Store::new(rt.db.clone());
    // Before the scheduler's first claim: the operator's monitors as the file says.
    if let Some(path) = &cfg.monitors_file {
        let applied = declared::apply_file(&store, path, &cfg.egress, cfg.smtp.is_some(), cfg.clock.now()).await?;
        tracing::info!(file = %path.display(), created = applied.created, updated = applied.updated, removed = applied.removed, unchanged = applied.unchanged, "monitors file applied");
    }
    let wake = Arc::new(tokio::sync::Notify::new());
    let mailer = cfg.smtp.as_ref().map(|smtp| outbox::delivery::email::Mailer::new(smtp, cfg.http_timeout)).transpose()?;
    let deliverer = Arc::new(outbox::delivery::Deliverer::new(cfg.http_timeout, mailer, &cfg.egress)?);
    for _ in 0..cfg.workers {
        let worker = Arc::new(outbox::worker::Worker {
            store: store.clone(),
            deliverer: deliverer.clone(),
            policy: cfg.policy,
            clock: cfg.clock.clone(),
            wake: wake.clone(),
            metrics: metrics.clone(),
        });
        tokio::spawn(worker.run(life.clone()));
    }
    tokio::spawn(outbox::backlog::watch_backlog(store.clone(), cfg.clock.clone(), metrics.clone(), cfg.backlog_refresh, life.clone()));
    let monitors = Arc::new(monitors::scheduler::Scheduler {
        store: store.clone(),
        reach: monitors::probe::Reach::new(cfg.egress.clone(), rt.cfg.tls.client())?,
        clock: cfg.clock.clone(),
        tick: cfg.monitor_tick,
        wake: wake.clone(),
    });
    tokio::spawn(monitors.run(life.clone()));
    let core = Arc::new(core::Core::new(core::Deps {
        store,
        clock: cfg.clock.clone(),
        wake,
        metrics,
        email: cfg.smtp.is_some(),
        egress: cfg.egress.clone(),
    }));
    let notify =
        NotifyServiceServer::new(api::notify::NotifyApi::new(core.clone())).max_decoding_message_size(max).max_encoding_message_size(max);
    let monitor =
        MonitorServiceServer::new(api::monitors::MonitorApi::new(core)).max_decoding_message_size(max).max_encoding_message_size(max);
    // A person's call runs in an actor scope: the store records who changed
    // what, and the audit relay takes it to safety's chain.
    let audit = rt.start_audit_outbox(cfg.clock.clone(), &life)?;
    let (notify, monitor) = (Actors::new(notify, &audit), Actors::new(monitor, &audit));
    let routes = Routes::new(notify).add_service(monitor);
    let names = [notify_service_server::SERVICE_NAME, monitor_service_server::SERVICE_NAME];
    rt.serve(listeners.main, routes, &names, CALLS, life).await
}

/// The calls other components may make to notify: every other component hands
/// over its notices (`Send`); the gateway also lists a company's monitors for
/// its public status page (names and states, which the page alone shows);
/// nothing else.
pub const CALLS: kit::auth::CallTable = kit::auth::CallTable {
    calls: &[
        (kit::Component::Dispatch, "/atmr.notify.v1.NotifyService/Send"),
        (kit::Component::Safety, "/atmr.notify.v1.NotifyService/Send"),
        (kit::Component::Bugs, "/atmr.notify.v1.NotifyService/Send"),
        (kit::Component::Gateway, "/atmr.notify.v1.NotifyService/Send"),
        (kit::Component::Gateway, "/atmr.notify.v1.MonitorService/ListMonitors"),
    ],
};

/// Applies the monitors of the mesh's own components to `company_id` in
/// notify's database as a generated monitors document (`declared`, the
/// mechanism of `ATMR_MONITORS_FILE`): internal, created when missing,
/// updated by name when their address changed. Returns how many were created.
pub async fn register_mesh_monitors(database_url: &str, company_id: i64, targets: &[MeshTarget]) -> anyhow::Result<usize> {
    let db = kit::db::connect_and_migrate::<atmr_migrations::notify::Migrator>(database_url, true).await?;
    let doc = domain::declared::Document { companies: vec![mesh_document(company_id, targets)] };
    let egress = Egress::from_env(&kit::Env::from_pairs::<&str, &str>([]))?;
    let applied = declared::apply(&store::Store::new(db.clone()), &doc, &egress, false, chrono::Utc::now()).await?;
    db.close().await?;
    Ok(applied.created)
}

/// The mesh's own monitors as a company's declarations: a gRPC health check
/// (or an HTTP GET) every 30 s, down after two failures in a row.
pub fn mesh_document(company_id: i64, targets: &[MeshTarget]) -> CompanyDecl {
    let monitors = targets
        .iter()
        .enumerate()
        .map(|(i, t)| MonitorDecl {
            entry: format!("mesh[{i}]"),
            removed: false,
            parent: None,
            config: MonitorConfig {
                name: t.name.clone(),
                kind: if t.grpc { MonitorKind::GrpcHealth } else { MonitorKind::Http },
                target: t.target.clone(),
                expected_status: 0,
                keyword: String::new(),
                grpc_service: String::new(),
                interval_secs: 30,
                timeout_secs: 10,
                retries: 1,
                recovery_checks: 1,
                parent_id: None,
                internal: true,
            },
        })
        .collect();
    CompanyDecl { company_id, monitors, ..CompanyDecl::default() }
}
