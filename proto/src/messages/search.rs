//! Riak Search and Yokozuna (Solr) messages (codes 27/28, 54–60).
//!
//! Rill does not implement search; these types exist so a server can
//! decode such requests and refuse them with a proper error.

use super::misc::RpbPair;

/// `RpbSearchDoc`: one result document as field/value pairs.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbSearchDoc {
    #[prost(message, repeated, tag = "1")]
    pub fields: Vec<RpbPair>,
}

/// `RpbSearchQueryReq` (code 27) → `RpbSearchQueryResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbSearchQueryReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub q: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub index: Vec<u8>,
    #[prost(uint32, optional, tag = "3")]
    pub rows: Option<u32>,
    #[prost(uint32, optional, tag = "4")]
    pub start: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub sort: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub filter: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "7")]
    pub df: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "8")]
    pub op: Option<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub fl: Vec<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "10")]
    pub presort: Option<Vec<u8>>,
}

/// `RpbSearchQueryResp` (code 28).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbSearchQueryResp {
    #[prost(message, repeated, tag = "1")]
    pub docs: Vec<RpbSearchDoc>,
    #[prost(float, optional, tag = "2")]
    pub max_score: Option<f32>,
    #[prost(uint32, optional, tag = "3")]
    pub num_found: Option<u32>,
}

/// `RpbYokozunaIndex`: a Solr index definition.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaIndex {
    #[prost(bytes = "vec", required, tag = "1")]
    pub name: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub schema: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "3")]
    pub n_val: Option<u32>,
}

/// `RpbYokozunaIndexGetReq` (code 54); no name lists every index.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaIndexGetReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub name: Option<Vec<u8>>,
}

/// `RpbYokozunaIndexGetResp` (code 55).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaIndexGetResp {
    #[prost(message, repeated, tag = "1")]
    pub index: Vec<RpbYokozunaIndex>,
}

/// `RpbYokozunaIndexPutReq` (code 56) → `RpbPutResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaIndexPutReq {
    #[prost(message, required, tag = "1")]
    pub index: RpbYokozunaIndex,
    #[prost(uint32, optional, tag = "2")]
    pub timeout: Option<u32>,
}

/// `RpbYokozunaIndexDeleteReq` (code 57) → `RpbDelResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaIndexDeleteReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub name: Vec<u8>,
}

/// `RpbYokozunaSchema`: a named Solr schema.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaSchema {
    #[prost(bytes = "vec", required, tag = "1")]
    pub name: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub content: Option<Vec<u8>>,
}

/// `RpbYokozunaSchemaPutReq` (code 60) → `RpbPutResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaSchemaPutReq {
    #[prost(message, required, tag = "1")]
    pub schema: RpbYokozunaSchema,
}

/// `RpbYokozunaSchemaGetReq` (code 58) → `RpbYokozunaSchemaGetResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaSchemaGetReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub name: Vec<u8>,
}

/// `RpbYokozunaSchemaGetResp` (code 59).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbYokozunaSchemaGetResp {
    #[prost(message, required, tag = "1")]
    pub schema: RpbYokozunaSchema,
}
