//! Riak's Protocol Buffers API (port 8087) over the KV service.
//!
//! Layers follow the bytes: `server` accepts sockets, `connection` frames
//! them and runs one request at a time, `service` dispatches a decoded
//! request to the handlers in `object`, `bucket`, `dt` and `info`; `error` is the
//! one place a failure becomes an `RpbErrorResp`. Wire types live in rill-proto.

mod bucket;
mod connection;
mod dt;
mod error;
mod info;
mod object;
mod server;
mod service;

pub use error::PbError;
pub use server::{PbConfig, serve};

/// The Riak version reported in `RpbGetServerInfoResp`. Clients parse it as
/// `X.Y.Z` to decide which features to use (bucket types need >= 2.0).
pub const SERVER_VERSION: &str = "3.0.16";
