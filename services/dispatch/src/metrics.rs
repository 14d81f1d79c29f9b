//! The dispatch service's own metrics, beside the gRPC ones every service has.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use prometheus::{Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};

#[derive(Clone)]
pub struct DispatchMetrics {
    /// Runs by outcome (completed, failed).
    pub runs: IntCounterVec,
    /// End-to-end seconds of completed runs (load, solve, write).
    pub run_seconds: Histogram,
    /// Bookings runs considered and could not plan.
    pub unassigned: IntCounter,
    /// Seconds of completed runs by phase (load, solve, write, total).
    pub run_phases: HistogramVec,
    /// Bookings the latest run of each company's day left unassigned, by reason.
    pub unassigned_now: UnassignedNow,
    /// Bookings picked up later than their pickup window (or scheduled time)
    /// by more than the company's lateness threshold.
    pub late_pickups: IntCounter,
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
            run_phases: HistogramVec::new(
                HistogramOpts::new(
                    "dispatch_run_duration_seconds",
                    "Seconds of completed dispatch runs by phase: load (the day read), solve, write (the plan stored), total",
                )
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
                &["phase"],
            )?,
            unassigned_now: UnassignedNow::new()?,
            late_pickups: IntCounter::new(
                "dispatch_late_pickups_total",
                "Bookings picked up after the end of their pickup window (their scheduled time when they have none) by more than the company's lateness threshold",
            )?,
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
        registry.register(Box::new(m.run_phases.clone()))?;
        registry.register(Box::new(m.unassigned_now.gauge.clone()))?;
        registry.register(Box::new(m.late_pickups.clone()))?;
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

impl DispatchMetrics {
    /// A completed run's end-to-end time and its phases' (load, solve, write), in milliseconds.
    pub fn observe_run(&self, total: std::time::Duration, [load, solve, write]: [f64; 3]) {
        self.run_seconds.observe(total.as_secs_f64());
        for (phase, ms) in [("load", load), ("solve", solve), ("write", write)] {
            self.run_phases.with_label_values(&[phase]).observe(ms / 1000.0);
        }
        self.run_phases.with_label_values(&["total"]).observe(total.as_secs_f64());
    }
}

/// The reasons a run gives for a booking it could not plan (the solver's
/// `Reason`s), each with a series even at 0.
const UNASSIGNED_REASONS: [&str; 6] = ["no_vehicle_of_kind", "capacity", "time_window", "ride_time", "shift", "fleet_full"];

/// `dispatch_bookings_unassigned{reason}`: the bookings left unassigned by the
/// latest completed run of each (company, service day) this process ran,
/// summed by reason, for service days from yesterday on (a day further past
/// no longer counts). A new run of a day replaces that day's figures. Each
/// replica counts the runs it made, so with several the cluster's figure is
/// the sum over the replicas' latest runs of each day, which a later run on
/// another replica does not replace until this one runs that day again.
#[derive(Clone)]
pub struct UnassignedNow {
    gauge: IntGaugeVec,
    /// By (company, service day): unassigned bookings by reason.
    latest: Arc<Mutex<HashMap<(i64, String), ByReason>>>,
}

/// Bookings by the reason they were left unassigned.
type ByReason = HashMap<&'static str, i64>;

impl UnassignedNow {
    fn new() -> prometheus::Result<Self> {
        let gauge = IntGaugeVec::new(
            Opts::new(
                "dispatch_bookings_unassigned",
                "Bookings left unassigned by the latest run of each company's service day (from yesterday on) this replica made, by reason",
            ),
            &["reason"],
        )?;
        for reason in UNASSIGNED_REASONS.into_iter().chain(["other"]) {
            gauge.with_label_values(&[reason]).set(0);
        }
        Ok(Self { gauge, latest: Arc::default() })
    }

    /// Records the latest run of `company_id`'s `day` (`YYYY-MM-DD`): its
    /// unassigned bookings' reasons. Days before `yesterday` are forgotten.
    pub fn record<'r>(&self, company_id: i64, day: &str, yesterday: &str, reasons: impl IntoIterator<Item = &'r str>) {
        let mut by_reason = ByReason::new();
        for reason in reasons {
            *by_reason.entry(UNASSIGNED_REASONS.into_iter().find(|r| *r == reason).unwrap_or("other")).or_default() += 1;
        }
        let mut latest = self.latest.lock().expect("unassigned lock");
        latest.insert((company_id, day.to_owned()), by_reason);
        // ISO dates compare as text.
        latest.retain(|(_, d), _| d.as_str() >= yesterday);
        for reason in UNASSIGNED_REASONS.into_iter().chain(["other"]) {
            let sum = latest.values().filter_map(|m| m.get(reason)).sum();
            self.gauge.with_label_values(&[reason]).set(sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unassigned_gauge_holds_the_latest_run_of_each_day() {
        let m = UnassignedNow::new().unwrap();
        let value = |reason: &str| m.gauge.with_label_values(&[reason]).get();
        m.record(1, "2026-12-05", "2026-12-04", ["capacity", "capacity", "shift"]);
        m.record(2, "2026-12-05", "2026-12-04", ["capacity"]);
        assert_eq!((value("capacity"), value("shift"), value("fleet_full")), (3, 1, 0));
        // A new run of company 1's day replaces its figures; an unknown reason is `other`.
        m.record(1, "2026-12-05", "2026-12-04", ["fleet_full", "made_up"]);
        assert_eq!((value("capacity"), value("shift"), value("fleet_full"), value("other")), (1, 0, 1, 1));
        // Days before yesterday are forgotten.
        m.record(3, "2026-12-07", "2026-12-06", []);
        assert_eq!((value("capacity"), value("fleet_full"), value("other")), (0, 0, 0));
    }
}
