//! The HTTP families of the source document, by method and route template (the
//! matched path, so ids do not multiply the series): `http_requests_total`,
//! `http_request_duration_seconds`, `http_request_size_bytes` and
//! `http_response_size_bytes` (from `Content-Length` where the message has one);
//! and the source's stream families for the live board's Server-Sent Events
//! (the gateway has no WebSocket: `websocket_*` keep the source's names and
//! mean the board's SSE streams).

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    request_size: HistogramVec,
    response_size: HistogramVec,
    /// Open live-board streams (Server-Sent Events).
    pub streams: BoardStreams,
}

/// The live board's Server-Sent Events streams, by `stream`: `api`
/// (`/api/dispatch/board`) and `console` (`/board/events`).
#[derive(Clone)]
pub struct BoardStreams {
    /// `gateway_open_streams`, both kinds together (kept as it was).
    open: IntGauge,
    active: IntGaugeVec,
    sent: IntCounterVec,
    errors: IntCounterVec,
}

impl BoardStreams {
    fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            open: IntGauge::new("gateway_open_streams", "Open live-board streams (Server-Sent Events)")?,
            active: IntGaugeVec::new(
                Opts::new(
                    "websocket_connections_active",
                    "Open live-board streams, by stream (api, console): Server-Sent Events; the name is the source document's, the gateway has no WebSocket",
                ),
                &["stream"],
            )?,
            sent: IntCounterVec::new(
                Opts::new(
                    "websocket_messages_sent_total",
                    "Events sent on live-board streams (Server-Sent Events; keep-alive comments not counted), by stream",
                ),
                &["stream"],
            )?,
            errors: IntCounterVec::new(
                Opts::new(
                    "websocket_errors_total",
                    "Live-board streams' failures sent as an event (a watcher too slow to keep up, dispatch's stream broken), by stream",
                ),
                &["stream"],
            )?,
        };
        for stream in ["api", "console"] {
            m.active.with_label_values(&[stream]).set(0);
            m.sent.with_label_values(&[stream]);
            m.errors.with_label_values(&[stream]);
        }
        registry.register(Box::new(m.open.clone()))?;
        registry.register(Box::new(m.active.clone()))?;
        registry.register(Box::new(m.sent.clone()))?;
        registry.register(Box::new(m.errors.clone()))?;
        Ok(m)
    }

    /// Counts a stream of kind `stream` (`api`, `console`) open while the guard lives.
    pub fn open(&self, stream: &'static str) -> StreamGuard {
        self.open.inc();
        self.active.with_label_values(&[stream]).inc();
        StreamGuard { streams: self.clone(), stream }
    }
}

/// One open stream: counted while it lives, and its events.
pub struct StreamGuard {
    streams: BoardStreams,
    stream: &'static str,
}

impl StreamGuard {
    /// An event sent; `failed` when it reports a failure.
    pub fn sent(&self, failed: bool) {
        self.streams.sent.with_label_values(&[self.stream]).inc();
        if failed {
            self.streams.errors.with_label_values(&[self.stream]).inc();
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.streams.open.dec();
        self.streams.active.with_label_values(&[self.stream]).dec();
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
            streams: BoardStreams::register(registry)?,
        };
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
