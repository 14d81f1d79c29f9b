//! The gateway's channels to the services, each behind a circuit breaker:
//! after `failures` unavailable or timed-out calls in a row the breaker opens
//! and calls to that service answer UNAVAILABLE at once (the route answers 503
//! naming the service) instead of waiting out a timeout; after the cooldown one
//! call probes, and success closes it again. Breaker states are exported as
//! `gateway_circuit_breaker_open{service}`.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use kit::breaker::{Admission, Breaker};
use prometheus::IntGaugeVec;
use tonic::{body::Body, transport::Channel};

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
        let fut = self.inner.call(req);
        let this = self.clone();
        Box::pin(async move {
            let res = fut.await;
            if failed(&res) {
                this.breaker.failure(Instant::now());
                if this.breaker.is_open(Instant::now()) {
                    tracing::warn!(service = this.service, "circuit breaker open");
                }
            } else {
                this.breaker.success();
            }
            this.export();
            res
        })
    }
}
