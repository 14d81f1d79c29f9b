//! The routes served by the notify service: the outbox with its channels and
//! routing rules (`outbox.rs`), and the uptime monitors with their maintenance
//! windows (`monitors.rs`). Admins only.

pub(crate) mod monitors;
pub(crate) mod outbox;
