//! A circuit breaker for calls to a dependency: after `threshold` failures in
//! a row it opens and refuses calls for `cooldown`; then one trial call is let
//! through (half-open): success closes it, failure opens it again.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

/// What the breaker says about the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Call.
    Closed,
    /// Call: the one trial after the cooldown.
    Trial,
    /// Do not call.
    Open,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self { threshold: threshold.max(1), cooldown, state: Mutex::new(State::default()) }
    }

    /// Whether a call may go now (at `now`).
    pub fn admit(&self, now: Instant) -> Admission {
        let mut s = self.state.lock().expect("breaker state is never poisoned");
        match s.open_until {
            None => Admission::Closed,
            Some(until) if now < until || s.trial_in_flight => Admission::Open,
            Some(_) => {
                s.trial_in_flight = true;
                Admission::Trial
            }
        }
    }

    pub fn success(&self) {
        *self.state.lock().expect("breaker state is never poisoned") = State::default();
    }

    pub fn failure(&self, now: Instant) {
        let mut s = self.state.lock().expect("breaker state is never poisoned");
        s.failures += 1;
        s.trial_in_flight = false;
        if s.failures >= self.threshold || s.open_until.is_some() {
            s.open_until = Some(now + self.cooldown);
        }
    }

    pub fn is_open(&self, now: Instant) -> bool {
        let s = self.state.lock().expect("breaker state is never poisoned");
        s.open_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_tries_once_after_the_cooldown() {
        let b = Breaker::new(3, Duration::from_secs(30));
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.admit(t0), Admission::Closed);
            b.failure(t0);
        }
        assert_eq!(b.admit(t0), Admission::Closed, "two failures: still closed");
        b.failure(t0);
        assert_eq!(b.admit(t0), Admission::Open);
        assert!(b.is_open(t0 + Duration::from_secs(29)));
        let later = t0 + Duration::from_secs(31);
        assert_eq!(b.admit(later), Admission::Trial);
        assert_eq!(b.admit(later), Admission::Open, "one trial at a time");
        b.failure(later);
        assert_eq!(b.admit(later + Duration::from_secs(1)), Admission::Open, "a failed trial opens it again");
        let much_later = later + Duration::from_secs(31);
        assert_eq!(b.admit(much_later), Admission::Trial);
        b.success();
        assert_eq!(b.admit(much_later), Admission::Closed);
    }
}
