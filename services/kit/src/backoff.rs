//! How long to wait before trying again: exponential from a first delay,
//! capped, with jitter. Every retry loop of the mesh takes its delays from
//! here — the database connect and schema waits (`db`), the notice outbox's
//! relay (`outbox`), notify's delivery workers and dispatch's board relay.
//!
//! A function of the failure count rather than a stateful iterator (as
//! `backon` or `backoff` offer): the outbox relay and notify's workers keep
//! that count in a database row and compute the next attempt's time from it
//! with an injectable clock, so there is no loop object to carry between
//! attempts.

use std::time::Duration;

/// Exponential backoff with jitter, capped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (before jitter).
    pub first: Duration,
    /// The longest wait (before jitter).
    pub max: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }

    /// The wait after `failures` failures in a row (1: after the first):
    /// `first` doubled for each failure after the first, capped at `max`, then
    /// scaled by a draw between half and all of it (`jitter` in 0..=1), so that
    /// callers that failed together do not retry in lockstep.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        let exp = self.first.saturating_mul(1u32 << doublings);
        exp.min(self.max).mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// [`delay`](Self::delay) with a random jitter.
    pub fn jittered(&self, failures: u32) -> Duration {
        self.delay(failures, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_first_delay_caps_and_jitters() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(8));
        assert_eq!(b.delay(30, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(u32::MAX, 1.0), Duration::from_secs(60), "no overflow");
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(4), "half at the least");
        assert_eq!(b.delay(0, 1.0), Duration::from_secs(2), "before any failure, the first delay");
        let drawn = b.jittered(3);
        assert!(drawn >= Duration::from_secs(4) && drawn <= Duration::from_secs(8), "{drawn:?}");
    }
}
