//! The map: Riak's `riak_dt_map`. Fields are keyed by (name, type) and hold
//! embedded data types. Each update of a field stores the field's new state
//! under the update's dot; concurrent updates leave several such copies,
//! merged on read. A field remove drops the copies it observed and leaves a
//! tombstone clock, so a concurrent update survives with only its unseen part
//! (reset-remove). Removes with an unseen context are deferred.

use super::clock::{ClockKey, clock_of, dot_clock, glb, key_of};
use super::counter::EmCounter;
use super::error::{CrdtError, Result};
use super::flag::OdFlag;
use super::orswot::Orswot;
use super::register::LwwReg;
use super::{CounterOp, FlagOp, MapOp, RegisterOp, SetOp, seq};
use crate::object::{Actor, Dot, VClock};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How deep maps may nest. Riak sets no bound; one is needed so that every
/// stored value stays decodable (the decoder limits its recursion).
pub const MAX_MAP_DEPTH: usize = 32;

/// The type of a map field. The declaration order is the order of Riak's
/// module names (`emcntr`, `lwwreg`, `map`, `od_flag`, `orswot`), which is
/// how Riak sorts fields that share a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FieldKind {
    Counter,
    Register,
    Map,
    Flag,
    Set,
}

impl FieldKind {
    /// The suffix in HTTP field names (`<name>_<type>`).
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Counter => "counter",
            FieldKind::Register => "register",
            FieldKind::Map => "map",
            FieldKind::Flag => "flag",
            FieldKind::Set => "set",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldKind> {
        Some(match name {
            "counter" => FieldKind::Counter,
            "register" => FieldKind::Register,
            "map" => FieldKind::Map,
            "flag" => FieldKind::Flag,
            "set" => FieldKind::Set,
            _ => return None,
        })
    }
}

/// A map field: a name and the type stored under it. Two fields with the
/// same name and different types are unrelated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Field {
    #[serde(with = "serde_bytes")]
    pub name: Vec<u8>,
    pub kind: FieldKind,
}

impl Field {
    pub fn new(name: impl Into<Vec<u8>>, kind: FieldKind) -> Self {
        Field {
            name: name.into(),
            kind,
        }
    }
}

/// An operation on one field; its kind must match the field's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldOp {
    Counter(CounterOp),
    Set(SetOp),
    Register(RegisterOp),
    Flag(FlagOp),
    Map(MapOp),
}

impl FieldOp {
    pub fn kind(&self) -> FieldKind {
        match self {
            FieldOp::Counter(_) => FieldKind::Counter,
            FieldOp::Set(_) => FieldKind::Set,
            FieldOp::Register(_) => FieldKind::Register,
            FieldOp::Flag(_) => FieldKind::Flag,
            FieldOp::Map(_) => FieldKind::Map,
        }
    }
}

/// The value of a map field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Counter(i64),
    Set(Vec<Vec<u8>>),
    Register(Vec<u8>),
    Flag(bool),
    /// Entries sorted by field.
    Map(Vec<(Field, FieldValue)>),
}

/// A data type embedded in a map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Embedded {
    Counter(EmCounter),
    Register(LwwReg),
    Map(Map),
    Flag(OdFlag),
    Set(Orswot),
}

impl Embedded {
    fn new(kind: FieldKind) -> Embedded {
        match kind {
            FieldKind::Counter => Embedded::Counter(EmCounter::new()),
            FieldKind::Register => Embedded::Register(LwwReg::new()),
            FieldKind::Map => Embedded::Map(Map::new()),
            FieldKind::Flag => Embedded::Flag(OdFlag::new()),
            FieldKind::Set => Embedded::Set(Orswot::new()),
        }
    }

    /// An empty value of `kind` that has seen `clock`: merged into a field's
    /// value it drops every event `clock` covers.
    fn tombstone(kind: FieldKind, clock: &VClock) -> Embedded {
        let mut t = Embedded::new(kind);
        t.set_clock(clock.clone());
        t
    }

    fn kind(&self) -> FieldKind {
        match self {
            Embedded::Counter(_) => FieldKind::Counter,
            Embedded::Register(_) => FieldKind::Register,
            Embedded::Map(_) => FieldKind::Map,
            Embedded::Flag(_) => FieldKind::Flag,
            Embedded::Set(_) => FieldKind::Set,
        }
    }

    /// Riak's `parent_clock`: the embedded value takes the map's clock.
    fn set_clock(&mut self, clock: VClock) {
        match self {
            Embedded::Counter(c) => c.set_clock(clock),
            Embedded::Register(_) => {}
            Embedded::Map(m) => m.clock = clock,
            Embedded::Flag(f) => f.set_clock(clock),
            Embedded::Set(s) => s.set_clock(clock),
        }
    }

