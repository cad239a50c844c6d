//! Rust SDK for Rill (and Riak KV): an async Protocol Buffers client with
//! typed calls for objects, listings, bucket properties and data types,
//! connection pools, a cluster client that picks a coordinator per key on a
//! consistent-hash ring, and a minimal HTTP transport for objects and data
//! types.
//!
//! Wire types come from `rill-proto`; this crate never links server code.
//!
//! ```no_run
//! use rill_client::{ClusterClient, Content, DtFetchOptions, DtUpdate, DtUpdateOptions};
//! use rill_client::{GetOptions, PutOptions};
//!
//! # async fn demo() -> rill_client::Result<()> {
//! let client = ClusterClient::new(["127.0.0.1:8087"], 4)?;
//! let hello = Content::new("hello", "text/plain");
//! client.put("greetings", Some(b"en"), &hello, &PutOptions::default()).await?;
//! let obj = client.get("greetings", "en", &GetOptions::default()).await?;
//! assert_eq!(obj.and_then(|o| o.value().cloned()).as_deref(), Some(&b"hello"[..]));
//!
//! // Data types live in a bucket type with a `datatype` property, here one
//! // made with `rill admin bucket-type create counters '{"props":{"datatype":"counter"}}'`.
//! let bump = DtUpdate::Counter(1);
//! client
//!     .update_datatype("counters", "visits", Some(b"home"), &bump, &DtUpdateOptions::default())
//!     .await?;
//! let visits = client
//!     .fetch_datatype("counters", "visits", "home", &DtFetchOptions::default())
//!     .await?;
//! println!("{:?}", visits.value);
//! # Ok(())
//! # }
//! ```

pub mod cluster;
pub mod connection;
pub mod datatype;
pub mod error;
pub mod http;
pub mod object;
pub mod options;
pub mod pool;

pub use cluster::{ClusterClient, NodeRing, POINTS_PER_NODE};
pub use connection::{ConnectOptions, Connection, KeyStream};
pub use datatype::{DataType, DtFetched, DtUpdate, DtUpdated, DtValue};
pub use error::{ClientError, Result};
pub use http::{HttpClient, HttpObject, HttpOptions};
pub use object::{Content, Link, Object, PutResult, ServerInfo};
pub use options::{
    DeleteOptions, DtFetchOptions, DtUpdateOptions, GetOptions, ListOptions, PutOptions,
};
pub use pool::{Client, Pool, PooledConnection};
pub use rill_proto::Quorum;
pub use rill_proto::messages::RpbBucketProps;
