//! Bucket and bucket-type property messages of `riak.proto`.
//!
//! `RpbBucketProps` is a sparse record: every field is optional and only
//! the ones present are changed by a set request. Validating and merging
//! properties is left to the bucket-type layer.

/// `RpbGetBucketReq` (code 19) → `RpbGetBucketResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetBucketReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    /// Bucket type; absent means `default`.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbGetBucketResp` (code 20), also the reply to `RpbGetBucketTypeReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetBucketResp {
    #[prost(message, required, tag = "1")]
    pub props: RpbBucketProps,
}

/// `RpbSetBucketReq` (code 21) → empty `RpbSetBucketResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbSetBucketReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(message, required, tag = "2")]
    pub props: RpbBucketProps,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbResetBucketReq` (code 29) → empty `RpbResetBucketResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbResetBucketReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub r#type: Option<Vec<u8>>,
}

/// `RpbGetBucketTypeReq` (code 31) → `RpbGetBucketResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbGetBucketTypeReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub r#type: Vec<u8>,
}

/// `RpbSetBucketTypeReq` (code 32) → empty `RpbSetBucketResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbSetBucketTypeReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub r#type: Vec<u8>,
    #[prost(message, required, tag = "2")]
    pub props: RpbBucketProps,
}

/// `RpbModFun`: an Erlang `{module, function}` reference.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbModFun {
    #[prost(bytes = "vec", required, tag = "1")]
    pub module: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub function: Vec<u8>,
}

/// `RpbCommitHook`: a pre/post-commit hook, either by mod/fun or by name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCommitHook {
    #[prost(message, optional, tag = "1")]
    pub modfun: Option<RpbModFun>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub name: Option<Vec<u8>>,
}

/// `RpbBucketProps.RpbReplMode`: per-bucket replication setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RpbReplMode {
    False = 0,
    Realtime = 1,
    Fullsync = 2,
    True = 3,
}

/// `RpbBucketProps`: bucket or bucket-type properties.
///
/// Proto2 defaults: `has_precommit` and `has_postcommit` default to false
/// (the generated `has_precommit()` / `has_postcommit()` accessors return
/// that when the field is absent).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbBucketProps {
    #[prost(uint32, optional, tag = "1")]
    pub n_val: Option<u32>,
    #[prost(bool, optional, tag = "2")]
    pub allow_mult: Option<bool>,
    #[prost(bool, optional, tag = "3")]
    pub last_write_wins: Option<bool>,
    #[prost(message, repeated, tag = "4")]
    pub precommit: Vec<RpbCommitHook>,
    /// Proto2 default: false.
    #[prost(bool, optional, tag = "5", default = "false")]
    pub has_precommit: Option<bool>,
    #[prost(message, repeated, tag = "6")]
    pub postcommit: Vec<RpbCommitHook>,
    /// Proto2 default: false.
    #[prost(bool, optional, tag = "7", default = "false")]
    pub has_postcommit: Option<bool>,
    #[prost(message, optional, tag = "8")]
    pub chash_keyfun: Option<RpbModFun>,
    #[prost(message, optional, tag = "9")]
    pub linkfun: Option<RpbModFun>,
    #[prost(uint32, optional, tag = "10")]
    pub old_vclock: Option<u32>,
    #[prost(uint32, optional, tag = "11")]
    pub young_vclock: Option<u32>,
    #[prost(uint32, optional, tag = "12")]
    pub big_vclock: Option<u32>,
    #[prost(uint32, optional, tag = "13")]
    pub small_vclock: Option<u32>,
    #[prost(uint32, optional, tag = "14")]
    pub pr: Option<u32>,
    #[prost(uint32, optional, tag = "15")]
    pub r: Option<u32>,
    #[prost(uint32, optional, tag = "16")]
    pub w: Option<u32>,
    #[prost(uint32, optional, tag = "17")]
    pub pw: Option<u32>,
    #[prost(uint32, optional, tag = "18")]
    pub dw: Option<u32>,
    #[prost(uint32, optional, tag = "19")]
    pub rw: Option<u32>,
    #[prost(bool, optional, tag = "20")]
    pub basic_quorum: Option<bool>,
    #[prost(bool, optional, tag = "21")]
    pub notfound_ok: Option<bool>,
    #[prost(bytes = "vec", optional, tag = "22")]
    pub backend: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "23")]
    pub search: Option<bool>,
    #[prost(enumeration = "RpbReplMode", optional, tag = "24")]
    pub repl: Option<i32>,
    #[prost(bytes = "vec", optional, tag = "25")]
    pub search_index: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "26")]
    pub datatype: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "27")]
    pub consistent: Option<bool>,
    #[prost(bool, optional, tag = "28")]
    pub write_once: Option<bool>,
    #[prost(uint32, optional, tag = "29")]
    pub hll_precision: Option<u32>,
}
