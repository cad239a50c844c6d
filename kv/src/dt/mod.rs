//! Riak's data types stored in ordinary objects: the requests (`fetch`,
//! `update`), which bucket holds which type, and how the siblings of a data
//! type object are merged by type so that clients never see them.
//!
//! The values and their laws live in `crdt`; the vnode applies updates as
//! the actor (`PutOp::DtUpdate`), the put path replicates the result.

pub(crate) mod fetch;
pub(crate) mod update;

use crate::bucket::{BucketProps, Datatype};
use crate::crdt::{self, DataKind, DataType, DtOp};
use crate::error::{KvError, Result};
use crate::object::RiakObject;
use crate::request::PutOptions;

/// An update of the data type under a key.
#[derive(Debug, Clone)]
pub struct DtUpdateRequest {
    pub bucket_type: Vec<u8>,
    pub bucket: Vec<u8>,
    /// None: the server generates a key and returns it.
    pub key: Option<Vec<u8>>,
    pub op: DtOp,
    /// The opaque context the client fetched (`Context::encode`); absent or
    /// empty means none.
    pub context: Option<Vec<u8>>,
    /// `w`, `dw`, `pw`, `return_body`, `timeout`, `n_val`, `sloppy_quorum`
    /// (the conditional and head options do not apply).
    pub options: PutOptions,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DtUpdateResult {
    pub key: Vec<u8>,
    /// With `return_body`: the value as stored.
    pub value: Option<DataType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DtFetchResult {
    /// The bucket's data type (also when nothing is stored).
    pub kind: DataKind,
    /// None: not found.
    pub value: Option<DataType>,
}

/// The data type a bucket holds, with Riak's refusals: `allow_mult` first,
/// then `datatype`. The `default` type holds Riak 1.4 counters in any
/// `allow_mult` bucket.
pub(crate) fn bucket_kind(props: &BucketProps, bucket_type: &[u8]) -> Result<DataKind> {
    if !props.allow_mult {
        return Err(KvError::DatatypeNeedsAllowMult);
    }
    match props.datatype {
        Some(Datatype::Counter) => Ok(DataKind::Counter),
        Some(Datatype::Set) => Ok(DataKind::Set),
        Some(Datatype::Map) => Ok(DataKind::Map),
        Some(Datatype::Hll) => Ok(DataKind::Hll),
        Some(Datatype::Gset) => Ok(DataKind::GSet),
        None if bucket_type == b"default" => Ok(DataKind::Counter),
        None => Err(KvError::NotDatatypeBucket),
    }
}

/// The kind whose stored objects carry content type `ct`.
pub fn kind_of_content_type(ct: &str) -> Option<DataKind> {
    [
        DataKind::Counter,
        DataKind::Set,
        DataKind::Map,
        DataKind::Hll,
        DataKind::GSet,
    ]
    .into_iter()
    .find(|k| k.content_type() == ct)
}

/// The join of every live data type sibling of `objects`: what a client
/// sees. None when no object holds one. Siblings of another content type
/// (a plain value written into the bucket) are ignored.
pub fn datatype_of<'a>(
    objects: impl IntoIterator<Item = &'a RiakObject>,
) -> Result<Option<DataType>> {
    let mut acc: Option<DataType> = None;
    // Replicas usually agree: a value already joined is not decoded again
    // (a join is idempotent), which keeps a fetch of a large set cheap.
    let mut joined: Vec<&[u8]> = Vec::new();
    for obj in objects {
        for s in obj.siblings.iter().filter(|s| !s.is_tombstone()) {
            if kind_of_content_type(&s.meta.content_type).is_none()
                || joined.contains(&s.value.as_slice())
            {
                continue;
            }
            joined.push(&s.value);
            let dt = crdt::decode(&s.value).map_err(|e| KvError::Corrupt(e.to_string()))?;
            match &mut acc {
                None => acc = Some(dt),
                Some(a) => a.merge(&dt),
            }
        }
    }
    Ok(acc)
}

/// Replaces the live data type siblings of `obj` by one: the sibling with
/// the greatest dot, holding the join of all their values. The clock stays.
/// Tombstones and objects that are not data types are left alone, and so is
/// an object with a sibling that does not decode.
///
/// This is safe because a CRDT join is commutative, associative and
/// inflationary: the joined value contains everything each sibling knew, so
/// dropping a sibling loses nothing, and merging the joined value again with
/// any dropped one (still held by another replica) gives the same value.
/// The dropped siblings' dots stay covered by the clock, so an object merge
/// treats them as replaced. Two replicas may keep different dots for
/// different joins; the data type merges below (`merge_datatype`, and the
/// fetch path's join of every replica's reply) therefore join the values of
/// both sides rather than trusting the object merge to keep the right
/// sibling.
pub fn collapse_datatype(obj: &mut RiakObject) {
    collapse_with(obj, &[]);
}

/// `collapse_datatype` of `obj`, joining in the live data type values of
/// `also` (objects `obj` was merged from).
fn collapse_with(obj: &mut RiakObject, also: &[&RiakObject]) {
    let live: Vec<usize> = (0..obj.siblings.len())
        .filter(|&i| !obj.siblings[i].is_tombstone())
        .collect();
    let Some(&last) = live.last() else { return };
    let all_dt = live
        .iter()
        .all(|&i| kind_of_content_type(&obj.siblings[i].meta.content_type).is_some());
    if !all_dt || (live.len() == 1 && also.is_empty()) {
        return;
    }
    let sources = std::iter::once(&*obj).chain(also.iter().copied());
    let Ok(Some(joined)) = datatype_of(sources) else {
        return;
    };
    // Siblings are sorted by dot: the last live one has the greatest.
    let mut keep = obj.siblings[last].clone();
    keep.value = crdt::encode(&joined);
    if live.len() == 1 && keep.value == obj.siblings[last].value {
        return;
    }
    let mut siblings: Vec<_> = obj
        .siblings
        .iter()
        .filter(|s| s.is_tombstone())
        .cloned()
        .collect();
    siblings.push(keep);
    siblings.sort_by_key(|s| s.dot);
    obj.siblings = siblings;
}

/// The merge of a replica's object with an incoming one (replication, read
/// repair, handoff): the object merge, then, for data types, one sibling
/// holding the join of every live value of both sides.
///
/// When one clock strictly descends the other, that side is the answer and
/// no value is decoded: a data type's value only grows with its clock (a
/// write applies its op to the join of everything its clock saw, a merge
/// joins), so the descendant already holds the other side's value. This is
/// what keeps replicating an update to a large set cheap: the replica
/// compares clocks instead of decoding and joining two large values. (After
/// a delete the descendant is a fresh value, and taking it is the object
/// semantics of a delete.)
pub fn merge_datatype(local: &RiakObject, incoming: &RiakObject) -> RiakObject {
    if !is_datatype(local) && !is_datatype(incoming) {
        return local.merge(incoming);
    }
    if local == incoming || local.dominates(incoming) {
        return local.clone();
    }
    if incoming.dominates(local) {
        let mut obj = incoming.clone();
        collapse_datatype(&mut obj);
        return obj;
    }
    if let Some(obj) = join_datatypes(local, incoming) {
        return obj;
    }
    let mut obj = local.merge(incoming);
    collapse_with(&mut obj, &[local, incoming]);
    obj
}

/// The merge of two concurrent objects whose every sibling is a live data
/// type: the joined clock and one sibling, the greatest of both sides, with
/// the join of both values. None for anything else (tombstones, plain
/// values, a value that does not decode), left to the object merge.
///
/// The object merge is not used here because collapsed objects name their
/// joined value by an arbitrary dot: two replicas with equal clocks may
/// keep different dots, each covered by the other's clock, and the object
/// merge would then drop both siblings.
fn join_datatypes(local: &RiakObject, incoming: &RiakObject) -> Option<RiakObject> {
    let only_datatypes = |o: &RiakObject| {
        !o.siblings.is_empty()
            && o.siblings
                .iter()
                .all(|s| !s.is_tombstone() && kind_of_content_type(&s.meta.content_type).is_some())
    };
    if !only_datatypes(local) || !only_datatypes(incoming) {
        return None;
    }
    let joined = datatype_of([local, incoming]).ok()??;
    let mut keep = local
        .siblings
        .iter()
        .chain(&incoming.siblings)
        .max_by(|a, b| a.dot.cmp(&b.dot).then_with(|| a.cmp(b)))?
        .clone();
    keep.value = crdt::encode(&joined);
    Some(RiakObject {
        clock: local.clock.merged(&incoming.clock),
        siblings: vec![keep],
    })
}

/// Whether the object's live siblings are data types.
pub fn is_datatype(obj: &RiakObject) -> bool {
    obj.siblings
        .iter()
        .any(|s| !s.is_tombstone() && kind_of_content_type(&s.meta.content_type).is_some())
}

#[cfg(test)]
mod tests;
