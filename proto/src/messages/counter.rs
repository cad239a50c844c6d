//! Riak 1.4 counters of `riak_kv.proto` (codes 50–53): a counter stored in
//! an ordinary `allow_mult` bucket, addressed by bucket and key only.
//!
//! Newer clients use the data-type messages in `dt` instead.

/// `RpbCounterUpdateReq` (code 50) → `RpbCounterUpdateResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCounterUpdateReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub key: Vec<u8>,
    #[prost(sint64, required, tag = "3")]
    pub amount: i64,
    #[prost(uint32, optional, tag = "4")]
    pub w: Option<u32>,
    #[prost(uint32, optional, tag = "5")]
    pub dw: Option<u32>,
    #[prost(uint32, optional, tag = "6")]
    pub pw: Option<u32>,
    /// Return the new value in the response.
    #[prost(bool, optional, tag = "7")]
    pub returnvalue: Option<bool>,
    #[prost(uint32, optional, tag = "8")]
    pub node_confirms: Option<u32>,
}

/// `RpbCounterUpdateResp` (code 51).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCounterUpdateResp {
    #[prost(sint64, optional, tag = "1")]
    pub value: Option<i64>,
}

/// `RpbCounterGetReq` (code 52) → `RpbCounterGetResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCounterGetReq {
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
    #[prost(uint32, optional, tag = "7")]
    pub node_confirms: Option<u32>,
}

/// `RpbCounterGetResp` (code 53); an absent value means not found.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbCounterGetResp {
    #[prost(sint64, optional, tag = "1")]
    pub value: Option<i64>,
}
