//! The notify service's pure rules and types, free of storage, transport and
//! protos: notifications and their severities (`notification.rs`), channels
//! and routing (`channel.rs`), Discord's limits (`discord.rs`), webhook
//! signatures (`signature.rs`), the uptime monitors' rules (`monitor.rs`)
//! with what one check does to a monitor (`check.rs`), and the addresses
//! tenants' targets may reach (`address.rs`), and the operator's monitors
//! file (`declared.rs`, `ATMR_MONITORS_FILE`) parsed and checked.

pub mod address;
pub mod channel;
pub mod check;
pub mod declared;
pub mod discord;
pub mod monitor;
pub mod notification;
pub mod signature;
