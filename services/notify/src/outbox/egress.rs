//! Where the addresses a tenant types may take this service. Webhook and
//! Discord URLs and monitor targets are chosen by company admins; left alone,
//! one could point a monitor with a keyword at `http://169.254.169.254/` (a
//! cloud's metadata service) or at the database next door and read the answer
//! in the check's message, port-scan with TCP monitors, or post webhooks into
//! the network the platform runs in.
//!
//! So, in every deployment and under `atmr up` too, only public unicast
//! addresses are reached ([`special`] says what is not public and why), plus
//! what the operator lists in `NOTIFY_EGRESS_ALLOW` (comma-separated CIDRs or
//! host names, for services next door). The check is made on the addresses
//! actually connected to: HTTP goes through a resolver that drops every other
//! address (so a name that resolves, or re-resolves, to an internal address
//! fails before connecting), redirects are checked hop by hop, literal
//! addresses are checked before sending (after the URL parser has turned
//! `2130706433`, `0177.0.0.1` or `0x7f.1` into `127.0.0.1`), and gRPC and TCP
//! monitors connect to the address that was checked and to no other. A URL
//! naming a forbidden literal address is refused when it is saved.
//!
//! The one exception is the mesh's own component monitors, which the system
//! registers as internal (`monitor.internal`, set by no API): their checks use
//! [`Egress::system`]. SMTP is not here: its host is the operator's
//! configuration, never a tenant's.

use std::{
    fmt,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
};

use kit::{ConfigError, Env};

use crate::domain::address::{AllowList, normalise, special};

/// The rule a refusal of this policy names (`atmr-rules`) when an address is saved.
pub const REFUSED_RULE: &str = "egress_refused";

/// The variable that lists the private addresses and names this service may reach.
pub const ALLOW_VAR: &str = "NOTIFY_EGRESS_ALLOW";
/// The variable this policy replaced; set, it stops the service at start.
const REMOVED_VAR: &str = "NOTIFY_ALLOW_PRIVATE_TARGETS";

/// Resolves a host name to socket addresses; the system's resolver unless a
/// test injects one (a name that resolves to `127.0.0.1` without `/etc/hosts`).
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: &str, port: u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;
}

/// The operating system's resolver (`getaddrinfo`).
struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str, port: u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        let host = host.to_owned();
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), port)).await?.collect()) })
    }
}

/// The egress policy: cheap to clone, shared by the delivery workers, the
/// monitor scheduler and the checks made when a URL or target is saved.
#[derive(Clone)]
pub struct Egress {
    allow: Arc<AllowList>,
    lookup: Arc<dyn Lookup>,
    /// The system's own checks (internal monitors): every address is allowed.
    open: bool,
}

impl fmt::Debug for Egress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Egress").field("allow", &self.allow).field("open", &self.open).finish()
    }
}

impl Egress {
    /// Public addresses only, plus what `allow` lists.
    pub fn new(allow: AllowList) -> Self {
        Self { allow: Arc::new(allow), lookup: Arc::new(SystemLookup), open: false }
    }

