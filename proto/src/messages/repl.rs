//! Replication messages of `riak_kv.proto` (codes 200–207): real-time
//! replication entries, replication queue fetch/push and cluster membership.
//!
//! Rill does not serve these yet; the types are kept so the whole of
//! `riak_kv.proto` has a Rust definition.

use super::aae::RpbKeysValue;

/// `RpbRTEReq` (code 200): fetch an object for real-time replication.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbRTEReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub key: Vec<u8>,
    #[prost(uint32, optional, tag = "3")]
    pub r: Option<u32>,
    #[prost(uint32, optional, tag = "4")]
    pub pr: Option<u32>,
    #[prost(bool, optional, tag = "5")]
    pub basic_quorum: Option<bool>,
    #[prost(bool, optional, tag = "6")]
    pub notfound_ok: Option<bool>,
    #[prost(uint32, optional, tag = "10")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "11")]
    pub sloppy_quorum: Option<bool>,
    #[prost(uint32, optional, tag = "12")]
    pub n_val: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "13")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbFetchReq` (code 202): take the next object from a replication queue.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbFetchReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub queuename: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub encoding: Option<Vec<u8>>,
}

/// `RpbFetchResp` (code 203).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbFetchResp {
    #[prost(bool, required, tag = "1")]
    pub queue_empty: bool,
    /// Only when the queue was not empty: whether the object is a tombstone.
    #[prost(bool, optional, tag = "2")]
    pub deleted: Option<bool>,
    #[prost(uint32, optional, tag = "3")]
    pub crc_check: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub replencoded_object: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub deleted_vclock: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "6")]
    pub segment_id: Option<u32>,
    #[prost(uint32, optional, tag = "7")]
    pub segment_hash: Option<u32>,
}

/// `RpbPushReq` (code 204): push keys onto a replication queue.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbPushReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub queuename: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub keys_value: Vec<RpbKeysValue>,
}

/// `RpbPushResp` (code 205).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbPushResp {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub queuename: Option<Vec<u8>>,
    #[prost(bool, required, tag = "2")]
    pub queue_exists: bool,
    #[prost(uint32, optional, tag = "10")]
    pub foldq_length: Option<u32>,
    #[prost(uint32, optional, tag = "11")]
    pub fsync_length: Option<u32>,
    #[prost(uint32, optional, tag = "12")]
    pub realt_length: Option<u32>,
}

/// `RpbMembershipReq` (code 206).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbMembershipReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub queuename: Option<Vec<u8>>,
}

/// `RpbClusterMemberEntry`: a reachable node's PB address.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbClusterMemberEntry {
    #[prost(bytes = "vec", required, tag = "1")]
    pub ip: Vec<u8>,
    #[prost(uint32, required, tag = "2")]
    pub port: u32,
}

/// `RpbMembershipResp` (code 207).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbMembershipResp {
    #[prost(message, repeated, tag = "1")]
    pub up_nodes: Vec<RpbClusterMemberEntry>,
}
