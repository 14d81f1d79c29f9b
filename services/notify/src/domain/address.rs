//! Addresses as the egress policy (`outbox::egress`) judges them, free of
//! I/O: which IP addresses are not public and why ([`special`]), the
//! operator's allow-list of CIDRs and host names (`NOTIFY_EGRESS_ALLOW`), and
//! hosts compared the way a resolver reads them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The private networks and names the operator lets tenants' targets reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    nets: Vec<Cidr>,
    /// Lower case, without a trailing dot.
    hosts: Vec<String>,
}

impl AllowList {
    /// Comma-separated CIDRs (`10.0.4.0/24`, `fd12::/64`; a bare address is
    /// that one address) or host names (`status.internal`, matched exactly).
    /// The error names the first bad entry.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut list = Self::default();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(net) = Cidr::parse(entry)? {
                list.nets.push(net);
            } else if is_host_name(entry) {
                list.hosts.push(normalise(entry));
            } else {
                return Err(format!("comma-separated CIDRs (10.0.4.0/24) or host names (status.internal); {entry:?} is neither"));
            }
        }
        Ok(list)
    }

    pub fn has_ip(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    pub fn has_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h == host)
    }
}

/// An address and a prefix length, the address's host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `Ok(None)` when `entry` does not look like an address at all (a host
    /// name); an error when it does but is not a valid CIDR.
    fn parse(entry: &str) -> Result<Option<Self>, String> {
        let (addr, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let Ok(net) = normalise(addr).parse::<IpAddr>() else {
            return match prefix {
                Some(_) => Err(format!("a CIDR such as 10.0.4.0/24; {entry:?} is not one")),
                None => Ok(None),
            };
        };
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("a CIDR whose prefix length is 0 to {max}; {entry:?} is not one")),
            },
        };
        Ok(Some(Self { net: mask(net, prefix), prefix }))
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 address carried in IPv6 is matched as the IPv4 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_ipv4() == self.net.is_ipv4() && mask(ip, self.prefix) == self.net
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(bits.into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(bits.into())
        }
    }
}

/// A DNS name as an operator would list it: labels of letters, digits and
/// hyphens, not starting or ending with a hyphen, the last one not a number
/// (`10.0.0` or `0x7f.1` is an IPv4 address to a resolver, not a name).
fn is_host_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    let last = s.rsplit('.').next().unwrap_or_default();
    let numeric = last.bytes().all(|b| b.is_ascii_digit()) || last.to_ascii_lowercase().starts_with("0x");
    !s.is_empty()
        && !numeric
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A host as compared: brackets, a trailing dot and case removed
/// (`LOCALHOST.` is `localhost`, `[::1]` is `::1`).
pub fn normalise(host: &str) -> String {
    let bare = host.trim().trim_start_matches('[').trim_end_matches(']');
    bare.strip_suffix('.').unwrap_or(bare).to_ascii_lowercase()
}

