//! A circuit breaker for calls to a dependency, shared by the gateway (one per
//! service) and dispatch's OSRM client.
//!
//! After `failures` failed calls in a row it opens and refuses calls for
//! `cooldown`; then one trial call is let through (half-open): its success
//! closes the breaker, its failure opens it for another cooldown.
//!
//! Every admitted call holds a [`Permit`], and the permit is what makes the
//! breaker always recover:
//! - a trial resolves however its call ends: a permit dropped unresolved (the
//!   caller's future was dropped because the client went away or a deadline
//!   cancelled it, or the caller returned early) counts as a failed trial, so
//!   the next call after the cooldown probes again. A dropped permit of an
//!   ordinary call counts for nothing: a client that stops waiting says nothing
//!   about the dependency. Callers bound every call with a timeout (the
//!   gateway's per-service deadline, OSRM's request timeout), so every trial
//!   ends and resolves;
//! - a permit carries the epoch it was admitted in, and the epoch changes on
//!   every transition: a slow call admitted before the breaker opened cannot
//!   close it (nor count again) when it finally answers.
//!
//! Time comes from a [`Ticker`], monotonic in production and moved by hand in
//! tests. [`StateGauge`] exports the admission state, read when scraped:
//! 0 closed, 1 open, 2 half-open (see [`BreakerState`]).
//!
//! The `failsafe` crate was considered: its half-open state admits every call
//! rather than one trial, it records nothing for a future dropped mid-call,
//! outcomes carry no epoch, and its clock cannot be injected.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use prometheus::{
    IntGaugeVec,
    core::{Collector, Desc},
    proto::MetricFamily,
};

/// Where a breaker reads the time: a monotonic clock, because a cooldown must
/// not stretch or shrink when the wall clock is set.
pub trait Ticker: Send + Sync + fmt::Debug {
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemTicker;

impl Ticker for SystemTicker {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A monotonic clock that moves only when told to, for tests.
#[derive(Debug, Clone)]
pub struct ManualTicker(Arc<Mutex<Instant>>);

impl Default for ManualTicker {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }
}

impl ManualTicker {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("ticker lock") += by;
    }
}

impl Ticker for ManualTicker {
    fn now(&self) -> Instant {
        *self.0.lock().expect("ticker lock")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Failed calls in a row that open the breaker (at least 1).
    pub failures: u32,
    /// How long it refuses calls before one trial.
    pub cooldown: Duration,
}

/// What the breaker does with the next call, as exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go (gauge 0).
    Closed,
    /// Calls are refused until the cooldown ends (gauge 1).
    Open,
    /// The cooldown is over: the next call is the trial, or the trial is in
    /// flight and other calls are refused until it resolves (gauge 2).
    HalfOpen,
}

impl BreakerState {
    /// The value of the exported gauge.
    pub fn gauge(self) -> i64 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }
}

pub struct Breaker {
    name: String,
    cfg: BreakerConfig,
    ticker: Arc<dyn Ticker>,
    inner: Mutex<Inner>,
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker").field("name", &self.name).field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// Bumped on every transition; a permit's outcome counts only in its own epoch.
    epoch: u64,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call in flight.
    Trial,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    /// Dropped before it was resolved.
    Abandoned,
}

impl Breaker {
    /// A breaker on the system's monotonic clock; `name` is what its log lines say.
    pub fn new(name: impl Into<String>, cfg: BreakerConfig) -> Arc<Self> {
        Self::with_ticker(name, cfg, Arc::new(SystemTicker))
    }

