//! The atmr gRPC contracts (`proto/atmr/<service>/v1/*.proto`), compiled at build
//! time, and the encoded file descriptor set served through gRPC reflection.
//!
//! Only each service's `grpc.rs` and the gateway's translation layer should use
//! these types; domain code works with its own types.

#![allow(clippy::all, missing_docs)]

/// The encoded `FileDescriptorSet` of every atmr contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/atmr_descriptor.bin"));

pub mod common {
    pub mod v1 {
        tonic::include_proto!("atmr.common.v1");
    }
}

pub mod safety {
    pub mod v1 {
        tonic::include_proto!("atmr.safety.v1");
    }
}

pub mod bugs {
    pub mod v1 {
        tonic::include_proto!("atmr.bugs.v1");
    }
}

pub mod notify {
    pub mod v1 {
        tonic::include_proto!("atmr.notify.v1");
    }
}

pub mod dispatch {
    pub mod v1 {
        tonic::include_proto!("atmr.dispatch.v1");
    }
}

pub mod gateway {
    pub mod v1 {
        tonic::include_proto!("atmr.gateway.v1");
    }
}
