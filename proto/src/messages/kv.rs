//! Key/value object messages of `riak_kv.proto`: client ids, get, put,
//! delete, object contents, listing, and key preflists.
//!
//! Quorum fields (`r`, `w`, ...) are raw `u32`s; see `crate::quorum` for the
//! magic values. Defaults for absent fields come from bucket properties,
//! which this crate does not know.

use super::misc::RpbPair;

/// `RpbGetClientIdResp` (code 4).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetClientIdResp {
    #[prost(bytes = "vec", required, tag = "1")]
    pub client_id: Vec<u8>,
}

/// `RpbSetClientIdReq` (code 5) → empty `RpbSetClientIdResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbSetClientIdReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub client_id: Vec<u8>,
}

/// `RpbGetReq` (code 9) → `RpbGetResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetReq {
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
    /// Answer `unchanged` if the object's vclock equals this one.
    #[prost(bytes = "vec", optional, tag = "7")]
    pub if_modified: Option<Vec<u8>>,
    /// Return metadata only (values empty).
    #[prost(bool, optional, tag = "8")]
    pub head: Option<bool>,
    /// Return a tombstone's vclock instead of a plain not-found.
    #[prost(bool, optional, tag = "9")]
    pub deletedvclock: Option<bool>,
    #[prost(uint32, optional, tag = "10")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "11")]
    pub sloppy_quorum: Option<bool>,
    #[prost(uint32, optional, tag = "12")]
    pub n_val: Option<u32>,
    /// Bucket type; absent means `default`.
    #[prost(bytes = "vec", optional, tag = "13")]
    pub r#type: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "14")]
    pub node_confirms: Option<u32>,
}

/// `RpbGetResp` (code 10). With no content and no vclock it means
/// not-found; one content per sibling otherwise.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetResp {
    #[prost(message, repeated, tag = "1")]
    pub content: Vec<RpbContent>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub vclock: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "3")]
    pub unchanged: Option<bool>,
}

/// `RpbPutReq` (code 11) → `RpbPutResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbPutReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    /// Absent: the server generates a key and returns it.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub vclock: Option<Vec<u8>>,
    #[prost(message, required, tag = "4")]
    pub content: RpbContent,
    #[prost(uint32, optional, tag = "5")]
    pub w: Option<u32>,
    #[prost(uint32, optional, tag = "6")]
    pub dw: Option<u32>,
    #[prost(bool, optional, tag = "7")]
    pub return_body: Option<bool>,
    #[prost(uint32, optional, tag = "8")]
    pub pw: Option<u32>,
    #[prost(bool, optional, tag = "9")]
    pub if_not_modified: Option<bool>,
    #[prost(bool, optional, tag = "10")]
    pub if_none_match: Option<bool>,
    #[prost(bool, optional, tag = "11")]
    pub return_head: Option<bool>,
    #[prost(uint32, optional, tag = "12")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "13")]
    pub asis: Option<bool>,
    #[prost(bool, optional, tag = "14")]
    pub sloppy_quorum: Option<bool>,
    #[prost(uint32, optional, tag = "15")]
    pub n_val: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "16")]
    pub r#type: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "17")]
    pub node_confirms: Option<u32>,
}

/// `RpbPutResp` (code 12): empty unless a body or head was asked for or
/// the key was generated.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbPutResp {
    #[prost(message, repeated, tag = "1")]
    pub content: Vec<RpbContent>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub vclock: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub key: Option<Vec<u8>>,
}

/// `RpbDelReq` (code 13) → empty `RpbDelResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbDelReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub key: Vec<u8>,
    #[prost(uint32, optional, tag = "3")]
    pub rw: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub vclock: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "5")]
    pub r: Option<u32>,
    #[prost(uint32, optional, tag = "6")]
    pub w: Option<u32>,
    #[prost(uint32, optional, tag = "7")]
    pub pr: Option<u32>,
    #[prost(uint32, optional, tag = "8")]
    pub pw: Option<u32>,
    #[prost(uint32, optional, tag = "9")]
    pub dw: Option<u32>,
    #[prost(uint32, optional, tag = "10")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "11")]
    pub sloppy_quorum: Option<bool>,
    #[prost(uint32, optional, tag = "12")]
    pub n_val: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "13")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbListBucketsReq` (code 15) → one or (with `stream`) several
/// `RpbListBucketsResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbListBucketsReq {
    #[prost(uint32, optional, tag = "1")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "2")]
    pub stream: Option<bool>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbListBucketsResp` (code 16).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbListBucketsResp {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub buckets: Vec<Vec<u8>>,
    #[prost(bool, optional, tag = "2")]
    pub done: Option<bool>,
}

/// `RpbListKeysReq` (code 17) → a stream of `RpbListKeysResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbListKeysReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(uint32, optional, tag = "2")]
    pub timeout: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbListKeysResp` (code 18); the last of a stream has `done = true`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbListKeysResp {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub keys: Vec<Vec<u8>>,
    #[prost(bool, optional, tag = "2")]
    pub done: Option<bool>,
}

/// `RpbContent`: one sibling's value and metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbContent {
    #[prost(bytes = "vec", required, tag = "1")]
    pub value: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub content_type: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub charset: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub content_encoding: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub vtag: Option<Vec<u8>>,
    #[prost(message, repeated, tag = "6")]
    pub links: Vec<RpbLink>,
    /// Unix seconds.
    #[prost(uint32, optional, tag = "7")]
    pub last_mod: Option<u32>,
    #[prost(uint32, optional, tag = "8")]
    pub last_mod_usecs: Option<u32>,
    #[prost(message, repeated, tag = "9")]
    pub usermeta: Vec<RpbPair>,
    /// Secondary index entries: key is the index name (`*_bin`/`*_int`),
    /// value the term (integers as decimal text).
    #[prost(message, repeated, tag = "10")]
    pub indexes: Vec<RpbPair>,
    #[prost(bool, optional, tag = "11")]
    pub deleted: Option<bool>,
}

/// `RpbLink`: a link to another object.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbLink {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub bucket: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub tag: Option<Vec<u8>>,
}

/// `RpbGetBucketKeyPreflistReq` (code 33) → `RpbGetBucketKeyPreflistResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetBucketKeyPreflistReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbGetBucketKeyPreflistResp` (code 34).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetBucketKeyPreflistResp {
    #[prost(message, repeated, tag = "1")]
    pub preflist: Vec<RpbBucketKeyPreflistItem>,
}

/// `RpbBucketKeyPreflistItem`: one vnode of a key's preference list.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbBucketKeyPreflistItem {
    /// Partition number (0..ring size), not the ring index.
    #[prost(int64, required, tag = "1")]
    pub partition: i64,
    #[prost(bytes = "vec", required, tag = "2")]
    pub node: Vec<u8>,
    #[prost(bool, required, tag = "3")]
    pub primary: bool,
}