    /// Values of different kinds never share a field; such a pair is left alone.
    fn merge(&mut self, other: &Embedded) {
        match (self, other) {
            (Embedded::Counter(a), Embedded::Counter(b)) => a.merge(b),
            (Embedded::Register(a), Embedded::Register(b)) => a.merge(b),
            (Embedded::Map(a), Embedded::Map(b)) => a.merge(b),
            (Embedded::Flag(a), Embedded::Flag(b)) => a.merge(b),
            (Embedded::Set(a), Embedded::Set(b)) => a.merge(b),
            _ => {}
        }
    }

    fn value(&self) -> FieldValue {
        match self {
            Embedded::Counter(c) => FieldValue::Counter(c.value()),
            Embedded::Register(r) => FieldValue::Register(r.value().to_vec()),
            Embedded::Map(m) => FieldValue::Map(m.value()),
            Embedded::Flag(f) => FieldValue::Flag(f.value()),
            Embedded::Set(s) => FieldValue::Set(s.value()),
        }
    }

    fn update(&mut self, op: &FieldOp, dot: Dot, ctx: Option<&VClock>, now_us: u64) -> Result<()> {
        match (self, op) {
            (Embedded::Counter(c), FieldOp::Counter(op)) => c.increment(dot, op.increment),
            (Embedded::Register(r), FieldOp::Register(op)) => r.assign(&op.assign, now_us),
            (Embedded::Flag(f), FieldOp::Flag(FlagOp::Enable)) => f.enable(dot),
            (Embedded::Flag(f), FieldOp::Flag(FlagOp::Disable)) => f.disable(ctx),
            (Embedded::Set(s), FieldOp::Set(op)) => s.apply_at(op, super::Origin::Dot(dot), ctx)?,
            (Embedded::Map(m), FieldOp::Map(op)) => {
                m.clock.merge(&dot_clock(dot));
                m.apply_ops(op, dot, ctx, now_us)?;
            }
            (this, op) => return Err(kind_mismatch(this.kind(), op.kind())),
        }
        Ok(())
    }

    fn validate(&self, depth: usize) -> bool {
        match self {
            Embedded::Counter(c) => c.validate(),
            Embedded::Register(_) | Embedded::Flag(_) => true,
            Embedded::Set(s) => s.validate(),
            Embedded::Map(m) => depth < MAX_MAP_DEPTH && m.validate_at(depth + 1),
        }
    }
}

fn kind_mismatch(field: FieldKind, op: FieldKind) -> CrdtError {
    CrdtError::InvalidOp(format!(
        "Operation type is `{}` but field type is `{}`.",
        op.name(),
        field.name()
    ))
}

/// One field: the copies written by updates not yet superseded, keyed by
/// the update's dot, and the tombstone of removes that left copies behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldEntry {
    #[serde(with = "seq")]
    copies: BTreeMap<Dot, Embedded>,
    tombstone: Embedded,
}

/// Riak's `riak_dt_map`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Map {
    clock: VClock,
    #[serde(with = "seq")]
    fields: BTreeMap<Field, FieldEntry>,
    /// context → fields whose removal waits for the replica to see the context.
    #[serde(with = "seq")]
    deferred: BTreeMap<ClockKey, BTreeSet<Field>>,
}

impl Map {
    pub fn new() -> Self {
        Map::default()
    }

    /// The causal context handed to clients.
    pub fn clock(&self) -> &VClock {
        &self.clock
    }

    /// Number of fields present.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Field removes waiting for the replica to catch up.
    pub fn deferred_len(&self) -> usize {
        self.deferred.len()
    }

    /// Fields with their values, sorted by field.
    pub fn value(&self) -> Vec<(Field, FieldValue)> {
        self.fields
            .keys()
            .map(|f| (f.clone(), self.merged_field(f).value()))
            .collect()
    }

    /// Applies a top-level map operation as `actor` (one new dot for the
    /// whole operation). Removes run first, then updates, as in Riak. All or
    /// nothing: on error the map is unchanged.
    pub fn apply(
        &mut self,
        op: &MapOp,
        actor: Actor,
        ctx: Option<&VClock>,
        now_us: u64,
    ) -> Result<()> {
        check_op(op, 1)?;
        if ctx.is_none() && may_fail(op) {
            let mut work = self.clone();
            let dot = work.clock.increment(actor);
            work.apply_ops(op, dot, ctx, now_us)?;
            *self = work;
        } else {
            let dot = self.clock.increment(actor);
            self.apply_ops(op, dot, ctx, now_us)?;
        }
        Ok(())
    }

