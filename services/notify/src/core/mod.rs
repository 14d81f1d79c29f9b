//! The notify service's use cases, in plain Rust types (no protos): what
//! `Send` and the outbox's reads do (`notifications.rs`), channels and routes
//! (`channels.rs`), and monitors, their heartbeats and maintenance windows
//! (`monitors.rs`). Each takes checked input from `api/`, applies the
//! service's rules and calls the store; `Core` is what the handlers hold.

pub mod channels;
pub mod monitors;
pub mod notifications;

use std::sync::Arc;

use kit::clock::SharedClock;
use tokio::sync::Notify;

use crate::{
    core::{channels::Channels, monitors::Monitors, notifications::Notifications},
    metrics::NotifyMetrics,
    outbox::egress::Egress,
    store::Store,
};

/// What the use cases are built from.
pub struct Deps {
    pub store: Store,
    pub clock: SharedClock,
    /// Wakes the delivery workers when something is queued.
    pub wake: Arc<Notify>,
    pub metrics: NotifyMetrics,
    /// Whether an SMTP server is configured: email channels need one.
    pub email: bool,
    pub egress: Egress,
}

/// The service's state, shared by both gRPC services.
pub struct Core {
    pub notifications: Notifications,
    pub channels: Channels,
    pub monitors: Monitors,
}

impl Core {
    pub fn new(d: Deps) -> Self {
        Self {
            notifications: Notifications { store: d.store.clone(), clock: d.clock.clone(), wake: d.wake, metrics: d.metrics },
            channels: Channels { store: d.store.clone(), clock: d.clock.clone(), email: d.email, egress: d.egress.clone() },
            monitors: Monitors { store: d.store, clock: d.clock, egress: d.egress },
        }
    }
}
