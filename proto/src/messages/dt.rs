//! Convergent data types of `riak_dt.proto` (codes 80–83): counters, sets,
//! maps, HyperLogLogs and grow-only sets, fetched and updated as values.
//!
//! Operations are unions encoded as several optional fields, exactly one of
//! which should be set; checking that, and applying the operations, is the
//! CRDT layer's job.

/// `MapField.MapFieldType`: what a map field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MapFieldType {
    Counter = 1,
    Set = 2,
    Register = 3,
    Flag = 4,
    Map = 5,
}

/// `MapField`: a map field name is a (name, type) pair, so equal names of
/// different types are distinct fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MapField {
    #[prost(bytes = "vec", required, tag = "1")]
    pub name: Vec<u8>,
    #[prost(enumeration = "MapFieldType", required, tag = "2")]
    pub r#type: i32,
}

/// `MapEntry`: a map field and its value; which value field is set follows
/// from the field's type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MapEntry {
    #[prost(message, required, tag = "1")]
    pub field: MapField,
    #[prost(sint64, optional, tag = "2")]
    pub counter_value: Option<i64>,
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub set_value: Vec<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub register_value: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "5")]
    pub flag_value: Option<bool>,
    #[prost(message, repeated, tag = "6")]
    pub map_value: Vec<MapEntry>,
}

/// `DtFetchReq` (code 80) → `DtFetchResp`.
///
/// Proto2 default: `include_context` is true when absent (use the
/// generated `include_context()` accessor).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DtFetchReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub key: Vec<u8>,
    /// The bucket type (not the data type); required for data types.
    #[prost(bytes = "vec", required, tag = "3")]
    pub r#type: Vec<u8>,
    #[prost(uint32, optional, tag = "4")]
    pub r: Option<u32>,
    #[prost(uint32, optional, tag = "5")]
    pub pr: Option<u32>,
    #[prost(bool, optional, tag = "6")]
    pub basic_quorum: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    pub notfound_ok: Option<bool>,
    #[prost(uint32, optional, tag = "8")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "9")]
    pub sloppy_quorum: Option<bool>,
    #[prost(uint32, optional, tag = "10")]
    pub n_val: Option<u32>,
    /// Proto2 default: true.
    #[prost(bool, optional, tag = "11", default = "true")]
    pub include_context: Option<bool>,
    #[prost(uint32, optional, tag = "12")]
    pub node_confirms: Option<u32>,
}

/// `DtValue`: a fetched value; only the field matching the type is set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DtValue {
    #[prost(sint64, optional, tag = "1")]
    pub counter_value: Option<i64>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub set_value: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "3")]
    pub map_value: Vec<MapEntry>,
    /// Estimated cardinality.
    #[prost(uint64, optional, tag = "4")]
    pub hll_value: Option<u64>,
    #[prost(bytes = "vec", repeated, tag = "5")]
    pub gset_value: Vec<Vec<u8>>,
}

/// `DtFetchResp.DataType`: the data type of a bucket type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    Counter = 1,
    Set = 2,
    Map = 3,
    Hll = 4,
    Gset = 5,
}

/// `DtFetchResp` (code 81). An absent `value` means not found.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DtFetchResp {
    /// Opaque causal context, to send back with an update.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub context: Option<Vec<u8>>,
    #[prost(enumeration = "DataType", required, tag = "2")]
    pub r#type: i32,
    #[prost(message, optional, tag = "3")]
    pub value: Option<DtValue>,
}

/// `CounterOp`: increment by `increment` (may be negative); absent means 1.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CounterOp {
    #[prost(sint64, optional, tag = "1")]
    pub increment: Option<i64>,
}

/// `SetOp`: add and remove opaque members.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SetOp {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub adds: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub removes: Vec<Vec<u8>>,
}

/// `GSetOp`: add members to a grow-only set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GSetOp {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub adds: Vec<Vec<u8>>,
}