    fn apply_ops(&mut self, op: &MapOp, dot: Dot, ctx: Option<&VClock>, now_us: u64) -> Result<()> {
        for field in &op.removes {
            self.remove_field(field, ctx)?;
        }
        for (field, fop) in &op.updates {
            let mut value = self.merged_field(field);
            value.set_clock(self.clock.clone());
            value.update(fop, dot, ctx, now_us)?;
            // The old copies and tombstone are folded into `value`.
            let entry = FieldEntry {
                copies: BTreeMap::from([(dot, value)]),
                tombstone: Embedded::new(field.kind),
            };
            self.fields.insert(field.clone(), entry);
        }
        Ok(())
    }

    /// The field's current state: its copies merged, then the tombstone.
    fn merged_field(&self, field: &Field) -> Embedded {
        let mut value = Embedded::new(field.kind);
        if let Some(entry) = self.fields.get(field) {
            for copy in entry.copies.values() {
                value.merge(copy);
            }
            let mut with_tombstone = entry.tombstone.clone();
            with_tombstone.merge(&value);
            value = with_tombstone;
        }
        value
    }

    fn remove_field(&mut self, field: &Field, ctx: Option<&VClock>) -> Result<()> {
        let Some(ctx) = ctx else {
            return match self.fields.remove(field) {
                Some(_) => Ok(()),
                None => Err(CrdtError::field_not_present(field)),
            };
        };
        if !self.clock.descends(ctx) {
            self.deferred
                .entry(key_of(ctx))
                .or_default()
                .insert(field.clone());
        }
        if let Some(entry) = self.fields.get_mut(field) {
            entry.copies.retain(|dot, _| !ctx.covers(*dot));
            if entry.copies.is_empty() {
                self.fields.remove(field);
            } else {
                // Only what both the context and this replica saw is removed.
                let mut tombstone = Embedded::tombstone(field.kind, &glb(ctx, &self.clock));
                tombstone.merge(&entry.tombstone);
                entry.tombstone = tombstone;
            }
        }
        Ok(())
    }

    /// A copy both sides hold stays; a copy one side holds stays unless the
    /// other side has seen its dot. A field one side lacks gets the other
    /// side's clock in its tombstone, which carries that side's removes.
    pub fn merge(&mut self, other: &Map) {
        if self == other {
            return;
        }
        let names: BTreeSet<&Field> = self.fields.keys().chain(other.fields.keys()).collect();
        let mut fields = BTreeMap::new();
        for field in names {
            let entry = match (self.fields.get(field), other.fields.get(field)) {
                (Some(mine), None) => one_side(field, mine, &other.clock),
                (None, Some(theirs)) => one_side(field, theirs, &self.clock),
                (Some(mine), Some(theirs)) => {
                    let mut tombstone = theirs.tombstone.clone();
                    tombstone.merge(&mine.tombstone);
                    let mut copies = BTreeMap::new();
                    for (dot, copy) in &mine.copies {
                        if theirs.copies.contains_key(dot) || !other.clock.covers(*dot) {
                            copies.insert(*dot, copy.clone());
                        }
                    }
                    for (dot, copy) in &theirs.copies {
                        if !mine.copies.contains_key(dot) && !self.clock.covers(*dot) {
                            copies.insert(*dot, copy.clone());
                        }
                    }
                    (!copies.is_empty()).then_some(FieldEntry { copies, tombstone })
                }
                (None, None) => None,
            };
            if let Some(entry) = entry {
                fields.insert(field.clone(), entry);
            }
        }
        self.fields = fields;
        self.clock.merge(&other.clock);
        let mut deferred = std::mem::take(&mut self.deferred);
        for (ctx, fields) in &other.deferred {
            deferred
                .entry(ctx.clone())
                .or_default()
                .extend(fields.iter().cloned());
        }
        for (ctx, fields) in deferred {
            let ctx = clock_of(&ctx);
            for field in fields {
                // With a context a remove cannot fail.
                let _ = self.remove_field(&field, Some(&ctx));
            }
        }
    }

    pub(crate) fn validate(&self) -> bool {
        self.validate_at(1)
    }

    /// The map with every tombstone emptied, for comparing states in tests:
    /// merges in different orders may leave tombstones of different extent
    /// that remove the same events from the value (Riak's `equal` has the
    /// same caveat).
    #[cfg(test)]
    pub(crate) fn without_tombstones(&self) -> Map {
        let strip = |e: &Embedded| match e {
            Embedded::Map(m) => Embedded::Map(m.without_tombstones()),
            other => other.clone(),
        };
        let mut out = self.clone();
        for (field, entry) in out.fields.iter_mut() {
            entry.tombstone = Embedded::new(field.kind);
            for copy in entry.copies.values_mut() {
                *copy = strip(copy);
            }
        }
        out
    }

