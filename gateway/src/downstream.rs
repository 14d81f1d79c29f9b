//! The gateway's channels to the services, each behind a circuit breaker:
//! after `failures` unavailable or timed-out calls in a row the breaker opens
//! and calls to that service answer UNAVAILABLE at once (the route answers 503
//! naming the service) instead of waiting out a timeout; after the cooldown one
//! call probes, and success closes it again. Breaker states are exported as
//! `gateway_circuit_breaker_open{service}`.
//!
//! Reads (`Get…` and `List…` methods, `MetricsSummary`, `Trends`) that meet an
//! unavailable service or a broken connection are tried once more, as long as
//! the breaker stays closed: a restarted service or a dropped connection costs
//! the caller nothing. Writes are never retried here.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use kit::breaker::{Admission, Breaker};
use prometheus::IntGaugeVec;
use tonic::{body::Body, transport::Channel};
use tower::Service as _;

/// A channel to one service behind its breaker.
#[derive(Clone)]
pub struct Guarded {
    inner: Channel,
    service: &'static str,
    breaker: Arc<Breaker>,
    open: Option<IntGaugeVec>,
}

impl Guarded {
    pub fn new(inner: Channel, service: &'static str, failures: u32, cooldown: Duration, open: Option<IntGaugeVec>) -> Self {
        Self { inner, service, breaker: Arc::new(Breaker::new(failures, cooldown)), open }
    }

    fn export(&self) {
        if let Some(g) = &self.open {
            g.with_label_values(&[self.service]).set(i64::from(self.breaker.is_open(Instant::now())));
        }
    }
}

impl Guarded {
    /// One call on a ready channel, its outcome recorded by the breaker.
    async fn attempt(&self, mut channel: Channel, req: http::Request<Body>) -> Result<http::Response<Body>, tonic::transport::Error> {
        let res = channel.call(req).await;
        if failed(&res) {
            self.breaker.failure(Instant::now());
            if self.breaker.is_open(Instant::now()) {
                tracing::warn!(service = self.service, "circuit breaker open");
            }
        } else {
            self.breaker.success();
        }
        self.export();
        res
    }
}

/// Whether a gRPC path names a read, safe to send twice.
fn is_read(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    method.starts_with("Get") || method.starts_with("List") || matches!(method, "MetricsSummary" | "Trends")
}

/// A trailers-only gRPC answer: UNAVAILABLE, the breaker is open.
fn open_answer(service: &str) -> http::Response<Body> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .header("grpc-status", (tonic::Code::Unavailable as i32).to_string())
        .header("grpc-message", format!("circuit%20open:%20{service}%20failed%20repeatedly;%20retrying%20shortly"))
        .body(Body::empty())
        .expect("a valid static response")
}

/// Whether an answer counts against the service: it could not be reached, or did not answer in time.
fn failed(res: &Result<http::Response<Body>, tonic::transport::Error>) -> bool {
    match res {
        Err(_) => true,
        Ok(r) => r
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
            .is_some_and(|c| c == tonic::Code::Unavailable as i32 || c == tonic::Code::DeadlineExceeded as i32),
    }
}

impl tower::Service<http::Request<Body>> for Guarded {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if self.breaker.admit(Instant::now()) == Admission::Open {
            self.export();
            let service = self.service;
            return Box::pin(async move { Ok(open_answer(service)) });
        }
        let this = self.clone();
        // The channel was readied for this call; a retry readies a clone itself.
        let inner = std::mem::replace(&mut self.inner, this.inner.clone());
        Box::pin(async move {
            if !is_read(req.uri().path()) {
                return this.attempt(inner, req).await;
            }
            // A unary read's message is small: keep it to send again.
            let (parts, body) = req.into_parts();
            let bytes = match http_body_util::BodyExt::collect(body).await {
                Ok(collected) => collected.to_bytes(),
                Err(status) => return Ok(status.into_http()),
            };
            let again = |parts: &http::request::Parts| {
                let mut req = http::Request::new(Body::new(http_body_util::Full::new(bytes.clone())));
                *req.method_mut() = parts.method.clone();
                *req.uri_mut() = parts.uri.clone();
                *req.version_mut() = parts.version;
                *req.headers_mut() = parts.headers.clone();
                req
            };
            let first = this.attempt(inner, again(&parts)).await;
            if !failed(&first) || this.breaker.is_open(Instant::now()) {
                return first;
            }
            tracing::info!(service = this.service, path = %parts.uri.path(), "retrying a read once");
            let mut channel = this.inner.clone();
            match std::future::poll_fn(|cx| channel.poll_ready(cx)).await {
                Ok(()) => this.attempt(channel, again(&parts)).await,
                Err(_) => first,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_read;

    #[test]
    fn reads_are_told_from_writes_by_their_method() {
        assert!(is_read("/atmr.bugs.v1.BugService/GetBug"));
        assert!(is_read("/atmr.dispatch.v1.DispatchService/ListBookings"));
        assert!(is_read("/atmr.bugs.v1.BugService/MetricsSummary"));
        assert!(!is_read("/atmr.bugs.v1.BugService/CreateBug"));
        assert!(!is_read("/atmr.dispatch.v1.DispatchService/RunDispatch"));
        assert!(!is_read("/atmr.safety.v1.SafetyService/AuthorizeAction"));
    }
}
