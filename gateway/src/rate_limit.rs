//! Request rate limits for every `/api` route, per user (when the request
//! carries a valid token) and per client address: GCRA, a token bucket without
//! a timer. With Redis the state is shared by every gateway replica through one
//! atomic script (the bucket's "theoretical arrival time" per key, read with
//! Redis's own clock); without Redis, or whenever it fails, each replica limits
//! in process with governor and the answer says so in the metrics.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use deadpool_redis::redis;
use governor::{
    Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use prometheus::IntCounterVec;

/// How long a Redis check may take before the in-process limiter decides.
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);

/// GCRA over Redis. KEYS[1] the bucket; ARGV[1] the emission interval in
/// microseconds (one request's worth), ARGV[2] the burst. Returns
/// {allowed (1/0), retry_after_us, remaining, reset_us}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * (burst - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return {0, allow_at - now, 0, tat - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
local remaining = math.floor((tolerance - (new_tat - interval - now)) / interval)
return {1, 0, remaining, new_tat - now}
";

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// When refused: how long until one more request is allowed.
    pub retry_after: Duration,
    /// Requests left in the bucket now.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset: Duration,
}

pub struct Limiter {
    per_minute: u32,
    burst: u32,
    redis: Option<deadpool_redis::Pool>,
    local: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>,
    decisions: Option<IntCounterVec>,
}

impl Limiter {
    /// `per_minute` requests a minute with bursts of `burst`, per key; `None` when `per_minute` is 0 (off).
    pub fn new(per_minute: u32, burst: u32, redis_url: Option<&str>, decisions: Option<IntCounterVec>) -> anyhow::Result<Option<Self>> {
        let Some(rate) = NonZeroU32::new(per_minute) else { return Ok(None) };
        let burst = burst.max(1);
        let quota = Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).expect("at least 1"));
        let redis = redis_url.map(|url| kit::cache::redis_pool(url, REDIS_TIMEOUT)).transpose()?;
        Ok(Some(Self {
            per_minute,
            burst,
            redis,
            local: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            decisions,
        }))
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    fn count(&self, decision: &Decision, store: &str) {
        if let Some(c) = &self.decisions {
            c.with_label_values(&[if decision.allowed { "allowed" } else { "limited" }, store]).inc();
        }
    }

    /// Counts one request against `key`.
    pub async fn check(&self, key: &str) -> Decision {
        if let Some(pool) = &self.redis {
            match self.check_redis(pool, key).await {
                Ok(d) => {
                    self.count(&d, "redis");
                    return d;
                }
                Err(e) => tracing::warn!(error = %e, "rate limit store unavailable; limiting in process"),
            }
        }
        let d = self.check_local(key);
        self.count(&d, "memory");
        d
    }

    async fn check_redis(&self, pool: &deadpool_redis::Pool, key: &str) -> anyhow::Result<Decision> {
        let interval_us = 60_000_000 / u64::from(self.per_minute);
        let fut = async {
            let mut conn = pool.get().await?;
            // EVAL runs the script atomically; it is small enough to send each time.
            let r: (i64, i64, i64, i64) = redis::cmd("EVAL")
                .arg(GCRA)
                .arg(1)
                .arg(format!("atmr:rl:{key}"))
                .arg(interval_us)
                .arg(self.burst)
                .query_async(&mut conn)
                .await?;
            Ok::<_, anyhow::Error>(r)
        };
        let (allowed, retry_us, remaining, reset_us) =
            tokio::time::timeout(REDIS_TIMEOUT, fut).await.map_err(|_| anyhow::anyhow!("redis timed out"))??;
        Ok(Decision {
            allowed: allowed == 1,
            retry_after: Duration::from_micros(retry_us.max(0) as u64),
            remaining: remaining.clamp(0, i64::from(self.burst)) as u32,
            reset: Duration::from_micros(reset_us.max(0) as u64),
        })
    }

    fn check_local(&self, key: &str) -> Decision {
        let clock = DefaultClock::default();
        let key = key.to_owned();
        match self.local.check_key(&key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let reset = Duration::from_secs(60) / self.per_minute * (self.burst - remaining);
                Decision { allowed: true, retry_after: Duration::ZERO, remaining, reset }
            }
            Err(n) => {
                let wait = n.wait_time_from(clock.now());
                Decision { allowed: false, retry_after: wait, remaining: 0, reset: wait }
            }
        }
    }

    /// Forgets in-process keys whose buckets are full again.
    pub fn forget_idle(&self) {
        self.local.retain_recent();
        self.local.shrink_to_fit();
    }
}

/// The keys a request counts against: its user, when it has a valid token, and its address.
pub fn keys(user: Option<(i64, &str)>, address: IpAddr) -> Vec<String> {
    let mut k = vec![format!("ip:{address}")];
    if let Some((company, sub)) = user {
        k.push(format!("user:{company}:{sub}"));
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_in_process_bucket_allows_the_burst_then_says_when() {
        let l = Limiter::new(60, 3, None, None).unwrap().unwrap();
        for left in [2, 1, 0] {
            let d = l.check("ip:10.0.0.1").await;
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
        }
        let refused = l.check("ip:10.0.0.1").await;
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::from_millis(500) && refused.retry_after <= Duration::from_secs(1), "{refused:?}");
        assert!(l.check("ip:10.0.0.2").await.allowed, "keys are separate");
        assert!(Limiter::new(0, 3, None, None).unwrap().is_none(), "0 turns it off");
    }

    /// Two limiters sharing one Redis, as two gateway replicas do: together they
    /// allow one burst, not two.
    #[tokio::test]
    #[ignore = "needs Redis: set TEST_REDIS_URL and run with --include-ignored"]
    async fn replicas_share_the_bucket_through_redis() {
        let url = kit::testing::redis_url();
        let a = Limiter::new(60, 4, Some(&url), None).unwrap().unwrap();
        let b = Limiter::new(60, 4, Some(&url), None).unwrap().unwrap();
        let key = format!("test:{}", uuid::Uuid::new_v4());
        let mut allowed = 0;
        for i in 0..8 {
            let l = if i % 2 == 0 { &a } else { &b };
            let d = l.check(&key).await;
            if d.allowed {
                allowed += 1;
                assert_eq!(d.remaining, 4 - allowed, "{d:?}");
            } else {
                assert!(d.retry_after > Duration::ZERO && d.retry_after <= Duration::from_secs(1), "{d:?}");
            }
        }
        assert_eq!(allowed, 4);
        // Redis gone: each replica limits alone, and nothing fails.
        let gone = Limiter::new(60, 2, Some("redis://127.0.0.1:1"), None).unwrap().unwrap();
        assert!(gone.check(&key).await.allowed);
    }
}
