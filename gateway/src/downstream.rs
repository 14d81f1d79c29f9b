//! The gateway's channels to the services, each behind a circuit breaker
//! (`kit::breaker`): after `failures` unavailable or timed-out calls in a row
//! the breaker opens and calls to that service answer UNAVAILABLE at once (the
//! route answers 503 naming the service) instead of waiting out a timeout;
//! after the cooldown one call probes, and success closes it again. A probe
//! whose caller goes away counts as failed, so the breaker always comes back
//! to probing. Breaker states are exported as
//! `gateway_circuit_breaker_state{service}` (0 closed, 1 open, 2 half-open).
//!
//! Reads (`Get…` and `List…` methods, `MetricsSummary`, `Trends`) that meet an
//! unavailable service or a broken connection are tried once more, as long as
//! the breaker stays closed: a restarted service or a dropped connection costs
//! the caller nothing. Writes are never retried here.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use kit::breaker::{Breaker, Permit};
use tonic::{body::Body, transport::Channel};
use tower::Service as _;

/// A channel to one service behind its breaker.
#[derive(Clone)]
pub struct Guarded {
    inner: Channel,
    service: &'static str,
    breaker: Arc<Breaker>,
}

impl Guarded {
    pub fn new(inner: Channel, service: &'static str, breaker: Arc<Breaker>) -> Self {
        Self { inner, service, breaker }
    }

