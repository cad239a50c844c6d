//! Riak's convergent data types (riak_dt): counters, sets, maps, HyperLogLogs
//! and grow-only sets, with Riak's operations, precondition errors, causal
//! contexts and deferred removes. Pure values: the vnode that coordinates an
//! update applies it as the actor and stores the result; merging replicas,
//! value shapes for PB/HTTP, and the stored byte form live here too.

mod clock;
mod codec;
mod counter;
mod error;
mod flag;
mod gset;
mod hll;
mod map;
mod orswot;
mod register;

#[cfg(test)]
mod laws;

pub use clock::{CONTEXT_VERSION, Context, MAX_CONTEXT_ENTRIES};
pub use codec::{DATATYPE_VERSION, decode, encode};
pub use counter::{EmCounter, PnCounter};
pub use error::{Absent, CrdtError, DataKind, Precondition, Result, erlang_binary};
pub use flag::OdFlag;
pub use gset::GSet;
pub use hll::{DEFAULT_PRECISION, Hll, MAX_PRECISION, MIN_PRECISION};
pub use map::{Field, FieldKind, FieldOp, FieldValue, MAX_MAP_DEPTH, Map};
pub use orswot::Orswot;
pub use register::LwwReg;

use crate::object::{Actor, Dot, VClock};
use serde::{Deserialize, Serialize};

/// Add (or subtract, when negative) to a counter. Riak's PB op without an
/// amount means 1; that default belongs to the decoder of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterOp {
    pub increment: i64,
}

/// Add members, then remove members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetOp {
    pub adds: Vec<Vec<u8>>,
    pub removes: Vec<Vec<u8>>,
}

/// Remove fields, then update fields (Riak's order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapOp {
    pub removes: Vec<Field>,
    pub updates: Vec<(Field, FieldOp)>,
}

/// Assign a register (map fields only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterOp {
    pub assign: Vec<u8>,
}

/// Enable or disable a flag (map fields only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlagOp {
    Enable,
    Disable,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HllOp {
    pub adds: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GSetOp {
    pub adds: Vec<Vec<u8>>,
}

/// An update of a top-level data type, as PB `DtOp` and the HTTP JSON carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DtOp {
    Counter(CounterOp),
    Set(SetOp),
    Map(MapOp),
    Hll(HllOp),
    GSet(GSetOp),
}

impl DtOp {
    pub fn kind(&self) -> DataKind {
        match self {
            DtOp::Counter(_) => DataKind::Counter,
            DtOp::Set(_) => DataKind::Set,
            DtOp::Map(_) => DataKind::Map,
            DtOp::Hll(_) => DataKind::Hll,
            DtOp::GSet(_) => DataKind::GSet,
        }
    }
}

/// Riak's check before an update: the op must be for the bucket's data type.
pub fn check_op_kind(op: DataKind, bucket: DataKind) -> Result<()> {
    if op == bucket {
        Ok(())
    } else {
        Err(CrdtError::WrongType { op, bucket })
    }
}

/// What a client sees of a data type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtValue {
    Counter(i64),
    /// Members in byte order.
    Set(Vec<Vec<u8>>),
    /// Fields sorted by (name, type).
    Map(Vec<(Field, FieldValue)>),
    /// Cardinality estimate.
    Hll(u64),
    /// Members in byte order.
    GSet(Vec<Vec<u8>>),
}

/// A data type as stored under a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataType {
    Counter(PnCounter),
    Set(Orswot),
    Map(Map),
    Hll(Hll),
    GSet(GSet),
}

impl DataType {
    /// An empty value of `kind` (an HLL at the default precision).
    pub fn new(kind: DataKind) -> DataType {
        match kind {
            DataKind::Counter => DataType::Counter(PnCounter::new()),
            DataKind::Set => DataType::Set(Orswot::new()),
            DataKind::Map => DataType::Map(Map::new()),
            DataKind::Hll => DataType::Hll(Hll::new()),
            DataKind::GSet => DataType::GSet(GSet::new()),
        }
    }

    /// An empty HLL at the bucket's `hll_precision`.
    pub fn new_hll(precision: u32) -> Result<DataType> {
        Ok(DataType::Hll(Hll::with_precision(precision)?))
    }

