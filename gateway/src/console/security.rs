//! The headers every console response carries: a Content-Security-Policy that
//! allows nothing but this origin (no inline script or style, no third-party
//! origin, no framing), `X-Frame-Options: DENY` for older browsers, no MIME
//! sniffing, and no referrer beyond this origin.

use axum::{http::HeaderValue, response::Response};

/// Scripts, styles, images and connections from this origin only; a map tile
/// server, when configured, is added to `img-src` by the map page's own header.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    if !h.contains_key(http::header::CONTENT_SECURITY_POLICY) {
        h.insert(http::header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(http::header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(http::header::CACHE_CONTROL) {
        // Pages show one user's data: never kept by a shared cache.
        h.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
