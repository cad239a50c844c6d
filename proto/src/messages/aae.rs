//! Active anti-entropy fold messages of `riak_kv.proto` (codes 210–231):
//! tree merges, clock and key folds over the tictac AAE store.
//!
//! Rill does not serve these yet; the types are kept so the whole of
//! `riak_kv.proto` has a Rust definition. Repeated `uint32` fields use the
//! proto2 unpacked encoding, as Riak's encoder does.

/// `RpbTreeSize`: the size of a tictac tree (declared identically inside
/// several AAE messages; one Rust type serves them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RpbTreeSize {
    Xxsmall = 0,
    Xsmall = 1,
    Small = 2,
    Medium = 3,
    Large = 4,
    Xlarge = 5,
}

/// `RpbAaeFoldFindKeysReq.FindType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum FindType {
    SiblingCount = 0,
    ObjectSize = 1,
}

/// `ChangeMethod` of the reap/erase folds: how the changes are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ChangeMethod {
    Job = 0,
    Local = 1,
    Count = 2,
}

/// `RpbAaeFoldMergeRootNValReq` (code 210): Merge the root of every tree for an n_val.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldMergeRootNValReq {
    #[prost(uint32, required, tag = "1")]
    pub n_val: u32,
}

/// `RpbAaeFoldMergeBranchNValReq` (code 211): Merge chosen branches of every tree for an n_val.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldMergeBranchNValReq {
    #[prost(uint32, required, tag = "1")]
    pub n_val: u32,
    #[prost(uint32, repeated, packed = "false", tag = "2")]
    pub id_filter: Vec<u32>,
}

/// `RpbAaeFoldFetchClocksNValReq` (code 212): Fetch the clocks in chosen segments for an n_val.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldFetchClocksNValReq {
    #[prost(uint32, required, tag = "1")]
    pub n_val: u32,
    #[prost(uint32, repeated, packed = "false", tag = "2")]
    pub id_filter: Vec<u32>,
    #[prost(bool, optional, tag = "40")]
    pub modified_range: Option<bool>,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
}

/// `RpbAaeFoldMergeTreesRangeReq` (code 213): Build and merge trees over a bucket and key range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldMergeTreesRangeReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(enumeration = "RpbTreeSize", required, tag = "20")]
    pub tree_size: i32,
    #[prost(bool, required, tag = "30")]
    pub segment_filter: bool,
    #[prost(uint32, repeated, packed = "false", tag = "31")]
    pub id_filter: Vec<u32>,
    #[prost(enumeration = "RpbTreeSize", optional, tag = "32")]
    pub filter_tree_size: Option<i32>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
    #[prost(bool, required, tag = "50")]
    pub use_prehash: bool,
    #[prost(uint32, optional, tag = "51")]
    pub init_vector: Option<u32>,
}

/// `RpbAaeFoldFetchClocksRangeReq` (code 214): Fetch the clocks over a bucket and key range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldFetchClocksRangeReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "30")]
    pub segment_filter: bool,
    #[prost(uint32, repeated, packed = "false", tag = "31")]
    pub id_filter: Vec<u32>,
    #[prost(enumeration = "RpbTreeSize", optional, tag = "32")]
    pub filter_tree_size: Option<i32>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
}

/// `RpbAaeFoldFindKeysReq` (code 215): Find keys with many siblings or large objects.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldFindKeysReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
    #[prost(enumeration = "FindType", required, tag = "50")]
    pub finder: i32,
    #[prost(uint32, required, tag = "51")]
    pub find_limit: u32,
}

/// `RpbAaeFoldObjectStatsReq` (code 216): Gather object statistics over a range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldObjectStatsReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
}

/// `RpbAaeFoldReplKeysReq` (code 217): Queue the keys of a range for replication.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldReplKeysReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
    #[prost(bytes = "vec", required, tag = "50")]
    pub queuename: Vec<u8>,
}