    pub fn with_ticker(name: impl Into<String>, cfg: BreakerConfig, ticker: Arc<dyn Ticker>) -> Arc<Self> {
        let cfg = BreakerConfig { failures: cfg.failures.max(1), ..cfg };
        Arc::new(Self { name: name.into(), cfg, ticker, inner: Mutex::new(Inner { phase: Phase::Closed { failures: 0 }, epoch: 0 }) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("breaker state is never poisoned")
    }

    /// A permit for one call now, or `None` when the breaker refuses it.
    pub fn admit(self: &Arc<Self>) -> Option<Permit> {
        let now = self.ticker.now();
        let mut s = self.lock();
        let trial = match s.phase {
            Phase::Closed { .. } => false,
            Phase::Open { until } if now < until => return None,
            Phase::Open { .. } => {
                s.phase = Phase::Trial;
                s.epoch += 1;
                tracing::info!(breaker = %self.name, "circuit breaker half-open: one trial call");
                true
            }
            Phase::Trial => return None,
        };
        Some(Permit { breaker: self.clone(), epoch: s.epoch, trial, resolved: false })
    }

    /// The admission state now.
    pub fn state(&self) -> BreakerState {
        let now = self.ticker.now();
        match self.lock().phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::Trial => BreakerState::HalfOpen,
        }
    }

    fn settle(&self, epoch: u64, outcome: Outcome) {
        let now = self.ticker.now();
        let mut s = self.lock();
        if s.epoch != epoch {
            // Admitted before the last transition: what it says is out of date.
            return;
        }
        match (s.phase, outcome) {
            (Phase::Closed { .. }, Outcome::Success) => s.phase = Phase::Closed { failures: 0 },
            (Phase::Closed { failures }, Outcome::Failure) if failures + 1 >= self.cfg.failures => {
                self.open(&mut s, now);
                tracing::warn!(breaker = %self.name, failures = failures + 1, "circuit breaker open");
            }
            (Phase::Closed { failures }, Outcome::Failure) => s.phase = Phase::Closed { failures: failures + 1 },
            (Phase::Closed { .. }, Outcome::Abandoned) => {}
            (Phase::Trial, Outcome::Success) => {
                s.phase = Phase::Closed { failures: 0 };
                s.epoch += 1;
                tracing::info!(breaker = %self.name, "circuit breaker closed: the trial call succeeded");
            }
            (Phase::Trial, Outcome::Failure | Outcome::Abandoned) => {
                self.open(&mut s, now);
                let abandoned = outcome == Outcome::Abandoned;
                tracing::warn!(breaker = %self.name, abandoned, "circuit breaker open again: the trial call failed");
            }
            // No permit is issued while open, so none is of this epoch.
            (Phase::Open { .. }, _) => {}
        }
    }

    fn open(&self, s: &mut Inner, now: Instant) {
        s.phase = Phase::Open { until: now + self.cfg.cooldown };
        s.epoch += 1;
    }
}

/// The right to make one call; resolve it with [`Permit::success`] or
/// [`Permit::failure`]. Dropped unresolved, a trial counts as failed.
#[must_use = "a permit is resolved with success() or failure(); dropped, a trial counts as failed"]
pub struct Permit {
    breaker: Arc<Breaker>,
    epoch: u64,
    trial: bool,
    resolved: bool,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("breaker", &self.breaker.name).field("trial", &self.trial).finish_non_exhaustive()
    }
}

impl Permit {
    /// Whether this call is the half-open trial.
    pub fn is_trial(&self) -> bool {
        self.trial
    }

    pub fn success(mut self) {
        self.resolved = true;
        self.breaker.settle(self.epoch, Outcome::Success);
    }

    pub fn failure(mut self) {
        self.resolved = true;
        self.breaker.settle(self.epoch, Outcome::Failure);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.resolved {
            self.breaker.settle(self.epoch, Outcome::Abandoned);
        }
    }
}

/// A gauge of breakers' admission states ([`BreakerState::gauge`]), read from
/// the breakers when scraped: the cooldown ending changes the state without
/// any call, and the gauge still says so.
#[derive(Clone)]
pub struct StateGauge {
    gauge: IntGaugeVec,
    tracked: Arc<Mutex<Vec<Tracked>>>,
}

/// A breaker and the label values its state is exported with.
type Tracked = (Vec<String>, Arc<Breaker>);

impl StateGauge {
    pub fn new(gauge: IntGaugeVec) -> Self {
        Self { gauge, tracked: Arc::default() }
    }

    /// Exports `breaker`'s state with these label values.
    pub fn track(&self, labels: &[&str], breaker: Arc<Breaker>) {
        self.gauge.with_label_values(labels).set(breaker.state().gauge());
        self.tracked.lock().expect("tracked breakers").push((labels.iter().map(|l| (*l).to_owned()).collect(), breaker));
    }
}

