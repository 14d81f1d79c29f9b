//! The HTTP families of the source document, by method and route template (the
//! matched path, so ids do not multiply the series): `http_requests_total`,
//! `http_request_duration_seconds`, `http_request_size_bytes` and
//! `http_response_size_bytes` (from `Content-Length` where the message has one).

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    request_size: HistogramVec,
    response_size: HistogramVec,
    /// Open live-board streams (Server-Sent Events).
    pub streams: IntGauge,
}

/// Counts one open stream for as long as it lives.
pub struct StreamGuard(IntGauge);

impl StreamGuard {
    pub fn new(gauge: &IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

const SIZES: [f64; 8] = [100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0, 50_000_000.0, 100_000_000.0];

impl HttpMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests by method, route and status"),
                &["method", "route", "status"],
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new("http_request_duration_seconds", "HTTP request duration by method and route")
                    .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
                &["method", "route"],
            )?,
            request_size: HistogramVec::new(
                HistogramOpts::new("http_request_size_bytes", "HTTP request body sizes by method and route").buckets(SIZES.to_vec()),
                &["method", "route"],
            )?,
            response_size: HistogramVec::new(
                HistogramOpts::new("http_response_size_bytes", "HTTP response body sizes by method and route").buckets(SIZES.to_vec()),
                &["method", "route"],
            )?,
            streams: IntGauge::new("gateway_open_streams", "Open live-board streams (Server-Sent Events)")?,
        };
        registry.register(Box::new(m.streams.clone()))?;
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.duration.clone()))?;
        registry.register(Box::new(m.request_size.clone()))?;
        registry.register(Box::new(m.response_size.clone()))?;
        Ok(m)
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64, request_bytes: Option<u64>, response_bytes: Option<u64>) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.duration.with_label_values(&[method, route]).observe(seconds);
        if let Some(b) = request_bytes {
            self.request_size.with_label_values(&[method, route]).observe(b as f64);
        }
        if let Some(b) = response_bytes {
            self.response_size.with_label_values(&[method, route]).observe(b as f64);
        }
    }
}
