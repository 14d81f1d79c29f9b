//! gRPC plumbing shared by servers and clients: outgoing requests that carry a
//! bearer token, the caller's trace context and the client's address, and lazily connected channels.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::tls::TlsConfig;

/// A channel to `url` that connects on first use and reconnects by itself, so
/// components can start in any order. An `https://` peer is called over TLS
/// with `tls`'s CA (and this component's certificate, for servers that
/// require one); it is an error without a CA, rather than a fall back to the
/// system's roots, which would trust any public certificate for the peer's name.
pub fn lazy_channel(url: &str, request_timeout: Duration, tls: &TlsConfig) -> anyhow::Result<Channel> {
    let mut endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(2))
        .timeout(request_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    if url.starts_with("https://") {
        let Some(client) = tls.client() else {
            anyhow::bail!("{url}: an https:// peer needs ATMR_TLS_CA_FILE, the CA that signs the peers' certificates");
        };
        endpoint = endpoint.tls_config(client).map_err(|e| anyhow::anyhow!("{url}: TLS from ATMR_TLS_* unusable: {e}"))?;
    }
    Ok(endpoint.connect_lazy())
}

/// The metadata that carries the client's address from the gateway to
/// services (for the human audit trail, `crate::audit_trail`).
pub const CLIENT_ADDRESS_HEADER: &str = "x-atmr-client-address";

tokio::task_local! {
    static CLIENT_ADDRESS: std::net::IpAddr;
}

/// Runs `fut` (the gateway's handling of one request) with the client's address
/// in scope, so every call it makes with [`request`] carries it.
pub async fn with_client_address<F: Future>(address: std::net::IpAddr, fut: F) -> F::Output {
    CLIENT_ADDRESS.scope(address, fut).await
}

/// The client's address of the request being handled, if in scope.
pub fn client_address() -> Option<std::net::IpAddr> {
    CLIENT_ADDRESS.try_with(|a| *a).ok()
}

/// Wraps `message` in a request carrying `bearer`, the current trace context
/// and, when the gateway handles a client's request, the client's address
/// (`x-atmr-client-address`, for the human audit trail).
pub fn request<T>(message: T, bearer: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {bearer}").parse() {
        req.metadata_mut().insert("authorization", value);
    }
    if let Some(address) = client_address()
        && let Ok(value) = address.to_string().parse()
    {
        req.metadata_mut().insert(CLIENT_ADDRESS_HEADER, value);
    }
    crate::telemetry::inject_metadata(req.metadata_mut());
    req
}
