//! Login attempts per account and per client address, limited in process with
//! governor's GCRA (a token bucket without a timer): by default 5 a minute each,
//! configurable, and off only when set to 0. Every attempt counts, failed or not,
//! so guessing a password is as slow as guessing an account.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock as _};

pub struct LoginLimiter {
    by_account: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    /// `per_minute` attempts per account and per address; `None` for 0 (off).
    pub fn new(per_minute: u32) -> Option<Self> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?);
        Some(Self { by_account: RateLimiter::keyed(quota), by_address: RateLimiter::keyed(quota) })
    }

    /// Counts one attempt; `Err(wait)` when the account or the address is over its quota.
    pub fn check(&self, email: &str, address: IpAddr) -> Result<(), Duration> {
        let clock = governor::clock::DefaultClock::default();
        let account = email.trim().to_lowercase();
        // Both are counted, so that one exhausted key does not spare the other.
        let a = self.by_account.check_key(&account);
        let b = self.by_address.check_key(&address);
        match (a, b) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(n), _) | (_, Err(n)) => Err(n.wait_time_from(clock.now())),
        }
    }

    /// Forgets keys whose buckets are full again, so memory follows recent traffic.
    pub fn forget_idle(&self) {
        self.by_account.retain_recent();
        self.by_address.retain_recent();
        self.by_account.shrink_to_fit();
        self.by_address.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_then_a_wait_per_account_and_per_address() {
        let l = LoginLimiter::new(5).unwrap();
        let here: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(l.check("ana@example.com", here).is_ok());
        }
        let wait = l.check("Ana@Example.com ", here).unwrap_err();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(12), "{wait:?}");
        // The address is spent too: another account from it waits.
        assert!(l.check("tom@example.com", here).is_err());
        // The account from elsewhere waits as well.
        assert!(l.check("ana@example.com", "10.0.0.2".parse().unwrap()).is_err());
        assert!(l.check("lea@example.com", "10.0.0.3".parse().unwrap()).is_ok());
        assert!(LoginLimiter::new(0).is_none(), "0 turns it off");
    }
}
