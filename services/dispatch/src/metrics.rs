//! The dispatch service's own metrics, beside the gRPC ones every service has.

use prometheus::{Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct DispatchMetrics {
    /// Runs by outcome (completed, failed).
    pub runs: IntCounterVec,
    /// End-to-end seconds of completed runs (load, solve, write).
    pub run_seconds: Histogram,
    /// Bookings runs considered and could not plan.
    pub unassigned: IntCounter,
    /// Driver position reports by outcome (accepted, rejected).
    pub positions: IntCounterVec,
    /// Drivers' own positions not kept, by reason (`rate`: a second that had
    /// one already; `refused`: in a batch refused for a bad position).
    pub positions_dropped: IntCounterVec,
    /// SQL statements of the data path (the live board's relay between replicas is not counted).
    pub statements: IntCounter,
    /// Travel matrices by source (osrm, haversine).
    pub matrices: IntCounterVec,
    /// OSRM table requests by outcome (ok, error, refused).
    pub osrm: IntCounterVec,
    /// The OSRM breaker's admission state.
    pub osrm_breaker: kit::breaker::StateGauge,
    /// Seconds per autonomous-manager cycle.
    pub autonomy_cycle: Histogram,
    /// Autonomous actions by kind and outcome (executed, failed, blocked, safety_unavailable).
    pub autonomy_actions: IntCounterVec,
    /// Drift checks by state (completed, retried, failed).
    pub drift_checks: IntCounterVec,
    /// The ETA model's mean absolute error at the last drift check, minutes.
    pub eta_mae: Gauge,
}

impl DispatchMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            runs: IntCounterVec::new(Opts::new("dispatch_runs_total", "Dispatch runs by outcome"), &["outcome"])?,
            run_seconds: Histogram::with_opts(
                HistogramOpts::new("dispatch_run_seconds", "End-to-end duration of completed dispatch runs")
                    .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
            )?,
            unassigned: IntCounter::new("dispatch_unassigned_bookings_total", "Bookings dispatch runs could not plan")?,
            positions: IntCounterVec::new(
                Opts::new("dispatch_driver_positions_total", "Driver position reports by outcome"),
                &["outcome"],
            )?,
            positions_dropped: IntCounterVec::new(
                Opts::new("dispatch_positions_dropped_total", "Drivers' own positions not kept, by reason (rate, refused)"),
                &["reason"],
            )?,
            statements: IntCounter::new(
                "dispatch_sql_statements_total",
                "SQL statements the dispatch service's data path sent to its database (the live board's relay between replicas excluded)",
            )?,
            matrices: IntCounterVec::new(Opts::new("dispatch_routing_matrices_total", "Travel matrices built, by source"), &["source"])?,
            osrm: IntCounterVec::new(Opts::new("dispatch_osrm_requests_total", "OSRM table requests by outcome"), &["outcome"])?,
            osrm_breaker: crate::routing::osrm::state_gauge()?,
            autonomy_cycle: Histogram::with_opts(
                HistogramOpts::new("dispatch_autonomy_cycle_seconds", "Duration of autonomous-manager cycles")
                    .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            )?,
            autonomy_actions: IntCounterVec::new(
                Opts::new("dispatch_autonomy_actions_total", "Autonomous actions by kind and outcome"),
                &["kind", "outcome"],
            )?,
            drift_checks: IntCounterVec::new(Opts::new("eta_drift_checks_total", "ETA drift checks by state"), &["state"])?,
            eta_mae: Gauge::new("eta_model_mae_minutes", "Mean absolute error of the ETA model at the last drift check, minutes")?,
        };
        registry.register(Box::new(m.runs.clone()))?;
        registry.register(Box::new(m.run_seconds.clone()))?;
        registry.register(Box::new(m.unassigned.clone()))?;
        registry.register(Box::new(m.positions.clone()))?;
        registry.register(Box::new(m.positions_dropped.clone()))?;
        registry.register(Box::new(m.statements.clone()))?;
        registry.register(Box::new(m.matrices.clone()))?;
        registry.register(Box::new(m.osrm.clone()))?;
        registry.register(Box::new(m.osrm_breaker.clone()))?;
        registry.register(Box::new(m.autonomy_cycle.clone()))?;
        registry.register(Box::new(m.autonomy_actions.clone()))?;
        registry.register(Box::new(m.drift_checks.clone()))?;
        registry.register(Box::new(m.eta_mae.clone()))?;
        Ok(m)
    }
}
