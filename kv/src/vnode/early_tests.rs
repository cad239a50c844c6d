//! The coordinating vnode's early hand-over of a write (`Early`) and the
//! new actor it takes after a write failed in its store.

use super::tests::vnode_on as open;
use super::*;
use crate::object::{Metadata, VClock};
use rill_storage::{KvIter, StorageError, WriteBatch};
use std::ops::Bound;

/// A store whose deferred writes fail while `fail` is set.
struct Failing {
    inner: Arc<dyn Store>,
    fail: AtomicBool,
}

impl Store for Failing {
    fn get(&self, key: &[u8]) -> rill_storage::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn put(&self, key: &[u8], value: &[u8]) -> rill_storage::Result<()> {
        self.inner.put(key, value)
    }
    fn put_then(&self, key: &[u8], value: &[u8], done: rill_storage::Durable) {
        if self.fail.load(Ordering::SeqCst) {
            return done(Err(StorageError::Poisoned));
        }
        self.inner.put_then(key, value, done)
    }
    fn delete(&self, key: &[u8]) -> rill_storage::Result<()> {
        self.inner.delete(key)
    }
    fn write_batch(&self, batch: WriteBatch) -> rill_storage::Result<()> {
        self.inner.write_batch(batch)
    }
    fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> KvIter<'_> {
        self.inner.range(start, end)
    }
    fn prefix(&self, prefix: &[u8]) -> KvIter<'_> {
        self.inner.prefix(prefix)
    }
    fn is_empty(&self) -> rill_storage::Result<bool> {
        self.inner.is_empty()
    }
    fn approximate_len(&self) -> u64 {
        self.inner.approximate_len()
    }
}

/// A put of `value` over `context` coordinated by `vnode`, with the
/// hand-over `early`: the vnode's answer.
fn put_through(
    vnode: &mut KvVnode,
    context: &VClock,
    value: &[u8],
    early: Early,
) -> Result<RiakObject> {
    let (reply, mut rx) = Reply::channel();
    vnode.handle_command(KvCommand::Put {
        key: b"k".to_vec(),
        op: PutOp::Coordinate {
            context: context.clone(),
            content: Content::new(value.to_vec(), Metadata::default()),
            allow_mult: true,
            last_write_wins: false,
        },
        reply,
        early: Some(early),
    });
    rx.try_recv().expect("answered")
}

/// A coordinated put of `value` over `context`: the object handed over
/// early (if any) and the vnode's answer.
fn coordinate(
    vnode: &mut KvVnode,
    context: &VClock,
    value: &[u8],
) -> (Option<RiakObject>, Result<RiakObject>) {
    let (early, mut early_rx) = tokio::sync::oneshot::channel();
    let answer = put_through(vnode, context, value, Early::Return(early));
    (early_rx.try_recv().ok(), answer)
}

/// A coordinated put of `value` over `context` whose hand-over is
/// `Early::Replicate`: what the hand-over got (once per call) and the
/// vnode's answer.
fn coordinate_replicating(
    vnode: &mut KvVnode,
    context: &VClock,
    value: &[u8],
) -> (Vec<(RiakObject, Handed)>, Result<RiakObject>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let send = move |obj, handed| log.lock().unwrap().push((obj, handed));
    let answer = put_through(vnode, context, value, Early::Replicate(Box::new(send)));
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (seen, answer)
}

#[test]
fn a_coordinated_write_is_handed_over_as_it_is_stored() {
    let mut vnode = open(rill_storage::memory().store("kv.0").unwrap());
    let (early, stored) = coordinate(&mut vnode, &VClock::new(), b"v1");
    let stored = stored.unwrap();
    assert_eq!(early.as_ref(), Some(&stored));
    assert_eq!(stored.siblings[0].dot.actor, vnode.actor());
}

#[test]
fn a_failed_write_is_not_acknowledged_and_the_next_one_has_a_new_actor() {
    let store = Arc::new(Failing {
        inner: rill_storage::memory().store("kv.0").unwrap(),
        fail: AtomicBool::new(false),
    });
    let mut vnode = open(store.clone());
    let first = vnode.actor();
    let (_, ok) = coordinate(&mut vnode, &VClock::new(), b"v1");
    let ok = ok.unwrap();

    store.fail.store(true, Ordering::SeqCst);
    let (early, failed) = coordinate(&mut vnode, &ok.clock, b"v2");
    assert!(failed.is_err());
    // Handed over before the failure was known: a replica may hold it.
    let lost = early.expect("handed over");
    assert_eq!(lost.siblings[0].dot.actor, first);

    store.fail.store(false, Ordering::SeqCst);
    let (_, next) = coordinate(&mut vnode, &ok.clock, b"v3");
    let next = next.unwrap();
    let renewed = vnode.actor();
    assert_ne!(renewed, first);
    let dot = next.siblings[0].dot;
    assert_eq!(dot.actor, renewed);
    assert_ne!(
        dot, lost.siblings[0].dot,
        "a dot a replica may hold is never reused"
    );
    // The new actor is the vnode's from now on, across a restart.
    drop(vnode);
    assert_eq!(open(store).actor(), renewed);
}