impl Collector for StateGauge {
    fn desc(&self) -> Vec<&Desc> {
        self.gauge.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        for (labels, breaker) in self.tracked.lock().expect("tracked breakers").iter() {
            self.gauge.with_label_values(labels).set(breaker.state().gauge());
        }
        self.gauge.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(30);

    fn breaker(failures: u32) -> (Arc<Breaker>, ManualTicker) {
        let ticker = ManualTicker::default();
        (Breaker::with_ticker("test", BreakerConfig { failures, cooldown: COOLDOWN }, Arc::new(ticker.clone())), ticker)
    }

    fn open(b: &Arc<Breaker>) {
        while b.state() == BreakerState::Closed {
            b.admit().expect("closed: admitted").failure();
        }
    }

    #[test]
    fn opens_after_the_threshold_and_tries_once_after_the_cooldown() {
        let (b, t) = breaker(3);
        for _ in 0..2 {
            b.admit().unwrap().failure();
        }
        assert_eq!(b.state(), BreakerState::Closed, "two failures: still closed");
        b.admit().unwrap().success();
        for _ in 0..2 {
            b.admit().unwrap().failure();
        }
        assert_eq!(b.state(), BreakerState::Closed, "a success in between: failures in a row start again");
        b.admit().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit().is_none());
        t.advance(COOLDOWN - Duration::from_secs(1));
        assert!(b.admit().is_none(), "still cooling down");
        t.advance(Duration::from_secs(1));
        assert_eq!(b.state(), BreakerState::HalfOpen, "cooled down: the next call is the trial");
        let trial = b.admit().unwrap();
        assert!(trial.is_trial());
        assert!(b.admit().is_none(), "one trial at a time");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        trial.failure();
        assert_eq!(b.state(), BreakerState::Open, "a failed trial opens it again");
        t.advance(COOLDOWN);
        b.admit().unwrap().success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(!b.admit().unwrap().is_trial());
    }

    /// A trial whose caller stops waiting (its future, and the permit in it,
    /// dropped) counts as failed: after the cooldown the next call probes.
    #[test]
    fn a_dropped_trial_counts_as_failed_and_the_next_one_recovers() {
        let (b, t) = breaker(1);
        open(&b);
        t.advance(COOLDOWN);
        let trial = b.admit().unwrap();
        drop(trial);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit().is_none());
        t.advance(COOLDOWN);
        let again = b.admit().expect("probes again after the cooldown");
        assert!(again.is_trial());
        again.success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_dropped_ordinary_call_counts_for_nothing() {
        let (b, _) = breaker(2);
        b.admit().unwrap().failure();
        drop(b.admit().unwrap());
        assert_eq!(b.state(), BreakerState::Closed, "one failure, one abandoned call: still closed");
        b.admit().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
    }

    /// A slow call admitted while closed answers after the breaker opened (or
    /// after it recovered): its outcome is out of date and changes nothing.
    #[test]
    fn a_call_admitted_before_the_breaker_opened_cannot_close_it() {
        let (b, t) = breaker(2);
        let slow_ok = b.admit().unwrap();
        let slow_err = b.admit().unwrap();
        open(&b);
        slow_ok.success();
        assert_eq!(b.state(), BreakerState::Open, "a success from before the opening does not close it");
        t.advance(COOLDOWN);
        let trial = b.admit().unwrap();
        assert!(b.admit().is_none(), "the trial is in flight");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        trial.success();
        slow_err.failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.admit().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed, "the stale failure was not counted: one failure of two");
    }

    #[test]
    fn the_gauge_reads_the_admission_state_when_scraped() {
        let (b, t) = breaker(1);
        // A name of no component's: scripts/check-deploy.py reads `Opts::new("…"` as an exported metric.
        let name = "test_breaker_state";
        let gauge = StateGauge::new(IntGaugeVec::new(prometheus::Opts::new(name, "state"), &["service"]).unwrap());
        gauge.track(&["bugs"], b.clone());
        let read = || gauge.collect()[0].get_metric()[0].get_gauge().get_value();
        assert_eq!(read(), 0.0);
        open(&b);
        assert_eq!(read(), 1.0);
        t.advance(COOLDOWN);
        assert_eq!(read(), 2.0, "the cooldown ended without any call: half-open");
        let trial = b.admit().unwrap();
        assert_eq!(read(), 2.0);
        trial.success();
        assert_eq!(read(), 0.0);
    }
}
