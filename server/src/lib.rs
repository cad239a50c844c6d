//! The `rill` binary's library: configuration, node start-up and wiring,
//! and the admin CLI. `main.rs` only parses arguments and waits for a signal.

pub mod admin;
pub mod config;
pub mod memory;
pub mod node;

pub use config::Config;
pub use node::Node;
