//! The routes served by the notify service: the outbox (`outbox.rs`), its
//! channels and routing rules (`channels.rs`), and the uptime monitors with
//! their maintenance windows (`monitors.rs`). Admins only.

pub(crate) mod channels;
pub(crate) mod monitors;
pub(crate) mod outbox;
pub(crate) mod shared;
