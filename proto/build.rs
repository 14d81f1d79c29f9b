//! Compiles the contracts with protox (no system `protoc`) and writes the encoded
//! file descriptor set that the services serve through gRPC reflection.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

const PROTOS: &[&str] = &[
    "atmr/common/v1/common.proto",
    "atmr/safety/v1/safety.proto",
    "atmr/bugs/v1/bugs.proto",
    "atmr/notify/v1/notify.proto",
    "atmr/dispatch/v1/resources.proto",
    "atmr/dispatch/v1/dispatch_service.proto",
    "atmr/dispatch/v1/autonomy_service.proto",
    "atmr/dispatch/v1/company_service.proto",
    "atmr/gateway/v1/revocation_service.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=atmr");
    let fds = protox::compile(PROTOS, ["."])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("atmr_descriptor.bin"), fds.encode_to_vec())?;
    // No default stubs: a service that leaves an RPC of its contract
    // unimplemented does not compile, instead of answering UNIMPLEMENTED.
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