    pub fn kind(&self) -> DataKind {
        match self {
            DataType::Counter(_) => DataKind::Counter,
            DataType::Set(_) => DataKind::Set,
            DataType::Map(_) => DataKind::Map,
            DataType::Hll(_) => DataKind::Hll,
            DataType::GSet(_) => DataKind::GSet,
        }
    }

    /// Joins `other` into `self`. Values of different kinds do not merge
    /// (Riak keeps them apart); `self` is then left unchanged.
    pub fn merge(&mut self, other: &DataType) {
        match (self, other) {
            (DataType::Counter(a), DataType::Counter(b)) => a.merge(b),
            (DataType::Set(a), DataType::Set(b)) => a.merge(b),
            (DataType::Map(a), DataType::Map(b)) => a.merge(b),
            (DataType::Hll(a), DataType::Hll(b)) => a.merge(b),
            (DataType::GSet(a), DataType::GSet(b)) => a.merge(b),
            _ => {}
        }
    }

    pub fn value(&self) -> DtValue {
        match self {
            DataType::Counter(c) => DtValue::Counter(c.value()),
            DataType::Set(s) => DtValue::Set(s.value()),
            DataType::Map(m) => DtValue::Map(m.value()),
            DataType::Hll(h) => DtValue::Hll(h.value()),
            DataType::GSet(g) => DtValue::GSet(g.value()),
        }
    }

    /// Applies `op` as `actor` (the coordinating vnode). `ctx` is the
    /// client's context: it matters for set and map removes and flag
    /// disables, and is ignored elsewhere, as in Riak. `now_us` stamps
    /// register assignments. On error nothing changed.
    pub fn apply(
        &mut self,
        op: DtOp,
        actor: Actor,
        ctx: Option<&Context>,
        now_us: u64,
    ) -> Result<()> {
        check_op_kind(op.kind(), self.kind())?;
        let ctx = ctx.map(Context::clock);
        match (self, op) {
            (DataType::Counter(c), DtOp::Counter(op)) => c.increment(actor, op.increment),
            (DataType::Set(s), DtOp::Set(op)) => s.apply(&op, actor, ctx)?,
            (DataType::Map(m), DtOp::Map(op)) => m.apply(&op, actor, ctx, now_us)?,
            (DataType::Hll(h), DtOp::Hll(op)) => op.adds.iter().for_each(|m| h.add(m)),
            (DataType::GSet(g), DtOp::GSet(op)) => op.adds.iter().for_each(|m| g.add(m)),
            _ => unreachable!("kinds checked above"),
        }
        Ok(())
    }

    /// The context to hand to clients: the clock of a set or map, empty for
    /// the other types (Riak sends none for them).
    pub fn context(&self) -> Context {
        match self {
            DataType::Set(s) => Context::new(s.clock().clone()),
            DataType::Map(m) => Context::new(m.clock().clone()),
            _ => Context::default(),
        }
    }

    pub(crate) fn validate(&self) -> bool {
        match self {
            DataType::Counter(_) | DataType::Hll(_) | DataType::GSet(_) => true,
            DataType::Set(s) => s.validate(),
            DataType::Map(m) => m.validate(),
        }
    }
}

/// Where an update's dots come from: a top-level set takes a fresh dot from
/// the actor per add; a value inside a map uses the map update's one dot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin {
    Actor(Actor),
    Dot(Dot),
}

impl Origin {
    /// The dot for the next event, recorded in `clock`.
    pub(crate) fn next_dot(self, clock: &mut VClock) -> Dot {
        match self {
            Origin::Actor(a) => clock.increment(a),
            Origin::Dot(d) => {
                if !clock.covers(d) {
                    clock.set(d.actor, d.counter);
                }
                d
            }
        }
    }
}

/// Deserializes a map into a `BTreeMap` through a list: entries stored in
/// key order (as every encoder writes them) build the tree in one pass
/// instead of one search per insert.
pub(crate) mod sorted_map {
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use std::collections::BTreeMap;
    use std::marker::PhantomData;

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        struct Pairs<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for Pairs<K, V> {
            type Value = BTreeMap<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // The size hint comes from the input: never trust it for memory.
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        d.deserialize_map(Pairs(PhantomData))
    }
}

/// Serde for maps with non-string keys: a sequence of `(key, value)` pairs.
pub(crate) mod seq {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<K, V, S>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize,
        V: Serialize,
        S: Serializer,
    {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let pairs: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}
