//! The shared runtime of every atmr component: typed configuration from the
//! environment, telemetry and trace propagation, the database and cache
//! connections, one runtime that starts and drains every component (a gRPC
//! service with health and reflection, or the gateway's HTTP router:
//! `service`), the admin HTTP server (probes and `/metrics`), bearer-token
//! verification, TLS on the gRPC ports and the shutdown life cycle. Every component is assembled with
//! it the same way, so the all-in-one and the split deployments take one code
//! path.

pub mod admin;
pub mod audit_trail;
pub mod auth;
pub mod backoff;
pub mod bench;
pub mod breaker;
pub mod cache;
pub mod clock;
pub mod config;
pub mod convert;
pub mod db;
pub mod env;
pub mod error;
pub mod grpc;
pub mod health;
pub mod identity;
pub mod input;
pub mod lifecycle;
pub mod metrics;
pub mod notify;
pub mod outbox;
pub mod service;
pub mod stored;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;

pub use config::{Component, ConfigError, Env, ServiceConfig};
pub use lifecycle::{Lifecycle, Listeners};
