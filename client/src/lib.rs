//! Rust SDK for Rill (and Riak KV): an async Protocol Buffers client with
//! typed get/put/delete/listing/bucket-property calls, connection pools, a
//! cluster client that picks a coordinator per key on a consistent-hash
//! ring, and a minimal HTTP transport for the object API.
//!
//! Wire types come from `rill-proto`; this crate never links server code.

pub mod cluster;
pub mod connection;
pub mod error;
pub mod http;
pub mod object;
pub mod options;
pub mod pool;

pub use cluster::{ClusterClient, NodeRing, POINTS_PER_NODE};
pub use connection::{ConnectOptions, Connection, KeyStream};
pub use error::{ClientError, Result};
pub use http::{HttpClient, HttpObject, HttpOptions};
pub use object::{Content, Link, Object, PutResult, ServerInfo};
pub use options::{DeleteOptions, GetOptions, ListOptions, PutOptions};
pub use pool::{Client, Pool, PooledConnection};
pub use rill_proto::Quorum;
pub use rill_proto::messages::RpbBucketProps;