    fn validate_at(&self, depth: usize) -> bool {
        self.deferred.values().all(|f| !f.is_empty())
            && self.fields.iter().all(|(field, entry)| {
                !entry.copies.is_empty()
                    && entry.tombstone.kind() == field.kind
                    && entry.tombstone.validate(depth)
                    && entry
                        .copies
                        .values()
                        .all(|c| c.kind() == field.kind && c.validate(depth))
            })
    }
}

/// A field present on one side of a merge only.
fn one_side(field: &Field, entry: &FieldEntry, other_clock: &VClock) -> Option<FieldEntry> {
    let copies: BTreeMap<Dot, Embedded> = entry
        .copies
        .iter()
        .filter(|(dot, _)| !other_clock.covers(**dot))
        .map(|(dot, c)| (*dot, c.clone()))
        .collect();
    if copies.is_empty() {
        return None;
    }
    let mut tombstone = entry.tombstone.clone();
    tombstone.merge(&Embedded::tombstone(field.kind, other_clock));
    Some(FieldEntry { copies, tombstone })
}

/// Field ops must match their field's type, and maps nest at most
/// `MAX_MAP_DEPTH` deep.
fn check_op(op: &MapOp, depth: usize) -> Result<()> {
    if depth > MAX_MAP_DEPTH {
        return Err(CrdtError::InvalidOp(format!(
            "maps nest at most {MAX_MAP_DEPTH} deep"
        )));
    }
    for (field, fop) in &op.updates {
        if field.kind != fop.kind() {
            return Err(kind_mismatch(field.kind, fop.kind()));
        }
        if let FieldOp::Map(inner) = fop {
            check_op(inner, depth + 1)?;
        }
    }
    Ok(())
}

/// Whether a context-free `op` contains a remove that could fail.
fn may_fail(op: &MapOp) -> bool {
    !op.removes.is_empty()
        || op.updates.iter().any(|(_, fop)| match fop {
            FieldOp::Set(s) => !s.removes.is_empty(),
            FieldOp::Map(m) => may_fail(m),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_field(name: &str) -> Field {
        Field::new(name, FieldKind::Set)
    }

    fn add(name: &str, member: &str) -> MapOp {
        MapOp {
            removes: vec![],
            updates: vec![(
                set_field(name),
                FieldOp::Set(SetOp {
                    adds: vec![member.as_bytes().to_vec()],
                    removes: vec![],
                }),
            )],
        }
    }

    fn remove(field: Field) -> MapOp {
        MapOp {
            removes: vec![field],
            updates: vec![],
        }
    }

    #[test]
    fn remove_absent_field_without_context_fails() {
        let mut m = Map::new();
        m.apply(&add("s", "a"), Actor(1), None, 1).unwrap();
        let before = m.clone();
        let err = m
            .apply(&remove(set_field("t")), Actor(1), None, 2)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "{precondition,{not_present,{<<\"t\">>,riak_dt_orswot}}}"
        );
        assert_eq!(m, before);
        // With a context the same remove is a no-op.
        let ctx = m.clock().clone();
        m.apply(&remove(set_field("t")), Actor(1), Some(&ctx), 3)
            .unwrap();
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn nested_remove_without_context_fails_atomically() {
        let mut m = Map::new();
        let op = MapOp {
            removes: vec![],
            updates: vec![
                (
                    Field::new("c", FieldKind::Counter),
                    FieldOp::Counter(CounterOp { increment: 1 }),
                ),
                (
                    set_field("s"),
                    FieldOp::Set(SetOp {
                        adds: vec![],
                        removes: vec![b"x".to_vec()],
                    }),
                ),
            ],
        };
        let err = m.apply(&op, Actor(1), None, 1).unwrap_err();
        assert_eq!(err.to_string(), "{precondition,{not_present,<<\"x\">>}}");
        assert_eq!(m, Map::new());
    }

    #[test]
    fn reset_remove_keeps_only_the_concurrent_part() {
        let mut a = Map::new();
        a.apply(&add("s", "old"), Actor(1), None, 1).unwrap();
        let mut b = a.clone();
        let ctx = a.clock().clone();
        a.apply(&remove(set_field("s")), Actor(1), Some(&ctx), 2)
            .unwrap();
        assert!(a.is_empty());
        b.apply(&add("s", "new"), Actor(2), None, 3).unwrap();
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        let expect = vec![(set_field("s"), FieldValue::Set(vec![b"new".to_vec()]))];
        assert_eq!(ab.value(), expect);
        assert_eq!(ba.value(), expect);
    }

    #[test]
    fn field_kind_must_match_op() {
        let mut m = Map::new();
        let op = MapOp {
            removes: vec![],
            updates: vec![(set_field("s"), FieldOp::Counter(CounterOp { increment: 1 }))],
        };
        assert!(matches!(
            m.apply(&op, Actor(1), None, 1),
            Err(CrdtError::InvalidOp(_))
        ));
    }
}
