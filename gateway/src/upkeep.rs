//! What the gateway runs beside its requests until it stops: reloading the
//! tokens revoked on other replicas, forgetting idle rate-limit entries, and
//! pruning expired console sessions and refresh tokens.

use std::time::Duration;

use kit::Lifecycle;

use crate::{console, state::AppState};

/// Reloads the revoked tokens every `every` until `life` stops.
pub(crate) fn reload_revocations(state: AppState, every: Duration, life: Lifecycle) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = life.stopping() => return,
            }
            if let Err(e) = state.revocations.reload(&state.db, state.token_ttl).await {
                tracing::warn!(error = %e, "cannot reload the revoked tokens; keeping the last known");
            }
        }
    });
}

/// Every minute until `life` stops: forgets idle login and request limits,
/// and deletes expired console sessions and refresh tokens.
pub(crate) fn tidy(state: AppState, life: Lifecycle) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = life.stopping() => return,
            }
            if let Some(l) = &state.login_limit {
                l.forget_idle();
            }
            if let Some(l) = &state.rate_limit {
                l.forget_idle();
            }
            if let Err(e) = console::session::prune(&state.db).await {
                tracing::warn!(error = %e, "cannot prune expired console sessions");
            }
            if let Err(e) = crate::refresh_tokens::prune(&state.db).await {
                tracing::warn!(error = %e, "cannot prune expired refresh tokens");
            }
        }
    });
}
