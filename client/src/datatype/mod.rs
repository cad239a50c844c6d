//! Riak's convergent data types as the SDK hands them out: the operation an
//! update sends ([`DtUpdate`]), the value a fetch or update returns
//! ([`DtValue`]), and their conversion to and from the wire messages of
//! `riak_dt.proto`. The JSON form the HTTP API uses is in [`json`].
//!
//! A data type lives in a bucket type whose `datatype` property names it;
//! the server refuses an operation of another type. The causal context a
//! fetch returns is opaque: send it back with an update that removes
//! something, so the server removes only what the fetch saw.

pub mod json;

use bytes::Bytes;
use rill_proto::messages as wire;

/// The data type of a bucket type (its `datatype` property).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Counter,
    Set,
    Map,
    Hll,
    GSet,
}

impl DataType {
    /// The bucket-type property's spelling: `counter`, `set`, `map`, `hll`
    /// or `gset`; `None` for anything else.
    pub fn from_property(name: &[u8]) -> Option<DataType> {
        Some(match name {
            b"counter" => DataType::Counter,
            b"set" => DataType::Set,
            b"map" => DataType::Map,
            b"hll" => DataType::Hll,
            b"gset" => DataType::GSet,
            _ => return None,
        })
    }

    /// The property's spelling of this type.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Counter => "counter",
            DataType::Set => "set",
            DataType::Map => "map",
            DataType::Hll => "hll",
            DataType::GSet => "gset",
        }
    }

    fn from_wire(code: i32) -> Option<DataType> {
        Some(match wire::DataType::try_from(code).ok()? {
            wire::DataType::Counter => DataType::Counter,
            wire::DataType::Set => DataType::Set,
            wire::DataType::Map => DataType::Map,
            wire::DataType::Hll => DataType::Hll,
            wire::DataType::Gset => DataType::GSet,
        })
    }
}

/// The type of a map field: a map's field is a (name, type) pair, so one
/// name can hold a counter and a set at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Counter,
    Set,
    Register,
    Flag,
    Map,
}

impl FieldKind {
    fn to_wire(self) -> i32 {
        let kind = match self {
            FieldKind::Counter => wire::MapFieldType::Counter,
            FieldKind::Set => wire::MapFieldType::Set,
            FieldKind::Register => wire::MapFieldType::Register,
            FieldKind::Flag => wire::MapFieldType::Flag,
            FieldKind::Map => wire::MapFieldType::Map,
        };
        kind as i32
    }

    fn from_wire(code: i32) -> Option<FieldKind> {
        Some(match wire::MapFieldType::try_from(code).ok()? {
            wire::MapFieldType::Counter => FieldKind::Counter,
            wire::MapFieldType::Set => FieldKind::Set,
            wire::MapFieldType::Register => FieldKind::Register,
            wire::MapFieldType::Flag => FieldKind::Flag,
            wire::MapFieldType::Map => FieldKind::Map,
        })
    }

    /// The suffix of a field's name in Riak's JSON (`hits_counter`).
    pub fn suffix(self) -> &'static str {
        match self {
            FieldKind::Counter => "counter",
            FieldKind::Set => "set",
            FieldKind::Register => "register",
            FieldKind::Flag => "flag",
            FieldKind::Map => "map",
        }
    }
}

/// A map field: name and type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapField {
    pub name: Bytes,
    pub kind: FieldKind,
}

impl MapField {
    pub fn new(name: impl Into<Bytes>, kind: FieldKind) -> MapField {
        MapField {
            name: name.into(),
            kind,
        }
    }

    fn to_wire(&self) -> wire::MapField {
        wire::MapField {
            name: self.name.to_vec(),
            r#type: self.kind.to_wire(),
        }
    }
}

/// The operation of one update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DtUpdate {
    /// Add this (negative: subtract).
    Counter(i64),
    /// Add and remove members; a remove needs the context of a fetch that
    /// saw the member.
    Set {
        adds: Vec<Bytes>,
        removes: Vec<Bytes>,
    },
    Map(MapUpdate),
    /// Add members to a HyperLogLog.
    Hll(Vec<Bytes>),
    /// Add members to a grow-only set.
    GSet(Vec<Bytes>),
}