    /// One call on a ready channel, admitted by `permit`, its outcome recorded.
    /// Dropped while it waits, the permit records the call as abandoned.
    async fn attempt(
        permit: Permit,
        mut channel: Channel,
        req: http::Request<Body>,
    ) -> Result<http::Response<Body>, tonic::transport::Error> {
        let res = channel.call(req).await;
        if failed(&res) {
            permit.failure()
        } else {
            permit.success()
        }
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
        let this = self.clone();
        // The channel was readied for this call; a retry readies a clone itself.
        let inner = std::mem::replace(&mut self.inner, this.inner.clone());
        Box::pin(async move {
            if !is_read(req.uri().path()) {
                let Some(permit) = this.breaker.admit() else { return Ok(open_answer(this.service)) };
                return Self::attempt(permit, inner, req).await;
            }
            // A unary read's message is small: keep it to send again. Reading it
            // comes before admission, so a client that fails to send it holds no
            // permit.
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
            let Some(permit) = this.breaker.admit() else { return Ok(open_answer(this.service)) };
            let first = Self::attempt(permit, inner, again(&parts)).await;
            if !failed(&first) {
                return first;
            }
            // Once more only while the breaker still admits calls: not after
            // this failure opened it, nor after a failed trial.
            let Some(permit) = this.breaker.admit() else { return first };
            tracing::info!(service = this.service, path = %parts.uri.path(), "retrying a read once");
            let mut channel = this.inner.clone();
            match std::future::poll_fn(|cx| channel.poll_ready(cx)).await {
                Ok(()) => Self::attempt(permit, channel, again(&parts)).await,
                // Not called: the permit goes unresolved (a trial counts as failed).
                Err(_) => first,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Mutex, time::Duration};

    use axum::body::Bytes;
    use kit::breaker::{BreakerConfig, ManualTicker, StateGauge};
    use prometheus::core::Collector as _;

    use super::*;

    #[test]
    fn reads_are_told_from_writes_by_their_method() {
        assert!(is_read("/atmr.bugs.v1.BugService/GetBug"));
        assert!(is_read("/atmr.dispatch.v1.DispatchService/ListBookings"));
        assert!(is_read("/atmr.bugs.v1.BugService/MetricsSummary"));
        assert!(!is_read("/atmr.bugs.v1.BugService/CreateBug"));
        assert!(!is_read("/atmr.dispatch.v1.DispatchService/RunDispatch"));
        assert!(!is_read("/atmr.safety.v1.SafetyService/AuthorizeAction"));
    }

    const GET: &str = "/atmr.bugs.v1.BugService/GetBug";
    const CREATE: &str = "/atmr.bugs.v1.BugService/CreateBug";
    const COOLDOWN: Duration = Duration::from_secs(10);

    #[derive(Clone, Copy)]
    enum Mode {
        Unavailable,
        /// Takes the call and never answers.
        Hang,
        Ok,
    }

    /// A gRPC server that answers every call trailers-only, as told.
    #[derive(Clone)]
    struct Fake {
        mode: Arc<Mutex<Mode>>,
        /// Calls that reached it.
        calls: tokio::sync::watch::Sender<usize>,
    }

    impl Fake {
        async fn start() -> (Self, String) {
            let fake = Self { mode: Arc::new(Mutex::new(Mode::Unavailable)), calls: tokio::sync::watch::Sender::new(0) };
            let app = axum::Router::new().fallback({
                let fake = fake.clone();
                move || async move {
                    fake.calls.send_modify(|n| *n += 1);
                    let mode = *fake.mode.lock().unwrap();
                    let code = match mode {
                        Mode::Unavailable => tonic::Code::Unavailable,
                        Mode::Ok => tonic::Code::Ok,
                        Mode::Hang => std::future::pending().await,
                    };
                    http::Response::builder()
                        .header("content-type", "application/grpc")
                        .header("grpc-status", (code as i32).to_string())
                        .body(axum::body::Body::empty())
                        .unwrap()
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            (fake, url)
        }

        fn set(&self, mode: Mode) {
            *self.mode.lock().unwrap() = mode;
        }
    }

    /// A channel to `url` behind a breaker on a manual clock, its state exported.
    fn guarded(url: &str) -> (Guarded, ManualTicker, StateGauge) {
        let ticker = ManualTicker::default();
        let breaker = Breaker::with_ticker("bugs", BreakerConfig { failures: 2, cooldown: COOLDOWN }, Arc::new(ticker.clone()));
        let gauge = StateGauge::new(
            prometheus::IntGaugeVec::new(prometheus::Opts::new("gateway_circuit_breaker_state", "state"), &["service"]).unwrap(),
        );
        gauge.track(&["bugs"], breaker.clone());
        let channel = kit::grpc::lazy_channel(url, Duration::from_secs(60), &kit::tls::TlsConfig::default()).unwrap();
        (Guarded::new(channel, "bugs", breaker), ticker, gauge)
    }

    fn exported(gauge: &StateGauge) -> f64 {
        gauge.collect()[0].get_metric()[0].get_gauge().get_value()
    }

    fn message() -> Body {
        // An empty message in gRPC framing: not compressed, length 0.
        Body::new(http_body_util::Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
    }

    /// One call through the guarded channel; its grpc-status.
    async fn call(mut g: Guarded, path: &str, body: Body) -> i32 {
        std::future::poll_fn(|cx| g.poll_ready(cx)).await.unwrap();
        let req = http::Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(body)
            .unwrap();
        let res = g.call(req).await.unwrap();
        res.headers().get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("a grpc-status header")
    }

    async fn open_it(fake: &Fake, g: &Guarded, gauge: &StateGauge) {
        fake.set(Mode::Unavailable);
        for _ in 0..2 {
            assert_eq!(call(g.clone(), CREATE, message()).await, tonic::Code::Unavailable as i32);
        }
        assert_eq!(exported(gauge), 1.0, "open");
        let before = *fake.calls.borrow();
        assert_eq!(call(g.clone(), GET, message()).await, tonic::Code::Unavailable as i32);
        assert_eq!(*fake.calls.borrow(), before, "an open breaker answers without calling");
    }

    /// The trial's caller goes away mid-call (the REST client disconnected, a
    /// deadline cancelled it): the trial counts as failed, and after the
    /// cooldown the next call probes again and closes the breaker.
    #[tokio::test]
    async fn a_trial_dropped_mid_call_is_followed_by_another_after_the_cooldown() {
        let (fake, url) = Fake::start().await;
        let (g, ticker, gauge) = guarded(&url);
        open_it(&fake, &g, &gauge).await;
        ticker.advance(COOLDOWN);
        assert_eq!(exported(&gauge), 2.0, "cooled down: half-open");

        fake.set(Mode::Hang);
        let before = *fake.calls.borrow();
        let trial = tokio::spawn(call(g.clone(), GET, message()));
        // Bounded only so that a broken test fails instead of hanging.
        let mut calls = fake.calls.subscribe();
        tokio::time::timeout(Duration::from_secs(30), calls.wait_for(|n| *n > before))
            .await
            .expect("the trial reaches the service")
            .unwrap();
        assert_eq!(exported(&gauge), 2.0, "the trial is in flight");
        trial.abort();
        assert!(trial.await.unwrap_err().is_cancelled());
        assert_eq!(exported(&gauge), 1.0, "the abandoned trial failed: open for another cooldown");

        ticker.advance(COOLDOWN);
        assert_eq!(exported(&gauge), 2.0);
        fake.set(Mode::Ok);
        assert_eq!(call(g.clone(), GET, message()).await, tonic::Code::Ok as i32, "the next call probes");
        assert_eq!(exported(&gauge), 0.0, "and closes it");
        assert_eq!(call(g, CREATE, message()).await, tonic::Code::Ok as i32);
    }

    /// A read whose request body fails before the call (the read path's early
    /// return) leaves the trial to the next call.
    #[tokio::test]
    async fn a_read_that_ends_before_its_call_takes_no_trial() {
        let (fake, url) = Fake::start().await;
        let (g, ticker, gauge) = guarded(&url);
        open_it(&fake, &g, &gauge).await;
        ticker.advance(COOLDOWN);
        let broken = Body::new(http_body_util::StreamBody::new(futures::stream::iter([Err::<_, tonic::Status>(
            tonic::Status::cancelled("the client went away"),
        )])));
        assert_eq!(call(g.clone(), GET, broken).await, tonic::Code::Cancelled as i32);
        assert_eq!(exported(&gauge), 2.0, "still half-open, no trial taken");
        fake.set(Mode::Ok);
        assert_eq!(call(g, GET, message()).await, tonic::Code::Ok as i32);
        assert_eq!(exported(&gauge), 0.0);
    }
}
