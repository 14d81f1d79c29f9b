//! The client's address, for the login and request rate limits and the human
//! audit trail: the peer's, or — when the peer is one of the reverse proxies
//! the gateway is told to trust (`ATMR_TRUSTED_PROXIES`) — the right-most
//! address of `X-Forwarded-For` that is not a trusted proxy.
//!
//! Each proxy appends the address it received the request from, so the header
//! reads `client, proxy1, proxy2` and only its right end was written by
//! machines we trust: whatever a client puts at the left travels along
//! unchanged. Walking from the right past the trusted hops stops at the first
//! address a trusted proxy saw connect to it, which a client cannot choose.

use std::net::IpAddr;

/// One network, `address/prefix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `fd00::/8`, or a bare address (a network of one).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (raw.parse::<IpAddr>().ok()?, None),
        };
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(Self { network: mask(addr, prefix), prefix })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        addr.is_ipv4() == self.network.is_ipv4() && mask(addr, self.prefix) == self.network
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `addr` with every bit past `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            IpAddr::from((u32::from(a) & bits).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let bits = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            IpAddr::from((u128::from(a) & bits).to_be_bytes())
        }
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed; empty: none, and
/// the header is never read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A comma-separated list of CIDRs (or bare addresses); `Err` names the
    /// first entry that is neither.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| Cidr::parse(e).ok_or_else(|| e.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(addr))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&all.join(","))
    }
}

/// The client's address. The peer's, unless the peer is a trusted proxy: then
/// the right-most `X-Forwarded-For` address that is not a trusted proxy (every
/// `X-Forwarded-For` header, in order, read as one list). When every address
/// listed is trusted, the left-most; when the walk meets an entry that is not
/// an address, the last trusted hop before it (the proxy that wrote it), so a
/// malformed header never moves the answer further left.
pub(crate) fn client_address(trusted: &TrustedProxies, headers: &http::HeaderMap, peer: IpAddr) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.trusts(peer) {
        return peer;
    }
    let hops: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().flat_map(|v| v.to_str().unwrap_or("garbage").split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(addr) = parse_hop(hop) else { return client };
        client = addr;
        if !trusted.trusts(addr) {
            return addr;
        }
    }
    client
}

/// An address as proxies write it: `203.0.113.9`, `2001:db8::1`, and with a
/// port, `203.0.113.9:4711` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())).map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "an IPv4-mapped peer is its IPv4 address");
        assert_eq!(Cidr::parse("10.1.2.3/16").unwrap().to_string(), "10.1.0.0/16", "host bits are dropped");
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")), "a bare address is a network of one");
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("198.51.100.1")));
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "proxy.local", "10.0.0.0/", "/8"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(TrustedProxies::parse("10.0.0.0/8, 192.168.1.1,,").unwrap().to_string(), "10.0.0.0/8,192.168.1.1/32");
        assert_eq!(TrustedProxies::parse("10.0.0.0/8, nope/3").unwrap_err(), "nope/3", "the bad entry is named");
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let proxy = ip("10.1.0.7");
        // One proxy in front: the address it saw.
        assert_eq!(client_address(&trusted, &xff(&["203.0.113.9"]), proxy), ip("203.0.113.9"));
        // A spoofed left-most entry changes nothing.
        assert_eq!(client_address(&trusted, &xff(&["198.51.100.66, 203.0.113.9"]), proxy), ip("203.0.113.9"));
        // Two trusted hops are walked past, across headers too.
        assert_eq!(client_address(&trusted, &xff(&["1.2.3.4, 203.0.113.9", "10.2.0.1"]), proxy), ip("203.0.113.9"));
        assert_eq!(client_address(&trusted, &xff(&["[2001:db8::5]:4711, 10.2.0.1:80"]), proxy), ip("2001:db8::5"));
        // Every hop trusted: the left-most is the client (inside the network).
        assert_eq!(client_address(&trusted, &xff(&["10.9.9.9, 10.2.0.1"]), proxy), ip("10.9.9.9"));
        // A malformed entry stops the walk at the trusted hop that wrote it.
        assert_eq!(client_address(&trusted, &xff(&["203.0.113.9, garbage, 10.2.0.1"]), proxy), ip("10.2.0.1"));
        assert_eq!(client_address(&trusted, &xff(&["garbage"]), proxy), proxy);
        assert_eq!(client_address(&trusted, &http::HeaderMap::new(), proxy), proxy, "no header: the peer");
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let headers = xff(&["203.0.113.9"]);
        let outsider = ip("198.51.100.20");
        assert_eq!(client_address(&TrustedProxies::parse("10.0.0.0/8").unwrap(), &headers, outsider), outsider);
        assert_eq!(client_address(&TrustedProxies::default(), &headers, ip("10.0.0.1")), ip("10.0.0.1"), "nothing trusted");
    }
}