#[test]
fn the_vnode_replicates_once_what_it_stores_and_nothing_it_refused() {
    let mut vnode = open(rill_storage::memory().store("kv.0").unwrap());
    let (seen, stored) = coordinate_replicating(&mut vnode, &VClock::new(), b"v1");
    let seen: Vec<RiakObject> = seen.into_iter().map(|(obj, _)| obj).collect();
    assert_eq!(seen, vec![stored.unwrap()]);
    // Blind writes pile up siblings until the vnode refuses one: that
    // write is stored nowhere, so nothing is sent to the replicas.
    let refused = (0..200)
        .map(|i| coordinate_replicating(&mut vnode, &VClock::new(), format!("v{i}").as_bytes()))
        .find(|(_, r)| r.is_err())
        .expect("the sibling limit refuses a write");
    assert!(refused.0.is_empty(), "a refused write was replicated");
}

/// A put coordinated by `vnode` over `context`, handed over with
/// `Early::Replicate`: the object and records the replicas get.
fn coordinate_handing(vnode: &mut KvVnode, context: &VClock, value: &[u8]) -> (RiakObject, Handed) {
    let (mut seen, _) = coordinate_replicating(vnode, context, value);
    seen.pop().expect("handed over")
}

fn replicated(obj: &RiakObject, handed: &Handed) -> PutOp {
    PutOp::Replicate {
        object: Box::new(obj.clone()),
        allow_mult: true,
        last_write_wins: false,
        handed: Some(handed.clone()),
    }
}

/// The record `vnode` would store for a replicated write, if any.
fn record_of(vnode: &mut KvVnode, op: PutOp) -> (RiakObject, Option<Record>) {
    match vnode.prepare_put(b"k", op).unwrap() {
        Prepared::Write { obj, record, .. } => (obj, record),
        Prepared::Unchanged(obj) => panic!("a new version left the replica unchanged: {obj:?}"),
    }
}

#[test]
fn a_replica_stores_the_handed_record_when_its_merge_is_the_object() {
    let mut coordinator = open(rill_storage::memory().store("kv.0").unwrap());
    let replica_store = rill_storage::memory().store("kv.1").unwrap();
    let mut replica = open(replica_store.clone());

    // Both hold nothing: the object was made from what the replica holds.
    let (v1, h1) = coordinate_handing(&mut coordinator, &VClock::new(), b"v1");
    assert_eq!(h1.replaced, None);
    assert_eq!(*h1.record, encode_record(&v1));
    let (reply, _rx) = Reply::channel();
    replica.handle_command(KvCommand::Put {
        key: b"k".to_vec(),
        op: replicated(&v1, &h1),
        reply,
        early: None,
    });
    assert_eq!(
        replica_store.get(b"k").unwrap().as_deref(),
        Some(&h1.record[..])
    );

    // Both hold v1, which v2 replaced.
    let (v2, h2) = coordinate_handing(&mut coordinator, &v1.clock, b"v2");
    assert_eq!(h2.replaced.as_ref(), Some(&h1.record));
    assert_eq!(
        record_of(&mut replica, replicated(&v2, &h2)),
        (v2.clone(), Some(h2.record.clone()))
    );

    // The replica missed v2: v3 still descends its v1, so the merge is v3.
    let (v3, h3) = coordinate_handing(&mut coordinator, &v2.clock, b"v3");
    assert_ne!(h3.replaced.as_ref(), Some(&h1.record));
    assert_eq!(
        record_of(&mut replica, replicated(&v3, &h3)),
        (v3.clone(), Some(h3.record.clone()))
    );

    // A concurrent local sibling: the merge is another object, encoded anew.
    coordinate_handing(&mut replica, &VClock::new(), b"mine");
    let (v4, h4) = coordinate_handing(&mut coordinator, &v3.clock, b"v4");
    let (merged, record) = record_of(&mut replica, replicated(&v4, &h4));
    let values: Vec<&[u8]> = merged.siblings.iter().map(|s| &s.value[..]).collect();
    assert_eq!(values.len(), 2, "{merged:?}");
    assert!(values.contains(&&b"mine"[..]) && values.contains(&&b"v4"[..]));
    assert_eq!(record, None, "the record of another object was kept");
}
