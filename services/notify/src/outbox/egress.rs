//! Where the addresses a tenant types may take this service. Webhook and
//! Discord URLs and monitor targets are chosen by users; left alone, one could
//! point a monitor at `http://169.254.169.254/` (a cloud's metadata service) or
//! at the database next door, and read the answer in the check's message.
//!
//! With [`Egress::PublicOnly`] (`NOTIFY_ALLOW_PRIVATE_TARGETS=false`, the
//! default with `ATMR_ENV=production`, where companies are separate tenants)
//! only public unicast addresses are reached. The check is made on the addresses actually connected to: HTTP goes
//! through a resolver that drops every other address (so a name that resolves,
//! or re-resolves, to an internal address fails at connect time), redirects are
//! checked hop by hop, literal addresses in URLs are checked before sending, and
//! gRPC and TCP monitors connect to the address that was checked. A URL naming a
//! forbidden literal address is refused when it is saved. [`Egress::Any`] is
//! the development default (a laptop's webhooks point at localhost) and the
//! default of `atmr up` in any deployment, whose monitors of its own components
//! are on loopback. An operator who monitors services next door sets
//! `NOTIFY_ALLOW_PRIVATE_TARGETS=true`.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use kit::{ConfigError, Env, config::Deployment};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Egress {
    Any,
    PublicOnly,
}

impl Egress {
    /// `NOTIFY_ALLOW_PRIVATE_TARGETS`: true by default, false with `ATMR_ENV=production`.
    pub fn from_env(env: &Env, deployment: Deployment) -> Result<Self, ConfigError> {
        let allow = env.bool_or("NOTIFY_ALLOW_PRIVATE_TARGETS", deployment != Deployment::Production)?;
        Ok(if allow { Self::Any } else { Self::PublicOnly })
    }

    /// Refuses a host this policy forbids on its face: a non-public literal
    /// address, or `localhost`. Names are checked when they are resolved.
    pub fn check_host(self, host: &str) -> Result<(), String> {
        if self == Self::Any {
            return Ok(());
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if !is_public(ip) {
                return Err(format!("{ip} is not a public address (NOTIFY_ALLOW_PRIVATE_TARGETS is off)"));
            }
        } else if bare.eq_ignore_ascii_case("localhost") || bare.to_ascii_lowercase().ends_with(".localhost") {
            return Err(format!("{bare} is this machine (NOTIFY_ALLOW_PRIVATE_TARGETS is off)"));
        }
        Ok(())
    }

    /// [`check_host`](Self::check_host) for a URL's host.
    pub fn check_url(self, url: &reqwest::Url) -> Result<(), String> {
        self.check_host(url.host_str().unwrap_or_default())
    }

    /// An HTTP client for tenants' URLs under this policy: a filtering resolver,
    /// redirects checked hop by hop, and no proxy (a proxy would resolve the
    /// target out of our sight).
    pub fn http_client(self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if self == Self::Any {
            return builder;
        }
        builder.no_proxy().dns_resolver(Arc::new(PublicResolver)).redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            match self.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(format!("redirect refused: {e}")),
            }
        }))
    }

    /// The addresses of `host:port` this policy allows (all of them with
    /// [`Egress::Any`]); an error when there are none.
    pub async fn resolve(self, target: &str) -> Result<Vec<SocketAddr>, String> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(target).await.map_err(|e| format!("cannot resolve {target}: {e}"))?.collect();
        let allowed: Vec<SocketAddr> = addrs.iter().copied().filter(|a| self == Self::Any || is_public(a.ip())).collect();
        if allowed.is_empty() {
            return Err(if addrs.is_empty() {
                format!("{target} resolves to no address")
            } else {
                format!("{target} resolves only to non-public addresses (NOTIFY_ALLOW_PRIVATE_TARGETS is off)")
            });
        }
        Ok(allowed)
    }
}

/// Resolves with the system resolver and keeps only public addresses.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = Egress::PublicOnly.resolve(&format!("{host}:0")).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: not loopback, private, shared
/// (carrier-grade NAT), link-local, unique-local, multicast, documentation,
/// benchmarking, reserved or unspecified; IPv4 inside IPv6 (mapped,
/// compatible, NAT64) is judged as the IPv4 address it carries.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
                || v6 == Ipv6Addr::UNSPECIFIED)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0 // "this network" 0.0.0.0/8
        || (a == 100 && (64..128).contains(&b)) // shared 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (18..20).contains(&b)) // benchmarking 198.18.0.0/15
        || a >= 240) // reserved 240.0.0.0/4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn production_keeps_to_public_addresses_unless_told_otherwise() {
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().copied());
        assert_eq!(Egress::from_env(&env(&[]), Deployment::Development).unwrap(), Egress::Any);
        assert_eq!(Egress::from_env(&env(&[]), Deployment::Production).unwrap(), Egress::PublicOnly);
        let allow = env(&[("NOTIFY_ALLOW_PRIVATE_TARGETS", "true")]);
        assert_eq!(Egress::from_env(&allow, Deployment::Production).unwrap(), Egress::Any);
        let deny = env(&[("NOTIFY_ALLOW_PRIVATE_TARGETS", "false")]);
        assert_eq!(Egress::from_env(&deny, Deployment::Development).unwrap(), Egress::PublicOnly);
        assert!(Egress::from_env(&env(&[("NOTIFY_ALLOW_PRIVATE_TARGETS", "maybe")]), Deployment::Development).is_err());
    }

    #[test]
    fn hosts_are_refused_on_their_face_only_when_private_targets_are_off() {
        let off = Egress::PublicOnly;
        assert!(off.check_host("127.0.0.1").is_err());
        assert!(off.check_host("[::1]").is_err());
        assert!(off.check_host("LOCALHOST").is_err());
        assert!(off.check_host("api.localhost").is_err());
        assert!(off.check_host("hooks.example.com").is_ok(), "names are checked when resolved");
        assert!(off.check_host("1.1.1.1").is_ok());
        assert!(Egress::Any.check_host("127.0.0.1").is_ok());
    }

    /// The client's own resolver refuses a name that resolves to this machine,
    /// where the same request without the policy is answered.
    #[tokio::test]
    async fn the_http_client_does_not_connect_to_a_name_resolving_to_this_machine() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let open = Egress::Any.http_client(reqwest::Client::builder()).build().unwrap();
        assert_eq!(open.get(&url).send().await.unwrap().status(), 200);
        let guarded = Egress::PublicOnly.http_client(reqwest::Client::builder()).build().unwrap();
        let err = guarded.get(&url).send().await.unwrap_err();
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        assert!(chain.contains("non-public"), "{chain}");
    }

    #[tokio::test]
    async fn resolution_keeps_only_allowed_addresses() {
        let err = Egress::PublicOnly.resolve("localhost:80").await.unwrap_err();
        assert!(err.contains("non-public"), "{err}");
        assert_eq!(Egress::Any.resolve("127.0.0.1:80").await.unwrap(), vec!["127.0.0.1:80".parse().unwrap()]);
    }
}
