//! The notify service's gRPC face, and the only place that sees its protos:
//! `atmr.notify.v1.NotifyService` (`notify.rs`) and `MonitorService`
//! (`monitors.rs`, the status page's batch reads checked by `monitors_input.rs`), each handler checking the caller's role, turning the
//! request into checked plain values (`input.rs`), calling `core` and turning
//! rows back into messages (`convert.rs`); errors become statuses in one
//! place (`error.rs`).

mod convert;
mod error;
mod input;
pub mod monitors;
mod monitors_input;
pub mod notify;
