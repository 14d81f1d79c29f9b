//! What wraps every request: a request id, a span that continues the caller's
//! trace (or starts one), rate limits, the roles the API documents for the
//! operation (checked before the body is read), the client's address in scope
//! for the calls the request makes, and 503 for new work while the gateway
//! drains.

use axum::{
    extract::{MatchedPath, Request, State},
    http::HeaderValue,
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{error::ApiError, state::AppState};

/// The outcome of checking an `/api` request's bearer token, computed once by
/// [`observe`] and read by the handlers' `Caller` from the request extensions.
#[derive(Clone, Debug)]
pub struct Verified(pub Result<kit::auth::Claims, kit::auth::AuthError>);

/// 403 when the API documents roles for a method and route and the caller's
/// role is not one of them (`openapi::role_refusal`, handed in by whoever
/// mounts the middleware, so that it names no route).
pub type RoleGate = fn(&http::Method, &str, kit::auth::Role) -> Option<ApiError>;

/// What [`observe`] wraps every request with.
#[derive(Clone)]
pub struct Observed {
    pub state: AppState,
    pub role_refusal: RoleGate,
}

pub async fn observe(State(Observed { state, role_refusal }): State<Observed>, mut req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let started = std::time::Instant::now();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let request_bytes = body_size(req.headers(), req.body());
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{} {route}", req.method()),
        otel.kind = "server",
        http.method = %req.method(),
        http.route = %route,
        request_id = %request_id,
        http.status_code = tracing::field::Empty,
    );
    let _ = span.set_parent(kit::telemetry::extract(req.headers()));

    // Draining is decided by when the request arrived: one the gateway took
    // before the signal is served, however long its rate-limit check then
    // takes (two Redis round trips, each up to its timeout).
    let draining = state.health.is_draining() && !route.starts_with("/health");

    // The token is verified once, here: the limits and the role gate use the
    // claims, and the handlers' `Caller` takes the outcome from the extensions
    // (and answers 401 when it is bad).
    let claims = if route.starts_with("/api/") {
        let header = req.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
        let verified = state.verify_header(header);
        let claims = verified.as_ref().ok().cloned();
        req.extensions_mut().insert(Verified(verified));
        claims
    } else {
        None
    };
    let limited = if route.starts_with("/api/") && !draining {
        let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        limit(&state, req.headers(), peer, claims.as_ref()).await
    } else {
        None
    };
    let refused_role = claims.as_ref().and_then(|c| role_refusal(&method, &route, c.role));
    let mut res = if draining {
        ApiError::new(http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the gateway is shutting down").into_response()
    } else {
        match limited {
            Some(d) if !d.allowed => {
                let secs = d.retry_after.as_secs_f64().ceil().max(1.0) as u64;
                span.in_scope(|| tracing::info!(retry_after_secs = secs, "rate limited"));
                let mut res = ApiError::too_many(format!("too many requests; try again in {secs} s"), secs).into_response();
                rate_headers(&mut res, &state, &d);
                res
            }
            _ => {
                // The client's address goes with every call the request makes
                // (`kit::grpc::request`), for the human audit trail.
                let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
                let address = crate::client_ip::client_address(
                    &state.trusted_proxies,
                    req.headers(),
                    peer.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
                );
                let mut res = match refused_role {
                    Some(refusal) => refusal.into_response(),
                    None => kit::grpc::with_client_address(address, next.run(req)).instrument(span.clone()).await,
                };
                if let Some(d) = limited {
                    rate_headers(&mut res, &state, &d);
                }
                res
            }
        }
    };
    span.record("http.status_code", res.status().as_u16());
    state.http.observe(
        method.as_str(),
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
        request_bytes,
        body_size(res.headers(), res.body()),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// The tightest of the request's limits (user and address), if limits are on.
async fn limit(
    state: &AppState,
    headers: &http::HeaderMap,
    peer: Option<std::net::IpAddr>,
    claims: Option<&kit::auth::Claims>,
) -> Option<crate::rate_limit::Decision> {
    let limiter = state.rate_limit.as_ref()?;
    let peer = peer.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let address = crate::client_ip::client_address(&state.trusted_proxies, headers, peer);
    let mut tightest: Option<crate::rate_limit::Decision> = None;
    for key in crate::rate_limit::keys(claims.map(|c| (c.company_id, c.sub.as_str())), address) {
        let d = limiter.check(&key).await;
        tightest = Some(match tightest {
            None => d,
            Some(t) if !d.allowed && (t.allowed || d.retry_after > t.retry_after) => d,
            Some(t) if t.allowed && d.allowed && d.remaining < t.remaining => d,
            Some(t) => t,
        });
    }
    tightest
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds), as
/// the IETF draft names them.
fn rate_headers(res: &mut Response, state: &AppState, d: &crate::rate_limit::Decision) {
    let Some(limiter) = &state.rate_limit else { return };
    let headers = res.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(limiter.burst()));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(d.reset.as_secs_f64().ceil() as u64));
}

/// A body's size: exact when known before it is sent, else its `Content-Length`.
fn body_size(headers: &http::HeaderMap, body: &axum::body::Body) -> Option<u64> {
    use axum::body::HttpBody as _;
    body.size_hint()
        .exact()
        .or_else(|| headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()))
}
