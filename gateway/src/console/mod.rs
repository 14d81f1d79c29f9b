//! The web console: the gateway's second face, beside the REST API. Pages are
//! rendered on the server from compile-time templates (`gateway/templates/`,
//! askama, escaped by default), updated in part with htmx, and kept live with
//! Server-Sent Events; charts, timelines and the map are SVG drawn here.
//!
//! The console adds no business rule: every page calls the same gRPC services
//! as the REST routes, with a token minted for the signed-in user, so the
//! services' own role and company checks apply unchanged. What is new here is
//! the browser's side of it: cookie sessions (`session.rs`), CSRF tokens, a
//! strict Content-Security-Policy (`security.rs`), the languages (`i18n.rs`,
//! `format.rs`) and the embedded assets (`assets.rs`).

mod actions;
mod actions_detail;
mod actions_stats;
mod actions_words;
mod assets;
mod audit_log;
mod auth;
mod autonomy;
mod board;
mod booking_form;
mod bookings;
mod bugs;
mod bugs_detail;
mod bugs_filter;
mod bugs_trends;
mod bugs_triage;
mod channels;
mod channels_form;
pub mod chart;
mod company;
mod context;
mod data;
mod drift;
mod driver;
mod error;
mod form;
mod format;
pub mod i18n;
mod import;
mod limits;
mod manifest;
mod map;
mod notifications;
mod notifications_filter;
mod notifications_replay;
mod page;
mod people;
mod person_form;
mod recurring;
mod security;
pub mod session;
mod status;
mod status_data;
mod status_maintenance;
mod status_monitor;
mod status_public;
mod status_view;
mod timeline;
mod users;
mod users_form;

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

use self::{board::Plans, context::Settings};
use crate::state::AppState;

/// What the console's handlers share: the gateway's state (its service
/// clients, database and keys, reached through `Deref`) and the console's own
/// memory. The gateway's state knows nothing of the console.
#[derive(Clone, Debug)]
pub struct Web {
    app: AppState,
    /// The console's settings and what it remembers between requests.
    pub console: Arc<Settings>,
    /// Dispatch runs started from the console and not yet seen finishing.
    pub plans: Arc<Plans>,
    /// What the status pages remember (uptimes, the public pages' monitors).
    pub status: Arc<status::StatusMemory>,
}

