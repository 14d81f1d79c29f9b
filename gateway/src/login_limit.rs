//! Login attempts per account and per client address: by default 5 a minute
//! each (a burst of 5, one more every 12 s), configurable, and off only when
//! set to 0. Every attempt counts, failed or not, so guessing a password is as
//! slow as guessing an account.
//!
//! The buckets are the request limiter's ([`crate::rate_limit::Limiter`],
//! GCRA): in Redis when `REDIS_URL` is set, so every replica counts the same
//! attempts, and in process when there is no Redis or it fails. The account's
//! key is the SHA-256 of its normalised email (trimmed, lower-cased, as login
//! looks it up), never the text a client sent: the login handler refuses an
//! email longer than an address can be before anything is counted, and the
//! store holds 64 hex digits per account whatever was typed.

use std::{net::IpAddr, time::Duration};

use sha2::{Digest as _, Sha256};

use crate::rate_limit::Limiter;

pub struct LoginLimiter {
    buckets: Limiter,
}

impl LoginLimiter {
    /// `per_minute` attempts per account and per address, shared through
    /// `redis_url` when given; `None` for 0 (off).
    pub fn new(per_minute: u32, redis_url: Option<&str>) -> anyhow::Result<Option<Self>> {
        Ok(Limiter::new(per_minute, per_minute, redis_url, None)?.map(|buckets| Self { buckets }))
    }

    /// Counts one attempt; `Err(wait)` when the account or the address is over its quota.
    pub async fn check(&self, email: &str, address: IpAddr) -> Result<(), Duration> {
        // Both are counted, so that one exhausted key does not spare the other.
        let account = self.buckets.check(&account_key(email)).await;
        let from = self.buckets.check(&format!("login:ip:{}", address.to_canonical())).await;
        match [account, from].iter().filter(|d| !d.allowed).map(|d| d.retry_after).max() {
            None => Ok(()),
            Some(wait) => Err(wait),
        }
    }

    /// Forgets in-process keys whose buckets are full again, so memory follows recent traffic.
    pub fn forget_idle(&self) {
        self.buckets.forget_idle();
    }
}

/// The bucket of an account: the hash of its email as login finds it.
fn account_key(email: &str) -> String {
    format!("login:account:{}", hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn five_attempts_then_a_wait_per_account_and_per_address() {
        let l = LoginLimiter::new(5, None).unwrap().unwrap();
        let here: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(l.check("ana@example.com", here).await.is_ok());
        }
        let wait = l.check("Ana@Example.com ", here).await.unwrap_err();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(12), "{wait:?}");
        // The address is spent too: another account from it waits.
        assert!(l.check("tom@example.com", here).await.is_err());
        // The account from elsewhere waits as well.
        assert!(l.check("ana@example.com", "10.0.0.2".parse().unwrap()).await.is_err());
        assert!(l.check("lea@example.com", "10.0.0.3".parse().unwrap()).await.is_ok());
        assert!(LoginLimiter::new(0, None).unwrap().is_none(), "0 turns it off");
    }

    #[test]
    fn the_account_key_is_a_hash_of_the_normalised_email() {
        let key = account_key(" Ana@Example.com");
        assert_eq!(key, account_key("ana@example.com"));
        assert!(!key.to_lowercase().contains("ana"), "{key}");
        assert_eq!(account_key(&"x".repeat(1_500_000)).len(), key.len(), "the key's size does not follow the input's");
    }

    /// An address no earlier run used (Redis keeps buckets for a minute).
    fn fresh_address() -> IpAddr {
        IpAddr::from(std::net::Ipv6Addr::from((0xfd00_u128 << 112) | (uuid::Uuid::new_v4().as_u128() >> 16)))
    }

    /// Two gateway replicas' limiters on one Redis: five attempts in all, not
    /// five each, for the account and for the address.
    #[tokio::test]
    #[ignore = "needs Redis: set TEST_REDIS_URL and run with --include-ignored"]
    async fn replicas_share_the_login_limit_through_redis() {
        let url = kit::testing::redis_url();
        let a = LoginLimiter::new(5, Some(&url)).unwrap().unwrap();
        let b = LoginLimiter::new(5, Some(&url)).unwrap().unwrap();
        let email = format!("{}@example.com", uuid::Uuid::new_v4());
        let mut allowed = 0;
        for i in 0..10 {
            // A new address each time: only the account's bucket is shared.
            let from = fresh_address();
            if if i % 2 == 0 { &a } else { &b }.check(&email, from).await.is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "the account's five attempts across both replicas");
        // And the address's bucket, for other accounts from one address.
        let from = fresh_address();
        let mut allowed = 0;
        for i in 0..10 {
            let email = format!("{}@example.com", uuid::Uuid::new_v4());
            if if i % 2 == 0 { &a } else { &b }.check(&email, from).await.is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "the address's five attempts across both replicas");
    }
}
