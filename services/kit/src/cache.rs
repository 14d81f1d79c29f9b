//! A small key-value cache: Redis when `REDIS_URL` names one, in-process memory
//! otherwise — and in-process as a fallback whenever Redis fails, so the caller
//! keeps working and the readiness report and metrics say so.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use deadpool_redis::redis;

/// How long one Redis operation may take before the memory fallback is used.
const REDIS_OP_TIMEOUT: Duration = Duration::from_millis(500);
/// Entries the in-process cache holds at most.
const MEMORY_CAPACITY: usize = 10_000;

/// Values with their expiry instant.
type MemoryStore = Arc<Mutex<HashMap<String, (Vec<u8>, Instant)>>>;

#[derive(Clone)]
pub struct Cache {
    redis: Option<deadpool_redis::Pool>,
    memory: MemoryStore,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("redis", &self.redis.is_some()).finish()
    }
}

/// Which store answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheBackend {
    Memory,
    Redis { reachable: bool },
}

impl Cache {
    /// An in-process cache.
    pub fn memory() -> Self {
        Self { redis: None, memory: Arc::default() }
    }

    /// A Redis-backed cache (connections are made lazily), or memory when `url` is None.
    pub fn new(url: Option<&str>) -> anyhow::Result<Self> {
        let Some(url) = url else { return Ok(Self::memory()) };
        Ok(Self { redis: Some(redis_pool(url, REDIS_OP_TIMEOUT)?), memory: Arc::default() })
    }

    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(pool) = &self.redis {
            match self.redis_op(pool, redis::cmd("GET").arg(key)).await {
                Ok(value) => return value,
                Err(e) => tracing::warn!(error = %e, "redis get failed; using the in-process cache"),
            }
        }
        let mut mem = self.memory.lock().expect("cache lock");
        match mem.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Some(value.clone()),
            Some(_) => {
                mem.remove(key);
                None
            }
            None => None,
        }
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        if let Some(pool) = &self.redis {
            let ms = ttl.as_millis().max(1) as u64;
            match self.redis_op::<()>(pool, redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ms)).await {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "redis set failed; using the in-process cache"),
            }
        }
        let mut mem = self.memory.lock().expect("cache lock");
        if mem.len() >= MEMORY_CAPACITY {
            let now = Instant::now();
            mem.retain(|_, (_, expires)| *expires > now);
            if mem.len() >= MEMORY_CAPACITY {
                mem.clear();
            }
        }
        mem.insert(key.to_owned(), (value.to_vec(), Instant::now() + ttl));
    }

    /// Removes `key` from both stores, so a write never leaves a stale entry behind.
    pub async fn delete(&self, key: &str) {
        if let Some(pool) = &self.redis
            && let Err(e) = self.redis_op::<()>(pool, redis::cmd("DEL").arg(key)).await
        {
            tracing::warn!(error = %e, "redis delete failed");
        }
        self.memory.lock().expect("cache lock").remove(key);
    }

    /// Which store is in use and whether Redis answers a PING.
    pub async fn backend(&self) -> CacheBackend {
        match &self.redis {
            None => CacheBackend::Memory,
            Some(pool) => CacheBackend::Redis { reachable: self.redis_op::<String>(pool, &redis::cmd("PING")).await.is_ok() },
        }
    }

    async fn redis_op<T: redis::FromRedisValue>(&self, pool: &deadpool_redis::Pool, cmd: &redis::Cmd) -> anyhow::Result<T> {
        let fut = async {
            let mut conn = pool.get().await?;
            Ok::<T, anyhow::Error>(cmd.query_async(&mut conn).await?)
        };
        tokio::time::timeout(REDIS_OP_TIMEOUT, fut).await.map_err(|_| anyhow::anyhow!("redis timed out"))?
    }
}

/// A pool of Redis connections made lazily, each wait, connect and recycle
/// bounded by `timeout`, so a Redis that stops answering costs at most that.
pub fn redis_pool(url: &str, timeout: Duration) -> anyhow::Result<deadpool_redis::Pool> {
    let mut cfg = deadpool_redis::Config::from_url(url);
    let mut pool = deadpool_redis::PoolConfig::new(16);
    pool.timeouts.wait = Some(timeout);
    pool.timeouts.create = Some(timeout);
    pool.timeouts.recycle = Some(timeout);
    cfg.pool = Some(pool);
    Ok(cfg.create_pool(Some(deadpool_redis::Runtime::Tokio1))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(cache: &Cache, prefix: &str) {
        let key = format!("{prefix}:{}", uuid::Uuid::new_v4());
        assert_eq!(cache.get(&key).await, None);
        cache.set(&key, b"v1", Duration::from_secs(30)).await;
        assert_eq!(cache.get(&key).await.as_deref(), Some(&b"v1"[..]));
        cache.delete(&key).await;
        assert_eq!(cache.get(&key).await, None);
    }

    #[tokio::test]
    async fn memory_cache_sets_gets_and_deletes() {
        exercise(&Cache::memory(), "mem").await;
        assert_eq!(Cache::memory().backend().await, CacheBackend::Memory);
    }

    #[tokio::test]
    async fn an_expired_entry_is_gone() {
        let cache = Cache::memory();
        cache.set("k", b"v", Duration::ZERO).await;
        assert_eq!(cache.get("k").await, None);
    }

    #[tokio::test]
    #[ignore = "needs Redis: set TEST_REDIS_URL and run with --include-ignored"]
    async fn redis_cache_when_configured() {
        let url = crate::testing::redis_url();
        let cache = Cache::new(Some(&url)).unwrap();
        assert_eq!(cache.backend().await, CacheBackend::Redis { reachable: true });
        exercise(&cache, "atmr-test").await;
    }

    #[tokio::test]
    async fn an_unreachable_redis_falls_back_to_memory() {
        // Port 1 on loopback refuses connections at once.
        let cache = Cache::new(Some("redis://127.0.0.1:1")).unwrap();
        assert_eq!(cache.backend().await, CacheBackend::Redis { reachable: false });
        exercise(&cache, "fallback").await;
    }
}
