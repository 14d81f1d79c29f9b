//! The bugs service's own metrics, beside the common gRPC ones.

use prometheus::{IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct BugMetrics {
    /// Reports received, by what grouping did with them.
    pub reports: IntCounterVec,
}

impl BugMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let reports = IntCounterVec::new(
            Opts::new("bugs_reports_total", "CreateBug calls by outcome: created, grouped, regression, grouped_within_grace"),
            &["grouping"],
        )?;
        registry.register(Box::new(reports.clone()))?;
        Ok(Self { reports })
    }
}
