//! Hostile gRPC: every RPC of every service, reached directly on its port,
//! called without a token (refused), with random bytes and with well-formed
//! but random and truncated protobuf built from the method's own descriptor
//! (answered with a status, never a panic), and with a message over the size
//! limit (RESOURCE_EXHAUSTED). Each service is still SERVING afterwards.

use std::collections::BTreeMap;

use bytes::{Buf as _, BufMut as _};
use kit::{Component, auth::Role};
use prost::Message as _;
use prost_types::{DescriptorProto, FileDescriptorSet, field_descriptor_proto::Type};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::{Profile, procs::Mesh, report::Section};

/// Bytes in, bytes out: the codec of a client that sends what it likes.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// One RPC: its path, its input type, whether the server streams.
struct Method {
    component: Component,
    path: String,
    input: String,
    server_streaming: bool,
}

/// Every RPC of the atmr packages, and every message type by full name.
fn methods() -> anyhow::Result<(Vec<Method>, BTreeMap<String, DescriptorProto>)> {
    let set = FileDescriptorSet::decode(atmr_proto::FILE_DESCRIPTOR_SET)?;
    let mut types = BTreeMap::new();
    let mut methods = Vec::new();
    fn collect(prefix: &str, message: &DescriptorProto, types: &mut BTreeMap<String, DescriptorProto>) {
        let name = format!("{prefix}.{}", message.name());
        for nested in &message.nested_type {
            collect(&name, nested, types);
        }
        types.insert(name, message.clone());
    }
    for file in &set.file {
        let package = file.package();
        for message in &file.message_type {
            collect(&format!(".{package}"), message, &mut types);
        }
        let component = Component::SERVICES.iter().copied().find(|c| package == format!("atmr.{}.v1", c.name()));
        for service in &file.service {
            let Some(component) = component else { continue };
            for m in &service.method {
                if m.client_streaming() {
                    continue;
                }
                methods.push(Method {
                    component,
                    path: format!("/{package}.{}/{}", service.name(), m.name()),
                    input: m.input_type().to_owned(),
                    server_streaming: m.server_streaming(),
                });
            }
        }
    }
    Ok((methods, types))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A well-formed message of type `name` with random values in random fields
/// (strings sometimes not UTF-8, numbers at their extremes).
fn random_message(rng: &mut StdRng, types: &BTreeMap<String, DescriptorProto>, name: &str, depth: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(message) = types.get(name) else { return out };
    for field in &message.field {
        if !rng.random_bool(0.7) {
            continue;
        }
        let repeats = if field.label() == prost_types::field_descriptor_proto::Label::Repeated { rng.random_range(0..4) } else { 1 };
        for _ in 0..repeats {
            let number = field.number() as u64;
            match field.r#type() {
                Type::Double | Type::Fixed64 | Type::Sfixed64 => {
                    put_varint(&mut out, number << 3 | 1);
                    out.extend(rng.random::<u64>().to_le_bytes());
                }
                Type::Float | Type::Fixed32 | Type::Sfixed32 => {
                    put_varint(&mut out, number << 3 | 5);
                    out.extend(rng.random::<u32>().to_le_bytes());
                }
                Type::String | Type::Bytes => {
                    put_varint(&mut out, number << 3 | 2);
                    let len = if rng.random_bool(0.1) { rng.random_range(0..20_000) } else { rng.random_range(0..40) };
                    let text: Vec<u8> = if rng.random_bool(0.3) {
                        (0..len).map(|_| rng.random()).collect()
                    } else {
                        let pool = ["a", "é", "'; DROP TABLE bug; --", "\u{0}", "𝕏", "\u{202e}", " ", "%s", "\\", "\""];
                        let mut s = String::new();
                        while s.len() < len {
                            s.push_str(pool[rng.random_range(0..pool.len())]);
                        }
                        s.into_bytes()
                    };
                    put_varint(&mut out, text.len() as u64);
                    out.extend(text);
                }
                Type::Message if depth < 3 => {
                    let inner = random_message(rng, types, field.type_name(), depth + 1);
                    put_varint(&mut out, number << 3 | 2);
                    put_varint(&mut out, inner.len() as u64);
                    out.extend(inner);
                }
                Type::Message | Type::Group => {}
                _ => {
                    put_varint(&mut out, number << 3);
                    let v = match rng.random_range(0..4) {
                        0 => 0,
                        1 => u64::MAX,
                        2 => i64::MAX as u64,
                        _ => rng.random(),
                    };
                    put_varint(&mut out, v);
                }
            }
        }
    }
    out
}