/// What `ip` is when it is not a public unicast address (loopback, private,
/// carrier-grade NAT, link-local, unique-local, multicast, broadcast,
/// documentation, benchmarking, reserved, unspecified); `None` when it is
/// public. IPv4 carried in IPv6 (mapped, compatible, NAT64, 6to4) is judged
/// as the IPv4 address it carries.
pub fn special(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        () if ip.is_unspecified() => "unspecified (connecting to it reaches this machine)",
        () if a == 0 => "\"this network\" (0.0.0.0/8)",
        () if ip.is_loopback() => "loopback",
        () if ip.is_private() => "private (RFC 1918)",
        () if a == 100 && (64..128).contains(&b) => "shared address space (carrier-grade NAT, 100.64.0.0/10)",
        () if ip.is_link_local() => "link-local (where clouds serve instance metadata)",
        () if a == 192 && b == 0 && c == 0 => "IETF protocol assignments (192.0.0.0/24)",
        () if ip.is_documentation() => "documentation",
        () if a == 192 && b == 88 && c == 99 => "the 6to4 relay anycast (192.88.99.0/24)",
        () if a == 198 && (18..20).contains(&b) => "benchmarking (198.18.0.0/15)",
        () if ip.is_multicast() => "multicast",
        () if ip.is_broadcast() => "broadcast",
        () if a >= 240 => "reserved (240.0.0.0/4)",
        () => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified (connecting to it reaches this machine)");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // IPv4-mapped (::ffff:a.b.c.d) reaches the IPv4 address it carries.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d) is deprecated and never public.
    if s[0..6] == [0; 6] {
        return Some(special_v4(embedded(s[6], s[7])).unwrap_or("IPv4-compatible IPv6 (deprecated, ::/96)"));
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it carries.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return special_v4(embedded(s[6], s[7]));
    }
    // 6to4 (2002::/16) carries the IPv4 address of its relay's other side.
    if s[0] == 0x2002 {
        return special_v4(embedded(s[1], s[2]));
    }
    Some(match () {
        () if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 => "local-use NAT64 (64:ff9b:1::/48)",
        () if s[0] == 0x100 && s[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        () if (s[0] & 0xfe00) == 0xfc00 => "unique local (fc00::/7, where AWS serves instance metadata at fd00:ec2::254)",
        () if (s[0] & 0xffc0) == 0xfe80 => "link-local (fe80::/10)",
        () if (s[0] & 0xffc0) == 0xfec0 => "site-local (fec0::/10)",
        () if (s[0] & 0xff00) == 0xff00 => "multicast",
        () if s[0] == 0x2001 && s[1] == 0x0db8 => "documentation (2001:db8::/32)",
        () if (s[0] & 0xfff0) == 0x3ff0 => "documentation (3fff::/20)",
        () if s[0] == 0x2001 && s[1] < 0x200 => "IETF protocol assignments (2001::/23, Teredo among them)",
        () if (s[0] & 0xe000) != 0x2000 => "outside global unicast (2000::/3)",
        () => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for (private, why) in [
            ("127.0.0.1", "loopback"),
            ("127.1.2.3", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "this network"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("192.0.2.10", "documentation"),
            ("198.51.100.1", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00::1", "unique local"),
            ("fd00:ec2::254", "AWS"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "loopback"),
            ("::1.1.1.1", "IPv4-compatible"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("2002:7f00:1::", "loopback"),
            ("2002:a9fe:a9fe::1", "link-local"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("2001::1", "Teredo"),
            ("100::1", "discard-only"),
            ("4000::1", "outside global unicast"),
        ] {
            let got = special(private.parse().unwrap());
            assert!(got.is_some_and(|w| w.contains(why)), "{private}: {got:?}, expected {why}");
        }
        for public in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101", "2002:101:101::1"] {
            assert_eq!(special(public.parse().unwrap()), None, "{public}");
        }
    }

    #[test]
    fn the_allow_list_holds_cidrs_addresses_and_names_and_names_a_bad_entry() {
        let list = AllowList::parse(" 10.0.4.0/24, 127.0.0.1 ,fd12::/64,Status.Internal.,").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(list.has_ip(ip("10.0.4.200")) && !list.has_ip(ip("10.0.5.1")));
        assert!(list.has_ip(ip("127.0.0.1")) && !list.has_ip(ip("127.0.0.2")), "a bare address is that address only");
        assert!(list.has_ip(ip("::ffff:10.0.4.7")), "an IPv4-mapped address is matched as IPv4");
        assert!(list.has_ip(ip("fd12::9")) && !list.has_ip(ip("fd13::9")));
        assert!(list.has_host("status.internal") && !list.has_host("internal"));
        assert_eq!(AllowList::parse("").unwrap(), AllowList::default());
        assert!(AllowList::parse("0.0.0.0/0").unwrap().has_ip(ip("192.168.1.1")), "an operator may open everything, explicitly");
        for (raw, bad) in [
            ("10.0.0.0/8,10.0.0.0/33", "10.0.0.0/33"),
            ("fd00::/129", "fd00::/129"),
            ("status.internal,not a host", "not a host"),
            ("http://10.0.0.1/", "http://10.0.0.1/"),
            ("10.0.0/8", "10.0.0/8"),
            ("-bad-.example", "-bad-.example"),
            ("10.0.0", "10.0.0"),
            ("0x7f.1", "0x7f.1"),
        ] {
            let err = AllowList::parse(raw).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{raw}: {err}");
        }
    }

    #[test]
    fn hosts_are_compared_without_brackets_trailing_dots_or_case() {
        assert_eq!(normalise("[::1]"), "::1");
        assert_eq!(normalise("LocalHost."), "localhost");
    }
}
