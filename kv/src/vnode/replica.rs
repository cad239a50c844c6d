//! What a replica stores for a replicated write (`PutOp::Replicate`): a
//! pure decision, given the replica's local record and a way to read its
//! object. The vnode only reads and writes around it.

use super::commands::{Handed, Record};
use crate::error::Result;
use crate::object::RiakObject;

/// A replicated write's fields (`PutOp::Replicate`).
pub(super) struct Replica {
    pub object: RiakObject,
    pub allow_mult: bool,
    pub last_write_wins: bool,
    pub handed: Option<Handed>,
}

/// What the replica does with it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Merged {
    /// Nothing to store: the replica holds this object already.
    Unchanged(RiakObject),
    /// Store the object; its record when the coordinator's is still its own.
    Write(RiakObject, Option<Record>),
}

/// The replicated write of `r` over the local record `replaced`, whose
/// object `local` reads (called at most once, and only in debug builds
/// when the object is taken as it is).
///
/// A replica that holds the record the object was made from takes the
/// object and its record as they are: a coordinator's object descends what
/// it replaced, so the merge would give it back (the law
/// `a_put_merged_into_its_base_is_the_put`; docs/decisions/0023). Any
/// other replica merges the object in, collapses the merge when the bucket
/// keeps no siblings, and keeps the handed record only if the result is
/// the object itself.
pub(super) fn merge_replica(
    r: Replica,
    replaced: Option<&Record>,
    local: impl FnOnce() -> Result<Option<RiakObject>>,
) -> Result<Merged> {
    let (mut obj, mut record, local) = match r.handed {
        // A coordinated put always adds a dot, so its record is never the
        // one it replaced: a replica already holding it takes the path
        // below, whose merge leaves it unchanged.
        Some(h) if h.replaced.as_ref() == replaced => {
            debug_assert!(
                r.last_write_wins
                    || local()?.is_none_or(|local| {
                        crate::dt::merge_datatype(&local, &r.object) == r.object
                    }),
                "a handed object that its base's merge would change"
            );
            (r.object, Some(h.record), None)
        }
        handed => {
            let local = local()?;
            let record = handed.map(|h| h.record);
            let (obj, record) = match (&local, r.last_write_wins) {
                (Some(l), false) => {
                    let merged = crate::dt::merge_datatype(l, &r.object);
                    // The record is the object's: of no use for another.
                    let record = record.filter(|_| merged == r.object);
                    (merged, record)
                }
                _ => (r.object, record),
            };
            (obj, record, local)
        }
    };
    if !r.allow_mult && obj.siblings.len() > 1 {
        obj.collapse_lww();
        record = None;
    }
    if local.as_ref() == Some(&obj) {
        return Ok(Merged::Unchanged(obj));
    }
    Ok(Merged::Write(obj, record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Actor, Content, Metadata, VClock, encode_record};

    fn put(local: Option<&RiakObject>, value: &[u8], actor: u64) -> RiakObject {
        let content = Content::new(value.to_vec(), Metadata::default());
        RiakObject::coordinate_put(local, &VClock::new(), content, Actor(actor))
    }

    fn replica(object: &RiakObject, allow_mult: bool, handed: Option<Handed>) -> Replica {
        Replica {
            object: object.clone(),
            allow_mult,
            last_write_wins: false,
            handed,
        }
    }

    fn record(obj: &RiakObject) -> Record {
        Record::from(encode_record(obj))
    }

    /// A bucket that keeps no siblings: a local object with two (written
    /// while it kept them) is collapsed by a replicated write it already
    /// covers, and the collapsed object is stored.
    #[test]
    fn a_merge_is_collapsed_before_it_is_compared_with_the_local_object() {
        let a = put(None, b"a", 1);
        let both = put(Some(&a), b"b", 2);
        assert_eq!(both.siblings.len(), 2);
        let got = merge_replica(replica(&a, false, None), None, || Ok(Some(both.clone())));
        match got.unwrap() {
            Merged::Write(obj, None) => assert_eq!(obj.siblings.len(), 1),
            other => panic!("{other:?}"),
        }
        // Keeping siblings, the same write changes nothing.
        let got = merge_replica(replica(&a, true, None), None, || Ok(Some(both.clone())));
        assert_eq!(got.unwrap(), Merged::Unchanged(both));
    }

    /// A replica that holds the handed record already (the object came
    /// twice) stores nothing.
    #[test]
    fn a_replica_holding_the_record_already_stores_nothing() {
        let a = put(None, b"a", 1);
        let b = put(Some(&a), b"b", 1);
        let handed = Handed {
            record: record(&b),
            replaced: Some(record(&a)),
        };
        let got = merge_replica(replica(&b, true, Some(handed)), Some(&record(&b)), || {
            Ok(Some(b.clone()))
        });
        assert_eq!(got.unwrap(), Merged::Unchanged(b));
    }

    /// Holding the record the object was made from, the replica takes the
    /// object and its record without reading its own object (debug builds
    /// read it once, to check that the merge agrees).
    #[test]
    fn the_record_it_was_made_from_is_enough() {
        let a = put(None, b"a", 1);
        let b = put(Some(&a), b"b", 1);
        let handed = Handed {
            record: record(&b),
            replaced: Some(record(&a)),
        };
        let reads = std::cell::Cell::new(0);
        let local = || {
            reads.set(reads.get() + 1);
            Ok(Some(a.clone()))
        };
        let got = merge_replica(
            replica(&b, true, Some(handed.clone())),
            Some(&record(&a)),
            local,
        );
        assert_eq!(got.unwrap(), Merged::Write(b, Some(handed.record)));
        assert_eq!(reads.get(), usize::from(cfg!(debug_assertions)));
    }
}
