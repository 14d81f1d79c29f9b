//! The monitors file as written: serde's shapes, every unknown field refused.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDocument {
    #[serde(default)]
    pub(super) companies: Vec<RawCompany>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCompany {
    pub(super) company: i64,
    #[serde(default)]
    pub(super) channels: Vec<RawChannel>,
    #[serde(default)]
    pub(super) routes: Vec<RawRoute>,
    #[serde(default)]
    pub(super) monitors: Vec<RawMonitor>,
    #[serde(default)]
    pub(super) maintenance: Vec<RawWindow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChannel {
    pub(super) name: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) url: Option<String>,
    #[serde(default)]
    pub(super) url_file: Option<PathBuf>,
    #[serde(default)]
    pub(super) secret: Option<String>,
    #[serde(default)]
    pub(super) secret_file: Option<PathBuf>,
    #[serde(default)]
    pub(super) recipients: Vec<String>,
    #[serde(default)]
    pub(super) removed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    #[serde(default)]
    pub(super) event_type: String,
    pub(super) channel: String,
    #[serde(default = "info")]
    pub(super) min_severity: String,
    #[serde(default)]
    pub(super) removed: bool,
}

pub(super) fn info() -> String {
    "info".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMonitor {
    pub(super) name: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) target: String,
    #[serde(default)]
    pub(super) expected_status: i32,
    #[serde(default)]
    pub(super) keyword: String,
    #[serde(default)]
    pub(super) grpc_service: String,
    pub(super) interval_seconds: Option<i32>,
    pub(super) timeout_seconds: Option<i32>,
    #[serde(default)]
    pub(super) retries: i32,
    pub(super) recovery_checks: Option<i32>,
    pub(super) parent: Option<String>,
    #[serde(default)]
    pub(super) internal: bool,
    #[serde(default)]
    pub(super) removed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWindow {
    pub(super) name: String,
    #[serde(default)]
    pub(super) starts_at: String,
    #[serde(default)]
    pub(super) ends_at: String,
    #[serde(default)]
    pub(super) monitors: Vec<String>,
    #[serde(default)]
    pub(super) reason: String,
    #[serde(default)]
    pub(super) removed: bool,
}