/// `RpbAaeFoldFindTombsReq` (code 218): Find tombstones over a range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldFindTombsReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "30")]
    pub segment_filter: bool,
    #[prost(uint32, repeated, packed = "false", tag = "31")]
    pub id_filter: Vec<u32>,
    #[prost(enumeration = "RpbTreeSize", optional, tag = "32")]
    pub filter_tree_size: Option<i32>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
}

/// `RpbAaeFoldRepairKeysReq` (code 219): Read-repair the keys of a range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldRepairKeysReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
}

/// `RpbAaeFoldTreeResp` (code 220): A tree answer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldTreeResp {
    #[prost(enumeration = "RpbTreeSize", required, tag = "1")]
    pub size: i32,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub level_one: Option<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub level_two: Vec<Vec<u8>>,
}

/// `RpbAaeFoldKeyValueResp` (code 221): A key/value list answer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldKeyValueResp {
    #[prost(bytes = "vec", required, tag = "1")]
    pub response_type: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub keys_value: Vec<RpbKeysValue>,
}

/// `RpbAaeFoldKeyCountResp` (code 222): A tagged count list answer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldKeyCountResp {
    #[prost(bytes = "vec", required, tag = "1")]
    pub response_type: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub keys_count: Vec<RpbKeysCount>,
}

/// `RpbAaeFoldListBucketsReq` (code 223): List buckets via the AAE store.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldListBucketsReq {
    #[prost(uint32, optional, tag = "1")]
    pub n_val: Option<u32>,
}

/// `RpbAaeFoldListBucketsResp` (code 224): The buckets found.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldListBucketsResp {
    #[prost(message, repeated, tag = "1")]
    pub bucket_list: Vec<RpbAaeFoldBucket>,
}

/// `RpbAaeFoldReapTombsReq` (code 230): Reap tombstones over a range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldReapTombsReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "30")]
    pub segment_filter: bool,
    #[prost(uint32, repeated, packed = "false", tag = "31")]
    pub id_filter: Vec<u32>,
    #[prost(enumeration = "RpbTreeSize", optional, tag = "32")]
    pub filter_tree_size: Option<i32>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
    #[prost(enumeration = "ChangeMethod", required, tag = "50")]
    pub change_method: i32,
    #[prost(uint32, optional, tag = "51")]
    pub job_id: Option<u32>,
}

/// `RpbAaeFoldEraseKeysReq` (code 231): Erase the keys of a range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldEraseKeysReq {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bool, required, tag = "10")]
    pub key_range: bool,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub start_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "12")]
    pub end_key: Option<Vec<u8>>,
    #[prost(bool, required, tag = "30")]
    pub segment_filter: bool,
    #[prost(uint32, repeated, packed = "false", tag = "31")]
    pub id_filter: Vec<u32>,
    #[prost(enumeration = "RpbTreeSize", optional, tag = "32")]
    pub filter_tree_size: Option<i32>,
    #[prost(bool, required, tag = "40")]
    pub modified_range: bool,
    #[prost(uint32, optional, tag = "41")]
    pub last_mod_start: Option<u32>,
    #[prost(uint32, optional, tag = "42")]
    pub last_mod_end: Option<u32>,
    #[prost(enumeration = "ChangeMethod", required, tag = "50")]
    pub change_method: i32,
    #[prost(uint32, optional, tag = "51")]
    pub job_id: Option<u32>,
}

/// `RpbAaeFoldBucket`: A (type, bucket) name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbAaeFoldBucket {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
}

/// `RpbKeysValue`: A key and a value, with its bucket.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbKeysValue {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub r#type: Option<Vec<u8>>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "3")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "4")]
    pub value: Vec<u8>,
}

/// `RpbKeysCount`: A tagged count.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpbKeysCount {
    #[prost(bytes = "vec", required, tag = "1")]
    pub tag: Vec<u8>,
    #[prost(uint32, optional, tag = "2")]
    pub order: Option<u32>,
    #[prost(uint32, required, tag = "3")]
    pub count: u32,
}
