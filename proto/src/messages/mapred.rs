//! MapReduce messages of `riak_kv.proto` (codes 23/24).
//!
//! The job itself is opaque bytes (JSON or Erlang external term format,
//! named by `content_type`); parsing and running it is the MapReduce
//! engine's job.

/// `RpbMapRedReq` (code 23) → a stream of `RpbMapRedResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbMapRedReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub request: Vec<u8>,
    /// `application/json` or `application/x-erlang-binary`.
    #[prost(bytes = "vec", required, tag = "2")]
    pub content_type: Vec<u8>,
}

/// `RpbMapRedResp` (code 24): one phase's output; the last of a stream has
/// `done = true`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbMapRedResp {
    #[prost(uint32, optional, tag = "1")]
    pub phase: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub response: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "3")]
    pub done: Option<bool>,
}