    /// `NOTIFY_EGRESS_ALLOW` (empty by default). `NOTIFY_ALLOW_PRIVATE_TARGETS`,
    /// which this replaced, is refused rather than silently ignored: an
    /// operator who set it to reach services next door learns what to set now.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        if let Some(old) = env.get(REMOVED_VAR) {
            return Err(ConfigError::new(
                REMOVED_VAR,
                old,
                "it unset: private targets are refused in every deployment; list the ones notify may reach in \
                 NOTIFY_EGRESS_ALLOW (comma-separated CIDRs or host names, e.g. 10.0.4.0/24,status.internal)",
            ));
        }
        let raw = env.get(ALLOW_VAR).unwrap_or_default();
        let allow = AllowList::parse(raw).map_err(|bad| ConfigError::new(ALLOW_VAR, raw, &bad))?;
        Ok(Self::new(allow))
    }

    /// This policy resolving names with `lookup` (tests).
    pub fn with_lookup(mut self, lookup: Arc<dyn Lookup>) -> Self {
        self.lookup = lookup;
        self
    }

    /// The policy of the system's own checks (the internal monitors of the
    /// mesh's components): every address, with the same resolver.
    pub fn system(&self) -> Self {
        Self { open: true, ..self.clone() }
    }

    /// Refuses a host this policy forbids on its face: a literal address that
    /// is neither public nor allowed, or a `localhost` name not allowed by
    /// name. Other names are checked when they are resolved.
    pub fn check_host(&self, host: &str) -> Result<(), Refused> {
        if self.open {
            return Ok(());
        }
        let host = normalise(host);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.check_ip(ip);
        }
        if self.allow.has_host(&host) {
            return Ok(());
        }
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(Refused(format!("{host} is this machine (loopback); {}", self.hint())));
        }
        Ok(())
    }

    /// [`check_host`](Self::check_host) for a URL's host, as the URL parser
    /// wrote it (`http://2130706433/` has the host `127.0.0.1`).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), Refused> {
        self.check_host(url.host_str().unwrap_or_default())
    }

    /// [`check_host`](Self::check_host) for a `host:port` target, whose host is
    /// read as the URL parser and the system resolver read it: `0177.0.0.1`,
    /// `2130706433` and `0x7f.1` are all `127.0.0.1` to `getaddrinfo`.
    pub fn check_target(&self, target: &str) -> Result<(), Refused> {
        let (host, _) = host_port(target).map_err(Refused)?;
        self.check_host(&host)
    }

    /// Whether `ip` may be reached: public, or inside an allowed CIDR.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.open || self.allow.has_ip(ip) {
            return Ok(());
        }
        match special(ip) {
            None => Ok(()),
            Some(what) => Err(Refused(format!("{ip} is {what}, not a public address; {}", self.hint()))),
        }
    }

    /// The addresses of `target` (`host:port`) this policy allows; an error
    /// naming what the name resolved to when none is.
    pub async fn resolve_target(&self, target: &str) -> Result<Vec<SocketAddr>, String> {
        let (host, port) = host_port(target)?;
        self.resolve(&host, port).await.map_err(|e| e.to_string())
    }

    /// The addresses of `host` (with `port`) this policy allows: all of them
    /// for a host allowed by name, else the public and allowed ones. An error
    /// when none is left, nothing having been connected to.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        let host = normalise(host);
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.check_ip(ip).map_err(ResolveError::Refused)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        self.check_host(&host).map_err(ResolveError::Refused)?;
        let addrs = self.lookup.lookup(&host, port).await.map_err(|e| ResolveError::Unresolved(format!("cannot resolve {host}: {e}")))?;
        if addrs.is_empty() {
            return Err(ResolveError::Unresolved(format!("{host} resolves to no address")));
        }
        if self.open || self.allow.has_host(&host) {
            return Ok(addrs);
        }
        let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs.into_iter().partition(|a| self.check_ip(a.ip()).is_ok());
        if allowed.is_empty() {
            let what: Vec<String> = refused.iter().map(|a| format!("{} ({})", a.ip(), special(a.ip()).unwrap_or("not allowed"))).collect();
            return Err(ResolveError::Refused(Refused(format!(
                "{host} resolves only to addresses this service may not reach: {}; {}",
                what.join(", "),
                self.hint()
            ))));
        }
        Ok(allowed)
    }

    /// An HTTP client for tenants' URLs under this policy: the filtering
    /// resolver, redirects checked hop by hop, and no proxy (a proxy would
    /// resolve the target out of our sight).
    pub fn http_client(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let hops = self.clone();
        builder.no_proxy().dns_resolver(Arc::new(Resolver(self.clone()))).redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            match hops.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => {
                    let to = attempt.url().to_string();
                    attempt.error(Refused(format!("redirect to {to} refused: {}", e.0)))
                }
            }
        }))
    }

    fn hint(&self) -> &'static str {
        "the operator lists the private addresses and names this service may reach in NOTIFY_EGRESS_ALLOW"
    }
}

/// A target refused by the policy; found in a request error's source chain
/// by [`refusal`], so that the attempt says why nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Why a name gave no address to connect to.
#[derive(Debug)]
pub enum ResolveError {
    Refused(Refused),
    Unresolved(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(r) => write!(f, "refused: {r}"),
            Self::Unresolved(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Refused(r) => Some(r),
            Self::Unresolved(_) => None,
        }
    }
}