/// The removals and per-field updates of one map update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapUpdate {
    pub removes: Vec<MapField>,
    /// Field name → operation (the operation implies the field's type).
    pub updates: Vec<(Bytes, FieldUpdate)>,
}

/// An operation on one map field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldUpdate {
    Counter(i64),
    Set {
        adds: Vec<Bytes>,
        removes: Vec<Bytes>,
    },
    /// Assign the register this value.
    Register(Bytes),
    /// `true` enables the flag, `false` disables it.
    Flag(bool),
    Map(MapUpdate),
}

impl FieldUpdate {
    /// The type of the field this operation applies to.
    pub fn kind(&self) -> FieldKind {
        match self {
            FieldUpdate::Counter(_) => FieldKind::Counter,
            FieldUpdate::Set { .. } => FieldKind::Set,
            FieldUpdate::Register(_) => FieldKind::Register,
            FieldUpdate::Flag(_) => FieldKind::Flag,
            FieldUpdate::Map(_) => FieldKind::Map,
        }
    }
}

fn to_vecs(members: &[Bytes]) -> Vec<Vec<u8>> {
    members.iter().map(|m| m.to_vec()).collect()
}

fn to_bytes(members: Vec<Vec<u8>>) -> Vec<Bytes> {
    members.into_iter().map(Bytes::from).collect()
}

fn counter_op(increment: i64) -> wire::CounterOp {
    wire::CounterOp {
        increment: Some(increment),
    }
}

fn set_op(adds: &[Bytes], removes: &[Bytes]) -> wire::SetOp {
    wire::SetOp {
        adds: to_vecs(adds),
        removes: to_vecs(removes),
    }
}

impl DtUpdate {
    /// The data type this operation applies to.
    pub fn data_type(&self) -> DataType {
        match self {
            DtUpdate::Counter(_) => DataType::Counter,
            DtUpdate::Set { .. } => DataType::Set,
            DtUpdate::Map(_) => DataType::Map,
            DtUpdate::Hll(_) => DataType::Hll,
            DtUpdate::GSet(_) => DataType::GSet,
        }
    }

    /// The wire form (`DtOp`): the one field of this type set.
    pub fn to_wire(&self) -> wire::DtOp {
        let mut op = wire::DtOp::default();
        match self {
            DtUpdate::Counter(n) => {
                op.counter_op = Some(counter_op(*n));
            }
            DtUpdate::Set { adds, removes } => op.set_op = Some(set_op(adds, removes)),
            DtUpdate::Map(m) => op.map_op = Some(m.to_wire()),
            DtUpdate::Hll(adds) => {
                op.hll_op = Some(wire::HllOp {
                    adds: to_vecs(adds),
                })
            }
            DtUpdate::GSet(adds) => {
                op.gset_op = Some(wire::GSetOp {
                    adds: to_vecs(adds),
                })
            }
        }
        op
    }
}

impl MapUpdate {
    fn to_wire(&self) -> wire::MapOp {
        wire::MapOp {
            removes: self.removes.iter().map(MapField::to_wire).collect(),
            updates: self
                .updates
                .iter()
                .map(|(name, op)| field_update_to_wire(name, op))
                .collect(),
        }
    }
}

fn field_update_to_wire(name: &Bytes, op: &FieldUpdate) -> wire::MapUpdate {
    let mut update = wire::MapUpdate {
        field: MapField::new(name.clone(), op.kind()).to_wire(),
        ..wire::MapUpdate::default()
    };
    match op {
        FieldUpdate::Counter(n) => {
            update.counter_op = Some(counter_op(*n));
        }
        FieldUpdate::Set { adds, removes } => update.set_op = Some(set_op(adds, removes)),
        FieldUpdate::Register(v) => update.register_op = Some(v.to_vec()),
        FieldUpdate::Flag(on) => {
            let flag = if *on {
                wire::FlagOp::Enable
            } else {
                wire::FlagOp::Disable
            };
            update.flag_op = Some(flag as i32);
        }
        FieldUpdate::Map(m) => update.map_op = Some(m.to_wire()),
    }
    update
}

