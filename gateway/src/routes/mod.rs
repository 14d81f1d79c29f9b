//! The public routes, one module per service they call (`dispatch/`,
//! `notify/`, `bugs/`, `safety.rs` and `safety_limits.rs`, `audit.rs` — the human audit trail;
//! `privacy.rs`, a patient's export and erasure, over dispatch and notify)
//! and the gateway's own (`auth.rs`, `users.rs`, `health.rs`, `status_page.rs`), the driver's
//! own day (`me.rs`) and the platform operator's (`platform.rs`), over what
//! they share: the extractors (`extract.rs`), the conversions
//! (`convert.rs`), streamed CSV (`csv.rs`), the failure answers
//! (`failures.rs`) and the field schemas (`field.rs`). `router` lists them all.

pub(crate) mod alerts;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod bugs;
pub(crate) mod convert;
pub(crate) mod csv;
pub(crate) mod dispatch;
pub(crate) mod extract;
pub(crate) mod failures;
pub(crate) mod field;
mod health;
pub(crate) mod me;
pub(crate) mod notify;
pub(crate) mod platform;
pub(crate) mod privacy;
pub(crate) mod safety;
pub(crate) mod safety_limits;
pub(crate) mod status_page;
pub(crate) mod users;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

/// Every REST route and `/health`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health_summary))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/me", get(auth::me))
        .route("/api/admin/users", get(users::list).post(users::create))
        .route("/api/admin/users/{id}", axum::routing::patch(users::update).delete(users::deactivate))
        .route("/api/admin/audit-log", get(audit::list))
        .route("/api/admin/audit-log/export", get(audit::export))
        .route("/api/admin/safety-limits", get(safety_limits::get_limits).put(safety_limits::set_limits))
        .route("/api/admin/autonomous-actions", get(safety::list_actions))
        .route("/api/admin/autonomous-actions/stats", get(safety::action_stats))
        .route("/api/admin/autonomous-actions/verify", get(safety::verify_chain))
        .route("/api/admin/autonomous-actions/{id}", get(safety::get_action))
        .route("/api/admin/autonomous-actions/{id}/review", post(safety::review_action))
        .route("/api/bugs", get(bugs::reports::list_bugs).post(bugs::reports::create_bug))
        .route("/api/bugs/", get(bugs::reports::list_bugs).post(bugs::reports::create_bug))
        .route("/api/bugs/metrics/summary", get(bugs::metrics::metrics_summary))
        .route("/api/bugs/metrics/trends", get(bugs::metrics::trends))
        .route("/api/bugs/{bug_id}", get(bugs::reports::get_bug).patch(bugs::reports::update_bug))
        .route("/api/bugs/{bug_id}/comments", get(bugs::comments::list_comments).post(bugs::comments::add_comment))
        .route("/api/bugs/{bug_id}/comments/{comment_id}", axum::routing::delete(bugs::comments::delete_comment))
        .route("/api/bugs/{bug_id}/events", get(bugs::events::list_events))
        .route("/api/company", get(dispatch::company::get_company).patch(dispatch::company::update_company))
        .route("/api/drivers", get(dispatch::drivers::list_drivers).post(dispatch::drivers::create_driver))
        .route(
            "/api/drivers/{id}",
            get(dispatch::drivers::get_driver).patch(dispatch::drivers::update_driver).delete(dispatch::drivers::delete_driver),
        )
        .route("/api/clients", get(dispatch::clients::list_clients).post(dispatch::clients::create_client))
        .route(
            "/api/clients/{id}",
            get(dispatch::clients::get_client).patch(dispatch::clients::update_client).delete(dispatch::clients::delete_client),
        )
        .route("/api/clients/{id}/export", get(privacy::export_client))
        .route("/api/clients/{id}/erase", post(privacy::erase_client))
        .route("/api/bookings", get(dispatch::bookings::list_bookings).post(dispatch::bookings::create_booking))
        .route("/api/bookings/export", get(dispatch::exports::export_bookings))
        .route("/api/bookings/batch", post(dispatch::bookings::create_bookings))
        .route("/api/bookings/generate", post(dispatch::templates::generate_bookings))
        .route("/api/recurring-templates", get(dispatch::templates::list_templates).post(dispatch::templates::create_template))
        .route("/api/recurring-templates/{id}", axum::routing::delete(dispatch::templates::delete_template))
        .route("/api/bookings/{id}", get(dispatch::bookings::get_booking).patch(dispatch::bookings::update_booking))
        .route("/api/bookings/{id}/status", post(dispatch::bookings::update_booking_status))
        .route("/api/bookings/{id}/reassign", post(dispatch::bookings::reassign_booking))
        .route("/api/dispatch/runs", get(dispatch::runs::list_runs).post(dispatch::runs::run_dispatch))
        .route("/api/dispatch/runs/export", get(dispatch::exports::export_runs))
        .route("/api/dispatch/runs/{id}", get(dispatch::runs::get_run))
        .route("/api/dispatch/runs/{id}/assignments", get(dispatch::runs::run_assignments))
        .route("/api/dispatch/board", get(dispatch::runs::board))
        .route("/api/dispatch/assignments", get(dispatch::runs::list_assignments))
        .route("/api/dispatch/assignments/export", get(dispatch::exports::export_assignments))
        .route("/api/dispatch/autonomy/settings", get(dispatch::autonomy::get_settings).put(dispatch::autonomy::update_settings))
        .route("/api/dispatch/autonomy/suggestions", get(dispatch::autonomy::list_suggestions))
        .route("/api/dispatch/autonomy/suggestions/{id}/accept", post(dispatch::autonomy::accept_suggestion))
        .route("/api/dispatch/autonomy/suggestions/{id}/dismiss", post(dispatch::autonomy::dismiss_suggestion))
        .route("/api/dispatch/autonomy/cycles", post(dispatch::autonomy::run_cycle))
        .route("/api/dispatch/eta-model", get(dispatch::autonomy::get_eta_model))
        .route("/api/dispatch/drift-checks", get(dispatch::autonomy::list_drift_checks).post(dispatch::autonomy::run_drift_check))
        .route("/api/dispatch/drift-checks/days", get(dispatch::autonomy::drift_check_days))
        .route("/api/me/manifest", get(me::manifest))
        .route("/api/me/positions", post(me::positions))
        .route("/api/me/trips/{booking_id}/status", post(me::trip_status_change))
        .route("/api/notifications", get(notify::outbox::list).post(notify::outbox::send))
        .route("/api/notifications/replay", post(notify::outbox::replay))
        .route("/api/notifications/{id}", get(notify::outbox::get))
        .route("/api/notifications/{id}/retry", post(notify::outbox::retry))
        .route("/api/notification-channels", get(notify::channels::channels).post(notify::channels::create_channel))
        .route(
            "/api/notification-channels/{id}",
            axum::routing::patch(notify::channels::update_channel).delete(notify::channels::delete_channel),
        )
        .route("/api/notification-channels/{id}/test", post(notify::channels::test_channel))
        .route("/api/notification-routes", get(notify::channels::routes).post(notify::channels::create_route))
        .route("/api/notification-routes/{id}", axum::routing::patch(notify::channels::update_route).delete(notify::channels::delete_route))
        .route("/api/monitors", get(notify::monitors::list).post(notify::monitors::create))
        .route("/api/monitors/{id}", get(notify::monitors::get).put(notify::monitors::update).delete(notify::monitors::delete))
        .route("/api/monitors/{id}/pause", post(notify::monitors::pause))
        .route("/api/monitors/{id}/resume", post(notify::monitors::resume))
        .route("/api/monitors/{id}/heartbeats", get(notify::monitors::heartbeats))
        .route("/api/monitors/{id}/uptime", get(notify::monitors::uptime))
        .route("/api/maintenance-windows", get(notify::monitors::windows).post(notify::monitors::create_window))
        .route("/api/maintenance-windows/{id}", axum::routing::delete(notify::monitors::delete_window))
        .route("/api/monitors/{id}/incidents", get(notify::monitors::incidents))
        .route("/api/status-page", get(status_page::get).put(status_page::put))
        .route("/api/platform/companies", get(platform::list_companies).post(platform::create_company))
        .route("/api/platform/alerts", post(alerts::receive))
        .with_state(state)
}
