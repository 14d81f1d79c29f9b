//! The `dispatch` component: companies, drivers, patients, bookings, dispatch
//! runs and assignments, with a set-based data path (a run's SQL statements do
//! not grow with its bookings), a travel model, the optimizer behind the
//! `solver::Solver` trait and an independent feasibility checker; the
//! autonomous manager with the ETA model and its drift check.
//!
//! Rooms, arrows running down: `api/` (the gRPC services, its protos) ->
//! `core` (state and use cases) -> `run`, `reassign`, `autonomy/`, `eta/`
//! (what acts on the day) -> `peers/` (safety, notices for notify), `board`,
//! `planning`, `solver/`, `routing/` and `store/` (every query) -> `domain/`
//! (pure rules); `error` is what the core answers, `api/status.rs` its one
//! projection onto statuses. `serve` assembles them.

mod api;
mod autonomy;
mod board;
mod config;
mod core;
pub mod domain;
mod error;
pub mod eta;
mod exports;
mod metrics;
mod peers;
pub mod planning;
mod privacy;
mod reassign;
pub mod routing;
mod run;
pub mod solver;
mod store;

pub use api::demo;
pub use config::Config;

use std::sync::Arc;

use atmr_proto::dispatch::v1::{
    autonomy_service_server::{self, AutonomyServiceServer},
    company_service_server::{self, CompanyServiceServer},
    dispatch_service_server::{self, DispatchServiceServer},
};
use kit::{Lifecycle, Listeners, audit_trail::scope::Actors, service::ServiceRuntime};
use tonic::service::Routes;

/// Runs the dispatch component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::dispatch::Migrator>(cfg.service.clone(), listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let metrics = metrics::DispatchMetrics::register(&rt.metrics.registry)?;
    // Every statement is counted: a run's count must not grow with its bookings.
    // This replaces the runtime's callback on this handle, so it times them too.
    let mut db = rt.db.clone();
    let (statements, queries) = (metrics.statements.clone(), rt.metrics.queries.clone());
    db.set_metric_callback(move |info| {
        queries.observe_statement(info);
        statements.inc();
    });
    let mut router = routing::Router::new(cfg.haversine).with_metrics(metrics.matrices.clone());
    if let Some(osrm) = cfg.osrm.clone() {
        tracing::info!(url = %osrm.url, max_table = osrm.max_table, "routing with OSRM, the haversine model as fallback");
        let osrm = routing::osrm::Osrm::new(osrm, cfg.haversine, Some(metrics.osrm.clone()))?;
        metrics.osrm_breaker.track(&[], osrm.breaker().clone());
        router = router.with_osrm(osrm);
    }
    let planner = run::Planner {
        router,
        solver: Arc::new(solver::optimizer::Optimizer { goal: cfg.objective }),
        ride: cfg.ride,
        default_budget: cfg.default_budget,
        max_budget: cfg.max_budget,
        stale_after: chrono::Duration::from_std(cfg.max_budget)? + chrono::Duration::minutes(5),
        unclosed: run::Unclosed::default(),
    };
    // The live board's relay between replicas reads through the uncounted connection.
    let board = board::Board::start(&cfg.service.database_url, rt.db.clone(), life.clone()).await?;
    let safety =
        peers::safety::Safety::connect(&rt.cfg.peers.safety, rt.cfg.server.request_timeout, &rt.cfg.tls, rt.identity.signer.clone())?;
    // The relay reads and writes its rows through the uncounted connection.
    let outbox = rt.start_outbox(cfg.clock.clone(), &life)?;
    // People's changes are recorded with them and relayed to safety's chain.
    let audit = rt.start_audit_outbox(cfg.clock.clone(), &life)?;
    let core = Arc::new(core::Dispatch::assemble(core::Parts {
        store: store::Store::new(db, cfg.default_tz),
        planner,
        clock: cfg.clock.clone(),
        board,
        metrics,
        safety,
        outbox,
        defaults: cfg.autonomy_defaults,
        drift: cfg.drift,
    }));
    if let Some(every) = cfg.autonomy_tick {
        let polling = store::Store::new(rt.db.clone(), cfg.default_tz);
        tokio::spawn(autonomy::manager::schedule(core.manager.clone(), polling, every, life.clone()));
    }
    if let Some(every) = cfg.retention_tick {
        tokio::spawn(privacy::schedule_retention(core.clone(), every, life.clone()));
    }
    let autonomy =
        AutonomyServiceServer::new(api::AutonomyApi::new(core.clone())).max_decoding_message_size(max).max_encoding_message_size(max);
    let companies =
        CompanyServiceServer::new(api::CompanyApi::new(core.clone())).max_decoding_message_size(max).max_encoding_message_size(max);
    let dispatch = DispatchServiceServer::new(api::DispatchApi::new(core)).max_decoding_message_size(max).max_encoding_message_size(max);
    // A person's call runs in an actor scope: the store records who changed what.
    let (dispatch, autonomy) = (Actors::new(dispatch, &audit), Actors::new(autonomy, &audit));
    let routes = Routes::new(dispatch).add_service(autonomy).add_service(companies);
    let names = [dispatch_service_server::SERVICE_NAME, autonomy_service_server::SERVICE_NAME, company_service_server::SERVICE_NAME];
    // No component calls dispatch: every call needs a person's token.
    rt.serve(listeners.main, routes, &names, kit::auth::CallTable::NONE, life).await
}
