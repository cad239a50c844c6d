//! riak_kv for Rill: everything about a Riak object and a request on it.
//!
//! Objects and their causality live in `object`, bucket types and properties
//! in `bucket` and `types`; the vnode (`vnode`) stores objects, and the
//! coordinators (`get`, `put`, `delete`, `list`) answer requests through the
//! `KvService` that the HTTP and PB servers call.

pub mod bucket;
pub mod cluster;
pub mod config;
pub mod crdt;
pub mod delete;
pub mod dt;
pub mod error;
pub mod get;
pub mod handoff;
pub mod keys;
pub mod list;
pub mod object;
pub mod put;
pub mod read_pool;
pub(crate) mod remote;
pub mod request;
pub mod service;
pub mod stats;
pub mod types;
mod varint;
pub mod vnode;

pub use config::{DeleteMode, KvConfig};
pub use error::{KvError, Result};
pub use request::*;
pub use service::{KvService, NameStream, PropsUpdate, TypeStatus};
