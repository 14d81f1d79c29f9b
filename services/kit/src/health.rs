//! Startup, liveness and readiness of one component.
//!
//! Liveness never looks at dependencies (a database outage must not restart
//! every pod); readiness does, and drops as soon as shutdown begins so load
//! balancers stop sending new work.
//!
//! The full report, with each failing dependency's error, is for the admin
//! port; a public port answers [`PublicReadiness`]: whether the component is
//! ready and the names of the dependencies that are not, never why (an error
//! text names hosts, users and databases).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::future::BoxFuture;
use serde::Serialize;

/// How long one dependency check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The health of one component.
pub struct HealthState {
    component: String,
    started: AtomicBool,
    draining: AtomicBool,
    /// (name, check, required): a dependency that is not required is reported
    /// but does not decide readiness (the component works without it).
    checks: Vec<(String, CheckFn, bool)>,
}

impl std::fmt::Debug for HealthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthState").field("component", &self.component).finish_non_exhaustive()
    }
}

/// One dependency's state in a readiness report.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DependencyReport {
    pub name: String,
    pub ok: bool,
    /// False for a dependency the component works without (e.g. Redis, with its in-process fallback).
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The body of `/health/ready`.
#[derive(Clone, Debug, Serialize)]
pub struct ReadinessReport {
    pub component: String,
    pub ready: bool,
    pub started: bool,
    pub draining: bool,
    pub dependencies: Vec<DependencyReport>,
}

/// The body of `/health/ready` on a public port: `{"status": "ready",
/// "not_ready": []}` or `{"status": "not_ready", "not_ready": ["database",
/// "dispatch"]}`. The list
/// names the required dependencies that failed their check; it is empty when
/// the component is not ready only because it is starting or draining.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PublicReadiness {
    pub status: &'static str,
    pub not_ready: Vec<String>,
}

impl ReadinessReport {
    /// What a public port may say: readiness and names, no error text.
    pub fn public(&self) -> PublicReadiness {
        PublicReadiness {
            status: if self.ready { "ready" } else { "not_ready" },
            not_ready: self.dependencies.iter().filter(|d| d.required && !d.ok).map(|d| d.name.clone()).collect(),
        }
    }
}

impl DependencyReport {
    /// The same report without its error text, for a public port.
    pub fn redacted(&self) -> Self {
        Self { error: None, ..self.clone() }
    }
}

impl HealthState {
    pub fn new(component: &str) -> Self {
        Self { component: component.to_owned(), started: AtomicBool::new(false), draining: AtomicBool::new(false), checks: Vec::new() }
    }

    /// Adds a dependency that must answer for the component to be ready.
    pub fn with_check<F>(mut self, name: &str, check: F) -> Self
    where
        F: Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync + 'static,
    {
        self.checks.push((name.to_owned(), Arc::new(check), true));
        self
    }

    /// Adds a dependency whose state is reported but does not decide readiness.
    pub fn with_optional_check<F>(mut self, name: &str, check: F) -> Self
    where
        F: Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync + 'static,
    {
        self.checks.push((name.to_owned(), Arc::new(check), false));
        self
    }

    pub fn component(&self) -> &str {
        &self.component
    }

    pub fn mark_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Readiness drops for good: the component is shutting down.
    pub fn mark_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Runs every dependency check concurrently, each under a timeout.
    pub async fn readiness(&self) -> ReadinessReport {
        let dependencies = futures::future::join_all(self.checks.iter().map(|(name, check, required)| async move {
            let result = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            DependencyReport { name: name.clone(), ok: result.is_ok(), required: *required, error: result.err() }
        }))
        .await;
        let started = self.is_started();
        let draining = self.is_draining();
        let ready = started && !draining && dependencies.iter().all(|d| d.ok || !d.required);
        ReadinessReport { component: self.component.clone(), ready, started, draining, dependencies }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt as _;

    #[tokio::test]
    async fn ready_needs_start_every_dependency_and_no_drain() {
        let ok = Arc::new(AtomicBool::new(true));
        let flag = ok.clone();
        let health = HealthState::new("t")
            .with_check("db", move || {
                let up = flag.load(Ordering::SeqCst);
                async move { if up { Ok(()) } else { Err("down".to_owned()) } }.boxed()
            })
            .with_optional_check("cache", || async { Err("unreachable".to_owned()) }.boxed());
        assert!(!health.readiness().await.ready, "not started yet");
        health.mark_started();
        let report = health.readiness().await;
        assert!(report.ready, "an optional dependency that fails is reported, not decisive");
        assert_eq!(report.public(), PublicReadiness { status: "ready", not_ready: vec![] });
        assert_eq!((report.dependencies[1].ok, report.dependencies[1].required), (false, false));
        ok.store(false, Ordering::SeqCst);
        let report = health.readiness().await;
        assert!(!report.ready);
        assert_eq!(report.dependencies[0].error.as_deref(), Some("down"));
        assert_eq!(report.public(), PublicReadiness { status: "not_ready", not_ready: vec!["db".to_owned()] }, "names, no error");
        ok.store(true, Ordering::SeqCst);
        health.mark_draining();
        assert!(!health.readiness().await.ready, "draining is never ready");
    }
}