/// The status of one call, or the transport failure.
async fn call(channel: &tonic::transport::Channel, method: &Method, token: Option<&str>, body: Vec<u8>) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(body);
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ascii"));
    }
    let path = http::uri::PathAndQuery::try_from(method.path.as_str()).expect("a valid path");
    if method.server_streaming {
        let mut stream = grpc.server_streaming(request, path, Raw).await?.into_inner();
        // One message is enough to know the server answered; do not wait for more.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), stream.message()).await;
        Ok(())
    } else {
        grpc.unary(request, path, Raw).await.map(|_| ())
    }
}

pub async fn run(mesh: &mut Mesh, profile: &Profile) -> Section {
    let mut s = Section::new("Hostile gRPC: every RPC without a token, with random and truncated protobuf, oversized", mesh.backend.name());
    let (methods, types) = match methods() {
        Ok(m) => m,
        Err(e) => {
            s.check("the services' descriptors decode", false, e.to_string());
            return s;
        }
    };
    let token = mesh.token(1, Role::Admin);
    let mut channels = BTreeMap::new();
    for component in Component::SERVICES {
        match tonic::transport::Endpoint::from_shared(mesh.grpc_url(component)).expect("a url").connect().await {
            Ok(channel) => {
                channels.insert(component, channel);
            }
            Err(e) => s.check(format!("{component} accepts a connection"), false, e.to_string()),
        }
    }
    let mut unauthenticated_ok = 0;
    let mut let_in = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut transport = Vec::new();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut cases = 0;
    for method in &methods {
        let Some(channel) = channels.get(&method.component) else { continue };
        // No token: refused before anything else happens.
        match call(channel, method, None, Vec::new()).await {
            Err(st) if st.code() == tonic::Code::Unauthenticated => unauthenticated_ok += 1,
            other => let_in.push(format!("{} → {:?}", method.path, other.map_err(|e| e.code()))),
        }
        for case in 0..profile.fuzz_cases {
            let body = match case % 3 {
                0 => (0..rng.random_range(1..256)).map(|_| rng.random()).collect(),
                1 => random_message(&mut rng, &types, &method.input, 0),
                _ => {
                    let mut m = random_message(&mut rng, &types, &method.input, 0);
                    if !m.is_empty() {
                        m.truncate(rng.random_range(0..m.len()));
                    }
                    m
                }
            };
            cases += 1;
            match call(channel, method, Some(&token), body).await {
                Ok(()) => *codes.entry("OK".into()).or_default() += 1,
                Err(st) => {
                    *codes.entry(format!("{:?}", st.code())).or_default() += 1;
                    // A reset stream or a closed connection is what a panicking handler looks like.
                    if st.code() == tonic::Code::Unknown
                        || st.message().contains("h2 protocol error")
                        || st.message().contains("connection")
                    {
                        transport.push(format!("{}: {st}", method.path));
                    }
                }
            }
        }
    }
    s.check(
        format!("all {} RPCs refuse a call without a token (UNAUTHENTICATED)", methods.len()),
        let_in.is_empty() && unauthenticated_ok == methods.len(),
        if let_in.is_empty() { format!("{unauthenticated_ok} refused") } else { format!("let in: {let_in:?}") },
    );
    s.check(
        format!("{cases} random or truncated messages are each answered with a status"),
        transport.is_empty(),
        format!("statuses: {codes:?}; broken calls: {:?}", transport.iter().take(5).collect::<Vec<_>>()),
    );
    // Over the size limit (ATMR_MAX_MESSAGE_BYTES, 4 MiB by default).
    for component in Component::SERVICES {
        let (Some(channel), Some(method)) =
            (channels.get(&component), methods.iter().find(|m| m.component == component && !m.server_streaming))
        else {
            continue;
        };
        let huge = {
            let mut m = Vec::new();
            put_varint(&mut m, 1 << 3 | 2);
            put_varint(&mut m, 5 << 20);
            m.resize(m.len() + (5 << 20), b'x');
            m
        };
        let got = call(channel, method, Some(&token), huge).await;
        s.check(
            format!("{component} refuses a 5 MiB message with RESOURCE_EXHAUSTED"),
            matches!(&got, Err(st) if st.code() == tonic::Code::ResourceExhausted),
            format!("{}: {:?}", method.path, got.map_err(|e| (e.code(), e.message().to_owned()))),
        );
    }
    // Still serving.
    for component in Component::SERVICES {
        let Some(channel) = channels.get(&component) else { continue };
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        let status = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await;
        s.check(
            format!("{component} is still SERVING"),
            status.as_ref().is_ok_and(|r| r.get_ref().status() == tonic_health::pb::health_check_response::ServingStatus::Serving),
            format!("{:?}", status.map(|r| r.into_inner().status()).map_err(|e| e.code())),
        );
    }
    s
}
