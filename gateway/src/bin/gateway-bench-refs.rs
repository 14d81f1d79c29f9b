//! The two references the gateway benchmark compares against (see
//! BENCHMARKS.md, "Gateway"): a bare axum handler, and a bare axum handler that
//! makes one tonic call (`grpc.health.v1.Health/Check`, a hello-world service)
//! per request. Listens on 127.0.0.1:18081 (bare) and 127.0.0.1:18082 (one
//! hop), the gRPC service on 127.0.0.1:18083, until Ctrl-C.

use axum::{Router, extract::State, routing::get};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// The same allocator as the `atmr` binary, so the references and the gateway
/// are compared on equal terms.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:18083").await?;
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(health)
            // Nagle off, as on the services' own listeners: left on, a reply
            // waits for a delayed ACK now and then (a p99 of ~42 ms).
            .serve_with_incoming(kit::service::no_delay(grpc))
            .await
    });
    let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:18083").connect_lazy();

    let bare = Router::new().route("/", get(|| async { "ok" }));
    let hop = Router::new()
        .route(
            "/",
            get(|State(mut client): State<HealthClient<tonic::transport::Channel>>| async move {
                match client.check(HealthCheckRequest { service: String::new() }).await {
                    Ok(r) => (axum::http::StatusCode::OK, format!("{}", r.into_inner().status)),
                    Err(e) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, e.message().to_owned()),
                }
            }),
        )
        .with_state(HealthClient::new(channel));
    let (a, b) = (tokio::net::TcpListener::bind("127.0.0.1:18081").await?, tokio::net::TcpListener::bind("127.0.0.1:18082").await?);
    eprintln!("references: bare http://127.0.0.1:18081/  one hop http://127.0.0.1:18082/");
    tokio::select! {
        r = axum::serve(a, bare) => r?,
        r = axum::serve(b, hop) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