/// The policy's refusal somewhere in `e`'s source chain: a redirect refused,
/// or a name the resolver would not hand over.
pub fn refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cursor = Some(e);
    while let Some(err) = cursor {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        cursor = err.source();
    }
    None
}

/// The client's resolver: [`Egress::resolve`].
struct Resolver(Egress);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (egress, host) = (self.0.clone(), name.as_str().to_owned());
        Box::pin(async move {
            let addrs = egress.resolve(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A `host:port` target's host and port, the host read by the URL parser so
/// that every numeric form of an IPv4 address comes out dotted.
fn host_port(target: &str) -> Result<(String, u16), String> {
    let bad = || format!("{target:?} is not host:port");
    let url = reqwest::Url::parse(&format!("http://{}", target.trim())).map_err(|_| bad())?;
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return Err(bad()) };
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(bad());
    }
    Ok((normalise(host), port))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// Names resolved from a table, as a test's DNS.
    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    impl Lookup for Table {
        fn lookup(&self, host: &str, port: u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
            let found = self.0.get(host).map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
            Box::pin(async move { found.ok_or_else(|| std::io::Error::other("no such name")) })
        }
    }

    fn dns() -> Arc<dyn Lookup> {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        Arc::new(Table(HashMap::from([
            ("rebound.example", vec![ip("127.0.0.1")]),
            ("metadata.example", vec![ip("169.254.169.254"), ip("fd00:ec2::254")]),
            ("mixed.example", vec![ip("10.0.0.1"), ip("93.184.216.34")]),
            ("status.internal", vec![ip("10.9.9.9")]),
        ])))
    }

    fn policy(allow: &str) -> Egress {
        Egress::new(AllowList::parse(allow).unwrap()).with_lookup(dns())
    }

    /// A local HTTP server on `ip` answering 200 "ok", or a redirect to
    /// `location`; its URL and how many requests it got.
    async fn server(ip: &str, location: Option<String>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let answer = match &location {
                    Some(to) => format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
                    None => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_owned(),
                };
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (format!("http://{addr}"), hits)
    }

    fn chain(e: &reqwest::Error) -> String {
        let mut out = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            out.push_str(&format!(": {s}"));
            source = s.source();
        }
        out
    }

    #[test]
    fn the_old_switch_is_refused_and_the_allow_list_is_checked_at_start() {
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().copied());
        let err = Egress::from_env(&env(&[("NOTIFY_ALLOW_PRIVATE_TARGETS", "true")])).unwrap_err();
        assert_eq!(err.var, "NOTIFY_ALLOW_PRIVATE_TARGETS");
        assert!(err.to_string().contains("NOTIFY_EGRESS_ALLOW"), "{err}");
        let err = Egress::from_env(&env(&[("NOTIFY_EGRESS_ALLOW", "10.0.0.0/8,10.0.0.0/40")])).unwrap_err();
        assert_eq!(err.var, "NOTIFY_EGRESS_ALLOW");
        assert!(err.to_string().contains("\"10.0.0.0/40\""), "the bad entry is named: {err}");
        let open = Egress::from_env(&env(&[("NOTIFY_EGRESS_ALLOW", "10.0.0.0/8")])).unwrap();
        assert!(open.check_host("10.1.2.3").is_ok() && open.check_host("192.168.0.1").is_err());
        assert!(Egress::from_env(&env(&[])).unwrap().check_host("127.0.0.1").is_err(), "nothing private by default");
    }

    /// Every spelling of an internal address is refused on its face: the URL
    /// parser turns the numeric IPv4 forms into dotted ones, and `host:port`
    /// targets are read the same way (as `getaddrinfo` would read them).
    #[test]
    fn every_form_of_an_internal_address_is_refused_on_its_face() {
        let p = policy("");
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://192.0.2.1/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert!(p.check_url(&parsed).is_err(), "{url} (host {:?})", parsed.host_str());
        }
        for target in
            ["127.0.0.1:22", "2130706433:22", "0177.0.0.1:5432", "0x7f.1:6379", "[::1]:22", "[::ffff:10.0.0.1]:22", "localhost:5432"]
        {
            assert!(p.check_target(target).is_err(), "{target}");
        }
        assert!(p.check_url(&reqwest::Url::parse("https://hooks.example.com/x").unwrap()).is_ok(), "names are checked when resolved");
        assert!(p.check_target("1.1.1.1:443").is_ok());
        assert!(p.check_target("no port").is_err());
        let err = p.check_host("169.254.169.254").unwrap_err().to_string();
        assert!(err.contains("link-local") && err.contains("NOTIFY_EGRESS_ALLOW"), "{err}");
    }

    #[test]
    fn the_allow_list_opens_its_addresses_and_names_and_nothing_else() {
        let p = policy("127.0.0.1/32,status.internal,localhost");
        assert!(p.check_host("127.0.0.1").is_ok() && p.check_target("2130706433:80").is_ok());
        assert!(p.check_host("127.0.0.2").is_err() && p.check_host("::1").is_err());
        assert!(p.check_host("localhost").is_ok(), "localhost listed by name");
        assert!(policy("127.0.0.1/32").check_host("localhost").is_err(), "localhost is a name: listed only by name");
        assert!(p.system().check_host("169.254.169.254").is_ok(), "the system's own checks are not held to the policy");
    }

    #[tokio::test]
    async fn resolution_keeps_only_allowed_addresses_and_says_what_it_refused() {
        let p = policy("");
        let err = p.resolve("rebound.example", 80).await.unwrap_err().to_string();
        assert!(err.contains("127.0.0.1 (loopback)"), "{err}");
        let err = p.resolve("metadata.example", 80).await.unwrap_err().to_string();
        assert!(err.contains("169.254.169.254") && err.contains("fd00:ec2::254"), "{err}");
        assert_eq!(p.resolve("mixed.example", 80).await.unwrap(), vec!["93.184.216.34:80".parse().unwrap()]);
        assert!(p.resolve("status.internal", 80).await.is_err());
        assert_eq!(policy("status.internal").resolve("status.internal", 80).await.unwrap(), vec!["10.9.9.9:80".parse().unwrap()]);
        assert_eq!(policy("10.0.0.0/8").resolve("mixed.example", 80).await.unwrap().len(), 2);
        assert_eq!(p.resolve_target("2130706433:22").await.unwrap_err(), format!("refused: {}", p.check_host("127.0.0.1").unwrap_err()));
        assert_eq!(p.system().resolve("rebound.example", 80).await.unwrap(), vec!["127.0.0.1:80".parse().unwrap()]);
    }

    /// The client's own resolver refuses a name that resolves to this machine,
    /// and nothing reaches the server, where the system's client is answered.
    #[tokio::test]
    async fn the_http_client_does_not_connect_to_a_name_resolving_to_this_machine() {
        let (url, hits) = server("127.0.0.1", None).await;
        let url = url.replace("127.0.0.1", "rebound.example");
        let p = policy("");
        let err = p.http_client(reqwest::Client::builder()).build().unwrap().get(&url).send().await.unwrap_err();
        assert!(refusal(&err).is_some_and(|r| r.0.contains("127.0.0.1 (loopback)")), "{}", chain(&err));
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was sent");
        let system = p.system().http_client(reqwest::Client::builder()).build().unwrap();
        assert_eq!(system.get(&url).send().await.unwrap().status(), 200);
    }

    /// An allowed server that redirects to an internal one: the redirect is
    /// refused before it is followed.
    #[tokio::test]
    async fn a_redirect_to_an_internal_address_is_not_followed() {
        // The whole of 127.0.0.0/8 is this machine's loopback (on Linux).
        let (inside, inside_hits) = server("127.0.0.2", None).await;
        let (front, front_hits) = server("127.0.0.1", Some(format!("{inside}/secret"))).await;
        let p = policy("127.0.0.1/32");
        let err = p.http_client(reqwest::Client::builder()).build().unwrap().get(&front).send().await.unwrap_err();
        assert!(refusal(&err).is_some_and(|r| r.0.contains("redirect to http://127.0.0.2")), "{}", chain(&err));
        assert_eq!(front_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(inside_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
