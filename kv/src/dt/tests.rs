//! Data type siblings at the vnode: updates applied as the actor, and
//! replicas that updated concurrently merging by type into one sibling.

use super::*;
use crate::config::KvConfig;
use crate::crdt::{Context, CounterOp, DtValue, SetOp};
use crate::object::Metadata;
use crate::stats::KvStats;
use crate::vnode::{KvCommand, KvVnode, PutOp, Reply};
use rill_core::vnode::Vnode;
use std::sync::Arc;

fn vnode(p: u64) -> KvVnode {
    let store = rill_storage::memory().store("kv").unwrap();
    // A fixed actor per vnode, so that failing cases replay.
    let actor = crate::keys::vnode_meta("actor");
    store.put(&actor, &(p + 1).to_be_bytes()).unwrap();
    KvVnode::open(
        p as _,
        store,
        Arc::new(KvConfig::default()),
        Arc::new(KvStats::default()),
        Arc::new(crate::vnode::DtCache::new(64 << 20)),
    )
    .unwrap()
}

fn put(v: &mut KvVnode, op: PutOp) -> Result<RiakObject> {
    let (reply, mut rx) = Reply::channel();
    v.handle_command(KvCommand::Put {
        key: b"k".to_vec(),
        op,
        reply,
        early: None,
    });
    rx.try_recv().expect("vnode answers at once")
}

fn update(v: &mut KvVnode, kind: DataKind, op: DtOp, ctx: Option<Context>) -> Result<RiakObject> {
    let meta = Metadata {
        content_type: kind.content_type().into(),
        vtag: "v".into(),
        last_modified_us: 1,
        ..Metadata::default()
    };
    put(
        v,
        PutOp::DtUpdate {
            op,
            context: ctx,
            kind,
            hll_precision: None,
            meta,
        },
    )
}

fn replicate(v: &mut KvVnode, obj: &RiakObject) -> RiakObject {
    put(
        v,
        PutOp::Replicate {
            object: Box::new(obj.clone()),
            allow_mult: true,
            last_write_wins: false,
            handed: None,
        },
    )
    .unwrap()
}

fn value(obj: &RiakObject) -> DtValue {
    datatype_of([obj]).unwrap().unwrap().value()
}

fn add(x: &str) -> DtOp {
    DtOp::Set(SetOp {
        adds: vec![x.into()],
        removes: vec![],
    })
}

#[test]
fn concurrent_counter_updates_at_two_vnodes_merge_into_one_sibling() {
    let (mut a, mut b) = (vnode(0), vnode(1));
    let inc = |n| DtOp::Counter(CounterOp { increment: n });
    let oa = update(&mut a, DataKind::Counter, inc(1), None).unwrap();
    let ob = update(&mut b, DataKind::Counter, inc(2), None).unwrap();
    let merged = replicate(&mut b, &oa);
    assert_eq!(merged.siblings.len(), 1);
    assert_eq!(value(&merged), DtValue::Counter(3));
    assert!(merged.clock.covers(oa.siblings[0].dot));
    assert!(merged.clock.covers(ob.siblings[0].dot));
    // And the other way round: the same value.
    let back = replicate(&mut a, &ob);
    assert_eq!(back.siblings.len(), 1);
    assert_eq!(value(&back), DtValue::Counter(3));
    // An update on top of the merged value counts from it.
    let more = update(&mut b, DataKind::Counter, inc(-5), None).unwrap();
    assert_eq!(value(&more), DtValue::Counter(-2));
}

#[test]
fn replicas_that_kept_different_joins_lose_nothing() {
    let (mut a, mut b, mut c) = (vnode(0), vnode(1), vnode(2));
    let oa = update(&mut a, DataKind::Set, add("x"), None).unwrap();
    let ob = update(&mut b, DataKind::Set, add("y"), None).unwrap();
    let oc = update(&mut c, DataKind::Set, add("z"), None).unwrap();
    let (mut p, mut q) = (vnode(3), vnode(4));
    replicate(&mut p, &oa);
    let po = replicate(&mut p, &ob);
    replicate(&mut q, &ob);
    let qo = replicate(&mut q, &oc);
    assert_eq!(po.siblings.len(), 1);
    assert_eq!(qo.siblings.len(), 1);
    let all = DtValue::Set(vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]);
    assert_eq!(value(&replicate(&mut q, &po)), all);
    assert_eq!(value(&replicate(&mut p, &qo)), all);
}

#[test]
fn remove_with_and_without_context() {
    let mut a = vnode(0);
    let o = update(&mut a, DataKind::Set, add("x"), None).unwrap();
    let ctx = datatype_of([&o]).unwrap().unwrap().context();
    let remove = |x: &str| {
        DtOp::Set(SetOp {
            adds: vec![],
            removes: vec![x.into()],
        })
    };
    let err = update(&mut a, DataKind::Set, remove("nope"), None).unwrap_err();
    assert_eq!(
        err,
        KvError::Precondition("{precondition,{not_present,<<\"nope\">>}}".into())
    );
    // The failed op changed nothing.
    let o = update(&mut a, DataKind::Set, add("y"), None).unwrap();
    assert_eq!(o.siblings.len(), 1);
    // A remove with the context of the first fetch removes x only.
    let o = update(&mut a, DataKind::Set, remove("x"), Some(ctx)).unwrap();
    assert_eq!(value(&o), DtValue::Set(vec![b"y".to_vec()]));
}