impl std::ops::Deref for Web {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

/// Every console page and its assets, under the console's security headers.
pub fn router(app: AppState) -> Router {
    let settings = Settings::new(app.secure_cookies, app.console_session_ttl);
    let state = Web { app, console: Arc::new(settings), plans: Arc::default(), status: Arc::default() };
    Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/locale", post(auth::set_locale))
        .route("/board", get(board::page))
        .route("/board/timeline", get(board::timeline))
        .route("/board/events", get(board::events))
        .route("/board/plan", get(board::plan_status).post(board::plan))
        .route("/board/trips/{id}", get(board::trip))
        .route("/board/trips/{id}/reassign", post(board::reassign))
        .route("/board/trips/{id}/status", post(board::status))
        .route("/bookings", get(bookings::list).post(bookings::create))
        .route("/bookings/new", get(bookings::new))
        .route("/bookings/import", post(import::import))
        .route("/bookings/{id}", post(bookings::update))
        .route("/bookings/{id}/edit", get(bookings::edit))
        .route("/clients", get(people::patients).post(people::create_patient))
        .route("/clients/new", get(people::new_patient))
        .route("/clients/{id}", post(people::update_patient))
        .route("/clients/{id}/edit", get(people::edit_patient))
        .route("/clients/{id}/deactivate", post(people::deactivate_patient))
        .route("/drivers", get(people::drivers).post(people::create_driver))
        .route("/drivers/new", get(people::new_driver))
        .route("/drivers/{id}", post(people::update_driver))
        .route("/drivers/{id}/edit", get(people::edit_driver))
        .route("/drivers/{id}/deactivate", post(people::deactivate_driver))
        .route("/manifest", get(manifest::index))
        .route("/manifest/{id}", get(manifest::sheet))
        .route("/manifest/{id}/csv", get(manifest::sheet_csv))
        .route("/map", get(map::page))
        .route("/autonomy", get(autonomy::list))
        .route("/autonomy/cycle", post(autonomy::cycle))
        .route("/autonomy/{id}/accept", post(autonomy::accept))
        .route("/autonomy/{id}/dismiss", post(autonomy::dismiss))
        .route("/templates", get(recurring::list).post(recurring::create))
        .route("/templates/new", get(recurring::new))
        .route("/templates/generate", post(recurring::generate))
        .route("/templates/{id}/delete", post(recurring::delete))
        .route("/driver", get(driver::page))
        .route("/driver/trips/{id}/status", post(driver::status))
        .route("/driver/positions", post(driver::positions))
        // The company's administration (#26): accounts, settings, audit trail, drift checks.
        .route("/admin/users", get(users::list).post(users_form::create))
        .route("/admin/users/new", get(users_form::new))
        .route("/admin/users/{id}", get(users::account))
        .route("/admin/users/{id}/role", post(users::set_role))
        .route("/admin/users/{id}/password", get(users::confirm_reset).post(users::reset))
        .route("/admin/users/{id}/deactivate", get(users::confirm_deactivate).post(users::deactivate))
        .route("/admin/users/{id}/reactivate", post(users::reactivate))
        .route("/admin/company", get(company::show).post(company::save))
        .route("/admin/audit-log", get(audit_log::list))
        .route("/admin/audit-log/export", get(audit_log::export))
        .route("/admin/drift", get(drift::list))
        .route("/admin/drift/run", post(drift::run_now))
        .route("/admin/actions", get(actions::list))
        .route("/admin/actions/stats", get(actions_stats::page))
        .route("/admin/actions/verify", post(actions::verify))
        .route("/admin/actions/{id}", get(actions_detail::show))
        .route("/admin/actions/{id}/review", post(actions_detail::review))
        .route("/admin/limits", get(limits::page).post(limits::save))
        .route("/status", get(status::page))
        .route("/status/board", get(status::board_part))
        .route("/status/monitors/{id}", get(status_monitor::page))
        .route("/status/monitors/{id}/pause", post(status::pause))
        .route("/status/monitors/{id}/resume", post(status::resume))
        .route("/status/maintenance", post(status_maintenance::create))
        .route("/status/maintenance/{id}/delete", post(status_maintenance::delete))
        .route("/status/public", post(status_public::save))
        .route("/status/{slug}", get(status_public::page))
        // The outbox and where it delivers (#26, in the manner of Flower).
        .route("/admin/notifications", get(notifications::list))
        .route("/admin/notifications/replay", get(notifications_replay::confirm).post(notifications_replay::replay))
        .route("/admin/notifications/{id}", get(notifications::detail))
        .route("/admin/notifications/{id}/retry", post(notifications::retry))
        .route("/admin/notifications/channels", get(channels::list).post(channels_form::create_channel))
        .route("/admin/notifications/channels/new", get(channels_form::new_channel))
        .route("/admin/notifications/channels/{id}", post(channels_form::update_channel))
        .route("/admin/notifications/channels/{id}/edit", get(channels_form::edit_channel))
        .route("/admin/notifications/channels/{id}/enabled", post(channels::switch_channel))
        .route("/admin/notifications/channels/{id}/test", post(channels::test_channel))
        .route("/admin/notifications/channels/{id}/delete", post(channels::delete_channel))
        .route("/admin/notifications/routes", post(channels::create_route))
        .route("/admin/notifications/routes/{id}", post(channels_form::update_route))
        .route("/admin/notifications/routes/{id}/edit", get(channels_form::edit_route))
        .route("/admin/notifications/routes/{id}/enabled", post(channels::switch_route))
        .route("/admin/notifications/routes/{id}/delete", post(channels::delete_route))
        // Bugs (#26): the list, a bug's page and what triagers change on it, the summary and trends.
        .route("/bugs", get(bugs::list))
        .route("/bugs/trends", get(bugs_trends::page))
        .route("/bugs/{id}", get(bugs_detail::page))
        .route("/bugs/{id}/triage", post(bugs_triage::triage))
        .route("/bugs/{id}/comments", post(bugs_triage::comment))
        .route("/bugs/{id}/comments/{comment_id}/delete", post(bugs_triage::delete_comment))
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::map_response(security::headers))
        .with_state(state)
}
