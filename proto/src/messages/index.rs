//! Secondary-index (2i) queries, Riak CS bucket folds and coverage plans
//! of `riak_kv.proto`.
//!
//! Coverage plans live here because their only use is to split a 2i query
//! into per-vnode pieces (`cover_context`). Query semantics are left to the
//! KV layer.

use super::kv::RpbGetResp;
use super::misc::RpbPair;

/// `RpbIndexReq.IndexQueryType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum IndexQueryType {
    /// Exact match on `key`.
    Eq = 0,
    /// Inclusive range `range_min..=range_max`.
    Range = 1,
}

/// `RpbIndexReq` (code 25) → `RpbIndexResp` (or `RpbIndexBodyResp` with
/// `return_body`), streamed when `stream` is set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbIndexReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub index: Vec<u8>,
    #[prost(enumeration = "IndexQueryType", required, tag = "3")]
    pub qtype: i32,
    /// The term to match for an equality query.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub range_min: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub range_max: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "7")]
    pub return_terms: Option<bool>,
    #[prost(bool, optional, tag = "8")]
    pub stream: Option<bool>,
    #[prost(uint32, optional, tag = "9")]
    pub max_results: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "10")]
    pub continuation: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "11")]
    pub timeout: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "13")]
    pub term_regex: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "14")]
    pub pagination_sort: Option<bool>,
    /// One piece of a coverage plan from `RpbCoverageResp`.
    #[prost(bytes = "vec", optional, tag = "15")]
    pub cover_context: Option<Vec<u8>>,
    /// Only valid for `$bucket` / `$key` queries.
    #[prost(bool, optional, tag = "16")]
    pub return_body: Option<bool>,
}

/// `RpbIndexResp` (code 26): keys, or `results` as {term, key} pairs when
/// terms were asked for.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbIndexResp {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub keys: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "2")]
    pub results: Vec<RpbPair>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub continuation: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "4")]
    pub done: Option<bool>,
}

/// `RpbIndexBodyResp` (code 42): a 2i answer with whole objects.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbIndexBodyResp {
    #[prost(message, repeated, tag = "1")]
    pub objects: Vec<RpbIndexObject>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub continuation: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "3")]
    pub done: Option<bool>,
}

/// `RpbCSBucketReq` (code 40): a key-range fold returning objects, used by
/// Riak CS.
///
/// Proto2 defaults: `start_incl` true, `end_incl` false (the generated
/// `start_incl()` / `end_incl()` accessors apply them).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCSBucketReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub start_key: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub end_key: Option<Vec<u8>>,
    /// Proto2 default: true.
    #[prost(bool, optional, tag = "4", default = "true")]
    pub start_incl: Option<bool>,
    /// Proto2 default: false.
    #[prost(bool, optional, tag = "5", default = "false")]
    pub end_incl: Option<bool>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub continuation: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "7")]
    pub max_results: Option<u32>,
    #[prost(uint32, optional, tag = "8")]
    pub timeout: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "9")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "10")]
    pub cover_context: Option<Vec<u8>>,
}

/// `RpbCSBucketResp` (code 41).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCSBucketResp {
    #[prost(message, repeated, tag = "1")]
    pub objects: Vec<RpbIndexObject>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub continuation: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "3")]
    pub done: Option<bool>,
}

/// `RpbIndexObject`: a key with its object, as in a get reply.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbIndexObject {
    #[prost(bytes = "vec", required, tag = "1")]
    pub key: Vec<u8>,
    #[prost(message, required, tag = "2")]
    pub object: RpbGetResp,
}

/// `RpbCoverageReq` (code 70) → `RpbCoverageResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCoverageReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    /// Absent: a normal plan; otherwise a plan with at least this many
    /// pieces.
    #[prost(uint32, optional, tag = "3")]
    pub min_partitions: Option<u32>,
    /// A piece that failed and should be replaced.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub replace_cover: Option<Vec<u8>>,
    /// Other pieces that failed, hinting at nodes to avoid.
    #[prost(bytes = "vec", repeated, tag = "5")]
    pub unavailable_cover: Vec<Vec<u8>>,
}

/// `RpbCoverageResp` (code 71).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCoverageResp {
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<RpbCoverageEntry>,
}

/// `RpbCoverageEntry`: where to send one piece of a coverage plan.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCoverageEntry {
    #[prost(bytes = "vec", required, tag = "1")]
    pub ip: Vec<u8>,
    #[prost(uint32, required, tag = "2")]
    pub port: u32,
    /// Human-readable description of the covered keyspace.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub keyspace_desc: Option<Vec<u8>>,
    /// Opaque; passed back in `RpbIndexReq.cover_context`.
    #[prost(bytes = "vec", required, tag = "4")]
    pub cover_context: Vec<u8>,
}
