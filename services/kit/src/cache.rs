//! A small key-value cache: Redis when `REDIS_URL` names one, in-process memory
//! otherwise — and in-process as a fallback whenever Redis fails, so the caller
//! keeps working and the readiness report and metrics say so.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use deadpool_redis::redis;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// How long one Redis operation may take before the memory fallback is used.
const REDIS_OP_TIMEOUT: Duration = Duration::from_millis(500);
/// Entries the in-process cache holds at most.
const MEMORY_CAPACITY: usize = 10_000;

/// The in-process entries with their expiry instant, and the bytes their keys
/// and values take.
#[derive(Default)]
struct Memory {
    entries: HashMap<String, (Vec<u8>, Instant)>,
    bytes: usize,
}

impl Memory {
    fn insert(&mut self, key: &str, value: Vec<u8>, expires: Instant) {
        self.bytes += key.len() + value.len();
        if let Some((old, _)) = self.entries.insert(key.to_owned(), (value, expires)) {
            self.bytes -= key.len() + old.len();
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some((old, _)) = self.entries.remove(key) {
            self.bytes -= key.len() + old.len();
        }
    }

    /// Drops the expired entries; how many there were.
    fn purge_expired(&mut self, now: Instant) -> usize {
        let before = self.entries.len();
        let mut freed = 0;
        self.entries.retain(|k, (v, expires)| {
            let keep = *expires > now;
            if !keep {
                freed += k.len() + v.len();
            }
            keep
        });
        self.bytes -= freed;
        before - self.entries.len()
    }

    /// Drops every entry; how many there were.
    fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        self.bytes = 0;
        n
    }
}

#[derive(Clone)]
pub struct Cache {
    redis: Option<deadpool_redis::Pool>,
    memory: Arc<Mutex<Memory>>,
    /// The metric families and this cache's name in them.
    observed: Option<(CacheMetrics, &'static str)>,
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

const MEMORY: &str = "memory";
const REDIS: &str = "redis";

impl Cache {
    /// An in-process cache.
    pub fn memory() -> Self {
        Self { redis: None, memory: Arc::default(), observed: None }
    }

    /// A Redis-backed cache (connections are made lazily), or memory when `url` is None.
    pub fn new(url: Option<&str>) -> anyhow::Result<Self> {
        let Some(url) = url else { return Ok(Self::memory()) };
        Ok(Self { redis: Some(redis_pool(url, REDIS_OP_TIMEOUT)?), memory: Arc::default(), observed: None })
    }

    /// Another cache on the same Redis, with its own in-process entries, whose
    /// lookups, latency, size, evictions and expirations are recorded in
    /// `metrics` under `name` (a fixed name per use: `cache="responses"`).
    pub fn named(&self, metrics: &CacheMetrics, name: &'static str) -> Self {
        // The in-process store's families show from the start, at 0.
        metrics.size.with_label_values(&[name, MEMORY]).set(0);
        metrics.evictions.with_label_values(&[name, MEMORY]);
        metrics.expirations.with_label_values(&[name, MEMORY]);
        Self { redis: self.redis.clone(), memory: Arc::default(), observed: Some((metrics.clone(), name)) }
    }

    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(pool) = &self.redis {
            let started = Instant::now();
            match self.redis_op::<Option<Vec<u8>>>(pool, redis::cmd("GET").arg(key)).await {
                Ok(value) => {
                    self.record(REDIS, started, |m, labels| {
                        (if value.is_some() { &m.hits } else { &m.misses }).with_label_values(labels).inc();
                    });
                    return value;
                }
                Err(e) => tracing::warn!(error = %e, "redis get failed; using the in-process cache"),
            }
        }
        let started = Instant::now();
        let mut mem = self.memory.lock().expect("cache lock");
        let (value, expired) = match mem.entries.get(key) {
            Some((value, expires)) if *expires > Instant::now() => (Some(value.clone()), false),
            Some(_) => (None, true),
            None => (None, false),
        };
        if expired {
            mem.remove(key);
        }
        self.record(MEMORY, started, |m, labels| {
            (if value.is_some() { &m.hits } else { &m.misses }).with_label_values(labels).inc();
            if expired {
                m.expirations.with_label_values(labels).inc();
            }
            m.size.with_label_values(labels).set(mem.bytes as i64);
        });
        value
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        if let Some(pool) = &self.redis {
            let ms = ttl.as_millis().max(1) as u64;
            let started = Instant::now();
            match self.redis_op::<()>(pool, redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ms)).await {
                Ok(()) => return self.record(REDIS, started, |_, _| {}),
                Err(e) => tracing::warn!(error = %e, "redis set failed; using the in-process cache"),
            }
        }
        let started = Instant::now();
        let mut mem = self.memory.lock().expect("cache lock");
        let (mut expired, mut evicted) = (0, 0);
        if mem.entries.len() >= MEMORY_CAPACITY {
            let now = Instant::now();
            expired = mem.purge_expired(now);
            if mem.entries.len() >= MEMORY_CAPACITY {
                evicted = mem.clear();
            }
        }
        mem.insert(key, value.to_vec(), Instant::now() + ttl);
        self.record(MEMORY, started, |m, labels| {
            m.expirations.with_label_values(labels).inc_by(expired as u64);
            m.evictions.with_label_values(labels).inc_by(evicted as u64);
            m.size.with_label_values(labels).set(mem.bytes as i64);
        });
    }

    /// Removes `key` from both stores, so a write never leaves a stale entry behind.
    pub async fn delete(&self, key: &str) {
        if let Some(pool) = &self.redis {
            let started = Instant::now();
            match self.redis_op::<()>(pool, redis::cmd("DEL").arg(key)).await {
                Ok(()) => self.record(REDIS, started, |_, _| {}),
                Err(e) => tracing::warn!(error = %e, "redis delete failed"),
            }
        }
        let mut mem = self.memory.lock().expect("cache lock");
        mem.remove(key);
        self.record(MEMORY, Instant::now(), |m, labels| m.size.with_label_values(labels).set(mem.bytes as i64));
    }

