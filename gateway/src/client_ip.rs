//! The client's address, for the login and request rate limits and the human
//! audit trail: the peer's, or the first one in the header a trusted reverse
//! proxy sets.

/// The client's address: the first address in the trusted proxy's header when
/// one is configured and present, else the peer's.
pub(crate) fn client_address(header: Option<&http::HeaderName>, headers: &http::HeaderMap, peer: std::net::IpAddr) -> std::net::IpAddr {
    header
        .and_then(|h| headers.get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::client_address;

    #[test]
    fn the_client_address_comes_from_the_trusted_header_only() {
        let peer: std::net::IpAddr = "10.1.0.7".parse().unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.1.0.7".parse().unwrap());
        let xff = http::HeaderName::from_static("x-forwarded-for");
        assert_eq!(client_address(Some(&xff), &headers, peer), "203.0.113.9".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(client_address(None, &headers, peer), peer, "not trusted unless configured");
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_address(Some(&xff), &headers, peer), peer);
    }
}