/// The value of a data type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DtValue {
    Counter(i64),
    /// Members in the server's order (sorted).
    Set(Vec<Bytes>),
    Map(Vec<MapEntry>),
    /// The estimated number of distinct members added.
    Hll(u64),
    GSet(Vec<Bytes>),
}

/// One field of a map and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    pub field: MapField,
    pub value: FieldValue,
}

/// The value of a map field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Counter(i64),
    Set(Vec<Bytes>),
    Register(Bytes),
    Flag(bool),
    Map(Vec<MapEntry>),
}

impl MapEntry {
    /// `None` for an entry of a field type this SDK does not know.
    fn from_wire(e: wire::MapEntry) -> Option<MapEntry> {
        let kind = FieldKind::from_wire(e.field.r#type)?;
        let value = match kind {
            FieldKind::Counter => FieldValue::Counter(e.counter_value.unwrap_or(0)),
            FieldKind::Set => FieldValue::Set(to_bytes(e.set_value)),
            FieldKind::Register => {
                FieldValue::Register(e.register_value.unwrap_or_default().into())
            }
            FieldKind::Flag => FieldValue::Flag(e.flag_value.unwrap_or(false)),
            FieldKind::Map => FieldValue::Map(entries_from_wire(e.map_value)),
        };
        Some(MapEntry {
            field: MapField::new(e.field.name, kind),
            value,
        })
    }
}

fn entries_from_wire(entries: Vec<wire::MapEntry>) -> Vec<MapEntry> {
    entries
        .into_iter()
        .filter_map(MapEntry::from_wire)
        .collect()
}

impl MapEntry {
    /// The entry of `name` with type `kind` among `entries`.
    pub fn find<'a>(
        entries: &'a [MapEntry],
        name: &[u8],
        kind: FieldKind,
    ) -> Option<&'a FieldValue> {
        entries
            .iter()
            .find(|e| e.field.kind == kind && e.field.name == name)
            .map(|e| &e.value)
    }
}

/// A fetched data type: its type, its value (`None`: not found) and the
/// context to send back with an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtFetched {
    pub data_type: DataType,
    pub value: Option<DtValue>,
    pub context: Option<Bytes>,
}

impl DtFetched {
    pub(crate) fn from_wire(resp: wire::DtFetchResp) -> Option<DtFetched> {
        let data_type = DataType::from_wire(resp.r#type)?;
        let value = resp.value.map(|v| match data_type {
            DataType::Counter => DtValue::Counter(v.counter_value.unwrap_or(0)),
            DataType::Set => DtValue::Set(to_bytes(v.set_value)),
            DataType::Map => DtValue::Map(entries_from_wire(v.map_value)),
            DataType::Hll => DtValue::Hll(v.hll_value.unwrap_or(0)),
            DataType::GSet => DtValue::GSet(to_bytes(v.gset_value)),
        });
        Some(DtFetched {
            data_type,
            value,
            context: resp.context.map(Bytes::from),
        })
    }
}

/// The answer to an update: the key the server generated (when none was
/// given) and, when the body was asked for, the new value and context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DtUpdated {
    pub key: Option<Bytes>,
    pub context: Option<Bytes>,
    pub value: Option<DtValue>,
}

impl DtUpdated {
    /// `data_type` is the type of the operation sent (the reply's value
    /// fields carry no type of their own); `returned` says whether the
    /// update asked for the body, without which the value fields are empty.
    pub(crate) fn from_wire(
        resp: wire::DtUpdateResp,
        data_type: DataType,
        returned: bool,
    ) -> DtUpdated {
        let value = returned.then(|| match data_type {
            DataType::Counter => DtValue::Counter(resp.counter_value.unwrap_or(0)),
            DataType::Hll => DtValue::Hll(resp.hll_value.unwrap_or(0)),
            DataType::Set => DtValue::Set(to_bytes(resp.set_value)),
            DataType::GSet => DtValue::GSet(to_bytes(resp.gset_value)),
            DataType::Map => DtValue::Map(entries_from_wire(resp.map_value)),
        });
        DtUpdated {
            key: resp.key.map(Bytes::from),
            context: resp.context.map(Bytes::from),
            value,
        }
    }
}

#[cfg(test)]
mod tests;
