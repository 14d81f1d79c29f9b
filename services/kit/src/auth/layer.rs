//! The tower layer every gRPC server of the mesh sits behind: verifies the
//! call's token against the RPC's path before anything else sees it, and puts
//! the [`Claims`](super::Claims) and the token's [`Lease`](super::Lease) in the
//! request. Every path is covered (reflection included) except the standard
//! health service, which orchestrators probe without a token.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use super::Verifier;

/// The health service's path prefix: open, as probes need it.
const HEALTH: &str = "/grpc.health.v1.Health/";

#[derive(Clone, Debug)]
pub struct AuthLayer {
    verifier: Arc<Verifier>,
}

impl AuthLayer {
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self { verifier }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Auth { inner, verifier: self.verifier.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    verifier: Arc<Verifier>,
}

impl<S, B> tower::Service<http::Request<B>> for Auth<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            if path.starts_with(HEALTH) {
                return inner.call(req).await;
            }
            let header = req.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
            match verifier.verify_call(header, &path).await {
                Ok(claims) => {
                    req.extensions_mut().insert(verifier.revocations().lease(&claims));
                    req.extensions_mut().insert(claims);
                    inner.call(req).await
                }
                Err(refusal) => {
                    tracing::info!(path = %path, reason = ?refusal, "call refused");
                    Ok(tonic::Status::from(refusal).into_http())
                }
            }
        })
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for Auth<S> {
    const NAME: &'static str = S::NAME;
}
