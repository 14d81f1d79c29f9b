//! A response cache for read-heavy summaries (bug metrics and trends, action
//! stats): Redis when `REDIS_URL` is set, in process otherwise (and when Redis
//! fails: `kit::cache`). Entries live `ATMR_CACHE_TTL_SECS` at most and are
//! keyed by company and by a per-company generation of their family; a write
//! through the gateway that changes a summary bumps its family's generation,
//! so every cached variant of it (each `days=` of the trends) is left behind at
//! once. Writes that reach a service by other ways (the autonomous manager's
//! actions) show up within the TTL. On `/metrics`, the entries are the cache
//! `responses` and the generations `response_generations` (kit's `cache_*`
//! families), beside this module's own by family.

use std::time::{Duration, Instant};

use prometheus::{HistogramVec, IntCounterVec};
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body already serialised (a cache hit is sent without parsing it again).
pub struct JsonBytes(Vec<u8>);

impl axum::response::IntoResponse for JsonBytes {
    fn into_response(self) -> axum::response::Response {
        ([(http::header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

#[derive(Clone)]
pub struct ResponseCache {
    /// The answers.
    store: kit::cache::Cache,
    /// Each family's generation per company: looked up before every answer,
    /// and found only once something invalidated it, so kept apart from the
    /// answers' hits and misses.
    generations: kit::cache::Cache,
    ttl: Duration,
    lookups: IntCounterVec,
    seconds: HistogramVec,
}

/// A family of cached answers, invalidated together.
#[derive(Clone, Copy, Debug)]
pub enum Family {
    BugMetrics,
    ActionStats,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::BugMetrics => "bug-metrics",
            Family::ActionStats => "action-stats",
        }
    }
}

impl ResponseCache {
    pub fn new(redis_url: Option<&str>, ttl: Duration, metrics: &kit::metrics::Metrics) -> anyhow::Result<Self> {
        let registry = &metrics.registry;
        let lookups = IntCounterVec::new(
            prometheus::Opts::new("gateway_cache_lookups_total", "Response cache lookups by family and result"),
            &["family", "result"],
        )?;
        let seconds = HistogramVec::new(
            prometheus::HistogramOpts::new("gateway_cache_seconds", "Time to read the response cache, by family and result")
                .buckets(vec![0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1]),
            &["family", "result"],
        )?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(seconds.clone()))?;
        let store = kit::cache::Cache::new(redis_url)?;
        let generations = store.named(&metrics.cache, "response_generations");
        Ok(Self { store: store.named(&metrics.cache, "responses"), generations, ttl, lookups, seconds })
    }

    fn generation_key(family: Family, company: i64) -> String {
        format!("atmr:gen:{}:{company}", family.name())
    }

    /// The cached answer for `variant` of `family` in `company`, or `compute`'s,
    /// stored for next time. A hit is answered with the stored bytes as they are.
    pub async fn get_or<F, Fut>(&self, family: Family, company: i64, variant: &str, compute: F) -> Result<JsonBytes, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Value, ApiError>>,
    {
        let started = Instant::now();
        let generation = self
            .generations
            .get(&Self::generation_key(family, company))
            .await
            .map(|g| String::from_utf8_lossy(&g).into_owned())
            .unwrap_or_default();
        let key = format!("atmr:cache:{}:{company}:{generation}:{variant}", family.name());
        if let Some(bytes) = self.store.get(&key).await {
            self.observe(family, "hit", started);
            return Ok(JsonBytes(bytes));
        }
        self.observe(family, "miss", started);
        let value = compute().await?;
        let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::from_status("gateway", &kit::error::internal(e)))?;
        self.store.set(&key, &bytes, self.ttl).await;
        Ok(JsonBytes(bytes))
    }

    /// Leaves every cached answer of `family` in `company` behind.
    pub async fn invalidate(&self, family: Family, company: i64) {
        let generation = uuid::Uuid::new_v4().simple().to_string();
        // The generation outlives the entries it names.
        self.generations.set(&Self::generation_key(family, company), generation.as_bytes(), self.ttl * 2).await;
    }

    fn observe(&self, family: Family, result: &str, started: Instant) {
        self.lookups.with_label_values(&[family.name(), result]).inc();
        self.seconds.with_label_values(&[family.name(), result]).observe(started.elapsed().as_secs_f64());
    }
}