/// `HllOp`: add members to a HyperLogLog.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HllOp {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub adds: Vec<Vec<u8>>,
}

/// `MapUpdate.FlagOp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum FlagOp {
    Enable = 1,
    Disable = 2,
}

/// `MapUpdate`: an operation on one map field; the op matching the field's
/// type is set. A register's only operation is assigning `register_op`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MapUpdate {
    #[prost(message, required, tag = "1")]
    pub field: MapField,
    #[prost(message, optional, tag = "2")]
    pub counter_op: Option<CounterOp>,
    #[prost(message, optional, tag = "3")]
    pub set_op: Option<SetOp>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub register_op: Option<Vec<u8>>,
    #[prost(enumeration = "FlagOp", optional, tag = "5")]
    pub flag_op: Option<i32>,
    #[prost(message, optional, tag = "6")]
    pub map_op: Option<MapOp>,
}

/// `MapOp`: field removals and per-field updates.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MapOp {
    #[prost(message, repeated, tag = "1")]
    pub removes: Vec<MapField>,
    #[prost(message, repeated, tag = "2")]
    pub updates: Vec<MapUpdate>,
}

/// `DtOp`: the operation of an update; one field is set, matching the
/// bucket type's data type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DtOp {
    #[prost(message, optional, tag = "1")]
    pub counter_op: Option<CounterOp>,
    #[prost(message, optional, tag = "2")]
    pub set_op: Option<SetOp>,
    #[prost(message, optional, tag = "3")]
    pub map_op: Option<MapOp>,
    #[prost(message, optional, tag = "4")]
    pub hll_op: Option<HllOp>,
    #[prost(message, optional, tag = "5")]
    pub gset_op: Option<GSetOp>,
}

/// `DtUpdateReq` (code 82) → `DtUpdateResp`.
///
/// Proto2 defaults: `return_body` false, `include_context` true (use the
/// generated `return_body()` / `include_context()` accessors).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DtUpdateReq {
    #[prost(bytes = "vec", required, tag = "1")]
    pub bucket: Vec<u8>,
    /// Absent: the server generates a key and returns it.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub key: Option<Vec<u8>>,
    /// The bucket type (whose `datatype` property constrains `op`).
    #[prost(bytes = "vec", required, tag = "3")]
    pub r#type: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub context: Option<Vec<u8>>,
    #[prost(message, required, tag = "5")]
    pub op: DtOp,
    #[prost(uint32, optional, tag = "6")]
    pub w: Option<u32>,
    #[prost(uint32, optional, tag = "7")]
    pub dw: Option<u32>,
    #[prost(uint32, optional, tag = "8")]
    pub pw: Option<u32>,
    /// Proto2 default: false.
    #[prost(bool, optional, tag = "9", default = "false")]
    pub return_body: Option<bool>,
    #[prost(uint32, optional, tag = "10")]
    pub timeout: Option<u32>,
    #[prost(bool, optional, tag = "11")]
    pub sloppy_quorum: Option<bool>,
    #[prost(uint32, optional, tag = "12")]
    pub n_val: Option<u32>,
    /// With `return_body`, whether to return the context too. Proto2
    /// default: true.
    #[prost(bool, optional, tag = "13", default = "true")]
    pub include_context: Option<bool>,
    #[prost(uint32, optional, tag = "14")]
    pub node_confirms: Option<u32>,
}

/// `DtUpdateResp` (code 83): the generated key, and with `return_body` the
/// new value and context.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DtUpdateResp {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub context: Option<Vec<u8>>,
    #[prost(sint64, optional, tag = "3")]
    pub counter_value: Option<i64>,
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub set_value: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "5")]
    pub map_value: Vec<MapEntry>,
    #[prost(uint64, optional, tag = "6")]
    pub hll_value: Option<u64>,
    #[prost(bytes = "vec", repeated, tag = "7")]
    pub gset_value: Vec<Vec<u8>>,
}
