//! Trace context crosses a gRPC hop: the server's span is a child of the
//! client's span, in the same trace.

use kit::{
    Component,
    auth::Role,
    testing::{TestBackend, TestDb},
};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::spawn_one;

#[tokio::test(flavor = "current_thread")]
async fn the_server_span_continues_the_callers_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber = tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    // The runtime has one thread, so the server's tasks see this subscriber too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = TestDb::new(TestBackend::Sqlite).await.unwrap();
    let svc = spawn_one(Component::Safety, &db, &[]).await;
    let mut client = atmr_proto::safety::v1::safety_service_client::SafetyServiceClient::connect(svc.url()).await.unwrap();
    let token = svc.token(1, Role::Admin);
    async {
        client.get_limits(kit::grpc::request(atmr_proto::safety::v1::GetLimitsRequest {}, &token)).await.unwrap();
    }
    .instrument(tracing::info_span!("client-call"))
    .await;
    svc.stop().await.unwrap();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let client_span = spans.iter().find(|s| s.name == "client-call").expect("client span exported");
    let server_span = spans
        .iter()
        .find(|s| s.name == "/atmr.safety.v1.SafetyService/GetLimits")
        .unwrap_or_else(|| panic!("server span exported: {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>()));
    assert_eq!(server_span.span_context.trace_id(), client_span.span_context.trace_id(), "one trace across the hop");
    assert_eq!(server_span.parent_span_id, client_span.span_context.span_id(), "the server span is the client span's child");
}
