//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, one REST call is one trace with spans
//! from every component it reaches, each component its own process as in a pod,
//! received by an OTLP server in the test.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};
use serde_json::json;

use crate::{
    deploy::{Proc, eventually, http_ok},
    mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, admin_token},
};

/// A span received over OTLP: (service.name, trace id, span name).
type Received = (String, Vec<u8>, String);

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Received>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for batch in request.into_inner().resource_spans {
            let service = batch
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in batch.scope_spans {
                for span in scope.spans {
                    spans.push((service.clone(), span.trace_id, span.name));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

#[tokio::test]
async fn one_rest_call_is_one_trace_across_the_processes_it_reaches() {
    // The OTLP receiver.
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let otlp = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream_of(listener)),
    );

    // gateway → bugs → notify, each its own process exporting to the receiver.
    let dir = tempfile::tempdir().unwrap();
    let components = ["notify", "bugs", "gateway"];
    let ports: BTreeMap<&str, (u16, u16)> =
        components.iter().map(|c| (*c, (kit::testing::free_port(), kit::testing::free_port()))).collect();
    let mut env = BTreeMap::from([
        ("ATMR_ADMIN_EMAIL".to_owned(), ADMIN_EMAIL.to_owned()),
        ("ATMR_ADMIN_PASSWORD".to_owned(), ADMIN_PASSWORD.to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), otlp),
        // Export within 100 ms instead of the default 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "100".to_owned()),
        ("ATMR_DATA_DIR".to_owned(), dir.path().display().to_string()),
    ]);
    for (component, (grpc, admin)) in &ports {
        let up = component.to_uppercase();
        env.insert(format!("{up}_LISTEN_ADDR"), format!("127.0.0.1:{grpc}"));
        env.insert(format!("{up}_ADMIN_ADDR"), format!("127.0.0.1:{admin}"));
        env.insert(format!("{up}_URL"), format!("http://127.0.0.1:{grpc}"));
    }
    // Each process finds its key where `atmr keys generate` puts them.
    kit::auth::keys::generate_dir(&dir.path().join("keys")).unwrap();
    let procs: Vec<Proc> = components.iter().map(|c| Proc::start(c, &["serve", c], &env, dir.path())).collect();
    let all: Vec<&Proc> = procs.iter().collect();
    for (component, (_, admin)) in &ports {
        // The gateway is not ready without dispatch and safety (not started here): started is enough.
        let probe = if *component == "gateway" { "startup" } else { "ready" };
        eventually(&format!("{component} {probe}"), &all, || http_ok(format!("http://127.0.0.1:{admin}/health/{probe}"))).await;
    }

    let gw = format!("http://127.0.0.1:{}", ports["gateway"].0);
    let http = reqwest::Client::new();
    let token = admin_token(&http, &gw).await;
    // A critical bug: the gateway calls bugs, which hands a notification to notify.
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let created = http
        .post(format!("{gw}/api/bugs"))
        .bearer_auth(&token)
        .header("traceparent", traceparent)
        .json(&json!({"title": "Dispatch board frozen", "description": "The board stopped updating at 07:02.", "severity": "critical"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let trace_id = hex::decode("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let services_in_trace = || -> BTreeSet<String> {
        collector.spans.lock().unwrap().iter().filter(|(_, t, _)| *t == trace_id).map(|(s, _, _)| s.clone()).collect()
    };
    let want: BTreeSet<String> = components.iter().map(|c| format!("atmr-{c}")).collect();
    eventually("spans from every component in the caller's trace", &all, || {
        let (got, want) = (services_in_trace(), want.clone());
        async move { if got == want { Ok(()) } else { Err(format!("services in the trace so far: {got:?}")) } }
    })
    .await;
    let names: Vec<String> =
        collector.spans.lock().unwrap().iter().filter(|(_, t, _)| *t == trace_id).map(|(s, _, n)| format!("{s}: {n}")).collect();
    for expected in ["atmr-bugs: /atmr.bugs.v1.BugService/CreateBug", "atmr-notify: /atmr.notify.v1.NotifyService/Send"] {
        assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
    }
}

fn tokio_stream_of(listener: tokio::net::TcpListener) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}