    /// Which store is in use and whether Redis answers a PING.
    pub async fn backend(&self) -> CacheBackend {
        match &self.redis {
            None => CacheBackend::Memory,
            Some(pool) => CacheBackend::Redis { reachable: self.redis_op::<String>(pool, &redis::cmd("PING")).await.is_ok() },
        }
    }

    /// When the cache is named: `what` on its families with labels (name,
    /// `backend`), and the operation's latency since `started`.
    fn record(&self, backend: &str, started: Instant, what: impl FnOnce(&CacheMetrics, &[&str])) {
        if let Some((m, name)) = &self.observed {
            let labels = [*name, backend];
            what(m, &labels);
            m.latency.with_label_values(&labels).observe(started.elapsed().as_secs_f64());
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

/// The cache families of the source document, by `cache` (the use's fixed
/// name) and `backend` (`memory`, `redis`; the component comes from the
/// registry). What Redis does on its own is not counted here: it expires and
/// evicts keys itself, for every key of the server at once, and reading the
/// memory one cache's keys take would mean a `MEMORY USAGE` per key; so
/// `cache_size_bytes`, `cache_evictions_total` and `cache_expirations_total`
/// are the in-process store's (alone, or the fallback while Redis fails), and
/// Redis's own figures are its `INFO` (`used_memory`, `expired_keys`,
/// `evicted_keys`), which a Redis exporter publishes.
#[derive(Clone)]
pub struct CacheMetrics {
    hits: IntCounterVec,
    misses: IntCounterVec,
    latency: HistogramVec,
    size: IntGaugeVec,
    evictions: IntCounterVec,
    expirations: IntCounterVec,
}

impl CacheMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let labels = &["cache", "backend"];
        let counter = |opts: Opts| IntCounterVec::new(opts, labels);
        let m = Self {
            hits: counter(Opts::new("cache_hits_total", "Cache lookups that found an entry, by cache and backend"))?,
            misses: counter(Opts::new("cache_misses_total", "Cache lookups that found none (or an expired one), by cache and backend"))?,
            latency: HistogramVec::new(
                HistogramOpts::new("cache_latency_seconds", "Time of each cache operation (get, set, delete), by cache and backend")
                    .buckets(vec![0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5]),
                labels,
            )?,
            size: IntGaugeVec::new(
                Opts::new("cache_size_bytes", "Bytes of the in-process cache's keys and values (backend memory; Redis's are its own INFO)"),
                labels,
            )?,
            evictions: counter(Opts::new(
                "cache_evictions_total",
                "Live entries the in-process cache dropped to stay under its capacity (Redis evicts on its own: its INFO evicted_keys)",
            ))?,
            expirations: counter(Opts::new(
                "cache_expirations_total",
                "Expired entries the in-process cache dropped (Redis expires on its own: its INFO expired_keys)",
            ))?,
        };
        registry.register(Box::new(m.hits.clone()))?;
        registry.register(Box::new(m.misses.clone()))?;
        registry.register(Box::new(m.latency.clone()))?;
        registry.register(Box::new(m.size.clone()))?;
        registry.register(Box::new(m.evictions.clone()))?;
        registry.register(Box::new(m.expirations.clone()))?;
        Ok(m)
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
    async fn a_named_cache_counts_its_lookups_size_expirations_and_evictions() {
        let registry = Registry::new();
        let metrics = CacheMetrics::register(&registry).unwrap();
        let cache = Cache::memory().named(&metrics, "answers");
        let value = |family: &str| -> f64 {
            let families = registry.gather();
            let Some(f) = families.iter().find(|f| f.name() == family) else { return 0.0 };
            let m = &f.get_metric()[0];
            let labels: Vec<_> = m.get_label().iter().map(|l| (l.name(), l.value())).collect();
            assert_eq!(labels, [("backend", "memory"), ("cache", "answers")]);
            match f.get_field_type() {
                prometheus::proto::MetricType::COUNTER => m.get_counter().get_value(),
                prometheus::proto::MetricType::GAUGE => m.get_gauge().get_value(),
                _ => m.get_histogram().get_sample_count() as f64,
            }
        };
        assert_eq!(cache.get("k").await, None);
        cache.set("k", b"12345", Duration::from_secs(30)).await;
        assert_eq!(cache.get("k").await.as_deref(), Some(&b"12345"[..]));
        assert_eq!((value("cache_hits_total"), value("cache_misses_total")), (1.0, 1.0));
        assert_eq!(value("cache_size_bytes"), 6.0, "key and value");
        assert_eq!(value("cache_latency_seconds"), 3.0, "each operation timed");
        cache.set("gone", b"x", Duration::ZERO).await;
        assert_eq!(cache.get("gone").await, None);
        assert_eq!((value("cache_expirations_total"), value("cache_misses_total"), value("cache_size_bytes")), (1.0, 2.0, 6.0));
        cache.delete("k").await;
        assert_eq!(value("cache_size_bytes"), 0.0);
        // Past its capacity of live entries, the in-process store starts again.
        for i in 0..=MEMORY_CAPACITY {
            cache.set(&format!("{i}"), b"v", Duration::from_secs(30)).await;
        }
        assert_eq!(value("cache_evictions_total"), MEMORY_CAPACITY as f64);
        assert_eq!(value("cache_size_bytes"), 6.0, "the one entry set after the eviction");
        // An unnamed cache records nothing.
        Cache::memory().get("k").await;
        assert_eq!(value("cache_misses_total"), 2.0);
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
