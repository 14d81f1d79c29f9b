//! Prometheus metrics of one component, exposed on its admin port at `/metrics`.

use std::time::Duration;

use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// The registry of one component. In `atmr up` each component keeps its own, so
/// every admin port reports only its component.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub grpc: GrpcMetrics,
    /// 1 while the component reports ready.
    pub ready: IntGauge,
    /// `db_query_duration_seconds`: the runtime makes the component's
    /// connection record every statement; hot paths outside sea-orm observe here too.
    pub queries: crate::db::QueryMetrics,
    /// The `cache_*` families, for the component's caches (`Cache::named`).
    pub cache: crate::cache::CacheMetrics,
}

impl Metrics {
    pub fn new(component: &str) -> Self {
        let registry = Registry::new_custom(None, Some([("component".to_owned(), component.to_owned())].into()))
            .expect("static registry labels are valid");
        let grpc = GrpcMetrics::register(&registry);
        let ready = IntGauge::new("component_ready", "1 while the component reports ready, else 0").expect("valid metric");
        registry.register(Box::new(ready.clone())).expect("registered once");
        let queries = crate::db::QueryMetrics::register(&registry).expect("registered once");
        let cache = crate::cache::CacheMetrics::register(&registry).expect("registered once");
        Self { registry, grpc, ready, queries, cache }
    }

    /// The Prometheus text exposition of every registered family.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding never fails on valid families");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }
}

/// Calls served over gRPC, by method and status code.
#[derive(Clone)]
pub struct GrpcMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl GrpcMetrics {
    fn register(registry: &Registry) -> Self {
        let requests = IntCounterVec::new(
            Opts::new("grpc_server_requests_total", "gRPC calls served, by method and status code"),
            &["method", "code"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new("grpc_server_request_duration_seconds", "gRPC call latency, by method")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method"],
        )
        .expect("valid metric");
        registry.register(Box::new(requests.clone())).expect("registered once");
        registry.register(Box::new(duration.clone())).expect("registered once");
        Self { requests, duration }
    }

    pub fn observe(&self, method: &str, code: tonic::Code, elapsed: Duration) {
        // Unknown paths answer UNIMPLEMENTED; folding them keeps a scanner from
        // creating one time series per path it tries.
        let method = if code == tonic::Code::Unimplemented { "other" } else { method };
        self.requests.with_label_values(&[method, &format!("{code:?}")]).inc();
        self.duration.with_label_values(&[method]).observe(elapsed.as_secs_f64());
    }
}