#[test]
fn collapse_leaves_plain_objects_alone() {
    let mut a = vnode(0);
    let plain = put(
        &mut a,
        PutOp::Coordinate {
            context: Default::default(),
            content: crate::object::Content::new(b"v".to_vec(), Metadata::default()),
            allow_mult: true,
            last_write_wins: false,
        },
    )
    .unwrap();
    let mut o = plain.clone();
    collapse_datatype(&mut o);
    assert_eq!(o, plain);
    assert!(!is_datatype(&o));
}

mod convergence {
    //! Replicas of a data type that update as actors and exchange objects in
    //! any order, any number of times, end with one value holding every
    //! update: whichever merge path each exchange took (a descendant taken
    //! as is, or a join of concurrent values).

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        /// Replica `at` adds a member and increments by `n`.
        Update { at: usize, n: i64 },
        /// Replica `to` merges what replica `from` holds.
        Send { from: usize, to: usize },
        /// A read: the merge of every replica's object, sent to each (read
        /// repair).
        Repair,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..3usize, 1..5i64).prop_map(|(at, n)| Step::Update { at, n }),
            (0..3usize, 0..3usize).prop_map(|(from, to)| Step::Send { from, to }),
            Just(Step::Repair),
        ]
    }

    fn held(v: &mut KvVnode) -> Option<RiakObject> {
        let (reply, mut rx) = Reply::channel();
        v.handle_command(KvCommand::Get {
            key: b"k".to_vec(),
            reply,
        });
        rx.try_recv().expect("vnode answers at once").unwrap()
    }

    fn exchange(vnodes: &mut [KvVnode], from: usize, to: usize) {
        if from == to {
            return;
        }
        if let Some(obj) = held(&mut vnodes[from]) {
            replicate(&mut vnodes[to], &obj);
        }
    }

    fn repair(vnodes: &mut [KvVnode]) {
        let held: Vec<RiakObject> = vnodes.iter_mut().filter_map(held).collect();
        let Some(first) = held.first().cloned() else {
            return;
        };
        let merged = held[1..]
            .iter()
            .fold(first, |acc, o| merge_datatype(&acc, o));
        for v in vnodes {
            replicate(v, &merged);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn replicas_converge_on_every_update(steps in prop::collection::vec(step(), 1..40)) {
            let mut sets: Vec<KvVnode> = (0..3).map(vnode).collect();
            let mut counters: Vec<KvVnode> = (10..13).map(vnode).collect();
            let (mut members, mut total) = (Vec::new(), 0);
            for (i, s) in steps.iter().enumerate() {
                match *s {
                    Step::Update { at, n } => {
                        let m = format!("m{i}");
                        update(&mut sets[at], DataKind::Set, add(&m), None).unwrap();
                        members.push(m.into_bytes());
                        let inc = DtOp::Counter(CounterOp { increment: n });
                        update(&mut counters[at], DataKind::Counter, inc, None).unwrap();
                        total += n;
                    }
                    Step::Send { from, to } => {
                        exchange(&mut sets, from, to);
                        exchange(&mut counters, from, to);
                    }
                    Step::Repair => {
                        repair(&mut sets);
                        repair(&mut counters);
                    }
                }
            }
            // Anti-entropy until quiet: every replica sends to every other.
            for _ in 0..2 {
                for from in 0..3 {
                    for to in 0..3 {
                        exchange(&mut sets, from, to);
                        exchange(&mut counters, from, to);
                    }
                }
            }
            members.sort();
            for i in 0..3 {
                let value = |o: RiakObject| datatype_of([&o]).unwrap().map(|d| d.value());
                let set = held(&mut sets[i]).and_then(value);
                let counter = held(&mut counters[i]).and_then(value);
                if members.is_empty() {
                    prop_assert_eq!(set, None);
                    prop_assert_eq!(counter, None);
                } else {
                    prop_assert_eq!(set, Some(DtValue::Set(members.clone())));
                    prop_assert_eq!(counter, Some(DtValue::Counter(total)));
                }
            }
        }
    }
}

#[test]
fn large_set_updates_use_the_cache_and_never_a_stale_value() {
    let (mut a, mut b) = (vnode(0), vnode(1));
    let many = DtOp::Set(SetOp {
        adds: (0..5_000)
            .map(|i| format!("m{i:05}").into_bytes())
            .collect(),
        removes: vec![],
    });
    let o = update(&mut a, DataKind::Set, many, None).unwrap();
    assert!(o.siblings[0].value.len() >= crate::vnode::dt_cache::MIN_CACHED_BYTES);
    assert!(a.dt_cache.used() > 0, "the large value is cached");
    let o = update(&mut a, DataKind::Set, add("x"), None).unwrap();
    assert_eq!(a.dt_cache.hits(), 1);
    // b adds concurrently; a merges b's object, so its stored bytes change
    // behind the cached entry.
    replicate(&mut b, &o);
    let ob = update(&mut b, DataKind::Set, add("y"), None).unwrap();
    replicate(&mut a, &ob);
    let o = update(&mut a, DataKind::Set, add("z"), None).unwrap();
    assert_eq!(
        a.dt_cache.hits(),
        1,
        "the merged bytes are not the cached ones"
    );
    let DtValue::Set(members) = value(&o) else {
        panic!("a set")
    };
    assert_eq!(members.len(), 5_003);
    for m in ["x", "y", "z"] {
        assert!(members.contains(&m.as_bytes().to_vec()), "{m}");
    }
}
