//! Errors of the data types: failed preconditions, operations that do not fit
//! the bucket's data type, bad contexts and undecodable stored values.
//! `Display` gives the texts Riak sends, so the PB and HTTP edges can pass
//! them through; choosing status codes is left to those edges.

use super::map::{Field, FieldKind};
use thiserror::Error;

/// The data types a bucket type can hold (`datatype` property).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    Counter,
    Set,
    Map,
    Hll,
    GSet,
}

impl DataKind {
    /// Riak's name: the `datatype` property value and the HTTP `"type"`.
    pub fn name(self) -> &'static str {
        match self {
            DataKind::Counter => "counter",
            DataKind::Set => "set",
            DataKind::Map => "map",
            DataKind::Hll => "hll",
            DataKind::GSet => "gset",
        }
    }

    pub fn from_name(name: &str) -> Option<DataKind> {
        Some(match name {
            "counter" => DataKind::Counter,
            "set" => DataKind::Set,
            "map" => DataKind::Map,
            "hll" => DataKind::Hll,
            "gset" => DataKind::GSet,
            _ => return None,
        })
    }

    /// Content type of the stored object, as Riak labels it.
    pub fn content_type(self) -> &'static str {
        match self {
            DataKind::Counter => "application/riak_counter",
            DataKind::Set => "application/riak_set",
            DataKind::Map => "application/riak_map",
            DataKind::Hll => "application/riak_hll",
            DataKind::GSet => "application/riak_gset",
        }
    }

    /// Whether fetches return a causal context (sets and maps only; Riak
    /// sends none for counters, HLLs and GSets).
    pub fn has_context(self) -> bool {
        matches!(self, DataKind::Set | DataKind::Map)
    }
}

impl std::fmt::Display for DataKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a remove without context named but the replica does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absent {
    /// A set member.
    Member(Vec<u8>),
    /// A map field.
    Field(Field),
}

/// A failed precondition, as Riak's `{precondition, Reason}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    NotPresent(Absent),
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CrdtError {
    /// `{precondition,{not_present,<<"x">>}}`: a remove without context of
    /// something the coordinating replica does not have.
    #[error("{{precondition,{}}}", precondition_term(.0))]
    Precondition(Precondition),
    /// The operation is for another data type than the bucket's.
    #[error("Operation type is `{op}` but  bucket type is `{bucket}`.")]
    WrongType { op: DataKind, bucket: DataKind },
    /// An operation that cannot be applied (e.g. a set op on a counter field).
    #[error("{0}")]
    InvalidOp(String),
    /// HLL precision outside 4..=16.
    #[error("Precision for HLL datatype must be between 4 and 16, inclusive")]
    BadPrecision(u32),
    /// A client context that is not one this module wrote.
    #[error("bad datatype context: {0}")]
    BadContext(&'static str),
    /// A stored value written by an unknown format version.
    #[error("unknown datatype record version {0}")]
    UnknownVersion(u8),
    /// A stored value that cannot be decoded.
    #[error("undecodable datatype record: {0}")]
    Decode(String),
    /// A decoded value that breaks an invariant.
    #[error("invalid datatype record: {0}")]
    Invalid(&'static str),
}

pub type Result<T> = std::result::Result<T, CrdtError>;

impl CrdtError {
    pub(crate) fn member_not_present(member: &[u8]) -> CrdtError {
        CrdtError::Precondition(Precondition::NotPresent(Absent::Member(member.to_vec())))
    }

    pub(crate) fn field_not_present(field: &Field) -> CrdtError {
        CrdtError::Precondition(Precondition::NotPresent(Absent::Field(field.clone())))
    }
}

fn precondition_term(p: &Precondition) -> String {
    match p {
        Precondition::NotPresent(Absent::Member(m)) => {
            format!("{{not_present,{}}}", erlang_binary(m))
        }
        Precondition::NotPresent(Absent::Field(f)) => format!(
            "{{not_present,{{{},{}}}}}",
            erlang_binary(&f.name),
            module_name(f.kind)
        ),
    }
}

/// The riak_dt module behind an embedded type, as Riak names map fields in
/// error terms.
pub(crate) fn module_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Counter => "riak_dt_emcntr",
        FieldKind::Register => "riak_dt_lwwreg",
        FieldKind::Map => "riak_dt_map",
        FieldKind::Flag => "riak_dt_od_flag",
        FieldKind::Set => "riak_dt_orswot",
    }
}

/// A binary as Erlang's `~p` prints it: `<<"text">>` when every byte is
/// printable ASCII (or one of the escapes `~p` uses), else `<<1,2,3>>`.
/// Bytes ≥ 128 always take the numeric form, so the text stays ASCII.
pub fn erlang_binary(bytes: &[u8]) -> String {
    let printable = bytes
        .iter()
        .all(|&b| (32..127).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t' | 8 | 11 | 12 | 27));
    if bytes.is_empty() {
        return "<<>>".to_string();
    }
    if printable {
        let mut s = String::from("<<\"");
        for &b in bytes {
            match b {
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                b'\n' => s.push_str("\\n"),
                b'\r' => s.push_str("\\r"),
                b'\t' => s.push_str("\\t"),
                8 => s.push_str("\\b"),
                11 => s.push_str("\\v"),
                12 => s.push_str("\\f"),
                27 => s.push_str("\\e"),
                _ => s.push(b as char),
            }
        }
        s.push_str("\">>");
        s
    } else {
        let parts: Vec<String> = bytes.iter().map(|b| b.to_string()).collect();
        format!("<<{}>>", parts.join(","))
    }
}
