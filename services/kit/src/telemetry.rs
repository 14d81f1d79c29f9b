//! Logs and traces.
//!
//! Every process installs one `tracing` subscriber: a log formatter (text, or JSON
//! with `ATMR_LOG_FORMAT=json`) and an OpenTelemetry layer. Spans always get W3C
//! trace ids, so a trace id can be logged and propagated even when nothing is
//! exported; with `OTEL_EXPORTER_OTLP_ENDPOINT` set they are also exported over
//! OTLP/gRPC. Trace context crosses every hop in the `traceparent` header: servers
//! extract it into their request span, clients inject the current span's.

use std::{
    pin::Pin,
    task::{Context as TaskContext, Poll},
    time::Instant,
};

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator as _},
    trace::{TraceContextExt as _, TracerProvider as _},
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::{Instrument as _, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt as _, util::SubscriberInitExt as _};

use crate::metrics::GrpcMetrics;

/// Keeps the tracer provider alive; flushes pending spans when dropped.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,h2=warn,hyper=warn,tower=warn,tonic=warn";

/// Builds a tracer provider exporting to `otlp_endpoint` when one is given.
pub fn tracer_provider(service_name: &str, otlp_endpoint: Option<&str>) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig as _;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service_name.to_owned()).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// Installs the process-wide subscriber. Call once, from the launcher.
pub fn init(service_name: &str, otlp_endpoint: Option<&str>, format: LogFormat) -> anyhow::Result<TelemetryGuard> {
    let provider = tracer_provider(service_name, otlp_endpoint)?;
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("atmr"));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    match format {
        LogFormat::Json => registry.with(tracing_subscriber::fmt::layer().json().with_current_span(false)).try_init()?,
        LogFormat::Text => registry.with(tracing_subscriber::fmt::layer().with_target(false)).try_init()?,
    }
    Ok(TelemetryGuard { provider })
}

/// Reads a W3C `traceparent` (and `tracestate`) from HTTP or gRPC headers.
pub fn extract(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Writes the context of `span` into outgoing headers.
pub fn inject(span: &Span, headers: &mut http::HeaderMap) {
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(headers));
}

/// Writes the current span's context into outgoing gRPC metadata.
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    TraceContextPropagator::new().inject_context(&Span::current().context(), &mut MetadataInjector(metadata));
}

/// The current span's W3C `traceparent`, when it has a valid context: kept
/// with work that is done later (an outbox row), so that the work joins the
/// trace of the request that asked for it.
pub fn current_traceparent() -> Option<String> {
    let mut headers = http::HeaderMap::new();
    inject(&Span::current(), &mut headers);
    headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The context a stored `traceparent` names (empty when it is malformed).
pub fn context_of(traceparent: &str) -> Context {
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = traceparent.parse() {
        headers.insert("traceparent", value);
    }
    extract(&headers)
}

/// The trace id of the current span, as 32 hex digits, when it has one.
pub fn current_trace_id() -> Option<String> {
    let cx = Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(key.as_bytes()), http::HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (tonic::metadata::MetadataKey::from_bytes(key.as_bytes()), value.parse()) {
            self.0.insert(key, value);
        }
    }
}

/// The server side of a gRPC call: one span per call, child of the caller's
/// trace, and the call counted in the component's metrics.
#[derive(Clone)]
pub struct GrpcServerLayer {
    metrics: GrpcMetrics,
}

impl GrpcServerLayer {
    pub fn new(metrics: GrpcMetrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for GrpcServerLayer {
    type Service = GrpcServerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerService { inner, metrics: self.metrics.clone() }
    }
}

#[derive(Clone)]
pub struct GrpcServerService<S> {
    inner: S,
    metrics: GrpcMetrics,
}

impl<S, B, RB> tower::Service<http::Request<B>> for GrpcServerService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %method,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        let _ = span.set_parent(extract(req.headers()));
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(
            async move {
                let result = fut.await;
                // Unary errors come back trailers-only, with the status in the headers;
                // a response without it in the headers carries OK (or a streamed status).
                let code = match &result {
                    Ok(res) => {
                        res.headers().get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i32>().ok()).unwrap_or(0)
                    }
                    Err(_) => tonic::Code::Unknown as i32,
                };
                Span::current().record("rpc.grpc.status_code", code);
                metrics.observe(&method, tonic::Code::from_i32(code), started.elapsed());
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_through_headers() {
        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
        let cx = extract(&headers);
        let span = cx.span();
        assert_eq!(span.span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(span.span_context().is_remote());
    }

    #[test]
    fn a_stored_traceparent_names_its_trace() {
        let cx = context_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(!context_of("not a traceparent").span().span_context().is_valid());
        assert_eq!(current_traceparent(), None, "no span, nothing to keep");
    }

    #[test]
    fn no_header_gives_an_empty_context() {
        let cx = extract(&http::HeaderMap::new());
        assert!(!cx.span().span_context().is_valid());
    }
}
