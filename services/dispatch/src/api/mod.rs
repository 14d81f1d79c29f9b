//! IN: the dispatch service's gRPC services, the only room (with `serve`'s
//! assembly and the bench binaries) that sees its proto types. `dispatch.rs`,
//! `autonomy.rs` and `companies.rs` (the platform operator's registry) are the handlers: the caller's role, then `input.rs`'s
//! request checks, then the core, then `convert.rs` for the answer;
//! `company.rs` changes the company's settings; `driver_app.rs` holds the driver app's three calls, which `dispatch.rs`
//! hands on; `exports.rs` streams the CSV exports' rows; `privacy.rs` a
//! patient's export and erasure;
//! `status.rs` is the one projection of the service's errors onto statuses. `demo.rs`
//! makes `atmr demo`'s data through the same checks.

mod autonomy;
mod companies;
mod company;
mod convert;
pub mod demo;
mod dispatch;
mod driver_app;
mod exports;
mod input;
mod privacy;
mod services;
mod status;

pub(crate) use services::{AutonomyApi, CompanyApi, DispatchApi};
